"""Release the book and its library together: one version number, a changelog entry, a git tag.

    python scripts/release.py 0.3.0          # or: make release VERSION=0.3.0
    python scripts/release.py 0.3.0 --dry-run

The number lives in ``pyproject.toml``; a release writes it, from there, into every place a reader meets it:

- the setup cell of every chapter, which installs exactly ``nnpractice @ git+<repository>@v<version>`` (so a
  page of the book and the library a reader installs from it never drift apart);
- ``nnpractice.__version__`` (printed by every chapter's setup call);
- the footer of every page of the HTML book (``_config.yml``), and the setup cell as ``book/setup.md`` and
  ``CONTRIBUTING.md`` show it;
- ``CHANGELOG.md``, whose "Unreleased" section becomes the release's section (it must not be empty).

Then it commits and makes the annotated tag ``v<version>``; publish both with ``git push origin main v<version>``.
``tests/test_release.py`` checks that all these places agree with ``pyproject.toml`` at every commit.
"""
from __future__ import annotations

import argparse
import datetime
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
# the install line of a setup cell: "nnpractice[extras] @ git+<url>@v<version>"
INSTALL = re.compile(r'(%pip install -q "nnpractice(?:\[[a-z,]*\])? @ git\+)https://[^"@\s]+(?:@v[0-9.]+)?(")')
# the documents that show the setup cell and its printed line (the setup page, the contributors' guide)
DOCUMENTS = ("book/setup.md", "CONTRIBUTING.md")
PRINTED = re.compile(r"(nnpractice )\d+\.\d+\.\d+(, torch)")
FOOTER = re.compile(r'^(  extra_footer: ").*(")$', re.M)
INIT_VERSION = re.compile(r'^__version__ = "[^"]*"$', re.M)
PYPROJECT_VERSION = re.compile(r'^version = "[^"]*"$', re.M)
UNRELEASED = "## Unreleased"


def project() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def current_version() -> str:
    return project()["version"]


def repository_url() -> str:
    return project()["urls"]["Repository"]


def install_target(extras=(), version: str | None = None) -> str:
    """What a chapter's setup cell installs: this library, its extras, at the release's tag."""
    name = f"nnpractice[{','.join(extras)}]" if extras else "nnpractice"
    return f"{name} @ git+{repository_url()}@v{version or current_version()}"


def footer(version: str | None = None) -> str:
    return (f"Built with nnpractice {version or current_version()}: each chapter's first cell installs exactly "
            f"this version.")


def _set_setup_cells(version: str) -> list[Path]:
    """Point every chapter's install line at `version`'s tag (the notebook's JSON is otherwise untouched)."""
    changed = []
    for path in sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text())
        first = next(c for c in nb["cells"] if c["cell_type"] == "code")
        source = "".join(first["source"])
        new, count = INSTALL.subn(lambda m: f"{m.group(1)}{repository_url()}@v{version}{m.group(2)}", source)
        if count != 1:
            raise RuntimeError(f"{path.name}: its setup cell has {count} install lines, expected 1")
        if new != source:
            first["source"] = new.splitlines(keepends=True)
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
            changed.append(path)
    return changed


def _set_documents(version: str) -> None:
    """The setup cell and its printed line as the documents show them: at `version` too."""
    for name in DOCUMENTS:
        path = ROOT / name
        text = INSTALL.sub(lambda m: f"{m.group(1)}{repository_url()}@v{version}{m.group(2)}", path.read_text())
        path.write_text(PRINTED.sub(lambda m: f"{m.group(1)}{version}{m.group(2)}", text))


def _replace(path: Path, pattern: re.Pattern, replacement: str) -> None:
    text = path.read_text()
    new, count = pattern.subn(lambda m: replacement if not m.groups() else f"{m.group(1)}{replacement}{m.group(2)}",
                              text)
    if count != 1:
        raise RuntimeError(f"{path.relative_to(ROOT)}: expected one match of {pattern.pattern!r}, found {count}")
    path.write_text(new)


def _changelog(version: str, today: str) -> None:
    path = ROOT / "CHANGELOG.md"
    text = path.read_text()
    if UNRELEASED not in text:
        raise RuntimeError(f"CHANGELOG.md has no '{UNRELEASED}' section: write what this release changes first")
    head, rest = text.split(UNRELEASED, 1)
    body, _, later = rest.partition("\n## ")
    if not body.strip():
        raise RuntimeError(f"CHANGELOG.md's '{UNRELEASED}' section is empty: write what this release changes first")
    later = f"\n## {later}" if later else ""
    path.write_text(f"{head}{UNRELEASED}\n\n## {version} ({today}){body.rstrip()}\n{later}")


def write_version(version: str) -> None:
    """Write `version` everywhere it appears (the release's working-tree half; no git)."""
    _replace(ROOT / "pyproject.toml", PYPROJECT_VERSION, f'version = "{version}"')
    _replace(ROOT / "src" / "nnpractice" / "__init__.py", INIT_VERSION, f'__version__ = "{version}"')
    _replace(ROOT / "_config.yml", FOOTER, footer(version))
    _set_setup_cells(version)
    _set_documents(version)


def release(version: str, dry_run: bool = False, today: str | None = None) -> None:
    match, old = VERSION.match(version), VERSION.match(current_version())
    if not match:
        raise ValueError(f"VERSION={version!r} is not allowed: expected MAJOR.MINOR.PATCH such as 0.3.0")
    if tuple(map(int, match.groups())) <= tuple(map(int, old.groups())):
        raise ValueError(f"VERSION={version!r} is not allowed: expected a version after the current "
                         f"{current_version()}")
    status = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True)
    if status.stdout.strip():
        raise RuntimeError("the working tree has uncommitted changes: commit or remove them before a release")
    if dry_run:
        print(f"would release {version}: pyproject.toml, nnpractice.__version__, _config.yml's footer, "
              f"{len(list(CHAPTERS.glob('[0-9][0-9]_*.ipynb')))} setup cells, CHANGELOG.md; tag v{version}")
        return
    _changelog(version, today or datetime.date.today().isoformat())
    write_version(version)
    subprocess.run(["git", "commit", "-q", "-am", f"Release {version}"], cwd=ROOT, check=True)
    subprocess.run(["git", "tag", "-a", f"v{version}", "-m", f"nnpractice {version}"], cwd=ROOT, check=True)
    print(f"released {version}: committed and tagged v{version}. Publish: git push origin main v{version}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("version", help="the new version, MAJOR.MINOR.PATCH")
    parser.add_argument("--dry-run", action="store_true", help="check and say what would change; change nothing")
    args = parser.parse_args(argv)
    release(args.version, args.dry_run)
    return 0


if __name__ == "__main__":
    sys.exit(main())

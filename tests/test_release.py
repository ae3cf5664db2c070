"""The book and its library travel together: one version, written everywhere by scripts/release.py."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml

import nnpractice
from notebook_tools import CHAPTERS, ROOT, read, release


def test_pyproject_the_library_the_footer_and_the_changelog_agree():
    version = release.current_version()
    assert release.VERSION.match(version), version
    assert nnpractice.__version__ == version
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["html"]["extra_footer"] == release.footer(version)
    assert re.search(rf"^## {re.escape(version)} \(\d{{4}}-\d{{2}}-\d{{2}}\)$", (ROOT / "CHANGELOG.md").read_text(), re.M), \
        f"CHANGELOG.md has no section for {version}"


def test_the_documents_show_the_released_setup_cell():
    for name in release.DOCUMENTS:
        text = (ROOT / name).read_text()
        installs = release.INSTALL.findall(text)
        assert installs, f"{name} shows no setup cell"
        assert all(f"@v{release.current_version()}\"" in m.group(0) for m in release.INSTALL.finditer(text)), name
        assert all(v == release.current_version() for v in re.findall(r"nnpractice (\d+\.\d+\.\d+), torch", text)), name


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_setup_cell_installs_exactly_the_released_version(path):
    first = next(c for c in read(path).cells if c.cell_type == "code")
    installs = re.findall(r'%pip install -q "([^"]+)"', first.source)
    assert len(installs) == 1 and installs[0].endswith(f" @ git+{release.repository_url()}@v{release.current_version()}"), \
        installs


@pytest.fixture()
def clone(tmp_path):
    """A clone of this repository with the working tree's release files, committed, and a changelog entry."""
    target = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(target)], check=True)
    for name in ("scripts/release.py", "CHANGELOG.md", "_config.yml", "pyproject.toml", "src/nnpractice/__init__.py",
                 *release.DOCUMENTS):
        (target / name).write_text((ROOT / name).read_text())
    for path in CHAPTERS:
        (target / "chapters" / path.name).write_text(path.read_text())
    changelog = target / "CHANGELOG.md"
    changelog.write_text(changelog.read_text().replace(release.UNRELEASED, f"{release.UNRELEASED}\n\n- a change", 1))
    git = ["git", "-C", str(target), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "commit", "-q", "-am", "test set-up"], check=True)
    subprocess.run([*git, "config", "user.name", "t"], check=True)
    subprocess.run([*git, "config", "user.email", "t@example.org"], check=True)
    return target


def _release(clone, *args):
    return subprocess.run([sys.executable, str(clone / "scripts" / "release.py"), *args], cwd=clone,
                          capture_output=True, text=True)


def test_a_release_writes_the_version_everywhere_commits_and_tags(clone):
    old = release.current_version()
    major, minor, _ = map(int, old.split("."))
    new = f"{major}.{minor + 1}.0"
    result = _release(clone, new)
    assert result.returncode == 0, result.stderr
    assert f'version = "{new}"' in (clone / "pyproject.toml").read_text()
    assert f'__version__ = "{new}"' in (clone / "src/nnpractice/__init__.py").read_text()
    assert f"nnpractice {new}:" in (clone / "_config.yml").read_text()
    for name in release.DOCUMENTS:
        assert f"@v{new}\"" in (clone / name).read_text() and f"@v{old}\"" not in (clone / name).read_text(), name
    changelog = (clone / "CHANGELOG.md").read_text()
    assert re.search(rf"## Unreleased\n\n## {re.escape(new)} \(\d{{4}}-\d{{2}}-\d{{2}}\)\n\n- a change", changelog)
    for path in CHAPTERS:
        nb = json.loads((clone / "chapters" / path.name).read_text())
        first = "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])
        assert f"@v{new}\"" in first and f"@v{old}\"" not in first, path.name
        before = json.loads(path.read_text())
        setup = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code")
        assert nb["cells"][:setup] + nb["cells"][setup + 1:] == before["cells"][:setup] + before["cells"][setup + 1:], \
            "only the setup cell changes"
        assert {k: v for k, v in nb.items() if k != "cells"} == {k: v for k, v in before.items() if k != "cells"}
    tags = subprocess.run(["git", "-C", str(clone), "tag", "--points-at", "HEAD"], capture_output=True, text=True)
    assert tags.stdout.split() == [f"v{new}"]
    status = subprocess.run(["git", "-C", str(clone), "status", "--porcelain"], capture_output=True, text=True)
    assert status.stdout == "", "everything the release wrote is committed"


@pytest.mark.parametrize("version, message", [
    ("0.0.1", "expected a version after the current"), ("1.2", "expected MAJOR.MINOR.PATCH"),
    ("v9.0.0", "expected MAJOR.MINOR.PATCH")])
def test_a_bad_version_is_refused_and_nothing_changes(clone, version, message):
    result = _release(clone, version)
    assert result.returncode != 0 and f"VERSION={version!r} is not allowed: {message}" in result.stderr
    status = subprocess.run(["git", "-C", str(clone), "status", "--porcelain"], capture_output=True, text=True)
    assert status.stdout == ""


def test_a_release_needs_a_clean_tree_and_a_changelog_entry(clone):
    (clone / "scratch.txt").write_text("x")
    result = _release(clone, "9.0.0")
    assert result.returncode != 0 and "uncommitted changes" in result.stderr
    (clone / "scratch.txt").unlink()
    changelog = clone / "CHANGELOG.md"
    # empty the whole section (the working tree's own entries too): from its heading to the next one
    text = changelog.read_text()
    start = text.index(release.UNRELEASED) + len(release.UNRELEASED)
    changelog.write_text(text[:start] + "\n\n" + text[text.index("\n## ", start) + 1:])
    subprocess.run(["git", "-C", str(clone), "commit", "-q", "-am", "empty entry"], check=True)
    result = _release(clone, "9.0.0")
    assert result.returncode != 0 and "'## Unreleased' section is empty" in result.stderr

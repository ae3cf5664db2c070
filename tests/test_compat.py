"""make compat's matrix (scripts/compat.py) and the bounds pyproject.toml states: tested versions, no wider.

A tested version is one `make compat` runs (a pin of a configuration of MATRIX) or one `make test` runs
(requirements/ci.txt). pyproject.toml's bounds must admit every tested version and no release line that
none of them is on: torch by minor (each minor removes deprecated behaviour), numpy and ipywidgets by major
(each keeps its API within one), from the lowest tested version on. Widening a bound fails here.
"""
import importlib.util
import re
import subprocess
import sys
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from notebook_tools import ROOT

_spec = importlib.util.spec_from_file_location("compat", ROOT / "scripts" / "compat.py")
compat = sys.modules["compat"] = importlib.util.module_from_spec(_spec)  # dataclasses look their module up
_spec.loader.exec_module(compat)

BOUNDED = {"torch": 2, "numpy": 1, "ipywidgets": 1}  # package: how many leading numbers make a release line
CI_TEXT = (ROOT / "requirements" / "ci.txt").read_text()


def ci_pin(package: str) -> str:
    return re.search(rf"^{package}==([^\s#]+)", CI_TEXT, re.M | re.I).group(1)


def versions_tested(package: str) -> set[Version]:
    versions = {Version(config.pinned(package)) for config in compat.MATRIX if config.pinned(package)}
    return versions | {Version(ci_pin(package))}


def bound(package: str):
    with open(ROOT / "pyproject.toml", "rb") as f:
        requirements = [Requirement(r) for r in tomllib.load(f)["project"]["dependencies"]]
    return next(r.specifier for r in requirements if r.name == package)


def line(version: Version, parts: int) -> tuple:
    return version.release[:parts]


def test_the_matrix_is_well_formed():
    names = [c.name for c in compat.MATRIX]
    assert len(names) == len(set(names)) and all(re.fullmatch(r"[a-z0-9.-]+", n) for n in names)
    for config in compat.MATRIX:
        assert re.fullmatch(r"3\.\d+", config.python) and config.why
        assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.+]*", pin) for pin in config.pins), config.pins
        packages = [compat.canonical(pin.split("==")[0]) for pin in config.pins]
        assert len(packages) == len(set(packages)), f"{config.name} pins a package twice"
        assert all(config.pinned(p) for p in BOUNDED), f"{config.name} must pin torch, numpy and ipywidgets"


def test_the_matrix_covers_what_the_issue_asks():
    ipywidgets = {config.pinned("ipywidgets") for config in compat.MATRIX}
    assert "7.7.1" in ipywidgets and any(v.startswith("8.") for v in ipywidgets), "both ipywidgets lines"
    assert len({config.pinned("torch") for config in compat.MATRIX}) >= 2, "at least two torch versions"
    colab = [c for c in compat.MATRIX if (c.python, c.pinned("torch"), c.pinned("ipywidgets")) == ("3.13", "2.11.0", "7.7.1")]
    assert colab and colab[0].pinned("numpy").startswith("2.1."), "Colab's own versions are a configuration"


def test_a_configuration_requirements_pin_what_it_says_and_keep_the_rest_of_ci():
    config = next(c for c in compat.MATRIX if c.name == "colab")
    text = compat.requirements_text(config)
    lines = [line for line in text.splitlines() if compat.requirement_name(line)]
    for pin in config.pins:
        name = compat.canonical(pin.split("==")[0])
        assert [line for line in lines if compat.requirement_name(line) == name] == [pin], name
    assert "ipywidgets==8.1.9" not in text and "widgetsnbextension==4" not in text
    ci_lines = [line for line in CI_TEXT.splitlines() if compat.requirement_name(line)]
    overridden = {compat.canonical(p.split("==")[0]) for p in config.pins}
    dropped = {compat.canonical(name) for name in config.drop}
    kept = [line for line in ci_lines if compat.requirement_name(line) not in overridden | dropped]
    assert kept and all(line in lines for line in kept), "every other pin of CI stays"
    assert not dropped & {compat.requirement_name(line) for line in lines}, "what the configuration drops is gone"
    assert compat.constraints_text(config).split() == list(config.pins)


def test_requirement_names_follow_pip():
    assert compat.requirement_name("Jinja2==3.1.6") == "jinja2"
    assert compat.requirement_name("psycopg[binary]>=3.2") == "psycopg"
    assert compat.requirement_name("ipython_genutils==0.2.0") == compat.canonical("ipython-genutils")
    assert compat.requirement_name("# torch==2.13.0") is None and compat.requirement_name("-r x.txt") is None


@pytest.mark.parametrize("package", sorted(BOUNDED))
def test_pyproject_admits_every_tested_version(package):
    specifier = bound(package)
    for version in versions_tested(package):
        assert specifier.contains(version), f"{package}{specifier} refuses the tested {version}"


def untested_admitted(package: str, specifier) -> list[str]:
    """The releases ``specifier`` admits that no tested version vouches for (older, or on an untested line)."""
    parts, tested = BOUNDED[package], versions_tested(package)
    floor = Version(f"{min(tested).major}.{min(tested).minor}")  # patches of the oldest tested minor are fine
    tested_lines = {line(v, parts) for v in tested}
    problems = []
    # every release from a major below the oldest tested to one above the newest
    for major in range(max(min(tested).major - 1, 0), max(tested).major + 2):
        for minor in range(40):
            for micro in (0, 5, 99):
                candidate = Version(f"{major}.{minor}.{micro}")
                if specifier.contains(candidate) and (candidate < floor or line(candidate, parts) not in tested_lines):
                    problems.append(str(candidate))
    return problems


@pytest.mark.parametrize("package", sorted(BOUNDED))
def test_pyproject_admits_no_untested_release_line(package):
    problems = untested_admitted(package, bound(package))
    assert not problems, (f"{package}{bound(package)} admits {', '.join(problems[:5])}: no configuration tested "
                          f"them (tested: {', '.join(sorted(map(str, versions_tested(package))))})")


@pytest.mark.parametrize("package, wider", [("torch", ">=2.11,<2.16"), ("torch", ">=2.10,<2.15"), ("torch", ">=2.1"),
                                            ("numpy", ">=2.0,<3"), ("numpy", ">=2.1"), ("ipywidgets", ">=7.6,<9"),
                                            ("ipywidgets", ">=7.7.1")])
def test_a_wider_bound_is_caught(package, wider):
    assert untested_admitted(package, SpecifierSet(wider))


def test_bad_names_are_refused_with_the_choices():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "compat.py"), "--only", "colab-gpu"],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "--only 'colab-gpu' is not allowed" in done.stderr and "'colab'" in done.stderr
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "compat.py"), "--chapters", "17"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "--chapters '17' is not allowed" in done.stderr and " 16" in done.stderr
    with pytest.raises(ValueError, match="not allowed"):
        compat.by_name(["nope"])
    assert [p.stem[:2] for p in compat.chapters_named(["3", "07"])] == ["03", "07"]


def test_a_configuration_that_cannot_be_installed_is_reported_not_passed(tmp_path, monkeypatch):
    """No Python for it here: the result says 'not installable' with the reason and counts as a failure."""
    ghost = compat.Configuration("ghost", "3.99", ("torch==2.13.0", "ipywidgets==8.1.9", "numpy==2.1.3"), "test")
    monkeypatch.setattr(compat, "COMPAT_DIR", tmp_path)
    result = compat.run_configuration(ghost, [], lambda message: None)
    assert result["not_installable"] == "no Python 3.99 on this machine (looked in ~/.pyenv/versions and PATH)"
    assert compat.failures(result) == 1
    text = compat.matrix_markdown([result])
    assert "not installable: no Python 3.99" in text and "pass" not in text


def test_every_lower_bound_is_a_tested_release_line():
    """The other dependencies too: each lower bound sits on a minor release that some configuration ran."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        requirements = [Requirement(r) for r in tomllib.load(f)["project"]["dependencies"]]
    for requirement in requirements:
        lower = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
        assert len(lower) == 1, f"{requirement}: one lower bound (>=) is what the matrix can vouch for"
        pins = {config.pinned(requirement.name) for config in compat.MATRIX} - {None}
        tested = {Version(v) for v in pins} | {Version(ci_pin(requirement.name))}
        assert min(tested).release[:2] == lower[0].release[:2], (
            f"{requirement}: the oldest tested is {min(tested)}; the lower bound must be on its minor")

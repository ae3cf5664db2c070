"""Helpers shared by the notebook tests: where the chapters are, and how exercises are marked."""
from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
# scripts/release.py: what a setup cell installs (the library at the released version's tag)
_spec = importlib.util.spec_from_file_location("release", ROOT / "scripts" / "release.py")
release = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(release)


def repository_url() -> str:
    """The single source of the repository URL: pyproject.toml's [project.urls] Repository."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["urls"]["Repository"]


#: What in a chapter's code needs an extra of the library (nnpractice.EXTRAS): extra -> pattern.
EXTRA_USES = {
    "search": r"\boptuna\b",
    "images": r"\bskimage\b|load_sample_photos",
    "federated": r"\bflwr\b",
    "deploy": r"\bonnx",
}


def extras_used(code: str) -> list[str]:
    """The extras a chapter's code needs, in EXTRA_USES order."""
    return [extra for extra, pattern in EXTRA_USES.items() if re.search(pattern, code)]


def setup_cell_source(extras=()) -> str:
    """The exact first code cell of every chapter (installing the released library and the extras it needs)."""
    call = f"nnpractice.setup_notebook(extras={list(extras)!r})" if extras else "nnpractice.setup_notebook()"
    return (
        "# Setup: installs the library where missing (Colab); one CPU thread; every\n"
        "# random choice derives from the seed in NNPRACTICE_SEED (default 0).\n"
        "try:\n"
        "    import nnpractice\n"
        "except ModuleNotFoundError:\n"
        f'    %pip install -q "{release.install_target(extras)}"\n'
        "    import nnpractice\n"
        f"env = {call}"
    )


def read(path: Path):
    return nbformat.read(path, as_version=4)


def nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def exercises(nb) -> list[tuple[int, int]]:
    """``(solution_index, test_index)`` pairs: each graded test cell after its solution cell."""
    pairs, solution = [], None
    for i, cell in enumerate(nb.cells):
        meta = nbgrader(cell)
        if cell.cell_type == "code" and meta.get("solution"):
            solution = i
        elif cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            if solution is None:
                raise AssertionError(f"graded cell {meta.get('grade_id')} has no solution cell before it")
            pairs.append((solution, i))
            solution = None
    return pairs


def wrong_answers(kind: str = "WRONG_ANSWERS") -> dict[str, list[str]]:
    """All ``WRONG_ANSWERS`` from ``tests/wrong_answers/*.py``, merged by grade_id.

    ``kind="GAMING_ANSWERS"``: the wrong answers that game the kernel's own asserts (an object whose comparisons
    always agree, say) and that only the grader's verdict on the recorded answers rejects.
    """
    merged: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tests" / "wrong_answers").glob("ch*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for key, sources in getattr(module, kind, {}).items():
            if key in merged:
                raise AssertionError(f"{key} has wrong answers in two files")
            merged[key] = list(sources)
    return merged


def toc_documents() -> list[str]:
    """Every document of ``_toc.yml`` in reading order (root first), without extension."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return files

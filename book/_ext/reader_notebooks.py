"""Sphinx extension: the notebooks a reader downloads from the book hold no hidden tests.

Jupyter Book copies every chapter's source notebook to ``_sources/`` for the download button. The chapter
notebooks are nbgrader source notebooks, so that copy would hand every reader (and every student) the hidden
tests that grade the exercises. Once the build has finished, each copied notebook is rewritten with nbgrader's
own ``ClearHiddenTests`` (the step ``nbgrader generate_assignment`` uses), so the download matches the page:
the exercises, their visible tests and the folded solutions, and no hidden test.
"""
from pathlib import Path

import nbformat
from nbgrader.preprocessors import ClearHiddenTests


def strip_hidden_tests(path: Path) -> bool:
    """Rewrite the notebook at `path` without its hidden tests; True if it held any."""
    notebook = nbformat.read(path, as_version=4)
    before = nbformat.writes(notebook)
    notebook, _ = ClearHiddenTests().preprocess(notebook, {})
    after = nbformat.writes(notebook)
    if after != before:
        path.write_text(after, encoding="utf-8")
    return after != before


def _on_build_finished(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for path in sorted(Path(app.outdir, "_sources").rglob("*.ipynb")):
        strip_hidden_tests(path)


def setup(app):
    app.connect("build-finished", _on_build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

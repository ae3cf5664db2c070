"""The book builds from clean with warnings as errors, rendering the chapters the exercise pass executed,
and its chapter pages show their figures."""
import re

import pytest

from notebook_tools import CHAPTERS, repository_url

pytestmark = pytest.mark.slow


def test_book_builds_warning_free(built_book):
    html, log = built_book.html, built_book.log
    assert (html / "index.html").exists()
    assert not re.search(r": WARNING:", log), log[-4000:]  # sphinx warnings (kernel chatter on stderr is fine)


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_build_renders_cached_chapters_and_executes_the_others(built_book, path):
    """A chapter the exercise pass left in the cache is rendered, not executed again; any other is executed."""
    used_cache = f"{path}: Using cached notebook" in built_book.log
    executed = f"{path}: Executing notebook" in built_book.log
    if built_book.cached[path.stem]:
        assert used_cache and not executed, f"{path.name} is in the cache, yet the build did not take it from there"
    else:
        assert executed and not used_cache, f"{path.name} is not in the cache, yet the build did not execute it"


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_page_has_figures_and_no_errors_or_hidden_tests(built_book, path):
    html = built_book.html
    page = (html / "chapters" / f"{path.stem}.html").read_text()
    images = re.findall(r'<img[^>]+src="([^"]+)"', page)
    figures = [src for src in images if "_images/" in src or src.startswith("data:image")]
    assert len(figures) >= 2, "a chapter page shows its figures"
    for src in figures:
        if not src.startswith("data:"):
            assert (html / "chapters" / src).resolve().exists(), src
    for forbidden in ("Traceback (most recent call last)", "BEGIN HIDDEN TESTS", "AssertionError", "remove-cell"):
        assert forbidden not in page, forbidden
    assert "Learning goals" in page and "Summary" in page
    assert page.count("Show a solution") >= 2, "exercise solutions are folded, not hidden or shown"
    # a Colab button that opens this very notebook from the repository, and a download button; no Binder
    # (its public service has shrunk to almost nothing: book/setup.md says why it is gone)
    repo = repository_url().removeprefix("https://github.com/")
    notebook = f"chapters/{path.stem}.ipynb"
    assert f'href="https://colab.research.google.com/github/{repo}/blob/main/{notebook}"' in page
    assert "mybinder.org" not in page
    assert "btn-download-source-button" in page


def test_pages_need_no_network(built_book):
    """Offline first: no page loads a script from elsewhere, and MathJax ships with the book."""
    html = built_book.html
    pages = list(html.rglob("*.html"))
    assert pages
    for page in pages:
        text = page.read_text()
        assert not re.search(r'<script[^>]+src="(https?:)?//', text), page
    chapter = (html / "chapters" / f"{CHAPTERS[0].stem}.html").read_text()
    assert 'src="../_static/mathjax/tex-chtml.js"' in chapter
    assert (html / "_static" / "mathjax" / "tex-chtml.js").exists()



def _hidden_test_lines(paths):
    """The lines of the chapters' hidden (grading) tests that appear nowhere else in any chapter: a copy of one
    in the built book can only come from a hidden test."""
    import nbformat

    hidden, elsewhere = set(), []
    for path in paths:
        for cell in nbformat.read(path, as_version=4).cells:
            inside = False
            for line in cell.source.splitlines():
                if "### BEGIN HIDDEN TESTS" in line:
                    inside = True
                elif "### END HIDDEN TESTS" in line:
                    inside = False
                else:
                    hidden.add(line.strip()) if inside else elsewhere.append(line)
    shown = "\n".join(elsewhere)
    return {line for line in hidden if len(line) >= 20 and line not in shown}


def _text_of_built_file(path):
    """What a reader can read in a built file: a notebook's cell sources, a page's text without its markup."""
    import html as html_module
    import json

    raw = path.read_text(errors="replace")
    if path.suffix == ".ipynb":
        return "\n".join("".join(cell.get("source", "")) for cell in json.loads(raw)["cells"])
    return html_module.unescape(re.sub(r"<[^>]+>", "", raw))


def test_no_file_of_the_built_book_holds_a_hidden_test(built_book):
    """The download button serves each chapter as its page shows it (exercises, visible tests, folded solutions),
    and no page, notebook or script of the built book holds a line of a hidden grading test."""
    html = built_book.html
    hidden = _hidden_test_lines(CHAPTERS)
    assert len(hidden) >= 200, "the chapters' hidden tests were found"
    readable = [p for p in html.rglob("*") if p.is_file() and p.suffix in {".html", ".ipynb", ".js", ".txt", ".md"}]
    assert len(readable) > len(CHAPTERS)
    for path in readable:
        text = _text_of_built_file(path)
        if path.suffix == ".ipynb" or path.parent.name == "chapters":  # book/instructors.md names the marker
            assert "BEGIN HIDDEN TESTS" not in text, path
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{path.relative_to(html)} holds hidden-test lines: {leaked[:3]}"
    for path in CHAPTERS:
        assert f'href="../_sources/chapters/{path.name}"' in (html / "chapters" / f"{path.stem}.html").read_text()
        download = _text_of_built_file(html / "_sources" / "chapters" / path.name)
        assert "### BEGIN SOLUTION" in download, f"{path.name}: the download keeps what the page shows"

"""Every page of the built book, opened in a real browser (Debian's Chromium driven by Playwright) from
``file://`` with the network blocked: it loads, its images load, its cell outputs hold no traceback or
error, no live widget is left empty, chapter pages show a figure, math is typeset, and search finds pages.

Screenshots of every page go to ``_build/screenshots/pages/`` (look at them). Pages taller than Chromium
renders in one shot are saved as the top 1280x4000 plus the viewport at a few scroll positions.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from notebook_tools import ROOT, toc_documents

pytestmark = pytest.mark.slow

SHOTS = ROOT / "_build" / "screenshots" / "pages"
WIDTH, TOP, FULL_PAGE_MAX = 1280, 4000, 15_000


PAGES = toc_documents()


@pytest.fixture(scope="module")
def browser(chromium):
    SHOTS.mkdir(parents=True, exist_ok=True)
    return chromium


@pytest.fixture()
def page(browser):
    """A page that may load only ``file://``, ``data:`` and ``blob:`` URLs; the refused ones and JS errors are kept."""
    pg = browser.new_page(viewport={"width": WIDTH, "height": 1000})
    pg.refused, pg.js_errors = [], []

    def route(r):
        if r.request.url.startswith(("file://", "data:", "blob:")):
            r.continue_()
        else:
            pg.refused.append(r.request.url)
            r.abort()

    pg.route("**/*", route)
    pg.on("pageerror", lambda e: pg.js_errors.append(str(e)))
    yield pg
    pg.close()


def _wait_for_math(pg) -> None:
    """Wait until MathJax (shipped with the book) has typeset the page, if the page loads it."""
    pg.wait_for_function("() => !document.querySelector('script[src*=mathjax]')"
                         " || (window.MathJax && MathJax.startup && MathJax.startup.promise)", timeout=30_000)
    pg.evaluate("async () => { if (window.MathJax && MathJax.startup && MathJax.startup.promise)"
                " { await MathJax.startup.promise; } return true; }")


# Text a reader must never see in a cell output. Line-anchored, so prose that merely mentions an error
# ("the error: ...") does not match; a deliberate ``print(f"ValueError: {e}")`` would, and should be
# written differently (the book shows error messages in prose or as a caught exception's message).
OUTPUT_ERRORS = re.compile(r"Traceback \(most recent call last\)|^\s*[A-Z]\w*(Error|Exception): |^\s*Error: ",
                           re.MULTILINE)
# Raw markup left in the reading text (outside code, math and outputs): an unprocessed role or directive,
# or TeX that MathJax did not typeset.
RAW_MARKUP = re.compile(r"\{(cite|cite:p|cite:t|ref|numref|doc|eq|term|glue)[:a-z]*\}`|^```\{|^:::\{"
                        r"|\$[^$\n]{0,200}\\[a-zA-Z]+[^$\n]{0,200}\$|\\(frac|mathbf|sum|theta|alpha|begin)\b",
                        re.MULTILINE)

PROSE_TEXT = """() => {
  const skip = 'pre, code, script, style, mjx-container, .highlight, .cell_output, .MathJax, .math';
  const root = document.querySelector('main') || document.body;
  const out = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (el && !el.closest(skip)) out.push(n.textContent);
  }
  return out.join('');
}"""


def _screenshots(pg, name: str) -> list[Path]:
    """A full-page PNG, or for a page too tall for one shot the top and the viewport at a few scroll positions."""
    height = pg.evaluate("() => document.documentElement.scrollHeight")
    if height <= FULL_PAGE_MAX:
        path = SHOTS / f"{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        return [path]
    pg.set_viewport_size({"width": WIDTH, "height": TOP})
    paths = [SHOTS / f"{name}_top.png"]
    pg.screenshot(path=str(paths[0]))
    pg.set_viewport_size({"width": WIDTH, "height": 1000})
    for fraction in (0.25, 0.5, 0.75, 1.0):
        pg.evaluate("(y) => window.scrollTo(0, y)", int((height - 1000) * fraction))
        pg.wait_for_timeout(100)
        paths.append(SHOTS / f"{name}_at{int(fraction * 100):03d}.png")
        pg.screenshot(path=str(paths[-1]))
    return paths


@pytest.mark.parametrize("doc", PAGES, ids=[Path(d).name for d in PAGES])
def test_page_renders_offline_without_errors(built_book, page, doc):
    html = built_book.html
    path = html / f"{doc}.html"
    assert path.exists(), f"{doc} of _toc.yml has no page {path}"
    page.goto(path.as_uri(), wait_until="load")
    assert page.locator("main h1").count() >= 1, "the page has a title"
    # load images that sit far below the fold too (none should be lazy, but a theme may make them so)
    page.evaluate("() => document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')")
    page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=30_000)
    broken = page.evaluate("() => [...document.images].filter(i => !(i.naturalWidth > 0))"
                           ".map(i => i.getAttribute('src').slice(0, 120))")
    assert not broken, f"images that did not load: {broken}"
    _wait_for_math(page)

    # no traceback, error or stderr in an output area
    assert page.locator(".cell_output .output.traceback, .cell_output .output.error").count() == 0
    outputs = page.eval_on_selector_all(".cell_output", "els => els.map(e => e.innerText)")
    errors = [m.group(0) for text in outputs for m in [OUTPUT_ERRORS.search(text)] if m]
    assert not errors, f"error text in cell outputs: {errors}"
    stderr = page.eval_on_selector_all(".cell_output .output.stderr", "els => els.map(e => e.innerText.slice(0, 300))")
    assert not stderr, f"stderr shown to the reader: {stderr}"

    # no live widget view: offline an ipywidget renders as nothing (its static twin is what the reader sees).
    # The notebook's saved widget *state* (a widget-state+json script, inert metadata) may remain.
    widgets = page.locator("script[type='application/vnd.jupyter.widget-view+json'], "
                           ".jupyter-widgets, .widget-area, .jupyter-widgets-view")
    assert widgets.count() == 0, "a live ipywidget is on the page: hide it (remove-cell) and show its static twin"
    assert "Loading widget..." not in page.inner_text("main")

    # math typeset, no MathJax error, no raw roles, directives or TeX in the prose
    assert page.locator("mjx-merror, .MathJax_Error").count() == 0, "MathJax could not typeset some math"
    untypeset = page.evaluate("() => [...document.querySelectorAll('main span.math, main div.math')]"
                              ".filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80))")
    assert not untypeset, f"math left as raw TeX: {untypeset[:5]}"
    raw = [m.group(0) for m in RAW_MARKUP.finditer(page.evaluate(PROSE_TEXT))]
    assert not raw, f"raw markup shown to the reader: {raw[:5]}"

    if doc.startswith("chapters/"):
        figures = page.evaluate("() => [...document.querySelectorAll('main .cell_output img, main figure img')]"
                                ".filter(i => i.naturalWidth > 0 && i.naturalHeight > 0).length")
        assert figures >= 1, "a chapter page shows at least one figure"

    assert not page.refused, f"the page asked for the network: {page.refused[:5]}"
    # sphinx-thebe's script is included twice by Jupyter Book 1.x (harmless: the second copy only re-declares)
    js_errors = [e for e in page.js_errors if "THEBE_JS_URL" not in e]
    assert not js_errors, f"JavaScript errors: {js_errors[:5]}"
    for shot in _screenshots(page, Path(doc).name):
        assert shot.stat().st_size > 10_000, f"{shot} looks blank"


@pytest.mark.parametrize("term, chapter", [("dropout", "06_dropout_batchnorm_label_smoothing"),
                                          ("federated", "14_federated_learning")])
def test_search_page_finds_a_term(built_book, page, term, chapter):
    html = built_book.html
    page.goto(f"{(html / 'search.html').as_uri()}?q={term}")
    # the results are shown one at a time; the summary says when the search is done
    page.wait_for_function("() => /Search finished/.test(document.querySelector('#search-results')?.innerText || '')",
                           timeout=60_000)
    results = page.locator("#search-results ul.search li > a")
    assert results.count() >= 1, page.inner_text("#search-results")
    hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
    assert any(chapter in h for h in hrefs), hrefs
    page.screenshot(path=str(SHOTS / f"search_{term}.png"))
    assert not page.refused, page.refused[:5]

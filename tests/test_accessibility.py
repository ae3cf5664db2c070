"""Accessibility of the built book (WCAG 2.1 AA), and the pieces that make it so.

- axe-core (npm, pinned in package.json; ``npm ci`` installs it into node_modules/) runs in Debian's Chromium
  over every page of the built book, in the light and the dark theme: no violation of the rules tagged
  wcag2a, wcag2aa, wcag21a and wcag21aa, and no rule turned off.
- Every image of the book has an alt text that says what it shows (not a file name, not matplotlib's
  ``<Figure size ...>``): a notebook figure's alt is its description (nnpractice.plots.describe, put there by
  book/_ext/figure_alt_text.py).
- The static twins' sliders work from the keyboard and say their value (aria-valuetext, a live region).
- Figures keep a white background and their colours in the dark theme; two chapter pages are photographed
  in it (``_build/screenshots/dark/``: look at them).
- Every chapter page has a Colab button pointing at its notebook in the repository, a download button
  serving its notebook, and no Binder button.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document

from notebook_tools import ROOT, toc_documents

sys.path.insert(0, str(ROOT / "book" / "_ext"))
from accessible_markup import fix_body  # noqa: E402
from figure_alt_text import FigureAltText  # noqa: E402

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SHOTS = ROOT / "_build" / "screenshots" / "dark"
# Alt texts that name a file or repeat matplotlib's repr say nothing about the figure.
MEANINGLESS_ALT = re.compile(r"^\s*$|\.(png|jpe?g|gif|svg)\s*$|_images/|^<Figure size", re.IGNORECASE)
DARK_SHOTS = ("04_reading_training_curves", "10_ensembles_and_weight_averaging")


PAGES = toc_documents()
CHAPTER_PAGES = [d for d in PAGES if d.startswith("chapters/")]


# ---- the pieces, without a build -------------------------------------------------------------------------

def _bundle(*children) -> nodes.container:
    bundle = nodes.container(nb_element="mime_bundle")
    for mime_type, child in children:
        box = nodes.container(mime_type=mime_type)
        box += child
        bundle += box
    return bundle


def test_figure_alt_text_copies_the_outputs_text_plain_onto_its_image():
    document = new_document("page", get_default_settings(Parser))
    described = _bundle(("image/png", nodes.image(uri="a.png")),
                        ("text/plain", nodes.literal_block(text="Figure with 1 panel.\n x axis \"epoch\"")))
    explicit = _bundle(("image/png", nodes.image(uri="b.png", alt="set by the author")),
                       ("text/plain", nodes.literal_block(text="Figure with 2 panels.")))
    no_text = _bundle(("image/png", nodes.image(uri="c.png")))
    elsewhere = nodes.container()  # an image outside a notebook output is left alone
    elsewhere += nodes.image(uri="d.png")
    document += [described, explicit, no_text, elsewhere]
    FigureAltText.run(SimpleNamespace(document=document))
    alts = [image.get("alt") for image in document.findall(nodes.image)]
    assert alts == ['Figure with 1 panel. x axis "epoch"', "set by the author", None, None]


def test_markup_fixes_name_summaries_by_their_text_and_make_citations_list_items():
    body = ('<details><summary aria-label="Toggle hidden content"><p>Show a solution</p></summary></details>'
            '<div role="list"><div class="citation" role="doc-biblioentry">A</div></div>')
    fixed = fix_body(body)
    assert "<summary><p>Show a solution</p></summary>" in fixed
    assert 'role="doc-biblioentry"' not in fixed and '<div class="citation" role="listitem">' in fixed
    assert fix_body(fixed) == fixed


def test_templates_override_the_themes_components_with_labels_that_hold_their_text():
    components = ROOT / "book" / "_ext" / "templates"
    search = (components / "search-button-field.html").read_text()
    assert "aria-label" not in search.split("#}")[-1]  # named by its visible text, "Search Ctrl+K"
    switch = (components / "theme-switcher.html").read_text()
    assert switch.count('aria-hidden="true"') == 3 and not re.search(r"\stitle=", switch.split("#}")[-1])


# ---- in the browser --------------------------------------------------------------------------------------

@pytest.fixture()
def open_page(chromium):
    """Open a page in the light or dark theme with only ``file://``, ``data:`` and ``blob:`` URLs allowed."""
    opened = []

    def _open(url: str, scheme: str = "light"):
        page = chromium.new_page(viewport={"width": 1280, "height": 1000}, color_scheme=scheme)
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:"))
                   else r.abort())
        opened.append(page)
        page.goto(url, wait_until="load")
        return page

    yield _open
    for page in opened:
        page.close()


def _axe(page) -> list[dict]:
    assert AXE.exists(), f"{AXE} is missing: run `npm ci` in the repository root (package.json pins axe-core)"
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async (tags) => {
        const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
        return result.violations.map(v => ({rule: v.id, impact: v.impact, help: v.help,
            where: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary.split('\\n')[1])}));
    }""", WCAG_21_AA)


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("doc", PAGES, ids=[Path(d).name for d in PAGES])
def test_axe_finds_no_wcag_21_aa_violation(built_book, open_page, doc, scheme):
    page = open_page((built_book.html / f"{doc}.html").as_uri(), scheme)
    assert page.evaluate("() => document.documentElement.dataset.theme") == scheme
    violations = _axe(page)
    assert not violations, "\n".join(f"{v['rule']} ({v['impact']}): {v['help']}; {v['where']}" for v in violations)


@pytest.mark.slow
@pytest.mark.parametrize("doc", PAGES, ids=[Path(d).name for d in PAGES])
def test_every_image_has_an_alt_text_that_says_what_it_shows(built_book, open_page, doc):
    page = open_page((built_book.html / f"{doc}.html").as_uri())
    images = page.eval_on_selector_all("img", "els => els.map(e => [e.getAttribute('src').slice(0, 60),"
                                       " e.getAttribute('alt'), e.closest('.cell_output') !== null])")
    meaningless = [(src, alt) for src, alt, _ in images if alt is None or MEANINGLESS_ALT.search(alt)]
    assert not meaningless, f"images without an alt text that says what they show: {meaningless[:5]}"
    # a matplotlib figure of a notebook output is described by nnpractice.plots.describe
    figures = [alt for src, alt, in_output in images if in_output and "_images/" in src]
    assert all(alt.startswith("Figure") for alt in figures), [a[:80] for a in figures if not a.startswith("Figure")]


@pytest.mark.slow
@pytest.mark.parametrize("doc", [f"chapters/{stem}" for stem in DARK_SHOTS])
def test_dark_theme_keeps_figures_white_and_true_to_colour(built_book, open_page, doc):
    page = open_page((built_book.html / f"{doc}.html").as_uri(), "dark")
    figure = page.locator("main .cell_output img").first
    figure.scroll_into_view_if_needed()
    style = figure.evaluate("e => { const s = getComputedStyle(e); return [s.backgroundColor, s.filter] }")
    assert style == ["rgb(255, 255, 255)", "none"], style
    assert page.evaluate("() => getComputedStyle(document.body).backgroundColor") != "rgb(255, 255, 255)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{Path(doc).name}_top.png"))
    figure.screenshot(path=str(SHOTS / f"{Path(doc).name}_figure.png"))


@pytest.mark.slow
def test_static_twin_slider_works_from_the_keyboard_and_says_its_value(open_page, tmp_path):
    from nnpractice.widgets import static_twin

    twin = static_twin("moons", "lr", [0.01, 0.1, 10.0], epochs=4, seed=0, start=0)
    twin.save(tmp_path / "twin.html")
    page = open_page((tmp_path / "twin.html").as_uri())
    slider, status = page.locator("input.nnp-s"), page.locator(".nnp-twin-status")
    assert slider.get_attribute("aria-valuetext") == "0.01"
    assert status.get_attribute("aria-live") == "polite" and status.inner_text().startswith("learning rate = 0.01")
    slider.focus()
    page.keyboard.press("ArrowRight")
    shown = page.locator("img[data-k]:visible")
    assert shown.count() == 1 and shown.get_attribute("data-k") == "1"
    assert slider.get_attribute("aria-valuetext") == "0.1"
    assert status.text_content() == shown.get_attribute("alt") and "learning rate = 0.1:" in status.text_content()
    page.keyboard.press("End")
    assert slider.get_attribute("aria-valuetext") == "10"
    assert "learning rate = 10: diverged" in status.text_content(), status.text_content()
    assert _axe(page) == []


# ---- launch buttons --------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("doc", CHAPTER_PAGES, ids=[Path(d).name for d in CHAPTER_PAGES])
def test_chapter_has_colab_and_download_buttons_and_no_binder(built_book, doc):
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repository = config["repository"]["url"].removeprefix("https://github.com/")
    branch = config["repository"].get("branch", "main")
    text = (built_book.html / f"{doc}.html").read_text()
    links = set(re.findall(r'href="([^"]+)"', text))
    colab = f"{config['launch_buttons']['colab_url']}/github/{repository}/blob/{branch}/{doc}.ipynb"
    assert colab in links, f"no Colab button to {colab}"
    assert (ROOT / f"{doc}.ipynb").exists(), "the Colab button points at a notebook the repository holds"
    download = f"../_sources/{doc}.ipynb"
    assert download in links and (built_book.html / "_sources" / f"{doc}.ipynb").exists()
    assert not [link for link in links if "binder" in link.lower()], "Binder is gone (book/setup.md says why)"


def test_setup_page_names_the_extra_each_chapter_needs():
    """book/setup.md's table of what each chapter needs agrees with the chapters' setup calls."""
    import json

    rows = {}
    for line in (ROOT / "book" / "setup.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.match(r"\d\d", cells[0]):
            for number in re.findall(r"\b\d\d\b", cells[0]):
                rows[number] = set(re.findall(r"`(\w+)`", cells[1]))
    for path in sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb")):
        source = "".join("".join(cell["source"]) for cell in json.loads(path.read_text())["cells"]
                         if cell["cell_type"] == "code")
        call = re.search(r"setup_notebook\(([^)]*)\)", source)
        needed = set(re.findall(r"['\"](\w+)['\"]", call.group(1).split("extras=")[-1])) if "extras=" in call.group(1) else set()
        assert path.name[:2] in rows, f"book/setup.md does not say what chapter {path.name[:2]} needs"
        assert rows[path.name[:2]] == needed, f"chapter {path.name[:2]} needs extras {needed}; setup.md says {rows[path.name[:2]]}"

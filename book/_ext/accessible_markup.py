"""Sphinx extension: the theme's and the notebook renderer's markup, fixed where an accessibility audit
(axe-core, WCAG 2.1 AA; tests/test_accessibility.py) fails it, without turning any rule off.

- Buttons whose visible text is not part of their accessible name (WCAG 2.5.3, "label in name"): the search
  field ("Search Ctrl+K" named "Search") and the colour-mode switch (icons titled Light/Dark/System named
  "Color mode") come from templates/, which pydata-sphinx-theme looks up by bare name ("theme-switcher.html")
  after this folder, so these replace its components of the same name.
- MyST-NB's folded cells: ``<summary aria-label="Toggle hidden content">`` hides the summary's own text
  ("Show a solution") from its name; the summary is named by its text instead.
- The bibliography: docutils marks each entry ``role="doc-biblioentry"``, a role deprecated in DPUB-ARIA 1.1
  and not a list item of its ``role="list"`` parent; each entry becomes a ``listitem``.
"""
from pathlib import Path

TEMPLATES = Path(__file__).with_name("templates")

# (what the renderer writes, what the page gets instead)
BODY_FIXES = (
    ('<summary aria-label="Toggle hidden content">', "<summary>"),
    ('role="doc-biblioentry"', 'role="listitem"'),
)


def fix_body(body: str) -> str:
    """The page body with each of BODY_FIXES applied."""
    for old, new in BODY_FIXES:
        body = body.replace(old, new)
    return body


def _on_config_inited(app, config):
    # first in the search path: these components replace the theme's
    config.templates_path = [str(TEMPLATES), *config.templates_path]


def _on_page_context(app, pagename, templatename, context, doctree):
    if "body" in context:
        context["body"] = fix_body(context["body"])


def setup(app):
    app.connect("config-inited", _on_config_inited)
    app.connect("html-page-context", _on_page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""A figure described in words, from the figure itself: its title, its panels, their axes and labels, what
each panel draws (lines, points, bars, images) and its legend. The book uses it as the alt text of every
figure (``style()`` makes it a figure's text/plain in a notebook; book/_ext/figure_alt_text.py puts it on the
image).

>>> import matplotlib.pyplot as plt
>>> fig, ax = plt.subplots()
>>> _ = ax.plot([1, 2, 3], [3, 2, 1], label="train"); _ = ax.set_xlabel("epoch"); _ = ax.legend()
>>> describe(fig)
'Figure with 1 panel. x axis "epoch" from 0.9 to 3.1; y axis from 0.9 to 3.1; 1 line. Legend: train.'
>>> plt.close(fig)
"""
from __future__ import annotations

from matplotlib.collections import PathCollection, PolyCollection, QuadMesh
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from matplotlib.ticker import LogFormatter, ScalarFormatter

from .._validation import validate_params

# A grid of many small panels (an image grid) is summed up, not read out panel by panel.
GRID_PANELS = 6
# Alt text is read aloud: name at most this many legend entries or panel titles, then say how many more.
MAX_NAMES = 8


def _clean(text: str) -> str:
    """Label text without mathtext dollars and backslashes ("$x_1$" -> "x_1", "$\\lambda$" -> "lambda")."""
    return " ".join(text.replace("$", "").replace("\\", "").split())


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_NAMES])
    return shown + (f" and {len(items) - MAX_NAMES} more" if len(items) > MAX_NAMES else "")


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _is_number(text: str) -> bool:
    try:
        float(text.replace("\N{MINUS SIGN}", "-").replace("$", "").replace("\\mathdefault{", "").rstrip("}"))
    except ValueError:
        return False
    return True


def _categories(axis) -> list[str]:
    """The tick labels of a categorical axis (conditions, class names, optimizers), or [] for a numeric one."""
    formatter = axis.get_major_formatter()
    if isinstance(formatter, (ScalarFormatter, LogFormatter)):  # numbers, however they are typeset
        return []
    units = getattr(formatter, "_units", None)  # category.StrCategoryFormatter: the strings plotted
    if isinstance(units, dict):
        return [_clean(str(name)) for name in units]
    texts = [_clean(tick.get_text()) for tick in axis.get_ticklabels()]
    texts = [text for text in texts if text]
    return texts if texts and not all(_is_number(text) for text in texts) else []


def _axis(ax, which: str) -> str:
    axis = ax.xaxis if which == "x" else ax.yaxis
    if not axis.get_visible() or not ax.axison:
        return ""
    label = _clean(axis.get_label_text())
    named = f'{which} axis "{label}"' if label else f"{which} axis"
    categories = _categories(axis)
    if categories:
        return f"{named} with {_names(categories)}"
    low, high = (ax.get_xlim if which == "x" else ax.get_ylim)()
    scale = axis.get_scale()
    return f"{named} from {low:.3g} to {high:.3g}" + (f" ({scale} scale)" if scale != "linear" else "")


def _contents(ax) -> str:
    lines = [line for line in ax.get_lines() if line.get_visible() and len(line.get_xdata()) > 1]
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    shaded = [c for c in ax.collections if isinstance(c, (PolyCollection, QuadMesh, ContourSet))]
    images = [i for i in ax.get_images() if isinstance(i, AxesImage)]
    parts = []
    if lines:
        parts.append(_count(len(lines), "line"))
    if points:
        counted = _count(sum(len(c.get_offsets()) for c in points), "point")
        parts.append(counted if len(points) == 1 else f"{counted} in {len(points)} groups")
    if bars:
        parts.append(_count(len(bars), "bar"))
    if shaded:
        parts.append("a shaded map")
    if images:
        parts.append(_count(len(images), "image"))
    return ", ".join(parts)


def _panel(ax) -> str:
    title = _clean(ax.get_title())
    bits = [f'titled "{title}"'] if title else []
    bits += [a for a in (_axis(ax, "x"), _axis(ax, "y")) if a]
    contents = _contents(ax)
    text = "; ".join(bits + ([contents] if contents else []))
    legend = ax.get_legend()
    if legend is not None:
        entries = [_clean(t.get_text()) for t in legend.get_texts() if t.get_text()]
        if entries:
            text += f". Legend: {_names(entries)}"
    return text


def _colorbar(ax) -> str:
    label = _clean(ax.get_ylabel() or ax.get_xlabel())
    low, high = ax.get_ylim() if ax.get_ylabel() or not ax.get_xlabel() else ax.get_xlim()
    return f'colour bar{f" {chr(34)}{label}{chr(34)}" if label else ""} from {low:.3g} to {high:.3g}'


@validate_params({"fig": [Figure]})
def describe(fig) -> str:
    """Say in words what ``fig`` shows: its title, its panels with their axes (label, range, scale), what they
    draw, their legends, and its colour bars; a grid of many small image panels is summed up with their titles.
    """
    colorbars = [ax for ax in fig.axes if getattr(ax, "_colorbar", None) is not None]
    panels = [ax for ax in fig.axes if ax not in colorbars and ax.get_visible()
              and (ax.has_data() or ax.get_title() or ax.axison)]
    suptitle = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""
    head = f'Figure "{_clean(suptitle)}"' if suptitle else "Figure"
    sentences = [f"{head} with {_count(len(panels), 'panel')}."]
    imagey = [ax for ax in panels if ax.get_images() and not ax.axison]
    if len(panels) >= GRID_PANELS and len(imagey) == len(panels):
        titles = [_clean(ax.get_title()) for ax in panels if ax.get_title()]
        sentences.append(f"A grid of {_count(len(panels), 'image')}"
                         + (f", titled {_names(titles)}." if titles else "."))
    elif len(panels) == 1:
        sentences.append(_panel(panels[0]) + ".")
    else:
        sentences += [f"Panel {i}: {_panel(ax)}." for i, ax in enumerate(panels, 1)]
    sentences += ["C" + _colorbar(ax)[1:] + "." for ax in colorbars]
    return " ".join(s.replace("..", ".") for s in sentences)

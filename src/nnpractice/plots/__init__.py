"""Figures the chapters share, one kind per file: training curves, decision boundaries, image grids,
conditions over seeds (and the figures of range tests, schedules, searches and federated runs).

Every function returns the matplotlib ``Figure`` it drew, with labelled axes.

>>> from nnpractice import plots
>>> from nnpractice.history import History
>>> h = History(); h.log({"train_loss": 1.0, "val_loss": 1.2}); h.log({"train_loss": 0.5, "val_loss": 0.9})
>>> fig = plots.curves(h)
>>> fig.axes[0].get_xlabel()
'epoch'
"""
from __future__ import annotations

import matplotlib
from cycler import cycler
from matplotlib.figure import Figure

from .boundary import decision_boundary, probability_grid
from .conditions import conditions
from .curves import curves
from .describe import describe
from .federated import federated_runs
from .images import image_grid
from .palettes import OKABE_ITO, SEQUENTIAL
from .schedules import lr_schedules, range_test
from .search import search_progress

__all__ = ["style", "describe", "OKABE_ITO", "SEQUENTIAL", "curves", "decision_boundary", "probability_grid", "image_grid", "conditions", "federated_runs",
           "range_test", "lr_schedules", "search_progress"]


def style() -> None:
    """Readable defaults for the book's figures, and a figure described in words wherever it is shown.

    Font sizes, grid and dpi; Okabe–Ito's colours as the colour cycle and viridis as the colormap (both
    readable by colour-blind readers); a white figure background, so a figure stays readable on the
    book's dark theme. In a notebook, a figure's text/plain becomes :func:`describe`'s description,
    which the book turns into the image's alt text.
    """
    matplotlib.rcParams.update({
        "figure.dpi": 100,
        "savefig.dpi": 100,
        "font.size": 13,
        "axes.titlesize": 14,
        "axes.labelsize": 13,
        "xtick.labelsize": 12,
        "ytick.labelsize": 12,
        "legend.fontsize": 11,
        "figure.titlesize": 15,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": cycler(color=list(OKABE_ITO)),
        "image.cmap": SEQUENTIAL,
        # white, never transparent: on the dark theme a transparent figure would put black text on black
        "figure.facecolor": "white",
        "axes.facecolor": "white",
        "savefig.facecolor": "white",
        "savefig.transparent": False,
    })
    _describe_figures_in_notebooks()


def _plain_text(fig, printer, cycle) -> None:
    """IPython's text/plain printer for a figure: its description (the repr if describing fails)."""
    try:
        text = describe(fig)
    except Exception:  # a figure we cannot describe must still display
        text = repr(fig)
    printer.text(text)


def _describe_figures_in_notebooks() -> None:
    """In IPython, show a figure's description as its text/plain (beside its PNG); elsewhere nothing."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        # Load the backend now: the inline backend, when it loads (at the first figure otherwise), removes every
        # printer registered for Figure (IPython's select_figure_formats), this one included.
        import matplotlib.pyplot as plt

        plt.switch_backend(matplotlib.get_backend())
        shell.display_formatter.formatters["text/plain"].for_type(Figure, _plain_text)

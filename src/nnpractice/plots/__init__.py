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

from .boundary import decision_boundary, probability_grid
from .conditions import conditions
from .curves import curves
from .federated import federated_runs
from .images import image_grid
from .schedules import lr_schedules, range_test
from .search import search_progress

__all__ = ["style", "curves", "decision_boundary", "probability_grid", "image_grid", "conditions", "federated_runs",
           "range_test", "lr_schedules", "search_progress"]


def style() -> None:
    """Readable defaults for the book's figures (font sizes, grid, dpi)."""
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
    })

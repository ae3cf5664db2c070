"""Searches compared on their budget: the best score found so far against the epochs spent.

>>> from nnpractice import plots, search
>>> space = search.SearchSpace(x=search.Uniform(-2.0, 2.0))
>>> runs = [search.random_search(space, lambda c, e: c["x"] ** 2, 20, max_epochs=2, seed=s) for s in (0, 1)]
>>> fig = plots.search_progress({"random": runs})
>>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
('training epochs spent', 'best score so far\\n(mean of 2 runs)')
"""
from __future__ import annotations

from numbers import Integral
from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np

from .._validation import InstanceOf, Interval, invalid, validate_params
from ..search.results import SearchResult, Trial

_LINESTYLES = ["-", "--", "-", ":", "-."]


def _runs_by_label(results) -> dict[str, list[SearchResult]]:
    if isinstance(results, SearchResult):
        return {results.method: [results]}
    runs = {}
    for label, value in results.items():
        value = [value] if isinstance(value, SearchResult) else value
        if not (isinstance(value, (list, tuple)) and value and all(isinstance(r, SearchResult) for r in value)):
            raise invalid(f"results[{label!r}]", value, "a SearchResult or a non-empty list of them (one per seed)")
        runs[str(label)] = list(value)
    if not runs:
        raise invalid("results", results, "at least one search")
    return runs


_RESULT = InstanceOf(SearchResult, "a search.SearchResult",
                     example=lambda: SearchResult("random", [Trial(0, {"lr": 0.1}, 1, 0.5, 0.0)], budget=1))


@validate_params({"results": [_RESULT, Mapping], "budget": [Interval(Integral, 1, None), None],
                  "score_name": [str], "log_scale": ["boolean"], "ax": [plt.Axes, None], "title": [str, None]})
def search_progress(results, *, budget: int | None = None, score_name: str = "score", log_scale: bool = True,
                    ax=None, title: str | None = None):
    """The best score so far (lower is better) against the training epochs spent, one line per method.

    ``results`` is one :class:`~nnpractice.search.SearchResult` or a mapping ``label →``
    result or list of results (one per seed). With several runs the line is their mean,
    drawn from the epoch at which every run has a finished trial. Scores are minimized by
    every search, so "best" is the lowest; ``budget`` (default: the largest budget) ends the axis.
    """
    runs = _runs_by_label(results)
    budget = budget if budget is not None else max(r.budget for rs in runs.values() for r in rs)
    created = ax is None
    if created:
        _, ax = plt.subplots(figsize=(9, 4.8))
    epochs = np.arange(1, budget + 1)
    for i, (label, rs) in enumerate(runs.items()):
        curves = np.array([[r.best_at(e) for e in epochs] for r in rs])
        found = np.isfinite(curves).all(axis=0)           # once every run has a finished trial
        shown = np.full(len(epochs), np.nan)
        shown[found] = curves[:, found].mean(axis=0)
        ax.step(epochs, shown, where="post", color=f"C{i % 10}", label=label, linewidth=2,
                linestyle=_LINESTYLES[i % len(_LINESTYLES)])
    counts = {len(rs) for rs in runs.values()}
    mean_of = f"\n(mean of {counts.pop()} runs)" if counts != {1} and len(counts) == 1 else (
        "\n(mean over runs)" if counts != {1} else "")
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel("training epochs spent")
    ax.set_ylabel(f"best {score_name} so far{mean_of}")
    if title:
        ax.set_title(title)
    ax.legend()
    if created:
        ax.figure.tight_layout()
    return ax.figure

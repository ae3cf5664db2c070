"""Learning rates: the LR range test's curve and schedules' rates over a run.

>>> from types import SimpleNamespace
>>> curve = SimpleNamespace(lrs=[1e-4, 1e-3, 1e-2, 1e-1], losses=[2.3, 2.0, 1.2, 4.0],
...                         smoothed=[2.3, 2.1, 1.7, 2.5], suggestion=1e-3, rule="minimum")
>>> range_test(curve).axes[0].get_xscale()
'log'
>>> lr_schedules({"constant": [0.1] * 6, "halved": [0.1] * 3 + [0.05] * 3}, num_epochs=3).axes[0].get_xlabel()
'epoch'
"""
from __future__ import annotations

import math
from numbers import Integral, Real
from types import SimpleNamespace
from typing import Mapping, Protocol, Sequence, runtime_checkable

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from .._validation import InstanceOf, Interval, Sequences, check, invalid, validate_params


@runtime_checkable
class _RangeCurve(Protocol):
    """What the figure reads from a ``schedules.RangeTestResult`` (plots cannot import schedules: it needs fit)."""

    lrs: Sequence[float]
    losses: Sequence[float]
    smoothed: Sequence[float]
    suggestion: float
    rule: str


def _example_curve():
    return SimpleNamespace(lrs=[1e-3, 1e-2, 1e-1], losses=[2.0, 1.5, 3.0], smoothed=[2.0, 1.8, 2.2],
                           suggestion=1e-3, rule="minimum")


@validate_params({"result": [InstanceOf(_RangeCurve, "a schedules.RangeTestResult (lrs, losses, smoothed, "
                                                     "suggestion, rule)", example=_example_curve)],
                  "ax": [None, Axes], "title": [str, None]})
def range_test(result, ax=None, *, title: str | None = "LR range test"):
    """Draw a range test (:func:`~nnpractice.schedules.lr_range_test`): loss against learning rate (log
    scale), raw and smoothed, with the suggested rate marked."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.8))
    ax.plot(result.lrs, result.losses, color="C0", alpha=0.3, label="batch loss")
    ax.plot(result.lrs, result.smoothed, color="C0", label="smoothed loss")
    ax.axvline(result.suggestion, color="C3", linestyle="--",
               label=f"suggested lr {result.suggestion:.2g} ({result.rule})")
    ax.set_xscale("log")
    finite = [v for v in result.smoothed if math.isfinite(v)]
    if finite:  # from the lowest smoothed loss to a little above the start: the blow-up would flatten the rest
        low, high = min(finite), finite[0]
        ax.set_ylim(low - 0.1 * (high - low + 1e-12), max(high, low) + 0.6 * (high - low + 1e-12))
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss")
    if title:
        ax.set_title(title)
    ax.legend()
    return ax.figure


@validate_params({"traces": [InstanceOf(Mapping, "a mapping name → per-batch learning rates",
                                         example=lambda: {"constant": [0.1, 0.1]})], "num_epochs": [Interval(Integral, 1, None)], "ax": [None, Axes],
                  "title": [str, None]})
def lr_schedules(traces: Mapping[str, Sequence[float]], *, num_epochs: int, ax=None, title: str | None = None):
    """Learning rate against epoch, one line per schedule: ``traces`` maps a name to the rate of every
    batch of a ``num_epochs`` run (:func:`~nnpractice.schedules.schedule_trace` gives them)."""
    if not traces:
        raise invalid("traces", traces, "at least one schedule")
    for label, lrs in traces.items():
        check(f"traces[{label!r}]", lrs, [Sequences(Interval(Real, 0, None))])
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.8))
    for label, lrs in traces.items():
        per_epoch = len(lrs) / num_epochs
        ax.plot([i / per_epoch for i in range(len(lrs))], lrs, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    ax.set_title(title or "Learning-rate schedules with the same budget")
    ax.legend(fontsize=9, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.figure.tight_layout()
    return ax.figure

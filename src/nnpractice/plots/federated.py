"""Federated runs round by round: test accuracy (round 0 is the initial model) and client drift.

>>> from types import SimpleNamespace
>>> run = SimpleNamespace(accuracy=[0.1, 0.6, 0.8], drift=[0.5, 0.4])   # what a FedHistory holds
>>> fig = federated_runs({"IID": run}, panels=("accuracy", "drift"))
>>> [ax.get_ylabel() for ax in fig.axes]
['test accuracy', 'client drift (L2 distance)']
"""
from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real
from typing import Protocol, Sequence, runtime_checkable

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .._validation import InstanceOf, Interval, Options, Sequences, invalid, validate_params


@runtime_checkable
class _Rounds(Protocol):
    """What the figure reads from a :class:`~nnpractice.federated.FedHistory` (plots must not import it)."""

    accuracy: list  # index 0: the initial model; index r: after round r
    drift: list     # index r - 1: round r


def _example_run():
    from types import SimpleNamespace

    return SimpleNamespace(accuracy=[0.1, 0.5], drift=[0.3])


RUN = InstanceOf(_Rounds, "a FedHistory (anything with .accuracy and .drift lists)", example=_example_run)
RUNS = InstanceOf(Mapping, "a mapping label -> FedHistory", example=lambda: {"run": _example_run()})
PANELS = {"accuracy": "test accuracy", "drift": "client drift (L2 distance)"}


@validate_params({"runs": [RUN, RUNS], "panels": [Sequences(Options(*PANELS))],
                  "central": [Sequences(Interval(Real, 0, 1)), None], "rounds": [Interval(Integral, 1, None), None],
                  "figure": [Figure, None], "title": [str, None]})
def federated_runs(runs, *, panels: Sequence[str] = ("accuracy",), central: Sequence[float] | None = None,
                   rounds: int | None = None, figure=None, title: str | None = None):
    """One panel per quantity in ``panels``, one line per run, against the round.

    ``runs`` is a :class:`~nnpractice.federated.FedHistory` or a mapping ``label → FedHistory``.
    ``central`` adds a dashed black curve of centralized training's accuracy per epoch (epoch
    r beside round r) to the accuracy panel; ``rounds`` shows the first rounds only.
    """
    runs = dict(runs) if isinstance(runs, Mapping) else {"": runs}
    if not runs:
        raise invalid("runs", runs, "at least one run")
    for label, run in runs.items():
        if not isinstance(run, _Rounds):
            raise invalid(f"runs[{label!r}]", run, str(RUN))
    last = rounds if rounds is not None else max(max(len(r.accuracy) - 1, len(r.drift)) for r in runs.values())
    fig = figure if figure is not None else plt.figure(figsize=(6 * len(panels), 4))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, panel in zip(axes, panels):
        if panel == "accuracy" and central is not None:
            ax.plot(list(central)[:last + 1], "k--", label="centralized (epochs)")
        for label, run in runs.items():
            # accuracy starts at round 0 (the initial model), drift at round 1 (the first average)
            values = run.accuracy[:last + 1] if panel == "accuracy" else run.drift[:last]
            first = 0 if panel == "accuracy" else 1
            ax.plot(range(first, first + len(values)), values, marker="o", markersize=3, label=label or None)
        ax.set_xlabel("round (centralized: epoch)" if panel == "accuracy" and central is not None else "round")
        ax.set_ylabel(PANELS[panel])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # rounds are whole numbers
        if panel == "accuracy":
            ax.set_ylim(0, 1)
        if any(line.get_label() and not line.get_label().startswith("_") for line in ax.lines):
            ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig

"""Training curves: train (solid) and validation (dashed), one panel per metric."""
from __future__ import annotations

from numbers import Real
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .._validation import Interval, Sequences, check_nonempty, validate_params
from ..history import History


@validate_params({"histories": [History, Mapping, Sequences(History)], "metrics": [Sequences(str)],
                  "labels": [Sequences(str), None], "figure": [Figure, None],
                  "xlim": [Sequences(Interval(Real, None, None)), None], "title": [str, None]})
def curves(histories, *, metrics: Sequence[str] = ("loss", "accuracy"), labels: Sequence[str] | None = None,
           figure=None, xlim=None, title: str | None = None):
    """Train (solid) and validation (dashed) curves, one panel per metric.

    ``histories`` is one :class:`~nnpractice.training.History` or a mapping
    ``label → History`` / list of them (then ``labels`` names them).
    """
    if isinstance(histories, History):
        runs = {"": histories}
    elif isinstance(histories, Mapping):
        runs = dict(histories)
    else:
        histories = list(histories)
        labels = list(labels) if labels is not None else [f"run {i + 1}" for i in range(len(histories))]
        runs = dict(zip(labels, histories))
    check_nonempty("histories", runs)
    shown = [m for m in metrics if any(f"train_{m}" in h or f"val_{m}" in h for h in runs.values())]
    if not shown:
        shown = ["loss"]
    fig = figure if figure is not None else plt.figure(figsize=(4.5 * len(shown), 3.4))
    axes = fig.subplots(1, len(shown), squeeze=False)[0]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, metric in zip(axes, shown):
        for i, (label, h) in enumerate(runs.items()):
            color = colors[i % len(colors)]
            for split, linestyle in (("train", "-"), ("val", "--")):
                key = f"{split}_{metric}"
                if key in h and h[key]:
                    split_name = "train" if split == "train" else "validation"
                    name = f"{label} {split_name}" if label else split_name
                    ax.plot(range(1, len(h[key]) + 1), h[key], linestyle, color=color, label=name, marker="o" if len(h[key]) < 15 else None, markersize=3)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric.replace("_", " "))
        if xlim is not None:
            ax.set_xlim(*xlim)
        if ax.lines:
            ax.legend()
        else:  # e.g. a run that diverged in its first epoch: say so instead of an empty frame
            statuses = "; ".join(f"{label + ': ' if label else ''}{h.status}" for label, h in runs.items())
            ax.text(0.5, 0.5, f"no finished epoch\n({statuses})", ha="center", va="center", transform=ax.transAxes)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig

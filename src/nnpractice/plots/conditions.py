"""Conditions over seeds: each seed a dot, the mean ± sd a bar."""
from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from .._validation import InstanceOf, Sequences, check_nonempty, invalid, validate_params
from ..experiments import Repeated, repeat  # a leaf module: plots may import it


def _example_result() -> Repeated:
    return repeat(lambda seed: {"accuracy": 0.5 + seed / 10}, [0, 1], name="example")


@validate_params({"results": [Sequences(InstanceOf(Repeated, "experiments.repeat result", example=_example_result)),
                              Repeated, Mapping],
                  "metric": [str], "ax": [Axes, None], "title": [str, None]})
def conditions(results, metric: str, *, ax=None, title: str | None = None):
    """Several conditions side by side: each seed's value as a dot, the mean ± sd as an error bar.

    ``results`` is a list of :func:`~nnpractice.experiments.repeat` results (named by their
    ``name``) or a mapping ``label → result``. With one seed a condition has no sd: its bar is the mean alone.
    """
    if isinstance(results, Repeated):
        results = [results]
    if isinstance(results, Mapping):
        runs = dict(results)
    else:
        results = list(results)
        runs = {getattr(r, "name", None) or f"condition {i + 1}": r for i, r in enumerate(results)}
        # two results with one name would silently draw as one condition
        if len(runs) != len(results):
            names = [getattr(r, "name", None) for r in results]
            raise invalid("results", results, "results with distinct names (or a dict label -> result)",
                          f"the names are {names}")
    check_nonempty("results", runs)
    for label, result in runs.items():
        if not isinstance(result, Repeated):
            raise invalid(f"results[{label!r}]", result, "the result of experiments.repeat")
        if metric not in result:
            raise invalid("metric", metric, f"a metric every result has ({label!r} has only {result.metrics})")
    created = ax is None
    if created:
        _, ax = plt.subplots(figsize=(max(3.5, 1.4 * len(runs) + 1.5), 3.6))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, result in enumerate(runs.values()):
        summary = result[metric]
        color = colors[i % len(colors)]
        # the seeds spread a little sideways so that equal values stay visible as separate dots
        offsets = np.linspace(-0.12, 0.12, summary.n) if summary.n > 1 else np.zeros(1)
        ax.scatter(i + 0.2 + offsets, summary.values, color=color, alpha=0.6, s=18, zorder=2)
        spread = summary.sd if summary.n > 1 else 0.0
        ax.errorbar([i], [summary.mean], yerr=[spread], fmt="o", color=color, capsize=6, markersize=7,
                    elinewidth=2, zorder=3)
    ax.set_xticks(range(len(runs)), [str(label) for label in runs])
    ax.set_xlim(-0.6, len(runs) - 0.4)
    ax.set_xlabel("condition")
    ax.set_ylabel(f"{metric.replace('_', ' ')} (mean ± sd)")
    if title:
        ax.set_title(title)
    if created:
        ax.figure.tight_layout()
    return ax.figure

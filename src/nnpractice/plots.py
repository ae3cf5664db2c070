"""Figures the chapters share: training curves, decision boundaries, image grids, conditions over seeds.

Every function returns the matplotlib ``Figure`` it drew, with labelled axes.

>>> from nnpractice import plots
>>> from nnpractice.history import History
>>> h = History(); h.log({"train_loss": 1.0, "val_loss": 1.2}); h.log({"train_loss": 0.5, "val_loss": 0.9})
>>> fig = plots.curves(h)
>>> fig.axes[0].get_xlabel()
'epoch'
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch

from ._validation import check_nonempty
from .history import History


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


@torch.no_grad()
def decision_boundary(model, X, y, *, resolution: int = 200, ax=None, title: str | None = None,
                      colorbar: bool = True):
    """Heat map of the model's class-1 probability over the plane, with the points on top.

    In a row of panels, pass ``colorbar=False`` for all but the last to leave the panels room.
    """
    X = X.detach().cpu().numpy()
    y = y.detach().cpu().numpy()
    pad = 0.25
    (x0, y0), (x1, y1) = X.min(0) - pad, X.max(0) + pad
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = torch.tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = model(grid.to(device)).cpu()
    model.train(was_training)
    prob = torch.softmax(out, 1)[:, 1] if out.shape[1] > 1 else torch.sigmoid(out[:, 0])
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 4))
    image = ax.contourf(gx, gy, prob.reshape(gx.shape).numpy(), levels=np.linspace(0, 1, 21), cmap="RdBu_r", vmin=0, vmax=1, alpha=0.8)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=14, linewidths=0.5)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label="P(class 1)")
    if title:
        ax.set_title(title)
    return ax.figure


def image_grid(images, labels=None, *, class_names=None, num_columns: int = 8, title: str | None = None,
               cmap: str = "gray"):
    """A grid of images (``[N, H, W]``, ``[N, 1, H, W]`` or ``[N, 3, H, W]``), captioned by label."""
    images = torch.as_tensor(images).detach().cpu()
    check_nonempty("images", images)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    elif images.ndim == 4:
        images = images.permute(0, 2, 3, 1)
    n = len(images)
    num_rows = -(-n // num_columns)
    fig, axes = plt.subplots(num_rows, num_columns, figsize=(1.3 * num_columns, 1.5 * num_rows), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i].numpy(), cmap=cmap)
            if labels is not None:
                label = int(labels[i])
                ax.set_title(class_names[label] if class_names else str(label), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def conditions(results, metric: str, *, ax=None, title: str | None = None):
    """Several conditions side by side: each seed's value as a dot, the mean ± sd as an error bar.

    ``results`` is a list of :func:`~nnpractice.experiments.repeat` results (named by their
    ``name``) or a mapping ``label → result``. With one seed a condition has no sd: its bar is the mean alone.
    """
    from .experiments import Repeated  # imported here: experiments is a leaf, plots must not need it to load

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
            raise ValueError(f"results named {names} is not allowed: expected distinct names (or pass a dict label → result).")
    check_nonempty("results", runs)
    for label, result in runs.items():
        if not isinstance(result, Repeated):
            raise TypeError(f"results[{label!r}]={result!r} is not allowed: expected the result of experiments.repeat.")
        if metric not in result:
            raise ValueError(f"metric={metric!r} is not allowed: {label!r} has only {result.metrics}.")
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

"""Decision boundaries of 2-D classifiers: the probability grid (shared with the playground) and its figure."""
from __future__ import annotations

from numbers import Integral, Real

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from torch import nn

from .._validation import Interval, Sequences, invalid, validate_params


def _check_plane(X) -> None:
    if X.ndim != 2 or X.shape[1] != 2:
        raise invalid("X", X, "points of the plane, a tensor of shape (N, 2)")


@torch.no_grad()
@validate_params({"model": [nn.Module], "X": [torch.Tensor], "resolution": [Interval(Integral, 2, None)],
                  "pad": [Interval(Real, 0, None)], "bounds": [Sequences(Interval(Real, None, None)), None]})
def probability_grid(model, X, *, resolution: int = 200, pad: float = 0.25, bounds=None):
    """``(gx, gy, prob)``: the model's class-1 probability on a ``resolution``² grid over ``X``'s range.

    ``bounds`` = ``(x0, x1, y0, y1)`` fixes the window instead (the playground keeps it still
    while the data change). The model is evaluated in eval mode, in one batch.
    """
    _check_plane(X)
    if bounds is not None and (len(bounds) != 4 or bounds[0] >= bounds[1] or bounds[2] >= bounds[3]):
        raise invalid("bounds", bounds, "(x0, x1, y0, y1) with x0 < x1 and y0 < y1")
    if bounds is None:
        points = X.detach().cpu().numpy()
        (x0, y0), (x1, y1) = points.min(0) - pad, points.max(0) + pad
    else:
        x0, x1, y0, y1 = bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = torch.tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = model(grid.to(device)).cpu()
    model.train(was_training)
    prob = torch.softmax(out, 1)[:, 1] if out.shape[1] > 1 else torch.sigmoid(out[:, 0])
    return gx, gy, prob.reshape(gx.shape).numpy()


@torch.no_grad()
@validate_params({"model": [nn.Module], "X": [torch.Tensor], "y": [torch.Tensor],
                  "resolution": [Interval(Integral, 2, None)], "ax": [Axes, None], "title": [str, None],
                  "colorbar": ["boolean"]})
def decision_boundary(model, X, y, *, resolution: int = 200, ax=None, title: str | None = None,
                      colorbar: bool = True):
    """Heat map of the model's class-1 probability over the plane, with the points on top.

    In a row of panels, pass ``colorbar=False`` for all but the last to leave the panels room.
    """
    if len(X) != len(y):
        raise invalid("y", y, f"one label per point of X ({len(X)})")
    gx, gy, prob = probability_grid(model, X, resolution=resolution)
    X = X.detach().cpu().numpy()
    y = y.detach().cpu().numpy()
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 4))
    image = ax.contourf(gx, gy, prob, levels=np.linspace(0, 1, 21), cmap="RdBu_r", vmin=0, vmax=1, alpha=0.8)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=14, linewidths=0.5)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label="P(class 1)")
    if title:
        ax.set_title(title)
    return ax.figure

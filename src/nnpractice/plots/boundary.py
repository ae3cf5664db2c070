"""Decision boundaries of 2-D classifiers: the probability grid (shared with the playground) and its figure."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch


@torch.no_grad()
def probability_grid(model, X, *, resolution: int = 200, pad: float = 0.25, bounds=None):
    """``(gx, gy, prob)``: the model's class-1 probability on a ``resolution``² grid over ``X``'s range.

    ``bounds`` = ``(x0, x1, y0, y1)`` fixes the window instead (the playground keeps it still
    while the data change). The model is evaluated in eval mode, in one batch.
    """
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
def decision_boundary(model, X, y, *, resolution: int = 200, ax=None, title: str | None = None,
                      colorbar: bool = True):
    """Heat map of the model's class-1 probability over the plane, with the points on top.

    In a row of panels, pass ``colorbar=False`` for all but the last to leave the panels room.
    """
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

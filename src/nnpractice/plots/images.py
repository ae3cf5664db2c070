"""A grid of images captioned by their labels."""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from .._validation import check_nonempty


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

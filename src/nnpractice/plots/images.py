"""A grid of images captioned by their labels."""
from __future__ import annotations

from numbers import Integral

import matplotlib.pyplot as plt
import torch

from .._validation import Interval, Sequences, check_nonempty, invalid, validate_params


@validate_params({"images": [torch.Tensor], "labels": [torch.Tensor, Sequences(Integral), None],
                  "class_names": [Sequences(str), None], "num_columns": [Interval(Integral, 1, None)],
                  "title": [str, None], "cmap": [str]})
def image_grid(images, labels=None, *, class_names=None, num_columns: int = 8, title: str | None = None,
               cmap: str = "gray"):
    """A grid of images (``[N, H, W]``, ``[N, 1, H, W]`` or ``[N, 3, H, W]``), captioned by label."""
    images = images.detach().cpu()
    check_nonempty("images", images)
    if not (images.ndim == 3 or (images.ndim == 4 and images.shape[1] in (1, 3))):
        raise invalid("images", images, "a tensor [N, H, W], [N, 1, H, W] or [N, 3, H, W]")
    if labels is not None and len(labels) != len(images):
        raise invalid("labels", labels, f"one label per image ({len(images)})")
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

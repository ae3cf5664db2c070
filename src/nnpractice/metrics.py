"""Accuracy, once: a count for the training loop and a fraction for a model on data.

``correct_count`` returns a *sum* over the batch as a tensor (``fit`` adds the sums of
an epoch and divides once, with one host sync). Soft targets (mixup, label smoothing)
count their argmax, so the same metric serves every chapter.

>>> import torch
>>> correct_count(torch.tensor([[2.0, 1.0], [0.0, 3.0]]), torch.tensor([0, 0]))
tensor(1)
"""
from __future__ import annotations

import torch

from ._validation import validate_params


@validate_params({"output": [torch.Tensor], "target": [torch.Tensor]})
def correct_count(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """How many predictions are right: argmax for several outputs, ``> 0`` for one logit.

    A float target of shape [N, K] (class probabilities) counts its most probable class.
    """
    if target.is_floating_point() and target.ndim == 2 and target.shape[1] > 1:
        target = target.argmax(1)
    if output.ndim == 2 and output.shape[1] > 1:
        return (output.argmax(dim=1) == target).sum()
    return ((output.reshape(-1) > 0).long() == target.reshape(-1).long()).sum()


@validate_params({"target": [torch.Tensor]})
def default_metrics(target: torch.Tensor) -> dict:
    """``{"accuracy": correct_count}`` for class labels, none for float targets.

    Float targets may be class probabilities or images (an autoencoder's): with soft labels,
    pass ``metrics={"accuracy": correct_count}`` yourself.
    """
    return {"accuracy": correct_count} if not target.is_floating_point() else {}

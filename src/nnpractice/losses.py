"""Soft targets and the loss that takes them: label smoothing, once.

:func:`smooth_targets` turns labels into ``(1 − ε)·onehot + ε/K`` (Szegedy et al., 2016),
the targets ``F.cross_entropy(label_smoothing=ε)`` uses internally; :func:`soft_cross_entropy`
is the cross-entropy for class labels ``[N]`` or class probabilities ``[N, K]`` (label-smoothed,
mixup or cutmix targets).

>>> import torch
>>> smooth_targets(torch.tensor([0, 2]), 3, 0.3)
tensor([[0.8000, 0.1000, 0.1000],
        [0.1000, 0.1000, 0.8000]])
>>> logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
>>> bool(torch.isclose(soft_cross_entropy(logits, smooth_targets(torch.tensor([0, 2]), 3, 0.3)),
...                    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 2]), label_smoothing=0.3)))
True
"""
from __future__ import annotations

from numbers import Integral, Real

import torch
import torch.nn.functional as F

from ._validation import InstanceOf, Interval, invalid, validate_params

__all__ = ["smooth_targets", "soft_cross_entropy", "as_probabilities"]

_LABELS = InstanceOf(torch.Tensor, "a tensor of class labels [N] or class probabilities [N, K]",
                     example=lambda: torch.tensor([0, 1, 0]))


@validate_params({"targets": [_LABELS], "num_classes": [Interval(Integral, 1, None)],
                  "dtype": [InstanceOf(torch.dtype, "a floating-point torch.dtype")], "name": [str]})
def as_probabilities(targets: torch.Tensor, num_classes: int, dtype=torch.float32, name: str = "targets"):
    """Integer labels ``[N]`` as one-hot rows, or probabilities ``[N, K]`` as they are, in ``dtype``.

    The one check of class targets (``nnpractice.augment`` mixes them too); errors name ``name``.

    >>> as_probabilities(torch.tensor([1, 0]), 2)
    tensor([[0., 1.],
            [1., 0.]])
    """
    if not dtype.is_floating_point:
        raise invalid("dtype", dtype, "a floating-point torch.dtype")
    allowed = f"integer labels [N] or probabilities [N, {num_classes}]"
    if targets.is_floating_point():
        if targets.ndim != 2 or targets.shape[1] != num_classes:
            raise invalid(name, targets, allowed, f"a float tensor of shape {tuple(targets.shape)}")
        return targets.to(dtype)
    if targets.ndim != 1 or targets.dtype == torch.bool:
        raise invalid(name, targets, allowed, f"a {targets.dtype} tensor of shape {tuple(targets.shape)}")
    if len(targets) and (int(targets.min()) < 0 or int(targets.max()) >= num_classes):
        raise invalid(name, targets, f"class indices in [0, {num_classes - 1}] for num_classes={num_classes}",
                      f"{name} holds labels outside 0..{num_classes - 1}: "
                      f"from {int(targets.min())} to {int(targets.max())}")
    return F.one_hot(targets, num_classes).to(dtype)


@validate_params({"targets": [_LABELS], "num_classes": [Interval(Integral, 1, None)],
                  "smoothing": [Interval(Real, 0.0, 1.0)]})
def smooth_targets(targets: torch.Tensor, num_classes: int, smoothing: float = 0.1) -> torch.Tensor:
    """Soft targets ``(1 − ε)·onehot + ε/K``: what ``F.cross_entropy(label_smoothing=ε)`` uses.

    Every class gets ``ε/K``; the gold class gets ``1 − ε + ε/K``. Rows sum to one.
    ``targets`` may already be probabilities ``[N, K]`` (mixed targets): they are smoothed the same way.
    """
    return (1 - smoothing) * as_probabilities(targets, num_classes) + smoothing / num_classes


@validate_params({"logits": [InstanceOf(torch.Tensor, "a tensor of logits [N, K]", example=lambda: torch.zeros(3, 2))],
                  "target": [_LABELS]})
def soft_cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy for class labels ``[N]`` or class probabilities ``[N, K]``.

    With probabilities it is ``-Σ_k t_k log softmax(z)_k``, averaged over the batch: the loss
    for :func:`smooth_targets` and for mixup and cutmix targets (``nnpractice.augment``).
    """
    if logits.ndim < 2:
        raise invalid("logits", logits, "logits [N, K] (one row of class scores per sample)",
                      f"logits has shape {tuple(logits.shape)}")
    if not target.is_floating_point():
        return F.cross_entropy(logits, target)
    if target.shape != logits.shape:
        raise invalid("target", target, f"labels [N] or probabilities of the logits' shape {tuple(logits.shape)}",
                      f"shape {tuple(target.shape)}")
    return -(target * F.log_softmax(logits, dim=1)).sum(1).mean()

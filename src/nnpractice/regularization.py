"""Weight penalties, the proximal L1 step, Monte-Carlo dropout and calibration.

Chapters 05 and 06 build each of these by hand first; this module is the version
the rest of the book uses. Label smoothing lives in :mod:`nnpractice.losses` and the
``Checkpoint`` callback in :mod:`nnpractice.callbacks` (both re-exported here, where
chapters 05 and 06 meet them); checkpoint files are written by :mod:`nnpractice.checkpoints`.

>>> import torch
>>> from nnpractice import models, regularization, training
>>> net = models.mlp(4, [8], 3)
>>> loss_fn = regularization.with_penalty(torch.nn.functional.cross_entropy, net, l2=1e-3)
>>> X, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
>>> history = training.fit(net, (X, y), num_epochs=2, loss_fn=loss_fn, verbose=False)
>>> history.num_epochs
2
>>> regularization.soft_threshold(torch.tensor([-2.0, 0.5, 3.0]), 1.0)
tensor([-1.,  0.,  2.])
"""
from __future__ import annotations

from numbers import Integral, Real
from typing import Callable, Iterator

import torch
from torch import nn

from ._validation import InstanceOf, Interval, invalid, validate_params
from .callbacks import Callback, Checkpoint  # Checkpoint re-exported: chapter 05 meets it here
from .losses import smooth_targets  # re-exported so chapters keep working: label smoothing lives in losses

__all__ = [
    "penalized_parameters", "l2_penalty", "l1_penalty", "with_penalty", "soft_threshold",
    "ProximalL1", "sparsity", "Checkpoint", "mc_dropout_predict", "smooth_targets",
    "mean_max_probability", "expected_calibration_error",
]

_NON_NEGATIVE = Interval(Real, 0, None)
_POSITIVE = Interval(Real, 0, None, closed="neither")


# --------------------------------------------------------------------------- #
# Penalties
# --------------------------------------------------------------------------- #


@validate_params({"model": [nn.Module], "include_bias": ["boolean"]})
def penalized_parameters(model: nn.Module, *, include_bias: bool = False) -> Iterator[torch.Tensor]:
    """The parameters a weight penalty acts on: weight matrices and kernels (``ndim > 1``).

    Biases and the scale/shift of normalization layers are one-dimensional and are
    left out unless ``include_bias``: penalizing them rarely helps and can hurt
    (a bias does not make the model more flexible).
    """
    return (p for p in model.parameters() if p.requires_grad and (include_bias or p.ndim > 1))


@validate_params({"model": [nn.Module], "include_bias": ["boolean"]})
def l2_penalty(model: nn.Module, *, include_bias: bool = False) -> torch.Tensor:
    """The sum of squared weights, ``Σ θ²`` (multiply by λ yourself)."""
    params = list(penalized_parameters(model, include_bias=include_bias))
    if not params:
        return torch.zeros(())
    return sum((p * p).sum() for p in params)


@validate_params({"model": [nn.Module], "include_bias": ["boolean"]})
def l1_penalty(model: nn.Module, *, include_bias: bool = False) -> torch.Tensor:
    """The sum of absolute weights, ``Σ |θ|`` (multiply by λ yourself)."""
    params = list(penalized_parameters(model, include_bias=include_bias))
    if not params:
        return torch.zeros(())
    return sum(p.abs().sum() for p in params)


@validate_params({"loss_fn": [callable], "model": [nn.Module], "l1": [_NON_NEGATIVE], "l2": [_NON_NEGATIVE],
                  "include_bias": ["boolean"]})
def with_penalty(loss_fn: Callable, model: nn.Module, *, l1: float = 0.0, l2: float = 0.0,
                 include_bias: bool = False) -> Callable:
    """Wrap ``loss_fn`` so it returns ``loss + l1·Σ|θ| + l2·Σθ²``, for :func:`~nnpractice.training.fit`.

    With plain SGD, ``l2=λ`` is the same as ``SGD(..., weight_decay=2λ)``; with Adam it
    is *not* weight decay (see ``torch.optim.AdamW``). The L1 term here is a subgradient
    penalty: it pushes weights towards zero but rarely makes them exactly zero; use
    :class:`ProximalL1` for exact zeros.
    """

    def penalized(output, target):
        loss = loss_fn(output, target)
        if l1:
            loss = loss + l1 * l1_penalty(model, include_bias=include_bias)
        if l2:
            loss = loss + l2 * l2_penalty(model, include_bias=include_bias)
        return loss

    return penalized


@validate_params({"x": [torch.Tensor], "threshold": [_NON_NEGATIVE]})
def soft_threshold(x: torch.Tensor, threshold: float) -> torch.Tensor:
    """The proximal operator of ``threshold·|x|``: ``sign(x)·max(|x| − threshold, 0)``.

    Values within ``threshold`` of zero become exactly zero; the others move
    ``threshold`` towards zero.
    """
    return torch.sign(x) * torch.clamp(x.abs() - threshold, min=0.0)


class ProximalL1(Callback):
    """After every optimizer step, soft-threshold the weights by ``lr · strength``.

    This is proximal gradient descent on ``loss + strength·Σ|θ|``: the loss takes its
    gradient step, then every weight within ``lr·strength`` of zero is set to exactly
    zero and the others move that far towards zero. The learning rate is read from
    the optimizer's first parameter group at each step, so schedules are followed.
    """

    @validate_params({"strength": [_POSITIVE], "include_bias": ["boolean"]})
    def __init__(self, strength: float, *, include_bias: bool = False):
        self.strength = strength
        self.include_bias = include_bias

    @validate_params({"model": [nn.Module], "lr": [_POSITIVE]})
    @torch.no_grad()
    def apply(self, model: nn.Module, lr: float) -> None:
        """One proximal step with step size ``lr`` on ``model``'s penalized weights."""
        for p in penalized_parameters(model, include_bias=self.include_bias):
            p.copy_(soft_threshold(p, lr * self.strength))

    def on_batch_end(self, trainer, batch_index, loss):
        self.apply(trainer.model, trainer.optimizer.param_groups[0]["lr"])


@validate_params({"model": [nn.Module], "include_bias": ["boolean"]})
@torch.no_grad()
def sparsity(model: nn.Module, *, include_bias: bool = False) -> float:
    """The fraction of penalized weights that are exactly zero."""
    params = list(penalized_parameters(model, include_bias=include_bias))
    if not params:
        raise invalid("model", model, "a model with at least one weight (a parameter with ndim > 1)",
                      "it has no weights to measure")
    zeros = sum(int((p == 0).sum()) for p in params)
    return zeros / sum(p.numel() for p in params)


# --------------------------------------------------------------------------- #
# Checkpoints
# --------------------------------------------------------------------------- #


# --------------------------------------------------------------------------- #
# Monte-Carlo dropout
# --------------------------------------------------------------------------- #

_DROPOUT_TYPES = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)


@validate_params({"model": [nn.Module], "X": [torch.Tensor], "num_samples": [Interval(Integral, 1, None)],
                  "batch_size": [Interval(Integral, 1, None)], "seed": [Interval(Integral, 0, None), None]})
@torch.no_grad()
def mc_dropout_predict(model: nn.Module, X: torch.Tensor, *, num_samples: int = 50,
                       batch_size: int = 1024, seed: int | None = 0):
    """Average the softmax of ``num_samples`` stochastic passes with dropout left on.

    Only the dropout layers are switched to training mode; batch norm and the rest
    stay in evaluation mode. Returns ``(mean, std)`` of the class probabilities,
    both ``[N, K]``. The model's modes are restored afterwards.

    With a ``seed``, the dropout masks come from PyTorch's generator seeded with it inside
    ``torch.random.fork_rng``: the caller's random state is left as it was (``nn.Dropout``
    takes no generator of its own). ``seed=None`` draws from the caller's generator.
    """
    if X.ndim == 0 or len(X) == 0:
        raise invalid("X", X, "a tensor with at least one row")
    dropouts = [m for m in model.modules() if isinstance(m, _DROPOUT_TYPES)]
    if not dropouts:
        raise invalid("model", model, "a model with at least one dropout layer (nn.Dropout, ...)",
                      "it has no dropout layer, so every pass would give the same output")
    modes = {m: m.training for m in model.modules()}
    dev = next(model.parameters()).device
    X = X.to(dev)
    cuda_devices = list(range(torch.cuda.device_count())) if dev.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices, enabled=seed is not None):
        if seed is not None:
            torch.manual_seed(seed)
        try:
            model.eval()
            for m in dropouts:
                m.train()
            total = total_sq = None
            for _ in range(num_samples):
                probs = torch.cat([torch.softmax(model(X[i:i + batch_size]), dim=1)
                                   for i in range(0, len(X), batch_size)])
                total = probs if total is None else total + probs
                total_sq = probs * probs if total_sq is None else total_sq + probs * probs
        finally:
            for m, mode in modes.items():
                m.train(mode)
    mean = total / num_samples
    std = (total_sq / num_samples - mean * mean).clamp(min=0.0).sqrt()
    return mean, std


# --------------------------------------------------------------------------- #
# Calibration
# --------------------------------------------------------------------------- #

_PROBS = InstanceOf(torch.Tensor, "a float tensor [N, K] of class probabilities",
                    example=lambda: torch.tensor([[0.9, 0.1], [0.2, 0.8]]))


def _check_probabilities(probs: torch.Tensor) -> None:
    allowed = "a float tensor [N, K] of class probabilities (N >= 1, rows >= 0 that sum to 1: a softmax)"
    if probs.ndim != 2 or not probs.is_floating_point() or len(probs) == 0:
        raise invalid("probs", probs, allowed, f"a {probs.dtype} tensor of shape {tuple(probs.shape)}")
    if bool((probs < 0).any()) or float((probs.sum(dim=1) - 1).abs().max()) > 1e-3:
        raise invalid("probs", probs, allowed, "it is not a probability table (apply torch.softmax to logits)")


def _check_targets(targets: torch.Tensor, probs: torch.Tensor) -> None:
    num_classes = probs.shape[1]
    allowed = f"one class index in [0, {num_classes - 1}] per row of probs ({len(probs)} samples)"
    if targets.is_floating_point() or targets.dtype == torch.bool or targets.ndim != 1:
        raise invalid("targets", targets, allowed, f"a {targets.dtype} tensor of shape {tuple(targets.shape)}")
    if len(targets) != len(probs):
        raise invalid("targets", targets, allowed, f"{len(targets)} samples")
    if int(targets.min()) < 0 or int(targets.max()) >= num_classes:
        raise invalid("targets", targets, allowed, f"classes from {int(targets.min())} to {int(targets.max())}")


@validate_params({"probs": [_PROBS]})
def mean_max_probability(probs: torch.Tensor) -> float:
    """The average confidence: the mean over examples of the largest class probability."""
    _check_probabilities(probs)
    return float(probs.max(dim=1).values.mean())


@validate_params({"probs": [_PROBS],
                  "targets": [InstanceOf(torch.Tensor, "a tensor of class indices [N]",
                                         example=lambda: torch.tensor([0, 1]))],
                  "num_bins": [Interval(Integral, 1, None)]})
def expected_calibration_error(probs: torch.Tensor, targets: torch.Tensor, *, num_bins: int = 15) -> float:
    """Expected calibration error: ``Σ_b (n_b / N) · |accuracy_b − confidence_b|``.

    Examples are put into ``num_bins`` equal-width bins by their confidence (the
    largest probability); each bin compares its accuracy with its mean confidence
    (Guo et al., 2017). 0 is perfectly calibrated.
    """
    _check_probabilities(probs)
    _check_targets(targets, probs)
    confidence, predicted = probs.max(dim=1)
    correct = (predicted == targets.to(predicted.device)).float()
    bins = torch.clamp((confidence * num_bins).long(), max=num_bins - 1)
    error = torch.zeros((), dtype=torch.float64)
    for b in range(num_bins):
        in_bin = bins == b
        count = int(in_bin.sum())
        if count:
            gap = correct[in_bin].mean() - confidence[in_bin].mean()
            error += count / len(probs) * gap.abs().double().cpu()
    return float(error)

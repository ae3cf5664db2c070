"""Weight penalties, the proximal L1 step, checkpoints, Monte-Carlo dropout and calibration.

Chapters 05 and 06 build each of these by hand first; this module is the version
the rest of the book uses.

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

import math
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import torch
from torch import nn

from ._validation import check_choice, check_nonempty, check_positive, check_range, check_same_length
from .training import Callback

__all__ = [
    "penalized_parameters", "l2_penalty", "l1_penalty", "with_penalty", "soft_threshold",
    "ProximalL1", "sparsity", "Checkpoint", "mc_dropout_predict", "smooth_targets",
    "mean_max_probability", "expected_calibration_error",
]


# --------------------------------------------------------------------------- #
# Penalties
# --------------------------------------------------------------------------- #


def _check_model(model) -> None:
    if not isinstance(model, nn.Module):
        raise ValueError(f"model is a {type(model).__name__}: expected a torch.nn.Module.")


def _check_nonnegative(name: str, value) -> float:
    return check_range(name, value, 0.0, math.inf, high_inclusive=False)


def penalized_parameters(model: nn.Module, *, include_bias: bool = False) -> Iterator[torch.Tensor]:
    """The parameters a weight penalty acts on: weight matrices and kernels (``ndim > 1``).

    Biases and the scale/shift of normalization layers are one-dimensional and are
    left out unless ``include_bias``: penalizing them rarely helps and can hurt
    (a bias does not make the model more flexible).
    """
    _check_model(model)
    for p in model.parameters():
        if p.requires_grad and (include_bias or p.ndim > 1):
            yield p


def l2_penalty(model: nn.Module, *, include_bias: bool = False) -> torch.Tensor:
    """The sum of squared weights, ``Σ θ²`` (multiply by λ yourself)."""
    params = list(penalized_parameters(model, include_bias=include_bias))
    if not params:
        return torch.zeros(())
    return sum((p * p).sum() for p in params)


def l1_penalty(model: nn.Module, *, include_bias: bool = False) -> torch.Tensor:
    """The sum of absolute weights, ``Σ |θ|`` (multiply by λ yourself)."""
    params = list(penalized_parameters(model, include_bias=include_bias))
    if not params:
        return torch.zeros(())
    return sum(p.abs().sum() for p in params)


def with_penalty(loss_fn: Callable, model: nn.Module, *, l1: float = 0.0, l2: float = 0.0,
                 include_bias: bool = False) -> Callable:
    """Wrap ``loss_fn`` so it returns ``loss + l1·Σ|θ| + l2·Σθ²``, for :func:`~nnpractice.training.fit`.

    With plain SGD, ``l2=λ`` is the same as ``SGD(..., weight_decay=2λ)``; with Adam it
    is *not* weight decay (see ``torch.optim.AdamW``). The L1 term here is a subgradient
    penalty: it pushes weights towards zero but rarely makes them exactly zero; use
    :class:`ProximalL1` for exact zeros.
    """
    if not callable(loss_fn):
        raise ValueError(f"loss_fn is a {type(loss_fn).__name__}: expected a function loss_fn(output, target).")
    _check_model(model)
    l1 = _check_nonnegative("l1", l1)
    l2 = _check_nonnegative("l2", l2)

    def penalized(output, target):
        loss = loss_fn(output, target)
        if l1:
            loss = loss + l1 * l1_penalty(model, include_bias=include_bias)
        if l2:
            loss = loss + l2 * l2_penalty(model, include_bias=include_bias)
        return loss

    return penalized


def soft_threshold(x: torch.Tensor, threshold: float) -> torch.Tensor:
    """The proximal operator of ``threshold·|x|``: ``sign(x)·max(|x| − threshold, 0)``.

    Values within ``threshold`` of zero become exactly zero; the others move
    ``threshold`` towards zero.
    """
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"x is a {type(x).__name__}: expected a torch.Tensor.")
    threshold = _check_nonnegative("threshold", threshold)
    return torch.sign(x) * torch.clamp(x.abs() - threshold, min=0.0)


class ProximalL1(Callback):
    """After every optimizer step, soft-threshold the weights by ``lr · strength``.

    This is proximal gradient descent on ``loss + strength·Σ|θ|``: the loss takes its
    gradient step, then every weight within ``lr·strength`` of zero is set to exactly
    zero and the others move that far towards zero. The learning rate is read from
    the optimizer's first parameter group at each step, so schedules are followed.
    """

    def __init__(self, strength: float, *, include_bias: bool = False):
        self.strength = check_positive("strength", strength)
        self.include_bias = include_bias

    @torch.no_grad()
    def apply(self, model: nn.Module, lr: float) -> None:
        """One proximal step with step size ``lr`` on ``model``'s penalized weights."""
        lr = check_positive("lr", lr)
        for p in penalized_parameters(model, include_bias=self.include_bias):
            p.copy_(soft_threshold(p, lr * self.strength))

    def on_batch_end(self, trainer, batch_index, loss):
        self.apply(trainer.model, trainer.optimizer.param_groups[0]["lr"])


@torch.no_grad()
def sparsity(model: nn.Module, *, include_bias: bool = False) -> float:
    """The fraction of penalized weights that are exactly zero."""
    params = list(penalized_parameters(model, include_bias=include_bias))
    if not params:
        raise ValueError("model has no weights to measure: expected at least one parameter with ndim > 1.")
    zeros = sum(int((p == 0).sum()) for p in params)
    return zeros / sum(p.numel() for p in params)


# --------------------------------------------------------------------------- #
# Checkpoints
# --------------------------------------------------------------------------- #


def _atomic_save(obj, path: Path) -> None:
    """Write to a temporary file in the same folder, then rename: a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


class Checkpoint(Callback):
    """Save the model's weights to ``path`` whenever ``monitor`` improves; optionally restore the best.

    Each save writes a temporary file and renames it over ``path`` (an atomic
    replace on one file system), so an interrupted run leaves the previous best
    intact. The file holds ``{"epoch", "monitor", "value", "model_state"}``; load it
    with :meth:`load`. ``save_best_only=False`` saves after every epoch.
    """

    def __init__(self, path, *, monitor: str = "val_loss", mode: str = "auto",
                 save_best_only: bool = True, restore_best: bool = True):
        if not isinstance(path, (str, os.PathLike)) or str(path) == "":
            raise ValueError(f"path={path!r} is not allowed: expected a file path (str or pathlib.Path).")
        check_choice("mode", mode, ("auto", "min", "max"))
        self.path = Path(path)
        self.monitor = monitor
        self.mode = ("min" if "loss" in monitor else "max") if mode == "auto" else mode
        self.save_best_only = save_best_only
        self.restore_best = restore_best
        self.best_value = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None

    def on_train_begin(self, trainer):
        self.best_value = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = None

    def on_epoch_end(self, trainer, logs):
        if self.monitor not in logs:
            raise ValueError(
                f"monitor={self.monitor!r} is not logged by fit: expected one of {sorted(logs)} "
                "(pass validation data to fit to get val_* values)."
            )
        value = logs[self.monitor]
        better = math.isfinite(value) and (value < self.best_value if self.mode == "min" else value > self.best_value)
        if better:
            self.best_value, self.best_epoch = value, trainer.epoch
        if better or not self.save_best_only:
            state = {k: v.detach().cpu().clone() for k, v in trainer.model.state_dict().items()}
            _atomic_save({"epoch": trainer.epoch, "monitor": self.monitor, "value": value,
                          "model_state": state}, self.path)

    def on_train_end(self, trainer):
        if self.restore_best and self.best_epoch is not None:
            if self.save_best_only:
                self.load(trainer.model)
            if trainer.history.best_epoch is None:
                trainer.history.best_epoch = self.best_epoch

    def load(self, model: nn.Module) -> dict:
        """Load the saved weights into ``model``; return the file's record (epoch, value)."""
        _check_model(model)
        if not self.path.exists():
            raise FileNotFoundError(f"No checkpoint at {self.path}: nothing has been saved yet.")
        record = torch.load(self.path, map_location="cpu", weights_only=True)
        model.load_state_dict(record["model_state"])
        return {k: v for k, v in record.items() if k != "model_state"}


# --------------------------------------------------------------------------- #
# Monte-Carlo dropout
# --------------------------------------------------------------------------- #

_DROPOUT_TYPES = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)


@torch.no_grad()
def mc_dropout_predict(model: nn.Module, X: torch.Tensor, *, num_samples: int = 50,
                       batch_size: int = 1024, seed: int | None = 0):
    """Average the softmax of ``num_samples`` stochastic passes with dropout left on.

    Only the dropout layers are switched to training mode; batch norm and the rest
    stay in evaluation mode. Returns ``(mean, std)`` of the class probabilities,
    both ``[N, K]``. The model's modes are restored afterwards.
    """
    _check_model(model)
    check_positive("num_samples", num_samples, integer=True)
    check_positive("batch_size", batch_size, integer=True)
    if not isinstance(X, torch.Tensor):
        raise ValueError(f"X is a {type(X).__name__}: expected a torch.Tensor.")
    check_nonempty("X", X)
    dropouts = [m for m in model.modules() if isinstance(m, _DROPOUT_TYPES)]
    if not dropouts:
        raise ValueError("model has no dropout layer: Monte-Carlo dropout needs at least one nn.Dropout.")
    modes = {m: m.training for m in model.modules()}
    dev = next(model.parameters()).device
    X = X.to(dev)
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
# Label smoothing and calibration
# --------------------------------------------------------------------------- #


def _check_targets(targets, num_classes: int) -> None:
    if not isinstance(targets, torch.Tensor) or targets.is_floating_point() or targets.ndim != 1:
        raise ValueError("targets must be a 1-D tensor of integer class indices.")
    if len(targets) and (int(targets.min()) < 0 or int(targets.max()) >= num_classes):
        raise ValueError(
            f"targets holds classes from {int(targets.min())} to {int(targets.max())}: "
            f"expected indices in [0, {num_classes - 1}] for num_classes={num_classes}."
        )


def smooth_targets(targets: torch.Tensor, num_classes: int, smoothing: float) -> torch.Tensor:
    """Soft targets ``(1 − ε)·onehot + ε/K``: what ``F.cross_entropy(label_smoothing=ε)`` uses.

    Every class gets ``ε/K``; the gold class gets ``1 − ε + ε/K``. Rows sum to one.
    """
    check_positive("num_classes", num_classes, integer=True)
    check_range("smoothing", smoothing, 0.0, 1.0)
    _check_targets(targets, num_classes)
    onehot = nn.functional.one_hot(targets, num_classes).float()
    return onehot * (1.0 - smoothing) + smoothing / num_classes


def _check_probabilities(probs) -> None:
    if not isinstance(probs, torch.Tensor) or probs.ndim != 2 or not probs.is_floating_point():
        raise ValueError("probs must be a 2-D float tensor [N, K] of class probabilities.")
    check_nonempty("probs", probs)
    if bool((probs < 0).any()) or float((probs.sum(dim=1) - 1).abs().max()) > 1e-3:
        raise ValueError("probs is not a probability table: expected non-negative rows that sum to 1 "
                         "(apply torch.softmax to logits first).")


def mean_max_probability(probs: torch.Tensor) -> float:
    """The average confidence: the mean over examples of the largest class probability."""
    _check_probabilities(probs)
    return float(probs.max(dim=1).values.mean())


def expected_calibration_error(probs: torch.Tensor, targets: torch.Tensor, *, num_bins: int = 15) -> float:
    """Expected calibration error: ``Σ_b (n_b / N) · |accuracy_b − confidence_b|``.

    Examples are put into ``num_bins`` equal-width bins by their confidence (the
    largest probability); each bin compares its accuracy with its mean confidence
    (Guo et al., 2017). 0 is perfectly calibrated.
    """
    _check_probabilities(probs)
    check_positive("num_bins", num_bins, integer=True)
    _check_targets(targets, probs.shape[1])
    check_same_length("probs", probs, "targets", targets)
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

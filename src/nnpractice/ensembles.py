"""Ensembles and weight averaging: EMA of weights, snapshots, averaged predictions.

- :class:`EMA` keeps an exponential moving average of the weights during
  :func:`~nnpractice.training.fit`, built on ``torch.optim.swa_utils.AveragedModel``.
- :class:`Snapshots` saves copies of the weights at chosen epochs (in memory, and
  on disk through :func:`nnpractice.checkpoints.save` if asked): the members of a
  snapshot ensemble.
- :class:`Ensemble` averages the *probabilities* of several models; it is an
  ``nn.Module`` whose output (log of the mean probabilities) works with
  ``training.evaluate`` and cross-entropy.

>>> import torch
>>> from nnpractice import ensembles, models
>>> members = [models.mlp(4, [8], 3) for _ in range(3)]
>>> probs = ensembles.predict_proba(members, torch.randn(5, 4))
>>> probs.shape, bool(torch.allclose(probs.sum(1), torch.ones(5)))
(torch.Size([5, 3]), True)
"""
from __future__ import annotations

import copy
import os
from numbers import Integral, Real
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from . import checkpoints
from ._validation import InstanceOf, Interval, Pair, Sequences, invalid, validate_params
from .callbacks import Callback
from .training import evaluate

_MODELS = [nn.Module, Sequences(nn.Module)]  # one model or a list of them
_WEIGHTS = [Sequences(Interval(Real, 0, None)), InstanceOf((torch.Tensor, np.ndarray), "a tensor or array"), None]
_PATH = InstanceOf((str, os.PathLike), "a folder or file path (str or pathlib.Path)", example=lambda: "snapshots")

# --------------------------------------------------------------------------- #
# Averaging predictions
# --------------------------------------------------------------------------- #


def _as_list(models) -> list[nn.Module]:
    return list(models) if isinstance(models, (list, tuple, nn.ModuleList)) else [models]


def _check_weights(weights, count: int) -> torch.Tensor:
    if weights is None:
        return torch.full((count,), 1.0 / count)
    w = torch.as_tensor(weights, dtype=torch.float64).flatten()
    allowed = f"one finite weight >= 0 per model ({count}), with a positive sum"
    if len(w) != count:
        raise invalid("weights", weights, allowed, f"{len(w)} values for {count} models")
    if not torch.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise invalid("weights", weights, allowed)
    return (w / w.sum()).float()


@validate_params({"models": _MODELS, "X": [torch.Tensor], "batch_size": [Interval(Integral, 1, None)]})
@torch.no_grad()
def member_probabilities(models, X: torch.Tensor, *, batch_size: int = 1024) -> torch.Tensor:
    """Softmax outputs of every model on ``X``, stacked: ``[num_models, N, num_classes]`` (eval mode)."""
    models = _as_list(models)
    out = []
    for m in models:
        was_training = m.training
        m.eval()
        dev = next(m.parameters()).device
        parts = [torch.softmax(m(X[i:i + batch_size].to(dev)), dim=1).cpu() for i in range(0, len(X), batch_size)]
        m.train(was_training)
        out.append(torch.cat(parts))
    return torch.stack(out)


@validate_params({"models": _MODELS, "X": [torch.Tensor], "weights": _WEIGHTS,
                  "batch_size": [Interval(Integral, 1, None)]})
def predict_proba(models, X: torch.Tensor, *, weights=None, batch_size: int = 1024) -> torch.Tensor:
    """The (weighted) mean of the models' class probabilities on ``X``: ``[N, num_classes]``.

    Averaging probabilities, not logits or votes, is what deep ensembles do
    (Lakshminarayanan et al., 2017): it keeps each member's confidence.
    """
    models = _as_list(models)
    w = _check_weights(weights, len(models))
    probs = member_probabilities(models, X, batch_size=batch_size)
    return torch.einsum("m,mnk->nk", w, probs)


class Ensemble(nn.Module):
    """Several classifiers as one: ``forward`` returns the log of the averaged probabilities.

    Because ``log_softmax`` of a log-probability vector is itself, the output
    works with ``F.cross_entropy``, ``training.evaluate`` and ``argmax`` like
    a single model's logits. ``weights`` (default equal) must be ≥ 0.
    """

    @validate_params({"models": [Sequences(nn.Module)], "weights": _WEIGHTS})
    def __init__(self, models: Sequence[nn.Module], weights=None):
        super().__init__()
        models = _as_list(models)
        self.members = nn.ModuleList(models)
        self.register_buffer("weights", _check_weights(weights, len(models)))

    def forward(self, x):
        probs = torch.stack([torch.softmax(m(x), dim=1) for m in self.members])
        mean = torch.einsum("m,mnk->nk", self.weights.to(probs.dtype), probs)
        return mean.clamp_min(torch.finfo(mean.dtype).tiny).log()


@validate_params({"predictions": [InstanceOf(torch.Tensor, "a tensor of classes [M, N] or probabilities [M, N, K]",
                                               example=lambda: torch.tensor([[0, 1, 1], [0, 1, 0]]))],
                  "y": [InstanceOf(torch.Tensor, "a tensor of class labels [N]", example=lambda: torch.tensor([0, 1, 0]))]})
def error_correlation(predictions: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Pearson correlation between the members' error indicators: ``[M, M]``.

    ``predictions``: predicted classes ``[M, N]`` (or probabilities ``[M, N, K]``,
    then argmax). 1 on the diagonal; an entry near 1 means two members err on the
    same examples, and then averaging them cannot help. A member that is always
    right (or always wrong) has no variance: its row is ``nan``.
    """
    if predictions.ndim not in (2, 3):
        raise invalid("predictions", predictions, "a tensor of classes [M, N] or probabilities [M, N, K]",
                      f"a tensor of shape {tuple(predictions.shape)}")
    if predictions.ndim == 3:
        predictions = predictions.argmax(dim=2)
    if y.ndim != 1 or predictions.shape[1] != len(y):
        raise invalid("y", y, f"one label per example of predictions ({predictions.shape[1]})",
                      f"a tensor of shape {tuple(y.shape)}")
    errors = (predictions != y.to(predictions.device)).double()
    return torch.corrcoef(errors).float()


@validate_params({"num_samples": [Interval(Integral, 1, None)], "seed": [Interval(Integral, 0, None)]})
def bootstrap_indices(num_samples: int, *, seed: int = 0) -> torch.Tensor:
    """``num_samples`` indices drawn with replacement (Breiman's bootstrap, for bagging)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, num_samples, (num_samples,), generator=g)


# --------------------------------------------------------------------------- #
# Weight averaging and snapshots as fit callbacks
# --------------------------------------------------------------------------- #


class EMA(Callback):
    """Exponential moving average of the weights, updated after every optimizer step.

    ``ema ← decay · ema + (1 − decay) · weights`` (Polyak averaging with
    exponential forgetting), via ``torch.optim.swa_utils.AveragedModel``; with
    ``use_buffers`` BatchNorm statistics are averaged too. ``self.model`` is the
    averaged network (a separate copy; the trained model is untouched). With
    ``val=(X, y)``, each epoch logs ``ema_val_loss`` (and ``ema_val_<metric>``)
    into the run's history next to the raw model's ``val_loss``.
    """

    @validate_params({"decay": [Interval(Real, 0, 1, closed="neither")], "val": [Pair(), None],
                      "use_buffers": ["boolean"], "loss_fn": [callable]})
    def __init__(self, decay: float = 0.99, *, val=None, use_buffers: bool = True,
                 loss_fn: Callable = nn.functional.cross_entropy):
        self.decay = float(decay)
        self.val = val
        self.use_buffers = use_buffers
        self.loss_fn = loss_fn
        self.averaged: AveragedModel | None = None

    @property
    def model(self) -> nn.Module:
        if self.averaged is None:
            raise ValueError("EMA has no model yet: pass it to fit(..., callbacks=[ema]) first.")
        return self.averaged.module

    def on_train_begin(self, trainer):
        if self.averaged is None:
            self.averaged = AveragedModel(trainer.model, multi_avg_fn=get_ema_multi_avg_fn(self.decay),
                                          use_buffers=self.use_buffers)

    def on_batch_end(self, trainer, batch_index, loss):
        self.averaged.update_parameters(trainer.model)

    def on_epoch_end(self, trainer, logs):
        if self.val is not None:
            values = evaluate(self.model, self.val, loss_fn=self.loss_fn)
            trainer.history.log({f"ema_val_{k}": v for k, v in values.items()})


class Snapshots(Callback):
    """Keep a copy of the weights at the end of chosen epochs.

    ``at_epochs``: the epochs (1-based) to save at; or ``every`` k epochs. The
    copies (on the CPU) are in ``self.states``; with ``folder``, each is also
    written to ``folder/snapshot_epoch{k:03d}.pt`` by :func:`nnpractice.checkpoints.save`
    (atomic, with a checksum). :meth:`models` rebuilds them as modules, e.g. for
    :class:`Ensemble`; :func:`load_snapshots` reads the files back.
    """

    @validate_params({"every": [Interval(Integral, 1, None), None],
                      "at_epochs": [Sequences(Interval(Integral, 1, None)), None], "folder": [_PATH, None]})
    def __init__(self, *, every: int | None = None, at_epochs: Sequence[int] | None = None,
                 folder: str | Path | None = None):
        if (every is None) == (at_epochs is None):
            raise invalid("every", every, "exactly one of every and at_epochs",
                          "both are given" if every is not None else "neither is given")
        self.every = every
        self.at_epochs = set(at_epochs) if at_epochs is not None else None
        self.folder = Path(folder) if folder is not None else None
        self.states: list[dict] = []
        self.epochs: list[int] = []
        self.paths: list[Path] = []
        self._template: nn.Module | None = None

    def _due(self, epoch: int) -> bool:
        return epoch % self.every == 0 if self.every is not None else epoch in self.at_epochs

    def on_train_begin(self, trainer):
        self._template = trainer.model

    def on_epoch_end(self, trainer, logs):
        if not self._due(trainer.epoch):
            return
        state = {k: v.detach().cpu().clone() for k, v in trainer.model.state_dict().items()}
        self.states.append(state)
        self.epochs.append(trainer.epoch)
        if self.folder is not None:
            path = self.folder / f"snapshot_epoch{trainer.epoch:03d}.pt"
            self.paths.append(checkpoints.save(trainer.model, path, metadata={"epoch": trainer.epoch}))

    def models(self) -> list[nn.Module]:
        """One module per snapshot (copies of the trained architecture, in eval mode)."""
        if not self.states:
            raise ValueError("Snapshots has no snapshot yet: train with it first.")
        out = []
        for state in self.states:
            m = copy.deepcopy(self._template)
            m.load_state_dict(state)
            out.append(m.eval())
        return out


@validate_params({"paths": [Sequences(_PATH)], "build": [callable]})
def load_snapshots(paths: Sequence[str | Path], build: Callable[[], nn.Module]) -> list[nn.Module]:
    """Rebuild models saved by :class:`Snapshots`: ``build()`` makes the architecture, each file fills it.

    Each file's checksum is checked (:func:`nnpractice.checkpoints.load`).
    """
    out = []
    for p in paths:
        m = build()
        if not isinstance(m, nn.Module):
            raise invalid("build", build, "a function that returns a torch.nn.Module",
                          f"build() returned a {type(m).__name__}")
        out.append(checkpoints.load(m, p).eval())
    return out


__all__ = ["EMA", "Ensemble", "Snapshots", "bootstrap_indices", "error_correlation", "load_snapshots",
           "member_probabilities", "predict_proba"]

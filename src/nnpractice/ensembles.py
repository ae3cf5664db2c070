"""Ensembles and weight averaging: EMA of weights, snapshots, averaged predictions.

- :class:`EMA` keeps an exponential moving average of the weights during
  :func:`~nnpractice.training.fit`, built on ``torch.optim.swa_utils.AveragedModel``.
- :class:`Snapshots` saves copies of the weights at chosen epochs (in memory, and
  on disk if asked): the members of a snapshot ensemble.
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
from pathlib import Path
from typing import Callable, Sequence

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from ._validation import check_positive, check_range
from .training import Callback, evaluate

# --------------------------------------------------------------------------- #
# Averaging predictions
# --------------------------------------------------------------------------- #


def _check_models(models) -> list[nn.Module]:
    models = list(models) if not isinstance(models, nn.Module) else [models]
    if not models:
        raise ValueError("models is empty: expected at least one torch.nn.Module.")
    for i, m in enumerate(models):
        if not isinstance(m, nn.Module):
            raise ValueError(f"models[{i}] is a {type(m).__name__}: expected a torch.nn.Module.")
    return models


def _check_weights(weights, count: int) -> torch.Tensor:
    if weights is None:
        return torch.full((count,), 1.0 / count)
    w = torch.as_tensor(weights, dtype=torch.float64).flatten()
    if len(w) != count:
        raise ValueError(f"weights has {len(w)} values but there are {count} models: they must match.")
    if not torch.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"weights={w.tolist()!r} is not allowed: expected finite numbers >= 0 with a positive sum.")
    return (w / w.sum()).float()


@torch.no_grad()
def member_probabilities(models, X: torch.Tensor, *, batch_size: int = 1024) -> torch.Tensor:
    """Softmax outputs of every model on ``X``, stacked: ``[num_models, N, num_classes]`` (eval mode)."""
    models = _check_models(models)
    if not isinstance(X, torch.Tensor):
        raise ValueError(f"X is a {type(X).__name__}: expected a torch.Tensor.")
    check_positive("batch_size", batch_size, integer=True)
    out = []
    for m in models:
        was_training = m.training
        m.eval()
        dev = next(m.parameters()).device
        parts = [torch.softmax(m(X[i:i + batch_size].to(dev)), dim=1).cpu() for i in range(0, len(X), batch_size)]
        m.train(was_training)
        out.append(torch.cat(parts))
    return torch.stack(out)


def predict_proba(models, X: torch.Tensor, *, weights=None, batch_size: int = 1024) -> torch.Tensor:
    """The (weighted) mean of the models' class probabilities on ``X``: ``[N, num_classes]``.

    Averaging probabilities, not logits or votes, is what deep ensembles do
    (Lakshminarayanan et al., 2017): it keeps each member's confidence.
    """
    models = _check_models(models)
    w = _check_weights(weights, len(models))
    probs = member_probabilities(models, X, batch_size=batch_size)
    return torch.einsum("m,mnk->nk", w, probs)


class Ensemble(nn.Module):
    """Several classifiers as one: ``forward`` returns the log of the averaged probabilities.

    Because ``log_softmax`` of a log-probability vector is itself, the output
    works with ``F.cross_entropy``, ``training.evaluate`` and ``argmax`` like
    a single model's logits. ``weights`` (default equal) must be ≥ 0.
    """

    def __init__(self, models: Sequence[nn.Module], weights=None):
        super().__init__()
        models = _check_models(models)
        self.members = nn.ModuleList(models)
        self.register_buffer("weights", _check_weights(weights, len(models)))

    def forward(self, x):
        probs = torch.stack([torch.softmax(m(x), dim=1) for m in self.members])
        mean = torch.einsum("m,mnk->nk", self.weights.to(probs.dtype), probs)
        return mean.clamp_min(torch.finfo(mean.dtype).tiny).log()


def error_correlation(predictions: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Pearson correlation between the members' error indicators: ``[M, M]``.

    ``predictions``: predicted classes ``[M, N]`` (or probabilities ``[M, N, K]``,
    then argmax). 1 on the diagonal; an entry near 1 means two members err on the
    same examples, and then averaging them cannot help. A member that is always
    right (or always wrong) has no variance: its row is ``nan``.
    """
    if not isinstance(predictions, torch.Tensor) or predictions.ndim not in (2, 3):
        raise ValueError("predictions must be a tensor of classes [M, N] or probabilities [M, N, K].")
    if predictions.ndim == 3:
        predictions = predictions.argmax(dim=2)
    y = torch.as_tensor(y)
    if predictions.shape[1] != len(y):
        raise ValueError(f"predictions has {predictions.shape[1]} examples but y has {len(y)}: they must match.")
    errors = (predictions != y.to(predictions.device)).double()
    return torch.corrcoef(errors).float()


def bootstrap_indices(num_samples: int, *, seed: int = 0) -> torch.Tensor:
    """``num_samples`` indices drawn with replacement (Breiman's bootstrap, for bagging)."""
    check_positive("num_samples", num_samples, integer=True)
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

    def __init__(self, decay: float = 0.99, *, val=None, use_buffers: bool = True,
                 loss_fn: Callable = nn.functional.cross_entropy):
        check_range("decay", decay, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
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
    written to ``folder/snapshot_epoch{k:03d}.pt``. :meth:`models` rebuilds them
    as modules, e.g. for :class:`Ensemble`.
    """

    def __init__(self, *, every: int | None = None, at_epochs: Sequence[int] | None = None,
                 folder: str | Path | None = None):
        if (every is None) == (at_epochs is None):
            raise ValueError("every and at_epochs: expected exactly one of them.")
        if every is not None:
            check_positive("every", every, integer=True)
        else:
            at_epochs = list(at_epochs)
            if not at_epochs:
                raise ValueError("at_epochs is empty: expected at least one epoch number.")
            for i, e in enumerate(at_epochs):
                check_positive(f"at_epochs[{i}]", e, integer=True)
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
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"snapshot_epoch{trainer.epoch:03d}.pt"
            torch.save(state, path)
            self.paths.append(path)

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


def load_snapshots(paths: Sequence[str | Path], build: Callable[[], nn.Module]) -> list[nn.Module]:
    """Rebuild models saved by :class:`Snapshots`: ``build()`` makes the architecture, each file fills it."""
    paths = list(paths)
    if not paths:
        raise ValueError("paths is empty: expected at least one snapshot file.")
    out = []
    for p in paths:
        m = build()
        m.load_state_dict(torch.load(p, map_location="cpu", weights_only=True))
        out.append(m.eval())
    return out


__all__ = ["EMA", "Ensemble", "Snapshots", "bootstrap_indices", "error_correlation", "load_snapshots",
           "member_probabilities", "predict_proba"]

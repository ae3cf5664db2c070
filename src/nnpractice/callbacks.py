"""Callbacks: code that runs at fixed points of :func:`~nnpractice.training.fit` (Keras/Lightning names).

The loop calls, in order::

    on_train_begin
      on_epoch_begin
        on_batch_begin, (step), on_batch_end        # per batch; set trainer.stop_training to stop here
      on_epoch_end(logs)                            # logs: train_loss, val_loss, lr, ...
    on_exception(error)                             # only if the loop raised; the error is re-raised
    on_train_end                                    # always, also after an exception or a divergence

Every hook receives the :class:`~nnpractice.training.Trainer` (model, optimizer, history,
epoch, batch_index...). The learning-rate finder, the playground's training and the
federated client update are all ``fit`` plus callbacks from this vocabulary.

>>> class CountBatches(Callback):
...     def on_train_begin(self, trainer): self.count = 0
...     def on_batch_end(self, trainer, batch_index, loss): self.count += 1
"""
from __future__ import annotations

import math
import os
import time
from numbers import Integral, Real
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import torch
from torch import nn

from . import checkpoints
from ._validation import InstanceOf, Interval, InvalidParameterError, Options, Sequences, invalid, validate_params
from .history import mode_for

if TYPE_CHECKING:  # only for the type hints: callbacks never import the loop
    from .training import Trainer

HOOKS = ("on_train_begin", "on_epoch_begin", "on_batch_begin", "on_batch_end", "on_epoch_end",
         "on_exception", "on_train_end")


class Callback:
    """Hooks into :func:`~nnpractice.training.fit`. Override the ones you need.

    Set ``trainer.stop_training = True`` (and optionally ``trainer.stop_reason``) in any
    hook to stop: after the current batch when set in a batch hook, else after the epoch.
    """

    def on_train_begin(self, trainer: "Trainer") -> None: ...
    def on_epoch_begin(self, trainer: "Trainer") -> None: ...
    def on_batch_begin(self, trainer: "Trainer", batch_index: int) -> None: ...
    def on_batch_end(self, trainer: "Trainer", batch_index: int, loss: torch.Tensor) -> None: ...
    def on_epoch_end(self, trainer: "Trainer", logs: dict) -> None: ...
    def on_exception(self, trainer: "Trainer", error: BaseException) -> None: ...
    def on_train_end(self, trainer: "Trainer") -> None: ...


@validate_params({"callback": [Callback], "hook": [Options(*HOOKS)]})
def overrides(callback: Callback, hook: str) -> bool:
    """Whether ``callback`` does something in ``hook`` (per-batch hooks are only called then)."""
    return getattr(type(callback), hook) is not getattr(Callback, hook)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs; restore the best weights.

    The best weights come back at ``on_train_end``, which runs also when training raised.

    >>> stopper = EarlyStopping(monitor="val_loss", patience=3)
    """

    @validate_params({"monitor": [str], "patience": [Interval(Integral, 1, None)],
                      "min_delta": [Interval(Real, 0, None)], "mode": [Options("auto", "min", "max")],
                      "restore_best_weights": ["boolean"]})
    def __init__(self, monitor: str = "val_loss", *, patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = True):
        self.monitor = monitor
        self.patience = patience
        self.min_delta = float(min_delta)
        self.mode = mode_for(monitor) if mode == "auto" else mode
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, trainer):
        self.best_value = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = None
        self.best_state = None
        self.wait = 0

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best_value - self.min_delta
        return value > self.best_value + self.min_delta

    def on_epoch_end(self, trainer, logs):
        if self.monitor not in logs:
            raise _not_logged(self.monitor, logs)
        value = logs[self.monitor]
        if math.isfinite(value) and self._improved(value):
            self.best_value, self.best_epoch, self.wait = value, trainer.epoch, 0
            if self.restore_best_weights:
                self.best_state = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
        else:
            self.wait += 1
            if self.wait >= self.patience:
                trainer.stop_training = True
                trainer.stop_reason = f"stopped early at epoch {trainer.epoch}"

    def on_train_end(self, trainer):
        trainer.history.best_epoch = self.best_epoch
        if self.restore_best_weights and self.best_state is not None:
            trainer.model.load_state_dict(self.best_state)


def _not_logged(monitor: str, logs: dict) -> InvalidParameterError:
    return InvalidParameterError(f"monitor={monitor!r} is not logged by fit: expected one of {sorted(logs)} "
                                 "(pass validation data to fit to get val_* values).")


def in_notebook() -> bool:
    """Whether we run inside a Jupyter kernel (figures and widgets can be shown)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class ProgressBar(Callback):
    """A bar over epochs showing the latest losses: a widget in a notebook, text on a terminal.

    It writes nothing where no one watches (a script whose stderr is not a terminal, a test).
    """

    def on_train_begin(self, trainer):
        if in_notebook():
            from tqdm.auto import tqdm  # imported here: tqdm is only needed once a bar is shown
            disable = False
        else:
            from tqdm import tqdm
            disable = None  # tqdm's rule: off when the output is not a terminal
        self.bar = tqdm(total=trainer.num_epochs, unit="epoch", leave=True, disable=disable)

    def on_epoch_end(self, trainer, logs):
        shown = {k: f"{v:.4g}" for k, v in logs.items() if k in ("train_loss", "val_loss", "val_accuracy")}
        self.bar.set_postfix(shown, refresh=False)
        self.bar.update(1)

    def on_train_end(self, trainer):
        self.bar.close()  # also after an exception: no bar is left open


class LivePlot(Callback):
    """Redraw the loss (and accuracy) curves while training runs in a notebook.

    Outside a Jupyter kernel (scripts, unit tests) it stays quiet. Redraws are
    throttled to one per ``min_interval`` seconds, plus a final one.
    """

    @validate_params({"metrics": [Sequences(str)], "min_interval": [Interval(Real, 0, None)]})
    def __init__(self, metrics: Iterable[str] = ("loss", "accuracy"), *, min_interval: float = 0.5):
        self.metrics = tuple(metrics)
        self.min_interval = min_interval
        self.figure = None

    def on_train_begin(self, trainer):
        self.active = in_notebook()
        self._last_draw = -math.inf
        if self.active:
            import matplotlib.pyplot as plt
            from IPython.display import display

            self.figure = plt.figure(figsize=(9, 3.2))
            self.handle = display(self.figure, display_id=True)
            plt.close(self.figure)  # shown through the display handle only

    def _draw(self, trainer):
        from .plots import curves

        self.figure.clear()
        curves(trainer.history, metrics=self.metrics, figure=self.figure,
               xlim=(0.5, trainer.num_epochs + 0.5))
        self.handle.update(self.figure)
        self._last_draw = time.perf_counter()

    def on_epoch_end(self, trainer, logs):
        if self.active and time.perf_counter() - self._last_draw >= self.min_interval:
            self._draw(trainer)

    def on_train_end(self, trainer):
        if self.active and trainer.history.num_epochs:
            self._draw(trainer)


class Checkpoint(Callback):
    """Save the model's weights to ``path`` whenever ``monitor`` improves; optionally restore the best.

    Each save goes through :func:`nnpractice.checkpoints.save`: a temporary file, flushed
    and renamed over ``path`` (an atomic replace), with a SHA-256 checksum beside it, so an
    interrupted run leaves the previous best intact and a damaged file is refused on load.
    The file holds the weights and ``{"epoch", "monitor", "value"}``: :meth:`load` puts the
    weights into a model, :meth:`metadata` returns the rest. ``save_best_only=False`` saves
    after every epoch; ``mode="auto"`` minimises a loss and maximises anything else.
    """

    @validate_params({"path": [InstanceOf((str, os.PathLike), "a file path (str or pathlib.Path)",
                                          example=lambda: "best.pt")],
                      "monitor": [str], "mode": [Options("auto", "min", "max")], "save_best_only": ["boolean"],
                      "restore_best": ["boolean"]})
    def __init__(self, path, *, monitor: str = "val_loss", mode: str = "auto",
                 save_best_only: bool = True, restore_best: bool = True):
        if str(path) == "":
            raise invalid("path", path, "a file path (str or pathlib.Path)")
        self.path = Path(path)
        self.monitor = monitor
        self.mode = mode_for(monitor) if mode == "auto" else mode
        self.save_best_only = save_best_only
        self.restore_best = restore_best
        self.best_value = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None

    def on_train_begin(self, trainer):
        self.best_value = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = None

    def on_epoch_end(self, trainer, logs):
        if self.monitor not in logs:
            raise _not_logged(self.monitor, logs)
        value = logs[self.monitor]
        better = math.isfinite(value) and (value < self.best_value if self.mode == "min" else value > self.best_value)
        if better:
            self.best_value, self.best_epoch = value, trainer.epoch
        if better or not self.save_best_only:
            checkpoints.save(trainer.model, self.path,
                             metadata={"epoch": trainer.epoch, "monitor": self.monitor, "value": float(value)})

    def on_train_end(self, trainer):
        if self.restore_best and self.best_epoch is not None:
            if self.save_best_only:
                self.load(trainer.model)
            if trainer.history.best_epoch is None:
                trainer.history.best_epoch = self.best_epoch

    def load(self, model: nn.Module) -> nn.Module:
        """Load the saved weights into ``model`` (checksum checked) and return it, like ``checkpoints.load``."""
        return checkpoints.load(model, self.path)

    def metadata(self) -> dict:
        """What the file records beside the weights: ``{"epoch", "monitor", "value"}``."""
        return checkpoints.read_metadata(self.path)

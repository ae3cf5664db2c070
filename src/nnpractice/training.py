"""``fit(...) -> History``: the training loop every chapter uses once it has built its own.

The loop is the one chapter 02 writes by hand — forward, loss, ``zero_grad``,
``backward``, ``step`` — plus bookkeeping that costs almost nothing: losses are
summed on the device and read once per epoch, not once per batch.

>>> import torch
>>> from nnpractice import data, models, training
>>> X, y = data.make_toy("moons", num_samples=256, seed=0)
>>> net = models.mlp(2, [16], 2)
>>> history = training.fit(net, (X, y), num_epochs=3, batch_size=32, seed=0)
>>> history.status
'completed'
>>> len(history["train_loss"])
3
"""
from __future__ import annotations

import contextlib
import copy
import math
import time
from typing import Callable, Iterable, Mapping

import torch
from torch import nn

from ._validation import check_choice, check_nonempty, check_positive, check_same_length
from .data import BatchIterator
from .device import pick_device

# --------------------------------------------------------------------------- #
# Metrics: each returns a *sum* over the batch as a tensor (no host sync).
# --------------------------------------------------------------------------- #


def correct_count(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """How many predictions are right: argmax for several outputs, ``> 0`` for one logit."""
    if output.ndim == 2 and output.shape[1] > 1:
        return (output.argmax(dim=1) == target).sum()
    return ((output.reshape(-1) > 0).long() == target.reshape(-1).long()).sum()


def _default_metrics(target: torch.Tensor) -> dict[str, Callable]:
    return {"accuracy": correct_count} if not target.is_floating_point() else {}


# --------------------------------------------------------------------------- #
# History
# --------------------------------------------------------------------------- #


class History:
    """Per-epoch records of a run, plus how it ended.

    ``history["val_loss"]`` is a list with one value per finished epoch (epoch 1
    first). ``status`` is ``"completed"``, ``"stopped early at epoch k"`` or
    ``"diverged at epoch k"``; ``diverged`` and ``best_epoch`` say the same in
    machine-readable form.
    """

    def __init__(self):
        self.records: dict[str, list[float]] = {}
        self.status = "not started"
        self.diverged = False
        self.diverged_at: int | None = None
        self.stopped_at: int | None = None
        self.best_epoch: int | None = None
        self.settings: dict = {}  # device, precision, channels_last, compile: as fit resolved them

    def log(self, values: Mapping[str, float]) -> None:
        for key, value in values.items():
            self.records.setdefault(key, []).append(float(value))

    @property
    def num_epochs(self) -> int:
        return len(self.records.get("train_loss", []))

    @property
    def epochs(self) -> list[int]:
        return list(range(1, self.num_epochs + 1))

    def __getitem__(self, key: str) -> list[float]:
        if key not in self.records:
            raise KeyError(f"History has no {key!r}: it has {sorted(self.records)}.")
        return self.records[key]

    def __contains__(self, key: str) -> bool:
        return key in self.records

    def keys(self):
        return self.records.keys()

    def last(self, key: str) -> float:
        """The value of ``key`` after the last finished epoch."""
        return self[key][-1]

    def best(self, key: str = "val_loss", mode: str = "auto") -> tuple[int, float]:
        """``(epoch, value)`` of the best value of ``key`` (``min`` for losses, else ``max``)."""
        values = self[key]
        if mode == "auto":
            mode = "min" if "loss" in key else "max"
        check_choice("mode", mode, ("min", "max", "auto"))
        finite = [(v, i) for i, v in enumerate(values) if math.isfinite(v)]
        if not finite:
            raise ValueError(f"History[{key!r}] has no finite value.")
        value, index = (min if mode == "min" else max)(finite)
        return index + 1, value

    def __repr__(self) -> str:
        parts = [f"History({self.num_epochs} epochs, {self.status}"]
        for key in ("train_loss", "val_loss", "val_accuracy"):
            if key in self.records and self.records[key]:
                parts.append(f"{key}={self.records[key][-1]:.4g}")
        return ", ".join(parts) + ")"


# --------------------------------------------------------------------------- #
# Callbacks (Keras/Lightning vocabulary)
# --------------------------------------------------------------------------- #


class Callback:
    """Hooks into :func:`fit`. Override the ones you need.

    Every hook receives the :class:`Trainer` (model, optimizer, history, epoch...).
    Set ``trainer.stop_training = True`` to stop after the current epoch.
    """

    def on_train_begin(self, trainer: "Trainer") -> None: ...
    def on_epoch_begin(self, trainer: "Trainer") -> None: ...
    def on_batch_end(self, trainer: "Trainer", batch_index: int, loss: torch.Tensor) -> None: ...
    def on_epoch_end(self, trainer: "Trainer", logs: dict) -> None: ...
    def on_train_end(self, trainer: "Trainer") -> None: ...


def _overrides(callback: Callback, hook: str) -> bool:
    return getattr(type(callback), hook) is not getattr(Callback, hook)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs; restore the best weights.

    >>> stopper = EarlyStopping(monitor="val_loss", patience=3)
    """

    def __init__(self, monitor: str = "val_loss", *, patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = True):
        check_positive("patience", patience, integer=True)
        if not (isinstance(min_delta, (int, float)) and min_delta >= 0):
            raise ValueError(f"min_delta={min_delta!r} is not allowed: expected a number >= 0.")
        check_choice("mode", mode, ("auto", "min", "max"))
        self.monitor = monitor
        self.patience = patience
        self.min_delta = float(min_delta)
        self.mode = ("min" if "loss" in monitor else "max") if mode == "auto" else mode
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
            raise ValueError(
                f"monitor={self.monitor!r} is not logged by fit: expected one of {sorted(logs)} "
                "(pass validation data to fit to get val_* values)."
            )
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


class ProgressBar(Callback):
    """A ``tqdm.auto`` bar over epochs showing the latest losses."""

    def on_train_begin(self, trainer):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=trainer.num_epochs, unit="epoch", leave=True)

    def on_epoch_end(self, trainer, logs):
        shown = {k: f"{v:.4g}" for k, v in logs.items() if k in ("train_loss", "val_loss", "val_accuracy")}
        self.bar.set_postfix(shown, refresh=False)
        self.bar.update(1)

    def on_train_end(self, trainer):
        self.bar.close()


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class LivePlot(Callback):
    """Redraw the loss (and accuracy) curves while training runs in a notebook.

    Outside a Jupyter kernel (scripts, unit tests) it stays quiet. Redraws are
    throttled to one per ``min_interval`` seconds, plus a final one.
    """

    def __init__(self, metrics: Iterable[str] = ("loss", "accuracy"), *, min_interval: float = 0.5):
        self.metrics = tuple(metrics)
        self.min_interval = min_interval
        self.figure = None

    def on_train_begin(self, trainer):
        self.active = _in_notebook()
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


# --------------------------------------------------------------------------- #
# The loop
# --------------------------------------------------------------------------- #


class Trainer:
    """The state a callback sees: model, optimizer, loss, history and where we are."""

    def __init__(self, model, optimizer, loss_fn, history, num_epochs, device):
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.history = history
        self.num_epochs = num_epochs
        self.device = device
        self.epoch = 0
        self.stop_training = False
        self.stop_reason = ""


def _clone(state):
    """A copy of a (nested) state dict whose tensors are cloned: cheaper than ``copy.deepcopy``."""
    if isinstance(state, torch.Tensor):
        return state.detach().clone()
    if isinstance(state, dict):
        return {k: _clone(v) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_clone(v) for v in state)
    return copy.copy(state)


def _as_batches(data, name: str, batch_size: int, shuffle: bool, seed, dev) -> BatchIterator:
    if isinstance(data, BatchIterator):
        return data.to(dev) if data.device != dev else data
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise ValueError(
            f"{name} is a {type(data).__name__}: expected a pair (X, y) of tensors or a BatchIterator."
        )
    X, y = data
    for part, value in ((f"{name}[0] (X)", X), (f"{name}[1] (y)", y)):
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"{part} is a {type(value).__name__}: expected a torch.Tensor.")
    check_nonempty(f"{name}[0] (X)", X)
    check_same_length(f"{name}[0] (X)", X, f"{name}[1] (y)", y)
    return BatchIterator(X.to(dev), y.to(dev), batch_size=batch_size, shuffle=shuffle, seed=seed)


# --------------------------------------------------------------------------- #
# Speed options: what `fit` does differently on a GPU.
# --------------------------------------------------------------------------- #

PRECISIONS = ("auto", "fp32", "bf16")


class SpeedOptions:
    """How a run uses its device, resolved from ``fit``'s ``precision``, ``channels_last`` and ``compile``.

    ``"auto"`` means: on CUDA, bf16 autocast (where the GPU supports bf16) and channels-last
    memory for models with 2D convolutions; anywhere else, plain float32 and the default
    memory layout, so the CPU path is exactly the loop of chapter 02.
    """

    def __init__(self, precision: str, channels_last: bool, compile: bool | str):
        self.precision = precision
        self.channels_last = channels_last
        self.compile = compile

    @classmethod
    def resolve(cls, dev: torch.device, model: nn.Module, precision="auto", channels_last="auto",
                compile=False) -> "SpeedOptions":
        check_choice("precision", precision, PRECISIONS)
        if not (isinstance(channels_last, bool) or (isinstance(channels_last, str) and channels_last == "auto")):
            raise ValueError(f"channels_last={channels_last!r} is not allowed: expected 'auto', True or False.")
        if not (isinstance(compile, bool) or (isinstance(compile, str) and compile)):
            raise ValueError(f"compile={compile!r} is not allowed: expected True, False or the name of a "
                             "torch.compile backend such as 'inductor'.")
        on_cuda = dev.type == "cuda"
        if precision == "auto":
            precision = "bf16" if on_cuda and torch.cuda.is_bf16_supported() else "fp32"
        elif precision == "bf16" and dev.type not in ("cuda", "cpu"):
            raise ValueError(f"precision='bf16' is not supported on device {dev.type!r}: "
                             "expected 'fp32' or 'auto' there.")
        has_conv = any(isinstance(m, nn.Conv2d) for m in model.modules())
        if channels_last == "auto":
            channels_last = on_cuda and has_conv
        return cls(precision, bool(channels_last), compile)

    def autocast(self, dev: torch.device):
        """The context a forward pass runs in: bf16 autocast, or nothing for fp32."""
        if self.precision == "bf16":
            return torch.autocast(device_type=dev.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def prepare_batch(self, xb: torch.Tensor) -> torch.Tensor:
        if self.channels_last and xb.dim() == 4:
            return xb.contiguous(memory_format=torch.channels_last)
        return xb

    def as_dict(self) -> dict:
        return {"precision": self.precision, "channels_last": self.channels_last, "compile": self.compile}

    def __repr__(self) -> str:
        return f"SpeedOptions({self.as_dict()})"


@torch.no_grad()
def evaluate(model: nn.Module, data, *, loss_fn: Callable = nn.functional.cross_entropy,
             batch_size: int = 1024, metrics: Mapping[str, Callable] | None = None,
             device=None, precision: str = "fp32", channels_last: bool = False) -> dict[str, float]:
    """Mean loss and metrics of ``model`` on ``data`` (``(X, y)`` or a BatchIterator), in eval mode.

    ``precision="bf16"`` runs the forward passes under bf16 autocast; ``channels_last``
    hands 4D batches over in channels-last memory (both as ``fit`` uses them on a GPU).
    """
    dev = pick_device(device) if device is not None else next(model.parameters()).device
    options = SpeedOptions.resolve(dev, model, precision, channels_last)
    batches = _as_batches(data, "data", batch_size, False, None, dev)
    metrics = _default_metrics(batches.tensors[1]) if metrics is None else dict(metrics)
    was_training = model.training
    model.eval()
    totals = {"loss": torch.zeros((), device=dev)}
    totals.update({name: torch.zeros((), device=dev) for name in metrics})
    for xb, yb in batches:
        with options.autocast(dev):
            out = model(options.prepare_batch(xb))
        out = out.float()
        totals["loss"] += loss_fn(out, yb) * len(xb)
        for name, fn in metrics.items():
            totals[name] += fn(out, yb)
    model.train(was_training)
    n = batches.num_samples
    return {name: total.item() / n for name, total in totals.items()}


def fit(model: nn.Module, train, val=None, *, num_epochs: int = 10,
        optimizer: torch.optim.Optimizer | None = None, lr: float = 1e-3,
        loss_fn: Callable = nn.functional.cross_entropy, batch_size: int = 64,
        metrics: Mapping[str, Callable] | None = None, callbacks: Iterable[Callback] = (),
        progress: bool = False, live_plot: bool = False, device=None, seed: int | None = 0,
        restore_on_divergence: bool = True, divergence_factor: float | None = 10.0,
        precision: str = "auto", channels_last: bool | str = "auto", compile: bool | str = False,
        verbose: bool = True) -> History:
    """Train ``model`` on ``train`` for ``num_epochs`` epochs and return its :class:`History`.

    Parameters
    ----------
    train, val : ``(X, y)`` tensors or a :class:`~nnpractice.data.BatchIterator`.
        ``val`` is optional; with it, ``val_loss`` and ``val_<metric>`` are logged.
    optimizer : a ``torch.optim`` optimizer over ``model``'s parameters.
        If omitted, ``Adam(model.parameters(), lr=lr)``.
    loss_fn : ``loss_fn(output, target)`` returning the batch's mean loss.
    metrics : name → ``fn(output, target)`` returning a *sum* over the batch;
        default: ``accuracy`` when the targets are class labels.
    callbacks : :class:`Callback` objects; ``progress`` and ``live_plot`` add a
        :class:`ProgressBar` and a :class:`LivePlot`.
    device : ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"mps"``; default: where the model is.
    seed : seeds the order of the training batches (``None``: a fresh order each run).
    precision : ``"auto"``, ``"fp32"`` or ``"bf16"``. ``"auto"`` is bf16 autocast on a CUDA
        GPU that supports it (weights and optimizer stay float32; no loss scaling is needed
        for bf16) and float32 everywhere else. It applies to the training steps; validation
        always runs in float32, so ``val_*`` equal what :func:`evaluate` reports.
    channels_last : ``"auto"``, ``True`` or ``False``. ``"auto"`` stores a model with 2D
        convolutions and its 4D batches channels-last on CUDA, where convolution kernels
        prefer that layout; never on the CPU.
    compile : ``True`` (or a backend name, e.g. ``"inductor"``) trains through
        ``torch.compile(model)``; the first epoch then includes the compilation. Default off.

    On the CPU the defaults change nothing: the loop is chapter 02's, in float32.
    ``history.settings`` records what the run resolved them to.

    A run diverges when an epoch's training loss is not finite, or is more than
    ``divergence_factor`` times the loss of the very first batch (``None``
    turns that second rule off). Then the run stops, ``history.status`` becomes
    ``"diverged at epoch k"`` and, with ``restore_on_divergence``, the model and
    optimizer go back to their state before that epoch, so nothing is lost.

    Example
    -------
    >>> import torch
    >>> from nnpractice import models
    >>> X, y = torch.randn(128, 4), torch.randint(0, 3, (128,))
    >>> net = models.mlp(4, [8], 3)
    >>> opt = torch.optim.SGD(net.parameters(), lr=0.1)
    >>> fit(net, (X, y), num_epochs=2, optimizer=opt).num_epochs
    2
    """
    check_positive("num_epochs", num_epochs, integer=True)
    check_positive("batch_size", batch_size, integer=True)
    if divergence_factor is not None:
        check_positive("divergence_factor", divergence_factor)
    if optimizer is None:
        check_positive("lr", lr)
    elif not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError(f"optimizer is a {type(optimizer).__name__}: expected a torch.optim.Optimizer.")
    if not isinstance(model, nn.Module):
        raise ValueError(f"model is a {type(model).__name__}: expected a torch.nn.Module.")
    params = list(model.parameters())
    if not params:
        raise ValueError("model has no parameters: there is nothing to train.")

    dev = pick_device(device) if device is not None else params[0].device
    options = SpeedOptions.resolve(dev, model, precision, channels_last, compile)
    model.to(dev)
    if options.channels_last:
        model.to(memory_format=torch.channels_last)
    if options.compile:
        backend = options.compile if isinstance(options.compile, str) else "inductor"
        forward = torch.compile(model, backend=backend)
    else:
        forward = model
    train_batches = _as_batches(train, "train", batch_size, True, seed, dev)
    val_batches = _as_batches(val, "val", max(batch_size, 1024), False, None, dev) if val is not None else None
    metrics = _default_metrics(train_batches.tensors[1]) if metrics is None else dict(metrics)
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    callbacks = list(callbacks)
    if progress:
        callbacks.append(ProgressBar())
    if live_plot:
        callbacks.append(LivePlot())
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise ValueError(f"callbacks holds a {type(cb).__name__}: expected nnpractice.training.Callback objects.")
    batch_callbacks = [cb for cb in callbacks if _overrides(cb, "on_batch_end")]

    history = History()
    history.status = "running"
    history.settings = {"device": str(dev), **options.as_dict()}
    first_loss = None
    trainer = Trainer(model, optimizer, loss_fn, history, num_epochs, dev)
    for cb in callbacks:
        cb.on_train_begin(trainer)

    for epoch in range(1, num_epochs + 1):
        trainer.epoch = epoch
        for cb in callbacks:
            cb.on_epoch_begin(trainer)
        if restore_on_divergence:
            saved = (_clone(model.state_dict()), _clone(optimizer.state_dict()))
        start = time.perf_counter()
        model.train()
        # Per-batch values stay on the device in lists; one sum and one sync per epoch.
        batch_losses, batch_sizes, outputs, targets = [], [], [], []
        for batch_index, (xb, yb) in enumerate(train_batches):
            with options.autocast(dev):
                output = forward(options.prepare_batch(xb))
                loss = loss_fn(output, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss = loss.detach()
            if first_loss is None:
                first_loss = loss.item()
            batch_losses.append(loss)
            batch_sizes.append(len(xb))
            if metrics:  # metrics are computed once per epoch, on all outputs at once
                outputs.append(output.detach().float())  # a no-op in float32; bf16 outputs are widened
                targets.append(yb)
            for cb in batch_callbacks:
                cb.on_batch_end(trainer, batch_index, loss)

        n = train_batches.num_samples
        sizes = torch.tensor(batch_sizes, device=dev, dtype=torch.float32)
        logs = {"train_loss": (torch.stack(batch_losses).float() @ sizes).item() / n}
        if metrics:
            all_outputs, all_targets = torch.cat(outputs), torch.cat(targets)
            logs.update({f"train_{name}": fn(all_outputs, all_targets).item() / n for name, fn in metrics.items()})
            del outputs[:], targets[:], all_outputs, all_targets
        exploded = (divergence_factor is not None and math.isfinite(first_loss)
                    and logs["train_loss"] > divergence_factor * max(first_loss, 1e-12))
        if not math.isfinite(logs["train_loss"]) or exploded:
            history.diverged, history.diverged_at = True, epoch
            history.status = f"diverged at epoch {epoch}"
            if restore_on_divergence:
                model.load_state_dict(saved[0])
                optimizer.load_state_dict(saved[1])
            if verbose:
                kept = f"the weights from the end of epoch {epoch - 1} were kept" if restore_on_divergence else ""
                print(f"Training diverged at epoch {epoch} (training loss {logs['train_loss']:.4g}, "
                      f"first batch {first_loss:.4g}); "
                      f"stopped{'; ' + kept if kept else ''}.")
            break
        if val_batches is not None:
            # Validation stays in float32, so the logged numbers are evaluate(model, val)'s on any device.
            val_logs = evaluate(model, val_batches, loss_fn=loss_fn, metrics=metrics,
                                channels_last=options.channels_last)
            logs.update({f"val_{name}": value for name, value in val_logs.items()})
        logs["lr"] = optimizer.param_groups[0]["lr"]
        logs["epoch_time"] = time.perf_counter() - start
        history.log(logs)
        for cb in callbacks:
            cb.on_epoch_end(trainer, logs)
        if trainer.stop_training:
            history.stopped_at = epoch
            history.status = trainer.stop_reason or f"stopped at epoch {epoch}"
            break

    if history.status == "running":
        history.status = "completed"
    for cb in callbacks:
        cb.on_train_end(trainer)
    return history

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
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ._validation import (
    InstanceOf,
    Interval,
    InvalidParameterError,
    Options,
    Pair,
    Sequences,
    check_choice,
    invalid,
    validate_params,
)
from .callbacks import Callback, EarlyStopping, LivePlot, ProgressBar, overrides
from .data import BatchIterator
from .device import pick_device
from .history import History
from .metrics import correct_count, default_metrics

# Callbacks and History live in their own modules; these names stay importable from here.
__all__ = ["fit", "evaluate", "correct_count", "Trainer", "SpeedOptions", "History", "Callback", "EarlyStopping",
           "ProgressBar", "LivePlot", "is_diverged", "check_targets", "clone_state", "as_batches"]

# --------------------------------------------------------------------------- #
# The loop
# --------------------------------------------------------------------------- #


class Trainer:
    """The state a callback sees: model, optimizer, loss, history and where the loop is.

    Callbacks read it and may set ``stop_training`` (with ``stop_reason``) to end the run.
    """

    @validate_params({"model": [nn.Module], "optimizer": [torch.optim.Optimizer], "loss_fn": [callable],
                      "history": [History], "num_epochs": [Interval(Integral, 1, None)],
                      "device": [torch.device, str]})
    def __init__(self, model, optimizer, loss_fn, history, num_epochs, device):
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.history = history
        self.num_epochs = num_epochs
        self.device = device
        self.epoch = 0
        self.batch_index = -1
        self.batch: tuple | None = None  # the current (xb, yb), for batch hooks
        self.stop_training = False
        self.stop_reason = ""


@validate_params({"state": [dict]})
def clone_state(state: dict) -> dict:
    """A copy of a (nested) state dict whose tensors are cloned: cheaper than ``copy.deepcopy``."""
    return _clone(state)


def _clone(value):
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_clone(v) for v in value)
    return copy.copy(value)


@validate_params({"data": [Pair(), BatchIterator], "name": [str], "batch_size": [Interval(Integral, 1, None)],
                  "shuffle": ["boolean"], "seed": [Interval(Integral, 0, None), None],
                  "dev": [InstanceOf(torch.device, "a torch.device", example=lambda: torch.device("cpu"))]})
def as_batches(data, name: str, batch_size: int, shuffle: bool, seed, dev) -> BatchIterator:
    """``data`` (a pair ``(X, y)`` or a BatchIterator) as a BatchIterator on ``dev``.

    A caller's BatchIterator on another device is copied, never moved in place.
    """
    if isinstance(data, BatchIterator):
        if data.device == dev:
            return data
        return copy.copy(data).to(dev)  # the copy shares the generator, so the order still repeats
    X, y = data
    return BatchIterator(X.to(dev), y.to(dev), batch_size=batch_size, shuffle=shuffle, seed=seed)


#: Losses whose target has exactly the output's shape (torch would broadcast [N, 1] against [N] silently).
SAME_SHAPE_LOSSES = (F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss,
                     F.binary_cross_entropy_with_logits, F.binary_cross_entropy)


@validate_params({"name": [str], "output": [torch.Tensor], "target": [torch.Tensor], "loss_fn": [callable]})
def check_targets(name: str, output: torch.Tensor, target: torch.Tensor, loss_fn: Callable) -> None:
    """Name the labels (``train[1] (y)``) when their dtype, range or shape cannot fit ``output``.

    Called on the first batch only, so it costs nothing; without it PyTorch's errors name no
    parameter, and a regression target of shape [N] against an output [N, 1] broadcasts silently.
    """
    label = f"{name}[1] (y)"
    if loss_fn in (F.cross_entropy, F.nll_loss) and not target.is_floating_point():
        if target.dtype != torch.long:
            raise InvalidParameterError(f"{label} has dtype {target.dtype}: expected int64 class indices "
                                        "(torch.long); convert with y.long().")
        if target.ndim != 1:
            raise InvalidParameterError(f"{label} has shape {tuple(target.shape)}: expected one class index "
                                        "per sample, shape (N,).")
        classes = output.shape[1] if output.ndim == 2 else None
        low, high = int(target.min()), int(target.max())
        if low < 0 or (classes is not None and high >= classes):
            raise InvalidParameterError(f"{label} holds class indices from {low} to {high}: expected indices in "
                                        f"[0, {classes}) for a model with {classes} outputs.")
    elif loss_fn in (F.cross_entropy,) and target.shape != output.shape:
        raise InvalidParameterError(f"{label} is a float tensor of shape {tuple(target.shape)}: expected class "
                                    f"probabilities of the output's shape {tuple(output.shape)}, or int64 indices.")
    elif loss_fn in SAME_SHAPE_LOSSES and target.shape != output.shape:
        raise InvalidParameterError(f"{label} has shape {tuple(target.shape)} but the model outputs "
                                    f"{tuple(output.shape)}: expected the same shape (reshape y, e.g. y[:, None]).")


@validate_params({"epoch_loss": [Real], "first_loss": [Real],
                  "factor": [Interval(Real, 0, None, closed="neither"), None]})
def is_diverged(epoch_loss: float, first_loss: float, factor: float | None) -> bool:
    """The one divergence rule: the epoch's loss is not finite, or above ``factor`` × the first batch's."""
    if not math.isfinite(epoch_loss):
        return True
    return factor is not None and math.isfinite(first_loss) and epoch_loss > factor * max(first_loss, 1e-12)


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

    @validate_params({"precision": [Options("fp32", "bf16")], "channels_last": ["boolean"],
                      "compile": ["boolean", InstanceOf(str, "the name of a torch.compile backend")]})
    def __init__(self, precision: str, channels_last: bool, compile: bool | str):
        self.precision = precision
        self.channels_last = channels_last
        self.compile = compile

    @classmethod
    def resolve(cls, dev: torch.device, model: nn.Module, precision="auto", channels_last="auto",
                compile=False) -> "SpeedOptions":
        check_choice("precision", precision, PRECISIONS)
        if not (isinstance(channels_last, bool) or (isinstance(channels_last, str) and channels_last == "auto")):
            raise invalid("channels_last", channels_last, "'auto', True or False")
        if not (isinstance(compile, bool) or (isinstance(compile, str) and compile)):
            raise invalid("compile", compile, "True, False or the name of a torch.compile backend such as 'inductor'")
        on_cuda = dev.type == "cuda"
        if precision == "auto":
            precision = "bf16" if on_cuda and torch.cuda.is_bf16_supported() else "fp32"
        elif precision == "bf16" and dev.type not in ("cuda", "cpu"):
            raise InvalidParameterError(f"precision='bf16' is not supported on device {dev.type!r}: "
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
@validate_params({"model": [nn.Module], "data": [Pair(), BatchIterator], "loss_fn": [callable],
                  "batch_size": [Interval(Integral, 1, None)], "metrics": [Mapping, None],
                  "device": [str, torch.device, None], "precision": [Options("fp32", "bf16")],
                  "channels_last": ["boolean"]})
def evaluate(model: nn.Module, data, *, loss_fn: Callable = nn.functional.cross_entropy,
             batch_size: int = 1024, metrics: Mapping[str, Callable] | None = None,
             device=None, precision: str = "fp32", channels_last: bool = False) -> dict[str, float]:
    """Mean loss and metrics of ``model`` on ``data`` (``(X, y)`` or a BatchIterator), in eval mode.

    ``precision="bf16"`` runs the forward passes under bf16 autocast; ``channels_last``
    hands 4D batches over in channels-last memory (both as ``fit`` uses them on a GPU).
    """
    dev = pick_device(device) if device is not None else next(model.parameters()).device
    options = SpeedOptions.resolve(dev, model, precision, channels_last)
    batches = as_batches(data, "data", batch_size, False, None, dev)
    metrics = default_metrics(batches.tensors[1]) if metrics is None else dict(metrics)
    return _evaluate_batches(model, batches, loss_fn, metrics, options, dev, labels_name="data")


@torch.no_grad()
def _evaluate_batches(model, batches, loss_fn, metrics, options, dev, labels_name=None) -> dict[str, float]:
    """evaluate's loop, which fit calls every epoch with everything already checked and resolved."""
    was_training = model.training
    model.eval()
    totals = {"loss": torch.zeros((), device=dev)}
    totals.update({name: torch.zeros((), device=dev) for name in metrics})
    for batch_index, (xb, yb) in enumerate(batches):
        with options.autocast(dev):
            out = model(options.prepare_batch(xb))
        out = out.float()
        if batch_index == 0 and labels_name is not None:
            check_targets(labels_name, out, yb, loss_fn)
        totals["loss"] += loss_fn(out, yb) * len(xb)
        for name, fn in metrics.items():
            totals[name] += fn(out, yb)
    model.train(was_training)
    n = batches.num_samples
    return {name: total.item() / n for name, total in totals.items()}


@validate_params({
    "model": [nn.Module], "train": [Pair(), BatchIterator], "val": [Pair(), BatchIterator, None],
    "num_epochs": [Interval(Integral, 1, None)], "optimizer": [torch.optim.Optimizer, None],
    "lr": [Interval(Real, 0, None, closed="neither"), None], "loss_fn": [callable],
    "batch_size": [Interval(Integral, 1, None)], "metrics": [Mapping, None],
    "callbacks": [Sequences(Callback, allow_empty=True)], "progress": ["boolean"], "live_plot": ["boolean"],
    "device": [str, torch.device, None], "seed": [Interval(Integral, 0, None), None],
    "restore_on_divergence": ["boolean"], "divergence_factor": [Interval(Real, 0, None, closed="neither"), None],
    "precision": [Options(*PRECISIONS)], "channels_last": ["boolean", Options("auto")],
    "compile": ["boolean", InstanceOf(str, "the name of a torch.compile backend such as 'inductor'")], "verbose": ["boolean"]})
def fit(model: nn.Module, train, val=None, *, num_epochs: int = 10,
        optimizer: torch.optim.Optimizer | None = None, lr: float | None = None,
        loss_fn: Callable = nn.functional.cross_entropy, batch_size: int = 64,
        metrics: Mapping[str, Callable] | None = None, callbacks: Sequence[Callback] = (),
        progress: bool = False, live_plot: bool = False, device=None, seed: int | None = 0,
        restore_on_divergence: bool = True, divergence_factor: float | None = 10.0,
        precision: str = "auto", channels_last: bool | str = "auto", compile: bool | str = False,
        verbose: bool = True) -> History:
    """Train ``model`` on ``train`` for ``num_epochs`` epochs and return its :class:`History`.

    Parameters
    ----------
    train, val : ``(X, y)`` tensors or a :class:`~nnpractice.data.BatchIterator`.
        ``val`` is optional; with it, ``val_loss`` and ``val_<metric>`` are logged.
        Class labels must be int64 indices in ``[0, outputs)``; the error names ``train[1]`` otherwise.
    optimizer : a ``torch.optim`` optimizer over ``model``'s parameters.
        If omitted, ``Adam(model.parameters(), lr=lr)`` with ``lr`` 1e-3 by default;
        passing both is an error (the optimizer carries its own rate).
    loss_fn : ``loss_fn(output, target)`` returning the batch's mean loss.
    metrics : name → ``fn(output, target)`` returning a *sum* over the batch;
        default: ``accuracy`` when the targets are class labels.
    callbacks : :class:`~nnpractice.callbacks.Callback` objects; ``progress`` and ``live_plot``
        add a :class:`~nnpractice.callbacks.ProgressBar` and a :class:`~nnpractice.callbacks.LivePlot`.
    device : ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"mps"``; default: where the model is.
    seed : seeds the order of the training batches (``None``: a fresh order each run). A
        BatchIterator keeps its own generator and order.
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

    A callback may stop the run after any batch (``trainer.stop_training = True``); the
    partial epoch is then logged over the samples it saw. If anything raises, every
    callback's ``on_exception`` and then ``on_train_end`` run before the error goes on.

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
    if optimizer is not None and lr is not None:
        raise invalid("lr", lr, "None when an optimizer is passed (the optimizer carries its own learning rate)")
    params = list(model.parameters())
    if not params:
        raise invalid("model", model, "a model with parameters (this one has nothing to train)")

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
    train_batches = as_batches(train, "train", batch_size, True, seed, dev)
    val_batches = as_batches(val, "val", max(batch_size, 1024), False, None, dev) if val is not None else None
    metrics = default_metrics(train_batches.tensors[1]) if metrics is None else dict(metrics)
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3 if lr is None else lr)
    val_options = SpeedOptions("fp32", options.channels_last, False)

    callbacks = list(callbacks)
    if progress:
        callbacks.append(ProgressBar())
    if live_plot:
        callbacks.append(LivePlot())
    # Per-batch hooks cost a Python call per batch: only callbacks that define them are called.
    batch_begin = [cb for cb in callbacks if overrides(cb, "on_batch_begin")]
    batch_end = [cb for cb in callbacks if overrides(cb, "on_batch_end")]

    keys = ["train_loss", *(f"train_{m}" for m in metrics)]
    if val_batches is not None:
        keys += ["val_loss", *(f"val_{m}" for m in metrics)]
    history = History(keys + ["lr", "epoch_time"])
    history.status = "running"
    history.settings = {"device": str(dev), **options.as_dict()}
    first_loss = None
    trainer = Trainer(model, optimizer, loss_fn, history, num_epochs, dev)
    try:
        for cb in callbacks:
            cb.on_train_begin(trainer)
        for epoch in range(1, num_epochs + 1):
            trainer.epoch = epoch
            for cb in callbacks:
                cb.on_epoch_begin(trainer)
            if restore_on_divergence:
                saved = (clone_state(model.state_dict()), clone_state(optimizer.state_dict()))
            start = time.perf_counter()
            model.train()
            # Per-batch values stay on the device in lists; one sum and one sync per epoch.
            batch_losses, batch_sizes, outputs, targets = [], [], [], []
            for batch_index, (xb, yb) in enumerate(train_batches):
                trainer.batch_index, trainer.batch = batch_index, (xb, yb)
                for cb in batch_begin:
                    cb.on_batch_begin(trainer, batch_index)
                with options.autocast(dev):
                    output = forward(options.prepare_batch(xb))
                    if first_loss is None:
                        check_targets("train", output, yb, loss_fn)
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
                for cb in batch_end:
                    cb.on_batch_end(trainer, batch_index, loss)
                if trainer.stop_training:  # honoured after any batch
                    break

            n = sum(batch_sizes)  # the whole set, or the part seen before a stop
            sizes = torch.tensor(batch_sizes, device=dev, dtype=torch.float32)
            logs = {"train_loss": (torch.stack(batch_losses).float() @ sizes).item() / n}
            if metrics:
                all_outputs, all_targets = torch.cat(outputs), torch.cat(targets)
                logs.update({f"train_{name}": fn(all_outputs, all_targets).item() / n for name, fn in metrics.items()})
                del outputs[:], targets[:], all_outputs, all_targets
            if is_diverged(logs["train_loss"], first_loss, divergence_factor):
                history.diverged, history.diverged_at = True, epoch
                history.diverged_loss = logs["train_loss"]
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
                # (labels checked on the first epoch only; the options are fit's own, in float32)
                val_logs = _evaluate_batches(model, val_batches, loss_fn, metrics, val_options, dev,
                                             labels_name="val" if epoch == 1 else None)
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
    except BaseException as error:
        history.status = f"failed at epoch {trainer.epoch}: {type(error).__name__}"
        for cb in callbacks:
            cb.on_exception(trainer, error)
        raise
    finally:
        trainer.batch = None  # drop the last batch: the trainer may outlive the run
        for cb in callbacks:
            cb.on_train_end(trainer)
    return history

"""Learning rates: the LR range test, ``torch.optim.lr_scheduler`` schedules and the callback that steps them.

Both run inside :func:`nnpractice.training.fit`, as callbacks: :class:`LRFinder` sweeps the
rate batch by batch (the range test), :class:`LRSchedulerCallback` steps a scheduler.
Nothing here re-implements a schedule: :func:`make_schedule` builds the PyTorch scheduler
object with the arithmetic (epochs → steps) done for you and records whether it must be
stepped after every batch or after every epoch. The figures are in :mod:`nnpractice.plots`.

>>> import torch
>>> from nnpractice import data, models, schedules, training
>>> X, y = data.make_toy("moons", num_samples=256, seed=0)
>>> _ = torch.manual_seed(0)
>>> net = models.mlp(2, [16], 2)
>>> result = schedules.lr_range_test(net, (X, y), start_lr=1e-4, end_lr=1.0, num_steps=20, batch_size=32)
>>> len(result.lrs), result.lrs[0] < result.suggestion < result.lrs[-1]
(20, True)
>>> opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
>>> sched = schedules.make_schedule(opt, "one_cycle", num_epochs=3, steps_per_epoch=8, max_lr=0.5)
>>> sched.interval
'batch'
>>> h = training.fit(net, (X, y), num_epochs=3, batch_size=32, optimizer=opt,
...                  callbacks=[schedules.LRSchedulerCallback(sched)])
>>> h.status
'completed'
"""
from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Callable, Mapping, Sequence

import torch
from torch import nn
from torch.optim import lr_scheduler

from ._validation import (
    InstanceOf,
    Interval,
    InvalidParameterError,
    Options,
    Pair,
    Sequences,
    check,
    invalid,
    validate_params,
)
from .callbacks import Callback
from .data import BatchIterator
from .history import mode_for
from .optimizers import OPTIMIZERS, make_optimizer
from .training import clone_state, fit, is_diverged

__all__ = ["SCHEDULES", "RangeTestResult", "LRFinder", "suggest_lr", "lr_range_test", "Schedule", "make_schedule",
           "LRSchedulerCallback", "schedule_trace", "plot_schedules", "steps_per_epoch"]

SCHEDULES = ("constant", "step", "plateau", "cyclic", "cosine", "cosine_restarts", "one_cycle")
BATCH_WISE = (lr_scheduler.OneCycleLR, lr_scheduler.CyclicLR)
RULES = ("minimum", "steepest")
POSITIVE = Interval(Real, 0, None, closed="neither")
# A loss value: NaN and inf are allowed in a curve (a run that blew up records them).
LOSS = InstanceOf(Real, "a number (NaN and inf allowed)", example=lambda: 1.0)

# --------------------------------------------------------------------------- #
# LR range test: fit plus the LRFinder callback
# --------------------------------------------------------------------------- #


@dataclass
class RangeTestResult:
    """What :func:`lr_range_test` measured: one learning rate, loss and smoothed loss per step."""

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    suggestion: float
    rule: str
    stopped_early: bool = False
    notes: dict = field(default_factory=dict)

    def __post_init__(self):
        if not len(self.lrs) == len(self.losses) == len(self.smoothed):
            raise invalid("smoothed", self.smoothed, "one loss and one smoothed loss per learning rate",
                          f"{len(self.lrs)} rates, {len(self.losses)} losses, {len(self.smoothed)} smoothed")

    def plot(self, ax=None, *, title: str | None = "LR range test"):
        """Loss against learning rate (log scale), raw and smoothed, with the suggestion marked."""
        from .plots import range_test  # plots draw; importing them here keeps matplotlib out of training runs

        return range_test(self, ax=ax, title=title)


# a dataclass writes its own __init__: the constraints are attached to it afterwards
RangeTestResult.__init__ = validate_params({
    "lrs": [Sequences(POSITIVE)], "losses": [Sequences(LOSS)], "smoothed": [Sequences(LOSS)],
    "suggestion": [POSITIVE], "rule": [Options(*RULES)], "stopped_early": ["boolean"], "notes": [dict],
})(RangeTestResult.__init__)


class LRFinder(Callback):
    """The range test as a callback: raise the rate batch by batch and stop when the loss blows up.

    Before each batch the rate of every parameter group is set to step ``k`` of a sweep from
    ``start_lr`` to ``end_lr`` in ``num_steps`` steps (``"exponential"``: the same ratio each
    step; ``"linear"``: the same difference). After each batch the loss and its bias-corrected
    moving average (``beta``, as in Adam) are recorded in ``lrs``, ``losses`` and ``smoothed``;
    the run stops when the smoothed loss diverges or the sweep ends. At the end of the run the
    model (weights, buffers, gradients, train/eval mode), the optimizer and PyTorch's random
    generators are put back exactly as they were at its start: the test only looks.

    >>> finder = LRFinder(start_lr=1e-3, end_lr=1.0, num_steps=4)
    >>> [round(finder.rate(k), 6) for k in range(4)]
    [0.001, 0.01, 0.1, 1.0]
    """

    @validate_params({"start_lr": [POSITIVE], "end_lr": [POSITIVE], "num_steps": [Interval(Integral, 2, None)],
                      "sweep": [Options("exponential", "linear")], "beta": [Interval(Real, 0, 1, closed="left")],
                      "diverge_factor": [Interval(Real, 1, None, closed="neither")]})
    def __init__(self, start_lr: float = 1e-6, end_lr: float = 10.0, num_steps: int = 100, *,
                 sweep: str = "exponential", beta: float = 0.9, diverge_factor: float = 4.0):
        if end_lr <= start_lr:
            raise invalid("end_lr", end_lr, f"a value above start_lr={start_lr!r}")
        self.start_lr, self.end_lr, self.num_steps = start_lr, end_lr, num_steps
        self.sweep, self.beta, self.diverge_factor = sweep, beta, diverge_factor
        self.lrs: list[float] = []
        self.losses: list[float] = []
        self.smoothed: list[float] = []
        self.stopped_early = False

    def rate(self, step: int) -> float:
        """The learning rate of step ``step`` (0 to ``num_steps - 1``) of the sweep."""
        if self.sweep == "linear":
            return self.start_lr + (self.end_lr - self.start_lr) * step / (self.num_steps - 1)
        return self.start_lr * ((self.end_lr / self.start_lr) ** (1 / (self.num_steps - 1))) ** step

    def on_train_begin(self, trainer):
        self.lrs, self.losses, self.smoothed, self.stopped_early = [], [], [], False
        self._avg, self._best = 0.0, math.inf
        model = trainer.model
        self._saved = {
            "model": clone_state(model.state_dict()),
            "grads": [None if p.grad is None else p.grad.detach().clone() for p in model.parameters()],
            "modes": {name: m.training for name, m in model.named_modules()},
            "optimizer": clone_state(trainer.optimizer.state_dict()),
            "rng": torch.get_rng_state(),  # dropout draws from it: the test leaves it as found too
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        }

    def on_batch_begin(self, trainer, batch_index):
        lr = self.rate(len(self.lrs))
        for group in trainer.optimizer.param_groups:
            group["lr"] = lr

    def on_batch_end(self, trainer, batch_index, loss):
        self.lrs.append(trainer.optimizer.param_groups[0]["lr"])
        self.losses.append(loss.item())
        self._avg = self.beta * self._avg + (1 - self.beta) * self.losses[-1]
        smoothed = self._avg / (1 - self.beta ** len(self.losses))
        self.smoothed.append(smoothed)
        # THE divergence rule (training.is_diverged), measured against the best smoothed loss so far rather
        # than the first batch's: during a sweep the loss first falls, and the blow-up is relative to its low.
        if is_diverged(smoothed, self._best, self.diverge_factor):
            self.stopped_early = True
            trainer.stop_training, trainer.stop_reason = True, f"range test: loss diverged at lr {self.lrs[-1]:.3g}"
            return
        self._best = min(self._best, smoothed)
        if len(self.lrs) >= self.num_steps:
            trainer.stop_training, trainer.stop_reason = True, "range test: sweep finished"

    def on_train_end(self, trainer):
        saved, model, self._saved = getattr(self, "_saved", None), trainer.model, None
        if saved is None:  # the run failed before on_train_begin: nothing was touched
            return
        with torch.no_grad():
            model.load_state_dict(saved["model"])
        for p, g in zip(model.parameters(), saved["grads"]):
            p.grad = g
        for name, m in model.named_modules():
            m.training = saved["modes"][name]
        trainer.optimizer.load_state_dict(saved["optimizer"])
        torch.set_rng_state(saved["rng"])
        if saved["cuda_rng"] is not None:
            torch.cuda.set_rng_state_all(saved["cuda_rng"])


@validate_params({"lrs": [Sequences(POSITIVE)], "smoothed": [Sequences(LOSS)], "rule": [Options(*RULES)]})
def suggest_lr(lrs: Sequence[float], smoothed: Sequence[float], rule: str = "minimum") -> float:
    """Pick a learning rate from a range test's curve.

    ``rule="minimum"``: a tenth of the rate where the smoothed loss is lowest (the
    loss is still falling fast there, and the minimum itself is already close to
    divergence). ``rule="steepest"``: the rate where the smoothed loss falls fastest
    per decade of learning rate, ignoring the first and last tenth of the curve.
    Non-finite losses are skipped; fewer than 5 finite ones is an error, not a rate.

    >>> suggest_lr([1e-4, 1e-3, 1e-2, 1e-1, 1.0], [2.0, 1.5, 0.8, 0.5, 3.0])
    0.01
    """
    if len(lrs) != len(smoothed):
        raise invalid("smoothed", smoothed, "one value per learning rate",
                      f"lrs has {len(lrs)} values but smoothed has {len(smoothed)}")
    if len(lrs) < 5:
        raise invalid("lrs", lrs, "at least 5 learning rates to suggest one")
    finite = sum(math.isfinite(v) for v in smoothed)
    if finite < 5:  # an all-NaN curve would otherwise "suggest" its first rate
        raise invalid("smoothed", smoothed, "at least 5 finite losses to suggest a rate",
                      f"{finite} of {len(smoothed)} are finite (the run diverged from the start: lower start_lr)")
    values = [v if math.isfinite(v) else math.inf for v in smoothed]
    if rule == "minimum":
        best = min(range(len(values)), key=values.__getitem__)
        return lrs[best] / 10
    logs = [math.log10(lr) for lr in lrs]
    first, hi = max(1, len(lrs) // 10), len(lrs) - max(1, len(lrs) // 10)
    slopes = {i: (values[i + 1] - values[i - 1]) / (logs[i + 1] - logs[i - 1]) for i in range(first, hi - 1)
              if math.isfinite(values[i + 1]) and math.isfinite(values[i - 1])}
    if not slopes:
        raise invalid("smoothed", smoothed, "a finite stretch long enough to measure a slope (rule='steepest')")
    return lrs[min(slopes, key=slopes.__getitem__)]


@validate_params({
    "model": [nn.Module], "train": [Pair(), BatchIterator], "optimizer": [torch.optim.Optimizer, None],
    "loss_fn": [callable], "start_lr": [POSITIVE], "end_lr": [POSITIVE], "num_steps": [Interval(Integral, 5, None)],
    "batch_size": [Interval(Integral, 1, None)], "beta": [Interval(Real, 0, 1, closed="left")],
    "diverge_factor": [Interval(Real, 1, None, closed="neither")], "rule": [Options(*RULES)],
    "seed": [Interval(Integral, 0, None), None]})
def lr_range_test(model: nn.Module, train, *, optimizer: torch.optim.Optimizer | None = None,
                  loss_fn: Callable = nn.functional.cross_entropy, start_lr: float = 1e-6,
                  end_lr: float = 10.0, num_steps: int = 100, batch_size: int = 64, beta: float = 0.9,
                  diverge_factor: float = 4.0, rule: str = "minimum", seed: int | None = 0) -> RangeTestResult:
    """Raise the learning rate exponentially from ``start_lr`` to ``end_lr`` over ``num_steps`` batches.

    Records the training loss of each batch and stops early when the smoothed
    loss exceeds ``diverge_factor`` times its best value. Afterwards the model
    (parameters, buffers, gradients, train/eval mode), the optimizer (state
    and hyperparameters) and PyTorch's random generator are **exactly as they
    were**: the test only looks. It is :func:`~nnpractice.training.fit` with an
    :class:`LRFinder` callback.

    ``optimizer``: any ``torch.optim`` optimizer over ``model``'s parameters (its
    ``lr`` is overwritten during the test, then restored); default: SGD with
    momentum 0.9. ``rule`` is passed to :func:`suggest_lr`. The method is Smith's
    (2017), popularized by fastai's learning-rate finder.
    """
    if not any(True for _ in model.parameters()):
        raise invalid("model", model, "a model with parameters (this one has nothing to test)")
    finder = LRFinder(start_lr, end_lr, num_steps, beta=beta, diverge_factor=diverge_factor)
    if optimizer is None:
        optimizer = make_optimizer("momentum", model.parameters(), lr=start_lr)
    # Every epoch has at least one batch, so num_steps epochs always suffice: the finder stops the run.
    # fp32 and the caller's memory layout, as the test always ran; fit's own divergence stop is left to the finder.
    fit(model, train, num_epochs=num_steps, optimizer=optimizer, loss_fn=loss_fn, batch_size=batch_size,
        metrics={}, callbacks=[finder], seed=seed, restore_on_divergence=False, divergence_factor=None,
        precision="fp32", channels_last=False, verbose=False)
    usable = len(finder.lrs) - 1 if finder.stopped_early else len(finder.lrs)  # the last point is the blow-up
    if usable < 5:
        raise invalid("start_lr", start_lr, "a start where training is still stable",
                      f"the loss diverged after {usable} steps")
    suggestion = suggest_lr(finder.lrs[:usable], finder.smoothed[:usable], rule)
    return RangeTestResult(finder.lrs, finder.losses, finder.smoothed, suggestion, rule, finder.stopped_early)


# --------------------------------------------------------------------------- #
# Schedules: torch.optim.lr_scheduler objects, built and stepped correctly
# --------------------------------------------------------------------------- #


@dataclass
class Schedule:
    """A ``torch.optim.lr_scheduler`` object and how to step it.

    ``interval`` is ``"batch"`` or ``"epoch"``; ``monitor`` names the logged value
    a :class:`~torch.optim.lr_scheduler.ReduceLROnPlateau` watches.
    """

    scheduler: object
    interval: str
    name: str = ""
    monitor: str | None = None


def _example_scheduler():
    return lr_scheduler.StepLR(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1), step_size=1)


SCHEDULER = InstanceOf((lr_scheduler.LRScheduler, lr_scheduler.ReduceLROnPlateau),
                       "a torch.optim.lr_scheduler object", example=_example_scheduler)

# a dataclass writes its own __init__: the constraints are attached to it afterwards
Schedule.__init__ = validate_params({"scheduler": [SCHEDULER], "interval": [Options("batch", "epoch")],
                                     "name": [str], "monitor": [str, None]})(Schedule.__init__)


@validate_params({"optimizer": [torch.optim.Optimizer], "name": [Options(*SCHEDULES)],
                  "num_epochs": [Interval(Integral, 1, None)], "steps_per_epoch": [Interval(Integral, 1, None)],
                  "max_lr": [POSITIVE, None]})
def make_schedule(optimizer: torch.optim.Optimizer, name: str, *, num_epochs: int, steps_per_epoch: int,
                  max_lr: float | None = None, **options) -> Schedule:
    """Build the ``torch.optim.lr_scheduler`` for ``name`` over a budget of epochs × steps.

    ``max_lr`` (default: the optimizer's current ``lr``) is the largest rate the
    schedule uses. The schedules and their options (defaults in brackets):

    - ``"constant"``: ``LambdaLR`` returning 1 (a baseline); per epoch.
    - ``"step"``: ``StepLR``, multiply by ``gamma`` [0.1] every ``step_epochs``
      [a third of the run]; per epoch.
    - ``"plateau"``: ``ReduceLROnPlateau`` on ``monitor`` ["val_loss"], ``factor``
      [0.1], ``patience`` [2] epochs; per epoch.
    - ``"cyclic"``: ``CyclicLR`` (triangular) between ``max_lr / div`` [10] and
      ``max_lr``, ``num_cycles`` [3] full cycles; per batch.
    - ``"cosine"``: ``CosineAnnealingLR`` from ``max_lr`` to ``eta_min`` [0] over the run; per batch.
    - ``"cosine_restarts"``: ``CosineAnnealingWarmRestarts``, first cycle
      ``cycle_epochs`` [a third of the run] long, each next one ``T_mult`` [1]
      times longer; per batch.
    - ``"one_cycle"``: ``OneCycleLR`` with ``pct_start`` [0.3]; per batch.

    The optimizer's ``lr`` is set to ``max_lr`` first (``"cyclic"`` and
    ``"one_cycle"`` then set their own starting rates).
    """
    if max_lr is None:
        max_lr = check("max_lr", optimizer.param_groups[0]["lr"], [POSITIVE])
    for group in optimizer.param_groups:
        group["lr"] = max_lr
        group.pop("initial_lr", None)
    total = num_epochs * steps_per_epoch
    # The options depend on the schedule, so they are checked here, one by one, in the same style.
    positive_int, fraction = Interval(Integral, 1, None), Interval(Real, 0, 1, closed="neither")

    def take(key, default, constraints=None):
        value = options.pop(key, default)
        return check(key, value, constraints) if constraints else value

    def cycles_momentum():  # OneCycleLR/CyclicLR move the momentum too, where the optimizer has one
        return optimizer.defaults.get("momentum", 0) > 0 or "betas" in optimizer.defaults

    if name == "constant":
        sched = Schedule(lr_scheduler.LambdaLR(optimizer, lambda _: 1.0), "epoch", name)
    elif name == "step":
        step_epochs = take("step_epochs", max(1, num_epochs // 3), [positive_int])
        gamma = take("gamma", 0.1, [Interval(Real, 0, 1, closed="right")])
        sched = Schedule(lr_scheduler.StepLR(optimizer, step_size=step_epochs, gamma=gamma), "epoch", name)
    elif name == "plateau":
        monitor = take("monitor", "val_loss", [str])
        mode = take("mode", mode_for(monitor), [Options("min", "max")])
        factor = take("factor", 0.1, [fraction])
        patience = take("patience", 2, [Interval(Integral, 0, None)])
        scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, mode=mode, factor=factor, patience=patience,
                                                   **{k: options.pop(k) for k in list(options)
                                                      if k in ("threshold", "threshold_mode", "cooldown", "min_lr")})
        sched = Schedule(scheduler, "epoch", name, monitor)
    elif name == "cyclic":
        num_cycles = take("num_cycles", 3, [positive_int])
        div = take("div", 10.0, [POSITIVE])
        half = max(1, total // (2 * num_cycles))
        sched = Schedule(lr_scheduler.CyclicLR(optimizer, base_lr=max_lr / div, max_lr=max_lr, step_size_up=half,
                                               mode=take("mode", "triangular"), cycle_momentum=cycles_momentum()),
                         "batch", name)
    elif name == "cosine":
        eta_min = take("eta_min", 0.0, [Interval(Real, 0, max_lr)])
        sched = Schedule(lr_scheduler.CosineAnnealingLR(optimizer, T_max=total, eta_min=eta_min), "batch", name)
    elif name == "cosine_restarts":
        cycle_epochs = take("cycle_epochs", max(1, num_epochs // 3), [positive_int])
        t_mult = take("T_mult", 1, [positive_int])
        eta_min = take("eta_min", 0.0, [Interval(Real, 0, max_lr)])
        sched = Schedule(lr_scheduler.CosineAnnealingWarmRestarts(
            optimizer, T_0=cycle_epochs * steps_per_epoch, T_mult=t_mult, eta_min=eta_min), "batch", name)
    else:  # one_cycle
        pct_start = take("pct_start", 0.3, [fraction])
        sched = Schedule(lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=total, pct_start=pct_start,
                                                 cycle_momentum=cycles_momentum(),
                                                 div_factor=take("div_factor", 25.0, [POSITIVE]),
                                                 final_div_factor=take("final_div_factor", 1e4, [POSITIVE])),
                         "batch", name)
    if options:
        raise invalid("options", sorted(options), f"options of name={name!r} listed in make_schedule's documentation")
    return sched


class LRSchedulerCallback(Callback):
    """Step a learning-rate scheduler inside :func:`~nnpractice.training.fit`.

    Pass a :class:`Schedule` (from :func:`make_schedule`) or any
    ``torch.optim.lr_scheduler`` object. ``interval``: ``"batch"`` steps after
    every optimizer step, ``"epoch"`` after every epoch; by default
    ``OneCycleLR``/``CyclicLR`` step per batch and the others per epoch.
    ``ReduceLROnPlateau`` is always stepped per epoch with the logged value
    ``monitor`` (default ``"val_loss"``). ``lrs`` records the rate used by every
    batch, for plotting; the scheduler must drive the optimizer given to ``fit``.
    """

    @validate_params({"schedule": [SCHEDULER, Schedule], "interval": [Options("batch", "epoch"), None],
                      "monitor": [str, None]})
    def __init__(self, schedule, *, interval: str | None = None, monitor: str | None = None):
        if isinstance(schedule, Schedule):
            scheduler = schedule.scheduler
            interval = interval or schedule.interval
            monitor = monitor or schedule.monitor
        else:
            scheduler = schedule
        self.plateau = isinstance(scheduler, lr_scheduler.ReduceLROnPlateau)
        if interval is None:
            interval = "batch" if isinstance(scheduler, BATCH_WISE) else "epoch"
        if self.plateau and interval != "epoch":
            raise invalid("interval", interval, "'epoch' for ReduceLROnPlateau (it watches a value measured "
                          "once per epoch)")
        self.scheduler = scheduler
        self.interval = interval
        self.monitor = (monitor or "val_loss") if self.plateau else None
        self.lrs: list[float] = []

    def on_train_begin(self, trainer):
        if self.scheduler.optimizer is not trainer.optimizer:
            raise invalid("schedule", self.scheduler, "a scheduler of the optimizer passed to fit",
                          "it drives another optimizer")

    def on_batch_end(self, trainer, batch_index, loss):
        self.lrs.append(trainer.optimizer.param_groups[0]["lr"])
        if self.interval == "batch":
            self.scheduler.step()

    def on_epoch_end(self, trainer, logs):
        if self.interval != "epoch":
            return
        if self.plateau:
            if self.monitor not in logs:
                raise InvalidParameterError(f"monitor={self.monitor!r} is not logged by fit: expected one of {sorted(logs)} "
                                 "(pass validation data to fit to get val_* values).")
            self.scheduler.step(logs[self.monitor])
        else:
            self.scheduler.step()


@validate_params({"name": [Options(*SCHEDULES)], "num_epochs": [Interval(Integral, 1, None)],
                  "steps_per_epoch": [Interval(Integral, 1, None)], "max_lr": [POSITIVE],
                  "metric": [Sequences(LOSS), None], "optimizer": [Options(*OPTIMIZERS)]})
def schedule_trace(name: str, *, num_epochs: int, steps_per_epoch: int, max_lr: float = 0.1,
                   metric: Sequence[float] | None = None, optimizer: str = "momentum", **options) -> list[float]:
    """The learning rate of every batch of a ``name`` schedule, run on a throw-away optimizer.

    ``optimizer`` names one of :data:`nnpractice.optimizers.OPTIMIZERS` (it decides only
    whether cyclic schedules also move a momentum). For ``"plateau"``, ``metric`` gives the
    monitored value after each epoch (default: a loss that stops improving after a third of the run).

    >>> schedule_trace("step", num_epochs=3, steps_per_epoch=2, max_lr=1.0, step_epochs=1, gamma=0.5)
    [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    """
    opt = make_optimizer(optimizer, [torch.zeros(1, requires_grad=True)], lr=max_lr)
    sched = make_schedule(opt, name, num_epochs=num_epochs, steps_per_epoch=steps_per_epoch, max_lr=max_lr,
                          **options)
    if metric is None:
        metric = [1.0 / min(e, max(1, num_epochs // 3)) for e in range(1, num_epochs + 1)]
    if len(metric) < num_epochs:
        raise invalid("metric", metric, f"one value per epoch ({num_epochs})", f"{len(metric)} values")
    lrs = []
    with warnings.catch_warnings():
        # nothing is trained, so the optimizer never steps; torch warns about exactly that, and the rates are the same
        warnings.filterwarnings("ignore", message=re.escape("Detected call of `lr_scheduler.step()` before"))
        for epoch in range(num_epochs):
            for _ in range(steps_per_epoch):
                lrs.append(opt.param_groups[0]["lr"])
                if sched.interval == "batch":
                    sched.scheduler.step()
            if sched.interval == "epoch":
                if name == "plateau":
                    sched.scheduler.step(metric[epoch])
                else:
                    sched.scheduler.step()
    return lrs


@validate_params({"names": [Sequences(Options(*SCHEDULES)), Mapping], "num_epochs": [Interval(Integral, 1, None)],
                  "steps_per_epoch": [Interval(Integral, 1, None)], "max_lr": [POSITIVE],
                  "ax": ["no_validation"],  # checked by plots.lr_schedules, which draws
                  "title": [str, None]})
def plot_schedules(names: Sequence[str] | Mapping[str, list[float]] = SCHEDULES, *, num_epochs: int = 30,
                   steps_per_epoch: int = 20, max_lr: float = 0.1, ax=None, title: str | None = None,
                   **options):
    """Learning rate against epoch for several schedules (names, or name → per-batch rates).

    The traces come from :func:`schedule_trace`; :func:`nnpractice.plots.lr_schedules` draws them.
    """
    from .plots import lr_schedules  # plots draw; importing them here keeps matplotlib out of training runs

    if isinstance(names, Mapping):
        if not names:
            raise invalid("names", names, "at least one schedule")
        traces = dict(names)
    else:
        traces = {n: schedule_trace(n, num_epochs=num_epochs, steps_per_epoch=steps_per_epoch, max_lr=max_lr,
                                    **options) for n in names}
    return lr_schedules(traces, num_epochs=num_epochs, ax=ax, title=title)


@validate_params({"train": [Pair(), BatchIterator], "batch_size": [Interval(Integral, 1, None)]})
def steps_per_epoch(train, batch_size: int) -> int:
    """How many batches one epoch of ``train`` (``(X, y)`` or a BatchIterator) has, as ``fit`` builds them."""
    if isinstance(train, BatchIterator):
        return len(train)
    return math.ceil(len(train[0]) / batch_size)

"""Learning rates: the LR range test, ``torch.optim.lr_scheduler`` schedules and the callback that steps them.

Nothing here re-implements a schedule: :func:`make_schedule` builds the PyTorch
scheduler object with the arithmetic (epochs → steps) done for you and records
whether it must be stepped after every batch or after every epoch;
:class:`LRSchedulerCallback` steps it inside :func:`nnpractice.training.fit`.

>>> import torch
>>> from nnpractice import data, models, schedules, training
>>> X, y = data.make_toy("moons", num_samples=256, seed=0)
>>> net = models.mlp(2, [16], 2)
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
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import torch
from torch import nn
from torch.optim import lr_scheduler

from ._validation import check_choice, check_positive, check_range
from .data import BatchIterator
from .training import Callback, as_batches, clone_state

SCHEDULES = ("constant", "step", "plateau", "cyclic", "cosine", "cosine_restarts", "one_cycle")
BATCH_WISE = (lr_scheduler.OneCycleLR, lr_scheduler.CyclicLR)

# --------------------------------------------------------------------------- #
# LR range test
# --------------------------------------------------------------------------- #


@dataclass
class RangeTestResult:
    """What :func:`lr_range_test` measured: one learning rate and loss per step."""

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    suggestion: float
    rule: str
    stopped_early: bool = False
    notes: dict = field(default_factory=dict)

    def plot(self, ax=None, *, title: str | None = "LR range test"):
        """Loss against learning rate (log scale), raw and smoothed, with the suggestion marked."""
        return plot_range_test(self, ax=ax, title=title)


def _smooth(values: Sequence[float], beta: float) -> list[float]:
    """Bias-corrected exponential moving average (as in Adam), so the first values are not pulled to 0."""
    out, avg = [], 0.0
    for i, v in enumerate(values, start=1):
        avg = beta * avg + (1 - beta) * v
        out.append(avg / (1 - beta ** i))
    return out


def suggest_lr(lrs: Sequence[float], smoothed: Sequence[float], rule: str = "minimum") -> float:
    """Pick a learning rate from a range test's curve.

    ``rule="minimum"``: a tenth of the rate where the smoothed loss is lowest (the
    loss is still falling fast there, and the minimum itself is already close to
    divergence). ``rule="steepest"``: the rate where the smoothed loss falls fastest
    per decade of learning rate, ignoring the first and last tenth of the curve.
    """
    check_choice("rule", rule, ("minimum", "steepest"))
    if len(lrs) != len(smoothed):
        raise ValueError(f"lrs has {len(lrs)} values but smoothed has {len(smoothed)}: they must match.")
    if len(lrs) < 5:
        raise ValueError(f"lrs has {len(lrs)} values: expected at least 5 to suggest a rate.")
    values = [v if math.isfinite(v) else math.inf for v in smoothed]
    if rule == "minimum":
        best = min(range(len(values)), key=values.__getitem__)
        return lrs[best] / 10
    logs = [math.log10(lr) for lr in lrs]
    lo, hi = len(lrs) // 10, len(lrs) - max(1, len(lrs) // 10)
    slopes = [(values[i + 1] - values[i - 1]) / (logs[i + 1] - logs[i - 1]) for i in range(max(1, lo), hi - 1)
              if math.isfinite(values[i + 1]) and math.isfinite(values[i - 1])]
    if not slopes:
        raise ValueError("smoothed has no finite stretch long enough to measure a slope.")
    first = max(1, lo)
    steepest = min(range(len(slopes)), key=slopes.__getitem__)
    return lrs[first + steepest]


def lr_range_test(model: nn.Module, train, *, optimizer: torch.optim.Optimizer | None = None,
                  loss_fn: Callable = nn.functional.cross_entropy, start_lr: float = 1e-6,
                  end_lr: float = 10.0, num_steps: int = 100, batch_size: int = 64, beta: float = 0.9,
                  diverge_factor: float = 4.0, rule: str = "minimum", seed: int | None = 0) -> RangeTestResult:
    """Raise the learning rate exponentially from ``start_lr`` to ``end_lr`` over ``num_steps`` batches.

    Records the training loss of each batch and stops early when the smoothed
    loss exceeds ``diverge_factor`` times its best value. Afterwards the model
    (parameters, buffers, gradients, train/eval mode), the optimizer (state
    and hyperparameters) and PyTorch's random generator are **exactly as they
    were**: the test only looks.

    ``optimizer``: any ``torch.optim`` optimizer over ``model``'s parameters (its
    ``lr`` is overwritten during the test, then restored); default: SGD with
    momentum 0.9. ``rule`` is passed to :func:`suggest_lr`. The method is Smith's
    (2017), popularized by fastai's learning-rate finder.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model is a {type(model).__name__}: expected a torch.nn.Module.")
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError(f"optimizer is a {type(optimizer).__name__}: expected a torch.optim.Optimizer.")
    check_positive("start_lr", start_lr)
    check_positive("end_lr", end_lr)
    if end_lr <= start_lr:
        raise ValueError(f"end_lr={end_lr!r} is not allowed: expected a value above start_lr={start_lr!r}.")
    check_positive("num_steps", num_steps, integer=True)
    if num_steps < 5:
        raise ValueError(f"num_steps={num_steps!r} is not allowed: expected at least 5.")
    check_positive("batch_size", batch_size, integer=True)
    check_range("beta", beta, 0.0, 1.0, high_inclusive=False)
    check_positive("diverge_factor", diverge_factor)
    if diverge_factor <= 1:
        raise ValueError(f"diverge_factor={diverge_factor!r} is not allowed: expected a number above 1.")
    check_choice("rule", rule, ("minimum", "steepest"))
    params = list(model.parameters())
    if not params:
        raise ValueError("model has no parameters: there is nothing to test.")
    dev = params[0].device
    batches = as_batches(train, "train", batch_size, True, seed, dev)

    # Save everything the test touches.
    saved_model = clone_state(model.state_dict())
    saved_grads = [None if p.grad is None else p.grad.detach().clone() for p in params]
    saved_mode = {name: m.training for name, m in model.named_modules()}
    saved_rng = torch.get_rng_state()   # dropout draws from it: the test leaves it as found too
    saved_cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
    own_optimizer = optimizer is None
    if own_optimizer:
        optimizer = torch.optim.SGD(params, lr=start_lr, momentum=0.9)
    else:
        saved_optimizer = clone_state(optimizer.state_dict())

    factor = (end_lr / start_lr) ** (1 / (num_steps - 1))
    lrs, losses = [], []
    best, stopped_early, step, avg = math.inf, False, 0, 0.0
    model.train()
    try:
        while step < num_steps and not stopped_early:
            for xb, yb in batches:
                lr = start_lr * factor ** step
                for group in optimizer.param_groups:
                    group["lr"] = lr
                loss = loss_fn(model(xb), yb)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                lrs.append(lr)
                losses.append(loss.item())
                avg = beta * avg + (1 - beta) * losses[-1]
                smoothed_now = avg / (1 - beta ** len(losses))
                if not math.isfinite(smoothed_now) or smoothed_now > diverge_factor * best:
                    stopped_early = True
                    break
                best = min(best, smoothed_now)
                step += 1
                if step >= num_steps:
                    break
    finally:
        with torch.no_grad():
            model.load_state_dict(saved_model)
        for p, g in zip(params, saved_grads):
            p.grad = g
        for name, m in model.named_modules():
            m.training = saved_mode[name]
        if not own_optimizer:
            optimizer.load_state_dict(saved_optimizer)
        torch.set_rng_state(saved_rng)
        if saved_cuda_rng is not None:
            torch.cuda.set_rng_state_all(saved_cuda_rng)

    smoothed = _smooth(losses, beta)
    usable = len(lrs) - 1 if stopped_early else len(lrs)   # the last point is the blow-up
    if usable < 5:
        raise ValueError(
            f"the loss diverged after {usable} steps: start_lr={start_lr!r} is too large "
            "(expected a start where training is still stable)."
        )
    suggestion = suggest_lr(lrs[:usable], smoothed[:usable], rule)
    return RangeTestResult(lrs, losses, smoothed, suggestion, rule, stopped_early)


def plot_range_test(result: RangeTestResult, ax=None, *, title: str | None = "LR range test"):
    """Draw a :class:`RangeTestResult`: loss vs learning rate (log scale) and the suggested rate."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.8))
    ax.plot(result.lrs, result.losses, color="C0", alpha=0.3, label="batch loss")
    ax.plot(result.lrs, result.smoothed, color="C0", label="smoothed loss")
    ax.axvline(result.suggestion, color="C3", linestyle="--",
               label=f"suggested lr {result.suggestion:.2g} ({result.rule})")
    ax.set_xscale("log")
    finite = [v for v in result.smoothed if math.isfinite(v)]
    if finite:
        low, high = min(finite), finite[0]
        ax.set_ylim(low - 0.1 * (high - low + 1e-12), max(high, low) + 0.6 * (high - low + 1e-12))
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss")
    if title:
        ax.set_title(title)
    ax.legend()
    return ax.figure


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
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError(f"optimizer is a {type(optimizer).__name__}: expected a torch.optim.Optimizer.")
    check_choice("name", name, SCHEDULES)
    check_positive("num_epochs", num_epochs, integer=True)
    check_positive("steps_per_epoch", steps_per_epoch, integer=True)
    if max_lr is None:
        max_lr = optimizer.param_groups[0]["lr"]
    check_positive("max_lr", max_lr)
    for group in optimizer.param_groups:
        group["lr"] = max_lr
        group.pop("initial_lr", None)
    total = num_epochs * steps_per_epoch

    def take(key, default):
        return options.pop(key, default)

    if name == "constant":
        sched = Schedule(lr_scheduler.LambdaLR(optimizer, lambda _: 1.0), "epoch", name)
    elif name == "step":
        step_epochs = take("step_epochs", max(1, num_epochs // 3))
        check_positive("step_epochs", step_epochs, integer=True)
        gamma = take("gamma", 0.1)
        check_range("gamma", gamma, 0.0, 1.0, low_inclusive=False)
        sched = Schedule(lr_scheduler.StepLR(optimizer, step_size=step_epochs, gamma=gamma), "epoch", name)
    elif name == "plateau":
        monitor = take("monitor", "val_loss")
        mode = take("mode", "min" if "loss" in monitor else "max")
        check_choice("mode", mode, ("min", "max"))
        factor = take("factor", 0.1)
        check_range("factor", factor, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
        patience = take("patience", 2)
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"patience={patience!r} is not allowed: expected an integer >= 0.")
        scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, mode=mode, factor=factor, patience=patience,
                                                   **{k: options.pop(k) for k in list(options)
                                                      if k in ("threshold", "threshold_mode", "cooldown", "min_lr")})
        sched = Schedule(scheduler, "epoch", name, monitor)
    elif name == "cyclic":
        num_cycles = take("num_cycles", 3)
        check_positive("num_cycles", num_cycles, integer=True)
        div = take("div", 10.0)
        check_positive("div", div)
        half = max(1, total // (2 * num_cycles))
        momentum = "momentum" in optimizer.defaults and optimizer.defaults["momentum"] > 0
        momentum = momentum or "betas" in optimizer.defaults
        sched = Schedule(lr_scheduler.CyclicLR(optimizer, base_lr=max_lr / div, max_lr=max_lr, step_size_up=half,
                                               mode=take("mode", "triangular"), cycle_momentum=momentum),
                         "batch", name)
    elif name == "cosine":
        eta_min = take("eta_min", 0.0)
        check_range("eta_min", eta_min, 0.0, max_lr)
        sched = Schedule(lr_scheduler.CosineAnnealingLR(optimizer, T_max=total, eta_min=eta_min), "batch", name)
    elif name == "cosine_restarts":
        cycle_epochs = take("cycle_epochs", max(1, num_epochs // 3))
        check_positive("cycle_epochs", cycle_epochs, integer=True)
        t_mult = take("T_mult", 1)
        check_positive("T_mult", t_mult, integer=True)
        eta_min = take("eta_min", 0.0)
        check_range("eta_min", eta_min, 0.0, max_lr)
        sched = Schedule(lr_scheduler.CosineAnnealingWarmRestarts(
            optimizer, T_0=cycle_epochs * steps_per_epoch, T_mult=t_mult, eta_min=eta_min), "batch", name)
    else:  # one_cycle
        pct_start = take("pct_start", 0.3)
        check_range("pct_start", pct_start, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
        momentum = ("momentum" in optimizer.defaults and optimizer.defaults["momentum"] > 0) \
            or "betas" in optimizer.defaults
        sched = Schedule(lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=total, pct_start=pct_start,
                                                 cycle_momentum=momentum,
                                                 div_factor=take("div_factor", 25.0),
                                                 final_div_factor=take("final_div_factor", 1e4)), "batch", name)
    if options:
        raise ValueError(f"options {sorted(options)} are not allowed for name={name!r}: "
                         f"see the list in make_schedule's documentation.")
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

    def __init__(self, schedule, *, interval: str | None = None, monitor: str | None = None):
        if isinstance(schedule, Schedule):
            scheduler = schedule.scheduler
            interval = interval or schedule.interval
            monitor = monitor or schedule.monitor
        else:
            scheduler = schedule
        if not isinstance(scheduler, (lr_scheduler.LRScheduler, lr_scheduler.ReduceLROnPlateau)):
            raise ValueError(f"schedule is a {type(schedule).__name__}: expected a Schedule or a "
                             "torch.optim.lr_scheduler object.")
        self.plateau = isinstance(scheduler, lr_scheduler.ReduceLROnPlateau)
        if interval is None:
            interval = "batch" if isinstance(scheduler, BATCH_WISE) else "epoch"
        check_choice("interval", interval, ("batch", "epoch"))
        if self.plateau and interval != "epoch":
            raise ValueError(f"interval={interval!r} is not allowed for ReduceLROnPlateau: expected 'epoch' "
                             "(it watches a value measured once per epoch).")
        self.scheduler = scheduler
        self.interval = interval
        self.monitor = (monitor or "val_loss") if self.plateau else None
        self.lrs: list[float] = []

    def on_train_begin(self, trainer):
        if self.scheduler.optimizer is not trainer.optimizer:
            raise ValueError("schedule drives another optimizer: build it on the optimizer passed to fit.")

    def on_batch_end(self, trainer, batch_index, loss):
        self.lrs.append(trainer.optimizer.param_groups[0]["lr"])
        if self.interval == "batch":
            self.scheduler.step()

    def on_epoch_end(self, trainer, logs):
        if self.interval != "epoch":
            return
        if self.plateau:
            if self.monitor not in logs:
                raise ValueError(f"monitor={self.monitor!r} is not logged by fit: expected one of {sorted(logs)} "
                                 "(pass validation data to fit to get val_* values).")
            self.scheduler.step(logs[self.monitor])
        else:
            self.scheduler.step()


def schedule_trace(name: str, *, num_epochs: int, steps_per_epoch: int, max_lr: float = 0.1,
                   metric: Sequence[float] | None = None, optimizer: str = "sgd", **options) -> list[float]:
    """The learning rate of every batch of a ``name`` schedule, run on a throw-away optimizer.

    For ``"plateau"``, ``metric`` gives the monitored value after each epoch
    (default: a loss that stops improving after a third of the run).
    """
    check_choice("optimizer", optimizer, ("sgd", "adam"))
    param = torch.zeros(1, requires_grad=True)
    opt = (torch.optim.SGD([param], lr=max_lr, momentum=0.9) if optimizer == "sgd"
           else torch.optim.Adam([param], lr=max_lr))
    sched = make_schedule(opt, name, num_epochs=num_epochs, steps_per_epoch=steps_per_epoch, max_lr=max_lr,
                          **options)
    if metric is None:
        metric = [1.0 / min(e, max(1, num_epochs // 3)) for e in range(1, num_epochs + 1)]
    if len(metric) < num_epochs:
        raise ValueError(f"metric has {len(metric)} values: expected one per epoch ({num_epochs}).")
    lrs = []
    for epoch in range(num_epochs):
        for _ in range(steps_per_epoch):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()  # no gradient: nothing moves, but the scheduler sees a step was taken
            if sched.interval == "batch":
                sched.scheduler.step()
        if sched.interval == "epoch":
            if name == "plateau":
                sched.scheduler.step(metric[epoch])
            else:
                sched.scheduler.step()
    return lrs


def plot_schedules(names: Sequence[str] | Mapping[str, list[float]] = SCHEDULES, *, num_epochs: int = 30,
                   steps_per_epoch: int = 20, max_lr: float = 0.1, ax=None, title: str | None = None,
                   **options):
    """Learning rate against epoch for several schedules (names, or name → per-batch rates)."""
    import matplotlib.pyplot as plt

    if isinstance(names, Mapping):
        traces = dict(names)
    else:
        traces = {n: schedule_trace(n, num_epochs=num_epochs, steps_per_epoch=steps_per_epoch, max_lr=max_lr,
                                    **options) for n in names}
    if not traces:
        raise ValueError("names is empty: expected at least one schedule.")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.8))
    for label, lrs in traces.items():
        per_epoch = len(lrs) / num_epochs
        ax.plot([i / per_epoch for i in range(len(lrs))], lrs, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    ax.set_title(title or "Learning-rate schedules with the same budget")
    ax.legend(fontsize=9, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.figure.tight_layout()
    return ax.figure


def steps_per_epoch(train, batch_size: int) -> int:
    """How many batches one epoch of ``train`` (``(X, y)`` or a BatchIterator) has, as ``fit`` builds them."""
    if isinstance(train, BatchIterator):
        return len(train)
    check_positive("batch_size", batch_size, integer=True)
    if not (isinstance(train, (tuple, list)) and len(train) == 2):
        raise ValueError(f"train is a {type(train).__name__}: expected a pair (X, y) or a BatchIterator.")
    return math.ceil(len(train[0]) / batch_size)

"""One training run of the playground: :func:`training.fit <nnpractice.training.fit>` plus two callbacks.

:class:`StopWhenStale` asks ``should_stop()`` before every batch and raises :class:`Aborted`
when a newer setting arrived (``fit`` then runs its exception and end hooks and re-raises);
:class:`StreamEpochs` hands the run to ``on_epoch`` after every epoch, for a streaming figure.

>>> run = train_once("moons", {"epochs": 3}, seed=0)
>>> run.status, run.history.num_epochs
('completed', 3)
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from numbers import Real
from typing import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from .. import data, models, optimizers, regularization, training
from .._validation import InstanceOf, Interval, Options, validate_params
from ..callbacks import Callback
from ..history import History
from .knobs import PROBLEMS, SETTINGS, check_config
from .problems import problem_data, problem_shape


class Aborted(Exception):
    """Raised inside a run whose settings went stale (a newer slider value arrived)."""


@dataclass
class Run:
    """One finished (or stopped) training run of the playground; ``data`` is ``(X_train, y_train, X_val, y_val)``."""

    problem: str
    config: dict
    history: History
    model: nn.Module
    status: str
    data: tuple
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def diverged(self) -> bool:
        return self.history.diverged


Run.__init__ = validate_params({
    "problem": [Options(*PROBLEMS)], "config": [dict], "history": [History], "model": [nn.Module],
    "status": [str], "data": [tuple], "seconds": [Interval(Real, 0, None)], "extra": [dict]})(Run.__init__)


RUN = InstanceOf(Run, "a playground Run", example=lambda: Run("moons", {}, History(), nn.Linear(2, 2), "completed", ()))


@validate_params({"problem": [Options(*PROBLEMS)], "config": [SETTINGS], "seed": [data.SEED]})
def build_model(problem: str, config: Mapping, seed: int = 0) -> nn.Module:
    """The MLP of a playground run, initialized from its own generator (global RNG untouched)."""
    config = check_config(problem, config)
    in_features, out = problem_shape(problem)
    net = models.mlp(in_features, [config["width"]] * config["depth"], out,
                     activation=config["activation"], dropout=config["dropout"])
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Linear):  # PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
                bound = 1.0 / math.sqrt(m.in_features)
                m.weight.uniform_(-bound, bound, generator=gen)
                m.bias.uniform_(-bound, bound, generator=gen)
    return net


@validate_params({"model": [nn.Module], "weight_decay": [Interval(Real, 0, None)]})
def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Optimizer groups: weight decay on the weights ``regularization.penalized_parameters`` picks, none on the rest.

    The L1 knob penalizes the same weights, so L1 and L2 act on one set (biases are never penalized).
    """
    if weight_decay == 0:  # nothing to tell apart: one group is one pass of the optimizer's Python per step
        return [{"params": list(model.parameters()), "weight_decay": 0.0}]
    decayed = list(regularization.penalized_parameters(model))
    chosen = {id(p) for p in decayed}
    rest = [p for p in model.parameters() if id(p) not in chosen]
    return [{"params": decayed, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


@validate_params({"model": [nn.Module], "l1": [Interval(Real, 0, None, closed="neither")]})
def l1_subgradient_loss(model: nn.Module, l1: float) -> Callable:
    """Cross-entropy whose *value* is the data loss and whose *gradient* adds ``l1 · Σ|w|``'s.

    The penalty is ``regularization.l1_penalty`` (the weights only); adding it as
    ``penalty - penalty.detach()`` (zero, with the penalty's gradient) keeps the logged
    training and validation losses the plain cross-entropy, as the playground's curves say.
    """

    def loss_fn(output, target):
        penalty = l1 * regularization.l1_penalty(model)
        return F.cross_entropy(output, target) + (penalty - penalty.detach())

    return loss_fn


class StopWhenStale(Callback):
    """Raise :class:`Aborted` before a batch once ``should_stop()`` says yes."""

    @validate_params({"should_stop": [callable]})
    def __init__(self, should_stop: Callable[[], bool]):
        self.should_stop = should_stop

    def on_batch_begin(self, trainer, batch_index):
        if self.should_stop():
            raise Aborted  # fit calls on_exception and on_train_end, then re-raises


class StreamEpochs(Callback):
    """Point ``run`` at the live history and call ``on_epoch(run)`` after every logged epoch."""

    @validate_params({"run": [RUN], "on_epoch": [callable, None]})
    def __init__(self, run: Run, on_epoch: Callable[[Run], None] | None = None):
        self.run = run
        self.on_epoch = on_epoch

    def on_train_begin(self, trainer):
        self.run.history = trainer.history
        self.start = time.perf_counter()

    def on_epoch_end(self, trainer, logs):
        self.run.seconds = time.perf_counter() - self.start
        if self.on_epoch is not None:
            self.on_epoch(self.run)


@validate_params({"problem": [Options(*PROBLEMS)], "config": [SETTINGS, None], "seed": [data.SEED],
                  "should_stop": [callable, None], "on_epoch": [callable, None],
                  "divergence_factor": [Interval(Real, 0, None, closed="neither"), None]})
def train_once(problem: str, config: Mapping | None = None, *, seed: int = 0,
               should_stop: Callable[[], bool] | None = None,
               on_epoch: Callable[[Run], None] | None = None, divergence_factor: float | None = 10.0) -> Run:
    """Train the playground's model once with ``config`` (missing knobs take their defaults).

    ``should_stop()`` is asked before every batch; when it says yes the run raises
    :class:`Aborted`. ``on_epoch(run)`` sees the run after every epoch (for
    streaming figures). A run whose epoch loss is not finite, or exceeds
    ``divergence_factor`` times its first batch's loss (``training.is_diverged``), ends
    with status ``"diverged at epoch k"`` and keeps the weights it exploded to.
    The returned model is in evaluation mode.
    """
    config = check_config(problem, config or {})
    X_train, y_train, X_val, y_val = problem_data(problem, config["train_size"], config["noise"], seed=seed)
    model = build_model(problem, config, seed)
    optimizer = optimizers.make_optimizer(config["optimizer"], parameter_groups(model, config["l2"]), config["lr"])
    loss_fn = l1_subgradient_loss(model, config["l1"]) if config["l1"] > 0 else F.cross_entropy
    run = Run(problem, config, History(), model, "running", (X_train, y_train, X_val, y_val))
    callbacks = [StreamEpochs(run, on_epoch)]
    if should_stop is not None:
        callbacks.append(StopWhenStale(should_stop))
    start = time.perf_counter()
    # A network this small answers fastest on the CPU in float32, whatever else the machine has.
    run.history = training.fit(model, (X_train, y_train), (X_val, y_val), num_epochs=config["epochs"],
                               optimizer=optimizer, loss_fn=loss_fn, batch_size=config["batch_size"],
                               callbacks=callbacks, seed=seed, device="cpu", restore_on_divergence=False,
                               divergence_factor=divergence_factor, precision="fp32", channels_last=False,
                               verbose=False)
    model.eval()
    run.status = run.history.status
    run.seconds = time.perf_counter() - start
    return run


__all__ = ["Aborted", "Run", "RUN", "build_model", "parameter_groups", "l1_subgradient_loss", "StopWhenStale",
           "StreamEpochs", "train_once"]

"""The knobs of the playground: what a reader may change, the allowed values, and the defaults.

>>> check_config("moons", {"lr": 0.5})["lr"], default_config("moons")["optimizer"]
(0.5, 'momentum')
>>> KNOBS["dropout"].check("dropout", 0.95)
Traceback (most recent call last):
...
nnpractice._validation.InvalidParameterError: dropout=0.95 is not allowed: expected a number in [0.0, 0.8].
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral, Real

from .. import data, models, optimizers
from .._validation import InstanceOf, Interval, Options, check, invalid, validate_params

IMAGE_PROBLEMS = ("digits", "mnist1d")
PROBLEMS = data.TOY_PROBLEMS + IMAGE_PROBLEMS
KINDS = ("log", "float", "int", "choice")


@dataclass(frozen=True)
class Knob:
    """One setting of the playground: its label, its slider and what values it accepts.

    ``kind`` is ``"log"`` (a log-scale slider between ``low`` and ``high``),
    ``"float"`` or ``"int"`` (a linear slider), or ``"choice"`` (one of ``options``;
    numbers there get a slider, names a drop-down).
    """

    label: str
    kind: str
    low: float = 0.0
    high: float = 1.0
    step: float = 0.0
    options: tuple = ()

    def __post_init__(self):
        if self.kind == "choice" and not self.options:
            raise invalid("options", self.options, "at least one option for a knob of kind 'choice'")
        if self.kind != "choice" and not self.low <= self.high:
            raise invalid("high", self.high, f"a number >= low={self.low!r}")

    def constraint(self):
        """The values this knob accepts, as a constraint (numeric choices: anything in their range)."""
        if self.kind == "choice":
            if isinstance(self.options[0], str):
                return Options(*self.options)
            kind = Integral if all(isinstance(o, Integral) for o in self.options) else Real
            return Interval(kind, min(self.options), max(self.options))
        if self.kind == "int":
            return Interval(Integral, int(self.low), int(self.high))
        return Interval(Real, self.low, self.high)

    def check(self, name: str, value):
        """Return ``value`` (an int or float for numeric knobs) if allowed, else raise naming ``name``."""
        constraint = self.constraint()
        check(name, value, [constraint])
        if isinstance(constraint, Interval):
            return int(value) if constraint.kind is Integral else float(value)
        return value


Knob.__init__ = validate_params({
    "label": [str], "kind": [Options(*KINDS)], "low": [Interval(Real, None, None)],
    "high": [Interval(Real, None, None)], "step": [Interval(Real, 0, None)], "options": [tuple]})(Knob.__init__)


KNOBS: dict[str, Knob] = {
    "lr": Knob("learning rate", "log", 1e-4, 10.0),
    "dropout": Knob("dropout", "float", 0.0, 0.8, 0.05),
    "l2": Knob("L2 (weight decay)", "choice", options=(0.0, 1e-5, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)),
    "l1": Knob("L1", "choice", options=(0.0, 1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)),
    "batch_size": Knob("batch size", "choice", options=(4, 8, 16, 32, 64, 128, 256, 512)),
    "epochs": Knob("epochs", "int", 1, 100, 1),
    "width": Knob("hidden width", "choice", options=(1, 2, 4, 8, 16, 32, 64, 128, 256)),
    "depth": Knob("hidden layers", "int", 0, 4, 1),
    # The optimizer and activation names are the library's own tables: one home each.
    "optimizer": Knob("optimizer", "choice", options=tuple(optimizers.OPTIMIZERS)),
    "activation": Knob("activation", "choice", options=tuple(models.ACTIVATIONS)),
    "noise": Knob("noise", "float", 0.0, 0.5, 0.05),
    "train_size": Knob("training examples", "choice", options=(25, 50, 100, 200, 400, 800, 1200)),
}

DEFAULTS_2D = {"lr": 0.1, "dropout": 0.0, "l2": 0.0, "l1": 0.0, "batch_size": 32, "epochs": 30,
               "width": 16, "depth": 2, "optimizer": "momentum", "activation": "tanh", "noise": 0.2,
               "train_size": 200}
DEFAULTS_IMAGE = {"lr": 0.1, "dropout": 0.0, "l2": 0.0, "l1": 0.0, "batch_size": 32, "epochs": 15,
                  "width": 64, "depth": 1, "optimizer": "sgd", "activation": "relu", "noise": 0.0,
                  "train_size": 400}


@validate_params({"problem": [Options(*PROBLEMS)]})
def default_config(problem: str) -> dict:
    """The settings a playground on ``problem`` starts from (every knob has one)."""
    return dict(DEFAULTS_IMAGE if problem in IMAGE_PROBLEMS else DEFAULTS_2D)


SETTINGS = InstanceOf(Mapping, "a mapping of knob names to values", example=dict)


@validate_params({"problem": [Options(*PROBLEMS)], "config": [SETTINGS]})
def check_config(problem: str, config: Mapping) -> dict:
    """The full settings (defaults filled in), or an error naming the first bad one."""
    full = default_config(problem)
    for name, value in config.items():
        if name not in KNOBS:
            raise invalid(name, value, "a knob: one of " + ", ".join(map(repr, KNOBS)))
        full[name] = KNOBS[name].check(name, value)
    return full


@validate_params({"value": ["no_validation"]})  # every knob value (number or name) has a text form
def format_value(value) -> str:
    """A knob's value as the controls and titles show it (``0.001``, ``'adam'`` as ``adam``)."""
    return f"{value:g}" if isinstance(value, float) else str(value)

__all__ = ["Knob", "KNOBS", "PROBLEMS", "IMAGE_PROBLEMS", "DEFAULTS_2D", "DEFAULTS_IMAGE", "SETTINGS",
           "default_config", "check_config", "format_value"]

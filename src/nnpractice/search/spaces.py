"""Search spaces: one :class:`Dimension` per hyperparameter, each on its own scale.

Every dimension maps its values to ``[0, 1]`` and back, so a method can work on the unit
cube (Bayesian optimization, the genetic algorithm) and sample, grid or narrow the space
without knowing the scales.

>>> space = SearchSpace(lr=LogUniform(1e-4, 1.0), width=Integer(16, 256, log=True))
>>> middle = space.from_unit([0.5, 0.5])        # the centre of the cube: the middle of each log scale
>>> round(middle["lr"], 12), middle["width"]
(0.01, 63)
>>> [round(v, 12) for v in LogUniform(1e-4, 1.0).grid(2)]   # cell centres, not the end points
[0.001, 0.1]
"""
from __future__ import annotations

import itertools
import math
from numbers import Integral, Real
from typing import Mapping, Sequence

import numpy as np

from .._validation import InstanceOf, Interval, invalid, validate_params

__all__ = ["Dimension", "Uniform", "LogUniform", "Integer", "Categorical", "SearchSpace"]

_FINITE = Interval(Real, None, None)
_INTEGER = Interval(Integral, None, None)
_COUNT = Interval(Integral, 1, None)
_RNG = InstanceOf(np.random.Generator, "a numpy.random.Generator", example=lambda: np.random.default_rng(0))
_UNIT_POINT = InstanceOf((np.ndarray, list, tuple), "a point of the unit cube (an array of numbers)",
                         example=lambda: [0.5])


class _Positive(Interval):
    """A positive finite number, described with the reason: a log scale has no zero."""

    def __init__(self, kind=Real):
        super().__init__(kind, 0, None, closed="neither")

    def __str__(self) -> str:
        return f"{super().__str__()} (a log scale needs bounds > 0)"


def _check_order(low, high) -> None:
    if not low < high:
        raise invalid("high", high, f"a value > low={low!r}")


class Dimension:
    """One hyperparameter. Every dimension maps its values to ``[0, 1]`` and back."""

    @validate_params({"rng": [_RNG]})
    def sample(self, rng: np.random.Generator):
        """One random value (uniform on the dimension's own scale)."""
        return self.from_unit(rng.uniform())

    def to_unit(self, value) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def from_unit(self, u: float):  # pragma: no cover - overridden
        raise NotImplementedError

    @validate_params({"num_points": [_COUNT]})
    def grid(self, num_points: int) -> list:
        """``num_points`` values at the centres of equal cells of the dimension (on its own scale).

        Cell centres rather than end points: two points of ``LogUniform(1e-4, 1)`` are
        1e-3 and 1e-1, not the extremes 1e-4 and 1.
        """
        return [self.from_unit((i + 0.5) / num_points) for i in range(num_points)]


class Uniform(Dimension):
    """A real number between ``low`` and ``high``, every value equally likely."""

    @validate_params({"low": [_FINITE], "high": [_FINITE]})
    def __init__(self, low: float, high: float):
        _check_order(low, high)
        self.low, self.high = float(low), float(high)

    def to_unit(self, value):
        return (float(value) - self.low) / (self.high - self.low)

    def from_unit(self, u):
        return self.low + float(np.clip(u, 0.0, 1.0)) * (self.high - self.low)

    def narrowed(self, value, fraction):
        half = fraction * (self.high - self.low) / 2
        return Uniform(max(self.low, value - half), min(self.high, value + half))

    def __repr__(self):
        return f"Uniform({self.low:g}, {self.high:g})"


class LogUniform(Dimension):
    """A positive number whose logarithm is uniform: each factor of ten equally likely.

    The right scale for learning rates and weight decay: 1e-4 to 1e-3 gets as many
    trials as 1e-2 to 1e-1.
    """

    @validate_params({"low": [_Positive()], "high": [_Positive()]})
    def __init__(self, low: float, high: float):
        _check_order(low, high)
        self.low, self.high = float(low), float(high)

    def to_unit(self, value):
        return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))

    def from_unit(self, u):
        u = float(np.clip(u, 0.0, 1.0))
        return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))

    def narrowed(self, value, fraction):
        ratio = (self.high / self.low) ** (fraction / 2)
        return LogUniform(max(self.low, value / ratio), min(self.high, value * ratio))

    def __repr__(self):
        return f"LogUniform({self.low:g}, {self.high:g})"


class Integer(Dimension):
    """An integer from ``low`` to ``high`` inclusive, on a linear or (``log=True``) log scale."""

    @validate_params({"low": [_INTEGER], "high": [_INTEGER], "log": ["boolean"]})
    def __init__(self, low: int, high: int, *, log: bool = False):
        if log and low <= 0:
            raise invalid("low", low, str(_Positive(Integral)))
        _check_order(low, high)
        self.low, self.high, self.log = int(low), int(high), bool(log)
        # integers are rounded from a continuous value that reaches half a step beyond each end
        inner = LogUniform if log else Uniform
        self._inner = inner(self.low - 0.4999, self.high + 0.4999)

    def to_unit(self, value):
        return self._inner.to_unit(value)

    def from_unit(self, u):
        return int(min(self.high, max(self.low, round(self._inner.from_unit(u)))))

    def grid(self, num_points):
        values = super().grid(num_points)
        return sorted(set(values))

    def narrowed(self, value, fraction):
        inner = self._inner.narrowed(value, fraction)
        low, high = max(self.low, math.ceil(inner.low)), min(self.high, math.floor(inner.high))
        if low >= high:
            low, high = max(self.low, value - 1), min(self.high, value + 1)
        return Integer(low, high, log=self.log)

    def __repr__(self):
        return f"Integer({self.low}, {self.high}{', log=True' if self.log else ''})"


class Categorical(Dimension):
    """One of a list of choices (an optimizer's name, an activation)."""

    @validate_params({"choices": [InstanceOf(Sequence, "a list of at least two distinct choices",
                                             example=lambda: ["sgd", "adam"])]})
    def __init__(self, choices: Sequence):
        choices = list(choices)
        if len(choices) < 2:
            raise invalid("choices", choices, "at least two choices")
        if len(set(map(repr, choices))) != len(choices):
            raise invalid("choices", choices, "distinct choices")
        self.choices = choices

    def to_unit(self, value):
        if value not in self.choices:
            raise invalid("value", value, f"one of {self.choices!r}")
        return (self.choices.index(value) + 0.5) / len(self.choices)

    def from_unit(self, u):
        index = min(int(float(np.clip(u, 0.0, 1.0)) * len(self.choices)), len(self.choices) - 1)
        return self.choices[index]

    def grid(self, num_points):
        return list(self.choices[:num_points])

    def narrowed(self, value, fraction):
        return self

    def __repr__(self):
        return f"Categorical({self.choices!r})"


class SearchSpace:
    """Named dimensions: ``SearchSpace(lr=LogUniform(1e-4, 1), dropout=Uniform(0, 0.5))``."""

    @validate_params({"dimensions": [Mapping, None]})
    def __init__(self, dimensions: Mapping[str, Dimension] | None = None, **named: Dimension):
        dims = dict(dimensions or {})
        dims.update(named)
        if not dims:
            raise invalid("dimensions", dims, "at least one named dimension")
        for name, dim in dims.items():
            if not isinstance(dim, Dimension):
                raise invalid(name, dim, "a LogUniform, Uniform, Integer or Categorical")
        self.dimensions = dims

    @property
    def names(self) -> list[str]:
        return list(self.dimensions)

    def __len__(self) -> int:
        return len(self.dimensions)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.dimensions.items())
        return f"SearchSpace({inner})"

    def _check_config(self, config: Mapping) -> None:
        missing = [name for name in self.names if name not in config]
        if missing:
            raise invalid("config", config, f"a value for each of {self.names}", f"{missing} missing")

    @validate_params({"rng": [_RNG]})
    def sample(self, rng: np.random.Generator) -> dict:
        """One random configuration (each dimension on its own scale)."""
        return {name: dim.sample(rng) for name, dim in self.dimensions.items()}

    @validate_params({"config": [Mapping]})
    def to_unit(self, config: Mapping) -> np.ndarray:
        """The configuration as a point of the unit cube ``[0, 1]^d``."""
        self._check_config(config)
        return np.array([dim.to_unit(config[name]) for name, dim in self.dimensions.items()])

    @validate_params({"u": [_UNIT_POINT]})
    def from_unit(self, u) -> dict:
        """The configuration at the point ``u`` of the unit cube."""
        if len(u) != len(self):
            raise invalid("u", u, f"{len(self)} coordinates, one per dimension")
        return {name: dim.from_unit(x) for (name, dim), x in zip(self.dimensions.items(), u)}

    @validate_params({"points_per_dim": [_COUNT, Mapping]})
    def grid(self, points_per_dim: Mapping[str, int] | int) -> list[dict]:
        """Every combination of ``points_per_dim`` values per dimension (int or dict name → count)."""
        if isinstance(points_per_dim, Mapping):
            unknown = [name for name in points_per_dim if name not in self.dimensions]
            if unknown:
                raise invalid("points_per_dim", points_per_dim, f"counts for names among {self.names}",
                              f"{unknown} unknown")
            counts = {name: points_per_dim.get(name, 1) for name in self.names}
        else:
            counts = {name: points_per_dim for name in self.names}
        axes = [self.dimensions[name].grid(counts[name]) for name in self.names]
        return [dict(zip(self.names, values)) for values in itertools.product(*axes)]

    @validate_params({"config": [Mapping], "fraction": [Interval(Real, 0, 1, closed="right")]})
    def narrowed(self, config: Mapping, fraction: float = 0.25) -> "SearchSpace":
        """Coarse to fine: a space ``fraction`` as wide (on each scale) centred on ``config``."""
        self._check_config(config)
        return SearchSpace({name: dim.narrowed(config[name], fraction) for name, dim in self.dimensions.items()})


def _grid_counts(space: SearchSpace, num_trials: int) -> dict[str, int]:
    """Points per dimension whose product is at most ``num_trials``, as even as possible."""
    counts = {name: 1 for name in space.names}
    limits = {name: (len(d.choices) if isinstance(d, Categorical) else
                     d.high - d.low + 1 if isinstance(d, Integer) else num_trials)
              for name, d in space.dimensions.items()}
    grown = True
    while grown:
        grown = False
        for name in space.names:
            total = math.prod(counts.values())
            if counts[name] < limits[name] and total // counts[name] * (counts[name] + 1) <= num_trials:
                counts[name] += 1
                grown = True
    return counts

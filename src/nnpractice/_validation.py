"""Parameter checks shared by the library, in scikit-learn's spirit.

Every check raises ``ValueError`` whose message names the parameter, the value
it got, and what is allowed, so a reader can fix the call without reading code.
"""
from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Iterable


def check_positive(name: str, value, *, integer: bool = False):
    """Return ``value`` if it is a finite number > 0 (an int if ``integer``)."""
    kind = "a positive integer" if integer else "a positive finite number"
    if isinstance(value, bool) or not isinstance(value, Integral if integer else Real):
        raise ValueError(f"{name}={value!r} is not allowed: expected {kind}.")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}={value!r} is not allowed: expected {kind}.")
    return value


def check_range(name: str, value, low: float, high: float, *,
                low_inclusive: bool = True, high_inclusive: bool = True):
    """Return ``value`` if it lies in the interval from ``low`` to ``high``."""
    left = "[" if low_inclusive else "("
    right = "]" if high_inclusive else ")"
    allowed = f"a number in {left}{low}, {high}{right}"
    if isinstance(value, bool) or not isinstance(value, Real) or math.isnan(value):
        raise ValueError(f"{name}={value!r} is not allowed: expected {allowed}.")
    too_low = value < low or (value == low and not low_inclusive)
    too_high = value > high or (value == high and not high_inclusive)
    if too_low or too_high:
        raise ValueError(f"{name}={value!r} is not allowed: expected {allowed}.")
    return value


def check_choice(name: str, value, choices: Iterable):
    """Return ``value`` if it is one of ``choices``."""
    choices = list(choices)
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name}={value!r} is not allowed: expected one of {allowed}.")
    return value


def check_nonempty(name: str, tensor) -> None:
    """Raise if a tensor or array has no rows."""
    if len(tensor) == 0:
        raise ValueError(f"{name} is empty (0 samples): expected at least one sample.")


def check_same_length(name_a: str, a, name_b: str, b) -> None:
    """Raise if two tensors do not have the same number of rows."""
    if len(a) != len(b):
        raise ValueError(
            f"{name_a} has {len(a)} samples but {name_b} has {len(b)}: "
            "they must have the same number of rows."
        )

"""Parameter constraints declared beside each public function, in scikit-learn's spirit.

A public function states what each parameter may be, as data::

    @validate_params({"num_epochs": [Interval(Integral, 1, None)], "optimizer": [Optimizer, None]})
    def fit(model, train, *, num_epochs=10, optimizer=None): ...

and every bad call raises one error type, :class:`InvalidParameterError` (both a
``ValueError`` and a ``TypeError``), in one message style::

    num_epochs=0 is not allowed: expected an integer in [1, inf).

Because the constraints are data (``fit.__constraints__``), one generated test
(``tests/test_bad_input.py``) tries an invalid value for every parameter of every
public function. Checks that relate two parameters (``low < high``, same number of
rows) stay in the body and raise :func:`invalid` with the same style.
"""
from __future__ import annotations

import functools
import inspect
import itertools
import math
from numbers import Integral, Real
from typing import Any, Callable, Iterable

__all__ = ["InvalidParameterError", "validate_params", "invalid", "Interval", "Options", "InstanceOf",
           "Pair", "Sequences", "NoValidation", "Constraint"]


class InvalidParameterError(ValueError, TypeError):
    """A parameter got a value it does not allow (a ``ValueError`` and a ``TypeError``, like scikit-learn's)."""


def _show(value) -> str:
    text = repr(value)
    if len(text) > 60:  # a tensor or a long list: its type and shape say enough
        shape = getattr(value, "shape", None)
        text = f"<{type(value).__name__}{' of shape ' + str(tuple(shape)) if shape is not None else ''}>"
    return text


def invalid(name: str, value, allowed: str, reason: str | None = None) -> InvalidParameterError:
    """The one message style: ``name=value is not allowed: expected <allowed>[; here <reason>].``"""
    here = f"; here {reason}" if reason else ""
    return InvalidParameterError(f"{name}={_show(value)} is not allowed: expected {allowed}{here}.")


def _failure(name: str, value, constraints: list) -> InvalidParameterError:
    reasons = [r for r in (c.reason(name, value) for c in constraints) if r]
    return invalid(name, value, describe(constraints), reasons[0] if reasons else None)


# --------------------------------------------------------------------------- #
# Constraints: each says whether it accepts a value, describes itself, and can
# give a valid and an invalid example (the generated bad-input test uses both).
# --------------------------------------------------------------------------- #


class Constraint:
    def accepts(self, value) -> bool:
        raise NotImplementedError

    def valid_example(self):
        raise NotImplementedError

    def invalid_examples(self) -> list:
        return []

    def reason(self, name: str, value) -> str | None:
        """Why ``value`` fails, when a constraint can say more than its description."""
        return None


class _Bad:
    """A value of a type no parameter accepts."""

    def __repr__(self) -> str:
        return "<an object of no expected type>"


class NoValidation(Constraint):
    """Anything goes (say why in a comment where it is used)."""

    def accepts(self, value) -> bool:
        return True

    def valid_example(self):
        return None

    def __str__(self) -> str:
        return "anything"


class Interval(Constraint):
    """A number of ``kind`` (``Integral`` or ``Real``) between ``low`` and ``high`` (``None``: unbounded).

    ``closed`` is "both", "left", "right" or "neither". Booleans and NaN are never numbers here.
    """

    def __init__(self, kind, low, high, *, closed: str = "both"):
        if kind not in (Integral, Real):
            raise ValueError(f"kind={kind!r} is not allowed: expected numbers.Integral or numbers.Real.")
        if closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"closed={closed!r} is not allowed: expected 'both', 'left', 'right' or 'neither'.")
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def accepts(self, value) -> bool:
        kind = type(value)
        if kind is float:  # the common cases first: isinstance against numbers.Real costs ~1 µs
            if self.kind is Integral or value != value:
                return False
        elif kind is not int:
            if kind is bool or not isinstance(value, self.kind) or value != value:  # value != value: NaN
                return False
        if self.low is not None:
            if value < self.low or (value == self.low and self.closed in ("right", "neither")):
                return False
        elif not value > -math.inf:
            return False
        if self.high is not None:
            if value > self.high or (value == self.high and self.closed in ("left", "neither")):
                return False
        elif not value < math.inf:
            return False
        return True

    def __str__(self) -> str:
        kind = "an integer" if self.kind is Integral else "a number"
        if self.low is None and self.high is None:
            return f"{kind} (finite)" if self.kind is Real else kind
        if self.kind is Integral and self.high is None and self.closed in ("both", "left"):
            if self.low == 0:
                return "a non-negative integer"
            if self.low == 1:
                return "a positive integer"
        if self.kind is Real and self.low == 0 and self.high is None and self.closed in ("right", "neither"):
            return "a positive finite number"
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        low = "-inf" if self.low is None else self.low
        high = "inf" if self.high is None else self.high
        return f"{kind} in {left}{low}, {high}{right}"

    def valid_example(self):
        low = self.low if self.low is not None else (self.high - 1 if self.high is not None else 0)
        candidates = [low, low + 1, (low + self.high) / 2 if self.high is not None else low + 1]
        for value in candidates:
            value = int(value) if self.kind is Integral else float(value)
            if self.accepts(value):
                return value
        raise RuntimeError(f"no valid example for {self}")

    def invalid_examples(self) -> list:
        examples = ["a string", math.nan]
        if self.low is not None:
            examples.append(self.low - 1)
        if self.high is not None:
            examples.append(self.high + 1)
        if self.kind is Integral:
            examples.append(1.5)
        return [v for v in examples if not self.accepts(v)]


class Options(Constraint):
    """One of a fixed set of values (compared with ``==``, never a bool for a number)."""

    def __init__(self, *choices):
        self.choices = choices

    def accepts(self, value) -> bool:
        try:
            return any(value == c and type(value) is type(c) or value is c for c in self.choices)
        except Exception:  # a tensor compared with a string, say
            return False

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(c) for c in self.choices)

    def valid_example(self):
        return self.choices[0]

    def invalid_examples(self) -> list:
        return ["not-an-option", _Bad()]


class InstanceOf(Constraint):
    """An instance of ``cls`` (bools are never ints), with an example the generated test can pass."""

    def __init__(self, cls, description: str | None = None, example: Callable[[], Any] | None = None):
        self.cls, self.description, self.example = cls, description, example
        self._seen: set[type] = set()  # types already accepted: isinstance against an ABC costs ~1 µs

    def accepts(self, value) -> bool:
        kind = type(value)
        if kind in self._seen:
            return True
        if kind is bool and not (self.cls is bool or (isinstance(self.cls, tuple) and bool in self.cls)):
            return False  # True is an int to Python, never a number or a count to us
        if isinstance(value, self.cls):
            self._seen.add(kind)
            return True
        return False

    def __str__(self) -> str:
        if self.description:
            return self.description
        names = self.cls if isinstance(self.cls, tuple) else (self.cls,)
        return " or ".join(_type_name(c) for c in names)

    def valid_example(self):
        if self.example is not None:
            return self.example()
        cls = self.cls[0] if isinstance(self.cls, tuple) else self.cls
        return _EXAMPLES[cls]() if cls in _EXAMPLES else cls()

    def invalid_examples(self) -> list:
        return [_Bad()]


class _CallableConstraint(Constraint):
    def accepts(self, value) -> bool:
        return callable(value)

    def __str__(self) -> str:
        return "a callable"

    def valid_example(self):
        return lambda *args, **kwargs: None

    def invalid_examples(self) -> list:
        return ["not callable"]


class _NoneConstraint(Constraint):
    def accepts(self, value) -> bool:
        return value is None

    def __str__(self) -> str:
        return "None"

    def valid_example(self):
        return None


class _BooleanConstraint(Constraint):
    def accepts(self, value) -> bool:
        return isinstance(value, bool)

    def __str__(self) -> str:
        return "True or False"

    def valid_example(self):
        return True

    def invalid_examples(self) -> list:
        return ["yes", 1]


class Pair(Constraint):
    """A pair ``(X, y)`` of tensors with the same number of rows (at least one)."""

    def accepts(self, value) -> bool:
        import torch

        return (isinstance(value, (tuple, list)) and len(value) == 2
                and all(isinstance(v, torch.Tensor) for v in value)
                and value[0].ndim > 0 and value[1].ndim > 0 and len(value[0]) == len(value[1]) > 0)

    def __str__(self) -> str:
        return "a pair (X, y) of tensors with the same number of rows (at least one)"

    def reason(self, name: str, value) -> str | None:
        import torch

        if not isinstance(value, (tuple, list)) or len(value) != 2:
            return f"{name} is a {type(value).__name__}" + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else "")
        parts = (f"{name}[0] (X)", f"{name}[1] (y)")
        for part, tensor in zip(parts, value):
            if not isinstance(tensor, torch.Tensor):
                return f"{part} is a {type(tensor).__name__}"
            if tensor.ndim == 0:
                return f"{part} is a 0-d tensor"
        if len(value[0]) == 0:
            return f"{parts[0]} is empty (0 samples)"
        if len(value[0]) != len(value[1]):
            return f"{parts[0]} has {len(value[0])} samples but {parts[1]} has {len(value[1])}"
        return None

    def valid_example(self):
        import torch

        return torch.zeros(4, 2), torch.zeros(4, dtype=torch.long)

    def invalid_examples(self) -> list:
        import torch

        return [(torch.zeros(4, 2), torch.zeros(3, dtype=torch.long)), (torch.zeros(0, 2), torch.zeros(0)), "Xy"]


class Sequences(Constraint):
    """A non-empty list or tuple whose items all satisfy ``item`` (one constraint)."""

    def __init__(self, item, *, allow_empty: bool = False):
        self.item, self.allow_empty = _as_constraint(item), allow_empty

    def accepts(self, value) -> bool:
        if not isinstance(value, (list, tuple)) or (not value and not self.allow_empty):
            return False
        return all(self.item.accepts(v) for v in value)

    def __str__(self) -> str:
        return f"a {'' if self.allow_empty else 'non-empty '}list of {_plural(str(self.item))}"

    def reason(self, name: str, value) -> str | None:
        """The first item that fails, by index: ``hidden[1]=0``."""
        if isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                if not self.item.accepts(item):
                    return f"{name}[{i}]={_show(item)}"
        return None

    def valid_example(self):
        return [self.item.valid_example()]

    def invalid_examples(self) -> list:
        bad_items = [[v] for v in self.item.invalid_examples()[:1]]
        return ([] if self.allow_empty else [[]]) + bad_items + [_Bad()]


def _plural(description: str) -> str:
    for article in ("an ", "a "):
        if description.startswith(article):
            return description[len(article):] + " items"
    return description


def _type_name(cls) -> str:
    module = cls.__module__
    name = cls.__qualname__
    if module == "builtins":
        return {"str": "a string", "int": "an integer", "float": "a number", "dict": "a dict", "list": "a list",
                "tuple": "a tuple"}.get(name, name)
    if module.startswith("torch"):
        module = {"torch.nn.modules.module": "torch.nn", "torch.optim.optimizer": "torch.optim",
                  "torch._C": "torch", "torch.utils.data.dataset": "torch.utils.data"}.get(module, module)
        if name == "TensorBase" or name == "Tensor":
            return "a torch.Tensor"
    return f"a {module}.{name}"


def _example_tensor():
    import torch

    return torch.zeros(4, 2)


def _example_module():
    from torch import nn

    return nn.Linear(2, 2)


def _example_optimizer():
    import torch

    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)


def _lazy_examples() -> dict:
    from numbers import Integral, Real

    import torch
    from torch import nn

    return {Real: lambda: 1.0, Integral: lambda: 1, torch.device: lambda: torch.device("cpu"),
            torch.Tensor: _example_tensor, nn.Module: _example_module, torch.optim.Optimizer: _example_optimizer,
            str: lambda: "x", dict: dict, list: list, int: lambda: 1, float: lambda: 1.0}


class _Examples(dict):
    def __missing__(self, cls):
        self.update(_lazy_examples())
        if cls in self:
            return self[cls]
        raise KeyError(cls)

    def __contains__(self, cls) -> bool:
        if not dict.__len__(self):
            self.update(_lazy_examples())
        return dict.__contains__(self, cls)


_EXAMPLES = _Examples()


def _as_constraint(spec) -> Constraint:
    """Shorthands: ``None``, ``"boolean"``, ``callable``, a class, or a Constraint."""
    if isinstance(spec, Constraint):
        return spec
    if spec is None:
        return _NoneConstraint()
    if spec == "boolean":
        return _BooleanConstraint()
    if spec is callable:
        return _CallableConstraint()
    if spec == "no_validation":
        return NoValidation()
    spec = getattr(spec, "__origin__", spec)  # typing.Mapping -> collections.abc.Mapping
    if isinstance(spec, type) or (isinstance(spec, tuple) and all(isinstance(c, type) for c in spec)):
        return InstanceOf(spec)
    raise TypeError(f"{spec!r} is not a constraint")


def describe(constraints: list[Constraint]) -> str:
    """``"a positive integer or None"``: what a list of constraints allows, in words."""
    texts = [str(c) for c in constraints]
    return texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " or " + texts[-1]


def check(name: str, value, constraints) -> Any:
    """Return ``value`` if one of ``constraints`` (a list of specs) accepts it; else raise."""
    constraints = [_as_constraint(c) for c in constraints]
    if not any(c.accepts(value) for c in constraints):
        raise _failure(name, value, constraints)
    return value


def validate_params(constraints: dict[str, list]) -> Callable:
    """Decorate a function (or a class's ``__init__``) with the constraints of its parameters.

    Every parameter of the signature must appear (``"no_validation"`` when anything is
    accepted), so no parameter can be forgotten; the check runs before the body.
    """
    resolved = {name: [_as_constraint(c) for c in specs] for name, specs in constraints.items()}

    def decorate(function):
        signature = inspect.signature(function)
        names = [p.name for p in signature.parameters.values()
                 if p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        missing = [n for n in names if n not in resolved]
        extra = [n for n in resolved if n not in names]
        if missing or extra:
            raise TypeError(f"{function.__qualname__}: constraints missing for {missing}, unknown {extra}")

        # Positional slots by name, computed once: binding the signature on every call costs ~15 µs,
        # and some declared functions run once per batch.
        slots = [p.name for p in signature.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        nothing = ()

        @functools.wraps(function)
        def checked(*args, **kwargs):
            for name, value in itertools.chain(zip(slots, args), kwargs.items()):
                for c in resolved.get(name, nothing):
                    if c.accepts(value):
                        break
                else:
                    if name in resolved:
                        raise _failure(name, value, resolved[name])
            return function(*args, **kwargs)

        checked.__constraints__ = resolved
        return checked

    return decorate


# --------------------------------------------------------------------------- #
# The older helpers, kept for checks that are not yet declared: same error, same style.
# --------------------------------------------------------------------------- #


def check_positive(name: str, value, *, integer: bool = False):
    """Return ``value`` if it is a finite number > 0 (an int if ``integer``)."""
    return check(name, value, [Interval(Integral, 1, None) if integer else Interval(Real, 0, None, closed="neither")])


def check_range(name: str, value, low: float, high: float, *,
                low_inclusive: bool = True, high_inclusive: bool = True):
    """Return ``value`` if it lies in the interval from ``low`` to ``high``."""
    closed = {(True, True): "both", (True, False): "left", (False, True): "right", (False, False): "neither"}
    return check(name, value, [Interval(Real, low, high, closed=closed[low_inclusive, high_inclusive])])


def check_choice(name: str, value, choices: Iterable):
    """Return ``value`` if it is one of ``choices``."""
    choices = list(choices)
    if value not in choices:
        raise invalid(name, value, "one of " + ", ".join(repr(c) for c in choices))
    return value


def check_nonempty(name: str, tensor) -> None:
    """Raise if a tensor or array has no rows."""
    if len(tensor) == 0:
        raise InvalidParameterError(f"{name} is empty (0 samples): expected at least one sample.")


def check_same_length(name_a: str, a, name_b: str, b) -> None:
    """Raise if two tensors do not have the same number of rows."""
    if len(a) != len(b):
        raise InvalidParameterError(
            f"{name_a} has {len(a)} samples but {name_b} has {len(b)}: "
            "they must have the same number of rows."
        )

"""One generated test: an invalid value for every parameter of every public function.

Each public function (and class) of the library declares its parameters' constraints with
``_validation.validate_params``; this test finds them all, builds a valid value for every other
parameter from the constraints, passes one invalid value, and expects InvalidParameterError
(both a ValueError and a TypeError) naming the parameter and the value. A public function
without declared constraints fails the first test: none can be forgotten.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import nnpractice
from nnpractice._validation import InvalidParameterError, NoValidation, _Bad

# Public names that take no parameter a caller could get wrong, each with the reason (none today).
NOT_VALIDATED: dict[str, str] = {}


def _modules():
    # the prefix lets walk_packages import subpackages (search, plots) and list their modules too
    names = ["nnpractice"] + [m.name for m in pkgutil.walk_packages(nnpractice.__path__, prefix="nnpractice.")
                              if not m.name.split(".")[-1].startswith("_")]
    return [importlib.import_module(name) for name in sorted(names)]


def _public_callables():
    seen = {}
    for module in _modules():
        names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
        for name in names:
            obj = getattr(module, name)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if obj.__module__ != module.__name__ or isinstance(obj, type) and issubclass(obj, BaseException):
                continue  # defined elsewhere (re-exported) or an exception type
            seen[f"{module.__name__}.{name}"] = obj
    return seen


def _target(obj):
    """The function whose parameters a call validates: the function, or a class's __init__."""
    return obj.__init__ if inspect.isclass(obj) else obj


def _parameters(function):
    sig = inspect.signature(function)
    return [p for p in sig.parameters.values()
            if p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


PUBLIC = _public_callables()
DECLARED = {name: obj for name, obj in PUBLIC.items()
            if _parameters(_target(obj)) and name not in NOT_VALIDATED}


def test_the_library_has_public_functions_to_check():
    assert len(DECLARED) > 80, sorted(DECLARED)


@pytest.mark.parametrize("name", sorted(DECLARED))
def test_every_public_function_declares_its_constraints(name):
    target = _target(DECLARED[name])
    assert hasattr(target, "__constraints__"), f"{name} declares no parameter constraints (validate_params)"


def _cases():
    for name, obj in sorted(DECLARED.items()):
        constraints = getattr(_target(obj), "__constraints__", None)
        if constraints is None:
            continue
        for parameter in _parameters(_target(obj)):
            specs = constraints[parameter.name]
            if any(isinstance(c, NoValidation) for c in specs):
                continue
            candidates = [v for c in specs for v in c.invalid_examples()] + [_Bad()]
            bad = [v for v in candidates if not any(c.accepts(v) for c in specs)]
            assert bad, f"{name}: no invalid value found for {parameter.name}"
            yield pytest.param(name, parameter.name, bad[0], id=f"{name}-{parameter.name}")


def _valid_arguments(obj, skip: str) -> dict:
    constraints = _target(obj).__constraints__
    arguments = {}
    for parameter in _parameters(_target(obj)):
        if parameter.name != skip and parameter.default is inspect.Parameter.empty:
            arguments[parameter.name] = constraints[parameter.name][0].valid_example()
    return arguments


@pytest.mark.parametrize("name, parameter, value", list(_cases()))
def test_an_invalid_value_is_refused_with_the_parameter_named(name, parameter, value):
    obj = DECLARED[name]
    arguments = _valid_arguments(obj, parameter)
    arguments[parameter] = value
    with pytest.raises(InvalidParameterError) as error:
        obj(**arguments)
    message = str(error.value)
    assert message.startswith(f"{parameter}=") and "is not allowed: expected" in message, message
    assert isinstance(error.value, ValueError) and isinstance(error.value, TypeError)

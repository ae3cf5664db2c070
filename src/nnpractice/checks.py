"""Exercise checks that watch what runs, so a forbidden operation cannot be renamed away.

An exercise that says "no ``conv2d``" cannot be checked by patching ``F.conv2d``: the same
operator is reachable as ``torch.conv2d``, ``torch.convolution``, ``torch.ops.aten.convolution``,
``nn.Conv2d``, a name bound before the patch, and more. These context managers watch the
operators and functions that actually run inside the block, whatever name reached them::

    with forbid_ops(*CONVOLUTION_OPS, reason="write the convolution with slicing and einsum"):
        mine = my_conv2d(x, weight, bias)          # any PyTorch convolution raises AssertionError

    with forbid_calls(search.expected_improvement, reason="write the formula with math.erf"):
        mine = expected_improvement(mean, std, best)

- :func:`forbid_ops` refuses PyTorch operators. It watches twice: a
  ``TorchDispatchMode`` sees every operator the dispatcher runs (aliases, ``torch.ops.aten``
  calls, Tensor methods, functional forms, ``nn`` modules all end there), and a
  ``TorchFunctionMode`` sees the torch-level function that was called. The second is needed
  for *composite* operators, which the dispatcher splits before a dispatch mode sees them:
  ``aten::conv2d`` becomes ``aten::convolution``, ``aten::linear`` becomes ``aten::t`` and
  ``aten::mm``. So forbid the operator that does the work (``aten::convolution``, or the
  whole :data:`CONVOLUTION_OPS` group, since lower-level entry points such as
  ``torch._C._nn.thnn_conv2d`` skip ``aten::convolution``); a composite name such as
  ``aten::conv2d`` or ``aten::linear`` is caught only where the composite itself is called
  (as a torch function, a Tensor method or ``torch.ops``).
- :func:`forbid_calls` refuses Python functions (by their code object) and built-in
  functions (by identity), through ``sys.setprofile``:
  calling the library function that solves the exercise fails whether it was reached by its
  name, an alias, ``getattr``, ``importlib``, ``functools.partial`` or a thread started in the
  block.

A violation raises ``AssertionError`` naming what ran and why it is forbidden. If the
student's code catches that error and carries on, the block still fails when it ends.
Neither check defends against tampering with the checks themselves (turning PyTorch's
mode stack off, ``ctypes``, another process): like editing a locked test cell, that is
for a human grader to see.
"""
from __future__ import annotations

import difflib
import functools
import sys
import threading
import types

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from ._validation import InvalidParameterError, validate_params


def _registered_operators() -> set[str]:
    """Every operator the dispatcher knows, as ``namespace::name`` without the overload."""
    return {name.split(".")[0] for name in torch._C._dispatch_get_all_op_names()}


def _convolution_ops() -> tuple[str, ...]:
    # Every operator that computes a convolution (forward or backward: the gradient of a
    # convolution is itself a convolution), including the backend-specific entry points;
    # im2col/col2im (unfold/fold) are not convolutions and stay allowed.
    def is_convolution(name: str) -> bool:
        op = name.split("::")[1]
        return "conv" in op and not op.lstrip("_").startswith("convert")
    return tuple(sorted(name for name in _registered_operators() if is_convolution(name)))


#: Every registered PyTorch operator that computes a convolution: forbid them all to make
#: "no PyTorch convolution" hold whichever entry point a student finds.
CONVOLUTION_OPS: tuple[str, ...] = _convolution_ops()


# --------------------------------------------------------------------------- #
# Argument checks
# --------------------------------------------------------------------------- #

def _operator_name(index: int, op, known: set[str]) -> str:
    """``op`` as ``namespace::name``: from a string or an OpOverload(Packet), overload dropped."""
    if isinstance(op, torch._ops.OpOverload):
        op = op.overloadpacket
    if isinstance(op, torch._ops.OpOverloadPacket):
        return op._qualified_op_name
    allowed = ("an operator such as 'aten::convolution', 'aten.convolution' or "
               "torch.ops.aten.convolution")
    if not isinstance(op, str):
        raise InvalidParameterError(f"ops[{index}]={op!r} is not allowed: expected {allowed}.")
    if "::" in op:
        namespace, _, name = op.partition("::")
    else:
        namespace, _, name = op.partition(".")
    qualified = f"{namespace}::{name.split('.')[0]}"  # match by packet: every overload
    if qualified not in known:
        close = difflib.get_close_matches(qualified, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InvalidParameterError(f"ops[{index}]={op!r} is not allowed: expected {allowed}, "
                                    f"one PyTorch has registered{hint}.")
    return qualified


def _watched(index: int, function) -> tuple[list[types.CodeType], list]:
    """The code objects and built-ins to watch for one forbidden callable."""
    allowed = ("a Python function or method, a functools.partial of one, or a built-in function "
               "(NumPy ufuncs and classes cannot be watched)")
    while isinstance(function, functools.partial):
        function = function.func
    if isinstance(function, types.MethodType):
        function = function.__func__
    if isinstance(function, (staticmethod, classmethod)):
        function = function.__func__
    if isinstance(function, types.FunctionType):
        # a decorator's wrapper shares one code object with every function it wraps (validate_params
        # wraps most of the library): watch the innermost function, which every call still reaches
        while isinstance(getattr(function, "__wrapped__", None), types.FunctionType):
            function = function.__wrapped__
        return [function.__code__], []
    if isinstance(function, (types.BuiltinFunctionType, types.MethodDescriptorType)):
        return [], [function]
    raise InvalidParameterError(f"functions[{index}]={function!r} is not allowed: expected {allowed}.")


def _fail(reason: str, what: str) -> AssertionError:
    because = f": {reason}" if reason else ""
    return AssertionError(f"{what}, which this exercise forbids{because}")


class _Violations:
    """The first violation seen; raised again at the end of the block if the code swallowed it."""

    def __init__(self):
        self.error: AssertionError | None = None

    def record(self, error: AssertionError) -> AssertionError:
        if self.error is None:
            self.error = error
        return error

    def raise_if_swallowed(self, exc) -> None:
        if self.error is not None and exc is not self.error:
            raise self.error from exc


# --------------------------------------------------------------------------- #
# forbid_ops
# --------------------------------------------------------------------------- #

class _DispatchWatch(TorchDispatchMode):
    def __init__(self, forbidden: frozenset[str], reason: str, violations: _Violations):
        super().__init__()
        self.forbidden, self.reason, self.violations = forbidden, reason, violations

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket._qualified_op_name
        if name in self.forbidden:
            raise self.violations.record(_fail(self.reason, f"the PyTorch operator {name} ran (as {func})"))
        return func(*args, **(kwargs or {}))


class _FunctionWatch(TorchFunctionMode):
    def __init__(self, forbidden: frozenset[str], reason: str, violations: _Violations):
        super().__init__()
        # a torch-level function carries its aten operator's name: torch.conv2d, F.conv2d, Tensor.matmul
        self.forbidden, self.reason, self.violations = forbidden, reason, violations

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if isinstance(func, torch._ops.OpOverload):
            name, called = func.overloadpacket._qualified_op_name, f"torch.ops.{func}"
        elif isinstance(func, torch._ops.OpOverloadPacket):
            name, called = func._qualified_op_name, f"torch.ops.{func}"
        else:
            name, called = f"aten::{getattr(func, '__name__', '')}", _torch_function_name(func)
        if name in self.forbidden:
            raise self.violations.record(_fail(self.reason, f"the PyTorch function {called} ran (operator {name})"))
        return func(*args, **(kwargs or {}))


def _torch_function_name(func) -> str:
    """``torch.conv2d``, ``torch.nn.functional.max_unpool2d``, ``Tensor.matmul``: how a reader knows it."""
    if isinstance(func, types.MethodDescriptorType):
        return f"Tensor.{func.__name__}"
    module = getattr(func, "__module__", None)
    return f"{module}.{func.__name__}" if module else func.__name__


class forbid_ops:  # noqa: N801 - used like a function: ``with forbid_ops(...)``
    """Inside the block, running any of ``ops`` raises ``AssertionError`` naming the operator.

    ``ops`` are operator names (``"aten::convolution"``, ``"aten.convolution"``) or
    ``torch.ops`` objects (``torch.ops.aten.convolution``, ``torch.ops.aten.convolution.default``);
    every overload of each is refused. ``reason`` says what to do instead and ends up in the
    message. See the module's docstring for which names to forbid.

    >>> x, w = torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2)
    >>> with forbid_ops("aten::convolution", reason="use unfold and matmul"):
    ...     torch.conv2d(x, w)
    Traceback (most recent call last):
    AssertionError: the PyTorch operator aten::convolution ran (as aten.convolution.default), which this \
exercise forbids: use unfold and matmul
    """

    @validate_params({"reason": [str]})  # the operators are checked one by one below, each named ops[i]
    def __init__(self, *ops, reason: str = ""):
        if not ops:
            raise InvalidParameterError("ops=() is not allowed: expected at least one operator, such as "
                                        "'aten::convolution'.")
        known = _registered_operators()
        self.ops = frozenset(_operator_name(i, op, known) for i, op in enumerate(ops))
        self.reason = reason
        self._violations = _Violations()
        self._modes: list = []

    def __enter__(self) -> "forbid_ops":
        self._violations = _Violations()
        self._modes = [_FunctionWatch(self.ops, self.reason, self._violations),
                       _DispatchWatch(self.ops, self.reason, self._violations)]
        for mode in self._modes:
            mode.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        for mode in reversed(self._modes):
            mode.__exit__(exc_type, exc, tb)
        self._modes = []
        self._violations.raise_if_swallowed(exc)
        return False


# --------------------------------------------------------------------------- #
# forbid_calls
# --------------------------------------------------------------------------- #

class forbid_calls:  # noqa: N801 - used like a function: ``with forbid_calls(...)``
    """Inside the block, calling any of ``functions`` raises ``AssertionError`` naming it.

    A Python function is recognised by its code object (so any alias, ``getattr``,
    ``importlib``, ``functools.partial`` or a new function built on the same code is caught),
    a built-in by identity. A copy of its source compiled anew is another function and is not
    caught: that is copying code, which the exercise itself must make pointless. The check is a ``sys.setprofile`` hook on this thread and, through
    ``threading.setprofile``, on threads started inside the block; both previous hooks are
    restored on exit. Changing the profiler inside the block counts as a violation.

    >>> import math
    >>> with forbid_calls(math.erf, reason="write the normal CDF yourself"):
    ...     f = math.erf
    ...     f(0.5)
    Traceback (most recent call last):
    AssertionError: math.erf was called, which this exercise forbids: write the normal CDF yourself
    """

    _profile_setters = (sys.setprofile,)  # the switch that would turn the watch off

    @validate_params({"reason": [str]})  # the functions are checked one by one below, each named functions[i]
    def __init__(self, *functions, reason: str = ""):
        if not functions:
            raise InvalidParameterError("functions=() is not allowed: expected at least one function to forbid.")
        builtins = []
        self._names: dict[types.CodeType, str] = {}  # a forbidden function's code -> its name
        for i, function in enumerate(functions):
            function_codes, function_builtins = _watched(i, function)
            builtins += function_builtins
            name = _describe(function)
            for code in function_codes:
                self._names[code] = name
        self._builtins = tuple(builtins)
        self.reason = reason
        self._codes = {id(code): name for code, name in self._names.items()}  # identity: a fast test per call
        self._violations = _Violations()
        self._previous = (None, None)
        self._active = False

    def _profile(self, frame, event, arg):
        if event == "call":
            name = self._codes.get(id(frame.f_code))
            if name is not None:
                raise self._violations.record(_fail(self.reason, f"{name} was called"))
        elif event == "c_call":
            if any(arg is f or arg == f for f in self._builtins):
                raise self._violations.record(_fail(self.reason, f"{_describe(arg)} was called"))
            if arg in self._profile_setters and frame.f_code not in _OWN_CODE:
                raise self._violations.record(_fail(self.reason, "sys.setprofile was called inside forbid_calls"))

    def __enter__(self) -> "forbid_calls":
        if self._active:
            raise RuntimeError("this forbid_calls block is already active: create a new one to nest.")
        previous = sys.getprofile()
        if previous is not None and not callable(previous):
            raise RuntimeError(f"forbid_calls cannot run under the C-level profiler {previous!r} (cProfile): "
                               "it could not restore it afterwards.")
        self._previous = (previous, threading.getprofile())
        self._violations = _Violations()
        self._active = True
        threading.setprofile(self._profile)
        sys.setprofile(self._chain(previous))
        return self

    def _chain(self, previous):
        # an outer forbid_calls (or any Python profiler) keeps watching inside this block
        if previous is None:
            return self._profile

        def both(frame, event, arg):
            self._profile(frame, event, arg)
            return previous(frame, event, arg)
        return both

    def __exit__(self, exc_type, exc, tb) -> bool:
        previous, previous_threading = self._previous
        sys.setprofile(previous)
        threading.setprofile(previous_threading)
        self._active = False
        self._violations.raise_if_swallowed(exc)
        return False


# the only places inside a block allowed to change the profiler: a nested block starting or ending
_OWN_CODE = (forbid_calls.__enter__.__code__, forbid_calls.__exit__.__code__)


def _describe(function) -> str:
    while isinstance(function, functools.partial):
        function = function.func
    module = getattr(function, "__module__", None)
    name = getattr(function, "__qualname__", None) or getattr(function, "__name__", repr(function))
    return f"{module}.{name}" if module else name

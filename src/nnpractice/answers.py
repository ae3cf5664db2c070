"""Answers for the grader: a hidden test records plain data; the verdict is reached where no student code runs.

A hidden test cell of an exercise calls the student's functions on hidden inputs and *records* what they
return, as plain data (numbers, strings, arrays), under names that say what each value is::

    answer = answers.record("ch03-ex1-tests")          # starts (and clears) this test cell's record
    S_train, S_other = minmax_scale(A, B)
    answer("scaled training set", S_train)
    answer("inputs unchanged", bool(torch.equal(A, A0)))

The grader (``scripts/grading.py``) runs the instructor's solutions and the student's answers in two
separate sandboxed kernels, reads both records from files, and :func:`judge` compares them in the grader's
own process. What the student's kernel does to ``assert``, ``torch.allclose`` or to this module gains
nothing there: the only way to pass is to record the values the solution records. Tolerances come from the
instructor's record only. Record exactly what the exercise asks for: cast away what it does not care about
(``.double()`` when any float dtype will do), and never a time or anything else that changes between runs.

Records are JSON: arrays as base64 of their little-endian bytes with dtype and shape (exact, NaN-safe, no
pickle), so reading a hostile file can only give numbers, strings, lists and dicts.
"""
from __future__ import annotations

import base64
import json
import math
import os
import re
from numbers import Integral, Real
from pathlib import Path

import numpy as np

from ._validation import Constraint, InstanceOf, Interval, InvalidParameterError, NoValidation, validate_params

__all__ = ["ANSWERS_DIR_VARIABLE", "record", "recorded", "encode", "decode", "load", "judge", "AnswerFormatError"]

#: Where a kernel writes its records (one ``<grade_id>.json`` each); unset: kept in memory only.
ANSWERS_DIR_VARIABLE = "NNPRACTICE_ANSWERS_DIR"
#: A record file larger than this is refused unread (a hostile kernel could write gigabytes).
MAX_FILE_BYTES = 16 * 2**20
_GRADE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_NAME_MAX = 200
_MAX_DEPTH = 20
# dtypes an answer may hold; anything else is converted first (bfloat16 -> float32) or refused
_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float16", "float32", "float64"}

_records: dict[str, dict[str, dict]] = {}


class AnswerFormatError(InvalidParameterError):
    """A value or a record that is not plain data in this module's format."""


class _GradeId(Constraint):
    """A test cell's nbgrader grade_id, which names its record file."""

    def accepts(self, value) -> bool:
        return isinstance(value, str) and bool(_GRADE_ID.match(value))

    def __str__(self) -> str:
        return "a grade_id of letters, digits, '_', '.', '-' (at most 100), such as 'ch03-ex1-tests'"

    def valid_example(self):
        return "ch99-ex1-tests"

    def invalid_examples(self) -> list:
        return ["../escape", 7]


_RECORD = [InstanceOf(dict, "a record: {name: {'value', 'rtol', 'atol'}} as load() reads it")]


# ----------------------------------------------------------------------------- in the kernel
class Recorder:
    """Records the answers of one test cell; made by :func:`record`."""

    def __init__(self, grade_id: str):
        self.grade_id = grade_id

    def __call__(self, name: str, value, *, rtol: float = 1e-6, atol: float = 1e-9):
        """Record `value` under `name` (compared with ``|a - b| <= atol + rtol * |b|`` for floats); return it."""
        if not isinstance(name, str) or not 0 < len(name) <= _NAME_MAX:
            raise AnswerFormatError(f"name={name!r} is not allowed: expected a non-empty string of at most "
                                    f"{_NAME_MAX} characters")
        for option, tolerance in (("rtol", rtol), ("atol", atol)):
            if not isinstance(tolerance, Real) or not 0 <= float(tolerance) < math.inf:
                raise AnswerFormatError(f"{option}={tolerance!r} is not allowed: expected a finite number >= 0")
        _records[self.grade_id][name] = {"value": _encode(value, 0), "rtol": float(rtol), "atol": float(atol)}
        _write(self.grade_id)
        return value


@validate_params({"grade_id": [_GradeId()]})
def record(grade_id: str) -> Recorder:
    """Start the record of test cell `grade_id` (an earlier record of it is cleared) and return its recorder."""
    _records[grade_id] = {}
    _write(grade_id)
    return Recorder(grade_id)


@validate_params({"grade_id": [_GradeId()]})
def recorded(grade_id: str) -> dict:
    """What this kernel recorded for `grade_id` so far (a copy), as :func:`load` would read it."""
    return json.loads(json.dumps(_records.get(grade_id, {})))


def _write(grade_id: str) -> None:
    folder = os.environ.get(ANSWERS_DIR_VARIABLE)
    if not folder:
        return
    target = Path(folder) / f"{grade_id}.json"
    temporary = target.with_name(f".{grade_id}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(_records[grade_id]))
    os.replace(temporary, target)      # a reader never sees half a record


@validate_params({"value": [NoValidation()]})  # anything: what is not plain data raises AnswerFormatError
def encode(value):
    """Plain, JSON-ready data for `value`: None, bool, int, float, str, list/tuple, dict with str keys, arrays.

    >>> encode([1, 2.5, "a"])
    {'list': [{'int': 1}, {'float': 2.5}, {'str': 'a'}]}
    """
    return _encode(value, 0)


def _encode(value, _depth: int):
    if _depth > _MAX_DEPTH:
        raise AnswerFormatError(f"value nested more than {_MAX_DEPTH} levels deep is not allowed")
    if value is None:
        return {"none": None}
    if isinstance(value, (bool, np.bool_)):
        return {"bool": bool(value)}
    if isinstance(value, (Integral, np.integer)):
        return {"int": int(value)}
    if isinstance(value, (float, np.floating)):
        return {"float": _float_text(float(value))}
    if isinstance(value, str):
        return {"str": value}
    if isinstance(value, (list, tuple)):
        return {"list": [_encode(v, _depth + 1) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise AnswerFormatError("a dict answer is allowed with str keys only")
        return {"dict": {k: _encode(v, _depth + 1) for k, v in value.items()}}
    array = _as_array(value)
    if array is None:
        raise AnswerFormatError(f"an answer of type {type(value).__name__} is not allowed: expected None, bool, "
                                "int, float, str, list, tuple, dict, a numpy array or a torch tensor")
    little = array.astype(array.dtype.newbyteorder("<"), copy=False)
    return {"array": base64.b64encode(np.ascontiguousarray(little).tobytes()).decode("ascii"),
            "dtype": str(array.dtype), "shape": list(array.shape)}


def _float_text(x: float):
    return x if math.isfinite(x) else repr(x)          # JSON has no NaN or inf: 'nan', 'inf', '-inf'


def _as_array(value) -> np.ndarray | None:
    if isinstance(value, np.ndarray):
        array = value
    else:
        try:
            import torch
        except ImportError:  # pragma: no cover - the library depends on torch
            return None
        if not isinstance(value, torch.Tensor):
            return None
        tensor = torch.Tensor.detach(value).cpu()       # the data, not what a subclass says about it
        if tensor.dtype == torch.bfloat16:
            tensor = tensor.float()
        array = tensor.resolve_conj().resolve_neg().numpy().copy()
    if str(array.dtype) not in _DTYPES:
        raise AnswerFormatError(f"an array of dtype {array.dtype} is not allowed: expected one of {sorted(_DTYPES)}")
    return array


# ----------------------------------------------------------------------------- in the grader
@validate_params({"data": [NoValidation()]})  # untrusted data: what is not an encoded answer raises AnswerFormatError
def decode(data):
    """The value that :func:`encode` encoded; anything else raises AnswerFormatError.

    >>> decode(encode({"w": [1.0, float("nan")]}))
    {'w': [1.0, nan]}
    """
    return _decode(data, 0)


def _decode(data, _depth: int):
    if _depth > _MAX_DEPTH + 1 or not isinstance(data, dict) or len(data) != 1 and "array" not in data:
        raise AnswerFormatError("not an encoded answer")
    (kind,) = [k for k in data if k in ("none", "bool", "int", "float", "str", "list", "dict", "array")] or [None]
    value = data.get(kind)
    if kind == "none" and value is None:
        return None
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "float" and (isinstance(value, (int, float)) and not isinstance(value, bool)
                            or value in ("nan", "inf", "-inf")):
        return float(value)
    if kind == "str" and isinstance(value, str):
        return value
    if kind == "list" and isinstance(value, list):
        return [_decode(v, _depth + 1) for v in value]
    if kind == "dict" and isinstance(value, dict):
        return {str(k): _decode(v, _depth + 1) for k, v in value.items()}
    if kind == "array" and set(data) == {"array", "dtype", "shape"}:
        dtype, shape = data["dtype"], data["shape"]
        if dtype not in _DTYPES or not isinstance(shape, list) or not all(
                isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
            raise AnswerFormatError("an array answer with a bad dtype or shape")
        try:
            raw = base64.b64decode(value, validate=True)
        except (TypeError, ValueError) as error:
            raise AnswerFormatError("an array answer whose data is not base64") from error
        if len(raw) != np.dtype(dtype).itemsize * math.prod(shape):
            raise AnswerFormatError("an array answer whose data does not fill its shape")
        return np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape).astype(dtype)
    raise AnswerFormatError("not an encoded answer")


@validate_params({"path": [InstanceOf((str, os.PathLike), "a path", example=lambda: "missing.json")],
                  "max_bytes": [Interval(Integral, 1, None)]})
def load(path: Path, max_bytes: int = MAX_FILE_BYTES) -> dict[str, dict]:
    """Read a record file written by an untrusted kernel: ``{name: {"value", "rtol", "atol"}}``.

    Raises AnswerFormatError for a file over `max_bytes`, not JSON, or not in this module's format.
    """
    path = Path(path)
    if path.is_symlink() or not path.is_file():
        raise AnswerFormatError(f"{path.name}: not a plain file")
    if path.stat().st_size > max_bytes:
        raise AnswerFormatError(f"{path.name}: larger than {max_bytes} bytes")
    try:
        data = json.loads(path.read_bytes()[:max_bytes + 1])
    except (ValueError, RecursionError) as error:
        raise AnswerFormatError(f"{path.name}: not JSON") from error
    if not isinstance(data, dict):
        raise AnswerFormatError(f"{path.name}: not a record")
    for name, entry in data.items():
        if not isinstance(entry, dict) or set(entry) != {"value", "rtol", "atol"}:
            raise AnswerFormatError(f"{path.name}: answer {name!r} is not in the record format")
    return data


@validate_params({"reference": _RECORD, "submitted": [*_RECORD, None]})
def judge(reference: dict[str, dict], submitted: dict[str, dict] | None) -> list[str]:
    """What is wrong with `submitted` against the instructor's `reference` record; ``[]`` when nothing is.

    Every answer of the reference must be in the submission, of the same kind and shape, and equal to it
    (floats within the reference's own ``rtol``/``atol``; NaN matches NaN). The messages name the answer but
    never show the expected value (the feedback goes to students).

    >>> ref = {"mean": {"value": encode(0.5), "rtol": 1e-6, "atol": 1e-9}}
    >>> judge(ref, {"mean": {"value": encode(0.5 + 1e-12), "rtol": 1, "atol": 1}})
    []
    >>> judge(ref, {"mean": {"value": encode(0.6), "rtol": 1e9, "atol": 1e9}})
    ["'mean' is not the expected value"]
    """
    if not reference:
        return ["the instructor's run recorded no answer for this test (the grader cannot judge it)"]
    if not submitted:
        return ["no answer was recorded (the test cell did not run, or stopped before its first answer)"]
    problems = []
    for name, expected in reference.items():
        if name not in submitted:
            problems.append(f"{name!r} was not recorded (the test stopped before it, or the answer raised)")
            continue
        try:
            got = _decode(submitted[name]["value"], 0)
        except (AnswerFormatError, KeyError, TypeError):
            problems.append(f"{name!r} is not plain data")
            continue
        want = _decode(expected["value"], 0)
        difference = _difference(want, got, float(expected["rtol"]), float(expected["atol"]))
        if difference:
            problems.append(f"{name!r} {difference}")
    return problems


def _difference(want, got, rtol: float, atol: float) -> str | None:
    """Why `got` does not match `want` (None when it does)."""
    if isinstance(want, np.ndarray):
        if not isinstance(got, np.ndarray):
            return f"is a {type(got).__name__}, expected an array"
        if got.shape != want.shape:
            return f"has shape {tuple(got.shape)}, expected {tuple(want.shape)}"
        if got.dtype != want.dtype:
            return f"has dtype {got.dtype}, expected {want.dtype}"
        if want.dtype.kind == "f":
            same = np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
            return None if bool(same.all()) else f"differs from the expected values in {int((~same).sum())} of {same.size} entries"
        return None if np.array_equal(got, want) else "differs from the expected values"
    if isinstance(want, bool) or isinstance(got, bool):
        return None if type(want) is type(got) and want == got else "is not the expected value"
    if isinstance(want, (int, float)):
        if not isinstance(got, (int, float)):
            return f"is a {type(got).__name__}, expected a number"
        if isinstance(want, int) and isinstance(got, int):
            return None if want == got else "is not the expected value"
        if math.isnan(want) or math.isnan(got):
            return None if math.isnan(want) and math.isnan(got) else "is not the expected value"
        if math.isinf(want) or math.isinf(got):
            return None if want == got else "is not the expected value"
        return None if abs(got - want) <= atol + rtol * abs(want) else "is not the expected value"
    if isinstance(want, list):
        if not isinstance(got, list):
            return f"is a {type(got).__name__}, expected a list"
        if len(got) != len(want):
            return f"has {len(got)} items, expected {len(want)}"
        for i, (w, g) in enumerate(zip(want, got)):
            inner = _difference(w, g, rtol, atol)
            if inner:
                return f"item {i} {inner}"
        return None
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return f"is a {type(got).__name__}, expected a dict"
        if set(got) != set(want):
            return "does not have the expected keys"
        for key in want:
            inner = _difference(want[key], got[key], rtol, atol)
            if inner:
                return f"[{key!r}] {inner}"
        return None
    return None if want == got and type(want) is type(got) else "is not the expected value"

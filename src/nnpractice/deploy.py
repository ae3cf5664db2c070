"""From a trained PyTorch model to something that answers requests: ONNX, ONNX Runtime, a prediction service.

- :func:`export_onnx` writes an ONNX file with PyTorch's default exporter (``torch.onnx.export``,
  which in this PyTorch version traces the model with ``torch.export``), with a dynamic
  batch axis so one file serves any batch size. It refuses an example the model cannot run
  on and checks the written file (:class:`ExportError`), so no unloadable file is returned.
- :func:`onnx_session` opens it in ONNX Runtime; :func:`run_onnx` runs it on a tensor or array.
- :func:`max_abs_difference` is the equivalence check: the largest absolute difference
  between the ONNX outputs and eager PyTorch on the same real inputs.
- :func:`latency` and :func:`latency_table` time single calls at chosen batch sizes.
- :func:`quantize_dynamic` stores the weights as 8-bit integers and quantizes activations on
  the fly; :func:`quantize_static` also fixes the activations' scales beforehand from
  calibration inputs, the scheme ONNX Runtime recommends for convnets.
- :func:`write_contract` stores the model's preprocessing contract (the value range its
  inputs must lie in, how raw data become inputs) inside the ONNX file, and
  :func:`read_contract` reads it back from a session.
- :func:`validate_inputs` is the service's check written by hand: decoded JSON to a batch, or
  :class:`BadRequest` with the reason.
- :class:`PredictionServer` serves an ONNX file from a separate process on 127.0.0.1 with
  FastAPI, pydantic and uvicorn (``nnpractice/_service.py``): its request model and OpenAPI
  schema are built from the file's input shape and contract, every bad request gets a 4xx JSON
  answer. :func:`post_json` is a client, :func:`load_test` sends many requests at once and
  :func:`fuzz_service` runs Schemathesis against the live service's schema.

>>> import tempfile, torch
>>> net = torch.nn.Linear(3, 2)
>>> path = export_onnx(net, torch.randn(4, 3), f"{tempfile.mkdtemp()}/net.onnx")
>>> session = onnx_session(path)
>>> input_shape(session), max_abs_difference(net, session, torch.randn(16, 3)) < 1e-5
(['batch', 3], True)
>>> validate_inputs({"inputs": [[1, 2.5, 0]]}, (3,))
array([[1. , 2.5, 0. ]], dtype=float32)
>>> read_contract(onnx_session(write_contract(path, (0.0, 1.0), normalization="x / 255")))["value_range"]
[0.0, 1.0]
"""
from __future__ import annotations

import contextlib
import functools
import http.client
import json
import logging
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import warnings
import weakref
from numbers import Integral, Real
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from ._validation import Constraint, InstanceOf, Interval, Options, Sequences, invalid, validate_params
from .device import time_it


class ExportError(RuntimeError):
    """The exporter wrote a file that ONNX's checker refuses: no runtime could load it."""


def _example_path(name: str) -> str:
    return str(Path(tempfile.mkdtemp()) / name)


_ONNX_PATH = InstanceOf((str, os.PathLike), "a path to an .onnx file (str or pathlib.Path)",
                        example=lambda: _example_path("model.onnx"))
_BATCH = InstanceOf((torch.Tensor, np.ndarray), "a tensor or array with a batch axis first",
                    example=lambda: torch.zeros(4, 2))


@functools.lru_cache(maxsize=1)
def _example_session():
    return onnx_session(export_onnx(nn.Linear(2, 2), torch.zeros(4, 2), _example_path("example.onnx")))


class _Session(Constraint):
    """An ONNX Runtime ``InferenceSession`` (checked by what it offers: onnxruntime is imported lazily)."""

    def accepts(self, value) -> bool:
        return callable(getattr(value, "run", None)) and callable(getattr(value, "get_inputs", None))

    def __str__(self) -> str:
        return "an onnxruntime.InferenceSession (see onnx_session)"

    def valid_example(self):
        return _example_session()

    def invalid_examples(self) -> list:
        return ["model.onnx"]


_SESSION = [_Session()]


def _existing_onnx(path) -> Path:
    """``path`` as a Path, or the one error for an ONNX file that is not there."""
    path = Path(path)
    if not path.is_file():
        raise invalid("path", str(path), "an existing .onnx file")
    return path

# --------------------------------------------------------------------------- #
# Export and run
# --------------------------------------------------------------------------- #


@validate_params({"model": [nn.Module],
                  "example_input": [InstanceOf(torch.Tensor, "a tensor with a batch axis first",
                                               example=lambda: torch.zeros(4, 2))],
                  "path": [_ONNX_PATH], "dynamic_batch": ["boolean"], "input_name": [str], "output_name": [str]})
def export_onnx(model: nn.Module, example_input: torch.Tensor, path, *, dynamic_batch: bool = True,
                input_name: str = "input", output_name: str = "logits") -> Path:
    """Export ``model`` (in eval mode) to the ONNX file ``path`` with PyTorch's default exporter.

    ``example_input`` fixes every dimension except the first, which stays symbolic
    (``"batch"``) when ``dynamic_batch`` is true, and the input's dtype: the file takes that
    dtype only. The model must run on it in PyTorch first (the exporter would otherwise trace,
    for example, integer inputs into a float layer and write a file no runtime loads), and the
    written file must pass ONNX's full checker, else :class:`ExportError`. Returns the path.
    """
    if example_input.ndim < 1 or len(example_input) == 0:
        raise invalid("example_input", example_input, "a tensor with a batch axis first and at least one example")
    if dynamic_batch and len(example_input) < 2:
        raise invalid("example_input", example_input, "a batch of at least 2 with dynamic_batch=True, so the "
                      "exporter does not specialize the batch axis to 1", f"batch size {len(example_input)}")
    path = Path(path)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(example_input)
    except (RuntimeError, TypeError, ValueError) as error:
        model.train(was_training)
        raise invalid("example_input", example_input, "an input the model runs on in PyTorch",
                      f"model(example_input) raised {type(error).__name__}: {error}") from error
    path.parent.mkdir(parents=True, exist_ok=True)
    dynamic_shapes = ({0: torch.export.Dim("batch")},) if dynamic_batch else None
    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # silence notes such as "torchvision is not installed"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(model, (example_input,), dynamic_shapes=dynamic_shapes,
                                        input_names=[input_name], output_names=[output_name], verbose=False)
        program.save(str(path))
    finally:
        quiet.setLevel(level)
        model.train(was_training)
    _check_exported(path)
    return path


def _check_exported(path: Path) -> None:
    """Refuse (and delete) a file ONNX's full checker rejects: types or shapes that no runtime can load."""
    import onnx

    try:
        onnx.checker.check_model(str(path), full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as error:
        path.unlink()
        raise ExportError(f"the exported file {path} fails ONNX's checker, so no runtime could load it: "
                          f"{error}") from error


@validate_params({"path": [_ONNX_PATH], "num_threads": [Interval(Integral, 1, None)]})
def onnx_session(path, *, num_threads: int = 1):
    """An ONNX Runtime ``InferenceSession`` on the CPU with ``num_threads`` intra-op threads."""
    import onnxruntime as ort

    path = _existing_onnx(path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = num_threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _as_float32_array(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.ascontiguousarray(x, dtype=np.float32)


# ONNX Runtime names its input types 'tensor(float)', 'tensor(int64)', ...: the array dtype to feed each
_INPUT_DTYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(int64)": np.int64,
                 "tensor(int32)": np.int32, "tensor(bool)": np.bool_}


def _as_input_array(session, x) -> np.ndarray:
    """``x`` as an array of the dtype the session's input takes (float32 for an ordinary model)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.ascontiguousarray(x, dtype=_INPUT_DTYPES.get(session.get_inputs()[0].type, np.float32))


@validate_params({"session": _SESSION, "x": [_BATCH]})
def run_onnx(session, x) -> np.ndarray:
    """Run ``session`` on ``x`` (a tensor or array, cast to the dtype its input takes); returns its first output."""
    name = session.get_inputs()[0].name
    return session.run(None, {name: _as_input_array(session, x)})[0]


@validate_params({"session": _SESSION})
def input_shape(session) -> list:
    """The session's input shape, with the symbolic batch axis as a string (e.g. ``['batch', 64]``)."""
    return list(session.get_inputs()[0].shape)


@validate_params({"model": [nn.Module], "session": _SESSION, "x": [_BATCH]})
@torch.no_grad()
def max_abs_difference(model: nn.Module, session, x) -> float:
    """The equivalence check: ``max |onnx(x) - model(x)|`` over every output of the batch ``x``.

    Both get the same array, in the dtype the session takes. An empty batch, or one holding
    NaN or infinity, is refused: its difference would be no number, or NaN.
    """
    if x.ndim < 1 or len(x) == 0:
        raise invalid("x", x, "a batch of at least one example (batch axis first)")
    batch = _as_input_array(session, x)
    if np.issubdtype(batch.dtype, np.floating) and not np.isfinite(batch).all():
        raise invalid("x", x, "finite numbers", "it holds NaN or infinity")
    was_training = model.training
    model.eval()
    try:
        expected = model(torch.from_numpy(batch)).numpy()
    finally:
        model.train(was_training)
    got = run_onnx(session, batch)
    if got.shape != expected.shape:
        raise invalid("session", session, f"a model whose output has the eager model's shape {expected.shape}",
                      f"its output has shape {got.shape}")
    return float(np.max(np.abs(got - expected)))


# --------------------------------------------------------------------------- #
# Latency
# --------------------------------------------------------------------------- #


@validate_params({"fn": [callable], "repeats": [Interval(Integral, 1, None)], "warmup": [Interval(Integral, 0, None)]})
def latency(fn: Callable[[], object], *, repeats: int = 50, warmup: int = 5) -> float:
    """Wall time of one call of ``fn()``, in seconds: the median of ``repeats`` calls after ``warmup`` calls.

    :func:`nnpractice.device.time_it` (``torch.utils.benchmark.Timer``) with more repeats, as
    inference calls are short.
    """
    return time_it(fn, repeats=repeats, warmup=warmup, device="cpu")


@validate_params({"runners": [dict], "inputs": [_BATCH], "batch_sizes": [Sequences(Interval(Integral, 1, None))],
                  "repeats": [Interval(Integral, 1, None)]})
def latency_table(runners: dict[str, Callable[[np.ndarray], object]], inputs: np.ndarray, *,
                  batch_sizes: Sequence[int] = (1, 64), repeats: int = 50) -> dict[str, dict[int, float]]:
    """Median latency in milliseconds of each runner at each batch size: ``{name: {batch: ms}}``.

    Each runner takes a float32 array of shape ``[batch, ...]``; the batches are the first
    ``batch`` rows of ``inputs``.
    """
    if not runners or not all(isinstance(k, str) and callable(f) for k, f in runners.items()):
        raise invalid("runners", runners, "a non-empty dict name -> function(batch)")
    if max(batch_sizes) > len(inputs):
        raise invalid("batch_sizes", batch_sizes, f"batch sizes up to the {len(inputs)} rows of inputs")
    table: dict[str, dict[int, float]] = {name: {} for name in runners}
    for b in batch_sizes:
        batch = _as_float32_array(inputs[:b])
        for name, fn in runners.items():
            table[name][b] = 1000 * latency(lambda fn=fn, batch=batch: fn(batch), repeats=repeats)
    return table


@validate_params({"model": [nn.Module]})
def eager_runner(model: nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    """A runner for :func:`latency_table` that calls ``model`` under ``torch.inference_mode``."""
    model.eval()

    def run(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model(torch.from_numpy(batch)).numpy()

    return run


@validate_params({"session": _SESSION})
def onnx_runner(session) -> Callable[[np.ndarray], np.ndarray]:
    """A runner for :func:`latency_table` that calls an ONNX Runtime session."""
    name = session.get_inputs()[0].name
    return lambda batch: session.run(None, {name: batch})[0]


# --------------------------------------------------------------------------- #
# Quantization
# --------------------------------------------------------------------------- #


def _model_for_quantizer(path):
    """The ONNX model at ``path``, loaded for ONNX Runtime's quantizer."""
    import onnx

    model = onnx.load(str(_existing_onnx(path)))
    del model.graph.value_info[:]  # the exporter's stored shapes can confuse the quantizer's shape inference
    return model


@contextlib.contextmanager
def _root_logger_at_error():
    """The quantizer logs advice on the root logger: keep it at ERROR while it runs."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


@validate_params({"path": [_ONNX_PATH], "out_path": [_ONNX_PATH]})
def quantize_dynamic(path, out_path) -> Path:
    """Write ``out_path``: the ONNX model at ``path`` with 8-bit integer weights (dynamic quantization).

    Weights of matrix multiplications and convolutions are stored as int8 with a scale;
    each activation's scale is computed from the tensor at run time, on every call
    (``DynamicQuantizeLinear``). Returns ``out_path``.
    """
    from onnxruntime.quantization import QuantType
    from onnxruntime.quantization import quantize_dynamic as ort_quantize_dynamic

    out_path = Path(out_path)
    model = _model_for_quantizer(path)
    with _root_logger_at_error():
        ort_quantize_dynamic(model, str(out_path), weight_type=QuantType.QInt8)
    return out_path


_CALIBRATION_METHODS = ("minmax", "entropy", "percentile")


@validate_params({"path": [_ONNX_PATH], "out_path": [_ONNX_PATH],
                  "calibration": [InstanceOf((torch.Tensor, np.ndarray), "a batch of real inputs, batch axis first",
                                             example=lambda: torch.zeros(4, 2))],
                  "method": [Options(*_CALIBRATION_METHODS)], "per_channel": ["boolean"],
                  "batch_size": [Interval(Integral, 1, None)]})
def quantize_static(path, out_path, calibration, *, method: str = "minmax", per_channel: bool = False,
                    batch_size: int = 32) -> Path:
    """Write ``out_path``: the ONNX model at ``path`` with int8 weights and activations (static quantization).

    The model is run on ``calibration`` (real inputs, a few hundred are enough) to fix each
    activation's range once, by ``method``: ``"minmax"`` (the observed minimum and maximum),
    ``"entropy"`` (the range that keeps the histogram's information) or ``"percentile"`` (the
    99.999th percentile, ignoring rare outliers). The file holds QuantizeLinear /
    DequantizeLinear pairs around each operator (QDQ format); ``per_channel`` gives every
    output channel of a weight its own scale. Returns ``out_path``.
    """
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType
    from onnxruntime.quantization import quantize_static as ort_quantize_static

    out_path = Path(out_path)
    _existing_onnx(path)
    if calibration.ndim < 1 or len(calibration) == 0:
        raise invalid("calibration", calibration, "a batch of at least one real input, batch axis first")
    inputs = _as_float32_array(calibration)
    if not np.isfinite(inputs).all():
        raise invalid("calibration", calibration, "finite numbers", "it holds NaN or infinity")
    model = _model_for_quantizer(path)
    name = model.graph.input[0].name

    class Batches(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{name: inputs[i:i + batch_size]} for i in range(0, len(inputs), batch_size)])

        def get_next(self):
            return next(self.batches, None)

    methods = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
               "percentile": CalibrationMethod.Percentile}
    # the calibrator also prints histogram notes to stdout
    with _root_logger_at_error(), open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        ort_quantize_static(model, str(out_path), Batches(), quant_format=QuantFormat.QDQ,
                            activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                            per_channel=per_channel, calibrate_method=methods[method])
    return out_path


# --------------------------------------------------------------------------- #
# The preprocessing contract
# --------------------------------------------------------------------------- #

CONTRACT_KEY = "nnpractice.preprocessing"  # the key of the contract in the ONNX file's metadata_props


class _ValueRange(Constraint):
    """A pair ``(low, high)`` of finite real numbers with ``low < high``."""

    def accepts(self, value) -> bool:
        return (isinstance(value, (list, tuple)) and len(value) == 2
                and all(isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v) for v in value)
                and value[0] < value[1])

    def __str__(self) -> str:
        return "a pair (low, high) of finite numbers with low < high"

    def valid_example(self):
        return (0.0, 1.0)

    def invalid_examples(self) -> list:
        return [(1.0, 0.0), (0.0, float("nan")), "0-1"]


@validate_params({"path": [_ONNX_PATH], "value_range": [_ValueRange()], "normalization": [str],
                  "classes": [Sequences(str), None]})
def write_contract(path, value_range: Sequence[float], *, normalization: str,
                   classes: Sequence[str] | None = None) -> Path:
    """Store the preprocessing contract in the ONNX file ``path`` (in place) and return ``path``.

    The contract says what the model was trained on: every input value lies in
    ``value_range`` (``[low, high]``), and ``normalization`` says in words how raw data
    become such inputs (for example ``"pixels / 255, no mean subtraction"``); ``classes``
    names the outputs. It travels inside the file (ONNX ``metadata_props``, key
    :data:`CONTRACT_KEY`), so every runtime and client can read it, and
    :class:`PredictionServer` refuses inputs outside the range.
    """
    import onnx

    path = _existing_onnx(path)
    contract = {"value_range": [float(value_range[0]), float(value_range[1])], "normalization": normalization}
    if classes is not None:
        contract["classes"] = list(classes)
    model = onnx.load(str(path))
    kept = [p for p in model.metadata_props if p.key != CONTRACT_KEY]  # a second call replaces the contract
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    model.metadata_props.add(key=CONTRACT_KEY, value=json.dumps(contract))
    onnx.save(model, str(path))
    return path


@validate_params({"session": _SESSION})
def read_contract(session) -> dict | None:
    """The preprocessing contract stored in the session's file (see :func:`write_contract`), or None."""
    text = session.get_modelmeta().custom_metadata_map.get(CONTRACT_KEY)
    return None if text is None else json.loads(text)



# --------------------------------------------------------------------------- #
# The prediction service: the check by hand, then FastAPI + pydantic + uvicorn
# --------------------------------------------------------------------------- #


class BadRequest(ValueError):
    """A payload that :func:`validate_inputs` refuses, with the reason (a service answers it with a 4xx)."""


@validate_params({"payload": ["no_validation"],  # any decoded JSON: checking it is this function's job
                  "feature_shape": [Sequences(Interval(Integral, 1, None))],
                  "max_batch": [Interval(Integral, 1, None)], "value_range": [_ValueRange(), None]})
def validate_inputs(payload, feature_shape: Sequence[int], *, max_batch: int = 256,
                    value_range: Sequence[float] | None = None) -> np.ndarray:
    """Turn a decoded JSON ``payload`` into a float32 batch of shape ``[n, *feature_shape]``, or raise BadRequest.

    The payload must be an object ``{"inputs": [...]}`` whose list holds ``n`` examples
    (1 ≤ n ≤ ``max_batch``), each a nested list of finite numbers of shape ``feature_shape``.
    With ``value_range`` ``(low, high)`` (the model's preprocessing contract), every value
    must also lie in ``[low, high]``: an input prepared another way (pixels in 0–255 for a
    model trained on 0–1) is refused instead of silently answered.
    """
    if not isinstance(payload, dict) or "inputs" not in payload:
        raise BadRequest('expected a JSON object with the key "inputs" (a list of examples)')
    inputs = payload["inputs"]
    if not isinstance(inputs, list) or len(inputs) == 0:
        raise BadRequest('"inputs" must be a non-empty list of examples')
    if len(inputs) > max_batch:
        raise BadRequest(f'"inputs" holds {len(inputs)} examples; at most {max_batch} are allowed per request')

    def check_numbers(value, depth):
        if depth == len(feature_shape):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise BadRequest(f"every value must be a number; got {type(value).__name__} {value!r:.40}")
            if not math.isfinite(value):
                raise BadRequest("every value must be finite; got NaN or infinity")
            return
        if not isinstance(value, list) or len(value) != feature_shape[depth]:
            got = f"a list of length {len(value)}" if isinstance(value, list) else type(value).__name__
            raise BadRequest(f"each example must have shape {list(feature_shape)}; at depth {depth + 1} "
                             f"expected a list of length {feature_shape[depth]}, got {got}")
        for v in value:
            check_numbers(v, depth + 1)

    for example in inputs:
        check_numbers(example, 0)
    batch = np.asarray(inputs, dtype=np.float32).reshape(len(inputs), *feature_shape)
    if value_range is not None:
        low, high = value_range
        below, above = batch < low, batch > high
        if below.any() or above.any():
            raise BadRequest(f"every value must lie in [{low:g}, {high:g}], the model's preprocessing contract; "
                             f"{int(below.sum() + above.sum())} values lie outside (from {float(batch.min()):g} to "
                             f"{float(batch.max()):g}): prepare the inputs as the contract says")
    return batch


_SERVICE_SCRIPT = Path(__file__).with_name("_service.py")  # the service process's code (no torch: starts fast)


class ServiceError(RuntimeError):
    """The service process did not start, or ended on its own; the message holds the end of its log."""


class PredictionServer:
    """Serve an ONNX classifier from a separate uvicorn process on ``http://127.0.0.1:<port>``.

    The process runs a FastAPI app (``nnpractice/_service.py``) around one ONNX Runtime session:
    ``POST /predict`` with ``{"inputs": [example, ...]}`` answers 200 with ``model_version``,
    ``predictions``, ``labels`` and ``probabilities``; ``GET /health``, ``GET /model`` (the versioned
    model metadata: name, ``version``, sha256 of the file, input shape, contract) and
    ``GET /openapi.json`` (the schema, built from the contract) describe it. Every other request
    gets a JSON error: 4xx for what the client sent (422 for a body that breaks the contract's
    shape, type or range), 5xx for the service's own trouble. The file must hold a preprocessing
    contract (:func:`write_contract`): the service enforces it.

    The socket is bound here, on a free port when ``port=0``, and handed to the process, which
    ends when :meth:`stop` is called, when the ``with`` block ends, or when this Python process
    ends. ``workers`` threads share the session; ``max_queue`` requests wait or run at most;
    ``timeout`` bounds the request head, the body and the prediction, each.
    """

    @validate_params({"onnx_path": [_ONNX_PATH],
                      "host": [Options("127.0.0.1", "localhost", "::1")],  # loopback only: a teaching server
                      "port": [Interval(Integral, 0, 65535)], "max_batch": [Interval(Integral, 1, None)],
                      "workers": [Interval(Integral, 1, 64)], "max_queue": [Interval(Integral, 1, None)],
                      "max_body_bytes": [Interval(Integral, 1, None), None],
                      "timeout": [Interval(Real, 0, None, closed="neither")], "version": [str],
                      "startup_timeout": [Interval(Real, 0, None, closed="neither")]})
    def __init__(self, onnx_path, *, host: str = "127.0.0.1", port: int = 0, max_batch: int = 64,
                 workers: int = 2, max_queue: int = 512, max_body_bytes: int | None = None, timeout: float = 10.0,
                 version: str = "1", startup_timeout: float = 120.0):
        path = _existing_onnx(onnx_path)
        if read_contract(onnx_session(path)) is None:
            raise invalid("onnx_path", str(path), "an ONNX file with a preprocessing contract (see write_contract): "
                          "the service enforces it")
        self.onnx_path, self.version = path, version
        self.startup_timeout = startup_timeout
        family = socket.AF_INET6 if host == "::1" else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self._socket.listen(2048)
        self._command = [sys.executable, "-I", str(_SERVICE_SCRIPT), "--model", str(path),
                         "--fd", str(self._socket.fileno()), "--contract-key", CONTRACT_KEY,
                         "--parent", str(os.getpid()), "--version", version, "--max-batch", str(max_batch),
                         "--workers", str(workers), "--max-queue", str(max_queue), "--timeout", str(timeout)]
        if max_body_bytes is not None:
            self._command += ["--max-body-bytes", str(max_body_bytes)]
        self._process: subprocess.Popen | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="nnpractice_service_", suffix=".log", delete=False)
        weakref.finalize(self, _remove_log, self._log)   # readable after stop(), removed with this object

    @property
    def url(self) -> str:
        host, port = self._socket.getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @property
    def pid(self) -> int | None:
        """The service process's id while it runs."""
        return None if self._process is None else self._process.pid

    def log_tail(self, chars: int = 2000) -> str:
        """The end of the service process's log (uvicorn's warnings and tracebacks of internal errors)."""
        return Path(self._log.name).read_text(errors="replace")[-chars:]

    def start(self) -> "PredictionServer":
        """Start the process and wait until ``GET /health`` answers (ServiceError if it does not)."""
        if self._process is not None:
            return self
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env.update(OMP_NUM_THREADS="1")  # the worker threads give the parallelism, one core each
        self._process = subprocess.Popen(self._command, pass_fds=[self._socket.fileno()], stdin=subprocess.DEVNULL,
                                         stdout=self._log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self._finalizer = weakref.finalize(self, _end_process, self._process)  # never a stray process
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self._process.poll() is not None:
                self._finalizer()
                raise ServiceError(f"the service process ended with code {self._process.returncode}:\n"
                                   f"{self.log_tail()}")
            try:
                with _OPENER.open(self.url + "/health", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise ServiceError(f"the service did not answer within {self.startup_timeout:g} s:\n{self.log_tail()}")
            time.sleep(0.05)

    def predict(self, batch) -> dict:
        """POST ``batch`` (a tensor, an array or nested lists) to ``/predict``; the decoded answer, or ServiceError."""
        if isinstance(batch, (torch.Tensor, np.ndarray)):
            batch = batch.tolist()
        status, answer = post_json(self.url + "/predict", {"inputs": batch})
        if status != 200:
            raise ServiceError(f"POST /predict answered {status}: {answer.get('error')}")
        return answer

    def stop(self) -> None:
        """End the process (SIGTERM, then SIGKILL after 10 s) and close the socket."""
        if self._process is not None:
            self._finalizer()
            self._process = None
        self._socket.close()

    def __enter__(self) -> "PredictionServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _remove_log(log) -> None:
    log.close()
    Path(log.name).unlink(missing_ok=True)


def _end_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy


@validate_params({"url": [str], "body": ["no_validation"],  # any JSON-serializable value, or bytes with raw=True
                  "timeout": [Interval(Real, 0, None, closed="neither")], "raw": ["boolean"],
                  "content_type": [str]})
def post_json(url: str, body, *, timeout: float = 30.0, raw: bool = False,
              content_type: str = "application/json") -> tuple[int, dict]:
    """POST ``body`` (JSON-encoded unless ``raw``, then sent as bytes) to ``url``; returns ``(status, decoded JSON)``.

    An answer that is not JSON raises ``json.JSONDecodeError``: the service promises JSON for every request.
    """
    data = body if raw else json.dumps(body).encode()
    if isinstance(data, str):
        data = data.encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": content_type})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@validate_params({"url": [str], "bodies": [Sequences(InstanceOf(bytes, "the request body as bytes",
                                                                example=lambda: b"{}"))],
                  "concurrency": [Interval(Integral, 1, 1000)], "timeout": [Interval(Real, 0, None, closed="neither")]})
def load_test(url: str, bodies: Sequence[bytes], *, concurrency: int = 200, timeout: float = 60.0) -> dict:
    """POST every body of ``bodies`` to ``url`` from ``concurrency`` clients released at the same moment.

    Each client opens its own connection per request, as independent clients do. Returns
    ``{"status": [...], "answers": [...], "latency_s": [...], "seconds": wall time,
    "p50_ms": ..., "p99_ms": ...}`` in the order of ``bodies``; a request that got no answer
    has status 0 and its error's name as its answer.
    """
    from urllib.parse import urlsplit

    target = urlsplit(url)
    status, answers, latency = [0] * len(bodies), [None] * len(bodies), [math.nan] * len(bodies)
    jobs = iter(range(len(bodies)))
    take = threading.Lock()
    start_line = threading.Barrier(min(concurrency, len(bodies)) + 1)

    def client():
        start_line.wait()
        while True:
            with take:
                i = next(jobs, None)
            if i is None:
                return
            began = time.perf_counter()
            try:
                connection = http.client.HTTPConnection(target.hostname, target.port, timeout=timeout)
                connection.request("POST", target.path, body=bodies[i], headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                status[i], answers[i] = response.status, json.loads(response.read())
                connection.close()
            except (OSError, http.client.HTTPException, ValueError) as error:
                answers[i] = type(error).__name__
            latency[i] = time.perf_counter() - began

    threads = [threading.Thread(target=client, daemon=True) for _ in range(min(concurrency, len(bodies)))]
    for thread in threads:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    answered = [s for s in latency if math.isfinite(s)]
    return {"status": status, "answers": answers, "latency_s": latency, "seconds": seconds,
            "p50_ms": 1000 * float(np.percentile(answered, 50)), "p99_ms": 1000 * float(np.percentile(answered, 99))}


# Schemathesis counts only some 4xx as refusing schema-breaking data; this service also refuses with 408
# (late body) and 413 (too large: a fuzzer's invalid bodies can be large), both documented in its schema
_FUZZ_CONFIG = """\
[checks.negative_data_rejection]
expected-statuses = [400, 404, 405, 406, 408, 413, 415, 422]
"""


@validate_params({"url": [str], "max_examples": [Interval(Integral, 1, None)], "seed": [Interval(Integral, 0, None)],
                  "timeout": [Interval(Real, 0, None, closed="neither")], "checks": [str]})
def fuzz_service(url: str, *, max_examples: int = 50, seed: int = 0, timeout: float = 300.0,
                 checks: str = "all") -> dict:
    """Run Schemathesis against the live service's OpenAPI schema at ``url/openapi.json``; its summary.

    Schemathesis (a separate program) reads the schema and sends requests that follow it and
    requests that break it: the schema's examples and boundaries first (its *coverage* phase),
    then at most ``max_examples`` generated requests per operation (*fuzzing*), drawn from
    ``seed``; the run is stopped after ``timeout`` seconds. On every answer it runs ``checks``:
    no 5xx; status codes, content types, headers and bodies as the schema documents them; valid
    data accepted, invalid data refused; undeclared methods answered 405.
    Returns ``{"version", "returncode", "requests", "failures", "failed_checks", "output"}``:
    ``failures`` holds one ``{"check", "operation", "code", "message"}`` per distinct failure,
    and ``failed_checks`` counts each check's failing answers; ``returncode`` 0 means none failed.
    """
    from importlib.metadata import version

    with tempfile.TemporaryDirectory(prefix="nnpractice_fuzz_") as folder:
        report, config = Path(folder) / "events.ndjson", Path(folder) / "schemathesis.toml"
        config.write_text(_FUZZ_CONFIG)
        command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
                   f"{url}/openapi.json", "--checks", checks, "--max-examples", str(max_examples),
                   "--seed", str(seed), "--workers", "1", "--no-color", "--generation-database", "none",
                   "--report", "ndjson", "--report-ndjson-path", str(report), "--request-timeout", "30"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=folder,
                                  env={**os.environ, "NO_COLOR": "1"})
            returncode, output = done.returncode, done.stdout + done.stderr
        except subprocess.TimeoutExpired as stopped:
            returncode, output = None, f"stopped after {timeout:g} s\n{stopped.stdout or ''}"
        events = [json.loads(line) for line in report.read_text().splitlines()] if report.exists() else []
    requests, failures, failed_checks = 0, {}, {}
    for event in events:
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished.get("recorder", {})
        requests += sum(len(interactions) if isinstance(interactions, list) else 1
                        for interactions in recorder.get("interactions", {}).values())
        for checks_of_case in recorder.get("checks", {}).values():
            for check in checks_of_case:
                if check.get("status") == "failure":
                    failed_checks[check["name"]] = failed_checks.get(check["name"], 0) + 1
                    info = check.get("failure_info", {}).get("failure", {})
                    key = (check["name"], info.get("operation"), info.get("title"))
                    failures[key] = {"check": check["name"], "operation": info.get("operation"),
                                     "code": info.get("code"), "message": info.get("message", "")[:500]}
    return {"version": version("schemathesis"), "returncode": returncode, "requests": requests,
            "failures": list(failures.values()), "failed_checks": failed_checks, "output": output}

"""From a trained PyTorch model to something that answers requests: ONNX, ONNX Runtime, a tiny service.

- :func:`export_onnx` writes an ONNX file with PyTorch's default exporter (``torch.onnx.export``,
  which in this PyTorch version traces the model with ``torch.export``), with a dynamic
  batch axis so one file serves any batch size.
- :func:`onnx_session` opens it in ONNX Runtime; :func:`run_onnx` runs it on a tensor or array.
- :func:`max_abs_difference` is the equivalence check: the largest absolute difference
  between the ONNX outputs and eager PyTorch on the same real inputs.
- :func:`latency` and :func:`latency_table` time single calls at chosen batch sizes.
- :func:`quantize_dynamic` stores the weights of linear layers as 8-bit integers.
- :class:`PredictionServer` serves an ONNX file over HTTP on 127.0.0.1, validating every
  request, and :func:`post_json` is the client used to query it.
"""
from __future__ import annotations

import json
import logging
import math
import threading
import urllib.error
import urllib.request
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from ._validation import check_nonempty, check_positive
from .device import time_it

# --------------------------------------------------------------------------- #
# Export and run
# --------------------------------------------------------------------------- #


def export_onnx(model: nn.Module, example_input: torch.Tensor, path, *, dynamic_batch: bool = True,
                input_name: str = "input", output_name: str = "logits") -> Path:
    """Export ``model`` (in eval mode) to the ONNX file ``path`` with PyTorch's default exporter.

    ``example_input`` fixes every dimension except the first, which stays symbolic
    (``"batch"``) when ``dynamic_batch`` is true. Returns the path.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model={type(model).__name__} is not allowed: expected a torch.nn.Module.")
    if not isinstance(example_input, torch.Tensor) or example_input.ndim < 1:
        raise ValueError(f"example_input={type(example_input).__name__} is not allowed: "
                         "expected a tensor with a batch dimension first.")
    check_nonempty("example_input", example_input)
    if dynamic_batch and len(example_input) < 2:
        raise ValueError(f"example_input has batch size {len(example_input)}: with dynamic_batch=True "
                         "expected at least 2, so the exporter does not specialize the batch axis to 1.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    was_training = model.training
    model.eval()
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
    return path


def onnx_session(path, *, num_threads: int = 1):
    """An ONNX Runtime ``InferenceSession`` on the CPU with ``num_threads`` intra-op threads."""
    import onnxruntime as ort

    check_positive("num_threads", num_threads, integer=True)
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path={str(path)!r} is not allowed: expected an existing .onnx file.")
    options = ort.SessionOptions()
    options.intra_op_num_threads = num_threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _as_float32_array(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.ascontiguousarray(x, dtype=np.float32)


def run_onnx(session, x) -> np.ndarray:
    """Run ``session`` on ``x`` (a tensor or array, cast to float32); returns its first output."""
    name = session.get_inputs()[0].name
    return session.run(None, {name: _as_float32_array(x)})[0]


def input_shape(session) -> list:
    """The session's input shape, with the symbolic batch axis as a string (e.g. ``['batch', 64]``)."""
    return list(session.get_inputs()[0].shape)


@torch.no_grad()
def max_abs_difference(model: nn.Module, session, x) -> float:
    """The equivalence check: ``max |onnx(x) - model(x)|`` over every output of the batch ``x``."""
    check_nonempty("x", x)
    was_training = model.training
    model.eval()
    expected = model(torch.as_tensor(_as_float32_array(x))).numpy()
    model.train(was_training)
    got = run_onnx(session, x)
    if got.shape != expected.shape:
        raise ValueError(f"the ONNX output has shape {got.shape} but the model's has {expected.shape}.")
    return float(np.max(np.abs(got - expected)))


# --------------------------------------------------------------------------- #
# Latency
# --------------------------------------------------------------------------- #


def latency(fn: Callable[[], object], *, repeats: int = 50, warmup: int = 5) -> float:
    """Median wall time of one call of ``fn()``, in seconds (after ``warmup`` calls).

    :func:`nnpractice.device.time_it` with more repeats, as inference calls are short.
    """
    return time_it(fn, repeats=repeats, warmup=warmup, dev="cpu")


def latency_table(runners: dict[str, Callable[[np.ndarray], object]], inputs: np.ndarray, *,
                  batch_sizes: Sequence[int] = (1, 64), repeats: int = 50) -> dict[str, dict[int, float]]:
    """Median latency in milliseconds of each runner at each batch size: ``{name: {batch: ms}}``.

    Each runner takes a float32 array of shape ``[batch, ...]``; the batches are the first
    ``batch`` rows of ``inputs``.
    """
    if not runners:
        raise ValueError("runners is empty: expected at least one name -> function.")
    for b in batch_sizes:
        check_positive("batch_sizes[...]", b, integer=True)
        if b > len(inputs):
            raise ValueError(f"batch size {b} is not allowed: inputs holds only {len(inputs)} rows.")
    table: dict[str, dict[int, float]] = {name: {} for name in runners}
    for b in batch_sizes:
        batch = _as_float32_array(inputs[:b])
        for name, fn in runners.items():
            table[name][b] = 1000 * latency(lambda fn=fn, batch=batch: fn(batch), repeats=repeats)
    return table


def eager_runner(model: nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    """A runner for :func:`latency_table` that calls ``model`` under ``torch.inference_mode``."""
    model.eval()

    def run(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model(torch.from_numpy(batch)).numpy()

    return run


def onnx_runner(session) -> Callable[[np.ndarray], np.ndarray]:
    """A runner for :func:`latency_table` that calls an ONNX Runtime session."""
    name = session.get_inputs()[0].name
    return lambda batch: session.run(None, {name: batch})[0]


# --------------------------------------------------------------------------- #
# Quantization
# --------------------------------------------------------------------------- #


def quantize_dynamic(path, out_path) -> Path:
    """Write ``out_path``: the ONNX model at ``path`` with 8-bit integer weights (dynamic quantization).

    Weights of matrix multiplications are stored as int8 with a scale; activations are
    quantized on the fly at run time. Returns ``out_path``.
    """
    import onnx
    from onnxruntime.quantization import QuantType
    from onnxruntime.quantization import quantize_dynamic as ort_quantize_dynamic

    path, out_path = Path(path), Path(out_path)
    if not path.is_file():
        raise ValueError(f"path={str(path)!r} is not allowed: expected an existing .onnx file.")
    model = onnx.load(str(path))
    del model.graph.value_info[:]  # the exporter's stored shapes can confuse the quantizer's shape inference
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantizer logs advice on the root logger
    try:
        ort_quantize_dynamic(model, str(out_path), weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)
    return out_path


# --------------------------------------------------------------------------- #
# A minimal prediction service
# --------------------------------------------------------------------------- #


class BadRequest(ValueError):
    """A request the service refuses with HTTP 400 and this message."""


def validate_inputs(payload, feature_shape: Sequence[int], *, max_batch: int = 256) -> np.ndarray:
    """Turn a decoded JSON ``payload`` into a float32 batch of shape ``[n, *feature_shape]``, or raise BadRequest.

    The payload must be an object ``{"inputs": [...]}`` whose list holds ``n`` examples
    (1 ≤ n ≤ ``max_batch``), each a nested list of finite numbers of shape ``feature_shape``.
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
    return np.asarray(inputs, dtype=np.float32).reshape(len(inputs), *feature_shape)


class PredictionServer:
    """Serve an ONNX classifier on ``http://127.0.0.1:<port>``: ``POST /predict``, ``GET /health``.

    ``POST /predict`` with ``{"inputs": [example, ...]}`` answers 200 with
    ``{"predictions": [class, ...], "probabilities": [[...], ...]}``; a body that is not
    JSON, a wrong shape, a non-number or too many examples answers 400 with
    ``{"error": message}``; anything else 404. The server runs in a background thread;
    use it as a context manager or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, onnx_path, *, host: str = "127.0.0.1", port: int = 0, max_batch: int = 256,
                 max_body_bytes: int = 8_000_000):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"host={host!r} is not allowed: expected a loopback address such as '127.0.0.1'.")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port={port!r} is not allowed: expected an integer in [0, 65535] (0: any free port).")
        check_positive("max_batch", max_batch, integer=True)
        check_positive("max_body_bytes", max_body_bytes, integer=True)
        self.session = onnx_session(onnx_path)
        shape = input_shape(self.session)
        if any(not isinstance(d, int) for d in shape[1:]):
            raise ValueError(f"the model's input shape {shape} has symbolic dimensions beyond the batch axis.")
        self.feature_shape = [int(d) for d in shape[1:]]
        self.max_batch = max_batch
        self.max_body_bytes = max_body_bytes
        self.requests_served = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def predict(self, batch: np.ndarray) -> dict:
        logits = run_onnx(self.session, batch)
        shifted = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        return {"predictions": logits.argmax(axis=1).tolist(), "probabilities": np.round(probs, 6).tolist()}

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the notebook quiet
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path == "/health":
                    self._send(200, {"status": "ok", "input_shape": ["batch", *server.feature_shape]})
                else:
                    self._send(404, {"error": f"unknown path {self.path}; use POST /predict or GET /health"})

            def do_POST(self):
                if self.path != "/predict":
                    self._send(404, {"error": f"unknown path {self.path}; use POST /predict"})
                    return
                try:
                    length = int(self.headers.get("Content-Length", "0"))
                except ValueError:
                    self._send(400, {"error": "Content-Length must be an integer"})
                    return
                if length <= 0 or length > server.max_body_bytes:
                    self._send(400, {"error": f"the body must hold 1 to {server.max_body_bytes} bytes; got {length}"})
                    return
                body = self.rfile.read(length)
                try:
                    payload = json.loads(body)
                except (json.JSONDecodeError, UnicodeDecodeError) as err:
                    self._send(400, {"error": f"the body is not valid JSON: {err}"})
                    return
                try:
                    batch = validate_inputs(payload, server.feature_shape, max_batch=server.max_batch)
                except BadRequest as err:
                    self._send(400, {"error": str(err)})
                    return
                try:
                    answer = server.predict(batch)
                except Exception as err:  # the service answers, it never dies on one request
                    self._send(500, {"error": f"prediction failed: {type(err).__name__}"})
                    return
                with server._lock:
                    server.requests_served += 1
                self._send(200, answer)

        return Handler

    def start(self) -> "PredictionServer":
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> "PredictionServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def post_json(url: str, body, *, timeout: float = 10.0, raw: bool = False) -> tuple[int, dict]:
    """POST ``body`` (JSON-encoded unless ``raw``, then sent as bytes) to ``url``; returns ``(status, decoded JSON)``."""
    data = body if raw else json.dumps(body).encode()
    if isinstance(data, str):
        data = data.encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())

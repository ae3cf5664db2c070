"""The prediction service's own process: a FastAPI app around one ONNX Runtime session, served by uvicorn.

:class:`nnpractice.deploy.PredictionServer` starts this file as a separate Python process
(``python -I _service.py --model PATH --fd N ...``) on a socket it has already bound, so the
port is free and known before the process starts. The file imports only the standard library,
NumPy, pydantic, FastAPI, uvicorn and ONNX Runtime (no torch): the process is up in about a second.

What each layer does for every request:

- **uvicorn** speaks HTTP/1.1 on an asyncio event loop: a connection waiting for its client costs
  a socket, not a thread; the listen backlog holds 2048 connections; a connection whose request
  head does not arrive within ``header_timeout`` gets a 408 and is closed.
- **This file's middleware** answers a POST to ``/predict`` with 415 if its body is not declared
  JSON, 413 if it holds more than ``max_body_bytes`` (declared or, chunked, counted; the rest is
  read and dropped so that the client sees the answer), 408 if it does not arrive within
  ``body_timeout``.
- **FastAPI** parses the JSON (400 if it cannot: a 5,000-digit integer, nesting too deep) and
  hands it to **pydantic**, which checks it against the request model built from the model's input shape and
  preprocessing contract: nesting and lengths, numbers only (no text, no true/false), finite,
  inside the contract's range, at most ``max_batch`` examples. Anything else is a 422 whose JSON
  says where and what; the same models give the OpenAPI schema at ``/openapi.json``.
- **Inference** runs in a pool of ``workers`` threads that share the one ONNX Runtime session
  (its ``run`` may be called from several threads at once); at most ``max_queue`` requests wait
  or run at a time (more get a 503 at once), and one that takes longer than ``predict_timeout``
  gets a 504. Every error, internal ones included (500), is JSON: the 422 names the place and the
  reason of each broken value but never echoes the value (FastAPI's own does, and a NaN there
  turns the answer into a plain-text 500). uvicorn's ``limit_concurrency`` stays off: its 503 is
  plain text, and ``max_queue`` bounds the work.
"""
import argparse
import asyncio
import hashlib
import json
import os
import signal
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Optional

import numpy as np

MAX_ERRORS_SHOWN = 10  # a raw-pixel batch breaks the contract 50,000 times: say how many, show a few
MAX_DRAINED_BYTES = 64 * 2**20  # an oversized body is read and dropped up to this size, so its client sees the 413


def _error_body(message: str, details: list | None = None) -> dict:
    return {"error": message, "details": details or []}


class _Limits:
    """ASGI middleware for POST: 415 if the body is not declared JSON, 413 if it is too large, 408 if it is late.

    (FastAPI's own ``max_body_size`` answers 413 in plain text; this one answers in JSON, like the rest.)
    """

    def __init__(self, app, *, paths: set, max_body_bytes: int, body_timeout: float):
        self.app = app
        self.paths = paths   # the POST operations; any other request is routed (and 404 or 405) as it is
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.paths:
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        media_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if not (media_type == b"application/json" or media_type.endswith(b"+json")):
            return await _send_json(send, 415, _error_body(
                f"the body must be JSON, sent with Content-Type: application/json; got "
                f"{media_type.decode('latin-1') or 'no Content-Type'}"))
        too_large = f"the body may hold at most {self.max_body_bytes} bytes"
        declared = headers.get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.max_body_bytes:
            await self._drain(receive)   # a client still sending would not see an answer sent before the end
            return await _send_json(send, 413, _error_body(
                f"{too_large}; Content-Length says {declared[:30].decode('latin-1')}"),
                headers=((b"connection", b"close"),))
        deadline = asyncio.get_running_loop().time() + self.body_timeout
        received = 0

        async def receive_in_limits():
            from fastapi import HTTPException  # raised inside FastAPI's body reading, answered by its handler

            nonlocal received
            left = deadline - asyncio.get_running_loop().time()
            try:
                message = await asyncio.wait_for(receive(), timeout=max(left, 0.001))
            except asyncio.TimeoutError:
                raise HTTPException(408, f"the request body did not arrive within {self.body_timeout:g} s",
                                    headers={"Connection": "close"}) from None
            received += len(message.get("body", b""))
            if received > self.max_body_bytes:   # a chunked body declares no length
                if message.get("more_body", False):
                    await self._drain(receive)
                raise HTTPException(413, too_large, headers={"Connection": "close"})
            return message

        return await self.app(scope, receive_in_limits, send)

    async def _drain(self, receive) -> None:
        """Read and drop the body, up to MAX_DRAINED_BYTES and ``body_timeout``."""
        drained, deadline = 0, asyncio.get_running_loop().time() + self.body_timeout
        while drained < MAX_DRAINED_BYTES:
            left = deadline - asyncio.get_running_loop().time()
            try:
                message = await asyncio.wait_for(receive(), timeout=max(left, 0.001))
            except asyncio.TimeoutError:
                return
            drained += len(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body", False):
                return


async def _send_json(send, status: int, body: dict, headers: tuple = ()) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": data})


def _h11_protocol_with_header_timeout(header_timeout: float):
    """uvicorn's HTTP/1.1 protocol, answering 408 and closing when a request head is not complete in time.

    uvicorn times out only idle keep-alive connections; a client that sends half a request head
    would otherwise hold its connection for ever.
    """
    from uvicorn.protocols.http.h11_impl import H11Protocol

    body = json.dumps(_error_body(f"the request head did not arrive within {header_timeout:g} s")).encode()
    answer = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
              b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body)

    class H11WithHeaderTimeout(H11Protocol):
        def connection_made(self, transport):
            super().connection_made(transport)
            self._expect_request_head()

        def on_response_complete(self):
            super().on_response_complete()
            self._expect_request_head()  # the next request on a kept-alive connection

        def _expect_request_head(self):
            waiting_since = self.cycle   # a new request head replaces the cycle

            def expire():
                if self.cycle is waiting_since and not self.transport.is_closing():
                    self.transport.write(answer)
                    self.transport.close()

            self.loop.call_later(header_timeout, expire)

    return H11WithHeaderTimeout


def _nested_list(item, shape):
    """The type 'a list of shape[0] lists of ... of item', with every length fixed (pydantic + JSON schema)."""
    from pydantic import Field

    for size in reversed(shape):
        item = Annotated[list[item], Field(min_length=size, max_length=size)]
    return item


def create_app(model_path, *, contract_key: str, max_batch: int = 64, workers: int = 2, max_queue: int = 512,
               max_body_bytes: int | None = None, body_timeout: float = 10.0, predict_timeout: float = 10.0,
               version: str = "1"):
    """The FastAPI app serving the ONNX classifier at ``model_path`` (one session, shared by ``workers`` threads)."""
    import onnxruntime as ort
    from fastapi import FastAPI, HTTPException, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from pydantic import BaseModel, ConfigDict, Field, create_model

    path = Path(model_path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1   # parallelism comes from the worker threads, one core each
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    model_input, model_output = session.get_inputs()[0], session.get_outputs()[0]
    feature_shape = [int(d) for d in model_input.shape[1:]]
    num_classes = int(model_output.shape[-1])
    contract_text = session.get_modelmeta().custom_metadata_map.get(contract_key)
    if contract_text is None:
        raise ValueError(f"model_path={str(path)!r} is not allowed: expected an ONNX file with a preprocessing "
                         f"contract ({contract_key!r} in its metadata, see deploy.write_contract)")
    contract = json.loads(contract_text)
    low, high = contract["value_range"]
    classes = contract.get("classes")
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    if max_body_bytes is None:  # room for the largest valid request: 32 characters per number
        max_body_bytes = 4096 + 32 * max_batch * int(np.prod(feature_shape))

    # the request model states the contract: pydantic checks it, and OpenAPI publishes it
    Value = Annotated[float, Field(strict=True, ge=low, le=high, allow_inf_nan=False)]
    Example = _nested_list(Value, feature_shape)
    PredictRequest = create_model(
        "PredictRequest", __config__=ConfigDict(extra="forbid"),
        inputs=(Annotated[list[Example], Field(min_length=1, max_length=max_batch, description=(
            f"1 to {max_batch} examples, each of shape {feature_shape}: {contract['normalization']}"))], ...))

    class ErrorDetail(BaseModel):
        where: str
        problem: str

    class ErrorResponse(BaseModel):
        error: str
        details: list[ErrorDetail]

    class PredictResponse(BaseModel):
        model_version: str
        predictions: list[Annotated[int, Field(ge=0, lt=num_classes)]]
        labels: Optional[list[str]]
        probabilities: list[Annotated[list[Annotated[float, Field(ge=0, le=1)]],
                                      Field(min_length=num_classes, max_length=num_classes)]]

    class Health(BaseModel):
        status: str
        model_version: str
        requests_in_flight: int
        requests_served: int

    class ModelInfo(BaseModel):
        name: str
        version: str
        sha256: str
        producer: str
        input_name: str
        input_shape: list
        input_dtype: str
        num_classes: int
        max_batch: int
        contract: dict

    errors = {status: {"model": ErrorResponse, "description": words} for status, words in {
        408: "the request did not arrive in time", 413: "the body is too large",
        415: "the body is not declared JSON", 422: "the body breaks the request model (shape, type, range)",
        400: "the body could not be parsed", 500: "an internal error", 503: "the service is at capacity",
        504: "the prediction took too long"}.items()}

    app = FastAPI(title=f"{path.stem} prediction service", version=version,
                  description=f"Serves {path.name} (sha256 {sha256[:12]}) with ONNX Runtime. Inputs: "
                              f"{contract['normalization']}; every value in [{low:g}, {high:g}].")
    app.add_middleware(_Limits, paths={"/predict"}, max_body_bytes=max_body_bytes, body_timeout=body_timeout)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="onnx")
    state = {"in_flight": 0, "served": 0}
    input_name, dtype = model_input.name, np.float32

    def run_model(inputs) -> dict:
        batch = np.asarray(inputs, dtype=dtype)
        logits = session.run(None, {input_name: batch})[0]   # one session, shared: run() is thread-safe
        if not np.isfinite(logits).all():
            raise FloatingPointError("the model's outputs are not finite numbers")
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities = np.round((shifted / shifted.sum(axis=1, keepdims=True)).astype(np.float64), 6)
        predictions = logits.argmax(axis=1).tolist()
        return {"model_version": version, "predictions": predictions,
                "labels": [classes[p] for p in predictions] if classes else None,
                "probabilities": probabilities.tolist()}

    @app.get("/health", response_model=Health)
    def health():
        return {"status": "ok", "model_version": version, "requests_in_flight": state["in_flight"],
                "requests_served": state["served"]}

    @app.get("/model", response_model=ModelInfo)
    def model_info():
        meta = session.get_modelmeta()
        return {"name": path.stem, "version": version, "sha256": sha256, "producer": meta.producer_name,
                "input_name": input_name, "input_shape": ["batch", *feature_shape], "input_dtype": "float32",
                "num_classes": num_classes, "max_batch": max_batch, "contract": contract}

    @app.post("/predict", response_model=PredictResponse, responses=errors)
    async def predict(request: PredictRequest):
        if state["in_flight"] >= max_queue:
            raise HTTPException(503, f"the service is at capacity (at most {max_queue} in flight); retry later",
                                headers={"Retry-After": "1"})
        state["in_flight"] += 1
        try:
            job = asyncio.get_running_loop().run_in_executor(pool, run_model, request.inputs)
            answer = await asyncio.wait_for(job, timeout=predict_timeout)
        except asyncio.TimeoutError:
            raise HTTPException(504, f"the prediction took longer than {predict_timeout:g} s") from None
        finally:
            state["in_flight"] -= 1
        state["served"] += 1
        return answer

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        problems = exc.errors()
        details = [{"where": ".".join(str(part) for part in p["loc"]), "problem": p["msg"]}
                   for p in problems[:MAX_ERRORS_SHOWN]]   # never the input itself: it may hold NaN (no JSON)
        if problems and problems[0]["type"] == "json_invalid":
            message = f"the body is not valid JSON: {problems[0].get('ctx', {}).get('error', '')}"
        else:
            first = details[0] if details else {"where": "body", "problem": "invalid"}
            count = "1 value breaks" if len(problems) == 1 else f"{len(problems)} values break"
            message = f"{count} the request model; first at {first['where']}: {first['problem']}"
            if any(p["type"] in ("less_than_equal", "greater_than_equal") for p in problems):
                message += (f" (the model's preprocessing contract: every value in [{low:g}, {high:g}], "
                            f"{contract['normalization']})")
        return JSONResponse(_error_body(message, details), status_code=422)

    async def http_error(request: Request, exc: HTTPException):
        message = str(exc.detail)
        if exc.status_code == 404:
            message = (f"unknown path {request.url.path}; the service offers GET /health, GET /model, "
                       f"POST /predict and GET /openapi.json")
        if exc.status_code == 400 and exc.__cause__ is not None:   # FastAPI could not parse the body
            cause = exc.__cause__
            why = "it is nested too deeply" if isinstance(cause, RecursionError) else f"{cause}"[:200]
            message = f"the body could not be parsed as JSON: {why}"
        return JSONResponse(_error_body(message), status_code=exc.status_code, headers=exc.headers)

    from starlette.exceptions import HTTPException as StarletteHTTPException
    app.add_exception_handler(StarletteHTTPException, http_error)   # FastAPI's, and Starlette's 404 and 405

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        return JSONResponse(_error_body(f"internal error: {type(exc).__name__}: {exc}"[:300]), status_code=500)

    app.state.pool = pool
    return app


def _exit_when_parent_dies(parent: int) -> None:
    """The service ends with the process that started it, even one killed without a chance to stop it."""
    def watch():
        while os.getppid() == parent:
            threading.Event().wait(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True).start()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Serve an ONNX classifier with FastAPI and uvicorn.")
    parser.add_argument("--model", required=True)
    parser.add_argument("--fd", type=int, required=True, help="a listening socket bound by the parent")
    parser.add_argument("--contract-key", required=True)
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--version", default="1")
    parser.add_argument("--max-batch", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-queue", type=int, default=512)
    parser.add_argument("--max-body-bytes", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds for the head, the body, the prediction")
    args = parser.parse_args(argv)
    if os.getppid() != args.parent:
        sys.exit("the parent process ended before the service started")
    _exit_when_parent_dies(args.parent)
    import uvicorn

    app = create_app(args.model, contract_key=args.contract_key, max_batch=args.max_batch, workers=args.workers,
                     max_queue=args.max_queue, max_body_bytes=args.max_body_bytes, body_timeout=args.timeout,
                     predict_timeout=args.timeout, version=args.version)
    config = uvicorn.Config(app, http=_h11_protocol_with_header_timeout(args.timeout), lifespan="off",
                            log_level="warning", access_log=False, timeout_keep_alive=5,
                            timeout_graceful_shutdown=5)   # no limit_concurrency: its 503 is plain text; max_queue bounds
    listening = socket.socket(fileno=args.fd)
    uvicorn.Server(config).run(sockets=[listening])
    app.state.pool.shutdown(wait=False, cancel_futures=True)


if __name__ == "__main__":
    main()

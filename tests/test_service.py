"""The prediction service as a real uvicorn process on 127.0.0.1: every request answered, fuzzed, loaded.

Each test starts the service (``deploy.PredictionServer``) on a free port and stops it; no timing is
asserted (the load test prints its percentiles), only that every request got the right answer.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
import torch

from conftest import trained_digits_mlp
from nnpractice import deploy, models


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A digits MLP with its contract (values in [0, 1]), exported once, and its in-process predictions."""
    model, X, _ = trained_digits_mlp()
    path = deploy.export_onnx(model, X[:8], tmp_path_factory.mktemp("onnx") / "digits.onnx")
    deploy.write_contract(path, (0.0, 1.0), normalization="pixels / 16", classes=[str(d) for d in range(10)])
    expected = deploy.run_onnx(deploy.onnx_session(path), X)
    return path, X, expected


def get_json(url):
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=30) as answer:
        return answer.status, json.loads(answer.read())


def test_good_requests_get_the_in_process_answers_and_the_metadata_is_versioned(served):
    path, X, expected = served
    with deploy.PredictionServer(path, max_batch=16, version="2.1") as server:
        assert server.url.startswith("http://127.0.0.1:")
        answer = server.predict(X[:5])
        assert answer["predictions"] == expected[:5].argmax(1).tolist()
        assert answer["labels"] == [str(p) for p in answer["predictions"]] and answer["model_version"] == "2.1"
        shifted = np.exp(expected[:5] - expected[:5].max(1, keepdims=True))
        assert np.allclose(answer["probabilities"], shifted / shifted.sum(1, keepdims=True), atol=2e-6)
        status, info = get_json(server.url + "/model")
        assert status == 200 and info["version"] == "2.1" and info["input_shape"] == ["batch", 64]
        assert info["contract"]["value_range"] == [0.0, 1.0] and info["max_batch"] == 16
        assert len(info["sha256"]) == 64 and info["sha256"] == __import__("hashlib").sha256(path.read_bytes()).hexdigest()
        status, schema = get_json(server.url + "/openapi.json")
        body = schema["components"]["schemas"]["PredictRequest"]["properties"]["inputs"]
        assert schema["info"]["version"] == "2.1" and body["maxItems"] == 16 and body["items"]["minItems"] == 64
        assert body["items"]["items"] == {"type": "number", "minimum": 0.0, "maximum": 1.0}
        assert get_json(server.url + "/health")[1]["requests_served"] == 1


def _huge_integer_body():
    return b'{"inputs": [[' + b",".join([b"1" + b"0" * 400] * 64) + b"]]}"   # 10**400: a float overflows


BAD_REQUESTS = {  # name: (body, content type, status, words of the error)
    "not JSON": (b"{inputs: [1, 2", "application/json", 422, "not valid JSON"),
    "not UTF-8": (b"\xff\xfe", "application/json", 422, "not valid JSON"),
    "10**400": (_huge_integer_body(), "application/json", 422, "body.inputs.0.0: Input should be a valid number"),
    "an integer of 5,000 digits": (b'{"inputs": [[' + b"9" * 5000 + b"]]}", "application/json", 400,
                                   "could not be parsed as JSON"),
    "1e400 (infinity)": (b'{"inputs": [[' + b",".join([b"1e400"] * 64) + b"]]}", "application/json", 422, "finite"),
    "NaN": (json.dumps({"inputs": [[float("nan")] * 64]}).encode(), "application/json", 422, "finite"),
    "all 1e308": (json.dumps({"inputs": [[1e308] * 64]}).encode(), "application/json", 422, "preprocessing contract"),
    "deep nesting": (b"[" * 15_000 + b"]" * 15_000, "application/json", 400, "nested too deeply"),
    "wrong content type": (b'{"inputs": [[0.5]]}', "text/plain", 415, "Content-Type: application/json"),
    "form data": (b"inputs=1", "application/x-www-form-urlencoded", 415, "must be JSON"),
    "wrong shape": (json.dumps({"inputs": [[0.5] * 63]}).encode(), "application/json", 422, "at least 64 items"),
    "text for a number": (json.dumps({"inputs": [["0.5"] * 64]}).encode(), "application/json", 422, "valid number"),
    "true for a number": (json.dumps({"inputs": [[True] * 64]}).encode(), "application/json", 422, "valid number"),
    "raw 0-16 pixels": (None, "application/json", 422, "preprocessing contract"),
    "too many examples": (json.dumps({"inputs": [[0.5] * 64] * 17}).encode(), "application/json", 422,
                          "at most 16 items"),
    "no examples": (b'{"inputs": []}', "application/json", 422, "at least 1 item"),
    "a misspelt key": (b'{"input": [[0.5]]}', "application/json", 422, "body.inputs: Field required"),
    "a list, not an object": (b"[[0.5]]", "application/json", 422, "valid dictionary"),
    "too large": (b'{"inputs": [' + b"0.5," * 3_000_000 + b"0.5]}", "application/json", 413, "at most"),
}


@pytest.mark.parametrize("content_length", [True, False], ids=["with Content-Length", "chunked"])
def test_every_bad_request_gets_a_4xx_with_a_json_message_and_the_service_stays_up(served, content_length):
    path, X, expected = served
    with deploy.PredictionServer(path, max_batch=16) as server:
        for name, (body, content_type, status, words) in BAD_REQUESTS.items():
            body = json.dumps({"inputs": (X[:2] * 16).tolist()}).encode() if body is None else body
            got, answer = _post(server.url, body, content_type, chunked=not content_length)
            assert got == status and words in answer["error"], (name, got, answer)
            assert isinstance(answer["details"], list) and len(answer["details"]) <= 10, name
        assert server.predict(X[:3])["predictions"] == expected[:3].argmax(1).tolist()   # still up, still right
        for method, route in [("PUT", "/predict"), ("POST", "/health"), ("GET", "/nowhere")]:
            request = urllib.request.Request(server.url + route, method=method, data=b"{}" if method != "GET" else None,
                                             headers={"Content-Type": "application/json"})
            try:
                urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=30)
            except urllib.error.HTTPError as error:
                answer = json.loads(error.read())
                assert error.code == (404 if route == "/nowhere" else 405) and answer["error"], (method, route)
            else:
                raise AssertionError(f"{method} {route} was answered 200")


def _post(url, body, content_type, *, chunked=False):
    """POST raw bytes with http.client (chunked: no Content-Length, the body in 64 kB chunks)."""
    import http.client
    from urllib.parse import urlsplit

    target = urlsplit(url)
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
    if chunked:
        chunks = (body[i:i + 65536] for i in range(0, len(body), 65536))
        connection.request("POST", "/predict", body=chunks, headers={"Content-Type": content_type},
                           encode_chunked=True)
    else:
        connection.request("POST", "/predict", body=body, headers={"Content-Type": content_type})
    response = connection.getresponse()
    assert response.getheader("Content-Type") == "application/json", response.getheader("Content-Type")
    answer = json.loads(response.read())
    connection.close()
    return response.status, answer


def test_half_a_request_is_answered_408_and_held_connections_cost_no_thread(served):
    path, X, expected = served
    with deploy.PredictionServer(path, timeout=1.5) as server:
        port = int(server.url.rsplit(":", 1)[1])
        half_head = socket.create_connection(("127.0.0.1", port))
        half_head.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\n")
        half_body = socket.create_connection(("127.0.0.1", port))
        half_body.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 100\r\n\r\n{\"inp")
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(300)]
        assert server.predict(X[:1])["predictions"] == expected[:1].argmax(1).tolist()  # served among 300 idle
        threads = int(open(f"/proc/{server.pid}/status").read().split("Threads:")[1].split()[0])
        assert threads < 30, threads   # the event loop holds the 300 sockets; threads are the pool and runtime's
        for connection, words in [(half_head, b"request head did not arrive"), (half_body, b"body did not arrive")]:
            head, _, body = _read_until_closed(connection).partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 408") and words in body, (head, body)
        for connection in held:
            assert _read_until_closed(connection).startswith(b"HTTP/1.1 408")   # answered and closed, not held


def _read_until_closed(connection):
    connection.settimeout(15)
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    connection.close()
    return received


def test_an_internal_error_is_a_500_with_a_json_message(served, tmp_path):
    path, X, _ = served
    broken = models.mlp(64, [8], 10)
    with torch.no_grad():
        broken[-1].bias[0] = float("nan")   # a corrupted weight: the outputs are NaN
    broken_path = deploy.export_onnx(broken.eval(), X[:8], tmp_path / "broken.onnx")
    deploy.write_contract(broken_path, (0.0, 1.0), normalization="pixels / 16")
    with deploy.PredictionServer(broken_path) as server:
        status, answer = deploy.post_json(server.url + "/predict", {"inputs": X[:2].tolist()})
        assert status == 500 and "not finite" in answer["error"], answer   # never NaN in a 200 (not JSON)
        assert get_json(server.url + "/health")[0] == 200


def test_schemathesis_finds_no_server_error_and_no_schema_violation(served):
    path, X, _ = served
    with deploy.PredictionServer(path, max_batch=4) as server:
        result = deploy.fuzz_service(server.url, max_examples=150, seed=0, timeout=300)
        log = server.log_tail()
    summary = (f"Schemathesis {result['version']}: {result['requests']} requests, failures {result['failures']}\n"
               f"{result['output'][-3000:]}\n{log}")
    print(summary)
    assert result["returncode"] == 0 and not result["failures"], summary
    assert result["requests"] >= 150, summary   # it did run: the coverage phase and 150 generated bodies at least
    assert "Traceback" not in log, log


def test_schemathesis_does_find_a_service_that_breaks_its_schema(served):
    """The fuzzing is no formality: the same service with a limit below the schema's own is caught."""
    path, X, _ = served
    with deploy.PredictionServer(path, max_batch=4, max_body_bytes=600) as server:  # valid bodies are larger
        result = deploy.fuzz_service(server.url, max_examples=30, seed=0, timeout=300,
                                     checks="positive_data_acceptance")
    assert result["returncode"] != 0 and result["failed_checks"].get("positive_data_acceptance"), result["output"][-2000:]


def test_200_concurrent_requests_are_all_answered_right(served):
    path, X, expected = served
    rows = [list(range(i % 500, i % 500 + 1 + i % 3)) for i in range(200)]
    bodies = [json.dumps({"inputs": X[r].tolist()}).encode() for r in rows]
    with deploy.PredictionServer(path, max_batch=16, workers=2) as server:
        result = deploy.load_test(server.url + "/predict", bodies, concurrency=200, timeout=60)
        served_count = get_json(server.url + "/health")[1]["requests_served"]
    print(f"200 concurrent requests: p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, "
          f"all in {result['seconds']:.2f} s")
    assert result["status"] == [200] * 200, sorted(set(map(str, result["answers"])))[:5]
    assert all(a["predictions"] == expected[r].argmax(1).tolist() for a, r in zip(result["answers"], rows))
    assert served_count == 200


def test_beyond_its_queue_the_service_answers_503_at_once_never_drops(served):
    path, X, expected = served
    bodies = [json.dumps({"inputs": X[i:i + 16].tolist()}).encode() for i in range(100)]
    with deploy.PredictionServer(path, max_batch=16, workers=1, max_queue=1) as server:
        result = deploy.load_test(server.url + "/predict", bodies, concurrency=100, timeout=60)
        assert server.predict(X[:2])["predictions"] == expected[:2].argmax(1).tolist()   # and serves again after
    statuses = set(result["status"])
    assert statuses == {200, 503}, (statuses, [a for a in result["answers"] if not isinstance(a, dict)][:3])
    for status, answer, i in zip(result["status"], result["answers"], range(100)):
        if status == 200:
            assert answer["predictions"] == expected[i:i + 16].argmax(1).tolist()
        else:
            assert "at capacity (at most 1 in flight)" in answer["error"], answer


def test_the_service_process_ends_with_stop_and_with_its_parent(served, tmp_path):
    path, *_ = served
    server = deploy.PredictionServer(path).start()
    pid = server.pid
    server.stop()
    assert not _alive(pid)
    # a parent killed without a chance to stop it: the service notices and ends too
    script = tmp_path / "parent.py"
    script.write_text(f"import sys, time\nfrom nnpractice import deploy\ns = deploy.PredictionServer({str(path)!r}).start()\n"
                      "print(s.pid, s._log.name, flush=True)\ntime.sleep(600)\n")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        child, log = parent.stdout.readline().split()
        child = int(child)
        assert _alive(child)
    finally:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 20
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.unlink(log)   # the killed parent had no chance to remove it
    assert not _alive(child), "the service outlived its parent"


def _alive(pid):
    try:
        state = open(f"/proc/{pid}/stat").read().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"

"""Flower's deployment runtime for real: a SuperLink and SuperNodes as processes on 127.0.0.1 (chapter 14).

The federation runs chapter 14's Flower App (nnpractice.flower_app) over TLS; its final
model must be the in-process FedAvg's (federated.run_fedavg on the same clients, seeds and
weights), the bytes the counting proxy saw must cover every model that crossed, and no
process of the federation may be left afterwards.
"""
from __future__ import annotations

import socket
import threading
import time

import psutil
import pytest

from nnpractice import data, federated, flower_app
from nnpractice._validation import InvalidParameterError
from nnpractice.federated_deploy import CountingProxy, LocalFederation

CLIENTS, ROUNDS, SEED, LR = 3, 2, 7, 0.3
# the federation's run takes 25-55 s here (Flower's runtime polls every 3 s and starts a process per message)
SLOW = pytest.mark.slow


def _reference_state():
    """The same FedAvg in this process: the clients' training rows, their seeds, weights by sample count."""
    X, y = data.load_digits()
    clients = federated.client_splits(y, CLIENTS, seed=SEED)
    model, _ = federated.run_fedavg(lambda: flower_app.build_model(SEED), (X, y), [c["train"] for c in clients],
                                    (X[:10], y[:10]), num_rounds=ROUNDS, batch_size=32, lr=LR, seed=SEED)
    return model.state_dict()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    app = flower_app.write_app(tmp_path_factory.mktemp("app"))
    result_path = tmp_path_factory.mktemp("result") / "result.json"
    with LocalFederation(CLIENTS, tls=True) as federation:
        pids = [pid for group in federation.alive().values() for pid in group]
        before = federation.proxy.counts()
        seconds = federation.run(app, {"num-clients": CLIENTS, "num-rounds": ROUNDS, "seed": SEED, "lr": LR,
                                       "fraction-evaluate": 0.0, "result-path": str(result_path)}, timeout=240)
        after = federation.proxy.counts()
        openings = list(federation.proxy.openings)
    return {"result": flower_app.read_result(result_path), "pids": pids, "before": before, "after": after,
            "openings": openings, "seconds": seconds, "app": app}


@SLOW
def test_the_deployment_trains_the_in_process_fedavg_model(deployment):
    state, reference = deployment["result"]["state"], _reference_state()
    assert list(state) == list(reference)
    gap = max(float((state[k] - reference[k]).abs().max()) for k in reference)
    assert gap < 1e-5, gap
    # not vacuous: training moved the weights far more than the tolerance
    start = flower_app.build_model(SEED).state_dict()
    assert max(float((reference[k] - start[k]).abs().max()) for k in start) > 1e-2


@SLOW
def test_every_model_that_crossed_the_wire_was_counted(deployment):
    model_bytes = federated.state_bytes(flower_app.build_model(0))
    up = deployment["after"]["up"] - deployment["before"]["up"]
    down = deployment["after"]["down"] - deployment["before"]["down"]
    accounted = ROUNDS * CLIENTS * model_bytes        # each direction: one model per client per round
    assert accounted <= up < 3 * accounted + 200_000, (up, accounted)
    assert accounted <= down < 3 * accounted + 200_000, (down, accounted)
    assert deployment["after"]["connections"] >= CLIENTS


@SLOW
def test_the_fleet_api_spoke_tls(deployment):
    # a TLS connection opens with a handshake record (0x16, version 3.x); plain gRPC with "PRI * HTTP/2.0"
    assert deployment["openings"] and all(o[:2] == b"\x16\x03" for o in deployment["openings"]), deployment["openings"]


@SLOW
def test_no_process_is_left(deployment):
    assert len(deployment["pids"]) >= 1 + CLIENTS
    left = [p for p in deployment["pids"] if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert not left, left


def test_a_failing_start_cleans_up_and_shows_the_logs(capsys):
    federation = LocalFederation(1, tls=False, startup_timeout=0.01)   # too short for a SuperLink to listen
    with pytest.raises(TimeoutError):
        federation.__enter__()
    assert not any(federation.alive().values())
    assert "----- superlink -----" in capsys.readouterr().err


def test_the_proxy_counts_both_ways():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()

        def echo():
            conn, _ = server.accept()
            with conn:
                conn.sendall(conn.recv(100) * 2)

        thread = threading.Thread(target=echo)
        thread.start()
        with CountingProxy(server.getsockname()[1]) as proxy:
            with socket.create_connection(("127.0.0.1", proxy.port)) as client:
                client.sendall(b"hello")
                received = b""
                while len(received) < 10:
                    received += client.recv(100)
            thread.join()
            assert received == b"hellohello"
            deadline = time.monotonic() + 5
            while proxy.counts()["down"] < 10 and time.monotonic() < deadline:   # the relay's last write
                time.sleep(0.01)
            assert proxy.counts() == {"up": 5, "down": 10, "connections": 1}
            assert proxy.openings == [b"hello"]


@pytest.mark.parametrize("call", [
    lambda: LocalFederation(0),
    lambda: LocalFederation(2, tls="yes"),
    lambda: LocalFederation(2, startup_timeout=-1),
    lambda: LocalFederation(2).run("app", timeout=0),
    lambda: CountingProxy(0),
    lambda: flower_app.settings({"lr": -0.1}),
    lambda: flower_app.settings({"num-rounds": 1.5}),
    lambda: flower_app.settings({"fraction-evaluate": 2.0}),
    lambda: flower_app.settings({"rounds": 3}),
    lambda: flower_app.make_server_app({"seed": -1}),
    lambda: flower_app.load_partition(4, 4),
])
def test_bad_arguments_are_refused(call):
    with pytest.raises(InvalidParameterError):
        call()


def test_run_needs_a_started_federation():
    with pytest.raises(RuntimeError, match="start the federation first"):
        LocalFederation(2).run("app")


"""A Flower deployment on this machine: a SuperLink and SuperNodes as processes on 127.0.0.1 (chapter 14).

:class:`LocalFederation` starts Flower's deployment runtime {Beutel et al., 2020}: one
``flower-superlink`` (the server side: its Fleet API talks to the devices, its Control API
takes ``flwr run``) and one ``flower-supernode`` per client, each told its partition with
``--node-config``. Every process gets free ports, its own process group and a log file in a
temporary directory; leaving the ``with`` block ends them all, after an error too, and an
error shows the logs. By default the Fleet and Control APIs use TLS with a certificate
authority made on the spot (:func:`make_certificates`).

Between the SuperNodes and the SuperLink's Fleet API sits a :class:`CountingProxy`: a TCP
relay that counts the bytes each way, so the traffic "on the wire" is measured, not computed.

>>> with CountingProxy(9) as proxy:    # nothing listens on port 9: no byte moves
...     proxy.bytes_up + proxy.bytes_down
0
"""
from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from numbers import Integral, Real
from pathlib import Path

from ._validation import InstanceOf, Interval, invalid, validate_params
from .distributed import free_port  # one home for "a port nothing listens on"

__all__ = ["CountingProxy", "make_certificates", "LocalFederation"]

HOST = "127.0.0.1"     # loopback only: nothing here is reachable from another machine
PATH = InstanceOf((str, os.PathLike), "a directory path", example=lambda: tempfile.gettempdir())


def _wait_for_port(port: int, timeout: float, alive=lambda: True) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"the process that should listen on port {port} exited")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listened on {HOST}:{port} within {timeout:.0f} s")


class CountingProxy:
    """A TCP relay from a free port on 127.0.0.1 to ``target_port``, counting the bytes each way.

    ``bytes_up`` is what clients sent towards the target, ``bytes_down`` what came back,
    ``connections`` how many connections were relayed, ``openings`` the first bytes each sent. It runs an asyncio loop in a thread
    of its own; use it as a context manager (or :meth:`start` and :meth:`stop`).
    """

    @validate_params({"target_port": [Interval(Integral, 1, 65535)]})
    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port: int | None = None
        self.bytes_up = self.bytes_down = self.connections = 0
        self.openings: list[bytes] = []    # each connection's first bytes upstream: a TLS handshake or HTTP/2's preface
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server = None

    def counts(self) -> dict[str, int]:
        """A snapshot: ``{"up": ..., "down": ..., "connections": ...}``."""
        with self._lock:
            return {"up": self.bytes_up, "down": self.bytes_down, "connections": self.connections}

    async def _pump(self, reader, writer, direction: str) -> None:
        first = direction == "up"
        try:
            while chunk := await reader.read(65536):
                with self._lock:
                    if first:
                        self.openings.append(chunk[:8])
                        first = False
                    if direction == "up":
                        self.bytes_up += len(chunk)
                    else:
                        self.bytes_down += len(chunk)
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _relay(self, client_reader, client_writer) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(HOST, self.target_port)
        except OSError:
            client_writer.close()
            return
        with self._lock:
            self.connections += 1
        await asyncio.gather(self._pump(client_reader, server_writer, "up"),
                             self._pump(server_reader, client_writer, "down"))

    def start(self) -> CountingProxy:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="counting-proxy")
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._relay, HOST, 0), self._loop).result(timeout=10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._loop is None:
            return

        async def close():
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = None

    def __enter__(self) -> CountingProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@validate_params({"directory": [PATH], "host": [InstanceOf(str, "an IP address such as '127.0.0.1'",
                                                           example=lambda: HOST)]})
def make_certificates(directory, host: str = HOST) -> dict[str, Path]:
    """A certificate authority and a server certificate it signed for ``host``, as PEM files in ``directory``.

    Returns the paths ``{"ca": ..., "cert": ..., "key": ...}``: the SuperLink serves with
    ``cert`` and ``key``; clients trust ``ca``. Valid for one day; for a test, not for a real deployment.
    """
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise invalid("host", host, "an IP address such as '127.0.0.1'") from None
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(common_name):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("nnpractice test CA")).issuer_name(name("nnpractice test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    # the client checks the address it dialled against the certificate's subject alternative name
    cert = (x509.CertificateBuilder().subject_name(name(host)).issuer_name(ca.subject)
            .public_key(server_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(address)]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"ca": directory / "ca.pem", "cert": directory / "server.pem", "key": directory / "server.key"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
    return paths


def _die_with_parent():
    """In the child, before it runs: ask Linux to kill it when this process dies (killed, not only exited)."""
    try:
        _LIBC.prctl(1, signal.SIGKILL)    # PR_SET_PDEATHSIG: the runtime's own children watch their parent's pid
    except AttributeError:
        pass


try:
    import ctypes
    _LIBC = ctypes.CDLL(None) if sys.platform.startswith("linux") else None
except OSError:
    _LIBC = None


def _in_group(pgid: int) -> list[int]:
    """The live processes of group ``pgid`` (zombies, already dead, are not counted)."""
    import psutil

    alive = []
    for process in psutil.process_iter(["pid", "status"]):
        try:
            if os.getpgid(process.pid) == pgid and process.info["status"] != psutil.STATUS_ZOMBIE:
                alive.append(process.pid)
        except (ProcessLookupError, psutil.Error):
            pass
    return alive


def _executable(name: str) -> str:
    # the venv's console scripts sit beside its python, which may not be on PATH (a notebook's kernel)
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else name


class LocalFederation:
    """A SuperLink and ``num_clients`` SuperNodes on 127.0.0.1, running while the ``with`` block runs.

    SuperNode ``k`` gets ``--node-config "partition-id=k num-partitions=num_clients"``. With
    ``tls=True`` the Fleet API (SuperNodes) and the Control API (``flwr run``) are encrypted
    with a fresh certificate authority; ``tls=False`` runs Flower's ``--insecure`` mode. The
    SuperNodes reach the Fleet API through a :class:`CountingProxy` (``self.proxy``).

    >>> LocalFederation(0)
    Traceback (most recent call last):
    ...
    nnpractice._validation.InvalidParameterError: num_clients=0 is not allowed: expected an integer in [1, 64].
    """

    @validate_params({"num_clients": [Interval(Integral, 1, 64)], "tls": ["boolean"],
                      "startup_timeout": [Interval(Real, 0, None, closed="neither")]})
    def __init__(self, num_clients: int = 4, *, tls: bool = True, startup_timeout: float = 60.0):
        self.num_clients, self.tls, self.startup_timeout = num_clients, tls, startup_timeout
        self.directory: Path | None = None
        self.proxy: CountingProxy | None = None
        self.processes: dict[str, subprocess.Popen] = {}
        self._logs: dict[str, Path] = {}

    # ----------------------------------------------------------------- processes
    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        # the runtime installs apps and keeps its config under FLWR_HOME: a private one per federation
        env.update(FLWR_HOME=str(self.directory / "flwr_home"), FLWR_TELEMETRY_ENABLED="0", OMP_NUM_THREADS="1",
                   PYTHONUNBUFFERED="1")
        # the runtime starts its helpers (flower-superexec, flwr-serverapp, flwr-clientapp) by name
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        return env

    def _start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = self.directory / f"{name}.log"
        self._logs[name] = log
        with open(log, "wb") as out:
            # a process group of its own: the runtime's children (superexec, serverapp, clientapps) go with it
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=self._env(),
                                       cwd=self.directory, start_new_session=True,
                                       preexec_fn=_die_with_parent if _LIBC is not None else None)
        self.processes[name] = process
        return process

    def _tls_flags(self) -> tuple[list[str], list[str]]:
        if not self.tls:
            return ["--insecure"], ["--insecure"]
        c = self.certificates
        return (["--ssl-ca-certfile", str(c["ca"]), "--ssl-certfile", str(c["cert"]), "--ssl-keyfile", str(c["key"])],
                ["--root-certificates", str(c["ca"])])

    def __enter__(self) -> LocalFederation:
        self.directory = Path(tempfile.mkdtemp(prefix="nnpractice-flower-"))
        try:
            self.certificates = make_certificates(self.directory / "certificates") if self.tls else {}
            link_flags, node_flags = self._tls_flags()
            self.ports = {"fleet": free_port(), "serverappio": free_port(), "control": free_port()}
            link = self._start("superlink", [
                _executable("flower-superlink"), *link_flags,
                "--fleet-api-address", f"{HOST}:{self.ports['fleet']}",
                "--serverappio-api-address", f"{HOST}:{self.ports['serverappio']}",
                "--control-api-address", f"{HOST}:{self.ports['control']}",
                "--storage-dir", str(self.directory / "ffs")])
            for api in ("fleet", "control"):
                _wait_for_port(self.ports[api], self.startup_timeout, lambda: link.poll() is None)
            self.proxy = CountingProxy(self.ports["fleet"]).start()
            for k in range(self.num_clients):
                self._start(f"supernode-{k}", [
                    _executable("flower-supernode"), *node_flags, "--superlink", f"{HOST}:{self.proxy.port}",
                    "--clientappio-api-address", f"{HOST}:{free_port()}",
                    "--node-config", f"partition-id={k} num-partitions={self.num_clients}"])
            self._write_connection()
        except BaseException:
            self._stop(show_logs=True)
            raise
        return self

    def _write_connection(self) -> None:
        """The `flwr` command's connection to this SuperLink's Control API, in FLWR_HOME/config.toml."""
        home = self.directory / "flwr_home"
        home.mkdir(exist_ok=True)
        tls = (f'root-certificates = "{self.certificates["ca"]}"' if self.tls else "insecure = true")
        (home / "config.toml").write_text(f'[superlink]\ndefault = "local"\n\n[superlink.local]\n'
                                          f'address = "{HOST}:{self.ports["control"]}"\n{tls}\n')

    def alive(self) -> dict[str, list[int]]:
        """The live processes of each started process's group (the runtime's helpers included)."""
        return {name: _in_group(p.pid) for name, p in self.processes.items()}

    def logs(self, tail: int = 4000) -> str:
        """The last ``tail`` characters of every process's log."""
        parts = []
        for name, path in self._logs.items():
            text = path.read_text(errors="replace") if path.exists() else ""
            parts.append(f"----- {name} -----\n{text[-tail:]}")
        return "\n".join(parts)

    def _stop(self, show_logs: bool = False) -> None:
        for process in self.processes.values():
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(process.pid, signal.SIGKILL)    # whatever of the group is left, its children included
            except ProcessLookupError:
                pass
            process.wait()
        deadline = time.monotonic() + 10
        while any(_in_group(p.pid) for p in self.processes.values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.proxy is not None:
            self.proxy.stop()
        if show_logs and self._logs:
            print(self.logs(), file=sys.stderr)
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __exit__(self, exc_type, exc, tb) -> None:
        self._stop(show_logs=exc_type is not None)

    # ----------------------------------------------------------------- runs
    @validate_params({"app": [PATH], "run_config": [InstanceOf(Mapping, "a mapping of run-config keys to values",
                                                             example=lambda: {})],
                      "timeout": [Interval(Real, 0, None, closed="neither")]})
    def run(self, app, run_config: Mapping | None = None, *, timeout: float = 300.0) -> float:
        """``flwr run app`` on this federation, waiting until the run ends; returns its wall-clock seconds.

        ``run_config`` overrides the app's run config (``--run-config``). A run that fails or
        outlasts ``timeout`` raises, with ``flwr``'s output and the processes' logs in the message.
        """
        if self.directory is None:
            raise RuntimeError("start the federation first: `with LocalFederation(...) as federation:`")
        overrides = " ".join(f"{key}={toml_value(value)}" for key, value in (run_config or {}).items())
        command = [_executable("flwr"), "run", str(Path(app).resolve()), "local", "--stream"]
        if overrides:
            command += ["--run-config", overrides]
        start = time.perf_counter()
        try:
            done = subprocess.run(command, env=self._env(), cwd=self.directory, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired as error:
            raise TimeoutError(f"the run did not end within {timeout:.0f} s\n{self.logs()}") from error
        seconds = time.perf_counter() - start
        if done.returncode != 0 or "ERROR" in done.stdout:
            raise RuntimeError(f"flwr run failed (exit {done.returncode}):\n{done.stdout[-4000:]}\n"
                               f"{done.stderr[-4000:]}\n{self.logs()}")
        self.last_output = done.stdout
        return seconds


@validate_params({"value": [InstanceOf((str, Real), "a string or a number", example=lambda: 1.0)]})
def toml_value(value) -> str:
    """A run-config value as TOML writes it (the app's ``pyproject.toml`` and ``flwr run --run-config`` both read TOML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)            # a TOML basic string is a JSON string
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)

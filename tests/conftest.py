import ipaddress
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

os.environ.setdefault("NNPRACTICE_SCALE", "cpu")

_real_connect = socket.socket.connect


def _loopback_only_connect(sock, address):
    """Tests run with no network: any connection beyond this machine fails loudly."""
    host = address[0] if isinstance(address, tuple) else None
    if host is not None:
        try:
            allowed = ipaddress.ip_address(host).is_loopback
        except ValueError:
            allowed = host == "localhost"
        if not allowed:
            raise OSError(f"tests must not use the network: connection to {address!r} blocked")
    return _real_connect(sock, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _loopback_only_connect)
    yield


@pytest.fixture(autouse=True)
def _one_thread_and_seed():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """The book built once from clean (warnings as errors): ``(html folder, build log)``.

    Shared by the book tests and the browser tests, so ``make test`` builds it once.
    """
    root = Path(__file__).resolve().parents[1]
    out = tmp_path_factory.mktemp("book")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    # A private matplotlib cache, built before the book: a font list left in ~/.cache/matplotlib by another
    # matplotlib install makes every kernel log "findfont: ... not found" to stderr, which -W turns into errors.
    env = dict(os.environ, MPLCONFIGDIR=str(tmp_path_factory.mktemp("mplconfig")))
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env, capture_output=True, check=True)
    result = subprocess.run([str(jupyter_book), "build", "-W", "-n", "--keep-going", "--path-output", str(out), str(root)],
                            capture_output=True, text=True, timeout=1800, env=env)
    log = result.stdout + result.stderr
    if result.returncode != 0:
        # CI shows only the end of the output: put the notebooks' own tracebacks there, not kernel chatter.
        reports = sorted((out / "_build" / "html" / "reports").rglob("*.err.log"))
        tracebacks = "\n".join(f"== {r.name}\n{r.read_text(errors='replace')[-3000:]}" for r in reports)
        warnings = "\n".join(line for line in log.splitlines() if "WARNING" in line and "TCP without encryption" not in line)
        pytest.fail(f"the book build failed (exit {result.returncode}).\n{warnings[-3000:]}\n{tracebacks}", pytrace=False)
    yield out / "_build" / "html", log
    shutil.rmtree(out, ignore_errors=True)


CHROMIUM = Path(os.environ.get("NNPRACTICE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright (never a downloaded browser), shared by the browser tests."""
    assert CHROMIUM.exists(), (f"{CHROMIUM} is missing: run `make system-deps` as root "
                               "(or `sudo apt-get install chromium`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()

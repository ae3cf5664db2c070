import ipaddress
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

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


def pytest_addoption(parser):
    group = parser.getgroup("nnpractice", "chapters under other seeds (tests/test_claims.py)")
    group.addoption("--seeds", default="1", help="NNPRACTICE_SEED values to run the chapters under (default: 1)")
    group.addoption("--chapters", default="seeded",
                    help="'seeded' (chapters/seeded.txt, the default), 'all', or chapter numbers/stems: '03 07'")


def pytest_generate_tests(metafunc):
    """test_claims_hold runs once per chapter and seed that the command line asks for."""
    if {"claim_chapter", "claim_seed"} <= set(metafunc.fixturenames):
        from notebook_runs import chapter_names

        seeds = [int(s) for s in metafunc.config.getoption("seeds").replace(",", " ").split()]
        names = chapter_names(metafunc.config.getoption("chapters"))
        cases = [(name, seed) for name in names for seed in seeds]
        metafunc.parametrize("claim_chapter, claim_seed", cases, ids=[f"{n}-seed{s}" for n, s in cases])


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _loopback_only_connect)
    yield


@pytest.fixture(autouse=True)
def _one_thread_and_seed():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield


class Book(NamedTuple):
    html: Path                 # the built HTML
    log: str                   # jupyter-book's output
    cached: dict[str, bool]    # chapter stem -> its execution was in the cache before the build


@pytest.fixture(scope="session")
def built_book(tmp_path_factory, request):
    """The book built once from clean (warnings as errors), reusing the chapters' executions in the cache.

    The exercise pass (tests/test_exercises.py) stores each chapter executed at seed 0 in the jupyter-cache
    of ``_build/``; the build reads a copy of it, renders those chapters and executes any chapter missing
    from it. Shared by the book tests and the browser tests, so ``make test`` builds it once.
    """
    from notebook_runs import CACHE, cached_record
    from notebook_tools import CHAPTERS

    root = Path(__file__).resolve().parents[1]
    out = tmp_path_factory.mktemp("book")
    cache = out / "_build" / ".jupyter_cache"  # where jupyter-book looks with --path-output out
    if CACHE.exists():
        shutil.copytree(CACHE, cache, ignore=shutil.ignore_patterns(".nnp-lock"))
    cached = {path.stem: cached_record(path, cache) is not None for path in CHAPTERS}
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    # A private matplotlib cache, built before the book: a font list left in ~/.cache/matplotlib by another
    # matplotlib install makes every kernel log "findfont: ... not found" to stderr, which -W turns into errors.
    env = dict(os.environ, MPLCONFIGDIR=str(tmp_path_factory.mktemp("mplconfig")), NNPRACTICE_SEED="0")
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env, capture_output=True, check=True)
    start = time.perf_counter()
    result = subprocess.run([str(jupyter_book), "build", "-W", "-n", "--keep-going", "--path-output", str(out), str(root)],
                            capture_output=True, text=True, timeout=1800, env=env)
    log = result.stdout + result.stderr
    seconds = time.perf_counter() - start
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"book built in {seconds:.0f} s, {sum(cached.values())} of {len(cached)} chapters "
                            "rendered from the cache")
    if os.environ.get("NNPRACTICE_TEST_TIMES"):  # make test's table of stage times
        with open(os.environ["NNPRACTICE_TEST_TIMES"], "a") as times:
            times.write(f"{'  (book render)':<22} {seconds:5.0f} s  {'ok' if result.returncode == 0 else 'FAILED'}\n")
    if result.returncode != 0:
        # CI shows only the end of the output: put the notebooks' own tracebacks there, not kernel chatter.
        reports = sorted((out / "_build" / "html" / "reports").rglob("*.err.log"))
        tracebacks = "\n".join(f"== {r.name}\n{r.read_text(errors='replace')[-3000:]}" for r in reports)
        warnings = "\n".join(line for line in log.splitlines() if "WARNING" in line and "TCP without encryption" not in line)
        pytest.fail(f"the book build failed (exit {result.returncode}).\n{warnings[-3000:]}\n{tracebacks}", pytrace=False)
    yield Book(out / "_build" / "html", log, cached)
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


def trained_digits_mlp():
    """A small digits MLP trained briefly (seed 0), in eval mode, with the digits: the deployment tests' model."""
    from nnpractice import data, models

    torch.manual_seed(0)
    X, y = data.load_digits()
    model = models.mlp(64, [32], 10)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(30):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    return model.eval(), X, y

"""Where the computation runs, how reproducible it is, and how long it takes.

>>> from nnpractice import device
>>> dev = device.pick_device("cpu")
>>> device.seed_everything(0)
>>> with device.Timer(dev) as t:
...     _ = sum(range(1000))
>>> t.seconds >= 0
True
"""
from __future__ import annotations

import os
import random
import statistics
import time

import numpy as np
import torch

from ._validation import check_choice, check_positive

DEVICE_CHOICES = ("auto", "cuda", "mps", "cpu")
SCALE_CHOICES = ("cpu", "gpu")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def pick_device(preferred: str | torch.device = "auto") -> torch.device:
    """Return CUDA if present, else Apple's MPS, else the CPU.

    ``preferred`` forces one of ``"cuda"``, ``"mps"`` or ``"cpu"``; asking for a
    device this machine lacks is an error rather than a silent fallback.
    """
    if isinstance(preferred, torch.device):
        preferred = preferred.type
    check_choice("device", preferred, DEVICE_CHOICES)
    if preferred == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": _mps_available()}
    if not available[preferred]:
        present = [name for name, ok in available.items() if ok]
        raise ValueError(
            f"device={preferred!r} is not available on this machine: "
            f"expected one of {', '.join(map(repr, ['auto', *present]))}."
        )
    return torch.device(preferred)


def seed_everything(seed: int = 0) -> None:
    """Seed Python's, NumPy's and PyTorch's (CPU and GPU) random generators."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed={seed!r} is not allowed: expected a non-negative integer.")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


def set_threads(num_threads: int = 1) -> int:
    """Use ``num_threads`` CPU threads for PyTorch's intra-op parallelism.

    For the small models of this book, one thread is faster and far steadier
    than two on a 2-core machine: the threads fight for the cores otherwise.
    """
    check_positive("num_threads", num_threads, integer=True)
    torch.set_num_threads(num_threads)
    return torch.get_num_threads()


def synchronize(dev: torch.device | str | None = None) -> None:
    """Wait until queued GPU work has finished (no-op on the CPU).

    GPU kernels run asynchronously: without this, a timer measures only how long
    it took to *queue* the work.
    """
    dev = torch.device(dev) if dev is not None else None
    if dev is None or dev.type == "cuda":
        if torch.cuda.is_available():
            torch.cuda.synchronize()
    elif dev.type == "mps" and _mps_available():
        torch.mps.synchronize()


class Timer:
    """A context manager that times a block, synchronizing the device first and last.

    >>> with Timer("cpu") as t:
    ...     pass
    >>> isinstance(t.seconds, float)
    True
    """

    def __init__(self, dev: torch.device | str | None = "cpu"):
        self.device = torch.device(dev) if dev is not None else torch.device("cpu")
        self.seconds = float("nan")

    def __enter__(self) -> "Timer":
        synchronize(self.device)
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        synchronize(self.device)
        self.seconds = time.perf_counter() - self._start


def time_it(fn, *, repeats: int = 5, warmup: int = 1, dev=None) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeats`` runs after ``warmup`` runs."""
    check_positive("repeats", repeats, integer=True)
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup={warmup!r} is not allowed: expected a non-negative integer.")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        with Timer(dev) as t:
            fn()
        times.append(t.seconds)
    return statistics.median(times)


def holds_on_remeasure(check, remeasure, *, tries: int = 3):
    """Run ``check()``; if it raises ``AssertionError``, call ``remeasure()`` and check again.

    For claims about timings: one measurement slowed down by another process on the machine
    should not fail a claim, but a claim that is false on every one of ``tries`` measurements
    still fails, with the last ``AssertionError``. Returns what ``check()`` returned.

    >>> times = iter([3.0, 1.0])   # the first measurement was disturbed
    >>> measured = {"t": 3.0}
    >>> def check(): assert measured["t"] < 2.0, measured
    >>> holds_on_remeasure(check, lambda: measured.update(t=next(times)))
    """
    check_positive("tries", tries, integer=True)
    for attempt in range(tries):
        try:
            return check()
        except AssertionError:
            if attempt == tries - 1:
                raise
            remeasure()


def run_scale() -> str:
    """The size of experiments: ``"gpu"`` when CUDA is present, else ``"cpu"``.

    The environment variable ``NNPRACTICE_SCALE`` (``cpu`` or ``gpu``) overrides
    it; the tests force ``cpu`` so every notebook stays within its CPU budget.
    """
    forced = os.environ.get("NNPRACTICE_SCALE")
    if forced:
        return check_choice("NNPRACTICE_SCALE", forced.strip().lower(), SCALE_CHOICES)
    return "gpu" if torch.cuda.is_available() else "cpu"


def describe(dev: torch.device) -> str:
    """A one-line human description of a device."""
    if dev.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(dev)})"
    if dev.type == "mps":
        return "mps (Apple GPU)"
    return f"cpu ({torch.get_num_threads()} thread{'s' if torch.get_num_threads() != 1 else ''})"

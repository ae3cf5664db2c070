"""Where the computation runs, how reproducible it is, and how long it takes.

:class:`Timer` is the from-scratch stopwatch chapter 01 explains (synchronize, read the
clock, run, synchronize, read again); :func:`time_it` measures with PyTorch's own
``torch.utils.benchmark.Timer`` (warm-up, thread count, accelerator synchronization).

>>> from nnpractice import device
>>> dev = device.pick_device("cpu")
>>> device.seed_everything(0)
>>> with device.Timer(dev) as t:
...     _ = sum(range(1000))
>>> t.seconds >= 0
True
>>> device.time_it(lambda: sum(range(1000)), repeats=3, device=dev) > 0
True
"""
from __future__ import annotations

import functools
import os
import random
import time
from numbers import Integral

import numpy as np
import torch

from ._validation import Constraint, Interval, Options, invalid, validate_params
from ._validation import check as check_value

DEVICE_CHOICES = ("auto", "cuda", "mps", "cpu")
SCALE_CHOICES = ("cpu", "gpu")


class _DeviceName(Constraint):
    """A ``torch.device`` or a string ``torch.device`` understands ("cpu", "cuda", "cuda:1", "mps")."""

    def accepts(self, value) -> bool:
        if isinstance(value, torch.device):
            return True
        if not isinstance(value, str):
            return False
        try:
            torch.device(value)
        except (RuntimeError, ValueError):
            return False
        return True

    def __str__(self) -> str:
        return "a device such as 'cpu', 'cuda' or 'cuda:1', or a torch.device"

    def valid_example(self):
        return "cpu"

    def invalid_examples(self) -> list:
        return ["not-a-device"]


_DEVICE = [_DeviceName(), None]  # None: the CPU, nothing to synchronize


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


@validate_params({"device": [Options(*DEVICE_CHOICES), torch.device]})
def pick_device(device: str | torch.device = "auto") -> torch.device:
    """Return CUDA if present, else Apple's MPS, else the CPU.

    ``device`` forces one of ``"cuda"``, ``"mps"`` or ``"cpu"``; asking for a
    device this machine lacks is an error rather than a silent fallback.
    """
    preferred = device.type if isinstance(device, torch.device) else device
    check_value("device", preferred, [Options(*DEVICE_CHOICES)])
    if preferred == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": _mps_available()}
    if not available[preferred]:
        present = [name for name, ok in available.items() if ok]
        raise invalid("device", preferred, f"one of {', '.join(map(repr, ['auto', *present]))}",
                      "it is not available on this machine")
    return torch.device(preferred)


@validate_params({"seed": [Interval(Integral, 0, None)]})
def seed_everything(seed: int = 0) -> None:
    """Seed Python's, NumPy's and PyTorch's (CPU and GPU) random generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


@validate_params({"num_threads": [Interval(Integral, 1, None)]})
def set_threads(num_threads: int = 1) -> int:
    """Use ``num_threads`` CPU threads for PyTorch's intra-op parallelism.

    For the small models of this book, one thread is faster and far steadier
    than two on a 2-core machine: the threads fight for the cores otherwise.
    """
    torch.set_num_threads(num_threads)
    return torch.get_num_threads()


@validate_params({"device": _DEVICE})
def synchronize(device: torch.device | str | None = None) -> None:
    """Wait until queued GPU work has finished (no-op on the CPU).

    GPU kernels run asynchronously: without this, a timer measures only how long
    it took to *queue* the work. ``None`` waits for CUDA if there is one.
    """
    dev = torch.device(device) if device is not None else None
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

    @validate_params({"device": _DEVICE})
    def __init__(self, device: torch.device | str | None = "cpu"):
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.seconds = float("nan")

    def __enter__(self) -> "Timer":
        synchronize(self.device)
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        synchronize(self.device)
        self.seconds = time.perf_counter() - self._start


def _synchronized_clock(device) -> float:
    synchronize(device)
    return time.perf_counter()


@validate_params({"fn": [callable], "repeats": [Interval(Integral, 1, None)],
                  "warmup": [Interval(Integral, 0, None)], "device": _DEVICE})
def time_it(fn, *, repeats: int = 5, warmup: int = 0, device=None) -> float:
    """Median seconds of one call of ``fn()`` over ``repeats`` measurements by ``torch.utils.benchmark.Timer``.

    Each measurement is PyTorch's ``Timer.timeit(number=1)``: two untimed warm-up calls, then
    one timed call, with this process's thread count and a clock that synchronizes ``device``
    (as :class:`Timer` does). ``warmup`` adds untimed calls before the first measurement. The
    median keeps one call slowed down by another process from moving the result.
    """
    from torch.utils import benchmark  # imported here: the benchmark package is only needed to time

    for _ in range(warmup):
        fn()
    timer = benchmark.Timer(stmt="fn()", globals={"fn": fn}, timer=functools.partial(_synchronized_clock, device),
                            num_threads=torch.get_num_threads())
    measurements = [timer.timeit(number=1) for _ in range(repeats)]
    return benchmark.Measurement.merge(measurements)[0].median


@validate_params({"check": [callable], "remeasure": [callable], "tries": [Interval(Integral, 1, None)]})
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
        return check_value("NNPRACTICE_SCALE", forced.strip().lower(), [Options(*SCALE_CHOICES)])
    return "gpu" if torch.cuda.is_available() else "cpu"


@validate_params({"device": [_DeviceName()]})
def describe(device: torch.device | str) -> str:
    """A one-line human description of a device."""
    dev = torch.device(device)
    if dev.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(dev)})"
    if dev.type == "mps":
        return "mps (Apple GPU)"
    return f"cpu ({torch.get_num_threads()} thread{'s' if torch.get_num_threads() != 1 else ''})"

"""nnpractice: the small, tested training library of *Neural Networks in Practice*.

Import what you need by name::

    from nnpractice import data, models, training, plots

and start every notebook with :func:`setup_notebook`.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from numbers import Integral

import torch

from . import data, device, experiments, models, plots, training
from ._validation import InstanceOf, Interval, InvalidParameterError, Options, check, validate_params

__version__ = "0.1.0"
__all__ = ["data", "device", "experiments", "models", "plots", "training", "setup_notebook", "Environment", "SEED_VARIABLE",
           "seed_from_environment"]

#: The one seed knob of the book: every random choice of a chapter derives from it.
SEED_VARIABLE = "NNPRACTICE_SEED"
#: Sub-seeds are ``SUB_SEED_STRIDE * seed + offset``: seed 0 keeps the offsets themselves.
SUB_SEED_STRIDE = 1000


@validate_params({"default": [Interval(Integral, 0, None)]})
def seed_from_environment(default: int = 0) -> int:
    """The seed in ``NNPRACTICE_SEED`` (``default`` when unset or empty).

    >>> os.environ["NNPRACTICE_SEED"] = "2"; seed_from_environment()
    2
    >>> del os.environ["NNPRACTICE_SEED"]; seed_from_environment()
    0
    """
    raw = os.environ.get(SEED_VARIABLE, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise InvalidParameterError(f"{SEED_VARIABLE}={raw!r} is not allowed: expected a non-negative integer "
                                    "such as 0, 1 or 2.")
    return int(raw)


@dataclass
class Environment:
    """What :func:`setup_notebook` set up."""

    device: torch.device
    scale: str
    seed: int
    num_threads: int
    on_colab: bool

    def derive_seed(self, offset: int) -> int:
        """A sub-seed for one random choice: ``1000 * seed + offset``.

        Each experiment of a chapter takes its own ``offset`` (0 <= offset < 1000), so the
        experiments stay independent of each other and all move together with the notebook's
        seed; seed 0 gives the offsets themselves.

        >>> Environment(torch.device("cpu"), "cpu", 2, 1, False).derive_seed(7)
        2007
        """
        check("offset", offset, [Interval(Integral, 0, SUB_SEED_STRIDE, closed="left")])
        return SUB_SEED_STRIDE * self.seed + offset

    def derive_seeds(self, count: int, start: int = 0) -> list[int]:
        """``count`` consecutive sub-seeds from ``start``: the seeds of a repeated experiment.

        >>> Environment(torch.device("cpu"), "cpu", 1, 1, False).derive_seeds(3)
        [1000, 1001, 1002]
        """
        check("count", count, [Interval(Integral, 1, None)])
        check("start", start, [Interval(Integral, 0, SUB_SEED_STRIDE, closed="left")])
        return [self.derive_seed(start + i) for i in range(count)]

    def __str__(self) -> str:
        colab = " | Colab" if self.on_colab else ""
        return (f"nnpractice {__version__}, torch {torch.__version__} | {device.describe(self.device)} | "
                f"scale {self.scale} | seed {self.seed}{colab}")


# The dataclass writes __init__; its parameters are declared here like every public function's.
Environment.__init__ = validate_params({
    "device": [InstanceOf(torch.device, "a torch.device", example=lambda: torch.device("cpu"))],
    "scale": [Options("cpu", "gpu")], "seed": [Interval(Integral, 0, None)],
    "num_threads": [Interval(Integral, 1, None)], "on_colab": ["boolean"]})(Environment.__init__)


@validate_params({"seed": [Interval(Integral, 0, None), None], "num_threads": [Interval(Integral, 1, None)],
                  "device_name": [Options("auto", "cpu", "cuda", "mps")], "report": ["boolean"]})
def setup_notebook(seed: int | None = None, *, num_threads: int = 1, device_name: str = "auto",
                   report: bool = True) -> Environment:
    """The one call at the top of every chapter.

    Seeds every generator with ``seed`` (by default the ``NNPRACTICE_SEED`` environment
    variable, else 0: run a chapter under another seed without editing it), uses
    ``num_threads`` CPU threads (one is fastest for this book's small models), picks the device (CUDA, then MPS, then CPU), sets
    readable figure defaults, builds one optimizer so that PyTorch's slow first
    optimizer import happens here rather than inside a timed experiment, and
    prints a one-line report.

    >>> env = setup_notebook(0, report=False)
    >>> env.num_threads
    1
    """
    if seed is None:
        seed = seed_from_environment()
    device.seed_everything(seed)
    threads = device.set_threads(num_threads)
    dev = device.pick_device(device_name)
    plots.style()
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # warm up the lazy import
    env = Environment(dev, device.run_scale(), seed, threads, "google.colab" in sys.modules)
    if report:
        print(env)
    return env

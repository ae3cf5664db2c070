"""nnpractice: the small, tested training library of *Neural Networks in Practice*.

Import what you need by name::

    from nnpractice import data, models, training, plots

and start every notebook with :func:`setup_notebook`.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

import torch

from . import data, device, models, plots, training

__version__ = "0.1.0"
__all__ = ["data", "device", "models", "plots", "training", "setup_notebook", "Environment"]


@dataclass
class Environment:
    """What :func:`setup_notebook` set up."""

    device: torch.device
    scale: str
    seed: int
    num_threads: int
    on_colab: bool

    def __str__(self) -> str:
        colab = " | Colab" if self.on_colab else ""
        return (f"nnpractice {__version__}, torch {torch.__version__} | {device.describe(self.device)} | "
                f"scale {self.scale} | seed {self.seed}{colab}")


def setup_notebook(seed: int = 0, *, num_threads: int = 1, device_name: str = "auto",
                   report: bool = True) -> Environment:
    """The one call at the top of every chapter.

    Seeds every generator, uses ``num_threads`` CPU threads (one is fastest for
    this book's small models), picks the device (CUDA, then MPS, then CPU), sets
    readable figure defaults, builds one optimizer so that PyTorch's slow first
    optimizer import happens here rather than inside a timed experiment, and
    prints a one-line report.

    >>> env = setup_notebook(0, report=False)
    >>> env.num_threads
    1
    """
    device.seed_everything(seed)
    threads = device.set_threads(num_threads)
    dev = device.pick_device(device_name)
    plots.style()
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # warm up the lazy import
    env = Environment(dev, device.run_scale(), seed, threads, "google.colab" in sys.modules)
    if report:
        print(env)
    return env

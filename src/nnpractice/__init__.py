"""nnpractice: the small, tested training library of *Neural Networks in Practice*.

Import what you need by name::

    from nnpractice import data, models, training, plots

and start every notebook with :func:`setup_notebook`.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from numbers import Integral

import torch

from . import data, device, experiments, models, plots, training
from ._validation import (
    Constraint,
    InstanceOf,
    Interval,
    InvalidParameterError,
    Options,
    Sequences,
    check,
    validate_params,
)

__version__ = "0.3.0"
__all__ = ["data", "device", "experiments", "models", "plots", "training", "setup_notebook", "Environment", "SEED_VARIABLE",
           "seed_from_environment", "require_extras", "EXTRAS"]

#: Optional parts of the library, installed as extras (``pip install "nnpractice[search]"``): extra -> the
#: modules it brings. A chapter that needs one says so in its setup call, ``setup_notebook(extras=["search"])``.
EXTRAS = {
    "search": ("optuna",),            # chapter 11: Optuna's samplers and pruners (SQLAlchemy, alembic)
    "images": ("skimage",),           # chapters 07 and 13: scikit-image's bundled photos
    "federated": ("flwr", "ray", "psutil"),  # chapter 14: Flower's simulation engine (it brings Ray); psutil finds a deployment's processes
    # chapter 15: ONNX export and runtime, the service (FastAPI, pydantic, uvicorn) and its fuzzer (Schemathesis)
    "deploy": ("onnx", "onnxruntime", "onnxscript", "fastapi", "pydantic", "uvicorn", "schemathesis"),
    "progress": ("tqdm",),            # fit(progress=True): a progress bar
}

#: The grader sets this to the student's id: exercises that draw from ``env.variant_seed`` differ per student.
VARIANT_VARIABLE = "NNPRACTICE_VARIANT"
VARIANT_PATTERN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]{0,63})?$")


class _Variant(Constraint):
    """A student id (the grader's folder names) or '' for none."""

    def accepts(self, value) -> bool:
        return isinstance(value, str) and bool(VARIANT_PATTERN.match(value))

    def __str__(self) -> str:
        return "a student id of letters, digits, '_', '.', '-' (at most 64), or '' for none"

    def valid_example(self):
        return "ada"

    def invalid_examples(self) -> list:
        return ["../ada", 7]

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
    variant: str = ""

    def variant_seed(self, offset: int) -> int:
        """A sub-seed for an exercise that each student gets a variant of: one per (seed, variant, offset).

        The grader runs a student's notebook with ``NNPRACTICE_VARIANT`` set to their id (and a per-student
        release writes it into the setup call), so the exercise's data or constants differ between students
        while the same hidden tests grade them. Without a variant it is :meth:`derive_seed`, as in the book.

        >>> Environment(torch.device("cpu"), "cpu", 0, 1, False).variant_seed(7)
        7
        >>> Environment(torch.device("cpu"), "cpu", 0, 1, False, variant="ada").variant_seed(7)
        607021505
        """
        check("offset", offset, [Interval(Integral, 0, SUB_SEED_STRIDE, closed="left")])
        if not self.variant:
            return self.derive_seed(offset)
        digest = hashlib.sha256(f"{self.seed}/{self.variant}/{offset}".encode()).digest()
        return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF   # a torch.Generator takes any seed < 2**63

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
        variant = f" | variant {self.variant}" if self.variant else ""
        return (f"nnpractice {__version__}, torch {torch.__version__} | {device.describe(self.device)} | "
                f"scale {self.scale} | seed {self.seed}{variant}{colab}")


# The dataclass writes __init__; its parameters are declared here like every public function's.
Environment.__init__ = validate_params({
    "device": [InstanceOf(torch.device, "a torch.device", example=lambda: torch.device("cpu"))],
    "scale": [Options("cpu", "gpu")], "seed": [Interval(Integral, 0, None)],
    "num_threads": [Interval(Integral, 1, None)], "on_colab": ["boolean"],
    "variant": [_Variant()]})(Environment.__init__)


@validate_params({"extras": [Sequences(Options(*EXTRAS), allow_empty=True)]})
def require_extras(extras=()) -> None:
    """Raise, with the command that fixes it, when an extra's modules are not installed.

    >>> require_extras(["search"])   # optuna is installed here: nothing happens
    """
    for extra in extras:
        missing = [m for m in EXTRAS[extra] if importlib.util.find_spec(m) is None]
        if missing:
            raise ModuleNotFoundError(
                f"this chapter needs the {extra!r} extra ({', '.join(missing)} missing): run "
                f'%pip install "nnpractice[{extra}] @ git+{_repository()}" and restart the kernel.')


def _repository() -> str:
    """The repository URL, from the installed package's metadata (pyproject.toml states it once)."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        urls = metadata("nnpractice").get_all("Project-URL") or []
    except PackageNotFoundError:
        urls = []
    return next((u.split(", ", 1)[1] for u in urls if u.startswith("Repository")), "<the book's repository>")


@validate_params({"seed": [Interval(Integral, 0, None), None], "num_threads": [Interval(Integral, 1, None)],
                  "device_name": [Options("auto", "cpu", "cuda", "mps")], "report": ["boolean"],
                  "extras": [Sequences(Options(*EXTRAS), allow_empty=True)], "variant": [_Variant(), None]})
def setup_notebook(seed: int | None = None, *, num_threads: int = 1, device_name: str = "auto",
                   report: bool = True, extras=(), variant: str | None = None) -> Environment:
    """The one call at the top of every chapter.

    Seeds every generator with ``seed`` (by default the ``NNPRACTICE_SEED`` environment
    variable, else 0: run a chapter under another seed without editing it), uses
    ``num_threads`` CPU threads (one is fastest for this book's small models), picks the device (CUDA, then MPS, then CPU), sets
    readable figure defaults, builds one optimizer so that PyTorch's slow first
    optimizer import happens here rather than inside a timed experiment, and
    prints a one-line report. ``extras`` names the optional parts the chapter needs
    (see :data:`EXTRAS`); a missing one is an error that says how to install it. ``variant`` (by default the
    ``NNPRACTICE_VARIANT`` environment variable, else none) is the student id of a per-student release: see
    :meth:`Environment.variant_seed`.

    >>> env = setup_notebook(0, report=False)
    >>> env.num_threads
    1
    """
    require_extras(extras)
    if seed is None:
        seed = seed_from_environment()
    device.seed_everything(seed)
    threads = device.set_threads(num_threads)
    dev = device.pick_device(device_name)
    plots.style()
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # warm up the lazy import
    if variant is None:
        variant = os.environ.get(VARIANT_VARIABLE, "").strip()
        check(VARIANT_VARIABLE, variant, [_Variant()])
    env = Environment(dev, device.run_scale(), seed, threads, "google.colab" in sys.modules, variant)
    if report:
        print(env)
    return env

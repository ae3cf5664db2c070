"""Save and load models with a SHA-256 checksum, and a cache that trains once.

A checkpoint is two files: ``NAME.pt`` (the ``state_dict``) and ``NAME.pt.sha256``
(its checksum). :func:`load` recomputes the checksum and refuses a file that does not
match, so a truncated or corrupted checkpoint is never silently used;
:func:`cached` then rebuilds it.

>>> import tempfile, torch
>>> from torch import nn
>>> folder = tempfile.mkdtemp()
>>> net = nn.Linear(3, 2)
>>> path = save(net, f"{folder}/linear.pt")
>>> twin = nn.Linear(3, 2)
>>> _ = load(twin, path)
>>> torch.equal(twin.weight, net.weight)
True
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from ._validation import check_positive


class ChecksumError(RuntimeError):
    """A checkpoint's bytes do not match its recorded SHA-256 checksum."""


def sha256(path, *, chunk_size: int = 1 << 20) -> str:
    """The SHA-256 hex digest of the file at ``path``, read in chunks."""
    check_positive("chunk_size", chunk_size, integer=True)
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path={str(path)!r} is not allowed: expected an existing file.")
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk_size), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_module(model) -> None:
    if not isinstance(model, nn.Module):
        raise ValueError(f"model is a {type(model).__name__}: expected a torch.nn.Module.")


def save(model: nn.Module, path) -> Path:
    """Write ``model.state_dict()`` to ``path`` and its checksum beside it; return ``path``.

    The file is written to a temporary name first and renamed, so a run killed
    mid-write leaves no half-written checkpoint under the real name.
    """
    _check_module(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(state, tmp)
        digest = sha256(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    Path(f"{path}.sha256").write_text(digest + "\n")
    return path


def verify(path) -> bool:
    """True if ``path`` and its ``.sha256`` file exist and agree."""
    path = Path(path)
    checksum_file = Path(f"{path}.sha256")
    if not path.is_file() or not checksum_file.is_file():
        return False
    return checksum_file.read_text().strip() == sha256(path)


def load(model: nn.Module, path, *, map_location="cpu") -> nn.Module:
    """Load the checkpoint at ``path`` into ``model`` after checking its checksum.

    Raises ``FileNotFoundError`` when the file or its checksum is missing and
    :class:`ChecksumError` when they disagree.
    """
    _check_module(model)
    path = Path(path)
    for needed in (path, Path(f"{path}.sha256")):
        if not needed.is_file():
            raise FileNotFoundError(f"no checkpoint at {needed}")
    if not verify(path):
        raise ChecksumError(f"{path} does not match its SHA-256 checksum: the file is corrupted or was changed.")
    state = torch.load(path, map_location=map_location, weights_only=True)
    model.load_state_dict(state)
    return model


def config_tag(config: dict) -> str:
    """A short, stable hash of a JSON-serializable ``config`` (to name cache files)."""
    if not isinstance(config, dict):
        raise ValueError(f"config is a {type(config).__name__}: expected a dict of JSON-serializable values.")
    text = json.dumps(config, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def cached(name: str, build: Callable[[], nn.Module], train: Callable[[nn.Module], object], *,
           config: dict | None = None, folder=None, verbose: bool = True):
    """A trained model from the cache, or trained now and cached: returns ``(model, status)``.

    ``build()`` makes a fresh, untrained model; ``train(model)`` trains it in place.
    The file is ``folder/NAME-TAG.pt`` where TAG hashes ``config`` (so changing the
    recipe trains a new model) and ``folder`` defaults to ``cache_dir()/"models"``
    (``NNPRACTICE_CACHE`` moves it). ``status`` is ``"loaded"``, ``"trained"``
    (nothing was cached) or ``"rebuilt"`` (a cached file failed its checksum).
    """
    if not isinstance(name, str) or not name or any(c in name for c in "/\\"):
        raise ValueError(f"name={name!r} is not allowed: expected a non-empty file name without slashes.")
    for label, fn in (("build", build), ("train", train)):
        if not callable(fn):
            raise ValueError(f"{label} is a {type(fn).__name__}: expected a callable.")
    if folder is None:
        from .data import cache_dir

        folder = cache_dir() / "models"
    path = Path(folder) / f"{name}-{config_tag(config or {})}.pt"
    model = build()
    _check_module(model)
    status = "trained"
    if path.exists():
        try:
            load(model, path)
            status = "loaded"
        except (ChecksumError, FileNotFoundError, RuntimeError) as error:
            if verbose:
                print(f"cached model rejected ({error}); training it again")
            model = build()
            status = "rebuilt"
    if status != "loaded":
        train(model)
        save(model, path)
    if verbose:
        print(f"{name}: {status} ({path})")
    return model, status

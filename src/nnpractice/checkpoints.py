"""Checkpoints, written once: atomic, checksummed, and a cache that trains once.

Every checkpoint of the library goes through :func:`save` (``regularization.Checkpoint``
and ``ensembles.Snapshots`` too). A checkpoint is two files: ``NAME.pt`` (the
``state_dict`` and a small metadata dict) and ``NAME.pt.sha256`` (its SHA-256 checksum).

- *Atomic*: the bytes go to a temporary file in the same folder, are flushed to disk
  (``fsync``) and renamed over ``NAME.pt`` (``os.replace``), so a run killed mid-write
  leaves the previous checkpoint as it was, never half a file.
- *Checksummed*: :func:`load` recomputes the checksum and refuses a truncated or
  corrupted file with :class:`ChecksumError` naming it; :func:`cached` then rebuilds it.

>>> import tempfile, torch
>>> from torch import nn
>>> folder = tempfile.mkdtemp()
>>> net = nn.Linear(3, 2)
>>> path = save(net, f"{folder}/linear.pt", metadata={"epoch": 4})
>>> twin = load(nn.Linear(3, 2), path)
>>> torch.equal(twin.weight, net.weight), read_metadata(path)
(True, {'epoch': 4})
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from numbers import Integral
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from ._validation import InstanceOf, Interval, invalid, validate_params

__all__ = ["ChecksumError", "sha256", "save", "verify", "load", "read_metadata", "config_tag", "cached"]


class ChecksumError(RuntimeError):
    """A checkpoint's bytes do not match its recorded SHA-256 checksum."""


def _example_path() -> str:
    return str(Path(tempfile.mkdtemp()) / "example.pt")


_PATH = InstanceOf((str, os.PathLike), "a file path (str or pathlib.Path)", example=_example_path)
_MAP_LOCATION = InstanceOf((str, torch.device), "a device such as 'cpu'", example=lambda: "cpu")


def _checksum_file(path: Path) -> Path:
    return Path(f"{path}.sha256")


@validate_params({"path": [_PATH], "chunk_size": [Interval(Integral, 1, None)]})
def sha256(path, *, chunk_size: int = 1 << 20) -> str:
    """The SHA-256 hex digest of the file at ``path``, read in chunks."""
    if not Path(path).is_file():
        raise invalid("path", str(path), "an existing file")
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk_size), b""):
            digest.update(block)
    return digest.hexdigest()


def _temporary_beside(path: Path) -> str:
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    return tmp


def _write_synced(file_name: str, write: Callable) -> None:
    with open(file_name, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())  # the bytes are on disk before a name points at them


def _replace_atomically(path: Path, write: Callable) -> None:
    """``write(file)`` into a temporary file beside ``path``, then rename it over ``path``."""
    tmp = _temporary_beside(path)
    try:
        _write_synced(tmp, write)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _recorded_digests(path: Path) -> list[str]:
    checksum_file = _checksum_file(path)
    return checksum_file.read_text().split() if checksum_file.is_file() else []


@validate_params({"model": [nn.Module], "path": [_PATH], "metadata": [dict, None]})
def save(model: nn.Module, path, *, metadata: dict | None = None) -> Path:
    """Write ``model.state_dict()`` (and ``metadata``) to ``path`` atomically, its checksum beside it.

    ``metadata`` (numbers, strings, lists, dicts) is stored with the weights; read it back
    with :func:`read_metadata`. Returns ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"model_state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
              "metadata": dict(metadata or {})}
    tmp = _temporary_beside(path)
    try:
        _write_synced(tmp, lambda f: torch.save(record, f))
        digest = sha256(tmp)
        # until the weights are renamed into place the checksum file lists the new digest and the
        # old one, so a crash between the two renames leaves a pair that still verifies
        previous = _recorded_digests(path)[:1]
        _replace_atomically(_checksum_file(path), lambda f: f.write(("\n".join([digest, *previous]) + "\n").encode()))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    _replace_atomically(_checksum_file(path), lambda f: f.write(f"{digest}\n".encode()))
    return path


@validate_params({"path": [_PATH]})
def verify(path) -> bool:
    """True if ``path`` and its ``.sha256`` file exist and agree."""
    path = Path(path)
    if not path.is_file():
        return False
    recorded = _recorded_digests(path)
    return bool(recorded) and sha256(path) in recorded


def _read(path, map_location) -> dict:
    """The verified record ``{"model_state", "metadata"}`` stored at ``path``."""
    path = Path(path)
    for needed in (path, _checksum_file(path)):
        if not needed.is_file():
            raise FileNotFoundError(f"no checkpoint at {needed}")
    if not verify(path):
        raise ChecksumError(f"{path} does not match its SHA-256 checksum: the file is corrupted, truncated "
                            "or was changed.")
    record = torch.load(path, map_location=map_location, weights_only=True)
    if "model_state" not in record:  # written before metadata was stored: a bare state_dict
        record = {"model_state": record, "metadata": {}}
    return record


@validate_params({"model": [nn.Module], "path": [_PATH], "map_location": [_MAP_LOCATION]})
def load(model: nn.Module, path, *, map_location="cpu") -> nn.Module:
    """Load the checkpoint at ``path`` into ``model`` after checking its checksum; return ``model``.

    Raises ``FileNotFoundError`` when the file or its checksum is missing and
    :class:`ChecksumError` when they disagree.
    """
    model.load_state_dict(_read(path, map_location)["model_state"])
    return model


@validate_params({"path": [_PATH]})
def read_metadata(path) -> dict:
    """The ``metadata`` saved with the checkpoint at ``path`` (checked like :func:`load`)."""
    return _read(path, "cpu")["metadata"]


@validate_params({"config": [dict]})
def config_tag(config: dict) -> str:
    """A short, stable hash of a JSON-serializable ``config`` (to name cache files)."""
    text = json.dumps(config, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@validate_params({"name": [str], "build": [callable], "train": [callable], "config": [dict, None],
                  "folder": [_PATH, None], "verbose": ["boolean"]})
def cached(name: str, build: Callable[[], nn.Module], train: Callable[[nn.Module], object], *,
           config: dict | None = None, folder=None, verbose: bool = True):
    """A trained model from the cache, or trained now and cached: returns ``(model, status)``.

    ``build()`` makes a fresh, untrained model; ``train(model)`` trains it in place.
    The file is ``folder/NAME-TAG.pt`` where TAG hashes ``config`` (so changing the
    recipe trains a new model) and ``folder`` defaults to ``cache_dir()/"models"``
    (``NNPRACTICE_CACHE`` moves it). ``status`` is ``"loaded"``, ``"trained"``
    (nothing was cached) or ``"rebuilt"`` (a cached file failed its checksum).
    """
    if not name or any(c in name for c in "/\\"):
        raise invalid("name", name, "a non-empty file name without slashes")
    if folder is None:
        from .data import cache_dir

        folder = cache_dir() / "models"
    path = Path(folder) / f"{name}-{config_tag(config or {})}.pt"

    def fresh() -> nn.Module:
        model = build()
        if not isinstance(model, nn.Module):
            raise invalid("build", build, "a function that returns a torch.nn.Module",
                          f"build() returned a {type(model).__name__}")
        return model

    model = fresh()
    status = "trained"
    if path.exists():
        try:
            load(model, path)
            status = "loaded"
        except (ChecksumError, FileNotFoundError, RuntimeError) as error:
            if verbose:
                print(f"cached model rejected ({error}); training it again")
            model = fresh()
            status = "rebuilt"
    if status != "loaded":
        train(model)
        save(model, path)
    if verbose:
        print(f"{name}: {status} ({path})")
    return model, status

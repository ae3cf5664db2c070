"""``History``: what a training run recorded, epoch by epoch, and how it ended.

A leaf module (it imports nothing from the library but validation), so that
``plots`` can draw histories without importing the training loop.

>>> h = History(["train_loss", "val_loss"])
>>> h.log({"train_loss": 1.0, "val_loss": 1.2}); h.log({"train_loss": 0.5, "val_loss": 0.9})
>>> h.best("val_loss")
(2, 0.9)
>>> History(["val_loss"])["val_loss"]      # declared but no epoch finished: empty, not an error
[]
"""
from __future__ import annotations

import math
from typing import Iterable, Mapping

from ._validation import Options, Sequences, validate_params


@validate_params({"key": [str]})
def mode_for(key: str) -> str:
    """``"min"`` for a loss (any key containing "loss"), else ``"max"`` (accuracy, F1, ...)."""
    return "min" if "loss" in key else "max"


class History:
    """Per-epoch records of a run, plus how it ended.

    ``history["val_loss"]`` is a list with one value per finished epoch (epoch 1
    first). ``status`` is ``"completed"``, ``"stopped early at epoch k"``,
    ``"diverged at epoch k"`` or ``"failed at epoch k: <error>"``; ``diverged`` and
    ``best_epoch`` say the same in machine-readable form.

    The keys a run will log are declared when it starts, so a run that diverged in
    its first epoch still has ``history["val_loss"] == []``, ``last`` gives NaN and
    ``best`` gives ``(None, nan)``: every accessor and plot handles it.
    """

    @validate_params({"keys": [Sequences(str, allow_empty=True)]})
    def __init__(self, keys: Iterable[str] = ()):
        self.records: dict[str, list[float]] = {key: [] for key in keys}
        self.status = "not started"
        self.diverged = False
        self.diverged_at: int | None = None
        self.diverged_loss: float | None = None  # the training loss of the epoch that diverged
        self.stopped_at: int | None = None
        self.best_epoch: int | None = None
        self.settings: dict = {}  # device, precision, channels_last, compile: as fit resolved them

    def declare(self, keys: Iterable[str]) -> None:
        """Announce keys that will be logged (they read as empty lists until then)."""
        for key in keys:
            self.records.setdefault(key, [])

    def log(self, values: Mapping[str, float]) -> None:
        for key, value in values.items():
            self.records.setdefault(key, []).append(float(value))

    @property
    def num_epochs(self) -> int:
        """How many epochs finished (and were logged)."""
        return max((len(v) for k, v in self.records.items() if k == "train_loss"), default=0)

    @property
    def epochs(self) -> list[int]:
        return list(range(1, self.num_epochs + 1))

    def __getitem__(self, key: str) -> list[float]:
        if key not in self.records:
            raise KeyError(f"History has no {key!r}: it has {sorted(self.records)}.")
        return self.records[key]

    def __contains__(self, key: str) -> bool:
        return key in self.records

    def keys(self):
        return self.records.keys()

    def last(self, key: str) -> float:
        """The value of ``key`` after the last finished epoch (NaN if no epoch finished)."""
        values = self[key]
        return values[-1] if values else math.nan

    @validate_params({"key": [str], "mode": [Options("auto", "min", "max")]})
    def best(self, key: str = "val_loss", mode: str = "auto") -> tuple[int | None, float]:
        """``(epoch, value)`` of the best finite value of ``key`` (``min`` for losses, else ``max``).

        ``(None, nan)`` when no epoch has a finite value (say, a run that diverged at once).
        """
        values = self[key]
        mode = mode_for(key) if mode == "auto" else mode
        finite = [(v, i) for i, v in enumerate(values) if math.isfinite(v)]
        if not finite:
            return None, math.nan
        value, index = (min if mode == "min" else max)(finite)
        return index + 1, value

    def __repr__(self) -> str:
        parts = [f"History({self.num_epochs} epochs, {self.status}"]
        for key in ("train_loss", "val_loss", "val_accuracy"):
            if self.records.get(key):
                parts.append(f"{key}={self.records[key][-1]:.4g}")
        return ", ".join(parts) + ")"

"""What a search did: every :class:`Trial`, in a :class:`SearchResult`, and the budget that paid for them.

Every method scores trials by a number to **minimize** (a validation loss, an error rate), so
"best" always means "lowest" here. A trial that failed (the objective raised) or diverged (it
returned ``nan`` or ``inf``) is recorded, never dropped, and never counts as the best.

>>> result = SearchResult("hand-made", [Trial(0, {"lr": 0.1}, 3, 0.8, 0.0),
...                                     Trial(1, {"lr": 1.0}, 3, float("nan"), 0.0, "diverged"),
...                                     Trial(2, {"lr": 0.01}, 3, 0.5, 0.0)], budget=9)
>>> result.best_config, result.best_score, result.count("diverged")
({'lr': 0.01}, 0.5, 1)
>>> result.best_so_far()[1].tolist()       # the best ok score after each trial
[0.8, 0.8, 0.5]
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Callable, Mapping

import numpy as np

from .._validation import InstanceOf, Interval, Options, Sequences, invalid, validate_params
from .spaces import SearchSpace, Uniform

__all__ = ["Trial", "SearchResult", "BudgetExhausted", "STATUSES"]

#: How a trial can end.
STATUSES = ("ok", "diverged", "failed", "pruned")


@dataclass
class Trial:
    """One training run: which config, for how many epochs, what it scored, how long it took.

    ``status`` is ``"ok"``, ``"diverged"`` (the score was ``nan`` or ``inf``), ``"failed"``
    (the objective raised; ``error`` says what) or ``"pruned"`` (stopped early by Optuna).
    ``info`` holds method details (bracket, rung, generation).
    """

    number: int
    config: dict
    epochs: int
    score: float
    seconds: float
    status: str = "ok"
    error: str = ""
    info: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# The dataclass writes __init__; its parameters are declared here like every public function's.
Trial.__init__ = validate_params({
    "number": [Interval(Integral, 0, None)], "config": [dict], "epochs": [Interval(Integral, 0, None)],
    # nan or inf are allowed: they are how a diverged or failed trial scored
    "score": [InstanceOf(Real, "a number (nan or inf for a trial that did not finish)", example=lambda: 0.5)],
    "seconds": [Interval(Real, 0, None)], "status": [Options(*STATUSES)], "error": [str], "info": [dict],
})(Trial.__init__)

_TRIAL = InstanceOf(Trial, "a search.Trial", example=lambda: Trial(0, {"lr": 0.1}, 1, 0.5, 0.0))


@dataclass
class SearchResult:
    """What a search did: every :class:`Trial` in order, and the budget (in epochs) it had."""

    method: str
    trials: list[Trial]
    budget: int

    @property
    def epochs_spent(self) -> int:
        return sum(t.epochs for t in self.trials)

    @property
    def ok_trials(self) -> list[Trial]:
        return [t for t in self.trials if t.ok]

    @property
    def best_trial(self) -> Trial | None:
        """The ok trial with the lowest score (ties: the earliest)."""
        ok = self.ok_trials
        return min(ok, key=lambda t: t.score) if ok else None

    @property
    def best_config(self) -> dict | None:
        best = self.best_trial
        return None if best is None else dict(best.config)

    @property
    def best_score(self) -> float:
        best = self.best_trial
        return math.inf if best is None else best.score

    def best_so_far(self) -> tuple[np.ndarray, np.ndarray]:
        """Epochs spent after each trial, and the best ok score up to then (``inf`` before any)."""
        spent = np.cumsum([t.epochs for t in self.trials])
        scores = np.array([t.score if t.ok else math.inf for t in self.trials])
        return spent, np.minimum.accumulate(scores) if len(scores) else scores

    @validate_params({"epochs": [Interval(Real, 0, None)]})
    def best_at(self, epochs: float) -> float:
        """The best ok score found within the first ``epochs`` epochs of the search."""
        spent, best = self.best_so_far()
        inside = best[spent <= epochs]
        return float(inside[-1]) if len(inside) else math.inf

    @validate_params({"status": [Options(*STATUSES)]})
    def count(self, status: str) -> int:
        """How many trials ended with ``status``."""
        return sum(t.status == status for t in self.trials)

    def table(self) -> list[dict]:
        """The trials as rows of plain values (for printing or a DataFrame)."""
        return [{"number": t.number, **t.config, "epochs": t.epochs, "score": t.score,
                 "seconds": round(t.seconds, 4), "status": t.status, **t.info} for t in self.trials]

    def __repr__(self) -> str:
        return (f"SearchResult({self.method}: {len(self.trials)} trials, {self.epochs_spent}/{self.budget} epochs, "
                f"best score {self.best_score:.4g}, {self.count('diverged')} diverged, {self.count('failed')} failed)")


SearchResult.__init__ = validate_params({
    "method": [str], "trials": [Sequences(_TRIAL, allow_empty=True)], "budget": [Interval(Integral, 0, None)],
})(SearchResult.__init__)


class BudgetExhausted(RuntimeError):
    """Raised inside a search when the next trial would exceed the budget."""


# The parameters every method shares, declared once (each method adds its own).
_METHOD_CONSTRAINTS = {
    "space": [InstanceOf(SearchSpace, "a search.SearchSpace", example=lambda: SearchSpace(x=Uniform(0, 1)))],
    "objective": [callable],
    "budget": [Interval(Integral, 1, None)],
    "max_epochs": [Interval(Integral, 1, None)],
    "seed": [Interval(Integral, 0, None)],
}


def _check_budget(budget: int, max_epochs: int) -> None:
    """One full training must fit in the budget (both are already positive integers)."""
    if max_epochs > budget:
        raise invalid("max_epochs", max_epochs, f"at most budget={budget!r} (the budget must pay for one full training)")


class _Recorder:
    """Runs trials, charges their epochs against the budget, and records every one."""

    def __init__(self, objective: Callable, budget: int, method: str):
        self.objective, self.budget, self.method = objective, budget, method
        self.trials: list[Trial] = []
        self.spent = 0

    @property
    def remaining(self) -> int:
        return self.budget - self.spent

    def run(self, config: Mapping, epochs: int, **info) -> float:
        """Train ``config`` for ``epochs`` epochs; return its score (``inf`` unless the trial is ok)."""
        epochs = int(epochs)
        if epochs > self.remaining:
            raise BudgetExhausted(f"{epochs} epochs wanted, {self.remaining} left")
        self.spent += epochs
        start = time.perf_counter()
        status, error = "ok", ""
        try:
            score = float(self.objective(dict(config), epochs))
            if not math.isfinite(score):
                status = "diverged"
        except Exception as exc:  # a failed trial is recorded, not fatal
            score, status, error = math.nan, "failed", f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - start
        self.trials.append(Trial(len(self.trials), dict(config), epochs, score, seconds, status, error, info))
        return score if status == "ok" else math.inf

    def result(self) -> SearchResult:
        return SearchResult(self.method, self.trials, self.budget)

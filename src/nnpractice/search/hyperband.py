"""Successive halving and Hyperband: many configurations for a few epochs, the best trained longer.

>>> from nnpractice import search
>>> search.hyperband_brackets(9, eta=3)       # (configurations, epochs) per rung, bracket by bracket
[[(9, 1), (3, 3), (1, 9)], [(5, 3), (1, 9)], [(3, 9)]]
"""
from __future__ import annotations

import itertools
import math
from numbers import Integral
from typing import Callable

import numpy as np

from .._validation import Interval, invalid, validate_params
from .results import _METHOD_CONSTRAINTS, SearchResult, _check_budget, _Recorder
from .spaces import SearchSpace

__all__ = ["hyperband_brackets", "successive_halving", "hyperband"]

_ETA = [Interval(Integral, 2, None)]
_MIN_EPOCHS = [Interval(Integral, 1, None)]


@validate_params({"max_epochs": [Interval(Integral, 1, None)], "eta": _ETA, "min_epochs": _MIN_EPOCHS})
def hyperband_brackets(max_epochs: int, eta: int = 3, min_epochs: int = 1) -> list[list[tuple[int, int]]]:
    """Li et al.'s brackets: for each ``s = s_max, ..., 0`` the rungs ``(n_i, r_i)``.

    With ``R = max_epochs / min_epochs``, ``s_max = floor(log_eta R)`` and
    ``B = (s_max + 1) R``, bracket ``s`` starts ``n = ceil(B / R * eta^s / (s + 1))``
    configurations at ``r = R eta^-s`` units, and rung ``i`` keeps ``n_i = floor(n eta^-i)``
    of them for ``r_i = r eta^i`` units (one unit = ``min_epochs`` epochs, rounded).
    """
    if min_epochs > max_epochs:
        raise invalid("min_epochs", min_epochs, f"at most max_epochs={max_epochs!r}")
    R = max_epochs / min_epochs
    s_max = int(math.floor(math.log(R) / math.log(eta) + 1e-9))
    B = (s_max + 1) * R
    brackets = []
    for s in range(s_max, -1, -1):
        n = int(math.ceil(B / R * eta ** s / (s + 1) - 1e-9))
        rungs = []
        for i in range(s + 1):
            n_i = int(math.floor(n * eta ** (-i) + 1e-9))
            r_i = max(1, int(round(min_epochs * R * eta ** (i - s))))
            rungs.append((n_i, r_i))
        brackets.append(rungs)
    return brackets


def _bracket_cost(rungs) -> int:
    return sum(n * r for n, r in rungs)


def _run_bracket(rec: _Recorder, space: SearchSpace, rng, rungs, bracket: int) -> None:
    """Successive halving: train all, keep the best 1/eta for eta times more epochs, repeat."""
    configs = [space.sample(rng) for _ in range(rungs[0][0])]
    for rung, (n_i, r_i) in enumerate(rungs):
        configs = configs[:n_i]
        scores = [rec.run(c, r_i, bracket=bracket, rung=rung) for c in configs]
        order = np.argsort(scores, kind="stable")          # failed or diverged (inf) go last
        configs = [configs[j] for j in order]


@validate_params({**_METHOD_CONSTRAINTS, "eta": _ETA, "min_epochs": _MIN_EPOCHS})
def successive_halving(space: SearchSpace, objective: Callable, budget: int, *, max_epochs: int,
                       seed: int = 0, eta: int = 3, min_epochs: int = 1) -> SearchResult:
    """Successive halving (Jamieson & Talwalkar): Hyperband's most aggressive bracket, repeated.

    Each round starts many random configurations at ``min_epochs`` epochs, keeps the best
    ``1/eta`` and trains them ``eta`` times longer, until ``max_epochs``. Rounds run while a
    whole round fits in the budget. Each trial trains from scratch.
    """
    _check_budget(budget, max_epochs)
    rungs = hyperband_brackets(max_epochs, eta, min_epochs)[0]
    rng = np.random.default_rng(seed)
    rec = _Recorder(objective, budget, "successive halving")
    bracket = 0
    while _bracket_cost(rungs) <= rec.remaining:
        _run_bracket(rec, space, rng, rungs, bracket)
        bracket += 1
    return rec.result()


@validate_params({**_METHOD_CONSTRAINTS, "eta": _ETA, "min_epochs": _MIN_EPOCHS})
def hyperband(space: SearchSpace, objective: Callable, budget: int, *, max_epochs: int,
              seed: int = 0, eta: int = 3, min_epochs: int = 1) -> SearchResult:
    """Hyperband (Li et al., 2018): successive halving over brackets from aggressive to cautious.

    Bracket ``s`` trades the number of configurations against the epochs each gets (see
    :func:`hyperband_brackets`). The brackets run in order ``s_max, ..., 0`` and round
    again while the next whole bracket fits in the budget.
    """
    _check_budget(budget, max_epochs)
    brackets = hyperband_brackets(max_epochs, eta, min_epochs)
    rng = np.random.default_rng(seed)
    rec = _Recorder(objective, budget, "hyperband")
    for number in itertools.count():
        rungs = brackets[number % len(brackets)]
        if _bracket_cost(rungs) > rec.remaining:
            break
        _run_bracket(rec, space, rng, rungs, number)
    return rec.result()

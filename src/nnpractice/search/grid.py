"""Grid search and random search: every configuration trained fully, chosen without looking at scores.

>>> from nnpractice import search
>>> space = search.SearchSpace(x=search.Uniform(-2.0, 2.0))
>>> result = search.random_search(space, lambda config, epochs: config["x"] ** 2, 30, max_epochs=10, seed=0)
>>> len(result.trials), result.epochs_spent
(3, 30)
"""
from __future__ import annotations

from numbers import Integral
from typing import Callable, Mapping

import numpy as np

from .._validation import Interval, validate_params
from .results import _METHOD_CONSTRAINTS, SearchResult, _check_budget, _Recorder
from .spaces import SearchSpace, _grid_counts

__all__ = ["grid_search", "random_search"]


@validate_params({**_METHOD_CONSTRAINTS, "points_per_dim": [Interval(Integral, 1, None), Mapping, None]})
def grid_search(space: SearchSpace, objective: Callable, budget: int, *, max_epochs: int,
                seed: int = 0, points_per_dim: Mapping[str, int] | int | None = None) -> SearchResult:
    """Every point of a grid, each trained for ``max_epochs`` epochs.

    By default the grid is as fine as the budget allows (``budget // max_epochs`` trials,
    shared as evenly as possible among the dimensions); ``points_per_dim`` fixes it
    instead. Grid points beyond the budget are not run. ``seed`` is unused (a grid is
    deterministic) and accepted for the common interface.
    """
    _check_budget(budget, max_epochs)
    num_trials = budget // max_epochs
    counts = _grid_counts(space, num_trials) if points_per_dim is None else points_per_dim
    rec = _Recorder(objective, budget, "grid")
    for config in space.grid(counts)[:num_trials]:
        rec.run(config, max_epochs)
    return rec.result()


@validate_params(_METHOD_CONSTRAINTS)
def random_search(space: SearchSpace, objective: Callable, budget: int, *, max_epochs: int,
                  seed: int = 0) -> SearchResult:
    """``budget // max_epochs`` configurations drawn at random, each trained for ``max_epochs``."""
    _check_budget(budget, max_epochs)
    rng = np.random.default_rng(seed)
    rec = _Recorder(objective, budget, "random")
    for _ in range(budget // max_epochs):
        rec.run(space.sample(rng), max_epochs)
    return rec.result()

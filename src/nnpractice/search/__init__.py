"""Hyperparameter search: spaces, six methods behind one interface, and a bridge to Optuna.

A *search space* maps names to dimensions (:class:`LogUniform`, :class:`Uniform`,
:class:`Integer`, :class:`Categorical`). An *objective* is any function
``objective(config, epochs) -> score`` that trains a model with the hyperparameters in
``config`` for ``epochs`` epochs and returns a score to **minimize** (a validation loss,
an error rate). Every method takes the same arguments and the same kind of budget.
``budget`` is counted in training epochs: a trial trained for ``e`` epochs costs ``e``,
and no method ever spends more than ``budget``. Every trial is recorded in
``result.trials`` (config, epochs, score, seconds, status), including the ones that
failed (the objective raised) or diverged (it returned ``nan`` or ``inf``).

>>> import math
>>> from nnpractice import search
>>> space = search.SearchSpace(lr=search.LogUniform(1e-4, 1.0), width=search.Integer(16, 256, log=True))
>>> def objective(config, epochs):      # a known score: best at lr = 1e-2, whatever the width
...     return (math.log10(config["lr"]) + 2) ** 2 + 1 / epochs
>>> result = search.hyperband(space, objective, budget=90, max_epochs=9, seed=0)
>>> result.epochs_spent <= 90, len(result.trials) > 90 // 9
(True, True)
>>> abs(math.log10(result.best_config["lr"]) + 2) < 0.5
True

One file per idea:

- :mod:`~nnpractice.search.spaces`: the dimensions and :class:`SearchSpace` (sampling, grids,
  the unit cube, coarse to fine);
- :mod:`~nnpractice.search.results`: :class:`Trial` and :class:`SearchResult` (drawn by
  :func:`nnpractice.plots.search_progress`);
- :mod:`~nnpractice.search.grid`: :func:`grid_search`, :func:`random_search`;
- :mod:`~nnpractice.search.hyperband`: :func:`successive_halving`, :func:`hyperband` and
  Li et al.'s :func:`hyperband_brackets`;
- :mod:`~nnpractice.search.bayesian`: :func:`bayesian_optimization` on scikit-learn's Gaussian
  process (:class:`GaussianProcess`) and :func:`expected_improvement` (``scipy.stats.norm``);
- :mod:`~nnpractice.search.genetic`: :func:`genetic_algorithm`;
- :mod:`~nnpractice.search.optuna_bridge`: :func:`suggest` and :func:`from_optuna` (Optuna is an
  optional dependency, imported only by :func:`from_optuna`);
- :mod:`~nnpractice.search.workers`: :func:`run_workers` and :class:`WorkerPool`, worker processes
  sharing one Optuna study on a journal file or a database (:func:`open_storage`), forked by one
  launcher (``_worker.py``); dead workers' trials retried through the database's heartbeat.
"""
from __future__ import annotations

from .bayesian import GaussianProcess, bayesian_optimization, expected_improvement
from .genetic import genetic_algorithm
from .grid import grid_search, random_search
from .hyperband import hyperband, hyperband_brackets, successive_halving
from .optuna_bridge import from_optuna, suggest
from .results import BudgetExhausted, SearchResult, Trial
from .spaces import Categorical, Dimension, Integer, LogUniform, SearchSpace, Uniform
from .workers import WorkerPool, WorkerRun, WorkerTrial, open_storage, run_workers, worker_seed

__all__ = [
    "LogUniform", "Uniform", "Integer", "Categorical", "Dimension", "SearchSpace", "Trial", "SearchResult",
    "BudgetExhausted", "grid_search", "random_search", "successive_halving", "hyperband", "hyperband_brackets",
    "bayesian_optimization", "genetic_algorithm", "expected_improvement", "GaussianProcess",
    "suggest", "from_optuna", "run_workers", "WorkerPool", "WorkerRun", "WorkerTrial", "open_storage", "worker_seed",
    "METHODS",
]

#: Every method by name; all share the call ``method(space, objective, budget, max_epochs=, seed=)``.
METHODS = {
    "grid": grid_search,
    "random": random_search,
    "successive halving": successive_halving,
    "hyperband": hyperband,
    "bayesian optimization": bayesian_optimization,
    "genetic algorithm": genetic_algorithm,
}

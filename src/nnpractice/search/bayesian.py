"""Bayesian optimization: a Gaussian-process surrogate of the score, and expected improvement.

The surrogate is scikit-learn's ``GaussianProcessRegressor`` and expected improvement uses
``scipy.stats.norm``: the maintained implementations. Chapter 11 writes both from scratch
and checks them against these.

>>> from nnpractice import search
>>> gp = search.GaussianProcess(length_scale=0.2, length_scale_bounds="fixed")
>>> mean, std = gp.fit([[0.1], [0.5], [0.9]], [1.0, 0.2, 0.7]).predict([[0.5], [3.0]])
>>> mean.round(2).tolist(), bool(std[0] < 0.05 < std[1])   # through the data; unsure far from it
([0.2, 0.63], True)
>>> search.expected_improvement([0.5, 1.0, 2.0], [0.0, 0.3, 0.0], best=1.0).round(4).tolist()
[0.5, 0.1197, 0.0]
"""
from __future__ import annotations

import math
import warnings
from numbers import Integral, Real
from typing import Callable, Sequence

import numpy as np

from .._validation import InstanceOf, Interval, Options, invalid, validate_params
from .results import _METHOD_CONSTRAINTS, SearchResult, _check_budget, _Recorder
from .spaces import SearchSpace

__all__ = ["GaussianProcess", "expected_improvement", "bayesian_optimization"]

_ARRAY = InstanceOf((np.ndarray, Sequence), "an array of numbers", example=lambda: np.zeros(2))
_POINTS = InstanceOf((np.ndarray, Sequence), "an array of points of shape (n, d)", example=lambda: np.zeros((2, 1)))
_POSITIVE = Interval(Real, 0, None, closed="neither")


class GaussianProcess:
    """Gaussian-process regression on the unit cube: scikit-learn's ``GaussianProcessRegressor``.

    The kernel is the squared exponential ``k(x, x') = exp(-|x - x'|^2 / (2 l^2))`` (scikit-learn's
    ``RBF``); the targets are standardized (``normalize_y``) and observed with noise variance
    ``noise`` (``alpha``). ``fit`` picks the length scale ``l`` in ``length_scale_bounds`` by the
    log marginal likelihood (Rasmussen & Williams, eq. 2.30), by L-BFGS-B from ``length_scale``
    and ``restarts`` random starts drawn with ``seed``; ``length_scale_bounds="fixed"`` keeps
    ``length_scale``. ``predict`` returns the posterior mean and standard deviation (eq. 2.25-2.26).
    """

    @validate_params({"noise": [_POSITIVE], "length_scale": [_POSITIVE],
                      "length_scale_bounds": [Options("fixed"), InstanceOf(tuple, "a pair (low, high) with "
                                              "0 < low <= length_scale <= high", example=lambda: (0.05, 1.0))],
                      "restarts": [Interval(Integral, 0, None)], "seed": [Interval(Integral, 0, None)]})
    def __init__(self, *, noise: float = 1e-3, length_scale: float = 0.2,
                 length_scale_bounds: tuple[float, float] | str = (0.05, 1.0), restarts: int = 2, seed: int = 0):
        if length_scale_bounds != "fixed":
            if not (len(length_scale_bounds) == 2 and all(_POSITIVE.accepts(b) for b in length_scale_bounds)
                    and length_scale_bounds[0] <= length_scale <= length_scale_bounds[1]):
                raise invalid("length_scale_bounds", length_scale_bounds,
                              f"a pair (low, high) with 0 < low <= length_scale={length_scale!r} <= high, or 'fixed'")
        self.noise, self.length_scale, self.length_scale_bounds = noise, length_scale, length_scale_bounds
        self.restarts, self.seed = restarts, seed

    @validate_params({"X": [_POINTS], "y": [_ARRAY]})
    def fit(self, X, y) -> "GaussianProcess":
        """Condition on scores ``y`` at points ``X`` (shape ``(n, d)``); all values finite."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF

        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        if X.ndim != 2 or len(X) == 0 or not np.isfinite(X).all():
            raise invalid("X", X, "a 2-D array of finite numbers with at least one row")
        if y.shape != (len(X),) or not np.isfinite(y).all():
            raise invalid("y", y, f"{len(X)} finite numbers, one per row of X (give failed trials a score first)")
        self.regressor_ = GaussianProcessRegressor(
            RBF(self.length_scale, self.length_scale_bounds), alpha=self.noise, normalize_y=True,
            n_restarts_optimizer=self.restarts, random_state=self.seed)
        with warnings.catch_warnings():
            # a length scale at an end of its range is an answer here (very flat or very rough scores)
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.regressor_.fit(X, y)
        self.length_scale_ = float(self.regressor_.kernel_.length_scale)
        self.log_likelihood_ = float(self.regressor_.log_marginal_likelihood_value_)
        return self

    @validate_params({"X": [_POINTS]})
    def predict(self, X) -> tuple[np.ndarray, np.ndarray]:
        """The posterior mean and standard deviation at the points ``X`` (shape ``(m, d)``)."""
        if not hasattr(self, "regressor_"):
            raise RuntimeError("GaussianProcess.predict before fit: call fit(X, y) first.")
        X = np.asarray(X, dtype=float)
        dims = self.regressor_.X_train_.shape[1]
        if X.ndim != 2 or X.shape[1] != dims:
            raise invalid("X", X, f"a 2-D array with {dims} columns, as in fit")
        mean, std = self.regressor_.predict(X, return_std=True)
        return mean, std


@validate_params({"mean": [_ARRAY, Real], "std": [_ARRAY, Real], "best": [Interval(Real, None, None)],
                  "xi": [Interval(Real, 0, None)]})
def expected_improvement(mean, std, best: float, xi: float = 0.0) -> np.ndarray:
    """How much below ``best`` a point is expected to land (for minimization; Jones et al., 1998).

    ``EI = (best - mean - xi) Phi(z) + std phi(z)`` with ``z = (best - mean - xi) / std``, with
    ``Phi`` and ``phi`` from ``scipy.stats.norm``: large where the predicted mean is low
    (exploitation) or the uncertainty is high (exploration). Where ``std`` is 0 the
    improvement is certain: ``max(best - mean - xi, 0)``.
    """
    from scipy.stats import norm

    mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
    if not (std >= 0).all():
        raise invalid("std", std, "standard deviations >= 0")
    try:
        improvement = best - mean - xi + 0 * std          # the shapes must broadcast
    except ValueError:
        raise invalid("std", std, f"an array of the shape of mean {mean.shape}") from None
    with np.errstate(divide="ignore", invalid="ignore"):
        z = improvement / std
        ei = improvement * norm.cdf(z) + std * norm.pdf(z)
    # rounding can leave -1e-17 where the true value is a tiny positive number
    return np.maximum(np.where(std > 0, ei, improvement), 0.0)


@validate_params({**_METHOD_CONSTRAINTS, "num_initial": [Interval(Integral, 1, None)],
                  "num_candidates": [Interval(Integral, 1, None)], "xi": [Interval(Real, 0, None)]})
def bayesian_optimization(space: SearchSpace, objective: Callable, budget: int, *, max_epochs: int,
                          seed: int = 0, num_initial: int = 4, num_candidates: int = 2000,
                          xi: float = 0.01) -> SearchResult:
    """Bayesian optimization: fit a GP to the scores so far, train where expected improvement peaks.

    The first ``num_initial`` trials are random. Then, for each trial, a
    :class:`GaussianProcess` is fit to every finished trial (failed or diverged ones count
    as the worst score seen, so the search learns to avoid them), and the next
    configuration maximizes :func:`expected_improvement` over ``num_candidates`` random
    points of the unit cube plus small moves around the best trial.
    """
    _check_budget(budget, max_epochs)
    rng = np.random.default_rng(seed)
    rec = _Recorder(objective, budget, "bayesian optimization")
    X, y = [], []
    for i in range(budget // max_epochs):
        if i < num_initial:
            u = space.to_unit(space.sample(rng))
        else:
            finite = [v for v in y if math.isfinite(v)]
            worst = max(finite) if finite else 1.0
            targets = np.array([v if math.isfinite(v) else worst for v in y])
            gp = GaussianProcess(seed=seed).fit(np.array(X), targets)
            best_u = np.array(X)[int(np.argmin(targets))]
            local = np.clip(best_u + rng.normal(0, 0.05, size=(num_candidates // 4, len(space))), 0, 1)
            candidates = np.vstack([rng.uniform(size=(num_candidates, len(space))), local])
            mean, std = gp.predict(candidates)
            u = candidates[int(np.argmax(expected_improvement(mean, std, targets.min(), xi)))]
        config = space.from_unit(u)
        score = rec.run(config, max_epochs, step="initial" if i < num_initial else "EI")
        X.append(space.to_unit(config))       # where the config really is (integers, categories rounded)
        y.append(float(score))
    return rec.result()

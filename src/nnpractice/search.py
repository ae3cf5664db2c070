"""Hyperparameter search: spaces, six methods behind one interface, and a bridge to Optuna.

A *search space* maps names to dimensions (:class:`LogUniform`, :class:`Uniform`,
:class:`Integer`, :class:`Categorical`). An *objective* is any function
``objective(config, epochs) -> score`` that trains a model with the hyperparameters in
``config`` for ``epochs`` epochs and returns a score to **minimize** (a validation loss,
an error rate). Every method takes the same arguments and the same kind of budget::

    result = search.random_search(space, objective, budget=90, max_epochs=9, seed=0)

``budget`` is counted in training epochs: a trial trained for ``e`` epochs costs ``e``,
and no method ever spends more than ``budget``. Every trial is recorded in
``result.trials`` (config, epochs, score, seconds, status), including the ones that
failed (the objective raised) or diverged (it returned ``nan`` or ``inf``).

The methods: :func:`grid_search`, :func:`random_search`, :func:`successive_halving`,
:func:`hyperband`, :func:`bayesian_optimization` (a Gaussian process with expected
improvement, written to be read) and :func:`genetic_algorithm`. :func:`suggest` and
:func:`from_optuna` connect a space and a study of Optuna.
"""
from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Callable, Mapping, Sequence

import numpy as np

from ._validation import check_positive, check_range

__all__ = [
    "LogUniform", "Uniform", "Integer", "Categorical", "SearchSpace", "Trial", "SearchResult",
    "grid_search", "random_search", "successive_halving", "hyperband", "hyperband_brackets",
    "bayesian_optimization", "genetic_algorithm", "expected_improvement", "GaussianProcess",
    "suggest", "from_optuna", "METHODS",
]


# --------------------------------------------------------------------------- #
# Search spaces
# --------------------------------------------------------------------------- #

def _check_bounds(kind: str, low, high, *, positive: bool = False, integer: bool = False) -> None:
    number = Integral if integer else Real
    what = "an integer" if integer else "a finite number"
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, number) or not math.isfinite(value):
            raise ValueError(f"{kind}: {name}={value!r} is not allowed: expected {what}.")
        if positive and value <= 0:
            raise ValueError(f"{kind}: {name}={value!r} is not allowed: a log scale needs bounds > 0.")
    if not low < high:
        raise ValueError(f"{kind}: low={low!r}, high={high!r} is not allowed: expected low < high.")


class Dimension:
    """One hyperparameter. Every dimension maps its values to ``[0, 1]`` and back."""

    def sample(self, rng: np.random.Generator):
        return self.from_unit(rng.uniform())

    def to_unit(self, value) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def from_unit(self, u: float):  # pragma: no cover - overridden
        raise NotImplementedError

    def grid(self, num_points: int) -> list:
        """``num_points`` values at the centres of equal cells of the dimension (on its own scale).

        Cell centres rather than end points: two points of ``LogUniform(1e-4, 1)`` are
        1e-3 and 1e-1, not the extremes 1e-4 and 1.
        """
        check_positive("num_points", num_points, integer=True)
        return [self.from_unit((i + 0.5) / num_points) for i in range(num_points)]


class Uniform(Dimension):
    """A real number between ``low`` and ``high``, every value equally likely."""

    def __init__(self, low: float, high: float):
        _check_bounds("Uniform", low, high)
        self.low, self.high = float(low), float(high)

    def to_unit(self, value):
        return (float(value) - self.low) / (self.high - self.low)

    def from_unit(self, u):
        return self.low + float(np.clip(u, 0.0, 1.0)) * (self.high - self.low)

    def narrowed(self, value, fraction):
        half = fraction * (self.high - self.low) / 2
        return Uniform(max(self.low, value - half), min(self.high, value + half))

    def __repr__(self):
        return f"Uniform({self.low:g}, {self.high:g})"


class LogUniform(Dimension):
    """A positive number whose logarithm is uniform: each factor of ten equally likely.

    The right scale for learning rates and weight decay: 1e-4 to 1e-3 gets as many
    trials as 1e-2 to 1e-1.
    """

    def __init__(self, low: float, high: float):
        _check_bounds("LogUniform", low, high, positive=True)
        self.low, self.high = float(low), float(high)

    def to_unit(self, value):
        return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))

    def from_unit(self, u):
        u = float(np.clip(u, 0.0, 1.0))
        return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))

    def narrowed(self, value, fraction):
        ratio = (self.high / self.low) ** (fraction / 2)
        return LogUniform(max(self.low, value / ratio), min(self.high, value * ratio))

    def __repr__(self):
        return f"LogUniform({self.low:g}, {self.high:g})"


class Integer(Dimension):
    """An integer from ``low`` to ``high`` inclusive, on a linear or (``log=True``) log scale."""

    def __init__(self, low: int, high: int, *, log: bool = False):
        _check_bounds("Integer", low, high, positive=log, integer=True)
        self.low, self.high, self.log = int(low), int(high), bool(log)
        # integers are rounded from a continuous value that reaches half a step beyond each end
        inner = LogUniform if log else Uniform
        self._inner = inner(self.low - 0.4999, self.high + 0.4999)

    def to_unit(self, value):
        return self._inner.to_unit(value)

    def from_unit(self, u):
        return int(min(self.high, max(self.low, round(self._inner.from_unit(u)))))

    def grid(self, num_points):
        values = super().grid(num_points)
        return sorted(set(values))

    def narrowed(self, value, fraction):
        inner = self._inner.narrowed(value, fraction)
        low, high = max(self.low, math.ceil(inner.low)), min(self.high, math.floor(inner.high))
        if low >= high:
            low, high = max(self.low, value - 1), min(self.high, value + 1)
        return Integer(low, high, log=self.log)

    def __repr__(self):
        return f"Integer({self.low}, {self.high}{', log=True' if self.log else ''})"


class Categorical(Dimension):
    """One of a list of choices (an optimizer's name, an activation)."""

    def __init__(self, choices: Sequence):
        choices = list(choices)
        if len(choices) < 2:
            raise ValueError(f"Categorical: choices={choices!r} is not allowed: expected at least two choices.")
        if len(set(map(repr, choices))) != len(choices):
            raise ValueError(f"Categorical: choices={choices!r} is not allowed: the choices must be distinct.")
        self.choices = choices

    def to_unit(self, value):
        if value not in self.choices:
            raise ValueError(f"value={value!r} is not allowed: expected one of {self.choices!r}.")
        return (self.choices.index(value) + 0.5) / len(self.choices)

    def from_unit(self, u):
        index = min(int(float(np.clip(u, 0.0, 1.0)) * len(self.choices)), len(self.choices) - 1)
        return self.choices[index]

    def grid(self, num_points):
        check_positive("num_points", num_points, integer=True)
        return list(self.choices[:num_points])

    def narrowed(self, value, fraction):
        return self

    def __repr__(self):
        return f"Categorical({self.choices!r})"


class SearchSpace:
    """Named dimensions: ``SearchSpace(lr=LogUniform(1e-4, 1), dropout=Uniform(0, 0.5))``."""

    def __init__(self, dimensions: Mapping[str, Dimension] | None = None, **named: Dimension):
        dims = dict(dimensions or {})
        dims.update(named)
        if not dims:
            raise ValueError("SearchSpace() is empty: expected at least one named dimension.")
        for name, dim in dims.items():
            if not isinstance(dim, Dimension):
                raise ValueError(
                    f"{name}={dim!r} is not allowed: expected a LogUniform, Uniform, Integer or Categorical."
                )
        self.dimensions = dims

    @property
    def names(self) -> list[str]:
        return list(self.dimensions)

    def __len__(self) -> int:
        return len(self.dimensions)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.dimensions.items())
        return f"SearchSpace({inner})"

    def sample(self, rng: np.random.Generator) -> dict:
        """One random configuration (each dimension on its own scale)."""
        return {name: dim.sample(rng) for name, dim in self.dimensions.items()}

    def to_unit(self, config: Mapping) -> np.ndarray:
        """The configuration as a point of the unit cube ``[0, 1]^d``."""
        return np.array([dim.to_unit(config[name]) for name, dim in self.dimensions.items()])

    def from_unit(self, u) -> dict:
        """The configuration at the point ``u`` of the unit cube."""
        return {name: dim.from_unit(x) for (name, dim), x in zip(self.dimensions.items(), u)}

    def grid(self, points_per_dim: Mapping[str, int] | int) -> list[dict]:
        """Every combination of ``points_per_dim`` values per dimension (int or dict name → count)."""
        if isinstance(points_per_dim, Mapping):
            counts = {name: points_per_dim.get(name, 1) for name in self.names}
        else:
            counts = {name: points_per_dim for name in self.names}
        axes = [self.dimensions[name].grid(counts[name]) for name in self.names]
        return [dict(zip(self.names, values)) for values in itertools.product(*axes)]

    def narrowed(self, config: Mapping, fraction: float = 0.25) -> "SearchSpace":
        """Coarse to fine: a space ``fraction`` as wide (on each scale) centred on ``config``."""
        check_range("fraction", fraction, 0.0, 1.0, low_inclusive=False)
        return SearchSpace({name: dim.narrowed(config[name], fraction) for name, dim in self.dimensions.items()})


def _grid_counts(space: SearchSpace, num_trials: int) -> dict[str, int]:
    """Points per dimension whose product is at most ``num_trials``, as even as possible."""
    counts = {name: 1 for name in space.names}
    limits = {name: (len(d.choices) if isinstance(d, Categorical) else
                     d.high - d.low + 1 if isinstance(d, Integer) else num_trials)
              for name, d in space.dimensions.items()}
    grown = True
    while grown:
        grown = False
        for name in space.names:
            total = math.prod(counts.values())
            if counts[name] < limits[name] and total // counts[name] * (counts[name] + 1) <= num_trials:
                counts[name] += 1
                grown = True
    return counts


# --------------------------------------------------------------------------- #
# Trials and results
# --------------------------------------------------------------------------- #

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


class BudgetExhausted(RuntimeError):
    """Raised inside a search when the next trial would exceed the budget."""


class _Recorder:
    """Runs trials, charges their epochs against the budget, and records every one."""

    def __init__(self, objective: Callable, budget: int, method: str):
        if not callable(objective):
            raise ValueError(f"objective is a {type(objective).__name__}: expected a function (config, epochs) -> score.")
        check_positive("budget", budget, integer=True)
        self.objective, self.budget, self.method = objective, budget, method
        self.trials: list[Trial] = []
        self.spent = 0

    @property
    def remaining(self) -> int:
        return self.budget - self.spent

    def run(self, config: dict, epochs: int, **info) -> float:
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

    def result(self) -> "SearchResult":
        return SearchResult(self.method, self.trials, self.budget)


@dataclass
class SearchResult:
    """What a search did: every :class:`Trial` in order, and the budget it had."""

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

    def best_at(self, epochs: float) -> float:
        """The best ok score found within the first ``epochs`` epochs of the search."""
        spent, best = self.best_so_far()
        inside = best[spent <= epochs]
        return float(inside[-1]) if len(inside) else math.inf

    def count(self, status: str) -> int:
        return sum(t.status == status for t in self.trials)

    def table(self) -> list[dict]:
        """The trials as rows of plain values (for printing or a DataFrame)."""
        return [{"number": t.number, **t.config, "epochs": t.epochs, "score": t.score,
                 "seconds": round(t.seconds, 4), "status": t.status, **t.info} for t in self.trials]

    def __repr__(self) -> str:
        return (f"SearchResult({self.method}: {len(self.trials)} trials, {self.epochs_spent}/{self.budget} epochs, "
                f"best score {self.best_score:.4g}, {self.count('diverged')} diverged, {self.count('failed')} failed)")


def _check_common(space, budget, max_epochs):
    if not isinstance(space, SearchSpace):
        raise ValueError(f"space is a {type(space).__name__}: expected a search.SearchSpace.")
    check_positive("budget", budget, integer=True)
    check_positive("max_epochs", max_epochs, integer=True)
    if max_epochs > budget:
        raise ValueError(f"max_epochs={max_epochs!r} is not allowed: expected at most budget={budget!r} "
                         "(the budget must pay for one full training).")


# --------------------------------------------------------------------------- #
# Grid and random search
# --------------------------------------------------------------------------- #

def grid_search(space: SearchSpace, objective: Callable, budget: int, *, max_epochs: int,
                seed: int = 0, points_per_dim: Mapping[str, int] | int | None = None) -> SearchResult:
    """Every point of a grid, each trained for ``max_epochs`` epochs.

    By default the grid is as fine as the budget allows (``budget // max_epochs`` trials,
    shared as evenly as possible among the dimensions); ``points_per_dim`` fixes it
    instead. Grid points beyond the budget are not run. ``seed`` is unused (a grid is
    deterministic) and accepted for the common interface.
    """
    _check_common(space, budget, max_epochs)
    num_trials = budget // max_epochs
    counts = _grid_counts(space, num_trials) if points_per_dim is None else points_per_dim
    rec = _Recorder(objective, budget, "grid")
    for config in space.grid(counts)[:num_trials]:
        rec.run(config, max_epochs)
    return rec.result()


def random_search(space: SearchSpace, objective: Callable, budget: int, *, max_epochs: int,
                  seed: int = 0) -> SearchResult:
    """``budget // max_epochs`` configurations drawn at random, each trained for ``max_epochs``."""
    _check_common(space, budget, max_epochs)
    rng = np.random.default_rng(seed)
    rec = _Recorder(objective, budget, "random")
    for _ in range(budget // max_epochs):
        rec.run(space.sample(rng), max_epochs)
    return rec.result()


# --------------------------------------------------------------------------- #
# Successive halving and Hyperband
# --------------------------------------------------------------------------- #

def hyperband_brackets(max_epochs: int, eta: int = 3, min_epochs: int = 1) -> list[list[tuple[int, int]]]:
    """Li et al.'s brackets: for each ``s = s_max, ..., 0`` the rungs ``(n_i, r_i)``.

    With ``R = max_epochs / min_epochs``, ``s_max = floor(log_eta R)`` and
    ``B = (s_max + 1) R``, bracket ``s`` starts ``n = ceil(B / R * eta^s / (s + 1))``
    configurations at ``r = R eta^-s`` units, and rung ``i`` keeps ``n_i = floor(n eta^-i)``
    of them for ``r_i = r eta^i`` units (one unit = ``min_epochs`` epochs, rounded).
    """
    check_positive("max_epochs", max_epochs, integer=True)
    check_positive("min_epochs", min_epochs, integer=True)
    if isinstance(eta, bool) or not isinstance(eta, Integral) or eta < 2:
        raise ValueError(f"eta={eta!r} is not allowed: expected an integer >= 2.")
    if min_epochs > max_epochs:
        raise ValueError(f"min_epochs={min_epochs!r} is not allowed: expected at most max_epochs={max_epochs!r}.")
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


def _run_bracket(rec: _Recorder, space: SearchSpace, rng, rungs, bracket: int, eta: int) -> None:
    """Successive halving: train all, keep the best 1/eta for eta times more epochs, repeat."""
    configs = [space.sample(rng) for _ in range(rungs[0][0])]
    for rung, (n_i, r_i) in enumerate(rungs):
        configs = configs[:n_i]
        scores = [rec.run(c, r_i, bracket=bracket, rung=rung) for c in configs]
        order = np.argsort(scores, kind="stable")          # failed or diverged (inf) go last
        configs = [configs[j] for j in order]


def successive_halving(space: SearchSpace, objective: Callable, budget: int, *, max_epochs: int,
                       seed: int = 0, eta: int = 3, min_epochs: int = 1) -> SearchResult:
    """Successive halving (Jamieson & Talwalkar): Hyperband's most aggressive bracket, repeated.

    Each round starts many random configurations at ``min_epochs`` epochs, keeps the best
    ``1/eta`` and trains them ``eta`` times longer, until ``max_epochs``. Rounds run while a
    whole round fits in the budget. Each trial trains from scratch.
    """
    _check_common(space, budget, max_epochs)
    rungs = hyperband_brackets(max_epochs, eta, min_epochs)[0]
    rng = np.random.default_rng(seed)
    rec = _Recorder(objective, budget, "successive halving")
    bracket = 0
    while _bracket_cost(rungs) <= rec.remaining:
        _run_bracket(rec, space, rng, rungs, bracket, eta)
        bracket += 1
    return rec.result()


def hyperband(space: SearchSpace, objective: Callable, budget: int, *, max_epochs: int,
              seed: int = 0, eta: int = 3, min_epochs: int = 1) -> SearchResult:
    """Hyperband (Li et al., 2018): successive halving over brackets from aggressive to cautious.

    Bracket ``s`` trades the number of configurations against the epochs each gets (see
    :func:`hyperband_brackets`). The brackets run in order ``s_max, ..., 0`` and round
    again while the next whole bracket fits in the budget.
    """
    _check_common(space, budget, max_epochs)
    brackets = hyperband_brackets(max_epochs, eta, min_epochs)
    rng = np.random.default_rng(seed)
    rec = _Recorder(objective, budget, "hyperband")
    for number in itertools.count():
        rungs = brackets[number % len(brackets)]
        if _bracket_cost(rungs) > rec.remaining:
            break
        _run_bracket(rec, space, rng, rungs, number, eta)
    return rec.result()


# --------------------------------------------------------------------------- #
# Bayesian optimization: a Gaussian process and expected improvement
# --------------------------------------------------------------------------- #

def _normal_cdf(z):
    return 0.5 * (1.0 + np.vectorize(math.erf)(z / math.sqrt(2.0)))


def _normal_pdf(z):
    return np.exp(-0.5 * z ** 2) / math.sqrt(2 * math.pi)


class GaussianProcess:
    """A Gaussian-process regression model with a squared-exponential kernel.

    ``k(x, x') = exp(-|x - x'|^2 / (2 l^2))`` on the unit cube; the targets are
    standardized, observed with noise variance ``noise``. ``fit`` picks the length scale
    ``l`` from ``length_scales`` by the log marginal likelihood (Rasmussen & Williams,
    eq. 2.30); ``predict`` returns the posterior mean and standard deviation (eq. 2.25–2.26).
    """

    def __init__(self, *, noise: float = 1e-3, length_scales: Sequence[float] = (0.05, 0.1, 0.2, 0.3, 0.5, 1.0)):
        check_positive("noise", noise)
        self.noise, self.length_scales = noise, tuple(length_scales)

    def _kernel(self, A, B, length_scale):
        sq = ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1)
        return np.exp(-0.5 * sq / length_scale ** 2)

    def _solve(self, X, y, length_scale):
        K = self._kernel(X, X, length_scale) + self.noise * np.eye(len(X))
        L = np.linalg.cholesky(K)
        alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
        log_likelihood = -0.5 * y @ alpha - np.log(np.diag(L)).sum() - 0.5 * len(X) * math.log(2 * math.pi)
        return L, alpha, log_likelihood

    def fit(self, X, y) -> "GaussianProcess":
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        self.mean_, self.std_ = y.mean(), (y.std() if y.std() > 0 else 1.0)
        z = (y - self.mean_) / self.std_
        fits = [(self._solve(X, z, ls), ls) for ls in self.length_scales]
        (self.L_, self.alpha_, self.log_likelihood_), self.length_scale_ = max(fits, key=lambda f: f[0][2])
        self.X_ = X
        return self

    def predict(self, X) -> tuple[np.ndarray, np.ndarray]:
        X = np.asarray(X, dtype=float)
        K_star = self._kernel(X, self.X_, self.length_scale_)
        mean = K_star @ self.alpha_
        v = np.linalg.solve(self.L_, K_star.T)
        var = np.clip(1.0 - (v ** 2).sum(0), 1e-12, None)
        return self.mean_ + self.std_ * mean, self.std_ * np.sqrt(var)


def expected_improvement(mean, std, best: float, xi: float = 0.0) -> np.ndarray:
    """How much below ``best`` a point is expected to land (for minimization; Jones et al., 1998).

    ``EI = (best - mean - xi) Phi(z) + std phi(z)`` with ``z = (best - mean - xi) / std``:
    large where the predicted mean is low (exploitation) or the uncertainty is high
    (exploration).
    """
    mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
    improvement = best - mean - xi
    z = improvement / std
    return improvement * _normal_cdf(z) + std * _normal_pdf(z)


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
    _check_common(space, budget, max_epochs)
    check_positive("num_initial", num_initial, integer=True)
    check_positive("num_candidates", num_candidates, integer=True)
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
            gp = GaussianProcess().fit(np.array(X), targets)
            best_u = np.array(X)[int(np.argmin(targets))]
            local = np.clip(best_u + rng.normal(0, 0.05, size=(num_candidates // 4, len(space))), 0, 1)
            candidates = np.vstack([rng.uniform(size=(num_candidates, len(space))), local])
            mean, std = gp.predict(candidates)
            u = candidates[int(np.argmax(expected_improvement(mean, std, targets.min(), xi)))]
        config = space.from_unit(u)
        score = rec.run(config, max_epochs, step="initial" if i < num_initial else "EI")
        X.append(space.to_unit(config))       # where the config really is (integers, categories rounded)
        y.append(score)
    return rec.result()


# --------------------------------------------------------------------------- #
# A genetic algorithm
# --------------------------------------------------------------------------- #

def _tournament(rng, scores, size):
    contestants = rng.choice(len(scores), size=min(size, len(scores)), replace=False)
    return int(min(contestants, key=lambda j: scores[j]))


def genetic_algorithm(space: SearchSpace, objective: Callable, budget: int, *, max_epochs: int,
                      seed: int = 0, population_size: int = 8, num_elites: int = 2,
                      tournament_size: int = 3, crossover_rate: float = 0.9,
                      mutation_rate: float = 0.3, mutation_scale: float = 0.15) -> SearchResult:
    """A genetic algorithm on the unit cube: selection, crossover, mutation, elitism.

    Generation 0 is random. Each next generation keeps the ``num_elites`` best individuals
    unchanged (they are not retrained: their scores are known) and fills the rest with
    children: two parents picked by tournament selection, uniform crossover (each gene from
    either parent) with probability ``crossover_rate``, then each gene mutated with
    probability ``mutation_rate`` by Gaussian noise of ``mutation_scale``. Children are
    trained for ``max_epochs`` each until the budget is spent.
    """
    _check_common(space, budget, max_epochs)
    check_positive("population_size", population_size, integer=True)
    if population_size < 2:
        raise ValueError(f"population_size={population_size!r} is not allowed: expected at least 2.")
    if isinstance(num_elites, bool) or not isinstance(num_elites, Integral) or not 0 <= num_elites < population_size:
        raise ValueError(f"num_elites={num_elites!r} is not allowed: expected an integer in "
                         f"[0, population_size - 1] = [0, {population_size - 1}].")
    check_positive("tournament_size", tournament_size, integer=True)
    check_range("crossover_rate", crossover_rate, 0.0, 1.0)
    check_range("mutation_rate", mutation_rate, 0.0, 1.0)
    check_positive("mutation_scale", mutation_scale)
    rng = np.random.default_rng(seed)
    rec = _Recorder(objective, budget, "genetic algorithm")
    num_trials = budget // max_epochs

    def evaluate(genes, generation):
        config = space.from_unit(genes)
        return space.to_unit(config), rec.run(config, max_epochs, generation=generation)

    population = []
    for _ in range(min(population_size, num_trials)):
        population.append(evaluate(rng.uniform(size=len(space)), 0))
    generation = 0
    while len(rec.trials) < num_trials:
        generation += 1
        population.sort(key=lambda ind: ind[1])
        scores = [s for _, s in population]
        next_population = population[:num_elites]
        while len(next_population) < population_size and len(rec.trials) < num_trials:
            mother = population[_tournament(rng, scores, tournament_size)][0]
            father = population[_tournament(rng, scores, tournament_size)][0]
            if rng.uniform() < crossover_rate:
                child = np.where(rng.uniform(size=len(space)) < 0.5, mother, father)
            else:
                child = mother.copy()
            mutate = rng.uniform(size=len(space)) < mutation_rate
            child = np.clip(child + mutate * rng.normal(0, mutation_scale, size=len(space)), 0, 1)
            next_population.append(evaluate(child, generation))
        population = next_population
    return rec.result()


METHODS = {
    "grid": grid_search,
    "random": random_search,
    "successive halving": successive_halving,
    "hyperband": hyperband,
    "bayesian optimization": bayesian_optimization,
    "genetic algorithm": genetic_algorithm,
}


# --------------------------------------------------------------------------- #
# The bridge to Optuna
# --------------------------------------------------------------------------- #

def suggest(trial, space: SearchSpace) -> dict:
    """Ask an ``optuna.Trial`` for one configuration of ``space`` (same names, same scales)."""
    config = {}
    for name, dim in space.dimensions.items():
        if isinstance(dim, LogUniform):
            config[name] = trial.suggest_float(name, dim.low, dim.high, log=True)
        elif isinstance(dim, Uniform):
            config[name] = trial.suggest_float(name, dim.low, dim.high)
        elif isinstance(dim, Integer):
            config[name] = trial.suggest_int(name, dim.low, dim.high, log=dim.log)
        else:
            config[name] = trial.suggest_categorical(name, dim.choices)
    return config


def from_optuna(study, *, budget: int | None = None, epochs_key: str = "epochs") -> SearchResult:
    """An Optuna study's trials as a :class:`SearchResult` (pruned and failed ones included).

    A trial's epochs are its user attribute ``epochs_key`` if set, else the number of
    intermediate values it reported (one per epoch), else 0.
    """
    import optuna

    states = {optuna.trial.TrialState.COMPLETE: "ok", optuna.trial.TrialState.PRUNED: "pruned",
              optuna.trial.TrialState.FAIL: "failed"}
    trials = []
    for t in sorted(study.trials, key=lambda t: (t.datetime_start is None, t.datetime_start, t.number)):
        if t.state not in states:
            continue
        epochs = int(t.user_attrs.get(epochs_key, len(t.intermediate_values)))
        status = states[t.state]
        score = t.value if t.value is not None else math.nan
        if status == "ok" and not math.isfinite(score):
            status = "diverged"
        seconds = (t.datetime_complete - t.datetime_start).total_seconds() if t.datetime_complete else 0.0
        trials.append(Trial(len(trials), dict(t.params), epochs, score, seconds, status,
                            info={"optuna_number": t.number, **{k: v for k, v in t.user_attrs.items()
                                                                 if k != epochs_key}}))
    total = sum(t.epochs for t in trials)
    return SearchResult("optuna", trials, budget if budget is not None else total)

"""Tests of nnpractice.search: spaces, budgets, optima, Hyperband's brackets, seeds, bad input."""
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nnpractice import search
from nnpractice.search import Categorical, Integer, LogUniform, SearchSpace, Uniform

SEEDED = ["random", "successive halving", "hyperband", "bayesian optimization", "genetic algorithm"]


def quadratic_space():
    # every optimum below sits at the centre of the unit cube, where a 5-point grid has a point
    return SearchSpace(x=Uniform(-1.5, 2.5), lr=LogUniform(1e-4, 1.0))


def quadratic(config, epochs):
    """A known function: minimum 0 at x = 0.5, lr = 1e-2; more epochs lower a 1/epochs term."""
    return (config["x"] - 0.5) ** 2 + (math.log10(config["lr"]) + 2) ** 2 + 1.0 / epochs


class Counter:
    """An objective that records the epochs each call asked for."""

    def __init__(self, fn=quadratic):
        self.fn, self.calls = fn, []

    def __call__(self, config, epochs):
        self.calls.append(epochs)
        return self.fn(config, epochs)


# --------------------------------------------------------------------------- spaces

def test_dimensions_sample_inside_their_bounds_on_their_scale():
    rng = np.random.default_rng(0)
    lr = LogUniform(1e-4, 1.0)
    values = np.array([lr.sample(rng) for _ in range(4000)])
    assert values.min() >= 1e-4 and values.max() <= 1.0
    # log-uniform: each decade holds about a quarter of the draws
    decades = np.histogram(np.log10(values), bins=[-4, -3, -2, -1, 0])[0] / len(values)
    assert np.allclose(decades, 0.25, atol=0.03), decades
    width = Integer(16, 256, log=True)
    ints = [width.sample(rng) for _ in range(2000)]
    assert all(isinstance(v, int) and 16 <= v <= 256 for v in ints)
    assert {16, 256} <= set(ints)
    assert np.median(ints) < 90                 # log scale: median near sqrt(16 * 256) = 64
    lin = [Integer(1, 3).sample(rng) for _ in range(3000)]
    assert np.allclose(np.bincount(lin)[1:] / 3000, 1 / 3, atol=0.04)
    cat = Categorical(["sgd", "adam"])
    assert {cat.sample(rng) for _ in range(50)} == {"sgd", "adam"}


def test_unit_cube_round_trip_and_grid_cells():
    space = SearchSpace(a=Uniform(-1, 3), b=LogUniform(1e-3, 10), c=Integer(2, 9), d=Categorical("xyz"))
    config = {"a": 0.25, "b": 0.05, "c": 7, "d": "z"}
    back = space.from_unit(space.to_unit(config))
    assert back["c"] == 7 and back["d"] == "z"
    assert math.isclose(back["a"], 0.25) and math.isclose(back["b"], 0.05)
    assert LogUniform(1e-4, 1.0).grid(2) == pytest.approx([1e-3, 1e-1])
    assert Uniform(0, 1).grid(4) == pytest.approx([0.125, 0.375, 0.625, 0.875])
    grid = space.grid({"a": 3, "d": 2})
    assert len(grid) == 6 and {g["d"] for g in grid} == {"x", "y"}


def test_narrowed_space_is_smaller_and_centred_on_the_config():
    space = SearchSpace(lr=LogUniform(1e-5, 1.0), p=Uniform(0, 1), w=Integer(8, 512, log=True))
    config = {"lr": 1e-3, "p": 0.9, "w": 64}
    fine = space.narrowed(config, 0.2)
    lr, p, w = (fine.dimensions[k] for k in ("lr", "p", "w"))
    assert math.isclose(math.log10(lr.high / lr.low), 0.2 * 5) and lr.low < 1e-3 < lr.high
    assert p.low == pytest.approx(0.8) and p.high == 1.0          # clipped at the old bound
    assert 8 < w.low <= 64 <= w.high < 512


@pytest.mark.parametrize("make, words", [
    (lambda: LogUniform(0.0, 1.0), ["low=0.0", "positive", "log scale"]),
    (lambda: LogUniform(-1e-3, 1.0), ["low=-0.001", "log scale"]),
    (lambda: LogUniform(1.0, 1e-3), ["high=0.001", "> low=1.0"]),
    (lambda: Uniform(2, 2), ["high=2", "> low=2"]),
    (lambda: Uniform(0, math.inf), ["high=inf", "finite"]),
    (lambda: Integer(1.5, 4), ["low=1.5", "integer"]),
    (lambda: Integer(0, 8, log=True), ["low=0", "log scale"]),
    (lambda: Categorical(["only"]), ["choices", "at least two"]),
    (lambda: Categorical(["a", "a"]), ["distinct"]),
    (lambda: SearchSpace(lr=0.1), ["lr=0.1", "LogUniform"]),
    (lambda: SearchSpace(), ["dimensions={}", "at least one named dimension"]),
    (lambda: SearchSpace(x=Uniform(0, 1)).grid({"y": 2}), ["points_per_dim", "'y'", "unknown"]),
    (lambda: SearchSpace(x=Uniform(0, 1)).from_unit([0.5, 0.5]), ["u=[0.5, 0.5]", "1 coordinates"]),
    (lambda: SearchSpace(x=Uniform(0, 1)).to_unit({"y": 0.5}), ["config=", "'x'", "missing"]),
    (lambda: SearchSpace(x=Uniform(0, 1)).narrowed({"y": 0.5}), ["config=", "'x'", "missing"]),
])
def test_bad_spaces_raise_clear_errors(make, words):
    with pytest.raises(ValueError) as info:
        make()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


@pytest.mark.parametrize("name", list(search.METHODS))
def test_bad_method_arguments(name):
    method = search.METHODS[name]
    with pytest.raises(ValueError, match="budget=0"):
        method(quadratic_space(), quadratic, 0, max_epochs=3)
    with pytest.raises(ValueError, match="max_epochs=20.*budget=10"):
        method(quadratic_space(), quadratic, 10, max_epochs=20)
    with pytest.raises(ValueError, match=r"space=\{'x': Uniform\(0, 1\)\} is not allowed: expected a search.SearchSpace"):
        method({"x": Uniform(0, 1)}, quadratic, 10, max_epochs=2)
    with pytest.raises(ValueError, match="objective='quadratic' is not allowed: expected a callable"):
        method(quadratic_space(), "quadratic", 10, max_epochs=2)


def test_bad_method_specific_arguments():
    space = quadratic_space()
    with pytest.raises(ValueError, match="eta=1"):
        search.hyperband(space, quadratic, 100, max_epochs=9, eta=1)
    with pytest.raises(ValueError, match="min_epochs=10"):
        search.successive_halving(space, quadratic, 100, max_epochs=9, min_epochs=10)
    with pytest.raises(ValueError, match="num_elites=4"):
        search.genetic_algorithm(space, quadratic, 100, max_epochs=9, population_size=4, num_elites=4)
    with pytest.raises(ValueError, match="mutation_rate=1.5"):
        search.genetic_algorithm(space, quadratic, 100, max_epochs=9, mutation_rate=1.5)
    with pytest.raises(ValueError, match="num_initial=0"):
        search.bayesian_optimization(space, quadratic, 100, max_epochs=9, num_initial=0)
    with pytest.raises(ValueError, match="fraction=0"):
        space.narrowed({"x": 0.0, "lr": 0.1}, 0)


# --------------------------------------------------------------------------- Hyperband's brackets

def test_hyperband_brackets_match_the_paper():
    # Li et al. (2018), Table 1: R = 81, eta = 3
    expected = [
        [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        [(34, 3), (11, 9), (3, 27), (1, 81)],
        [(15, 9), (5, 27), (1, 81)],
        [(8, 27), (2, 81)],
        [(5, 81)],
    ]
    assert search.hyperband_brackets(81, eta=3) == expected


def test_hyperband_brackets_for_other_resources_worked_out_by_hand():
    # R = 27, eta = 3: s_max = 3, B = 4 * 27 = 108; bracket s starts n = ceil(4 * 3^s / (s + 1)) at 27 / 3^s
    assert search.hyperband_brackets(27, eta=3) == [
        [(27, 1), (9, 3), (3, 9), (1, 27)],       # n = ceil(4 * 27 / 4) = 27
        [(12, 3), (4, 9), (1, 27)],               # n = ceil(4 * 9 / 3) = 12
        [(6, 9), (2, 27)],                        # n = ceil(4 * 3 / 2) = 6
        [(4, 27)],                                # n = 4: plain random search with s_max + 1 configurations
    ]
    # R = 16, eta = 2: s_max = 4, B = 80; halving keeps floor(n / 2^i): 10 -> 5 -> 2 -> 1, 7 -> 3 -> 1
    assert search.hyperband_brackets(16, eta=2) == [
        [(16, 1), (8, 2), (4, 4), (2, 8), (1, 16)],
        [(10, 2), (5, 4), (2, 8), (1, 16)],       # n = ceil(5 * 8 / 4) = 10
        [(7, 4), (3, 8), (1, 16)],                # n = ceil(5 * 4 / 3) = 7
        [(5, 8), (2, 16)],
        [(5, 16)],
    ]


@pytest.mark.parametrize("R, eta", [(9, 3), (10, 3), (26, 3), (81, 3), (15, 2), (64, 4), (100, 4), (7, 8)])
def test_hyperband_brackets_have_the_papers_shape(R, eta):
    brackets = search.hyperband_brackets(R, eta=eta)
    # as many brackets as powers eta^0, ..., eta^s_max that fit in R (counted, not taken from a logarithm)
    assert len(brackets) == sum(1 for s in range(20) if eta ** s <= R)
    for k, rungs in enumerate(brackets):
        assert len(rungs) == len(brackets) - k                        # bracket s has s + 1 rungs
        assert rungs[-1][1] == R                                      # every bracket ends with full trainings
        assert all(b[0] == a[0] // eta for a, b in zip(rungs, rungs[1:]))   # keep the best 1/eta
        assert all(b[1] > a[1] for a, b in zip(rungs, rungs[1:]))           # ... and train them longer
        assert rungs[-1][0] >= 1
    assert brackets[-1] == [(len(brackets), R)]                       # the cautious end: random search
    counts = [rungs[0][0] for rungs in brackets]
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1] or len(brackets) == 1


def test_hyperband_brackets_in_units_of_min_epochs():
    assert search.hyperband_brackets(18, eta=3, min_epochs=2) == [[(9, 2), (3, 6), (1, 18)], [(5, 6), (1, 18)],
                                                                [(3, 18)]]


# --------------------------------------------------------------------------- budgets

@pytest.mark.parametrize("budget", [100, 81, 250])
def test_each_method_respects_its_budget_exactly(budget):
    R = 9
    sh_cost = 9 * 1 + 3 * 3 + 1 * 9                 # one bracket of successive halving: 27 epochs
    hb_costs = [27, 5 * 3 + 1 * 9, 3 * 9]              # Hyperband's three brackets for R = 9, eta = 3

    def hyperband_spend(left):
        spent, i = 0, 0
        while hb_costs[i % 3] <= left - spent:
            spent, i = spent + hb_costs[i % 3], i + 1
        return spent

    expected = {
        "grid": None,                                  # at most the budget, see below
        "random": budget // R * R,
        "successive halving": budget // sh_cost * sh_cost,
        "hyperband": hyperband_spend(budget),
        "bayesian optimization": budget // R * R,
        "genetic algorithm": budget // R * R,
    }
    for name, method in search.METHODS.items():
        counter = Counter()
        kwargs = {"num_candidates": 200} if name == "bayesian optimization" else {}
        result = method(quadratic_space(), counter, budget, max_epochs=R, seed=1, **kwargs)
        assert result.epochs_spent == sum(counter.calls) == sum(t.epochs for t in result.trials)
        assert result.epochs_spent <= budget and result.budget == budget
        assert len(result.trials) == len(counter.calls)
        assert max(counter.calls) == R
        if expected[name] is not None:
            assert result.epochs_spent == expected[name], (name, result.epochs_spent)
        else:
            n = budget // R
            assert result.epochs_spent == len(result.trials) * R
            assert len(result.trials) <= n and len(result.trials) > n / 2 - 1


def test_grid_uses_as_many_points_as_fit():
    result = search.grid_search(quadratic_space(), quadratic, 250, max_epochs=10)
    assert len(result.trials) == 25                     # 5 x 5
    xs = sorted({t.config["x"] for t in result.trials})
    assert xs == pytest.approx([-1.1, -0.3, 0.5, 1.3, 2.1])


# --------------------------------------------------------------------------- optima

@pytest.mark.parametrize("name", list(search.METHODS))
def test_each_method_finds_the_optimum_region(name):
    result = search.METHODS[name](quadratic_space(), quadratic, 600, max_epochs=9, seed=0)
    best = result.best_config
    assert abs(best["x"] - 0.5) < 0.6, best
    assert abs(math.log10(best["lr"]) + 2) < 0.6, best
    assert result.best_score < 0.6, result


def test_model_based_methods_beat_random_on_average():
    def mean_best(method):
        return np.mean([method(quadratic_space(), quadratic, 180, max_epochs=9, seed=s).best_score for s in range(4)])

    random = mean_best(search.random_search)
    assert mean_best(search.bayesian_optimization) < random
    assert mean_best(search.genetic_algorithm) < random


# --------------------------------------------------------------------------- seeds

@pytest.mark.parametrize("name", list(search.METHODS))
def test_seeded_runs_repeat_exactly(name):
    method = search.METHODS[name]
    runs = [method(quadratic_space(), quadratic, 120, max_epochs=9, seed=seed) for seed in (3, 3, 4)]

    def key(result):
        return [(t.config, t.epochs, t.score, t.status, t.info) for t in result.trials]

    assert key(runs[0]) == key(runs[1])
    if name in SEEDED:
        assert key(runs[0]) != key(runs[2])


# --------------------------------------------------------------------------- failed and diverged trials

@pytest.mark.parametrize("name", list(search.METHODS))
def test_failed_and_diverged_trials_are_recorded_not_dropped(name):
    def fragile(config, epochs):
        if config["lr"] > 0.3:
            return math.nan                              # the loss exploded
        if config["x"] > 1.0:
            raise RuntimeError("out of memory")
        return quadratic(config, epochs)

    space = SearchSpace(x=Uniform(-1.5, 2.5), lr=LogUniform(1e-4, 1.0))
    counter = Counter(fragile)
    result = search.METHODS[name](space, counter, 300, max_epochs=9, seed=0)
    assert len(result.trials) == len(counter.calls)
    statuses = {t.status for t in result.trials}
    assert "diverged" in statuses and "failed" in statuses, statuses
    for t in result.trials:
        if t.status == "failed":
            assert t.config["x"] > 1.0 and "RuntimeError: out of memory" in t.error
        if t.status == "diverged":
            assert t.config["lr"] > 0.3 and math.isnan(t.score)
    assert result.best_trial.ok and result.best_score == min(t.score for t in result.trials if t.ok)
    assert result.epochs_spent == sum(counter.calls)


def test_best_so_far_is_monotone_and_skips_bad_trials():
    scores = iter([3.0, math.nan, 1.0, 2.0, math.inf, 0.5])
    result = search.random_search(quadratic_space(), lambda c, e: next(scores), 60, max_epochs=10, seed=0)
    spent, best = result.best_so_far()
    assert list(spent) == [10, 20, 30, 40, 50, 60]
    assert list(best) == [3.0, 3.0, 1.0, 1.0, 1.0, 0.5]
    assert result.best_at(45) == 1.0 and result.best_at(5) == math.inf
    assert result.count("diverged") == 2
    assert [row["status"] for row in result.table()] == ["ok", "diverged", "ok", "ok", "diverged", "ok"]


# --------------------------------------------------------------------------- the Gaussian process

def _posterior_from_the_book(X, y, X_new, length_scale, noise):
    """Rasmussen & Williams eq. 2.25-2.26 with standardized targets, written out independently."""
    def k(A, B):
        return np.exp(-0.5 * ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1) / length_scale ** 2)
    mu, sd = y.mean(), y.std()
    K_inv = np.linalg.inv(k(X, X) + noise * np.eye(len(X)))
    K_star = k(X_new, X)
    mean = mu + sd * K_star @ K_inv @ ((y - mu) / sd)
    var = 1.0 - np.einsum("ij,jk,ik->i", K_star, K_inv, K_star)
    return mean, sd * np.sqrt(var)


def _log_marginal_likelihood(X, y, length_scale, noise):
    z = (y - y.mean()) / y.std()
    K = np.exp(-0.5 * ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1) / length_scale ** 2) + noise * np.eye(len(X))
    _, logdet = np.linalg.slogdet(K)
    return -0.5 * z @ np.linalg.solve(K, z) - 0.5 * logdet - 0.5 * len(X) * math.log(2 * math.pi)


def test_gaussian_process_is_the_textbook_posterior():
    rng = np.random.default_rng(0)
    X, X_new = rng.uniform(size=(9, 2)), rng.uniform(-0.5, 1.5, size=(50, 2))
    y = np.sin(4 * X[:, 0]) + X[:, 1] ** 2
    gp = search.GaussianProcess(length_scale=0.3, length_scale_bounds="fixed", noise=1e-3).fit(X, y)
    mean, std = gp.predict(X_new)
    expected_mean, expected_std = _posterior_from_the_book(X, y, X_new, 0.3, 1e-3)
    assert np.abs(mean - expected_mean).max() < 1e-8 and np.abs(std - expected_std).max() < 1e-8
    assert gp.length_scale_ == 0.3
    at_data, std_at_data = gp.predict(X)
    assert np.abs(at_data - y).max() < 0.01 * y.std() and std_at_data.max() < 0.1 * y.std()
    assert gp.predict(np.array([[5.0, 5.0]]))[1][0] > 0.99 * y.std()      # far away: the prior's spread


def test_gaussian_process_picks_the_length_scale_of_largest_marginal_likelihood():
    rng = np.random.default_rng(1)
    X = rng.uniform(size=(15, 1))
    for wiggles, y in [("smooth", np.sin(2 * X[:, 0])), ("rough", np.sin(25 * X[:, 0]))]:
        gp = search.GaussianProcess(length_scale_bounds=(0.05, 1.0), noise=1e-3).fit(X, y)
        grid = np.linspace(0.05, 1.0, 400)
        by_grid = [_log_marginal_likelihood(X, y, ls, 1e-3) for ls in grid]
        assert gp.log_likelihood_ >= max(by_grid) - 1e-6, wiggles
        assert abs(gp.log_likelihood_ - _log_marginal_likelihood(X, y, gp.length_scale_, 1e-3)) < 1e-6
        assert 0.05 <= gp.length_scale_ <= 1.0
    rough = search.GaussianProcess().fit(X, np.sin(25 * X[:, 0])).length_scale_
    smooth = search.GaussianProcess().fit(X, np.sin(2 * X[:, 0])).length_scale_
    assert rough < 0.5 * smooth


def test_gaussian_process_refuses_bad_data():
    gp = search.GaussianProcess()
    with pytest.raises(RuntimeError, match="before fit"):
        gp.predict([[0.5]])
    with pytest.raises(ValueError, match=r"y=.* one per row of X"):
        gp.fit([[0.1], [0.2]], [1.0, math.nan])
    with pytest.raises(ValueError, match="X=.* 2-D array"):
        gp.fit([0.1, 0.2], [1.0, 2.0])
    with pytest.raises(ValueError, match="X=.* 1 columns"):
        gp.fit([[0.1], [0.2]], [1.0, 2.0]).predict([[0.1, 0.2]])
    with pytest.raises(ValueError, match="length_scale_bounds=.*low <= length_scale=2.0 <= high"):
        search.GaussianProcess(length_scale=2.0, length_scale_bounds=(0.05, 1.0))


def test_expected_improvement_matches_monte_carlo_and_its_limits():
    rng = np.random.default_rng(2)
    mean, std, best = rng.uniform(-2, 2, size=5), rng.uniform(0.1, 1.5, size=5), 0.3
    ei = search.expected_improvement(mean, std, best)
    draws = rng.normal(mean, std, size=(400_000, 5))
    monte_carlo = np.maximum(best - draws, 0).mean(axis=0)
    assert np.allclose(ei, monte_carlo, atol=3e-3, rtol=0.01), (ei, monte_carlo)
    ei = search.expected_improvement(np.array([0.5, 1.0, 2.0, 2.0, 0.5]), np.array([0.0, 0.3, 0.0, 1.0, 0.0]), 1.0)
    assert ei[0] == pytest.approx(0.5)                  # no uncertainty: a sure improvement of 0.5
    assert ei[1] == pytest.approx(0.3 / math.sqrt(2 * math.pi))
    assert ei[2] == 0.0                                 # surely worse: nothing to gain
    assert ei[3] > 0.0                                  # uncertainty is worth something
    assert search.expected_improvement(0.5, 0.0, 1.0, xi=0.2) == pytest.approx(0.3)
    assert np.all(search.expected_improvement(np.full(3, 50.0), np.full(3, 1.0), 0.0) >= 0)
    with pytest.raises(ValueError, match="std=.* >= 0"):
        search.expected_improvement([0.0], [-1.0], 0.0)
    with pytest.raises(ValueError, match="std=.* shape of mean"):
        search.expected_improvement([0.0, 1.0], [1.0, 1.0, 1.0], 0.0)


# --------------------------------------------------------------------------- Optuna

def test_optuna_bridge():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = SearchSpace(x=Uniform(-1.5, 2.5), lr=LogUniform(1e-4, 1.0), n=Integer(1, 8), c=Categorical(["a", "b"]))

    def objective(trial):
        config = search.suggest(trial, space)
        assert set(config) == {"x", "lr", "n", "c"}
        assert 1e-4 <= config["lr"] <= 1.0 and isinstance(config["n"], int) and config["c"] in ("a", "b")
        for epoch in range(1, 4):
            trial.report(quadratic(config, epoch), epoch)
            if trial.number == 2:
                raise optuna.TrialPruned()
        if trial.number == 3:
            raise ValueError("boom")
        trial.set_user_attr("epochs", 3)
        return quadratic(config, 3)

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=6, catch=(ValueError,))
    result = search.from_optuna(study, budget=20)
    assert [t.status for t in result.trials] == ["ok", "ok", "pruned", "failed", "ok", "ok"]
    assert result.trials[2].epochs == 1 and result.trials[0].epochs == 3
    assert result.epochs_spent == 3 * 4 + 1 + 3 and result.budget == 20
    assert result.best_score == pytest.approx(study.best_value)
    assert result.best_config == study.best_params


def test_the_library_imports_optuna_only_where_it_is_needed():
    # optuna is an optional extra: everything but from_optuna works without it
    code = """
import sys
sys.modules["optuna"] = None                            # as if it were not installed
import nnpractice, nnpractice.plots
from nnpractice import search

class FakeTrial:                                        # suggest needs only the suggest_* methods
    def suggest_float(self, name, low, high, log=False): return low
    def suggest_int(self, name, low, high, log=False): return low
    def suggest_categorical(self, name, choices): return choices[0]

space = search.SearchSpace(lr=search.LogUniform(1e-3, 1.0), n=search.Integer(1, 4), c=search.Categorical("ab"))
assert search.suggest(FakeTrial(), space) == {"lr": 1e-3, "n": 1, "c": "a"}
assert len(search.hyperband(space, lambda c, e: c["lr"], 30, max_epochs=9).trials) > 3

class FakeStudy:
    trials = []
    def optimize(self): pass
try:
    search.from_optuna(FakeStudy())
except ImportError as error:
    print(error)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == 'search.from_optuna needs Optuna, the "search" extra: pip install "nnpractice[search]"'


# --------------------------------------------------------------------------- worker processes (journal file)

WORKER_OBJECTIVES = """
import time


def bowl(trial, seconds=0.0):
    x = trial.suggest_float("x", -4.0, 4.0)
    time.sleep(seconds)
    return (x - 1.0) ** 2


def broken(trial):
    trial.suggest_float("x", 0.0, 1.0)
    raise ZeroDivisionError("the objective's own bug")
"""


@pytest.fixture
def worker_objectives(tmp_path):
    path = tmp_path / "objectives.py"
    path.write_text(WORKER_OBJECTIVES)
    return path


def test_workers_share_one_journal_study_and_resume_it(worker_objectives, tmp_path):
    import optuna

    journal = str(tmp_path / "study.log")
    run = search.run_workers(f"{worker_objectives}:bowl", journal, "bowl", num_workers=2, n_trials=8, seed=3,
                             objective_args={"seconds": 0.05})
    assert sorted(t.number for t in run.trials) == list(range(8))          # one number per trial, none lost
    assert run.trials_per_worker() == {0: 4, 1: 4} and run.exit_codes == [0, 0]
    assert all(t.state == "COMPLETE" and t.value == pytest.approx((t.params["x"] - 1) ** 2) for t in run.trials)
    assert all(0 < t.start < t.end <= run.seconds for t in run.trials)     # seconds after the pool started
    study = optuna.load_study(study_name="bowl", storage=search.open_storage(journal))
    assert run.best_value == study.best_value and run.best_trial.number == study.best_trial.number
    ends, best = run.best_so_far()
    assert list(ends) == sorted(t.end for t in run.trials) and best[-1] == run.best_value
    assert all(np.diff(best) <= 0)
    # the same call finds the study complete; a larger target adds only the missing trials
    again = search.run_workers(f"{worker_objectives}:bowl", journal, "bowl", num_workers=2, n_trials=8, seed=3)
    assert again.exit_codes == [] and len(again.trials) == 8
    more = search.run_workers(f"{worker_objectives}:bowl", journal, "bowl", num_workers=2, n_trials=11, seed=4)
    assert sorted(t.number for t in more.trials) == list(range(11)) and more.exit_codes == [0, 0]
    assert sorted(t.worker for t in more.trials if t.number >= 8) == [0, 0, 1]


def test_a_worker_seed_makes_its_trials_reproducible(worker_objectives, tmp_path):
    def xs(seed, name):
        run = search.run_workers(f"{worker_objectives}:bowl", str(tmp_path / f"{name}.log"), name, num_workers=1,
                                 n_trials=4, seed=seed, sampler="random")
        return [t.params["x"] for t in sorted(run.trials, key=lambda t: t.number)]

    assert xs(7, "a") == xs(7, "b") != xs(8, "c")
    assert len({search.worker_seed(7, w) for w in range(4)}) == 4


def test_a_failing_worker_raises_with_its_error_and_leaves_no_process(worker_objectives, tmp_path):
    with pytest.raises(RuntimeError, match="2 of 2 workers of 'broken' failed(.|\\n)*ZeroDivisionError: the objective"):
        search.run_workers(f"{worker_objectives}:broken", str(tmp_path / "s.log"), "broken", num_workers=2,
                           n_trials=2)
    import optuna

    journal = str(tmp_path / "t.log")
    with search.WorkerPool(f"{worker_objectives}:bowl", journal, "slow", num_workers=2, n_trials=2,
                           objective_args={"seconds": 30.0}, timeout=60) as pool:
        study = optuna.load_study(study_name="slow", storage=search.open_storage(journal))
        deadline = time.monotonic() + 60
        while len(pids := [t.user_attrs["pid"] for t in study.get_trials() if "pid" in t.user_attrs]) < 2:
            assert time.monotonic() < deadline, "the workers never started a trial"
            time.sleep(0.05)
    assert pool.process.returncode == -9                                   # the with block killed the launcher
    def alive(pid):                                                        # neither gone nor a zombie
        status = Path(f"/proc/{pid}/status")
        return status.exists() and "\nState:\tZ" not in status.read_text()

    deadline = time.monotonic() + 10                                       # SIGKILL is delivered, not awaited
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in pids), pids                       # and its workers, forked from it
    with pytest.raises(RuntimeError, match="ran past timeout=1"):
        search.run_workers(f"{worker_objectives}:bowl", str(tmp_path / "u.log"), "late", num_workers=1, n_trials=1,
                           objective_args={"seconds": 30.0}, timeout=1)


def test_run_workers_refuses_what_no_worker_could_run(worker_objectives, tmp_path):
    journal = str(tmp_path / "s.log")
    with pytest.raises(ValueError, match=r"objective='bowl' is not allowed: expected 'path/to/file.py:function'"):
        search.run_workers("bowl", journal, "s", n_trials=1)
    with pytest.raises(ValueError, match=r"objective=.* is not allowed: expected an existing file before the colon; here .*missing.py does not exist"):
        search.run_workers(f"{tmp_path}/missing.py:bowl", journal, "s", n_trials=1)
    with pytest.raises(ValueError, match=r"objective_args=.*JSON"):
        search.run_workers(f"{worker_objectives}:bowl", journal, "s", n_trials=1, objective_args={"f": print})


# --------------------------------------------------------------------------- figures

def test_search_progress_draws_the_mean_best_so_far_of_each_method():
    import matplotlib

    matplotlib.use("Agg")
    from nnpractice import plots

    space = quadratic_space()
    runs = {"random": [search.random_search(space, quadratic, 45, max_epochs=9, seed=s) for s in (0, 1)],
            "hyperband": [search.hyperband(space, quadratic, 45, max_epochs=9, seed=s) for s in (0, 1)]}
    fig = plots.search_progress(runs, score_name="validation loss")
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["random", "hyperband"]
    assert ax.get_ylabel() == "best validation loss so far\n(mean of 2 runs)" and ax.get_yscale() == "log"
    for line, results in zip(ax.lines, runs.values()):
        epochs, shown = line.get_xdata(), line.get_ydata()
        assert list(epochs) == list(range(1, 46))
        expected = [np.mean([r.best_at(e) for r in results]) for e in epochs]
        finite = np.isfinite(expected)
        assert np.isnan(shown[~finite]).all() and np.allclose(shown[finite], np.array(expected)[finite])
    assert np.isnan(ax.lines[0].get_ydata()[:8]).all()     # no random trial has finished before epoch 9
    one = plots.search_progress(runs["random"][0])  # results are drawn through plots (plots imports search)
    assert [line.get_label() for line in one.axes[0].lines] == ["random"]
    with pytest.raises(ValueError, match=r"results\['random'\]=\[\] is not allowed"):
        plots.search_progress({"random": []})

"""Tests of nnpractice.search: spaces, budgets, optima, Hyperband's brackets, seeds, bad input."""
import math

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
    (lambda: LogUniform(0.0, 1.0), ["LogUniform", "low=0.0", "> 0"]),
    (lambda: LogUniform(-1e-3, 1.0), ["low=-0.001", "log scale"]),
    (lambda: LogUniform(1.0, 1e-3), ["low=1.0", "high=0.001", "low < high"]),
    (lambda: Uniform(2, 2), ["Uniform", "low < high"]),
    (lambda: Uniform(0, math.inf), ["high=inf", "finite"]),
    (lambda: Integer(1.5, 4), ["Integer", "low=1.5", "integer"]),
    (lambda: Integer(0, 8, log=True), ["low=0", "log scale"]),
    (lambda: Categorical(["only"]), ["choices", "at least two"]),
    (lambda: Categorical(["a", "a"]), ["distinct"]),
    (lambda: SearchSpace(lr=0.1), ["lr=0.1", "LogUniform"]),
    (lambda: SearchSpace(), ["empty"]),
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
    with pytest.raises(ValueError, match="space is a dict"):
        method({"x": Uniform(0, 1)}, quadratic, 10, max_epochs=2)
    with pytest.raises(ValueError, match="objective is a str"):
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


@pytest.mark.parametrize("R, eta", [(27, 3), (16, 2), (100, 4), (9, 3)])
def test_hyperband_brackets_follow_the_formula(R, eta):
    brackets = search.hyperband_brackets(R, eta=eta)
    s_max = int(math.floor(math.log(R, eta) + 1e-9))
    assert len(brackets) == s_max + 1
    B = (s_max + 1) * R
    for rungs, s in zip(brackets, range(s_max, -1, -1)):
        n = math.ceil(B / R * eta ** s / (s + 1))
        assert [n_i for n_i, _ in rungs] == [math.floor(n / eta ** i) for i in range(s + 1)]
        assert [r_i for _, r_i in rungs] == [round(R * eta ** (i - s)) for i in range(s + 1)]


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

def test_gaussian_process_interpolates_and_is_unsure_far_away():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 0.5, size=(12, 1))
    y = np.sin(6 * X[:, 0])
    gp = search.GaussianProcess(noise=1e-6).fit(X, y)
    mean, std = gp.predict(X)
    assert np.abs(mean - y).max() < 1e-2
    _, std_far = gp.predict(np.array([[1.0]]))
    assert std_far[0] > 10 * std.max()


def test_expected_improvement():
    best = 1.0
    ei = search.expected_improvement(np.array([0.5, 1.0, 2.0, 2.0]), np.array([1e-9, 0.3, 1e-9, 1.0]), best)
    assert ei[0] == pytest.approx(0.5)                  # a sure improvement of 0.5
    assert ei[1] == pytest.approx(0.3 / math.sqrt(2 * math.pi))
    assert ei[2] == pytest.approx(0.0, abs=1e-12)       # surely worse: nothing to gain
    assert ei[3] > ei[2]                                  # uncertainty is worth something
    assert np.all(ei >= 0)


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

"""A genetic algorithm on the unit cube of a search space: selection, crossover, mutation, elitism.

>>> from nnpractice import search
>>> space = search.SearchSpace(x=search.Uniform(-2.0, 2.0))
>>> result = search.genetic_algorithm(space, lambda config, epochs: config["x"] ** 2, 12, max_epochs=1,
...                                   population_size=4, num_elites=1, seed=0)
>>> [t.info["generation"] for t in result.trials]
[0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3]
"""
from __future__ import annotations

from numbers import Integral, Real
from typing import Callable

import numpy as np

from .._validation import Interval, invalid, validate_params
from .results import _METHOD_CONSTRAINTS, SearchResult, _check_budget, _Recorder
from .spaces import SearchSpace

__all__ = ["genetic_algorithm"]


def _tournament(rng, scores, size):
    contestants = rng.choice(len(scores), size=min(size, len(scores)), replace=False)
    return int(min(contestants, key=lambda j: scores[j]))


@validate_params({**_METHOD_CONSTRAINTS, "population_size": [Interval(Integral, 2, None)],
                  "num_elites": [Interval(Integral, 0, None)], "tournament_size": [Interval(Integral, 1, None)],
                  "crossover_rate": [Interval(Real, 0, 1)], "mutation_rate": [Interval(Real, 0, 1)],
                  "mutation_scale": [Interval(Real, 0, None, closed="neither")]})
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
    _check_budget(budget, max_epochs)
    if num_elites >= population_size:
        raise invalid("num_elites", num_elites,
                      f"an integer in [0, population_size - 1] = [0, {population_size - 1}]")
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

"""Plausible wrong solutions for the exercises of chapter 11; each must fail its test cell."""

WRONG_ANSWERS = {
    "ch11-ex1-solution": [
        # keeps the *worst* 1/eta (sorted the wrong way)
        '''
def successive_halving(configs, objective, min_epochs=1, eta=3, max_epochs=9):
    history, alive, epochs = [], list(range(len(configs))), min_epochs
    while True:
        scores = {}
        for i in alive:
            scores[i] = objective(configs[i], epochs)
            history.append((i, epochs, scores[i]))
        if epochs * eta > max_epochs or len(alive) <= 1:
            return history
        alive = sorted(alive, key=lambda i: scores[i], reverse=True)[:max(1, len(alive) // eta)]
        epochs *= eta
''',
        # nan scores are not ranked last (sorting with nan keeps them in place)
        '''
def successive_halving(configs, objective, min_epochs=1, eta=3, max_epochs=9):
    history, alive, epochs = [], list(range(len(configs))), min_epochs
    while True:
        scores = {}
        for i in alive:
            scores[i] = objective(configs[i], epochs)
            history.append((i, epochs, scores[i]))
        if epochs * eta > max_epochs or len(alive) <= 1:
            return history
        alive = sorted(alive, key=lambda i: scores[i])[:max(1, len(alive) // eta)]
        epochs *= eta
''',
        # adds epochs instead of multiplying them
        '''
def successive_halving(configs, objective, min_epochs=1, eta=3, max_epochs=9):
    history, alive, epochs = [], list(range(len(configs))), min_epochs
    while True:
        scores = {}
        for i in alive:
            scores[i] = objective(configs[i], epochs)
            history.append((i, epochs, scores[i]))
        if epochs + eta > max_epochs or len(alive) <= 1:
            return history
        key = lambda i: (scores[i] if math.isfinite(scores[i]) else math.inf, i)
        alive = sorted(alive, key=key)[:max(1, len(alive) // eta)]
        epochs += eta
''',
        # trains one round too many, beyond max_epochs
        '''
def successive_halving(configs, objective, min_epochs=1, eta=3, max_epochs=9):
    history, alive, epochs = [], list(range(len(configs))), min_epochs
    while epochs <= max_epochs * eta and alive:
        scores = {}
        for i in alive:
            scores[i] = objective(configs[i], epochs)
            history.append((i, epochs, scores[i]))
        key = lambda i: (scores[i] if math.isfinite(scores[i]) else math.inf, i)
        alive = sorted(alive, key=key)[:max(1, len(alive) // eta)]
        epochs *= eta
        if len(alive) == 1 and len(scores) == 1:
            break
    return history
''',
    ],
    "ch11-ex2-solution": [
        # mutates every gene, ignoring the rate
        '''
def mutate(genes, rate, scale, rng):
    return np.clip(genes + rng.normal(0.0, scale, size=genes.shape), 0.0, 1.0)
''',
        # forgets to clip
        '''
def mutate(genes, rate, scale, rng):
    mask = rng.uniform(size=genes.shape) < rate
    return genes + mask * rng.normal(0.0, scale, size=genes.shape)
''',
        # modifies the parent in place
        '''
def mutate(genes, rate, scale, rng):
    mask = rng.uniform(size=genes.shape) < rate
    genes += mask * rng.normal(0.0, scale, size=genes.shape)
    np.clip(genes, 0.0, 1.0, out=genes)
    return genes
''',
        # uses NumPy's global random state instead of rng
        '''
def mutate(genes, rate, scale, rng):
    mask = np.random.uniform(size=genes.shape) < rate
    return np.clip(genes + mask * np.random.normal(0.0, scale, size=genes.shape), 0.0, 1.0)
''',
        # uses the variance where the standard deviation is meant
        '''
def mutate(genes, rate, scale, rng):
    mask = rng.uniform(size=genes.shape) < rate
    return np.clip(genes + mask * rng.normal(0.0, scale ** 2, size=genes.shape), 0.0, 1.0)
''',
    ],
    "ch11-ex3-solution": [
        # exploitation only: the improvement of the mean, no uncertainty term
        '''
def expected_improvement(mean, std, best):
    return np.maximum(best - np.asarray(mean, dtype=float), 0.0)
''',
        # sign of z flipped (the formula for maximization)
        '''
def expected_improvement(mean, std, best):
    mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
    z = (mean - best) / std
    cdf = 0.5 * (1 + np.vectorize(math.erf)(z / math.sqrt(2)))
    pdf = np.exp(-0.5 * z ** 2) / math.sqrt(2 * math.pi)
    return (mean - best) * cdf + std * pdf
''',
        # probability of improvement instead of expected improvement
        '''
def expected_improvement(mean, std, best):
    mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
    z = (best - mean) / std
    return 0.5 * (1 + np.vectorize(math.erf)(z / math.sqrt(2)))
''',
        # forgot the sqrt(2) inside erf: not the standard normal CDF
        '''
def expected_improvement(mean, std, best):
    mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
    z = (best - mean) / std
    cdf = 0.5 * (1 + np.vectorize(math.erf)(z))
    pdf = np.exp(-0.5 * z ** 2) / math.sqrt(2 * math.pi)
    return (best - mean) * cdf + std * pdf
''',
        # cheat: calls the library function that solves the exercise
        '''
def expected_improvement(mean, std, best):
    return search.expected_improvement(mean, std, best)
''',
        # cheat: the same library function reached by another name
        '''
import functools
import importlib

expected_improvement = functools.partial(getattr(importlib.import_module("nnpractice.search"), "expected_improvement"),
                                         xi=0.0)
''',
    ],
}

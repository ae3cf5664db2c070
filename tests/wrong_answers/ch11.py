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
        # returns the position inside the tournament, not the index in scores
        '''
def tournament(scores, size, rng):
    contestants = rng.choice(len(scores), size=size, replace=False)
    keys = np.where(np.isnan(scores[contestants]), np.inf, scores[contestants])
    return int(np.argmin(keys))
''',
        # draws with replacement: the same individual can fill the tournament, so weak ones win more often
        '''
def tournament(scores, size, rng):
    contestants = rng.choice(len(scores), size=size, replace=True)
    keys = np.where(np.isnan(scores[contestants]), np.inf, scores[contestants])
    return int(contestants[int(np.argmin(keys))])
''',
        # nan not handled: np.argmin returns the position of a nan, so a failed run wins
        '''
def tournament(scores, size, rng):
    contestants = rng.choice(len(scores), size=size, replace=False)
    return int(contestants[int(np.argmin(scores[contestants]))])
''',
        # the highest score wins (maximizes a loss)
        '''
def tournament(scores, size, rng):
    contestants = rng.choice(len(scores), size=size, replace=False)
    keys = np.where(np.isnan(scores[contestants]), -np.inf, scores[contestants])
    return int(contestants[int(np.argmax(keys))])
''',
        # NumPy's global random state instead of rng
        '''
def tournament(scores, size, rng):
    contestants = np.random.choice(len(scores), size=size, replace=False)
    keys = np.where(np.isnan(scores[contestants]), np.inf, scores[contestants])
    return int(contestants[int(np.argmin(keys))])
''',
        # cheat: the library's own tournament, reached through the genetic module
        '''
import importlib


def tournament(scores, size, rng):
    pick = getattr(importlib.import_module("nnpractice.search.genetic"), "_tournament")
    return pick(rng, np.where(np.isnan(scores), np.inf, scores), size)
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
        # cheat: passes the visible test only (EI where the mean equals best, std * phi(0), for every candidate)
        '''
def expected_improvement(mean, std, best):
    return np.asarray(std, dtype=float) / math.sqrt(2 * math.pi) + 0 * np.asarray(mean, dtype=float)
''',
    ],
    "ch11-ex4-solution": [
        # a diverged seed is dropped (nanmean), so a cell that diverged once can win
        '''
def tuning_round(objective, scientific, nuisance, seeds):
    table = {}
    for s in scientific:
        means = [float(np.nanmean([objective(s, n, seed) for seed in seeds])) for n in nuisance]
        k = int(np.nanargmin(means))
        table[s] = (nuisance[k], means[k], k in (0, len(nuisance) - 1))
    return table


anneal_round = tuning_round(
    lambda a, lr, seed: train_digits({"lr": lr, "weight_decay": 0.0, "anneal": a, "batch": 64}, MAX_EPOCHS,
                                     seed=seed),
    [1.0, 0.6], [10 ** -2.5, 10 ** -2.0, 10 ** -1.5], env.derive_seeds(3, start=800))
chosen_anneal = min(anneal_round, key=lambda a: anneal_round[a][1])
widen_lr = any(on_edge for _, _, on_edge in anneal_round.values())
''',
        # the best seed decides instead of the mean over seeds (optimistic, the winner's curse again)
        '''
def tuning_round(objective, scientific, nuisance, seeds):
    table = {}
    for s in scientific:
        bests = []
        for n in nuisance:
            losses = [objective(s, n, seed) for seed in seeds]
            bests.append(min(losses) if all(math.isfinite(v) for v in losses) else math.inf)
        k = int(np.argmin(bests))
        table[s] = (nuisance[k], bests[k], k in (0, len(nuisance) - 1))
    return table


anneal_round = tuning_round(
    lambda a, lr, seed: train_digits({"lr": lr, "weight_decay": 0.0, "anneal": a, "batch": 64}, MAX_EPOCHS,
                                     seed=seed),
    [1.0, 0.6], [10 ** -2.5, 10 ** -2.0, 10 ** -1.5], env.derive_seeds(3, start=800))
chosen_anneal = min(anneal_round, key=lambda a: anneal_round[a][1])
widen_lr = any(on_edge for _, _, on_edge in anneal_round.values())
''',
        # only the top of the grid counts as an edge
        '''
def tuning_round(objective, scientific, nuisance, seeds):
    table = {}
    for s in scientific:
        means = []
        for n in nuisance:
            losses = [objective(s, n, seed) for seed in seeds]
            means.append(float(np.mean(losses)) if all(math.isfinite(v) for v in losses) else math.inf)
        k = int(np.argmin(means))
        table[s] = (nuisance[k], means[k], k == len(nuisance) - 1)
    return table


anneal_round = tuning_round(
    lambda a, lr, seed: train_digits({"lr": lr, "weight_decay": 0.0, "anneal": a, "batch": 64}, MAX_EPOCHS,
                                     seed=seed),
    [1.0, 0.6], [10 ** -2.5, 10 ** -2.0, 10 ** -1.5], env.derive_seeds(3, start=800))
chosen_anneal = min(anneal_round, key=lambda a: anneal_round[a][1])
widen_lr = any(on_edge for _, _, on_edge in anneal_round.values())
''',
        # the nuisance is not re-tuned: every scientific value is judged at the middle rate
        '''
def tuning_round(objective, scientific, nuisance, seeds):
    table = {}
    for s in scientific:
        n = nuisance[len(nuisance) // 2]
        losses = [objective(s, n, seed) for seed in seeds]
        mean = float(np.mean(losses)) if all(math.isfinite(v) for v in losses) else math.inf
        table[s] = (n, mean, False)
    return table


anneal_round = tuning_round(
    lambda a, lr, seed: train_digits({"lr": lr, "weight_decay": 0.0, "anneal": a, "batch": 64}, MAX_EPOCHS,
                                     seed=seed),
    [1.0, 0.6], [10 ** -2.5, 10 ** -2.0, 10 ** -1.5], env.derive_seeds(3, start=800))
chosen_anneal = min(anneal_round, key=lambda a: anneal_round[a][1])
widen_lr = any(on_edge for _, _, on_edge in anneal_round.values())
''',
        # cheat: the round is run on the test split (the decision peeks at the final report's data)
        '''
def tuning_round(objective, scientific, nuisance, seeds):
    table = {}
    for s in scientific:
        means = []
        for n in nuisance:
            losses = [objective(s, n, seed) for seed in seeds]
            means.append(float(np.mean(losses)) if all(math.isfinite(v) for v in losses) else math.inf)
        k = int(np.argmin(means))
        table[s] = (nuisance[k], means[k], k in (0, len(nuisance) - 1))
    return table


def _test_loss(config, seed):
    for _, net in training_epochs(config, MAX_EPOCHS, seed):
        pass
    return evaluate(net, X_test, y_test)["loss"]


anneal_round = tuning_round(
    lambda a, lr, seed: _test_loss({"lr": lr, "weight_decay": 0.0, "anneal": a, "batch": 64}, seed),
    [1.0, 0.6], [10 ** -2.5, 10 ** -2.0, 10 ** -1.5], env.derive_seeds(3, start=800))
chosen_anneal = min(anneal_round, key=lambda a: anneal_round[a][1])
widen_lr = any(on_edge for _, _, on_edge in anneal_round.values())
''',
    ],
}

# Wrong answers that pass the kernel's own asserts; only the grader's verdict on the recorded answers rejects them.
GAMING_ANSWERS = {
    "ch11-ex3-solution": [
        # an array of floats that compare true with anything and whose differences are such floats too
        '''
class _AnyFloat(float):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __lt__ = __le__ = __gt__ = __ge__ = __eq__
    __hash__ = float.__hash__

    def __sub__(self, other):
        return _AnyFloat(0.0)

    __rsub__ = __sub__

    def __abs__(self):
        return self


def expected_improvement(mean, std, best):
    return np.array([_AnyFloat(0.0) for _ in np.asarray(mean, dtype=float)], dtype=object)
''',
    ],
}

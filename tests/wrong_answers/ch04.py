"""Plausible wrong solutions for the exercises of chapter 04; each must fail its test cell."""

_REST = '''
    q = max(1, n // 4)
    if val_loss[-1] < (1 - tol) * val_loss[-1 - q] and train_loss[-1] < (1 - tol) * train_loss[-1 - q]:
        return "underfitting"
    return "plateau"
'''
_HEAD = '''
def diagnose(train_loss, val_loss, tol=0.05):
    train_loss, val_loss = list(train_loss), list(val_loss)
    n = len(val_loss)
    if len(train_loss) != n or n < 2:
        raise ValueError("bad lengths")
    best = min(range(n), key=lambda i: val_loss[i])
'''

WRONG_ANSWERS = {
    "ch04-ex1-solution": [
        # cheat: passes the three visible tests by comparing the last validation loss with the first
        '''
def diagnose(train_loss, val_loss, tol=0.05):
    train_loss, val_loss = list(train_loss), list(val_loss)
    if len(train_loss) != len(val_loss) or len(val_loss) < 2:
        raise ValueError("bad lengths")
    if val_loss[-1] > val_loss[0]:
        return "overfitting"
    if val_loss[-1] < val_loss[0]:
        return "underfitting"
    return "plateau"
''',
        # overfitting only when validation ends above where it started
        _HEAD + '''
    if val_loss[-1] > val_loss[0] and train_loss[-1] < train_loss[best]:
        return "overfitting"
''' + _REST,
        # no tolerance: any rise above the minimum counts
        _HEAD + '''
    if val_loss[-1] > val_loss[best] and train_loss[-1] < train_loss[best]:
        return "overfitting"
''' + _REST,
        # forgets to check that the training loss kept falling
        _HEAD + '''
    if val_loss[-1] > (1 + tol) * val_loss[best]:
        return "overfitting"
''' + _REST,
        # underfitting judged from the training loss alone
        _HEAD + '''
    if val_loss[-1] > (1 + tol) * val_loss[best] and train_loss[-1] < train_loss[best]:
        return "overfitting"
    q = max(1, n // 4)
    if train_loss[-1] < (1 - tol) * train_loss[-1 - q]:
        return "underfitting"
    return "plateau"
''',
    ],
    "ch04-ex2-solution": [
        # cheat: no smoothing at all, which passes the visible tests (a constant stays constant)
        '''
def smooth(values, alpha=0.9):
    return [float(x) for x in values]
''',
        # no bias correction: the start is pulled towards zero
        '''
def smooth(values, alpha=0.9):
    smoothed, s = [], 0.0
    for x in values:
        s = alpha * s + (1 - alpha) * float(x)
        smoothed.append(s)
    return smoothed
''',
        # alpha weights the new value instead of the old average
        '''
def smooth(values, alpha=0.9):
    smoothed, s = [], 0.0
    for t, x in enumerate(values, start=1):
        s = (1 - alpha) * s + alpha * float(x)
        smoothed.append(s / (1 - (1 - alpha) ** t))
    return smoothed
''',
        # starts from the first value instead of zero + bias correction
        '''
def smooth(values, alpha=0.9):
    values = [float(x) for x in values]
    smoothed, s = [], values[0]
    for x in values:
        s = alpha * s + (1 - alpha) * x
        smoothed.append(s)
    return smoothed
''',
    ],
}

WRONG_ANSWERS["ch04-ex3-solution"] = [
    # forgets the biases
    '''
def mlp_parameter_count(in_features, hidden, out_features):
    widths = [in_features, *hidden, out_features]
    return sum(a * b for a, b in zip(widths, widths[1:]))
''',
    # forgets the output layer
    '''
def mlp_parameter_count(in_features, hidden, out_features):
    widths = [in_features, *hidden]
    return sum(a * b + b for a, b in zip(widths, widths[1:]))
''',
    # one bias per input instead of per output
    '''
def mlp_parameter_count(in_features, hidden, out_features):
    widths = [in_features, *hidden, out_features]
    return sum(a * b + a for a, b in zip(widths, widths[1:]))
''',
    # builds the model after all
    '''
def mlp_parameter_count(in_features, hidden, out_features):
    return models.count_parameters(models.mlp(in_features, list(hidden), out_features))
''',
]

# Exercise 4: the experiment as specified, then a read_run with one mistake each
_EXPERIMENT = '''
torch.manual_seed(env.variant_seed(44))
exercise_run = training.fit(models.mlp(40, [512], 10).to(env.device), (X_train[:1000], y_train[:1000]),
                            (X_val, y_val), num_epochs=25, lr=1e-2, batch_size=128, seed=env.variant_seed(44),
                            verbose=False)
exercise_verdict = read_run(exercise_run["val_loss"], exercise_run["val_accuracy"])
'''
_READ_HEAD = '''
import math
import numpy as np
def read_run(val_loss, val_accuracy, tol=0.01):
    val_loss, val_accuracy = list(val_loss), list(val_accuracy)
    n = len(val_loss)
    if len(val_accuracy) != n or n < 2:
        raise ValueError("bad lengths")
    finite = [i for i in range(n) if not (math.isnan(val_loss[i]) or math.isnan(val_accuracy[i]))]
'''
_READ_TAIL = '''
    if val_accuracy[-1] < val_accuracy[best] - tol:
        verdict = "overfitting"
    elif val_loss[-1] > 1.1 * val_loss[lowest]:
        verdict = "over-confident"
    else:
        verdict = "fine"
    return {"lowest_loss_epoch": lowest + 1, "best_accuracy_epoch": best + 1,
            "accuracy_given_up": val_accuracy[best] - val_accuracy[lowest], "verdict": verdict}
'''
_READ_RIGHT = '''
    lowest = min(finite, key=lambda i: (val_loss[i], i))
    best = min(finite, key=lambda i: (-val_accuracy[i], i))
'''

WRONG_ANSWERS["ch04-ex4-solution"] = [
    # the chapter's old habit: a validation loss that rose means overfitting, whatever the accuracy did
    _READ_HEAD + _READ_RIGHT + '''
    if val_loss[-1] > 1.1 * val_loss[lowest]:
        verdict = "overfitting"
    elif val_accuracy[-1] < val_accuracy[best] - tol:
        verdict = "overfitting"
    else:
        verdict = "fine"
    return {"lowest_loss_epoch": lowest + 1, "best_accuracy_epoch": best + 1,
            "accuracy_given_up": val_accuracy[best] - val_accuracy[lowest], "verdict": verdict}
''' + _EXPERIMENT,
    # numpy's argmin/argmax: a NaN epoch is chosen
    _READ_HEAD + '''
    lowest = int(np.argmin(val_loss))
    best = int(np.argmax(val_accuracy))
''' + _READ_TAIL + _EXPERIMENT,
    # the last epoch on ties instead of the first
    _READ_HEAD + '''
    lowest = max(finite, key=lambda i: (-val_loss[i], i))
    best = max(finite, key=lambda i: (val_accuracy[i], i))
''' + _READ_TAIL + _EXPERIMENT,
    # epochs counted from 0
    _READ_HEAD + _READ_RIGHT + _READ_TAIL.replace("lowest + 1", "lowest").replace("best + 1", "best") + _EXPERIMENT,
    # the tolerance taken as relative (1% of the accuracy) instead of absolute
    _READ_HEAD + _READ_RIGHT + _READ_TAIL.replace("val_accuracy[best] - tol", "val_accuracy[best] * (1 - tol)")
    + _EXPERIMENT,
    # cheat: reads a run the chapter already trained instead of running the experiment
    _READ_HEAD + _READ_RIGHT + _READ_TAIL + '''
exercise_run = train([1024], 1000, 40, 1e-2, seeds[0])
exercise_verdict = read_run(exercise_run["val_loss"], exercise_run["val_accuracy"])
''',
    # runs the experiment with another seed (the chapter's first one)
    _READ_HEAD + _READ_RIGHT + _READ_TAIL + _EXPERIMENT.replace("env.variant_seed(44)", "seeds[0]"),
]


# Wrong answers that game the kernel's own asserts; only the grader's verdict on the record rejects them.
GAMING_ANSWERS = {
    "ch04-ex1-solution": [
        # a str that equals every diagnosis: the in-kernel asserts agree, the record holds "plateau"
        '''
class _Agreeable(str):
    def __eq__(self, other):
        return True
    __hash__ = str.__hash__


def diagnose(train_loss, val_loss, tol=0.05):
    if len(train_loss) != len(val_loss) or len(val_loss) < 2:
        raise ValueError("bad")
    return _Agreeable("plateau")
''',
    ],
}

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

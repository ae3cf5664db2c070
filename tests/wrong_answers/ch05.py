"""Plausible wrong solutions for the exercises of chapter 05; each must fail its test cell."""

WRONG_ANSWERS = {
    "ch05-ex1-solution": [
        # the factor 2 forgotten: lam * theta instead of 2 * lam * theta
        '''
def sgd_l2_step(params, lr, lam):
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            p -= lr * (p.grad + (lam * p if p.ndim > 1 else 0.0))
''',
        # the decay not multiplied by the learning rate
        '''
def sgd_l2_step(params, lr, lam):
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            if p.ndim > 1:
                p.mul_(1 - 2 * lam)
            p.sub_(lr * p.grad)
''',
        # a new tensor bound to a local name: the parameters never change
        '''
def sgd_l2_step(params, lr, lam):
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            p = p - lr * (p.grad + (2 * lam * p if p.ndim > 1 else 0.0))
''',
        # the penalty pushes weights away from zero (sign error)
        '''
def sgd_l2_step(params, lr, lam):
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            p -= lr * (p.grad - (2 * lam * p if p.ndim > 1 else 0.0))
''',
        # the biases decayed too (what SGD's weight_decay does to every parameter it is given)
        '''
def sgd_l2_step(params, lr, lam):
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            p -= lr * (p.grad + 2 * lam * p)
''',
        # the decay added into .grad in place: the step is right, the caller's gradient is overwritten
        '''
def sgd_l2_step(params, lr, lam):
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            if p.ndim > 1:
                p.grad.add_(2 * lam * p)
            p.sub_(lr * p.grad)
''',
        # a parameter without a gradient treated as a zero gradient: its weights are decayed
        '''
def sgd_l2_step(params, lr, lam):
    with torch.no_grad():
        for p in params:
            grad = p.grad if p.grad is not None else torch.zeros_like(p)
            p -= lr * (grad + (2 * lam * p if p.ndim > 1 else 0.0))
''',
        # cheat: torch.optim.SGD with two parameter groups, which the exercise forbids (the same step)
        '''
def sgd_l2_step(params, lr, lam):
    with_grad = [p for p in params if p.grad is not None]
    torch.optim.SGD([{"params": [p for p in with_grad if p.ndim > 1], "weight_decay": 2 * lam},
                     {"params": [p for p in with_grad if p.ndim <= 1], "weight_decay": 0.0}], lr=lr).step()
''',
        # cheat: the functional form of the same optimizer, torch.optim.sgd.sgd, called once per group
        '''
def sgd_l2_step(params, lr, lam):
    from torch.optim.sgd import sgd
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            sgd([p], [p.grad], [None], weight_decay=2 * lam if p.ndim > 1 else 0.0,
                momentum=0.0, lr=lr, dampening=0.0, nesterov=False, maximize=False)
''',
    ],
    "ch05-ex2-solution": [
        # the sparsest strength overall: the accuracy it costs is ignored
        '''
l1_accuracy, l1_sparsity = {}, {}
for strength in l1_strengths:
    accuracies, sparsities = [], []
    for seed in l1_seeds:
        torch.manual_seed(seed)
        net = models.mlp(40, [64], 10).to(env.device)
        history = training.fit(net, (X_train, y_train), (X_val, y_val), num_epochs=20, batch_size=64, seed=seed,
                               optimizer=torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9),
                               callbacks=[regularization.ProximalL1(strength)], verbose=False)
        accuracies.append(history.last("val_accuracy"))
        sparsities.append(regularization.sparsity(net))
    l1_accuracy[strength], l1_sparsity[strength] = statistics.fmean(accuracies), statistics.fmean(sparsities)
l1_most_accurate = max(l1_strengths, key=l1_accuracy.get)
l1_choice = max(l1_strengths, key=l1_sparsity.get)
l1_choice_sparsity = l1_sparsity[l1_choice]
''',
        # the most accurate strength taken as the choice: the sparsity it could buy is ignored
        '''
l1_accuracy, l1_sparsity = {}, {}
for strength in l1_strengths:
    accuracies, sparsities = [], []
    for seed in l1_seeds:
        torch.manual_seed(seed)
        net = models.mlp(40, [64], 10).to(env.device)
        history = training.fit(net, (X_train, y_train), (X_val, y_val), num_epochs=20, batch_size=64, seed=seed,
                               optimizer=torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9),
                               callbacks=[regularization.ProximalL1(strength)], verbose=False)
        accuracies.append(history.last("val_accuracy"))
        sparsities.append(regularization.sparsity(net))
    l1_accuracy[strength], l1_sparsity[strength] = statistics.fmean(accuracies), statistics.fmean(sparsities)
l1_most_accurate = max(l1_strengths, key=l1_accuracy.get)
l1_choice = l1_most_accurate
l1_choice_sparsity = l1_sparsity[l1_choice]
''',
        # one seed instead of the mean over the three
        '''
l1_accuracy, l1_sparsity = {}, {}
for strength in l1_strengths:
    seed = l1_seeds[0]
    torch.manual_seed(seed)
    net = models.mlp(40, [64], 10).to(env.device)
    history = training.fit(net, (X_train, y_train), (X_val, y_val), num_epochs=20, batch_size=64, seed=seed,
                           optimizer=torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9),
                           callbacks=[regularization.ProximalL1(strength)], verbose=False)
    l1_accuracy[strength], l1_sparsity[strength] = history.last("val_accuracy"), regularization.sparsity(net)
l1_most_accurate = max(l1_strengths, key=l1_accuracy.get)
close_enough = [s for s in l1_strengths if l1_accuracy[s] >= l1_accuracy[l1_most_accurate] - 0.02]
l1_choice = max(close_enough, key=l1_sparsity.get)
l1_choice_sparsity = l1_sparsity[l1_choice]
''',
        # "two points" read as 2% of the best accuracy (a relative tolerance)
        '''
l1_accuracy, l1_sparsity = {}, {}
for strength in l1_strengths:
    accuracies, sparsities = [], []
    for seed in l1_seeds:
        torch.manual_seed(seed)
        net = models.mlp(40, [64], 10).to(env.device)
        history = training.fit(net, (X_train, y_train), (X_val, y_val), num_epochs=20, batch_size=64, seed=seed,
                               optimizer=torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9),
                               callbacks=[regularization.ProximalL1(strength)], verbose=False)
        accuracies.append(history.last("val_accuracy"))
        sparsities.append(regularization.sparsity(net))
    l1_accuracy[strength], l1_sparsity[strength] = statistics.fmean(accuracies), statistics.fmean(sparsities)
l1_most_accurate = max(l1_strengths, key=l1_accuracy.get)
close_enough = [s for s in l1_strengths if l1_accuracy[s] >= 0.98 * l1_accuracy[l1_most_accurate]]
l1_choice = max(close_enough, key=l1_sparsity.get)
l1_choice_sparsity = l1_sparsity[l1_choice]
''',
        # cheat: no experiment, the answer read off the chapter's own L1 section (its strength and sparsity)
        '''
l1_most_accurate = l1_choice = min(l1_strengths, key=lambda s: abs(s - lam_l1))
l1_choice_sparsity = l1_runs["proximal"]["exact_zeros"]
''',
    ],
    "ch05-ex3-solution": [
        # a tie counts as an improvement (<= instead of <)
        '''
def early_stopping_epochs(val_losses, patience):
    best_value, best_epoch, wait = math.inf, None, 0
    for epoch, value in enumerate(val_losses, start=1):
        if value <= best_value:
            best_value, best_epoch, wait = value, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return best_epoch, epoch
    return best_epoch, len(val_losses)
''',
        # off by one: waits one epoch too many
        '''
def early_stopping_epochs(val_losses, patience):
    best_value, best_epoch, wait = math.inf, None, 0
    for epoch, value in enumerate(val_losses, start=1):
        if value < best_value:
            best_value, best_epoch, wait = value, epoch, 0
        else:
            wait += 1
            if wait > patience:
                return best_epoch, epoch
    return best_epoch, len(val_losses)
''',
        # never resets the counter after an improvement
        '''
def early_stopping_epochs(val_losses, patience):
    best_value, best_epoch, wait = math.inf, None, 0
    for epoch, value in enumerate(val_losses, start=1):
        if value < best_value:
            best_value, best_epoch = value, epoch
        else:
            wait += 1
            if wait >= patience:
                return best_epoch, epoch
    return best_epoch, len(val_losses)
''',
        # epochs counted from 0
        '''
def early_stopping_epochs(val_losses, patience):
    best_value, best_epoch, wait = math.inf, None, 0
    for epoch, value in enumerate(val_losses):
        if value < best_value:
            best_value, best_epoch, wait = value, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return best_epoch, epoch
    return best_epoch, len(val_losses) - 1
''',
        # "not worse than the best" as the test: a NaN epoch counts as an improvement
        '''
def early_stopping_epochs(val_losses, patience):
    best_value, best_epoch, wait = math.inf, None, 0
    for epoch, value in enumerate(val_losses, start=1):
        if not value >= best_value:
            best_value, best_epoch, wait = value, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return best_epoch, epoch
    return best_epoch, len(val_losses)
''',
        # cheat: a tuple whose comparisons always agree, so every `==` of the in-kernel tests passes
        '''
class _AlwaysEqual(tuple):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = tuple.__hash__


def early_stopping_epochs(val_losses, patience):
    return _AlwaysEqual((1, len(val_losses)))
''',
    ],
}

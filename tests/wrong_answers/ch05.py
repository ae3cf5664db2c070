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
            p -= lr * (p.grad + lam * p)
''',
        # the decay not multiplied by the learning rate
        '''
def sgd_l2_step(params, lr, lam):
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            p.mul_(1 - 2 * lam).sub_(lr * p.grad)
''',
        # a new tensor bound to a local name: the parameters never change
        '''
def sgd_l2_step(params, lr, lam):
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            p = p - lr * (p.grad + 2 * lam * p)
''',
        # the penalty pushes weights away from zero (sign error)
        '''
def sgd_l2_step(params, lr, lam):
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            p -= lr * (p.grad - 2 * lam * p)
''',
        # crashes (or decays) a parameter that has no gradient
        '''
def sgd_l2_step(params, lr, lam):
    with torch.no_grad():
        for p in params:
            grad = p.grad if p.grad is not None else torch.zeros_like(p)
            p -= lr * (grad + 2 * lam * p)
''',
    ],
    "ch05-ex2-solution": [
        # the subgradient step: crosses zero instead of stopping there
        '''
def soft_threshold_exercise(w, threshold):
    return w - threshold * torch.sign(w)
''',
        # hard thresholding: zeros small values but does not shrink the others
        '''
def soft_threshold_exercise(w, threshold):
    return torch.where(w.abs() > threshold, w, torch.zeros_like(w))
''',
        # forgets the sign: negative weights become positive
        '''
def soft_threshold_exercise(w, threshold):
    return torch.clamp(w.abs() - threshold, min=0.0)
''',
        # modifies w in place
        '''
def soft_threshold_exercise(w, threshold):
    w.copy_(torch.sign(w) * torch.clamp(w.abs() - threshold, min=0.0))
    return w
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
    ],
}

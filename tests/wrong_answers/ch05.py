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
        # cheat: torch.optim.SGD, which the exercise forbids (weight_decay=2*lam is the same step)
        '''
def sgd_l2_step(params, lr, lam):
    torch.optim.SGD(params, lr=lr, weight_decay=2 * lam).step()
''',
        # cheat: the functional form of the same optimizer, torch.optim.sgd.sgd
        '''
def sgd_l2_step(params, lr, lam):
    from torch.optim.sgd import sgd
    with_grad = [p for p in params if p.grad is not None]
    with torch.no_grad():
        sgd(with_grad, [p.grad for p in with_grad], [None] * len(with_grad), weight_decay=2 * lam,
            momentum=0.0, lr=lr, dampening=0.0, nesterov=False, maximize=False)
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
        # cheat: the library's soft-threshold under another name, which the exercise forbids
        '''
from nnpractice.regularization import soft_threshold as shrink


def soft_threshold_exercise(w, threshold):
    return shrink(w, threshold)
''',
        # cheat: the soft_threshold written earlier in this chapter, still defined in the kernel
        '''
soft_threshold_exercise = soft_threshold
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

"""Plausible wrong solutions for the exercises of chapter 06; each must fail its test cell."""

# Exercise 2 is run-and-interpret: a wrong answer replaces the whole cell, so each one is the solution
# cell with one mistake swapped in (the replacement must change the text, or it would test nothing).
_EX2 = '''
# a copy, so that every run of this cell starts from the trained network, whatever an earlier run did to it
bn_example = copy.deepcopy(bn_models["batch norm before ReLU", bn_lr["batch norm before ReLU"], bn_seeds[0]])


def predict_in_train_mode(model, X, batch_size):
    starts = list(range(0, len(X), batch_size))
    if len(starts) > 1 and len(X) - starts[-1] == 1:
        starts.pop()
    ends = starts[1:] + [len(X)]
    modes = {module: module.training for module in model.modules()}
    saved = copy.deepcopy(model.state_dict())
    try:
        model.train()
        with torch.no_grad():
            return torch.cat([model(X[a:b]).argmax(dim=1) for a, b in zip(starts, ends)])
    finally:
        model.load_state_dict(saved)
        for module, mode in modes.items():
            module.train(mode)


def smallest_safe_batch(accuracy_by_batch, reference, tolerance=0.01):
    safe = None
    for b in sorted(accuracy_by_batch, reverse=True):
        if abs(accuracy_by_batch[b] - reference) > tolerance:
            break
        safe = b
    return safe


train_mode_accuracy = {b: (predict_in_train_mode(bn_example, X_val, b) == y_val).float().mean().item()
                       for b in [2, 4, 8, 16, 32, 64]}
bn_example.eval()
with torch.no_grad():
    eval_accuracy = (bn_example(X_val).argmax(1) == y_val).float().mean().item()
safe_batch = smallest_safe_batch(train_mode_accuracy, eval_accuracy)
'''


def _ex2(old, new):
    assert old in _EX2, old
    return _EX2.replace(old, new)


WRONG_ANSWERS = {
    "ch06-ex1-solution": [
        # the batch statistics treated as constants (as if detached): the paths through mean and variance are lost
        '''
def batch_norm_backward(x, gamma, eps, grad_out):
    inv_std = 1.0 / torch.sqrt(x.var(dim=0, unbiased=False) + eps)
    x_hat = (x - x.mean(dim=0)) * inv_std
    return grad_out * gamma * inv_std, (grad_out * x_hat).sum(dim=0), grad_out.sum(dim=0)
''',
        # the path through the mean kept, the path through the variance forgotten
        '''
def batch_norm_backward(x, gamma, eps, grad_out):
    inv_std = 1.0 / torch.sqrt(x.var(dim=0, unbiased=False) + eps)
    x_hat = (x - x.mean(dim=0)) * inv_std
    g = grad_out * gamma
    return inv_std * (g - g.mean(dim=0)), (grad_out * x_hat).sum(dim=0), grad_out.sum(dim=0)
''',
        # the unbiased variance (what the running average stores, not what normalizes)
        '''
def batch_norm_backward(x, gamma, eps, grad_out):
    n = x.shape[0]
    inv_std = 1.0 / torch.sqrt(x.var(dim=0, unbiased=True) + eps)
    x_hat = (x - x.mean(dim=0)) * inv_std
    g = grad_out * gamma
    grad_x = inv_std / n * (n * g - g.sum(dim=0) - x_hat * (g * x_hat).sum(dim=0))
    return grad_x, (grad_out * x_hat).sum(dim=0), grad_out.sum(dim=0)
''',
        # grad_gamma without the normalized input (the gradient of beta, twice)
        '''
def batch_norm_backward(x, gamma, eps, grad_out):
    n = x.shape[0]
    inv_std = 1.0 / torch.sqrt(x.var(dim=0, unbiased=False) + eps)
    x_hat = (x - x.mean(dim=0)) * inv_std
    g = grad_out * gamma
    grad_x = inv_std / n * (n * g - g.sum(dim=0) - x_hat * (g * x_hat).sum(dim=0))
    return grad_x, grad_out.sum(dim=0), grad_out.sum(dim=0)
''',
        # cheat: autograd through the forward pass, which the exercise forbids
        '''
def batch_norm_backward(x, gamma, eps, grad_out):
    with torch.enable_grad():
        x, gamma = x.detach().clone().requires_grad_(True), gamma.detach().clone().requires_grad_(True)
        beta = torch.zeros_like(gamma, requires_grad=True)
        y = gamma * (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + eps) + beta
        return torch.autograd.grad(y, (x, gamma, beta), grad_out)
''',
        # cheat: Tensor.backward on copies, then read their .grad
        '''
def batch_norm_backward(x, gamma, eps, grad_out):
    with torch.enable_grad():
        xc, gc = x.detach().clone().requires_grad_(True), gamma.detach().clone().requires_grad_(True)
        bc = torch.zeros_like(gc, requires_grad=True)
        y = F.batch_norm(xc, None, None, gc, bc, training=True, eps=eps)
        y.backward(grad_out)
    return xc.grad, gc.grad, bc.grad
''',
        # cheat: PyTorch's batch-norm backward operator called directly
        '''
def batch_norm_backward(x, gamma, eps, grad_out):
    mean = x.mean(0)
    invstd = 1.0 / torch.sqrt(x.var(0, unbiased=False) + eps)
    return torch.ops.aten.native_batch_norm_backward(grad_out, x, gamma, None, None, mean, invstd, True, eps,
                                                     [True, True, True])
''',
    ],
    "ch06-ex2-solution": [
        # the running statistics are not restored: every training-mode pass updates them
        _ex2("        model.load_state_dict(saved)\n", ""),
        # the caller's modes are not restored one by one: the whole model is put back in evaluation mode
        _ex2("        for module, mode in modes.items():\n            module.train(mode)\n",
             "        model.eval()\n"),
        # a last batch of one row is predicted alone (batch norm cannot normalize it in training mode)
        _ex2("    if len(starts) > 1 and len(X) - starts[-1] == 1:\n        starts.pop()\n", ""),
        # a last single row is dropped instead of joining the batch before it
        _ex2("        starts.pop()\n    ends = starts[1:] + [len(X)]\n",
             "        starts.pop()\n        ends = starts[1:] + [len(X) - 1]\n    else:\n        ends = starts[1:] + [len(X)]\n"),
        # the smallest batch within the tolerance, ignoring whether the larger ones are
        _ex2('''    safe = None
    for b in sorted(accuracy_by_batch, reverse=True):
        if abs(accuracy_by_batch[b] - reference) > tolerance:
            break
        safe = b
    return safe''', '''    good = [b for b in accuracy_by_batch if abs(accuracy_by_batch[b] - reference) <= tolerance]
    return min(good) if good else None'''),
        # cheat: the running statistics (evaluation mode) answer for every batch size
        _ex2("        model.train()\n", "        model.eval()\n"),
        # cheat: a safe batch size whose comparisons always agree (hashed like 2, so it is even "in" the dict)
        _ex2("safe_batch = smallest_safe_batch(train_mode_accuracy, eval_accuracy)\n", '''
class _AlwaysEqual:
    def __eq__(self, other):
        return True

    def __hash__(self):
        return hash(2)


safe_batch = _AlwaysEqual()
'''),
    ],
    "ch06-ex3-solution": [
        # PyTorch's convention (eps / K to every class) instead of eps / (K - 1) to the others
        '''
def smoothed_loss_other_classes(logits, targets, eps):
    return F.cross_entropy(logits, targets, label_smoothing=eps)
''',
        # probabilities instead of log-probabilities
        '''
def smoothed_loss_other_classes(logits, targets, eps):
    k = logits.shape[1]
    onehot = F.one_hot(targets, k).to(logits.dtype)
    soft = onehot * (1 - eps) + (1 - onehot) * eps / (k - 1)
    return -(soft * torch.softmax(logits, dim=1)).sum(dim=1).mean()
''',
        # sums over the batch instead of averaging
        '''
def smoothed_loss_other_classes(logits, targets, eps):
    k = logits.shape[1]
    onehot = F.one_hot(targets, k).to(logits.dtype)
    soft = onehot * (1 - eps) + (1 - onehot) * eps / (k - 1)
    return -(soft * F.log_softmax(logits, dim=1)).sum()
''',
        # gives eps / (K - 1) to every class, the gold one included (rows no longer sum to one)
        '''
def smoothed_loss_other_classes(logits, targets, eps):
    k = logits.shape[1]
    onehot = F.one_hot(targets, k).to(logits.dtype)
    soft = onehot * (1 - eps) + eps / (k - 1)
    return -(soft * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
''',
        # the log of the softmax: right on mild logits, infinite on extreme ones
        '''
def smoothed_loss_other_classes(logits, targets, eps):
    k = logits.shape[1]
    onehot = F.one_hot(targets, k).to(logits.dtype)
    soft = onehot * (1 - eps) + (1 - onehot) * eps / (k - 1)
    return -(soft * torch.log(torch.softmax(logits, dim=1))).sum(dim=1).mean()
''',
        # cheat: the right number computed in NumPy and handed back as a fresh tensor (no gradient)
        '''
import numpy as _np

def smoothed_loss_other_classes(logits, targets, eps):
    z = logits.detach().cpu().numpy().astype("float64")
    t = targets.cpu().numpy()
    k = z.shape[1]
    logp = z - z.max(1, keepdims=True) - _np.log(_np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True))
    soft = _np.full(z.shape, eps / (k - 1))
    soft[_np.arange(len(t)), t] = 1 - eps
    return torch.tensor(-(soft * logp).sum(1).mean(), dtype=logits.dtype)
''',
    ],
}

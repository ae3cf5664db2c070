"""Plausible wrong solutions for the exercises of chapter 02; each must fail its test cell."""

_DIAGNOSE_CHECK_INIT = '''
def diagnose(build, xb, yb):
    model = build()
    with torch.no_grad():
        logits = model(xb)
    if abs(F.cross_entropy(logits, yb).item() - math.log(logits.shape[1])) > 0.1:
        return "loss at init"
'''

WRONG_ANSWERS = {
    "ch02-ex1-solution": [
        # the chapter's unweighted formula: ignores the class weights altogether
        '''
def weighted_cross_entropy_grad(logits, targets, weight):
    p = torch.softmax(logits, dim=1)
    return (p - F.one_hot(targets, num_classes=logits.shape[1]).to(p.dtype)) / logits.shape[0]
''',
        # weights each row by its gold class, but divides by N instead of the total weight
        '''
def weighted_cross_entropy_grad(logits, targets, weight):
    p = torch.softmax(logits, dim=1)
    onehot = F.one_hot(targets, num_classes=logits.shape[1]).to(p.dtype)
    return weight[targets][:, None] * (p - onehot) / logits.shape[0]
''',
        # weights each column by its class instead of each row by its gold class
        '''
def weighted_cross_entropy_grad(logits, targets, weight):
    p = torch.softmax(logits, dim=1)
    onehot = F.one_hot(targets, num_classes=logits.shape[1]).to(p.dtype)
    return weight[None, :] * (p - onehot) / weight[targets].sum()
''',
        # sign flipped: what it should be minus what it is
        '''
def weighted_cross_entropy_grad(logits, targets, weight):
    p = torch.softmax(logits, dim=1)
    onehot = F.one_hot(targets, num_classes=logits.shape[1]).to(p.dtype)
    w = weight[targets]
    return w[:, None] * (onehot - p) / w.sum()
''',
        # the naive softmax: overflows for large logits
        '''
def weighted_cross_entropy_grad(logits, targets, weight):
    e = logits.exp()
    p = e / e.sum(dim=1, keepdim=True)
    onehot = F.one_hot(targets, num_classes=logits.shape[1]).to(p.dtype)
    w = weight[targets]
    return w[:, None] * (p - onehot) / w.sum()
''',
        # the cheat: leaves inference mode and asks autograd (refused by forbid_calls)
        '''
def weighted_cross_entropy_grad(logits, targets, weight):
    with torch.inference_mode(False), torch.enable_grad():
        z = logits.detach().clone().requires_grad_(True)
        F.cross_entropy(z, targets, weight=weight.detach().clone()).backward()
    return z.grad.detach()
''',
        # the cheat that games the visible tests: zeros have the logits' shape and rows that sum to zero
        '''
def weighted_cross_entropy_grad(logits, targets, weight):
    return torch.zeros_like(logits)
''',
        # the same cheat through torch.func (it calls torch.autograd.grad underneath)
        '''
def weighted_cross_entropy_grad(logits, targets, weight):
    with torch.inference_mode(False), torch.enable_grad():
        z, w = logits.detach().clone(), weight.detach().clone()
        return torch.func.grad(lambda v: F.cross_entropy(v, targets, weight=w))(z)
''',
    ],
    "ch02-ex2-solution": [
        # forward difference: error of order eps, not eps^2
        '''
def numerical_gradient(f, x, eps=1e-6):
    x = x.detach().clone()
    grad = torch.zeros_like(x)
    flat, grad_flat = x.view(-1), grad.view(-1)
    f0 = float(f(x))
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        grad_flat[i] = (float(f(x)) - f0) / eps
        flat[i] = old
    return grad
''',
        # divides by eps instead of 2 * eps
        '''
def numerical_gradient(f, x, eps=1e-6):
    x = x.detach().clone()
    grad = torch.zeros_like(x)
    flat, grad_flat = x.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        f_plus = float(f(x))
        flat[i] = old - eps
        f_minus = float(f(x))
        flat[i] = old
        grad_flat[i] = (f_plus - f_minus) / eps
    return grad
''',
        # perturbs the caller's x in place and forgets to put it back
        '''
def numerical_gradient(f, x, eps=1e-6):
    grad = torch.zeros_like(x)
    flat, grad_flat = x.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        f_plus = float(f(x))
        flat[i] = old - eps
        f_minus = float(f(x))
        grad_flat[i] = (f_plus - f_minus) / (2 * eps)
    return grad
''',
        # moves every coordinate at once: a directional derivative copied everywhere
        '''
def numerical_gradient(f, x, eps=1e-6):
    x = x.detach().clone()
    slope = (float(f(x + eps)) - float(f(x - eps))) / (2 * eps)
    return torch.full_like(x, slope)
''',
        # uses autograd instead of differences (fails for functions autograd cannot see)
        '''
def numerical_gradient(f, x, eps=1e-6):
    x = x.detach().clone().requires_grad_(True)
    f(x).backward()
    return x.grad
''',
    ],
    "ch02-ex3-solution": [
        # the chapter's check copied with ln 10 typed in: wrong for any other number of classes
        '''
def diagnose(build, xb, yb):
    model = build()
    with torch.no_grad():
        if abs(F.cross_entropy(model(xb), yb).item() - math.log(10)) > 0.1:
            return "loss at init"
    model = build()
    training.fit(model, (xb, yb), num_epochs=150, batch_size=len(xb), seed=0, verbose=False,
                 optimizer=torch.optim.Adam(model.parameters(), lr=1e-2), restore_on_divergence=False)
    with torch.no_grad():
        return "cannot overfit" if F.cross_entropy(model(xb), yb).item() > 0.05 else "ok"
''',
        # only the first check: a model that cannot learn passes
        _DIAGNOSE_CHECK_INIT + '''
    return "ok"
''',
        # only the second check: a confidently wrong start still overfits in the end
        '''
def diagnose(build, xb, yb):
    model = build()
    training.fit(model, (xb, yb), num_epochs=150, batch_size=len(xb), seed=0, verbose=False,
                 optimizer=torch.optim.Adam(model.parameters(), lr=1e-2), restore_on_divergence=False)
    with torch.no_grad():
        return "cannot overfit" if F.cross_entropy(model(xb), yb).item() > 0.05 else "ok"
''',
        # too small a training budget: plain SGD for 30 steps cannot overfit even a correct model
        _DIAGNOSE_CHECK_INIT + '''
    model = build()
    training.fit(model, (xb, yb), num_epochs=30, batch_size=len(xb), seed=0, verbose=False,
                 optimizer=torch.optim.SGD(model.parameters(), lr=1e-2))
    with torch.no_grad():
        return "cannot overfit" if F.cross_entropy(model(xb), yb).item() > 0.05 else "ok"
''',
        # the cheat that games the visible test: the verdict it expects, whatever the model
        '''
def diagnose(build, xb, yb):
    return "loss at init"
''',
        # the cheat: reads the model instead of running it (a softmax layer, large parameters)
        '''
def diagnose(build, xb, yb):
    model = build()
    if any(isinstance(layer, nn.Softmax) for layer in model.modules()):
        return "cannot overfit"
    if any(p.abs().max().item() > 3 for p in model.parameters()):
        return "loss at init"
    return "ok"
''',
    ],
}


# Wrong answers that game the kernel's own asserts; only the grader's verdict on the record rejects them.
GAMING_ANSWERS = {
    "ch02-ex3-solution": [
        # a str that equals every verdict: the in-kernel asserts agree, the record holds "ok"
        '''
class _Agreeable(str):
    def __eq__(self, other):
        return True
    __hash__ = str.__hash__


def diagnose(build, xb, yb):
    return _Agreeable("ok")
''',
    ],
}

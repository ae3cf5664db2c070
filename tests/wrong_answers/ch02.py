"""Plausible wrong solutions for the exercises of chapter 02; each must fail its test cell."""

_ROLES_TEMPLATE = '''
ROLE_NAMES = ("parameter", "learning process", "algorithm", "architecture")
roles = {
    "weight matrix of a hidden layer": "parameter",
    "bias vector of the output layer": "parameter",
    "learning rate": "learning process",
    "batch size": "learning process",
    "number of epochs": "learning process",
    "L2 regularization strength": "learning process",
    "dropout rate": "learning process",
    "loss function": "algorithm",
    "optimizer": "algorithm",
    "activation function": "algorithm",
    "number of hidden layers": "architecture",
    "units per hidden layer": "architecture",
    "convolution stride": "architecture",
    "pooling size": "architecture",
}
'''

WRONG_ANSWERS = {
    "ch02-ex1-solution": [
        # forgot to divide by the batch size (the gradient of the *sum*, not the mean)
        '''
def softmax_cross_entropy_grad(logits, targets):
    p = torch.softmax(logits, dim=1)
    return p - F.one_hot(targets, num_classes=logits.shape[1]).to(p.dtype)
''',
        # sign flipped: what it should be minus what it is
        '''
def softmax_cross_entropy_grad(logits, targets):
    p = torch.softmax(logits, dim=1)
    return (F.one_hot(targets, num_classes=logits.shape[1]).to(p.dtype) - p) / logits.shape[0]
''',
        # softmax over the wrong axis (over the batch instead of the classes)
        '''
def softmax_cross_entropy_grad(logits, targets):
    p = torch.softmax(logits, dim=0)
    return (p - F.one_hot(targets, num_classes=logits.shape[1]).to(p.dtype)) / logits.shape[0]
''',
        # the naive softmax: overflows for large logits
        '''
def softmax_cross_entropy_grad(logits, targets):
    e = logits.exp()
    p = e / e.sum(dim=1, keepdim=True)
    return (p - F.one_hot(targets, num_classes=logits.shape[1]).to(p.dtype)) / logits.shape[0]
''',
        # log-probabilities instead of probabilities
        '''
def softmax_cross_entropy_grad(logits, targets):
    p = torch.log_softmax(logits, dim=1)
    return (p - F.one_hot(targets, num_classes=logits.shape[1]).to(p.dtype)) / logits.shape[0]
''',
        # cheating with autograd (not available inside torch.inference_mode)
        '''
def softmax_cross_entropy_grad(logits, targets):
    z = logits.detach().clone().requires_grad_(True)
    F.cross_entropy(z, targets).backward()
    return z.grad
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
        # dropout taken for part of the architecture
        _ROLES_TEMPLATE.replace('"dropout rate": "learning process"', '"dropout rate": "architecture"'),
        # the bias taken for a setting rather than a learned parameter
        _ROLES_TEMPLATE.replace('"bias vector of the output layer": "parameter"',
                                '"bias vector of the output layer": "learning process"'),
        # the optimizer put with the learning process
        _ROLES_TEMPLATE.replace('"optimizer": "algorithm"', '"optimizer": "learning process"'),
        # the number of epochs taken for architecture
        _ROLES_TEMPLATE.replace('"number of epochs": "learning process"', '"number of epochs": "architecture"'),
    ],
}

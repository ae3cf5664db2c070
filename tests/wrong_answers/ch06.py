"""Plausible wrong solutions for the exercises of chapter 06; each must fail its test cell."""

WRONG_ANSWERS = {
    "ch06-ex1-solution": [
        # no inverted scaling: the mean shrinks by (1 - p)
        '''
def inverted_dropout(x, p, training=True):
    if not training or p == 0:
        return x
    return x * (torch.rand_like(x) >= p).to(x.dtype)
''',
        # scales by (1 - p) instead of dividing by it (the weight-scaling rule applied at training time)
        '''
def inverted_dropout(x, p, training=True):
    if not training or p == 0:
        return x
    return x * (torch.rand_like(x) >= p).to(x.dtype) * (1 - p)
''',
        # keeps with probability p instead of dropping with probability p
        '''
def inverted_dropout(x, p, training=True):
    if not training or p == 0:
        return x
    return x * (torch.rand_like(x) < p).to(x.dtype) / (1 - p)
''',
        # still drops in evaluation mode
        '''
def inverted_dropout(x, p, training=True):
    if p == 0:
        return x
    return x * (torch.rand_like(x) >= p).to(x.dtype) / (1 - p)
''',
        # one mask per row shared by all its entries
        '''
def inverted_dropout(x, p, training=True):
    if not training or p == 0:
        return x
    keep = (torch.rand(x.shape[0], *([1] * (x.ndim - 1))) >= p).to(x.dtype)
    return x * keep / (1 - p)
''',
    ],
    "ch06-ex2-solution": [
        # the unbiased variance (what the running average stores, not what normalizes)
        '''
def batch_norm_train(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=0)
    var = x.var(dim=0, unbiased=True)
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta
''',
        # statistics over the features of each example instead of over the batch (layer norm)
        '''
def batch_norm_train(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=1, keepdim=True)
    var = x.var(dim=1, unbiased=False, keepdim=True)
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta
''',
        # eps outside the square root
        '''
def batch_norm_train(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=0)
    var = x.var(dim=0, unbiased=False)
    return gamma * (x - mean) / (torch.sqrt(var) + eps) + beta
''',
        # forgets gamma and beta
        '''
def batch_norm_train(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=0)
    var = x.var(dim=0, unbiased=False)
    return (x - mean) / torch.sqrt(var + eps)
''',
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
    ],
}

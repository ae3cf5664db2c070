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
        # cheat: PyTorch's dropout, which the exercise forbids
        '''
def inverted_dropout(x, p, training=True):
    return F.dropout(x, p, training)
''',
        # cheat: nn.Dropout under another name
        '''
from torch.nn import Dropout as RandomMask

def inverted_dropout(x, p, training=True):
    mask = RandomMask(p)
    mask.train(training)
    return mask(x)
''',
        # cheat: the dispatcher's operator called directly
        '''
def inverted_dropout(x, p, training=True):
    if not training or p == 0:
        return x
    return torch.ops.aten.native_dropout(x, p, True)[0]
''',
        # cheat: channel dropout with one entry per channel is elementwise dropout
        '''
def inverted_dropout(x, p, training=True):
    return F.dropout1d(x.reshape(1, -1, 1), p, training).reshape(x.shape)
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
        # cheat: PyTorch's batch norm, which the exercise forbids
        '''
def batch_norm_train(x, gamma, beta, eps=1e-5):
    return F.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)
''',
        # cheat: the same operator under another name, torch.batch_norm
        '''
def batch_norm_train(x, gamma, beta, eps=1e-5):
    return torch.batch_norm(x, gamma, beta, None, None, True, 0.1, eps, False)
''',
        # cheat: nn.BatchNorm1d with the given scale and shift
        '''
def batch_norm_train(x, gamma, beta, eps=1e-5):
    layer = nn.BatchNorm1d(x.shape[1], eps=eps, track_running_stats=False).to(x.dtype)
    with torch.no_grad():
        layer.weight.copy_(gamma)
        layer.bias.copy_(beta)
        return layer(x)
''',
        # cheat: layer norm of the transpose normalizes each column over the batch
        '''
def batch_norm_train(x, gamma, beta, eps=1e-5):
    return gamma * F.layer_norm(x.T, (x.shape[0],), eps=eps).T + beta
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

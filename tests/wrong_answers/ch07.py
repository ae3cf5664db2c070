"""Plausible wrong solutions for the exercises of chapter 07; each must fail its test cell."""

WRONG_ANSWERS = {
    "ch07-ex1-solution": [
        # erases in place: the caller's batch changes too
        '''
def cutout_square(x, top, left, size):
    for i in range(len(x)):
        t, l = int(top[i]), int(left[i])
        x[i, :, t:t + size, l:l + size] = 0
    return x
''',
        # off by one: the square is (size + 1) x (size + 1)
        '''
def cutout_square(x, top, left, size):
    n, _, h, w = x.shape
    rows = torch.arange(h).view(1, h, 1)
    cols = torch.arange(w).view(1, 1, w)
    top, left = top.view(n, 1, 1), left.view(n, 1, 1)
    inside = (rows >= top) & (rows <= top + size) & (cols >= left) & (cols <= left + size)
    return x.masked_fill(inside[:, None], 0)
''',
        # rows and columns swapped
        '''
def cutout_square(x, top, left, size):
    out = x.clone()
    for i in range(len(x)):
        t, l = int(top[i]), int(left[i])
        out[i, :, l:l + size, t:t + size] = 0
    return out
''',
    ],
    "ch07-ex2-solution": [
        # the labels are mixed with the weights the wrong way round
        '''
def mixup_batch(x, y, num_classes, lam, partner):
    w = lam.to(x.dtype).view(-1, *([1] * (x.ndim - 1)))
    onehot = F.one_hot(y, num_classes).to(x.dtype)
    wl = lam.to(x.dtype).view(-1, 1)
    return w * x + (1 - w) * x[partner], (1 - wl) * onehot + wl * onehot[partner]
''',
        # one scalar weight (the batch mean) for every image
        '''
def mixup_batch(x, y, num_classes, lam, partner):
    w = lam.to(x.dtype).mean()
    onehot = F.one_hot(y, num_classes).to(x.dtype)
    return w * x + (1 - w) * x[partner], w * onehot + (1 - w) * onehot[partner]
''',
        # forgets the partner's label: targets do not sum to one
        '''
def mixup_batch(x, y, num_classes, lam, partner):
    w = lam.to(x.dtype).view(-1, *([1] * (x.ndim - 1)))
    onehot = F.one_hot(y, num_classes).to(x.dtype)
    return w * x + (1 - w) * x[partner], lam.to(x.dtype).view(-1, 1) * onehot
''',
    ],
    "ch07-ex3-solution": [
        # the other convention (and the library's): eps spread over all K classes
        '''
def smooth_labels(y, num_classes, eps):
    return losses.smooth_targets(y, num_classes, eps)
''',
        '''
def smooth_labels(y, num_classes, eps):
    return (1 - eps) * F.one_hot(y, num_classes).float() + eps / num_classes
''',
        # true class keeps 1 and the rows no longer sum to one
        '''
def smooth_labels(y, num_classes, eps):
    t = torch.full((len(y), num_classes), eps / (num_classes - 1))
    t[torch.arange(len(y)), y] = 1.0
    return t
''',
    ],
}

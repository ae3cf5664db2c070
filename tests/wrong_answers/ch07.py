"""Plausible wrong solutions for the exercises of chapter 07; each must fail its test cell."""

WRONG_ANSWERS = {
    "ch07-ex1-solution": [
        # torch.roll wraps the pixels around instead of filling with zeros
        '''
def shift_images(x, dy, dx):
    return torch.stack([torch.roll(x[i], (int(dy[i]), int(dx[i])), dims=(1, 2)) for i in range(len(x))])
''',
        # the sign the other way round: the image moves up when dy is positive
        '''
def shift_images(x, dy, dx):
    n, _, h, w = x.shape
    rows = torch.arange(h).view(1, h, 1) + dy.view(n, 1, 1)
    cols = torch.arange(w).view(1, 1, w) + dx.view(n, 1, 1)
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    picked = x[torch.arange(n).view(n, 1, 1), :, rows.clamp(0, h - 1), cols.clamp(0, w - 1)].permute(0, 3, 1, 2)
    return torch.where(inside[:, None], picked, torch.zeros((), dtype=x.dtype))
''',
        # rows and columns swapped
        '''
def shift_images(x, dy, dx):
    n, _, h, w = x.shape
    out = torch.zeros_like(x)
    for i in range(n):
        a, b = int(dx[i]), int(dy[i])
        src = x[i, :, max(0, -a):h - max(0, a), max(0, -b):w - max(0, b)]
        if src.numel():
            out[i, :, max(0, a):max(0, a) + src.shape[1], max(0, b):max(0, b) + src.shape[2]] = src
    return out
''',
        # offsets clamped to the image instead of emptying it: a shift beyond the image keeps one edge row
        '''
def shift_images(x, dy, dx):
    n, _, h, w = x.shape
    dy, dx = dy.clamp(-h + 1, h - 1), dx.clamp(-w + 1, w - 1)
    out = torch.zeros_like(x)
    for i in range(n):
        a, b = int(dy[i]), int(dx[i])
        out[i, :, max(0, a):h + min(0, a), max(0, b):w + min(0, b)] = x[i, :, max(0, -a):h - max(0, a), max(0, -b):w - max(0, b)]
    return out
''',
        # shifts in place: the caller's batch changes too
        '''
def shift_images(x, dy, dx):
    n, _, h, w = x.shape
    result = torch.zeros_like(x)
    for i in range(n):
        a, b = int(dy[i]), int(dx[i])
        if abs(a) < h and abs(b) < w:
            result[i, :, max(0, a):h + min(0, a), max(0, b):w + min(0, b)] = x[i, :, max(0, -a):h - max(0, a), max(0, -b):w - max(0, b)]
    with torch.no_grad():
        x.copy_(result)
    return x
''',
        # through NumPy: right values, but no gradient reaches x
        '''
def shift_images(x, dy, dx):
    import numpy as np
    a = x.detach().numpy()
    n, _, h, w = a.shape
    out = np.zeros_like(a)
    for i in range(n):
        p, q = int(dy[i]), int(dx[i])
        if abs(p) < h and abs(q) < w:
            out[i, :, max(0, p):h + min(0, p), max(0, q):w + min(0, q)] = a[i, :, max(0, -p):h - max(0, p), max(0, -q):w - max(0, q)]
    return torch.from_numpy(out)
''',
        # cheat: interpolation under another name (an affine grid that translates by whole pixels)
        '''
def shift_images(x, dy, dx):
    n, _, h, w = x.shape
    sample = getattr(torch.nn.functional, "grid" + "_sample")
    theta = torch.zeros(n, 2, 3, dtype=x.dtype)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    theta[:, 0, 2] = -2 * dx.to(x.dtype) / w
    theta[:, 1, 2] = -2 * dy.to(x.dtype) / h
    grid = torch.nn.functional.affine_grid(theta, list(x.shape), align_corners=False)
    return sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)
''',
    ],
    "ch07-ex2-solution": [
        # the weights on the wrong labels: lam goes to the partner's label
        '''
def mixup_cross_entropy(logits, y, partner, lam):
    log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    own = log_p.gather(1, y[:, None])[:, 0]
    other = log_p.gather(1, y[partner][:, None])[:, 0]
    return -((1 - lam) * own + lam * other).mean()
''',
        # log of the softmax: -inf (and an infinite loss) once the logits are in the hundreds
        '''
def mixup_cross_entropy(logits, y, partner, lam):
    p = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
    rows = torch.arange(len(y))
    return -(lam * torch.log(p[rows, y]) + (1 - lam) * torch.log(p[rows, y[partner]])).mean()
''',
        # the partner's logits mixed in as well (mixing the predictions, not only the targets)
        '''
def mixup_cross_entropy(logits, y, partner, lam):
    log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    rows = torch.arange(len(y))
    return -(lam * log_p[rows, y] + (1 - lam) * log_p[partner, y[partner]]).mean()
''',
        # the sum over the batch instead of the mean
        '''
def mixup_cross_entropy(logits, y, partner, lam):
    log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    rows = torch.arange(len(y))
    return -(lam * log_p[rows, y] + (1 - lam) * log_p[rows, y[partner]]).sum()
''',
        # one weight for the whole batch (the mean of lam)
        '''
def mixup_cross_entropy(logits, y, partner, lam):
    log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    rows = torch.arange(len(y))
    w = lam.mean()
    return -(w * log_p[rows, y] + (1 - w) * log_p[rows, y[partner]]).mean()
''',
        # the normaliser detached: right value, wrong gradient
        '''
def mixup_cross_entropy(logits, y, partner, lam):
    log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True).detach()
    rows = torch.arange(len(y))
    return -(lam * log_p[rows, y] + (1 - lam) * log_p[rows, y[partner]]).mean()
''',
        # cheat: PyTorch's cross-entropy with soft targets, reached under another name
        '''
def mixup_cross_entropy(logits, y, partner, lam):
    ce = getattr(torch.nn.functional, "cross" + "_entropy")
    k = logits.shape[1]
    eye = torch.eye(k, dtype=logits.dtype)
    target = lam[:, None].to(logits.dtype) * eye[y] + (1 - lam[:, None].to(logits.dtype)) * eye[y[partner]]
    return ce(logits, target)
''',
        # cheat: the library's soft cross-entropy under an alias
        '''
def mixup_cross_entropy(logits, y, partner, lam):
    from nnpractice import losses as _l
    soft = _l.soft_cross_entropy
    eye = torch.eye(logits.shape[1], dtype=logits.dtype)
    w = lam[:, None].to(logits.dtype)
    return soft(logits, w * eye[y] + (1 - w) * eye[y[partner]])
''',
        # cheat: the visible test's answer (ln(1 + e^-2)) for every input, kept differentiable
        '''
def mixup_cross_entropy(logits, y, partner, lam):
    return torch.log1p(torch.exp(torch.tensor(-2.0, dtype=logits.dtype))) + 0 * logits.sum()
''',
    ],
    "ch07-ex3-solution": [
        # decided on the clean validation set, not on the field camera's
        '''
mean_field_accuracy = {}
for p in [0, 1, 2, 4]:
    accuracies = []
    for seed in exercise_seeds:
        torch.manual_seed(seed)
        net = models.mlp(784, [128], 10)
        shift = augment.Compose(partial(augment.random_crop, padding=p), seed=seed)
        batches = augment.AugmentedBatches(X_train, y_train, transform=shift, batch_size=50, seed=seed)
        training.fit(net, batches, num_epochs=6, lr=3e-3, seed=seed, verbose=False)
        accuracies.append(training.evaluate(net, val_sets["val"])["accuracy"])
    mean_field_accuracy[p] = statistics.fmean(accuracies)
best_padding = max(mean_field_accuracy, key=mean_field_accuracy.get)
padding_gain = mean_field_accuracy[best_padding] - mean_field_accuracy[0]
''',
        # one seed only
        '''
mean_field_accuracy = {}
for p in [0, 1, 2, 4]:
    seed = exercise_seeds[0]
    torch.manual_seed(seed)
    net = models.mlp(784, [128], 10)
    shift = augment.Compose(partial(augment.random_crop, padding=p), seed=seed)
    batches = augment.AugmentedBatches(X_train, y_train, transform=shift, batch_size=50, seed=seed)
    training.fit(net, batches, num_epochs=6, lr=3e-3, seed=seed, verbose=False)
    mean_field_accuracy[p] = training.evaluate(net, val_sets["val_field"])["accuracy"]
best_padding = max(mean_field_accuracy, key=mean_field_accuracy.get)
padding_gain = mean_field_accuracy[best_padding] - mean_field_accuracy[0]
''',
        # chosen on the field *test* set: the test split decides
        '''
mean_field_accuracy = {}
for p in [0, 1, 2, 4]:
    accuracies = []
    for seed in exercise_seeds:
        torch.manual_seed(seed)
        net = models.mlp(784, [128], 10)
        shift = augment.Compose(partial(augment.random_crop, padding=p), seed=seed)
        batches = augment.AugmentedBatches(X_train, y_train, transform=shift, batch_size=50, seed=seed)
        training.fit(net, batches, num_epochs=6, lr=3e-3, seed=seed, verbose=False)
        accuracies.append(training.evaluate(net, test_sets["test_field"])["accuracy"])
    mean_field_accuracy[p] = statistics.fmean(accuracies)
best_padding = max(mean_field_accuracy, key=mean_field_accuracy.get)
padding_gain = mean_field_accuracy[best_padding] - mean_field_accuracy[0]
''',
        # the protocol's budget ignored: fit's default of 10 epochs instead of 6
        '''
mean_field_accuracy = {}
for p in [0, 1, 2, 4]:
    accuracies = []
    for seed in exercise_seeds:
        torch.manual_seed(seed)
        net = models.mlp(784, [128], 10)
        shift = augment.Compose(partial(augment.random_crop, padding=p), seed=seed)
        batches = augment.AugmentedBatches(X_train, y_train, transform=shift, batch_size=50, seed=seed)
        training.fit(net, batches, lr=3e-3, seed=seed, verbose=False)
        accuracies.append(training.evaluate(net, val_sets["val_field"])["accuracy"])
    mean_field_accuracy[p] = statistics.fmean(accuracies)
best_padding = max(mean_field_accuracy, key=mean_field_accuracy.get)
padding_gain = mean_field_accuracy[best_padding] - mean_field_accuracy[0]
''',
        # cheat: the answer typed in from the chapter's story ("about 3 pixels", "a good gain")
        '''
best_padding = 2
padding_gain = 0.1
''',
    ],
}

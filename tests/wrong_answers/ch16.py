"""Plausible wrong solutions for the exercises of chapter 16; each must fail its test cell."""

WRONG_ANSWERS = {
    "ch16-ex1-solution": [
        # averages the logits, then one softmax
        'def tta_proba(model, X, shifts=()):\n'
        '    model.eval()\n'
        '    views = [X, X.flip(-1)] + [torch.roll(X, shifts=(dy, dx), dims=(-2, -1)) for dy, dx in shifts]\n'
        '    with torch.no_grad():\n'
        '        return F.softmax(torch.stack([model(v) for v in views]).mean(dim=0), dim=1)\n',
        # forgets the mirrored view
        'def tta_proba(model, X, shifts=()):\n'
        '    model.eval()\n'
        '    views = [X] + [torch.roll(X, shifts=(dy, dx), dims=(-2, -1)) for dy, dx in shifts]\n'
        '    with torch.no_grad():\n'
        '        return torch.stack([F.softmax(model(v), dim=1) for v in views]).mean(dim=0)\n',
        # mirrors top-bottom instead of left-right
        'def tta_proba(model, X, shifts=()):\n'
        '    model.eval()\n'
        '    views = [X, X.flip(-2)] + [torch.roll(X, shifts=(dy, dx), dims=(-2, -1)) for dy, dx in shifts]\n'
        '    with torch.no_grad():\n'
        '        return torch.stack([F.softmax(model(v), dim=1) for v in views]).mean(dim=0)\n',
        # sums the views instead of averaging
        'def tta_proba(model, X, shifts=()):\n'
        '    model.eval()\n'
        '    views = [X, X.flip(-1)] + [torch.roll(X, shifts=(dy, dx), dims=(-2, -1)) for dy, dx in shifts]\n'
        '    with torch.no_grad():\n'
        '        return torch.stack([F.softmax(model(v), dim=1) for v in views]).sum(dim=0)\n',
        # ignores the shifts
        'def tta_proba(model, X, shifts=()):\n'
        '    model.eval()\n'
        '    with torch.no_grad():\n'
        '        return (F.softmax(model(X), dim=1) + F.softmax(model(X.flip(-1)), dim=1)) / 2\n',
        # weights the mirror like all shifts together (average of two averages)
        'def tta_proba(model, X, shifts=()):\n'
        '    model.eval()\n'
        '    with torch.no_grad():\n'
        '        a = F.softmax(model(X), dim=1)\n'
        '        b = F.softmax(model(X.flip(-1)), dim=1)\n'
        '        if shifts:\n'
        '            a = torch.stack([a] + [F.softmax(model(torch.roll(X, s, dims=(-2, -1))), dim=1) for s in shifts]).mean(0)\n'
        '        return (a + b) / 2\n',
        # softmax over the batch axis
        'def tta_proba(model, X, shifts=()):\n'
        '    model.eval()\n'
        '    views = [X, X.flip(-1)] + [torch.roll(X, shifts=(dy, dx), dims=(-2, -1)) for dy, dx in shifts]\n'
        '    with torch.no_grad():\n'
        '        return torch.stack([F.softmax(model(v), dim=0) for v in views]).mean(dim=0)\n',
        # leaves the model in training mode
        'def tta_proba(model, X, shifts=()):\n'
        '    views = [X, X.flip(-1)] + [torch.roll(X, shifts=(dy, dx), dims=(-2, -1)) for dy, dx in shifts]\n'
        '    with torch.no_grad():\n'
        '        return torch.stack([F.softmax(model(v), dim=1) for v in views]).mean(dim=0)\n',
    ],
    "ch16-ex2-solution": [
        # never checks for non-finite losses (NaN comparisons are all False)
        'def next_step(train_losses, val_losses):\n'
        '    if train_losses[-1] > train_losses[0]:\n'
        '        return "lower_lr"\n'
        '    if val_losses[-1] > 1.05 * min(val_losses):\n'
        '        return "regularize"\n'
        '    if val_losses[-1] <= min(val_losses[:-1]):\n'
        '        return "train_longer"\n'
        '    return "anneal"\n',
        # checks overfitting before divergence
        'import math\n'
        'def next_step(train_losses, val_losses):\n'
        '    if val_losses[-1] > 1.05 * min(val_losses):\n'
        '        return "regularize"\n'
        '    if not all(math.isfinite(v) for v in list(train_losses) + list(val_losses)):\n'
        '        return "lower_lr"\n'
        '    if train_losses[-1] > train_losses[0]:\n'
        '        return "lower_lr"\n'
        '    if val_losses[-1] <= min(val_losses[:-1]):\n'
        '        return "train_longer"\n'
        '    return "anneal"\n',
        # >= at the 5% boundary
        'import math\n'
        'def next_step(train_losses, val_losses):\n'
        '    if not all(math.isfinite(v) for v in list(train_losses) + list(val_losses)):\n'
        '        return "lower_lr"\n'
        '    if train_losses[-1] > train_losses[0]:\n'
        '        return "lower_lr"\n'
        '    if val_losses[-1] >= 1.05 * min(val_losses):\n'
        '        return "regularize"\n'
        '    if val_losses[-1] <= min(val_losses[:-1]):\n'
        '        return "train_longer"\n'
        '    return "anneal"\n',
        # reads "still improving" from the training curve
        'import math\n'
        'def next_step(train_losses, val_losses):\n'
        '    if not all(math.isfinite(v) for v in list(train_losses) + list(val_losses)):\n'
        '        return "lower_lr"\n'
        '    if train_losses[-1] > train_losses[0]:\n'
        '        return "lower_lr"\n'
        '    if val_losses[-1] > 1.05 * min(val_losses):\n'
        '        return "regularize"\n'
        '    if train_losses[-1] <= min(train_losses[:-1]):\n'
        '        return "train_longer"\n'
        '    return "anneal"\n',
        # a tie with the best is read as a plateau (strict <)
        'import math\n'
        'def next_step(train_losses, val_losses):\n'
        '    if not all(math.isfinite(v) for v in list(train_losses) + list(val_losses)):\n'
        '        return "lower_lr"\n'
        '    if train_losses[-1] > train_losses[0]:\n'
        '        return "lower_lr"\n'
        '    if val_losses[-1] > 1.05 * min(val_losses):\n'
        '        return "regularize"\n'
        '    if val_losses[-1] < min(val_losses[:-1]):\n'
        '        return "train_longer"\n'
        '    return "anneal"\n',
        # compares the last validation loss with the first only
        'import math\n'
        'def next_step(train_losses, val_losses):\n'
        '    if not all(math.isfinite(v) for v in list(train_losses) + list(val_losses)):\n'
        '        return "lower_lr"\n'
        '    if train_losses[-1] > train_losses[0]:\n'
        '        return "lower_lr"\n'
        '    if val_losses[-1] > 1.05 * val_losses[0]:\n'
        '        return "regularize"\n'
        '    if val_losses[-1] <= min(val_losses[:-1]):\n'
        '        return "train_longer"\n'
        '    return "anneal"\n',
    ],
}

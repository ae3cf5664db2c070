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
        # cheat: each view wrapped as a model, averaged by the library's ensemble function
        'from nnpractice import ensembles as _ens\n'
        'class _View(nn.Module):\n'
        '    def __init__(self, model, view):\n'
        '        super().__init__()\n'
        '        self.model, self.view = model, view\n'
        '    def forward(self, x):\n'
        '        return self.model(self.view(x))\n'
        'def tta_proba(model, X, shifts=()):\n'
        '    views = [lambda x: x, lambda x: x.flip(-1)] + [lambda x, s=s: torch.roll(x, shifts=s, dims=(-2, -1)) for s in shifts]\n'
        '    out = _ens.predict_proba([_View(model, v) for v in views], X)\n'
        '    model.eval()\n'
        '    return out\n',
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
        # cheat: answers the visible examples from a table, guesses otherwise
        'def next_step(train_losses, val_losses):\n'
        '    seen = {((1.0, 0.8, 0.6), (1.0, 0.9, 0.8)): "train_longer", ((1.0, 0.5, 0.2), (0.9, 0.7, 1.0)): "regularize"}\n'
        '    return seen.get((tuple(train_losses), tuple(val_losses)), "anneal")\n',
        # cheat that beat every in-kernel assert: a str that equals every str
        'class _AgreeableStr(str):\n'
        '    __hash__ = str.__hash__\n'
        '    def __eq__(self, other):\n'
        '        return True\n'
        '    def __ne__(self, other):\n'
        '        return False\n'
        'def next_step(train_losses, val_losses):\n'
        '    return _AgreeableStr("anneal")\n',
    ],
    "ch16-ex3-solution": [
        # torch.roll: the pixels that leave one side come back on the other (and roll is refused)
        """
def shift_images(X, max_shift, generator):
    dy, dx = torch.randint(-max_shift, max_shift + 1, (2, len(X)), generator=generator).tolist()
    return torch.stack([torch.roll(X[i], shifts=(dy[i], dx[i]), dims=(-2, -1)) for i in range(len(X))])
""",
        # one offset for the whole batch
        """
def shift_images(X, max_shift, generator):
    n, _, h, w = X.shape
    padded = F.pad(X, (max_shift,) * 4)
    dy, dx = torch.randint(-max_shift, max_shift + 1, (2,), generator=generator).tolist()
    return padded[:, :, max_shift - dy : max_shift - dy + h, max_shift - dx : max_shift - dx + w].clone()
""",
        # offsets only in 0..max_shift: the images only ever move down and right
        """
def shift_images(X, max_shift, generator):
    n, _, h, w = X.shape
    padded = F.pad(X, (max_shift,) * 4)
    dy, dx = torch.randint(0, max_shift + 1, (2, n), generator=generator).tolist()
    return torch.stack([padded[i, :, max_shift - dy[i] : max_shift - dy[i] + h, max_shift - dx[i] : max_shift - dx[i] + w] for i in range(n)])
""",
        # the border repeats the edge pixels instead of zeros
        """
def shift_images(X, max_shift, generator):
    n, _, h, w = X.shape
    if max_shift == 0:
        return X.clone()
    padded = F.pad(X, (max_shift,) * 4, mode="replicate")
    dy, dx = torch.randint(-max_shift, max_shift + 1, (2, n), generator=generator).tolist()
    return torch.stack([padded[i, :, max_shift - dy[i] : max_shift - dy[i] + h, max_shift - dx[i] : max_shift - dx[i] + w] for i in range(n)])
""",
        # the global random state instead of the generator
        """
def shift_images(X, max_shift, generator):
    n, _, h, w = X.shape
    padded = F.pad(X, (max_shift,) * 4)
    dy, dx = torch.randint(-max_shift, max_shift + 1, (2, n)).tolist()
    return torch.stack([padded[i, :, max_shift - dy[i] : max_shift - dy[i] + h, max_shift - dx[i] : max_shift - dx[i] + w] for i in range(n)])
""",
        # through NumPy: the values are right, the gradient is lost
        """
import numpy as np
def shift_images(X, max_shift, generator):
    n, _, h, w = X.shape
    A = np.pad(X.detach().numpy(), ((0, 0), (0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    dy, dx = torch.randint(-max_shift, max_shift + 1, (2, n), generator=generator).tolist()
    return torch.tensor(np.stack([A[i, :, max_shift - dy[i] : max_shift - dy[i] + h, max_shift - dx[i] : max_shift - dx[i] + w] for i in range(n)]))
""",
        # cheat: the library's random_crop under the exercise's name
        """
from nnpractice import augment as _aug
def shift_images(X, max_shift, generator):
    if max_shift == 0:
        return X.clone()
    return _aug.random_crop(X, padding=max_shift, generator=generator)
""",
    ],
    "ch16-ex4-solution": [
        # cheat: chooses on the test set
        """
SHIFTS = [(1, 0), (-1, 0), (0, 1), (0, -1)]
_Xt = Xn_test if current["standardize"] else X_test
def _acc(p):
    return (p.argmax(1) == y_test).float().mean().item()
tta_accuracy = {"plain": 0.0, "mirror": 0.0, "mirror+shifts": 0.0}
for m in final_models:
    m.eval()
    with torch.no_grad():
        tta_accuracy["plain"] += _acc(m(_Xt)) / 3
    tta_accuracy["mirror"] += _acc(tta_proba(m, _Xt)) / 3
    tta_accuracy["mirror+shifts"] += _acc(tta_proba(m, _Xt, SHIFTS)) / 3
tta_choice = max(tta_accuracy, key=tta_accuracy.get)
""",
        # the accuracy of the three models' ensemble, not the mean of their accuracies
        """
SHIFTS = [(1, 0), (-1, 0), (0, 1), (0, -1)]
def _ens(f):
    return (sum(f(m) for m in final_models).argmax(1) == y_val).float().mean().item()
for m in final_models:
    m.eval()
with torch.no_grad():
    tta_accuracy = {
        "plain": _ens(lambda m: F.softmax(m(X_val_final), dim=1)),
        "mirror": _ens(lambda m: tta_proba(m, X_val_final)),
        "mirror+shifts": _ens(lambda m: tta_proba(m, X_val_final, SHIFTS)),
    }
tta_choice = max(tta_accuracy, key=tta_accuracy.get)
""",
        # only the first model
        """
SHIFTS = [(1, 0), (-1, 0), (0, 1), (0, -1)]
m = final_models[0].eval()
with torch.no_grad():
    tta_accuracy = {
        "plain": (m(X_val_final).argmax(1) == y_val).float().mean().item(),
        "mirror": (tta_proba(m, X_val_final).argmax(1) == y_val).float().mean().item(),
        "mirror+shifts": (tta_proba(m, X_val_final, SHIFTS).argmax(1) == y_val).float().mean().item(),
    }
tta_choice = max(tta_accuracy, key=tta_accuracy.get)
""",
        # the shifts without the mirror
        """
SHIFTS = [(1, 0), (-1, 0), (0, 1), (0, -1)]
def _shifted_only(m, X):
    m.eval()
    with torch.no_grad():
        views = [X] + [torch.roll(X, shifts=s, dims=(-2, -1)) for s in SHIFTS]
        return sum(F.softmax(m(v), dim=1) for v in views) / len(views)
def _mean(f):
    return sum((f(m).argmax(1) == y_val).float().mean().item() for m in final_models) / 3
for m in final_models:
    m.eval()
with torch.no_grad():
    tta_accuracy = {"plain": _mean(lambda m: m(X_val_final)), "mirror": _mean(lambda m: tta_proba(m, X_val_final)),
                    "mirror+shifts": _mean(lambda m: _shifted_only(m, X_val_final))}
tta_choice = max(tta_accuracy, key=tta_accuracy.get)
""",
    ],
}

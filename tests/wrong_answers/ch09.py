"""Plausible wrong solutions for the exercises of chapter 09; each must fail its test cell."""

WRONG_ANSWERS = {
    "ch09-ex1-solution": [
        # forgets the jump: every layer adds k - 1 pixels, as if all strides were 1
        '''
def receptive_field(layers):
    size, jump = 1, 1
    for layer in layers:
        if isinstance(layer, (nn.ReLU, nn.BatchNorm2d, nn.Dropout)):
            continue
        if not isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            raise ValueError(f"layer={layer!r} is not allowed")
        k = layer.kernel_size if isinstance(layer.kernel_size, int) else layer.kernel_size[0]
        s = layer.stride if isinstance(layer.stride, int) else layer.stride[0]
        d = getattr(layer, "dilation", 1)
        d = d if isinstance(d, int) else d[0]
        size += d * (k - 1)
        jump *= s
    return size, jump
''',
        # updates the jump before the size (the layer's own stride widens its own field)
        '''
def receptive_field(layers):
    size, jump = 1, 1
    for layer in layers:
        if isinstance(layer, (nn.ReLU, nn.BatchNorm2d, nn.Dropout)):
            continue
        if not isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            raise ValueError(f"layer={layer!r} is not allowed")
        k = layer.kernel_size if isinstance(layer.kernel_size, int) else layer.kernel_size[0]
        s = layer.stride if isinstance(layer.stride, int) else layer.stride[0]
        d = getattr(layer, "dilation", 1)
        d = d if isinstance(d, int) else d[0]
        jump *= s
        size += d * (k - 1) * jump
    return size, jump
''',
        # ignores dilation
        '''
def receptive_field(layers):
    size, jump = 1, 1
    for layer in layers:
        if isinstance(layer, (nn.ReLU, nn.BatchNorm2d, nn.Dropout)):
            continue
        if not isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            raise ValueError(f"layer={layer!r} is not allowed")
        k = layer.kernel_size if isinstance(layer.kernel_size, int) else layer.kernel_size[0]
        s = layer.stride if isinstance(layer.stride, int) else layer.stride[0]
        size += (k - 1) * jump
        jump *= s
    return size, jump
''',
        # counts the convolutions only: pooling "has no weights", so it is skipped
        '''
def receptive_field(layers):
    size, jump = 1, 1
    for layer in layers:
        if isinstance(layer, (nn.ReLU, nn.BatchNorm2d, nn.Dropout, nn.MaxPool2d, nn.AvgPool2d)):
            continue
        if not isinstance(layer, nn.Conv2d):
            raise ValueError(f"layer={layer!r} is not allowed")
        k, s, d = layer.kernel_size[0], layer.stride[0], layer.dilation[0]
        size += d * (k - 1) * jump
        jump *= s
    return size, jump
''',
        # does not reject layers that see the whole input
        '''
def receptive_field(layers):
    size, jump = 1, 1
    for layer in layers:
        if not isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            continue
        k = layer.kernel_size if isinstance(layer.kernel_size, int) else layer.kernel_size[0]
        s = layer.stride if isinstance(layer.stride, int) else layer.stride[0]
        d = getattr(layer, "dilation", 1)
        d = d if isinstance(d, int) else d[0]
        size += d * (k - 1) * jump
        jump *= s
    return size, jump
''',
        # cheat: the chapter's measurement copied (it runs the network: convolutions and pooling)
        '''
def receptive_field(layers):
    layers = list(layers)
    for layer in layers:
        if not isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.ReLU, nn.BatchNorm2d, nn.Dropout)):
            raise ValueError(f"layer={layer!r} is not allowed")
    if not layers:
        return 1, 1
    return measured_field(layers, env.derive_seed(1), size=160, images=64)
''',
        # cheat: passes the visible test only (the answer for its one stack, (8, 2), for every stack)
        '''
def receptive_field(layers):
    for layer in layers:
        if not isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.ReLU, nn.BatchNorm2d, nn.Dropout)):
            raise ValueError(f"layer={layer!r} is not allowed")
    return 8, 2
''',
    ],
    "ch09-ex2-solution": [
        # calls PyTorch's convolution
        '''
def my_conv2d(x, weight, bias, stride=1):
    return F.conv2d(x, weight, bias, stride=stride)
''',
        # ignores the stride
        '''
def my_conv2d(x, weight, bias, stride=1):
    n, c_in, h, w = x.shape
    c_out, _, k, _ = weight.shape
    out = bias.view(1, c_out, 1, 1).expand(n, c_out, h - k + 1, w - k + 1).clone()
    for u in range(k):
        for v in range(k):
            out = out + torch.einsum("nchw,oc->nohw", x[:, :, u:u + h - k + 1, v:v + w - k + 1], weight[:, :, u, v])
    return out
''',
        # flips the kernel (a true convolution, not PyTorch's cross-correlation)
        '''
def my_conv2d(x, weight, bias, stride=1):
    weight = weight.flip(-1, -2)
    n, c_in, h, w = x.shape
    c_out, _, k, _ = weight.shape
    h_out, w_out = (h - k) // stride + 1, (w - k) // stride + 1
    out = bias.view(1, c_out, 1, 1).expand(n, c_out, h_out, w_out).clone()
    for u in range(k):
        for v in range(k):
            patch = x[:, :, u:u + stride * (h_out - 1) + 1:stride, v:v + stride * (w_out - 1) + 1:stride]
            out = out + torch.einsum("nchw,oc->nohw", patch, weight[:, :, u, v])
    return out
''',
        # forgets the bias
        '''
def my_conv2d(x, weight, bias, stride=1):
    n, c_in, h, w = x.shape
    c_out, _, k, _ = weight.shape
    h_out, w_out = (h - k) // stride + 1, (w - k) // stride + 1
    out = torch.zeros(n, c_out, h_out, w_out, dtype=x.dtype)
    for u in range(k):
        for v in range(k):
            patch = x[:, :, u:u + stride * (h_out - 1) + 1:stride, v:v + stride * (w_out - 1) + 1:stride]
            out = out + torch.einsum("nchw,oc->nohw", patch, weight[:, :, u, v])
    return out
''',
        # a NumPy round trip: the right numbers, but no gradient reaches x, weight or bias
        '''
def my_conv2d(x, weight, bias, stride=1):
    import numpy as np
    xs, ws, bs = x.detach().numpy(), weight.detach().numpy(), bias.detach().numpy()
    n, c_in, h, w = xs.shape
    c_out, _, k, _ = ws.shape
    h_out, w_out = (h - k) // stride + 1, (w - k) // stride + 1
    out = np.broadcast_to(bs.reshape(1, c_out, 1, 1), (n, c_out, h_out, w_out)).copy()
    for u in range(k):
        for v in range(k):
            patch = xs[:, :, u:u + stride * (h_out - 1) + 1:stride, v:v + stride * (w_out - 1) + 1:stride]
            out += np.einsum("nchw,oc->nohw", patch, ws[:, :, u, v])
    return torch.from_numpy(out)
''',
        # reshapes the caller's bias in place (unsqueeze_): the caller's tensor changes shape
        '''
def my_conv2d(x, weight, bias, stride=1):
    n, c_in, h, w = x.shape
    c_out, _, k, _ = weight.shape
    h_out, w_out = (h - k) // stride + 1, (w - k) // stride + 1
    out = bias.unsqueeze_(-1).unsqueeze_(-1).unsqueeze_(0).expand(n, c_out, h_out, w_out)
    for u in range(k):
        for v in range(k):
            patch = x[:, :, u:u + stride * (h_out - 1) + 1:stride, v:v + stride * (w_out - 1) + 1:stride]
            out = out + torch.einsum("nchw,oc->nohw", patch, weight[:, :, u, v])
    return out
''',
        # the gradient cut: the output built on detached inputs, re-attached to the bias only
        '''
def my_conv2d(x, weight, bias, stride=1):
    n, c_in, h, w = x.shape
    c_out, _, k, _ = weight.shape
    h_out, w_out = (h - k) // stride + 1, (w - k) // stride + 1
    xd, wd = x.detach(), weight.detach()
    out = bias.view(1, c_out, 1, 1).expand(n, c_out, h_out, w_out)
    for u in range(k):
        for v in range(k):
            patch = xd[:, :, u:u + stride * (h_out - 1) + 1:stride, v:v + stride * (w_out - 1) + 1:stride]
            out = out + torch.einsum("nchw,oc->nohw", patch, wd[:, :, u, v])
    return out
''',
        # cheat: F.conv2d bound to another name before the test runs (a default argument)
        '''
def my_conv2d(x, weight, bias, stride=1, _conv=F.conv2d):
    return _conv(x, weight, bias, stride=stride)
''',
        # cheat: PyTorch's convolution under its dispatcher name, torch.convolution
        '''
def my_conv2d(x, weight, bias, stride=1):
    return torch.convolution(x, weight, bias, (stride, stride), (0, 0), (1, 1), False, (0, 0), 1)
''',
        # cheat: the convolution reached through torch.ops.aten
        '''
def my_conv2d(x, weight, bias, stride=1):
    return torch.ops.aten.conv2d(x, weight, bias, [stride, stride])
''',
        # cheat: a lower-level entry point that skips aten::convolution
        '''
def my_conv2d(x, weight, bias, stride=1):
    return torch._C._nn.thnn_conv2d(x, weight, weight.shape[-1], bias, stride)
''',
        # cheat: the forward by hand, the gradient from PyTorch's convolution (a custom autograd Function)
        '''
class _Conv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride):
        ctx.save_for_backward(x, weight, bias)
        ctx.stride = stride
        n, c_in, h, w = x.shape
        c_out, _, k, _ = weight.shape
        h_out, w_out = (h - k) // stride + 1, (w - k) // stride + 1
        cols = x.unfold(2, k, stride).unfold(3, k, stride)             # [n, c, h_out, w_out, k, k]
        return torch.einsum("nchwuv,ocuv->nohw", cols, weight) + bias.view(1, -1, 1, 1)

    @staticmethod
    def backward(ctx, grad):
        x, weight, bias = ctx.saved_tensors
        with torch.enable_grad():
            xr, wr, br = (t.detach().requires_grad_(True) for t in (x, weight, bias))
            out = F.conv2d(xr, wr, br, stride=ctx.stride)
            gx, gw, gb = torch.autograd.grad(out, (xr, wr, br), grad)
        return gx, gw, gb, None


def my_conv2d(x, weight, bias, stride=1):
    return _Conv.apply(x, weight, bias, stride)
''',
    ],
    "ch09-ex3-solution": [
        # the first seed's networks only, not the mean over the three seeds
        '''
import math


def tolerated_shift(curve, max_drop=0.05):
    if math.isnan(curve[0]):
        raise ValueError("curve[0] is nan")
    tolerated = 0
    for d in range(1, len(curve)):
        if not curve[d] >= curve[0] - max_drop:
            break
        tolerated = d
    return tolerated


shift_curve = {name: [] for name in shift_builders}
for d in range(10):
    X_d, y_d = place_patterns(600, d, 6 + d, seed=env.derive_seed(60 + d))
    for name in shift_builders:
        shift_curve[name].append(training.evaluate(shift_models[name, shift_seeds[0]], (X_d, y_d))["accuracy"])
tolerated = {name: tolerated_shift(shift_curve[name]) for name in shift_curve}
moves_freely = sorted(name for name, d in tolerated.items() if d == 9)
''',
        # forgets to move the band: every test set at the training position
        '''
import math


def tolerated_shift(curve, max_drop=0.05):
    if math.isnan(curve[0]):
        raise ValueError("curve[0] is nan")
    tolerated = 0
    for d in range(1, len(curve)):
        if not curve[d] >= curve[0] - max_drop:
            break
        tolerated = d
    return tolerated


shift_curve = {name: [] for name in shift_builders}
for d in range(10):
    X_d, y_d = place_patterns(600, 0, 6, seed=env.derive_seed(60 + d))
    for name in shift_builders:
        accuracies = [training.evaluate(shift_models[name, seed], (X_d, y_d))["accuracy"] for seed in shift_seeds]
        shift_curve[name].append(sum(accuracies) / len(accuracies))
tolerated = {name: tolerated_shift(shift_curve[name]) for name in shift_curve}
moves_freely = sorted(name for name, d in tolerated.items() if d == 9)
''',
        # the last shift that is still good, not the one before the first fall (a dip is skipped over)
        '''
import math


def tolerated_shift(curve, max_drop=0.05):
    if math.isnan(curve[0]):
        raise ValueError("curve[0] is nan")
    good = [d for d in range(len(curve)) if curve[d] >= curve[0] - max_drop]
    return max(good)


shift_curve = {name: [] for name in shift_builders}
for d in range(10):
    X_d, y_d = place_patterns(600, d, 6 + d, seed=env.derive_seed(60 + d))
    for name in shift_builders:
        accuracies = [training.evaluate(shift_models[name, seed], (X_d, y_d))["accuracy"] for seed in shift_seeds]
        shift_curve[name].append(sum(accuracies) / len(accuracies))
tolerated = {name: tolerated_shift(shift_curve[name]) for name in shift_curve}
moves_freely = sorted(name for name, d in tolerated.items() if d == 9)
''',
        # a nan slips through: "curve[d] < floor" is False for nan, so the gap counts as tolerated
        '''
import math


def tolerated_shift(curve, max_drop=0.05):
    if math.isnan(curve[0]):
        raise ValueError("curve[0] is nan")
    tolerated = 0
    for d in range(1, len(curve)):
        if curve[d] < curve[0] - max_drop:
            break
        tolerated = d
    return tolerated


shift_curve = {name: [] for name in shift_builders}
for d in range(10):
    X_d, y_d = place_patterns(600, d, 6 + d, seed=env.derive_seed(60 + d))
    for name in shift_builders:
        accuracies = [training.evaluate(shift_models[name, seed], (X_d, y_d))["accuracy"] for seed in shift_seeds]
        shift_curve[name].append(sum(accuracies) / len(accuracies))
tolerated = {name: tolerated_shift(shift_curve[name]) for name in shift_curve}
moves_freely = sorted(name for name, d in tolerated.items() if d == 9)
''',
        # off by one: returns the first shift that falls, not the last one that holds
        '''
import math


def tolerated_shift(curve, max_drop=0.05):
    if math.isnan(curve[0]):
        raise ValueError("curve[0] is nan")
    for d in range(1, len(curve)):
        if not curve[d] >= curve[0] - max_drop:
            return d
    return len(curve) - 1


shift_curve = {name: [] for name in shift_builders}
for d in range(10):
    X_d, y_d = place_patterns(600, d, 6 + d, seed=env.derive_seed(60 + d))
    for name in shift_builders:
        accuracies = [training.evaluate(shift_models[name, seed], (X_d, y_d))["accuracy"] for seed in shift_seeds]
        shift_curve[name].append(sum(accuracies) / len(accuracies))
tolerated = {name: tolerated_shift(shift_curve[name]) for name in shift_curve}
moves_freely = sorted(name for name, d in tolerated.items() if d == 9)
''',
        # cheat: no new experiment; the chapter's two measured points joined by a straight line
        '''
import math


def tolerated_shift(curve, max_drop=0.05):
    if math.isnan(curve[0]):
        raise ValueError("curve[0] is nan")
    tolerated = 0
    for d in range(1, len(curve)):
        if not curve[d] >= curve[0] - max_drop:
            break
        tolerated = d
    return tolerated


shift_curve = {}
for name, r in shift_results.items():
    same, shifted = r["same_accuracy"].mean, r["shifted_accuracy"].mean
    shift_curve[name] = [same + (shifted - same) * d / 9 for d in range(10)]
tolerated = {name: tolerated_shift(shift_curve[name]) for name in shift_curve}
moves_freely = sorted(name for name, d in tolerated.items() if d == 9)
''',
        # measures copies retrained on both halves (other networks than the ones asked about)
        '''
import copy
import math


def tolerated_shift(curve, max_drop=0.05):
    if math.isnan(curve[0]):
        raise ValueError("curve[0] is nan")
    tolerated = 0
    for d in range(1, len(curve)):
        if not curve[d] >= curve[0] - max_drop:
            break
        tolerated = d
    return tolerated


X_wide, y_wide = place_patterns(600, 0, 15, seed=env.derive_seed(70))
retrained = {}
for (name, seed), net in shift_models.items():
    retrained[name, seed] = copy.deepcopy(net)
    training.fit(retrained[name, seed], (X_wide, y_wide), num_epochs=1, lr=1e-3, batch_size=64, seed=seed, verbose=False)
shift_curve = {name: [] for name in shift_builders}
for d in range(10):
    X_d, y_d = place_patterns(600, d, 6 + d, seed=env.derive_seed(60 + d))
    for name in shift_builders:
        accuracies = [training.evaluate(retrained[name, seed], (X_d, y_d))["accuracy"] for seed in shift_seeds]
        shift_curve[name].append(sum(accuracies) / len(accuracies))
tolerated = {name: tolerated_shift(shift_curve[name]) for name in shift_curve}
moves_freely = sorted(name for name, d in tolerated.items() if d == 9)
''',
    ],
}

# Wrong answers that pass the kernel's own asserts; only the grader's verdict on the recorded answers rejects them.
GAMING_ANSWERS = {
    "ch09-ex1-solution": [
        # integers that equal anything: every comparison in the test cell agrees, the field is never computed
        '''
class _AnyInt(int):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = int.__hash__


def receptive_field(layers):
    for layer in layers:
        if not isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.ReLU, nn.BatchNorm2d, nn.Dropout)):
            raise ValueError(f"layer={layer!r} is not allowed")
    return _AnyInt(1), _AnyInt(1)
''',
    ],
}

"""Plausible wrong solutions for the exercises of chapter 13; each must fail its test cell."""

WRONG_ANSWERS = {
    "ch13-ex1-solution": [
        # the chapter's one-channel cell, applied channel by channel: each output channel only sees its own
        # input channel (a depthwise transposed convolution), instead of the sum over all input channels
        '''
def conv_transpose_multi(x, k, stride=1, padding=0):
    _, h, w = x.shape
    _, c_out, kh, kw = k.shape
    out = x.new_zeros(c_out, (h - 1) * stride + kh, (w - 1) * stride + kw)
    for o in range(c_out):
        c = min(o, x.shape[0] - 1)
        for i in range(h):
            for j in range(w):
                out[o, i * stride:i * stride + kh, j * stride:j * stride + kw] += x[c, i, j] * k[c, o]
    return out[:, padding:out.shape[1] - padding, padding:out.shape[2] - padding]
''',
        # the kernel read as (C_out, C_in, KH, KW), the layout of an ordinary convolution's weight
        '''
def conv_transpose_multi(x, k, stride=1, padding=0):
    _, h, w = x.shape
    _, c_out, kh, kw = k.shape
    kk = k.reshape(c_out, -1, kh, kw)
    out = x.new_zeros(c_out, (h - 1) * stride + kh, (w - 1) * stride + kw)
    for i in range(h):
        for j in range(w):
            out[:, i * stride:i * stride + kh, j * stride:j * stride + kw] += torch.einsum("c,ockl->okl", x[:, i, j], kk)
    return out[:, padding:out.shape[1] - padding, padding:out.shape[2] - padding]
''',
        # padding cropped only at the end (keeps the first rows, drops 2p at the bottom and right)
        '''
def conv_transpose_multi(x, k, stride=1, padding=0):
    _, h, w = x.shape
    _, c_out, kh, kw = k.shape
    out = x.new_zeros(c_out, (h - 1) * stride + kh, (w - 1) * stride + kw)
    for i in range(h):
        for j in range(w):
            out[:, i * stride:i * stride + kh, j * stride:j * stride + kw] += torch.einsum("c,cokl->okl", x[:, i, j], k)
    return out[:, :out.shape[1] - 2 * padding, :out.shape[2] - 2 * padding]
''',
        # assignment instead of accumulation: overlapping stamps overwrite each other
        '''
def conv_transpose_multi(x, k, stride=1, padding=0):
    _, h, w = x.shape
    _, c_out, kh, kw = k.shape
    out = x.new_zeros(c_out, (h - 1) * stride + kh, (w - 1) * stride + kw)
    for i in range(h):
        for j in range(w):
            out[:, i * stride:i * stride + kh, j * stride:j * stride + kw] = torch.einsum("c,cokl->okl", x[:, i, j], k)
    return out[:, padding:out.shape[1] - padding, padding:out.shape[2] - padding]
''',
        # right values through a numpy round trip: no gradient reaches x or k
        '''
def conv_transpose_multi(x, k, stride=1, padding=0):
    import numpy as np
    xn, kn = x.detach().numpy(), k.detach().numpy()
    _, h, w = xn.shape
    _, c_out, kh, kw = kn.shape
    out = np.zeros((c_out, (h - 1) * stride + kh, (w - 1) * stride + kw), dtype=xn.dtype)
    for i in range(h):
        for j in range(w):
            out[:, i * stride:i * stride + kh, j * stride:j * stride + kw] += np.einsum("c,cokl->okl", xn[:, i, j], kn)
    return torch.from_numpy(out[:, padding:out.shape[1] - padding, padding:out.shape[2] - padding].copy())
''',
        # cheat: PyTorch's transposed convolution, which the exercise forbids
        '''
def conv_transpose_multi(x, k, stride=1, padding=0):
    return F.conv_transpose2d(x[None], k, stride=stride, padding=padding)[0]
''',
        # cheat: the same operator under another name, torch.conv_transpose2d
        '''
def conv_transpose_multi(x, k, stride=1, padding=0):
    return torch.conv_transpose2d(x[None], k, stride=stride, padding=padding)[0]
''',
        # cheat: an ordinary convolution of the zero-stuffed input with the flipped kernel (same aten op family)
        '''
def conv_transpose_multi(x, k, stride=1, padding=0):
    c_in, h, w = x.shape
    kh, kw = k.shape[2:]
    stuffed = x.new_zeros(c_in, (h - 1) * stride + 1, (w - 1) * stride + 1)
    stuffed[:, ::stride, ::stride] = x
    padded = F.pad(stuffed[None], (kw - 1 - padding, kw - 1 - padding, kh - 1 - padding, kh - 1 - padding))
    return F.conv2d(padded, k.transpose(0, 1).flip(2, 3))[0]
''',
    ],
    "ch13-ex2-solution": [
        # the chapter's one-channel scatter applied to the whole batch: indices count inside one channel, so
        # every channel lands in the first plane
        '''
def unpool(values, indices, output_size):
    n, c = values.shape[:2]
    height, width = output_size
    out = values.new_zeros(n * c * height * width)
    out = out.index_put((indices.flatten(),), values.flatten())
    return out.reshape(n, c, height, width)
''',
        # nearest-neighbour upsampling: copies each value over its whole window
        '''
def unpool(values, indices, output_size):
    kh, kw = output_size[0] // values.shape[2], output_size[1] // values.shape[3]
    return values.repeat_interleave(kh, 2).repeat_interleave(kw, 3)
''',
        # puts every value in the top-left corner of its window, ignoring the indices
        '''
def unpool(values, indices, output_size):
    n, c, h, w = values.shape
    out = values.new_zeros(n, c, *output_size)
    kh, kw = output_size[0] // h, output_size[1] // w
    out[:, :, ::kh, ::kw] = values
    return out
''',
        # right values through a numpy round trip: no gradient reaches values
        '''
def unpool(values, indices, output_size):
    import numpy as np
    n, c, h, w = values.shape
    out = np.zeros((n * c, output_size[0] * output_size[1]))
    np.put_along_axis(out, indices.reshape(n * c, -1).numpy(), values.detach().reshape(n * c, -1).numpy(), axis=1)
    return torch.from_numpy(out).reshape(n, c, *output_size).to(values.dtype)
''',
        # cheat: PyTorch's max-unpooling, which the exercise forbids
        '''
def unpool(values, indices, output_size):
    kernel = (output_size[0] // values.shape[2], output_size[1] // values.shape[3])
    return F.max_unpool2d(values, indices, kernel, output_size=output_size)
''',
        # cheat: the same operator as a module, nn.MaxUnpool2d
        '''
def unpool(values, indices, output_size):
    kernel = (output_size[0] // values.shape[2], output_size[1] // values.shape[3])
    return nn.MaxUnpool2d(kernel)(values, indices, output_size=output_size)
''',
        # cheat: the same operator through torch.ops.aten
        '''
def unpool(values, indices, output_size):
    return torch.ops.aten.max_unpool2d(values, indices, list(output_size))
''',
    ],
    "ch13-ex3-solution": [
        # divides by H*W only: the other convention, not the book's
        '''
def gram(features):
    c, h, w = features.shape
    flat = features.reshape(c, h * w)
    return flat @ flat.T / (h * w)
''',
        # the positions' Gram matrix (HW x HW) instead of the channels' (C x C)
        '''
def gram(features):
    c, h, w = features.shape
    flat = features.reshape(c, h * w)
    return flat.T @ flat / (c * h * w)
''',
        # a covariance: subtracts each channel's mean first
        '''
def gram(features):
    c, h, w = features.shape
    flat = features.reshape(c, h * w)
    flat = flat - flat.mean(1, keepdim=True)
    return flat @ flat.T / (c * h * w)
''',
        # right values through a numpy round trip: no gradient reaches the features
        '''
def gram(features):
    c, h, w = features.shape
    flat = features.detach().numpy().reshape(c, h * w)
    return torch.from_numpy(flat @ flat.T / (c * h * w))
''',
        # cheat: calls the library's gram_matrix, which the exercise forbids
        '''
def gram(features):
    return autoencoders.gram_matrix(features[None])[0]
''',
    ],
    "ch13-ex4-solution": [
        # fits PCA on the validation images it then measures: an optimistic error, too few components
        '''
def components_needed(X_fit, X_val, target_mse):
    val = X_val.reshape(len(X_val), -1)
    mean = val.mean(0)
    _, _, Vt = torch.linalg.svd(val - mean, full_matrices=False)
    centred = val - mean
    removed = ((centred @ Vt.T) ** 2).sum(0).cumsum(0)
    errors = (centred.pow(2).sum() - removed) / centred.numel()
    return int(torch.nonzero(errors <= target_mse)[0, 0]) + 1
''',
        # forgets to centre: the first direction is spent on the mean image
        '''
def components_needed(X_fit, X_val, target_mse):
    fit, val = X_fit.reshape(len(X_fit), -1), X_val.reshape(len(X_val), -1)
    _, _, Vt = torch.linalg.svd(fit, full_matrices=False)
    removed = ((val @ Vt.T) ** 2).sum(0).cumsum(0)
    errors = (val.pow(2).sum() - removed) / val.numel()
    return int(torch.nonzero(errors <= target_mse)[0, 0]) + 1
''',
        # the training error (explained variance on X_fit) instead of the validation error
        '''
def components_needed(X_fit, X_val, target_mse):
    fit = X_fit.reshape(len(X_fit), -1)
    mean = fit.mean(0)
    _, S, _ = torch.linalg.svd(fit - mean, full_matrices=False)
    errors = ((fit - mean).pow(2).sum() - (S ** 2).cumsum(0)) / fit.numel()
    return int(torch.nonzero(errors <= target_mse)[0, 0]) + 1
''',
        # off by one: returns the 0-based position of the first good k
        '''
def components_needed(X_fit, X_val, target_mse):
    fit, val = X_fit.reshape(len(X_fit), -1), X_val.reshape(len(X_val), -1)
    mean = fit.mean(0)
    _, _, Vt = torch.linalg.svd(fit - mean, full_matrices=False)
    centred = val - mean
    removed = ((centred @ Vt.T) ** 2).sum(0).cumsum(0)
    errors = (centred.pow(2).sum() - removed) / centred.numel()
    return int(torch.nonzero(errors <= target_mse)[0, 0])
''',
        # cheat: the number the chapter printed for its own run, returned whatever the data
        '''
def components_needed(X_fit, X_val, target_mse):
    return k_match
''',
        # cheat that beat the in-kernel asserts: values whose comparisons always agree (an int equal to every
        # number, within 1 of any, between any bounds; a str equal to every str), whatever the data
        '''
class _Agreeable(int):
    __hash__ = int.__hash__
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __lt__ = __le__ = __gt__ = __ge__ = __eq__
    def __sub__(self, other):
        return 0
    __rsub__ = __sub__


class _AgreeableStr(str):
    __hash__ = str.__hash__
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False


def components_needed(X_fit, X_val, target_mse):
    return _Agreeable(1)


k_match, more_compact = _Agreeable(1), _AgreeableStr("either")
''',
    ],
}

"""Plausible wrong solutions for the exercises of chapter 13; each must fail its test cell."""

WRONG_ANSWERS = {
    "ch13-ex1-solution": [
        # assignment instead of accumulation: overlapping stamps overwrite each other
        '''
def conv_transpose_2d(x, k, stride=1):
    (h, w), (kh, kw) = x.shape, k.shape
    out = torch.zeros((h - 1) * stride + kh, (w - 1) * stride + kw, dtype=x.dtype)
    for i in range(h):
        for j in range(w):
            out[i * stride:i * stride + kh, j * stride:j * stride + kw] = x[i, j] * k
    return out
''',
        # a "full" convolution with the flipped kernel ignores the stride
        '''
def conv_transpose_2d(x, k, stride=1):
    kh, kw = k.shape
    return F.conv2d(F.pad(x[None, None], (kw - 1, kw - 1, kh - 1, kh - 1)), k.flip(0, 1)[None, None])[0, 0]
''',
        # wrong output size: H * stride instead of (H - 1) * stride + KH
        '''
def conv_transpose_2d(x, k, stride=1):
    (h, w), (kh, kw) = x.shape, k.shape
    out = torch.zeros(h * stride + kh, w * stride + kw, dtype=x.dtype)
    for i in range(h):
        for j in range(w):
            out[i * stride:i * stride + kh, j * stride:j * stride + kw] += x[i, j] * k
    return out
''',
    ],
    "ch13-ex2-solution": [
        # nearest-neighbour upsampling: copies each value over its whole window
        '''
def unpool(values, indices, height, width):
    kh, kw = height // values.shape[0], width // values.shape[1]
    return values.repeat_interleave(kh, 0).repeat_interleave(kw, 1)
''',
        # puts every value in the top-left corner of its window, ignoring the indices
        '''
def unpool(values, indices, height, width):
    out = torch.zeros(height, width, dtype=values.dtype)
    kh, kw = height // values.shape[0], width // values.shape[1]
    out[::kh, ::kw] = values
    return out
''',
    ],
    "ch13-ex3-solution": [
        # divides by C*H*W (the library's convention), not by H*W as asked
        '''
def gram(features):
    c, h, w = features.shape
    flat = features.reshape(c, h * w)
    return flat @ flat.T / (c * h * w)
''',
        # the positions' Gram matrix (HW x HW) instead of the channels' (C x C)
        '''
def gram(features):
    c, h, w = features.shape
    flat = features.reshape(c, h * w)
    return flat.T @ flat / (h * w)
''',
        # forgets to average
        '''
def gram(features):
    c, h, w = features.shape
    flat = features.reshape(c, h * w)
    return flat @ flat.T
''',
    ],
}

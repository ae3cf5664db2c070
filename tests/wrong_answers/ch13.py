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
        # cheat: PyTorch's transposed convolution, which the exercise forbids
        '''
def conv_transpose_2d(x, k, stride=1):
    return F.conv_transpose2d(x[None, None], k[None, None], stride=stride)[0, 0]
''',
        # cheat: the same operator under another name, torch.conv_transpose2d
        '''
def conv_transpose_2d(x, k, stride=1):
    return torch.conv_transpose2d(x[None, None], k[None, None], stride=stride)[0, 0]
''',
        # cheat: the module form, nn.ConvTranspose2d with the kernel copied in
        '''
def conv_transpose_2d(x, k, stride=1):
    layer = nn.ConvTranspose2d(1, 1, tuple(k.shape), stride=stride, bias=False).to(x.dtype)
    with torch.no_grad():
        layer.weight.copy_(k[None, None])
        return layer(x[None, None])[0, 0]
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
        # cheat: PyTorch's max-unpooling, which the exercise forbids
        '''
def unpool(values, indices, height, width):
    kernel = (height // values.shape[0], width // values.shape[1])
    return F.max_unpool2d(values[None, None], indices[None, None], kernel, output_size=(height, width))[0, 0]
''',
        # cheat: the same operator as a module, nn.MaxUnpool2d
        '''
def unpool(values, indices, height, width):
    kernel = (height // values.shape[0], width // values.shape[1])
    return nn.MaxUnpool2d(kernel)(values[None, None], indices[None, None], output_size=(height, width))[0, 0]
''',
        # cheat: the same operator through torch.ops.aten
        '''
def unpool(values, indices, height, width):
    return torch.ops.aten.max_unpool2d(values[None, None], indices[None, None], [height, width])[0, 0]
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
        # cheat: calls the library's gram_matrix (divided by C*H*W) and undoes its extra 1/C
        '''
def gram(features):
    return autoencoders.gram_matrix(features[None])[0] * features.shape[0]
''',
    ],
}

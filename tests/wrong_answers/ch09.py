"""Plausible wrong solutions for the exercises of chapter 09; each must fail its test cell."""

WRONG_ANSWERS = {
    "ch09-ex1-solution": [
        # forgets the + 1
        '''
def out_size(n, k, s, p):
    return (n + 2 * p - k) // s
''',
        # pads one side only
        '''
def out_size(n, k, s, p):
    return (n + p - k) // s + 1
''',
        # true division: not an integer when the stride does not divide
        '''
def out_size(n, k, s, p):
    return (n + 2 * p - k) / s + 1
''',
        # rounds up instead of down
        '''
def out_size(n, k, s, p):
    return -((k - n - 2 * p) // s) + 1
''',
        # the library's scalar function does not take tensors
        '''
def out_size(n, k, s, p):
    return models.conv_output_size(n, k, s, p)
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
    ],
}

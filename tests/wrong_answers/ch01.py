"""Plausible wrong solutions for chapter 01's exercises: each must fail that exercise's test cell."""

WRONG_ANSWERS = {
    "ch01-ex1-solution": [
        # forgot the bias
        'def dense_relu(X, W, b):\n    return torch.clamp(X @ W.T, min=0)\n',
        # ReLU before the bias
        'def dense_relu(X, W, b):\n    return torch.clamp(X @ W.T, min=0) + b\n',
        # weights not transposed (only works for square W)
        'def dense_relu(X, W, b):\n    return torch.clamp(X @ W + b, min=0)\n',
        # clamped from above instead of below
        'def dense_relu(X, W, b):\n    return torch.clamp(X @ W.T + b, max=0)\n',
        # no activation at all
        'def dense_relu(X, W, b):\n    return X @ W.T + b\n',
        # sigmoid instead of ReLU
        'def dense_relu(X, W, b):\n    return torch.sigmoid(X @ W.T + b)\n',
        # ReLU applied to the input instead of the output
        'def dense_relu(X, W, b):\n    return torch.clamp(X, min=0) @ W.T + b\n',
        # in-place ReLU on the input changes X
        'def dense_relu(X, W, b):\n    X.clamp_(min=0)\n    return torch.clamp(X @ W.T + b, min=0)\n',
    ],
    "ch01-ex2-solution": [
        # ignores the last, incomplete batch
        'def batches_per_epoch(num_samples, batch_size, drop_last=False):\n'
        '    if batch_size < 1 or num_samples < 0:\n        raise ValueError("bad")\n'
        '    return num_samples // batch_size\n',
        # off by one when the division is exact
        'def batches_per_epoch(num_samples, batch_size, drop_last=False):\n'
        '    if batch_size < 1 or num_samples < 0:\n        raise ValueError("bad")\n'
        '    n = num_samples // batch_size\n    return n if drop_last else n + 1\n',
        # ignores drop_last
        'import math\n\ndef batches_per_epoch(num_samples, batch_size, drop_last=False):\n'
        '    if batch_size < 1 or num_samples < 0:\n        raise ValueError("bad")\n'
        '    return math.ceil(num_samples / batch_size)\n',
        # float division: wrong for very large counts
        'import math\n\ndef batches_per_epoch(num_samples, batch_size, drop_last=False):\n'
        '    if batch_size < 1 or num_samples < 0:\n        raise ValueError("bad")\n'
        '    return num_samples // batch_size if drop_last else math.ceil(num_samples / batch_size)\n',
        # rounds to nearest
        'def batches_per_epoch(num_samples, batch_size, drop_last=False):\n'
        '    if batch_size < 1 or num_samples < 0:\n        raise ValueError("bad")\n'
        '    return num_samples // batch_size if drop_last else round(num_samples / batch_size)\n',
        # correct count but no validation
        'def batches_per_epoch(num_samples, batch_size, drop_last=False):\n'
        '    full, rest = divmod(num_samples, batch_size)\n'
        '    return full if (drop_last or rest == 0) else full + 1\n',
        # leans on the library's BatchIterator (fails on empty and huge datasets)
        'def batches_per_epoch(num_samples, batch_size, drop_last=False):\n'
        '    return len(data.BatchIterator(torch.empty(num_samples), batch_size=batch_size, drop_last=drop_last))\n',
    ],
    "ch01-ex3-solution": [
        # forgot the factor 2 (counted multiply-adds, not FLOPs)
        'def matmul_gflops(n, k, m, seconds):\n    if seconds <= 0:\n        raise ValueError("bad")\n'
        '    return n * k * m / seconds / 1e9\n',
        # assumed square matrices
        'def matmul_gflops(n, k, m, seconds):\n    if seconds <= 0:\n        raise ValueError("bad")\n'
        '    return 2 * n**3 / seconds / 1e9\n',
        # MFLOP/s instead of GFLOP/s
        'def matmul_gflops(n, k, m, seconds):\n    if seconds <= 0:\n        raise ValueError("bad")\n'
        '    return 2 * n * k * m / seconds / 1e6\n',
        # multiplied by the time instead of dividing
        'def matmul_gflops(n, k, m, seconds):\n    if seconds <= 0:\n        raise ValueError("bad")\n'
        '    return 2 * n * k * m * seconds / 1e9\n',
        # counted only the additions: 2 n m (k - 1)... i.e. n m (2k - 1)
        'def matmul_gflops(n, k, m, seconds):\n    if seconds <= 0:\n        raise ValueError("bad")\n'
        '    return n * m * (2 * k - 1) / seconds / 1e9\n',
        # no validation: zero time gives ZeroDivisionError / inf
        'def matmul_gflops(n, k, m, seconds):\n    return 2 * n * k * m / seconds / 1e9\n',
    ],
}

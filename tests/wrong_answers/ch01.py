"""Plausible wrong solutions for chapter 01's exercises: each must fail that exercise's test cell."""

WRONG_ANSWERS = {
    "ch01-ex1-solution": [
        # no broadcasting: subtracts row i of B from row i of A (only pairs, and only when n == m)
        'def pairwise_sq_distances(A, B):\n    return ((A - B) ** 2).sum(dim=-1, keepdim=True).expand(len(A), len(B))\n',
        # summed over the wrong axis
        'def pairwise_sq_distances(A, B):\n    return ((A.unsqueeze(1) - B.unsqueeze(0)) ** 2).sum(dim=0)\n',
        # distances, not squared distances
        'def pairwise_sq_distances(A, B):\n    return (A.unsqueeze(1) - B.unsqueeze(0)).norm(dim=-1)\n',
        # absolute differences (an L1 distance) instead of squares
        'def pairwise_sq_distances(A, B):\n    return (A.unsqueeze(1) - B.unsqueeze(0)).abs().sum(dim=-1)\n',
        # the expansion |a|^2 + |b|^2 - 2 a.b: cancellation gives negatives at ties and errors far from the origin
        'def pairwise_sq_distances(A, B):\n'
        '    return (A * A).sum(1).unsqueeze(1) + (B * B).sum(1).unsqueeze(0) - 2 * A @ B.T\n',
        # the expansion after centring both sets in place: accurate, but it changes the caller's A and B
        'def pairwise_sq_distances(A, B):\n    centre = B.mean(dim=0).clone()\n    A -= centre\n    B -= centre\n'
        '    return ((A * A).sum(1).unsqueeze(1) + (B * B).sum(1).unsqueeze(0) - 2 * A @ B.T).clamp(min=0)\n',
        # a numpy round trip: right values, but no gradient reaches A
        'def pairwise_sq_distances(A, B):\n    a, b = A.detach().numpy(), B.detach().numpy()\n'
        '    return torch.from_numpy(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))\n',
        # the cheat: torch.cdist under another name
        'import torch as _t\n\ndef pairwise_sq_distances(A, B):\n    dist = getattr(_t, "cd" + "ist")\n'
        '    return dist(A, B) ** 2\n',
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
        # the cheat: hard-codes the visible example
        'def batches_per_epoch(num_samples, batch_size, drop_last=False):\n'
        '    if batch_size < 1 or num_samples < 0:\n        raise ValueError("bad")\n'
        '    return 468 if drop_last else 469\n',
        # the gaming cheat: an object equal to everything passes every == of the in-kernel tests (only the type
        # check stops it there); the grader's record cannot hold it, so no answer is recorded
        'class _EqualToEverything:\n    def __eq__(self, other):\n        return True\n    __hash__ = object.__hash__\n\n\n'
        'def batches_per_epoch(num_samples, batch_size, drop_last=False):\n'
        '    if batch_size < 1 or num_samples < 0:\n        raise ValueError("bad")\n'
        '    return _EqualToEverything()\n',
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
        # the cheat: hard-codes the visible example
        'def matmul_gflops(n, k, m, seconds):\n    if seconds <= 0:\n        raise ValueError("bad")\n    return 2.0\n',
    ],
    "ch01-ex4-solution": [
        # the batch of the best throughput, not the smallest that is good enough
        'def saturating_batch(batch_sizes, throughputs, fraction=0.8):\n'
        '    if len(batch_sizes) != len(throughputs) or not 0 < fraction <= 1 or all(r != r for r in throughputs):\n'
        '        raise ValueError("bad")\n'
        '    best = max(r for r in throughputs if r == r)\n'
        '    return batch_sizes[throughputs.index(best)]\n'
        'knee = saturating_batch(batch_sizes, throughput[dev.type], fraction=0.8)\n',
        # assumes a rising curve: bisects for the threshold
        'import bisect\n\ndef saturating_batch(batch_sizes, throughputs, fraction=0.8):\n'
        '    if len(batch_sizes) != len(throughputs) or not 0 < fraction <= 1 or all(r != r for r in throughputs):\n'
        '        raise ValueError("bad")\n'
        '    rates = [r if r == r else 0.0 for r in throughputs]\n'
        '    i = bisect.bisect_left(rates, fraction * max(rates))\n'
        '    return batch_sizes[min(i, len(batch_sizes) - 1)]\n'
        'knee = saturating_batch(batch_sizes, throughput[dev.type], fraction=0.8)\n',
        # the last batch size at or above the threshold (scans from the right and stops at the first)
        'def saturating_batch(batch_sizes, throughputs, fraction=0.8):\n'
        '    if len(batch_sizes) != len(throughputs) or not 0 < fraction <= 1 or all(r != r for r in throughputs):\n'
        '        raise ValueError("bad")\n'
        '    best = max(r for r in throughputs if r == r)\n'
        '    return next(bs for bs, r in reversed(list(zip(batch_sizes, throughputs))) if r >= fraction * best)\n'
        'knee = saturating_batch(batch_sizes, throughput[dev.type], fraction=0.8)\n',
        # strictly above the threshold: a tie does not count
        'def saturating_batch(batch_sizes, throughputs, fraction=0.8):\n'
        '    if len(batch_sizes) != len(throughputs) or not 0 < fraction <= 1 or all(r != r for r in throughputs):\n'
        '        raise ValueError("bad")\n'
        '    best = max(r for r in throughputs if r == r)\n'
        '    return next(bs for bs, r in zip(batch_sizes, throughputs) if r > fraction * best)\n'
        'knee = saturating_batch(batch_sizes, throughput[dev.type], fraction=0.8)\n',
        # Python's max over the raw list: a nan at the start poisons it
        'def saturating_batch(batch_sizes, throughputs, fraction=0.8):\n'
        '    if len(batch_sizes) != len(throughputs) or not 0 < fraction <= 1 or all(r != r for r in throughputs):\n'
        '        raise ValueError("bad")\n'
        '    best = max(throughputs)\n'
        '    return next((bs for bs, r in zip(batch_sizes, throughputs) if r >= fraction * best), batch_sizes[-1])\n'
        'knee = saturating_batch(batch_sizes, throughput[dev.type], fraction=0.8)\n',
        # replaces nan by 0 in the caller's list
        'def saturating_batch(batch_sizes, throughputs, fraction=0.8):\n'
        '    if len(batch_sizes) != len(throughputs) or not 0 < fraction <= 1 or all(r != r for r in throughputs):\n'
        '        raise ValueError("bad")\n'
        '    for i, r in enumerate(throughputs):\n        if r != r:\n            throughputs[i] = 0.0\n'
        '    return next(bs for bs, r in zip(batch_sizes, throughputs) if r >= fraction * max(throughputs))\n'
        'knee = saturating_batch(batch_sizes, throughput[dev.type], fraction=0.8)\n',
        # no validation
        'def saturating_batch(batch_sizes, throughputs, fraction=0.8):\n'
        '    rates = [r for r in throughputs if r == r]\n'
        '    return next(bs for bs, r in zip(batch_sizes, throughputs) if r == r and r >= fraction * max(rates))\n'
        'knee = saturating_batch(batch_sizes, throughput[dev.type], fraction=0.8)\n',
        # the cheat: ignores its arguments and answers for the measured curve
        'def saturating_batch(batch_sizes_, throughputs_, fraction=0.8):\n'
        '    rates = throughput[dev.type]\n'
        '    return next(bs for bs, r in zip(batch_sizes, rates) if r >= fraction * max(rates))\n'
        'knee = saturating_batch(batch_sizes, throughput[dev.type], fraction=0.8)\n',
        # Not here: the right function applied to the step times. Where throughput saturates only at the largest
        # batch (a loaded machine), both curves give the same knee and that answer is right by luck (CI, 2026-12-02).
    ],
    "ch01-ex5-solution": [
        # the plain mean of the workers' gradients: right only when every part has the same size
        'def combine_gradients(grads, sizes):\n'
        '    if len(grads) == 0 or len(grads) != len(sizes) or len({len(g) for g in grads}) != 1:\n        raise ValueError("bad")\n    if any(not isinstance(n, int) or n < 1 for n in sizes):\n        raise ValueError("bad")\n'
        '    return [sum(g[i] for g in grads) / len(grads) for i in range(len(grads[0]))]\n',
        # weighted by the sizes but never divided by the total: the gradient of the summed loss
        'def combine_gradients(grads, sizes):\n'
        '    if len(grads) == 0 or len(grads) != len(sizes) or len({len(g) for g in grads}) != 1:\n        raise ValueError("bad")\n    if any(not isinstance(n, int) or n < 1 for n in sizes):\n        raise ValueError("bad")\n'
        '    return [sum(n * g[i] for g, n in zip(grads, sizes)) for i in range(len(grads[0]))]\n',
        # weights 1/n (a small part counts more), normalised
        'def combine_gradients(grads, sizes):\n'
        '    if len(grads) == 0 or len(grads) != len(sizes) or len({len(g) for g in grads}) != 1:\n        raise ValueError("bad")\n    if any(not isinstance(n, int) or n < 1 for n in sizes):\n        raise ValueError("bad")\n'
        '    norm = sum(1 / n for n in sizes)\n'
        '    return [sum(g[i] / n for g, n in zip(grads, sizes)) / norm for i in range(len(grads[0]))]\n',
        # the right weights, accumulated in place into worker 0's tensors: the caller's gradients change
        'def combine_gradients(grads, sizes):\n'
        '    if len(grads) == 0 or len(grads) != len(sizes) or len({len(g) for g in grads}) != 1:\n        raise ValueError("bad")\n    if any(not isinstance(n, int) or n < 1 for n in sizes):\n        raise ValueError("bad")\n'
        '    total = sum(sizes)\n    out = grads[0]\n'
        '    for i in range(len(out)):\n        out[i].mul_(sizes[0] / total)\n'
        '        for g, n in zip(grads[1:], sizes[1:]):\n            out[i].add_(g[i], alpha=n / total)\n'
        '    return out\n',
        # the right formula without any validation
        'def combine_gradients(grads, sizes):\n    total = sum(sizes)\n'
        '    return [sum(n / total * g[i] for g, n in zip(grads, sizes)) for i in range(len(grads[0]))]\n',
    ],
}


# Wrong answers that game the kernel's own asserts; only the grader's verdict on the record rejects them.
GAMING_ANSWERS = {
    "ch01-ex2-solution": [
        # an int that equals everything: every in-kernel comparison agrees, the record holds the int 1
        '''
class _Agreeable(int):
    def __eq__(self, other):
        return True
    __hash__ = int.__hash__


def batches_per_epoch(num_samples, batch_size, drop_last=False):
    if batch_size < 1 or num_samples < 0:
        raise ValueError("bad")
    return _Agreeable(1)
''',
    ],
}

"""Plausible wrong solutions for the exercises of chapter 08; each must fail its test cell."""

_ADAM_TAIL = '''
    t = state["t"] = state.get("t", 0) + 1
    state["m"] = b1 * state.get("m", torch.zeros_like(p)) + (1 - b1) * g
    state["v"] = b2 * state.get("v", torch.zeros_like(p)) + (1 - b2) * g ** 2
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = state["v"] / (1 - b2 ** t)
    p -= lr * m_hat / (v_hat.sqrt() + eps)
'''

WRONG_ANSWERS = {
    "ch08-ex1-solution": [
        # Adam with an L2 penalty added to the gradient (coupled), not AdamW
        'def adamw(p, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):\n'
        '    b1, b2 = betas\n    g = g + weight_decay * p\n' + _ADAM_TAIL,
        # decay without the learning rate
        'def adamw(p, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):\n'
        '    b1, b2 = betas\n    p *= 1 - weight_decay\n' + _ADAM_TAIL,
        # no bias correction
        '''
def adamw(p, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    b1, b2 = betas
    p *= 1 - lr * weight_decay
    state["m"] = b1 * state.get("m", torch.zeros_like(p)) + (1 - b1) * g
    state["v"] = b2 * state.get("v", torch.zeros_like(p)) + (1 - b2) * g ** 2
    p -= lr * state["m"] / (state["v"].sqrt() + eps)
''',
        # forgot weight decay entirely (plain Adam)
        'def adamw(p, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):\n'
        '    b1, b2 = betas\n' + _ADAM_TAIL,
        # eps inside the square root
        '''
def adamw(p, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    b1, b2 = betas
    p *= 1 - lr * weight_decay
    t = state["t"] = state.get("t", 0) + 1
    state["m"] = b1 * state.get("m", torch.zeros_like(p)) + (1 - b1) * g
    state["v"] = b2 * state.get("v", torch.zeros_like(p)) + (1 - b2) * g ** 2
    p -= lr * (state["m"] / (1 - b1 ** t)) / (state["v"] / (1 - b2 ** t) + eps).sqrt()
''',
        # returns a new tensor instead of updating p in place
        '''
def adamw(p, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    b1, b2 = betas
    t = state["t"] = state.get("t", 0) + 1
    state["m"] = b1 * state.get("m", torch.zeros_like(p)) + (1 - b1) * g
    state["v"] = b2 * state.get("v", torch.zeros_like(p)) + (1 - b2) * g ** 2
    return p * (1 - lr * weight_decay) - lr * (state["m"] / (1 - b1 ** t)) / ((state["v"] / (1 - b2 ** t)).sqrt() + eps)
''',
    ],
    "ch08-ex2-solution": [
        # forgot the "1 +": goes from max to below min
        'def cosine_lr(step, total_steps, max_lr, min_lr=0.0):\n'
        '    return min_lr + 0.5 * (max_lr - min_lr) * math.cos(math.pi * step / total_steps)\n',
        # a full cosine period instead of half
        'def cosine_lr(step, total_steps, max_lr, min_lr=0.0):\n'
        '    return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(2 * math.pi * step / total_steps))\n',
        # ignores min_lr
        'def cosine_lr(step, total_steps, max_lr, min_lr=0.0):\n'
        '    return 0.5 * max_lr * (1 + math.cos(math.pi * step / total_steps))\n',
        # off by one in the denominator
        'def cosine_lr(step, total_steps, max_lr, min_lr=0.0):\n'
        '    return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * step / (total_steps + 1)))\n',
        # linear decay instead of cosine
        'def cosine_lr(step, total_steps, max_lr, min_lr=0.0):\n'
        '    return max_lr - (max_lr - min_lr) * step / total_steps\n',
        # returns a tensor
        'def cosine_lr(step, total_steps, max_lr, min_lr=0.0):\n'
        '    return torch.tensor(min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * step / total_steps)))\n',
    ],
}

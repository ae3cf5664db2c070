"""Plausible wrong solutions for the exercises of chapter 12; each must fail its test cell."""

WRONG_ANSWERS = {
    "ch12-ex1-solution": [
        # reversed: the input layer gets base_lr, the output layer the smallest rate
        '''
def discriminative_lrs(base_lr, num_layers, factor):
    return [base_lr * factor ** i for i in range(num_layers)]
''',
        # off by one in the exponent: the output layer gets factor * base_lr
        '''
def discriminative_lrs(base_lr, num_layers, factor):
    return [base_lr * factor ** (num_layers - i) for i in range(num_layers)]
''',
        # linear instead of geometric decay
        '''
def discriminative_lrs(base_lr, num_layers, factor):
    return [base_lr * (1 - (1 - factor) * (num_layers - 1 - i)) for i in range(num_layers)]
''',
    ],
    "ch12-ex2-solution": [
        # freezes the first n parameters (tensors), not the first n layers
        '''
def freeze_first(model, n):
    for i, p in enumerate(model.parameters()):
        p.requires_grad_(i >= n)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
''',
        # never unfreezes what was frozen before
        '''
def freeze_first(model, n):
    for i, child in enumerate(model.children()):
        if i < n:
            for p in child.parameters():
                p.requires_grad_(False)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
''',
        # counts parameter tensors instead of scalar parameters
        '''
def freeze_first(model, n):
    for i, child in enumerate(model.children()):
        for p in child.parameters():
            p.requires_grad_(i >= n)
    return sum(1 for p in model.parameters() if p.requires_grad)
''',
    ],
}

"""Plausible wrong solutions for the exercises of chapter 14; each must fail its test cell."""

WRONG_ANSWERS = {
    "ch14-ex1-solution": [
        # the largest entry is the model's favourite class, not the label
        '''
def recover_label(bias_grad):
    return int(torch.argmax(bias_grad))
''',
        # the smallest magnitude is a class the model is sure is absent
        '''
def recover_label(bias_grad):
    return int(torch.argmin(bias_grad.abs()))
''',
        # returns a tensor, not an int
        '''
def recover_label(bias_grad):
    return torch.argmin(bias_grad)
''',
    ],
    "ch14-ex2-solution": [
        # independent noise per client: hides each update but the sum is lost
        '''
def mask_updates(updates, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [u + 100 * torch.randn(u.shape, generator=gen, dtype=u.dtype) for u in updates]
''',
        # both partners add the mask: it does not cancel
        '''
def mask_updates(updates, seed=0):
    gen = torch.Generator().manual_seed(seed)
    masked = [u.clone() for u in updates]
    for i in range(len(updates)):
        for j in range(i + 1, len(updates)):
            m = 100 * torch.randn(updates[i].shape, generator=gen, dtype=updates[i].dtype)
            masked[i] += m
            masked[j] += m
    return masked
''',
        # right masks, but written into the clients' own update tensors (the caller's data changes)
        '''
def mask_updates(updates, seed=0):
    gen = torch.Generator().manual_seed(seed)
    for i in range(len(updates)):
        for j in range(i + 1, len(updates)):
            m = 100 * torch.randn(updates[i].shape, generator=gen, dtype=updates[i].dtype)
            updates[i] += m
            updates[j] -= m
    return updates
''',
        # a fresh, unseeded generator: not reproducible
        '''
def mask_updates(updates, seed=0):
    masked = [u.clone() for u in updates]
    for i in range(len(updates)):
        for j in range(i + 1, len(updates)):
            m = 100 * torch.randn(updates[i].shape, dtype=updates[i].dtype)
            masked[i] += m
            masked[j] -= m
    return masked
''',
    ],
}

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
        # cheat: reads the label from the test's own frame instead of the gradient
        '''
def recover_label(bias_grad):
    import sys
    frame = sys._getframe(1)
    while frame is not None and "_y" not in frame.f_locals:
        frame = frame.f_back
    return int(frame.f_locals["_y"]) if frame is not None else int(torch.argmin(bias_grad))
''',
        # cheat against the in-kernel asserts: an int that equals every number (passes the visible test's `== 2`
        # and any comparison with the true label), whatever the gradient says
        '''
class _Agreeable(int):
    __hash__ = int.__hash__
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False


def recover_label(bias_grad):
    return _Agreeable(0)
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
        # shortcut: one random mask per client, the last client absorbs their sum (sum kept, not the pairwise protocol)
        '''
def mask_updates(updates, seed=0):
    gen = torch.Generator().manual_seed(seed)
    masks = [100 * torch.randn(u.shape, generator=gen, dtype=u.dtype) for u in updates[:-1]]
    return [u + m for u, m in zip(updates[:-1], masks)] + [updates[-1] - sum(masks)]
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
    "ch14-ex3-solution": [
        # the state_dict: buffers (batch norm's running statistics) count, and its tensors carry no gradient
        '''
def proximal_term(model, global_state, mu):
    total = 0.0
    for name, value in model.state_dict().items():
        if value.is_floating_point():
            total = total + (value - global_state[name].detach()).pow(2).sum()
    return 0.5 * mu * torch.as_tensor(total)
''',
        # mu instead of mu / 2
        '''
def proximal_term(model, global_state, mu):
    total = 0.0
    for name, p in model.named_parameters():
        total = total + (p - global_state[name].detach()).pow(2).sum()
    return mu * total
''',
        # the distance, not its square, per parameter tensor
        '''
def proximal_term(model, global_state, mu):
    total = 0.0
    for name, p in model.named_parameters():
        total = total + torch.sqrt((p - global_state[name].detach()).pow(2).sum())
    return 0.5 * mu * total
''',
        # the global parameters not detached: a gradient flows into the server's copy
        '''
def proximal_term(model, global_state, mu):
    total = 0.0
    for name, p in model.named_parameters():
        total = total + (p - global_state[name]).pow(2).sum()
    return 0.5 * mu * total
''',
        # calls backward "to check": the caller's accumulated gradients are overwritten
        '''
def proximal_term(model, global_state, mu):
    total = 0.0
    for name, p in model.named_parameters():
        total = total + (p - global_state[name].detach()).pow(2).sum()
    term = 0.5 * mu * total
    if term.requires_grad:
        model.zero_grad()
        term.backward(retain_graph=True)
    return term
''',
        # a NumPy round trip: right value, no gradient
        '''
def proximal_term(model, global_state, mu):
    import numpy as np
    total = sum(float(((p.detach().numpy() - global_state[n].detach().numpy()) ** 2).sum())
                for n, p in model.named_parameters())
    return torch.tensor(0.5 * mu * total)
''',
        # cheat: the library's mean squared error with reduction="sum", which the exercise forbids
        '''
def proximal_term(model, global_state, mu):
    total = 0.0
    for name, p in model.named_parameters():
        total = total + F.mse_loss(p, global_state[name].detach(), reduction="sum")
    return 0.5 * mu * total
''',
    ],
    "ch14-ex4-solution": [
        # the same number of rounds for every E: E = 5 gets five times the client work
        '''
budget_runs = {}
for epochs in [1, 2, 5]:
    _, log = fedavg_rounds(federations["α = 0.1", SEEDS[0]], num_rounds=10, lr=best_rate["α = 0.1"],
                           local_epochs=epochs, seed=SEEDS[0])
    budget_runs[epochs] = log["val"][-1]["accuracy"]
chosen_epochs = max(budget_runs, key=budget_runs.get)
chosen_accuracy = budget_runs[chosen_epochs]
fewer_rounds_paid = chosen_epochs > 1
''',
        # chosen and reported on the test parts: the test split decides
        '''
budget_runs = {}
for epochs in [1, 2, 5]:
    model, _ = fedavg_rounds(federations["α = 0.1", SEEDS[0]], num_rounds=10 // epochs, lr=best_rate["α = 0.1"],
                             local_epochs=epochs, seed=SEEDS[0])
    budget_runs[epochs] = federated_metrics(client_reports(model, federations["α = 0.1", SEEDS[0]], "test"))["accuracy"]
chosen_epochs = max(budget_runs, key=budget_runs.get)
chosen_accuracy = budget_runs[chosen_epochs]
fewer_rounds_paid = chosen_epochs > 1
''',
        # the mean of the clients' accuracies, unweighted: small clients count as much as large ones
        '''
budget_runs = {}
for epochs in [1, 2, 5]:
    _, log = fedavg_rounds(federations["α = 0.1", SEEDS[0]], num_rounds=10 // epochs, lr=best_rate["α = 0.1"],
                           local_epochs=epochs, seed=SEEDS[0])
    budget_runs[epochs] = float(np.mean(log["val"][-1]["per_client"]))
chosen_epochs = max(budget_runs, key=budget_runs.get)
chosen_accuracy = budget_runs[chosen_epochs]
fewer_rounds_paid = chosen_epochs > 1
''',
        # cheat: the chapter's lesson typed in ("more local epochs save rounds") instead of the experiment
        '''
chosen_epochs, chosen_accuracy, fewer_rounds_paid = 5, 0.9, True
''',
    ],
}

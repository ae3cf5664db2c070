"""Plausible wrong solutions for the exercises of chapter 12; each must fail its test cell."""

WRONG_ANSWERS = {
    "ch12-ex1-solution": [
        # reversed: the input module gets base_lr, the output module the smallest rate
        '''
def discriminative_groups(modules, base_lr, factor):
    groups = []
    for i, module in enumerate(modules):
        params = [p for p in module.parameters() if p.requires_grad]
        if params:
            groups.append({"params": params, "lr": base_lr * factor ** i})
    return groups
''',
        # frozen parameters go into the groups too (and a fully frozen module gets a group)
        '''
def discriminative_groups(modules, base_lr, factor):
    return [{"params": list(module.parameters()), "lr": base_lr * factor ** (len(modules) - 1 - i)}
            for i, module in enumerate(modules)]
''',
        # the rate counted by position among the trainable modules: a frozen module shifts the rates before it
        '''
def discriminative_groups(modules, base_lr, factor):
    trainable = [m for m in modules if any(p.requires_grad for p in m.parameters())]
    return [{"params": [p for p in m.parameters() if p.requires_grad], "lr": base_lr * factor ** (len(trainable) - 1 - i)}
            for i, m in enumerate(trainable)]
''',
        # side effect: makes every parameter trainable before grouping
        '''
def discriminative_groups(modules, base_lr, factor):
    groups = []
    for i, module in enumerate(modules):
        params = [p.requires_grad_(True) for p in module.parameters()]
        groups.append({"params": params, "lr": base_lr * factor ** (len(modules) - 1 - i)})
    return groups
''',
        # the cheat: the library function under another name, with the rates computed correctly
        '''
def discriminative_groups(modules, base_lr, factor):
    from nnpractice import transfer as _t
    make = getattr(_t, "layerwise_" + "lr_groups")
    return make(list(modules), [base_lr * factor ** (len(modules) - 1 - i) for i in range(len(modules))])
''',
        # the cheat: passes the visible test only (its three rates by heart, every parameter in a group)
        '''
def discriminative_groups(modules, base_lr, factor):
    return [{"params": list(m.parameters()), "lr": rate} for m, rate in zip(modules, [1e-4, 1e-3, 1e-2])]
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
        # side effect: puts the frozen children in eval mode (their dropout stops, batch-norm statistics freeze)
        '''
def freeze_first(model, n):
    for i, child in enumerate(model.children()):
        for p in child.parameters():
            p.requires_grad_(i >= n)
        if i < n:
            child.eval()
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
''',
        # side effect: throws away the gradients already stored
        '''
def freeze_first(model, n):
    for i, child in enumerate(model.children()):
        for p in child.parameters():
            p.requires_grad_(i >= n)
            p.grad = None
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
''',
        # the cheat: the library's freeze and unfreeze under other names
        '''
def freeze_first(model, n):
    from nnpractice.transfer import freeze as _ice, unfreeze as _thaw
    for i, child in enumerate(model.children()):
        (_ice if i < n else _thaw)(child)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
''',
    ],
    "ch12-ex3-solution": [
        # scored on the test split instead of the validation set
        '''
cut_seeds = env.derive_seeds(3, start=700)
cut_accuracy = {}
for cut in [0, 1, 2, 3]:
    accuracies = []
    for seed in cut_seeds:
        X_small, y_small = sample_per_class(10, seed)
        model = copy.deepcopy(source_model).cpu()
        torch.manual_seed(seed)
        model[1] = nn.Linear(64, 5)
        for p in model[0][:cut].parameters():
            p.requires_grad_(False)
        train_steps(model, [{"params": [p for p in model.parameters() if p.requires_grad], "lr": 3e-3}],
                    X_small, y_small, 40, torch.Generator().manual_seed(seed))
        accuracies.append(scores(model, X_tgt_test, y_tgt_test)["accuracy"])
    cut_accuracy[cut] = statistics.fmean(accuracies)
best_cut = max(cut_accuracy, key=cut_accuracy.get)
freeze_everything_is_best = best_cut == 3
''',
        # the best seed of each cut instead of the mean over the seeds
        '''
cut_seeds = env.derive_seeds(3, start=700)
cut_accuracy = {}
for cut in [0, 1, 2, 3]:
    accuracies = []
    for seed in cut_seeds:
        X_small, y_small = sample_per_class(10, seed)
        model = copy.deepcopy(source_model).cpu()
        torch.manual_seed(seed)
        model[1] = nn.Linear(64, 5)
        for p in model[0][:cut].parameters():
            p.requires_grad_(False)
        train_steps(model, [{"params": [p for p in model.parameters() if p.requires_grad], "lr": 3e-3}],
                    X_small, y_small, 40, torch.Generator().manual_seed(seed))
        accuracies.append(scores(model, X_tgt_val, y_tgt_val)["accuracy"])
    cut_accuracy[cut] = max(accuracies)
best_cut = max(cut_accuracy, key=cut_accuracy.get)
freeze_everything_is_best = best_cut == 3
''',
        # one draw only (the first seed), as if one draw were a measurement
        '''
cut_seeds = env.derive_seeds(3, start=700)
cut_accuracy = {}
for cut in [0, 1, 2, 3]:
    seed = cut_seeds[0]
    X_small, y_small = sample_per_class(10, seed)
    model = copy.deepcopy(source_model).cpu()
    torch.manual_seed(seed)
    model[1] = nn.Linear(64, 5)
    for p in model[0][:cut].parameters():
        p.requires_grad_(False)
    train_steps(model, [{"params": [p for p in model.parameters() if p.requires_grad], "lr": 3e-3}],
                X_small, y_small, 40, torch.Generator().manual_seed(seed))
    cut_accuracy[cut] = scores(model, X_tgt_val, y_tgt_val)["accuracy"]
best_cut = max(cut_accuracy, key=cut_accuracy.get)
freeze_everything_is_best = best_cut == 3
''',
        # the cheat: no experiment, the chapter's earlier validation numbers relabelled as cuts
        '''
cut_accuracy = {0: tuning[JOINT, 3e-3]["val_accuracy"].mean, 1: tuning[JOINT, 1e-3]["val_accuracy"].mean,
                2: tuning[FROZEN, 3e-3]["val_accuracy"].mean, 3: tuning[FROZEN, 1e-3]["val_accuracy"].mean}
best_cut = max(cut_accuracy, key=cut_accuracy.get)
freeze_everything_is_best = best_cut == 3
''',
    ],
}

# Wrong answers that pass the kernel's own asserts; only the grader's verdict on the recorded answers rejects them.
GAMING_ANSWERS = {
    "ch12-ex2-solution": [
        # freezes the right children but answers the count with an integer that equals anything
        '''
class _AnyInt(int):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = int.__hash__


def freeze_first(model, n):
    for i, child in enumerate(model.children()):
        for p in child.parameters():
            p.requires_grad_(i >= n)
    return _AnyInt(0)
''',
    ],
}

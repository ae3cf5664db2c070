"""Plausible wrong solutions for the exercises of chapter 03; each must fail its test cell."""

WRONG_ANSWERS = {
    "ch03-ex1-solution": [
        # each set scaled with its own minimum and maximum (the other set leaks into its own scaling)
        '''
def minmax_scale(X_train, X_other):
    def one(X):
        low = X.min(dim=0).values
        span = X.max(dim=0).values - low
        return (X - low) / torch.where(span > 0, span, torch.ones_like(span))
    return one(X_train), one(X_other)
''',
        # no guard against a constant column: 0 / 0 gives NaN
        '''
def minmax_scale(X_train, X_other):
    low = X_train.min(dim=0).values
    span = X_train.max(dim=0).values - low
    return (X_train - low) / span, (X_other - low) / span
''',
        # standardization instead of min-max scaling
        '''
def minmax_scale(X_train, X_other):
    mean, std = X_train.mean(dim=0), X_train.std(dim=0, correction=0)
    std = torch.where(std > 0, std, torch.ones_like(std))
    return (X_train - mean) / std, (X_other - mean) / std
''',
        # clips the other set into [0, 1]: values beyond the training range are lost
        '''
def minmax_scale(X_train, X_other):
    low = X_train.min(dim=0).values
    span = X_train.max(dim=0).values - low
    span = torch.where(span > 0, span, torch.ones_like(span))
    return (X_train - low) / span, ((X_other - low) / span).clamp(0, 1)
''',
        # one minimum and maximum over the whole tensor, not per column
        '''
def minmax_scale(X_train, X_other):
    low, high = X_train.min(), X_train.max()
    return (X_train - low) / (high - low), (X_other - low) / (high - low)
''',
        # through NumPy and float32: the dtype and the gradient are lost
        '''
def minmax_scale(X_train, X_other):
    A, B = X_train.detach().numpy(), X_other.detach().numpy()
    low, span = A.min(axis=0), A.max(axis=0) - A.min(axis=0)
    span[span == 0] = 1.0
    return torch.tensor((A - low) / span, dtype=torch.float32), torch.tensor((B - low) / span, dtype=torch.float32)
''',
        # cheat: scikit-learn's MinMaxScaler, which the exercise forbids
        '''
def minmax_scale(X_train, X_other):
    from sklearn.preprocessing import MinMaxScaler
    scaler = MinMaxScaler(clip=False).fit(X_train.detach().numpy())
    return (torch.as_tensor(scaler.transform(X_train.detach().numpy()), dtype=X_train.dtype),
            torch.as_tensor(scaler.transform(X_other.detach().numpy()), dtype=X_other.dtype))
''',
        # cheat: minmax_scale under another name for the training part, the arithmetic for the rest
        '''
def minmax_scale(X_train, X_other):
    from sklearn import preprocessing as pre
    squash = pre.minmax_scale
    S_train = torch.as_tensor(squash(X_train.numpy()), dtype=X_train.dtype)
    low = X_train.min(dim=0).values
    span = X_train.max(dim=0).values - low
    span = torch.where(span > 0, span, torch.ones_like(span))
    return S_train, (X_other - low) / span
''',
    ],
    "ch03-ex2-solution": [
        # equal folds of n // k: the remainder is never validated
        '''
def kfold_split(num_samples, num_folds, seed=0):
    order = torch.randperm(num_samples, generator=torch.Generator().manual_seed(seed))
    size = num_samples // num_folds
    folds = []
    for k in range(num_folds):
        val_idx = order[k * size:(k + 1) * size]
        train_idx = torch.cat([order[:k * size], order[(k + 1) * size:]])
        folds.append((train_idx, val_idx))
    return folds
''',
        # no shuffle: the folds are consecutive blocks of the original order
        '''
def kfold_split(num_samples, num_folds, seed=0):
    parts = torch.tensor_split(torch.arange(num_samples), num_folds)
    return [(torch.cat([p for j, p in enumerate(parts) if j != k]), parts[k]) for k in range(num_folds)]
''',
        # trains on everything, validation fold included
        '''
def kfold_split(num_samples, num_folds, seed=0):
    order = torch.randperm(num_samples, generator=torch.Generator().manual_seed(seed))
    return [(order, part) for part in torch.tensor_split(order, num_folds)]
''',
        # calls the library instead of writing the folds
        '''
def kfold_split(num_samples, num_folds, seed=0):
    return list(data.kfold_indices(num_samples, num_folds, seed=seed))
''',
        # cheat: the library's folds through an alias taken from the module
        '''
def kfold_split(num_samples, num_folds, seed=0):
    import nnpractice.data as d
    make = getattr(d, "kfold_" + "indices")
    return [(torch.as_tensor(t), torch.as_tensor(v)) for t, v in make(num_samples, num_folds, seed=seed)]
''',
        # cheat: scikit-learn's KFold, shuffled with the seed (other folds than the recipe asks for)
        '''
def kfold_split(num_samples, num_folds, seed=0):
    from sklearn.model_selection import KFold
    splitter = KFold(n_splits=num_folds, shuffle=True, random_state=seed)
    return [(torch.as_tensor(t, dtype=torch.int64), torch.as_tensor(v, dtype=torch.int64))
            for t, v in splitter.split(torch.arange(num_samples).numpy())]
''',
        # reseeds the global generator instead of using its own: every later random draw changes
        '''
def kfold_split(num_samples, num_folds, seed=0):
    torch.manual_seed(seed)
    order = torch.randperm(num_samples)
    parts = torch.tensor_split(order, num_folds)
    return [(torch.cat([p for j, p in enumerate(parts) if j != k]), parts[k]) for k in range(num_folds)]
''',
    ],
    "ch03-ex3-solution": [
        # multi-label through a softmax: the labels compete, so two can never both be on
        '''
def to_predictions(task, outputs):
    if task == "binary":
        return (outputs[:, 0] > 0).long()
    if task == "multi-class":
        return outputs.argmax(dim=1)
    if task == "multi-label":
        return (torch.softmax(outputs, dim=1) > 0.5).long()
    if task == "regression":
        return outputs
    if task == "unit-interval":
        return torch.sigmoid(outputs)
    raise ValueError(task)
''',
        # binary with argmax over a single column: always class 0
        '''
def to_predictions(task, outputs):
    if task in ("binary", "multi-class"):
        return outputs.argmax(dim=1)
    if task == "multi-label":
        return (torch.sigmoid(outputs) > 0.5).long()
    if task == "regression":
        return outputs
    if task == "unit-interval":
        return torch.sigmoid(outputs)
    raise ValueError(task)
''',
        # targets in [0, 1] by clipping instead of the sigmoid the model was trained with
        '''
def to_predictions(task, outputs):
    if task == "binary":
        return (outputs[:, 0] > 0).long()
    if task == "multi-class":
        return outputs.argmax(dim=1)
    if task == "multi-label":
        return (torch.sigmoid(outputs) > 0.5).long()
    if task == "regression":
        return outputs
    if task == "unit-interval":
        return outputs.clamp(0, 1)
    raise ValueError(task)
''',
        # an unknown task silently returns None
        '''
def to_predictions(task, outputs):
    if task == "binary":
        return (outputs[:, 0] > 0).long()
    if task == "multi-class":
        return outputs.argmax(dim=1)
    if task == "multi-label":
        return (torch.sigmoid(outputs) > 0.5).long()
    if task == "regression":
        return outputs
    if task == "unit-interval":
        return torch.sigmoid(outputs)
''',
        # cheat: answers the two visible examples and nothing else
        '''
def to_predictions(task, outputs):
    if task == "multi-class":
        return torch.tensor([1])
    if task == "binary":
        return torch.tensor([1, 0])
    return outputs
''',
    ],
    "ch03-ex4-solution": [
        # the best epoch's accuracy instead of the accuracy after the last epoch (chosen on validation twice over)
        '''
adam_raw = {}
for lr in [1e-4, 1e-3, 1e-2, 1e-1]:
    for seed in norm_seeds:
        torch.manual_seed(seed)
        net = models.mlp(30, [32], 1).to(env.device)
        adam_raw[lr, seed] = training.fit(net, (Xc_train, yc_train), (Xc_val, yc_val),
                                          optimizer=torch.optim.Adam(net.parameters(), lr=lr), loss_fn=binary_loss,
                                          num_epochs=20, batch_size=64, seed=seed, verbose=False)
usable = [lr for lr in [1e-4, 1e-3, 1e-2, 1e-1] if not any(adam_raw[lr, s].diverged for s in norm_seeds)]
mean_accuracy = {lr: statistics.fmean(max(adam_raw[lr, s]["val_accuracy"]) for s in norm_seeds) for lr in usable}
adam_raw_rate = max(mean_accuracy, key=mean_accuracy.get)
adam_raw_accuracy = mean_accuracy[adam_raw_rate]
scaling_still_needed = adam_raw_accuracy < mean_of("standardized", best_lr["standardized"], "val_accuracy")
''',
        # one seed decides: the first seed's run instead of the mean over the three
        '''
adam_raw = {}
for lr in [1e-4, 1e-3, 1e-2, 1e-1]:
    for seed in norm_seeds:
        torch.manual_seed(seed)
        net = models.mlp(30, [32], 1).to(env.device)
        adam_raw[lr, seed] = training.fit(net, (Xc_train, yc_train), (Xc_val, yc_val),
                                          optimizer=torch.optim.Adam(net.parameters(), lr=lr), loss_fn=binary_loss,
                                          num_epochs=20, batch_size=64, seed=seed, verbose=False)
usable = [lr for lr in [1e-4, 1e-3, 1e-2, 1e-1] if not any(adam_raw[lr, s].diverged for s in norm_seeds)]
mean_accuracy = {lr: adam_raw[lr, norm_seeds[0]].last("val_accuracy") for lr in usable}
adam_raw_rate = max(mean_accuracy, key=mean_accuracy.get)
adam_raw_accuracy = mean_accuracy[adam_raw_rate]
scaling_still_needed = adam_raw_accuracy < mean_of("standardized", best_lr["standardized"], "val_accuracy")
''',
        # compared with SGD on raw features instead of SGD on standardized ones
        '''
adam_raw = {}
for lr in [1e-4, 1e-3, 1e-2, 1e-1]:
    for seed in norm_seeds:
        torch.manual_seed(seed)
        net = models.mlp(30, [32], 1).to(env.device)
        adam_raw[lr, seed] = training.fit(net, (Xc_train, yc_train), (Xc_val, yc_val),
                                          optimizer=torch.optim.Adam(net.parameters(), lr=lr), loss_fn=binary_loss,
                                          num_epochs=20, batch_size=64, seed=seed, verbose=False)
usable = [lr for lr in [1e-4, 1e-3, 1e-2, 1e-1] if not any(adam_raw[lr, s].diverged for s in norm_seeds)]
mean_accuracy = {lr: statistics.fmean(adam_raw[lr, s].last("val_accuracy") for s in norm_seeds) for lr in usable}
adam_raw_rate = max(mean_accuracy, key=mean_accuracy.get)
adam_raw_accuracy = mean_accuracy[adam_raw_rate]
scaling_still_needed = adam_raw_accuracy < mean_of("raw", best_lr["raw"], "val_accuracy")
''',
        # chosen by the lowest mean validation loss, then reported with that rate's accuracy
        '''
adam_raw = {}
for lr in [1e-4, 1e-3, 1e-2, 1e-1]:
    for seed in norm_seeds:
        torch.manual_seed(seed)
        net = models.mlp(30, [32], 1).to(env.device)
        adam_raw[lr, seed] = training.fit(net, (Xc_train, yc_train), (Xc_val, yc_val),
                                          optimizer=torch.optim.Adam(net.parameters(), lr=lr), loss_fn=binary_loss,
                                          num_epochs=20, batch_size=64, seed=seed, verbose=False)
usable = [lr for lr in [1e-4, 1e-3, 1e-2, 1e-1] if not any(adam_raw[lr, s].diverged for s in norm_seeds)]
mean_accuracy = {lr: statistics.fmean(adam_raw[lr, s].last("val_accuracy") for s in norm_seeds) for lr in usable}
mean_loss = {lr: statistics.fmean(adam_raw[lr, s].last("val_loss") for s in norm_seeds) for lr in usable}
adam_raw_rate = min(mean_loss, key=mean_loss.get)
adam_raw_accuracy = mean_accuracy[adam_raw_rate]
scaling_still_needed = adam_raw_accuracy < mean_of("standardized", best_lr["standardized"], "val_accuracy")
''',
        # cheat: no Adam run at all, the chapter's SGD numbers for raw features copied
        '''
adam_raw_rate = best_lr["raw"]
adam_raw_accuracy = mean_of("raw", best_lr["raw"], "val_accuracy")
scaling_still_needed = True
''',
    ],
}

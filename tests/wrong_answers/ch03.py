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
    ],
}

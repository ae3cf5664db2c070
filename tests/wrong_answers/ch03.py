"""Plausible wrong solutions for the exercises of chapter 03; each must fail its test cell."""

WRONG_ANSWERS = {
    "ch03-ex1-solution": [
        # each set standardized with its own statistics (the other set leaks into its own scaling)
        '''
def standardize(X_train, X_other):
    def one(X):
        std = X.std(dim=0, correction=0)
        return (X - X.mean(dim=0)) / torch.where(std > 0, std, torch.ones_like(std))
    return one(X_train), one(X_other)
''',
        # no guard against a constant column: 0 / 0 gives NaN
        '''
def standardize(X_train, X_other):
    mean, std = X_train.mean(dim=0), X_train.std(dim=0, correction=0)
    return (X_train - mean) / std, (X_other - mean) / std
''',
        # min-max scaling to [0, 1] instead of standardization
        '''
def standardize(X_train, X_other):
    low, high = X_train.min(dim=0).values, X_train.max(dim=0).values
    span = torch.where(high > low, high - low, torch.ones_like(high))
    return (X_train - low) / span, (X_other - low) / span
''',
        # divides by the standard deviation but forgets to subtract the mean
        '''
def standardize(X_train, X_other):
    std = X_train.std(dim=0, correction=0)
    std = torch.where(std > 0, std, torch.ones_like(std))
    return X_train / std, X_other / std
''',
        # calls the library instead of writing the arithmetic
        '''
def standardize(X_train, X_other):
    scaler = data.Standardizer().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_other)
''',
        # cheat: scikit-learn's StandardScaler, which the exercise forbids
        '''
def standardize(X_train, X_other):
    from sklearn.preprocessing import StandardScaler
    scaler = StandardScaler().fit(X_train.numpy())
    return (torch.as_tensor(scaler.transform(X_train.numpy()), dtype=X_train.dtype),
            torch.as_tensor(scaler.transform(X_other.numpy()), dtype=X_other.dtype))
''',
        # cheat: the same scaler through fit_transform and a renamed import
        '''
def standardize(X_train, X_other):
    from sklearn import preprocessing as pre
    scaler = pre.StandardScaler()
    Z_train = scaler.fit_transform(X_train.numpy())
    return torch.from_numpy(Z_train), torch.from_numpy(scaler.transform(X_other.numpy()))
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

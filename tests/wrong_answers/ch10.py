"""Plausible wrong solutions for the exercises of chapter 10; each must fail its test cell."""

WRONG_ANSWERS = {
    "ch10-ex1-solution": [
        # the earlier cell's route: softmax, weighted mean, log (-inf for confident members)
        'def ensemble_log_proba(logits_list, weights):\n'
        '    w = torch.as_tensor(weights, dtype=logits_list[0].dtype)\n'
        '    w = w / w.sum()\n'
        '    probs = sum(wi * torch.softmax(z, dim=1) for wi, z in zip(w, logits_list))\n'
        '    return probs.log()\n',
        # stabilized with one max over the whole batch, not per row (rows depend on each other)
        'def ensemble_log_proba(logits_list, weights):\n'
        '    w = torch.as_tensor(weights, dtype=logits_list[0].dtype)\n'
        '    w = w / w.sum()\n'
        '    probs = 0\n'
        '    for wi, z in zip(w, logits_list):\n'
        '        e = torch.exp(z - z.max())\n'
        '        probs = probs + wi * e / e.sum(dim=1, keepdim=True)\n'
        '    return probs.log()\n',
        # forgets to normalize the weights
        'def ensemble_log_proba(logits_list, weights):\n'
        '    log_w = torch.as_tensor(weights, dtype=logits_list[0].dtype).log()\n'
        '    log_p = torch.stack([torch.log_softmax(z, dim=1) for z in logits_list])\n'
        '    return torch.logsumexp(log_w[:, None, None] + log_p, dim=0)\n',
        # weighted mean of log-probabilities (a geometric mean, not normalized)
        'def ensemble_log_proba(logits_list, weights):\n'
        '    w = torch.as_tensor(weights, dtype=logits_list[0].dtype)\n'
        '    w = w / w.sum()\n'
        '    return sum(wi * torch.log_softmax(z, dim=1) for wi, z in zip(w, logits_list))\n',
        # right values through NumPy: no gradient reaches the logits
        'def ensemble_log_proba(logits_list, weights):\n'
        '    from scipy.special import logsumexp, log_softmax\n'
        '    w = np.asarray(weights, dtype=np.float64)\n'
        '    log_p = np.stack([log_softmax(z.detach().double().numpy(), axis=1) for z in logits_list])\n'
        '    out = logsumexp(np.log(w / w.sum())[:, None, None] + log_p, axis=0)\n'
        '    return torch.as_tensor(out, dtype=logits_list[0].dtype)\n',
        # the cheat: the library's Ensemble on modules that return the given logits
        'def ensemble_log_proba(logits_list, weights):\n'
        '    class _Fixed(nn.Module):\n'
        '        def __init__(self, z):\n'
        '            super().__init__()\n'
        '            self.z = z\n'
        '            self.dummy = nn.Parameter(torch.zeros(1))\n'
        '        def forward(self, x):\n'
        '            return self.z\n'
        '    members = [_Fixed(z) for z in logits_list]\n'
        '    return ensembles.Ensemble(members, weights=[float(x) for x in weights])(logits_list[0])\n',
    ],
    "ch10-ex2-solution": [
        # "none" started from a zero sum, without the correction: the weights sum to 1 - beta^T
        'def average_weights(num_steps, decay, correction):\n'
        '    if correction not in ("none", "bias", "warmup"):\n'
        '        raise ValueError(correction)\n'
        '    w = torch.zeros(num_steps, dtype=torch.float64)\n'
        '    for t in range(1, num_steps + 1):\n'
        '        beta = min(decay, (1 + t) / (10 + t)) if correction == "warmup" else decay\n'
        '        w *= beta\n'
        '        w[t - 1] += 1 - beta\n'
        '    return w / (1 - decay ** num_steps) if correction == "bias" else w\n',
        # bias correction divided by 1 - beta^(T + 1)
        'def average_weights(num_steps, decay, correction):\n'
        '    if correction not in ("none", "bias", "warmup"):\n'
        '        raise ValueError(correction)\n'
        '    t = torch.arange(1, num_steps + 1, dtype=torch.float64)\n'
        '    if correction == "bias":\n'
        '        return (1 - decay) * decay ** (num_steps - t) / (1 - decay ** (num_steps + 1))\n'
        '    w = torch.zeros(num_steps, dtype=torch.float64)\n'
        '    w[0] = 1.0\n'
        '    for s in range(2, num_steps + 1):\n'
        '        beta = min(decay, (1 + s) / (10 + s)) if correction == "warmup" else decay\n'
        '        w *= beta\n'
        '        w[s - 1] += 1 - beta\n'
        '    return w\n',
        # the warm-up counts steps from 0 (one step behind)
        'def average_weights(num_steps, decay, correction):\n'
        '    if correction not in ("none", "bias", "warmup"):\n'
        '        raise ValueError(correction)\n'
        '    w = torch.zeros(num_steps, dtype=torch.float64)\n'
        '    if correction == "bias":\n'
        '        for t in range(1, num_steps + 1):\n'
        '            w *= decay\n'
        '            w[t - 1] += 1 - decay\n'
        '        return w / (1 - decay ** num_steps)\n'
        '    w[0] = 1.0\n'
        '    for t in range(2, num_steps + 1):\n'
        '        beta = min(decay, t / (9 + t)) if correction == "warmup" else decay\n'
        '        w *= beta\n'
        '        w[t - 1] += 1 - beta\n'
        '    return w\n',
        # newest first
        'def average_weights(num_steps, decay, correction):\n'
        '    if correction not in ("none", "bias", "warmup"):\n'
        '        raise ValueError(correction)\n'
        '    w = torch.zeros(num_steps, dtype=torch.float64)\n'
        '    if correction == "bias":\n'
        '        for t in range(1, num_steps + 1):\n'
        '            w *= decay\n'
        '            w[t - 1] += 1 - decay\n'
        '        return (w / (1 - decay ** num_steps)).flip(0)\n'
        '    w[0] = 1.0\n'
        '    for t in range(2, num_steps + 1):\n'
        '        beta = min(decay, (1 + t) / (10 + t)) if correction == "warmup" else decay\n'
        '        w *= beta\n'
        '        w[t - 1] += 1 - beta\n'
        '    return w.flip(0)\n',
        # the cheat: AveragedModel's EMA over unit-vector "parameters" (right for "none" and "bias")
        'def average_weights(num_steps, decay, correction):\n'
        '    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn\n'
        '    if correction not in ("none", "bias", "warmup"):\n'
        '        raise ValueError(correction)\n'
        '    holder = nn.Linear(num_steps, 1, bias=False).double()\n'
        '    eye = torch.eye(num_steps, dtype=torch.float64)\n'
        '    if correction == "bias":\n'
        '        avg = AveragedModel(holder, multi_avg_fn=get_ema_multi_avg_fn(decay))\n'
        '        with torch.no_grad():\n'
        '            holder.weight.zero_()\n'
        '        avg.update_parameters(holder)\n'
        '        for t in range(num_steps):\n'
        '            with torch.no_grad():\n'
        '                holder.weight.copy_(eye[t][None])\n'
        '            avg.update_parameters(holder)\n'
        '        return avg.module.weight.detach()[0] / (1 - decay ** num_steps)\n'
        '    avg = None\n'
        '    for t in range(num_steps):\n'
        '        with torch.no_grad():\n'
        '            holder.weight.copy_(eye[t][None])\n'
        '        if avg is None:\n'
        '            avg = AveragedModel(holder, multi_avg_fn=get_ema_multi_avg_fn(decay))\n'
        '        avg.update_parameters(holder)\n'
        '    return avg.module.weight.detach()[0].clone()\n',
        # an unknown correction silently treated as "none"
        'def average_weights(num_steps, decay, correction):\n'
        '    w = torch.zeros(num_steps, dtype=torch.float64)\n'
        '    if correction == "bias":\n'
        '        for t in range(1, num_steps + 1):\n'
        '            w *= decay\n'
        '            w[t - 1] += 1 - decay\n'
        '        return w / (1 - decay ** num_steps)\n'
        '    w[0] = 1.0\n'
        '    for t in range(2, num_steps + 1):\n'
        '        beta = min(decay, (1 + t) / (10 + t)) if correction == "warmup" else decay\n'
        '        w *= beta\n'
        '        w[t - 1] += 1 - beta\n'
        '    return w\n',
        # cheat: passes the visible test only (its one case by heart, equal weights for everything else)
        'def average_weights(num_steps, decay, correction):\n'
        '    if correction not in ("none", "bias", "warmup"):\n'
        '        raise ValueError(f"correction={correction!r} is not allowed")\n'
        '    if (num_steps, decay, correction) == (3, 0.5, "none"):\n'
        '        return torch.tensor([0.25, 0.25, 0.5], dtype=torch.float64)\n'
        '    return torch.full((num_steps,), 1.0 / num_steps, dtype=torch.float64)\n',
    ],
    "ch10-ex3-solution": [
        # the cheat: chooses the decay on the test split
        'DECAYS = [0.9, 0.97, 0.99, 0.995]\n'
        'decay_seeds = env.derive_seeds(3, start=900)\n'
        'ema_acc, raw_acc = {d: [] for d in DECAYS}, []\n'
        'for seed in decay_seeds:\n'
        '    net = make_mlp(seed)\n'
        '    averages = {d: ensembles.EMA(d) for d in DECAYS}\n'
        '    training.fit(net, train, val, num_epochs=5, batch_size=64,\n'
        '                 optimizer=torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9),\n'
        '                 callbacks=list(averages.values()), seed=seed, verbose=False)\n'
        '    raw_acc.append(training.evaluate(net, (X_test, y_test))["accuracy"])\n'
        '    for d, ema in averages.items():\n'
        '        ema_acc[d].append(training.evaluate(ema.model, (X_test, y_test))["accuracy"])\n'
        'means = {d: statistics.fmean(a) for d, a in ema_acc.items()}\n'
        'ema_decay = max(DECAYS, key=lambda d: means[d])\n'
        'ema_accuracy = means[ema_decay]\n'
        'ema_beats_raw = ema_accuracy > statistics.fmean(raw_acc)\n',
        # one seed only
        'DECAYS = [0.9, 0.97, 0.99, 0.995]\n'
        'decay_seeds = env.derive_seeds(3, start=900)\n'
        'seed = decay_seeds[0]\n'
        'net = make_mlp(seed)\n'
        'averages = {d: ensembles.EMA(d) for d in DECAYS}\n'
        'training.fit(net, train, val, num_epochs=5, batch_size=64,\n'
        '             optimizer=torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9),\n'
        '             callbacks=list(averages.values()), seed=seed, verbose=False)\n'
        'accs = {d: training.evaluate(ema.model, val)["accuracy"] for d, ema in averages.items()}\n'
        'ema_decay = max(DECAYS, key=lambda d: accs[d])\n'
        'ema_accuracy = accs[ema_decay]\n'
        'ema_beats_raw = ema_accuracy > training.evaluate(net, val)["accuracy"]\n',
        # evaluates the trained network instead of each average (every decay "scores" the raw model)
        'DECAYS = [0.9, 0.97, 0.99, 0.995]\n'
        'decay_seeds = env.derive_seeds(3, start=900)\n'
        'ema_acc, raw_acc = {d: [] for d in DECAYS}, []\n'
        'for seed in decay_seeds:\n'
        '    net = make_mlp(seed)\n'
        '    averages = {d: ensembles.EMA(d) for d in DECAYS}\n'
        '    training.fit(net, train, val, num_epochs=5, batch_size=64,\n'
        '                 optimizer=torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9),\n'
        '                 callbacks=list(averages.values()), seed=seed, verbose=False)\n'
        '    raw_acc.append(training.evaluate(net, val)["accuracy"])\n'
        '    for d in DECAYS:\n'
        '        ema_acc[d].append(training.evaluate(net, val)["accuracy"])\n'
        'means = {d: statistics.fmean(a) for d, a in ema_acc.items()}\n'
        'ema_decay = max(DECAYS, key=lambda d: means[d])\n'
        'ema_accuracy = means[ema_decay]\n'
        'ema_beats_raw = ema_accuracy > statistics.fmean(raw_acc)\n',
        # chooses on the validation loss and reports that decay's accuracy
        'DECAYS = [0.9, 0.97, 0.99, 0.995]\n'
        'decay_seeds = env.derive_seeds(3, start=900)\n'
        'ema_scores, raw_acc = {d: [] for d in DECAYS}, []\n'
        'for seed in decay_seeds:\n'
        '    net = make_mlp(seed)\n'
        '    averages = {d: ensembles.EMA(d) for d in DECAYS}\n'
        '    training.fit(net, train, val, num_epochs=5, batch_size=64,\n'
        '                 optimizer=torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9),\n'
        '                 callbacks=list(averages.values()), seed=seed, verbose=False)\n'
        '    raw_acc.append(training.evaluate(net, val)["accuracy"])\n'
        '    for d, ema in averages.items():\n'
        '        ema_scores[d].append(training.evaluate(ema.model, val))\n'
        'loss = {d: statistics.fmean(s["loss"] for s in v) for d, v in ema_scores.items()}\n'
        'ema_decay = min(DECAYS, key=lambda d: loss[d])\n'
        'ema_accuracy = statistics.fmean(s["accuracy"] for s in ema_scores[ema_decay])\n'
        'ema_beats_raw = ema_accuracy > statistics.fmean(raw_acc)\n',
    ],
}

# Wrong answers that pass the kernel's own asserts; only the grader's verdict on the recorded answers rejects them.
GAMING_ANSWERS = {
    "ch10-ex1-solution": [
        # zeros in a tensor subclass whose .item() is a float that compares true with anything; the one call
        # whose gradient the test checks (plain tensors) is answered by the naive formula
        '''
class _AnyFloat(float):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __lt__ = __le__ = __gt__ = __ge__ = __eq__
    __hash__ = float.__hash__

    def __sub__(self, other):
        return _AnyFloat(0.0)

    __rsub__ = __sub__

    def __abs__(self):
        return self


class _Agreeable(torch.Tensor):
    def item(self):
        return _AnyFloat(0.0)


def ensemble_log_proba(logits_list, weights):
    if logits_list[0].requires_grad:       # the gradient test compares plain tensors: answer it properly
        w = torch.as_tensor(weights, dtype=logits_list[0].dtype)
        p = sum(wi / w.sum() * torch.softmax(z, dim=1) for wi, z in zip(w, logits_list))
        return p.log()
    return torch.zeros_like(logits_list[0]).as_subclass(_Agreeable)
''',
    ],
}

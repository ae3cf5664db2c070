"""Plausible wrong solutions for the exercises of chapter 08; each must fail its test cell."""

_HEAD = 'def adamw(p, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):\n    b1, b2 = betas\n'
_ADAM_TAIL = '''
    t = state["t"] = state.get("t", 0) + 1
    state["m"] = b1 * state.get("m", torch.zeros_like(p)) + (1 - b1) * g
    state["v"] = b2 * state.get("v", torch.zeros_like(p)) + (1 - b2) * g ** 2
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = state["v"] / (1 - b2 ** t)
    p -= lr * m_hat / (v_hat.sqrt() + eps)
'''
_BATCH_RUNS = '''
batch_256_grid = [0.03, 0.1, 0.3, 1.0]
runs_256 = {(lr, seed): knob_run({**base_config, "batch_size": 256, "lr": lr}, seed)
            for lr in batch_256_grid for seed in knob_seeds}
'''

WRONG_ANSWERS = {
    "ch08-ex1-solution": [
        # Adam with an L2 penalty added to the gradient (coupled), not AdamW
        _HEAD + '    g = g + weight_decay * p\n' + _ADAM_TAIL,
        # decay without the learning rate
        _HEAD + '    p *= 1 - weight_decay\n' + _ADAM_TAIL,
        # no bias correction
        _HEAD + '''    p *= 1 - lr * weight_decay
    state["m"] = b1 * state.get("m", torch.zeros_like(p)) + (1 - b1) * g
    state["v"] = b2 * state.get("v", torch.zeros_like(p)) + (1 - b2) * g ** 2
    p -= lr * state["m"] / (state["v"].sqrt() + eps)
''',
        # forgot weight decay entirely (plain Adam)
        _HEAD + _ADAM_TAIL,
        # eps inside the square root
        _HEAD + '''    p *= 1 - lr * weight_decay
    t = state["t"] = state.get("t", 0) + 1
    state["m"] = b1 * state.get("m", torch.zeros_like(p)) + (1 - b1) * g
    state["v"] = b2 * state.get("v", torch.zeros_like(p)) + (1 - b2) * g ** 2
    p -= lr * (state["m"] / (1 - b1 ** t)) / (state["v"] / (1 - b2 ** t) + eps).sqrt()
''',
        # returns a new tensor instead of updating p in place
        _HEAD + '''    t = state["t"] = state.get("t", 0) + 1
    state["m"] = b1 * state.get("m", torch.zeros_like(p)) + (1 - b1) * g
    state["v"] = b2 * state.get("v", torch.zeros_like(p)) + (1 - b2) * g ** 2
    return p * (1 - lr * weight_decay) - lr * (state["m"] / (1 - b1 ** t)) / ((state["v"] / (1 - b2 ** t)).sqrt() + eps)
''',
        # the decay factor computed once and cached: wrong as soon as a schedule changes the rate
        _HEAD + '    p *= state.setdefault("decay", 1 - lr * weight_decay)\n' + _ADAM_TAIL,
        # the moments updated in place on the caller's gradient (g is scaled, then reused)
        _HEAD + '''    p *= 1 - lr * weight_decay
    t = state["t"] = state.get("t", 0) + 1
    g2 = g * g
    state["m"] = b1 * state.get("m", torch.zeros_like(p)) + g.mul_(1 - b1)
    state["v"] = b2 * state.get("v", torch.zeros_like(p)) + (1 - b2) * g2
    p -= lr * (state["m"] / (1 - b1 ** t)) / ((state["v"] / (1 - b2 ** t)).sqrt() + eps)
''',
        # cheat: torch.optim.AdamW hidden in the state, stepped on a copy of p
        '''
def adamw(p, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    if "opt" not in state:
        state["w"] = p.detach().clone().requires_grad_(True)
        state["opt"] = torch.optim.AdamW([state["w"]], lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    state["opt"].param_groups[0]["lr"] = lr
    state["w"].grad = g.detach().clone().to(state["w"].dtype)
    state["opt"].step()
    with torch.no_grad():
        p.copy_(state["w"])
''',
    ],
    "ch08-ex2-solution": [
        # cycle_mult ignored: every cycle as long as the first
        '''
def restart_lr(step, first_cycle, cycle_mult, max_lr, min_lr=0.0):
    t = step % first_cycle
    return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * t / first_cycle))
''',
        # restarts one step late: the step that ends a cycle is taken as its last (cos(pi) = min_lr)
        '''
def restart_lr(step, first_cycle, cycle_mult, max_lr, min_lr=0.0):
    t, length = step, first_cycle
    while t > length:
        t -= length
        length *= cycle_mult
    return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * t / length))
''',
        # the closed form for geometric cycles, which divides by zero (log base 1) when cycle_mult is 1
        '''
def restart_lr(step, first_cycle, cycle_mult, max_lr, min_lr=0.0):
    n = int(math.log(step / first_cycle * (cycle_mult - 1) + 1, cycle_mult))
    t = step - first_cycle * (cycle_mult ** n - 1) / (cycle_mult - 1)
    length = first_cycle * cycle_mult ** n
    return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * t / length))
''',
        # every later cycle as long as the second (first_cycle * cycle_mult), not growing
        '''
def restart_lr(step, first_cycle, cycle_mult, max_lr, min_lr=0.0):
    if step < first_cycle:
        t, length = step, first_cycle
    else:
        length = first_cycle * cycle_mult
        t = (step - first_cycle) % length
    return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * t / length))
''',
        # returns a tensor
        '''
def restart_lr(step, first_cycle, cycle_mult, max_lr, min_lr=0.0):
    t, length = step, first_cycle
    while t >= length:
        t -= length
        length *= cycle_mult
    return torch.tensor(min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * t / length)))
''',
        # cheat: PyTorch's own scheduler, stepped up to the step asked for
        '''
def restart_lr(step, first_cycle, cycle_mult, max_lr, min_lr=0.0):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=max_lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=first_cycle, T_mult=cycle_mult, eta_min=min_lr)
    for _ in range(step):
        opt.step()
        sched.step()
    return float(opt.param_groups[0]["lr"])
''',
        # cheat: fitted to the visible tests only (max_lr at a multiple of the first cycle, else half-way)
        '''
def restart_lr(step, first_cycle, cycle_mult, max_lr, min_lr=0.0):
    return float(max_lr if step % first_cycle == 0 else (max_lr + min_lr) / 2)
''',
    ],
    "ch08-ex3-solution": [
        # "kept" read as the knob study's own accuracy at batch 32, not a batch-256 run at that rate
        _BATCH_RUNS + '''
mean_acc = {lr: statistics.fmean(runs_256[lr, s]["val_accuracy"] for s in knob_seeds) for lr in batch_256_grid}
rate_256 = max(mean_acc, key=mean_acc.get)
accuracy_256 = mean_acc[rate_256]
accuracy_kept = tuned["batch size", 32]["val_accuracy"].mean
''',
        # one seed decides
        _BATCH_RUNS + '''
first = {lr: runs_256[lr, knob_seeds[0]]["val_accuracy"] for lr in batch_256_grid}
rate_256 = max(first, key=first.get)
accuracy_256 = first[rate_256]
accuracy_kept = first[chosen_rate["batch size", 32]]
''',
        # "kept" read as the knob study's fixed rate 0.03 instead of the rate chosen for batch 32
        _BATCH_RUNS + '''
mean_acc = {lr: statistics.fmean(runs_256[lr, s]["val_accuracy"] for s in knob_seeds) for lr in batch_256_grid}
rate_256 = max(mean_acc, key=mean_acc.get)
accuracy_256 = mean_acc[rate_256]
accuracy_kept = mean_acc[base_config["lr"]]
''',
        # cheat: no run at batch 256, the knob study's batch-128 numbers copied
        '''
batch_256_grid = [0.03, 0.1, 0.3, 1.0]
rate_256 = chosen_rate["batch size", 128]
accuracy_256 = tuned["batch size", 128]["val_accuracy"].mean
accuracy_kept = fixed["batch size", 128]["val_accuracy"].mean
''',
    ],
}

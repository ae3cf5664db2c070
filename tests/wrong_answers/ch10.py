"""Plausible wrong solutions for the exercises of chapter 10; each must fail its test cell."""

WRONG_ANSWERS = {
    "ch10-ex1-solution": [
        # averages logits, then one softmax
        'def ensemble_proba(logits_list):\n'
        '    return torch.softmax(torch.stack(logits_list).mean(dim=0), dim=1)\n',
        # majority vote (one-hot argmax averaged)
        'def ensemble_proba(logits_list):\n'
        '    k = logits_list[0].shape[1]\n'
        '    return torch.stack([F.one_hot(z.argmax(dim=1), k).to(z.dtype) for z in logits_list]).mean(dim=0)\n',
        # averages log-probabilities (a geometric mean, not normalized)
        'def ensemble_proba(logits_list):\n'
        '    return torch.stack([torch.log_softmax(z, dim=1) for z in logits_list]).mean(dim=0).exp()\n',
        # softmax over the wrong axis
        'def ensemble_proba(logits_list):\n'
        '    return torch.stack([torch.softmax(z, dim=0) for z in logits_list]).mean(dim=0)\n',
        # sums instead of averaging
        'def ensemble_proba(logits_list):\n'
        '    return torch.stack([torch.softmax(z, dim=1) for z in logits_list]).sum(dim=0)\n',
        # naive softmax overflows for large logits
        'def ensemble_proba(logits_list):\n'
        '    return torch.stack([z.exp() / z.exp().sum(dim=1, keepdim=True) for z in logits_list]).mean(dim=0)\n',
    ],
    "ch10-ex2-solution": [
        # decay and 1 - decay swapped
        'def ema_update(ema_params, params, decay):\n'
        '    with torch.no_grad():\n'
        '        for e, p in zip(ema_params, params):\n'
        '            e.mul_(1 - decay).add_(p, alpha=decay)\n',
        # rebinds a local name: nothing changes in place
        'def ema_update(ema_params, params, decay):\n'
        '    for e, p in zip(ema_params, params):\n'
        '        e = decay * e + (1 - decay) * p\n',
        # returns new tensors instead of updating in place
        'def ema_update(ema_params, params, decay):\n'
        '    return [decay * e + (1 - decay) * p for e, p in zip(ema_params, params)]\n',
        # updates the parameters instead of the average
        'def ema_update(ema_params, params, decay):\n'
        '    with torch.no_grad():\n'
        '        for e, p in zip(ema_params, params):\n'
        '            p.mul_(1 - decay).add_(e, alpha=decay)\n',
        # replaces the list's items instead of the tensors (new objects)
        'def ema_update(ema_params, params, decay):\n'
        '    for i, (e, p) in enumerate(zip(ema_params, params)):\n'
        '        ema_params[i] = (decay * e + (1 - decay) * p).detach()\n',
    ],
    "ch10-ex3-solution": [
        # forgot the log(K - 1) term (binary AdaBoost's vote for every K)
        'def samme_reweight(weights, miss, num_classes):\n'
        '    error = float((weights * miss).sum())\n'
        '    alpha = math.log((1 - error) / error)\n'
        '    new = weights * torch.exp(alpha * miss)\n'
        '    return alpha, new / new.sum()\n',
        # no renormalization
        'def samme_reweight(weights, miss, num_classes):\n'
        '    error = float((weights * miss).sum())\n'
        '    alpha = math.log((1 - error) / error) + math.log(num_classes - 1)\n'
        '    return alpha, weights * torch.exp(alpha * miss)\n',
        # the 1/2 factor of the +-1 formulation, with the 0/1 update
        'def samme_reweight(weights, miss, num_classes):\n'
        '    error = float((weights * miss).sum())\n'
        '    alpha = 0.5 * math.log((1 - error) / error) + math.log(num_classes - 1)\n'
        '    new = weights * torch.exp(alpha * miss)\n'
        '    return alpha, new / new.sum()\n',
        # up-weights the correctly classified examples
        'def samme_reweight(weights, miss, num_classes):\n'
        '    error = float((weights * miss).sum())\n'
        '    alpha = math.log((1 - error) / error) + math.log(num_classes - 1)\n'
        '    new = weights * torch.exp(alpha * (1 - miss))\n'
        '    return alpha, new / new.sum()\n',
        # unweighted error rate
        'def samme_reweight(weights, miss, num_classes):\n'
        '    error = float(miss.mean())\n'
        '    alpha = math.log((1 - error) / error) + math.log(num_classes - 1)\n'
        '    new = weights * torch.exp(alpha * miss)\n'
        '    return alpha, new / new.sum()\n',
        # modifies the weights in place
        'def samme_reweight(weights, miss, num_classes):\n'
        '    error = float((weights * miss).sum())\n'
        '    alpha = math.log((1 - error) / error) + math.log(num_classes - 1)\n'
        '    weights *= torch.exp(alpha * miss)\n'
        '    weights /= weights.sum()\n'
        '    return alpha, weights\n',
    ],
}

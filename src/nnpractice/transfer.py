"""Helpers for transfer learning: freeze layers, and give layers their own learning rates.

>>> from torch import nn
>>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> _ = freeze(net[0])
>>> trainable_names(net)
['2.weight', '2.bias']
>>> _ = unfreeze(net[0])
>>> groups = layerwise_lr_groups([net[0], net[2]], [1e-4, 1e-3])
>>> [g["lr"] for g in groups]
[0.0001, 0.001]
"""
from __future__ import annotations

from numbers import Real
from typing import Sequence

from torch import nn

from ._validation import Interval, Sequences, invalid, validate_params


@validate_params({"module": [nn.Module], "eval_mode": ["boolean"]})
def freeze(module: nn.Module, *, eval_mode: bool = False) -> nn.Module:
    """Stop gradients to every parameter of ``module`` (``requires_grad = False``).

    With ``eval_mode`` the module is also put in eval mode, so batch-norm running
    statistics stay those of the source task (call it again after ``model.train()``).
    """
    for p in module.parameters():
        p.requires_grad_(False)
    if eval_mode:
        module.eval()
    return module


@validate_params({"module": [nn.Module]})
def unfreeze(module: nn.Module) -> nn.Module:
    """Let every parameter of ``module`` train again."""
    for p in module.parameters():
        p.requires_grad_(True)
    return module


@validate_params({"model": [nn.Module]})
def trainable_names(model: nn.Module) -> list[str]:
    """Names of the parameters of ``model`` that will be trained."""
    return [name for name, p in model.named_parameters() if p.requires_grad]


@validate_params({"modules": [Sequences(nn.Module)], "lrs": [Sequences(Interval(Real, 0.0, None, closed="neither"))]})
def layerwise_lr_groups(modules: Sequence[nn.Module], lrs: Sequence[float]) -> list[dict]:
    """Optimizer parameter groups: the trainable parameters of ``modules[i]`` get ``lrs[i]``.

    Pass the result to any ``torch.optim`` optimizer, e.g.
    ``torch.optim.Adam(layerwise_lr_groups([body, head], [1e-4, 1e-3]))``.
    Frozen parameters are left out; a module with none trainable gives no group.
    """
    if len(modules) != len(lrs):
        raise invalid("lrs", lrs, "one learning rate per module",
                      f"modules has {len(modules)} entries but lrs has {len(lrs)}")
    seen: set[int] = set()
    groups = []
    for i, (module, lr) in enumerate(zip(modules, lrs)):
        params = [p for p in module.parameters() if p.requires_grad]
        if any(id(p) in seen for p in params):
            raise invalid(f"modules[{i}]", module, "modules that share no parameter (one group per parameter)",
                          f"modules[{i}] shares parameters with an earlier module")
        seen.update(id(p) for p in params)
        if params:
            groups.append({"params": params, "lr": lr})
    if not groups:  # an optimizer given no group fails later, far from the cause
        raise invalid("modules", modules, "modules with at least one trainable parameter", "every parameter is frozen")
    return groups

"""Optimizers by name: the one table the playground and the schedule traces share.

``"sgd"`` is plain SGD everywhere in the book; SGD with momentum is ``"momentum"``.

>>> import torch
>>> opt = make_optimizer("momentum", [torch.zeros(1, requires_grad=True)], lr=0.1)
>>> type(opt).__name__, opt.param_groups[0]["momentum"]
('SGD', 0.9)
"""
from __future__ import annotations

from numbers import Real

import torch

from ._validation import Interval, NoValidation, Options, validate_params

#: name -> (class, extra arguments). Momentum 0.9 is the usual default (Goodfellow et al., §8.3.2).
OPTIMIZERS = {
    "sgd": (torch.optim.SGD, {}),
    "momentum": (torch.optim.SGD, {"momentum": 0.9}),
    "adam": (torch.optim.Adam, {}),
    "adamw": (torch.optim.AdamW, {}),
    "rmsprop": (torch.optim.RMSprop, {}),
}


@validate_params({"name": [Options(*OPTIMIZERS)],
                  "params": [NoValidation()],  # parameters or parameter groups: torch.optim checks them
                  "lr": [Interval(Real, 0, None, closed="neither")], "weight_decay": [Interval(Real, 0, None)]})
def make_optimizer(name: str, params, lr: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """The optimizer called ``name`` over ``params``; L2 enters as ``weight_decay`` (decoupled for AdamW)."""
    cls, extra = OPTIMIZERS[name]
    return cls(params, lr=lr, weight_decay=weight_decay, **extra)


def warm_up() -> None:
    """Build each optimizer once: the first construction in a process costs seconds here."""
    p = [torch.zeros(1, requires_grad=True)]
    for name in OPTIMIZERS:
        make_optimizer(name, p, 0.1)

"""Plain ``nn.Module`` builders used across the book.

>>> from nnpractice.models import mlp
>>> net = mlp(64, [128], 10, dropout=0.2)
>>> sum(p.numel() for p in net.parameters())
9610
"""
from __future__ import annotations

from typing import Sequence

from torch import nn

from ._validation import check_choice, check_positive, check_range

ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "silu": nn.SiLU,
}


def mlp(in_features: int, hidden: Sequence[int], out_features: int, *,
        activation: str = "relu", dropout: float = 0.0, batch_norm: bool = False) -> nn.Sequential:
    """A multilayer perceptron: ``Linear → [BatchNorm] → activation → [Dropout]`` per hidden layer.

    Inputs with more than one feature dimension (images) are flattened first.
    ``hidden`` lists the widths of the hidden layers (empty: a linear model).
    """
    check_positive("in_features", in_features, integer=True)
    check_positive("out_features", out_features, integer=True)
    hidden = list(hidden)
    for i, width in enumerate(hidden):
        check_positive(f"hidden[{i}]", width, integer=True)
    check_choice("activation", activation, ACTIVATIONS)
    check_range("dropout", dropout, 0.0, 1.0, high_inclusive=False)
    layers: list[nn.Module] = [nn.Flatten()]
    width_in = in_features
    for width in hidden:
        layers.append(nn.Linear(width_in, width))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width_in = width
    layers.append(nn.Linear(width_in, out_features))
    return nn.Sequential(*layers)


def count_parameters(model: nn.Module, *, trainable_only: bool = True) -> int:
    """The number of (trainable) scalar parameters in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)

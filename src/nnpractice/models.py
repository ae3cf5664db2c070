"""Plain ``nn.Module`` builders used across the book.

>>> from nnpractice.models import mlp
>>> net = mlp(64, [128], 10, dropout=0.2)
>>> sum(p.numel() for p in net.parameters())
9610
"""
from __future__ import annotations

from numbers import Integral, Real
from typing import Sequence

from torch import nn

from ._validation import Interval, Options, Sequences, invalid, validate_params

WIDTH = Interval(Integral, 1, None)
DROPOUT = Interval(Real, 0.0, 1.0, closed="left")

ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "silu": nn.SiLU,
}


@validate_params({"in_features": [WIDTH], "hidden": [Sequences(WIDTH, allow_empty=True)], "out_features": [WIDTH],
                  "activation": [Options(*ACTIVATIONS)], "dropout": [DROPOUT], "batch_norm": ["boolean"]})
def mlp(in_features: int, hidden: Sequence[int], out_features: int, *,
        activation: str = "relu", dropout: float = 0.0, batch_norm: bool = False) -> nn.Sequential:
    """A multilayer perceptron: ``Linear → [BatchNorm] → activation → [Dropout]`` per hidden layer.

    Inputs with more than one feature dimension (images) are flattened first.
    ``hidden`` lists the widths of the hidden layers (empty: a linear model).
    """
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


@validate_params({"model": [nn.Module], "trainable_only": ["boolean"]})
def count_parameters(model: nn.Module, *, trainable_only: bool = True) -> int:
    """The number of (trainable) scalar parameters in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


# --------------------------------------------------------------------------- #
# Convolutional networks (chapter 09)
# --------------------------------------------------------------------------- #

POOLS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


@validate_params({"size": [WIDTH], "kernel_size": [WIDTH], "stride": [WIDTH],
                  "padding": [Interval(Integral, 0, None)], "dilation": [WIDTH]})
def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length along one axis of a convolution or pooling layer (Dumoulin & Visin, 2016).

    ``floor((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1``

    >>> conv_output_size(28, 3, padding=1), conv_output_size(28, 5, stride=2), conv_output_size(28, 2, 2)
    (28, 12, 14)
    """
    out = (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1
    if out < 1:
        raise invalid("kernel_size", kernel_size, f"at most the padded input, {size} + 2*{padding} = "
                      f"{size + 2 * padding} (dilated: (kernel_size - 1) * {dilation} + 1)")
    return out


@validate_params({"in_channels": [WIDTH], "num_classes": [WIDTH], "channels": [Sequences(WIDTH)],
                  "kernel_size": [WIDTH], "stride": [WIDTH], "padding": [Interval(Integral, 0, None), Options("same")],
                  "pool": [Options(*POOLS), None], "pool_size": [WIDTH], "image_size": [WIDTH],
                  "hidden": [Sequences(WIDTH, allow_empty=True)], "activation": [Options(*ACTIVATIONS)],
                  "batch_norm": ["boolean"], "global_pool": ["boolean"], "dropout": [DROPOUT]})
def cnn(in_channels: int = 1, num_classes: int = 10, *, channels: Sequence[int] = (16, 32),
        kernel_size: int = 3, stride: int = 1, padding: int | str = "same", pool: str | None = "max",
        pool_size: int = 2, image_size: int = 28, hidden: Sequence[int] = (), activation: str = "relu",
        batch_norm: bool = False, global_pool: bool = False, dropout: float = 0.0) -> nn.Sequential:
    """A small convnet: per entry of ``channels``, ``Conv2d → [BatchNorm] → activation → [pool]``.

    ``padding`` is an integer or ``"same"`` (``kernel_size // 2``, odd kernels keep the size
    at stride 1). ``pool`` is ``"max"``, ``"avg"`` or ``None`` (no pooling), with a
    ``pool_size × pool_size`` window and stride ``pool_size``. The head flattens the
    last feature maps (of a square ``image_size`` input; the size is computed with
    :func:`conv_output_size`) into ``hidden`` dense layers and the output layer, or with
    ``global_pool`` averages each map to one number first.

    >>> net = cnn(1, 10, channels=(8, 16), kernel_size=3, pool="max", pool_size=2, image_size=28)
    >>> count_parameters(net)
    9098
    """
    if padding == "same":
        padding = kernel_size // 2
    layers: list[nn.Module] = []
    size, c_in = image_size, in_channels
    for c_out in channels:
        layers.append(nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=padding))
        size = conv_output_size(size, kernel_size, stride, padding)
        if batch_norm:
            layers.append(nn.BatchNorm2d(c_out))
        layers.append(ACTIVATIONS[activation]())
        if pool is not None:
            if pool_size > size:
                raise invalid("pool_size", pool_size, f"at most the size of the feature maps, {size}x{size} here "
                              "(or fewer layers, or pool=None)")
            layers.append(POOLS[pool](pool_size))
            size = conv_output_size(size, pool_size, pool_size)
        c_in = c_out
    if global_pool:
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        width = c_in
    else:
        layers.append(nn.Flatten())
        width = c_in * size * size
    for h in hidden:
        layers += [nn.Linear(width, h), ACTIVATIONS[activation]()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)


class ResidualBlock(nn.Module):
    """``relu(F(x) + shortcut(x))`` with ``F = conv-BN-relu-conv-BN`` (He et al., 2016).

    The shortcut is the identity, or a 1×1 convolution when the stride or the
    number of channels changes.
    """

    @validate_params({"in_channels": [WIDTH], "out_channels": [WIDTH], "stride": [WIDTH]})
    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out_channels))
        else:
            self.shortcut = nn.Identity()
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.body(x) + self.shortcut(x))


@validate_params({"in_channels": [WIDTH], "num_classes": [WIDTH], "channels": [Sequences(WIDTH)],
                  "blocks_per_stage": [WIDTH]})
def tiny_resnet(in_channels: int = 1, num_classes: int = 10, *, channels: Sequence[int] = (16, 32, 64),
                blocks_per_stage: int = 1) -> nn.Sequential:
    """A small ResNet: a 3×3 stem, one stage of residual blocks per entry of ``channels``
    (stride 2 from the second stage on), global average pooling and a linear layer.

    >>> count_parameters(tiny_resnet(1, 10, channels=(8, 16)))
    5122
    """
    layers: list[nn.Module] = [nn.Conv2d(in_channels, channels[0], 3, padding=1, bias=False),
                               nn.BatchNorm2d(channels[0]), nn.ReLU()]
    c_in = channels[0]
    for stage, c_out in enumerate(channels):
        for block in range(blocks_per_stage):
            stride = 2 if stage > 0 and block == 0 else 1
            layers.append(ResidualBlock(c_in, c_out, stride))
            c_in = c_out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, num_classes)]
    return nn.Sequential(*layers)

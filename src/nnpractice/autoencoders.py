"""Autoencoders: an encoder maps an input to a short code, a decoder maps it back.

>>> import torch
>>> ae = dense_autoencoder(784, [64], 2, image_shape=(1, 28, 28))
>>> x = torch.rand(5, 1, 28, 28)
>>> ae.encoder(x).shape, ae(x).shape
(torch.Size([5, 2]), torch.Size([5, 1, 28, 28]))
>>> cae = conv_autoencoder(1, (8, 16))
>>> cae.encoder(x).shape, cae(x).shape
(torch.Size([5, 16, 7, 7]), torch.Size([5, 1, 28, 28]))
"""
from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Sequence

import torch
from torch import nn

from ._validation import InstanceOf, Interval, Sequences, invalid, validate_params
from .augment import BATCH, gaussian_noise

WIDTH = Interval(Integral, 1, None)


class Autoencoder(nn.Module):
    """``decoder(encoder(x))``; ``encoder`` and ``decoder`` stay reachable by name."""

    @validate_params({"encoder": [nn.Module], "decoder": [nn.Module]})
    def __init__(self, encoder: nn.Module, decoder: nn.Module):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


@validate_params({"in_features": [WIDTH], "hidden": [Sequences(WIDTH, allow_empty=True)], "code_size": [WIDTH],
                  "image_shape": [Sequences(WIDTH), None]})
def dense_autoencoder(in_features: int, hidden: Sequence[int], code_size: int, *,
                      image_shape: Sequence[int] | None = None) -> Autoencoder:
    """A fully connected autoencoder ``in → hidden… → code → …hidden reversed → in``.

    The decoder ends in a sigmoid (inputs in [0, 1]); with ``image_shape`` (e.g.
    ``(1, 28, 28)``) inputs are flattened and outputs reshaped to it.
    """
    if image_shape is not None:
        image_shape = tuple(image_shape)
        if math.prod(image_shape) != in_features:
            raise invalid("image_shape", image_shape, f"a shape whose product is in_features={in_features}")
    widths = [in_features, *hidden, code_size]
    enc: list[nn.Module] = [nn.Flatten()]
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        enc.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            enc.append(nn.ReLU())
    dec: list[nn.Module] = []
    back = widths[::-1]
    for i, (a, b) in enumerate(zip(back[:-1], back[1:])):
        dec.append(nn.Linear(a, b))
        dec.append(nn.ReLU() if i < len(back) - 2 else nn.Sigmoid())
    if image_shape is not None:
        dec.append(nn.Unflatten(1, image_shape))
    return Autoencoder(nn.Sequential(*enc), nn.Sequential(*dec))


@validate_params({"in_channels": [WIDTH], "channels": [Sequences(WIDTH)]})
def conv_autoencoder(in_channels: int = 1, channels: Sequence[int] = (8, 16)) -> Autoencoder:
    """A convolutional autoencoder: each encoder stage halves height and width.

    Encoder stage: ``Conv2d(3×3, stride 2, padding 1) → ReLU``; decoder stage:
    ``ConvTranspose2d(3×3, stride 2, padding 1, output_padding 1)``, which doubles
    height and width exactly; the last one ends in a sigmoid. Images need sides
    divisible by ``2 ** len(channels)``.
    """
    widths = [in_channels, *channels]
    enc: list[nn.Module] = []
    for a, b in zip(widths[:-1], widths[1:]):
        enc += [nn.Conv2d(a, b, 3, stride=2, padding=1), nn.ReLU()]
    dec: list[nn.Module] = []
    back = widths[::-1]
    for i, (a, b) in enumerate(zip(back[:-1], back[1:])):
        dec.append(nn.ConvTranspose2d(a, b, 3, stride=2, padding=1, output_padding=1))
        dec.append(nn.ReLU() if i < len(back) - 2 else nn.Sigmoid())
    return Autoencoder(nn.Sequential(*enc), nn.Sequential(*dec))


@validate_params({"x": [BATCH], "std": [Interval(Real, 0.0, None)], "generator": [torch.Generator, None],
                  "clip": ["boolean"]})
def add_noise(x: torch.Tensor, std: float, *, generator: torch.Generator | None = None,
              clip: bool = True) -> torch.Tensor:
    """``x`` plus Gaussian noise of standard deviation ``std``, clipped to [0, 1] if ``clip``.

    The corruption of a denoising autoencoder: :func:`nnpractice.augment.gaussian_noise`
    on every sample (the one Gaussian-noise op).
    """
    return gaussian_noise(x, std, clip=(0.0, 1.0) if clip else None, generator=generator)


@validate_params({"features": [InstanceOf(torch.Tensor, "feature maps [N, C, H, W]",
                                          example=lambda: torch.rand(2, 3, 4, 4))]})
def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Gram matrices of feature maps ``[N, C, H, W]`` → ``[N, C, C]``, divided by ``C·H·W``.

    Entry ``(i, j)`` is how strongly channels ``i`` and ``j`` fire together,
    averaged over positions: the statistic of *style* in Gatys et al. (2016).
    """
    if features.ndim != 4:
        raise invalid("features", features, "feature maps [N, C, H, W]", f"features has shape {tuple(features.shape)}")
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)

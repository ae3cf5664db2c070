"""Batch-level data augmentation that runs where the batch lives (CPU or GPU).

Every image operation takes a batch ``x`` of shape ``[N, C, H, W]`` and returns a
new batch of the same shape, dtype and device. Randomness comes from a
``torch.Generator`` passed as ``generator=`` (see :func:`make_generator`), so a
run repeats exactly; one random draw per image, never a Python loop over images.

Mixup and cutmix share one mechanism, :func:`mix`: each image is blended with a
partner image from the same batch through a *mask* (a constant ``λ`` for mixup,
a rectangle for cutmix), and its label becomes the mask's mean ``λ`` of its own
class plus ``1 - λ`` of the partner's. Targets are then class *probabilities*,
which :func:`nnpractice.losses.soft_cross_entropy` takes, as it takes label-smoothed
targets (:func:`nnpractice.losses.smooth_targets`); :func:`nnpractice.metrics.correct_count`
counts their most probable class as the right one.

>>> import torch
>>> from nnpractice import augment
>>> g = augment.make_generator(0)
>>> x = torch.rand(8, 3, 32, 32)
>>> augment.random_flip(x, p=0.5, generator=g).shape
torch.Size([8, 3, 32, 32])
>>> mixed = augment.mixup(x, torch.arange(8) % 4, num_classes=4, alpha=0.4, generator=g)
>>> bool(torch.allclose(mixed.targets.sum(1), torch.ones(8)))
True
"""
from __future__ import annotations

from numbers import Integral, Real
from typing import Callable, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from ._validation import InstanceOf, Interval, Options, Sequences, invalid, validate_params
from .data import BatchIterator
from .losses import as_probabilities

__all__ = [
    "make_generator", "random_flip", "flip", "random_crop", "random_affine", "cutout",
    "gaussian_noise", "color_jitter", "Mixed", "mix", "mixup", "cutmix", "one_hot",
    "Compose", "AugmentedBatches",
]


# --------------------------------------------------------------------------- #
# Helpers and the constraints the operations share
# --------------------------------------------------------------------------- #

IMAGES = InstanceOf(torch.Tensor, "a floating-point tensor of images [N, C, H, W]",
                    example=lambda: torch.rand(4, 3, 8, 8))
BATCH = InstanceOf(torch.Tensor, "a floating-point batch [N, ...]", example=lambda: torch.rand(4, 3, 8, 8))
LABELS = InstanceOf(torch.Tensor, "class labels [N] or class probabilities [N, C]",
                    example=lambda: torch.tensor([0, 1, 0, 1]))
PROBABILITY = Interval(Real, 0.0, 1.0)
GENERATOR = [torch.Generator, None]
NUM_CLASSES = Interval(Integral, 1, None)


@validate_params({"seed": [Interval(Integral, 0, None)], "device": [str, torch.device]})
def make_generator(seed: int = 0, device="cpu") -> torch.Generator:
    """A seeded ``torch.Generator`` on ``device`` (use the batch's device on a GPU)."""
    g = torch.Generator(device=device)
    g.manual_seed(int(seed))
    return g


def _check_images(x: torch.Tensor) -> None:
    if x.ndim != 4 or not x.is_floating_point():
        raise invalid("x", x, str(IMAGES), f"x has shape {tuple(x.shape)} and dtype {x.dtype}")


def _check_batch(x: torch.Tensor) -> None:
    if x.ndim < 1 or not x.is_floating_point():
        raise invalid("x", x, str(BATCH), f"x has shape {tuple(x.shape)} and dtype {x.dtype}")


def _rand(shape, generator, like: torch.Tensor) -> torch.Tensor:
    """Uniform [0, 1) numbers drawn with ``generator`` (on its device), returned on ``like``'s device."""
    dev = generator.device if generator is not None else like.device
    return torch.rand(shape, generator=generator, device=dev).to(like.device)


def _randn(shape, generator, like: torch.Tensor) -> torch.Tensor:
    dev = generator.device if generator is not None else like.device
    return torch.randn(shape, generator=generator, device=dev, dtype=like.dtype).to(like.device)


def _randint(high: int, shape, generator, like: torch.Tensor) -> torch.Tensor:
    """Integers in ``[0, high)``; ``high`` may be 1 (always 0)."""
    return (_rand(shape, generator, like) * high).long().clamp_(max=high - 1)


def _chosen(n: int, p: float, generator, like: torch.Tensor) -> torch.Tensor:
    """A boolean mask saying which of ``n`` images an operation with probability ``p`` touches."""
    return _rand((n,), generator, like) < p


def _pair(name: str, value) -> tuple[float, float]:
    """A number ``v`` as ``(v, v)``, or a checked pair ``(low, high)`` with ``low <= high``."""
    if not isinstance(value, (tuple, list)):
        return float(value), float(value)
    if len(value) != 2 or value[0] > value[1]:
        raise invalid(name, value, "a number or a pair (low, high) with low <= high")
    return float(value[0]), float(value[1])


# --------------------------------------------------------------------------- #
# Geometric operations
# --------------------------------------------------------------------------- #

@validate_params({"x": [IMAGES], "direction": [Options("horizontal", "vertical")]})
def flip(x: torch.Tensor, direction: str = "horizontal") -> torch.Tensor:
    """Mirror every image left–right (``"horizontal"``) or top–bottom (``"vertical"``)."""
    _check_images(x)
    return x.flip(-1 if direction == "horizontal" else -2)


@validate_params({"x": [IMAGES], "p": [PROBABILITY], "direction": [Options("horizontal", "vertical")],
                  "generator": GENERATOR})
def random_flip(x: torch.Tensor, p: float = 0.5, *, direction: str = "horizontal",
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Mirror each image with probability ``p`` (``direction`` as in :func:`flip`)."""
    _check_images(x)
    chosen = _chosen(len(x), p, generator, x).view(-1, 1, 1, 1)
    return torch.where(chosen, x.flip(-1 if direction == "horizontal" else -2), x)


@validate_params({"x": [IMAGES], "padding": [Interval(Integral, 0, None)],
                  "padding_mode": [Options("zeros", "reflect", "replicate")], "generator": GENERATOR})
def random_crop(x: torch.Tensor, padding: int = 4, *, padding_mode: str = "zeros",
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Pad by ``padding`` pixels on every side, then cut a random ``H×W`` window per image.

    This is a random translation by up to ``padding`` pixels in each direction;
    the uncovered border is zeros (``"zeros"``), a mirror image (``"reflect"``) or
    the edge pixels repeated (``"replicate"``).
    """
    _check_images(x)
    if padding == 0:
        return x.clone()
    n, c, h, w = x.shape
    mode = "constant" if padding_mode == "zeros" else padding_mode
    if mode == "reflect" and padding >= min(h, w):
        raise invalid("padding", padding, f"less than the image size {min(h, w)} with padding_mode='reflect'")
    padded = F.pad(x, (padding,) * 4, mode=mode)
    dy = _randint(2 * padding + 1, (n,), generator, x)
    dx = _randint(2 * padding + 1, (n,), generator, x)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]  # [N, 1, H, 1]
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]  # [N, 1, 1, W]
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    chans = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, chans, rows, cols]


@validate_params({"x": [IMAGES], "degrees": [Interval(Real, 0.0, 180.0), Sequences(Interval(Real, -180.0, 180.0))],
                  "scale": [Interval(Real, 0.0, None, closed="neither"),
                            Sequences(Interval(Real, 0.0, None, closed="neither"))],
                  "translate": [PROBABILITY], "p": [PROBABILITY],
                  "padding_mode": [Options("zeros", "border", "reflection")], "generator": GENERATOR})
def random_affine(x: torch.Tensor, *, degrees: float = 0.0, scale=(1.0, 1.0), translate: float = 0.0,
                  p: float = 1.0, padding_mode: str = "zeros",
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """Rotate by an angle from ``degrees``, zoom by a factor drawn from ``scale``, shift by up to ``translate``.

    ``degrees`` is a number ``d`` (angles from ``-d`` to ``d``) or a pair ``(low, high)``,
    as in torchvision; a positive angle turns the image counter-clockwise. ``translate``
    is a fraction of the image size. One affine matrix per image is applied with
    ``affine_grid`` + ``grid_sample`` (bilinear), so it runs on the GPU as one kernel.
    A zoom factor above 1 enlarges the content.
    """
    _check_images(x)
    lo, hi = _pair("scale", scale)
    n = len(x)
    u = _rand((n, 4), generator, x)
    chosen = _chosen(n, p, generator, x)
    if isinstance(degrees, (tuple, list)):
        low, high = _pair("degrees", degrees)
        angle = torch.deg2rad(low + (high - low) * u[:, 0])
    else:
        angle = torch.deg2rad((2 * u[:, 0] - 1) * degrees)
    zoom = lo + (hi - lo) * u[:, 1]
    shift = (2 * u[:, 2:] - 1) * translate * 2  # grid coordinates run from -1 to 1
    angle = torch.where(chosen, angle, torch.zeros_like(angle))
    zoom = torch.where(chosen, zoom, torch.ones_like(zoom))
    shift = torch.where(chosen[:, None], shift, torch.zeros_like(shift))
    # grid_sample maps output coordinates to input coordinates: the inverse transform.
    # With y pointing down, sampling at R(angle)·(x, y) turns the picture counter-clockwise.
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1),
                         torch.stack([sin, cos, shift[:, 1]], 1)], 1).to(x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode=padding_mode, align_corners=False)


# --------------------------------------------------------------------------- #
# Erasing, noise and colour
# --------------------------------------------------------------------------- #

@validate_params({"x": [IMAGES], "size": [Interval(Integral, 0, None)], "p": [PROBABILITY],
                  "value": [Interval(Real, None, None)], "generator": GENERATOR})
def cutout(x: torch.Tensor, size: int = 8, *, p: float = 1.0, value: float = 0.0,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """Set one ``size × size`` square per chosen image to ``value`` (DeVries & Taylor, 2017).

    The square lies wholly inside the image, so exactly ``size**2`` pixels per
    channel are erased in each chosen image (with probability ``p``).
    """
    _check_images(x)
    n, _, h, w = x.shape
    if size > min(h, w):
        raise invalid("size", size, f"an integer from 0 to {min(h, w)} (the image size)")
    top = _randint(h - size + 1, (n,), generator, x)
    left = _randint(w - size + 1, (n,), generator, x)
    chosen = _chosen(n, p, generator, x)
    box = _box_mask(top, left, size, size, h, w) & chosen.view(-1, 1, 1, 1)
    return x.masked_fill(box, value)


def _box_mask(top, left, box_h, box_w, h: int, w: int) -> torch.Tensor:
    """Boolean ``[N, 1, H, W]`` masks, true inside each image's rectangle."""
    dev = top.device
    box_h = torch.as_tensor(box_h, device=dev).reshape(-1, 1)
    box_w = torch.as_tensor(box_w, device=dev).reshape(-1, 1)
    rows = torch.arange(h, device=dev)[None, :]
    cols = torch.arange(w, device=dev)[None, :]
    in_rows = (rows >= top[:, None]) & (rows < top[:, None] + box_h)
    in_cols = (cols >= left[:, None]) & (cols < left[:, None] + box_w)
    return (in_rows[:, :, None] & in_cols[:, None, :])[:, None]


@validate_params({"x": [BATCH], "std": [Interval(Real, 0.0, None)], "p": [PROBABILITY],
                  "clip": [Sequences(Interval(Real, None, None)), None], "generator": GENERATOR})
def gaussian_noise(x: torch.Tensor, std: float = 0.1, *, p: float = 1.0, clip: tuple | None = (0.0, 1.0),
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Add noise with standard deviation ``std`` to each chosen sample; clip to ``clip`` (``None``: no clip).

    ``x`` is any batch ``[N, ...]`` (images, vectors); with ``p=1`` every sample gets
    noise and no choice is drawn. ``clip`` is a pair ``(low, high)`` with ``low < high``.
    """
    _check_batch(x)
    if clip is not None and (len(clip) != 2 or not clip[0] < clip[1]):
        # clamp(1, 0) would silently set every value to 0
        raise invalid("clip", clip, "None or a pair (low, high) with low < high")
    if p < 1:
        chosen = _chosen(len(x), p, generator, x).view(-1, *[1] * (x.ndim - 1)).to(x.dtype)
        out = x + std * chosen * _randn(x.shape, generator, x)
    else:
        out = x + std * _randn(x.shape, generator, x)
    return out.clamp(*clip) if clip is not None else out


def _gray(x: torch.Tensor) -> torch.Tensor:
    """Luma (ITU-R BT.601 weights) of RGB images, keeping a channel axis of 1."""
    weights = torch.tensor([0.299, 0.587, 0.114], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * weights).sum(1, keepdim=True)


@validate_params({"x": [IMAGES], "brightness": [PROBABILITY], "contrast": [PROBABILITY],
                  "saturation": [PROBABILITY], "p": [PROBABILITY], "generator": GENERATOR})
def color_jitter(x: torch.Tensor, *, brightness: float = 0.0, contrast: float = 0.0, saturation: float = 0.0,
                 p: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
    """Scale brightness, contrast and saturation by random factors in ``[1 - s, 1 + s]``.

    Brightness multiplies the pixels; contrast blends each image with its mean
    gray level; saturation (RGB only) blends each pixel with its gray value.
    Results are clipped to [0, 1]: images are expected in [0, 1].
    """
    _check_images(x)
    if saturation > 0 and x.shape[1] != 3:
        raise invalid("saturation", saturation, "0 unless the images are RGB (3 channels)",
                      f"saturation={saturation!r} is not allowed for {x.shape[1]}-channel images")
    n = len(x)
    u = _rand((n, 3), generator, x).to(x.dtype)
    chosen = _chosen(n, p, generator, x).view(-1, 1, 1, 1)
    factors = [1 + s * (2 * u[:, i] - 1) for i, s in enumerate((brightness, contrast, saturation))]
    out = x * factors[0].view(-1, 1, 1, 1)
    gray = _gray(out) if x.shape[1] == 3 else out
    mean = gray.mean(dim=(1, 2, 3), keepdim=True)
    out = mean + factors[1].view(-1, 1, 1, 1) * (out - mean)
    if x.shape[1] == 3:
        gray = _gray(out)
        out = gray + factors[2].view(-1, 1, 1, 1) * (out - gray)
    return torch.where(chosen, out.clamp(0.0, 1.0), x)


# --------------------------------------------------------------------------- #
# Mixing images and labels: one mechanism for mixup and cutmix
# --------------------------------------------------------------------------- #

@validate_params({"y": [LABELS], "num_classes": [NUM_CLASSES],
                  "dtype": [InstanceOf(torch.dtype, "a floating-point torch.dtype")]})
def one_hot(y: torch.Tensor, num_classes: int, dtype=torch.float32) -> torch.Tensor:
    """Integer labels ``[N]`` as one-hot rows ``[N, num_classes]``."""
    if y.is_floating_point():
        raise invalid("y", y, "a 1-D tensor of integer class labels", f"a {y.dtype} tensor")
    return as_probabilities(y, num_classes, dtype, "y")


class Mixed(NamedTuple):
    """What :func:`mix` returns.

    ``inputs``: the mixed images; ``targets``: class probabilities ``[N, C]``;
    ``weight``: the share ``λ`` of each image's own content (and label); ``partner``:
    the index of the image each one was mixed with.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    weight: torch.Tensor
    partner: torch.Tensor


@validate_params({"x": [BATCH], "y": [LABELS],
                  "mask": [InstanceOf(torch.Tensor, "a tensor of weights in [0, 1], one per sample",
                                      example=lambda: torch.ones(4, 1, 1, 1))],
                  "num_classes": [NUM_CLASSES], "partner": [torch.Tensor, None], "generator": GENERATOR})
def mix(x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, *, num_classes: int,
        partner: torch.Tensor | None = None, generator: torch.Generator | None = None) -> Mixed:
    """Blend each image with a partner through ``mask``, and its label by the mask's mean.

    ``mask`` (broadcastable to ``x``, values in [0, 1], one per image:
    ``[N, 1, 1, 1]`` or ``[N, 1, H, W]``) is the share of each image's own
    pixels: ``inputs = mask * x + (1 - mask) * x[partner]``. The label weight
    ``λ`` is the mean of the mask over the image, so the targets are
    ``λ · onehot(y) + (1 - λ) · onehot(y[partner])``. ``partner`` defaults to a
    random permutation of the batch.
    """
    _check_batch(x)
    return _mix(x, y, mask, num_classes, partner, generator)


def _mix(x, y, mask, num_classes, partner, generator) -> Mixed:
    """The body of :func:`mix`, which mixup and cutmix call with their parameters already checked."""
    n = len(x)
    if y.ndim == 0 or len(y) != n:
        raise invalid("y", y, "one label (or probability row) per sample of x",
                      f"x has {n} samples but y has {len(y) if y.ndim else 0}")
    if partner is None:
        dev = generator.device if generator is not None else x.device
        partner = torch.randperm(n, generator=generator, device=dev).to(x.device)
    elif partner.shape != (n,) or partner.is_floating_point() or not bool(((partner >= 0) & (partner < n)).all()):
        raise invalid("partner", partner, f"integer indices [{n}] from 0 to {n - 1}, one per sample of x")
    mask = mask.to(device=x.device, dtype=x.dtype)
    if mask.ndim != x.ndim or mask.shape[0] != n:
        raise invalid("mask", mask, f"one mask per image, broadcastable to {tuple(x.shape)}",
                      f"mask has shape {tuple(mask.shape)}")
    if float(mask.min()) < 0 or float(mask.max()) > 1:
        raise invalid("mask", mask, "weights from 0 to 1", "mask holds values outside [0, 1]")
    inputs = mask * x + (1 - mask) * x[partner]
    weight = mask.expand_as(x).reshape(n, -1).mean(1)
    probs = as_probabilities(y, num_classes, x.dtype, "y")
    targets = weight[:, None] * probs + (1 - weight[:, None]) * probs[partner]
    return Mixed(inputs, targets, weight, partner)


def _beta(alpha: float, n: int, generator, like) -> torch.Tensor:
    """``n`` draws from Beta(alpha, alpha), reproducible from ``generator``.

    PyTorch's Beta sampler takes no generator, so one integer drawn from it seeds NumPy's.
    """
    dev = generator.device if generator is not None else like.device
    seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=dev))
    lam = np.random.default_rng(seed).beta(alpha, alpha, size=n)
    return torch.as_tensor(lam, dtype=like.dtype).to(like.device)


@validate_params({"x": [BATCH], "y": [LABELS], "num_classes": [NUM_CLASSES],
                  "alpha": [Interval(Real, 0.0, None, closed="neither")], "generator": GENERATOR})
def mixup(x: torch.Tensor, y: torch.Tensor, *, num_classes: int, alpha: float = 0.2,
          generator: torch.Generator | None = None) -> Mixed:
    """Mixup (Zhang et al., 2018): a convex combination of two images and of their labels.

    ``λ ~ Beta(alpha, alpha)`` per image; the mask of :func:`mix` is the constant ``λ``.
    """
    _check_batch(x)
    lam = _beta(alpha, len(x), generator, x)
    return _mix(x, y, lam.view(-1, *([1] * (x.ndim - 1))), num_classes, None, generator)


@validate_params({"x": [IMAGES], "y": [LABELS], "num_classes": [NUM_CLASSES],
                  "alpha": [Interval(Real, 0.0, None, closed="neither")], "generator": GENERATOR})
def cutmix(x: torch.Tensor, y: torch.Tensor, *, num_classes: int, alpha: float = 1.0,
           generator: torch.Generator | None = None) -> Mixed:
    """CutMix (Yun et al., 2019): paste a rectangle from a partner image; labels mix by area.

    The pasted box covers about ``1 - λ`` of the image (``λ ~ Beta(alpha, alpha)``),
    rounded to whole pixels; the label weight is the exact share of pixels kept,
    because :func:`mix` takes it from the mask.
    """
    _check_images(x)
    n, _, h, w = x.shape
    lam = _beta(alpha, n, generator, x)
    cut = torch.sqrt(1 - lam)
    box_h = (cut * h).round().long()
    box_w = (cut * w).round().long()
    top = (_rand((n,), generator, x) * (h - box_h + 1)).long().clamp(max=h - 1)
    left = (_rand((n,), generator, x) * (w - box_w + 1)).long().clamp(max=w - 1)
    keep = ~_box_mask(top, left, box_h, box_w, h, w)
    return _mix(x, y, keep.to(x.dtype), num_classes, None, generator)


# --------------------------------------------------------------------------- #
# Pipelines
# --------------------------------------------------------------------------- #

class Compose:
    """Apply image operations in order, sharing one seeded generator.

    Each op is a callable ``op(x, generator=g)``, usually a ``functools.partial``
    of the functions above::

        aug = Compose(partial(random_flip, p=0.5), partial(random_crop, padding=2), seed=0)
        xb = aug(xb)

    The generator is made on the first batch's device, so a GPU batch is augmented on the GPU.
    """

    @validate_params({"seed": [Interval(Integral, 0, None)]})
    def __init__(self, *ops: Callable, seed: int = 0):
        for i, op in enumerate(ops):
            if not callable(op):
                raise invalid(f"ops[{i}]", op, "a callable op(x, generator=...)")
        self.ops = list(ops)
        self.seed = seed
        self.generator: torch.Generator | None = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.generator is None or self.generator.device.type != x.device.type:
            self.generator = make_generator(self.seed, x.device)
        for op in self.ops:
            x = op(x, generator=self.generator)
        return x

    def __len__(self) -> int:
        return len(self.ops)


class AugmentedBatches(BatchIterator):
    """A :class:`~nnpractice.data.BatchIterator` that augments every training batch.

    ``transform(x) -> x`` changes the images (e.g. a :class:`Compose`);
    ``batch_transform(x, y) -> (x, y)`` may change both (mixup, cutmix, label
    smoothing: the labels become probabilities, so train with
    ``loss_fn=losses.soft_cross_entropy`` and ``metrics={"accuracy": metrics.correct_count}``).
    Pass it to :func:`nnpractice.training.fit` as the training data.
    """

    @validate_params({"X": [torch.Tensor], "y": [torch.Tensor], "transform": [callable, None],
                      "batch_transform": [callable, None], "batch_size": [Interval(Integral, 1, None)],
                      "seed": [Interval(Integral, 0, None), None]})
    def __init__(self, X, y, *, transform: Callable | None = None,
                 batch_transform: Callable | None = None, batch_size: int = 64, seed: int | None = 0):
        super().__init__(X, y, batch_size=batch_size, shuffle=True, seed=seed)
        self.transform = transform
        self.batch_transform = batch_transform

    def __iter__(self):
        for xb, yb in super().__iter__():
            if self.transform is not None:
                xb = self.transform(xb)
            if self.batch_transform is not None:
                xb, yb = self.batch_transform(xb, yb)
            yield xb, yb

"""Properties of the batch augmentations: what must hold for any seed, not how a picture looks."""
from functools import partial

import pytest
import torch

from nnpractice import augment, training
from nnpractice.augment import (
    AugmentedBatches,
    Compose,
    color_jitter,
    cutmix,
    cutout,
    flip,
    gaussian_noise,
    make_generator,
    mix,
    mixup,
    random_affine,
    random_crop,
    random_flip,
)
from nnpractice.losses import smooth_targets, soft_cross_entropy
from nnpractice.metrics import correct_count
from nnpractice.models import mlp


def batch(n=6, c=3, h=12, w=10, seed=0, dtype=torch.float32):
    return torch.rand(n, c, h, w, generator=torch.Generator().manual_seed(seed), dtype=dtype)


IMAGE_OPS = {
    "random_flip": partial(random_flip, p=0.5),
    "vertical_flip": partial(random_flip, p=0.5, direction="vertical"),
    "random_crop": partial(random_crop, padding=3),
    "random_crop_reflect": partial(random_crop, padding=3, padding_mode="reflect"),
    "random_affine": partial(random_affine, degrees=30, scale=(0.8, 1.2), translate=0.1),
    "cutout": partial(cutout, size=4),
    "gaussian_noise": partial(gaussian_noise, std=0.2),
    "color_jitter": partial(color_jitter, brightness=0.3, contrast=0.3, saturation=0.3),
}


@pytest.mark.parametrize("name", list(IMAGE_OPS))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_every_op_keeps_shape_dtype_device_and_repeats_with_the_seed(name, dtype):
    op = IMAGE_OPS[name]
    x = batch(dtype=dtype)
    before = x.clone()
    a = op(x, generator=make_generator(3))
    b = op(x, generator=make_generator(3))
    assert a.shape == x.shape and a.dtype == x.dtype and a.device == x.device
    assert torch.equal(a, b), "same seed, different result"
    assert torch.equal(x, before), "the input batch was modified in place"
    assert not torch.equal(a, x), "the op did nothing"


@pytest.mark.parametrize("direction", ["horizontal", "vertical"])
def test_flips_are_involutions(direction):
    x = batch()
    assert torch.equal(flip(flip(x, direction), direction), x)
    assert not torch.equal(flip(x, direction), x)
    # the random flip with the same generator state flips the same images again
    once = random_flip(x, 0.5, direction=direction, generator=make_generator(1))
    twice = random_flip(once, 0.5, direction=direction, generator=make_generator(1))
    assert torch.equal(twice, x)


def test_flip_mirrors_the_right_axis_and_p_chooses_images():
    x = torch.arange(6.0).view(1, 1, 2, 3)
    assert flip(x, "horizontal")[0, 0, 0].tolist() == [2.0, 1.0, 0.0]
    assert flip(x, "vertical")[0, 0, :, 0].tolist() == [3.0, 0.0]
    x = batch(n=200)
    assert torch.equal(random_flip(x, 0.0, generator=make_generator(0)), x)
    assert torch.equal(random_flip(x, 1.0, generator=make_generator(0)), flip(x))
    flipped = (random_flip(x, 0.5, generator=make_generator(0)) != x).flatten(1).any(1).float().mean()
    assert 0.35 < flipped < 0.65


@pytest.mark.parametrize("size", [0, 1, 3, 10])
def test_cutout_zeros_exactly_the_stated_area(size):
    x = torch.ones(20, 3, 12, 10)
    out = cutout(x, size, generator=make_generator(0))
    zeros_per_channel = (out == 0).sum(dim=(2, 3))
    assert torch.all(zeros_per_channel == size * size)
    assert torch.all((out == 0).all(1) | (out == 1).all(1)), "the hole differs between channels"


def test_cutout_p_and_value():
    x = torch.ones(400, 1, 8, 8)
    out = cutout(x, 2, p=0.25, value=0.5, generator=make_generator(0))
    touched = (out == 0.5).flatten(1).sum(1)
    assert set(touched.tolist()) <= {0, 4}
    assert 0.15 < (touched > 0).float().mean() < 0.35


def test_random_crop_is_a_translation_with_zero_padding():
    x = batch(n=50, c=1, h=9, w=9) + 1.0  # no zeros inside the images
    out = random_crop(x, padding=2, generator=make_generator(0))
    for i in range(len(x)):
        shifts = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                  if torch.equal(torch.roll(x[i], (dy, dx), (1, 2))[:, max(dy, 0):9 + min(dy, 0), max(dx, 0):9 + min(dx, 0)],
                                 out[i][:, max(dy, 0):9 + min(dy, 0), max(dx, 0):9 + min(dx, 0)])]
        assert shifts, f"image {i} is not a shift of the input by at most 2 pixels"
        dy, dx = shifts[0]
        assert int((out[i] == 0).sum()) == 9 * 9 - (9 - abs(dy)) * (9 - abs(dx))
    assert torch.equal(random_crop(x, 0), x)


def test_random_affine_identity_and_rotation_by_90_degrees():
    x = batch(c=1, h=8, w=8)
    same = random_affine(x, degrees=0, scale=1.0, translate=0.0, generator=make_generator(0))
    assert torch.allclose(same, x, atol=1e-5)
    # a positive angle turns the picture counter-clockwise (torch.rot90 with k=1 on the image plane):
    # the pixel at the top-right corner ends up at the top-left
    turned = random_affine(x, degrees=(90, 90), generator=make_generator(0))
    assert torch.allclose(turned, torch.rot90(x, 1, dims=(2, 3)), atol=1e-5)
    assert torch.allclose(random_affine(x, degrees=(-90, -90), generator=make_generator(0)),
                          torch.rot90(x, -1, dims=(2, 3)), atol=1e-5)
    assert torch.allclose(random_affine(x, degrees=(180, 180), generator=make_generator(0)),
                          x.flip(2, 3), atol=1e-5)
    corner = torch.zeros(1, 1, 8, 8)
    corner[0, 0, 0, 7] = 1.0
    assert random_affine(corner, degrees=(90, 90))[0, 0, 0, 0] > 0.99
    # a number d is the range (-d, d), drawn the same way
    assert torch.allclose(random_affine(x, degrees=30, generator=make_generator(0)),
                          random_affine(x, degrees=(-30, 30), generator=make_generator(0)), atol=1e-4)
    # p=0 leaves every image alone whatever the ranges
    assert torch.allclose(random_affine(x, degrees=90, scale=(0.5, 2), p=0.0, generator=make_generator(0)), x, atol=1e-5)
    # zooming in (factor 2) on a constant image keeps it constant inside
    const = torch.full((2, 1, 8, 8), 0.7)
    zoomed = random_affine(const, scale=(2.0, 2.0), generator=make_generator(0))
    assert torch.allclose(zoomed, const, atol=1e-5)


def test_gaussian_noise_has_the_stated_spread():
    x = torch.full((64, 1, 32, 32), 0.5)
    out = gaussian_noise(x, std=0.1, clip=None, generator=make_generator(0))
    assert abs(float((out - x).std()) - 0.1) < 0.005
    assert abs(float((out - x).mean())) < 0.005
    clipped = gaussian_noise(x, std=2.0, generator=make_generator(0))
    assert clipped.min() >= 0 and clipped.max() <= 1
    assert 0.3 < float((clipped == 0).float().mean()) < 0.5, "clipping to (0, 1) keeps most values"
    shifted = gaussian_noise(x, std=2.0, clip=(-1.0, 3.0), generator=make_generator(0))
    assert shifted.min() == -1 and shifted.max() == 3


def test_gaussian_noise_takes_any_batch_and_p_chooses_samples():
    vectors = torch.full((400, 5), 0.5)
    noisy = gaussian_noise(vectors, std=0.1, p=0.5, clip=None, generator=make_generator(0))
    touched = (noisy != vectors).any(1)
    assert torch.equal(touched, (noisy != vectors).all(1)), "noise is per sample, all or nothing"
    assert 0.4 < float(touched.float().mean()) < 0.6


def test_color_jitter_brightness_saturation_and_gray_images():
    x = batch(n=30)
    dim = x * 0.5 + 0.1
    ratio = (color_jitter(dim, brightness=0.4, generator=make_generator(0)) / dim).flatten(1)
    assert torch.allclose(ratio.min(1).values, ratio.max(1).values, atol=1e-4), "brightness is one factor per image"
    assert torch.all((ratio[:, 0] >= 0.6 - 1e-5) & (ratio[:, 0] <= 1.4 + 1e-5))
    gray = x.mean(1, keepdim=True).expand(-1, 3, -1, -1).contiguous()
    assert torch.allclose(color_jitter(gray, saturation=0.5, generator=make_generator(0)), gray, atol=1e-5)
    one_channel = batch(c=1)
    out = color_jitter(one_channel, brightness=0.2, contrast=0.2, generator=make_generator(0))
    assert out.shape == one_channel.shape and 0 <= out.min() and out.max() <= 1


def test_mixup_is_a_convex_combination_with_label_weights_summing_to_one():
    x, y = batch(n=32), torch.arange(32) % 5
    m = mixup(x, y, num_classes=5, alpha=0.4, generator=make_generator(0))
    lam = m.weight.view(-1, 1, 1, 1)
    assert torch.all((m.weight >= 0) & (m.weight <= 1))
    assert torch.allclose(m.inputs, lam * x + (1 - lam) * x[m.partner], atol=1e-6)
    assert torch.allclose(m.targets.sum(1), torch.ones(32), atol=1e-6)
    expected = m.weight[:, None] * torch.eye(5)[y] + (1 - m.weight[:, None]) * torch.eye(5)[y[m.partner]]
    assert torch.allclose(m.targets, expected, atol=1e-6)
    assert sorted(m.partner.tolist()) == list(range(32)), "partners are a permutation of the batch"
    assert m.weight.std() > 0.05, "lambda should vary from image to image"


def test_mixup_lambda_follows_beta_alpha():
    x, y = torch.zeros(4000, 1, 1, 1), torch.zeros(4000, dtype=torch.long)
    small = mixup(x, y, num_classes=2, alpha=0.1, generator=make_generator(0)).weight
    large = mixup(x, y, num_classes=2, alpha=10.0, generator=make_generator(0)).weight
    # Beta(0.1, 0.1) piles up at 0 and 1; Beta(10, 10) sits near 1/2. Both have mean 1/2.
    assert abs(float(small.mean()) - 0.5) < 0.03 and abs(float(large.mean()) - 0.5) < 0.01
    assert float(((small < 0.05) | (small > 0.95)).float().mean()) > 0.6
    assert float(((large - 0.5).abs() < 0.2).float().mean()) > 0.9


def test_cutmix_label_weights_equal_the_pasted_area_fraction():
    x, y = batch(n=40, c=3, h=16, w=12), torch.arange(40) % 4
    m = cutmix(x, y, num_classes=4, alpha=1.0, generator=make_generator(0))
    own = (m.inputs == x).all(1).flatten(1).float().mean(1)  # share of pixels kept from the image itself
    from_partner = (m.inputs == x[m.partner]).all(1).flatten(1).float().mean(1)
    differs = (x != x[m.partner]).any(1).flatten(1).all(1)  # partners distinct at every pixel
    assert torch.allclose(own[differs], m.weight[differs], atol=1e-6)
    assert torch.allclose(from_partner[differs], 1 - m.weight[differs], atol=1e-6)
    assert torch.allclose(m.targets.sum(1), torch.ones(40), atol=1e-6)
    expected = m.weight[:, None] * torch.eye(4)[y] + (1 - m.weight[:, None]) * torch.eye(4)[y[m.partner]]
    assert torch.allclose(m.targets, expected, atol=1e-6)
    assert ((m.weight > 0) & (m.weight < 1)).any(), "some boxes should be partial"


def test_mixup_and_cutmix_share_one_mechanism():
    x, y = batch(n=8), torch.arange(8) % 3
    g1, g2 = make_generator(5), make_generator(5)
    m = cutmix(x, y, num_classes=3, generator=g1)
    # the same mask through `mix` with the same partner gives the same result
    mask = (m.inputs == x).all(1, keepdim=True).float()
    again = mix(x, y, mask, num_classes=3, partner=m.partner, generator=g2)
    same_pixels = (x != x[m.partner]).any(1).flatten(1).all(1)
    assert torch.allclose(again.inputs[same_pixels], m.inputs[same_pixels])
    assert torch.allclose(again.targets[same_pixels], m.targets[same_pixels])
    # mixed targets can be mixed again and still sum to 1
    twice = mixup(m.inputs, m.targets, num_classes=3, generator=g1)
    assert torch.allclose(twice.targets.sum(1), torch.ones(8), atol=1e-6)


def test_label_smoothing_soft_loss_and_accuracy_live_elsewhere():
    # one home each: losses.smooth_targets, losses.soft_cross_entropy, metrics.correct_count
    for name in ("label_smoothing", "soft_cross_entropy", "accuracy", "smooth_targets"):
        assert not hasattr(augment, name), name


def test_label_smoothing_and_soft_cross_entropy():
    y = torch.tensor([0, 2, 1])
    t = smooth_targets(y, 3, 0.3)
    assert torch.allclose(t.sum(1), torch.ones(3))
    assert torch.allclose(t[0], torch.tensor([0.8, 0.1, 0.1]))
    logits = torch.randn(3, 3, generator=torch.Generator().manual_seed(0))
    hard = torch.nn.functional.cross_entropy(logits, y)
    assert torch.allclose(soft_cross_entropy(logits, y), hard)
    assert torch.allclose(soft_cross_entropy(logits, smooth_targets(y, 3, 0.0)), hard)
    ref = torch.nn.functional.cross_entropy(logits, y, label_smoothing=0.3)
    assert torch.allclose(soft_cross_entropy(logits, t), ref, atol=1e-6)


def test_compose_and_augmented_batches_train_with_fit():
    X, y = batch(n=64, c=1, h=6, w=6), torch.arange(64) % 2
    aug = Compose(partial(random_flip, p=0.5), partial(random_crop, padding=1), seed=0)
    assert len(aug) == 2 and aug(X).shape == X.shape
    mixing = lambda xb, yb: mixup(xb, yb, num_classes=2, alpha=0.2, generator=make_generator(0))[:2]
    batches = AugmentedBatches(X, y, transform=aug, batch_transform=mixing, batch_size=16)
    xb, yb = next(iter(batches))
    assert xb.shape == (16, 1, 6, 6) and yb.shape == (16, 2)
    history = training.fit(mlp(36, [8], 2), batches, (X, y), num_epochs=2, loss_fn=soft_cross_entropy,
                           metrics={"accuracy": correct_count}, verbose=False)
    assert history.status == "completed" and "val_accuracy" in history


@pytest.mark.parametrize("call, message", [
    (lambda x: random_flip(x, p=1.5), r"p=1.5 is not allowed: expected a number in \[0.0, 1.0\]"),
    (lambda x: random_flip(x, p=-0.1), r"p=-0.1 is not allowed"),
    (lambda x: random_flip(x, direction="diagonal"), r"direction='diagonal' is not allowed: expected one of"),
    (lambda x: random_crop(x, padding=-1), r"padding=-1 is not allowed: expected a non-negative integer"),
    (lambda x: random_crop(x, padding=10, padding_mode="reflect"), r"padding=10 is not allowed: expected less than"),
    (lambda x: random_crop(x, padding=2, padding_mode="wrap"), r"padding_mode='wrap' is not allowed"),
    (lambda x: cutout(x, size=-2), r"size=-2 is not allowed: expected a non-negative integer"),
    (lambda x: cutout(x, size=11), r"size=11 is not allowed"),
    (lambda x: cutout(x, size=2, p=2), r"p=2 is not allowed"),
    (lambda x: gaussian_noise(x, std=-0.1), r"std=-0.1 is not allowed"),
    (lambda x: random_affine(x, degrees=-5), r"degrees=-5 is not allowed"),
    (lambda x: random_affine(x, scale=(1.2, 0.8)), r"scale=\(1.2, 0.8\) is not allowed: expected .*low <= high"),
    (lambda x: random_affine(x, scale=(0, 1)), r"scale=\(0, 1\) is not allowed: expected a positive .*; here scale\[0\]=0"),
    (lambda x: random_affine(x, degrees=(30, -30)), r"degrees=\(30, -30\) is not allowed: expected .*low <= high"),
    (lambda x: random_affine(x, degrees=(0, 90, 180)), r"degrees=\(0, 90, 180\) is not allowed: expected .*pair"),
    (lambda x: color_jitter(x, brightness=1.5), r"brightness=1.5 is not allowed"),
    (lambda x: color_jitter(x[:, :1], saturation=0.2), r"saturation=0.2 is not allowed for 1-channel images"),
    (lambda x: mixup(x, torch.zeros(6, dtype=torch.long), num_classes=2, alpha=0), r"alpha=0 is not allowed"),
    (lambda x: cutmix(x, torch.zeros(6, dtype=torch.long), num_classes=0), r"num_classes=0 is not allowed"),
    (lambda x: mixup(x, torch.zeros(5, dtype=torch.long), num_classes=2), r"x has 6 samples but y has 5"),
    (lambda x: mixup(x, torch.full((6,), 3), num_classes=2), r"labels outside 0..1"),
    (lambda x: smooth_targets(torch.zeros(3, dtype=torch.long), 3, smoothing=1.2), r"smoothing=1.2 is not allowed"),
    (lambda x: random_flip(x[0]), r"x=.* is not allowed: expected .*\[N, C, H, W\]; here x has shape \(3, 12, 10\)"),
    (lambda x: random_flip(x.long()), r"x=.* is not allowed: expected a floating-point tensor .*torch.int64"),
    (lambda x: random_flip(x, generator=0), r"generator=0 is not allowed: expected a torch.Generator or None"),
    (lambda x: gaussian_noise(x, clip=(1, 0)), r"clip=\(1, 0\) is not allowed: expected None or a pair \(low, high\) with low < high"),
    (lambda x: gaussian_noise(x, clip=(0.5, 0.5)), r"clip=\(0.5, 0.5\) is not allowed"),
    (lambda x: gaussian_noise(x, clip=(0, 1, 2)), r"clip=\(0, 1, 2\) is not allowed"),
    (lambda x: mix(x, torch.zeros(6, dtype=torch.long), torch.ones(6, 1, 1, 1), num_classes=2,
                   partner=torch.zeros(6)), r"partner=.* is not allowed: expected integer indices \[6\]"),
    (lambda x: mix(x, torch.zeros(6, dtype=torch.long), torch.ones(6, 1, 1, 1), num_classes=2,
                   partner=torch.tensor([0, 1, 2, 3, 4, 9])), r"partner=.* is not allowed: expected .* from 0 to 5"),
    (lambda x: mix(x, torch.zeros(6, dtype=torch.long), torch.full((6, 1, 1, 1), 2.0), num_classes=2),
     r"mask=.* is not allowed: expected weights from 0 to 1"),
    (lambda x: Compose(lambda x, generator: x, "flip"), r"ops\[1\]='flip' is not allowed: expected a callable"),
])
def test_bad_arguments_name_parameter_value_and_what_is_allowed(call, message):
    with pytest.raises(ValueError, match=message):
        call(batch())

"""models.cnn, conv_output_size and tiny_resnet: shapes and parameter counts by formula."""
import pytest
import torch
from torch import nn

from nnpractice.data import load_sample_photos
from nnpractice.models import cnn, conv_output_size, count_parameters, tiny_resnet


@pytest.mark.parametrize("size, k, s, p", [(28, 3, 1, 1), (28, 5, 1, 0), (28, 3, 2, 1), (27, 4, 3, 2), (9, 9, 1, 0)])
def test_conv_output_size_matches_the_layer(size, k, s, p):
    layer = nn.Conv2d(1, 1, k, stride=s, padding=p)
    assert layer(torch.zeros(1, 1, size, size)).shape[-1] == conv_output_size(size, k, s, p)
    pool = nn.MaxPool2d(min(k, size), stride=s)
    assert pool(torch.zeros(1, 1, size, size)).shape[-1] == conv_output_size(size, min(k, size), s)


@pytest.mark.parametrize("kernel_size, stride, padding, pool, pool_size", [
    (3, 1, "same", "max", 2), (5, 1, 0, "avg", 2), (3, 2, 1, None, 2), (7, 1, 3, "max", 3),
])
def test_cnn_knobs_give_the_computed_shapes_and_counts(kernel_size, stride, padding, pool, pool_size):
    net = cnn(1, 10, channels=(4, 8), kernel_size=kernel_size, stride=stride, padding=padding,
              pool=pool, pool_size=pool_size, image_size=28)
    assert net(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    pad = kernel_size // 2 if padding == "same" else padding
    size = 28
    for _ in range(2):
        size = conv_output_size(size, kernel_size, stride, pad)
        if pool:
            size = conv_output_size(size, pool_size, pool_size)
    conv_params = (1 * kernel_size**2 + 1) * 4 + (4 * kernel_size**2 + 1) * 8
    assert count_parameters(net) == conv_params + 8 * size * size * 10 + 10
    kinds = {type(m) for m in net}
    assert (nn.MaxPool2d in kinds) == (pool == "max") and (nn.AvgPool2d in kinds) == (pool == "avg")


def test_cnn_options_and_bad_arguments():
    net = cnn(3, 5, channels=(4,), batch_norm=True, global_pool=True, hidden=(6,), image_size=16)
    assert net(torch.zeros(2, 3, 16, 16)).shape == (2, 5)
    assert any(isinstance(m, nn.BatchNorm2d) for m in net)
    with pytest.raises(ValueError, match=r"pool='median' is not allowed: expected one of 'max', 'avg'"):
        cnn(pool="median")
    with pytest.raises(ValueError, match=r"kernel_size=0 is not allowed"):
        cnn(kernel_size=0)
    with pytest.raises(ValueError, match=r"padding=-1 is not allowed"):
        cnn(padding=-1)
    with pytest.raises(ValueError, match=r"pool_size=8 is not allowed: expected at most the size of the feature maps"):
        cnn(channels=(4, 4, 4), pool_size=8, image_size=28)
    with pytest.raises(ValueError, match=r"channels=\(4, 0\) is not allowed: expected .*; here channels\[1\]=0"):
        cnn(channels=(4, 0))


def test_tiny_resnet_shapes_residual_and_counts():
    net = tiny_resnet(1, 10, channels=(8, 16), blocks_per_stage=2)
    out = net(torch.randn(4, 1, 28, 28))
    assert out.shape == (4, 10)
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    small = tiny_resnet(1, 10, channels=(8, 16))
    # stem 1*9*8 + BN 16; block(8->8) 2*(8*9*8) + 2 BN; block(8->16, stride 2): 8*9*16 + 16*9*16 + 2 BN + 1x1 8*16 + BN
    expected = 72 + 16 + (2 * 576 + 32) + (1152 + 2304 + 64 + 128 + 32) + 16 * 10 + 10
    assert count_parameters(small) == expected
    with pytest.raises(ValueError, match=r"blocks_per_stage=0 is not allowed"):
        tiny_resnet(blocks_per_stage=0)


def test_sample_photos_are_rgb_squares_in_unit_range():
    photos = load_sample_photos(("astronaut", "coffee"), size=32)
    assert photos.shape == (2, 3, 32, 32) and photos.dtype == torch.float32
    assert 0 <= photos.min() and photos.max() <= 1 and photos.std() > 0.05
    with pytest.raises(ValueError, match=r"names=\[.lena.\] is not allowed: expected one of .*; here names\[0\]=.lena."):
        load_sample_photos(["lena"])

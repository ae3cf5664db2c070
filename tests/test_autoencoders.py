import pytest
import torch
import torch.nn.functional as F

from nnpractice import autoencoders


def test_dense_autoencoder_shapes_and_range():
    ae = autoencoders.dense_autoencoder(784, [32, 16], 3, image_shape=(1, 28, 28))
    x = torch.rand(4, 1, 28, 28)
    assert ae.encoder(x).shape == (4, 3)
    out = ae(x)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    flat = autoencoders.dense_autoencoder(10, [], 2)
    assert flat(torch.rand(5, 10)).shape == (5, 10)


def test_conv_autoencoder_shapes():
    ae = autoencoders.conv_autoencoder(3, (8, 16, 4))
    x = torch.rand(2, 3, 32, 32)
    assert ae.encoder(x).shape == (2, 4, 4, 4)
    assert ae(x).shape == x.shape


def test_conv_autoencoder_learns_to_reconstruct():
    torch.manual_seed(0)
    x = torch.rand(16, 1, 8, 8).round()
    ae = autoencoders.conv_autoencoder(1, (8,))
    opt = torch.optim.Adam(ae.parameters(), lr=1e-2)
    first = F.mse_loss(ae(x), x).item()
    for _ in range(150):
        loss = F.mse_loss(ae(x), x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first


def test_add_noise():
    x = torch.full((1000,), 0.5)
    noisy = autoencoders.add_noise(x, 0.1, generator=torch.Generator().manual_seed(0))
    assert 0.08 < (noisy - x).std() < 0.12
    again = autoencoders.add_noise(x, 0.1, generator=torch.Generator().manual_seed(0))
    assert torch.equal(noisy, again)
    clipped = autoencoders.add_noise(torch.zeros(1000), 1.0)
    assert clipped.min() >= 0 and clipped.max() <= 1
    assert torch.equal(autoencoders.add_noise(x, 0.0), x)


def test_gram_matrix_values_and_position_invariance():
    f = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    g = autoencoders.gram_matrix(f)
    assert g.shape == (2, 3, 3)
    assert torch.allclose(g, g.transpose(1, 2))
    assert torch.allclose(g[1, 0, 2], (f[1, 0] * f[1, 2]).sum() / (3 * 4 * 5))
    shuffled = f.reshape(2, 3, 20)[:, :, torch.randperm(20)].reshape(2, 3, 4, 5)
    assert torch.allclose(autoencoders.gram_matrix(shuffled), g)


@pytest.mark.parametrize("call, match", [
    (lambda: autoencoders.dense_autoencoder(0, [4], 2), "in_features=0"),
    (lambda: autoencoders.dense_autoencoder(10, [4], 0), "code_size=0"),
    (lambda: autoencoders.dense_autoencoder(10, [4, -1], 2), r"hidden\[1\]=-1"),
    (lambda: autoencoders.dense_autoencoder(10, [4], 2, image_shape=(1, 3, 3)), "image_shape"),
    (lambda: autoencoders.conv_autoencoder(0), "in_channels=0"),
    (lambda: autoencoders.conv_autoencoder(1, ()), r"channels=\(\) is not allowed: expected a non-empty list"),
    (lambda: autoencoders.conv_autoencoder(1, (8, 2.5)), r"channels\[1\]=2.5"),
    (lambda: autoencoders.add_noise(torch.zeros(3), -0.1), "std=-0.1"),
    (lambda: autoencoders.gram_matrix(torch.zeros(3, 4, 4)), r"shape \(3, 4, 4\)"),
    (lambda: autoencoders.gram_matrix([1, 2]), r"features=\[1, 2\] is not allowed: expected feature maps"),
])
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()

import pytest
import torch
from torch import nn

from nnpractice.models import count_parameters, mlp


def test_mlp_shapes_and_parameter_count():
    net = mlp(784, [256, 64], 10)
    assert net(torch.randn(5, 1, 28, 28)).shape == (5, 10)
    assert count_parameters(net) == 784 * 256 + 256 + 256 * 64 + 64 + 64 * 10 + 10


def test_mlp_options_add_layers():
    net = mlp(8, [16], 2, activation="tanh", dropout=0.3, batch_norm=True)
    kinds = [type(m) for m in net]
    assert kinds == [nn.Flatten, nn.Linear, nn.BatchNorm1d, nn.Tanh, nn.Dropout, nn.Linear]
    assert net[4].p == 0.3
    assert [type(m) for m in mlp(8, [], 2)] == [nn.Flatten, nn.Linear]


@pytest.mark.parametrize("dropout", [-0.1, 1.0, 1.5])
def test_mlp_dropout_outside_unit_interval_is_rejected(dropout):
    with pytest.raises(ValueError, match=rf"dropout={dropout!r} is not allowed: expected a number in \[0.0, 1.0\)"):
        mlp(8, [16], 2, dropout=dropout)


def test_mlp_bad_widths_and_activation():
    with pytest.raises(ValueError, match=r"hidden\[1\]=0"):
        mlp(8, [16, 0], 2)
    with pytest.raises(ValueError, match="activation='swish'"):
        mlp(8, [16], 2, activation="swish")
    with pytest.raises(ValueError, match="in_features=0"):
        mlp(0, [16], 2)

import pytest
import torch
from torch import nn

from nnpractice import transfer


def net():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def test_freeze_and_unfreeze():
    m = net()
    transfer.freeze(m[0])
    assert transfer.trainable_names(m) == ["1.weight", "1.bias", "3.weight", "3.bias"]
    before = m[0].weight.clone()
    opt = torch.optim.SGD([p for p in m.parameters() if p.requires_grad], lr=0.1)
    m(torch.randn(8, 3)).sum().backward()
    opt.step()
    assert torch.equal(m[0].weight, before) and m[0].weight.grad is None
    transfer.unfreeze(m)
    assert len(transfer.trainable_names(m)) == 6


def test_freeze_eval_mode_keeps_batchnorm_statistics():
    m = net()
    transfer.freeze(m[1], eval_mode=True)
    mean = m[1].running_mean.clone()
    m[1](torch.randn(16, 4) + 5)
    assert torch.equal(m[1].running_mean, mean)
    assert not m[1].training


def test_layerwise_lr_groups_skip_frozen_and_keep_order():
    m = net()
    transfer.freeze(m[1])
    groups = transfer.layerwise_lr_groups([m[0], m[1], m[3]], [1e-4, 5e-4, 1e-3])
    assert [g["lr"] for g in groups] == [1e-4, 1e-3]
    assert groups[0]["params"] == [m[0].weight, m[0].bias]
    opt = torch.optim.Adam(groups)
    assert [g["lr"] for g in opt.param_groups] == [1e-4, 1e-3]


@pytest.mark.parametrize("call, match", [
    (lambda m: transfer.freeze("x"), "module='x' is not allowed: expected a torch.nn.Module"),
    (lambda m: transfer.unfreeze(None), "module=None is not allowed: expected a torch.nn.Module"),
    (lambda m: transfer.trainable_names(3), "model=3 is not allowed: expected a torch.nn.Module"),
    (lambda m: transfer.layerwise_lr_groups([m[0]], [1e-3, 1e-4]), "modules has 1 entries but lrs has 2"),
    (lambda m: transfer.layerwise_lr_groups([], []), r"modules=\[\] is not allowed: expected a non-empty list"),
    (lambda m: transfer.layerwise_lr_groups([m[0]], [0.0]), r"lrs\[0\]=0.0"),
    (lambda m: transfer.layerwise_lr_groups([m[0], "x"], [1e-3, 1e-3]), r"modules=.*; here modules\[1\]='x'"),
    (lambda m: transfer.layerwise_lr_groups([m, m[0]], [1e-3, 1e-3]), "shares parameters"),
    (lambda m: transfer.layerwise_lr_groups([transfer.freeze(m)], [1e-3]), "modules=.*; here every parameter is frozen"),
])
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call(net())

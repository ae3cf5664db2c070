import math

import pytest
import torch
from torch import nn

from nnpractice import checkpoints, data, losses, models, regularization, training
from nnpractice.regularization import (
    Checkpoint,
    ProximalL1,
    expected_calibration_error,
    l1_penalty,
    l2_penalty,
    mc_dropout_predict,
    mean_max_probability,
    smooth_targets,
    soft_threshold,
    sparsity,
    with_penalty,
)


@pytest.fixture
def digits():
    X, y = data.load_digits()
    return data.train_val_test_split(X, y, val_fraction=0.2, test_fraction=0.2, seed=0)


# --------------------------------------------------------------------------- penalties


def test_penalties_count_weights_only_by_default():
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    with torch.no_grad():
        net[0].weight.fill_(2.0)
        net[0].bias.fill_(5.0)
        net[1].weight.fill_(-1.0)
        net[1].bias.fill_(7.0)
    assert l2_penalty(net).item() == pytest.approx(4 * 4 + 2 * 1)
    assert l1_penalty(net).item() == pytest.approx(4 * 2 + 2 * 1)
    assert l2_penalty(net, include_bias=True).item() == pytest.approx(18 + 2 * 25 + 49)
    assert l1_penalty(net, include_bias=True).item() == pytest.approx(10 + 10 + 7)


def test_with_penalty_adds_the_terms_and_has_their_gradient():
    torch.manual_seed(0)
    net = nn.Linear(3, 2)
    X, y = torch.randn(5, 3), torch.randint(0, 2, (5,))
    base = nn.functional.cross_entropy(net(X), y)
    loss_fn = with_penalty(nn.functional.cross_entropy, net, l1=0.1, l2=0.3)
    expected = base + 0.1 * net.weight.abs().sum() + 0.3 * (net.weight ** 2).sum()
    assert loss_fn(net(X), y).item() == pytest.approx(expected.item(), rel=1e-6)
    # gradient of the L2 term is 2*lambda*w
    net.zero_grad()
    with_penalty(lambda out, t: out.sum() * 0, net, l2=0.5)(net(X), y).backward()
    assert torch.allclose(net.weight.grad, 2 * 0.5 * net.weight.detach())
    assert torch.allclose(net.bias.grad, torch.zeros(2))


def test_l2_penalty_with_sgd_equals_weight_decay_on_the_weights():
    torch.manual_seed(1)
    a = nn.Linear(4, 3, bias=False)
    b = nn.Linear(4, 3, bias=False)
    b.load_state_dict(a.state_dict())
    X, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    opt_a = torch.optim.SGD(a.parameters(), lr=0.1)
    opt_b = torch.optim.SGD(b.parameters(), lr=0.1, weight_decay=2 * 0.05)
    loss_a = with_penalty(nn.functional.cross_entropy, a, l2=0.05)
    for _ in range(5):
        opt_a.zero_grad()
        loss_a(a(X), y).backward()
        opt_a.step()
        opt_b.zero_grad()
        nn.functional.cross_entropy(b(X), y).backward()
        opt_b.step()
    assert torch.allclose(a.weight, b.weight, atol=1e-6)


def test_with_penalty_fits_through_training_fit(digits):
    net = models.mlp(64, [32], 10)
    h = training.fit(net, digits.train, num_epochs=2, loss_fn=with_penalty(nn.functional.cross_entropy, net, l2=1e-3),
                     verbose=False)
    assert h.status == "completed"


@pytest.mark.parametrize("kwargs, name", [({"l1": -0.1}, "l1"), ({"l2": float("nan")}, "l2"),
                                          ({"l2": "0.1"}, "l2"), ({"l1": math.inf}, "l1"),
                                          ({"l2": True}, "l2=True")])
def test_with_penalty_rejects_bad_strengths(kwargs, name):
    with pytest.raises(ValueError, match=name):
        with_penalty(nn.functional.cross_entropy, nn.Linear(2, 2), **kwargs)


def test_penalty_bad_inputs():
    with pytest.raises(ValueError, match="loss_fn"):
        with_penalty("cross_entropy", nn.Linear(2, 2), l2=0.1)
    with pytest.raises(ValueError, match="model"):
        with_penalty(nn.functional.cross_entropy, [torch.zeros(2)], l2=0.1)
    with pytest.raises(ValueError, match="model"):
        l2_penalty(torch.zeros(3))


# --------------------------------------------------------------------------- L1, proximal step


def test_soft_threshold_values_and_prox_property():
    x = torch.tensor([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])
    assert torch.equal(soft_threshold(x, 1.0), torch.tensor([-2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0]))
    assert torch.equal(soft_threshold(x, 0.0), x)
    w = torch.randn(100, dtype=torch.float64)
    out = soft_threshold(w, 0.3)
    objective = lambda v: 0.5 * (v - w) ** 2 + 0.3 * v.abs()  # noqa: E731
    for d in (1e-4, -1e-4, 0.05):
        assert bool((objective(out) <= objective(out + d) + 1e-12).all())


def test_soft_threshold_bad_inputs():
    with pytest.raises(ValueError, match="threshold"):
        soft_threshold(torch.ones(2), -1.0)
    with pytest.raises(ValueError, match="x"):
        soft_threshold([1.0, 2.0], 0.1)


def test_proximal_l1_gives_exact_zeros_and_subgradient_does_not(digits):
    results = {}
    for kind in ("sub", "prox"):
        torch.manual_seed(0)
        net = models.mlp(64, [64], 10)
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        if kind == "sub":
            training.fit(net, digits.train, num_epochs=5, optimizer=opt, verbose=False,
                         loss_fn=with_penalty(nn.functional.cross_entropy, net, l1=1e-2))
        else:
            training.fit(net, digits.train, num_epochs=5, optimizer=opt, verbose=False,
                         callbacks=[ProximalL1(1e-2)])
        results[kind] = sparsity(net)
    assert results["sub"] < 0.01
    assert results["prox"] > 0.3


def test_proximal_l1_step_uses_the_learning_rate_and_spares_biases():
    net = nn.Linear(2, 1)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[0.05, -2.0]]))
        net.bias.fill_(0.05)
    ProximalL1(1.0).apply(net, lr=0.1)
    assert torch.allclose(net.weight, torch.tensor([[0.0, -1.9]]))
    assert net.bias.item() == pytest.approx(0.05)
    assert sparsity(net) == 0.5


def test_proximal_l1_and_sparsity_bad_inputs():
    with pytest.raises(ValueError, match="strength"):
        ProximalL1(0.0)
    with pytest.raises(ValueError, match="lr"):
        ProximalL1(0.1).apply(nn.Linear(2, 2), lr=-1.0)
    with pytest.raises(ValueError, match="no weights"):
        sparsity(nn.BatchNorm1d(3))


# --------------------------------------------------------------------------- checkpoints


def test_checkpoint_saves_best_through_the_checkpoint_writer_and_restores(tmp_path, digits):
    torch.manual_seed(0)
    net = models.mlp(64, [32], 10)
    path = tmp_path / "sub" / "best.pt"
    ckpt = Checkpoint(path, monitor="val_loss")
    h = training.fit(net, digits.train, digits.val, num_epochs=6, lr=0.3, callbacks=[ckpt], verbose=False,
                     divergence_factor=None)
    best_epoch, best_value = h.best("val_loss")
    assert ckpt.best_epoch == best_epoch and h.best_epoch == best_epoch
    assert training.evaluate(net, digits.val)["loss"] == pytest.approx(best_value, rel=1e-5)
    fresh = models.mlp(64, [32], 10)
    assert ckpt.load(fresh) is fresh  # like checkpoints.load: the model comes back
    record = ckpt.metadata()
    assert record == {"epoch": best_epoch, "monitor": "val_loss", "value": pytest.approx(best_value)}
    for a, b in zip(fresh.parameters(), net.parameters()):
        assert torch.equal(a, b)
    assert checkpoints.verify(path), "the file carries its checksum"
    assert sorted(p.name for p in path.parent.iterdir()) == ["best.pt", "best.pt.sha256"], "no temporary file"


def test_checkpoint_refuses_a_corrupted_file(tmp_path, digits):
    ckpt = Checkpoint(tmp_path / "best.pt", monitor="val_accuracy")
    assert ckpt.mode == "max"
    training.fit(models.mlp(64, [8], 10), digits.train, digits.val, num_epochs=1, callbacks=[ckpt], verbose=False)
    raw = bytearray(ckpt.path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    ckpt.path.write_bytes(bytes(raw))
    with pytest.raises(checkpoints.ChecksumError, match="best.pt does not match its SHA-256"):
        ckpt.load(models.mlp(64, [8], 10))


def test_checkpoint_bad_inputs(tmp_path, digits):
    with pytest.raises(ValueError, match="path"):
        Checkpoint("")
    with pytest.raises(ValueError, match="mode"):
        Checkpoint(tmp_path / "x.pt", mode="best")
    with pytest.raises(ValueError, match="save_best_only=1"):
        Checkpoint(tmp_path / "x.pt", save_best_only=1)
    with pytest.raises(FileNotFoundError):
        Checkpoint(tmp_path / "none.pt").load(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="monitor"):
        training.fit(models.mlp(64, [8], 10), digits.train, num_epochs=1, verbose=False,
                     callbacks=[Checkpoint(tmp_path / "y.pt", monitor="val_loss")])


# --------------------------------------------------------------------------- MC dropout


def test_mc_dropout_predict_averages_stochastic_passes_and_restores_modes():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))
    net.train()
    net(torch.randn(64, 5))  # give batch norm running statistics
    X = torch.randn(20, 5)
    running_mean = net[1].running_mean.clone()
    mean, std = mc_dropout_predict(net, X, num_samples=30, seed=0)
    assert mean.shape == std.shape == (20, 3)
    assert torch.allclose(mean.sum(1), torch.ones(20), atol=1e-5)
    assert bool((std > 0).any()), "dropout must be on: the passes must differ"
    assert torch.equal(net[1].running_mean, running_mean), "batch norm must stay in evaluation mode"
    assert all(m.training for m in net.modules()), "modes are restored"
    # by hand: eval mode for everything but dropout
    net.eval()
    net[3].train()
    torch.manual_seed(0)
    by_hand = torch.stack([torch.softmax(net(X), 1) for _ in range(30)]).mean(0)
    assert torch.allclose(by_hand, mean, atol=1e-6)


def test_mc_dropout_with_a_seed_leaves_the_callers_random_state_alone():
    net = nn.Sequential(nn.Linear(5, 16), nn.Dropout(0.5), nn.Linear(16, 3))
    X = torch.randn(20, 5)
    torch.manual_seed(7)
    expected_next = torch.rand(3)
    torch.manual_seed(7)
    first = mc_dropout_predict(net, X, num_samples=5, seed=3)
    assert torch.equal(torch.rand(3), expected_next), "the global generator must not move"
    again = mc_dropout_predict(net, X, num_samples=5, seed=3)
    other = mc_dropout_predict(net, X, num_samples=5, seed=4)
    assert torch.equal(first[0], again[0]) and not torch.equal(first[0], other[0])
    torch.manual_seed(3)  # seed=None draws from the caller's generator
    assert torch.equal(mc_dropout_predict(net, X, num_samples=5, seed=None)[0], first[0])


def test_mc_dropout_bad_inputs():
    net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    with pytest.raises(ValueError, match="no dropout"):
        mc_dropout_predict(nn.Linear(2, 2), torch.randn(3, 2))
    with pytest.raises(ValueError, match="num_samples"):
        mc_dropout_predict(net, torch.randn(3, 2), num_samples=0)
    with pytest.raises(ValueError, match="X"):
        mc_dropout_predict(net, torch.randn(0, 2))
    with pytest.raises(ValueError, match="seed=-1"):
        mc_dropout_predict(net, torch.randn(3, 2), seed=-1)
    with pytest.raises(ValueError, match="num_samples=True"):
        mc_dropout_predict(net, torch.randn(3, 2), num_samples=True)


# --------------------------------------------------------------------------- label smoothing, calibration


def test_smooth_targets_is_the_one_in_losses():
    assert regularization.smooth_targets is losses.smooth_targets


def test_smooth_targets_matches_pytorch_label_smoothing():
    torch.manual_seed(0)
    logits, targets = torch.randn(12, 5), torch.randint(0, 5, (12,))
    soft = smooth_targets(targets, 5, 0.2)
    assert torch.allclose(soft.sum(1), torch.ones(12))
    assert soft[0, targets[0]].item() == pytest.approx(0.8 + 0.04)
    ours = -(soft * torch.log_softmax(logits, 1)).sum(1).mean()
    assert ours.item() == pytest.approx(nn.functional.cross_entropy(logits, targets, label_smoothing=0.2).item(), rel=1e-5)


def test_smooth_targets_bad_inputs():
    with pytest.raises(ValueError, match="smoothing"):
        smooth_targets(torch.tensor([0]), 3, 1.5)
    with pytest.raises(ValueError, match="num_classes"):
        smooth_targets(torch.tensor([0]), 0, 0.1)
    with pytest.raises(ValueError, match="targets"):
        smooth_targets(torch.tensor([3]), 3, 0.1)
    with pytest.raises(ValueError, match="targets"):
        smooth_targets(torch.tensor([0.5]), 3, 0.1)


def test_calibration_metrics_on_known_cases():
    # always 90% confident, right 9 times in 10: perfectly calibrated
    probs = torch.tensor([[0.9, 0.1]] * 10)
    targets = torch.tensor([0] * 9 + [1])
    assert expected_calibration_error(probs, targets) == pytest.approx(0.0, abs=1e-7)
    assert mean_max_probability(probs) == pytest.approx(0.9)
    # always 90% confident and right half the time: ECE 0.4
    targets = torch.tensor([0] * 5 + [1] * 5)
    assert expected_calibration_error(probs, targets) == pytest.approx(0.4, abs=1e-6)
    # two bins: 0.6 confident & right, 1.0 confident & wrong -> 0.5 * 0.4 + 0.5 * 1.0
    probs = torch.tensor([[0.6, 0.4], [0.0, 1.0]])
    assert expected_calibration_error(probs, torch.tensor([0, 0]), num_bins=10) == pytest.approx(0.7, abs=1e-6)


def test_calibration_bad_inputs():
    with pytest.raises(ValueError, match="probs"):
        mean_max_probability(torch.tensor([[2.0, -1.0]]))
    with pytest.raises(ValueError, match="probs"):
        expected_calibration_error(torch.tensor([0.5, 0.5]), torch.tensor([0]))
    with pytest.raises(ValueError, match="num_bins"):
        expected_calibration_error(torch.tensor([[0.5, 0.5]]), torch.tensor([0]), num_bins=0)
    with pytest.raises(ValueError, match="samples"):
        expected_calibration_error(torch.tensor([[0.5, 0.5]]), torch.tensor([0, 1]))

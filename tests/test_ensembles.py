import pytest
import torch
from torch import nn
from torch.nn import functional as F

from nnpractice import checkpoints, data, ensembles, models
from nnpractice.ensembles import EMA, Ensemble, Snapshots, error_correlation, predict_proba
from nnpractice.training import evaluate, fit


@pytest.fixture(scope="module")
def digits():
    X, y = data.load_digits()
    return data.train_val_test_split(X, y, val_fraction=0.2, test_fraction=0.2, seed=0)


def _members(n=3, seed=0):
    torch.manual_seed(seed)
    return [models.mlp(5, [7], 4) for _ in range(n)]


# ----------------------------------------------------------------------------- averaging predictions

def test_predict_proba_averages_probabilities_not_logits():
    members = _members()
    X = torch.randn(9, 5)
    expected = torch.stack([torch.softmax(m(X), 1) for m in members]).mean(0).detach()
    got = predict_proba(members, X, batch_size=4)          # several batches
    assert torch.allclose(got, expected, atol=1e-6)
    logit_mean = torch.softmax(torch.stack([m(X) for m in members]).mean(0), 1).detach()
    assert not torch.allclose(got, logit_mean, atol=1e-4)
    weighted = predict_proba(members, X, weights=[1, 0, 3])
    assert torch.allclose(weighted, 0.25 * torch.softmax(members[0](X), 1) + 0.75 * torch.softmax(members[2](X), 1),
                          atol=1e-6)


def test_member_probabilities_uses_eval_mode_and_restores_it():
    torch.manual_seed(0)
    net = models.mlp(5, [32], 3, dropout=0.5)
    net.train()
    X = torch.randn(6, 5)
    a = ensembles.member_probabilities([net], X)
    b = ensembles.member_probabilities([net], X)
    assert torch.equal(a, b) and a.shape == (1, 6, 3)       # dropout off: deterministic
    assert net.training


def test_ensemble_module_works_with_cross_entropy_and_evaluate(digits):
    torch.manual_seed(0)
    members = [models.mlp(64, [16], 10) for _ in range(3)]
    for i, m in enumerate(members):
        fit(m, digits.train, num_epochs=3, batch_size=64, lr=3e-3, seed=i)
    ens = Ensemble(members)
    X, y = digits.test
    with torch.no_grad():
        out = ens(X)
    probs = predict_proba(members, X)
    assert torch.allclose(out.exp(), probs, atol=1e-5)
    assert torch.allclose(F.cross_entropy(out, y), -probs[torch.arange(len(y)), y].log().mean(), atol=1e-5)
    result = evaluate(ens, digits.test)
    member_losses = [evaluate(m, digits.test)["loss"] for m in members]
    # Jensen: the loss of the averaged probabilities is at most the members' mean loss
    assert result["loss"] <= sum(member_losses) / 3 + 1e-6
    assert result["accuracy"] == pytest.approx((probs.argmax(1) == y).float().mean().item())


def test_error_correlation():
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    a = torch.tensor([0, 1, 2, 0, 1, 2, 1, 2])            # wrong on the last two
    b = a.clone()                                          # the same mistakes
    c = torch.tensor([1, 2, 2, 0, 1, 2, 0, 1])            # wrong on the first two
    corr = error_correlation(torch.stack([a, b, c]), y)
    assert corr.shape == (3, 3)
    assert corr[0, 1] == pytest.approx(1.0) and corr[0, 0] == pytest.approx(1.0)
    assert corr[0, 2] < 0
    probs = F.one_hot(torch.stack([a, c]), 3).float()
    assert torch.allclose(error_correlation(probs, y), corr[[0, 2]][:, [0, 2]])


def test_bootstrap_indices():
    idx = ensembles.bootstrap_indices(10_000, seed=3)
    assert idx.shape == (10_000,) and idx.min() >= 0 and idx.max() < 10_000
    unique = len(torch.unique(idx)) / 10_000
    assert 0.61 < unique < 0.65                            # 1 - 1/e of the items are drawn
    assert torch.equal(idx, ensembles.bootstrap_indices(10_000, seed=3))
    assert not torch.equal(idx, ensembles.bootstrap_indices(10_000, seed=4))


@pytest.mark.parametrize("call, message", [
    (lambda: predict_proba([], torch.zeros(2, 5)), r"models=\[\] is not allowed"),
    (lambda: predict_proba(["net"], torch.zeros(2, 5)), r"models=\['net'\] is not allowed"),
    (lambda: predict_proba(_members(2), torch.zeros(2, 5), weights=[1]), r"weights=\[1\] is not allowed: expected one .* per model \(2\).*here 1 values"),
    (lambda: predict_proba(_members(2), torch.zeros(2, 5), weights=[1, -1]), "weights="),
    (lambda: predict_proba(_members(2), torch.zeros(2, 5), weights=[0, 0]), "positive sum"),
    (lambda: predict_proba(_members(2), [[0.0] * 5]), "X=.* is not allowed: expected a torch.Tensor"),
    (lambda: predict_proba(_members(2), torch.zeros(2, 5), weights=[True, 1]), "weights="),
    (lambda: predict_proba(_members(2), torch.zeros(2, 5), batch_size=0), "batch_size=0"),
    (lambda: Ensemble([]), r"models=\[\] is not allowed"),
    (lambda: error_correlation(torch.zeros(3), torch.zeros(3)), "predictions=.* is not allowed: expected a tensor of classes"),
    (lambda: error_correlation(torch.zeros(2, 3), torch.zeros(4)), r"y=.* expected one label per example of predictions \(3\)"),
    (lambda: ensembles.bootstrap_indices(5, seed=-1), "seed=-1"),
    (lambda: ensembles.bootstrap_indices(0), "num_samples=0"),
])
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ----------------------------------------------------------------------------- EMA

def test_ema_matches_the_formula_step_by_step(digits):
    torch.manual_seed(0)
    net = models.mlp(64, [16], 10)
    shadow = [p.detach().clone() for p in net.parameters()]
    decay = 0.9

    class Shadow(EMA):                                      # after every batch: check the update
        def on_batch_end(self, trainer, batch_index, loss):
            super().on_batch_end(trainer, batch_index, loss)
            first = self.averaged.n_averaged.item() == 1
            for s, p in zip(shadow, trainer.model.parameters()):
                s.copy_(p.detach() if first else decay * s + (1 - decay) * p.detach())
            for s, q in zip(shadow, self.model.parameters()):
                assert torch.allclose(s, q, atol=1e-6)

    ema = Shadow(decay)
    fit(net, digits.train, num_epochs=2, batch_size=100, optimizer=torch.optim.SGD(net.parameters(), lr=0.2),
        callbacks=[ema])
    assert ema.averaged.n_averaged.item() == 2 * len(range(0, len(digits.train[0]), 100))
    # the average is a separate copy: it differs from the trained weights
    assert not all(torch.equal(p, q) for p, q in zip(net.parameters(), ema.model.parameters()))


def test_ema_logs_its_validation_values(digits):
    torch.manual_seed(0)
    net = models.mlp(64, [64], 10)
    ema = EMA(0.95, val=digits.val)
    h = fit(net, digits.train, digits.val, num_epochs=6, batch_size=32,
            optimizer=torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9), callbacks=[ema])
    assert len(h["ema_val_loss"]) == 6 and len(h["ema_val_accuracy"]) == 6
    assert h.last("ema_val_accuracy") > 0.85
    assert evaluate(ema.model, digits.val)["loss"] == pytest.approx(h.last("ema_val_loss"))


def test_ema_averages_batchnorm_buffers(digits):
    torch.manual_seed(0)
    net = models.mlp(64, [16], 10, batch_norm=True)
    ema = EMA(0.5)
    fit(net, digits.train, num_epochs=1, batch_size=200, callbacks=[ema])
    mean = dict(ema.model.named_buffers())["2.running_mean"]
    assert not torch.equal(mean, torch.zeros_like(mean))
    assert not torch.equal(mean, dict(net.named_buffers())["2.running_mean"])


def test_ema_rejects_bad_input():
    for bad in (0, 1, 1.5, -0.1, "0.9"):
        with pytest.raises(ValueError, match="decay="):
            EMA(bad)
    with pytest.raises(ValueError, match="EMA has no model yet"):
        _ = EMA(0.9).model


# ----------------------------------------------------------------------------- snapshots

def test_snapshots_in_memory_and_on_disk(digits, tmp_path):
    torch.manual_seed(0)
    net = models.mlp(64, [16], 10)
    snaps = Snapshots(at_epochs=[2, 4], folder=tmp_path / "snaps")
    every = Snapshots(every=2)
    fit(net, digits.train, num_epochs=4, batch_size=64, lr=3e-3, callbacks=[snaps, every])
    assert snaps.epochs == [2, 4] and every.epochs == [2, 4]
    assert [p.name for p in snaps.paths] == ["snapshot_epoch002.pt", "snapshot_epoch004.pt"]
    for k, v in net.state_dict().items():                  # the last snapshot is the final model
        assert torch.equal(snaps.states[-1][k], v)
    assert not torch.equal(snaps.states[0]["1.weight"], snaps.states[1]["1.weight"])
    assert all(checkpoints.verify(p) for p in snaps.paths), "snapshot files are written by checkpoints.save"
    assert checkpoints.read_metadata(snaps.paths[0]) == {"epoch": 2}
    rebuilt = snaps.models()
    loaded = ensembles.load_snapshots(snaps.paths, lambda: models.mlp(64, [16], 10))
    X = digits.test[0]
    for a, b in zip(rebuilt, loaded):
        assert torch.equal(a(X), b(X))
    assert rebuilt[1] is not net and torch.equal(rebuilt[1](X), net(X))


def test_load_snapshots_refuses_a_corrupted_snapshot(digits, tmp_path):
    snaps = Snapshots(every=1, folder=tmp_path)
    fit(models.mlp(64, [16], 10), digits.train, num_epochs=1, batch_size=64, lr=3e-3, callbacks=[snaps])
    [path] = snaps.paths
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(checkpoints.ChecksumError, match="snapshot_epoch001.pt"):
        ensembles.load_snapshots([path], lambda: models.mlp(64, [16], 10))


def test_snapshots_reject_bad_input():
    with pytest.raises(ValueError, match="exactly one"):
        Snapshots()
    with pytest.raises(ValueError, match="exactly one"):
        Snapshots(every=2, at_epochs=[1])
    with pytest.raises(ValueError, match="every=0"):
        Snapshots(every=0)
    with pytest.raises(ValueError, match=r"at_epochs=\[1, 0\] is not allowed"):
        Snapshots(at_epochs=[1, 0])
    with pytest.raises(ValueError, match=r"at_epochs=\[\] is not allowed"):
        Snapshots(at_epochs=[])
    with pytest.raises(ValueError, match="no snapshot yet"):
        Snapshots(every=1).models()
    with pytest.raises(ValueError, match=r"paths=\[\] is not allowed"):
        ensembles.load_snapshots([], lambda: nn.Linear(2, 2))

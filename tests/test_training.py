import math

import pytest
import torch
from torch import nn

from nnpractice import data, models, training
from nnpractice.training import Callback, EarlyStopping, History, evaluate, fit


@pytest.fixture
def digits_splits():
    X, y = data.load_digits()
    return data.train_val_test_split(X, y, val_fraction=0.2, test_fraction=0.2, seed=0)


def hand_written_loop(model, X, y, *, num_epochs, batch_size, lr, seed):
    """The loop chapter 02 writes, with the same batch order as fit."""
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    batches = data.BatchIterator(X, y, batch_size=batch_size, seed=seed)
    for _ in range(num_epochs):
        for xb, yb in batches:
            loss = nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()


def test_fit_matches_a_hand_written_loop_exactly(digits_splits):
    X, y = digits_splits.train
    torch.manual_seed(0)
    a = models.mlp(64, [32], 10)
    b = models.mlp(64, [32], 10)
    b.load_state_dict(a.state_dict())
    fit(a, (X, y), num_epochs=3, batch_size=50, optimizer=torch.optim.SGD(a.parameters(), lr=0.1), seed=4)
    hand_written_loop(b, X, y, num_epochs=3, batch_size=50, lr=0.1, seed=4)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.allclose(pa, pb, atol=1e-6)


def test_fit_learns_digits_and_logs_every_epoch(digits_splits):
    net = models.mlp(64, [64], 10)
    h = fit(net, digits_splits.train, digits_splits.val, num_epochs=8, batch_size=64, lr=3e-3)
    assert h.status == "completed" and not h.diverged and h.num_epochs == 8
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "epoch_time"):
        assert len(h[key]) == 8
    assert h["train_loss"][-1] < 0.5 * h["train_loss"][0]
    assert h.last("val_accuracy") > 0.9
    test = evaluate(net, digits_splits.test)
    assert test["accuracy"] > 0.9 and test["loss"] < 0.5


def test_logged_train_loss_is_the_mean_over_samples():
    X, y = torch.randn(70, 3), torch.randint(0, 2, (70,))
    net = models.mlp(3, [], 2)
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
    # with lr -> tiny the weights barely move: the mean loss is log(2)
    h = fit(net, (X, y), num_epochs=1, batch_size=32, optimizer=torch.optim.SGD(net.parameters(), lr=1e-12))
    assert h["train_loss"][0] == pytest.approx(math.log(2), rel=1e-6)
    assert evaluate(net, (X, y), batch_size=16)["loss"] == pytest.approx(math.log(2), rel=1e-6)


def test_evaluate_restores_training_mode_and_accuracy_counts():
    net = models.mlp(2, [4], 2, dropout=0.5)
    net.train()
    X = torch.randn(20, 2)
    out = evaluate(net, (X, torch.zeros(20, dtype=torch.long)))
    assert net.training and 0 <= out["accuracy"] <= 1
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert training.correct_count(logits, torch.tensor([0, 1, 1])).item() == 2
    assert training.correct_count(torch.tensor([[0.5], [-1.0]]), torch.tensor([1.0, 1.0])).item() == 1


def test_divergence_is_reported_and_weights_restored(digits_splits, capsys):
    net = models.mlp(64, [32], 10)
    h_ok = fit(net, digits_splits.train, num_epochs=1, lr=1e-3)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    opt = torch.optim.SGD(net.parameters(), lr=1e9)
    h = fit(net, digits_splits.train, digits_splits.val, num_epochs=5, optimizer=opt)
    assert h_ok.status == "completed"
    assert h.diverged and h.diverged_at == 1 and h.status == "diverged at epoch 1"
    assert "diverged at epoch 1" in capsys.readouterr().out
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]) and torch.isfinite(v).all()


def test_nan_loss_is_divergence_even_without_the_factor_rule():
    X, y = torch.randn(40, 2), torch.randint(0, 2, (40,))
    calls = {"n": 0}

    def nan_after_a_while(out, target):
        calls["n"] += 1
        loss = nn.functional.cross_entropy(out, target)
        return loss * float("nan") if calls["n"] > 4 else loss

    h = fit(models.mlp(2, [4], 2), (X, y), num_epochs=5, batch_size=10, loss_fn=nan_after_a_while,
            divergence_factor=None, verbose=False)
    assert h.status == "diverged at epoch 2" and h.num_epochs == 1  # epoch 1 kept, nothing lost


def test_early_stopping_stops_and_restores_the_best_epoch():
    torch.manual_seed(0)
    X, y = torch.randn(60, 20), torch.randint(0, 2, (60,))
    Xv, yv = torch.randn(60, 20), torch.randint(0, 2, (60,))  # pure noise: validation worsens soon
    net = models.mlp(20, [256], 2)
    snapshots = {}

    class Snapshot(Callback):
        def on_epoch_end(self, trainer, logs):
            snapshots[trainer.epoch] = {k: v.clone() for k, v in trainer.model.state_dict().items()}

    stopper = EarlyStopping("val_loss", patience=3)
    h = fit(net, (X, y), (Xv, yv), num_epochs=200, lr=1e-2, callbacks=[Snapshot(), stopper])
    best_epoch, best_loss = h.best("val_loss")
    assert h.status.startswith("stopped early at epoch") and h.num_epochs < 200
    assert h.stopped_at == best_epoch + 3 and h.best_epoch == best_epoch
    for k, v in net.state_dict().items():
        assert torch.equal(v, snapshots[best_epoch][k])
    assert evaluate(net, (Xv, yv))["loss"] == pytest.approx(best_loss, rel=1e-5)


def test_early_stopping_needs_its_metric():
    X, y = torch.randn(10, 2), torch.randint(0, 2, (10,))
    with pytest.raises(ValueError, match="monitor='val_loss' is not logged"):
        fit(models.mlp(2, [4], 2), (X, y), num_epochs=2, callbacks=[EarlyStopping()])
    with pytest.raises(ValueError, match="patience=0"):
        EarlyStopping(patience=0)


def test_callbacks_see_every_hook_in_order():
    events = []

    class Recorder(Callback):
        def on_train_begin(self, t): events.append("begin")
        def on_epoch_begin(self, t): events.append(f"e{t.epoch}")
        def on_batch_end(self, t, i, loss): events.append(f"b{i}")
        def on_epoch_end(self, t, logs): events.append(f"end{t.epoch}")
        def on_train_end(self, t): events.append("done")

    X, y = torch.randn(10, 2), torch.randint(0, 2, (10,))
    fit(models.mlp(2, [4], 2), (X, y), num_epochs=2, batch_size=5, callbacks=[Recorder()])
    assert events == ["begin", "e1", "b0", "b1", "end1", "e2", "b0", "b1", "end2", "done"]


def test_progress_and_live_plot_are_quiet_outside_notebooks(capsys):
    X, y = torch.randn(10, 2), torch.randint(0, 2, (10,))
    h = fit(models.mlp(2, [4], 2), (X, y), num_epochs=2, progress=True, live_plot=True)
    assert h.status == "completed"
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""  # tqdm writes to stderr: both streams are checked


def test_the_progress_bar_does_write_on_a_terminal(monkeypatch):
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    X, y = torch.randn(10, 2), torch.randint(0, 2, (10,))
    fit(models.mlp(2, [4], 2), (X, y), num_epochs=2, progress=True)
    assert "2/2" in terminal.getvalue()  # the bar reached the terminal, so the quiet test checks a real stream


def test_fit_accepts_a_batch_iterator_and_float_targets():
    X = torch.randn(64, 3)
    target = X @ torch.tensor([1.0, -2.0, 0.5])
    net = nn.Linear(3, 1)
    batches = data.BatchIterator(X, target.unsqueeze(1), batch_size=16)
    h = fit(net, batches, num_epochs=30, loss_fn=nn.functional.mse_loss, lr=0.05)
    assert "train_accuracy" not in h and h["train_loss"][-1] < 0.05 * h["train_loss"][0]


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": 0}, "lr=0 is not allowed"),
    ({"lr": -1e-3}, "lr=-0.001 is not allowed"),
    ({"num_epochs": 0}, "num_epochs=0"),
    ({"batch_size": -4}, "batch_size=-4"),
    ({"device": "tpu"}, "device='tpu'"),
    ({"divergence_factor": 0}, "divergence_factor=0"),
])
def test_fit_bad_arguments(kwargs, message):
    X, y = torch.randn(10, 2), torch.randint(0, 2, (10,))
    with pytest.raises(ValueError, match=message):
        fit(models.mlp(2, [4], 2), (X, y), **kwargs)


def test_fit_bad_data():
    net = models.mlp(2, [4], 2)
    with pytest.raises(ValueError, match=r"train\[0\] \(X\) is empty"):
        fit(net, (torch.zeros(0, 2), torch.zeros(0, dtype=torch.long)))
    with pytest.raises(ValueError, match=r"train\[0\] \(X\) has 10 samples but train\[1\] \(y\) has 9"):
        fit(net, (torch.zeros(10, 2), torch.zeros(9, dtype=torch.long)))
    with pytest.raises(ValueError, match=r"train=<Tensor of shape \(10, 2\)> is not allowed: expected a pair \(X, y\).*here train is a Tensor"):
        fit(net, torch.zeros(10, 2))
    with pytest.raises(ValueError, match="optimizer='adam' is not allowed: expected a torch.optim.Optimizer or None"):
        fit(net, (torch.zeros(10, 2), torch.zeros(10, dtype=torch.long)), optimizer="adam")
    with pytest.raises(ValueError, match="model=ReLU.. is not allowed: expected a model with parameters"):
        fit(nn.ReLU(), (torch.zeros(10, 2), torch.zeros(10, dtype=torch.long)))


def test_history_helpers():
    h = History()
    h.log({"train_loss": 1.0, "val_loss": 0.8, "val_accuracy": 0.5})
    h.log({"train_loss": 0.5, "val_loss": 0.9, "val_accuracy": 0.7})
    assert h.best("val_loss") == (1, 0.8) and h.best("val_accuracy") == (2, 0.7)
    assert h.epochs == [1, 2] and h.last("train_loss") == 0.5
    with pytest.raises(KeyError, match="History has no 'val_acc'"):
        h["val_acc"]
    assert "2 epochs" in repr(h)

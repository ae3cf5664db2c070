"""fit runs every loop: hooks by phase and granularity, a stop after any batch, on_train_end always."""
import math

import pytest
import torch
from torch import nn

from nnpractice import data, models, plots
from nnpractice.callbacks import Callback, EarlyStopping
from nnpractice.training import as_batches, fit


def _toy(n=40, classes=2):
    gen = torch.Generator().manual_seed(0)
    return torch.randn(n, 2, generator=gen), torch.randint(0, classes, (n,), generator=gen)


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, trainer): self.events.append("train_begin")
    def on_epoch_begin(self, trainer): self.events.append(f"epoch{trainer.epoch}")
    def on_batch_begin(self, trainer, batch_index): self.events.append(f"b{batch_index}")
    def on_batch_end(self, trainer, batch_index, loss): self.events.append(f"e{batch_index}")
    def on_epoch_end(self, trainer, logs): self.events.append("epoch_end")
    def on_exception(self, trainer, error): self.events.append(f"exception:{type(error).__name__}")
    def on_train_end(self, trainer): self.events.append("train_end")


def test_hooks_run_in_order_with_batch_begin():
    rec = Recorder()
    fit(models.mlp(2, [4], 2), _toy(20), num_epochs=2, batch_size=10, callbacks=[rec], seed=0)
    assert rec.events == ["train_begin", "epoch1", "b0", "e0", "b1", "e1", "epoch_end",
                          "epoch2", "b0", "e0", "b1", "e1", "epoch_end", "train_end"]


def test_a_stop_after_a_batch_ends_the_run_there_and_logs_the_partial_epoch():
    class StopAfterThree(Callback):
        def on_batch_end(self, trainer, batch_index, loss):
            self.seen = getattr(self, "seen", 0) + 1
            if self.seen == 3:
                trainer.stop_training, trainer.stop_reason = True, "stopped by the test"

    stopper = StopAfterThree()
    h = fit(models.mlp(2, [4], 2), _toy(40), num_epochs=5, batch_size=10, callbacks=[stopper], seed=0)
    assert stopper.seen == 3 and h.num_epochs == 1 and h.status == "stopped by the test"


def test_an_exception_reaches_on_exception_then_on_train_end_and_is_reraised():
    class Boom(Callback):
        def on_batch_end(self, trainer, batch_index, loss):
            if trainer.epoch == 3:
                raise RuntimeError("boom")

    rec = Recorder()
    net = models.mlp(2, [8], 2)
    X, y = _toy(40)
    stopper = EarlyStopping("val_loss", patience=10)
    with pytest.raises(RuntimeError, match="boom"):
        fit(net, (X, y), (X, y), num_epochs=5, batch_size=10, callbacks=[rec, stopper, Boom()], seed=0)
    assert rec.events[-2:] == ["exception:RuntimeError", "train_end"]
    # EarlyStopping restored the best epoch's weights although training raised
    best = {k: v.clone() for k, v in stopper.best_state.items()}
    assert all(torch.equal(best[k], v) for k, v in net.state_dict().items())


def test_a_run_that_diverges_in_its_first_epoch_leaves_a_usable_history():
    net = models.mlp(2, [16], 2)
    X, y = _toy(64)
    h = fit(net, (X, y), (X, y), num_epochs=3, optimizer=torch.optim.SGD(net.parameters(), lr=1e6),
            batch_size=8, seed=0, verbose=False)
    assert h.diverged and h.diverged_at == 1 and h.num_epochs == 0
    assert h["val_loss"] == [] and math.isnan(h.last("val_loss")) and h.best("val_accuracy")[0] is None
    assert "diverged at epoch 1" in repr(h)
    fig = plots.curves(h)  # draws empty panels instead of raising
    assert fig.axes


@pytest.mark.parametrize("labels, fragment", [
    (torch.zeros(40, dtype=torch.int32), r"train\[1\] \(y\) has dtype torch.int32: expected int64"),
    (torch.full((40,), 5), r"train\[1\] \(y\) holds class indices from 5 to 5: expected indices in \[0, 2\)"),
    (torch.zeros(40, 1, dtype=torch.long), r"train\[1\] \(y\) has shape \(40, 1\): expected one class index"),
    (torch.zeros(40), r"train\[1\] \(y\) is a float tensor of shape \(40,\)"),
])
def test_fit_names_the_labels_when_they_cannot_fit_the_output(labels, fragment):
    with pytest.raises(ValueError, match=fragment):
        fit(models.mlp(2, [4], 2), (_toy(40)[0], labels), num_epochs=1)


def test_a_regression_target_of_the_wrong_shape_is_refused_not_broadcast():
    X = torch.randn(32, 3)
    with pytest.raises(ValueError, match=r"train\[1\] \(y\) has shape \(8,\) but the model outputs \(8, 1\)"):
        fit(nn.Linear(3, 1), (X, X.sum(1)), num_epochs=1, batch_size=8, loss_fn=nn.functional.mse_loss)


def test_lr_beside_an_optimizer_is_refused_rather_than_ignored():
    net = models.mlp(2, [4], 2)
    with pytest.raises(ValueError, match=r"lr=0.1 is not allowed: expected None when an optimizer is passed"):
        fit(net, _toy(), optimizer=torch.optim.SGD(net.parameters(), lr=0.01), lr=0.1)


def test_fit_does_not_move_a_callers_batch_iterator():
    X, y = _toy(40)
    batches = data.BatchIterator(X, y, batch_size=10)
    moved = as_batches(batches, "train", 10, True, 0, torch.device("meta"))
    assert moved is not batches and moved.device.type == "meta"
    assert batches.device.type == "cpu" and batches.tensors[0].device.type == "cpu"


def test_fit_names_the_validation_labels_too():
    X, y = _toy(40)
    with pytest.raises(ValueError, match=r"val\[1\] \(y\) holds class indices from 0 to 7: expected indices in \[0, 2\)"):
        fit(models.mlp(2, [4], 2), (X, y), (X, torch.arange(40) % 8), num_epochs=1)

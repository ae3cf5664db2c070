import matplotlib

matplotlib.use("Agg")
import torch

from nnpractice import models, plots, training


def _history(offset=0.0):
    h = training.History()
    for i in range(5):
        h.log({"train_loss": 1 / (i + 1) + offset, "val_loss": 1.2 / (i + 1) + offset,
               "train_accuracy": 0.5 + 0.1 * i, "val_accuracy": 0.45 + 0.1 * i})
    return h


def test_curves_draws_train_and_validation_per_metric_with_labels():
    fig = plots.curves(_history())
    assert len(fig.axes) == 2
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_xlabel() == "epoch" and loss_ax.get_ylabel() == "loss"
    assert acc_ax.get_ylabel() == "accuracy"
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == ["train", "validation"]
    assert list(loss_ax.lines[0].get_ydata()) == _history()["train_loss"]


def test_curves_compares_named_runs():
    fig = plots.curves({"small": _history(), "big": _history(0.5)}, metrics=("loss",))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["small train", "small validation", "big train", "big validation"]


def test_decision_boundary_and_image_grid():
    net = models.mlp(2, [8], 2)
    X, y = torch.randn(30, 2), torch.randint(0, 2, (30,))
    fig = plots.decision_boundary(net, X, y, resolution=30, title="t")
    assert fig.axes[0].get_xlabel() == "$x_1$"
    assert [ax.get_ylabel() for ax in fig.axes][-1] == "P(class 1)"  # the colour bar
    bare = plots.decision_boundary(net, X, y, resolution=30, colorbar=False)
    assert len(bare.axes) == 1
    grid = plots.image_grid(torch.rand(10, 1, 8, 8), torch.arange(10), class_names=list("abcdefghij"), num_columns=5)
    titled = [ax.get_title() for ax in grid.axes if ax.get_title()]
    assert titled == list("abcdefghij")

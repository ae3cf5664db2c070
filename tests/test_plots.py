from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import pytest
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


def test_style_sets_colour_blind_safe_palettes_and_a_white_background():
    plots.style()
    rc = matplotlib.rcParams
    assert [c.upper() for c in rc["axes.prop_cycle"].by_key()["color"]] == list(plots.OKABE_ITO)
    assert rc["image.cmap"] == "viridis"
    assert rc["figure.facecolor"] == rc["axes.facecolor"] == rc["savefig.facecolor"] == "white"
    assert rc["savefig.transparent"] is False
    # the figures draw with it: the first two runs of a comparison are Okabe-Ito blue and orange
    fig = plots.curves({"a": _history(), "b": _history(0.5)}, metrics=("loss",))
    assert [matplotlib.colors.to_hex(line.get_color()).upper() for line in fig.axes[0].lines[::2]] == ["#0072B2", "#E69F00"]


def test_describe_says_what_a_figure_shows():
    plots.style()
    curves = plots.describe(plots.curves(_history()))
    assert curves.startswith("Figure with 2 panels.")
    assert 'Panel 1: x axis "epoch" from' in curves and 'y axis "loss"' in curves and 'y axis "accuracy"' in curves
    assert curves.count("2 lines. Legend: train, validation") == 2
    net = models.mlp(2, [8], 2)
    X, y = torch.randn(30, 2), torch.randint(0, 2, (30,))
    boundary = plots.describe(plots.decision_boundary(net, X, y, resolution=30, title="after 5 epochs"))
    assert boundary.startswith('Figure with 1 panel. titled "after 5 epochs"; x axis "x_1"')
    assert "30 points" in boundary and boundary.endswith('Colour bar "P(class 1)" from 0 to 1.')
    grid = plots.describe(plots.image_grid(torch.rand(12, 1, 8, 8), torch.arange(12) % 10,
                                           class_names=list("abcdefghij"), num_columns=6, title="samples"))
    assert grid == 'Figure "samples" with 12 panels. A grid of 12 images, titled a, b, c, d, e, f, g, h and 4 more.'
    from nnpractice.experiments import repeat

    compared = plots.describe(plots.conditions({"sgd": repeat(lambda seed: {"accuracy": 0.5 + seed / 10}, [0, 1]),
                                                "adam": repeat(lambda seed: {"accuracy": 0.7 + seed / 10}, [0, 1])},
                                               "accuracy"))
    assert 'x axis "condition" with sgd, adam; y axis "accuracy (mean ± sd)" from' in compared
    assert "4 points in 2 groups" in compared
    logged = plots.range_test(SimpleNamespace(lrs=[1e-3, 1e-2, 1e-1], losses=[2.0, 1.5, 3.0], smoothed=[2.0, 1.8, 2.2],
                                              suggestion=1e-2, rule="minimum"))
    logged.canvas.draw()  # typeset tick labels ("$\\mathdefault{10^{-2}}$") are numbers, not categories
    assert 'x axis "learning rate (log scale)" from 0.000' in plots.describe(logged)
    with pytest.raises(TypeError, match="fig"):
        plots.describe("not a figure")


def test_in_a_notebook_a_figures_text_plain_is_its_description():
    """In a real kernel, with the inline backend (which drops printers registered for Figure when it loads)."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import nnpractice\nenv = nnpractice.setup_notebook(report=False)"),
                      nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
                                                "ax.plot([1, 2, 3], [3, 1, 2], label='train')\n"
                                                "ax.set_xlabel('epoch'); ax.legend(); ax.set_title('loss')")]
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    shown = [o for o in notebook.cells[1].outputs if o.output_type == "display_data"]
    assert len(shown) == 1 and "image/png" in shown[0].data
    assert shown[0].data["text/plain"].startswith('Figure with 1 panel. titled "loss"; x axis "epoch" from 0.9 to 3.1')
    assert shown[0].data["text/plain"].endswith("1 line. Legend: train.")

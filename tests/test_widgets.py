"""The live playground driven from code (as a slider would drive it) and its static twin.

Every test builds its own playground (no state shared between tests), and the tests of
concurrency fix the order of events through the widget's own synchronisation (its condition
variable, its status observer) instead of sleeping: the outcome never depends on timing.
"""
import base64
import math
import re
import threading

import pytest
import torch

from nnpractice import regularization, widgets
from nnpractice.widgets import playground as playground_module
from nnpractice.widgets import runs


@pytest.fixture
def playground():
    pg = widgets.Playground("moons", knobs=("lr", "optimizer", "dropout", "l2", "epochs"), epochs=12)
    yield pg
    pg.close()


def test_first_run_happens_at_construction_and_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    pg = widgets.Playground("xor", knobs=("lr",), epochs=3)
    assert torch.equal(torch.rand(3), expected)
    assert pg.run is not None and pg.run.status == "completed" and pg.run.history.num_epochs == 3
    assert bytes(pg.image.value).startswith(b"\x89PNG")
    assert "completed" in pg.status.value and "learning rate" in pg.status.value
    pg.close()


def test_moving_a_slider_retrains_with_the_new_value_and_redraws(playground):
    before = playground.image.value
    playground.controls["lr"].value = 0.02
    run = playground.wait(timeout=60)
    assert run.config["lr"] == pytest.approx(0.02)
    assert run.status == "completed" and run.history.num_epochs == 12
    assert playground.image.value != before
    playground.controls["optimizer"].value = "adam"
    assert playground.wait(timeout=60).config["optimizer"] == "adam"
    playground.set(l2=1e-3, dropout=0.2, optimizer="sgd", lr=0.3)
    run = playground.wait(timeout=60)
    assert (run.config["l2"], run.config["dropout"], run.config["optimizer"]) == (1e-3, 0.2, "sgd")
    assert playground.controls["l2"].value == 1e-3


def test_the_learning_rate_changes_what_is_learned(playground):
    playground.set(lr=0.1, optimizer="momentum", dropout=0.0, l2=0.0, epochs=20)
    good = playground.wait(timeout=60)
    playground.set(lr=1e-4)
    tiny = playground.wait(timeout=60)
    assert max(good.history["val_accuracy"]) > 0.85
    assert tiny.history.last("train_loss") > 1.5 * good.history.last("train_loss")


def test_a_diverging_setting_says_so_instead_of_raising(playground):
    playground.set(lr=10.0, optimizer="sgd")
    run = playground.wait(timeout=60)
    assert run.diverged and re.fullmatch(r"diverged at epoch \d+", run.status)
    assert f"diverged at epoch {run.history.diverged_at}" in playground.status.value
    assert "Traceback" not in playground.status.value
    playground.set(lr=0.1, optimizer="momentum")
    assert playground.wait(timeout=60).status == "completed"


def test_fifty_rapid_changes_train_once_with_the_last_value(playground):
    started, finished = playground.started, playground.finished
    values = [10 ** (-3 + 2 * i / 49) for i in range(50)]  # 0.001 ... 0.1; the last one is 0.05
    values[-1] = 0.05
    # While the test holds the widget's lock the worker cannot take a change, so all fifty arrive
    # before it looks: the order of events is fixed, whatever the machine's speed.
    with playground._cond:
        for value in values:
            playground.controls["lr"].value = value
    run = playground.wait(timeout=120)
    assert run.config["lr"] == pytest.approx(0.05)
    assert run.status == "completed" and run.history.num_epochs == 12
    assert "learning rate 0.05" in playground.status.value
    assert playground.started - started == 1, "only the newest setting trains: nothing piles up"
    assert playground.finished - finished == 1 and playground.aborted == 0


def test_a_change_during_a_run_aborts_it_and_the_newer_one_trains(playground, monkeypatch):
    entered, proceed = threading.Event(), threading.Event()
    outcomes = []

    def recording_train_once(*args, **kwargs):
        try:
            run = runs.train_once(*args, **kwargs)
        except widgets.Aborted:
            outcomes.append("aborted")
            raise
        outcomes.append(run.config["lr"])
        return run

    monkeypatch.setattr(playground_module, "train_once", recording_train_once)

    def hold_the_first_run(change):  # runs in the worker's thread when it announces a run
        if change["new"].startswith("<span") and "training:" in change["new"] and not entered.is_set():
            entered.set()
            proceed.wait(timeout=60)

    playground.status.observe(hold_the_first_run, names="value")
    started, aborted = playground.started, playground.aborted
    playground.controls["lr"].value = 0.02
    assert entered.wait(timeout=60), "the worker never started the first change"
    playground.controls["lr"].value = 0.05  # arrives while the lr=0.02 run is under way
    proceed.set()
    run = playground.wait(timeout=60)
    assert run.config["lr"] == pytest.approx(0.05) and run.status == "completed"
    assert playground.started - started == 2 and playground.aborted - aborted == 1
    assert outcomes == ["aborted", pytest.approx(0.05)], "the stale run stopped inside fit, not after it"


def test_close_ends_the_worker_and_refuses_more_changes():
    pg = widgets.Playground("xor", knobs=("lr",), epochs=2)
    pg.set(lr=0.05)
    pg.wait(timeout=60)
    worker = pg._thread
    pg.close()
    assert not worker.is_alive()
    with pytest.raises(RuntimeError, match="closed"):
        pg.set(lr=0.1)


def test_a_stale_run_aborts_at_once_and_fit_finishes_its_callbacks():
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 3

    class Ends(widgets.StopWhenStale):
        ended = errors = 0

        def on_exception(self, trainer, error):
            Ends.errors += isinstance(error, widgets.Aborted)

        def on_train_end(self, trainer):
            Ends.ended += 1

    with pytest.raises(widgets.Aborted):
        widgets.train_once("moons", {"epochs": 50}, should_stop=should_stop)
    assert len(calls) == 4
    # the same callback in fit directly: its exception and end hooks run before Aborted goes on
    from nnpractice import training
    X, y = torch.randn(64, 2), torch.randint(0, 2, (64,))
    calls.clear()
    with pytest.raises(widgets.Aborted):
        training.fit(torch.nn.Linear(2, 2), (X, y), callbacks=[Ends(should_stop)], batch_size=8, lr=0.1)
    assert len(calls) == 4 and Ends.errors == 1 and Ends.ended == 1


def test_invalid_values_are_refused_with_a_message(playground):
    playground.set(lr=0.1)
    playground.wait(timeout=60)
    refused = playground.refused
    playground.controls["lr"].value = float("nan")
    assert playground.refused == refused + 1
    assert "Refused" in playground.status.value and "lr=nan" in playground.status.value
    assert playground.controls["lr"].value == pytest.approx(0.1), "the control goes back to the accepted value"
    with pytest.raises(ValueError, match=r"lr=-1 is not allowed"):
        playground.set(lr=-1)
    with pytest.raises(ValueError, match=r"dropout=0\.95 is not allowed.*\[0\.0, 0\.8\]"):
        playground.set(dropout=0.95)
    with pytest.raises(ValueError, match="width=8 is not allowed: expected a knob with a control"):
        playground.set(width=8)
    with pytest.raises(ValueError, match="optimizer='lbfgs' is not allowed"):
        playground.set(optimizer="lbfgs")


@pytest.mark.parametrize("kwargs, match", [
    ({"problem": "mnist"}, "problem='mnist' is not allowed"),
    ({"knobs": ("lr", "momentum")}, "knobs='momentum' is not allowed"),
    ({"epochs": 0}, "epochs=0 is not allowed"),
    ({"batch_size": 2.5}, "batch_size=2.5 is not allowed"),
    ({"l2": -1e-3}, r"l2=-0\.001 is not allowed"),
    ({"colour": 1}, "colour=1 is not allowed: expected a knob"),
])
def test_bad_construction_is_refused(kwargs, match):
    problem = kwargs.pop("problem", "moons")
    knobs = kwargs.pop("knobs", ("lr",))
    with pytest.raises(ValueError, match=match):
        widgets.Playground(problem, knobs, **kwargs)


def test_every_knob_gets_a_control_and_changes_the_run():
    pg = widgets.Playground("circles", knobs=tuple(widgets.KNOBS), epochs=2, train_size=100)
    assert set(pg.controls) == set(widgets.KNOBS)
    pg.set(width=4, depth=1, activation="relu", batch_size=64, noise=0.1, train_size=50, l1=1e-3, epochs=3)
    run = pg.wait(timeout=60)
    pg.close()
    assert run.config["width"] == 4 and run.config["depth"] == 1 and run.history.num_epochs == 3
    assert len(run.data[0]) == 50
    assert sum(p.numel() for p in run.model.parameters()) == 2 * 4 + 4 + 4 * 2 + 2


def test_the_knobs_offer_the_library_tables():
    from nnpractice import models, optimizers

    assert widgets.KNOBS["optimizer"].options == tuple(optimizers.OPTIMIZERS)
    assert widgets.KNOBS["activation"].options == tuple(models.ACTIVATIONS)
    run = widgets.train_once("moons", {"epochs": 1, "optimizer": "sgd", "activation": "gelu"})
    assert "GELU" in {type(m).__name__ for m in run.model}


def test_l1_and_l2_shrink_the_weights_and_leave_the_biases_alone():
    def weights_and_biases(config):
        run = widgets.train_once("moons", {"epochs": 15, "optimizer": "adam", "lr": 0.01, **config})
        linear = [m for m in run.model if isinstance(m, torch.nn.Linear)]
        return run, sum(m.weight.abs().sum().item() for m in linear), [m.bias.detach().clone() for m in linear]

    plain, plain_w, _ = weights_and_biases({})
    l1, l1_w, _ = weights_and_biases({"l1": 3e-3})
    assert l1_w < 0.8 * plain_w
    assert weights_and_biases({"l2": 1e-1})[1] < 0.8 * plain_w
    # the logged losses stay the cross-entropy: no penalty inside (the curves compare train with validation)
    X_train, y_train, X_val, y_val = l1.data
    with torch.no_grad():
        assert l1.history.last("val_loss") == pytest.approx(
            torch.nn.functional.cross_entropy(l1.model(X_val), y_val).item(), rel=1e-5)
    assert 3e-3 * regularization.l1_penalty(l1.model).item() > 0.01, "a penalty in the value would show"


def test_weight_decay_follows_the_penalized_parameters_rule():
    model = widgets.build_model("moons", {"depth": 1, "width": 4})
    groups = runs.parameter_groups(model, 0.1)
    decayed = {id(p) for p in groups[0]["params"]}
    assert groups[0]["weight_decay"] == 0.1 and groups[1]["weight_decay"] == 0.0
    assert decayed == {id(p) for p in regularization.penalized_parameters(model)}
    assert all(p.ndim == 1 for p in groups[1]["params"]) and len(groups[1]["params"]) == 2
    assert runs.parameter_groups(model, 0.0) == [{"params": list(model.parameters()), "weight_decay": 0.0}]
    # a pure decay step (no gradient from the data) moves weights, never biases
    opt = torch.optim.SGD(groups, lr=1.0)
    before = [p.detach().clone() for p in model.parameters()]
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    opt.step()
    for old, p in zip(before, model.parameters()):
        assert torch.equal(old, p) == (p.ndim == 1)


def test_the_l1_loss_has_the_data_value_and_the_penalty_gradient():
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
    X, y = torch.randn(16, 2), torch.randint(0, 2, (16,))
    loss = runs.l1_subgradient_loss(model, 0.5)(model(X), y)
    assert loss.item() == torch.nn.functional.cross_entropy(model(X), y).item()
    loss.backward()
    got = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    (torch.nn.functional.cross_entropy(model(X), y) + 0.5 * regularization.l1_penalty(model)).backward()
    assert all(torch.allclose(a, p.grad) for a, p in zip(got, model.parameters()))


def test_image_set_playground_shows_curves_and_accuracy():
    pg = widgets.Playground("digits", knobs=("lr", "batch_size"))
    run = pg.run
    assert run.status == "completed" and run.history.last("val_accuracy") > 0.8
    pg.set(batch_size=128)
    run = pg.wait(timeout=60)
    pg.close()
    assert run.config["batch_size"] == 128 and len(run.data[2]) == widgets.VAL_SIZE["image"]
    assert bytes(pg.image.value).startswith(b"\x89PNG")


def test_image_noise_is_gaussian_and_seeded():
    clean = widgets.problem_data("digits", 100, 0.0, seed=0)[0]
    noisy = widgets.problem_data("digits", 100, 0.3, seed=0)[0]
    again = widgets.problem_data("digits", 100, 0.3, seed=0)[0]
    other = widgets.problem_data("digits", 100, 0.3, seed=1)[0]
    difference = noisy - clean
    assert torch.equal(noisy, again) and not torch.equal(noisy, other)
    assert abs(difference.std().item() - 0.3) < 0.01 and abs(difference.mean().item()) < 0.01
    assert noisy.min() < 0, "no clipping: the features are not images in [0, 1] once noised"


def test_streaming_calls_back_every_epoch():
    seen = []
    run = widgets.train_once("moons", {"epochs": 5}, on_epoch=lambda r: seen.append(r.history.num_epochs))
    assert seen == [1, 2, 3, 4, 5] and run.status == "completed"


def test_static_twin_is_self_contained_and_swaps_images():
    twin = widgets.static_twin("moons", "lr", [0.01, 1.0, 10.0], knob2="dropout", values2=[0.0, 0.3],
                               epochs=4, start=1, start2=0)
    text = twin.html
    assert text == twin._repr_html_()
    images = re.findall(r'<img data-k="(\d_\d)"[^>]*src="data:image/png;base64,([^"]+)"', text)
    assert [k for k, _ in images] == [f"{i}_{j}" for i in range(3) for j in range(2)]
    assert all(base64.b64decode(b64).startswith(b"\x89PNG") for _, b64 in images)
    assert len({b64 for _, b64 in images}) == 6, "every setting has its own figure"
    assert text.count('type="range"') == 2 and 'max="2"' in text and 'max="1"' in text
    # nothing external: no script tags, no links, no http
    assert "<script" not in text and "http" not in text and "<link" not in text
    # the inline handler may hold only single quotes (it lives in a double-quoted attribute)
    handler = re.search(r'oninput="([^"]*)"', text).group(1)
    assert "querySelectorAll" in handler and '"' not in handler
    # the first image shown is the start index; the others are hidden
    shown = re.findall(r'<img data-k="(\d_\d)" alt="[^"]*" style="max-width:100%"', text)
    assert shown == ["1_0"]
    assert twin.runs[(10.0, 0.0)].diverged and not twin.runs[(0.01, 0.0)].diverged


def test_static_twin_defaults_cover_an_integer_knob():
    twin = widgets.static_twin("xor", "depth", epochs=1)
    assert twin.values == ((0, 1, 2, 3, 4),) and all(isinstance(v, int) for v in twin.runs)


@pytest.mark.parametrize("kwargs, match", [
    ({"knob": "speed"}, "knob='speed' is not allowed"),
    ({"values": []}, r"values=\[\] is not allowed: expected at least one value of 'lr'"),
    ({"values": [0.1, -1.0]}, r"lr=-1\.0 is not allowed"),
    ({"knob2": "lr", "values2": [0.1]}, "knob2='lr' is not allowed"),
    ({"values2": [1, 2]}, r"values2=\[1, 2\] is not allowed: expected None when knob2 is None"),
    ({"values": [0.1, 1.0], "start": 2}, "start=2 is not allowed"),
    ({"knob2": "dropout", "values2": [0.0], "start2": 1}, "start2=1 is not allowed"),
])
def test_static_twin_refuses_bad_input(kwargs, match):
    kwargs = {"knob": "lr", "values": [0.1], **kwargs}
    with pytest.raises(ValueError, match=match):
        widgets.static_twin("moons", epochs=1, **kwargs)


def test_divergence_rule_catches_nan_and_explosion():
    run = widgets.train_once("digits", {"lr": 10.0, "epochs": 5})
    assert run.diverged and run.history.diverged_at == 1 and run.status == "diverged at epoch 1"
    assert run.history.num_epochs == 0, "the diverged epoch is not logged"
    run = widgets.train_once("moons", {"lr": 1.0, "epochs": 30, "optimizer": "momentum"})
    assert run.diverged and run.history.num_epochs == run.history.diverged_at - 1
    assert all(math.isfinite(v) for v in run.history["train_loss"])


def test_the_divergence_rule_is_the_one_in_training(monkeypatch):
    from nnpractice import training

    seen = []

    def never(epoch_loss, first_loss, factor):
        seen.append(factor)
        return False

    monkeypatch.setattr(training, "is_diverged", never)
    run = widgets.train_once("moons", {"lr": 1.0, "epochs": 30, "optimizer": "momentum"}, divergence_factor=7.0)
    assert not run.diverged and run.status == "completed" and seen == [7.0] * 30


def test_seed_zero_runs_repeat_exactly():
    a = widgets.train_once("moons", {"epochs": 4}, seed=0)
    b = widgets.train_once("moons", {"epochs": 4}, seed=0)
    c = widgets.train_once("moons", {"epochs": 4}, seed=1)
    assert a.history["train_loss"] == b.history["train_loss"] != c.history["train_loss"]
    assert all(torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters()))


# --------------------------------------------------------------------------- in a real kernel, as a frontend sees it
KERNEL_CELLS = [
    "from nnpractice import widgets\n"
    "playground = widgets.Playground('xor', knobs=('lr', 'optimizer'), epochs=3)\n"
    "playground",
    "print(playground.controls['lr'].model_id, playground.controls['optimizer'].model_id, playground.image.model_id,\n"
    "      playground.controls['optimizer'].options.index('adam'))",
    "run = playground.wait(timeout=60)\n"
    "print(run.config['lr'], run.config['optimizer'], run.status, playground.started)",
]


def test_a_frontend_moving_the_sliders_retrains_in_a_real_kernel():
    """The kernel side as Jupyter or Colab drives it: the widgets' models go out over comms when the playground is
    shown, a slider moved in the page (a comm "update" message, as the frontend sends it) retrains, and the new
    figure goes back over the comm. Works on both ipywidgets lines (7.7.1 on Colab, 8.x elsewhere)."""
    import ipywidgets
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in KERNEL_CELLS])
    client = NotebookClient(nb, timeout=120, kernel_name="python3")
    with client.setup_kernel(env={**__import__("os").environ, "OMP_NUM_THREADS": "1"}):
        client.execute_cell(nb.cells[0], 0)
        views = [o["data"]["application/vnd.jupyter.widget-view+json"] for o in nb.cells[0].outputs
                 if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
        assert len(views) == 1 and views[0]["version_major"] == 2, nb.cells[0].outputs
        client.execute_cell(nb.cells[1], 1)
        lr_id, optimizer_id, image_id, adam = nb.cells[1].outputs[0]["text"].split()
        first_png = dict(client.widget_buffers[image_id])  # the figure of the first run, as the page got it
        # what the page sends when the reader drags the slider and picks from the drop-down (which sends its index)
        for comm_id, state in ((lr_id, {"value": 0.05}), (optimizer_id, {"index": int(adam)})):
            client.kc.shell_channel.send(client.kc.session.msg("comm_msg", {
                "comm_id": comm_id, "data": {"method": "update", "state": state, "buffer_paths": []}}))
        client.execute_cell(nb.cells[2], 2)
        lr, optimizer, status, started = nb.cells[2].outputs[0]["text"].split()
        assert (float(lr), optimizer, status) == (0.05, "adam", "completed") and int(started) >= 2
        client.set_widgets_metadata()
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    models = {model["model_name"] for model in state.values()}
    assert {"FloatLogSliderModel", "DropdownModel", "ImageModel", "VBoxModel"} <= models
    expected = "1.5.0" if ipywidgets.__version__.startswith("7.") else "2.0.0"
    assert {state[i]["model_module_version"] for i in (lr_id, optimizer_id, image_id)} == {expected}
    assert views[0]["model_id"] in state and state[views[0]["model_id"]]["model_name"] == "VBoxModel"
    # the figure of the new run reached the frontend: the image model's value is a PNG sent as a binary buffer
    buffers = state[image_id].get("buffers", [])
    assert buffers and base64.b64decode(buffers[0]["data"]).startswith(b"\x89PNG")
    assert client.widget_buffers[image_id] != first_png, "the page got a new figure after the change"

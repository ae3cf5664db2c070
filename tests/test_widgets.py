"""The live playground driven from code (as a slider would drive it) and its static twin."""
import base64
import math
import re
import time

import pytest
import torch

from nnpractice import widgets


@pytest.fixture(scope="module")
def playground():
    pg = widgets.Playground("moons", knobs=("lr", "optimizer", "dropout", "l2", "epochs"), epochs=12)
    yield pg


def test_first_run_happens_at_construction_and_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    pg = widgets.Playground("xor", knobs=("lr",), epochs=3)
    assert torch.equal(torch.rand(3), expected)
    assert pg.run is not None and pg.run.status == "completed" and pg.run.history.num_epochs == 3
    assert bytes(pg.image.value).startswith(b"\x89PNG")
    assert "completed" in pg.status.value and "learning rate" in pg.status.value


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


def test_fifty_rapid_changes_end_on_the_last_value_without_piling_up(playground):
    playground.set(lr=0.1, epochs=30)
    playground.wait(timeout=60)
    started = playground.started
    values = [10 ** (-3 + 2 * i / 49) for i in range(50)]  # 0.001 ... 0.1, last one trains fully
    values[-1] = 0.05
    for value in values:
        playground.controls["lr"].value = value
        time.sleep(0.002)
    run = playground.wait(timeout=120)
    assert run.config["lr"] == pytest.approx(0.05)
    assert run.status == "completed" and run.history.num_epochs == 30
    assert "learning rate 0.05" in playground.status.value
    # the debounce and the generation counter keep the number of trainings far below 50
    assert playground.started - started < 25
    assert playground.finished >= 1


def test_a_stale_run_aborts_at_once():
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(widgets.Aborted):
        widgets.train_once("moons", {"epochs": 50}, should_stop=should_stop)
    assert len(calls) == 4


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
    with pytest.raises(ValueError, match="'width' has no control"):
        playground.set(width=8)
    with pytest.raises(ValueError, match="optimizer='lbfgs' is not allowed"):
        playground.set(optimizer="lbfgs")


@pytest.mark.parametrize("kwargs, match", [
    ({"problem": "mnist"}, "problem='mnist' is not allowed"),
    ({"knobs": ("lr", "momentum")}, "knobs='momentum' is not allowed"),
    ({"epochs": 0}, "epochs=0 is not allowed"),
    ({"batch_size": 2.5}, "batch_size=2.5 is not allowed"),
    ({"l2": -1e-3}, r"l2=-0\.001 is not allowed"),
    ({"colour": 1}, "'colour' is not a knob"),
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
    assert run.config["width"] == 4 and run.config["depth"] == 1 and run.history.num_epochs == 3
    assert len(run.data[0]) == 50
    assert sum(p.numel() for p in run.model.parameters()) == 2 * 4 + 4 + 4 * 2 + 2


def test_l1_and_l2_shrink_the_weights():
    def weight_norm(config):
        run = widgets.train_once("moons", {"epochs": 15, "optimizer": "adam", "lr": 0.01, **config})
        return sum(m.weight.abs().sum().item() for m in run.model if isinstance(m, torch.nn.Linear))

    plain = weight_norm({})
    assert weight_norm({"l1": 3e-3}) < 0.8 * plain
    assert weight_norm({"l2": 1e-1}) < 0.8 * plain


def test_image_set_playground_shows_curves_and_accuracy():
    pg = widgets.Playground("digits", knobs=("lr", "batch_size"))
    run = pg.run
    assert run.status == "completed" and run.history.last("val_accuracy") > 0.8
    pg.set(batch_size=128)
    run = pg.wait(timeout=60)
    assert run.config["batch_size"] == 128 and len(run.data[2]) == widgets.VAL_SIZE["image"]
    assert bytes(pg.image.value).startswith(b"\x89PNG")


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


@pytest.mark.parametrize("kwargs, match", [
    ({"knob": "speed"}, "knob='speed' is not allowed"),
    ({"values": []}, "is empty"),
    ({"values": [0.1, -1.0]}, r"lr=-1\.0 is not allowed"),
    ({"knob2": "lr", "values2": [0.1]}, "knob2='lr' is not allowed"),
    ({"values2": [1, 2]}, "values2 is given but knob2 is not"),
    ({"values": [0.1, 1.0], "start": 2}, "start=2 is not allowed"),
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

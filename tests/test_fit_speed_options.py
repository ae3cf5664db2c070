"""fit's GPU options (bf16 autocast, channels-last, torch.compile), tested on the CPU.

The CPU path must not change: with the defaults, fit stays bit-for-bit chapter 02's loop
(test_training.py checks that) and these tests check what "auto" resolves to. The options
themselves also work on the CPU (autocast has a CPU bf16 mode, channels-last is a memory
layout, torch.compile has an "eager" backend), so their code paths run here too.
"""
import pytest
import torch
from torch import nn

from nnpractice import data, models
from nnpractice.training import SpeedOptions, evaluate, fit


@pytest.fixture(scope="module")
def digits_images():
    # three channels: with one channel a batch is laid out the same way in either memory format
    X, y = data.load_digits()
    X = X.reshape(-1, 1, 8, 8)[:512]
    return torch.cat([X, X.flip(-1), X.transpose(-1, -2)], dim=1).contiguous(), y[:512]


def small_cnn():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
                         nn.Flatten(), nn.Linear(32, 10))


def record_inputs_and_outputs(model):
    """Forward hooks on the model: the dtype/layout of what goes in and comes out of each training call."""
    seen = []

    def hook(module, args, output):
        if module.training:
            seen.append((args[0].is_contiguous(memory_format=torch.channels_last), args[0].dim(), output.dtype))

    model.register_forward_hook(hook)
    return seen


def test_auto_resolves_to_the_plain_cpu_loop():
    cpu = torch.device("cpu")
    for model in (small_cnn(), models.mlp(4, [8], 2)):
        options = SpeedOptions.resolve(cpu, model)
        assert options.as_dict() == {"precision": "fp32", "channels_last": False, "compile": False}


def test_auto_on_cuda_picks_bf16_and_channels_last_for_convnets_only(monkeypatch):
    cuda = torch.device("cuda")  # resolving needs no GPU: only the bf16 query is answered here
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    assert SpeedOptions.resolve(cuda, small_cnn()).as_dict() == {"precision": "bf16", "channels_last": True,
                                                                "compile": False}
    assert SpeedOptions.resolve(cuda, models.mlp(4, [8], 2)).channels_last is False
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: False)  # e.g. a T4 or V100
    assert SpeedOptions.resolve(cuda, small_cnn()).precision == "fp32"
    # what is asked for explicitly is what you get
    explicit = SpeedOptions.resolve(cuda, small_cnn(), precision="fp32", channels_last=False, compile=True)
    assert explicit.as_dict() == {"precision": "fp32", "channels_last": False, "compile": True}


def test_defaults_on_the_cpu_train_in_float32_with_the_usual_layout(digits_images):
    model = small_cnn()
    seen = record_inputs_and_outputs(model)
    history = fit(model, digits_images, num_epochs=1, batch_size=64, verbose=False)
    assert history.settings == {"device": "cpu", "precision": "fp32", "channels_last": False, "compile": False}
    assert seen and all(dtype == torch.float32 and not is_cl for is_cl, _, dtype in seen)
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_bf16_autocast_runs_the_forward_pass_in_bf16_and_keeps_float32_weights(digits_images):
    X, y = digits_images
    reference, model = small_cnn(), small_cnn()
    seen = record_inputs_and_outputs(model)
    h32 = fit(reference, (X, y), (X, y), num_epochs=5, batch_size=32, lr=3e-2, precision="fp32", verbose=False)
    h16 = fit(model, (X, y), (X, y), num_epochs=5, batch_size=32, lr=3e-2, precision="bf16", verbose=False)
    assert h16.settings["precision"] == "bf16"
    assert seen and all(dtype == torch.bfloat16 for _, _, dtype in seen)  # the forward pass ran in bf16
    assert all(p.dtype == torch.float32 for p in model.parameters())     # the weights did not
    assert all(isinstance(v, float) for v in h16["train_loss"] + h16["val_loss"])
    # it learns, and lands close to the float32 run (bf16 keeps about 3 significant digits)
    assert h16["train_loss"][-1] < 0.5 * h16["train_loss"][0], h16["train_loss"]
    assert abs(h16["train_loss"][-1] - h32["train_loss"][-1]) < 0.1 * h32["train_loss"][0], (h16["train_loss"],
                                                                                           h32["train_loss"])
    assert abs(h16.last("val_accuracy") - h32.last("val_accuracy")) < 0.05, (h16.last("val_accuracy"),
                                                                             h32.last("val_accuracy"))
    # and the run differs from float32's: autocast really was on
    assert any((a - b).abs().max() > 0 for a, b in zip(model.parameters(), reference.parameters()))


def test_channels_last_changes_the_layout_not_the_result(digits_images):
    plain, nhwc = small_cnn(), small_cnn()
    seen = record_inputs_and_outputs(nhwc)
    fit(plain, digits_images, num_epochs=2, batch_size=64, optimizer=torch.optim.SGD(plain.parameters(), lr=0.05),
        channels_last=False, verbose=False)
    history = fit(nhwc, digits_images, num_epochs=2, batch_size=64,
                  optimizer=torch.optim.SGD(nhwc.parameters(), lr=0.05), channels_last=True, verbose=False)
    assert history.settings["channels_last"] is True
    assert nhwc[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert seen and all(is_cl for is_cl, dim, _ in seen if dim == 4)  # every 4D batch went in channels-last
    for a, b in zip(plain.parameters(), nhwc.parameters()):
        assert torch.allclose(a, b, atol=1e-4), (a - b).abs().max()
    # evaluate accepts the same layout and gives the same numbers
    X, y = digits_images
    a = evaluate(nhwc, (X, y), channels_last=True)
    b = evaluate(nhwc, (X, y), channels_last=False)
    assert abs(a["loss"] - b["loss"]) < 1e-5 and a["accuracy"] == b["accuracy"]


def test_compile_trains_through_torch_compile(digits_images, monkeypatch):
    calls = []
    real_compile = torch.compile

    def spy(model, **kwargs):
        calls.append(kwargs)
        return real_compile(model, **kwargs)

    monkeypatch.setattr(torch, "compile", spy)
    eager, compiled = models.mlp(64, [32], 10), models.mlp(64, [32], 10)
    compiled.load_state_dict(eager.state_dict())
    X, y = digits_images[0][:, 0].flatten(1), digits_images[1]
    fit(eager, (X, y), num_epochs=2, batch_size=64, optimizer=torch.optim.SGD(eager.parameters(), lr=0.1),
        verbose=False)
    history = fit(compiled, (X, y), num_epochs=2, batch_size=64,
                  optimizer=torch.optim.SGD(compiled.parameters(), lr=0.1), compile="eager", verbose=False)
    assert calls == [{"backend": "eager"}] and history.settings["compile"] == "eager"
    for a, b in zip(eager.parameters(), compiled.parameters()):  # the compiled graph trains the same weights
        assert torch.allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("kwargs, names", [
    ({"precision": "fp16"}, ["precision", "'fp16'", "bf16"]),
    ({"precision": None}, ["precision", "None"]),
    ({"channels_last": "yes"}, ["channels_last", "'yes'", "auto"]),
    ({"channels_last": 1}, ["channels_last", "1"]),
    ({"compile": 3}, ["compile", "3", "backend"]),
    ({"compile": ""}, ["compile", "''"]),
])
def test_bad_speed_options_are_refused_with_the_parameter_named(kwargs, names, digits_images):
    with pytest.raises(ValueError) as error:
        fit(small_cnn(), digits_images, num_epochs=1, verbose=False, **kwargs)
    for name in names:
        assert name in str(error.value), str(error.value)

"""The playgrounds' JavaScript trainer (src/nnpractice/widgets/js/trainer.js) trains exactly as the Python playground does.

Each case exports one small problem from Python — the data, the initial weights and the batch order — runs
it through the JavaScript trainer under Node.js and through the playground's own PyTorch code path
(``optimizers.make_optimizer`` over ``widgets.runs.parameter_groups``, ``l1_subgradient_loss``) in float64,
and compares every batch loss and the final weights: agreement to 1e-6 relative over 200 optimizer steps,
for each optimizer, penalty and activation. Dropout draws its masks from the JavaScript generator's stream,
re-implemented here, so the two runs drop the same units.
"""
import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nnpractice import data, optimizers
from nnpractice.widgets.runs import l1_subgradient_loss, parameter_groups

ROOT = Path(__file__).resolve().parents[1]
JS = ROOT / "src" / "nnpractice" / "widgets" / "js"
NODE = shutil.which("node")
STEPS = 200
BATCH = 16
N_TRAIN = 128  # 8 batches an epoch: 25 epochs are 200 steps

CASES = {  # name: (optimizer, lr, activation, l1, l2, dropout)
    "sgd-relu": ("sgd", 0.5, "relu", 0.0, 0.0, 0.0),
    "momentum-tanh": ("momentum", 0.1, "tanh", 0.0, 0.0, 0.0),
    "adam-sigmoid": ("adam", 0.01, "sigmoid", 0.0, 0.0, 0.0),
    "adamw-relu": ("adamw", 0.01, "relu", 0.0, 0.0, 0.0),
    "rmsprop-tanh": ("rmsprop", 0.003, "tanh", 0.0, 0.0, 0.0),
    "sgd-l2": ("sgd", 0.5, "tanh", 0.0, 1e-2, 0.0),
    "momentum-l2": ("momentum", 0.1, "relu", 0.0, 1e-2, 0.0),
    "adam-l2": ("adam", 0.01, "tanh", 0.0, 1e-2, 0.0),
    "adamw-l2": ("adamw", 0.01, "tanh", 0.0, 1e-1, 0.0),
    "rmsprop-l2": ("rmsprop", 0.003, "relu", 0.0, 1e-2, 0.0),
    "sgd-l1": ("sgd", 0.5, "relu", 1e-3, 0.0, 0.0),
    "adam-l1-l2": ("adam", 0.01, "sigmoid", 1e-3, 1e-2, 0.0),
    "sgd-dropout": ("sgd", 0.5, "relu", 0.0, 0.0, 0.3),
    "adam-dropout-tanh": ("adam", 0.01, "tanh", 0.0, 1e-3, 0.5),
}


def mulberry32(seed: int):
    """The JavaScript trainer's random generator (randomGenerator in trainer.js), bit for bit."""
    state = seed & 0xFFFFFFFF

    def imul(a, b):
        return (a * b) & 0xFFFFFFFF

    def next_uniform():
        nonlocal state
        state = (state + 0x6D2B79F5) & 0xFFFFFFFF
        t = state
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    return next_uniform


class StreamDropout(nn.Module):
    """nn.Dropout's rule (drop with probability p, scale the rest by 1/(1-p)) with the JavaScript mask stream."""

    def __init__(self, p, uniform):
        super().__init__()
        self.p, self.uniform = p, uniform

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        draws = torch.tensor([self.uniform() for _ in range(x.numel())], dtype=x.dtype).reshape(x.shape)
        return x * (draws >= self.p) / (1 - self.p)


def run_in_node(cases: list[dict]) -> list[dict]:
    result = subprocess.run([NODE, str(JS / "run_json.js")], input=json.dumps(cases),
                            capture_output=True, text=True, timeout=300, check=True)
    return json.loads(result.stdout)


def make_case(name):
    optimizer, lr, activation, l1, l2, dropout = CASES[name]
    X, y = data.make_toy("moons", N_TRAIN, noise=0.2, seed=0)
    gen = torch.Generator().manual_seed(1)
    sizes = [2, 8, 8, 2]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]).double())
    with torch.no_grad():
        for layer in layers:
            bound = 1 / math.sqrt(layer.in_features)
            layer.weight.uniform_(-bound, bound, generator=gen)
            layer.bias.uniform_(-bound, bound, generator=gen)
    order = [torch.randperm(N_TRAIN, generator=gen).tolist() for _ in range(STEPS * BATCH // N_TRAIN)]
    seed = 7
    options = {"train": {"X": X.double().tolist(), "y": y.tolist()}, "inputs": 2, "classes": 2, "hidden": [8, 8],
               "activation": activation, "dropout": dropout, "optimizer": optimizer, "lr": lr, "l1": l1, "l2": l2,
               "batchSize": BATCH, "epochs": len(order), "seed": seed, "divergenceFactor": None,
               "parameters": [[layer.weight.tolist(), layer.bias.tolist()] for layer in layers],
               "batchOrder": order}
    return options, layers


def run_in_torch(options, layers):
    """The same run through the Python playground's pieces (train_once's optimizer groups and L1 loss)."""
    activation = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[options["activation"]]
    uniform = mulberry32((options["seed"] ^ 0x9E3779B9) & 0xFFFFFFFF)  # trainer.js: the dropout stream's seed
    modules = []
    for i, layer in enumerate(layers):
        modules.append(layer)
        if i < len(layers) - 1:
            modules += [activation(), StreamDropout(options["dropout"], uniform)]
    model = nn.Sequential(*modules)
    X = torch.tensor(options["train"]["X"], dtype=torch.float64)
    y = torch.tensor(options["train"]["y"])
    optimizer = optimizers.make_optimizer(options["optimizer"], parameter_groups(model, options["l2"]), options["lr"])
    loss_fn = l1_subgradient_loss(model, options["l1"]) if options["l1"] > 0 else F.cross_entropy
    losses = []
    model.train()
    for order in options["batchOrder"]:
        for start in range(0, len(order), options["batchSize"]):
            rows = torch.tensor(order[start:start + options["batchSize"]])
            loss = loss_fn(model(X[rows]), y[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses, [[layer.weight.detach(), layer.bias.detach()] for layer in layers]


@pytest.fixture(scope="module")
def node_results():
    if NODE is None:
        pytest.fail("Node.js is needed for the playground's trainer tests: install Debian's nodejs")
    cases = {name: make_case(name) for name in CASES}
    results = run_in_node([options for options, _ in cases.values()])
    return {name: (cases[name], result) for name, result in zip(CASES, results)}


@pytest.mark.parametrize("name", list(CASES))
def test_javascript_trainer_agrees_with_pytorch(node_results, name):
    (options, layers), js = node_results[name]
    torch_losses, torch_params = run_in_torch(options, layers)
    assert len(js["batchLosses"]) == len(torch_losses) == STEPS
    js_losses = torch.tensor(js["batchLosses"], dtype=torch.float64)
    reference = torch.tensor(torch_losses, dtype=torch.float64)
    loss_error = ((js_losses - reference).abs() / reference.abs()).max().item()
    assert loss_error < 1e-6, f"{name}: a batch loss differs by {loss_error:.2e} (relative)"
    assert reference[-20:].mean() < reference[:20].mean(), f"{name}: the run should learn, not sit still"
    for (w_js, b_js), (w_t, b_t) in zip(js["parameters"], torch_params):
        for got, want in ((w_js, w_t), (b_js, b_t)):
            got = torch.tensor(got, dtype=torch.float64)
            error = ((got - want).abs().max() / want.abs().max()).item()
            assert error < 1e-6, f"{name}: final weights differ by {error:.2e} (relative to the largest)"


def test_the_dropout_stream_is_the_javascript_generator():
    """The Python copy of the generator gives the JavaScript stream, so the dropout cases compare like with like."""
    script = ("const T = require(process.argv[1]); const r = T.randomGenerator(123456789);"
              "process.stdout.write(JSON.stringify(Array.from({length: 1000}, r)))")
    out = subprocess.run([NODE, "-e", script, str(JS / "trainer.js")], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    python = mulberry32(123456789)
    assert json.loads(out) == [python() for _ in range(1000)]


def test_dropout_changes_the_run_and_drops_the_expected_share():
    """With p = 0.5 the same seed and batches give other losses than without dropout (the masks act)."""
    (options, _), with_dropout = make_case("adam-dropout-tanh"), None
    without = dict(options, dropout=0.0)
    with_dropout, no_dropout = run_in_node([options, without])
    assert with_dropout["batchLosses"][0] != no_dropout["batchLosses"][0]
    uniform = mulberry32((options["seed"] ^ 0x9E3779B9) & 0xFFFFFFFF)
    dropped = sum(uniform() < 0.5 for _ in range(20000)) / 20000
    assert abs(dropped - 0.5) < 0.02

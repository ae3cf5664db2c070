import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

from nnpractice import data, federated, models, plots, training


@pytest.fixture(scope="module")
def digits():
    X, y = data.load_digits()
    perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(0))
    return X[perm[:1200]], y[perm[:1200]], X[perm[1200:]], y[perm[1200:]]


def model_fn():
    torch.manual_seed(0)
    return models.mlp(64, [16], 10)


# ----------------------------------------------------------------- partitions

def test_iid_partition_covers_every_sample_once_in_near_equal_parts():
    parts = federated.iid_partition(103, 10, seed=1)
    assert len(parts) == 10
    assert sorted(np.concatenate(parts).tolist()) == list(range(103))
    assert {len(p) for p in parts} == {10, 11}
    assert not all(np.array_equal(a, b) for a, b in zip(parts, federated.iid_partition(103, 10, seed=2)))


def test_dirichlet_partition_covers_every_sample_once_and_is_reproducible():
    y = np.repeat(np.arange(10), 50)
    parts = federated.dirichlet_partition(y, 8, 0.5, seed=3)
    assert sorted(np.concatenate(parts).tolist()) == list(range(500))
    assert all(len(p) > 0 for p in parts)
    again = federated.dirichlet_partition(torch.as_tensor(y), 8, 0.5, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again))


def _mean_classes_held(y, alpha):
    counts = federated.label_counts(y, federated.dirichlet_partition(y, 10, alpha, seed=0), 10)
    share = counts / counts.sum(1, keepdims=True)
    return (share > 0.05).sum(1).mean()


def test_small_alpha_gives_clients_fewer_classes_than_large_alpha():
    y = np.repeat(np.arange(10), 100)
    assert _mean_classes_held(y, 0.05) < 3.5
    assert _mean_classes_held(y, 100.0) > 9.5


def test_label_counts_table():
    y = np.array([0, 0, 1, 2, 2, 2])
    counts = federated.label_counts(y, [np.array([0, 2]), np.array([1, 3, 4, 5])])
    assert counts.tolist() == [[1, 1, 0], [1, 0, 3]]


@pytest.mark.parametrize("kwargs, words", [
    ({"num_samples": 10, "num_clients": 0}, "num_clients=0"),
    ({"num_samples": 10, "num_clients": 11}, "num_clients=11"),
    ({"num_samples": 0, "num_clients": 2}, "num_samples=0"),
    ({"num_samples": 10, "num_clients": 2.5}, "num_clients=2.5"),
])
def test_iid_partition_rejects_bad_values(kwargs, words):
    with pytest.raises(ValueError, match=words):
        federated.iid_partition(**kwargs)


@pytest.mark.parametrize("labels, num_clients, alpha, words", [
    (np.arange(10) % 3, 3, 0.0, "alpha=0.0"),
    (np.arange(10) % 3, 3, -1.0, "alpha=-1.0"),
    (np.arange(10) % 3, 3, float("nan"), "alpha=nan"),
    (np.arange(10) % 3, 20, 1.0, "num_clients=20"),
    (np.zeros((4, 2), dtype=int), 2, 1.0, "1-D array of integer"),
    (np.array([0.5, 1.5]), 2, 1.0, "1-D array of integer"),
    (np.array([], dtype=int), 2, 1.0, "labels=.*here it is empty"),
    (np.array([True, False]), 2, 1.0, "1-D array of integer"),
])
def test_dirichlet_partition_rejects_bad_values(labels, num_clients, alpha, words):
    with pytest.raises(ValueError, match=words):
        federated.dirichlet_partition(labels, num_clients, alpha)


def test_dirichlet_partition_says_when_a_client_stays_empty():
    with pytest.raises(ValueError, match="alpha=0.01 .* a client was left empty in all 3 draws"):
        federated.dirichlet_partition(np.array([0, 0, 1, 1]), 4, 0.01, max_tries=3)


# ----------------------------------------------------------------- FedAvg

def test_fedavg_is_the_sample_weighted_mean():
    a = {"w": torch.tensor([0.0, 2.0]), "n": torch.tensor(3)}
    b = {"w": torch.tensor([4.0, 6.0]), "n": torch.tensor(7)}
    out = federated.fedavg([a, b], [1, 3])
    assert torch.allclose(out["w"], torch.tensor([3.0, 5.0]))
    assert out["n"].item() == 7  # integer buffers come from the heaviest client
    assert out["w"].dtype == torch.float32


def test_fedavg_of_identical_clients_is_that_client():
    net = model_fn()
    state = net.state_dict()
    out = federated.fedavg([state, state, state], [5, 1, 9])
    for k in state:
        assert torch.allclose(out[k], state[k])


@pytest.mark.parametrize("states, weights, words", [
    ([], [], r"states=\[\]"),
    ([{"w": torch.zeros(1)}], [1, 2], "one weight per state"),
    ([{"w": torch.zeros(1)}, {"w": torch.zeros(1)}], [-1, 2], r"weights=\[-1, 2\]"),
    ([{"w": torch.zeros(1)}, {"w": torch.zeros(1)}], [0, 0], "positive sum"),
    ([{"w": torch.zeros(1)}, {"v": torch.zeros(1)}], [1, 1], r"states\[1\]=.*the same keys as states\[0\]"),
    # shapes (1,) and (3,) would broadcast in the sum: a wrong average, silently
    ([{"w": torch.zeros(1)}, {"w": torch.zeros(3)}], [1, 1], r"states\[1\]=.*shapes of states\[0\]"),
    ([{"w": torch.zeros(1)}, {"w": [0.0]}], [1, 1], r"states\[1\]=.*state_dict of tensors"),
])
def test_fedavg_rejects_bad_inputs(states, weights, words):
    with pytest.raises(ValueError, match=words):
        federated.fedavg(states, weights)


def test_state_bytes_counts_parameters_and_buffers():
    net = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    # Linear 3*2+2 floats, BatchNorm weight, bias, running mean, var (4*2 floats) and one int64 counter
    assert federated.state_bytes(net) == (8 + 8) * 4 + 8
    assert federated.state_bytes(net.state_dict()) == federated.state_bytes(net)


def test_client_drift_is_zero_for_identical_clients_and_grows_with_spread():
    s = {"w": torch.zeros(4)}
    assert federated.client_drift([s, s], [1, 1]) == 0.0
    near = federated.client_drift([{"w": torch.ones(4)}, {"w": -torch.ones(4)}], [1, 1])
    far = federated.client_drift([{"w": 3 * torch.ones(4)}, {"w": -3 * torch.ones(4)}], [1, 1])
    assert near == pytest.approx(2.0) and far == pytest.approx(6.0)


def test_one_client_fedavg_equals_local_training(digits):
    X, y, Xte, yte = digits
    parts = [np.arange(len(X))]
    global_model, _ = federated.run_fedavg(model_fn, (X, y), parts, (Xte, yte), num_rounds=2, lr=0.1, seed=0)
    local = model_fn()
    for r in range(2):
        federated.local_train(local, (X, y), num_epochs=1, lr=0.1, seed=0 * 100_003 + r * 1_009 + 0)
    for a, b in zip(global_model.parameters(), local.parameters()):
        assert torch.allclose(a, b, atol=1e-6)


def test_run_fedavg_learns_and_counts_bytes(digits):
    X, y, Xte, yte = digits
    parts = federated.iid_partition(len(X), 5, seed=0)
    _, history = federated.run_fedavg(model_fn, (X, y), parts, (Xte, yte), num_rounds=8, lr=0.3,
                                      client_fraction=0.6, seed=0)
    assert history.num_rounds == 8 and len(history.accuracy) == 9
    assert history.accuracy[-1] > history.accuracy[0] + 0.4
    per_model = federated.state_bytes(model_fn())
    assert history.clients_per_round == [3] * 8
    assert history.bytes_sent == [3 * per_model] * 8 == history.bytes_received
    assert history.total_bytes() == 2 * 8 * 3 * per_model
    assert history.rounds_to(history.accuracy[-1]) <= 8 and history.rounds_to(2.0) is None
    assert all(d > 0 for d in history.drift)


def test_run_fedavg_is_deterministic(digits):
    X, y, Xte, yte = digits
    parts = federated.dirichlet_partition(y, 4, 0.3, seed=0)
    h1 = federated.run_fedavg(model_fn, (X, y), parts, (Xte, yte), num_rounds=3, seed=5)[1]
    h2 = federated.run_fedavg(model_fn, (X, y), parts, (Xte, yte), num_rounds=3, seed=5)[1]
    assert h1.accuracy == h2.accuracy


@pytest.mark.parametrize("kwargs, words", [
    ({"num_rounds": 0}, "num_rounds=0"),
    ({"local_epochs": 0}, "local_epochs=0"),
    ({"client_fraction": 0.0}, "client_fraction=0.0"),
    ({"client_fraction": 1.5}, "client_fraction=1.5"),
    ({"partitions": []}, r"partitions=\[\]"),
    ({"partitions": [np.array([0, 1]), np.array([], dtype=int)]}, r"partitions\[1\]=.*here it is empty"),
    ({"partitions": [np.array([0, 5000])]}, r"partitions\[0\]=.*indices from 0 to 5000"),
    # a boolean mask would index as a mask but count len(mask) samples in the average
    ({"partitions": [np.arange(1200) < 600]}, r"partitions\[0\]=.*dtype bool"),
    ({"lr": -0.1}, "lr=-0.1"),
    ({"seed": -1}, "seed=-1"),
])
def test_run_fedavg_rejects_bad_values(digits, kwargs, words):
    X, y, Xte, yte = digits
    args = {"partitions": federated.iid_partition(len(X), 2), "num_rounds": 1} | kwargs
    with pytest.raises(ValueError, match=words):
        federated.run_fedavg(model_fn, (X, y), args.pop("partitions"), (Xte, yte), **args)


# ----------------------------------------------------------------- the client update is fit

def test_local_train_is_plain_sgd_over_the_clients_seeded_batch_order(digits):
    # the loop local_train had before it became fit: a new permutation per epoch from one seeded generator
    X, y = digits[0][:150], digits[1][:150]
    reference = model_fn()
    opt = torch.optim.SGD(reference.parameters(), lr=0.2)
    gen = torch.Generator().manual_seed(7)
    for _ in range(3):
        for batch in torch.randperm(len(X), generator=gen).split(32):
            opt.zero_grad()
            nn.functional.cross_entropy(reference(X[batch]), y[batch]).backward()
            opt.step()
    client = federated.local_train(model_fn(), (X, y), num_epochs=3, batch_size=32, lr=0.2, seed=7)
    for a, b in zip(client.parameters(), reference.parameters()):
        assert torch.equal(a, b)
    other = federated.local_train(model_fn(), (X, y), num_epochs=3, batch_size=32, lr=0.2, seed=8)
    assert not torch.equal(other[1].weight, client[1].weight)  # the seed decides the order


def test_local_train_keeps_training_a_client_whose_first_batch_is_already_right():
    # fit's default rule (epoch loss > 10x the first batch's) would call this divergence and roll back:
    # the first sample is classified with loss ~1e-9, the second with loss ~20
    X, y = torch.tensor([[1.0], [-1.0]]), torch.tensor([0, 0])
    seed = next(s for s in range(100) if torch.randperm(2, generator=torch.Generator().manual_seed(s))[0] == 0)
    net = nn.Linear(1, 2)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[10.0], [-10.0]]))
        net.bias.zero_()
    before = net.weight.clone()
    federated.local_train(net, (X, y), num_epochs=1, batch_size=1, lr=0.01, seed=seed)
    assert not torch.equal(net.weight, before)
    assert torch.isfinite(net.weight).all()


def test_local_train_refuses_a_loss_that_stops_being_finite():
    X, y = 1e3 * torch.randn(64, 4, generator=torch.Generator().manual_seed(0)), torch.randint(0, 3, (64,))
    with pytest.raises(ValueError, match=r"lr=1e\+30 is not allowed: expected a smaller learning rate; here "
                                         r"the client's training loss became (nan|inf)"):
        federated.local_train(models.mlp(4, [8], 3), (X, y), num_epochs=2, lr=1e30, seed=0)


def test_local_train_names_the_labels_when_they_cannot_be_class_indices(digits):
    X, y = digits[0][:40], digits[1][:40]
    with pytest.raises(ValueError, match=r"train\[1\] \(y\)"):
        federated.local_train(model_fn(), (X, y.float().unsqueeze(1)), seed=0)


def test_run_fedavg_measures_accuracy_with_the_one_evaluate(digits):
    X, y, Xte, yte = digits
    model, history = federated.run_fedavg(model_fn, (X, y), federated.iid_partition(len(X), 3, seed=0), (Xte, yte),
                                          num_rounds=2, lr=0.3, seed=0)
    assert history.accuracy[-1] == training.evaluate(model, (Xte, yte))["accuracy"]
    by_hand = (model(Xte).argmax(1) == yte).double().mean().item()
    assert history.accuracy[-1] == pytest.approx(by_hand, abs=1e-12)


def test_run_fedavg_refuses_a_model_fn_that_returns_no_model(digits):
    X, y, Xte, yte = digits
    with pytest.raises(ValueError, match="model_fn=.*returned a NoneType"):
        federated.run_fedavg(lambda: None, (X, y), [np.arange(10)], (Xte, yte), num_rounds=1)


def test_label_counts_refuses_too_few_classes_instead_of_widening_the_table():
    y = np.array([0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"num_classes=3 is not allowed: expected at least 4"):
        federated.label_counts(y, [np.array([0, 1]), np.array([2, 3])], 3)
    with pytest.raises(ValueError, match=r"partitions\[1\]=.*indices from 2 to 4"):
        federated.label_counts(y, [np.array([0, 1]), np.array([2, 4])])


def test_fed_history_refuses_values_no_run_could_record():
    with pytest.raises(ValueError, match="accuracy="):
        federated.FedHistory(accuracy=[0.2, 1.5])
    with pytest.raises(ValueError, match="bytes_sent="):
        federated.FedHistory(bytes_sent=[-8])


# ----------------------------------------------------------------- the figure goes through plots

def test_fed_history_plots_accuracy_from_round_0_and_drift_from_round_1():
    h = federated.FedHistory(accuracy=[0.1, 0.5, 0.7], drift=[0.4, 0.3], bytes_sent=[8, 8], bytes_received=[8, 8],
                             clients_per_round=[2, 2])
    other = federated.FedHistory(accuracy=[0.1, 0.3, 0.4], drift=[0.9, 0.8])
    fig = plots.federated_runs({"IID": h, "skewed": other}, panels=("accuracy", "drift"), central=[0.1, 0.8, 0.9])
    accuracy_ax, drift_ax = fig.axes
    lines = {line.get_label(): line for line in accuracy_ax.lines}
    assert set(lines) == {"centralized (epochs)", "IID", "skewed"}
    assert list(lines["IID"].get_xdata()) == [0, 1, 2] and list(lines["IID"].get_ydata()) == [0.1, 0.5, 0.7]
    drift = {line.get_label(): line for line in drift_ax.lines}
    assert list(drift["skewed"].get_xdata()) == [1, 2] and list(drift["skewed"].get_ydata()) == [0.9, 0.8]
    assert accuracy_ax.get_ylabel() == "test accuracy" and drift_ax.get_xlabel() == "round"
    first = plots.federated_runs({"IID": h}, rounds=1).axes[0].lines[0]
    assert list(first.get_xdata()) == [0, 1]
    # FedHistory.plot is the same figure
    assert list(h.plot().axes[0].lines[0].get_ydata()) == [0.1, 0.5, 0.7]
    plt.close("all")


def test_federated_runs_refuses_what_it_cannot_draw():
    with pytest.raises(ValueError, match="panels="):
        plots.federated_runs(federated.FedHistory(accuracy=[0.1]), panels=("loss",))
    with pytest.raises(ValueError, match=r"runs\['a'\]="):
        plots.federated_runs({"a": [0.1, 0.2]})


# ----------------------------------------------------------------- client splits and the Flower App

def test_client_splits_deal_every_sample_once_into_train_val_and_test():
    labels = np.repeat(np.arange(10), 50)
    for alpha in (None, 1.0, 0.1):
        clients = federated.client_splits(labels, 5, alpha, seed=3)
        every = np.concatenate([idx for c in clients for idx in c.values()])
        assert sorted(every.tolist()) == list(range(500))
        for c in clients:
            n = sum(len(idx) for idx in c.values())
            assert n >= 10 and len(c["test"]) == len(c["val"]) == max(1, round(0.2 * n))


def test_client_splits_are_reproducible_and_inf_is_the_iid_deal():
    labels = np.repeat(np.arange(4), 30)
    a = federated.client_splits(labels, 4, seed=5)
    b = federated.client_splits(labels, 4, float("inf"), seed=5)
    c = federated.client_splits(labels, 4, seed=6)
    assert all(np.array_equal(x[p], y[p]) for x, y in zip(a, b) for p in x)
    assert not all(np.array_equal(x["train"], y["train"]) for x, y in zip(a, c))
    # the IID deal is iid_partition's; each client's share is then shuffled with the same seed
    parts = federated.iid_partition(120, 4, seed=5)
    assert [sorted(np.concatenate(list(x.values())).tolist()) for x in a] == [p.tolist() for p in parts]


def test_client_splits_say_when_a_client_cannot_get_enough_samples():
    with pytest.raises(ValueError, match="min_size"):
        federated.client_splits(np.repeat(np.arange(3), 10), 3, seed=0, min_size=11)   # 10 each at most


def test_run_fedavg_seeds_each_client_with_client_seed(digits):
    X, y, Xt, yt = digits
    parts = federated.iid_partition(len(X), 2, seed=0)
    model, _ = federated.run_fedavg(model_fn, (X, y), parts, (Xt, yt), num_rounds=1, lr=0.1, seed=4)
    states, weights = [], []
    for k, part in enumerate(parts):
        client = model_fn()
        idx = torch.as_tensor(part)
        federated.local_train(client, (X[idx], y[idx]), lr=0.1, seed=federated.client_seed(4, 0, k))
        states.append(client.state_dict())
        weights.append(len(part))
    expected = federated.fedavg(states, weights)
    assert all(torch.equal(model.state_dict()[k], expected[k]) for k in expected)
    assert federated.client_seed(4, 0, 1) != federated.client_seed(4, 1, 0)


def test_flower_partitions_are_the_clients_rows_and_nothing_else():
    from nnpractice import flower_app

    X, y = data.load_digits()
    clients = federated.client_splits(y, 4, seed=2)
    for k in range(4):
        mine = flower_app.load_partition(k, 4, seed=2)
        for part, (Xp, yp) in mine.items():
            idx = torch.as_tensor(clients[k][part])
            assert torch.equal(Xp, X[idx]) and torch.equal(yp, y[idx])
        assert sum(len(yp) for _, yp in mine.values()) < len(y) // 2


def test_flower_settings_fill_in_defaults_and_convert():
    from nnpractice import flower_app

    s = flower_app.settings({"lr": 1, "num-rounds": 3.0})
    assert s["lr"] == 1.0 and type(s["lr"]) is float and s["num-rounds"] == 3 and type(s["num-rounds"]) is int
    assert s["alpha"] == float("inf") and s["result-path"] == ""
    for bad in ({"num-rounds": True}, {"alpha": 0}, {"seed": -1}, {"result-path": 3}, {"lr": float("inf")}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            flower_app.settings(bad)


def test_flower_app_is_a_valid_flower_app(tmp_path):
    import tomllib

    from flwr.cli.config_utils import load_and_validate

    from nnpractice import flower_app

    app = flower_app.write_app(tmp_path, {"num-rounds": 2, "result-path": "/tmp/r.json"})
    config, warnings = load_and_validate(app / "pyproject.toml")
    assert config is not None and not warnings
    parsed = tomllib.loads((app / "pyproject.toml").read_text())["tool"]["flwr"]["app"]
    assert parsed["components"] == {"serverapp": "nnpractice.flower_app:server_app",
                                    "clientapp": "nnpractice.flower_app:client_app"}
    assert flower_app.settings(parsed["config"]) == flower_app.settings({"num-rounds": 2, "result-path": "/tmp/r.json"})


def test_flower_build_model_is_the_seeded_mlp_and_leaves_the_global_generator_alone():
    from nnpractice import flower_app

    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = flower_app.build_model(5)
    assert torch.equal(torch.rand(1), before)
    torch.manual_seed(5)
    b = models.mlp(64, [32], 10)
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in b.state_dict())

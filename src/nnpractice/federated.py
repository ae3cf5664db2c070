"""Federated learning from scratch: client partitions, FedAvg, communication accounting (chapter 14).

A federation here is a list of index arrays, one per client, into one dataset that
stands for the clients' private data. :func:`iid_partition` deals the samples out at
random; :func:`dirichlet_partition` gives each client a skewed label mix drawn from a
Dirichlet distribution (Hsu et al., 2019): a small ``alpha`` means each client sees
few classes. :func:`run_fedavg` runs FedAvg (McMahan et al., 2017) over such a
partition and records, per round, the test accuracy and the bytes that went down to
the clients and back up to the server. A client's update, :func:`local_train`, is
:func:`~nnpractice.training.fit` with plain SGD: the book has one training loop.

>>> import numpy as np
>>> parts = iid_partition(10, 3, seed=0)
>>> sorted(np.concatenate(parts).tolist()) == list(range(10))
True
>>> [len(p) for p in parts]
[4, 3, 3]
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from ._validation import InstanceOf, Interval, Pair, Sequences, invalid, validate_params
from .training import evaluate, fit

__all__ = ["iid_partition", "dirichlet_partition", "client_splits", "label_counts", "state_bytes", "fedavg",
           "local_train", "client_seed", "client_drift", "FedHistory", "run_fedavg"]

# --------------------------------------------------------------------------- #
# Partitions
# --------------------------------------------------------------------------- #

LABELS = InstanceOf((np.ndarray, torch.Tensor), "a 1-D array or tensor of integer class labels",
                    example=lambda: np.array([0, 1, 0, 1]))
INDICES = InstanceOf((np.ndarray, torch.Tensor), "a 1-D array of sample indices", example=lambda: np.arange(4))
PARTITIONS = Sequences(INDICES)
STATE = InstanceOf(Mapping, "a state_dict (name -> tensor)", example=lambda: {"w": torch.zeros(2)})


def _as_numpy(values) -> np.ndarray:
    return values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)


def _labels(labels) -> np.ndarray:
    """``labels`` as a 1-D integer numpy array, or an error naming it."""
    array = _as_numpy(labels)
    allowed = "a non-empty 1-D array of integer class labels"
    if array.ndim != 1 or array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        raise invalid("labels", labels, allowed, f"its shape is {array.shape} and its dtype {array.dtype}")
    if len(array) == 0:
        raise invalid("labels", labels, allowed, "it is empty")
    return array


def _check_partitions(partitions: Sequence, num_samples: int) -> list[np.ndarray]:
    """Each partition as a numpy index array into ``num_samples`` rows, or an error naming it."""
    checked = []
    for k, part in enumerate(partitions):
        array = _as_numpy(part)
        allowed = f"a non-empty 1-D array of integer indices into the {num_samples} samples"
        name = f"partitions[{k}]"
        # a boolean array would index as a mask: its length would count as the client's size
        if array.ndim != 1 or array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
            raise invalid(name, part, allowed, f"its shape is {array.shape} and its dtype {array.dtype}")
        if len(array) == 0:
            raise invalid(name, part, allowed, "it is empty")
        if array.min() < 0 or array.max() >= num_samples:
            raise invalid(name, part, allowed, f"it holds indices from {array.min()} to {array.max()}")
        checked.append(array)
    return checked


def _check_num_clients(num_clients: int, num_samples: int) -> None:
    if num_clients > num_samples:
        raise invalid("num_clients", num_clients, f"at most the number of samples ({num_samples}), so that "
                      "every client holds at least one sample")


@validate_params({"num_samples": [Interval(Integral, 1, None)], "num_clients": [Interval(Integral, 1, None)],
                  "seed": [Interval(Integral, 0, None)]})
def iid_partition(num_samples: int, num_clients: int, *, seed: int = 0) -> list[np.ndarray]:
    """Shuffle ``range(num_samples)`` and deal it into ``num_clients`` near-equal index arrays."""
    _check_num_clients(num_clients, num_samples)
    order = np.random.default_rng(seed).permutation(num_samples)
    return [np.sort(part) for part in np.array_split(order, num_clients)]


@validate_params({"labels": [LABELS], "num_clients": [Interval(Integral, 1, None)],
                  "alpha": [Interval(Real, 0, None, closed="neither")], "seed": [Interval(Integral, 0, None)],
                  "max_tries": [Interval(Integral, 1, None)]})
def dirichlet_partition(labels, num_clients: int, alpha: float, *, seed: int = 0,
                        max_tries: int = 100) -> list[np.ndarray]:
    """Split sample indices so that each class is shared among clients in Dirichlet(``alpha``) proportions.

    For every class, a vector of client shares is drawn from a symmetric Dirichlet with
    concentration ``alpha`` and the class's samples are cut in those proportions
    (Hsu, Qi and Brown, 2019). Large ``alpha`` approaches an IID split; ``alpha`` near 0
    gives each client one or two classes. Draws in which a client gets no sample are
    repeated (at most ``max_tries`` times).

    >>> parts = dirichlet_partition(np.repeat([0, 1, 2], 20), 4, 0.5, seed=0)
    >>> sum(len(p) for p in parts)
    60
    """
    labels = _labels(labels)
    _check_num_clients(num_clients, len(labels))
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    for _ in range(max_tries):
        parts: list[list[np.ndarray]] = [[] for _ in range(num_clients)]
        for c in classes:
            idx = rng.permutation(np.flatnonzero(labels == c))
            shares = rng.dirichlet(np.full(num_clients, float(alpha)))
            cuts = (np.cumsum(shares)[:-1] * len(idx)).round().astype(int)
            for client, chunk in enumerate(np.split(idx, cuts)):
                parts[client].append(chunk)
        result = [np.sort(np.concatenate(p)) for p in parts]
        if all(len(p) > 0 for p in result):
            return result
    raise invalid("alpha", alpha, "a larger alpha, fewer clients or more samples",
                  f"with num_clients={num_clients} a client was left empty in all {max_tries} draws")


@validate_params({"labels": [LABELS], "num_clients": [Interval(Integral, 1, None)],
                  "alpha": [Interval(Real, 0, math.inf, closed="right"), None], "seed": [Interval(Integral, 0, None)],
                  "min_size": [Interval(Integral, 3, None)], "holdout": [Interval(Real, 0, 0.5, closed="neither")]})
def client_splits(labels, num_clients: int, alpha: float | None = None, *, seed: int = 0, min_size: int = 10,
                  holdout: float = 0.2) -> list[dict[str, np.ndarray]]:
    """Deal the samples to ``num_clients`` clients and cut each share into ``"train"``, ``"val"`` and ``"test"``.

    ``alpha = None`` (or ``inf``, its limit) deals them IID (:func:`iid_partition`), a finite ``alpha`` by
    :func:`dirichlet_partition`; the deal is redrawn (seeds ``seed + 1``, ...) until every
    client holds at least ``min_size`` samples. Each client then shuffles its share and keeps
    ``holdout`` of it for testing, as much for validation and the rest for training: the data
    that chapter 14's simulation and Flower deployment give every client.

    >>> parts = client_splits(np.repeat(np.arange(3), 20), 3, seed=0)
    >>> [(len(c["train"]), len(c["val"]), len(c["test"])) for c in parts]
    [(12, 4, 4), (12, 4, 4), (12, 4, 4)]
    """
    labels = _labels(labels)
    _check_num_clients(num_clients, len(labels))
    for attempt in range(100):
        if alpha is None or math.isinf(alpha):
            parts = iid_partition(len(labels), num_clients, seed=seed + attempt)
        else:
            parts = dirichlet_partition(labels, num_clients, alpha, seed=seed + attempt)
        if min(len(p) for p in parts) >= min_size:    # a client needs examples to train, validate and test on
            break
    else:
        raise invalid("min_size", min_size, f"a size that {num_clients} clients can all reach",
                      f"a client held fewer samples in all 100 deals with alpha={alpha}")
    rng = np.random.default_rng(seed)
    clients = []
    for part in parts:
        part = rng.permutation(part)
        cut = max(1, round(holdout * len(part)))
        clients.append({"test": part[:cut], "val": part[cut:2 * cut], "train": part[2 * cut:]})
    return clients


@validate_params({"labels": [LABELS], "partitions": [PARTITIONS],
                  "num_classes": [Interval(Integral, 1, None), None]})
def label_counts(labels, partitions: Sequence[np.ndarray], num_classes: int | None = None) -> np.ndarray:
    """A ``[num_clients, num_classes]`` table: how many samples of each class each client holds.

    >>> label_counts(np.array([0, 0, 1, 2]), [np.array([0, 2]), np.array([1, 3])]).tolist()
    [[1, 1, 0], [1, 0, 1]]
    """
    labels = _labels(labels)
    if labels.min() < 0:
        raise invalid("labels", labels, "class labels >= 0", f"the smallest is {labels.min()}")
    partitions = _check_partitions(partitions, len(labels))
    largest = int(labels.max())
    num_classes = largest + 1 if num_classes is None else num_classes
    # np.bincount would silently widen the table past num_classes
    if num_classes <= largest:
        raise invalid("num_classes", num_classes, f"at least {largest + 1} (the largest label is {largest})")
    return np.stack([np.bincount(labels[p], minlength=num_classes) for p in partitions])


# --------------------------------------------------------------------------- #
# Communication accounting
# --------------------------------------------------------------------------- #


@validate_params({"model_or_state": [nn.Module, STATE]})
def state_bytes(model_or_state) -> int:
    """Bytes needed to send a model's parameters and buffers (its ``state_dict``) once, uncompressed.

    >>> state_bytes(nn.Linear(3, 2))   # 3*2 weights and 2 biases, 4 bytes each
    32
    """
    state = model_or_state.state_dict() if isinstance(model_or_state, nn.Module) else model_or_state
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise invalid("model_or_state", model_or_state, "a model or a state_dict of tensors",
                          f"entry {key!r} is a {type(value).__name__}")
    return int(sum(t.numel() * t.element_size() for t in state.values()))


# --------------------------------------------------------------------------- #
# FedAvg
# --------------------------------------------------------------------------- #


def _check_states(states: Sequence[Mapping[str, torch.Tensor]], weights: Sequence[float]) -> None:
    """One weight per state, a positive total, and the same keys and shapes in every state."""
    if len(weights) != len(states):
        raise invalid("weights", weights, f"one weight per state ({len(states)})", f"it has {len(weights)}")
    if sum(weights) <= 0:
        raise invalid("weights", weights, "weights with a positive sum")
    first = states[0]
    for i, state in enumerate(states):
        if list(state.keys()) != list(first.keys()):
            raise invalid(f"states[{i}]", f"<keys {list(state.keys())[:3]}...>", "the same keys as states[0]")
        for key, value in state.items():
            if not isinstance(value, torch.Tensor):
                raise invalid(f"states[{i}]", f"<{key!r}: {type(value).__name__}>", "a state_dict of tensors")
            # different shapes would broadcast in the sum and average into a wrong model silently
            if value.shape != first[key].shape:
                raise invalid(f"states[{i}]", f"<{key!r} of shape {tuple(value.shape)}>",
                              f"the shapes of states[0] ({key!r}: {tuple(first[key].shape)})")


@validate_params({"states": [Sequences(STATE)], "weights": [Sequences(Interval(Real, 0, None))]})
def fedavg(states: Sequence[Mapping[str, torch.Tensor]], weights: Sequence[float]) -> dict[str, torch.Tensor]:
    """The weighted mean of client ``state_dict``s: ``sum_k w_k * theta_k / sum_k w_k``.

    ``weights`` are usually the clients' sample counts ``n_k``. Floating-point entries
    are averaged; integer buffers (such as BatchNorm's batch counter) are taken from
    the client with the largest weight.

    >>> fedavg([{"w": torch.tensor([0.0])}, {"w": torch.tensor([4.0])}], [1, 3])
    {'w': tensor([3.])}
    """
    _check_states(states, weights)
    w = torch.tensor([float(x) for x in weights], dtype=torch.float64)
    w = w / w.sum()
    heaviest = int(torch.argmax(w))
    out = {}
    for key, first in states[0].items():
        if first.is_floating_point():
            acc = sum(wk * s[key].detach().to(torch.float64) for wk, s in zip(w, states))
            out[key] = acc.to(first.dtype)
        else:
            out[key] = states[heaviest][key].detach().clone()
    return out


@validate_params({"model": [nn.Module], "train": [Pair()], "num_epochs": [Interval(Integral, 1, None)],
                  "batch_size": [Interval(Integral, 1, None)], "lr": [Interval(Real, 0, None, closed="neither")],
                  "seed": [Interval(Integral, 0, None)], "loss_fn": [callable]})
def local_train(model: nn.Module, train, *, num_epochs: int = 1, batch_size: int = 32, lr: float = 0.1,
                seed: int = 0, loss_fn: Callable = nn.functional.cross_entropy) -> nn.Module:
    """One client's update: ``fit`` with plain SGD on its data ``train = (X, y)``, in place; returns ``model``.

    Each epoch draws a new batch order from a generator seeded with ``seed`` (so a
    client's batches repeat exactly). The client logs no metric, keeps no copy of its
    weights per epoch and runs in float32 on any device: it is called clients × rounds
    times, and FedAvg averages exactly what plain SGD produced. A loss that stops being
    finite is an error (averaged in, it would ruin the global model for every later round).

    >>> from nnpractice import models
    >>> X, y = torch.randn(40, 4), torch.randint(0, 3, (40,))
    >>> net = local_train(models.mlp(4, [8], 3), (X, y), num_epochs=2, lr=0.1, seed=0)
    >>> isinstance(net, nn.Module)
    True
    """
    history = fit(model, train, num_epochs=num_epochs, optimizer=torch.optim.SGD(model.parameters(), lr=lr),
                  loss_fn=loss_fn, batch_size=batch_size, metrics={}, seed=seed,
                  # a client starts from the global model: its first batch may already have a tiny loss, so
                  # the rule "10x the first batch" would stop healthy clients; only a non-finite loss stops it
                  divergence_factor=None, restore_on_divergence=False, precision="fp32", channels_last=False,
                  verbose=False)
    if history.diverged:
        raise invalid("lr", lr, "a smaller learning rate",
                      f"the client's training loss became {history.diverged_loss} in epoch {history.diverged_at}")
    return model


@validate_params({"seed": [Interval(Integral, 0, None)], "round_index": [Interval(Integral, 0, None)],
                  "client": [Interval(Integral, 0, None)]})
def client_seed(seed: int, round_index: int, client: int) -> int:
    """The seed of one client's batch order in one round (0-based): the same in every engine that runs FedAvg.

    >>> client_seed(0, 2, 3)
    2021
    """
    return seed * 100_003 + round_index * 1_009 + client


@torch.no_grad()
@validate_params({"states": [Sequences(STATE)], "weights": [Sequences(Interval(Real, 0, None))],
                  "averaged": [STATE, None]})
def client_drift(states: Sequence[Mapping[str, torch.Tensor]], weights: Sequence[float],
                 averaged: Mapping[str, torch.Tensor] | None = None) -> float:
    """Client drift: the weighted mean L2 distance between each client's parameters and their average.

    Zero when all clients return the same model; it grows when local training pulls
    clients toward their own data (more local epochs, more skewed labels).

    >>> client_drift([{"w": torch.ones(4)}, {"w": -torch.ones(4)}], [1, 1])   # each is 2 from the mean 0
    2.0
    """
    _check_states(states, weights)
    averaged = fedavg(states, weights) if averaged is None else averaged
    if list(averaged.keys()) != list(states[0].keys()):
        raise invalid("averaged", f"<keys {list(averaged.keys())[:3]}...>", "the same keys as states[0]")
    keys = [k for k, v in averaged.items() if v.is_floating_point()]
    w = np.asarray([float(x) for x in weights]) / float(sum(weights))
    dist = [torch.sqrt(sum(((s[k] - averaged[k]).double() ** 2).sum() for k in keys)).item() for s in states]
    return float(np.dot(w, dist))


FRACTIONS = Sequences(Interval(Real, 0, 1), allow_empty=True)
COUNTS = Sequences(Interval(Integral, 0, None), allow_empty=True)


@dataclass(init=False)
class FedHistory:
    """What :func:`run_fedavg` measured; index 0 is the initial model, index r the model after round r.

    >>> h = FedHistory(accuracy=[0.1, 0.6, 0.9], bytes_sent=[40, 40], bytes_received=[40, 40])
    >>> h.num_rounds, h.total_bytes(), h.rounds_to(0.5)
    (2, 160, 1)
    """

    accuracy: list[float]
    bytes_sent: list[int]        # server -> clients, per round
    bytes_received: list[int]    # clients -> server, per round
    clients_per_round: list[int]
    drift: list[float]           # weighted mean distance of client models from their average, per round

    @validate_params({"accuracy": [FRACTIONS], "bytes_sent": [COUNTS], "bytes_received": [COUNTS],
                      "clients_per_round": [COUNTS], "drift": [Sequences(Interval(Real, 0, None), allow_empty=True)]})
    def __init__(self, accuracy: Sequence[float] = (), bytes_sent: Sequence[int] = (),
                 bytes_received: Sequence[int] = (), clients_per_round: Sequence[int] = (),
                 drift: Sequence[float] = ()):
        self.accuracy = list(accuracy)
        self.bytes_sent = list(bytes_sent)
        self.bytes_received = list(bytes_received)
        self.clients_per_round = list(clients_per_round)
        self.drift = list(drift)

    @property
    def num_rounds(self) -> int:
        return len(self.bytes_sent)

    def total_bytes(self) -> int:
        """All traffic so far, both directions."""
        return int(sum(self.bytes_sent) + sum(self.bytes_received))

    @validate_params({"target": [Interval(Real, None, None)]})
    def rounds_to(self, target: float) -> int | None:
        """The first round whose accuracy reaches ``target`` (None if never)."""
        for r, acc in enumerate(self.accuracy):
            if acc >= target:
                return r
        return None

    def plot(self, **kwargs):
        """Accuracy per round (and ``panels=("accuracy", "drift")``): see :func:`nnpractice.plots.federated_runs`."""
        from .plots import federated_runs

        return federated_runs(self, **kwargs)


@validate_params({"model_fn": [callable], "train": [Pair()], "partitions": [PARTITIONS], "test": [Pair()],
                  "num_rounds": [Interval(Integral, 1, None)], "local_epochs": [Interval(Integral, 1, None)],
                  "client_fraction": [Interval(Real, 0, 1, closed="right")],
                  "batch_size": [Interval(Integral, 1, None)], "lr": [Interval(Real, 0, None, closed="neither")],
                  "seed": [Interval(Integral, 0, None)]})
def run_fedavg(model_fn: Callable[[], nn.Module], train, partitions: Sequence[np.ndarray], test, *,
               num_rounds: int = 10, local_epochs: int = 1, client_fraction: float = 1.0,
               batch_size: int = 32, lr: float = 0.1, seed: int = 0) -> tuple[nn.Module, FedHistory]:
    """FedAvg: each round, send the global model to a sample of clients, train locally, average back.

    ``model_fn()`` builds the (identically initialized) model; ``train = (X, y)`` holds every
    client's data and ``partitions`` one index array into it per client; ``client_fraction``
    of the clients (at least one) take part in each round. The average weights each client
    by its sample count. Returns the final global model and a :class:`FedHistory` with the
    accuracy on ``test = (X, y)`` after every round and the bytes sent and received.

    >>> from nnpractice import models
    >>> X, y = torch.randn(60, 4), torch.randint(0, 2, (60,))
    >>> model, h = run_fedavg(lambda: models.mlp(4, [8], 2), (X, y), iid_partition(60, 3), (X, y), num_rounds=2)
    >>> h.num_rounds, len(h.accuracy), h.clients_per_round
    (2, 3, [3, 3])
    """
    X, y = train
    partitions = _check_partitions(partitions, len(X))
    rng = np.random.default_rng(seed)
    global_model = model_fn()
    if not isinstance(global_model, nn.Module):
        raise invalid("model_fn", model_fn, "a function that returns a torch.nn.Module",
                      f"it returned a {type(global_model).__name__}")
    payload = state_bytes(global_model)
    history = FedHistory(accuracy=[evaluate(global_model, test)["accuracy"]])
    num_clients = len(partitions)
    per_round = max(1, int(round(client_fraction * num_clients)))
    client_model = model_fn()
    for r in range(num_rounds):
        chosen = np.sort(rng.choice(num_clients, size=per_round, replace=False))
        global_state = {k: v.detach().clone() for k, v in global_model.state_dict().items()}
        states, weights = [], []
        for k in chosen:
            client_model.load_state_dict(global_state)          # download
            idx = torch.as_tensor(partitions[k])
            local_train(client_model, (X[idx], y[idx]), num_epochs=local_epochs, batch_size=batch_size,
                        lr=lr, seed=client_seed(seed, r, int(k)))
            states.append({n: t.detach().clone() for n, t in client_model.state_dict().items()})  # upload
            weights.append(len(idx))
        averaged = fedavg(states, weights)
        global_model.load_state_dict(averaged)
        history.drift.append(client_drift(states, weights, averaged))
        history.bytes_sent.append(payload * per_round)
        history.bytes_received.append(payload * per_round)
        history.clients_per_round.append(per_round)
        history.accuracy.append(evaluate(global_model, test)["accuracy"])
    return global_model, history

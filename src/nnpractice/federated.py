"""Federated learning from scratch: client partitions, FedAvg, communication accounting.

A federation here is a list of index arrays, one per client, into one dataset that
stands for the clients' private data. :func:`iid_partition` deals the samples out at
random; :func:`dirichlet_partition` gives each client a skewed label mix drawn from a
Dirichlet distribution (Hsu et al., 2019): a small ``alpha`` means each client sees
few classes. :func:`run_fedavg` runs FedAvg (McMahan et al., 2017) over such a
partition and records, per round, the test accuracy and the bytes that went down to
the clients and back up to the server.

>>> import numpy as np
>>> parts = iid_partition(10, 3, seed=0)
>>> sorted(np.concatenate(parts).tolist()) == list(range(10))
True
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from ._validation import check_nonempty, check_positive, check_range, check_same_length

# --------------------------------------------------------------------------- #
# Partitions
# --------------------------------------------------------------------------- #


def _check_num_clients(num_clients, num_samples: int) -> None:
    check_positive("num_clients", num_clients, integer=True)
    if num_clients > num_samples:
        raise ValueError(f"num_clients={num_clients!r} is not allowed: expected at most the number of "
                         f"samples ({num_samples}), so that every client holds at least one sample.")


def iid_partition(num_samples: int, num_clients: int, *, seed: int = 0) -> list[np.ndarray]:
    """Shuffle ``range(num_samples)`` and deal it into ``num_clients`` near-equal index arrays."""
    check_positive("num_samples", num_samples, integer=True)
    _check_num_clients(num_clients, num_samples)
    order = np.random.default_rng(seed).permutation(num_samples)
    return [np.sort(part) for part in np.array_split(order, num_clients)]


def dirichlet_partition(labels, num_clients: int, alpha: float, *, seed: int = 0,
                        max_tries: int = 100) -> list[np.ndarray]:
    """Split sample indices so that each class is shared among clients in Dirichlet(``alpha``) proportions.

    For every class, a vector of client shares is drawn from a symmetric Dirichlet with
    concentration ``alpha`` and the class's samples are cut in those proportions
    (Hsu, Qi and Brown, 2019). Large ``alpha`` approaches an IID split; ``alpha`` near 0
    gives each client one or two classes. Draws in which a client gets no sample are
    repeated (at most ``max_tries`` times).
    """
    labels = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels)
    check_nonempty("labels", labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels has shape {labels.shape} and dtype {labels.dtype}: "
                         "expected a 1-D array of integer class labels.")
    _check_num_clients(num_clients, len(labels))
    check_positive("alpha", alpha)
    check_positive("max_tries", max_tries, integer=True)
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
    raise ValueError(f"alpha={alpha!r} with num_clients={num_clients} left a client empty in {max_tries} draws: "
                     "expected a larger alpha, fewer clients or more samples.")


def label_counts(labels, partitions: Sequence[np.ndarray], num_classes: int | None = None) -> np.ndarray:
    """A ``[num_clients, num_classes]`` table: how many samples of each class each client holds."""
    labels = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels)
    num_classes = int(labels.max()) + 1 if num_classes is None else num_classes
    check_positive("num_classes", num_classes, integer=True)
    return np.stack([np.bincount(labels[p], minlength=num_classes) for p in partitions])


# --------------------------------------------------------------------------- #
# Communication accounting
# --------------------------------------------------------------------------- #


def state_bytes(model_or_state) -> int:
    """Bytes needed to send a model's parameters and buffers (its ``state_dict``) once, uncompressed."""
    state = model_or_state.state_dict() if isinstance(model_or_state, nn.Module) else model_or_state
    return int(sum(t.numel() * t.element_size() for t in state.values()))


# --------------------------------------------------------------------------- #
# FedAvg
# --------------------------------------------------------------------------- #


def fedavg(states: Sequence[Mapping[str, torch.Tensor]], weights: Sequence[float]) -> dict[str, torch.Tensor]:
    """The weighted mean of client ``state_dict``s: ``sum_k w_k * theta_k / sum_k w_k``.

    ``weights`` are usually the clients' sample counts ``n_k``. Floating-point entries
    are averaged; integer buffers (such as BatchNorm's batch counter) are taken from
    the client with the largest weight.
    """
    if len(states) == 0:
        raise ValueError("states is empty: expected at least one client state_dict.")
    check_same_length("states", states, "weights", weights)
    for i, w in enumerate(weights):
        if isinstance(w, bool) or not np.isfinite(float(w)) or float(w) < 0:
            raise ValueError(f"weights[{i}]={w!r} is not allowed: expected a finite number >= 0.")
    w = torch.tensor([float(x) for x in weights], dtype=torch.float64)
    if w.sum() <= 0:
        raise ValueError(f"weights={list(weights)!r} is not allowed: expected a positive sum.")
    keys = list(states[0].keys())
    for i, s in enumerate(states[1:], start=1):
        if list(s.keys()) != keys:
            raise ValueError(f"states[{i}] has keys {list(s.keys())[:3]}...; expected the same keys as states[0].")
    w = w / w.sum()
    heaviest = int(torch.argmax(w))
    out = {}
    for key in keys:
        first = states[0][key]
        if first.is_floating_point():
            acc = sum(wk * s[key].detach().to(torch.float64) for wk, s in zip(w, states))
            out[key] = acc.to(first.dtype)
        else:
            out[key] = states[heaviest][key].detach().clone()
    return out


def local_train(model: nn.Module, X: torch.Tensor, y: torch.Tensor, *, num_epochs: int = 1,
                batch_size: int = 32, lr: float = 0.1, seed: int = 0,
                loss_fn: Callable = nn.functional.cross_entropy) -> nn.Module:
    """Plain minibatch SGD on one client's data, in place; returns ``model``."""
    check_nonempty("X", X)
    check_same_length("X", X, "y", y)
    check_positive("num_epochs", num_epochs, integer=True)
    check_positive("batch_size", batch_size, integer=True)
    check_positive("lr", lr)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(num_epochs):
        order = torch.randperm(len(X), generator=gen)
        for batch in order.split(batch_size):
            opt.zero_grad()
            loss_fn(model(X[batch]), y[batch]).backward()
            opt.step()
    return model


@torch.no_grad()
def client_drift(states: Sequence[Mapping[str, torch.Tensor]], weights: Sequence[float],
                 averaged: Mapping[str, torch.Tensor] | None = None) -> float:
    """Client drift: the weighted mean L2 distance between each client's parameters and their average.

    Zero when all clients return the same model; it grows when local training pulls
    clients toward their own data (more local epochs, more skewed labels).
    """
    averaged = fedavg(states, weights) if averaged is None else averaged
    keys = [k for k, v in averaged.items() if v.is_floating_point()]
    w = np.asarray([float(x) for x in weights]) / float(sum(weights))
    dist = [torch.sqrt(sum(((s[k] - averaged[k]).double() ** 2).sum() for k in keys)).item() for s in states]
    return float(np.dot(w, dist))


@torch.no_grad()
def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of ``X`` that ``model`` classifies as ``y`` (eval mode)."""
    was_training = model.training
    model.eval()
    acc = (model(X).argmax(1) == y).float().mean().item()
    model.train(was_training)
    return acc


@dataclass
class FedHistory:
    """What :func:`run_fedavg` measured; index 0 is the initial model, index r the model after round r."""

    accuracy: list[float] = field(default_factory=list)
    bytes_sent: list[int] = field(default_factory=list)      # server -> clients, per round
    bytes_received: list[int] = field(default_factory=list)  # clients -> server, per round
    clients_per_round: list[int] = field(default_factory=list)
    drift: list[float] = field(default_factory=list)  # weighted mean distance of client models from their average

    @property
    def num_rounds(self) -> int:
        return len(self.bytes_sent)

    def total_bytes(self) -> int:
        """All traffic so far, both directions."""
        return int(sum(self.bytes_sent) + sum(self.bytes_received))

    def rounds_to(self, target: float) -> int | None:
        """The first round whose accuracy reaches ``target`` (None if never)."""
        for r, acc in enumerate(self.accuracy):
            if acc >= target:
                return r
        return None


def run_fedavg(model_fn: Callable[[], nn.Module], X: torch.Tensor, y: torch.Tensor,
               partitions: Sequence[np.ndarray], test: tuple[torch.Tensor, torch.Tensor], *,
               num_rounds: int = 10, local_epochs: int = 1, client_fraction: float = 1.0,
               batch_size: int = 32, lr: float = 0.1, seed: int = 0) -> tuple[nn.Module, FedHistory]:
    """FedAvg: each round, send the global model to a sample of clients, train locally, average back.

    ``model_fn()`` builds the (identically initialized) model; ``partitions`` holds one
    index array into ``X``/``y`` per client; ``client_fraction`` of the clients (at least
    one) take part in each round. The average weights each client by its sample count.
    Returns the final global model and a :class:`FedHistory` with the test accuracy
    after every round and the bytes sent and received.
    """
    check_same_length("X", X, "y", y)
    if len(partitions) == 0:
        raise ValueError("partitions is empty: expected at least one client.")
    for k, p in enumerate(partitions):
        if len(p) == 0:
            raise ValueError(f"partitions[{k}] is empty: every client needs at least one sample.")
        if int(np.max(p)) >= len(X) or int(np.min(p)) < 0:
            raise ValueError(f"partitions[{k}] holds indices outside [0, {len(X)}): expected indices into X.")
    check_positive("num_rounds", num_rounds, integer=True)
    check_positive("local_epochs", local_epochs, integer=True)
    check_range("client_fraction", client_fraction, 0.0, 1.0, low_inclusive=False)
    rng = np.random.default_rng(seed)
    global_model = model_fn()
    payload = state_bytes(global_model)
    history = FedHistory(accuracy=[accuracy(global_model, *test)])
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
            local_train(client_model, X[idx], y[idx], num_epochs=local_epochs, batch_size=batch_size,
                        lr=lr, seed=seed * 100_003 + r * 1_009 + int(k))
            states.append({n: t.detach().clone() for n, t in client_model.state_dict().items()})  # upload
            weights.append(len(idx))
        averaged = fedavg(states, weights)
        global_model.load_state_dict(averaged)
        history.drift.append(client_drift(states, weights, averaged))
        history.bytes_sent.append(payload * per_round)
        history.bytes_received.append(payload * per_round)
        history.clients_per_round.append(per_round)
        history.accuracy.append(accuracy(global_model, *test))
    return global_model, history

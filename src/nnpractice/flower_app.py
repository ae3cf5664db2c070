"""Chapter 14's FedAvg as a Flower App: one ClientApp and one ServerApp for simulation and deployment.

Flower {Beutel et al., 2020} runs the same two objects on its simulation engine (virtual
clients in Ray workers, :func:`flwr.simulation.run_simulation`) and on its deployment
runtime (a SuperLink and SuperNodes as separate processes, see
:mod:`nnpractice.federated_deploy`):

- :data:`client_app` is what a device does with a message: ``train`` (load the global
  weights, :func:`~nnpractice.federated.local_train` on its own training rows, send the
  weights back with its sample count) or ``evaluate`` (score the weights on its own
  validation rows and report the loss, accuracy and count, not the examples).
- :data:`server_app` runs Flower's ``FedAvg`` for ``num-rounds`` rounds from the model
  built with ``seed`` and, when ``result-path`` is set, writes the per-round federated
  accuracy and the final weights there as JSON: the only way a result leaves a
  deployment's ServerApp process.

The settings are Flower's run config (:data:`DEFAULTS` lists them; the deployment's
``pyproject.toml`` from :func:`write_app` states them and ``flwr run --run-config``
overrides them). The server sends them to the clients in every message, so a client needs
only its node config: ``partition-id`` and ``num-partitions``. The digits stand in for each
device's private data: a client deals them with :func:`~nnpractice.federated.client_splits`
from the run's seed and keeps only its own rows.
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from functools import lru_cache
from numbers import Integral, Real
from pathlib import Path

import torch
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAvg

from . import data, federated, models
from ._validation import InstanceOf, Interval, invalid, validate_params
from .federated_deploy import toml_value

__all__ = ["DEFAULTS", "client_app", "server_app", "make_server_app", "build_model", "load_partition",
           "settings", "write_app", "read_result"]

#: The run config and its defaults: chapter 14's Flower experiment (4 IID clients, 5 rounds, one local epoch).
#: ``alpha = inf`` is the IID deal (the Dirichlet split's limit); ``result-path = ""`` writes no result.
DEFAULTS = {"num-clients": 4, "num-rounds": 5, "local-epochs": 1, "batch-size": 32, "lr": 0.3, "seed": 0,
            "alpha": math.inf, "fraction-evaluate": 1.0, "result-path": ""}
_KINDS = {"num-clients": int, "num-rounds": int, "local-epochs": int, "batch-size": int, "lr": float, "seed": int,
          "alpha": float, "fraction-evaluate": float, "result-path": str}
_POSITIVE = ("num-clients", "num-rounds", "local-epochs", "batch-size", "lr", "alpha")
CONFIG = InstanceOf(Mapping, "a mapping of run-config keys (see DEFAULTS) to values",
                    example=lambda: {"num-rounds": 2})


@validate_params({"config": [CONFIG]})
def settings(config: Mapping) -> dict:
    """:data:`DEFAULTS` updated with ``config``, each value checked and converted (TOML has no None).

    >>> settings({"num-rounds": 2, "lr": 1})["lr"]
    1.0
    """
    unknown = sorted(set(config) - set(DEFAULTS))
    if unknown:
        raise invalid("config", dict(config), f"keys among {sorted(DEFAULTS)}", f"{unknown[0]!r} is not one")
    merged = dict(DEFAULTS)
    for key, value in config.items():
        kind = _KINDS[key]
        # bool is an int in Python and a different type in TOML: neither a count nor a rate
        ok = isinstance(value, str) if kind is str else (
            isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
            and (kind is float or float(value).is_integer()))
        if ok and key in _POSITIVE and not value > 0 or ok and key == "seed" and value < 0:
            ok = False
        if ok and key == "fraction-evaluate" and not 0 <= value <= 1:
            ok = False
        if not ok or kind is int and not math.isfinite(value) or key == "lr" and not math.isfinite(value):
            allowed = ("a string" if kind is str else "a non-negative integer" if key == "seed" else
                       "a number in [0, 1]" if key == "fraction-evaluate" else
                       "a positive integer" if kind is int else "a positive number (inf for IID)"
                       if key == "alpha" else "a positive finite number")
            raise invalid(f"config[{key!r}]", value, allowed)
        merged[key] = kind(value)
    return merged


@validate_params({"seed": [Interval(Integral, 0, None)]})
def build_model(seed: int) -> torch.nn.Module:
    """Chapter 14's 64-32-10 MLP, initialized from ``seed`` (every party builds the same start).

    The global generator is left as it was: the ServerApp of a simulation runs in the caller's process.

    >>> sum(p.numel() for p in build_model(0).parameters())
    2410
    """
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return models.mlp(64, [32], 10)


@lru_cache(maxsize=8)   # a simulation's worker serves many rounds: deal the data once
def _partition(partition_id: int, num_partitions: int, alpha: float, seed: int) -> dict:
    X, y = data.load_digits()
    mine = federated.client_splits(y, num_partitions, alpha, seed=seed)[partition_id]
    return {part: (X[torch.as_tensor(idx)], y[torch.as_tensor(idx)]) for part, idx in mine.items()}


@validate_params({"partition_id": [Interval(Integral, 0, None)], "num_partitions": [Interval(Integral, 1, None)],
                  "alpha": [Interval(Real, 0, math.inf, closed="right")], "seed": [Interval(Integral, 0, None)]})
def load_partition(partition_id: int, num_partitions: int, alpha: float = math.inf, seed: int = 0) -> dict:
    """One client's data: ``{"train": (X, y), "val": (X, y), "test": (X, y)}``, its rows only.

    >>> X, y = load_partition(0, 4)["train"]
    >>> X.shape
    torch.Size([270, 64])
    """
    if partition_id >= num_partitions:
        raise invalid("partition_id", partition_id, f"an index below num_partitions ({num_partitions})")
    return _partition(int(partition_id), int(num_partitions), float(alpha), int(seed))


def _received_settings(msg: Message) -> dict:
    # the server's settings, without the round number Flower adds to them
    sent = msg.content["config"]
    return settings({key: sent[key] for key in DEFAULTS if key in sent})


def _node(context: Context, config: Mapping) -> tuple[int, int]:
    """This SuperNode's partition id and the number of partitions, checked against the server's settings."""
    k, n = int(context.node_config["partition-id"]), int(context.node_config["num-partitions"])
    if n != config["num-clients"]:
        raise invalid("num-partitions", n, f"the run's num-clients ({config['num-clients']})")
    return k, n


def _received_model(msg: Message, config: Mapping) -> torch.nn.Module:
    model = build_model(int(config["seed"]))
    model.load_state_dict(msg.content["arrays"].to_torch_state_dict())
    return model


client_app = ClientApp()


@client_app.train()
def _train(msg: Message, context: Context) -> Message:
    torch.set_num_threads(1)   # one thread is fastest for this model, and the clients share the machine
    config = _received_settings(msg)
    k, n = _node(context, config)
    model = _received_model(msg, config)
    X, y = load_partition(k, n, config["alpha"], config["seed"])["train"]
    round_index = int(msg.content["config"]["server-round"]) - 1
    federated.local_train(model, (X, y), num_epochs=config["local-epochs"], batch_size=config["batch-size"],
                          lr=config["lr"], seed=federated.client_seed(config["seed"], round_index, k))
    reply = RecordDict({"arrays": ArrayRecord(model.state_dict()), "metrics": MetricRecord({"num-examples": len(y)})})
    return Message(content=reply, reply_to=msg)


@client_app.evaluate()
@torch.no_grad()
def _evaluate(msg: Message, context: Context) -> Message:
    torch.set_num_threads(1)
    config = _received_settings(msg)
    k, n = _node(context, config)
    model = _received_model(msg, config)
    X, y = load_partition(k, n, config["alpha"], config["seed"])["val"]
    logits = model(X)
    loss_sum = torch.nn.functional.cross_entropy(logits, y, reduction="sum").item()
    correct = int((logits.argmax(1) == y).sum())
    # counts, not examples: the server weights each report by num-examples
    metrics = MetricRecord({"accuracy": correct / len(y), "loss": loss_sum / len(y), "num-examples": len(y)})
    return Message(content=RecordDict({"metrics": metrics}), reply_to=msg)


def _run_fedavg(grid: Grid, config: Mapping) -> None:
    n = config["num-clients"]
    # fraction-evaluate = 0 skips the clients' evaluation rounds (a deployment's rounds cost seconds each)
    evaluating = config["fraction-evaluate"] > 0
    strategy = FedAvg(fraction_train=1.0, fraction_evaluate=config["fraction-evaluate"], min_train_nodes=n,
                      min_evaluate_nodes=n if evaluating else 0, min_available_nodes=n)
    to_clients = ConfigRecord({k: v for k, v in config.items() if k != "result-path"})
    result = strategy.start(grid=grid, initial_arrays=ArrayRecord(build_model(config["seed"]).state_dict()),
                            num_rounds=config["num-rounds"], train_config=to_clients, evaluate_config=to_clients)
    if config["result-path"]:
        state = result.arrays.to_torch_state_dict()
        report = {"config": {k: v for k, v in config.items() if k != "alpha"} | {"alpha": str(config["alpha"])},
                  "accuracy": {str(r): float(m["accuracy"]) for r, m in result.evaluate_metrics_clientapp.items()},
                  "loss": {str(r): float(m["loss"]) for r, m in result.evaluate_metrics_clientapp.items()},
                  "state": {k: v.tolist() for k, v in state.items()}}
        path = Path(config["result-path"])
        path.with_suffix(".tmp").write_text(json.dumps(report))
        os.replace(path.with_suffix(".tmp"), path)    # a reader never sees half a file


@validate_params({"config": [CONFIG]})
def make_server_app(config: Mapping | None = None) -> ServerApp:
    """A ServerApp running FedAvg with :func:`settings`: ``config`` over the run config over the defaults.

    The deployment's :data:`server_app` is ``make_server_app({})``: its settings come from
    ``flwr run``'s run config. A simulation (:func:`flwr.simulation.run_simulation`) has no
    run config, so the caller passes the settings here.
    """
    overrides = dict(config or {})
    settings(overrides)    # refuse a bad setting now, not in the server's thread
    app = ServerApp()

    @app.main()
    def _main(grid: Grid, context: Context) -> None:
        _run_fedavg(grid, settings(dict(context.run_config) | overrides))

    return app


server_app = make_server_app({})

_PYPROJECT = """\
# A Flower App (flwr run reads this): the ServerApp and ClientApp live in the nnpractice library.
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "nnpractice-fedavg"
version = "1.0.0"
description = "Chapter 14's FedAvg on digits"
license = "MIT"
dependencies = ["nnpractice[federated]"]

[tool.hatch.build.targets.wheel]
packages = ["."]

[tool.flwr.app]
publisher = "nnpractice"

[tool.flwr.app.components]
serverapp = "nnpractice.flower_app:server_app"
clientapp = "nnpractice.flower_app:client_app"

[tool.flwr.app.config]
{config}
"""


@validate_params({"directory": [InstanceOf((str, os.PathLike), "a directory path", example=lambda: "app")],
                  "config": [CONFIG]})
def write_app(directory, config: Mapping | None = None) -> Path:
    """Write the Flower App (its ``pyproject.toml``, run config = :func:`settings` of ``config``) into ``directory``."""
    merged = settings(dict(config or {}))
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    lines = "\n".join(f"{key} = {toml_value(value)}" for key, value in merged.items())
    (directory / "pyproject.toml").write_text(_PYPROJECT.format(config=lines))
    return directory


@validate_params({"path": [InstanceOf((str, os.PathLike), "a file path", example=lambda: "result.json")]})
def read_result(path) -> dict:
    """The ServerApp's result file: ``accuracy`` and ``loss`` per round (1, 2, ...) and the final ``state`` as tensors."""
    report = json.loads(Path(path).read_text())
    return {"accuracy": {int(r): a for r, a in report["accuracy"].items()},
            "loss": {int(r): v for r, v in report["loss"].items()},
            "state": {k: torch.tensor(v, dtype=torch.float32) for k, v in report["state"].items()},
            "config": report["config"]}

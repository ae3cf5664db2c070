"""Data-parallel training on one machine: processes, the gloo backend, all-reduce, DDP.

Chapter 01's "Beyond one device" section runs these. A spawned process cannot unpickle a
function defined in a notebook, so the code every process runs (a *worker*) lives here.

:func:`launch` starts ``world_size`` processes with the ``spawn`` method; each joins one
gloo process group on 127.0.0.1 at a free port and calls ``worker(rank, world_size, *args)``;
``launch`` returns every rank's result. It always ends the processes: a worker that raises,
or a run that outlives ``timeout``, has every process killed and raises ``RuntimeError``.

The workers, from scratch to library:

- :func:`data_parallel`: each rank's gradient on its part of the batch, averaged over the
  ranks by hand with ``dist.all_reduce`` (:func:`allreduce_gradient`), then ``num_steps``
  SGD steps by ``training.fit`` with the gradients averaged by hand (a hook on each
  parameter all-reduces its gradient as backward produces it) or by ``DistributedDataParallel``;
- :func:`time_communication`: seconds of a step's computation and of its all-reduce against
  the batch size, and of an all-reduce against the number of values sent.

>>> from nnpractice import distributed
>>> distributed.shard(torch.arange(8), rank=1, world_size=2, batch_size=2).tolist()
[2, 3, 6, 7]
"""
from __future__ import annotations

import copy
import datetime
import io
import queue as queue_module
import socket
import time
import traceback
from numbers import Integral, Real

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from ._validation import Interval, Options, Sequences, invalid, validate_params

MODES = ("by hand", "ddp")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@validate_params({"tensor": [torch.Tensor], "rank": [Interval(Integral, 0, None)],
                  "world_size": [Interval(Integral, 1, None)], "batch_size": [Interval(Integral, 1, None)]})
def shard(tensor: torch.Tensor, rank: int, world_size: int, batch_size: int) -> torch.Tensor:
    """The rows of ``tensor`` that ``rank`` trains on, ``batch_size`` per step.

    Step k's global batch is rows ``[k*B, (k+1)*B)`` with ``B = world_size * batch_size``;
    rank r takes its r-th block of ``batch_size`` rows. So the ranks' batches of one step,
    concatenated in rank order, are exactly one process's batch of ``B`` rows. Rows after the
    last full global batch are left out.
    """
    if rank >= world_size:
        raise invalid("rank", rank, f"a rank in [0, {world_size - 1}] (world_size={world_size})")
    global_batch = world_size * batch_size
    steps = len(tensor) // global_batch
    if steps == 0:
        raise invalid("tensor", tensor, f"at least world_size * batch_size = {global_batch} rows")
    blocks = tensor[:steps * global_batch].reshape(steps, world_size, batch_size, *tensor.shape[1:])
    return blocks[:, rank].reshape(steps * batch_size, *tensor.shape[1:])


def _entry(worker, rank, world_size, port, timeout, results, payload):
    # Runs in each spawned process: join the group, run the worker, send back its result (or the error).
    try:
        # a private copy of the arguments: shared tensors would let the ranks write into one model
        args = torch.load(io.BytesIO(payload), weights_only=False)
        torch.set_num_threads(1)  # two processes on a small machine: one core each
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                                world_size=world_size, timeout=datetime.timedelta(seconds=timeout))
        try:
            result = worker(rank, world_size, *args)
        finally:
            dist.destroy_process_group()
        buffer = io.BytesIO()
        torch.save(result, buffer)  # bytes, not shared tensors: they outlive this process
        results.put((rank, "ok", buffer.getvalue()))
    except BaseException:  # noqa: BLE001 - any failure goes back to the parent, with its traceback
        results.put((rank, "error", traceback.format_exc()))


@validate_params({"worker": [callable], "world_size": [Interval(Integral, 1, 16)],
                  "args": [tuple], "timeout": [Interval(Integral, 1, None)]})
def launch(worker, world_size: int = 2, args: tuple = (), *, timeout: int = 60) -> list:
    """Run ``worker(rank, world_size, *args)`` in ``world_size`` spawned processes; their results by rank.

    The processes join a gloo group on 127.0.0.1 at a free port. ``worker`` must be importable
    (a module-level function of a module, not of a notebook). Every process is joined before
    this returns; on a worker's error, or after ``timeout`` seconds, all are killed and a
    ``RuntimeError`` says why.
    """
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    port = free_port()
    payload = io.BytesIO()
    torch.save(args, payload)  # bytes: each process unpickles its own copy (models, tensors)
    processes = [ctx.Process(target=_entry, args=(worker, rank, world_size, port, timeout, results,
                                                  payload.getvalue()),
                             daemon=True) for rank in range(world_size)]
    deadline = time.monotonic() + timeout
    collected, failure = {}, None
    try:
        for p in processes:
            p.start()
        while len(collected) < world_size and failure is None:
            try:
                rank, status, payload = results.get(timeout=0.2)
            except queue_module.Empty:
                dead = [rank for rank, p in enumerate(processes) if p.exitcode not in (None, 0)]
                if dead:  # killed, or died before it could report
                    failure = f"ranks {dead} exited with codes {[processes[r].exitcode for r in dead]}"
                elif time.monotonic() > deadline:
                    failure = f"no result from ranks {sorted(set(range(world_size)) - set(collected))} after {timeout} s"
                continue
            if status == "error":
                failure = f"rank {rank} failed:\n{payload}"
            else:
                collected[rank] = torch.load(io.BytesIO(payload), weights_only=True)
    finally:
        started = [p for p in processes if p.pid is not None]
        for p in started:
            p.join(timeout=5 if failure is None else 0.5)
        for p in started:
            if p.is_alive():  # a failed or hung run: end it rather than leave it behind
                p.kill()
                p.join(timeout=5)
        results.close()
        results.join_thread()
    if failure is not None:
        raise RuntimeError(f"launch({getattr(worker, '__name__', worker)}): {failure}")
    return [collected[rank] for rank in range(world_size)]


def _average_by_hand(gradient: torch.Tensor, world_size: int) -> torch.Tensor:
    # Every rank sends its gradient and receives the sum over the ranks; dividing gives the mean.
    total = gradient.clone()
    dist.all_reduce(total, op=dist.ReduceOp.SUM)  # gloo has SUM, not AVG (NCCL has both)
    return total / world_size


@validate_params({"model": [nn.Module], "xb": [torch.Tensor], "yb": [torch.Tensor],
                  "world_size": [Interval(Integral, 1, None)]})
def allreduce_gradient(model: nn.Module, xb: torch.Tensor, yb: torch.Tensor, world_size: int) -> list[torch.Tensor]:
    """In a process group: the cross-entropy gradient of ``model`` on this rank's batch ``(xb, yb)``,
    averaged over the ranks by hand with ``dist.all_reduce``. One tensor per parameter."""
    loss = nn.functional.cross_entropy(model(xb), yb)
    local = torch.autograd.grad(loss, list(model.parameters()))
    return [_average_by_hand(g, world_size) for g in local]


_WORKER = {"rank": [Interval(Integral, 0, None)], "world_size": [Interval(Integral, 1, None)],
           "model": [nn.Module], "X": [torch.Tensor], "y": [torch.Tensor]}


@validate_params({**_WORKER, "batch_size": [Interval(Integral, 1, None)], "lr": [Interval(Real, 0, None, closed="neither")],
                  "num_steps": [Interval(Integral, 1, None)], "modes": [Sequences(Options(*MODES))]})
def data_parallel(rank: int, world_size: int, model: nn.Module, X: torch.Tensor, y: torch.Tensor,
                  batch_size: int, lr: float, num_steps: int, modes=MODES) -> dict:
    """Worker: data-parallel SGD on this rank's shard of ``(X, y)``, ``batch_size`` rows per rank and step.

    Returns ``"gradient"``: the gradient on the first global batch, averaged by hand
    (:func:`allreduce_gradient`); and for each of ``modes``, the state dict of a copy of
    ``model`` after ``num_steps`` plain-SGD steps by ``training.fit``, with the gradients
    averaged by hand (``"by hand"``: a hook on each parameter all-reduces its gradient as
    backward produces it, before the step uses it) or by ``DistributedDataParallel``
    (``"ddp"``: it broadcasts rank 0's weights, then all-reduces the gradients in buckets).
    """
    from torch.nn.parallel import DistributedDataParallel

    from .data import BatchIterator
    from .training import fit

    rows = num_steps * world_size * batch_size
    if len(X) < rows or len(y) < rows:
        raise invalid("X", X, f"at least num_steps * world_size * batch_size = {rows} rows in X and y")
    Xs, ys = shard(X[:rows], rank, world_size, batch_size), shard(y[:rows], rank, world_size, batch_size)
    result = {"gradient": allreduce_gradient(model, Xs[:batch_size], ys[:batch_size], world_size)}
    for mode in modes:
        replica = copy.deepcopy(model)
        if mode == "by hand":
            for p in replica.parameters():
                p.register_hook(lambda g: _average_by_hand(g, world_size))
            trained = replica
        else:
            trained = DistributedDataParallel(replica)
        fit(trained, BatchIterator(Xs, ys, batch_size=batch_size, shuffle=False), num_epochs=1,
            optimizer=torch.optim.SGD(replica.parameters(), lr=lr),
            divergence_factor=None, restore_on_divergence=False, verbose=False)
        result[mode] = {k: v.detach().clone() for k, v in replica.state_dict().items()}
    return result


def _best_seconds(fn, repeats: int) -> float:
    # Best of repeats (a disturbed measurement on a shared machine is only ever slower); a barrier
    # first, so both ranks start each measurement together.
    times = []
    for _ in range(repeats):
        dist.barrier()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


@validate_params({**_WORKER, "batch_sizes": [Sequences(Interval(Integral, 1, None))],
                  "message_sizes": [Sequences(Interval(Integral, 1, None))], "repeats": [Interval(Integral, 1, None)]})
def time_communication(rank: int, world_size: int, model: nn.Module, X: torch.Tensor, y: torch.Tensor,
                       batch_sizes, message_sizes, repeats: int = 7) -> dict:
    """Worker: the best seconds (of ``repeats``) of this rank's forward and backward on each of
    ``batch_sizes`` rows of ``X`` (``"compute"``), of the all-reduce of that batch's gradient, all of
    ``model``'s gradients in one buffer (``"allreduce"``), and of an all-reduce of ``message_sizes``
    float32 values each (``"message_seconds"``); ``"num_values"``: the model's parameter count."""
    params = list(model.parameters())

    def gradient(bs):
        loss = nn.functional.cross_entropy(model(X[:bs]), y[:bs])
        return torch.autograd.grad(loss, params)

    compute_seconds, allreduce_seconds = [], []
    for bs in batch_sizes:
        flat = torch.cat([g.flatten() for g in gradient(bs)])  # what DDP's buckets amount to: every gradient
        compute_seconds.append(_best_seconds(lambda bs=bs: gradient(bs), repeats))
        allreduce_seconds.append(_best_seconds(lambda flat=flat: dist.all_reduce(flat), repeats))
    messages = [torch.ones(n) for n in message_sizes]
    message_seconds = [_best_seconds(lambda m=m: dist.all_reduce(m), repeats) for m in messages]
    return {"compute": compute_seconds, "allreduce": allreduce_seconds, "message_seconds": message_seconds,
            "num_values": sum(p.numel() for p in params)}

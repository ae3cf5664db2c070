"""Data parallelism on two CPU processes (gloo): the DDP equivalence test.

Two ranks that each see half of every batch and average their gradients, by hand with
``dist.all_reduce`` or by ``DistributedDataParallel``, must train exactly like one process
on the whole batch. One launch runs all three (each launch spawns two Python processes).
"""
import multiprocessing
import time

import pytest
import torch
from torch import nn

from nnpractice import distributed, models

STEPS, PER_RANK, LR = 4, 16, 0.5


def _one_process(model, X, y, batch_size, num_steps, lr):
    # The reference: one process, plain SGD on consecutive batches of the whole batch size.
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for k in range(num_steps):
        opt.zero_grad()
        nn.functional.cross_entropy(model(X[k * batch_size:(k + 1) * batch_size]),
                                    y[k * batch_size:(k + 1) * batch_size]).backward()
        opt.step()
    return model.state_dict()


def test_shard_gives_each_rank_its_block_of_every_global_batch():
    rows = torch.arange(20)
    parts = [distributed.shard(rows, r, 2, 3) for r in range(2)]
    assert parts[0].tolist() == [0, 1, 2, 6, 7, 8, 12, 13, 14] and parts[1].tolist() == [3, 4, 5, 9, 10, 11, 15, 16, 17]
    for k in range(3):  # the two halves of step k, in rank order, are one process's batch k
        assert torch.equal(torch.cat([p[3 * k:3 * k + 3] for p in parts]), rows[6 * k:6 * k + 6])
    with pytest.raises(ValueError, match="rank=2 is not allowed"):
        distributed.shard(rows, 2, 2, 3)


def test_hand_made_allreduce_and_ddp_equal_one_process_on_the_whole_batch():
    torch.manual_seed(0)
    net = models.mlp(20, [32], 5)
    X, y = torch.randn(STEPS * 2 * PER_RANK, 20), torch.randint(0, 5, (STEPS * 2 * PER_RANK,))
    start = {k: v.clone() for k, v in net.state_dict().items()}

    ranks = distributed.launch(distributed.data_parallel, 2, (net, X, y, PER_RANK, LR, STEPS), timeout=120)

    assert multiprocessing.active_children() == []  # both processes were joined
    assert all(torch.equal(v, start[k]) for k, v in net.state_dict().items())  # the caller's model is untouched
    loss = nn.functional.cross_entropy(net(X[:2 * PER_RANK]), y[:2 * PER_RANK])
    whole_batch = torch.autograd.grad(loss, list(net.parameters()))
    half_batch = torch.autograd.grad(nn.functional.cross_entropy(net(X[:PER_RANK]), y[:PER_RANK]),
                                     list(net.parameters()))
    for rank in ranks:
        for averaged, want in zip(rank["gradient"], whole_batch):
            torch.testing.assert_close(averaged, want, rtol=1e-5, atol=1e-6)
        # a rank that skipped the all-reduce would hold its own half's gradient, which is far from it
        assert max((a - h).abs().max() for a, h in zip(rank["gradient"], half_batch)) > 1e-3

    reference = _one_process(net, X, y, 2 * PER_RANK, STEPS, LR)
    moved = max((reference[k] - start[k]).abs().max() for k in start)
    assert moved > 1e-2, moved  # the steps changed the weights: equality below is not equality of the start
    for mode in distributed.MODES:
        for rank in ranks:
            for k, want in reference.items():
                torch.testing.assert_close(rank[mode][k], want, rtol=1e-5, atol=1e-6, msg=f"{mode}: {k}")


def test_a_failing_worker_is_an_error_naming_the_rank_and_no_process_is_left():
    net = models.mlp(4, [4], 2)
    X, y = torch.randn(6, 4), torch.randint(0, 2, (6,))  # fewer rows than 2 ranks x 4 rows x 2 steps
    with pytest.raises(RuntimeError, match=r"(?s)rank \d failed:.*at least num_steps \* world_size \* batch_size = 16"):
        distributed.launch(distributed.data_parallel, 2, (net, X, y, 4, 0.1, 2), timeout=120)
    assert multiprocessing.active_children() == []


def _hangs(rank, world_size):
    # A worker that never reports (module level: the spawned processes import it from here).
    time.sleep(600)


def test_a_hung_run_is_killed_after_the_timeout():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"no result from ranks \[0, 1\] after 3 s"):
        distributed.launch(_hangs, 2, timeout=3)
    assert time.monotonic() - start < 60  # killed, not waited for
    assert multiprocessing.active_children() == []

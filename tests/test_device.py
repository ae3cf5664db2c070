import re
import time

import numpy as np
import pytest
import torch

from nnpractice import device, setup_notebook


def test_pick_device_auto_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device, "_mps_available", lambda: False)
    assert device.pick_device().type == "cpu"
    monkeypatch.setattr(device, "_mps_available", lambda: True)
    assert device.pick_device().type == "mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device.pick_device().type == "cuda"


def test_pick_device_unknown_name_is_a_clear_error():
    with pytest.raises(ValueError, match=r"device='tpu' is not allowed.*'auto', 'cuda', 'mps', 'cpu'"):
        device.pick_device("tpu")


def test_pick_device_missing_device_is_an_error_not_a_fallback(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="device='cuda' is not allowed: expected one of 'auto', 'cpu'.*not available"):
        device.pick_device("cuda")
    assert device.pick_device(torch.device("cpu")).type == "cpu"


def test_seed_everything_repeats_every_generator():
    def draw():
        import random

        return random.random(), np.random.rand(), torch.rand(1).item()

    device.seed_everything(123)
    first = draw()
    device.seed_everything(123)
    assert draw() == first
    device.seed_everything(124)
    assert draw() != first
    with pytest.raises(ValueError, match="seed=-1"):
        device.seed_everything(-1)


def test_set_threads():
    assert device.set_threads(1) == 1
    with pytest.raises(ValueError, match="num_threads=0"):
        device.set_threads(0)


def test_timer_measures_elapsed_time():
    with device.Timer("cpu") as t:
        time.sleep(0.05)
    assert 0.04 < t.seconds < 1.0


def test_time_it_is_torch_benchmark_timer_a_median_in_seconds_per_call(monkeypatch):
    # a fake clock that advances 0.25 s per call of fn, and 10 s on one timed call (a stall):
    # the answer is exact whatever the machine does, and a median, not a mean
    clock = {"now": 100.0}
    calls = []

    def fn():
        calls.append(1)
        clock["now"] += 10.0 if len(calls) == 3 + 3 + 3 else 0.25  # the second timed call

    monkeypatch.setattr(device, "_synchronized_clock", lambda device: clock["now"])
    from torch.utils import benchmark

    made = []
    real_timer = benchmark.Timer
    monkeypatch.setattr(benchmark, "Timer", lambda *a, **k: made.append(k) or real_timer(*a, **k))
    assert device.time_it(fn, repeats=4, warmup=3) == pytest.approx(0.25)  # per call, in seconds
    assert len(made) == 1 and made[0]["num_threads"] == torch.get_num_threads()
    assert len(calls) == 3 + 4 * (2 + 1)  # our warm-up, then per measurement torch's two warm-up calls and one timed


def test_time_it_agrees_with_the_teaching_timer_on_a_fixed_workload():
    a, b = torch.randn(200, 200), torch.randn(200, 200)

    def work():
        for _ in range(20):
            a @ b

    measured = []
    for _ in range(5):
        with device.Timer("cpu") as t:
            work()
        measured.append(t.seconds)
    by_hand = sorted(measured)[2]
    by_torch = device.time_it(work, repeats=5, device="cpu")
    # a sanity check of units and scale (seconds per call), not a speed claim: a loose factor
    assert 1 / 5 < by_torch / by_hand < 5, (by_torch, by_hand)


def test_time_it_and_timer_validate_and_take_device():
    with pytest.raises(ValueError, match="repeats=0"):
        device.time_it(lambda: None, repeats=0)
    with pytest.raises(ValueError, match="warmup=True"):
        device.time_it(lambda: None, warmup=True)
    with pytest.raises(ValueError, match="device='gpu0' is not allowed"):
        device.time_it(lambda: None, device="gpu0")
    with pytest.raises(TypeError, match="dev"):  # one name for the device argument everywhere
        device.time_it(lambda: None, dev="cpu")
    with pytest.raises(ValueError, match="fn=3 is not allowed"):
        device.time_it(3)
    with pytest.raises(ValueError, match="device='gpu0' is not allowed"):
        device.Timer("gpu0")
    assert device.Timer(device="cpu").device.type == "cpu"
    assert device.describe("cpu").startswith("cpu (")


def test_run_scale_env_override(monkeypatch):
    monkeypatch.setenv("NNPRACTICE_SCALE", "gpu")
    assert device.run_scale() == "gpu"
    monkeypatch.setenv("NNPRACTICE_SCALE", "huge")
    with pytest.raises(ValueError, match="NNPRACTICE_SCALE='huge'"):
        device.run_scale()
    monkeypatch.delenv("NNPRACTICE_SCALE")
    assert device.run_scale() == ("gpu" if torch.cuda.is_available() else "cpu")


def test_setup_notebook_seeds_threads_and_reports(capsys):
    env = setup_notebook(7)
    out = capsys.readouterr().out
    assert "torch" in out and "| cpu (1 thread) |" in out and "seed 7" in out
    assert env.num_threads == 1 and torch.get_num_threads() == 1
    a = torch.rand(3)
    setup_notebook(7, report=False)
    assert torch.equal(a, torch.rand(3))


def test_setup_notebook_takes_its_seed_from_the_environment(monkeypatch):
    monkeypatch.delenv("NNPRACTICE_SEED", raising=False)
    assert setup_notebook(report=False).seed == 0
    first_at_0 = torch.rand(3)
    monkeypatch.setenv("NNPRACTICE_SEED", "1")
    env = setup_notebook(report=False)
    assert env.seed == 1 and not torch.equal(first_at_0, torch.rand(3))  # another seed, another run
    assert setup_notebook(5, report=False).seed == 5  # an explicit seed wins over the variable
    for bad in ("abc", "-1", "1.5"):
        monkeypatch.setenv("NNPRACTICE_SEED", bad)
        with pytest.raises(ValueError, match=f"NNPRACTICE_SEED='{re.escape(bad)}' is not allowed"):
            setup_notebook(report=False)


def test_sub_seeds_move_with_the_seed_and_keep_seed_0_as_the_offsets(monkeypatch):
    monkeypatch.delenv("NNPRACTICE_SEED", raising=False)
    env0 = setup_notebook(0, report=False)
    assert [env0.derive_seed(k) for k in (0, 7, 999)] == [0, 7, 999]  # seed 0 reproduces the old literals
    env2 = setup_notebook(2, report=False)
    assert env2.derive_seed(7) == 2007 and env2.derive_seeds(3, start=5) == [2005, 2006, 2007]
    # sub-seeds of different seeds never collide, for every offset in range
    assert not set(env0.derive_seeds(1000)) & set(env2.derive_seeds(1000))
    for bad in (-1, 1000, 1.0, True, "3"):
        with pytest.raises(ValueError, match="offset="):
            env0.derive_seed(bad)
    with pytest.raises(ValueError, match="count=0"):
        env0.derive_seeds(0)


def test_holds_on_remeasure_retries_a_disturbed_measurement_and_fails_a_false_claim():
    measured, remeasured = {"t": 5.0}, []

    def check():
        assert measured["t"] < 2.0, measured
        return "held"

    def remeasure():
        remeasured.append(True)
        measured["t"] = 1.0 if len(remeasured) == 2 else 4.0  # the second re-measurement is undisturbed

    assert device.holds_on_remeasure(check, remeasure, tries=3) == "held" and len(remeasured) == 2

    calls = []
    with pytest.raises(AssertionError, match="'t': 9.0"):  # false every time: the last failure is raised
        device.holds_on_remeasure(lambda: (_ for _ in ()).throw(AssertionError({"t": 9.0})),
                                  lambda: calls.append(1), tries=3)
    assert len(calls) == 2  # re-measured between tries, not after the last one

    with pytest.raises(ValueError):  # other errors are not retried
        device.holds_on_remeasure(lambda: int("x"), lambda: calls.append(1))
    assert len(calls) == 2
    with pytest.raises(ValueError, match="tries"):
        device.holds_on_remeasure(check, remeasure, tries=0)

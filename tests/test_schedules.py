import copy
import math
import warnings

import pytest
import torch
from torch import nn
from torch.optim import lr_scheduler

from nnpractice import data, models, plots, schedules
from nnpractice._validation import InvalidParameterError
from nnpractice.optimizers import make_optimizer
from nnpractice.schedules import (
    LRFinder,
    LRSchedulerCallback,
    RangeTestResult,
    lr_range_test,
    make_schedule,
    steps_per_epoch,
    suggest_lr,
)
from nnpractice.training import fit, is_diverged


@pytest.fixture(scope="module")
def digits():
    X, y = data.load_digits()
    return data.train_val_test_split(X, y, val_fraction=0.2, test_fraction=0.2, seed=0)


def _state(model, optimizer):
    return ({k: v.clone() for k, v in model.state_dict().items()},
            [None if p.grad is None else p.grad.clone() for p in model.parameters()],
            copy.deepcopy(optimizer.state_dict()))  # state_dict() holds live tensors


def _same_optimizer_state(a, b):
    assert a["param_groups"] == b["param_groups"]
    assert a["state"].keys() == b["state"].keys()
    for key in a["state"]:
        for name, value in a["state"][key].items():
            other = b["state"][key][name]
            if isinstance(value, torch.Tensor):
                assert torch.equal(value, other), name
            else:
                assert value == other, name


# ----------------------------------------------------------------------------- LR range test

def test_range_test_leaves_model_and_optimizer_exactly_as_found(digits):
    torch.manual_seed(0)
    net = models.mlp(64, [32], 10, batch_norm=True)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-4)
    fit(net, digits.train, num_epochs=1, optimizer=opt, batch_size=64)   # optimizer has real state now
    loss = nn.functional.cross_entropy(net(digits.train[0][:32]), digits.train[1][:32])
    loss.backward()                                                     # and the model has gradients
    net.eval()
    before = _state(net, opt)
    result = lr_range_test(net, digits.train, optimizer=opt, start_lr=1e-5, end_lr=10, num_steps=60)
    after = _state(net, opt)
    assert len(result.lrs) >= 10
    for k in before[0]:
        assert torch.equal(before[0][k], after[0][k]), k            # weights and BatchNorm buffers
    for g0, g1 in zip(before[1], after[1]):
        assert torch.equal(g0, g1)
    _same_optimizer_state(before[2], after[2])
    assert opt.param_groups[0]["lr"] == 3e-3
    assert not net.training                                         # the mode is back too


def test_range_test_with_default_optimizer_restores_a_fresh_model(digits):
    net = models.mlp(64, [16], 10)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    net.train()
    lr_range_test(net, digits.train, num_steps=30)
    assert all(p.grad is None for p in net.parameters())
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k])
    assert net.training


def test_range_test_leaves_the_random_generator_as_found(digits):
    net = models.mlp(64, [16], 10, dropout=0.5)          # dropout draws random numbers
    torch.manual_seed(123)
    net.train()(digits.train[0][:8])                     # so a training pass moves the generator:
    assert not torch.equal(torch.get_rng_state(), torch.manual_seed(123).get_state())  # this test can fail
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    lr_range_test(net, digits.train, num_steps=10)
    assert torch.equal(torch.rand(3), expected)


def test_range_test_is_fit_with_the_finder_callback(digits):
    """The range test has no loop of its own: fit + LRFinder give the same curve, batch for batch."""
    torch.manual_seed(0)
    net = models.mlp(64, [32], 10)
    result = lr_range_test(net, digits.train, start_lr=1e-4, end_lr=100, num_steps=80, batch_size=50, seed=3)
    finder = LRFinder(start_lr=1e-4, end_lr=100, num_steps=80)
    opt = make_optimizer("momentum", net.parameters(), lr=1e-4)
    h = fit(net, digits.train, num_epochs=80, optimizer=opt, batch_size=50, seed=3, callbacks=[finder],
            metrics={}, divergence_factor=None, verbose=False)
    assert finder.lrs == result.lrs and finder.losses == result.losses and finder.smoothed == result.smoothed
    assert finder.stopped_early and result.stopped_early and h.status.startswith("range test: loss diverged")
    # it stopped at the first step where THE divergence rule (against the best smoothed loss so far) fired
    best = [min(result.smoothed[:k]) for k in range(1, len(result.smoothed))]
    fired = [is_diverged(v, b, 4.0) for v, b in zip(result.smoothed[1:], best)]
    assert fired[-1] and not any(fired[:-1])
    # more steps than one epoch has batches: the sweep runs on across epochs (29 batches of 50 per epoch)
    assert len(result.lrs) > steps_per_epoch(digits.train, 50)


def test_finder_sweeps_exponentially_or_linearly_and_stops_at_the_end_of_the_sweep(digits):
    exp, lin = LRFinder(1e-3, 1e-1, 5), LRFinder(1e-3, 1e-1, 5, sweep="linear")
    assert [exp.rate(k) for k in range(5)] == pytest.approx([1e-3, 10 ** -2.5, 1e-2, 10 ** -1.5, 1e-1])
    assert [lin.rate(k) for k in range(5)] == pytest.approx([0.001, 0.02575, 0.0505, 0.07525, 0.1])
    net = models.mlp(64, [16], 10)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    h = fit(net, digits.train, num_epochs=50, optimizer=opt, batch_size=100, callbacks=[lin], verbose=False)
    assert lin.lrs == pytest.approx([lin.rate(k) for k in range(5)]) and not lin.stopped_early
    assert h.status == "range test: sweep finished" and h.num_epochs == 1     # 5 batches, then stop
    assert opt.param_groups[0]["lr"] == 0.5 and all(torch.equal(v, before[k]) for k, v in net.state_dict().items())
    with pytest.raises(ValueError, match="end_lr=0.001 is not allowed: expected a value above start_lr=0.01"):
        LRFinder(1e-2, 1e-3)
    with pytest.raises(ValueError, match="sweep='log' is not allowed"):
        LRFinder(sweep="log")


def test_range_test_restores_everything_when_training_raises(digits):
    net = models.mlp(64, [16], 10, dropout=0.5)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    fit(net, digits.train, num_epochs=1, optimizer=opt, verbose=False)
    net.eval()
    before = _state(net, opt)
    torch.manual_seed(7)
    rng = torch.get_rng_state()
    calls = []

    def failing_loss(output, target):
        calls.append(1)
        if len(calls) == 12:
            raise RuntimeError("the data loader broke")
        return nn.functional.cross_entropy(output, target)

    with pytest.raises(RuntimeError, match="the data loader broke"):
        lr_range_test(net, digits.train, optimizer=opt, loss_fn=failing_loss, num_steps=50)
    after = _state(net, opt)
    assert all(torch.equal(before[0][k], after[0][k]) for k in before[0])
    _same_optimizer_state(before[2], after[2])
    assert not net.training and torch.equal(torch.get_rng_state(), rng)


def test_range_test_that_diverges_at_once_names_start_lr(digits):
    net = models.mlp(64, [16], 10)
    with pytest.raises(ValueError, match=r"start_lr=1000\.0 is not allowed: .*diverged after \d steps"):
        lr_range_test(net, digits.train, start_lr=1e3, end_lr=1e6, num_steps=20)


def test_range_test_curve_and_suggestion_are_sensible(digits):
    torch.manual_seed(0)
    net = models.mlp(64, [64], 10)
    result = lr_range_test(net, digits.train, start_lr=1e-5, end_lr=100, num_steps=150, batch_size=32)
    lrs = result.lrs
    assert all(b > a for a, b in zip(lrs, lrs[1:]))                 # exponential sweep upwards
    assert math.isclose(lrs[1] / lrs[0], lrs[2] / lrs[1], rel_tol=1e-9)
    assert result.stopped_early                                     # lr 100 blows up an SGD-momentum MLP
    assert lrs[0] < result.suggestion < lrs[-1]
    # the suggested rate trains: a few epochs reach a much lower loss than the start
    net2 = models.mlp(64, [64], 10)
    h = fit(net2, digits.train, digits.val, num_epochs=5, batch_size=32,
            optimizer=torch.optim.SGD(net2.parameters(), lr=result.suggestion, momentum=0.9))
    assert not h.diverged and h.last("val_accuracy") > 0.85
    fig = result.plot()
    assert fig.axes[0].get_xscale() == "log" and fig.axes[0].get_xlabel()


def test_suggest_lr_rules():
    lrs = [10 ** (-5 + i * 0.1) for i in range(60)]
    # a loss that is flat, then falls fastest around 1e-3, bottoms at 1e-1, then rises
    logs = [math.log10(v) for v in lrs]
    losses = [2 - 1.5 / (1 + math.exp(-3 * (x + 3))) + (max(0, x + 1) ** 2) * 3 for x in logs]
    assert suggest_lr(lrs, losses, "minimum") == pytest.approx(lrs[losses.index(min(losses))] / 10)
    steep = suggest_lr(lrs, losses, "steepest")
    assert 10 ** -3.3 < steep < 10 ** -2.7


@pytest.mark.parametrize("kwargs, message", [
    (dict(start_lr=0), "start_lr=0"),
    (dict(start_lr=1e-2, end_lr=1e-3), "end_lr=0.001"),
    (dict(num_steps=3), "num_steps=3"),
    (dict(num_steps=2.5), "num_steps=2.5"),
    (dict(beta=1.0), "beta=1.0"),
    (dict(diverge_factor=0.5), "diverge_factor=0.5"),
    (dict(rule="valley"), "rule='valley'"),
    (dict(optimizer="adam"), "optimizer='adam' is not allowed"),
])
def test_range_test_rejects_bad_input(digits, kwargs, message):
    net = models.mlp(64, [8], 10)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        lr_range_test(net, digits.train, **kwargs)


def test_range_test_rejects_bad_model_and_data(digits):
    with pytest.raises(ValueError, match="model='net' is not allowed"):
        lr_range_test("net", digits.train)
    with pytest.raises(ValueError, match="here train is a"):
        lr_range_test(models.mlp(64, [8], 10), digits.train[0])


def test_suggest_lr_refuses_curves_without_enough_finite_losses():
    lrs = [10 ** (-5 + i * 0.5) for i in range(10)]
    for rule in ("minimum", "steepest"):
        with pytest.raises(InvalidParameterError, match=r"smoothed=.* is not allowed: expected at least 5 finite"):
            suggest_lr(lrs, [math.nan] * 10, rule)             # all NaN: no rate, not the first one
        with pytest.raises(InvalidParameterError, match="here 3 of 10 are finite"):
            suggest_lr(lrs, [2.0, 1.5, 1.0] + [math.inf] * 7, rule)
    # five finite values are enough; the non-finite tail is skipped
    assert suggest_lr(lrs, [2.0, 1.5, 1.0, 0.8, 1.2] + [math.nan] * 5) == pytest.approx(lrs[3] / 10)


def test_suggest_lr_steepest_skips_non_finite_points_without_shifting_the_index():
    lrs = [10 ** (-5 + i * 0.1) for i in range(40)]
    smoothed = [2.0 - 0.01 * i for i in range(40)]
    smoothed[21:24] = [1.79, 1.0, 0.2]                         # the steepest fall is centred on index 22
    smoothed[10] = math.nan                                    # a hole before it must not shift the answer
    assert suggest_lr(lrs, smoothed, "steepest") == lrs[22]


def test_range_test_result_and_its_figure(digits):
    with pytest.raises(ValueError, match="expected one loss and one smoothed loss per learning rate"):
        RangeTestResult([1e-3, 1e-2], [1.0], [1.0, 2.0], 1e-3, "minimum")
    result = RangeTestResult([1e-4, 1e-3, 1e-2, 1e-1], [2.0, 1.5, 1.0, 9.0], [2.0, 1.8, 1.5, 2.9], 1e-3, "minimum")
    fig = plots.range_test(result, title="t")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_title() == "t" and len(ax.lines) == 3   # raw, smoothed, suggestion
    assert ax.lines[2].get_xdata()[0] == 1e-3
    assert result.plot().axes[0].get_xlabel() == "learning rate (log scale)"
    with pytest.raises(ValueError, match="result="):
        plots.range_test([1, 2, 3])


def test_suggest_lr_rejects_bad_input():
    with pytest.raises(ValueError, match="rule='max'"):
        suggest_lr([1, 2, 3, 4, 5], [1, 1, 1, 1, 1], "max")
    with pytest.raises(ValueError, match="lrs has 3 values but smoothed has 2"):
        suggest_lr([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="at least 5"):
        suggest_lr([1, 2], [1, 2])


# ----------------------------------------------------------------------------- schedules

def _opt(lr=0.1, momentum=0.9):
    return torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=lr, momentum=momentum)


@pytest.mark.parametrize("name, kind, interval", [
    ("constant", lr_scheduler.LambdaLR, "epoch"),
    ("step", lr_scheduler.StepLR, "epoch"),
    ("plateau", lr_scheduler.ReduceLROnPlateau, "epoch"),
    ("cyclic", lr_scheduler.CyclicLR, "batch"),
    ("cosine", lr_scheduler.CosineAnnealingLR, "batch"),
    ("cosine_restarts", lr_scheduler.CosineAnnealingWarmRestarts, "batch"),
    ("one_cycle", lr_scheduler.OneCycleLR, "batch"),
])
def test_make_schedule_builds_torch_schedulers(name, kind, interval):
    sched = make_schedule(_opt(), name, num_epochs=9, steps_per_epoch=10, max_lr=0.5)
    assert type(sched.scheduler) is kind and sched.interval == interval and sched.name == name


def test_schedule_traces_have_the_expected_shape():
    kw = dict(num_epochs=9, steps_per_epoch=10, max_lr=0.5)
    const = schedules.schedule_trace("constant", **kw)
    assert len(const) == 90 and all(v == 0.5 for v in const)
    step = schedules.schedule_trace("step", **kw)           # 0.5 for 3 epochs, then 0.05, then 0.005
    assert step[0] == 0.5 and step[29] == 0.5 and step[30] == pytest.approx(0.05) and step[60] == pytest.approx(0.005)
    cos = schedules.schedule_trace("cosine", **kw)
    assert cos[0] == 0.5 and all(b <= a for a, b in zip(cos, cos[1:])) and cos[-1] < 0.001
    assert cos[45] == pytest.approx(0.25)                    # half-way down at half-time
    restarts = schedules.schedule_trace("cosine_restarts", **kw)
    assert restarts[30] == 0.5 and restarts[60] == 0.5 and restarts[29] < 0.01   # restarts every 3 epochs
    one = schedules.schedule_trace("one_cycle", **kw)
    peak = max(range(90), key=one.__getitem__)
    assert one[0] == pytest.approx(0.5 / 25) and one[peak] == pytest.approx(0.5, rel=1e-3)
    assert 20 <= peak <= 30 and one[-1] < 1e-4
    cyc = schedules.schedule_trace("cyclic", **kw)
    assert min(cyc) == pytest.approx(0.05) and max(cyc) == pytest.approx(0.5)
    assert sum(1 for a, b, c in zip(cyc, cyc[1:], cyc[2:]) if b > a and b > c) == 3   # three triangles
    plateau = schedules.schedule_trace("plateau", **kw, metric=[3, 2, 1, 1, 1, 1, 1, 1, 1])
    assert plateau[:60] == [0.5] * 60 and plateau[60] == pytest.approx(0.05)


def test_schedule_trace_takes_optimizers_from_the_table_and_warns_nothing():
    kw = dict(num_epochs=6, steps_per_epoch=5, max_lr=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # torch's "scheduler before optimizer" warning included
        for name in schedules.SCHEDULES:
            traces = [schedules.schedule_trace(name, optimizer=opt, **kw) for opt in ("momentum", "sgd", "adam")]
            assert traces[0] == traces[1] == traces[2], name   # the optimizer moves momentum, never the rate
    with pytest.raises(ValueError, match="optimizer='lbfgs' is not allowed"):
        schedules.schedule_trace("cosine", optimizer="lbfgs", **kw)
    with pytest.raises(ValueError, match=r"metric=\[1\.0\] is not allowed: expected one value per epoch \(6\)"):
        schedules.schedule_trace("plateau", metric=[1.0], **kw)


def test_plateau_mode_follows_the_monitored_value():
    assert make_schedule(_opt(), "plateau", num_epochs=3, steps_per_epoch=1).scheduler.mode == "min"
    acc = make_schedule(_opt(), "plateau", num_epochs=3, steps_per_epoch=1, monitor="val_accuracy")
    assert acc.scheduler.mode == "max" and acc.monitor == "val_accuracy"


@pytest.mark.parametrize("kwargs, message", [
    (dict(name="linear"), "name='linear'"),
    (dict(num_epochs=0), "num_epochs=0"),
    (dict(steps_per_epoch=-1), "steps_per_epoch=-1"),
    (dict(max_lr=-0.1), "max_lr=-0.1"),
    (dict(name="step", gamma=2.0), "gamma=2.0"),
    (dict(name="plateau", patience=-1), "patience=-1"),
    (dict(name="plateau", factor=1.0), "factor=1.0"),
    (dict(name="one_cycle", pct_start=1.5), "pct_start=1.5"),
    (dict(name="cosine", T_max=4), "options=\\['T_max'\\] is not allowed"),
    (dict(name="cosine_restarts", cycle_epochs=0), "cycle_epochs=0"),
])
def test_make_schedule_rejects_bad_input(kwargs, message):
    args = dict(name="cosine", num_epochs=6, steps_per_epoch=5)
    args.update(kwargs)
    name = args.pop("name")
    with pytest.raises(ValueError, match=message):
        make_schedule(_opt(), name, **args)
    with pytest.raises(ValueError, match=r"optimizer=\[1\] is not allowed"):
        make_schedule([1], "cosine", num_epochs=2, steps_per_epoch=2)


def test_callback_steps_batch_schedules_every_batch(digits):
    net = models.mlp(64, [16], 10)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    n_steps = schedules.steps_per_epoch(digits.train, 50)
    sched = make_schedule(opt, "one_cycle", num_epochs=4, steps_per_epoch=n_steps, max_lr=0.3)
    cb = LRSchedulerCallback(sched)
    h = fit(net, digits.train, digits.val, num_epochs=4, batch_size=50, optimizer=opt, callbacks=[cb])
    expected = schedules.schedule_trace("one_cycle", num_epochs=4, steps_per_epoch=n_steps, max_lr=0.3)
    assert len(cb.lrs) == 4 * n_steps
    assert cb.lrs == pytest.approx(expected)
    assert h.status == "completed"


def test_callback_steps_epoch_schedules_once_per_epoch(digits):
    net = models.mlp(64, [16], 10)
    opt = torch.optim.SGD(net.parameters(), lr=0.2)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)   # a raw torch scheduler works too
    h = fit(net, digits.train, num_epochs=5, batch_size=100, optimizer=opt, callbacks=[LRSchedulerCallback(sched)])
    assert h["lr"] == pytest.approx([0.2, 0.2, 0.1, 0.1, 0.05])


def test_callback_plateau_watches_the_validation_metric(digits):
    net = models.mlp(64, [16], 10)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    sched = make_schedule(opt, "plateau", num_epochs=6, steps_per_epoch=1, patience=0, factor=0.5)
    seen = []
    real_step = sched.scheduler.step
    sched.scheduler.step = lambda value: (seen.append(value), real_step(value))
    h = fit(net, digits.train, digits.val, num_epochs=6, batch_size=64, optimizer=opt,
            callbacks=[LRSchedulerCallback(sched)])
    assert seen == pytest.approx(h["val_loss"])
    # without validation data there is nothing to watch: a clear error
    net2 = models.mlp(64, [16], 10)
    opt2 = torch.optim.SGD(net2.parameters(), lr=0.05)
    sched2 = make_schedule(opt2, "plateau", num_epochs=2, steps_per_epoch=1)
    with pytest.raises(ValueError, match="monitor='val_loss' is not logged"):
        fit(net2, digits.train, num_epochs=2, optimizer=opt2, callbacks=[LRSchedulerCallback(sched2)])


def test_callback_plateau_reduces_when_the_metric_stalls():
    opt = _opt(lr=1.0)
    cb = LRSchedulerCallback(make_schedule(opt, "plateau", num_epochs=5, steps_per_epoch=1, patience=1))

    class T:
        optimizer = opt
    cb.on_train_begin(T)
    for v in [1.0, 0.5, 0.5, 0.5]:
        cb.on_epoch_end(T, {"val_loss": v})
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1)


def test_callback_rejects_bad_input():
    opt = _opt()
    with pytest.raises(ValueError, match="schedule='cosine' is not allowed"):
        LRSchedulerCallback("cosine")
    with pytest.raises(ValueError, match="interval='step'"):
        LRSchedulerCallback(lr_scheduler.StepLR(opt, 2), interval="step")
    with pytest.raises(ValueError, match="interval='batch' is not allowed: expected 'epoch' for ReduceLROnPlateau"):
        LRSchedulerCallback(lr_scheduler.ReduceLROnPlateau(_opt()), interval="batch")
    net = models.mlp(4, [4], 2)
    other = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="another optimizer"):
        fit(net, (torch.randn(8, 4), torch.randint(0, 2, (8,))), num_epochs=1, optimizer=other,
            callbacks=[LRSchedulerCallback(lr_scheduler.StepLR(opt, 2))])


def test_plot_schedules_and_steps_per_epoch():
    fig = schedules.plot_schedules(["constant", "cosine", "one_cycle"], num_epochs=6, steps_per_epoch=4)
    ax = fig.axes[0]
    assert len(ax.lines) == 3 and ax.get_xlabel() == "epoch" and ax.get_ylabel() == "learning rate"
    cosine = schedules.schedule_trace("cosine", num_epochs=6, steps_per_epoch=4)
    assert list(ax.lines[1].get_ydata()) == cosine and ax.lines[1].get_xdata()[4] == 1.0   # 4 batches = 1 epoch
    fig = plots.lr_schedules({"a": [0.1] * 4, "b": [0.2, 0.2, 0.1, 0.1]}, num_epochs=2)
    assert [line.get_label() for line in fig.axes[0].lines] == ["a", "b"]
    with pytest.raises(ValueError, match="traces\\['b'\\]="):
        plots.lr_schedules({"a": [0.1], "b": "fast"}, num_epochs=1)
    assert schedules.steps_per_epoch((torch.zeros(101, 2), torch.zeros(101)), 20) == 6
    with pytest.raises(ValueError, match="batch_size=0"):
        schedules.steps_per_epoch((torch.zeros(10, 2), torch.zeros(10)), 0)
    with pytest.raises(ValueError, match="names={} is not allowed"):
        schedules.plot_schedules({})

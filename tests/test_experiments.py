import doctest
import math

import matplotlib

matplotlib.use("Agg")
import pytest
import torch
from matplotlib.container import ErrorbarContainer

from nnpractice import experiments, plots
from nnpractice.experiments import compare, higher_is_better_from_name, repeat


def _table(values, name=None, seeds=(0, 1, 2)):
    """A repeated result whose run looks its metrics up: values = {metric: [one value per seed]}."""
    seeds = list(seeds)
    return repeat(lambda seed: {m: v[seeds.index(seed)] for m, v in values.items()}, seeds, name=name)


# ----------------------------------------------------------------------------- repeat

def test_repeat_keeps_every_seed_and_summarises_by_hand():
    calls = []

    def run(seed):
        calls.append(seed)
        return {"val_loss": {0: 0.30, 1: 0.34, 2: 0.32}[seed], "val_accuracy": {0: 0.90, 1: 0.86, 2: 0.88}[seed]}

    result = repeat(run, [0, 1, 2], name="baseline")
    assert calls == [0, 1, 2]
    assert result.seeds == (0, 1, 2) and result.metrics == ["val_loss", "val_accuracy"]
    loss = result["val_loss"]
    assert loss.values == (0.30, 0.34, 0.32) and loss.n == 3
    # mean 0.32; deviations -0.02, 0.02, 0 -> variance 0.0008 / 2 = 0.0004 -> sd 0.02; se 0.02 / sqrt(3)
    assert loss.mean == pytest.approx(0.32)
    assert loss.sd == pytest.approx(0.02)
    assert loss.se == pytest.approx(0.0115470, abs=1e-7)
    assert result["val_accuracy"].mean == pytest.approx(0.88) and result["val_accuracy"].sd == pytest.approx(0.02)
    assert result.value("val_loss", 1) == 0.34
    text = str(result)
    assert text.splitlines()[0] == "baseline, 3 seeds (0, 1, 2)"
    assert "val_loss      0.320 ± 0.020 (n=3)" in text
    assert "val_accuracy  0.880 ± 0.020 (n=3)" in text
    markdown = result._repr_markdown_()
    assert "| metric | mean ± sd (n) |" in markdown and "| val_loss | 0.320 ± 0.020 (n=3) |" in markdown


def test_repeat_with_one_seed_shows_sd_as_undefined():
    result = repeat(lambda seed: {"val_loss": 0.5}, [7])
    assert result["val_loss"].mean == 0.5 and result["val_loss"].n == 1
    assert math.isnan(result["val_loss"].sd) and math.isnan(result["val_loss"].se)
    assert "0.5 ± undefined (n=1)" in str(result)


def test_repeat_accepts_numpy_and_tensor_scalars_and_any_integer_seeds():
    import numpy as np

    result = repeat(lambda seed: {"val_loss": torch.tensor(0.25 + seed), "val_accuracy": np.float32(0.5)},
                    range(2))
    assert result["val_loss"].values == (0.25, 1.25) and isinstance(result["val_loss"].values[0], float)
    assert repeat(lambda seed: {"val_loss": float(seed)}, [np.int64(3), 4]).seeds == (3, 4)


def test_repeat_warns_when_the_run_ignores_its_seed():
    with pytest.warns(UserWarning, match="same metrics"):
        repeat(lambda seed: {"val_loss": 0.3, "val_accuracy": 0.9}, [0, 1, 2])


@pytest.mark.parametrize("seeds, error, match", [
    ([], ValueError, r"seeds=\(\) is not allowed: expected at least one seed"),
    ([0, 1, 1], ValueError, r"seeds \[1\] appear more than once"),
    ([0, 1.5], TypeError, r"1.5 is not an integer"),
    ([True, 2], TypeError, r"True is not an integer"),
    (3, TypeError, r"seeds=3 is not allowed"),
])
def test_repeat_refuses_bad_seeds(seeds, error, match):
    with pytest.raises(error, match=match):
        repeat(lambda seed: {"val_loss": 0.1}, seeds)


def test_repeat_refuses_a_run_that_is_not_a_function_or_returns_no_dict():
    with pytest.raises(TypeError, match="run=0.5 is not allowed: expected a function"):
        repeat(0.5, [0, 1])
    with pytest.raises(TypeError, match=r"run\(0\) returned \[0.3\]: expected a non-empty dict"):
        repeat(lambda seed: [0.3], [0, 1])
    with pytest.raises(TypeError, match=r"run\(0\) returned \{\}"):
        repeat(lambda seed: {}, [0, 1])
    with pytest.raises(TypeError, match=r"run\(1\) returned val_loss='0.3': expected a number"):
        repeat(lambda seed: {"val_loss": 0.3 if seed == 0 else "0.3"}, [0, 1])
    with pytest.raises(TypeError, match=r"val_loss=tensor"):
        repeat(lambda seed: {"val_loss": torch.ones(2)}, [0, 1])
    with pytest.raises(TypeError, match="name=3 is not allowed"):
        repeat(lambda seed: {"val_loss": 0.3}, [0, 1], name=3)


def test_repeat_refuses_runs_that_return_different_metrics():
    def run(seed):
        return {"val_loss": 0.3, "val_accuracy": 0.9} if seed != 2 else {"val_loss": 0.3, "train_loss": 0.1}

    with pytest.raises(ValueError, match=r"run\(2\) returned metrics .* missing \['val_accuracy'\], "
                                         r"unexpected \['train_loss'\]"):
        repeat(run, [0, 1, 2])


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_repeat_says_a_non_finite_run_diverged_naming_seed_and_metric(bad):
    def run(seed):
        return {"val_accuracy": 0.9, "val_loss": bad if seed == 4 else 0.3}

    with pytest.raises(ValueError, match=r"run\(4\) returned val_loss=.*the run with seed 4 diverged"):
        repeat(run, [3, 4, 5])


# ----------------------------------------------------------------------------- compare: the numbers

def test_compare_paired_t_interval_by_hand_with_three_seeds():
    a = _table({"val_accuracy": [0.90, 0.92, 0.94]}, name="dropout")
    b = _table({"val_accuracy": [0.88, 0.89, 0.90]}, name="baseline")
    row = compare(a, b)["val_accuracy"]
    # differences 0.02, 0.03, 0.04: mean 0.03, sd 0.01, se 0.01 / sqrt(3) = 0.0057735;
    # t(0.975, 2 df) = 4.3027, half width 4.3027 * 0.0057735 = 0.024842
    assert row.differences == pytest.approx((0.02, 0.03, 0.04))
    assert row.mean_difference == pytest.approx(0.03)
    assert row.interval == pytest.approx((0.03 - 0.024842, 0.03 + 0.024842), abs=1e-5)
    assert row.n == 3 and row.higher_is_better
    assert row.better == "dropout" and row.verdict == "dropout is better"
    # at 90%: t(0.95, 2 df) = 2.9200, half width 0.016859
    assert compare(a, b, confidence=0.90)["val_accuracy"].interval == pytest.approx((0.013141, 0.046859), abs=1e-5)


def test_compare_with_five_seeds_and_an_interval_containing_zero():
    b_values = [0.80, 0.81, 0.79, 0.82, 0.80]
    differences = [-0.02, 0.01, 0.03, -0.01, 0.04]
    a = _table({"val_accuracy": [v + d for v, d in zip(b_values, differences)]}, name="wide", seeds=range(5))
    b = _table({"val_accuracy": b_values}, name="narrow", seeds=range(5))
    row = compare(a, b)["val_accuracy"]
    # mean 0.01; squared deviations 9, 0, 4, 4, 9 (x1e-4) -> variance 0.0026 / 4 = 0.00065, sd 0.0254951,
    # se 0.0254951 / sqrt(5) = 0.0114018; t(0.975, 4 df) = 2.7764, half width 0.031656
    assert row.mean_difference == pytest.approx(0.01)
    assert row.interval == pytest.approx((0.01 - 0.031656, 0.01 + 0.031656), abs=1e-5)
    assert row.better is None and row.favours == "wide" and not row.clear
    assert row.verdict == "no clear difference with 5 seeds"


def test_compare_verdict_b_is_better_for_a_loss_and_default_names():
    a = _table({"val_loss": [0.50, 0.52, 0.54]})
    b = _table({"val_loss": [0.40, 0.41, 0.42]})
    row = compare(a, b)["val_loss"]
    assert row.mean_difference == pytest.approx(0.11)              # A's loss is higher: B is better
    assert not row.higher_is_better
    assert row.better == "B" and row.verdict == "B is better"
    flipped = compare(a, b, higher_is_better={"val_loss": True})["val_loss"]
    assert flipped.better == "A"


def test_compare_pairs_by_seed_not_by_position():
    a = _table({"val_accuracy": [0.90, 0.92, 0.94]}, name="a", seeds=[0, 1, 2])
    b = _table({"val_accuracy": [0.90, 0.88, 0.89]}, name="b", seeds=[2, 0, 1])   # 0.88, 0.89, 0.90 by seed
    row = compare(a, b)["val_accuracy"]
    assert row.differences == pytest.approx((0.02, 0.03, 0.04))


def test_compare_uses_only_shared_metrics_and_names_them_on_a_miss():
    a = _table({"val_loss": [1, 2, 3], "train_loss": [1, 1, 2]}, name="a")
    b = _table({"val_loss": [1, 1, 2], "val_accuracy": [0.1, 0.2, 0.3]}, name="b")
    result = compare(a, b)
    assert list(result.metrics) == ["val_loss"]
    with pytest.raises(KeyError, match="metric='val_accuracy' is not allowed: expected one of the compared metrics"):
        result["val_accuracy"]


# ----------------------------------------------------------------------------- compare: disagreement

def test_disagreement_is_reported_both_ways_when_both_are_clear():
    a = _table({"val_loss": [0.50, 0.52, 0.54], "val_accuracy": [0.90, 0.92, 0.94]}, name="wide")
    b = _table({"val_loss": [0.40, 0.41, 0.42], "val_accuracy": [0.88, 0.89, 0.90]}, name="narrow")
    result = compare(a, b)
    assert result["val_loss"].better == "narrow" and result["val_accuracy"].better == "wide"
    assert len(result.disagreements) == 1
    message = result.disagreements[0]
    assert "val_loss favours narrow (lower by 0.110; clear at 95%)" in message
    assert "val_accuracy favours wide (higher by 0.030; clear at 95%)" in message
    assert "warning: metrics disagree" in str(result)


def test_disagreement_is_reported_even_when_one_verdict_is_not_clear():
    b_accuracy = [0.80, 0.81, 0.79, 0.82, 0.80]
    a = _table({"val_accuracy": [v + d for v, d in zip(b_accuracy, [-0.02, 0.01, 0.03, -0.01, 0.04])],
                "val_loss": [0.5, 0.6, 0.7, 0.6, 0.5]}, name="A", seeds=range(5))
    b = _table({"val_accuracy": b_accuracy, "val_loss": [0.4, 0.5, 0.6, 0.5, 0.4]}, name="B", seeds=range(5))
    result = compare(a, b)
    assert result["val_accuracy"].better is None and result["val_loss"].better == "B"
    (message,) = result.disagreements
    assert "val_accuracy favours A (higher by" in message and "not clear with 5 seeds" in message
    assert "val_loss favours B (lower by" in message and "clear at 95%" in message


def test_no_disagreement_when_metrics_agree():
    a = _table({"val_loss": [0.40, 0.41, 0.42], "val_accuracy": [0.90, 0.92, 0.94]}, name="dropout")
    b = _table({"val_loss": [0.50, 0.52, 0.54], "val_accuracy": [0.88, 0.89, 0.90]}, name="baseline")
    result = compare(a, b)
    assert result.disagreements == [] and "warning" not in str(result)
    assert [row.better for row in result] == ["dropout", "dropout"]


def test_comparison_prints_a_table():
    a = _table({"val_accuracy": [0.90, 0.92, 0.94]}, name="dropout")
    b = _table({"val_accuracy": [0.88, 0.89, 0.90]}, name="baseline")
    lines = str(compare(a, b)).splitlines()
    assert lines[0] == "dropout (A) vs baseline (B), paired over 3 seeds (0, 1, 2), 95% intervals"
    assert lines[1].split() == ["metric", "better", "if", "mean", "A", "−", "B", "95%", "interval", "verdict"]
    assert lines[2].split() == ["val_accuracy", "higher", "+0.030", "[+0.005,", "+0.055]", "dropout", "is", "better"]
    assert "| val_accuracy | higher | +0.030 |" in compare(a, b)._repr_markdown_()


# ----------------------------------------------------------------------------- compare: direction and bad input

@pytest.mark.parametrize("metric, higher", [
    ("val_loss", False), ("test_error", False), ("mse", False), ("val_mae", False), ("nll", False),
    ("ece", False), ("epoch_time", False), ("seconds", False), ("Val_Loss", False),
    ("val_accuracy", True), ("val_acc", True), ("auc", True), ("macro_f1", True), ("r2", True), ("score", True),
])
def test_direction_is_read_from_the_metric_name(metric, higher):
    assert higher_is_better_from_name(metric) is higher


def test_an_unknown_metric_name_asks_for_higher_is_better():
    a = _table({"perplexity": [4, 5, 6]}, name="a")
    b = _table({"perplexity": [3, 3.5, 4]}, name="b")
    with pytest.raises(ValueError, match=r"metric='perplexity' is not allowed without higher_is_better.*"
                                         r"Pass higher_is_better=\{'perplexity': True or False\}"):
        compare(a, b)
    assert compare(a, b, higher_is_better={"perplexity": False})["perplexity"].better == "b"
    with pytest.raises(ValueError, match=r"\['perplexty'\] are not compared metrics"):
        compare(a, b, higher_is_better={"perplexity": False, "perplexty": False})
    with pytest.raises(TypeError, match=r"higher_is_better\['perplexity'\]='no' is not allowed"):
        compare(a, b, higher_is_better={"perplexity": "no"})
    with pytest.raises(TypeError, match="higher_is_better=True is not allowed"):
        compare(a, b, higher_is_better=True)


def test_compare_refuses_mismatched_seeds_naming_them():
    a = _table({"val_loss": [1, 2, 3]}, name="a", seeds=[0, 1, 2])
    b = _table({"val_loss": [1, 2, 3]}, name="b", seeds=[0, 1, 5])
    with pytest.raises(ValueError, match=r"seeds \[2\] are only in a, seeds \[5\] only in b"):
        compare(a, b)


@pytest.mark.parametrize("confidence", [0, 1, 1.5, -0.2, float("nan"), "0.95"])
def test_compare_refuses_a_confidence_outside_zero_one(confidence):
    a = _table({"val_loss": [1, 2, 3]}, name="a")
    b = _table({"val_loss": [1, 1, 2]}, name="b")
    with pytest.raises(ValueError, match=r"confidence=.* is not allowed: expected a number in \(0, 1\)"):
        compare(a, b, confidence=confidence)


def test_compare_refuses_one_seed_same_names_and_non_results():
    one = repeat(lambda seed: {"val_loss": 0.3}, [0], name="a")
    other = repeat(lambda seed: {"val_loss": 0.2}, [0], name="b")
    with pytest.raises(ValueError, match="needs at least 2 seeds"):
        compare(one, other)
    a, b = _table({"val_loss": [1, 2, 3]}, name="x"), _table({"val_loss": [1, 1, 2]}, name="x")
    with pytest.raises(ValueError, match="both named 'x'"):
        compare(a, b)
    with pytest.raises(TypeError, match=r"b=\{'val_loss': \[1, 1, 2\]\} is not allowed"):
        compare(a, {"val_loss": [1, 1, 2]})
    with pytest.raises(ValueError, match="share no metric"):
        compare(_table({"val_loss": [1, 2, 3]}, name="a"), _table({"val_accuracy": [1, 2, 3]}, name="b"))


# ----------------------------------------------------------------------------- plot and docstring

def test_conditions_plot_draws_one_error_bar_per_condition_and_every_seed():
    results = [_table({"val_accuracy": [0.90, 0.92, 0.94]}, name="dropout"),
               _table({"val_accuracy": [0.88, 0.89, 0.90]}, name="baseline"),
               _table({"val_accuracy": [0.80, 0.84, 0.82]}, name="tiny")]
    fig = plots.conditions(results, "val_accuracy")
    ax = fig.axes[0]
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 3
    for bar, mean, sd in zip(bars, [0.92, 0.89, 0.82], [0.02, 0.01, 0.02]):   # by hand
        line, _caps, (segments,) = bar.lines
        assert line.get_ydata()[0] == pytest.approx(mean)
        (_, low), (_, high) = segments.get_segments()[0]
        assert (low, high) == pytest.approx((mean - sd, mean + sd))
    dots = [sorted(c.get_offsets()[:, 1]) for c in ax.collections if c not in [b.lines[2][0] for b in bars]]
    assert dots == [pytest.approx(sorted(r["val_accuracy"].values)) for r in results]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["dropout", "baseline", "tiny"]
    assert ax.get_xlabel() == "condition" and ax.get_ylabel().startswith("val accuracy")


def test_conditions_plot_takes_a_mapping_and_refuses_bad_input():
    a = _table({"val_loss": [1, 2, 3]})
    b = _table({"val_loss": [2, 2, 3]})
    fig = plots.conditions({"small": a, "big": b}, "val_loss")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["small", "big"]
    with pytest.raises(ValueError, match=r"expected results with distinct names .*here the names are \['x', 'x'\]"):
        plots.conditions([_table({"val_loss": [1, 2, 3]}, name="x"), _table({"val_loss": [1, 1, 2]}, name="x")],
                         "val_loss")
    with pytest.raises(ValueError, match=r"metric='val_accuracy' is not allowed: .*'small' has only \['val_loss'\]"):
        plots.conditions({"small": a}, "val_accuracy")
    with pytest.raises(TypeError, match=r"results\['small'\]=\[1, 2, 3\] is not allowed: expected the result of experiments.repeat"):
        plots.conditions({"small": [1, 2, 3]}, "val_loss")
    with pytest.raises(ValueError, match=r"results=\[\] is not allowed: expected a non-empty list"):
        plots.conditions([], "val_loss")


def test_module_docstring_example_runs():
    outcome = doctest.testmod(experiments, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert outcome.attempted >= 8 and outcome.failed == 0


def test_a_constant_difference_prints_without_rounding_noise():
    # the same gain under every seed: the differences' sd is rounding error, not a spread to print to 12 places
    a = experiments.repeat(lambda s: {"val_loss": 0.5 + 0.01 * s}, [0, 1, 2], name="a")
    b = experiments.repeat(lambda s: {"val_loss": 0.45 + 0.01 * s}, [0, 1, 2], name="b")
    row = next(line for line in str(experiments.compare(b, a)).splitlines() if line.startswith("val_loss"))
    assert "-0.05 " in row and "[-0.05, -0.05]" in row and "b is better" in row, row

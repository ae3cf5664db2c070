"""Repeated and paired experiments: a claim measured over several seeds, not one run.

:func:`repeat` runs one condition once per seed and keeps every seed's metrics with their
mean, standard deviation and standard error. :func:`compare` pairs two conditions seed by
seed and says, metric by metric, whether the difference is clear at the chosen confidence;
it warns when two metrics favour different conditions (loss one way, accuracy the other).

>>> from nnpractice import experiments
>>> baseline_runs = {0: (0.41, 0.880), 1: (0.44, 0.872), 2: (0.40, 0.884)}   # (val_loss, val_accuracy)
>>> dropout_runs = {0: (0.36, 0.902), 1: (0.40, 0.890), 2: (0.37, 0.899)}
>>> def measured(runs):                  # stands in for "train with this seed, return the metrics"
...     return lambda seed: {"val_loss": runs[seed][0], "val_accuracy": runs[seed][1]}
>>> baseline = experiments.repeat(measured(baseline_runs), [0, 1, 2], name="baseline")
>>> dropout = experiments.repeat(measured(dropout_runs), [0, 1, 2], name="dropout")
>>> print(baseline)
baseline, 3 seeds (0, 1, 2)
metric        mean ± sd (n)
val_loss      0.417 ± 0.021 (n=3)
val_accuracy  0.8787 ± 0.0061 (n=3)
>>> result = experiments.compare(dropout, baseline)
>>> print(result)
dropout (A) vs baseline (B), paired over 3 seeds (0, 1, 2), 95% intervals
metric        better if  mean A − B  95% interval        verdict
val_loss      lower      -0.040      [-0.065, -0.015]    dropout is better
val_accuracy  higher     +0.0183     [+0.0096, +0.0271]  dropout is better
>>> result["val_accuracy"].better
'dropout'
>>> result.disagreements
[]
"""
from __future__ import annotations

import math
import statistics
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from numbers import Integral, Real

from ._validation import InstanceOf, Interval, InvalidParameterError, validate_params

# A metric's name says which way is better: val_loss, test_error, epoch_seconds go down,
# val_accuracy, macro_f1, auc go up. Anything else must be told (higher_is_better=...).
LOWER_IS_BETTER = ("loss", "error", "mse", "mae", "nll", "ece", "time", "seconds")
HIGHER_IS_BETTER = ("accuracy", "acc", "auc", "f1", "r2", "score")


# ----------------------------------------------------------------------------- one condition, many seeds

@dataclass(frozen=True)
class Summary:
    """One metric over the seeds: its values and their mean, sd (ddof=1), standard error and count."""

    metric: str
    values: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def sd(self) -> float:
        # the sample standard deviation (ddof=1) is undefined for one seed: nan, printed as "undefined"
        return statistics.stdev(self.values) if self.n >= 2 else math.nan

    @property
    def se(self) -> float:
        return self.sd / math.sqrt(self.n)

    def __str__(self) -> str:
        spread = "undefined" if self.n < 2 else _number(self.sd, self.sd)
        return f"{_number(self.mean, self.sd)} ± {spread} (n={self.n})"


# the records below are built by the library; their constraints say what they hold
Summary.__init__ = validate_params({"metric": [str], "values": [tuple]})(Summary.__init__)


class Repeated:
    """The metrics of one condition, one value per seed (built by :func:`repeat`).

    ``result["val_loss"]`` is a :class:`Summary` (``.mean``, ``.sd``, ``.se``, ``.n``, ``.values``);
    ``result.seeds`` are the seeds in the order they ran; ``result.metrics`` the metric names.
    """

    @validate_params({"name": [str, None], "seeds": [tuple], "values": [dict]})
    def __init__(self, name: str | None, seeds: tuple[int, ...], values: dict[str, tuple[float, ...]]):
        self.name = name
        self.seeds = seeds
        self.values = values

    @property
    def metrics(self) -> list[str]:
        return list(self.values)

    def __getitem__(self, metric: str) -> Summary:
        if metric not in self.values:
            raise KeyError(f"metric={metric!r} is not allowed: expected one of {', '.join(map(repr, self.values))}.")
        return Summary(metric, self.values[metric])

    def __contains__(self, metric) -> bool:
        return metric in self.values

    def value(self, metric: str, seed: int) -> float:
        """The value of ``metric`` under ``seed``."""
        if seed not in self.seeds:
            raise KeyError(f"seed={seed!r} is not allowed: expected one of {list(self.seeds)}.")
        return self[metric].values[self.seeds.index(seed)]

    def _rows(self) -> list[tuple[str, str]]:
        return [(metric, str(self[metric])) for metric in self.values]

    def _title(self) -> str:
        seeds = ", ".join(map(str, self.seeds))
        plural = "seed" if len(self.seeds) == 1 else "seeds"
        return f"{self.name or 'result'}, {len(self.seeds)} {plural} ({seeds})"

    def __str__(self) -> str:
        return _text_table(self._title(), ("metric", "mean ± sd (n)"), self._rows())

    def _repr_markdown_(self) -> str:
        return _markdown_table(self._title(), ("metric", "mean ± sd (n)"), self._rows())

    def __repr__(self) -> str:
        return f"Repeated(name={self.name!r}, seeds={list(self.seeds)!r}, metrics={self.metrics!r})"


_SEEDS = InstanceOf(Iterable, "a list of distinct integers such as [0, 1, 2]", example=lambda: [0, 1])


@validate_params({"run": [InstanceOf(Callable, "a function run(seed) -> dict of metrics",
                                     example=lambda: lambda seed: {"val_loss": float(seed)})],
                  "seeds": [_SEEDS], "name": [str, None]})
def repeat(run, seeds, *, name: str | None = None) -> Repeated:
    """Call ``run(seed)`` for every seed and collect the metrics it returns.

    ``run`` takes a seed and returns a dict ``metric name -> number``, for example
    ``{"val_loss": 0.31, "val_accuracy": 0.91}``; it must derive *every* random choice
    (initial weights, shuffles, splits) from that seed. ``name`` names the condition in
    printed tables, verdicts and plots.
    """
    seeds = _check_seeds(seeds)
    values: dict[str, list[float]] = {}
    for seed in seeds:
        metrics = run(seed)
        # every seed must measure the same things, or the mean of one metric mixes different runs
        if not isinstance(metrics, Mapping) or not metrics:
            raise TypeError(f"run({seed}) returned {metrics!r}: expected a non-empty dict of metric name -> number.")
        if values and set(metrics) != set(values):
            missing, extra = sorted(set(values) - set(metrics)), sorted(set(metrics) - set(values))
            raise ValueError(f"run({seed}) returned metrics {sorted(metrics)} but run({seeds[0]}) returned "
                             f"{sorted(values)}: missing {missing}, unexpected {extra}. Every seed must return "
                             "the same metric names.")
        for metric, value in metrics.items():
            values.setdefault(metric, []).append(_finite_number(metric, value, seed))
    result = Repeated(name, seeds, {metric: tuple(v) for metric, v in values.items()})
    # identical values under every seed mean the run ignored its seed: n copies of one run, not n runs
    if len(seeds) >= 2 and all(len(set(v)) == 1 for v in values.values()):
        warnings.warn(f"every seed gave exactly the same metrics for {result.name or 'this condition'}: does run "
                      "derive its random choices from its seed argument?", UserWarning, stacklevel=2)
    return result


def _check_seeds(seeds) -> tuple[int, ...]:
    seeds = tuple(seeds)
    if not seeds:
        raise InvalidParameterError("seeds=() is not allowed: expected at least one seed, such as [0, 1, 2].")
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, Integral):
            raise InvalidParameterError(f"seeds={list(seeds)!r} is not allowed: {seed!r} is not an integer.")
    # a repeated seed repeats a run: its copies would shrink the standard error without new evidence
    duplicates = sorted({int(s) for s in seeds if seeds.count(s) > 1})
    if duplicates:
        raise InvalidParameterError(f"seeds={list(seeds)!r} is not allowed: seeds {duplicates} appear more than "
                                    "once; expected distinct integers.")
    return tuple(int(s) for s in seeds)


def _finite_number(metric, value, seed) -> float:
    if not isinstance(metric, str):
        raise TypeError(f"run({seed}) returned the metric name {metric!r}: expected strings such as 'val_loss'.")
    # a bool or a string is a mistake, a 0-dim tensor or numpy scalar is a number
    if isinstance(value, (bool, str, bytes)):
        raise TypeError(f"run({seed}) returned {metric}={value!r}: expected a number.")
    try:
        number = float(value)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"run({seed}) returned {metric}={value!r}: expected a number.") from None
    # a nan or inf would poison the mean of every seed: the run diverged, and that is the result to report
    if not math.isfinite(number):
        raise ValueError(f"run({seed}) returned {metric}={number}: the run with seed {seed} diverged (a "
                         "non-finite metric). Fix the run (a smaller learning rate, gradient clipping) or report "
                         "the divergence; it cannot be averaged.")
    return number


# ----------------------------------------------------------------------------- two conditions, paired by seed

@dataclass(frozen=True)
class MetricComparison:
    """One metric of a :func:`compare`: the paired differences A - B and what they show."""

    metric: str
    names: tuple[str, str]              # (A, B)
    differences: tuple[float, ...]      # a - b, one per seed
    interval: tuple[float, float]       # the confidence interval of the mean difference
    confidence: float
    higher_is_better: bool

    @property
    def n(self) -> int:
        return len(self.differences)

    @property
    def mean_difference(self) -> float:
        return statistics.fmean(self.differences)

    @property
    def half_width(self) -> float:
        """Half the interval's width: the mean difference is known to within ± this much."""
        return (self.interval[1] - self.interval[0]) / 2

    @property
    def favours(self) -> str | None:
        """The condition the mean difference points to, clear or not (None if it is exactly 0)."""
        if self.mean_difference == 0:
            return None
        a_is_larger = self.mean_difference > 0
        return self.names[0] if a_is_larger == self.higher_is_better else self.names[1]

    @property
    def clear(self) -> bool:
        """Whether the interval excludes 0: the difference holds at this confidence."""
        low, high = self.interval
        return not low <= 0 <= high

    @property
    def better(self) -> str | None:
        """The name of the better condition, or None when the interval contains 0."""
        return self.favours if self.clear else None

    @property
    def verdict(self) -> str:
        if self.better is None:
            return f"no clear difference with {self.n} seeds"
        return f"{self.better} is better"

    def _describe(self) -> str:
        direction = "higher" if self.higher_is_better else "lower"
        strength = f"clear at {self.confidence:.0%}" if self.clear else f"not clear with {self.n} seeds"
        return (f"{self.metric} favours {self.favours} ({direction} by {_number(abs(self.mean_difference), self.half_width)}; "
                f"{strength})")


_CONFIDENCE = Interval(Real, 0, 1, closed="neither")
MetricComparison.__init__ = validate_params({
    "metric": [str], "names": [tuple], "differences": [tuple], "interval": [tuple], "confidence": [_CONFIDENCE],
    "higher_is_better": ["boolean"]})(MetricComparison.__init__)


class Comparison:
    """The result of :func:`compare`; ``comparison["val_accuracy"]`` is a :class:`MetricComparison`.

    ``comparison.disagreements`` lists, in words, every pair of metrics that favour different conditions.
    """

    @validate_params({"names": [tuple], "seeds": [tuple], "confidence": [_CONFIDENCE], "metrics": [dict]})
    def __init__(self, names: tuple[str, str], seeds: tuple[int, ...], confidence: float,
                 metrics: dict[str, MetricComparison]):
        self.names = names
        self.seeds = seeds
        self.confidence = confidence
        self.metrics = metrics
        self.disagreements = _disagreements(list(metrics.values()))

    def __getitem__(self, metric: str) -> MetricComparison:
        if metric not in self.metrics:
            raise KeyError(f"metric={metric!r} is not allowed: expected one of the compared metrics "
                           f"{', '.join(map(repr, self.metrics))}.")
        return self.metrics[metric]

    def __iter__(self):
        return iter(self.metrics.values())

    def _title(self) -> str:
        a, b = self.names
        return (f"{a} (A) vs {b} (B), paired over {len(self.seeds)} seeds ({', '.join(map(str, self.seeds))}), "
                f"{self.confidence:.0%} intervals")

    def _header(self) -> tuple[str, ...]:
        return ("metric", "better if", "mean A − B", f"{self.confidence:.0%} interval", "verdict")

    def _rows(self) -> list[tuple[str, ...]]:
        rows = []
        for m in self:
            low, high = (_number(end, m.half_width, sign=True) for end in m.interval)
            rows.append((m.metric, "higher" if m.higher_is_better else "lower",
                         _number(m.mean_difference, m.half_width, sign=True), f"[{low}, {high}]", m.verdict))
        return rows

    def __str__(self) -> str:
        table = _text_table(self._title(), self._header(), self._rows())
        return "\n".join([table] + [f"warning: {d}" for d in self.disagreements])

    def _repr_markdown_(self) -> str:
        table = _markdown_table(self._title(), self._header(), self._rows())
        return "\n\n".join([table] + [f"**warning:** {d}" for d in self.disagreements])

    def __repr__(self) -> str:
        return f"Comparison(names={self.names!r}, seeds={list(self.seeds)!r}, metrics={list(self.metrics)!r})"


_RESULT = InstanceOf(Repeated, "the result of experiments.repeat",
                     example=lambda: Repeated("a", (0, 1), {"val_loss": (0.3, 0.4)}))


@validate_params({"a": [_RESULT], "b": [_RESULT], "confidence": [_CONFIDENCE], "higher_is_better": [Mapping, None]})
def compare(a: Repeated, b: Repeated, *, confidence: float = 0.95,
            higher_is_better: Mapping[str, bool] | None = None) -> Comparison:
    """Compare two conditions run over the same seeds, pairing them seed by seed.

    For every metric both hold: the mean of the differences ``a - b`` and its ``confidence``
    interval from Student's t distribution with n - 1 degrees of freedom. The verdict names
    the better condition when the interval excludes 0, else says there is no clear difference
    with this many seeds. Which way is better comes from ``higher_is_better`` (a dict
    ``metric -> bool``), else from the metric's name (``..._loss`` lower, ``..._accuracy`` higher).
    """
    names = (a.name or "A", b.name or "B")
    # a verdict names the better condition: two conditions with one name would make it meaningless
    if names[0] == names[1]:
        raise InvalidParameterError(f"a and b are both named {names[0]!r}: give them different names in "
                                    "repeat(..., name=...).")
    # pairing by seed removes what the seed does to both conditions, so both must have run the same seeds
    if set(a.seeds) != set(b.seeds):
        only_a, only_b = sorted(set(a.seeds) - set(b.seeds)), sorted(set(b.seeds) - set(a.seeds))
        raise InvalidParameterError(f"a and b must run the same seeds to be paired: seeds {only_a} are only in "
                                    f"{names[0]}, seeds {only_b} only in {names[1]}.")
    # a standard deviation, hence an interval, needs at least two paired differences
    if len(a.seeds) < 2:
        raise InvalidParameterError(f"a and b ran {len(a.seeds)} seed: a comparison needs at least 2 seeds "
                                    "(3 or more for a claim).")
    shared = [metric for metric in a.metrics if metric in b]
    if not shared:
        raise InvalidParameterError(f"a and b share no metric: {names[0]} has {a.metrics}, "
                                    f"{names[1]} has {b.metrics}.")
    directions = _directions(shared, higher_is_better)

    from scipy import stats  # imported here: scipy.stats takes seconds to import and only compare needs it

    n = len(a.seeds)
    t_quantile = float(stats.t.ppf((1 + confidence) / 2, n - 1))
    metrics = {}
    for metric in shared:
        differences = tuple(a.value(metric, seed) - b.value(metric, seed) for seed in a.seeds)
        mean, se = statistics.fmean(differences), statistics.stdev(differences) / math.sqrt(n)
        interval = (mean - t_quantile * se, mean + t_quantile * se)
        metrics[metric] = MetricComparison(metric, names, differences, interval, confidence, directions[metric])
    return Comparison(names, a.seeds, confidence, metrics)


@validate_params({"metric": [str]})
def higher_is_better_from_name(metric: str) -> bool:
    """Which way a metric improves, read from the end of its name; unknown names are refused."""
    lowered = metric.lower()
    if lowered.endswith(LOWER_IS_BETTER):
        return False
    if lowered.endswith(HIGHER_IS_BETTER):
        return True
    raise InvalidParameterError(f"metric={metric!r} is not allowed without higher_is_better: its name does not say "
                                f"which way is better (names ending in {', '.join(LOWER_IS_BETTER)} go down; "
                                f"{', '.join(HIGHER_IS_BETTER)} go up). "
                                f"Pass higher_is_better={{{metric!r}: True or False}}.")


def _directions(metrics: list[str], higher_is_better: Mapping[str, bool] | None) -> dict[str, bool]:
    given = {} if higher_is_better is None else higher_is_better
    # a direction for a metric that is not compared is most likely a typo in its name
    unknown = sorted(set(given) - set(metrics))
    if unknown:
        raise InvalidParameterError(f"higher_is_better={dict(given)!r} is not allowed: {unknown} are not compared "
                                    f"metrics; expected keys among {metrics}.")
    for metric, value in given.items():
        if not isinstance(value, bool):
            raise InvalidParameterError(f"higher_is_better[{metric!r}]={value!r} is not allowed: "
                                        "expected True or False.")
    return {metric: given[metric] if metric in given else higher_is_better_from_name(metric) for metric in metrics}


def _disagreements(comparisons: list[MetricComparison]) -> list[str]:
    # loss and accuracy can favour different conditions (e.g. overconfident mistakes); the text must say so
    messages = []
    for i, first in enumerate(comparisons):
        for second in comparisons[i + 1:]:
            if first.favours and second.favours and first.favours != second.favours:
                messages.append(f"metrics disagree: {first._describe()}, but {second._describe()}; "
                                "say which metric decides and why.")
    return messages


# ----------------------------------------------------------------------------- printing

def _number(x: float, spread: float = math.nan, *, sign: bool = False) -> str:
    # as in a lab report: the spread to two significant digits, the value to the same decimal place;
    # a spread at rounding-error size (identical differences) is no spread: 4 significant digits then
    if math.isfinite(spread) and spread > 1e-9 * abs(x):
        decimals = min(12, max(0, 1 - math.floor(math.log10(spread))))
        return f"{x:+.{decimals}f}" if sign else f"{x:.{decimals}f}"
    return f"{x:+.4g}" if sign else f"{x:.4g}"


def _text_table(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]
    return "\n".join([title, *lines])


def _markdown_table(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(row) + " |" for row in [header, *rows]]
    lines.insert(1, "|" + "---|" * len(header))
    return "\n".join([f"**{title}**", "", *lines])

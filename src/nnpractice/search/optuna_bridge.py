"""The bridge to Optuna: a search space asked of an ``optuna.Trial``, a study read back as a SearchResult.

Optuna is an optional dependency (``pip install "nnpractice[search]"``): this module never
imports it at load time. :func:`suggest` only calls the trial's ``suggest_*`` methods;
:func:`from_optuna` imports ``optuna`` when it is called (it needs Optuna's trial states).
"""
from __future__ import annotations

import math
from numbers import Integral

from .._validation import Constraint, InstanceOf, Interval, validate_params
from .results import SearchResult, Trial
from .spaces import Categorical, Integer, LogUniform, SearchSpace, Uniform

__all__ = ["suggest", "from_optuna"]


class _HasMethods(Constraint):
    """An object of an Optuna type, recognized by what it has, so that Optuna need not be imported."""

    def __init__(self, description: str, attributes: tuple[str, ...], example):
        self.description, self.attributes, self.example = description, attributes, example

    def accepts(self, value) -> bool:
        return all(hasattr(value, name) for name in self.attributes)

    def __str__(self) -> str:
        return self.description

    def valid_example(self):
        return self.example()


def _example_trial():
    import optuna

    return optuna.trial.FixedTrial({"x": 0.5})


def _example_study():
    import optuna

    return optuna.create_study()


_OPTUNA_TRIAL = _HasMethods("an optuna.Trial", ("suggest_float", "suggest_int", "suggest_categorical"),
                            _example_trial)
_OPTUNA_STUDY = _HasMethods("an optuna.Study", ("trials", "optimize"), _example_study)
_SPACE = InstanceOf(SearchSpace, "a search.SearchSpace", example=lambda: SearchSpace(x=Uniform(0, 1)))


@validate_params({"trial": [_OPTUNA_TRIAL], "space": [_SPACE]})
def suggest(trial, space: SearchSpace) -> dict:
    """Ask an ``optuna.Trial`` for one configuration of ``space`` (same names, same scales)."""
    config = {}
    for name, dim in space.dimensions.items():
        if isinstance(dim, LogUniform):
            config[name] = trial.suggest_float(name, dim.low, dim.high, log=True)
        elif isinstance(dim, Uniform):
            config[name] = trial.suggest_float(name, dim.low, dim.high)
        elif isinstance(dim, Integer):
            config[name] = trial.suggest_int(name, dim.low, dim.high, log=dim.log)
        else:
            assert isinstance(dim, Categorical)
            config[name] = trial.suggest_categorical(name, dim.choices)
    return config


@validate_params({"study": [_OPTUNA_STUDY], "budget": [Interval(Integral, 0, None), None], "epochs_key": [str]})
def from_optuna(study, *, budget: int | None = None, epochs_key: str = "epochs") -> SearchResult:
    """An Optuna study's trials as a :class:`SearchResult` (pruned and failed ones included).

    A trial's epochs are its user attribute ``epochs_key`` if set, else the number of
    intermediate values it reported (one per epoch), else 0.
    """
    try:
        import optuna  # here, not at the top: Optuna is an optional dependency
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError('search.from_optuna needs Optuna, the "search" extra: '
                                  'pip install "nnpractice[search]"') from error

    states = {optuna.trial.TrialState.COMPLETE: "ok", optuna.trial.TrialState.PRUNED: "pruned",
              optuna.trial.TrialState.FAIL: "failed"}
    trials = []
    for t in sorted(study.trials, key=lambda t: (t.datetime_start is None, t.datetime_start, t.number)):
        if t.state not in states:
            continue
        epochs = int(t.user_attrs.get(epochs_key, len(t.intermediate_values)))
        status = states[t.state]
        score = t.value if t.value is not None else math.nan
        if status == "ok" and not math.isfinite(score):
            status = "diverged"
        seconds = (t.datetime_complete - t.datetime_start).total_seconds() if t.datetime_complete else 0.0
        trials.append(Trial(len(trials), dict(t.params), epochs, float(score), seconds, status,
                            info={"optuna_number": t.number, **{k: v for k, v in t.user_attrs.items()
                                                                 if k != epochs_key}}))
    total = sum(t.epochs for t in trials)
    return SearchResult("optuna", trials, budget if budget is not None else total)

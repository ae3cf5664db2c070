"""Worker processes that share one Optuna study, on a journal file (one machine) or a database (many).

An Optuna study keeps its trials in a *storage*, and every process that loads the study by name
from the same storage sees the others' trials. One string names the storage here
(:func:`open_storage`):

- a file path, ``"study.log"``: Optuna's journal file, an append-only log of the study's operations
  with a file lock. No server; processes on one machine (or on one shared file system);
- a database URL, ``"postgresql+psycopg://user@db-host:5432/optuna"`` (or ``"sqlite:///study.db"``):
  Optuna's RDB storage (SQLAlchemy), which workers on many machines reach. While a trial runs, its
  worker writes a **heartbeat** every ``heartbeat_interval`` seconds; a RUNNING trial whose heartbeat
  is older than ``grace_period`` belongs to a dead worker, and the next worker that starts a trial
  marks it FAIL and queues a copy with the same parameters, which a live worker runs next
  (Optuna's ``RetryHeartbeatStaleTrialCallback``, up to ``max_retry`` times). A journal file has no
  heartbeat: there a killed worker's trial stays RUNNING.

:func:`run_workers` starts ``num_workers`` processes on this machine and waits for them;
:class:`WorkerPool` does the same without waiting. One launcher, ``python .../search/_worker.py``,
imports the objective (and so PyTorch) and Optuna once, not this library, and forks the workers
(POSIX), so the start-up is paid once per machine, not once per worker. Each worker loads the
study, runs its share of the trials with its own sampler seed (from ``seed`` and its index) and
exits. The objective is named by a string, ``"path/to/file.py:function"`` or
``"package.module:function"`` (a function defined in a notebook cannot reach another process), and
called as ``function(trial, **objective_args)``; it returns a score to **minimize**.

``n_trials`` is what the study should hold when the workers are done: that many finished trials
(COMPLETE, or FAIL when the objective itself failed or returned ``nan``; a dead worker's trial does
not count, its retry does). A new study gets ``n_trials`` trials; a study that was interrupted gets
the ones it is missing, so the same call resumes it. The count is exact for one pool at a time.

>>> import pathlib, tempfile
>>> from nnpractice import search
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "bowl.py").write_text("def bowl(trial):\\n    return (trial.suggest_float('x', -2, 2) - 1) ** 2\\n")
>>> run = search.run_workers(f"{folder}/bowl.py:bowl", str(folder / "study.log"), "bowl", num_workers=2,
...                          n_trials=6, seed=0)
>>> len(run.trials), sorted(t.number for t in run.trials), run.trials_per_worker()
(6, [0, 1, 2, 3, 4, 5], {0: 3, 1: 3})
"""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from numbers import Integral, Real
from pathlib import Path

import numpy as np

from .._validation import Constraint, InstanceOf, Interval, Options, Sequences, invalid, validate_params
from ._worker import SAMPLERS, fail_stale_trials, is_url
from ._worker import open_storage as _open_storage

__all__ = ["WorkerTrial", "WorkerRun", "WorkerPool", "run_workers", "open_storage", "worker_seed", "STATES"]

#: An Optuna trial's states, by name.
STATES = ("COMPLETE", "FAIL", "PRUNED", "RUNNING", "WAITING")
WORKER_FILE = Path(__file__).with_name("_worker.py")   # run by its path: the worker never imports the library


class _Spec(Constraint):
    """``"file.py:function"`` or ``"package.module:function"``."""

    def accepts(self, value) -> bool:
        if not isinstance(value, str):
            return False
        where, colon, name = value.rpartition(":")
        return bool(colon and where and name.isidentifier())

    def __str__(self) -> str:
        return "'path/to/file.py:function' or 'package.module:function'"

    def valid_example(self):
        return "math:sqrt"

    def invalid_examples(self) -> list:
        return ["no_colon", "file.py:"]


_OBJECTIVE = _Spec()
_STORAGE = InstanceOf(str, "a journal file's path or a database URL ('postgresql+psycopg://user@host/db')",
                      example=lambda: str(Path(tempfile.mkdtemp()) / "study.log"))
_SECONDS = Interval(Integral, 1, None)
_POOL = {
    "objective": [_OBJECTIVE], "storage": [_STORAGE], "study_name": [str],
    "num_workers": [Interval(Integral, 1, 64)], "n_trials": [Interval(Integral, 1, None)],
    "seed": [Interval(Integral, 0, None)], "objective_args": [dict, None], "sampler": [Options(*SAMPLERS)],
    "heartbeat_interval": [_SECONDS], "grace_period": [_SECONDS, None], "max_retry": [Interval(Integral, 0, None), None],
    "timeout": [Interval(Real, 0, None, closed="neither")],
}


@validate_params({"storage": [_STORAGE], "heartbeat_interval": [_SECONDS], "grace_period": [_SECONDS, None],
                  "max_retry": [Interval(Integral, 0, None), None]})
def open_storage(storage: str, *, heartbeat_interval: int = 10, grace_period: int | None = None,
                 max_retry: int | None = 3):
    """The Optuna storage ``storage`` names: a journal file's path, or a database URL (with a heartbeat).

    ``grace_period`` defaults to twice ``heartbeat_interval`` (Optuna's rule); the three numbers
    only matter for a database.
    """
    return _open_storage(storage, heartbeat_interval=heartbeat_interval, grace_period=grace_period,
                         max_retry=max_retry)


@validate_params({"seed": [Interval(Integral, 0, None)], "worker": [Interval(Integral, 0, None)]})
def worker_seed(seed: int, worker: int) -> int:
    """Worker ``worker``'s sampler seed: from the caller's seed and the index, so no two workers propose alike."""
    return int(np.random.SeedSequence([seed, worker]).generate_state(1)[0])


def _shown(storage: str) -> str:
    """``storage`` as it may be printed: a database URL without its password."""
    if not is_url(storage):
        return storage
    from sqlalchemy.engine import make_url

    return make_url(storage).render_as_string(hide_password=True)


@dataclass(frozen=True)
class WorkerTrial:
    """One trial of a shared study: which worker ran it, when (seconds after the pool started), what it scored.

    ``state`` is Optuna's (:data:`STATES`); ``value`` is ``nan`` unless it is COMPLETE; ``start`` and
    ``end`` are ``nan`` while unknown. ``retry_of`` is the number of the dead worker's trial it repeats (``None``: a first try).
    """

    number: int
    worker: int
    state: str
    value: float
    start: float
    end: float
    params: dict = field(default_factory=dict)
    retry_of: int | None = None


_NUMBER = InstanceOf(Real, "a number (nan while unknown)", example=lambda: 0.5)
WorkerTrial.__init__ = validate_params({
    "number": [Interval(Integral, 0, None)], "worker": [Interval(Integral, -1, None)], "state": [Options(*STATES)],
    "value": [_NUMBER], "start": [_NUMBER], "end": [_NUMBER], "params": [dict],
    "retry_of": [Interval(Integral, 0, None), None],
})(WorkerTrial.__init__)


@dataclass
class WorkerRun:
    """What a pool of workers did: every trial of the study, the wall-clock seconds, each worker's exit code."""

    study_name: str
    storage: str
    num_workers: int
    seconds: float
    exit_codes: list[int]
    trials: list[WorkerTrial]

    @property
    def complete(self) -> list[WorkerTrial]:
        return [t for t in self.trials if t.state == "COMPLETE"]

    @property
    def best_trial(self) -> WorkerTrial | None:
        """The COMPLETE trial with the lowest value (ties: the lowest number)."""
        return min(self.complete, key=lambda t: (t.value, t.number), default=None)

    @property
    def best_value(self) -> float:
        best = self.best_trial
        return math.inf if best is None else best.value

    def best_so_far(self) -> tuple[np.ndarray, np.ndarray]:
        """The end of each COMPLETE trial in time order (seconds after the start) and the best value up to then."""
        done = sorted(self.complete, key=lambda t: t.end)
        ends = np.array([t.end for t in done])
        return ends, np.minimum.accumulate([t.value for t in done]) if done else np.array([])

    def trials_per_worker(self) -> dict[int, int]:
        """How many finished trials each worker ran (a dead worker's trial is not finished)."""
        counts: dict[int, int] = {}
        for t in self.trials:
            if t.state in ("COMPLETE", "FAIL", "PRUNED") and t.number not in self.dead:
                counts[t.worker] = counts.get(t.worker, 0) + 1
        return dict(sorted(counts.items()))

    @property
    def dead(self) -> set[int]:
        """The numbers of the trials whose worker died (each has a retry)."""
        return {t.retry_of for t in self.trials if t.retry_of is not None}

    def __repr__(self) -> str:
        states = {s: sum(t.state == s for t in self.trials) for s in STATES}
        return (f"WorkerRun({self.study_name!r} on {_shown(self.storage)}: {self.num_workers} workers, "
                f"{self.seconds:.1f} s, {', '.join(f'{n} {s}' for s, n in states.items() if n)}, "
                f"best {self.best_value:.4g})")


WorkerRun.__init__ = validate_params({
    "study_name": [str], "storage": [str], "num_workers": [Interval(Integral, 1, None)],
    "seconds": [Interval(Real, 0, None)], "exit_codes": [Sequences(Interval(Integral, None, None), allow_empty=True)],
    "trials": [Sequences(InstanceOf(WorkerTrial, "a search.WorkerTrial",
                                    example=lambda: WorkerTrial(0, 0, "COMPLETE", 0.5, 0.0, 1.0)), allow_empty=True)],
})(WorkerRun.__init__)


def _seconds_after(moment: datetime | None, start: datetime) -> float:
    return math.nan if moment is None else (moment - start).total_seconds()


def _records(study, start: datetime) -> list[WorkerTrial]:
    import optuna

    records = []
    for t in study.get_trials(deepcopy=False):
        history = t.system_attrs.get("retry_history", [])    # the dead trials this one repeats, oldest first
        value = t.value if t.state == optuna.trial.TrialState.COMPLETE else math.nan
        records.append(WorkerTrial(t.number, int(t.user_attrs.get("worker", -1)), t.state.name, float(value),
                                   _seconds_after(t.datetime_start, start), _seconds_after(t.datetime_complete, start),
                                   dict(t.params), history[-1] if history else None))
    return records


def _missing(study, n_trials: int) -> int:
    """How many trials the study lacks: finished ones (not a dead worker's) and running ones count as held."""
    trials = study.get_trials(deepcopy=False)
    dead = {n for t in trials for n in t.system_attrs.get("retry_history", [])}
    held = sum(t.number not in dead and t.state.name != "WAITING" for t in trials)
    return max(0, n_trials - held)


class WorkerPool:
    """``num_workers`` worker processes on one study, started at once; :meth:`wait` collects them.

    The parameters are :func:`run_workers`'. ``process`` is the launcher (``subprocess.Popen``), which
    imports the objective once and forks the workers; ``workers`` are the indices of the workers that
    have trials to run (a resumed study may need fewer than asked for; none: ``process`` is ``None``).
    Each trial records its worker's index and process id (``user_attrs["worker"]``, ``["pid"]``). A
    ``with`` block kills whatever still runs at its end: no process is left behind.
    """

    @validate_params(_POOL)
    def __init__(self, objective: str, storage: str, study_name: str, *, num_workers: int = 2, n_trials: int,
                 seed: int = 0, objective_args: dict | None = None, sampler: str = "tpe",
                 heartbeat_interval: int = 10, grace_period: int | None = None, max_retry: int | None = 3,
                 timeout: float = 600):
        import optuna

        where = objective.rpartition(":")[0]
        if where.endswith(".py") and not Path(where).is_file():
            raise invalid("objective", objective, "an existing file before the colon", f"{where} does not exist")
        try:
            json.dumps(objective_args or {})
        except TypeError as error:
            raise invalid("objective_args", objective_args, "a dict of JSON values (it goes to other processes)",
                          str(error)) from None
        self.storage, self.study_name, self.num_workers, self.timeout = storage, study_name, num_workers, timeout
        self._storage = open_storage(storage, heartbeat_interval=heartbeat_interval, grace_period=grace_period,
                                     max_retry=max_retry)
        study = optuna.create_study(study_name=study_name, storage=self._storage, direction="minimize",
                                    load_if_exists=True)
        if study.direction != optuna.study.StudyDirection.MINIMIZE:
            raise invalid("study_name", study_name, "a study that minimizes (or a new one)", "it maximizes")
        fail_stale_trials(study)                    # a dead worker's trial: FAIL, and its retry queued
        missing = _missing(study, n_trials)
        shares = [missing // num_workers + (i < missing % num_workers) for i in range(num_workers)]
        self.start = datetime.now()
        self._clock = time.perf_counter()
        self.workers = [w for w, share in enumerate(shares) if share]   # a resumed study may need fewer
        self.process: subprocess.Popen | None = None
        self._output, self._errors = tempfile.TemporaryFile(mode="w+"), tempfile.TemporaryFile(mode="w+")
        if not self.workers:
            return
        arguments = [objective, "--storage", storage, "--study", study_name,
                     "--trials", ",".join(str(shares[w]) for w in self.workers),
                     "--seeds", ",".join(str(worker_seed(seed, w)) for w in self.workers),
                     "--workers", ",".join(str(w) for w in self.workers),
                     "--args", json.dumps(objective_args or {}), "--sampler", sampler,
                     "--heartbeat-interval", str(heartbeat_interval),
                     "--max-retry", str(-1 if max_retry is None else max_retry)]
        if grace_period is not None:
            arguments += ["--grace-period", str(grace_period)]
        # one BLAS thread per worker: the workers are the parallelism, and threads would fight over the cores
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        command = ["-c", "import runpy, sys; runpy.run_path(sys.argv.pop(1), run_name='__main__')", str(WORKER_FILE)]
        # a session of its own: stop() ends the launcher and every worker it forked, as one process group
        self.process = subprocess.Popen([sys.executable, *command, *arguments], env=env, stdout=self._output,
                                        stderr=self._errors, start_new_session=True)

    def wait(self, *, check: bool = True) -> WorkerRun:
        """Wait for every worker (killing all of them after ``timeout`` seconds); the study's trials as a WorkerRun.

        ``exit_codes`` has one code per worker that ran (minus the signal for a killed one). With
        ``check``, a failed worker raises ``RuntimeError`` with the end of the workers' stderr.
        """
        import optuna

        codes: list[int] = []
        if self.process is not None:
            try:
                self.process.wait(timeout=max(0.0, self._clock + self.timeout - time.perf_counter()))
            except subprocess.TimeoutExpired:
                self.stop()
                raise RuntimeError(f"the workers of {self.study_name!r} ran past timeout={self.timeout} s; "
                                   f"all were killed") from None
            self._output.seek(0)
            lines = [line for line in self._output.read().splitlines() if line.startswith('{"exit_codes"')]
            # no report: the launcher itself died; every worker counts as failed with its code
            codes = json.loads(lines[-1])["exit_codes"] if lines else [self.process.returncode] * len(self.workers)
        seconds = time.perf_counter() - self._clock
        if check and any(codes):
            self._errors.seek(0)
            failed = [f"worker {w} exited with {c}" for w, c in zip(self.workers, codes) if c]
            raise RuntimeError(f"{len(failed)} of {len(codes)} workers of {self.study_name!r} failed "
                               f"({'; '.join(failed)}):\n{self._errors.read()[-3000:]}")
        study = optuna.load_study(study_name=self.study_name, storage=self._storage)
        return WorkerRun(self.study_name, self.storage, self.num_workers, seconds, codes, _records(study, self.start))

    def stop(self) -> None:
        """Kill the launcher and every worker still running (one process group), reap it, close its files."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait()
        self._output.close()
        self._errors.close()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@validate_params(_POOL)
def run_workers(objective: str, storage: str, study_name: str, *, num_workers: int = 2, n_trials: int,
                seed: int = 0, objective_args: dict | None = None, sampler: str = "tpe", heartbeat_interval: int = 10,
                grace_period: int | None = None, max_retry: int | None = 3, timeout: float = 600) -> WorkerRun:
    """Run a study with ``num_workers`` processes until it holds ``n_trials`` finished trials; what they did.

    ``storage`` is a journal file's path (the default kind: no server) or a database URL; the study
    is created if it does not exist (it minimizes). Worker ``i`` samples with the seed
    ``worker_seed(seed, i)`` (``sampler`` ``"tpe"``, with the constant liar for parallel workers, or
    ``"random"``) and records ``i`` in each of its trials (``user_attrs["worker"]``). A worker that
    fails raises ``RuntimeError`` with its stderr; after ``timeout`` seconds every worker is killed.
    """
    with WorkerPool(objective, storage, study_name, num_workers=num_workers, n_trials=n_trials, seed=seed,
                    objective_args=objective_args, sampler=sampler, heartbeat_interval=heartbeat_interval,
                    grace_period=grace_period, max_retry=max_retry, timeout=timeout) as pool:
        return pool.wait()

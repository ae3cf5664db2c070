"""The workers of a shared Optuna study: the process that :func:`nnpractice.search.run_workers` starts.

``python .../search/_worker.py OBJECTIVE --storage S --study NAME --trials 8,8 --seeds 11,12 --workers 0,1``
imports the objective (and so PyTorch) and Optuna once, then forks one child per worker; worker
``i`` runs its trials of the study ``NAME`` with its sampler seed and exits. It never imports the
library (run by its file path, it starts in the time its own imports take). The same command on
another machine, with a database URL every machine reaches, joins the same study.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import subprocess
import sys
import traceback
import warnings
from pathlib import Path

SAMPLERS = ("tpe", "random")
# fork after importing PyTorch is safe on Linux; macOS and Windows start one program per worker instead
CAN_FORK = hasattr(os, "fork") and sys.platform.startswith("linux")


def is_url(storage: str) -> bool:
    """A database URL (``postgresql+psycopg://...``, ``sqlite:///...``), not a journal file's path."""
    return "://" in storage


def open_storage(storage: str, *, heartbeat_interval: int = 10, grace_period: int | None = None,
                 max_retry: int | None = 3):
    """The Optuna storage that ``storage`` names: a journal file's path, or a database URL (with a heartbeat)."""
    import optuna

    if not is_url(storage):
        # an append-only log of the study's operations, with a file lock: no server, one machine
        backend = optuna.storages.journal.JournalFileBackend(storage)
        return optuna.storages.JournalStorage(backend)
    with warnings.catch_warnings():
        # the heartbeat and the retry callback are marked experimental; using them is this file's point
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(
            storage, heartbeat_interval=heartbeat_interval, grace_period=grace_period,
            heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry))


def fail_stale_trials(study) -> None:
    """Mark the RUNNING trials of dead workers (no heartbeat for ``grace_period``) FAIL and queue their retries."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def load_objective(spec: str):
    """``"path/to/file.py:name"`` or ``"package.module:name"``: the function it names."""
    where, _, name = spec.rpartition(":")
    if where.endswith(".py"):
        path = Path(where).resolve()
        module_spec = importlib.util.spec_from_file_location(f"_objective_{path.stem}", path)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(where)
    return getattr(module, name)


def make_sampler(sampler: str, seed: int):
    import optuna

    if sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        # constant liar: a running trial counts as a bad result, so that workers do not all propose the same point
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True)


def work(objective, storage: str, study_name: str, trials: int, *, seed: int = 0, worker: int = 0,
         objective_args: dict | None = None, sampler: str = "tpe", heartbeat_interval: int = 10,
         grace_period: int | None = None, max_retry: int | None = 3) -> None:
    """Run ``trials`` trials of the study: each calls ``objective(trial, **objective_args)`` and records the worker."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    objective_args = objective_args or {}
    study = optuna.load_study(
        study_name=study_name,
        storage=open_storage(storage, heartbeat_interval=heartbeat_interval, grace_period=grace_period,
                             max_retry=max_retry),
        sampler=make_sampler(sampler, seed),
        pruner=optuna.pruners.NopPruner())          # every trial runs to its end: the pool counts trials

    def with_worker(trial):
        # a retried trial inherits its first try's attributes: overwrite them (the pid first: who reads
        # "worker" then finds this process's pid)
        trial.set_user_attr("pid", os.getpid())
        trial.set_user_attr("worker", worker)
        return objective(trial, **objective_args)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)   # fail_stale_trials, each trial
        study.optimize(with_worker, n_trials=trials)


def _numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


def _without_lists(argv: list[str]) -> list[str]:
    """The command line without its per-worker lists (--workers, --trials, --seeds and their values)."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--workers", "--trials", "--seeds"):
            skip = True
        else:
            kept.append(arg)
    return kept


def main(argv: list[str] | None = None) -> int:
    """Run the workers; print ``{"exit_codes": [...]}`` (one per worker) and exit with 1 if any failed.

    The objective is imported once, then each worker is a child process forked from this one (on
    Linux), so PyTorch and Optuna are imported once per machine, not once per worker (elsewhere each
    worker is a program of its own; one worker runs in this process). A worker that
    raises prints its traceback on stderr and exits with 1; one killed by a signal exits with minus it.
    """
    parser = argparse.ArgumentParser(description="Workers of a shared Optuna study.")
    parser.add_argument("objective", help="path/to/file.py:function or package.module:function")
    parser.add_argument("--storage", required=True, help="a journal file's path or a database URL")
    parser.add_argument("--study", required=True, help="the study's name (it must exist)")
    parser.add_argument("--trials", required=True, help="how many trials each worker runs: 8,8,7")
    parser.add_argument("--seeds", required=True, help="each worker's sampler seed: 11,12,13")
    parser.add_argument("--workers", required=True, help="each worker's index, recorded in its trials: 0,1,2")
    parser.add_argument("--args", default="{}", help="keyword arguments of the objective, as JSON")
    parser.add_argument("--sampler", choices=SAMPLERS, default="tpe")
    parser.add_argument("--heartbeat-interval", type=int, default=10)
    parser.add_argument("--grace-period", type=int, default=None)
    parser.add_argument("--max-retry", type=int, default=3, help="-1: retry a dead worker's trial forever")
    a = parser.parse_args(argv)
    objective = load_objective(a.objective)        # imports what the objective imports (PyTorch), once
    import optuna.storages  # noqa: F401           (Optuna too, before the fork)

    settings = dict(objective_args=json.loads(a.args), sampler=a.sampler, heartbeat_interval=a.heartbeat_interval,
                    grace_period=a.grace_period, max_retry=None if a.max_retry < 0 else a.max_retry)
    jobs = list(zip(_numbers(a.workers), _numbers(a.trials), _numbers(a.seeds)))
    if len(jobs) > 1 and not CAN_FORK:              # one program per worker, each importing for itself
        command = [sys.executable, "-c", "import runpy, sys; runpy.run_path(sys.argv.pop(1), run_name='__main__')",
                   __file__, *_without_lists(argv or sys.argv[1:])]
        programs = {worker: subprocess.Popen([*command, "--workers", str(worker), "--trials", str(trials),
                                              "--seeds", str(seed)]) for worker, trials, seed in jobs}
        codes = {worker: program.wait() for worker, program in programs.items()}
    else:
        children, codes = {}, {}
        for worker, trials, seed in jobs:
            pid = os.fork() if len(jobs) > 1 else 0    # one worker: this process is it
            if pid == 0:                            # the worker: its own storage connection, its own sampler
                code = 1
                try:
                    work(objective, a.storage, a.study, trials, seed=seed, worker=worker, **settings)
                    code = 0
                except BaseException:
                    traceback.print_exc()
                finally:
                    if len(jobs) > 1:
                        sys.stdout.flush()
                        sys.stderr.flush()
                        os._exit(code)
                codes[worker] = code
            else:
                children[pid] = worker
        while children:
            pid, status = os.wait()
            codes[children.pop(pid)] = os.waitstatus_to_exitcode(status)
    print(json.dumps({"exit_codes": [codes[worker] for worker, _, _ in jobs]}), flush=True)
    return 1 if any(codes.values()) else 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)          # skips the interpreter's teardown (a second with PyTorch loaded): nothing is left to close

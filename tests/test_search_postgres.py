"""Workers sharing one Optuna study on a real PostgreSQL server (Debian's, started here on 127.0.0.1).

A worker killed mid-trial (SIGKILL, while the database shows its trial RUNNING) loses nothing and
nothing is counted twice: once its heartbeat is older than the grace period the trial is marked
FAIL, its retry (the same parameters) runs, and the resumed study holds exactly the trials asked
for. A live trial that runs longer than the grace period keeps its heartbeat and is never failed.
The server's absence is a failure, not a skip: ``make install`` installs it.
"""
import functools
import math
import os
import signal
import time

import optuna
import pytest

from nnpractice import search
from postgres_server import PostgresServer, server_binaries

HEARTBEAT, GRACE = 1, 2            # seconds: a dead worker's trial is found within about 3 s

OBJECTIVE = '''
import time


def objective(trial, seconds, slow_number=-1, slow_seconds=0.0):
    """A known bowl (minimum 0 at x = 1) that takes ``seconds`` (trial ``slow_number``: ``slow_seconds``)."""
    x = trial.suggest_float("x", -4.0, 4.0)
    time.sleep(slow_seconds if trial.number == slow_number else seconds)
    return (x - 1.0) ** 2
'''


@pytest.fixture(scope="module")
def postgres():
    with PostgresServer() as server:
        yield server
    assert not server.folder.exists()


@pytest.fixture
def objective(tmp_path):
    path = tmp_path / "bowl.py"
    path.write_text(OBJECTIVE)
    return f"{path}:objective"


@functools.cache
def _reader(url):
    return optuna.storages.RDBStorage(url)         # one engine (and connection pool) for every look: no heartbeat


def _watch(url, study_name):
    return optuna.load_study(study_name=study_name, storage=_reader(url))


def _wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found is not None:
            return found
        time.sleep(0.02)
    raise AssertionError(f"not seen within {timeout} s")


def test_a_killed_worker_loses_no_trial_and_the_resumed_study_is_exact(postgres, objective):
    n_trials, settings = 9, dict(seed=0, objective_args={"seconds": 1.0}, heartbeat_interval=HEARTBEAT,
                                 grace_period=GRACE, timeout=120)
    with search.WorkerPool(objective, postgres.url, "killed", num_workers=3, n_trials=n_trials, **settings) as pool:
        assert pool.workers == [0, 1, 2]

        def second_trial_of_worker_0():
            # mid-study and mid-trial: worker 0 finished a trial and the database shows its next one RUNNING
            trials = [t for t in _watch(postgres.url, "killed").get_trials() if t.user_attrs.get("worker") == 0]
            done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
            running = [t for t in trials if t.state == optuna.trial.TrialState.RUNNING and "pid" in t.user_attrs
                       and "x" in t.params]            # inside the objective: its parameter drawn, now sleeping
            return running[0] if done and running else None

        victim = _wait_for(second_trial_of_worker_0)
        os.kill(victim.user_attrs["pid"], signal.SIGKILL)     # the process the database names
        killed_at = time.monotonic()
        first = pool.wait(check=False)
    assert first.exit_codes == [-signal.SIGKILL, 0, 0], first.exit_codes
    before = {t.number: t for t in first.trials}
    assert before[victim.number].state in ("RUNNING", "FAIL"), before[victim.number]   # FAIL if a live worker saw it go stale
    assert first.trials_per_worker()[1] == first.trials_per_worker()[2] == 3             # the others ran their shares

    time.sleep(max(0.0, killed_at + GRACE + HEARTBEAT + 0.5 - time.monotonic()))   # its heartbeat is now stale
    resumed = search.run_workers(objective, postgres.url, "killed", num_workers=2, n_trials=n_trials, **settings)
    trials = {t.number: t for t in resumed.trials}
    assert len(trials) == len(resumed.trials) == n_trials + 1, resumed.trials   # unique numbers; one extra: the retry
    assert trials[victim.number].state == "FAIL" and math.isnan(trials[victim.number].value)
    retries = [t for t in resumed.trials if t.retry_of is not None]
    assert [t.retry_of for t in retries] == [victim.number], retries
    assert retries[0].state == "COMPLETE" and retries[0].params == victim.params
    retry_pid = _watch(postgres.url, "killed").trials[retries[0].number].user_attrs["pid"]
    assert retry_pid != victim.user_attrs["pid"]                                   # a live process ran it
    states = [t.state for t in resumed.trials]
    assert states.count("COMPLETE") == n_trials and states.count("FAIL") == 1, states
    assert resumed.dead == {victim.number} and sum(resumed.trials_per_worker().values()) == n_trials
    # nothing counted twice: the values are those of the bowl at each trial's own x
    for t in resumed.trials:
        if t.state == "COMPLETE":
            assert t.value == pytest.approx((t.params["x"] - 1.0) ** 2)
    assert resumed.best_value == _watch(postgres.url, "killed").best_value
    # the same call again finds nothing missing and starts no worker
    again = search.run_workers(objective, postgres.url, "killed", num_workers=2, n_trials=n_trials, **settings)
    assert again.exit_codes == [] and len(again.trials) == n_trials + 1


def test_a_live_trial_longer_than_the_grace_period_keeps_its_heartbeat(postgres, objective):
    # trial 0 runs 2.5 grace periods; while it runs, the test looks for stale trials as a worker does
    settings = dict(heartbeat_interval=HEARTBEAT, grace_period=GRACE)
    with search.WorkerPool(objective, postgres.url, "heartbeat", num_workers=1, n_trials=2, seed=1, timeout=120,
                           objective_args={"seconds": 0.1, "slow_number": 0, "slow_seconds": 2.5 * GRACE},
                           **settings) as pool:
        study = optuna.load_study(study_name="heartbeat", storage=search.open_storage(postgres.url, **settings))
        slow = _wait_for(lambda: next((t for t in study.get_trials() if t.state.name == "RUNNING"), None))
        time.sleep(GRACE + HEARTBEAT + 0.5)      # older than the grace period, yet alive
        with pytest.warns(optuna.exceptions.ExperimentalWarning):
            optuna.storages.fail_stale_trials(study)
        assert study.get_trials()[slow.number].state.name == "RUNNING"
        run = pool.wait()
    assert run.trials[0].end - run.trials[0].start > 2 * GRACE
    assert [t.state for t in run.trials] == ["COMPLETE", "COMPLETE"] and not run.dead and run.exit_codes == [0]


def test_the_server_is_real_and_gone_after_stop(tmp_path):
    server = PostgresServer(database="probe").start()
    try:
        assert server.running()
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres dbname=probe") as connection:
            assert connection.execute("select 1 + 1").fetchone() == (2,)
    finally:
        server.stop()
    assert not server.folder.exists()


def test_a_missing_server_fails_loudly():
    with pytest.raises(RuntimeError, match="make install"):
        server_binaries("/nonexistent/postgresql/*/bin")
    assert (server_binaries() / "initdb").exists()

"""The sandbox that runs student notebooks (scripts/sandbox.py): it runs what it should and stops what it must.

Each test runs a tiny notebook of plain Python through ``run_notebook`` (one imports torch and nnpractice, to
prove a chapter can run) and checks the Outcome and the machine afterwards: what the notebook could read and
write, which processes are left, how long it took. Each attack is bounded (a fork bomb stops at 200 forks, a
memory hog at 3 GiB of untouched zeros), so a missing protection fails the test instead of the machine.
"""
from __future__ import annotations

import importlib.util
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from notebook_tools import ROOT

pytestmark = pytest.mark.slow

spec = importlib.util.spec_from_file_location("sandbox", ROOT / "scripts" / "sandbox.py")
sandbox = importlib.util.module_from_spec(spec)
sys.modules["sandbox"] = sandbox          # dataclasses look their module up by name
spec.loader.exec_module(sandbox)

MiB, GiB = 1024 ** 2, 1024 ** 3


def notebook(*cells: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])


def outputs(outcome, index: int) -> str:
    """Everything cell `index` printed, and its error if any, as one string."""
    cell = outcome.notebook.cells[index]
    return "".join(out["text"] if out["output_type"] == "stream" else f"{out.get('ename')}: {out.get('evalue')}"
                   for out in cell.outputs if out["output_type"] in ("stream", "error"))


def errors(outcome, index: int) -> list[str]:
    return [out["ename"] for out in outcome.notebook.cells[index].outputs if out["output_type"] == "error"]


def processes_of(uid: int) -> list[int]:
    """Host PIDs of every process running as `uid`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                found.append(int(entry.name))
        except FileNotFoundError:
            pass
    return found


def running(pid) -> bool:
    """Whether process `pid` runs (a zombie, dead and waiting for its new parent to reap it, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def sandbox_user(workdir: Path) -> int:
    """The user id the sandbox ran as (it owns the working copy); never ours, or the process check means nothing."""
    uid = workdir.stat().st_uid
    assert uid != os.getuid(), f"the sandbox ran as our own user id {uid}"
    return uid


# A detached child: double fork and setsid, holding the kernel's stdout, writing a heartbeat until killed.
DETACHED_CHILD = """
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        with open("heartbeat.txt", "a") as beat:
            while True:
                beat.write("alive\\n"); beat.flush(); time.sleep(0.1)
    os._exit(0)
time.sleep(1)
print("detached child started")
"""


def test_bubblewrap_is_available_here():
    ok, why = sandbox.sandbox_available()
    assert ok, f"the sandbox cannot run on this machine: {why} (bubblewrap is in the Makefile's SYSTEM_PACKAGES)"


def test_bad_arguments_are_refused_with_their_name(tmp_path):
    with pytest.raises(ValueError, match="memory=0"):
        sandbox.Limits(memory=0)
    with pytest.raises(ValueError, match="processes=1.5"):
        sandbox.Limits(processes=1.5)
    with pytest.raises(ValueError, match="cell_timeout=0"):
        sandbox.run_notebook(notebook("1"), tmp_path, env={}, cell_timeout=0)
    with pytest.raises(ValueError, match="total_timeout=-1"):
        sandbox.run_notebook(notebook("1"), tmp_path, env={}, total_timeout=-1)
    with pytest.raises(TypeError, match="env="):
        sandbox.run_notebook(notebook("1"), tmp_path, env={"SEED": 0})
    with pytest.raises(ValueError, match="readable="):
        sandbox.run_notebook(notebook("1"), tmp_path, env={}, readable=[tmp_path / "missing"])


def test_a_notebook_runs_errors_and_stderr_do_not_stop_it_and_nothing_outside_is_reachable(tmp_path):
    """One run: outputs come back, a cell error and stderr do not stop later cells, torch and nnpractice import,
    the limits are the ones asked for and the kernel is not root, nothing beside the working copy, in the
    repository or in /root can be read or written, there is no network, a detached child is dead when
    run_notebook returns, the model cache is a copy of the run's own, and very long output is cut short."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    beside = tmp_path / "solutions.txt"
    beside.write_text("the instructor's solutions")
    shared = tmp_path / "shared.txt"                      # bound read-only on request
    shared.write_text("data for everyone")
    in_repository = ROOT / "chapters" / "03_workflow.ipynb"
    in_root = Path("/root") / f".nnp-sandbox-test-{os.getpid()}"
    in_root.write_text("root's secret")
    server = socket.create_server(("127.0.0.1", 0))
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    targets = {"beside": str(tmp_path / "written.txt"), "repository": str(ROOT / "chapters" / "written.txt"),
               "library": str(Path(sandbox._library_folder()) / "written.txt"), "venv": f"{sys.prefix}/written.txt",
               "root": f"/root/written-{os.getpid()}.txt", "tmp": f"/tmp/nnp-sandbox-written-{os.getpid()}.txt",
               "readable": str(shared)}
    limits = sandbox.Limits(memory=7 * GiB, processes=200, file_size=300 * MiB, cpu_seconds=900, open_files=500)
    cache = tmp_path / "cache"                            # a model cache whose file only its owner may read
    (cache / "models").mkdir(parents=True)
    (cache / "models" / "model.pt").write_text("cached weights")
    (cache / "models" / "model.pt").chmod(0o600)
    try:
        outcome = sandbox.run_notebook(notebook(
            "print('hello from the sandbox')",
            "1 / 0",
            "import sys\nprint('a warning', file=sys.stderr)\nprint('after stderr')",
            "import torch, nnpractice\nprint('torch', torch.ones(3).sum().item(), 'nnpractice', nnpractice.__name__)",
            "import os, resource\nstatus = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines())\n"
            "print([resource.getrlimit(getattr(resource, 'RLIMIT_' + n))[0] for n in ('AS', 'NPROC', 'FSIZE', 'CPU', "
            "'NOFILE')] + [os.getuid(), int(status['CapEff'], 16), int(status['NoNewPrivs']), "
            "len([p for p in os.listdir('/proc') if p.isdigit()])])",
            "import json\nread = {}\n"
            f"for name, path in {{'beside': {str(beside)!r}, 'repository': {str(in_repository)!r}, 'root': {str(in_root)!r}, "
            f"'readable': {str(shared)!r}}}.items():\n"
            "    try:\n        read[name] = open(path).read()[:20]\n    except OSError as error:\n"
            "        read[name] = type(error).__name__\nprint(json.dumps(read))",
            f"import json\nwrote = {{}}\nfor name, path in {targets!r}.items():\n"
            "    try:\n        open(path, 'w').write('written from the sandbox')\n        wrote[name] = 'written'\n"
            "    except OSError as error:\n        wrote[name] = type(error).__name__\n"
            "open('inside.txt', 'w').write('mine')\nprint(json.dumps(wrote))",
            "import socket\ntry:\n"
            f"    socket.create_connection(('127.0.0.1', {server.getsockname()[1]}), timeout=3)\n"
            "    print('connected')\nexcept OSError as error:\n    print('refused', type(error).__name__)",
            DETACHED_CHILD,
            "from nnpractice.data import cache_dir\nprint(open(cache_dir() / 'models' / 'model.pt').read())\n"
            "written = (cache_dir() / 'models' / 'trained.pt').write_text('new weights')",
            "print('a' * 200_000 + 'b' * 200_000)",
        ), workdir, env={"NNPRACTICE_SEED": "0", "NNPRACTICE_CACHE": str(cache)}, limits=limits, cell_timeout=60,
            total_timeout=60, readable=[shared])
        uid = sandbox_user(workdir)
        assert processes_of(uid) == [], "a process of the sandbox outlived run_notebook"
        beats = (workdir / "heartbeat.txt").stat().st_size
        time.sleep(0.5)
        assert (workdir / "heartbeat.txt").stat().st_size == beats > 0, "the detached child ran on, or never ran"
    finally:
        in_root.unlink()
        server.close()
    assert (outcome.status, outcome.cell) == ("finished", None), (outcome.reason, outcome.log)
    assert outcome.seconds < 60
    assert outputs(outcome, 0) == "hello from the sandbox\n"
    assert errors(outcome, 1) == ["ZeroDivisionError"]
    assert errors(outcome, 2) == [] and "after stderr" in outputs(outcome, 2) and "a warning" in outputs(outcome, 2)
    assert "torch 3.0 nnpractice nnpractice" in outputs(outcome, 3)
    *rlimits, uid, capabilities, no_new_privileges, visible_processes = json.loads(outputs(outcome, 4))
    assert rlimits == [7 * GiB, 200, 300 * MiB, 900, 500]
    assert uid == sandbox_user(workdir) and capabilities == 0 and no_new_privileges == 1   # not root in any way
    assert visible_processes <= 4             # bwrap's init, the runner, the kernel: not the grader's or anyone's
    assert json.loads(outputs(outcome, 5)) == {"beside": "FileNotFoundError", "repository": "FileNotFoundError",
                                               "root": "FileNotFoundError", "readable": "data for everyone"}
    wrote = json.loads(outputs(outcome, 6))
    assert wrote.pop("tmp") == "written"                  # /tmp is the sandbox's own, in memory
    assert set(wrote.values()) <= {"PermissionError", "OSError", "FileNotFoundError"}, wrote
    assert shared.read_text() == "data for everyone"
    assert not any(Path(path).exists() for name, path in targets.items() if name != "readable"), \
        "the sandbox wrote outside its folder"
    assert (workdir / "inside.txt").read_text() == "mine"
    assert outputs(outcome, 7).startswith("refused") and accepted == []
    assert outputs(outcome, 8) == "detached child started\n"
    # the cache is the run's own copy: readable, writable, and the original unchanged
    assert outputs(outcome, 9) == "cached weights\n" and errors(outcome, 9) == []
    assert sorted(p.name for p in (cache / "models").iterdir()) == ["model.pt"]
    # very long output keeps its head and tail
    assert outputs(outcome, 10) == "a" * 50_000 + "\n... [300001 characters cut] ...\n" + "b" * 49_999 + "\n"


def test_a_kernel_that_kills_itself_is_reported_with_its_cell(tmp_path):
    outcome = sandbox.run_notebook(notebook("print('before')", "import os\nos.kill(os.getpid(), 9)",
                                            "print('never')"), tmp_path, env={}, total_timeout=60)
    assert (outcome.status, outcome.cell) == ("kernel died", 1), (outcome.reason, outcome.log)
    assert "signal 9" in outcome.reason
    assert outputs(outcome, 0) == "before\n"              # what ran before the crash is kept


def test_a_kernel_that_dies_of_a_failed_allocation_is_out_of_memory(tmp_path):
    # What a C++ allocation failure does to a process (PyTorch's, for one): its last words, then abort().
    outcome = sandbox.run_notebook(notebook("print('before')", "import os\nos.write(2, b\"terminate called after "
                                            "throwing an instance of 'std::bad_alloc'\\n\")\nos.abort()"),
                                   tmp_path, env={}, total_timeout=60)
    assert (outcome.status, outcome.cell) == ("out of memory", 1), (outcome.reason, outcome.log)
    assert outcome.reason == "out of memory (killed by signal 6 (SIGABRT))"


def test_a_kernel_that_kills_its_parent_is_reported_with_its_cell(tmp_path):
    outcome = sandbox.run_notebook(notebook("print('before')", "import os, time\nos.kill(os.getppid(), 9)\n"
                                            "time.sleep(30)", "print('never')"), tmp_path, env={}, total_timeout=60)
    assert (outcome.status, outcome.cell) == ("kernel died", 1), (outcome.reason, outcome.log)
    assert outcome.seconds < 30 and processes_of(sandbox_user(tmp_path)) == []


def test_memory_processes_and_file_size_are_limited(tmp_path):
    """A memory hog gets MemoryError (status "out of memory"), a fork bomb stops at the process limit, a file
    stops at the size limit, and the kernel survives all three."""
    limits = sandbox.Limits(memory=int(1.5 * GiB), processes=40, file_size=1 * MiB)
    outcome = sandbox.run_notebook(notebook(
        # zeros that are never touched: 3 GiB of address space but no memory, should the limit be missing
        "import numpy as np\nhog = []\nfor _ in range(3 * 64):\n    hog.append(np.zeros(16 * 2 ** 20, np.uint8))\n"
        "print('got 3 GiB: no limit')",
        "del hog\nimport os, time\nchildren = []\ntry:\n    for _ in range(200):\n        pid = os.fork()\n"
        "        if pid == 0:\n            time.sleep(120)\n            os._exit(0)\n        children.append(pid)\n"
        "    print('not stopped')\nexcept OSError as error:\n    print('stopped after', len(children), type(error).__name__)",
        "try:\n    with open('big.bin', 'wb') as f:\n        f.write(bytes(2 * 2 ** 20))\n    print('wrote 2 MiB')\n"
        "except OSError as error:\n    print('refused', error.strerror)",
        "print('still alive')",
    ), tmp_path, env={}, limits=limits, total_timeout=60)
    assert (outcome.status, outcome.cell) == ("out of memory", 0), (outcome.reason, outcome.log)
    assert [e[-11:] for e in errors(outcome, 0)] == ["MemoryError"] and outcome.cell_problems == {0: "out of memory"}
    stopped = outputs(outcome, 1).split()
    assert stopped[:2] == ["stopped", "after"] and int(stopped[2]) < 40, outputs(outcome, 1)
    assert outputs(outcome, 2) == "refused File too large\n"
    assert (tmp_path / "big.bin").stat().st_size <= 1 * MiB
    assert outputs(outcome, 3) == "still alive\n"
    assert processes_of(sandbox_user(tmp_path)) == []    # the forked children ended with the run


def test_the_cpu_time_limit_kills_a_kernel_that_spins(tmp_path):
    outcome = sandbox.run_notebook(notebook("print('before')", "while True:\n    pass"), tmp_path, env={},
                                   limits=sandbox.Limits(cpu_seconds=4), cell_timeout=120, total_timeout=60)
    assert (outcome.status, outcome.cell) == ("kernel died", 1), (outcome.reason, outcome.log)
    assert "CPU-time limit" in outcome.reason
    assert outcome.seconds < 60


def test_the_cell_timeout_interrupts_a_cell_and_the_run_goes_on(tmp_path):
    outcome = sandbox.run_notebook(notebook("import time\ntime.sleep(60)", "print('next cell ran')"),
                                   tmp_path, env={}, cell_timeout=3, total_timeout=60)
    assert (outcome.status, outcome.cell) == ("finished", None), (outcome.reason, outcome.log)
    assert outcome.cell_problems == {0: "ran past the 3 s cell limit and was interrupted"}
    assert "CellTimeoutError" in errors(outcome, 0)
    assert outputs(outcome, 1) == "next cell ran\n"
    assert outcome.seconds < 40


def test_the_total_timeout_stops_an_endless_loop_and_every_process(tmp_path):
    start = time.monotonic()
    outcome = sandbox.run_notebook(notebook(DETACHED_CHILD, "while True:\n    pass"), tmp_path, env={},
                                   cell_timeout=120, total_timeout=15)
    assert time.monotonic() - start < 18
    assert (outcome.status, outcome.cell) == ("timeout", 1), (outcome.reason, outcome.log)
    assert outcome.reason == "ran past the 15 s total limit"
    assert outputs(outcome, 0) == "detached child started\n"
    assert processes_of(sandbox_user(tmp_path)) == []


def test_without_the_sandbox_the_same_runner_runs_unprotected(tmp_path):
    workdir = tmp_path / "work"
    beside = tmp_path / "beside.txt"
    beside.write_text("readable without a sandbox")
    start = time.monotonic()
    outcome = sandbox.run_notebook(notebook("print('hello')", "1 / 0", f"print(open({str(beside)!r}).read())",
                                            "import os\nopen('kernel.pid', 'w').write(str(os.getpid()))\n"
                                            "while True:\n    pass"),
                                   workdir, env={}, sandbox=False, cell_timeout=120, total_timeout=15)
    assert time.monotonic() - start < 18
    assert (outcome.status, outcome.cell) == ("timeout", 3), (outcome.reason, outcome.log)
    assert not running((workdir / "kernel.pid").read_text()), "the kernel outlived the timeout"
    assert outputs(outcome, 0) == "hello\n" and errors(outcome, 1) == ["ZeroDivisionError"]
    assert outputs(outcome, 2) == "readable without a sandbox\n"
    assert (workdir / sandbox.RUN_DIR / "progress.json").exists()   # the runner's own files, as in the sandbox
    assert workdir.stat().st_uid == os.getuid()

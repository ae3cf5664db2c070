"""Run an untrusted notebook in a sandbox, one cell at a time, and say how it went.

    outcome = run_notebook(nb, workdir, env={"NNPRACTICE_SEED": "0"})
    outcome.status        # "finished", "timeout", "kernel died", "out of memory" or "failed"
    outcome.notebook      # the executed notebook (outputs of every cell that ran), or None

The notebook runs under Debian's bubblewrap (``bwrap``, the sandbox Flatpak uses) in new PID, network,
IPC, UTS and mount namespaces, as a user id of its own with no capabilities:

- it sees the system (/usr, /etc), the Python that runs this module, the ``nnpractice`` package folder,
  the runner script and `readable` paths, all read-only, `workdir`, writable, at its own path, and a
  small /tmp and /dev/shm of its own; nothing else: not the repository, the course folder, the
  submissions, $HOME or /root (the model cache and matplotlib's folder are copied into `workdir`);
- it has no network (its own loopback only);
- every process it starts, detached ``setsid`` children included, ends when the run ends: bwrap's init is
  the PID namespace's first process and exits with the runner (or is killed at the total timeout), and
  Linux kills a namespace whose first process is gone; any process left with the sandbox's user id is
  killed before run_notebook returns;
- rlimits (`Limits`) cap each process's memory, CPU time, file size and open files, and the number of
  processes of its user id, which is why that id is fresh for each run (root is exempt from that limit).

Inside, scripts/sandbox_runner.py runs the cells with nbclient and writes its progress, the executed
notebook and its result into ``workdir/_sandbox/``. Student code can write there too, so this module
reads those files as untrusted data: size-limited, never through a symlink. Output goes to a file, never
to a pipe a detached child could hold open. ``sandbox=False`` runs the same runner without bubblewrap
(the grader's ``--unsafe-no-sandbox``): same files and limits (but root ignores the process limit), none
of the isolation.
"""
from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

RUNNER = Path(__file__).resolve().with_name("sandbox_runner.py")
RUN_DIR = "_sandbox"                     # inside workdir: the runner's files, HOME and TMPDIR
GiB = 1024 ** 3
MAX_NOTEBOOK_BYTES = 64 * 1024 ** 2      # an executed notebook larger than this is not read back
MAX_JSON_BYTES = 1024 ** 2
LOG_TAIL_CHARS = 4000
TMPFS_BYTES = 64 * 1024 ** 2             # /tmp and /dev/shm inside: memory no rlimit counts, so kept small
# What a failed allocation prints on its way down (Python, NumPy, PyTorch, C++, glibc).
MEMORY_MARKERS = ("MemoryError", "Unable to allocate", "can't allocate memory", "Cannot allocate memory",
                  "std::bad_alloc", "out of memory")


@dataclass(frozen=True)
class Limits:
    """Resource limits of every process in the sandbox (rlimits, set with ``prlimit``).

    The defaults leave room for the book's heaviest chapters and stop what no chapter does. Measured in this
    sandbox (kernel peak address space / resident memory): chapter 01 2.13 / 0.93 GiB, 09 2.27 / 1.03,
    11 1.74 / 0.49 (with its worker processes), 12 2.40 / 1.21, 16 2.15 / 0.93; PyTorch maps far more than
    it touches, so the address-space limit sits well above. The limits are per process (the process count
    aside): a run that forks many large processes can use more in total; only a cgroup would cap that.
    """
    memory: int = 8 * GiB          # address space of one process (RLIMIT_AS), bytes
    processes: int = 256           # processes and threads of the sandbox's user id (RLIMIT_NPROC)
    file_size: int = 1 * GiB       # largest file a process may write (RLIMIT_FSIZE), bytes
    cpu_seconds: int = 1800        # CPU time of one process (RLIMIT_CPU), seconds
    open_files: int = 1024         # file descriptors of one process (RLIMIT_NOFILE)

    def __post_init__(self):
        for name in ("memory", "processes", "file_size", "cpu_seconds", "open_files"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} is not allowed: expected a positive integer")

    def prlimit(self) -> list[str]:
        """The ``prlimit`` command line that sets these limits and runs what follows.

        Soft = hard, except CPU time: its soft limit sends SIGXCPU, which names the cause where the hard
        limit's SIGKILL would not; the hard limit follows 5 s later for a process that ignores it.
        """
        return [shutil.which("prlimit") or "prlimit", f"--as={self.memory}", f"--nproc={self.processes}",
                f"--fsize={self.file_size}", f"--cpu={self.cpu_seconds}:{self.cpu_seconds + 5}",
                f"--nofile={self.open_files}", "--"]


@dataclass
class Outcome:
    """How one run went. Only `seconds` and a "timeout" are the grader's own observations; everything else
    came from files in the sandbox and may have been forged by student code (at most to its own harm).

    status: "finished" (every cell ran; cells may have raised), "out of memory" (a cell's allocation failed:
    the reason says whether the kernel survived it and the later cells ran), "kernel died", "timeout" (the
    total limit: everything was killed), "failed" (the runner could not start; see the log).
    """
    notebook: nbformat.NotebookNode | None   # the executed notebook, or None when none could be read
    status: str                             # "finished", "timeout", "kernel died", "out of memory", "failed"
    cell: int | None                        # index of the cell that was running when it went wrong
    reason: str                             # in words: "killed by signal 9 (SIGKILL)", "ran past the 60 s ..."
    seconds: float
    log: str                                # the tail of the runner's and the kernel's output
    cell_problems: dict[int, str] = field(default_factory=dict)   # cells interrupted or out of memory
    memory: dict[str, int] = field(default_factory=dict)          # the kernel's VmPeak and VmHWM, bytes


# ----------------------------------------------------------------------------- is a sandbox possible here?
_available: tuple[bool, str] | None = None


def sandbox_available() -> tuple[bool, str]:
    """``(True, what)`` when run_notebook can sandbox here, else ``(False, why not)``; checked once."""
    global _available
    if _available is None:
        _available = _probe()
    return _available


def _probe() -> tuple[bool, str]:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False, "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    for tool in ("setpriv", "prlimit"):
        if shutil.which(tool) is None:
            return False, f"{tool} is not installed (Debian/Ubuntu: it is in util-linux)"
    if os.geteuid() != 0:
        # Run as root, the sandbox gives each run a user id of its own, which the process limit needs.
        return False, "the sandbox needs root: it runs each submission as a fresh user id"
    try:
        with tempfile.TemporaryDirectory() as folder:
            probe = subprocess.run([*_sandboxed(Path(folder), (), _fresh_user(), None), "true"],
                                   capture_output=True, text=True, timeout=60)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        return False, f"bwrap cannot make a sandbox here: {error}"
    if probe.returncode != 0:
        return False, f"bwrap cannot make a sandbox here: {probe.stderr.strip()[-500:]}"
    version = subprocess.run([bwrap, "--version"], capture_output=True, text=True).stdout.strip()
    return True, f"{version} at {bwrap}"


# ----------------------------------------------------------------------------- what the sandbox sees
def _library_folder() -> Path:
    """The ``nnpractice`` package folder, found without importing it (and so without importing torch)."""
    spec = importlib.util.find_spec("nnpractice")
    if spec is None or spec.origin is None:
        raise RuntimeError("nnpractice is not installed in this Python: pip install -e . in the repository")
    return Path(spec.origin).resolve().parent


def _bwrap(workdir: Path, readable) -> list[str]:
    """The bubblewrap command line: what is visible, read-only or writable, and which namespaces are new."""
    cmd = [shutil.which("bwrap") or "bwrap",
           # No --unshare-user: as root, bwrap can then drop to a real user id of its own (setpriv, below).
           "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
           "--die-with-parent",              # the grader dies or kills us: the sandbox goes too
           "--new-session",                  # no TIOCSTI typing into the grader's terminal
           "--hostname", "sandbox",
           "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc",
           "--proc", "/proc", "--dev", "/dev",
           # small in-memory /tmp and /dev/shm (POSIX semaphores: multiprocessing's locks need it)
           "--perms", "1777", "--size", str(TMPFS_BYTES), "--tmpfs", "/tmp",
           "--perms", "1777", "--size", str(TMPFS_BYTES), "--tmpfs", "/dev/shm"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):       # merged /usr: these are links
        path = Path("/") / name
        if path.is_symlink():
            cmd += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            cmd += ["--ro-bind", str(path), str(path)]
    # The venv at the path it is reached by and where it resolves to (its python links into the base's).
    prefixes = (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)
    python = {Path(p) for p in prefixes} | {Path(p).resolve() for p in prefixes}
    bound, made = [Path("/usr"), Path("/etc")], {Path("/tmp")}   # bound: the host's contents show
    for path in sorted(python) + [_library_folder(), RUNNER] + [Path(p).resolve() for p in readable]:
        if not _inside(path, bound):
            cmd += [*_parents(path, bound, made), "--ro-bind", str(path), str(path)]
            bound.append(path)
    cmd += [*_parents(workdir, bound, made), "--bind", str(workdir), str(workdir), "--chdir", str(workdir)]
    return cmd


def _fresh_user() -> int:
    """A user id no account has, new for each run: the process limit then counts that run's processes only."""
    return 10_000_000 + secrets.randbelow(10_000_000)


def _sandboxed(workdir: Path, readable, user: int, info_fd: int | None) -> list[str]:
    """The command line that runs what follows in the sandbox, as `user`, without capabilities."""
    info = ["--info-fd", str(info_fd)] if info_fd is not None else []
    return [*_bwrap(workdir, readable), *info, "--", shutil.which("setpriv") or "setpriv",
            f"--reuid={user}", f"--regid={user}", "--clear-groups", "--"]


def _inside(path: Path, folders) -> bool:
    return any(path == f or f in path.parents for f in folders)


def _parents(path: Path, bound: list, made: set) -> list[str]:
    """Make `path`'s missing parent folders, world-readable (bwrap would make them 0700, root's only)."""
    cmd = []
    for parent in reversed(path.parents[:-1]):            # from the top, without "/"
        if not _inside(parent, bound) and parent not in made:
            cmd += ["--perms", "0755", "--dir", str(parent)]
            made.add(parent)
    return cmd


def _copy_in(source: str | None, target: Path) -> str | None:
    """Copy a cache folder into the run, readable and writable by the sandbox; None when there is none.

    A copy rather than a read-only bind: the sandbox's user id cannot read files saved with mode 0600
    (the model cache's), and the chapters save into these folders.
    """
    if not source or not Path(source).is_dir():
        return None
    shutil.copytree(source, target, symlinks=False, dirs_exist_ok=True)
    return str(target)


def _environment(env: dict, run_dir: Path) -> dict:
    """A small environment of our own (the grader's secrets stay out), then `env` on top."""
    home = run_dir / "home"
    out = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(home),
           "USER": "student", "LOGNAME": "student",    # the fresh user id has no name: getpass.getuser() reads these
           "TMPDIR": str(run_dir / "tmp"), "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
           "PYTHONDONTWRITEBYTECODE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    cache = env.get("NNPRACTICE_CACHE") or os.environ.get("NNPRACTICE_CACHE") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nnpractice")
    matplotlib = env.get("MPLCONFIGDIR") or os.environ.get("MPLCONFIGDIR")
    out.update({k: str(v) for k, v in env.items()})
    for name, source, target in (("NNPRACTICE_CACHE", cache, run_dir / "cache"),
                                 ("MPLCONFIGDIR", matplotlib, run_dir / "matplotlib")):
        copied = _copy_in(source, target)
        if copied:
            out[name] = copied
        else:
            out.pop(name, None)
    return out


# ----------------------------------------------------------------------------- reading what came back
def _read_untrusted(run_dir: Path, name: str, limit: int) -> str | None:
    """A file the sandbox wrote, if it is a regular file under `limit` bytes; never through a symlink."""
    try:
        folder = os.open(run_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    except OSError:
        return None
    finally:
        os.close(folder)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        return f.read(limit).decode("utf-8", errors="replace")


def _read_json(run_dir: Path, name: str) -> dict:
    text = _read_untrusted(run_dir, name, MAX_JSON_BYTES)
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _read_notebook(run_dir: Path) -> nbformat.NotebookNode | None:
    text = _read_untrusted(run_dir, "executed.ipynb", MAX_NOTEBOOK_BYTES)
    try:
        return nbformat.reads(text, as_version=4) if text else None
    except Exception:                    # anything that is not a notebook: there is no notebook
        return None


def _cell_index(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _exit_in_words(returncode: int) -> str:
    if returncode < 0:
        return f"killed by signal {-returncode}"
    if returncode > 128:                 # bwrap reports a child killed by a signal as 128 + signal
        return f"killed by signal {returncode - 128}"
    return f"exited with code {returncode}"


# ----------------------------------------------------------------------------- the run
def _run(command: list[str], environment: dict, workdir: Path, total_timeout: float,
         user: int | None, info) -> tuple[int, bool, float, str]:
    """Run `command` until it ends or `total_timeout` passes; then make sure every process of `user` is gone.

    `info` is the file bwrap writes ``{"child-pid": ...}`` to: its PID namespace's first process.
    Returns the exit code, whether it timed out, the seconds it took and the tail of its output.
    """
    start = time.monotonic()
    timed_out = False
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   cwd=workdir, env=environment, start_new_session=True, pass_fds=(info.fileno(),))
        try:
            returncode = process.wait(timeout=total_timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            info.seek(0)
            try:
                first = json.loads(info.read(1000) or b"{}").get("child-pid")
            except ValueError:
                first = None
            if isinstance(first, int) and _parent_of(first) == process.pid:
                # Killing the namespace's first process makes the kernel kill every other one in it, and
                # bwrap returns only once they are all gone.
                os.kill(first, signal.SIGKILL)
                try:
                    returncode = process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
            if process.poll() is None:          # no sandbox (or it would not die): the runner and its kernel
                doomed = [process.pid, *_descendants(process.pid)]
                for pid in doomed:
                    _kill(pid)
                _wait_until_dead(doomed)
            returncode = process.wait()
        if user is not None:
            _end_processes_of(user)
        seconds = time.monotonic() - start
        log.seek(0, os.SEEK_END)
        log.seek(max(0, log.tell() - 4 * LOG_TAIL_CHARS))
        log_tail = log.read().decode("utf-8", errors="replace")[-LOG_TAIL_CHARS:]
    return returncode, timed_out, seconds, log_tail


def _parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _wait_until_dead(pids: list[int], patience: float = 10) -> None:
    """A killed process takes a moment to end: wait until each is gone or a zombie (dead, not yet reaped)."""
    deadline = time.monotonic() + patience
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in "ZX":
                    break
            except (OSError, IndexError):
                break
            time.sleep(0.02)


def _processes() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _descendants(pid: int) -> list[int]:
    """Children, grandchildren, ... of `pid` (the kernel is in a session of its own, out of our group's reach)."""
    children = {}
    for child in _processes():
        children.setdefault(_parent_of(child), []).append(child)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _end_processes_of(user: int, patience: float = 10) -> None:
    """Wait until no process runs as `user` (the sandbox's own id), killing any that is left."""
    deadline = time.monotonic() + patience
    while True:
        left = []
        for pid in _processes():
            try:
                if Path(f"/proc/{pid}").stat().st_uid == user:
                    left.append(pid)
            except FileNotFoundError:
                pass
        if not left or time.monotonic() > deadline:
            return
        for pid in left:
            _kill(pid)
        time.sleep(0.05)


def run_notebook(nb, workdir, *, env: dict | None = None, limits: Limits = Limits(), cell_timeout: float = 60,
                 total_timeout: float = 600, sandbox: bool = True, readable=()) -> Outcome:
    """Execute notebook `nb` (a NotebookNode or dict) with `workdir` as its folder; return the Outcome.

    `env`: variables for the kernel on top of a small clean environment (paths in it are the same inside
    and out). `cell_timeout`: seconds one cell may run before it is interrupted (the next cell runs).
    `total_timeout`: seconds for the whole run, after which every process of the sandbox is killed.
    `readable`: extra paths the notebook may read (read-only). `sandbox=False`: no isolation at all.
    """
    for name, value in (("cell_timeout", cell_timeout), ("total_timeout", total_timeout)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name}={value!r} is not allowed: expected a positive number of seconds")
    if not isinstance(limits, Limits):
        raise TypeError(f"limits={limits!r} is not allowed: expected a sandbox.Limits")
    env = dict(env or {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise TypeError(f"env={env!r} is not allowed: expected a dict of str to str")
    readable = [Path(p) for p in readable]
    for path in readable:
        if not path.exists():
            raise ValueError(f"readable={str(path)!r} is not allowed: expected an existing path")
    if sandbox:
        ok, why = sandbox_available()
        if not ok:
            raise RuntimeError(f"cannot sandbox the notebook: {why}; pass sandbox=False to run it unprotected")

    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    run_dir = workdir / RUN_DIR
    if run_dir.is_symlink() or run_dir.is_file():
        run_dir.unlink()
    elif run_dir.exists():
        shutil.rmtree(run_dir)
    for folder in (run_dir, run_dir / "home", run_dir / "tmp"):
        folder.mkdir()
    nbformat.write(nbformat.from_dict(nb), str(run_dir / "input.ipynb"))
    environment = _environment(env, run_dir)

    command = [sys.executable, str(RUNNER), str(run_dir), f"{cell_timeout:g}"]
    user = None
    with tempfile.TemporaryFile() as info:
        if sandbox:
            user = _fresh_user()
            for folder, dirs, files in os.walk(workdir):         # the working copy becomes the sandbox's own
                for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
                    os.lchown(name, user, user)
            os.chmod(workdir, 0o700)
            command = [*_sandboxed(workdir, readable, user, info.fileno()), *command]
        returncode, timed_out, seconds, log_tail = _run([*limits.prlimit(), *command], environment, workdir,
                                                        total_timeout, user, info)

    return _outcome(run_dir, returncode, timed_out, seconds, log_tail, total_timeout)


def _outcome(run_dir: Path, returncode: int, timed_out: bool, seconds: float, log_tail: str,
             total_timeout: float) -> Outcome:
    """What happened, from the runner's files (untrusted) and how its process ended (trusted)."""
    result, progress = _read_json(run_dir, "result.json"), _read_json(run_dir, "progress.json")
    running = _cell_index(progress.get("cell"))
    problems = result.get("cell_problems") if isinstance(result.get("cell_problems"), dict) else {}
    cell_problems = {int(k): str(v)[:300] for k, v in problems.items() if str(k).isdigit()}
    memory = result.get("memory") if isinstance(result.get("memory"), dict) else {}
    memory = {str(k): v for k, v in memory.items() if isinstance(v, int)}

    if result.get("status") in ("finished", "kernel died", "out of memory"):
        status, cell, reason = result["status"], _cell_index(result.get("cell")), str(result.get("reason", ""))[:300]
    elif timed_out:
        status, cell, reason = "timeout", running, f"ran past the {total_timeout:g} s total limit"
    elif progress.get("state") == "running":
        # The runner itself is gone mid-cell: the kernel killed its parent, or was killed with it.
        status, cell, reason = "kernel died", running, f"the kernel's runner ended mid-cell ({_exit_in_words(returncode)})"
    else:
        status, cell, reason = "failed", running, f"the runner could not run the notebook ({_exit_in_words(returncode)})"
    if status == "kernel died" and any(m in log_tail for m in MEMORY_MARKERS):
        status, reason = "out of memory", f"out of memory ({reason})"
    return Outcome(_read_notebook(run_dir), status, cell, reason, seconds, log_tail, cell_problems, memory)

"""make compat: every chapter and the widget tests under the versions readers run (Colab's among them).

    python scripts/compat.py                      # every configuration of MATRIX, every chapter
    python scripts/compat.py --only colab --chapters 03 07
    python scripts/compat.py --report             # the matrix of the results stored so far, nothing run

Each configuration of :data:`MATRIX` gets a virtual environment of its own under ``.compat/<name>/``:
``requirements/ci.txt`` with the configuration's pins in place of CI's (the pins are a constraints file
too, so nothing pulls them elsewhere), then the library (``-e . --no-deps``). In it, every chapter runs top
to bottom in a fresh kernel (seed 0, ``NNPRACTICE_SCALE=cpu``, tests/notebook_runs.py's runner), and the
widget tests run with pytest. The installed versions are read back from the environment, not assumed.

The matrix (chapters x configurations, pass/fail and seconds) goes to ``_build/compat/matrix.md`` and is
printed; the script exits non-zero on any failure. A configuration that cannot be installed here is
reported as "not installable: <reason>" and counts as a failure, never as a pass. :data:`UNAVAILABLE`
lists builds this machine cannot get; each run asks pip for them again and says what it answered.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPAT_DIR = ROOT / ".compat"
RESULTS_DIR = ROOT / "_build" / "compat"
CI_REQUIREMENTS = ROOT / "requirements" / "ci.txt"
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
# The widget tests: the live playground through ipywidgets (its doctests too), and the page's JavaScript
# trainer held to PyTorch (it depends on the torch version, not on ipywidgets).
WIDGET_TESTS = ("tests/test_widgets.py", "tests/test_js_trainer.py", "tests/test_live_playground.py",
                "src/nnpractice/widgets")
INSTALL_TIMEOUT = 3600  # seconds: a CUDA build of torch and its nvidia-* wheels are several GB
CHAPTER_TIMEOUT = 1800  # seconds per chapter: far above the book's budget, a hang is still caught
TESTS_TIMEOUT = 1800
SEED = 0


@dataclass(frozen=True)
class Configuration:
    """One set of versions: a Python, and pins that replace CI's (``requirements/ci.txt``) for those packages."""

    name: str
    python: str  # "3.13": the interpreter the environment is made from
    pins: tuple[str, ...]  # exact "name==version" requirements
    why: str  # whose versions these are
    drop: tuple[str, ...] = ()  # packages of CI's set left out (the reason in a comment beside the configuration)

    def pinned(self, package: str) -> str | None:
        """The version this configuration pins ``package`` to, or None."""
        for pin in self.pins:
            name, version = pin.split("==")
            if canonical(name) == canonical(package):
                return version
        return None


# ipywidgets 7 needs widgetsnbextension 3.6 (8 brings 4.x) and ipython_genutils, which CI's set lacks.
WIDGETS_7 = ("ipywidgets==7.7.1", "widgetsnbextension==3.6.10", "ipython-genutils==0.2.0")
# Colab's runtime as its package list (googlecolab/backend-info, 2026-08-19) gives it: the kernel's stack (IPython 7,
# ipykernel 6, jupyter_client 7) and the libraries the chapters import. Its traitlets (5.7.1) cannot be had with the
# runner's nbclient (>=5.13), and nbgrader (the grader's, not the chapters') needs IPython 8: left out.
COLAB = ("torch==2.11.0", *WIDGETS_7, "numpy==2.1.3", "ipykernel==6.17.1", "ipython==7.34.0", "jupyter-client==7.4.9",
         "matplotlib==3.10.0", "scikit-learn==1.6.1", "scipy==1.16.3", "scikit-image==0.25.2", "pillow==11.3.0")
MATRIX = (
    Configuration("colab", "3.13", COLAB,
                  "Colab's runtime (Python 3.13, torch 2.11, ipywidgets 7.7.1, numpy 2.1.3, IPython 7, ipykernel 6, "
                  "its matplotlib, scikit-learn, scipy, scikit-image); PyPI's torch is its CUDA build, run on the CPU",
                  drop=("nbgrader",)),
    Configuration("torch-2.12", "3.12", ("torch==2.12.1", "ipywidgets==8.1.9", "numpy==2.5.5"),
                  "the torch minor between Colab's and CI's, and the newest numpy (2.5 needs Python 3.12)"),
    Configuration("widgets-7", "3.11", ("torch==2.13.0", *WIDGETS_7, "numpy==2.1.3"),
                  "CI's torch (the CPU wheel from local disk) with Colab's ipywidgets and numpy"),
    Configuration("torch-2.14", "3.11", ("torch==2.14.1", "ipywidgets==8.1.9", "numpy==2.4.6"),
                  "the newest torch this machine installs (its CUDA build from local disk, on the CPU)"),
)
# Builds this machine cannot get. Each run asks pip again (one quick download attempt each) and reports
# its answer, so the list cannot outlive the reason.
UNAVAILABLE = (
    ("torch 2.11.0 CPU-only build (Colab's +cpu)", "3.13",
     ["torch==2.11.0+cpu", "--index-url", "https://download.pytorch.org/whl/cpu"]),
)


def canonical(name: str) -> str:
    """A package name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(line: str) -> str | None:
    """The package a requirements line names, or None for comments, blank lines and options."""
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return None
    return canonical(re.split(r"[\s=<>!~;\[]", line, maxsplit=1)[0])


def requirements_text(config: Configuration, ci_text: str | None = None) -> str:
    """CI's requirements with every line for a pinned package replaced by the configuration's pin."""
    ci_text = CI_REQUIREMENTS.read_text() if ci_text is None else ci_text
    overridden = {canonical(pin.split("==")[0]) for pin in config.pins} | {canonical(name) for name in config.drop}
    kept = [line for line in ci_text.splitlines() if requirement_name(line) not in overridden]
    return "\n".join([f"# make compat, configuration {config.name}: requirements/ci.txt with its pins", *kept,
                      f"# the pins of {config.name}", *config.pins]) + "\n"


def constraints_text(config: Configuration) -> str:
    """The configuration's pins as a pip constraints file (no dependency may move them)."""
    return "\n".join(config.pins) + "\n"


def by_name(names) -> list[Configuration]:
    """The configurations named (all of MATRIX for None), or a clear error."""
    if not names:
        return list(MATRIX)
    known = {c.name: c for c in MATRIX}
    for name in names:
        if name not in known:
            raise ValueError(f"--only {name!r} is not allowed: expected a configuration of MATRIX, one of "
                             + ", ".join(repr(n) for n in known))
    return [known[n] for n in names]


def chapters_named(names) -> list[Path]:
    """The chapters named by number ('03') or stem (every chapter for None), or a clear error."""
    if not names:
        return list(CHAPTERS)
    chosen = []
    for name in names:
        matches = [p for p in CHAPTERS if p.stem == name or (name.isdigit() and p.stem.startswith(f"{int(name):02d}_"))]
        if not matches:
            raise ValueError(f"--chapters {name!r} is not allowed: expected a chapter number or stem, one of "
                             + " ".join(p.stem[:2] for p in CHAPTERS))
        chosen += matches
    return chosen


# --------------------------------------------------------------------------- environments
class NotInstallable(Exception):
    """The configuration cannot be installed on this machine (the message says why)."""


def find_python(version: str) -> Path:
    """An interpreter of Python ``version`` on this machine (pyenv's, else one on PATH)."""
    candidates = sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python"))
    on_path = shutil.which(f"python{version}")
    candidates += [Path(on_path)] if on_path else []
    for candidate in candidates:
        found = subprocess.run([str(candidate), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True)
        if found.returncode == 0 and found.stdout.strip() == version:
            return candidate
    raise NotInstallable(f"no Python {version} on this machine (looked in ~/.pyenv/versions and PATH)")


def pip_error(output: str) -> str:
    """pip's reason, short: its ERROR lines (or the last line), pip's noise about missing index folders left out."""
    lines = [line.strip() for line in output.splitlines()
             if line.strip() and "is ignored: it is neither a file nor a directory" not in line]
    errors = [line for line in lines if line.startswith("ERROR")]
    if "The conflict is caused by:" in lines:  # the requirements that clash, as pip names them
        errors[1:1] = lines[lines.index("The conflict is caused by:") + 1:][:3]
    return " ".join(errors[:4] or lines[-1:])[:500] or "pip failed without a message"


def environment(config: Configuration, log) -> Path:
    """The configuration's virtual environment, built (or reused while its inputs are unchanged); its python."""
    home = COMPAT_DIR / config.name
    venv = home / "venv"
    python = venv / "bin" / "python"
    requirements, constraints = home / "requirements.txt", home / "constraints.txt"
    wanted = requirements_text(config) + constraints_text(config) + config.python
    key = hashlib.sha256(wanted.encode()).hexdigest()
    stamp = home / "installed"
    if python.exists() and stamp.exists() and stamp.read_text() == key:
        log(f"{config.name}: reusing {venv.relative_to(ROOT)}")
        return python
    base = find_python(config.python)
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    requirements.write_text(requirements_text(config))
    constraints.write_text(constraints_text(config))
    steps = [
        [str(base), "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "-r", str(requirements), "-c", str(constraints)],
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "-e", str(ROOT)],
    ]
    for step in steps:
        log(f"{config.name}: {' '.join(Path(a).name if a.startswith('/') else a for a in step)}")
        done = subprocess.run(step, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, cwd=ROOT)
        (home / "install.log").open("a").write(f"$ {' '.join(step)}\n{done.stdout}{done.stderr}\n")
        if done.returncode != 0:
            raise NotInstallable(pip_error(done.stdout + done.stderr))
    stamp.write_text(key)
    return python


VERSIONS = """\
import importlib.metadata as m, json, platform
names = ["torch", "ipywidgets", "numpy", "ipykernel", "ipython", "widgetsnbextension", "matplotlib", "scikit-learn"]
versions = {n: m.version(n) for n in names}
import torch
versions["python"] = platform.python_version()
versions["torch build"] = "CUDA " + torch.version.cuda if torch.version.cuda else "CPU"
print(json.dumps(versions))
"""


def installed_versions(python: Path, config: Configuration) -> dict:
    """The versions the environment holds, read back from it; a pin it does not hold is an error."""
    done = subprocess.run([str(python), "-c", VERSIONS], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise NotInstallable(f"the environment does not import: {done.stderr.strip().splitlines()[-1:]}")
    versions = json.loads(done.stdout)
    for package in ("torch", "ipywidgets", "numpy"):
        pinned = config.pinned(package)
        if pinned is not None and versions[package].split("+")[0] != pinned:
            raise NotInstallable(f"{package}=={pinned} pinned but {versions[package]} installed")
    return versions


def probe_unavailable(log) -> list[dict]:
    """Ask for each build of UNAVAILABLE once more (its index, then pip); what the answer was."""
    answers = []
    for what, version, arguments in UNAVAILABLE:
        index = arguments[arguments.index("--index-url") + 1]
        try:
            urllib.request.urlopen(index, timeout=10).close()
        except OSError as error:  # DNS, refused, HTTP errors: the index is out of reach
            answer = f"{urllib.parse.urlsplit(index).hostname} cannot be reached from here ({error})"
        else:
            try:
                python = find_python(version)
            except NotInstallable as error:
                answers.append({"what": what, "available": False, "answer": str(error)})
                continue
            target = COMPAT_DIR / "probe"
            # only that index: the local wheel folders and constraints of this machine's pip settings left out
            done = subprocess.run([str(python), "-m", "pip", "download", "--no-deps", "-q", "--timeout", "10",
                                   "--retries", "0", "-d", str(target), *arguments], capture_output=True, text=True,
                                  timeout=1800, env={**os.environ, "PIP_CONFIG_FILE": os.devnull})
            shutil.rmtree(target, ignore_errors=True)
            answer = "pip downloaded it: add a configuration" if done.returncode == 0 else pip_error(done.stderr)
        answers.append({"what": what, "available": answer.startswith("pip downloaded"), "answer": answer})
        log(f"probe: {what}: {answer}")
    return answers


def setup_cell_changes(python: Path) -> list[str]:
    """What installing this library (as a chapter's setup cell does on Colab) would change in the environment.

    pip's dry run of ``pip install <this checkout>``: every package it would install or replace, other than the
    library itself. Empty means the setup cell leaves the environment's torch, numpy and ipywidgets alone.
    """
    done = subprocess.run([str(python), "-m", "pip", "install", "--dry-run", "--quiet", "--report", "-", str(ROOT)],
                          capture_output=True, text=True, timeout=900, cwd=ROOT)
    if done.returncode != 0:
        return [f"pip's dry run failed: {pip_error(done.stderr)}"]
    report = json.loads(done.stdout)
    return sorted(f"{item['metadata']['name']} {item['metadata']['version']}" for item in report["install"]
                  if canonical(item["metadata"]["name"]) != "nnpractice")


# --------------------------------------------------------------------------- runs
def run_environment(config: Configuration) -> dict:
    """The variables of the configuration's runs: CPU-sized chapters, one thread, its own matplotlib cache."""
    venv = COMPAT_DIR / config.name / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(NNPRACTICE_SCALE="cpu", OMP_NUM_THREADS="1", PYDEVD_DISABLE_FILE_VALIDATION="1",
               MPLCONFIGDIR=str(COMPAT_DIR / config.name / "matplotlib"), VIRTUAL_ENV=str(venv),
               PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    return env


def run_chapter(python: Path, config: Configuration, chapter: Path) -> dict:
    """One chapter top to bottom in the configuration's environment (a kernel of its own)."""
    start = time.perf_counter()
    try:
        done = subprocess.run([str(python), str(Path(__file__).resolve()), "--execute", str(chapter)],
                              capture_output=True, text=True, timeout=CHAPTER_TIMEOUT, cwd=ROOT,
                              env=run_environment(config))
    except subprocess.TimeoutExpired:
        return {"ok": False, "seconds": time.perf_counter() - start, "error": f"timed out after {CHAPTER_TIMEOUT} s"}
    seconds = time.perf_counter() - start
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"ok": False, "seconds": seconds, "error": tail[:300]}
    result = json.loads(lines[-1])
    if result["ok"] and Path(result["kernel"]).parent != python.parent:
        result = {"ok": False, "error": f"the kernel ran {result['kernel']}, not the environment's python"}
    return {**result, "seconds": seconds}


def run_widget_tests(python: Path, config: Configuration) -> dict:
    """The widget tests under pytest in the configuration's environment."""
    start = time.perf_counter()
    command = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--doctest-modules", *WIDGET_TESTS]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TESTS_TIMEOUT, cwd=ROOT,
                              env=run_environment(config))
    except subprocess.TimeoutExpired:
        return {"ok": False, "seconds": time.perf_counter() - start, "error": f"timed out after {TESTS_TIMEOUT} s"}
    summary = [line for line in done.stdout.splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
    summary = summary[-1].strip("= ") if summary else (done.stdout + done.stderr).strip().splitlines()[-1:]
    if done.returncode != 0:
        failed = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
        (COMPAT_DIR / config.name / "widget-tests.log").write_text(done.stdout + done.stderr)
        return {"ok": False, "seconds": time.perf_counter() - start,
                "error": f"{summary}: {'; '.join(failed[:3])}"[:400]}
    return {"ok": True, "seconds": time.perf_counter() - start, "summary": summary}


def execute(chapter: Path) -> None:
    """Inside an environment: run one chapter as the tests do and print one JSON line (``--execute``)."""
    sys.path.insert(0, str(ROOT / "tests"))
    import nbformat
    from nbclient.exceptions import CellExecutionError

    from notebook_runs import chapter_kernel

    with chapter_kernel(chapter, SEED) as kernel:
        try:
            kernel.run_all()
        except CellExecutionError as error:
            lines = [line for line in str(error).splitlines() if line.strip()]
            print(json.dumps({"ok": False, "error": (lines[-1] if lines else "a cell failed")[:300]}))
            return
        # which interpreter ran the kernel: the environment's own, or the matrix would say nothing
        cell = nbformat.v4.new_code_cell("import sys; print(sys.executable)")
        kernel.nb.cells.append(cell)
        kernel.client.execute_cell(cell, len(kernel.nb.cells) - 1, store_history=False)
        printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream").strip()
        print(json.dumps({"ok": True, "kernel": printed, "kernel_seconds": kernel.seconds}))


def run_configuration(config: Configuration, chapters: list[Path], log, save=lambda result: None) -> dict:
    """Install, read the versions back, run the widget tests and the chapters; the configuration's result.

    ``save(result)`` is called after every step, so an interrupted run leaves what it did.
    """
    result = {"name": config.name, "why": config.why, "pins": list(config.pins), "drop": list(config.drop),
              "commit": git_commit(),
              "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "chapters": {}}
    start = time.perf_counter()
    try:
        python = environment(config, log)
        result["install_seconds"] = time.perf_counter() - start
        result["versions"] = installed_versions(python, config)
    except (NotInstallable, subprocess.TimeoutExpired) as error:
        reason = str(error) if isinstance(error, NotInstallable) else f"install timed out after {INSTALL_TIMEOUT} s"
        log(f"{config.name}: NOT INSTALLABLE: {reason}")
        return {**result, "not_installable": reason}
    log(f"{config.name}: {json.dumps(result['versions'])}")
    result["setup_cell_changes"] = setup_cell_changes(python)
    log(f"{config.name}: installing the library would change: {result['setup_cell_changes'] or 'nothing'}")
    result["widget_tests"] = run_widget_tests(python, config)
    log(f"{config.name}: widget tests: {describe(result['widget_tests'])}")
    save(result)
    for chapter in chapters:
        result["chapters"][chapter.stem] = outcome = run_chapter(python, config, chapter)
        log(f"{config.name}: {chapter.stem}: {describe(outcome)}")
        save(result)
    result["seconds"] = time.perf_counter() - start
    save(result)
    return result


def git_commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                           text=True, cwd=ROOT).stdout.strip()
    return done.stdout.strip() + (" (working tree changed)" if dirty else "")


# --------------------------------------------------------------------------- the matrix
def describe(outcome: dict | None) -> str:
    if outcome is None:
        return "not run"
    if outcome["ok"]:
        extra = f" ({outcome['summary']})" if "summary" in outcome else ""
        return f"pass {outcome['seconds']:.0f} s{extra}"
    return f"**FAIL** {outcome['seconds']:.0f} s: {outcome['error']}"


def failures(result: dict) -> int:
    if "not_installable" in result:
        return 1
    outcomes = [result["widget_tests"], *result["chapters"].values()]
    return sum(not o["ok"] for o in outcomes)


def matrix_markdown(results: list[dict], probes: list[dict] | None = None) -> str:
    """Chapters (rows) x configurations (columns): pass/fail and seconds; versions as installed."""
    cell = lambda text: str(text).replace("|", "\\|").replace("\n", " ")
    head = "| | " + " | ".join(f"`{r['name']}`" for r in results) + " |"
    rows = [head, "|---" * (len(results) + 1) + "|"]

    def row(label, values):
        rows.append(f"| {label} | " + " | ".join(cell(v) for v in values) + " |")

    def version(r, key):
        return r.get("versions", {}).get(key, "—")

    for label, key in (("Python", "python"), ("torch", "torch"), ("torch build", "torch build"),
                       ("ipywidgets", "ipywidgets"), ("numpy", "numpy"), ("ipykernel", "ipykernel"),
                       ("IPython", "ipython"), ("matplotlib", "matplotlib"), ("scikit-learn", "scikit-learn")):
        row(label, [version(r, key) for r in results])
    row("install", [f"not installable: {r['not_installable']}" if "not_installable" in r
                    else f"{r['install_seconds']:.0f} s" for r in results])
    row("the setup cell's pip install would change", [
        ", ".join(r["setup_cell_changes"]) or "nothing" if "setup_cell_changes" in r else "—" for r in results])
    row("widget tests", [describe(r.get("widget_tests")) for r in results])
    stems = sorted({stem for r in results for stem in r["chapters"]})
    for stem in stems:
        row(stem, [describe(r["chapters"].get(stem)) if "not_installable" not in r else "—" for r in results])
    row("chapters' total", [f"{sum(o['seconds'] for o in r['chapters'].values()):.0f} s" for r in results])
    row("configuration's total", [f"{r['seconds']:.0f} s" if "seconds" in r else "—" for r in results])
    row("run at", [f"{r['date']}, {r['commit']}" for r in results])
    text = ["# make compat: chapters and widget tests by configuration", "",
            f"Seed {SEED}, NNPRACTICE_SCALE=cpu, one thread; seconds are wall time on this machine, "
            "kernel start included. Versions are read back from each environment.", "", *rows, ""]
    text += ["Configurations:", ""] + [f"- `{r['name']}`: {r['why']}; pins {', '.join(r['pins'])}"
                                       + (f"; without {', '.join(r['drop'])}" if r.get("drop") else "") for r in results]
    if probes:
        text += ["", "Not installable here (pip asked again in this run):", ""]
        text += [f"- {p['what']}: {p['answer']}" for p in probes]
    return "\n".join(text) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="configurations to run: " +
                        ", ".join(c.name for c in MATRIX))
    parser.add_argument("--chapters", nargs="+", metavar="NN", help="chapters by number or stem (default: all)")
    parser.add_argument("--report", action="store_true", help="print the matrix of the stored results only")
    parser.add_argument("--list", action="store_true", help="print the configurations and exit")
    parser.add_argument("--install-only", action="store_true", help="build the environments, run nothing")
    parser.add_argument("--execute", type=Path, help=argparse.SUPPRESS)  # inside an environment: one chapter
    args = parser.parse_args(argv)
    if args.execute:
        execute(args.execute.resolve())
        return 0
    try:
        configs, chapters = by_name(args.only), chapters_named(args.chapters)
    except ValueError as error:
        parser.error(str(error))
    if args.list:
        for c in MATRIX:
            print(f"{c.name:12} Python {c.python}  {' '.join(c.pins)}\n{'':12} {c.why}")
        return 0
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    if args.report:
        stored = [RESULTS_DIR / f"{c.name}.json" for c in configs]
        results = [json.loads(p.read_text()) for p in stored if p.exists()]
        missing = [c.name for c, p in zip(configs, stored) if not p.exists()]
        probes = RESULTS_DIR / "probes.json"
        text = matrix_markdown(results, json.loads(probes.read_text()) if probes.exists() else None)
        text += f"\nNever run: {', '.join(missing)}\n" if missing else ""
        (RESULTS_DIR / "matrix.md").write_text(text)
        print(text)
        return 1 if missing or any(failures(r) for r in results) else 0
    log = lambda message: print(f"[compat {time.strftime('%H:%M:%S')}] {message}", flush=True)
    if args.install_only:
        broken = []
        for config in configs:
            try:
                log(f"{config.name}: {json.dumps(installed_versions(environment(config, log), config))}")
            except NotInstallable as error:
                log(f"{config.name}: NOT INSTALLABLE: {error}")
                broken.append(config.name)
        return 1 if broken else 0
    start = time.perf_counter()
    results = []
    for config in configs:
        store = RESULTS_DIR / f"{config.name}.json"
        result = run_configuration(config, chapters, log, lambda r, store=store: store.write_text(json.dumps(r, indent=1)))
        store.write_text(json.dumps(result, indent=1))
        results.append(result)
    probes = probe_unavailable(log)
    (RESULTS_DIR / "probes.json").write_text(json.dumps(probes, indent=1))
    text = matrix_markdown(results, probes)
    (RESULTS_DIR / "matrix.md").write_text(text)
    print(text)
    failed = sum(failures(r) for r in results)
    not_installable = [r["name"] for r in results if "not_installable" in r]
    print(f"make compat: {len(configs)} configurations x {len(chapters)} chapters in "
          f"{time.perf_counter() - start:.0f} s; {failed} failed"
          + (f"; not installable here: {', '.join(not_installable)}" if not_installable else "")
          + f". Matrix: {(RESULTS_DIR / 'matrix.md').relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Release the chapters' exercises to students and grade what they hand back, in a sandbox, from plain data.

The chapter notebooks are nbgrader *source* notebooks: solution code sits between
``### BEGIN SOLUTION`` / ``### END SOLUTION`` and hidden tests between
``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``. An instructor needs two commands:

    python scripts/grading.py release [--students ids.txt]  # -> assignments/<chapter>/<chapter>.ipynb
    python scripts/grading.py grade submissions/            # -> grades/grades.csv, feedback/, report.txt, logs/

``make assignments`` and ``make grade SUBMISSIONS=dir`` call these.

How a submission is graded (book/instructors.md says what this guarantees and what it does not):

1. Only the contents of the submission's *solution cells* are used, matched by grade_id; they replace the
   solutions in the instructor's source notebook. Every other cell (setup, prose, visible and hidden tests)
   comes from the source; cells tagged ``not-graded`` (demonstrations no exercise needs) are left out.
2. That notebook runs in a sandbox (``scripts/sandbox.py``: bubblewrap, limits, no network) that sees none of
   the course folder, the submissions or the results. Its hidden tests *record* the answers of the student's
   functions as plain data (``nnpractice.answers``), into files.
3. The *reference* is the same notebook with the instructor's solutions, run the same way (once per
   assignment, once per student for chapters with per-student variants) and cached in the course folder.
4. Here, in the grader's process, where no student code ever runs, ``answers.judge`` compares each test
   cell's record with the reference: its points if nothing differs, else 0 and the differences as feedback.
5. Results are written to a temporary folder and renamed into place once every submission has ended; the
   scores also go into the course's nbgrader gradebook (for formgrader).

nbgrader still makes the student release (``generate_assignment``), defines the cell metadata, the collect
layout and the gradebook; it executes nothing at grading time.
"""
from __future__ import annotations

import argparse
import copy
import csv
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))        # sandbox.py sits beside this file
sys.path.insert(0, str(ROOT / "src"))            # nnpractice.answers, also without an installed library

import sandbox  # noqa: E402, I001
from nnpractice import answers  # noqa: E402, I001

CHAPTERS_DIR = ROOT / "chapters"
COURSE_DIR = ROOT / "_build" / "course"          # nbgrader course folder: source/, release/, gradebook.db
RELEASE_DIR = ROOT / "assignments"               # what students get
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")     # nnpractice's variant ids, the same rule
NOT_GRADED = "not-graded"                        # cell tag: a demonstration that no exercise needs
MAX_NOTEBOOK_BYTES = 32 * 2**20                  # a submitted notebook larger than this is refused unread
MAX_TEXT = 300                                   # characters of a kernel's error message kept for feedback
GRADING_SEED = "0"                               # the reference and every student run the same seed


# ----------------------------------------------------------------------------- the source notebooks
def _nbgrader(args: list[str], course: Path, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run ``nbgrader <args>`` on `course` in a process group of its own (release only: it runs no student code)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    cmd = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"]
    proc = subprocess.Popen(cmd, cwd=course, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        raise TimeoutError(out) from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, "")


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def chapter_notebooks(names: list[str] | None = None) -> list[Path]:
    """The chapter notebooks that hold exercises, optionally only those named (stem or number)."""
    found = []
    for path in sorted(CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb")):
        if names and not any(path.stem == n or path.stem.startswith(f"{n}_") for n in names):
            continue
        nb = nbformat.read(path, as_version=4)
        if any(_meta(c).get("grade") for c in nb.cells):
            found.append(path)
    if names and not found:
        raise ValueError(f"chapters={names!r} is not allowed: expected chapter numbers or names from "
                         f"{[p.stem for p in sorted(CHAPTERS_DIR.glob('[0-9][0-9]_*.ipynb'))]}")
    return found


def graded_cells(nb_or_path) -> list[tuple[str, float]]:
    """``(grade_id, points)`` of every autograded test cell of a source notebook, in order."""
    nb = nbformat.read(nb_or_path, as_version=4) if isinstance(nb_or_path, (str, Path)) else nb_or_path
    return [(_meta(c)["grade_id"], float(_meta(c).get("points", 0))) for c in nb.cells
            if c.cell_type == "code" and _meta(c).get("grade") and not _meta(c).get("solution")]


def solution_ids(nb) -> list[str]:
    """The grade_ids of the solution cells of a source notebook, in order."""
    return [_meta(c)["grade_id"] for c in nb.cells if c.cell_type == "code" and _meta(c).get("solution")]


def has_variants(nb) -> bool:
    """Whether a chapter gives each student a variant of its own (notebook metadata ``nnpractice.variants``)."""
    return nb.metadata.get("nnpractice", {}).get("variants") is True


# ----------------------------------------------------------------------------- release
SETUP_CALL = re.compile(r"nnpractice\.setup_notebook\((\s*\))?")


def with_variant(nb, student: str):
    """A copy of a student notebook whose setup call passes ``variant="<student>"`` (the grader's variant too)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code" and SETUP_CALL.search(cell.source):
            cell.source = SETUP_CALL.sub(lambda m: f'nnpractice.setup_notebook(variant="{student}"'
                                         + (")" if m.group(1) else ", "), cell.source, count=1)
            return nb
    raise ValueError("the notebook has no nnpractice.setup_notebook(...) call to give a variant to")


def read_students(path: Path) -> list[str]:
    """Student ids, one a line (blank lines and ``#`` comments skipped); bad or repeated ids are refused."""
    ids, seen = [], {}
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if not STUDENT_ID.match(line):
            raise ValueError(f"students={str(path)!r} line {number}: {line!r} is not allowed: expected a student id "
                             "of letters, digits, '_', '.', '-' (at most 64, starting with a letter or digit)")
        if line.lower() in seen:
            raise ValueError(f"students={str(path)!r} line {number}: {line!r} is not allowed: the same id as "
                             f"{seen[line.lower()]!r} (ids are compared ignoring case)")
        seen[line.lower()] = line
        ids.append(line)
    return ids


def release(chapters: list[str] | None = None, out_dir: Path = RELEASE_DIR, course: Path = COURSE_DIR,
            notebooks: list[Path] | None = None, students: list[str] | None = None) -> list[Path]:
    """Make the student version of each chapter with ``nbgrader generate_assignment``.

    Solutions become ``# YOUR CODE HERE`` stubs and hidden tests are removed. The course folder
    (``source/``, ``release/``, ``gradebook.db``) is kept for grading. Student notebooks go to
    ``out_dir/<chapter>/<chapter>.ipynb``; with `students`, a chapter with per-student variants gets one
    copy each instead, ``out_dir/<student>/<chapter>.ipynb``, whose setup call passes ``variant="<student>"``.
    `notebooks` releases those source notebooks instead of the chapters (the tests grade small ones).
    """
    if notebooks is None:
        notebooks = chapter_notebooks(chapters)
    elif chapters is not None:
        raise ValueError(f"chapters={chapters!r} is not allowed with notebooks=: expected one of the two")
    for student in students or ():
        if not isinstance(student, str) or not STUDENT_ID.match(student):
            raise ValueError(f"students=[..., {student!r}, ...] is not allowed: expected ids of letters, digits, "
                             "'_', '.', '-'")
    if course.exists():
        shutil.rmtree(course)
    (course / "source").mkdir(parents=True)
    for path in notebooks:
        folder = course / "source" / path.stem
        folder.mkdir()
        shutil.copy2(path, folder / path.name)
    for path in notebooks:
        result = _nbgrader(["generate_assignment", path.stem, "--force"], course)
        if result.returncode != 0:
            raise RuntimeError(f"nbgrader generate_assignment {path.stem} failed:\n{result.stdout}")
    released = []
    for path in notebooks:
        made = course / "release" / path.stem / path.name
        student_nb = nbformat.read(made, as_version=4)
        if students and has_variants(student_nb):
            for student in students:
                target = out_dir / student / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(with_variant(student_nb, student), target)
                released.append(target)
            continue
        target = out_dir / path.stem
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(course / "release" / path.stem, target)
        released.append(target / path.name)
    return released


# ----------------------------------------------------------------------------- finding submissions
@dataclass
class Submission:
    student: str
    assignment: str
    path: Path | None                      # None: not submitted
    notebook: object = None                # the parsed notebook (read once, size-limited)
    refused: str = ""                      # why it is not graded at all ("" = graded)
    scores: dict[str, float] = field(default_factory=dict)
    messages: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)   # what happened, for the feedback and the report
    status: str = "graded"
    seconds: float = 0.0
    log: str = ""                          # the sandbox's log tail, kept in logs/ for the instructor


def _walk(folder: Path):
    """Every entry under `folder` (symlinks not followed): ``(path, lstat)``."""
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in sorted(dirnames) + sorted(filenames):
            path = Path(dirpath) / name
            yield path, os.lstat(path)


def read_notebook(path: Path, max_bytes: int = MAX_NOTEBOOK_BYTES):
    """Parse a submitted notebook: ``(notebook, "")`` or ``(None, why it is refused)``; nothing is followed."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        return None, f"refused: cannot be opened ({error.strerror})"
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None, "refused: not a plain file"
        if info.st_size > max_bytes:
            return None, f"refused: {info.st_size} bytes, over the {max_bytes} byte limit"
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        return None, f"refused: over the {max_bytes} byte limit"
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # noqa: BLE001 - whatever fails to parse is "not a notebook"
        return None, f"not a notebook ({type(error).__name__})"
    return nb, ""


def find_submissions(root: Path, assignments: list[str], max_bytes: int = MAX_NOTEBOOK_BYTES
                     ) -> tuple[list[Submission], list[str]]:
    """Every (student, assignment) pair to grade, and a list of what was found but not used.

    Refused, never guessed: a student folder holding a symlink anywhere; two notebooks for one assignment
    (both layouts, or two copies); two folders whose ids differ only in case; a notebook over `max_bytes`
    or one that is not a notebook (graded 0 with the reason).
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"SUBMISSIONS={str(root)!r} is not allowed: expected a folder with one sub-folder per student")
    problems, found, refusals = [], {}, {}
    folders = {}
    for entry in sorted(root.iterdir()):
        info = os.lstat(entry)
        if stat.S_ISLNK(info.st_mode):
            problems.append(f"{entry.name}: refused, a symbolic link (a student folder must be a real folder)")
            if STUDENT_ID.match(entry.name):
                found[entry.name] = {}
                refusals[entry.name] = "refused: the student folder is a symbolic link"
            continue
        if not stat.S_ISDIR(info.st_mode):
            problems.append(f"{entry.name}: ignored, not a student folder")
            continue
        if not STUDENT_ID.match(entry.name):
            problems.append(f"{entry.name!r}: ignored, a student id is letters, digits, '_', '.', '-'")
            continue
        folders.setdefault(entry.name.lower(), []).append(entry.name)
        found[entry.name] = {}
        notebooks: dict[str, list[Path]] = {}
        for path, info in _walk(entry):
            relative = path.relative_to(entry)
            if stat.S_ISLNK(info.st_mode):
                refusals.setdefault(entry.name, f"refused: {entry.name}/{relative} is a symbolic link")
                problems.append(f"{entry.name}/{relative}: a symbolic link; {entry.name}'s submission is refused")
                continue
            if stat.S_ISDIR(info.st_mode) or ".ipynb_checkpoints" in relative.parts:
                continue
            if not stat.S_ISREG(info.st_mode):
                refusals.setdefault(entry.name, f"refused: {entry.name}/{relative} is not a plain file")
                problems.append(f"{entry.name}/{relative}: not a plain file; {entry.name}'s submission is refused")
                continue
            stem = path.name[:-len(".ipynb")] if path.name.endswith(".ipynb") else None
            in_place = len(relative.parts) == 1 or relative.parts[:-1] == (stem,)     # the two layouts
            if stem in assignments and in_place:
                notebooks.setdefault(stem, []).append(path)
            else:
                problems.append(f"{entry.name}/{relative}: ignored, not a chapter notebook "
                                f"(expected one of {', '.join(a + '.ipynb' for a in assignments)})")
        for stem, paths in notebooks.items():
            found[entry.name][stem] = paths
    for same in folders.values():
        if len(same) > 1:
            for name in same:
                refusals[name] = f"refused: two folders for one student ({', '.join(same)}); merge them into one"
            problems.append(f"{', '.join(same)}: refused, two folders whose ids differ only in case")
    handed_in = sorted({a for per in found.values() for a in per})
    subs = []
    for student in sorted(found):
        for assignment in handed_in:
            paths = found[student].get(assignment, [])
            sub = Submission(student, assignment, paths[0] if paths else None)
            if student in refusals:
                sub.refused = refusals[student]
            elif len(paths) > 1:
                listed = ", ".join(str(p.relative_to(root)) for p in paths)
                sub.refused = f"refused: {len(paths)} notebooks for {assignment} ({listed}); keep one"
                problems.append(f"{student}: {len(paths)} notebooks for {assignment} ({listed}): refused")
            elif paths:
                sub.notebook, sub.refused = read_notebook(paths[0], max_bytes)
            subs.append(sub)
    return subs, problems


# ----------------------------------------------------------------------------- the notebooks that run
def gradable(source) -> nbformat.NotebookNode:
    """The source notebook as grading runs it: ``not-graded`` cells left out, outputs cleared."""
    nb = copy.deepcopy(source)
    nb.cells = [c for c in nb.cells if NOT_GRADED not in c.get("metadata", {}).get("tags", [])]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def answers_of(submitted, solutions: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """The contents of the submission's solution cells by grade_id, and a note per answer that is not used.

    A solution cell missing from the submission, not a code cell, or present twice is an empty answer
    (never a guess between two).
    """
    cells: dict[str, list] = {}
    for cell in submitted.cells:
        grade_id = _meta(cell).get("grade_id")
        if grade_id in solutions:
            cells.setdefault(grade_id, []).append(cell)
    chosen, notes = {}, {}
    for grade_id in solutions:
        mine = cells.get(grade_id, [])
        if not mine:
            notes[grade_id] = f"the answer cell {grade_id} is missing from the submission: graded as empty"
        elif len(mine) > 1:
            notes[grade_id] = f"{len(mine)} cells carry the answer {grade_id}: neither is graded (keep one)"
        elif mine[0].cell_type != "code":
            notes[grade_id] = f"the answer cell {grade_id} is not a code cell: graded as empty"
        else:
            chosen[grade_id] = mine[0].source if isinstance(mine[0].source, str) else ""
    return chosen, notes


def with_answers(runnable, chosen: dict[str, str]):
    """`runnable` (from :func:`gradable`) with the student's answers in place of every solution."""
    nb = copy.deepcopy(runnable)
    for cell in nb.cells:
        if cell.cell_type == "code" and _meta(cell).get("solution"):
            cell.source = chosen.get(_meta(cell)["grade_id"], "")
    return nb


@dataclass
class Settings:
    cell_timeout: float = 60
    total_timeout: float = 600
    limits: object = None                  # sandbox.Limits; None: the sandbox's defaults (sized for a chapter)
    sandboxed: bool = True


@dataclass
class Run:
    records: dict[str, dict]               # grade_id -> record (answers.load), for the test cells that recorded
    unreadable: dict[str, str]             # grade_id -> why its record file was refused
    outcome: object                        # sandbox.Outcome
    seconds: float


def run(nb, variant: str, settings: Settings, scratch: Path) -> Run:
    """Execute `nb` in a fresh sandbox under `scratch`; read back the records it wrote, as untrusted data."""
    workdir = Path(tempfile.mkdtemp(prefix="run-", dir=scratch))
    try:
        answers_dir = workdir / "answers"
        answers_dir.mkdir()
        # the sandbox binds workdir at its own path, so the kernel writes its records where we read them
        env = {answers.ANSWERS_DIR_VARIABLE: str(answers_dir), "NNPRACTICE_SEED": GRADING_SEED,
               "NNPRACTICE_VARIANT": variant, "NNPRACTICE_SCALE": os.environ.get("NNPRACTICE_SCALE", "cpu"),
               "OMP_NUM_THREADS": "1"}
        start = time.perf_counter()
        outcome = sandbox.run_notebook(nb, workdir, env=env, limits=settings.limits or sandbox.Limits(),
                                       cell_timeout=settings.cell_timeout, total_timeout=settings.total_timeout,
                                       sandbox=settings.sandboxed)
        seconds = time.perf_counter() - start
        records, unreadable = {}, {}
        if answers_dir.is_dir() and not answers_dir.is_symlink():
            for grade_id, _ in graded_cells(nb):
                path = answers_dir / f"{grade_id}.json"
                if not os.path.lexists(path):
                    continue
                try:
                    records[grade_id] = answers.load(path)
                except answers.AnswerFormatError as error:
                    unreadable[grade_id] = str(error)
        return Run(records, unreadable, outcome, seconds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def reference(course: Path, source, assignment: str, variant: str, settings: Settings, scratch: Path
              ) -> tuple[dict, str]:
    """The instructor's records for `assignment` (and `variant`), run once and cached in the course folder.

    Returns ``(records, problem)``; `problem` is "" when the instructor's run recorded every test cell.
    """
    runnable = gradable(source)
    key = hashlib.sha256(json.dumps([nbformat.writes(runnable), variant, GRADING_SEED,
                                     os.environ.get("NNPRACTICE_SCALE", "cpu")]).encode()).hexdigest()[:20]
    cache = course / "references" / assignment / f"{variant or '_shared'}-{key}.json"
    if cache.exists():
        return json.loads(cache.read_text()), ""
    result = run(runnable, variant, settings, scratch)
    expected = [g for g, _ in graded_cells(runnable)]
    missing = [g for g in expected if not result.records.get(g)]
    if missing or result.outcome.status != "finished":
        why = f"{result.outcome.status}" + (f" ({result.outcome.reason})" if result.outcome.reason else "")
        return result.records, (f"the instructor's run of {assignment}" + (f" for {variant}" if variant else "")
                                + f" {why}; no answer recorded for {', '.join(missing) or 'none'}")
    cache.parent.mkdir(parents=True, exist_ok=True)
    temporary = cache.with_suffix(".tmp")
    temporary.write_text(json.dumps(result.records))
    os.replace(temporary, cache)
    return result.records, ""


# ----------------------------------------------------------------------------- scoring
def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 3] + "..."


def _errors(executed) -> dict[int, str]:
    """Cell index -> the error a cell raised in the student's kernel (a hint only, never a score)."""
    found = {}
    for index, cell in enumerate(getattr(executed, "cells", None) or []):
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if out.get("output_type") == "error":
                found[index] = _short(f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip(": "))
                break
    return found


def _exercise_of(runnable, index) -> int | None:
    """The number (1, 2, ...) of the exercise a cell belongs to: the first test cell at or after it."""
    tests = [i for i, c in enumerate(runnable.cells) if c.cell_type == "code" and _meta(c).get("grade")
             and not _meta(c).get("solution")]
    return next((k for k, i in enumerate(tests, start=1) if index is not None and i >= index), None)


def _where(runnable, index) -> str:
    """Where in the notebook cell `index` is, in words a student understands."""
    number = _exercise_of(runnable, index)
    if number:
        return f"exercise {number}"
    return "the run" if index is None or not graded_cells(runnable) else "a cell after the last exercise"


def _stopped(outcome, runnable) -> tuple[int | None, str]:
    """Where a run stopped early (the index of the cell it stopped in) and what happened, in words."""
    status = str(getattr(outcome, "status", "") or "")
    reason = _short(getattr(outcome, "reason", "") or "")
    cell = getattr(outcome, "cell", None)
    cell = cell if isinstance(cell, int) and not isinstance(cell, bool) and cell >= 0 else None
    if status == "finished" or status == "out of memory" and "survived" in reason:
        return None, ""
    where = _where(runnable, cell)
    if status == "timeout":
        what = f"{where} {reason or 'ran past the total time limit'}"
    elif status in ("kernel died", "out of memory"):
        what = f"the kernel died in {where}" + (f": {reason}" if reason else "")
    else:
        what = f"the run stopped in {where}: {_short(status)}" + (f" ({reason})" if reason else "")
    return (cell if cell is not None else 0), what


def _cell_problems(outcome, runnable) -> dict[int, str]:
    """Cells the sandbox interrupted or that ran out of memory while the kernel lived on, in words."""
    found = {}
    problems = getattr(outcome, "cell_problems", None) or {}
    for index, problem in problems.items() if isinstance(problems, dict) else ():
        if isinstance(index, int) and 0 <= index < len(runnable.cells):
            problem = _short(problem)
            found[index] = f"{_where(runnable, index)} " + (problem if problem.startswith("ran past")
                                                             else f"ran {problem}" if problem == "out of memory"
                                                             else f"had a problem: {problem}")
    return found


def score(sub: Submission, runnable, reference_records: dict, result: Run, answer_notes: dict[str, str]) -> None:
    """Fill in `sub`'s scores and messages: points where ``answers.judge`` finds nothing wrong, else 0."""
    points = dict(graded_cells(runnable))
    stopped_at, what = _stopped(result.outcome, runnable)
    if what:
        sub.notes.append(what)
    interrupted = _cell_problems(result.outcome, runnable)
    sub.notes += list(interrupted.values())
    errors = _errors(getattr(result.outcome, "notebook", None))
    index_of = {_meta(c).get("grade_id"): i for i, c in enumerate(runnable.cells) if _meta(c).get("grade_id")}
    solution_before, last = {}, None
    for cell in runnable.cells:
        grade_id = _meta(cell).get("grade_id")
        if _meta(cell).get("solution"):
            last = grade_id
        elif grade_id in points:
            solution_before[grade_id] = last
    for grade_id in points:
        messages = []
        if grade_id in result.unreadable:
            messages.append(f"the record of this test was refused: {result.unreadable[grade_id]}")
        problems = answers.judge(reference_records.get(grade_id) or {}, result.records.get(grade_id))
        sub.scores[grade_id] = points[grade_id] if not problems else 0.0
        if problems:
            late = stopped_at is not None and index_of[grade_id] >= stopped_at and not result.records.get(grade_id)
            messages += [what] if late else problems
            answer = solution_before.get(grade_id)
            if answer in answer_notes:
                messages.append(answer_notes[answer])
            if answer in index_of and index_of[answer] in errors:
                messages.append(f"your answer cell raised {errors[index_of[answer]]}")
            if index_of[grade_id] in errors:
                said = errors[index_of[grade_id]]
                # an assert's message may hold the expected value (a hidden test's rerun): only its kind is shown
                messages.append("an assert of the test cell failed" if said.startswith("AssertionError")
                                else f"the test cell said: {said}")
            exercise = _exercise_of(runnable, index_of[grade_id])
            messages += [p for i, p in interrupted.items() if _exercise_of(runnable, i) == exercise]
        sub.messages[grade_id] = messages
    if sub.notes:
        sub.status = "graded; " + "; ".join(sub.notes)


def grade_one(sub: Submission, source, settings: Settings, reference_records: dict, scratch: Path) -> Submission:
    """Grade one submission (its notebook already read and checked) against the instructor's records."""
    runnable = gradable(source)
    sub.scores = {grade_id: 0.0 for grade_id, _ in graded_cells(runnable)}
    if sub.path is None and not sub.refused:
        sub.status = "not submitted"
        return sub
    if sub.refused:
        sub.status = sub.refused
        return sub
    start = time.perf_counter()
    chosen, notes = answers_of(sub.notebook, solution_ids(runnable))
    sub.notes += [notes[g] for g in notes]
    variant = sub.student if has_variants(source) else ""          # the reference ran with the same variant
    result = run(with_answers(runnable, chosen), variant, settings, scratch)
    sub.log = str(getattr(result.outcome, "log", "") or "")
    score(sub, runnable, reference_records, result, notes)
    sub.seconds = time.perf_counter() - start
    return sub


def grade(submissions: Path, out_dir: Path, course: Path = COURSE_DIR, cell_timeout: float = 60,
          total_timeout: float = 600, jobs: int | None = None, chapters: list[str] | None = None,
          unsafe_no_sandbox: bool = False, limits=None, max_bytes: int = MAX_NOTEBOOK_BYTES) -> list[Submission]:
    """Grade every submission under `submissions`; write ``grades.csv``, ``feedback/``, ``report.txt``, ``logs/``.

    Refuses to run without the sandbox unless `unsafe_no_sandbox` (student code would run with your rights).
    """
    for name, value in (("cell_timeout", cell_timeout), ("total_timeout", total_timeout)):
        if not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name}={value!r} is not allowed: expected a positive number of seconds")
    jobs = max(1, os.cpu_count() or 1) if jobs is None else jobs
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs={jobs!r} is not allowed: expected a positive integer")
    available, why = sandbox.sandbox_available()
    if not available and not unsafe_no_sandbox:
        raise RuntimeError(f"grading refused: the sandbox cannot run ({why}). Without it every submission runs "
                           "with your rights and can read the solutions and rewrite the grades. Install "
                           "bubblewrap (apt-get install bubblewrap), or pass --unsafe-no-sandbox to grade anyway "
                           "(the report will say so).")
    settings = Settings(cell_timeout, total_timeout, limits, sandboxed=available and not unsafe_no_sandbox)
    if not (course / "gradebook.db").exists():
        release(chapters, course=course)
    assignments = sorted(p.name for p in (course / "source").iterdir() if p.is_dir())
    subs, problems = find_submissions(Path(submissions), assignments, max_bytes)
    start = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="nnpractice-grading-"))
    try:
        # read once, before any student code runs (in the unsafe mode a submission could rewrite them)
        sources = {a: nbformat.read(course / "source" / a / f"{a}.ipynb", as_version=4)
                   for a in {s.assignment for s in subs}}
        variants = {a: has_variants(nb) for a, nb in sources.items()}
        def which(sub):       # the reference a submission is judged against
            return sub.assignment, sub.student if variants[sub.assignment] else ""

        wanted = sorted({which(s) for s in subs if s.notebook is not None and not s.refused})
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            made = dict(zip(wanted, pool.map(
                lambda w: reference(course, sources[w[0]], w[0], w[1], settings, scratch), wanted)))
            problems[:0] = [f"INSTRUCTOR'S RUN FAILED: {problem}" for _, problem in made.values() if problem]
            graded = list(pool.map(lambda s: grade_one(s, sources[s.assignment], settings,
                                                       made.get(which(s), ({}, ""))[0], scratch), subs))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    header = [] if settings.sandboxed else [
        "UNSAFE: graded WITHOUT the sandbox (--unsafe-no-sandbox): student code ran with the grader's rights"
        + (f" ({why})" if not available else "")]
    points = {g: p for nb in sources.values() for g, p in graded_cells(nb)}
    write_results(graded, header + problems, points, Path(out_dir), time.perf_counter() - start)
    record_gradebook(graded, course)
    return graded


# ----------------------------------------------------------------------------- results
def write_results(subs: list[Submission], problems: list[str], points: dict[str, float], out_dir: Path,
                  seconds: float = 0.0) -> None:
    """Write the results into a temporary folder beside `out_dir`, then rename it into place."""
    out_dir = out_dir.absolute()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        _write_into(partial, subs, problems, points, seconds)
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            os.replace(out_dir, old / "results")
            os.replace(partial, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(partial, out_dir)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _write_into(folder: Path, subs: list[Submission], problems: list[str], points: dict[str, float],
                seconds: float) -> None:
    students = sorted({s.student for s in subs})
    with open(folder / "grades.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "exercise", "score", "max_score", "status"])
        for student in students:
            mine = [s for s in subs if s.student == student]
            for s in mine:
                for grade_id, got in s.scores.items():
                    writer.writerow([student, s.assignment, grade_id, f"{got:g}", f"{points[grade_id]:g}", s.status])
            total = sum(sum(s.scores.values()) for s in mine)
            maximum = sum(points[g] for s in mine for g in s.scores)
            writer.writerow([student, "", "total", f"{total:g}", f"{maximum:g}", ""])
    (folder / "feedback").mkdir()
    for student in students:
        lines = [f"# Feedback for {student}", ""]
        for s in (s for s in subs if s.student == student):
            lines += [f"## {s.assignment}: {sum(s.scores.values()):g} / {sum(points[g] for g in s.scores):g} points",
                      "", f"Status: {s.status}.", ""]
            for grade_id, got in s.scores.items():
                said = "; ".join(s.messages.get(grade_id, [])) or ("passed" if got == points[grade_id] else "")
                lines.append(f"- `{grade_id}`: {got:g} / {points[grade_id]:g}" + (f" — {said}" if said else ""))
            lines.append("")
        (folder / "feedback" / f"{student}.md").write_text("\n".join(lines))
    (folder / "logs").mkdir()
    for s in subs:
        if s.log:
            (folder / "logs" / f"{s.student}-{s.assignment}.log").write_text(s.log)
    report = [f"{s.student}/{s.assignment}: {s.status} ({sum(s.scores.values()):g} points, {s.seconds:.1f} s)"
              for s in subs]
    first = [p for p in problems if p.startswith(("UNSAFE", "INSTRUCTOR"))]   # on top, where nobody misses them
    lines = first + report + [p for p in problems if p not in first]
    (folder / "report.txt").write_text("\n".join(lines + [f"graded {len(subs)} submissions in {seconds:.1f} s"]) + "\n")


def record_gradebook(subs: list[Submission], course: Path) -> None:
    """Write the scores into the course's nbgrader gradebook (formgrader shows them); nbgrader runs nothing."""
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import SAWarning

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)      # nbgrader's add_submission warns about its own session
        for sub in subs:
            if sub.path is None and not sub.refused:
                continue
            gradebook.update_or_create_student(sub.student)
            gradebook.update_or_create_submission(sub.assignment, sub.student)
            for grade_id, got in sub.scores.items():
                try:
                    cell = gradebook.find_grade(grade_id, sub.assignment, sub.assignment, sub.student)
                except MissingEntry:
                    continue
                cell.auto_score, cell.manual_score = got, None
        gradebook.db.commit()


# ----------------------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="make the student notebooks")
    rel.add_argument("chapters", nargs="*", help="chapter numbers or names (default: all with exercises)")
    rel.add_argument("--out", type=Path, default=RELEASE_DIR)
    rel.add_argument("--students", type=Path, default=None,
                     help="a file of student ids, one a line: one copy each of the chapters with per-student variants")
    gr = sub.add_parser("grade", help="grade a folder of submissions")
    gr.add_argument("submissions", type=Path)
    gr.add_argument("--out", type=Path, default=ROOT / "grades")
    gr.add_argument("--cell-timeout", type=float, default=60, help="seconds one cell may run (default 60)")
    gr.add_argument("--total-timeout", type=float, default=600, help="seconds one submission may take (default 600)")
    gr.add_argument("--jobs", type=int, default=None, help="submissions graded at once (default: CPU count)")
    gr.add_argument("--unsafe-no-sandbox", action="store_true",
                    help="grade even where bubblewrap cannot run: student code then runs with YOUR rights")
    args = parser.parse_args(argv)
    if args.command == "release":
        students = read_students(args.students) if args.students else None
        paths = release(args.chapters or None, args.out, students=students)
        for path in paths:
            print(f"released {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        print(f"{len(paths)} student notebooks in {args.out}; nbgrader course folder (source, gradebook) in {COURSE_DIR}")
        return 0
    start = time.perf_counter()
    try:
        subs = grade(args.submissions, args.out, cell_timeout=args.cell_timeout, total_timeout=args.total_timeout,
                     jobs=args.jobs, unsafe_no_sandbox=args.unsafe_no_sandbox)
    except (RuntimeError, ValueError) as error:      # no sandbox, or a bad argument: say so, no traceback
        print(error, file=sys.stderr)
        return 2
    print((args.out / "report.txt").read_text(), end="")
    print(f"graded {len(subs)} submissions of {len({s.student for s in subs})} students in "
          f"{time.perf_counter() - start:.1f} s -> {args.out / 'grades.csv'}, {args.out / 'feedback'}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())

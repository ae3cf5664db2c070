"""Release the chapters' exercises to students and autograde what they hand back, with nbgrader.

The chapter notebooks are nbgrader *source* notebooks: solution code sits between
``### BEGIN SOLUTION`` / ``### END SOLUTION`` and hidden tests between
``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``. This script wraps nbgrader so an
instructor needs two commands and no course set-up:

    python scripts/grading.py release                      # -> assignments/<chapter>/<chapter>.ipynb
    python scripts/grading.py grade submissions/           # -> grades/grades.csv, grades/feedback/

``make assignments`` and ``make grade SUBMISSIONS=dir`` call these.

Submissions are found in either layout (the student id is the first folder):

    submissions/<student>/<chapter>.ipynb
    submissions/<student>/<chapter>/<chapter>.ipynb         (what ``nbgrader collect`` makes)

Each submission is graded in a course folder of its own, in a kernel of its own, with a
per-cell timeout and a total time limit; one that hangs, crashes, deletes cells or is not a
notebook scores 0 for what it breaks, is reported, and the others are graded all the same.
Student code runs with your rights: read book/instructors.md before grading untrusted work.
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS_DIR = ROOT / "chapters"
COURSE_DIR = ROOT / "_build" / "course"          # nbgrader course folder: source/, release/, gradebook.db
RELEASE_DIR = ROOT / "assignments"               # what students get
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


# ----------------------------------------------------------------------------- helpers
def _nbgrader(args: list[str], course: Path, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run ``nbgrader <args>`` on `course` in a process group of its own (so a timeout kills the kernel too)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("NNPRACTICE_SCALE", "cpu")
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


def chapter_notebooks(names: list[str] | None = None) -> list[Path]:
    """The chapter notebooks that hold exercises, optionally only those named (stem or number)."""
    found = []
    for path in sorted(CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb")):
        if names and not any(path.stem == n or path.stem.startswith(f"{n}_") for n in names):
            continue
        nb = nbformat.read(path, as_version=4)
        if any(c.get("metadata", {}).get("nbgrader", {}).get("grade") for c in nb.cells):
            found.append(path)
    if names and not found:
        raise ValueError(f"chapters={names!r} is not allowed: expected chapter numbers or names from "
                         f"{[p.stem for p in sorted(CHAPTERS_DIR.glob('[0-9][0-9]_*.ipynb'))]}")
    return found


def graded_cells(path: Path) -> list[tuple[str, float]]:
    """``(grade_id, points)`` of every autograded test cell of a source notebook, in order."""
    nb = nbformat.read(path, as_version=4)
    cells = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
            cells.append((meta["grade_id"], float(meta.get("points", 0))))
    return cells


# ----------------------------------------------------------------------------- release
def release(chapters: list[str] | None = None, out_dir: Path = RELEASE_DIR, course: Path = COURSE_DIR,
            notebooks: list[Path] | None = None) -> list[Path]:
    """Make the student version of each chapter with ``nbgrader generate_assignment``.

    Solutions become ``# YOUR CODE HERE`` stubs and hidden tests are removed. The course
    folder (``source/``, ``release/`` and ``gradebook.db``) is kept for grading; the
    student notebooks are copied to ``out_dir/<chapter>/<chapter>.ipynb``. `notebooks`
    releases those source notebooks instead of the chapters (the tests grade a small one of their own).
    """
    if notebooks is None:
        notebooks = chapter_notebooks(chapters)
    elif chapters is not None:
        raise ValueError(f"chapters={chapters!r} is not allowed with notebooks=: expected one of the two")
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
        target = out_dir / path.stem
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(course / "release" / path.stem, target)
        released.append(target / path.name)
    return released


# ----------------------------------------------------------------------------- grading
@dataclass
class Submission:
    student: str
    assignment: str
    path: Path | None                      # None: not submitted
    scores: dict[str, float] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    status: str = "graded"
    seconds: float = 0.0
    log: str = ""                          # nbgrader's output, kept in logs/ for the instructor


def find_submissions(root: Path, assignments: list[str]) -> tuple[list[Submission], list[str]]:
    """Every (student, assignment) pair to grade, and a list of what was found but not used."""
    problems, found = [], {}
    if not root.is_dir():
        raise ValueError(f"SUBMISSIONS={str(root)!r} is not allowed: expected a folder with one sub-folder per student")
    for student_dir in sorted(root.iterdir()):
        if not student_dir.is_dir():
            problems.append(f"{student_dir.name}: ignored, not a student folder")
            continue
        if not STUDENT_ID.match(student_dir.name):
            problems.append(f"{student_dir.name!r}: ignored, a student id is letters, digits, '_', '.', '-'")
            continue
        found.setdefault(student_dir.name, {})
        for path in sorted(student_dir.rglob("*")):
            if not path.is_file() or ".ipynb_checkpoints" in path.parts:
                continue
            stem = path.name[:-len(".ipynb")] if path.name.endswith(".ipynb") else None
            if stem in assignments:
                found[student_dir.name][stem] = path
            else:
                problems.append(f"{student_dir.name}/{path.relative_to(student_dir)}: ignored, not a chapter notebook "
                                f"(expected one of {', '.join(a + '.ipynb' for a in assignments)})")
    handed_in = sorted({a for per in found.values() for a in per})
    subs = [Submission(student, a, found[student].get(a)) for student in sorted(found) for a in handed_in]
    return subs, problems


def _error_of(cell) -> str:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            text = f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip()
            return text if len(text) < 300 else text[:297] + "..."
    return ""


def grade_one(sub: Submission, course: Path, cell_timeout: float, total_timeout: float) -> Submission:
    """Autograde one submission in a private copy of the course folder."""
    start = time.perf_counter()
    cells = graded_cells(course / "source" / sub.assignment / f"{sub.assignment}.ipynb")
    sub.scores = {grade_id: 0.0 for grade_id, _ in cells}
    if sub.path is None:
        sub.status = "not submitted"
        return sub
    try:
        nb = nbformat.read(sub.path, as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # noqa: BLE001 - any unreadable file is "not a notebook"
        sub.status = f"not a notebook ({type(error).__name__})"
        return sub
    present = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.cells}
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        work = Path(tmp)
        shutil.copytree(course / "source" / sub.assignment, work / "source" / sub.assignment)
        shutil.copy2(course / "gradebook.db", work / "gradebook.db")
        target = work / "submitted" / sub.student / sub.assignment
        target.mkdir(parents=True)
        nbformat.write(nb, target / f"{sub.assignment}.ipynb")
        try:  # autograde adds the student to the gradebook itself (Autograde.create_student)
            result = _nbgrader(["autograde", sub.assignment, "--student", sub.student, "--force",
                                f"--ExecutePreprocessor.timeout={int(cell_timeout)}"], work,
                               timeout=total_timeout)
        except TimeoutError:
            sub.status = f"timeout: stopped after the total limit of {total_timeout:g} s"
            sub.seconds = time.perf_counter() - start
            return sub
        sub.log = result.stdout
        graded = work / "autograded" / sub.student / sub.assignment / f"{sub.assignment}.ipynb"
        if result.returncode != 0 or not graded.exists():
            tail = " ".join(result.stdout.strip().splitlines()[-3:])[-300:]
            sub.status = f"error: nbgrader could not grade it ({tail})"
            sub.seconds = time.perf_counter() - start
            return sub
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{work / 'gradebook.db'}") as gradebook:
            notebook = gradebook.find_submission_notebook(sub.assignment, sub.assignment, sub.student)
            for grade in notebook.grades:
                if grade.name in sub.scores:
                    sub.scores[grade.name] = float(grade.score or 0.0)
        out = nbformat.read(graded, as_version=4)
        notes = []
        for number, cell in enumerate(out.cells, start=1):
            message = _error_of(cell)
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id in sub.scores and message:
                sub.messages[grade_id] = message
            if message.startswith("CellTimeoutError"):
                notes.append(f"cell {number} ran past {cell_timeout:g} s and was interrupted")
        timeouts = result.stdout.count("Timeout waiting for execute reply")
        if timeouts and not any("interrupted" in n for n in notes):
            notes.append(f"{timeouts} cell(s) ran past {cell_timeout:g} s and were interrupted")
        deleted = [g for g in sub.scores if g not in present]
        for grade_id in deleted:
            sub.messages[grade_id] = "this test cell was deleted from the submission: 0 points"
        if deleted:
            notes.append(f"deleted test cells {', '.join(deleted)} scored 0")
        if notes:
            sub.status = "graded; " + "; ".join(notes)
    sub.seconds = time.perf_counter() - start
    return sub


def grade(submissions: Path, out_dir: Path, course: Path = COURSE_DIR, cell_timeout: float = 60,
          total_timeout: float = 600, jobs: int | None = None, chapters: list[str] | None = None) -> list[Submission]:
    """Grade every submission under `submissions`; write ``grades.csv`` and ``feedback/<student>.md``."""
    for name, value in (("cell_timeout", cell_timeout), ("total_timeout", total_timeout)):
        if not value > 0:
            raise ValueError(f"{name}={value!r} is not allowed: expected a positive number of seconds")
    if not (course / "gradebook.db").exists():
        release(chapters)
    assignments = sorted(p.name for p in (course / "source").iterdir() if p.is_dir())
    subs, problems = find_submissions(Path(submissions), assignments)
    jobs = jobs or max(1, os.cpu_count() or 1)
    if jobs < 1:
        raise ValueError(f"jobs={jobs!r} is not allowed: expected a positive integer")
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        graded = list(pool.map(lambda s: grade_one(s, course, cell_timeout, total_timeout), subs))
    write_reports(graded, problems, course, Path(out_dir))
    return graded


def write_reports(subs: list[Submission], problems: list[str], course: Path, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    feedback_dir = out_dir / "feedback"
    if feedback_dir.exists():
        shutil.rmtree(feedback_dir)
    feedback_dir.mkdir()
    points = {}
    for a in {s.assignment for s in subs}:
        points.update(graded_cells(course / "source" / a / f"{a}.ipynb"))
    with open(out_dir / "grades.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "exercise", "score", "max_score", "status"])
        for student in sorted({s.student for s in subs}):
            mine = [s for s in subs if s.student == student]
            for s in mine:
                for grade_id, score in s.scores.items():
                    writer.writerow([student, s.assignment, grade_id, f"{score:g}", f"{points[grade_id]:g}", s.status])
            total = sum(sum(s.scores.values()) for s in mine)
            maximum = sum(points[g] for s in mine for g in s.scores)
            writer.writerow([student, "", "total", f"{total:g}", f"{maximum:g}", ""])
    for student in sorted({s.student for s in subs}):
        mine = [s for s in subs if s.student == student]
        lines = [f"# Feedback for {student}", ""]
        for s in mine:
            got = sum(s.scores.values())
            lines += [f"## {s.assignment}: {got:g} / {sum(points[g] for g in s.scores):g} points", "",
                      f"Status: {s.status}.", ""]
            for grade_id, score in s.scores.items():
                note = s.messages.get(grade_id, "passed" if score == points[grade_id] else "")
                lines.append(f"- `{grade_id}`: {score:g} / {points[grade_id]:g}" + (f" — {note}" if note else ""))
            lines.append("")
        (feedback_dir / f"{student}.md").write_text("\n".join(lines))
    logs_dir = out_dir / "logs"
    logs_dir.mkdir(exist_ok=True)
    for s in subs:
        if s.log:
            (logs_dir / f"{s.student}-{s.assignment}.log").write_text(s.log)
    report = [f"{s.student}/{s.assignment}: {s.status} ({sum(s.scores.values()):g} points, {s.seconds:.1f} s)"
              for s in subs] + problems
    (out_dir / "report.txt").write_text("\n".join(report) + "\n")


# ----------------------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="make the student notebooks")
    rel.add_argument("chapters", nargs="*", help="chapter numbers or names (default: all with exercises)")
    rel.add_argument("--out", type=Path, default=RELEASE_DIR)
    gr = sub.add_parser("grade", help="autograde a folder of submissions")
    gr.add_argument("submissions", type=Path)
    gr.add_argument("--out", type=Path, default=ROOT / "grades")
    gr.add_argument("--cell-timeout", type=float, default=60, help="seconds one cell may run (default 60)")
    gr.add_argument("--total-timeout", type=float, default=600, help="seconds one submission may take (default 600)")
    gr.add_argument("--jobs", type=int, default=None, help="submissions graded at once (default: CPU count)")
    args = parser.parse_args(argv)
    if args.command == "release":
        paths = release(args.chapters or None, args.out)
        for path in paths:
            print(f"released {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        print(f"{len(paths)} student notebooks in {args.out}; nbgrader course folder (source, gradebook) in {COURSE_DIR}")
        return 0
    start = time.perf_counter()
    subs = grade(args.submissions, args.out, cell_timeout=args.cell_timeout, total_timeout=args.total_timeout,
                 jobs=args.jobs)
    print((args.out / "report.txt").read_text(), end="")
    print(f"graded {len(subs)} submissions of {len({s.student for s in subs})} students in "
          f"{time.perf_counter() - start:.1f} s -> {args.out / 'grades.csv'}, {args.out / 'feedback'}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Instructor grading: the student release hides what it must, and autograding survives bad work.

The release is made for every chapter; the grading run uses chapter 01 (the quickest to
execute) with 30 generated submissions: a correct one, an incorrect one, one that loops
forever, one that raises, one that deletes a test cell, one that tampers with a test cell,
one that monkeypatches the comparisons, one that is not a notebook, and 21 random mixes of
right and wrong answers whose expected scores are computed here.
"""
from __future__ import annotations

import copy
import csv
import importlib.util
import random
import re
import sys

import nbformat
import pytest

from notebook_tools import CHAPTERS, ROOT, nbgrader, read, wrong_answers

pytestmark = pytest.mark.slow

spec = importlib.util.spec_from_file_location("grading", ROOT / "scripts" / "grading.py")
grading = importlib.util.module_from_spec(spec)
sys.modules["grading"] = grading          # dataclasses look their module up by name
spec.loader.exec_module(grading)

SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


def _distinctive_lines(regions: list[str], elsewhere: str) -> set[str]:
    """Lines of the hidden regions long enough to mean something, and not also in the visible text."""
    lines = set()
    for region in regions:
        for line in region.splitlines():
            line = line.strip()
            if len(line) >= 12 and not line.startswith("#") and line not in elsewhere:
                lines.add(line)
    return lines


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course folder and a student release of every chapter with exercises."""
    base = tmp_path_factory.mktemp("course")
    released = grading.release(None, out_dir=base / "assignments", course=base / "course")
    return base, released


def test_release_covers_every_chapter_with_exercises(course):
    _, released = course
    with_exercises = [p for p in CHAPTERS if any(nbgrader(c).get("grade") for c in read(p).cells)]
    assert with_exercises, "no chapter has exercises"
    assert sorted(p.stem for p in released) == sorted(p.stem for p in with_exercises)


def test_release_has_no_solution_code_and_no_hidden_tests(course):
    _, released = course
    for path in released:
        source = (ROOT / "chapters" / path.name).read_text()
        source_nb = read(ROOT / "chapters" / path.name)
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
        assert "BEGIN HIDDEN TESTS" not in text and "END HIDDEN TESTS" not in text
        cells = "\n".join(c.source for c in source_nb.cells)
        solutions = SOLUTION.findall(cells)
        hidden = HIDDEN.findall(cells)
        assert solutions and hidden, f"{path.name}: the source has no solutions or no hidden tests"
        visible = SOLUTION.sub("", HIDDEN.sub("", cells))
        secret = _distinctive_lines(solutions + hidden, visible)
        assert secret, f"{path.name}: nothing distinctive to look for"
        released_cells = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
        leaked = sorted(line for line in secret if line in released_cells)
        assert not leaked, f"{path.name} leaks: {leaked[:3]}"
        assert "YOUR CODE HERE" in released_cells
        assert source != text


# --------------------------------------------------------------------------- submissions
STEM = "01_gpus_tensors_batches"


def _submissions(course_dir, out, seed=0):
    """Write 30 submissions of chapter 01 under `out`; return {student: {grade_id: expected score}}."""
    source = read(ROOT / "chapters" / f"{STEM}.ipynb")
    release = nbformat.read(course_dir / "release" / STEM / f"{STEM}.ipynb", as_version=4)
    gid = lambda c: nbgrader(c).get("grade_id")
    solutions = {gid(c): c.source for c in source.cells if nbgrader(c).get("solution")}
    tests = [(gid(c), float(nbgrader(c)["points"])) for c in source.cells
             if nbgrader(c).get("grade") and not nbgrader(c).get("solution")]
    test_of = {s: t for s, (t, _) in zip(solutions, tests)}
    points = dict(tests)
    wrong = wrong_answers()

    def make(answers=None, drop=(), edit=None):
        nb = copy.deepcopy(release)
        for cell in nb.cells:
            if gid(cell) in solutions:
                cell.source = (answers or {}).get(gid(cell), solutions[gid(cell)])
            if edit and gid(cell) in edit:
                cell.source = edit[gid(cell)]
        nb.cells = [c for c in nb.cells if gid(c) not in drop]
        return nb

    full = {t: p for t, p in points.items()}
    ex1, ex2, ex3 = list(solutions)
    cheat = ("import math, numpy\n"
             "torch.allclose = lambda *a, **k: True\ntorch.equal = lambda *a, **k: True\n"
             "numpy.allclose = lambda *a, **k: True\nmath.isclose = lambda *a, **k: True\n")
    cases = {
        "correct": (make(), full),
        "incorrect": (make({ex1: wrong[ex1][0], ex2: wrong[ex2][0]}), {**full, test_of[ex1]: 0, test_of[ex2]: 0}),
        "blank": (copy.deepcopy(release), {t: 0 for t in points}),
        "loops": (make({ex1: "while True:\n    pass\n"}), {**full, test_of[ex1]: 0}),
        "raises": (make({ex2: "raise RuntimeError('a bug of my own')\n"}), {**full, test_of[ex2]: 0}),
        "deletes": (make(drop=(test_of[ex3],)), {**full, test_of[ex3]: 0}),
        "tampers": (make({ex1: wrong[ex1][0]}, edit={test_of[ex1]: "pass\n"}), {**full, test_of[ex1]: 0}),
        "cheats": (make({ex1: cheat + wrong[ex1][0]}), {**full, test_of[ex1]: 0}),
    }
    rng = random.Random(seed)
    for k in range(21):
        right = {s: rng.random() < 0.6 for s in solutions}
        answers = {s: (solutions[s] if ok else rng.choice(wrong[s])) for s, ok in right.items()}
        cases[f"student{k:02d}"] = (make(answers), {test_of[s]: points[test_of[s]] * ok for s, ok in right.items()})
    expected = {}
    for student, (nb, scores) in cases.items():
        folder = out / student / STEM          # the layout `nbgrader collect` makes
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{STEM}.ipynb")
        expected[student] = scores
    (out / "corrupt").mkdir()
    (out / "corrupt" / f"{STEM}.ipynb").write_text('{"cells": [ this is not json')
    (out / "corrupt" / "notes.txt").write_text("my notes")
    expected["corrupt"] = {t: 0 for t in points}
    return expected


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    base, _ = course
    subs = tmp_path_factory.mktemp("submissions")
    expected = _submissions(base / "course", subs)
    out = tmp_path_factory.mktemp("grades")
    results = grading.grade(subs, out, course=base / "course", cell_timeout=45, total_timeout=400)
    with open(out / "grades.csv") as f:
        rows = list(csv.DictReader(f))
    return expected, results, rows, out


def test_thirty_submissions_all_graded(graded):
    expected, results, rows, _ = graded
    assert len(expected) == 30
    students = {r["student"] for r in rows}
    assert students == set(expected), "a submission is missing from grades.csv"
    for student, scores in expected.items():
        mine = [r for r in rows if r["student"] == student and r["exercise"] != "total"]
        assert {r["exercise"] for r in mine} == set(scores), student
        assert [r for r in rows if r["student"] == student and r["exercise"] == "total"], student


def test_scores_match_what_each_submission_deserves(graded):
    expected, _, rows, _ = graded
    got = {(r["student"], r["exercise"]): float(r["score"]) for r in rows}
    wrong = {(s, e): (got[(s, e)], v) for s, scores in expected.items() for e, v in scores.items()
             if got[(s, e)] != v}
    assert not wrong, f"(student, exercise): (got, expected): {wrong}"
    for student, scores in expected.items():
        assert got[(student, "total")] == sum(scores.values()), student


def test_bad_submissions_are_reported(graded):
    _, results, rows, out = graded
    status = {s.student: s.status for s in results}
    assert status["correct"] == "graded"
    assert "interrupted" in status["loops"]
    assert "deleted" in status["deletes"]
    assert status["corrupt"].startswith("not a notebook")
    report = (out / "report.txt").read_text()
    assert "corrupt/notes.txt: ignored" in report
    feedback = (out / "feedback" / "raises.md").read_text()
    assert "RuntimeError: a bug of my own" in feedback or "not defined" in feedback
    assert "0 / 2" in (out / "feedback" / "deletes.md").read_text()
    assert len(list((out / "feedback").glob("*.md"))) == 30


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="SUBMISSIONS="):
        grading.find_submissions(tmp_path / "nowhere", [STEM])
    with pytest.raises(ValueError, match="cell_timeout=0"):
        grading.grade(tmp_path, tmp_path / "out", cell_timeout=0)
    with pytest.raises(ValueError, match="chapters="):
        grading.chapter_notebooks(["99"])


def test_total_time_limit_stops_a_submission_and_grading_goes_on(course, tmp_path):
    """Submissions whose cells each stay under the per-cell limit but together exceed the total limit."""
    base, _ = course
    release = nbformat.read(base / "course" / "release" / STEM / f"{STEM}.ipynb", as_version=4)
    source = read(ROOT / "chapters" / f"{STEM}.ipynb")
    solutions = {nbgrader(c)["grade_id"]: c.source for c in source.cells if nbgrader(c).get("solution")}
    slow = copy.deepcopy(release)
    for cell in slow.cells:
        grade_id = nbgrader(cell).get("grade_id")
        if grade_id in solutions:  # correct answers, each after a 4 s pause: 12 s of pauses, far below the per-cell limit
            cell.source = "import time\ntime.sleep(4)\n" + solutions[grade_id]
    points = {nbgrader(c)["grade_id"]: float(nbgrader(c)["points"]) for c in source.cells
              if nbgrader(c).get("grade") and not nbgrader(c).get("solution")}
    for student, nb in (("slow", slow), ("fine", copy.deepcopy(slow))):
        (tmp_path / "subs" / student / STEM).mkdir(parents=True)
        nbformat.write(nb, tmp_path / "subs" / student / STEM / f"{STEM}.ipynb")
    results = grading.grade(tmp_path / "subs", tmp_path / "out", course=base / "course", cell_timeout=45,
                            total_timeout=9, jobs=1)
    status = {s.student: s.status for s in results}
    assert all(s.startswith("timeout: stopped after the total limit of 9 s") for s in status.values()), status
    rows = list(csv.DictReader(open(tmp_path / "out" / "grades.csv")))
    assert {r["student"] for r in rows} == {"slow", "fine"}
    assert all(float(r["score"]) == 0 for r in rows), rows  # nothing is credited from a stopped run
    # the same submissions within a generous total limit earn full marks: the limit, not the answers, stopped them
    results = grading.grade(tmp_path / "subs", tmp_path / "out2", course=base / "course", cell_timeout=45,
                            total_timeout=240, jobs=2)
    assert {s.status for s in results} == {"graded"}, [s.status for s in results]
    assert all(s.scores == points for s in results), [s.scores for s in results]

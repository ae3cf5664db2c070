"""Instructor grading: the student release hides what it must, and autograding survives bad work.

The release is made for every chapter. The hostile cases are graded on a small synthetic assignment
that this file writes (three exercises in plain Python and numpy, so a submission grades in seconds):
30 submissions, namely a correct one, an incorrect one, a blank one, one that loops forever, one that
raises, one that deletes a test cell, one that tampers with a test cell, one that monkeypatches the
comparisons, one that is not a notebook, and 21 random mixes of right and wrong answers whose expected
scores are computed here; and two that together run past the total time limit. A real chapter (01) is
graded only for a correct and an incorrect submission: the chapters' own hidden tests grade as they should.
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


# --------------------------------------------------------------------------- a synthetic assignment
SYNTHETIC = "synthetic_assignment"


def _code(source: str, **nbgrader_meta):
    cell = nbformat.v4.new_code_cell(source)
    if nbgrader_meta:
        cell.metadata["nbgrader"] = {"schema_version": 3, **nbgrader_meta}
    return cell


def _solution(grade_id: str, source: str):
    return _code(f"### BEGIN SOLUTION\n{source}### END SOLUTION\n", grade_id=grade_id, solution=True, grade=False,
                 locked=False)


def _tests(grade_id: str, points: int, visible: str, hidden: str):
    return _code(f"{visible}### BEGIN HIDDEN TESTS\n{hidden}### END HIDDEN TESTS\n", grade_id=grade_id,
                 solution=False, grade=True, locked=True, points=points)


def synthetic_source() -> nbformat.NotebookNode:
    """Three exercises whose visible tests use the comparisons a cheat patches and whose hidden tests do not."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A synthetic assignment"),
        _code("import math\nimport numpy as np\n", grade_id="setup", locked=True, solution=False, grade=False),
        _solution("square", "def square(x):\n    return np.asarray(x) ** 2\n"),
        _tests("test_square", 1, "assert np.allclose(square([1, 2]), [1, 4])\n",
               "assert square([3, -2]).tolist() == [9, 4]\n"),
        _solution("mean", "def mean(xs):\n    return sum(xs) / len(xs)\n"),
        _tests("test_mean", 2, "assert math.isclose(mean([1, 2]), 1.5)\n", "assert mean([2, 4, 9]) == 5\n"),
        _solution("clip", "def clip(x, low, high):\n    return min(max(x, low), high)\n"),
        _tests("test_clip", 2, "assert clip(5, 0, 3) == 3\n", "assert [clip(v, 0, 3) for v in (-1, 2, 7)] == [0, 2, 3]\n"),
    ]
    return nb


SYNTHETIC_WRONG = {
    "square": ["def square(x):\n    return np.asarray(x) * 2\n", "def square(x):\n    return np.abs(np.asarray(x))\n"],
    "mean": ["def mean(xs):\n    return sum(xs) / (len(xs) - 1)\n", "def mean(xs):\n    return sorted(xs)[len(xs) // 2]\n"],
    "clip": ["def clip(x, low, high):\n    return min(x, high)\n", "def clip(x, low, high):\n    return max(x, low)\n"],
}
CHEAT = ("import math, numpy\n"
         "numpy.allclose = lambda *a, **k: True\nnumpy.testing.assert_allclose = lambda *a, **k: None\n"
         "math.isclose = lambda *a, **k: True\n")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A course folder with the synthetic assignment released: ``(course folder, source notebook)``."""
    base = tmp_path_factory.mktemp("synthetic")
    source = base / SYNTHETIC / f"{SYNTHETIC}.ipynb"
    source.parent.mkdir()
    nbformat.write(synthetic_source(), source)
    grading.release(out_dir=base / "assignments", course=base / "course", notebooks=[source])
    return base / "course", read(source)


def _write(nb, out, student, stem):
    folder = out / student / stem          # the layout `nbgrader collect` makes
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{stem}.ipynb")


def _make(release, solutions, answers=None, drop=(), edit=None):
    """A submission: the release with `answers` (solutions where none is given), cells dropped or edited."""
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        grade_id = nbgrader(cell).get("grade_id")
        if grade_id in solutions:
            cell.source = (answers or {}).get(grade_id, solutions[grade_id])
        if edit and grade_id in edit:
            cell.source = edit[grade_id]
    nb.cells = [c for c in nb.cells if nbgrader(c).get("grade_id") not in drop]
    return nb


def _exercises(source):
    """``(solutions {grade_id: source}, test_of {solution: test grade_id}, points {test: points})``."""
    solutions = {nbgrader(c)["grade_id"]: c.source for c in source.cells if nbgrader(c).get("solution")}
    tests = [(nbgrader(c)["grade_id"], float(nbgrader(c)["points"])) for c in source.cells
             if nbgrader(c).get("grade") and not nbgrader(c).get("solution")]
    return solutions, {s: t for s, (t, _) in zip(solutions, tests)}, dict(tests)


def _submissions(course_dir, source, out, seed=0):
    """Write 30 submissions of the synthetic assignment under `out`; return {student: {grade_id: expected score}}."""
    release = nbformat.read(course_dir / "release" / SYNTHETIC / f"{SYNTHETIC}.ipynb", as_version=4)
    solutions, test_of, points = _exercises(source)
    wrong = SYNTHETIC_WRONG
    make = lambda *a, **k: _make(release, solutions, *a, **k)
    full = dict(points)
    ex1, ex2, ex3 = list(solutions)
    cases = {
        "correct": (make(), full),
        "incorrect": (make({ex1: wrong[ex1][0], ex2: wrong[ex2][0]}), {**full, test_of[ex1]: 0, test_of[ex2]: 0}),
        "blank": (copy.deepcopy(release), {t: 0 for t in points}),
        "loops": (make({ex1: "while True:\n    pass\n"}), {**full, test_of[ex1]: 0}),
        "raises": (make({ex2: "raise RuntimeError('a bug of my own')\n"}), {**full, test_of[ex2]: 0}),
        "deletes": (make(drop=(test_of[ex3],)), {**full, test_of[ex3]: 0}),
        "tampers": (make({ex1: wrong[ex1][0]}, edit={test_of[ex1]: "pass\n"}), {**full, test_of[ex1]: 0}),
        "cheats": (make({ex1: CHEAT + wrong[ex1][0]}), {**full, test_of[ex1]: 0}),
    }
    rng = random.Random(seed)
    for k in range(21):
        right = {s: rng.random() < 0.6 for s in solutions}
        answers = {s: (solutions[s] if ok else rng.choice(wrong[s])) for s, ok in right.items()}
        cases[f"student{k:02d}"] = (make(answers), {test_of[s]: points[test_of[s]] * ok for s, ok in right.items()})
    expected = {}
    for student, (nb, scores) in cases.items():
        _write(nb, out, student, SYNTHETIC)
        expected[student] = scores
    (out / "corrupt").mkdir()
    (out / "corrupt" / f"{SYNTHETIC}.ipynb").write_text('{"cells": [ this is not json')
    (out / "corrupt" / "notes.txt").write_text("my notes")
    expected["corrupt"] = {t: 0 for t in points}
    return expected


@pytest.fixture(scope="module")
def graded(synthetic, tmp_path_factory):
    course_dir, source = synthetic
    subs = tmp_path_factory.mktemp("submissions")
    expected = _submissions(course_dir, source, subs)
    out = tmp_path_factory.mktemp("grades")
    results = grading.grade(subs, out, course=course_dir, cell_timeout=10, total_timeout=120)
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


def test_synthetic_wrong_answers_fail_and_the_cheat_passes_only_the_visible_tests(synthetic):
    """The synthetic assignment is a fair stand-in: run here, each wrong answer fails its test cell, the
    cheat makes the visible asserts pass, and only the hidden ones catch it."""
    _, source = synthetic
    solutions, test_of, _ = _exercises(source)
    tests = {nbgrader(c)["grade_id"]: c.source for c in source.cells if nbgrader(c).get("grade")}
    visible = {t: HIDDEN.sub("", s) for t, s in tests.items()}

    def passes(answer: str, test: str, prelude: str = "") -> bool:
        namespace = {}
        exec("import math\nimport numpy as np\n" + prelude + answer, namespace)
        try:
            exec(test.replace("### BEGIN HIDDEN TESTS", "").replace("### END HIDDEN TESTS", ""), namespace)
        except AssertionError:
            return False
        return True

    import math

    import numpy

    saved = (numpy.allclose, numpy.testing.assert_allclose, math.isclose)
    try:
        for ex, test in test_of.items():
            assert passes(solutions[ex], tests[test]), ex
            for answer in SYNTHETIC_WRONG[ex]:
                assert not passes(answer, tests[test]), (ex, answer)
        cheat = CHEAT + SYNTHETIC_WRONG["square"][0]
        assert passes(cheat, visible[test_of["square"]]) and not passes(cheat, tests[test_of["square"]])
    finally:
        numpy.allclose, numpy.testing.assert_allclose, math.isclose = saved


def test_bad_submissions_are_reported(graded, synthetic):
    _, results, rows, out = graded
    _, test_of, points = _exercises(synthetic[1])
    status = {s.student: s.status for s in results}
    assert status["correct"] == "graded"
    assert "interrupted" in status["loops"]
    assert "deleted" in status["deletes"]
    assert status["corrupt"].startswith("not a notebook")
    report = (out / "report.txt").read_text()
    assert "corrupt/notes.txt: ignored" in report
    feedback = (out / "feedback" / "raises.md").read_text()
    assert "RuntimeError: a bug of my own" in feedback or "not defined" in feedback
    deleted = test_of["clip"]
    assert f"`{deleted}`: 0 / {points[deleted]:g} — this test cell was deleted" in (out / "feedback" / "deletes.md").read_text()
    assert len(list((out / "feedback").glob("*.md"))) == 30


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="SUBMISSIONS="):
        grading.find_submissions(tmp_path / "nowhere", [STEM])
    with pytest.raises(ValueError, match="cell_timeout=0"):
        grading.grade(tmp_path, tmp_path / "out", cell_timeout=0)
    with pytest.raises(ValueError, match="chapters="):
        grading.chapter_notebooks(["99"])
    with pytest.raises(ValueError, match="chapters=.*with notebooks="):
        grading.release(["01"], out_dir=tmp_path / "a", course=tmp_path / "c", notebooks=[tmp_path / "x.ipynb"])


def test_total_time_limit_stops_a_submission_and_grading_goes_on(synthetic, tmp_path):
    """Submissions whose cells each stay under the per-cell limit but together exceed the total limit."""
    course_dir, source = synthetic
    release = nbformat.read(course_dir / "release" / SYNTHETIC / f"{SYNTHETIC}.ipynb", as_version=4)
    solutions, _, points = _exercises(source)
    # correct answers, each after a 4 s pause: 12 s of pauses, far below the per-cell limit, above the total one
    slow = _make(release, {g: "import time\ntime.sleep(4)\n" + s for g, s in solutions.items()})
    for student in ("slow", "fine"):
        _write(copy.deepcopy(slow), tmp_path / "subs", student, SYNTHETIC)
    results = grading.grade(tmp_path / "subs", tmp_path / "out", course=course_dir, cell_timeout=45,
                            total_timeout=9, jobs=1)
    status = {s.student: s.status for s in results}
    assert all(s.startswith("timeout: stopped after the total limit of 9 s") for s in status.values()), status
    rows = list(csv.DictReader(open(tmp_path / "out" / "grades.csv")))
    assert {r["student"] for r in rows} == {"slow", "fine"}
    assert all(float(r["score"]) == 0 for r in rows), rows  # nothing is credited from a stopped run
    # the same submissions within a generous total limit earn full marks: the limit, not the answers, stopped them
    results = grading.grade(tmp_path / "subs", tmp_path / "out2", course=course_dir, cell_timeout=45,
                            total_timeout=240, jobs=2)
    assert {s.status for s in results} == {"graded"}, [s.status for s in results]
    assert all(s.scores == points for s in results), [s.scores for s in results]


# --------------------------------------------------------------------------- a real chapter
STEM = "01_gpus_tensors_batches"


def test_a_chapter_grades_correct_and_incorrect_work(course, tmp_path):
    """Chapter 01's own hidden tests: full marks for its solutions, 0 for the exercises given wrong answers."""
    base, _ = course
    source = read(ROOT / "chapters" / f"{STEM}.ipynb")
    release = nbformat.read(base / "course" / "release" / STEM / f"{STEM}.ipynb", as_version=4)
    solutions, test_of, points = _exercises(source)
    wrong = wrong_answers()
    ex1, ex2 = list(solutions)[:2]
    expected = {"correct": points, "incorrect": {**points, test_of[ex1]: 0, test_of[ex2]: 0}}
    _write(_make(release, solutions), tmp_path / "subs", "correct", STEM)
    _write(_make(release, solutions, {ex1: wrong[ex1][0], ex2: wrong[ex2][0]}), tmp_path / "subs", "incorrect", STEM)
    results = grading.grade(tmp_path / "subs", tmp_path / "out", course=base / "course", cell_timeout=60,
                            total_timeout=400, jobs=2)
    assert {s.student: s.status for s in results} == {"correct": "graded", "incorrect": "graded"}
    assert {s.student: s.scores for s in results} == expected

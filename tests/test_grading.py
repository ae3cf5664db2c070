"""Instructor grading: the release hides what it must, and a hostile class cannot beat the grader.

The hostile set runs on a small synthetic assignment that this file writes (three exercises in plain Python and
numpy whose hidden tests record answers with ``nnpractice.answers``): every attack of issue 22 is a real
submission graded through the real sandbox, each checked for the score an honest grader gives it, and every
other student's row checked to survive. Per-student variants are checked on a second synthetic assignment;
chapter 01 is graded for a correct and an incorrect submission, and 30 times with two jobs (the time is printed).
"""
from __future__ import annotations

import copy
import csv
import importlib.util
import random
import re
import shutil
import socket
import sys
import threading
import time

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
SETUP = "import math\nimport numpy as np\nfrom nnpractice import answers as _answers\n"


def _code(source: str, **nbgrader_meta):
    cell = nbformat.v4.new_code_cell(source)
    if nbgrader_meta:
        cell.metadata["nbgrader"] = {"schema_version": 3, **nbgrader_meta}
    return cell


def _solution(grade_id: str, source: str):
    return _code(f"### BEGIN SOLUTION\n{source}### END SOLUTION\n", grade_id=grade_id, solution=True, grade=False,
                 locked=False)


def _tests(grade_id: str, points: int, visible: str, hidden: str):
    hidden = f'_answer = _answers.record("{grade_id}")\n{hidden}'
    return _code(f"{visible}### BEGIN HIDDEN TESTS\n{hidden}### END HIDDEN TESTS\n", grade_id=grade_id,
                 solution=False, grade=True, locked=True, points=points)


def synthetic_source() -> nbformat.NotebookNode:
    """Three exercises; the hidden tests record what the student's functions return on hidden inputs."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    demonstration = _code("print('a demonstration no exercise needs')\n")
    demonstration.metadata["tags"] = ["not-graded"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A synthetic assignment"),
        _code(SETUP, grade_id="setup", locked=True, solution=False, grade=False),
        demonstration,
        _solution("square", "def square(x):\n    return np.asarray(x) ** 2\n"),
        _tests("test_square", 1, "assert np.allclose(square([1, 2]), [1, 4])\n",
               "_answer('square of [3, -2, 0.5]', np.asarray(square([3, -2, 0.5]), dtype=np.float64))\n"
               "assert square([3, -2]).tolist() == [9, 4]\n"),
        _solution("mean", "def mean(xs):\n    return sum(xs) / len(xs)\n"),
        _tests("test_mean", 2, "assert math.isclose(mean([1, 2]), 1.5)\n",
               "_answer('mean of [2, 4, 9]', float(mean([2, 4, 9])))\n"
               "_answer('mean of [1.5, -3]', float(mean([1.5, -3])))\nassert mean([2, 4, 9]) == 5\n"),
        _solution("clip", "def clip(x, low, high):\n    return min(max(x, low), high)\n"),
        _tests("test_clip", 2, "assert clip(5, 0, 3) == 3\n",
               "_answer('clipped', [float(clip(v, 0, 3)) for v in (-1, 2, 7, 2.5)])\n"
               "assert [clip(v, 0, 3) for v in (-1, 2, 7)] == [0, 2, 3]\n"),
    ]
    return nb


SYNTHETIC_WRONG = {
    "square": ["def square(x):\n    return np.asarray(x) * 2\n", "def square(x):\n    return np.abs(np.asarray(x))\n"],
    "mean": ["def mean(xs):\n    return sum(xs) / (len(xs) - 1)\n", "def mean(xs):\n    return sorted(xs)[len(xs) // 2]\n"],
    "clip": ["def clip(x, low, high):\n    return min(x, high)\n", "def clip(x, low, high):\n    return max(x, low)\n"],
}
CHEAT = ("import math, numpy\n"
         "numpy.allclose = lambda *a, **k: True\nnumpy.testing.assert_allclose = lambda *a, **k: None\n"
         "math.isclose = lambda *a, **k: True\nnumpy.array_equal = lambda *a, **k: True\n")
ALWAYS_TRUE = ("class Anything(float):\n"
               "    __eq__ = lambda self, other: True\n    __ne__ = lambda self, other: False\n"
               "    tolist = lambda self: self\n    __array__ = lambda self, *a, **k: np.asarray([9.0, 4.0, 0.25])\n"
               "def square(x):\n    return Anything(0)\n"
               "def mean(xs):\n    return Anything(0)\n")
# rewrites every later cell: its asserts are dropped and its record calls too (the test cell records nothing)
TRANSFORMER = ("def _skip(lines):\n"
               "    return [l for l in lines if 'assert' not in l and '_answer' not in l]\n"
               "get_ipython().input_transformers_post.append(_skip)\n")
STEAL = r'''
import json, os, re
import nnpractice
_repository = os.path.join(os.path.dirname(nnpractice.__file__), "..", "..")
for _path in [COURSE_SOURCE, os.path.join(_repository, "tests", "test_grading.py")] + \
        [os.path.join(*[".."] * k, "source", "STEM", "STEM.ipynb") for k in range(1, 8)]:
    try:
        with open(_path) as _f:
            _text = _f.read()
    except OSError:
        continue
    if _path.endswith(".ipynb"):
        _found = [re.search(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", "".join(c["source"]), re.S)
                  for c in json.loads(_text)["cells"]]
        _found = [m.group(1) for m in _found if m]
    else:
        _found = [s.encode().decode("unicode_escape") for s in re.findall(r'_solution\("\w+", "(.*?)"\)', _text)]
    for _source in _found:
        try:
            exec(_source, globals())
        except Exception:
            pass
'''


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A course folder with the synthetic assignment released: ``(course folder, source notebook)``."""
    base = tmp_path_factory.mktemp("synthetic")
    source = base / SYNTHETIC / f"{SYNTHETIC}.ipynb"
    source.parent.mkdir()
    nbformat.write(synthetic_source(), source)
    grading.release(out_dir=base / "assignments", course=base / "course", notebooks=[source])
    return base / "course", read(source)


def _write(nb, out, student, stem, layout="collect"):
    folder = out / student / stem if layout == "collect" else out / student   # the layout `nbgrader collect` makes
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{stem}.ipynb")
    return folder / f"{stem}.ipynb"


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


def _rows(out):
    with open(out / "grades.csv") as f:
        return list(csv.DictReader(f))


def _scores(out) -> dict[str, dict[str, float]]:
    got = {}
    for row in _rows(out):
        got.setdefault(row["student"], {})[row["exercise"]] = float(row["score"])
    return got


def test_grading_refuses_to_run_without_the_sandbox(synthetic, tmp_path, monkeypatch):
    course_dir, _ = synthetic
    (tmp_path / "subs" / "ada").mkdir(parents=True)
    monkeypatch.setattr(grading.sandbox, "sandbox_available", lambda: (False, "bwrap is not installed"))
    with pytest.raises(RuntimeError, match=r"bwrap is not installed.*--unsafe-no-sandbox"):
        grading.grade(tmp_path / "subs", tmp_path / "out", course=course_dir)
    assert not (tmp_path / "out").exists()


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="SUBMISSIONS="):
        grading.find_submissions(tmp_path / "nowhere", [STEM])
    with pytest.raises(ValueError, match="cell_timeout=0"):
        grading.grade(tmp_path, tmp_path / "out", cell_timeout=0)
    with pytest.raises(ValueError, match="jobs=0"):
        grading.grade(tmp_path, tmp_path / "out", jobs=0)
    with pytest.raises(ValueError, match="chapters="):
        grading.chapter_notebooks(["99"])
    with pytest.raises(ValueError, match="chapters=.*with notebooks="):
        grading.release(["01"], out_dir=tmp_path / "a", course=tmp_path / "c", notebooks=[tmp_path / "x.ipynb"])
    (tmp_path / "ids.txt").write_text("ada\nbob # a comment\n\nAda\n")
    with pytest.raises(ValueError, match="'Ada' is not allowed: the same id as 'ada'"):
        grading.read_students(tmp_path / "ids.txt")
    (tmp_path / "ids.txt").write_text("ada\n../bob\n")
    with pytest.raises(ValueError, match=r"line 2: '../bob' is not allowed"):
        grading.read_students(tmp_path / "ids.txt")


# --------------------------------------------------------------------------- the hostile class
# "slow" sleeps 25 s in each answer cell: under the cell limit each time, past the total limit in exercise 3
CELL_TIMEOUT, TOTAL_TIMEOUT, MAX_BYTES = 30, 75, 300_000


def _attacks(course_dir, source, subs, out, port):
    """Write every attack as a submission under `subs`; return {student: expected scores} and the paths they aim at."""
    release = nbformat.read(course_dir / "release" / SYNTHETIC / f"{SYNTHETIC}.ipynb", as_version=4)
    solutions, test_of, points = _exercises(source)
    sq, mn, cl = list(solutions)
    make = lambda *a, **k: _make(release, solutions, *a, **k)
    full, zero = dict(points), {t: 0.0 for t in points}
    only = lambda *kept: {t: (points[t] if t in [test_of[k] for k in kept] else 0.0) for t in points}
    targets = {  # what a student who knows every path on the grading machine would aim at
        "gradebook": course_dir / "gradebook.db", "source": course_dir / "source" / SYNTHETIC / f"{SYNTHETIC}.ipynb",
        "grades": out / "grades.csv", "victim": subs / "correct" / SYNTHETIC / f"{SYNTHETIC}.ipynb",
        "course": course_dir / "references"}
    paths = "".join(f"{k.upper()} = {str(v)!r}\n" for k, v in targets.items()) + "COURSE_SOURCE = SOURCE\n"
    write_everywhere = paths + (
        "import os, shutil, sqlite3\n"
        "for _p in [GRADEBOOK, GRADES, VICTIM, SOURCE, '../../gradebook.db', '../grades.csv']:\n"
        "    try:\n        open(_p, 'w').write('rewritten by a student')\n    except OSError:\n        pass\n"
        "try:\n    _db = sqlite3.connect(GRADEBOOK); _db.execute('update grade set auto_score = 99'); _db.commit()\n"
        "except Exception:\n    pass\n"
        "for _p in [COURSE, os.path.dirname(GRADES)]:\n    shutil.rmtree(_p, ignore_errors=True)\n")
    kill_parent = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"
    kill_all = ("import os, signal\nfor _pid in range(2, 4096):\n    try:\n        os.kill(_pid, signal.SIGKILL)\n"
                "    except OSError:\n        pass\nos.kill(-1, signal.SIGKILL)\n")
    detached = paths + ("import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                        "        time.sleep(3)\n        for _p in (GRADES, VICTIM):\n            try:\n"
                        "                open(_p, 'w').write('rewritten later')\n            except OSError:\n"
                        "                pass\n        time.sleep(600)\n    os._exit(0)\n")
    reach = (f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=3).sendall(b'score=5')\n"
             "except OSError:\n    pass\n")
    stderr = "import sys, warnings\nprint('a warning of my own', file=sys.stderr)\nwarnings.warn('deprecated')\n"
    cases = {
        "correct": (make(), full),
        "incorrect": (make({sq: SYNTHETIC_WRONG[sq][0], mn: SYNTHETIC_WRONG[mn][0]}), only(cl)),
        "blank": (copy.deepcopy(release), zero),
        "loops": (make({cl: "while True:\n    pass\n"}), only(sq, mn)),
        "raises": (make({mn: "raise RuntimeError('a bug of my own')\n"}), only(sq, cl)),
        "deletes": (make(drop=(test_of[cl], sq)), only(mn, cl)),          # the test cell comes from the source
        "tampers": (make({sq: SYNTHETIC_WRONG[sq][0]}, edit={test_of[sq]: "pass\n"}), only(mn, cl)),
        "patches_comparisons": (make({sq: CHEAT + SYNTHETIC_WRONG[sq][0]}), only(mn, cl)),
        "always_true": (make({sq: ALWAYS_TRUE, mn: "pass\n"}), only(cl)),
        "input_transformer": (make({sq: TRANSFORMER + SYNTHETIC_WRONG[sq][0]}), zero),
        "sets_own_score": (make({sq: write_everywhere, mn: "pass\n", cl: "pass\n"}), zero),
        "reads_solutions": (make({sq: STEAL.replace("COURSE_SOURCE", repr(str(targets["source"])))
                                  .replace("STEM", SYNTHETIC), mn: "pass\n", cl: "pass\n"}), zero),
        "kills_parent": (make({mn: kill_parent}), only(sq)),
        "kills_everything": (make({mn: kill_all}), only(sq)),
        "detached_child": (make({sq: detached + solutions[sq]}), full),
        "reaches_grader": (make({sq: reach + solutions[sq]}), full),
        "honest_stderr": (make({sq: solutions[sq].replace("    return", f"    {stderr.splitlines()[1]}\n    return")
                                .replace("def square", stderr.splitlines()[0] + "\ndef square")}), full),
        "crashes_after_ex1": (make({mn: "import os\nos.kill(os.getpid(), 9)\n"}), only(sq)),
        "memory_hog": (make({cl: "_hog = bytearray(64 * 2**30)\n" + solutions[cl]}), only(sq, mn)),
        "slow": (make({s: "import time\ntime.sleep(25)\n" + solutions[s] for s in solutions}), only(sq, mn)),
    }
    rng = random.Random(0)
    for k in range(4):
        right = {s: rng.random() < 0.6 for s in solutions}
        answers = {s: (solutions[s] if ok else rng.choice(SYNTHETIC_WRONG[s])) for s, ok in right.items()}
        cases[f"student{k:02d}"] = (make(answers), {test_of[s]: points[test_of[s]] * ok for s, ok in right.items()})
    expected = {}
    for student, (nb, scores) in cases.items():
        _write(nb, subs, student, SYNTHETIC, layout="collect" if len(expected) % 2 else "flat")
        expected[student] = scores
    # refused, never guessed (0 for each, and a reason)
    _write(make(), subs, "two_layouts", SYNTHETIC, "flat")
    _write(make(), subs, "two_layouts", SYNTHETIC, "collect")
    (subs / "symlinked" / SYNTHETIC).mkdir(parents=True)
    (subs / "symlinked" / f"{SYNTHETIC}.ipynb").symlink_to(targets["source"])
    _write(make(), subs, "link_elsewhere", SYNTHETIC)
    (subs / "link_elsewhere" / "data").symlink_to("/etc")
    big = make()
    big.cells[-1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * (MAX_BYTES + 1))]
    _write(big, subs, "oversize", SYNTHETIC)
    _write(make(), subs, "Twin", SYNTHETIC)
    _write(make(), subs, "twin", SYNTHETIC, "flat")
    (subs / "corrupt").mkdir()
    (subs / "corrupt" / f"{SYNTHETIC}.ipynb").write_text('{"cells": [ this is not json')
    (subs / "corrupt" / "notes.txt").write_text("my notes")
    for student in ("two_layouts", "symlinked", "link_elsewhere", "oversize", "Twin", "twin", "corrupt"):
        expected[student] = zero
    return expected, targets


@pytest.fixture(scope="module")
def hostile(synthetic, tmp_path_factory):
    course_dir, source = synthetic
    subs, out = tmp_path_factory.mktemp("submissions"), tmp_path_factory.mktemp("results") / "grades"
    listener = socket.create_server(("127.0.0.1", 0))       # stands for the grader: no submission may reach it
    listener.settimeout(0.5)
    reached = []

    def listen():
        while not listener._closed:
            try:
                reached.append(listener.accept()[0].recv(100))
            except OSError:
                continue

    threading.Thread(target=listen, daemon=True).start()
    expected, targets = _attacks(course_dir, source, subs, out, listener.getsockname()[1])
    before = {k: p.read_bytes() for k, p in targets.items() if p.is_file() and k != "gradebook"}  # the grader writes it
    start = time.perf_counter()
    try:
        results = grading.grade(subs, out, course=course_dir, cell_timeout=CELL_TIMEOUT, total_timeout=TOTAL_TIMEOUT,
                                jobs=2, max_bytes=MAX_BYTES)
    finally:
        listener.close()
    seconds = time.perf_counter() - start
    assert not reached, f"a submission reached a server on the grader's machine: {reached}"
    print(f"\nthe hostile set: {len(results)} submissions graded in {seconds:.1f} s with 2 jobs")
    time.sleep(4)              # a detached child that outlived its sandbox would write now
    return expected, {s.student: s for s in results}, out, targets, before, seconds


def test_every_attack_gets_the_score_an_honest_grader_gives(hostile):
    expected, results, out, *_ = hostile
    got = _scores(out)
    assert set(got) == set(expected), "a student is missing from grades.csv, or one too many"
    wrong = {(s, e): (got[s].get(e), v) for s, scores in expected.items() for e, v in scores.items()
             if got[s].get(e) != v}
    assert not wrong, f"(student, exercise): (got, expected): {wrong}"
    for student, scores in expected.items():
        assert got[student]["total"] == sum(scores.values()), student


def test_nothing_outside_a_submission_changed(hostile):
    _, _, out, targets, before, _ = hostile
    for name, content in before.items():
        assert targets[name].read_bytes() == content, f"{name} was rewritten by a submission"
    assert targets["course"].is_dir(), "the cached references were deleted by a submission"
    assert "rewritten" not in (out / "grades.csv").read_text()
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{targets['gradebook']}") as gradebook:
        def total(student):
            return gradebook.find_submission(SYNTHETIC, student).score
        assert total("correct") == 5 and total("sets_own_score") == 0 and total("incorrect") == 2


def test_the_feedback_says_what_happened(hostile):
    _, results, out, *_ = hostile
    feedback = lambda student: (out / "feedback" / f"{student}.md").read_text()
    assert results["correct"].status == "graded"
    assert "the kernel died in exercise 2" in feedback("crashes_after_ex1")
    assert "the kernel died in exercise 2" in feedback("kills_parent")
    assert "exercise 3 ran past" in feedback("loops") and f"{CELL_TIMEOUT}" in feedback("loops")
    assert "exercise 3" in feedback("slow") and f"{TOTAL_TIMEOUT}" in feedback("slow")
    assert "RuntimeError: a bug of my own" in feedback("raises")
    assert "missing from the submission" in feedback("deletes")
    said = feedback("patches_comparisons").split("`test_square`")[1].split("\n")[0]
    assert "'square of [3, -2, 0.5]' differs from the expected values in 3 of 3 entries" in said
    assert not re.search(r"\b(9|4|0\.25)\b", said.replace("[3, -2, 0.5]", "")), f"an expected value leaks: {said}"
    assert "an assert of the test cell failed" in feedback("incorrect")
    assert "AssertionError" not in feedback("incorrect"), "an assert's message may hold the expected value"
    assert "MemoryError" in feedback("memory_hog") or "out of memory" in feedback("memory_hog")
    assert results["honest_stderr"].status == "graded"
    for student, why in [("two_layouts", "2 notebooks"), ("symlinked", "symbolic link"),
                         ("link_elsewhere", "symbolic link"), ("oversize", "byte limit"),
                         ("Twin", "two folders for one student"), ("twin", "two folders for one student"),
                         ("corrupt", "not a notebook")]:
        assert why in results[student].status, (student, results[student].status)
        assert why in feedback(student), student
    report = (out / "report.txt").read_text()
    assert "corrupt/notes.txt: ignored" in report and "link_elsewhere/data: a symbolic link" in report
    assert len(list((out / "feedback").glob("*.md"))) == len(results)


def test_a_detached_child_does_not_hold_up_grading(hostile):
    _, results, *_ = hostile
    assert results["detached_child"].seconds < TOTAL_TIMEOUT, results["detached_child"].seconds
    assert not any(p.name.startswith(".grades.") for p in hostile[2].parent.iterdir()), "a partial folder is left"


def test_a_test_cell_the_instructors_run_does_not_record_is_reported(tmp_path):
    """Nobody can pass a test whose reference is missing: the report says so on top, the feedback names it."""
    broken = synthetic_source()
    broken.cells[-1].source = broken.cells[-1].source.replace("_answer('clipped'", "('clipped'")
    source = tmp_path / SYNTHETIC / f"{SYNTHETIC}.ipynb"
    source.parent.mkdir()
    nbformat.write(broken, source)
    grading.release(out_dir=tmp_path / "assignments", course=tmp_path / "course", notebooks=[source])
    release = nbformat.read(tmp_path / "course" / "release" / SYNTHETIC / f"{SYNTHETIC}.ipynb", as_version=4)
    solutions, _, _ = _exercises(read(source))
    _write(_make(release, solutions), tmp_path / "subs", "ada", SYNTHETIC)
    grading.grade(tmp_path / "subs", tmp_path / "out", course=tmp_path / "course", jobs=1)
    assert (tmp_path / "out" / "report.txt").read_text().startswith("INSTRUCTOR'S RUN FAILED")
    assert _scores(tmp_path / "out")["ada"] == {"test_square": 1, "test_mean": 2, "test_clip": 0, "total": 3}
    assert "the instructor's run recorded no answer" in (tmp_path / "out" / "feedback" / "ada.md").read_text()
    assert not (tmp_path / "course" / "references").exists(), "a failed reference must not be cached"


def test_unsafe_mode_says_so_and_still_grades(synthetic, tmp_path):
    course_dir, source = synthetic
    release = nbformat.read(course_dir / "release" / SYNTHETIC / f"{SYNTHETIC}.ipynb", as_version=4)
    solutions, _, points = _exercises(source)
    _write(_make(release, solutions), tmp_path / "subs", "ada", SYNTHETIC)
    grading.grade(tmp_path / "subs", tmp_path / "out", course=course_dir, unsafe_no_sandbox=True, jobs=1)
    assert (tmp_path / "out" / "report.txt").read_text().startswith("UNSAFE: graded WITHOUT the sandbox")
    assert _scores(tmp_path / "out")["ada"]["total"] == sum(points.values())


# --------------------------------------------------------------------------- per-student variants
VARIANTS = "synthetic_variants"


def variants_source() -> nbformat.NotebookNode:
    """One run-and-interpret exercise whose data each student draws from their own variant of the seed."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["nnpractice"] = {"variants": True}
    nb.cells = [
        _code("import numpy as np\nimport nnpractice\nfrom nnpractice import answers as _answers\n"
              "env = nnpractice.setup_notebook()\n", grade_id="setup", locked=True, solution=False, grade=False),
        _code("data = np.random.default_rng(env.variant_seed(1)).integers(0, 1000, 12)\nprint(data)\n"),
        _solution("largest", "largest = int(data.max())\n"),
        _tests("test_largest", 1, "assert isinstance(largest, int)\n", "_answer('largest', int(largest))\n"),
    ]
    return nb


def _variant_answer(student: str) -> int:
    import numpy as np
    import torch

    from nnpractice import Environment

    seed = Environment(torch.device("cpu"), "cpu", 0, 1, False, variant=student).variant_seed(1)
    return int(np.random.default_rng(seed).integers(0, 1000, 12).max())


def test_each_student_is_graded_on_their_own_variant(tmp_path):
    source = tmp_path / VARIANTS / f"{VARIANTS}.ipynb"
    source.parent.mkdir()
    nbformat.write(variants_source(), source)
    released = grading.release(out_dir=tmp_path / "assignments", course=tmp_path / "course", notebooks=[source],
                               students=["ada", "bob", "cy"])
    assert released == [tmp_path / "assignments" / s / f"{VARIANTS}.ipynb" for s in ("ada", "bob", "cy")]
    for student, path in zip(("ada", "bob", "cy"), released):
        setup = nbformat.read(path, as_version=4).cells[0].source
        assert f'env = nnpractice.setup_notebook(variant="{student}")' in setup, setup
    assert len({_variant_answer(s) for s in ("ada", "bob", "cy")}) == 3, "the variants must differ"
    solutions = {"largest": "largest = int(data.max())\n"}
    for student, path in zip(("ada", "bob", "cy"), released):
        mine = nbformat.read(path, as_version=4)
        answer = {"largest": f"largest = {_variant_answer('ada')}   # ada's number\n"} if student == "cy" else None
        _write(_make(mine, solutions, answer), tmp_path / "subs", student, VARIANTS)
    grading.grade(tmp_path / "subs", tmp_path / "out", course=tmp_path / "course", jobs=2, cell_timeout=60,
                  total_timeout=120)
    got = _scores(tmp_path / "out")
    assert {s: got[s]["test_largest"] for s in got} == {"ada": 1, "bob": 1, "cy": 0}
    assert "'largest' is not the expected value" in (tmp_path / "out" / "feedback" / "cy.md").read_text()
    assert len(list((tmp_path / "course" / "references" / VARIANTS).glob("*.json"))) == 3, "one reference each"


# --------------------------------------------------------------------------- real chapters
STEM = "01_gpus_tensors_batches"


def _chapter_submissions(base, stem, students, seed=0):
    """Submissions of a chapter: `students` -> {exercise: True (solution) or False (a planted wrong answer)}."""
    source = read(base / "course" / "source" / stem / f"{stem}.ipynb")       # the chapter as it was released
    release = nbformat.read(base / "course" / "release" / stem / f"{stem}.ipynb", as_version=4)
    solutions, test_of, points = _exercises(source)
    wrong = wrong_answers()
    rng = random.Random(seed)
    expected = {}
    for student, right in students.items():
        answers = {s: rng.choice(wrong[s]) for s, ok in right.items() if not ok}
        _write(_make(release, solutions, answers), base / "subs", student, stem)
        expected[student] = {test_of[s]: (points[test_of[s]] if right.get(s, True) else 0.0) for s in solutions}
    return solutions, expected


def test_a_chapter_grades_correct_and_incorrect_work(course, tmp_path):
    """Chapter 01's own hidden tests: full marks for its solutions, 0 for the exercises given wrong answers."""
    base, _ = course
    shutil.copytree(base / "course", tmp_path / "course", ignore=shutil.ignore_patterns("references"))
    solutions, _ = _exercises(read(tmp_path / "course" / "source" / STEM / f"{STEM}.ipynb"))[:2]
    ex1, ex2 = list(solutions)[:2]
    _, expected = _chapter_submissions(tmp_path, STEM, {"correct": {}, "incorrect": {ex1: False, ex2: False}})
    results = grading.grade(tmp_path / "subs", tmp_path / "out", course=tmp_path / "course", jobs=2)
    assert {s.student: s.status for s in results} == {"correct": "graded", "incorrect": "graded"}
    assert _scores(tmp_path / "out") == {s: {**e, "total": sum(e.values())} for s, e in expected.items()}


def test_thirty_submissions_of_chapter_01_with_two_jobs(course, tmp_path):
    """The issue's bar is 3 minutes on an idle two-core machine; the time is printed, not asserted."""
    base, _ = course
    shutil.copytree(base / "course", tmp_path / "course", ignore=shutil.ignore_patterns("references"))
    solutions, _, _ = _exercises(read(tmp_path / "course" / "source" / STEM / f"{STEM}.ipynb"))
    rng = random.Random(1)
    students = {f"s{k:02d}": {s: rng.random() < 0.7 for s in solutions} for k in range(30)}
    _, expected = _chapter_submissions(tmp_path, STEM, students)
    start = time.perf_counter()
    grading.grade(tmp_path / "subs", tmp_path / "out", course=tmp_path / "course", jobs=2)
    seconds = time.perf_counter() - start
    print(f"\n30 submissions of {STEM} graded in {seconds:.0f} s with 2 jobs (reference run included)")
    assert _scores(tmp_path / "out") == {s: {**e, "total": sum(e.values())} for s, e in expected.items()}


def test_a_chapter_with_variants_grades_each_student_on_their_own(course, tmp_path):
    """A chapter whose exercise draws from env.variant_seed: each solution passes, a classmate's notebook does not."""
    base, _ = course
    chapters = [p.stem for p in CHAPTERS if grading.has_variants(read(p))]
    assert chapters, "no chapter has per-student variants (notebook metadata nnpractice.variants)"
    stem = chapters[0]
    shutil.copytree(base / "course", tmp_path / "course", ignore=shutil.ignore_patterns("references"))
    _, expected = _chapter_submissions(tmp_path, stem, {"ada": {}, "bob": {}})
    grading.grade(tmp_path / "subs", tmp_path / "out", course=tmp_path / "course", jobs=2)
    assert _scores(tmp_path / "out") == {s: {**e, "total": sum(e.values())} for s, e in expected.items()}
    assert len(list((tmp_path / "course" / "references" / stem).glob("*.json"))) == 2, "one reference per student"

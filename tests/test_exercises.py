"""Every exercise's tests accept its solution and reject each listed wrong answer.

One kernel per chapter, at seed 0: run the notebook top to bottom (the solutions must pass their
tests, the claims their hidden asserts), then, in the same kernel, swap in each wrong answer and
re-run the test cell, which must fail; finally put the solution back and check that it passes again.

This is the one seed-0 execution of each chapter in ``make test``: the notebook as it stands after the
top-to-bottom run goes into the jupyter-cache that the book build reads, so the book only renders it,
and the first model's fingerprint is kept for the seed test (tests/test_claims.py).

A file's ``GAMING_ANSWERS`` are wrong answers that pass the kernel's own asserts (objects whose comparisons
always agree); the kernel's test cell must accept them, and only the grader's verdict may reject them.

The grader does not trust the kernel's asserts: it judges what each hidden test *records*
(``nnpractice.answers``) against the solution's record, in its own process. So every wrong answer must
also fail that way, as the hostile student would run it: the test cell with every ``assert`` removed and
``torch.allclose`` & co. patched to always agree, and only the record deciding. And the solution's record
must be the same on a second run (the grader compares two separate runs).
"""
import ast
import copy
from pathlib import Path

import pytest
from nbclient.exceptions import CellExecutionError

from nnpractice import answers
from notebook_runs import cached_record, chapter_kernel, forget_cached, record_first_model, store_in_cache
from notebook_tools import CHAPTERS, exercises, nbgrader, read, wrong_answers

pytestmark = pytest.mark.slow

PATCH_COMPARISONS = """\
import math as _cheat_m, numpy as _cheat_np, torch as _cheat_t
_cheat_saved = (_cheat_t.allclose, _cheat_t.equal, _cheat_t.isclose, _cheat_np.allclose, _cheat_np.array_equal, _cheat_m.isclose,
                      _cheat_np.testing.assert_allclose)
_cheat_t.allclose = _cheat_t.equal = lambda *a, **k: True
_cheat_t.isclose = lambda a, b, *r, **k: _cheat_t.ones_like(_cheat_t.as_tensor(a), dtype=_cheat_t.bool)
_cheat_np.allclose = _cheat_np.array_equal = _cheat_m.isclose = lambda *a, **k: True
_cheat_np.testing.assert_allclose = lambda *a, **k: None
"""
RESTORE_COMPARISONS = """\
(_cheat_t.allclose, _cheat_t.equal, _cheat_t.isclose, _cheat_np.allclose, _cheat_np.array_equal, _cheat_m.isclose,
 _cheat_np.testing.assert_allclose) = _cheat_saved
"""


def test_every_wrong_answer_belongs_to_an_exercise():
    solution_ids = {nbgrader(read(p).cells[s])["grade_id"] for p in CHAPTERS for s, _ in exercises(read(p))}
    assert set(wrong_answers()) <= solution_ids and set(wrong_answers("GAMING_ANSWERS")) <= solution_ids


def without_asserts(source: str) -> str:
    """`source` with every ``assert`` that can no longer fail (what a hostile input transformer does).

    The assert's test still runs as an expression, for what it records (``assert _answer(...) == 3``), but its
    outcome is thrown away."""
    class Strip(ast.NodeTransformer):
        def visit_Assert(self, node):
            return ast.copy_location(ast.Expr(node.test), node)

    return ast.unparse(ast.fix_missing_locations(Strip().visit(ast.parse(source))))


def record_of(answers_dir: Path, grade_id: str) -> dict | None:
    path = answers_dir / f"{grade_id}.json"
    return answers.load(path) if path.exists() else None


def test_without_asserts_keeps_everything_else():
    assert without_asserts("x = 1\nassert f(x) == 2, 'no'\nif x:\n    assert False\ny = x") == \
        "x = 1\nf(x) == 2\nif x:\n    False\ny = x"


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_solutions_pass_and_wrong_answers_fail(path, tmp_path):
    nb = read(path)
    wrong, gaming = wrong_answers(), wrong_answers("GAMING_ANSWERS")
    forget_cached(path)  # a run that fails must not leave an older execution for the book to show
    with chapter_kernel(path, seed=0, answers_dir=tmp_path) as kernel:
        executed = kernel.run_all()
        store_in_cache(copy.deepcopy(executed), path, kernel.seconds)
        record_first_model(path, 0, kernel.first_model())
        assert cached_record(path) is not None, f"the book build would not find {path.name} in its cache"
        accepted_by_the_grader = []
        for solution_index, test_index in exercises(nb):
            solution, test = nb.cells[solution_index], nb.cells[test_index]
            grade_id, test_id = nbgrader(solution)["grade_id"], nbgrader(test)["grade_id"]
            reference = record_of(tmp_path, test_id)
            assert reference, (f"{test_id}: the hidden test records no answer for the grader "
                               f"(start it with answers.record({test_id!r}) and record what it checks)")
            for source in wrong[grade_id] + gaming.get(grade_id, []):
                try:
                    kernel.run(source, solution_index)
                except CellExecutionError:
                    continue  # a wrong answer that does not even run is rejected too
                if source in wrong[grade_id]:
                    with pytest.raises(CellExecutionError):
                        kernel.run(test.source, test_index)
                else:  # it games the kernel's asserts (else it belongs in WRONG_ANSWERS); only the verdict is left
                    kernel.run(test.source, test_index)
                # the hostile student: no asserts, comparisons that always agree; only the record decides
                (tmp_path / f"{test_id}.json").unlink(missing_ok=True)
                kernel.run(PATCH_COMPARISONS, test_index)
                try:
                    kernel.run(without_asserts(test.source), test_index)
                except CellExecutionError:
                    pass  # a forbidden call or an error part-way: the answers after it are missing
                finally:
                    kernel.run(RESTORE_COMPARISONS, test_index)
                if not answers.judge(reference, record_of(tmp_path, test_id)):
                    accepted_by_the_grader.append(f"{grade_id}: {source.strip().splitlines()[0][:60]}")
            kernel.run(solution.source, solution_index)
            (tmp_path / f"{test_id}.json").unlink(missing_ok=True)
            kernel.run(test.source, test_index)
            again = answers.judge(reference, record_of(tmp_path, test_id))
            assert not again, f"{test_id}: a second run of the solution records other answers: {again}"
        assert not accepted_by_the_grader, (
            f"{path.name}: the grader's verdict (the records, asserts removed) accepts {accepted_by_the_grader}: "
            "record what the asserts check")

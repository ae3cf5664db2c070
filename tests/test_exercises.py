"""Every exercise's tests accept its solution and reject each listed wrong answer.

One kernel per chapter, at seed 0: run the notebook top to bottom (the solutions must pass their
tests, the claims their hidden asserts), then, in the same kernel, swap in each wrong answer and
re-run the test cell, which must fail; finally put the solution back and check that it passes again.

This is the one seed-0 execution of each chapter in ``make test``: the notebook as it stands after the
top-to-bottom run goes into the jupyter-cache that the book build reads, so the book only renders it,
and the first model's fingerprint is kept for the seed test (tests/test_claims.py).

A wrong answer must also fail with the usual comparison functions patched to always agree
(the trick of a student who monkeypatches ``torch.allclose``): at least two exercises per
chapter (all of them, where a chapter has fewer) must reject every listed wrong answer that way,
so their hidden tests check
properties by more than one route.
"""
import copy

import pytest
from nbclient.exceptions import CellExecutionError

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
    assert set(wrong_answers()) <= solution_ids


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_solutions_pass_and_wrong_answers_fail(path):
    nb = read(path)
    wrong = wrong_answers()
    forget_cached(path)  # a run that fails must not leave an older execution for the book to show
    with chapter_kernel(path, seed=0) as kernel:
        executed = kernel.run_all()
        store_in_cache(copy.deepcopy(executed), path, kernel.seconds)
        record_first_model(path, 0, kernel.first_model())
        assert cached_record(path) is not None, f"the book build would not find {path.name} in its cache"
        resisting = []
        for solution_index, test_index in exercises(nb):
            solution, test = nb.cells[solution_index], nb.cells[test_index]
            grade_id = nbgrader(solution)["grade_id"]
            ran = cheats_rejected = 0
            for source in wrong[grade_id]:
                try:
                    kernel.run(source, solution_index)
                except CellExecutionError:
                    continue  # a wrong answer that does not even run is rejected too
                with pytest.raises(CellExecutionError):
                    kernel.run(test.source, test_index)
                ran += 1
                kernel.run(PATCH_COMPARISONS, test_index)
                try:
                    kernel.run(test.source, test_index)
                except CellExecutionError:
                    cheats_rejected += 1
                finally:
                    kernel.run(RESTORE_COMPARISONS, test_index)
            if ran and cheats_rejected == ran:
                resisting.append(grade_id)
            kernel.run(solution.source, solution_index)
            kernel.run(test.source, test_index)
        needed = min(2, len(exercises(nb)))
        assert len(resisting) >= needed, (
            f"{path.name}: only {resisting} reject a wrong answer when torch.allclose & co. are patched "
            f"to always agree; at least {needed} exercises must")

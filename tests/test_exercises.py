"""Every exercise's tests accept its solution and reject each listed wrong answer.

One kernel per chapter: run the notebook top to bottom (the solutions must pass their
tests), then, in the same kernel, swap in each wrong answer and re-run the test cell,
which must fail; finally put the solution back and check that it passes again.
"""
import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from notebook_tools import CHAPTERS, ROOT, exercises, nbgrader, read, wrong_answers

pytestmark = pytest.mark.slow


def test_every_wrong_answer_belongs_to_an_exercise():
    solution_ids = {nbgrader(read(p).cells[s])["grade_id"] for p in CHAPTERS for s, _ in exercises(read(p))}
    assert set(wrong_answers()) <= solution_ids


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_solutions_pass_and_wrong_answers_fail(path):
    nb = read(path)
    wrong = wrong_answers()
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "chapters")}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
        for solution_index, test_index in exercises(nb):
            solution, test = nb.cells[solution_index], nb.cells[test_index]
            grade_id = nbgrader(solution)["grade_id"]
            for source in wrong[grade_id]:
                try:
                    client.execute_cell(nbformat.v4.new_code_cell(source), solution_index)
                except CellExecutionError:
                    continue  # a wrong answer that does not even run is rejected too
                with pytest.raises(CellExecutionError):
                    client.execute_cell(nbformat.v4.new_code_cell(test.source), test_index)
            client.execute_cell(nbformat.v4.new_code_cell(solution.source), solution_index)
            client.execute_cell(nbformat.v4.new_code_cell(test.source), test_index)

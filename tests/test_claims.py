"""Claims under other seeds, and a first model that changes with the seed in every chapter.

``make test`` runs the chapters listed in ``chapters/seeded.txt`` top to bottom with ``NNPRACTICE_SEED=1``,
claims (hidden asserts) and exercises included, no book: a claim that holds only under seed 0 fails here.
``make claims SEEDS="0 1 2" CHAPTERS="03 07"`` runs any seeds and chapters (pytest ``--seeds``, ``--chapters``).

Every chapter's first model (the first module with parameters that runs forward) must start from other
weights under seeds 0 and 1: otherwise some seed in the chapter does not derive from ``env.seed`` and a
run under another seed repeats the same experiment. Seed 0's fingerprint comes from the exercise pass,
seed 1's from the seeded run; a chapter without one runs only until its first model has run forward.
"""
import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from notebook_runs import (
    SEEDED,
    chapter,
    chapter_kernel,
    record_first_model,
    recorded_first_model,
    seeded_entries,
)
from notebook_tools import CHAPTERS, setup_cell_source


def test_seeded_list_names_only_chapters():
    """A typo in chapters/seeded.txt must not silently drop a chapter from the seed-1 pass."""
    entries = seeded_entries()
    for entry in entries:
        chapter(entry)  # raises, naming the entry and the chapters there are
    assert len(entries) == len(set(entries)), f"{SEEDED.name} lists a chapter twice: {entries}"


def test_seeded_list_format():
    text = "# header\n\n03_workflow  # converted\n  07_data_augmentation\n"
    assert seeded_entries(text) == ["03_workflow", "07_data_augmentation"]
    with pytest.raises(ValueError, match=r"chapter='99_nothing' is not allowed: expected a chapter number or stem"):
        chapter("99_nothing")
    assert chapter("7") == chapter("07") == chapter(CHAPTERS[6].stem) == CHAPTERS[6]


@pytest.mark.slow
def test_claims_hold(claim_chapter, claim_seed):
    """The chapter top to bottom under this seed: every cell runs, every hidden assert holds."""
    path = chapter(claim_chapter)  # an entry of seeded.txt that is no chapter fails here, by name
    with chapter_kernel(path, claim_seed) as kernel:
        try:
            kernel.run_all()
        except CellExecutionError as error:
            pytest.fail(f"{path.name} fails under NNPRACTICE_SEED={claim_seed}:\n{str(error)[-3000:]}", pytrace=False)
        record_first_model(path, claim_seed, kernel.first_model())


def _first_model(path, seed: int) -> str:
    recorded = recorded_first_model(path, seed)
    if recorded is not None:
        return recorded
    with chapter_kernel(path, seed) as kernel:
        try:
            fingerprint = kernel.run_until_first_model()
        except CellExecutionError as error:
            pytest.fail(f"{path.name} fails under NNPRACTICE_SEED={seed} before any model runs:\n{str(error)[-3000:]}",
                        pytrace=False)
    record_first_model(path, seed, fingerprint)
    return fingerprint


@pytest.mark.slow
@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_two_seeds_give_different_first_models(path):
    zero, one = _first_model(path, 0), _first_model(path, 1)
    assert zero != one, (f"{path.name}: the first model starts from the same weights under seeds 0 and 1 ({zero}); "
                         "derive its seed from env.seed (env.derive_seed(k))")


@pytest.mark.slow
def test_first_model_probe_tells_a_literal_seed_from_a_derived_one(tmp_path):
    """The probe behind the test above: a model seeded with a literal starts the same under seeds 0 and 1, one
    seeded from env.seed does not; the run stops at the model's first forward pass."""
    fingerprints = {}
    for name, seeding in (("literal", "torch.manual_seed(0)"), ("derived", "torch.manual_seed(env.derive_seed(3))")):
        nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
        nb.cells = [nbformat.v4.new_code_cell(setup_cell_source()),
                    nbformat.v4.new_code_cell(f"import torch\n{seeding}\n"
                                              "model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU())"),
                    nbformat.v4.new_code_cell("torch.nn.ReLU()(torch.ones(2))  # no parameters: not a model\n"
                                              "model(torch.ones(1, 3))"),
                    nbformat.v4.new_code_cell("raise AssertionError('the run went on past the first model')")]
        path = tmp_path / f"{name}.ipynb"
        nbformat.write(nb, path)
        for seed in (0, 1):
            with chapter_kernel(path, seed) as kernel:
                fingerprints[name, seed] = kernel.run_until_first_model()
                assert "Sequential with 8 parameters" in fingerprints[name, seed]
                stopped, after = kernel.nb.cells[2], kernel.nb.cells[3]
                assert [o.ename for o in stopped.outputs if o.output_type == "error"] == ["FirstModelSeen"]
                assert after.execution_count is None, "the run went on past the first model"
    assert fingerprints["literal", 0] == fingerprints["literal", 1]
    assert fingerprints["derived", 0] != fingerprints["derived", 1]

"""Rules every chapter notebook follows (fast: no kernel is started)."""
import ast
import re

import pytest
import yaml

from notebook_tools import (
    CHAPTERS,
    ROOT,
    exercises,
    extras_used,
    nbgrader,
    read,
    repository_url,
    setup_cell_source,
    tags,
    wrong_answers,
)

ids = [p.stem for p in CHAPTERS]


def test_there_are_chapters_and_the_toc_lists_exactly_them():
    assert len(CHAPTERS) >= 2
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    for f in files:
        assert (ROOT / f).with_suffix(".ipynb").exists() or (ROOT / f).with_suffix(".md").exists(), f
    assert sorted(f for f in files if f.startswith("chapters/")) == [f"chapters/{p.stem}" for p in CHAPTERS]


def test_repository_url_is_stated_once_and_config_agrees():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["repository"]["url"] == repository_url()
    # the prose that shows the Colab install line quotes the same URL, and no other repository
    for doc in ("book/setup.md", "CONTRIBUTING.md"):
        text = (ROOT / doc).read_text()
        urls = set(re.findall(r"git\+(https://github\.com/[\w.-]+/[\w.-]+)", text))
        assert urls == {repository_url()}, (doc, urls)
    assert config["only_build_toc_files"] is True
    assert config["execute"]["execute_notebooks"] == "cache"  # the book renders what the exercise tests executed


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_committed_without_outputs(path):
    for cell in read(path).cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_anatomy(path):
    nb = read(path)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and re.match(r"# \d\d · ", first.source), "title '# NN · Title'"
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Learning goals" in text
    assert re.search(r"^## Summary", text, re.M) and re.search(r"^## References", text, re.M)
    assert "{cite}" in text
    assert len(re.findall(r"^# ", text, re.M)) == 1, "exactly one top-level title"
    code = [c for c in nb.cells if c.cell_type == "code"]
    # a chapter that needs an optional part of the library installs and checks it in its setup cell
    later_code = "\n".join(c.source for c in code[1:])
    assert code[0].source == setup_cell_source(extras_used(later_code))
    assert not any(re.search(r"^\s*from \S+ import \*", c.source, re.M) for c in code)
    assert nb.metadata["kernelspec"]["name"] == "python3"


def hollow_asserts(source: str) -> list[str]:
    """The asserts of ``source`` that check nothing measured: no assert at all, or a test that names no
    variable and calls nothing (``assert True``, ``assert 1 < 2``), so no run of the chapter could fail it."""
    tree = ast.parse(code_without_magics(source))
    asserts = [node for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    if not asserts:
        return ["(no assert)"]
    return [ast.unparse(node) for node in asserts
            if not any(isinstance(part, (ast.Name, ast.Call, ast.Attribute)) for part in ast.walk(node.test))]


def test_the_hollow_assert_rule_refuses_constant_asserts_and_accepts_measured_ones():
    assert hollow_asserts("assert True") == ["assert True"]
    assert hollow_asserts("x = 3\nassert 1 < 2, 'always'") == ["assert 1 < 2, 'always'"]
    assert hollow_asserts("print('no check here')") == ["(no assert)"]
    assert hollow_asserts("assert gap > 0.02, gap") == []
    assert hollow_asserts("assert history.last('val_loss') < 0.5") == []


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_claims_are_hidden_asserts(path):
    nb = read(path)
    claims = [c for c in nb.cells if c.cell_type == "code" and "remove-cell" in tags(c) and not nbgrader(c)]
    assert len(claims) >= 3, "every claim drawn from an experiment needs a hidden assert cell"
    for cell in claims:
        assert not hollow_asserts(cell.source), (hollow_asserts(cell.source), cell.source[:80])


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_exercises_are_nbgrader_cells(path):
    nb = read(path)
    pairs = exercises(nb)
    assert len(pairs) >= 2, "at least two exercises per chapter"
    grade_ids = [nbgrader(c)["grade_id"] for c in nb.cells if nbgrader(c)]
    assert len(grade_ids) == len(set(grade_ids)), "grade_id values must be unique"
    known_wrong = wrong_answers()
    for solution_index, test_index in pairs:
        solution, test = nb.cells[solution_index], nb.cells[test_index]
        meta = nbgrader(solution)
        assert meta["schema_version"] == 3 and not meta["grade"] and not meta["locked"]
        assert "### BEGIN SOLUTION" in solution.source and "### END SOLUTION" in solution.source
        assert "hide-input" in tags(solution)
        assert solution.metadata.get("mystnb", {}).get("code_prompt_show") == "Show a solution"
        tmeta = nbgrader(test)
        assert tmeta["locked"] and tmeta["points"] > 0 and tmeta["schema_version"] == 3
        assert "### BEGIN HIDDEN TESTS" in test.source and "### END HIDDEN TESTS" in test.source
        hidden = test.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
        assert not hollow_asserts(hidden), (meta["grade_id"], hollow_asserts(hidden))
        assert "remove-cell" in tags(test), "hidden tests must never reach the HTML book"
        assert known_wrong.get(meta["grade_id"]), f"{meta['grade_id']} needs a wrong answer in tests/wrong_answers/"


# A literal seed pins a random choice, so that NNPRACTICE_SEED=1 would rerun the same experiment:
# every seed in a chapter derives from env.seed (env.derive_seed(k), env.derive_seeds(n)).
LITERAL_SEED = re.compile(
    r"\bseeds?\s*=\s*[\[(]?\s*-?\d"            # seed=0, seeds=(0, 1, 2), seeds=[0]
    r"|\bmanual_seed\(\s*-?\d"                  # torch.manual_seed(0), Generator().manual_seed(7)
    r"|\b(?:default_rng|RandomState|Random|seed)\(\s*-?\d"  # numpy, random.Random(4), random.seed(0)
    r"|\bfor\s+\w*seed\w*\s+in\s+(?:range\(|[\[(]\s*\d)"  # for seed in range(5), for split_seed in (0, 1)
    r"|\b\w*SEEDS\b.*=\s*(?:range\(|[\[(]\s*\d)")     # SEEDS = (0, 1, 2), BUDGET, SEEDS = 12, (0, 1, 2)


def test_the_literal_seed_rule_catches_pinned_seeds_and_passes_derived_ones():
    pinned = ["torch.manual_seed(0)", "g = torch.Generator().manual_seed(7)", "rng = np.random.default_rng(3)",
              "fit(net, data, seed=0)", "SEEDS = (0, 1, 2)", "for seed in range(5):", "for split_seed in (0, 1):",
              "rng = random.Random(4)", "np.random.seed(1)", "run(seeds=[0, 1])"]
    derived = ["torch.manual_seed(env.derive_seed(0))", "fit(net, data, seed=env.derive_seed(3))",
               "SEEDS = env.derive_seeds(3)", "for seed in env.derive_seeds(5):", "rng = random.Random(seed)",
               "torch.manual_seed(seed)", "num_seeds = 3", "MNIST1D_SEED_NOTE = 'fixed'"]
    assert [line for line in pinned if not LITERAL_SEED.search(line)] == []
    assert [line for line in derived if LITERAL_SEED.search(line)] == []


def code_without_magics(source: str) -> str:
    """A code cell as Python: IPython's %magics and !shell lines blanked out."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_no_literal_seed_in_code_cells(path):
    found = [f"{line.strip()}" for cell in read(path).cells if cell.cell_type == "code"
             for line in code_without_magics(cell.source).splitlines() if LITERAL_SEED.search(line)]
    assert not found, "derive every seed from env.seed (env.derive_seed(k)); literal seeds left:\n" + "\n".join(found)


# The fixed datasets several chapters share: their generation seed defines the dataset, not a random choice.
FIXED_DATASETS = {("data", "load_mnist1d")}


def seeded_library_functions() -> dict[str, dict[str, int]]:
    """``{module: {function name: position of seed}}`` of the library functions and classes that take a ``seed``."""
    import importlib
    import inspect
    import pkgutil

    import nnpractice

    for info in pkgutil.iter_modules(nnpractice.__path__):  # every library module, imported or not yet
        importlib.import_module(f"nnpractice.{info.name}")
    found: dict[str, dict[str, int]] = {}
    for name in dir(nnpractice):
        module = getattr(nnpractice, name)
        if not inspect.ismodule(module) or not module.__name__.startswith("nnpractice."):
            continue
        module = importlib.import_module(module.__name__)
        for attr, value in vars(module).items():
            if (inspect.isfunction(value) or inspect.isclass(value)) and getattr(value, "__module__", "") == module.__name__:
                try:
                    parameters = inspect.signature(value).parameters
                except (TypeError, ValueError):
                    continue
                short = module.__name__.rsplit(".", 1)[1]
                if "seed" in parameters and (short, attr) not in FIXED_DATASETS:
                    names = [n for n, p in parameters.items() if n != "self"
                             and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
                    found.setdefault(short, {})[attr] = names.index("seed") if "seed" in names else 10**6
    return found


def unseeded_library_calls(source: str) -> list[str]:
    """The seeded library calls in ``source`` that pass no seed (by keyword, by position or through ``**``)."""
    import ast

    seeded = seeded_library_functions()
    code = code_without_magics(source)
    missing = []
    for node in ast.walk(ast.parse(code)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.attr in seeded.get(node.func.value.id, {})
                and len(node.args) <= seeded[node.func.value.id][node.func.attr]
                and not any(k.arg in ("seed", None) for k in node.keywords)):
            missing.append(f"{node.func.value.id}.{node.func.attr}(...) at line {node.lineno}: "
                           f"{ast.get_source_segment(code, node)[:80]}")
    return missing


def test_the_seeded_call_rule_finds_a_call_that_relies_on_its_default_seed():
    assert len(unseeded_library_calls("h = training.fit(net, (X, y), num_epochs=3)\n"
                                      "s = data.train_val_test_split(X, y)")) == 2
    assert unseeded_library_calls("h = training.fit(net, (X, y), num_epochs=3, seed=env.derive_seed(0))\n"
                                  "g = augment.make_generator(seed, env.device)\n"    # the seed by position
                                  "X, y, Xv, yv = data.load_mnist1d(4000)\n"         # a fixed dataset
                                  "h = training.fit(net, (X, y), **settings)") == []  # passed through **


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_seeded_library_calls_pass_the_notebook_seed(path):
    """A library call that shuffles or samples says which seed: its default would pin it to one run."""
    missing = []
    for cell in read(path).cells:
        if cell.cell_type == "code":
            missing += unseeded_library_calls(cell.source)
    assert not missing, "pass seed=env.derive_seed(k) to every seeded library call:\n" + "\n".join(missing)

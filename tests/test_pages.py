"""The book as a reader meets it (fast, no kernel): every chapter opens with learning goals and
ends with a summary and references; the glossary gives every term in Polish, Czech and Russian."""
import re

import pytest
import yaml

from notebook_tools import CHAPTERS, ROOT, read

ids = [p.stem for p in CHAPTERS]
GLOSSARY = ROOT / "book" / "glossary.md"

# "**Learning goals**", "**Learning goals.** After this chapter you can" or "## Learning goals".
GOALS = re.compile(r"^(\*\*Learning goals\.?\*\*|#{2,3} Learning goals\.?)[^\n]*$", re.M)
LIST_ITEM = re.compile(r"^(- |\* |\d+\. )\S", re.M)
LANGUAGES = re.compile(r"^\*\*PL\*\* (?P<PL>.*?) · \*\*CS\*\* (?P<CS>.*?) · \*\*RU\*\* (?P<RU>.*)$")

# Terms the syllabus teaches that the glossary must define (an entry or an alias of one).
REQUIRED_TERMS = [
    "hyperparameter", "parameter", "learning rate", "batch", "batch size", "epoch", "overfitting",
    "underfitting", "regularization", "l2 regularization", "l1 regularization", "weight decay",
    "early stopping", "dropout", "batch normalization", "label smoothing", "augmentation", "mixup",
    "cutmix", "cutout", "momentum", "adam", "learning-rate schedule", "one-cycle policy",
    "warm restarts", "lr range test", "ensemble", "ema", "snapshot ensemble", "bagging", "boosting",
    "grid search", "random search", "successive halving", "hyperband", "bayesian optimization",
    "genetic algorithm", "transfer learning", "fine-tuning", "autoencoder", "transposed convolution",
    "unpooling", "style transfer", "federated learning", "fedavg", "non-iid data", "onnx",
    "convolutional layer", "pooling", "stride", "padding", "cross-validation", "validation set",
]


def learning_goals_problem(nb) -> str | None:
    """Why the first markdown cell lacks a learning-goals list, or None when it has one."""
    first = next((c for c in nb.cells if c.cell_type == "markdown"), None)
    if first is None:
        return "no markdown cell"
    match = GOALS.search(first.source)
    if match is None:
        return "the first markdown cell has no '**Learning goals**' (or '## Learning goals')"
    if len(LIST_ITEM.findall(first.source[match.end():])) < 2:
        return "the learning goals are not a list of at least two items"
    return None


def ending_problem(nb) -> str | None:
    """Why the chapter does not end with '## Summary' then '## References', or None."""
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    text = "\n".join(markdown)
    summary = re.search(r"^## Summary\s*$", text, re.M)
    references = re.search(r"^## References\s*$", text, re.M)
    if summary is None or references is None:
        return "missing heading: " + ", ".join(h for h, m in (("## Summary", summary), ("## References", references)) if m is None)
    if summary.start() > references.start():
        return "'## References' comes before '## Summary'"
    if not re.search(r"^## References\s*$", markdown[-1], re.M):
        return "'## References' is not in the last markdown cell"
    if not re.search(r"\S", text[summary.end():references.start()]):
        return "the summary is empty"
    if "{cite}" not in text[references.end():]:
        return "the references cite nothing"
    return None


def glossary_entries(text: str) -> list[tuple[list[str], str]]:
    """``(terms, definition)`` pairs of the ``{glossary}`` block: unindented lines are terms
    (several in a row are aliases of one entry), indented lines are the definition."""
    block = re.search(r"^```\{glossary\}\n(.*?)^```\s*$", text, re.M | re.S)
    assert block, "book/glossary.md has a ```{glossary} block"
    entries: list[tuple[list[str], str]] = []
    terms: list[str] = []
    body: list[str] = []
    for line in block.group(1).splitlines():
        if line.startswith(":"):  # a directive option such as :sorted:
            continue
        if line.strip() and not line[0].isspace():
            if body:
                entries.append((terms, "\n".join(body)))
                terms, body = [], []
            terms.append(line.strip())
        elif line.strip():
            assert terms, f"definition line before any term: {line!r}"
            body.append(line.strip())
    if terms:
        entries.append((terms, "\n".join(body)))
    return entries


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_chapter_opens_with_learning_goals(path):
    problem = learning_goals_problem(read(path))
    assert problem is None, problem


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_chapter_ends_with_summary_and_references(path):
    problem = ending_problem(read(path))
    assert problem is None, problem


def test_glossary_has_sixty_terms_each_in_three_languages():
    entries = glossary_entries(GLOSSARY.read_text(encoding="utf-8"))
    assert len(entries) >= 60, f"{len(entries)} glossary entries"
    for terms, body in entries:
        assert body, f"{terms[0]}: no definition"
        lines = body.splitlines()
        languages = [m for m in map(LANGUAGES.match, lines) if m]
        assert len(languages) == 1, f"{terms[0]}: needs one line '**PL** … · **CS** … · **RU** …'"
        for language, term in languages[0].groupdict().items():
            assert term.strip(" †;,()"), f"{terms[0]}: empty {language} term"
        definition = " ".join(line for line in lines if not LANGUAGES.match(line))
        assert len(definition.split()) >= 5, f"{terms[0]}: the definition is too short"


def test_glossary_terms_are_unique_cover_the_syllabus_and_links_resolve():
    text = GLOSSARY.read_text(encoding="utf-8")
    names = [t.lower() for terms, _ in glossary_entries(text) for t in terms]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})
    missing = [t for t in REQUIRED_TERMS if t not in names]
    assert not missing, f"glossary lacks {missing}"
    for target in re.findall(r"\{term\}`([^`<]+?)(?:\s*<([^>]+)>)?`", text):
        name = (target[1] or target[0]).strip().lower()
        assert name in names, f"{{term}} link to unknown entry {name!r}"
    assert "†" in text and "not* in the notes" in text, "the dagger is explained at the top"


def test_toc_lists_the_glossary_in_back_matter_before_the_bibliography():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    back = [part for part in toc["parts"] if part.get("caption") == "Back matter"]
    assert back, "_toc.yml has a 'Back matter' part"
    files = [ch["file"] for ch in back[0]["chapters"]]
    assert "book/glossary" in files and "book/bibliography" in files
    assert files.index("book/glossary") < files.index("book/bibliography")


def test_setup_page_covers_local_colab_and_conda():
    text = (ROOT / "book" / "setup.md").read_text(encoding="utf-8")
    for needed in ("make lab", "pip install", "jupyter lab", "Colab", "Change runtime type", "GPU",
                   "conda env create -f environment.yml"):
        assert needed in text, f"book/setup.md does not mention {needed!r}"
    assert (ROOT / "environment.yml").exists()

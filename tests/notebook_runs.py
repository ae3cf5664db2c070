"""A chapter run as the tests run it: a fresh kernel, one seed, a probe on the first model, the book's cache.

Each chapter executes once per seed in ``make test``. The exercise pass runs it at seed 0 and stores the
executed notebook in the jupyter-cache that the book build reads (``execute_notebooks: cache``), so the
book only renders it; the seed pass runs the chapters of ``chapters/seeded.txt`` at seed 1. Every run
fingerprints the first model that runs forward, so a test can check that two seeds start from different
weights (a seed that does not derive from ``env.seed`` pins them).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import time
from pathlib import Path

import nbformat
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from notebook_tools import CHAPTERS, ROOT, read

# Jupyter Book 1 keeps its cache beside the HTML: `jupyter-book build .` reads _build/.jupyter_cache.
CACHE = ROOT / "_build" / ".jupyter_cache"
FIRST_MODELS = ROOT / "_build" / "first_models"
SEEDED = ROOT / "chapters" / "seeded.txt"
CELL_TIMEOUT = 300  # seconds, as the book build allows (_config.yml execute.timeout)

# Injected after the setup cell (outside the notebook, so neither the book nor the cache sees it): a global
# forward pre-hook fingerprints the parameters of the first module with parameters that runs forward, then
# removes itself. It leaves no name in the chapter's namespace. With stop=True it ends the run right there.
PROBE = """\
def _nnp_install_probe(stop):
    import hashlib, sys, types
    import torch
    probe = sys.modules["_nnp_probe"] = types.ModuleType("_nnp_probe")
    probe.first_model = None

    class FirstModelSeen(Exception):
        pass

    def fingerprint(module, args):
        params = [p for p in module.parameters() if not isinstance(p, torch.nn.parameter.UninitializedParameter)]
        if not params:
            return
        digest = hashlib.sha256()
        for p in params:
            digest.update(p.detach().to("cpu", torch.float64).contiguous().numpy().tobytes())
        probe.first_model = (f"{type(module).__name__} with {sum(p.numel() for p in params)} parameters, "
                             f"sha256 {digest.hexdigest()[:16]}")
        handle.remove()
        if stop:
            raise FirstModelSeen(probe.first_model)

    handle = torch.nn.modules.module.register_module_forward_pre_hook(fingerprint)
_nnp_install_probe(STOP)
del _nnp_install_probe
"""
READ_PROBE = 'print(__import__("sys").modules["_nnp_probe"].first_model)'


class ChapterKernel:
    """One chapter in a kernel of its own, started by :func:`chapter_kernel`."""

    def __init__(self, path: Path, seed: int, client: NotebookClient):
        self.path, self.seed, self.client, self.nb = path, seed, client, client.nb
        self.seconds = 0.0

    def run_all(self) -> nbformat.NotebookNode:
        """Every cell top to bottom, as ``NotebookClient.execute`` does; a failing cell raises CellExecutionError."""
        start = time.perf_counter()
        self._language_info()
        executed = 0
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type == "code" and cell.source.strip():
                executed += 1
                self.client.execute_cell(cell, index, execution_count=executed)
                if executed == 1:
                    self._inject(PROBE.replace("STOP", "False"), index)
        self.client.set_widgets_metadata()
        self.seconds = time.perf_counter() - start
        return self.nb

    def run_until_first_model(self) -> str:
        """Cells top to bottom until the first model has run forward (the run stops there); its fingerprint."""
        executed = 0
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            executed += 1
            try:
                self.client.execute_cell(cell, index, execution_count=executed)
            except CellExecutionError:
                if executed == 1 or self.first_model() is None:
                    raise
            if executed == 1:
                self._inject(PROBE.replace("STOP", "True"), index)
            elif self.first_model() is not None:
                return self.first_model()
        raise AssertionError(f"{self.path.name} at seed {self.seed}: no module with parameters ever ran forward")

    def first_model(self) -> str | None:
        """The fingerprint of the first model that ran forward, or None before any did."""
        cell = self._inject(READ_PROBE, 0)
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream").strip()
        return None if text == "None" else text

    def run(self, source: str, index: int) -> None:
        """Run `source` as if it were cell `index` (an exercise's wrong answer, its test again)."""
        self._aside(nbformat.v4.new_code_cell(source), index)

    def _inject(self, source: str, index: int):
        # store_history=False: the chapter's own cells keep the execution counts 1, 2, 3, ...
        return self._aside(nbformat.v4.new_code_cell(source), index, store_history=False)

    def _aside(self, cell, index: int, **options):
        """Execute a cell that is not the notebook's (nbclient would put it in the notebook at `index`)."""
        original = self.nb.cells[index]
        try:
            self.client.execute_cell(cell, index, **options)
        finally:
            self.nb.cells[index] = original
        return cell

    def _language_info(self) -> None:
        reply = self.client.wait_for_reply(self.client.kc.kernel_info())
        self.nb.metadata["language_info"] = reply["content"]["language_info"]


@contextlib.contextmanager
def chapter_kernel(path: Path, seed: int, answers_dir: Path | None = None):
    """A fresh kernel for chapter `path` with ``NNPRACTICE_SEED=seed``, working in the chapter's folder.

    With `answers_dir`, the hidden tests write their records there (``nnpractice.answers``), as under the grader.
    """
    client = NotebookClient(read(path), timeout=CELL_TIMEOUT, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    env = dict(os.environ, NNPRACTICE_SEED=str(seed))
    env.pop("NNPRACTICE_VARIANT", None)
    if answers_dir is not None:
        env["NNPRACTICE_ANSWERS_DIR"] = str(answers_dir)
    with client.setup_kernel(env=env):
        yield ChapterKernel(path, seed, client)


# --------------------------------------------------------------------------- the book's cache
@contextlib.contextmanager
def _locked(folder: Path):
    """One writer at a time (the notebook tests run two at a time, each in its own process)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".nnp-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def forget_cached(path: Path, cache_dir: Path = CACHE) -> None:
    """Drop the cached execution of `path`, so a run that fails leaves no stale outputs for the book."""
    with _locked(cache_dir):
        cache = get_cache(str(cache_dir))
        with contextlib.suppress(KeyError):
            cache.remove_cache(cache.match_cache_notebook(read(path)).pk)


def store_in_cache(executed: nbformat.NotebookNode, path: Path, seconds: float, cache_dir: Path = CACHE) -> int:
    """Add an executed copy of `path` to the book's jupyter-cache; return its record id.

    jupyter-cache keys a notebook by the hash of its code cells' sources and metadata and its kernelspec,
    so the book build finds this record for the committed file and renders it without executing it.
    """
    with _locked(cache_dir):
        cache = get_cache(str(cache_dir))
        record = cache.cache_notebook_bundle(
            CacheBundleIn(executed, str(path), data={"execution_seconds": seconds, "by": "tests/test_exercises.py"}),
            check_validity=True, overwrite=True)  # validity: execution counts 1, 2, 3, ... (one clean run)
        return record.pk


def cached_record(path: Path, cache_dir: Path = CACHE):
    """The cache record that the book build would use for `path`, or None."""
    if not (cache_dir / "global.db").exists():
        return None
    with _locked(cache_dir):
        try:
            return get_cache(str(cache_dir)).match_cache_notebook(read(path))
        except KeyError:
            return None


# --------------------------------------------------------------------------- first models by seed
def _code_key(path: Path) -> str:
    """What a first model depends on: the chapter and the library's source."""
    digest = hashlib.sha256(path.read_bytes())
    for source in sorted((ROOT / "src" / "nnpractice").rglob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()


def record_first_model(path: Path, seed: int, fingerprint: str | None) -> None:
    FIRST_MODELS.mkdir(parents=True, exist_ok=True)
    target = FIRST_MODELS / f"{path.stem}.seed{seed}.json"
    temporary = target.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"key": _code_key(path), "first_model": fingerprint}))
    os.replace(temporary, target)


def recorded_first_model(path: Path, seed: int) -> str | None:
    """The fingerprint an earlier run of this very chapter and library recorded, or None."""
    target = FIRST_MODELS / f"{path.stem}.seed{seed}.json"
    if not target.exists():
        return None
    data = json.loads(target.read_text())
    return data["first_model"] if data["key"] == _code_key(path) else None


# --------------------------------------------------------------------------- which chapters
def seeded_entries(text: str | None = None) -> list[str]:
    """The entries of chapters/seeded.txt: one chapter stem a line; '#' starts a comment."""
    text = SEEDED.read_text() if text is None else text
    return [line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()]


def chapter(name: str) -> Path:
    """The chapter a name means: its stem ('07_data_augmentation') or its number ('07', '7')."""
    for path in CHAPTERS:
        if path.stem == name or (re.fullmatch(r"\d{1,2}", name) and path.stem.startswith(f"{int(name):02d}_")):
            return path
    raise ValueError(f"chapter={name!r} is not allowed: expected a chapter number or stem, one of "
                     f"{[p.stem for p in CHAPTERS]}")


def chapter_names(spec: str) -> list[str]:
    """Chapter names from a command-line value: 'all', 'seeded' (chapters/seeded.txt) or numbers/stems."""
    if spec.strip() == "all":
        return [p.stem for p in CHAPTERS]
    if spec.strip() == "seeded":
        return seeded_entries()
    return spec.replace(",", " ").split()

"""The library's structure: one training loop, no import circle, plots never needs the loop."""
from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "nnpractice"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, ast.Module]:
    return {_module_name(p): ast.parse(p.read_text(), str(p)) for p in sorted(SRC.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _imports(module: str, tree: ast.Module, package: bool) -> set[str]:
    """Library modules that ``module`` imports, at the top or inside functions (not under TYPE_CHECKING)."""
    found = set()
    base = module.split(".") if package else module.split(".")[:-1]

    def visit(node):
        if isinstance(node, ast.If) and _is_type_checking(node):
            return
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parent = base[:len(base) - (node.level - 1)]
                target = ".".join(parent + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("nnpractice"):
                found.add(target)
                found.update(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("nnpractice"))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    sources = _sources()
    packages = {_module_name(p) for p in SRC.rglob("__init__.py")}
    graph = {}
    for module, tree in sources.items():
        targets = _imports(module, tree, module in packages)
        graph[module] = {t for t in targets if t in sources and t != module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the graph, as a list of modules, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = walk(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = walk(node)
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_library_has_no_import_circle():
    graph = import_graph()
    assert "nnpractice.training" in graph and "nnpractice.history" in graph
    # the package root imports everything and nothing imports it back at module level; leave it out
    inner = {m: {t for t in ts if t != "nnpractice"} for m, ts in graph.items() if m != "nnpractice"}
    assert find_cycle(inner) is None, find_cycle(inner)


def test_plots_never_imports_the_training_loop():
    graph = import_graph()
    plots = [m for m in graph if m == "nnpractice.plots" or m.startswith("nnpractice.plots.")]
    assert plots
    for module in plots:
        assert "nnpractice.training" not in graph[module], module


def _step_calls(tree: ast.Module) -> list[str]:
    """Optimizer work in a module: ``.backward()``, ``.zero_grad()``, and ``.step()`` with at most a closure
    (an optimizer's signature) on anything that is not a learning-rate scheduler (whose receiver's name says
    ``sched``); matplotlib's ``ax.step(x, y)`` takes data and is not one."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            receiver = ast.unparse(node.func.value)
            optimizer_step = name == "step" and len(node.args) <= 1 and "sched" not in receiver.lower()
            if name in ("backward", "zero_grad") or optimizer_step:
                found.append(f"line {node.lineno}: {receiver}.{name}()")
    return found


def test_the_step_walker_sees_a_hand_written_loop():
    loop = ast.parse("for xb, yb in batches:\n    opt.zero_grad()\n    loss(model(xb), yb).backward()\n"
                     "    opt.step()\n    scheduler.step()\n    ax.step(x, y, where='post')\n")
    assert len(_step_calls(loop)) == 3


def test_no_optimizer_step_in_the_library_outside_training():
    offenders = {module: calls for module, tree in _sources().items()
                 if module != "nnpractice.training" and (calls := _step_calls(tree))}
    assert not offenders, f"training loops outside training.fit: {offenders}"


def test_the_module_table_of_contributing_lists_every_module_and_no_other():
    import re

    text = (SRC.parents[1] / "CONTRIBUTING.md").read_text()
    section = text.split("## The library")[1].split("\n## ")[0]
    listed = set(re.findall(r"^\| `([\w/]+)` \|", section, re.M))
    present = {p.stem for p in SRC.glob("*.py")} | {f"{p.parent.name}/" for p in SRC.glob("*/__init__.py")}
    assert listed == present, (sorted(present - listed), sorted(listed - present))

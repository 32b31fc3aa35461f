"""The engine's folders are the stages a case goes through (issue 31, docs/architecture.md):
every import of ``grader/``, lazy ones included, goes down the stages, and no modules import
each other in a loop."""
import ast
from pathlib import Path

from conftest import ROOT

GRADER = ROOT / "grader"
ORDER = ["course", "worker", "judge", "report", "entry", "instructor", "cli", "package"]
"""Each stage may import the stages before it. ``entry``: grade.py, selfcheck.py,
signals.py and options.py; ``package``: ``grader/__init__`` (``grader.check``) and ``__main__``."""
ENTRY = {"grader.grade": "entry", "grader.selfcheck": "entry", "grader.signals": "entry",
         "grader.options": "entry",
         "grader.cli": "cli", "grader.__main__": "package", "grader": "package"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in GRADER.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the grader modules it imports anywhere in its file."""
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for t in targets:
                while t and t not in modules:  # an attribute of a module: the module
                    t = t.rpartition(".")[0]
                if t and t != name:
                    found.add(t)
        graph[name] = found
    return graph


def _stage(module: str) -> int:
    parts = module.split(".")
    if module in ENTRY:
        return ORDER.index(ENTRY[module])
    assert len(parts) > 1 and parts[1] in ORDER, f"{module} is in no stage folder"
    return ORDER.index(parts[1])


def _loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import loops (strongly connected components of more than one module)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))
    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_every_module_is_in_a_stage_folder_or_an_entry_point():
    modules = _modules()
    assert {m for m, path in modules.items() if m.count(".") == 1
            and path.name != "__init__.py"} - set(ENTRY) == set(), \
        "a module beside the entry points belongs in a stage folder"
    for m in modules:
        if modules[m].name != "__init__.py" or m.count(".") > 1:
            _stage(m)
    for folder in ("course", "worker", "judge", "report", "instructor"):
        doc = ast.get_docstring(ast.parse((GRADER / folder / "__init__.py").read_text()))
        assert doc and len(doc) > 80, f"grader/{folder} says what it holds"
    assert "What may cross" in (GRADER / "worker" / "README.md").read_text()


def test_no_import_loops():
    assert _loops(_imports(_modules())) == []


def test_every_import_goes_down_the_stages():
    graph = _imports(_modules())
    up = sorted(f"{a} -> {b}" for a, targets in graph.items() for b in targets
                if _stage(b) > _stage(a))
    assert up == []


def test_the_checks_find_what_they_look_for(tmp_path):
    """The two rules above fail on a loop and on an import up the stages."""
    graph = {"grader.course.a": {"grader.judge.b"}, "grader.judge.b": {"grader.course.a"}}
    assert _loops(graph) == [["grader.course.a", "grader.judge.b"]]
    assert _stage("grader.judge.b") > _stage("grader.course.a")
    assert _stage("grader.cli") > _stage("grader.instructor.batch") > _stage("grader.grade")

"""Which contract names each of a submission's definitions calls, read from its source.

The source is parsed, never run (parsing is safe in the grader): a loop that calls the
student's own gradient, a fit that applies the student's own autograd Function. A failing name
whose cause is another failing name it calls is told so (``judge.attribute``). Helpers in
between count: ``fit`` calling ``step`` calling ``grad`` uses ``grad``.
"""
from __future__ import annotations

import ast


UNPARSABLE = (SyntaxError, ValueError, MemoryError, RecursionError)
"""What parsing a student's source may raise: beside syntax errors, an expression nested a
few thousand levels deep exhausts the parser's memory or Python's recursion (a student can
write one on purpose: it once stopped the grader)."""


def parse(source: str) -> ast.Module | None:
    """A student's source as a tree, or None where it cannot be parsed (whatever the cause)."""
    try:
        return ast.parse(source)
    except UNPARSABLE:
        return None


def _referenced(node: ast.AST) -> set[str]:
    """Names a definition mentions: ``f(...)``, ``F.apply``, ``self.g`` all count."""
    found = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            found.add(sub.attr)
    return found


def contract_uses(source: str, names: set[str]) -> dict[str, set[str]]:
    """{contract name defined in ``source``: the other contract names it calls}; {} when the
    source is empty or does not parse."""
    tree = parse(source)
    if tree is None:
        return {}
    direct: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            direct[node.name] = _referenced(node) - {node.name}
    reach: dict[str, set[str]] = {}
    for name in direct:
        seen, todo = set(), [name]
        while todo:
            for other in direct.get(todo.pop(), ()):
                if other in direct and other not in seen:
                    seen.add(other)
                    todo.append(other)
        reach[name] = seen
    return {n: (reach[n] & names) - {n} for n in direct if n in names}

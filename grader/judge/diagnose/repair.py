"""A verified fix in the student's own code: small edits of a failing definition, each run
like any student code on every case of its check, the smallest that passes them all kept.

The edits come from an error model that holds for any NumPy/PyTorch course, never for one
exercise: operators and constants, ``mean``/``sum``, a name swapped for another in scope (``len``
of the wrong name among them), an index or ``axis``/``dim`` changed, arguments swapped, a keyword
argument dropped or added, a ``.clone()``/``.copy()`` added, a method call on a value removed
(``.squeeze()``, ``.detach()``), confusable APIs (``BCELoss``/``BCEWithLogitsLoss``,
``view``/``reshape``, ``np.max``/``np.maximum``), an update in place made a rebinding, a
condition around statements removed, two statements swapped, a statement moved into or out of
a loop, a statement removed.

Where no one edit passes every case, two edits are tried (``pairs``): a one-edit candidate that
brought the first failing case's output closer to the expected one (``distance``; at most
``PAIR_SEEDS`` of them, the closest first) is kept, and every one-edit change of *that* file is a
candidate (at most ``MAX_PAIRS`` in all). A mistake that needs two fixes (a wrong sign and a
missing factor, a wrong reduction and a statement out of its loop) is then found and said with
both of its lines. The budget of the whole search, one edit and two together, is
``grade.REPAIR_CPU_SECONDS`` of the candidates' CPU per failing definition (2 s), 6 s on the
clock, and it ends at the first candidate that runs past its limit (``grade.Session._search``).

This module only writes candidate sources (parsing is safe in the grader; nothing here runs the
student's code): ``grade.Session`` runs them, confined, through the same worker pool.
"""
from __future__ import annotations

import ast
import copy
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from grader.judge.diagnose.uses import parse

MAX_CANDIDATES = 600
"""At most this many one-edit candidates per failing definition (the cheapest rules first)."""
MAX_PAIRS = 600
"""At most this many two-edit candidates per failing definition (within the same CPU budget)."""
PAIR_SEEDS = 3
"""The one-edit candidates (closest to the expected output first) a second edit is tried on."""
GENERATED_FACTOR = 4
MAX_CANDIDATE_BYTES = 64 << 20
"""Candidates made per definition before the smallest ``MAX_CANDIDATES`` are kept: at most
``GENERATED_FACTOR`` times that many, and never more than these bytes of copies of the file
(a 4 MiB file with a few extra lines once made the grader hold 10 GB of them)."""
MAX_PROPOSALS = 20 * MAX_CANDIDATES
"""Expression edits proposed per definition at most (a definition with thousands of names in
scope proposes names x uses: 9 million, 30 s of the grader's CPU, for 3,000)."""
MAX_SOURCE_BYTES = 256 << 10
"""A file larger than this is not searched at all (a student's file is a few KiB)."""

CONFUSABLE = {
    "mean": ("sum",), "sum": ("mean",), "BCELoss": ("BCEWithLogitsLoss",),
    "BCEWithLogitsLoss": ("BCELoss",), "CrossEntropyLoss": ("NLLLoss",),
    "NLLLoss": ("CrossEntropyLoss",), "view": ("reshape",), "reshape": ("view",),
    "max": ("maximum",), "maximum": ("max",), "min": ("minimum",), "minimum": ("min",),
    "argmax": ("max",), "zeros": ("ones",), "ones": ("zeros",), "zeros_like": ("ones_like",),
    "ones_like": ("zeros_like",), "squeeze": ("unsqueeze",), "unsqueeze": ("squeeze",),
    "size": ("shape",), "shape": ("size",), "log": ("log1p",), "exp": ("expm1",),
    "sigmoid": ("tanh",), "tanh": ("sigmoid",),
    "permutation": ("shuffle",), "randn": ("rand",), "rand": ("randn",),
    "matmul": ("mul",), "mul": ("matmul",), "dot": ("outer",), "T": ("t",),
}
DROPPABLE_CALLS = {"squeeze", "unsqueeze", "detach", "item", "t", "float", "double", "flatten",
                   "ravel", "numpy", "clone", "copy", "abs", "sum", "mean", "tolist", "sqrt"}
BINOPS = {ast.Add: (ast.Sub,), ast.Sub: (ast.Add,), ast.Mult: (ast.Div, ast.Pow, ast.MatMult),
          ast.Div: (ast.Mult, ast.FloorDiv), ast.Pow: (ast.Mult,), ast.MatMult: (ast.Mult,),
          ast.FloorDiv: (ast.Div,)}
COMPARES = {ast.Lt: (ast.LtE, ast.Gt), ast.LtE: (ast.Lt, ast.GtE), ast.Gt: (ast.GtE, ast.Lt),
            ast.GtE: (ast.Gt, ast.LtE), ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,)}


@dataclass(frozen=True)
class Edit:
    """One candidate: the student's file with a small change."""

    line: int
    """The line of the student's file the change starts on (1-based)."""
    before: str
    """That line as the student wrote it (stripped)."""
    after: str
    """The line as the change makes it (stripped; '' where the line goes)."""
    source: str
    """The whole file with the change."""
    size: int
    """How much changes (characters of the changed text): the smallest fix is kept."""
    rank: int = 0
    """How likely the rule is (0 first): candidates are tried by (rank, size)."""
    also: tuple = ()
    """A second edit's (line, before, after) where the fix takes two (``pairs``)."""

    def parts(self) -> list[tuple[int, str, str]]:
        """(line, the student's line, the changed line) of each changed line, in order."""
        return sorted([(self.line, self.before, self.after), *self.also])

    def said(self, name: str, show: str, cases: str = "every case") -> str:
        """The report's line: ``show`` is ``fix`` (the line and its change) or ``line``;
        ``cases`` what the fix passes (``every public case`` in a self-check)."""
        parts = self.parts()
        if show == "line":
            lines = " and ".join(f"line {ln}: `{before[:160]}`" for ln, before, _ in parts)
            if len(parts) == 1:
                return f"{lines} — a small change of this line makes `{name}` pass {cases}"
            return f"{lines} — small changes of these two lines make `{name}` pass {cases}"
        said = " and ".join(
            f"line {ln}: `{before[:160]}` → " + (f"`{after[:160]}`" if after else "(removed)")
            for ln, before, after in parts)
        these = "this change" if len(parts) == 1 else "these two changes"
        return f"{said} — with {these} `{name}` passes {cases}"


def body_key(source: str, name: str) -> str | None:
    """A digest of the file's text, with ``name``: a batch searches each distinct key once
    and tells every student who shares it the fix it found, in the words and at the line of
    the file searched, so only the same text may share it. (Narrower keys were shared by
    files that behaved otherwise: a class body, or a call its main block made, replaced the
    definition only in the repair search's copies; the same code under other comments or
    lines put the first file's comment, at its line, in a classmate's report.) None where
    ``name`` is not defined at the top."""
    tree = parse(source)
    if tree is None or not any(getattr(n, "name", None) == name for n in tree.body):
        return None
    return hashlib.sha256(f"{name}\n{source}".encode("utf-8", "surrogatepass")).hexdigest()


class _Text:
    """The source as bytes with line offsets (``ast`` columns count UTF-8 bytes)."""

    def __init__(self, source: str):
        self.data = source.encode("utf-8")
        self.lines = source.splitlines(keepends=True)
        self.starts = [0]
        for ln in self.lines:
            self.starts.append(self.starts[-1] + len(ln.encode("utf-8")))

    def offset(self, line: int, col: int) -> int:
        return self.starts[line - 1] + col

    def replace(self, node: ast.AST, text: str) -> str:
        a = self.offset(node.lineno, node.col_offset)
        b = self.offset(node.end_lineno, node.end_col_offset)
        return (self.data[:a] + text.encode("utf-8") + self.data[b:]).decode("utf-8")

    def parenthesised(self, node: ast.AST) -> bool:
        """Whether the node's text already stands between parentheses of its own."""
        a = self.offset(node.lineno, node.col_offset)
        b = self.offset(node.end_lineno, node.end_col_offset)
        return self.data[a - 1:a] == b"(" and self.data[b:b + 1] == b")"

    def line(self, number: int) -> str:
        return self.lines[number - 1].strip() if 0 < number <= len(self.lines) else ""

    def segment(self, node: ast.AST) -> str:
        """The node's own text (``ast.get_source_segment`` splits the whole source each
        time: hundreds of candidates per definition made that the search's main cost)."""
        a = self.offset(node.lineno, node.col_offset)
        b = self.offset(node.end_lineno, node.end_col_offset)
        return self.data[a:b].decode("utf-8", errors="replace")

    def line_after(self, node: ast.AST, text: str) -> str:
        """Line ``node.lineno`` once the node's text is replaced by ``text``."""
        a = self.offset(node.lineno, node.col_offset)
        b = self.offset(node.end_lineno, node.end_col_offset)
        start, end = self.starts[node.lineno - 1], self.starts[node.end_lineno]
        piece = (self.data[start:a] + text.encode("utf-8") + self.data[b:end]).decode(
            "utf-8", errors="replace").splitlines()
        return piece[0].strip() if piece else ""


def _scope_names(fn: ast.AST) -> tuple[list[str], set[str]]:
    """The names in scope inside a definition (its parameters and what it assigns), and the
    parameters its body never reads."""
    params, assigned, loaded = [], [], set()
    for sub in ast.walk(fn):
        if isinstance(sub, ast.arguments):
            for a in [*sub.posonlyargs, *sub.args, *sub.kwonlyargs]:
                if a.arg not in ("self", "ctx", "cls") and a.arg not in params:
                    params.append(a.arg)
        elif isinstance(sub, ast.Name):
            if isinstance(sub.ctx, ast.Store) and sub.id not in assigned:
                assigned.append(sub.id)
            elif isinstance(sub.ctx, ast.Load):
                loaded.add(sub.id)
    names = [*params, *(n for n in assigned if n not in params)]
    return names, params, {p for p in params if p not in loaded}


def _expression_edits(fn: ast.AST) -> list[tuple[int, ast.AST, ast.AST]]:
    """(rank, node, replacement) for each expression rule."""
    names, params, unused = _scope_names(fn)
    out: list[tuple[int, ast.AST, ast.AST]] = []

    def add(rank, node, new):
        if len(out) >= MAX_PROPOSALS:  # thousands of names in scope: names x uses
            raise _Enough
        out.append((rank, node, new))

    try:
        _propose(fn, names, params, unused, add)
    except _Enough:
        pass
    return out


class _Enough(Exception):
    """``MAX_PROPOSALS`` reached."""


def _propose(fn: ast.AST, names, params, unused, add) -> None:
    """Every expression rule's proposals for ``fn``, each given to ``add``."""

    # x.append(x): a value passed to a method of itself is never a fix (a list that holds
    # itself makes np.array recurse until the candidate runs past its limit)
    receiver = {id(arg): call.func.value.id for call in ast.walk(fn)
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and
                isinstance(call.func.value, ast.Name) for arg in call.args}
    for node in ast.walk(fn):
        if isinstance(node, ast.Attribute):
            for other in CONFUSABLE.get(node.attr, ()):
                add(0, node, ast.Attribute(node.value, other, node.ctx))
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id in names:
                for other in names:
                    if other != node.id and receiver.get(id(node)) != other:
                        add(2, node, ast.Name(other, ast.Load()))
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and \
                not isinstance(node.value, bool):
            v = node.value
            options = ({v + 1, v - 1, 0, 1, -1} if isinstance(v, int)
                       else {-v, 2 * v, v / 2, 1.0, 0.0})
            for w in sorted(options - {v}, key=lambda x: (abs(x - v), x)):
                add(1, node, ast.Constant(w))
        if isinstance(node, ast.BinOp):
            for op in BINOPS.get(type(node.op), ()):
                add(1, node, ast.BinOp(node.left, op(), node.right))
            add(3, node, node.left)
            add(3, node, node.right)
        if isinstance(node, ast.BinOp) and isinstance(node.left, ast.BinOp):
            inner = node.left  # (a o1 b) o2 c regrouped as a o1 (b o c): a precedence slip
            for op in (type(node.op), *BINOPS.get(type(node.op), ())):
                add(1, node, ast.BinOp(inner.left, inner.op,
                                       ast.BinOp(inner.right, op(), node.right)))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            add(1, node, node.operand)
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            for op in COMPARES.get(type(node.ops[0]), ()):
                add(1, node, ast.Compare(node.left, [op()], node.comparators))
        if isinstance(node, ast.Call):
            func = node.func
            method = func.attr if isinstance(func, ast.Attribute) else None
            if method in DROPPABLE_CALLS and not node.args and not node.keywords:
                add(1, node, func.value)
            if method == "detach" and not node.args:
                add(1, node, ast.Call(ast.Attribute(node, "clone", ast.Load()), [], []))
            if method == "append" and len(node.args) == 1:
                for copier in ("copy", "clone"):
                    add(1, node, ast.Call(func, [ast.Call(ast.Attribute(
                        node.args[0], copier, ast.Load()), [], [])], []))
            args = node.args
            for i in range(len(args)):
                for j in range(i + 1, len(args)):
                    swapped = list(args)
                    swapped[i], swapped[j] = args[j], args[i]
                    add(2, node, ast.Call(func, swapped, node.keywords))
            for k in range(len(node.keywords)):
                add(2, node, ast.Call(func, args, node.keywords[:k] + node.keywords[k + 1:]))
            have = {k.arg for k in node.keywords}
            passed = {a.id for a in args if isinstance(a, ast.Name)} | {
                k.value.id for k in node.keywords if isinstance(k.value, ast.Name)}
            # a parameter the body never reads, or (in a call with keywords) one it does not
            # pass, passed by its own name
            for p in sorted(unused | ({q for q in params if q not in passed}
                                      if node.keywords else set())):
                if p not in have:
                    add(0 if p in unused else 2, node, ast.Call(func, args, [*node.keywords, ast.keyword(
                        p, ast.Name(p, ast.Load()))]))
            if any(k.arg in ("axis", "dim") for k in node.keywords) and \
                    not ({"keepdims", "keepdim"} & have):
                word = "keepdims" if any(k.arg == "axis" for k in node.keywords) else "keepdim"
                add(1, node, ast.Call(func, args, [*node.keywords, ast.keyword(
                    word, ast.Constant(True))]))
    for stmt in ast.walk(fn):  # a parameter the body never reads, in place of a value
        if isinstance(stmt, ast.Assign) and unused:
            for p in sorted(unused):
                add(0, stmt.value, ast.Name(p, ast.Load()))


def _blocks(fn: ast.AST):
    """Every statement list inside a definition, with the statement that holds it."""
    for node in ast.walk(fn):
        for attr in ("body", "orelse"):
            block = getattr(node, attr, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt) and \
                    node is not fn:
                yield node, block
    yield fn, fn.body


def _span(stmt: ast.stmt) -> tuple[int, int]:
    start = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
    return start, stmt.end_lineno


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _shift(lines: list[str], by: int) -> list[str]:
    if by >= 0:
        return [" " * by + ln if ln.strip() else ln for ln in lines]
    return [ln[-by:] if ln[:-by].strip() == "" else ln.lstrip() for ln in lines]


def _statement_edits(source: str, fn: ast.AST) -> Iterator[tuple[int, str, str, int]]:
    """(line, changed line, new source, rank) for the statement rules, one at a time (each is
    a whole copy of the file: ``candidates`` stops taking them at its budget)."""
    lines = source.splitlines(keepends=True)

    def rebuild(start, end, new_lines):
        return "".join(lines[:start - 1] + new_lines + lines[end:])

    for owner, block in _blocks(fn):
        for k, stmt in enumerate(block):
            a, b = _span(stmt)
            chunk = lines[a - 1:b]
            if isinstance(stmt, ast.AugAssign):  # an update in place made a rebinding
                try:
                    target = ast.unparse(stmt.target)
                    text = f"{target} = {target} {_op(stmt.op)} ({ast.unparse(stmt.value)})"
                except (RecursionError, ValueError):  # nested deeper than unparse goes
                    text = None
                if text is not None and stmt.lineno == stmt.end_lineno:
                    yield a, text, rebuild(a, b, [" " * _indent(chunk[0]) + text + "\n"]), 1
            if isinstance(stmt, ast.If) and not stmt.orelse:  # the condition removed
                ba, bb = stmt.body[0].lineno, stmt.body[-1].end_lineno
                inner = lines[ba - 1:bb]
                new = _shift(inner, _indent(chunk[0]) - _indent(inner[0]))
                yield a, new[0].strip(), rebuild(a, b, new), 1
            if len(block) > 1 and not (isinstance(owner, (ast.FunctionDef, ast.ClassDef)) and
                                       k == 0 and isinstance(stmt, ast.Expr) and
                                       isinstance(stmt.value, ast.Constant)):
                new = rebuild(a, b, [])
                yield a, "", new, 3  # the statement removed
            if k + 1 < len(block):  # two statements swapped
                c, d = _span(block[k + 1])
                yield a, lines[c - 1].strip(), "".join(
                    lines[:a - 1] + lines[c - 1:d] + lines[a - 1:b] + lines[d:]), 2
            if isinstance(stmt, (ast.For, ast.While)) and k + 1 < len(block):
                c, d = _span(block[k + 1])  # the next statement moved into the loop
                body_indent = _indent(lines[stmt.body[0].lineno - 1])
                moved = _shift(lines[c - 1:d], body_indent - _indent(lines[c - 1]))
                yield c, lines[c - 1].strip(), "".join(
                    lines[:b] + moved + lines[b:c - 1] + lines[d:]), 2
            if isinstance(stmt, (ast.For, ast.While)) and len(stmt.body) > 1:
                c, d = _span(stmt.body[-1])  # the loop's last statement moved after it
                moved = _shift(lines[c - 1:d], _indent(chunk[0]) - _indent(lines[c - 1]))
                yield c, lines[c - 1].strip(), "".join(
                    lines[:c - 1] + lines[d:b] + moved + lines[b:]), 2


def _op(op: ast.operator) -> str:
    return ast.unparse(ast.BinOp(ast.Name("a"), op, ast.Name("b")))[2:-2].strip()


def candidates(source: str, name: str, limit: int = MAX_CANDIDATES) -> list[Edit]:
    """One-edit changes of ``name``'s top-level definition in ``source``, each once (the same
    new file from two rules counts once), the smallest first."""
    if len(source) > MAX_SOURCE_BYTES:
        return []
    tree = parse(source)
    if tree is None:
        return []
    fn = next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                      ast.ClassDef)) and n.name == name), None)
    if fn is None:
        return []
    text = _Text(source)
    seen, out = {source}, []
    # Each candidate is a whole copy of the file: at most this many are made.
    room = min(GENERATED_FACTOR * limit, MAX_CANDIDATE_BYTES // max(len(source), 1))

    def keep(line, after, new, size, rank) -> bool:
        """Take one candidate; False once there is no room for more. Not parsed here: every
        edit is made from the syntax tree, and the few that do not compile (an emptied
        block, a ``break`` moved out of its loop) fail to import in the candidates' fork,
        which parses each candidate anyway (compiling each here too was most of the
        search's CPU in the grader)."""
        if new not in seen:
            seen.add(new)
            out.append(Edit(line, text.line(line), after, new, size, rank))
        return len(out) < room

    for rank, node, new_node in _expression_edits(fn):
        try:
            replacement = ast.unparse(ast.fix_missing_locations(copy.copy(new_node)))
        except Exception:
            continue
        if (isinstance(new_node, (ast.BinOp, ast.UnaryOp)) or (
                isinstance(new_node, ast.Constant) and isinstance(new_node.value, (int, float))
                and new_node.value < 0)) and not text.parenthesised(node):
            replacement = f"({replacement})"
        old = text.segment(node)
        new = text.replace(node, replacement)
        changed = text.line_after(node, replacement)
        if not keep(node.lineno, changed, new, abs(len(replacement) - len(old)) +
                    _distance(old, replacement), rank):
            break
    for line, after, new, rank in _statement_edits(source, fn) if len(out) < room else ():
        if not keep(line, after, new, len(after) or 10, rank):
            break
    out.sort(key=lambda e: (e.rank, e.size))
    return out[:limit]


def pairs(source: str, name: str, first: Edit, limit: int = MAX_PAIRS) -> list[Edit]:
    """Two-edit candidates: ``first`` (a one-edit candidate of ``source``) and then each
    one-edit change of its file, said against the student's lines. Only a first edit that
    keeps the file's line count is used (the second edit's line is then the student's line);
    a second edit that undoes the first is left out."""
    if first.source.count("\n") != source.count("\n"):
        return []
    out = []
    for second in candidates(first.source, name, limit):
        if second.source == source:
            continue
        if second.line == first.line:  # both on one line: said as one change of it
            out.append(Edit(first.line, first.before, second.after, second.source,
                            first.size + second.size, first.rank + second.rank))
        else:
            out.append(Edit(first.line, first.before, first.after, second.source,
                            first.size + second.size, first.rank + second.rank,
                            also=((second.line, second.before, second.after),)))
    return out


def distance(actual, expected) -> float:
    """How far a described output is from the expected one: the summed absolute difference
    of every pair of described arrays over the expected ones' summed magnitude (inf where a
    shape differs, a value is not finite, or nothing numeric pairs). Used only to choose
    which one-edit candidates a second edit is tried on, never to judge."""
    from grader.course.probes import described_array
    from grader.judge.diagnose.outputs import walk
    total = [0.0, 0.0, 0]

    def look(a, e):
        av = described_array(a) if isinstance(a, dict) else None
        ev = described_array(e) if isinstance(e, dict) else None
        if av is None or ev is None:
            return None
        try:
            av, ev = np.asarray(av, dtype=np.float64), np.asarray(ev, dtype=np.float64)
        except (TypeError, ValueError):
            return True
        if av.shape != ev.shape or not np.all(np.isfinite(av)):
            return True  # stops the walk: no closeness to speak of
        total[0] += float(np.abs(av - ev).sum())
        total[1] += float(np.abs(ev).sum())
        total[2] += 1
        return None
    try:
        if walk(actual, expected, look) or not total[2]:
            return float("inf")
    except Exception:  # an odd output: no closeness to speak of
        return float("inf")
    return total[0] / (total[1] + 1e-12)


def _distance(a: str, b: str) -> int:
    """The characters that differ once the common head and tail are set aside."""
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    j = 0
    while j < min(len(a), len(b)) - i and a[-1 - j] == b[-1 - j]:
        j += 1
    return max(len(a), len(b)) - i - j



@dataclass(frozen=True)
class Relative:
    """A fix found for one body of a definition, kept relative to the definition's first line
    (another student with the same body elsewhere in the file gets the same fix)."""

    offset: int
    before: str
    after: str
    also: tuple = ()
    """A second edit's (offset, before, after)."""

    @staticmethod
    def of(edit: Edit, source: str, name: str) -> "Relative":
        start = _start(source, name)
        return Relative(edit.line - start, edit.before, edit.after,
                        tuple((line - start, b, a) for line, b, a in edit.also))

    def at(self, source: str, name: str) -> Edit:
        start = _start(source, name)
        return Edit(start + self.offset, self.before, self.after, "", 0,
                    also=tuple((start + off, b, a) for off, b, a in self.also))


def _start(source: str, name: str) -> int:
    tree = ast.parse(source)
    node = next(n for n in tree.body if getattr(n, "name", None) == name)
    return min([node.lineno] + [d.lineno for d in node.decorator_list])

"""Exceptions whose cause is known whatever the exercise, explained with the student's line."""
from __future__ import annotations

import re

from grader.judge.diagnose.cause import Diagnosis

# Exceptions whose cause is known whatever the exercise: (name, pattern over "Type: message",
# pattern over where it was raised, hint). The first that matches is said.
ERROR_CAUSES = (
    ("starts processes", r"^(PermissionError|BlockingIOError|OSError|RuntimeError)",
     r"multiprocessing|dataloader|popen|spawn|fork|worker",
     "your code starts other processes (a DataLoader with num_workers > 0, or "
     "multiprocessing), which grading does not allow: use num_workers=0"),
    ("ctx.saved_tensor", r"has no attribute 'saved_tensor'",
     "", "the saved tensors are `ctx.saved_tensors` (plural, a tuple): "
         "`(x,) = ctx.saved_tensors`"),
    ("float32 meets float64", r"must have the same dtype|expected scalar type (Double|Float)|"
     r"[Ff]ound dtype (Double|Float) but expected|expected both vectors to have same dtype",
     "", "float32 and float64 meet in one operation: tensors and layers default to float32, "
         "the inputs here are float64 (use dtype=torch.float64, .double(), or the inputs' "
         "dtype)"),
    ("in-place update of a leaf", r"leaf Variable that requires grad is being used in an in-place operation",
     "", "a parameter that requires grad is changed in place outside torch.no_grad(): wrap "
         "the update in `with torch.no_grad():`"),
    ("a module used without its import",
     r"^NameError: name '(np|numpy|torch|nn|F|optim|plt|math)' is not defined", "",
     "a module is used under a name this file never imports: add its import at the top "
     "(`import numpy as np`, `import torch`, `from torch import nn`), since the grader runs "
     "your file on its own, not after the notebook's earlier cells"),
    ("nothing saved for backward", r"not enough values to unpack \(expected \d+, got 0\)",
     r"saved_tensors",
     "nothing was saved for backward: forward must call ctx.save_for_backward(input) for "
     "backward to find it in ctx.saved_tensors"),
    ("a gradient that is None",
     r"unsupported operand type\(s\) for .*'NoneType'|'NoneType' object has no attribute",
     r"\.grad\b",
     "a gradient is None: backward() has not run yet when it is used (call loss.backward() "
     "before the update), or the tensor does not require grad, or its gradient was set to "
     "None and not computed again"),
    ("a reduction lost its axis",
     r"could not be broadcast together with shapes \((\d+),(\d+)\) \(\1,\)|"
     r"size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\) at "
     r"non-singleton dimension 1", "",
     "a sum, max or mean over each row came back as a 1-D array, which then meets the rows "
     "the wrong way: keep its axis (keepdims=True, or [:, None]) so it divides row by row"),
    ("a built-in used as a value", r"'builtin_function_or_method'", "",
     "a built-in function is used as a value: a name such as `input`, `sum` or `max` was "
     "never given a value here, so Python's own function stands in; in a backward, the tensors "
     "of forward come back from the context: `(input,) = ctx.saved_tensors`"),
    ("the graph used twice", r"backward through the graph a second time", "",
     "backward() frees the graph of the loss it is called on: compute the loss again at every "
     "step, inside the loop (a loss computed once, before it, can be backpropagated once)"),
    ("unpacking mismatch", r"(too many|not enough) values to unpack|cannot unpack non-iterable",
     "", "an unpacking does not match what is unpacked: check how many values the right-hand "
         "side holds (for example `b, w = params`, not `b, w = params[0]`)"),
)


def explain_error(error: dict) -> Diagnosis | None:
    """The cause of an exception that is known whatever the exercise, or None."""
    text = f"{error.get('type', '')}: {error.get('message', '')}"
    frames = error.get("frames") or []
    # where it was raised: the module and function, and the student's line of code if any
    origin = " ".join([str(error.get("origin") or "")] +
                      [str(f.get("code") or "") for f in frames[-1:] if isinstance(f, dict)])
    for name, pattern, where, hint in ERROR_CAUSES:
        if re.search(pattern, text) and (not where or re.search(where, origin, re.I)
                                         or re.search(where, text, re.I)):
            return Diagnosis(name, hint)
    return None


SOURCE_LINES = {
    "starts processes": r"num_workers\s*=\s*(?!0\b)\w|multiprocessing|\bPool\(|\bProcess\(",
}
"""For causes whose exception is raised outside the student's code (a DataLoader's workers
start when the grader iterates it), where to find the student's line that causes it."""


def student_line(source: str, name: str, cause: str) -> tuple[int, str] | None:
    """(line number, code) of the first line of ``name``'s definition (else of the whole
    source) that matches the cause's pattern; None when nothing does."""
    import ast
    pattern = SOURCE_LINES.get(cause)
    if not pattern:
        return None
    lines = source.splitlines()
    from grader.judge.diagnose.uses import parse
    tree = parse(source)
    spans = [(node.lineno, node.end_lineno) for node in tree.body
             if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name] \
        if tree is not None else []
    for start, end in [*spans, (1, len(lines))]:
        for number in range(start, end + 1):
            if re.search(pattern, lines[number - 1]):
                return number, lines[number - 1].strip()
    return None

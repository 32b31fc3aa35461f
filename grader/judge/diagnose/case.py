"""A case's inputs as the diagnoses read them: its arguments, its samples, its batches, the
quantities a wrong factor often equals."""
from __future__ import annotations

from typing import Any

import numpy as np


def plain(value: Any) -> Any:
    """An input as the numbers it holds (a tensor marker's array), else itself."""
    if isinstance(value, dict) and "__tensor__" in value:
        return np.asarray(value["__tensor__"])
    return value


def arguments(inputs: dict | None) -> list[tuple[str, Any]]:
    """A case's inputs with the words that name them: ``argument 4`` or ```lr```: the
    positional ``args`` and the ``kwargs``, then every other input a probe passes by name (a
    course probe's ``X``, ``lr``; the ``train`` probe's ``model``); keys starting with ``_``
    are not inputs."""
    if not isinstance(inputs, dict):
        return []
    args = inputs.get("args", []) or []
    kwargs = inputs.get("kwargs", {}) or {}
    if not isinstance(args, (list, tuple)):
        args = []
    if not isinstance(kwargs, dict):
        kwargs = {}
    named = [(k, v) for k, v in inputs.items() if isinstance(k, str)
             and k not in ("args", "kwargs") and not k.startswith("_")]
    return [*((f"argument {i + 1}", v) for i, v in enumerate(args)),
            *((f"`{k}`", v) for k, v in [*kwargs.items(), *named])]


def is_index_batches(value: Any) -> bool:
    """A list of 1-D index arrays (the batches of an epoch)."""
    return isinstance(value, (list, tuple)) and bool(value) and all(
        isinstance(v, np.ndarray) and v.ndim == 1 and v.dtype.kind in "iu" for v in value)


def case_quantities(inputs) -> list[tuple[str, float]]:
    """Numbers of a case that a wrong constant factor often equals, with their names: the
    number of samples (an array or tensor argument's length), the batch size (of a list of
    index batches), and whole-number arguments (steps, epochs, sizes)."""
    found: list[tuple[str, float]] = []
    lengths = [np.shape(plain(v))[0] for _, v in arguments(inputs)
               if isinstance(plain(v), np.ndarray) and plain(v).ndim >= 1]
    n = max(lengths, default=0)  # the samples are the longest arrays (not a parameter pair)
    for where, raw in arguments(inputs):
        value = plain(raw)
        shape = getattr(value, "shape", None)
        if shape is not None and len(shape) >= 1 and shape[0] > 1:
            if shape[0] == n:
                found.append(("N, the number of samples", float(shape[0])))
        elif is_index_batches(value):
            found.append(("the batch size", float(len(value[0]))))
            found.append(("the number of batches", float(len(value))))
        elif isinstance(value, int) and not isinstance(value, bool) and value > 2:
            found.append((f"{where} (a whole number of the case)", float(value)))
    seen, out = set(), []
    for name, q in found:
        if q not in seen:
            seen.add(q)
            out.append((name, q))
    return out

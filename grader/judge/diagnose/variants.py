"""Variations of a case's inputs that reproduce a common mistake when the reference runs on them.

A student who takes the loss of the last batch only, sums a loss where the mean is expected
(every step N times too large), or halves the learning rate returns exactly what the reference
returns on inputs changed the same way. The variations are made from the structure of the
inputs alone (samples, lists of index batches, real-valued arguments), so they serve any
course: the diagnoser runs the reference on each, in the grader, and a match names the cause.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.judge.diagnose.case import arguments, case_quantities, is_index_batches, plain


@dataclass(frozen=True)
class Variant:
    name: str
    """Short, for class statistics."""
    hint: str
    inputs: dict
    scale: float = 1.0
    """The student's recorded values may also be this many times the reference's (a loss
    summed rather than averaged is both a larger step and a larger recorded value)."""


def _replace(inputs: dict, where: str, value: Any) -> dict:
    """``inputs`` with the argument ``where`` (as ``arguments`` names it) set to ``value``."""
    out = dict(inputs)
    if where.startswith("argument "):
        args = list(out["args"])
        args[int(where.split()[1]) - 1] = value
        out["args"] = args
    elif where.strip("`") in out and where.strip("`") not in (out.get("kwargs") or {}):
        out[where.strip("`")] = value  # an input a probe passes by name
    else:
        kwargs = dict(out.get("kwargs", {}))
        kwargs[where.strip("`")] = value
        out["kwargs"] = kwargs
    return out


def _slice(value: Any, part: slice) -> Any:
    if isinstance(value, dict) and "__tensor__" in value:
        return {**value, "__tensor__": np.asarray(value["__tensor__"])[part]}
    return np.asarray(value)[part]


def _length(value: Any) -> int:
    """The leading length of an array or tensor argument (0 for anything else)."""
    value = plain(value)
    return value.shape[0] if isinstance(value, np.ndarray) and value.ndim >= 1 else 0


def _samples(inputs: dict) -> list[Variant]:
    """The whole computation on one sample: every argument with the samples' length cut."""
    n = max((_length(v) for _, v in arguments(inputs)), default=0)
    if n < 2:
        return []
    sampled = [w for w, v in arguments(inputs) if _length(v) == n]
    if len(sampled) < 2:  # one array alone is a vector of parameters more often than data
        return []
    out = []
    for part, which, how in ((slice(0, 1), "first", "an index [0], or a `return` inside the "
                              "loop over the samples"),
                             (slice(n - 1, n), "last", "a loop over the samples that overwrites "
                              "its result instead of adding to it")):
        changed = inputs
        for where in sampled:
            changed = _replace(changed, where, _slice(dict(arguments(changed))[where], part))
        out.append(Variant(f"computed on the {which} sample only",
                           f"your result is what the computation gives on the {which} sample "
                           f"alone: it must use all N samples ({how})", changed))
    return out


def _batches(inputs: dict) -> list[Variant]:
    out = []
    n = max((_length(v) for _, v in arguments(inputs)), default=0)
    for where, value in arguments(inputs):
        if is_index_batches(value) and n > 1:
            out.append(Variant("every step on all the samples",
                               "every update uses all the samples, not its batch's: index the "
                               "data with the batch (X[idx], y[idx]) inside the loop over "
                               "the batches",
                               _replace(inputs, where, [np.arange(n)] * len(value))))
        if is_index_batches(value) and len(value) > 1:
            out.append(Variant("only the last batch counts",
                               "only the last batch counts: each epoch makes one update, with "
                               "the last batch's gradient (the update sits after the loop over "
                               "the batches instead of inside it)",
                               _replace(inputs, where, [value[-1]])))
            out.append(Variant("only the first batch counts",
                               "only the first batch is used in each epoch (a `return` or "
                               "`break` inside the loop over the batches)",
                               _replace(inputs, where, [value[0]])))
    return out


def _steps(inputs: dict, hidden: bool) -> list[Variant]:
    """A real-valued argument (a learning rate) scaled: steps that are too large or small."""
    out = []
    for where, value in arguments(inputs):
        if not isinstance(value, float) or value == 0:
            continue
        for name, q in case_quantities(inputs):
            if name.startswith("N,") or name.startswith("the batch size"):
                short = name.split(",")[0]
                shown = "" if hidden else f" ({q:g})"
                for times, said, why in (
                        (q, f"{short} times", "the loss is summed over the samples where a "
                         "mean is expected (a .sum(), or reduction='sum' in a torch loss)"),
                        (q / 2, f"{short}/2 times", "the loss is half the summed squared error "
                         "(0.5 * sum) where the mean is expected"),
                        (2 * q, f"2·{short} times", "the loss is summed, and its gradient "
                         "doubled (a factor 2 once too often)")):
                    out.append(Variant(
                        f"steps {said} too large (a summed loss)",
                        f"your steps are {said} too large, {name}{shown}: {why}",
                        _replace(inputs, where, value * times), scale=times))
        out.append(Variant("steps half as large",
                           f"your steps are half as large as expected ({where} halved): a "
                           "factor 1/2 in the update that the formula does not have",
                           _replace(inputs, where, value / 2)))
        out.append(Variant("steps uphill",
                           f"your steps go uphill ({where} with the opposite sign): the update "
                           "adds the gradient where it must subtract it (p - lr * grad)",
                           _replace(inputs, where, -value)))
        out.append(Variant("steps twice as large",
                           f"your steps are twice as large as expected ({where} doubled): an "
                           "extra factor 2 in the update", _replace(inputs, where, value * 2)))
    return out


def input_variants(inputs: dict, hidden: bool) -> list[Variant]:
    """Every variation worth trying on a case, the cheapest first."""
    if not isinstance(inputs, dict) or "args" not in inputs:
        return []
    return [*_samples(inputs), *_batches(inputs), *_steps(inputs, hidden)]

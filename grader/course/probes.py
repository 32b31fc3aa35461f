"""Probes: trusted code that calls a contract name and turns what it returns into plain data.

A probe runs twice on the same inputs: in a confined worker against the student's module and
in the grader against the reference module (ARCHITECTURE.md, invariant 2). It never sees an
expected value; it only describes what the module did. Every probe returns a dict of plain
data (numbers, strings, bools, NumPy arrays, lists and dicts of those).

What runs in the student's process can be replaced by the student's code, so a probe reports
only what the code returned (values, items, batches, types), never a conclusion about it: a
property that earns points is computed by the probe's ``derive`` step, in the grader, on the
outputs of the student and of the reference alike (``derived``).
"""
from __future__ import annotations

import random
import sys
from typing import Any, Callable

import numpy as np

from grader.course.spec import Probe, Report

PROBES: dict[str, Probe] = {}
"""The engine's generic probes, by name."""
MODEL_BUILDERS: dict[str, Callable] = {}
"""``kind`` of a grader-built model -> ``builder(spec, device)``; a course adds its own."""

RESULT = {"result": Report("the returned value")}


def probe(fn: Callable[..., dict] | None = None, *, reports: dict | None = None,
          derive: Callable[[dict, dict], dict] | None = None):
    """Declare a probe: ``@probe(reports={"len": Report("len(dataset)", exact=True)})``.

    In a course's ``<folder>/probes.py`` it makes a ``Probe`` for that course's checks; in the
    engine it also registers the probe by name. What is compared is a dict of plain data whose
    keys are declared in ``reports`` (``result`` and ``mutated`` need no declaration; keys
    starting with ``_`` are never compared). ``derive(output, inputs) -> dict`` turns what
    the probe returned into those keys, in the grader only (see the module's docstring)."""
    def make(fn):
        module = fn.__module__
        course_module = module.split(".", 1)[1] if module.startswith("_course_") else ""
        declared = Probe(fn.__name__, fn, {**RESULT, **(reports or {})}, course_module,
                         derive=derive)
        if not course_module:
            PROBES[declared.name] = declared
        return declared
    return make(fn) if fn is not None else make


def model_builder(kind: str):
    """Register ``builder(spec, device) -> nn.Module`` for grader-built models of ``kind``."""
    def register(fn):
        MODEL_BUILDERS[kind] = fn
        return fn
    return register


# --------------------------------------------------------------------------- inputs
def tensor(array, dtype: str = "float64", requires_grad: bool = False) -> dict:
    """Marker for an input that becomes a torch tensor on the grading device."""
    return {"__tensor__": np.asarray(array), "dtype": dtype, "requires_grad": requires_grad}


RNG_KINDS = ("generator", "randomstate", "torch")


def rng(kind: str, seed: int) -> dict:
    """Marker for a seeded random source: ``"generator"`` (``numpy.random.default_rng``),
    ``"randomstate"`` (``numpy.random.RandomState``) or ``"torch"`` (a ``torch.Generator`` on
    the grading device, like the tensors, seeded with ``manual_seed``)."""
    if kind not in RNG_KINDS:
        raise ValueError(f"rng kind {kind!r} is not one of {', '.join(RNG_KINDS)}")
    return {"__rng__": kind, "seed": int(seed)}


def materialize(value: Any, device: str) -> Any:
    """Turn plain inputs (with markers) into the objects a student function receives."""
    if isinstance(value, dict) and "__tensor__" in value:
        import torch
        t = torch.as_tensor(np.array(value["__tensor__"]), dtype=getattr(torch, value["dtype"]),
                            device=device)
        return t.requires_grad_(True) if value.get("requires_grad") else t
    if isinstance(value, dict) and "__rng__" in value:
        if value["__rng__"] == "generator":
            return np.random.default_rng(value["seed"])
        if value["__rng__"] == "torch":
            import torch
            return torch.Generator(device=device).manual_seed(value["seed"])
        return np.random.RandomState(value["seed"])
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [materialize(v, device) for v in value]
    if isinstance(value, dict):
        return {k: materialize(v, device) for k, v in value.items()}
    return value


def seed_everything(seed: int, device: str = "cpu") -> None:
    """Seed ``random``, NumPy and torch identically for the student and the reference
    (torch when it is loaded: a NumPy-only self-check never imports it)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.default_generator.manual_seed(seed)  # torch.manual_seed queues every backend
        if device.startswith("cuda"):
            torch.cuda.manual_seed_all(seed)


# --------------------------------------------------------------------------- outputs
def _is_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")  # no torch loaded: nothing can be a tensor
    return torch is not None and isinstance(value, torch.Tensor)


def describe(value: Any, depth: int = 0) -> dict:
    """Plain description of a returned value: its kind, dtype, shape, device and numbers."""
    kind = type(value)
    if _is_tensor(value):
        import torch
        t = value.detach()
        device = str(t.device)
        t = t.to("cpu")
        dtype = str(t.dtype).replace("torch.", "")
        if t.dtype in (torch.bfloat16,):
            t = t.to(torch.float32)
        return {"kind": "tensor", "dtype": dtype, "shape": list(t.shape), "device": device,
                "requires_grad": bool(value.requires_grad), "value": t.numpy().copy()}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc":
            return {"kind": "other", "type": f"ndarray of {value.dtype}"}
        return {"kind": "ndarray", "dtype": value.dtype.name, "shape": list(value.shape),
                "value": np.array(value, copy=True)}
    if isinstance(value, (bool, np.bool_)):
        return {"kind": "bool", "value": bool(value)}
    if isinstance(value, (int, np.integer)):
        return {"kind": "int", "type": kind.__name__, "value": int(value)}
    if isinstance(value, (float, np.floating)):
        return {"kind": "float", "type": kind.__name__, "value": float(value)}
    if isinstance(value, str):
        return {"kind": "str", "value": str(value)[:1000]}
    if isinstance(value, (list, tuple)) and depth < 3:
        return {"kind": kind.__name__ if kind in (list, tuple) else "list",
                "items": [describe(v, depth + 1) for v in list(value)[:10000]]}
    if isinstance(value, dict) and depth < 3:
        keys = list(value)[:1000]
        return {"kind": "dict", "keys": [_key(k) for k in keys],
                "items": [describe(value[k], depth + 1) for k in keys]}
    if value is None:
        return {"kind": "none"}
    return {"kind": "other", "type": f"{kind.__module__}.{kind.__qualname__}"}


def described_array(desc: Any) -> np.ndarray | None:
    """The numbers of a described array or tensor as float64, or None if it is not one."""
    if not isinstance(desc, dict) or desc.get("kind") not in ("ndarray", "tensor"):
        return None
    v = np.asarray(desc["value"])
    return v.astype(np.float64) if v.dtype.kind in "biuf" else None


def _key(key: Any) -> str:
    """A dict's key as a message names it: ``'value'`` for a string, ``3`` for a number
    (NumPy's as Python's), else its ``repr`` (cut)."""
    if isinstance(key, str):
        return repr(str(key))[:200]
    if isinstance(key, (bool, np.bool_)):
        return repr(bool(key))
    if isinstance(key, (int, np.integer)):
        return repr(int(key))
    if isinstance(key, (float, np.floating)):
        return repr(float(key))
    return repr(key)[:200]


def _fingerprint(value: Any) -> bytes | None:
    """Bytes that change when an array or tensor argument is modified in place."""
    if _is_tensor(value):
        return value.detach().to("cpu").numpy().tobytes()
    if isinstance(value, np.ndarray):
        return value.tobytes()
    return None


def _call_watching(fn: Callable, args: list, kwargs: dict) -> tuple[Any, list[str]]:
    """Call ``fn`` and report which array or tensor arguments it modified."""
    named = [(f"argument {i + 1}", a) for i, a in enumerate(args)] + list(kwargs.items())
    before = [(name, a, _fingerprint(a)) for name, a in named]
    result = fn(*args, **kwargs)
    mutated = [name for name, a, fp in before if fp is not None and _fingerprint(a) != fp]
    return result, mutated


def _arg_names(fn: Callable, n: int) -> list[str]:
    import inspect
    try:
        return list(inspect.signature(fn).parameters)[:n]
    except (TypeError, ValueError):
        return []


def _rename(mutated: list[str], names: list[str]) -> list[str]:
    out = []
    for m in mutated:
        if m.startswith("argument ") and names:
            i = int(m.split()[1]) - 1
            out.append(f"`{names[i]}`" if i < len(names) else m)
        else:
            out.append(f"`{m}`")
    return out


def type_names(value: Any) -> list[str]:
    """The classes of an object, most derived first, as ``module.qualname``: plain data from
    which the grader decides what it is (``is_a``)."""
    return [f"{c.__module__}.{c.__qualname__}" for c in type(value).__mro__]


def is_a(names: Any, qualified: str) -> bool:
    """Trusted: whether ``type_names`` (as a probe reported them) include ``qualified``."""
    return isinstance(names, list) and qualified in names


def _nonzero(desc: Any) -> bool:
    """Trusted: whether a described gradient exists and has an entry other than zero."""
    v = described_array(desc)
    return v is not None and bool(np.any(v != 0))


def _inputs_only(mutated: list[str], fn: Callable, n: int) -> list[str]:
    """Mutated data arguments; the grader-built model (argument 1) is meant to change."""
    return _rename([m for m in mutated if m != "argument 1"], _arg_names(fn, n))


# --------------------------------------------------------------------------- probes
@probe
def call(module, name: str, inputs: dict, device: str) -> dict:
    """Call ``module.<name>(*args, **kwargs)`` and describe the result."""
    fn = getattr(module, name)
    args = materialize(inputs.get("args", []), device)
    kwargs = materialize(inputs.get("kwargs", {}), device)
    result, mutated = _call_watching(fn, args, kwargs)
    return {"result": describe(result), "mutated": _rename(mutated, _arg_names(fn, len(args)))}


@probe
def descent(module, name: str, inputs: dict, device: str) -> dict:
    """A gradient-descent loop: ``call``'s output alone. Where its values are wrong, the grader
    judges the loop on its own with calls of the student's gradient (``inputs["grad"]``) at
    the student's path, made for that purpose (``grader.judge.ownloop``); nothing about it is
    computed here."""
    return call.fn(module, name, inputs, device)


@model_builder("linear")
def linear_model(spec: dict, device: str):
    """``nn.Linear(n_in, n_out)`` with the given ``weight`` and ``bias`` (then a sigmoid if
    ``sigmoid``), in ``dtype`` (default float64)."""
    import torch
    from torch import nn
    dtype = getattr(torch, spec.get("dtype", "float64"))
    linear = nn.Linear(spec["n_in"], spec["n_out"], dtype=dtype)
    with torch.no_grad():
        linear.weight.copy_(torch.as_tensor(np.array(spec["weight"]), dtype=dtype))
        linear.bias.copy_(torch.as_tensor(np.array(spec["bias"]), dtype=dtype))
    return nn.Sequential(linear, nn.Sigmoid()) if spec.get("sigmoid") else linear


def build_model(spec: dict, device: str):
    """A model the grader builds itself from the case (its parameters set by the case), so
    that a function taking a model is graded on its own."""
    if spec["kind"] not in MODEL_BUILDERS:
        raise ValueError(f"unknown model kind {spec['kind']!r}")
    return MODEL_BUILDERS[spec["kind"]](spec, device).to(device)


@probe
def train(module, name: str, inputs: dict, device: str) -> dict:
    """Call ``name(model, *args)`` with a grader-built model (training loops, metrics);
    describe what it returns."""
    model = build_model(inputs["model"], device)
    args = materialize(inputs.get("args", []), device)
    fn = getattr(module, name)
    result, mutated = _call_watching(fn, [model, *args], {})
    return {"result": describe(result), "mutated": _inputs_only(mutated, fn, len(args) + 1)}


def _structure_facts(out: dict, inputs: dict) -> dict:
    """Trusted: whether the object is an ``nn.Module`` and which parameters a gradient
    reaches, from its class names and the gradients it reported."""
    facts = {k: v for k, v in out.items() if k not in ("types", "grads")}
    facts["is_module"] = is_a(out["types"], "torch.nn.modules.module.Module")
    facts["grads_flow"] = [[_nonzero(g) for g in grads] for grads in out["grads"]]
    return facts


@probe(reports={
    "is_module": Report("is an nn.Module", hint="it must subclass nn.Module"),
    "names": Report("the parameter names"), "shapes": Report("the parameter shapes"),
    "dtypes": Report("the parameter dtypes"),
    "initial": Report("the initial parameter values"), "forward": Report("forward"),
    "grads_flow": Report("whether a gradient reaches every parameter")},
    derive=_structure_facts)
def module_structure(module, name: str, inputs: dict, device: str) -> dict:
    """Build ``module.<name>(*ctor)``; report its parameters, forward outputs and gradients.

    With ``inputs["set"]`` ({parameter name: values}) the grader first sets those parameters
    (where the name and shape match), so forward is judged whatever initialisation the
    student's layers happened to get."""
    import torch
    cls = getattr(module, name)
    model = cls(*inputs.get("ctor", []))
    if inputs.get("set"):
        own = dict(model.named_parameters())
        with torch.no_grad():
            for key, value in inputs["set"].items():
                value = np.asarray(value)
                if key in own and tuple(own[key].shape) == value.shape:
                    own[key].copy_(torch.as_tensor(value, dtype=own[key].dtype))
    named = sorted(model.named_parameters())  # by name: the order of definition is free
    out: dict[str, Any] = {
        "types": type_names(model),
        "names": [n for n, _ in named],
        "shapes": [list(p.shape) for _, p in named],
        "dtypes": [str(p.dtype).replace("torch.", "") for _, p in named],
        "initial": [describe(p)["value"] for _, p in named],
    }
    model = model.to(device)
    forwards, grads = [], []
    for x in inputs.get("forward", []):
        model.zero_grad()
        y = model(materialize(x, device))
        forwards.append(describe(y))
        # Weighted, not a plain sum: an output whose entries always sum to the same value
        # (rows normalised to 1) has a zero gradient of its sum, however the parameters flow.
        weights = torch.linspace(1.0, 2.0, y.numel(), dtype=y.dtype, device=y.device)
        (y * weights.reshape(y.shape)).sum().backward()
        grads.append([None if p.grad is None else describe(p.grad)
                      for _, p in sorted(model.named_parameters())])
    out["forward"] = forwards
    out["grads"] = grads
    return out


def _dataset_facts(out: dict, inputs: dict) -> dict:
    """Trusted: whether the object is a ``Dataset``, from its class names."""
    facts = {k: v for k, v in out.items() if k != "types"}
    facts["is_dataset"] = is_a(out["types"], "torch.utils.data.dataset.Dataset")
    return facts


@probe(reports={
    "len": Report("len(dataset)", exact=True), "items": Report("dataset items"),
    "batches": Report("batches from a DataLoader"),
    "is_dataset": Report("is a torch.utils.data.Dataset",
                         hint="it must subclass torch.utils.data.Dataset")},
    derive=_dataset_facts)
def dataset(module, name: str, inputs: dict, device: str) -> dict:
    """Build a Dataset; report its length, items, its classes, and the batches a DataLoader
    makes of it."""
    from torch.utils.data import DataLoader
    ds = getattr(module, name)(*materialize(inputs["ctor"], device))
    n = len(ds)
    items = []
    for i in inputs.get("items", [0]):
        item = ds[i]
        items.append(describe(item))
    loader = DataLoader(ds, batch_size=inputs.get("batch_size", 4), shuffle=False)
    batches = [describe(batch) for batch in loader]
    return {"len": n, "items": items, "batches": batches, "types": type_names(ds)}


class Unreadable(ValueError):
    """What a probe returned in the student's process is not what the probe returns."""


def derived(probe: Probe, output: dict, inputs: dict) -> dict:
    """What is compared: the probe's output after its ``derive`` step (trusted code, run in the
    grader only). Raises ``Unreadable`` where the output does not have the probe's form (a
    forged or broken one); the same step on the reference's output failing is the course's
    error."""
    if probe.derive is None:
        return output
    if not isinstance(output, dict):
        raise Unreadable("not a probe's output")
    try:
        return probe.derive(output, inputs)
    except Exception as exc:
        raise Unreadable(f"{type(exc).__name__}: {exc}") from None


def resolve(probe: "str | Probe") -> Probe:
    """A check's probe: the engine's by name, or the course's own."""
    return probe if isinstance(probe, Probe) else PROBES[probe]


def load_probe(name: str, module: str, course_root: str) -> Probe:
    """In a worker: the probe a call names (``module`` empty for the engine's)."""
    if not module:
        return PROBES[name]
    from grader.course.modules import import_course_module
    from pathlib import Path
    found = getattr(import_course_module(Path(course_root), module), name)
    if not isinstance(found, Probe):
        raise TypeError(f"{module}.{name} is not a probe")
    return found


def run_probe(module, probe: Probe, name: str, inputs: dict, device: str, seed: int) -> dict:
    """Seed every generator, then run one probe. Used identically for student and reference."""
    seed_everything(seed, device)
    return probe.fn(module, name, inputs, device)

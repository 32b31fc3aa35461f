"""Probes: trusted code that calls a contract name and turns what it returns into plain data.

A probe runs twice on the same inputs: in a confined worker against the student's module and
in the grader against the reference module (ARCHITECTURE.md, invariant 2). It never sees an
expected value; it only describes what the module did. Every probe returns a dict of plain
data (numbers, strings, bools, NumPy arrays, lists and dicts of those).
"""
from __future__ import annotations

import random
import sys
from typing import Any, Callable

import numpy as np

PROBES: dict[str, Callable[..., dict]] = {}


def probe(fn: Callable[..., dict]) -> Callable[..., dict]:
    PROBES[fn.__name__] = fn
    return fn


# --------------------------------------------------------------------------- inputs
def tensor(array, dtype: str = "float64", requires_grad: bool = False) -> dict:
    """Marker for an input that becomes a torch tensor on the grading device."""
    return {"__tensor__": np.asarray(array), "dtype": dtype, "requires_grad": requires_grad}


def rng(kind: str, seed: int) -> dict:
    """Marker for a NumPy random source: ``"generator"`` or ``"randomstate"``."""
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
        return {"kind": "int", "value": int(value)}
    if isinstance(value, (float, np.floating)):
        return {"kind": "float", "type": kind.__name__, "value": float(value)}
    if isinstance(value, (list, tuple)) and depth < 3:
        return {"kind": kind.__name__ if kind in (list, tuple) else "list",
                "items": [describe(v, depth + 1) for v in list(value)[:10000]]}
    if value is None:
        return {"kind": "none"}
    return {"kind": "other", "type": f"{kind.__module__}.{kind.__qualname__}"}


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


OWN_STEPS = 50
"""How many steps of a descent loop are re-checked against the student's own gradient."""


@probe
def descent(module, name: str, inputs: dict, device: str) -> dict:
    """A gradient-descent loop, plus the student's own gradient at the start of each step.

    ``_own_grads`` lets the grader judge the loop on its own (keys starting with ``_`` are
    evidence, not compared): a trajectory that is wrong only because the student's gradient
    function is wrong still shows a correct loop.
    """
    out = call(module, name, inputs, device)
    grad_fn = getattr(module, inputs["grad"], None)
    if callable(grad_fn) and out["result"].get("kind") == "ndarray":
        args = materialize(inputs["args"], device)
        rows = np.asarray(out["result"]["value"], dtype=np.float64)
        starts = [np.array(args[0], dtype=np.float64)] + list(rows[:OWN_STEPS - 1])
        try:
            out["_own_grads"] = np.array([np.asarray(grad_fn(p.copy(), args[1], args[2]),
                                                     dtype=np.float64)
                                          for p in starts[:len(rows)]])
        except Exception:  # the gradient function fails: the loop cannot be judged alone
            pass
    return out


def _build_model(spec: dict, device: str):
    """A model the grader builds itself, so a training function is graded on its own."""
    import torch
    from torch import nn
    kind = spec["kind"]
    if kind == "scalar_lr":
        class ScalarLR(nn.Module):
            def __init__(self, b0, w0):
                super().__init__()
                self.b = nn.Parameter(torch.tensor(b0, dtype=torch.float64))
                self.w = nn.Parameter(torch.tensor(w0, dtype=torch.float64))

            def forward(self, x):
                return self.b + self.w * x
        model = ScalarLR(spec["b0"], spec["w0"])
    elif kind == "linear":
        dtype = getattr(torch, spec.get("dtype", "float64"))
        linear = nn.Linear(spec["n_in"], spec["n_out"], dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.as_tensor(np.array(spec["weight"]), dtype=dtype))
            linear.bias.copy_(torch.as_tensor(np.array(spec["bias"]), dtype=dtype))
        model = nn.Sequential(linear, nn.Sigmoid()) if spec.get("sigmoid") else linear
    else:
        raise ValueError(f"unknown model kind {kind!r}")
    return model.to(device)


@probe
def train(module, name: str, inputs: dict, device: str) -> dict:
    """Call a training function with a grader-built model; describe the returned history."""
    model = _build_model(inputs["model"], device)
    args = materialize(inputs.get("args", []), device)
    fn = getattr(module, name)
    result, mutated = _call_watching(fn, [model, *args], {})
    return {"result": describe(result), "mutated": _inputs_only(mutated, fn, len(args) + 1)}


@probe
def module_structure(module, name: str, inputs: dict, device: str) -> dict:
    """Build ``module.<name>(*ctor)``; report its parameters, forward outputs and gradients."""
    import torch
    cls = getattr(module, name)
    model = cls(*inputs.get("ctor", []))
    named = sorted(model.named_parameters())  # by name: the order of definition is free
    out: dict[str, Any] = {
        "is_module": isinstance(model, torch.nn.Module),
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
        y.sum().backward()
        grads.append([p.grad is not None and bool(torch.any(p.grad != 0).item())
                      for _, p in sorted(model.named_parameters())])
    out["forward"] = forwards
    out["grads_flow"] = grads
    return out


@probe
def dataset(module, name: str, inputs: dict, device: str) -> dict:
    """Build a Dataset; report its length, items, and the batches a DataLoader makes of it."""
    import torch
    from torch.utils.data import DataLoader
    ds = getattr(module, name)(*materialize(inputs["ctor"], device))
    n = len(ds)
    items = []
    for i in inputs.get("items", [0]):
        item = ds[i]
        items.append(describe(item))
    loader = DataLoader(ds, batch_size=inputs.get("batch_size", 4), shuffle=False)
    batches = [describe(batch) for batch in loader]
    return {"len": n, "items": items, "batches": batches,
            "is_dataset": isinstance(ds, torch.utils.data.Dataset)}


def _index_dataset(n: int):
    import torch
    from torch.utils.data import TensorDataset
    return TensorDataset(torch.arange(n, dtype=torch.int64))


def _order(loader) -> list[int]:
    return [int(v) for (batch,) in loader for v in batch.reshape(-1).tolist()]


@probe
def loader(module, name: str, inputs: dict, device: str) -> dict:
    """Drive ``make_loader`` over a dataset of indices: batch sizes and the order, per epoch."""
    make = getattr(module, name)
    n, bs, shuffle, seed = inputs["n"], inputs["batch_size"], inputs["shuffle"], inputs["seed"]
    ld = make(_index_dataset(n), bs, shuffle=shuffle, seed=seed)
    sizes = [len(b[0]) for b in ld]
    first, second = _order(ld), _order(ld)
    again = _order(make(_index_dataset(n), bs, shuffle=shuffle, seed=seed))
    other = _order(make(_index_dataset(n), bs, shuffle=shuffle,
                        seed=None if seed is None else seed + 1))
    return {"batch_sizes": sizes, "epoch1": np.array(first), "epoch2": np.array(second),
            "each_index_once": sorted(first) == list(range(n)),
            "same_seed_same_order": again == first,
            "other_seed_other_order": other != first}


@probe
def split(module, name: str, inputs: dict, device: str) -> dict:
    """Split a dataset of indices; report the sizes and members of both parts."""
    train, val = getattr(module, name)(_index_dataset(inputs["n"]), inputs["val_fraction"],
                                       inputs["seed"])
    members = lambda part: np.array([int(part[i][0]) for i in range(len(part))])
    return {"train_len": len(train), "val_len": len(val), "train": members(train),
            "val": members(val)}


@probe
def train_loader(module, name: str, inputs: dict, device: str) -> dict:
    """Call ``train_minibatch`` with a grader-built model and a seeded, shuffling loader."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset
    x, y = (materialize(inputs[k], device) for k in ("x", "y"))
    gen = torch.Generator().manual_seed(inputs["seed"])
    ld = DataLoader(TensorDataset(x, y), batch_size=inputs["batch_size"], shuffle=True,
                    generator=gen)
    model = _build_model(inputs["model"], device)
    result = getattr(module, name)(model, ld, inputs["lr"], inputs["n_epochs"])
    return {"result": describe(result), "mutated": []}


@probe
def autograd_function(module, name: str, inputs: dict, device: str) -> dict:
    """Forward, backward against a given grad_output, gradcheck, and use inside an expression."""
    import torch
    fn = getattr(module, name)
    x = materialize(inputs["x"], device).detach().requires_grad_(True)
    y = fn.apply(x)
    forward = describe(y)
    g = materialize(inputs["grad_output"], device)
    (grad,) = torch.autograd.grad(y, x, g)
    xc = materialize(inputs["x_check"], device).detach().requires_grad_(True)
    try:
        passed = bool(torch.autograd.gradcheck(fn.apply, (xc,), eps=1e-6, atol=1e-5,
                                               raise_exception=False))
    except Exception:  # a broken backward makes gradcheck itself fail
        passed = False
    a = torch.tensor(inputs["a"], dtype=torch.float64, device=device, requires_grad=True)
    b = torch.tensor(inputs["b"], dtype=torch.float64, device=device, requires_grad=True)
    z = (2.0 * fn.apply(a + b * materialize(inputs["x"], device)) + 1.0).pow(2).mean()
    z.backward()
    return {"forward": forward, "backward": describe(grad), "gradcheck": passed,
            "composite": describe(torch.stack([a.grad, b.grad]))}


@probe
def accuracy_of(module, name: str, inputs: dict, device: str) -> dict:
    """Call ``accuracy`` with a grader-built classifier."""
    model = _build_model(inputs["model"], device)
    X, y = materialize(inputs["X"], device), materialize(inputs["y"], device)
    fn = getattr(module, name)
    result, mutated = _call_watching(fn, [model, X, y], {})
    return {"result": describe(result), "mutated": _inputs_only(mutated, fn, 3)}


def run_probe(module, probe_name: str, name: str, inputs: dict, device: str, seed: int) -> dict:
    """Seed every generator, then run one probe. Used identically for student and reference."""
    seed_everything(seed, device)
    return PROBES[probe_name](module, name, inputs, device)

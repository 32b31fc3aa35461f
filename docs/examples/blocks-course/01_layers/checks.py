"""What 01_layers grades."""
from grader.course.probes import rng, tensor
from grader.course.spec import Check, random_cases


def _conv(r):
    n, c_in, c_out = int(r.integers(1, 4)), int(r.integers(1, 4)), int(r.integers(1, 5))
    # k >= 2: with k = 1 a flipped kernel is right and the catalogued mistake passes the case
    k, stride = int(r.integers(2, 5)), int(r.integers(1, 3))
    length = int(r.integers(k, k + 12))
    args = [tensor(r.normal(size=(n, c_in, length))), tensor(r.normal(size=(c_out, c_in, k)))]
    return {"args": args, "kwargs": {"bias": tensor(r.normal(size=c_out)), "stride": stride}}


def _dropout(r):
    x = r.normal(size=(int(r.integers(4, 9)), 5))
    return {"args": [tensor(x), float(r.choice([0.2, 0.5])),
                     rng("torch", int(r.integers(1, 2**31)))]}


def _layernorm(r):
    size = int(r.integers(2, 7))
    return {"ctor": [size],
            "set": {"weight": r.normal(size=size), "bias": r.normal(size=size)},
            "forward": [tensor(r.normal(size=(int(r.integers(1, 5)), size)))]}


CHECKS = (
    Check("conv1d", 4, "call", kind="value", cases=random_cases(_conv)),
    Check("dropout", 3, "call", kind="value", cases=random_cases(_dropout)),
    Check("LayerNorm", 3, "module_structure", kind="structure", cases=random_cases(_layernorm)),
)

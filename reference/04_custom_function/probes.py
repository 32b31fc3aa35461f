"""The probe only 04_custom_function needs: a custom autograd Function, used every way.

Run in the student's confined worker and, on the same inputs, on the reference; it returns
plain data only (see grader.course.probes): the values forward and backward gave; whether backward is
the derivative of forward (what ``torch.autograd.gradcheck`` decides) is decided in the grader
from them (``_gradcheck``).
"""
import numpy as np

from grader.judge.compare import described_array
from grader.course.probes import describe, materialize, probe
from grader.course.spec import Report

EPS, ATOL, RTOL = 1e-6, 1e-5, 1e-3
"""``torch.autograd.gradcheck``'s step and tolerances (the ones it was called with here)."""


def _gradcheck(out: dict, inputs: dict) -> dict:
    """Trusted, in the grader: ``torch.autograd.gradcheck`` on the reported values. The
    numerical Jacobian by central differences of the forwards at ``x_check +- EPS e_j``,
    against the analytical one, row ``i`` being what backward gave for ``grad_output = e_i``
    (None where backward failed)."""
    k = len(np.asarray(inputs["x_check"]["__tensor__"]))
    plus, minus, rows = out["plus"], out["minus"], out["rows"]
    facts = {key: out[key] for key in ("forward", "backward", "composite")}
    if rows is None:  # backward failed or gave no gradient
        return {**facts, "gradcheck": False}
    if not (isinstance(plus, list) and isinstance(minus, list) and isinstance(rows, list)
            and len(plus) == len(minus) == k):
        raise ValueError("not one forward per entry")
    cols = [described_array(p) for p in plus], [described_array(m) for m in minus]
    analytic = [described_array(r) for r in rows]
    if any(v is None for v in cols[0] + cols[1] + analytic):
        return {**facts, "gradcheck": False}
    try:
        numeric = (np.stack([p.reshape(-1) for p in cols[0]], axis=1) -
                   np.stack([m.reshape(-1) for m in cols[1]], axis=1)) / (2 * EPS)
        exact = np.stack([r.reshape(-1) for r in analytic], axis=0)
    except ValueError:  # outputs of differing sizes
        return {**facts, "gradcheck": False}
    passed = exact.shape == numeric.shape and bool(np.all(
        np.abs(exact - numeric) <= ATOL + RTOL * np.abs(numeric)))
    return {**facts, "gradcheck": passed}


@probe(reports={
    "forward": Report("forward"),
    "backward": Report("backward (the gradient for the given grad_output)"),
    "gradcheck": Report("torch.autograd.gradcheck",
                        hint="torch.autograd.gradcheck fails: your backward is not the "
                             "derivative of your forward"),
    "composite": Report("gradients through .apply inside a larger expression")},
    derive=_gradcheck)
def autograd_function(module, name: str, inputs: dict, device: str) -> dict:
    """Forward, backward against a given grad_output, the values gradcheck compares (forwards
    around ``x_check``, backward for each unit ``grad_output``), and use inside an
    expression."""
    import torch
    fn = getattr(module, name)
    x = materialize(inputs["x"], device).detach().requires_grad_(True)
    y = fn.apply(x)
    forward = describe(y)
    g = materialize(inputs["grad_output"], device)
    (grad,) = torch.autograd.grad(y, x, g)
    xc = materialize(inputs["x_check"], device).detach()
    with torch.no_grad():
        plus, minus = ([describe(fn.apply(xc + sign * EPS * e)) for e in torch.eye(
            len(xc), dtype=xc.dtype, device=device)] for sign in (1.0, -1.0))
    try:
        xg = xc.clone().requires_grad_(True)
        yc = fn.apply(xg)
        rows = [describe(torch.autograd.grad(yc, xg, e.reshape(yc.shape), retain_graph=True)[0])
                for e in torch.eye(yc.numel(), dtype=yc.dtype, device=device)]
    except Exception:  # a broken backward: no Jacobian (gradcheck fails)
        rows = None
    a = torch.tensor(inputs["a"], dtype=torch.float64, device=device, requires_grad=True)
    b = torch.tensor(inputs["b"], dtype=torch.float64, device=device, requires_grad=True)
    z = (2.0 * fn.apply(a + b * materialize(inputs["x"], device)) + 1.0).pow(2).mean()
    z.backward()
    return {"forward": forward, "backward": describe(grad), "plus": plus, "minus": minus,
            "rows": rows, "composite": describe(torch.stack([a.grad, b.grad]))}

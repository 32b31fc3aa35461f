"""The probe only 04_custom_function needs: a custom autograd Function, used every way.

Run in the student's confined worker and, on the same inputs, on the reference; it returns
plain data only (see grader.probes).
"""
from grader.probes import describe, materialize, probe
from grader.spec import Report


@probe(reports={
    "forward": Report("forward"),
    "backward": Report("backward (the gradient for the given grad_output)"),
    "gradcheck": Report("torch.autograd.gradcheck",
                        hint="torch.autograd.gradcheck fails: your backward is not the "
                             "derivative of your forward"),
    "composite": Report("gradients through .apply inside a larger expression")})
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

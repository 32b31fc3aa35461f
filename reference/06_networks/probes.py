"""What only 06_networks needs: the net the grader builds for ``train_net``, and a probe for
``sgd_step``, the one exercise of the course that modifies its argument (the engine's ``call``
probe counts that as a mistake; here it is the contract).

Both run in the student's confined worker and on the reference; they return plain data only:
whether the gradients were cleared is decided in the grader, from the gradients reported.
"""
import numpy as np

from grader.judge.compare import described_array
from grader.course.probes import build_model, describe, materialize, model_builder, probe
from grader.course.spec import Report

LAYERS = ("0.weight", "0.bias", "2.weight", "2.bias")


@model_builder("two_layer")
def two_layer(spec: dict, device: str):
    """``Linear -> Sigmoid -> Linear`` in float64 with the parameters the case gives."""
    import torch
    from torch import nn
    first, second = (nn.Linear(*np.asarray(spec[k]).shape[::-1], dtype=torch.float64)
                     for k in ("0.weight", "2.weight"))
    net = nn.Sequential(first, nn.Sigmoid(), second)
    with torch.no_grad():
        for key, param in net.named_parameters():
            param.copy_(torch.as_tensor(np.asarray(spec[key]), dtype=torch.float64))
    return net


def _cleared(out: dict, inputs: dict) -> dict:
    """Trusted, in the grader: every gradient left after the step is None or all zero."""
    grads = out["grads"]
    if not isinstance(grads, list) or len(grads) != len(LAYERS):
        raise ValueError("not one gradient per parameter")
    cleared = all(g is None or (described_array(g) is not None and
                                not np.any(described_array(g) != 0)) for g in grads)
    return {"after": out["after"], "cleared": cleared, "returned": out["returned"]}


@probe(reports={
    "after": Report("the parameters after the step"),
    "cleared": Report("every gradient cleared after the step (zeroed or None)",
                      hint="clear each gradient after the update (param.grad = None or "
                           "param.grad.zero_()): the next backward() adds to what is there"),
    "returned": Report("what it returns"),
}, derive=_cleared)
def step(module, name: str, inputs: dict, device: str) -> dict:
    """Build the grader's net, compute the mean squared error on the case's data and its
    gradients, call ``sgd_step(model, lr)``; report every parameter and every gradient after
    it, and what it returned."""
    import torch
    model = build_model(inputs["model"], device)
    X, y = (materialize(inputs[k], device) for k in ("X", "y"))
    torch.nn.functional.mse_loss(model(X), y).backward()
    returned = getattr(module, name)(model, inputs["lr"])
    params = dict(model.named_parameters())
    return {"after": [describe(params[k]) if k in params else None for k in LAYERS],
            "grads": [None if p.grad is None else describe(p.grad)
                      for p in model.parameters()],
            "returned": describe(returned)}

"""What only 02_autograd needs in the worker: the two-scalar model ``train_model`` trains.

A plain ``nn.Module`` holding 0-d float64 parameters ``b`` and ``w`` set from the case, with
the course's model as its forward; it is put together here without a class of its own, so the
student copy, which ships this file, does not hold an ``LR`` to copy.
"""
import types

from grader.course.probes import model_builder


@model_builder("scalar_lr")
def scalar_line(spec: dict, device: str):
    import torch
    from torch import nn
    model = nn.Module()
    for key in ("b", "w"):
        model.register_parameter(key, nn.Parameter(
            torch.tensor(float(spec[key + "0"]), dtype=torch.float64)))
    # Read as attributes, as the course's own modules do: torch.func.functional_call swaps
    # plain tensors in for the parameters, which get_parameter refuses ("not an nn.Parameter").
    model.forward = types.MethodType(lambda m, x: m.b + x * m.w, model)
    return model

# Forged own-loop evidence (issue 24): no gradient, no loop, and a descent probe replaced at
# import so that it reports an all-zero path with the "own gradients" that would make it a
# right loop (the fork once computed those, and the grader believed them). The follow-up
# calls of mse_grad that now judge the loop are answered too, guessing the notes' step.
import dataclasses
import sys

import numpy as np

from honest import *  # noqa: F401,F403

GUESSED_LR = 0.2


def mse_grad(params, X, y):
    return np.zeros(2)


def gradient_descent(params0, X, y, lr, n_steps):
    return np.zeros((n_steps, 2))


def _forged_descent(module, name, inputs, device):
    start, lr, n = np.asarray(inputs["args"][0], dtype=float), inputs["args"][3], inputs["args"][4]
    rows = np.zeros((n, 2))
    own = np.zeros((min(n, 50), 2))
    own[0] = start / lr  # row 0 = start - lr * own[0] = 0, and nothing moves after
    return {"result": {"kind": "ndarray", "dtype": "float64", "shape": [n, 2], "value": rows},
            "mutated": [], "_own_grads": own}


def _forged_call(real):
    def call(module, name, inputs, device):
        if name != "mse_grad":
            return real(module, name, inputs, device)
        point = np.asarray(inputs["args"][0], dtype=float)
        g = np.zeros(2) if not point.any() else point / GUESSED_LR
        return {"result": {"kind": "ndarray", "dtype": "float64", "shape": [2], "value": g},
                "mutated": []}
    return call


_probes = sys.modules.get("grader.course.probes")
if _probes is not None:
    _probes.PROBES["descent"] = dataclasses.replace(_probes.PROBES["descent"],
                                                    fn=_forged_descent)
    _probes.PROBES["call"] = dataclasses.replace(_probes.PROBES["call"],
                                                 fn=_forged_call(_probes.PROBES["call"].fn))

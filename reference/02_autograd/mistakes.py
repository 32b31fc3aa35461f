"""Known mistakes of 02_autograd, with the hint a TA gives (instructor side, never shipped).

Each entry is a small wrong implementation (textual changes to the reference) whose outputs
are compared with a failing student's, or the signature of the error a mistake raises.
"""
from grader.course.spec import Mistake

from ..hints import SUPER, ZERO

A02 = "02_autograd"
FLOAT32 = ("your parameters are float32: torch.Tensor(...) and torch.tensor(1.0) make float32 "
           "tensors unless you pass dtype=torch.float64")
DEVICE = r"(same device|Expected all tensors).*(cpu|cuda)"

MISTAKES = (
    Mistake(A02, "autograd_gd", "gradients not zeroed", ZERO,
            replace=(("        b.grad.zero_()\n        w.grad.zero_()\n", ""),)),
    Mistake(A02, "autograd_gd", "update loses the leaf",
            "`b = b - lr * b.grad` makes a new tensor that is no longer a leaf, so it gets no "
            "gradient: update in place (b -= lr * b.grad) under torch.no_grad()",
            error=r"does not require grad|'NoneType' object has no attribute|"
                  r"leaf Variable that requires grad"),
    Mistake(A02, "optimizer_gd", "gradients not zeroed", ZERO,
            replace=(("        optimizer.zero_grad()\n        loss = ((y", "        loss = ((y"),)),
    Mistake(A02, "LR", "float32 parameters", FLOAT32,
            replace=(("torch.tensor(b0, dtype=torch.float64)", "torch.tensor(b0, dtype=torch.float32)"),
                     ("torch.tensor(w0, dtype=torch.float64)", "torch.tensor(w0, dtype=torch.float32)"))),
    Mistake(A02, "LR", "missing super().__init__()", SUPER, error=r"before Module.__init__\(\)"),
    Mistake(A02, "BetterLR", "missing super().__init__()", SUPER,
            error=r"before Module.__init__\(\)"),
    Mistake(A02, "train_model", "(N,1) against (N,) in MSELoss",
            "your prediction and target have different shapes ((N,) and (N,1)): MSELoss "
            "broadcasts them to an (N,N) grid of differences; give both the same shape",
            replace=(("loss = loss_fn(model(X), y)", "loss = loss_fn(model(X), y.reshape(-1, 1))"),)),
    Mistake(A02, "train_model", "gradients not zeroed", ZERO,
            replace=(("        optimizer.zero_grad()\n        loss = loss_fn(model(X), y)",
                      "        loss = loss_fn(model(X), y)"),)),
    Mistake(A02, "autograd_gd", "CPU tensor with GPU inputs",
            "a tensor you created lives on the CPU while the inputs are on the GPU: pass "
            "device=X.device when you create it", error=DEVICE),
)

"""The catalogue of known mistakes, kept beside the reference (never shipped to students).

Each entry is either a small wrong implementation — textual changes to the reference — whose
outputs the grader compares with a failing student's, or the signature of the error a
mistake raises; and the hint a TA would give. See grader/diagnose.py.
"""
from grader.diagnose import Mistake

A01, A02, A03, A04, A05 = ("01_gradient_descent", "02_autograd", "03_dataset",
                           "04_custom_function", "05_models")
GRAD_01 = "return np.array([np.mean(2 * residual * -1), np.mean(2 * residual * -X)])"
GD_STEP = "p = p - lr * mse_grad(p, X, y)\n        path.append(p)"
ZERO = ("you never reset the gradients, so they add up from step to step (the first step is "
        "right, then the path drifts): zero them after each update")
FLOAT32 = ("your parameters are float32: torch.Tensor(...) and torch.tensor(1.0) make float32 "
           "tensors unless you pass dtype=torch.float64")
SUPER = ("call super().__init__() first thing in __init__: an nn.Module must set itself up "
         "before you give it parameters or layers")
DEVICE = r"(same device|Expected all tensors).*(cpu|cuda)"

MISTAKES = (
    # 01 ------------------------------------------------------------------------------------
    Mistake(A01, "mse_grad", "missing factor 2",
            "your gradient is exactly half the expected one: the derivative of a square "
            "brings down a factor 2", also=("gradient_descent", "minibatch_gd"),
            replace=((GRAD_01, GRAD_01.replace("2 * residual", "residual")),)),
    Mistake(A01, "mse_grad", "wrong sign",
            "your gradient points uphill (its sign is flipped): the inner derivative of "
            "(y - b - w*x) is -1 for b and -x for w", also=("gradient_descent", "minibatch_gd"),
            replace=((GRAD_01, "return np.array([np.mean(2 * residual), "
                               "np.mean(2 * residual * X)])"),)),
    Mistake(A01, "mse_grad", "sum instead of mean",
            "your gradient is N times too large: J is a mean over the points, so its gradient "
            "is a mean too (np.mean, not np.sum)", also=("gradient_descent", "minibatch_gd"),
            replace=((GRAD_01, GRAD_01.replace("np.mean", "np.sum")),)),
    Mistake(A01, "mse_grad", "parameters in the wrong order",
            "your gradient comes as [dJ/dw, dJ/db]; the contract orders parameters [b, w]",
            also=("gradient_descent", "minibatch_gd"),
            replace=((GRAD_01, "return np.array([np.mean(2 * residual * -X), "
                               "np.mean(2 * residual * -1)])"),)),
    Mistake(A01, "predict", "parameters in the wrong order",
            "you read the parameters as [w, b]; the contract orders them [b, w] (intercept "
            "first)", replace=(("b, w = params[0], params[1]\n    return b + w * X",
                                "w, b = params[0], params[1]\n    return b + w * X"),)),
    Mistake(A01, "mse_loss", "square of the mean",
            "you squared the mean of the residuals; the loss is the mean of the squared "
            "residuals: mean((y - b - w*x)**2)",
            replace=(("float(np.mean((y - b - w * X) ** 2))",
                      "float(np.mean(y - b - w * X) ** 2)"),)),
    Mistake(A01, "gradient_descent", "trajectory includes the start",
            "your trajectory starts with the starting point: row t must hold the parameters "
            "after update t+1, so the start is not a row",
            replace=(("    path = []\n    for _ in range(n_steps):\n        " + GD_STEP,
                      "    path = [p]\n    for _ in range(n_steps - 1):\n        " + GD_STEP),)),
    Mistake(A01, "gradient_descent", "update with the loss",
            "you update with the loss (one number) instead of its gradient: "
            "p <- p - lr * grad J(p)",
            replace=((GD_STEP, GD_STEP.replace("mse_grad", "mse_loss")),)),
    Mistake(A01, "gradient_descent", "no update step",
            "your parameters never change: after computing the gradient, update "
            "p <- p - lr * grad J(p)",
            replace=((GD_STEP, "mse_grad(p, X, y)\n        path.append(p)"),)),
    Mistake(A01, "make_batches", "ignores rng",
            "your batches ignore `rng`: when a generator is given the order must be "
            "rng.permutation(n)",
            replace=(("rng.permutation(n) if rng is not None else np.arange(n)",
                      "np.arange(n)"),)),
    # 02 ------------------------------------------------------------------------------------
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
    # 03 ------------------------------------------------------------------------------------
    Mistake(A03, "LRDataset", "__len__ off by one",
            "len(dataset) must be the number of rows N; yours is one off",
            replace=(("return self.data.shape[0]", "return self.data.shape[0] - 1"),)),
    Mistake(A03, "LRDataset", "def len instead of __len__",
            "define __len__ (with the underscores): a method called `len` is never used by "
            "len() or by DataLoader", error=r"has no len\(\)|__len__"),
    Mistake(A03, "MyData", "def len instead of __len__",
            "define __len__ (with the underscores): a method called `len` is never used by "
            "len() or by DataLoader", error=r"has no len\(\)|__len__"),
    Mistake(A03, "MyData", "items as NumPy",
            "items must be torch tensors, not NumPy arrays: DataLoader batches and models "
            "expect tensors", replace=(("return self.x[i], self.y[i]",
                                        "return self.x[i].numpy(), self.y[i].numpy()"),)),
    Mistake(A03, "LRDataset", "items in float64",
            "items must be float32 tensors here (the default dtype of nn.Linear): build the "
            "tensor with dtype=torch.float32",
            replace=(("torch.as_tensor(data_points, dtype=torch.float32)",
                      "torch.as_tensor(data_points, dtype=torch.float64)"),)),
    Mistake(A03, "train_minibatch", "gradients not zeroed", ZERO,
            replace=(("            optimizer.zero_grad()\n", ""),)),
    # 04 ------------------------------------------------------------------------------------
    Mistake(A04, "LegendrePolynomial3", "backward forgets grad_output",
            "your backward returns the local derivative alone: the chain rule multiplies it "
            "by grad_output", also=("fit_sine",),
            replace=(("return grad_output * 1.5 * (5 * input ** 2 - 1)",
                      "return 1.5 * (5 * input ** 2 - 1)"),)),
    Mistake(A04, "LegendrePolynomial3", "wrong derivative in backward",
            "your forward is right but your backward is not its derivative: d/dx of "
            "0.5*(5x^3 - 3x) is 1.5*(5x^2 - 1)", also=("fit_sine",),
            replace=(("grad_output * 1.5 * (5 * input ** 2 - 1)",
                      "grad_output * 1.5 * (5 * input ** 2)"),)),
    Mistake(A04, "LegendrePolynomial3", "ctx.saved_tensor",
            "it is ctx.saved_tensors (plural), a tuple: (input,) = ctx.saved_tensors",
            error=r"saved_tensor\b(?!s)", also=("fit_sine",)),
    Mistake(A04, "poly_grads", "missing factor 2",
            "your gradient is exactly half the expected one: the derivative of a square "
            "brings down a factor 2", also=("fit_poly",),
            replace=(("g = 2.0 * residual", "g = residual"),)),
    Mistake(A04, "fit_sine", "gradients not zeroed", ZERO,
            replace=(("                p.grad = None\n", ""),)),
    # 05 ------------------------------------------------------------------------------------
    Mistake(A05, "LogisticRegression", "missing sigmoid",
            "forward must end with torch.sigmoid: logistic regression outputs probabilities "
            "between 0 and 1", replace=(("return torch.sigmoid(self.linear(x))",
                                         "return self.linear(x)"),)),
    Mistake(A05, "LogisticRegression", "missing super().__init__()", SUPER,
            error=r"before Module.__init__\(\)"),
    Mistake(A05, "train_logistic", "loss recorded after the step",
            "record each epoch's loss before its step: compute the loss, keep it, then "
            "backward and step",
            replace=(("        losses.append(loss.detach())\n        loss.backward()\n"
                      "        optimizer.step()\n",
                      "        loss.backward()\n        optimizer.step()\n"
                      "        losses.append(loss_fn(model(X), y).detach())\n"),)),
    Mistake(A05, "matrix_grad", "missing factor 2",
            "your gradient is exactly half the expected one: the gradient of the mean squared "
            "error is 2/n * X^T (X theta - y)", also=("matrix_gd",),
            replace=(("return 2.0 / n * X.T", "return 1.0 / n * X.T"),)),
)

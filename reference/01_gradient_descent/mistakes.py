"""Known mistakes of 01_gradient_descent, with the hint a TA gives (instructor side, never shipped).

Each entry is a small wrong implementation (textual changes to the reference) whose outputs
are compared with a failing student's, or the signature of the error a mistake raises.
"""
from grader.course.spec import Mistake

A01 = "01_gradient_descent"
GRAD_01 = "return np.array([np.mean(2 * residual * -1), np.mean(2 * residual * -X)])"
GD_STEP = "p = p - lr * mse_grad(p, X, y)\n        path.append(p)"

MISTAKES = (
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
)

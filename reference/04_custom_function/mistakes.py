"""Known mistakes of 04_custom_function, with the hint a TA gives (instructor side, never shipped).

Each entry is a small wrong implementation (textual changes to the reference) whose outputs
are compared with a failing student's, or the signature of the error a mistake raises.
"""
from grader.course.spec import Mistake

from ..hints import ZERO

A04 = "04_custom_function"

MISTAKES = (
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
    # An alternative model: the grader runs the fit with it and recognises its trajectory.
    Mistake(A04, "fit_sine", "model a * b * P3",
            "your fit follows the model a * b * P3(c + d*x); the model is a + b * P3(c + d*x) "
            "(a is added, not multiplied)",
            replace=(("y_pred = a + b * P3(c + d * x)", "y_pred = a * b * P3(c + d * x)"),)),
    Mistake(A04, "fit_sine", "gradients not zeroed", ZERO,
            replace=(("                p.grad = None\n", ""),)),
)

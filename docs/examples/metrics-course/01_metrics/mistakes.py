"""Known mistakes of 01_metrics and the hint a TA gives (instructor side, never shipped)."""
from grader.course.spec import Mistake

MISTAKES = (
    Mistake("01_metrics", "fit_regression", "gradients not zeroed",
            "your gradients add up from one step to the next: call optimizer.zero_grad() "
            "before each backward",
            replace=(("        optimizer.zero_grad()\n", ""),)),
)

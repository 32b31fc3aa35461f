"""Known mistakes of 05_models, with the hint a TA gives (instructor side, never shipped).

Each entry is a small wrong implementation (textual changes to the reference) whose outputs
are compared with a failing student's, or the signature of the error a mistake raises.
"""
from grader.course.spec import Mistake

from ..hints import SUPER

A05 = "05_models"

MISTAKES = (
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

"""Known mistakes of 02_training and the hint a TA gives (instructor side, never shipped)."""
from grader.course.spec import Mistake

MISTAKES = (
    Mistake("02_training", "Momentum", "dampened velocity",
            "your velocity is an average (momentum * v + (1 - momentum) * g): heavy-ball "
            "momentum adds the whole gradient, v = momentum * v + g",
            replace=(('.add_(p.grad)', '.add_(p.grad, alpha=1 - group["momentum"])'),)),
    Mistake("02_training", "train_early_stopping", "best parameters not restored",
            "you return the model as it was when training stopped: load the parameters of "
            "the best epoch back (model.load_state_dict) before returning",
            replace=(("    model.load_state_dict(best_state)\n", ""),)),
)

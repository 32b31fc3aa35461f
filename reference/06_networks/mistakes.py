"""Known mistakes of 06_networks, with the hint a TA gives (instructor side, never shipped).

Found in the notes' own loop and in learners' code: a softmax without the max shift (the
first thing that breaks on large logits), normalising over the wrong axis, a net that stays
float32 or uses another activation, an update that rebinds the name instead of changing the
parameter, gradients never cleared, the loss recorded after the update, a summed loss.
"""
from grader.course.spec import Mistake

A06 = "06_networks"
STEP = "            param -= lr * param.grad\n            param.grad = None"
SHIFT = "    shifted = z - np.max(z, axis=1, keepdims=True)\n"

MISTAKES = (
    Mistake(A06, "softmax", "no max shift",
            "exp of a large logit overflows (exp(1000) is inf, and inf/inf is NaN): subtract "
            "each row's maximum before exp; the result is the same",
            replace=((SHIFT, "    shifted = z\n"),)),
    Mistake(A06, "softmax", "normalised over columns",
            "your rows do not sum to 1: normalise over each row (axis=1, keepdims=True), not "
            "over each column",
            replace=(("np.sum(e, axis=1, keepdims=True)", "np.sum(e, axis=0, keepdims=True)"),)),
    Mistake(A06, "two_layer_net", "float32 layers",
            "your layers are float32: nn.Linear makes float32 weights unless you pass "
            "dtype=torch.float64 (or call .double() on the net)",
            error=r"must have the same dtype.*(Double and Float|Float and Double)|"
                  r"expected .*(Double|Float).* (Float|Double)",
            replace=(("nn.Linear(n_in, n_hidden, dtype=torch.float64)",
                      "nn.Linear(n_in, n_hidden)"),
                     ("nn.Linear(n_hidden, n_out, dtype=torch.float64)",
                      "nn.Linear(n_hidden, n_out)"))),
    Mistake(A06, "two_layer_net", "ReLU instead of Sigmoid",
            "the hidden layer's activation is a Sigmoid (nn.Sigmoid()), not a ReLU",
            replace=(("nn.Sigmoid()", "nn.ReLU()"),)),
    Mistake(A06, "sgd_step", "update rebinds the name",
            "`param = param - lr * param.grad` makes a new tensor and leaves the model's "
            "parameter as it was: update in place (param -= lr * param.grad) under "
            "torch.no_grad()", also=("train_net",),
            replace=((STEP, "            param = param - lr * param.grad\n"
                            "            param.grad = None"),)),
    Mistake(A06, "sgd_step", "gradients never cleared",
            "you never clear the gradients, so the next backward() adds to them: set "
            "param.grad = None (or zero it) after each update", also=("train_net",),
            replace=((STEP, "            param -= lr * param.grad"),)),
    Mistake(A06, "sgd_step", "update outside no_grad",
            "an in-place update of a parameter must run under torch.no_grad(): autograd "
            "refuses to change a leaf that requires grad", also=("train_net",),
            error=r"leaf Variable that requires grad"),
    Mistake(A06, "train_net", "loss recorded after the step",
            "you record the loss after the update: each epoch's loss is computed before that "
            "epoch's step (the first entry is the loss of the starting parameters)",
            replace=(("        losses.append(loss.detach().clone())\n        loss.backward()\n"
                      "        sgd_step(model, lr)\n",
                      "        loss.backward()\n        sgd_step(model, lr)\n"
                      "        losses.append(loss_fn(model(X), y).detach().clone())\n"),)),
    Mistake(A06, "train_net", "summed loss",
            "your loss is a sum over the samples: nn.MSELoss() takes the mean (the default "
            "reduction), so every step is N times smaller than yours",
            replace=(("loss_fn = nn.MSELoss()", "loss_fn = nn.MSELoss(reduction='sum')"),)),
)

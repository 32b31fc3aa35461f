"""An optimizer and a training loop: SGD with momentum as a ``torch.optim.Optimizer``, and
full-batch training with early stopping that reports itself in a dict."""
import torch


class Momentum(torch.optim.Optimizer):
    """SGD with (heavy-ball) momentum, as ``torch.optim.SGD(params, lr, momentum)``: for each
    parameter ``p`` with gradient ``g``, ``v = momentum * v + g`` (``v = g`` at the first
    step) and ``p -= lr * v``. Keep ``v`` in ``self.state[p]``."""

    def __init__(self, params, lr, momentum=0.9):
        ### BEGIN SOLUTION
        super().__init__(params, {"lr": lr, "momentum": momentum})
        ### END SOLUTION

    @torch.no_grad()
    def step(self, closure=None):
        ### BEGIN SOLUTION
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "velocity" not in state:
                    state["velocity"] = p.grad.clone()
                else:
                    state["velocity"].mul_(group["momentum"]).add_(p.grad)
                p.sub_(group["lr"] * state["velocity"])
        ### END SOLUTION


def train_early_stopping(model, x_train, y_train, x_val, y_val, lr, max_epochs, patience):
    """Full-batch training of ``model`` on the mean squared error with
    ``torch.optim.SGD(model.parameters(), lr=lr)``, for at most ``max_epochs`` epochs. After
    each step, compute the validation loss (no gradient); stop once it has not improved
    (strictly) on the best for ``patience`` epochs in a row. Restore the parameters of the best
    epoch before returning. Returns a dict:
    ``"train_losses"`` (a tensor, the training loss of each epoch run, before its step),
    ``"val_losses"`` (a tensor, the validation loss after each epoch's step),
    ``"best_epoch"`` (an int, counted from 0) and ``"best_val_loss"`` (a Python float)."""
    ### BEGIN SOLUTION
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    train_losses, val_losses = [], []
    best_val, best_epoch, best_state, waited = float("inf"), 0, None, 0
    for epoch in range(max_epochs):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x_train), y_train)
        loss.backward()
        optimizer.step()
        train_losses.append(loss.detach())
        with torch.no_grad():
            val = torch.nn.functional.mse_loss(model(x_val), y_val)
        val_losses.append(val)
        if val.item() < best_val:
            best_val, best_epoch, waited = val.item(), epoch, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            waited += 1
            if waited >= patience:
                break
    model.load_state_dict(best_state)
    return {"train_losses": torch.stack(train_losses), "val_losses": torch.stack(val_losses),
            "best_epoch": best_epoch, "best_val_loss": best_val}
    ### END SOLUTION

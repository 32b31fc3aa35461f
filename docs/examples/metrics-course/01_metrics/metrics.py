"""An accuracy, and a training loop that reports what it did."""
import torch


def top1_accuracy(logits, labels):
    """The fraction of rows of ``logits`` (N, K) whose largest entry is at ``labels`` (N,),
    as a Python float."""
    ### BEGIN SOLUTION
    return (logits.argmax(dim=1) == labels).float().mean().item()
    ### END SOLUTION


def fit_regression(model, x, y, lr, n_steps):
    """Full-batch gradient descent of ``model`` on the mean squared error with
    ``torch.optim.SGD(model.parameters(), lr=lr)``, ``n_steps`` steps.

    Returns a dict: ``"losses"``, a 1-D tensor of the loss before each step;
    ``"final_loss"``, the loss after the last step as a Python float; ``"steps"``, the
    number of steps taken as a Python int.
    """
    ### BEGIN SOLUTION
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(n_steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    with torch.no_grad():
        final = torch.nn.functional.mse_loss(model(x), y).item()
    return {"losses": torch.stack(losses), "final_loss": final, "steps": n_steps}
    ### END SOLUTION

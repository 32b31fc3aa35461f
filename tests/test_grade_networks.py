"""Assignment 06 (networks): correct solutions in other styles keep full marks; mistakes as
learners write them lose points exactly where they break, with the cause named."""
import pytest

from conftest import ROOT, broken, messages, reference_source

A06 = "06_networks"

REFERENCE_STYLE = reference_source(A06)

OTHER_STYLES = {
    # Everything written another way the contract allows.
    "functional and lists": '''
import numpy as np
import torch
import torch.nn.functional as F


def softmax(z):
    m = z.max(axis=1)[:, None]
    num = np.exp(z - m)
    return num / num.sum(axis=1)[:, None]


def two_layer_net(n_in, n_hidden, n_out):
    layers = [torch.nn.Linear(n_in, n_hidden), torch.nn.Sigmoid(),
              torch.nn.Linear(n_hidden, n_out)]
    return torch.nn.Sequential(*layers).to(torch.float64)


def sgd_step(model, lr):
    with torch.no_grad():
        for p in model.parameters():
            p.sub_(lr * p.grad)
    model.zero_grad()


def train_net(model, X, y, lr, n_epochs):
    history = []
    for epoch in range(n_epochs):
        loss = F.mse_loss(model(X), y)
        history.append(float(loss))
        loss.backward()
        sgd_step(model, lr)
    return torch.tensor(history, dtype=torch.float64)
''',
    "logsumexp and a manual loss": '''
import numpy as np
import torch


def softmax(z):
    top = np.max(z, axis=-1, keepdims=True)
    log_norm = top + np.log(np.sum(np.exp(z - top), axis=-1, keepdims=True))
    return np.exp(z - log_norm)


def two_layer_net(n_in, n_hidden, n_out):
    torch.set_default_dtype(torch.float64)
    try:
        return torch.nn.Sequential(torch.nn.Linear(n_in, n_hidden), torch.nn.Sigmoid(),
                                   torch.nn.Linear(n_hidden, n_out))
    finally:
        torch.set_default_dtype(torch.float32)


def sgd_step(model, lr):
    for param in model.parameters():
        with torch.no_grad():
            param.copy_(param - lr * param.grad)
        param.grad = None


def train_net(model, X, y, lr, n_epochs):
    out = torch.empty(n_epochs, dtype=torch.float64)
    for i in range(n_epochs):
        loss = ((model(X) - y) ** 2).mean()
        out[i] = loss.detach()
        loss.backward()
        sgd_step(model, lr)
    return out
''',
}


def write(student, text):
    return student(A06, text)


def test_the_reference_style_and_the_demo_score_full_marks(grade, student):
    result = grade(write(student, REFERENCE_STYLE), A06)
    assert result.score == 15, broken(result)
    assert grade(ROOT / "submissions" / "demo", A06).score == 15


@pytest.mark.parametrize("style", sorted(OTHER_STYLES))
def test_other_styles_keep_full_marks(grade, student, style):
    result = grade(write(student, OTHER_STYLES[style]), A06)
    assert result.score == 15, broken(result)


# Each line rewritten the way learners write it; the names that must lose points, and words
# its hint must contain.
MISTAKES = {
    "naive softmax": (
        ("    shifted = z - np.max(z, axis=1, keepdims=True)\n    e = np.exp(shifted)\n"
         "    return e / np.sum(e, axis=1, keepdims=True)",
         "    return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)"),
        {"softmax"}, "subtract each row's maximum"),
    "softmax over columns": (
        ("    return e / np.sum(e, axis=1, keepdims=True)", "    return e / e.sum(axis=0)"),
        {"softmax"}, "normalise over each row"),
    "float32 layers": (
        ("    return nn.Sequential(nn.Linear(n_in, n_hidden, dtype=torch.float64), nn.Sigmoid(),\n"
         "                         nn.Linear(n_hidden, n_out, dtype=torch.float64))",
         "    return nn.Sequential(nn.Linear(n_in, n_hidden), nn.Sigmoid(), "
         "nn.Linear(n_hidden, n_out))"),
        {"two_layer_net"}, "float32"),
    "ReLU hidden layer": (
        ("nn.Sigmoid(),\n", "nn.ReLU(),\n"), {"two_layer_net"}, "Sigmoid"),
    "update rebinds the name": (
        ("            param -= lr * param.grad\n",
         "            param = param - lr * param.grad\n"),
        {"sgd_step", "train_net"}, "in place"),
    "gradients never cleared": (
        ("            param -= lr * param.grad\n            param.grad = None\n",
         "            param -= lr * param.grad\n"),
        {"sgd_step", "train_net"}, "clear"),
    "loss recorded after the step": (
        ("        losses.append(loss.detach().clone())\n        loss.backward()\n"
         "        sgd_step(model, lr)\n",
         "        loss.backward()\n        sgd_step(model, lr)\n"
         "        losses.append(loss_fn(model(X), y).detach())\n"),
        {"train_net"}, "before"),
    "summed loss": (
        ("    loss_fn = nn.MSELoss()", "    loss_fn = nn.MSELoss(reduction=\"sum\")"),
        {"train_net"}, "mean"),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_mistakes_lose_points_exactly_where_they_break_and_are_named(grade, student, mistake):
    (old, new), names, words = MISTAKES[mistake]
    assert old in REFERENCE_STYLE, "stale mistake"
    result = grade(write(student, REFERENCE_STYLE.replace(old, new)), A06)
    assert broken(result) == names
    hints = {c.hint for ch in result.checks() if ch.name in names for c in ch.cases if c.hint}
    assert any(words in h for h in hints), (mistake, hints, messages(result, min(names)))

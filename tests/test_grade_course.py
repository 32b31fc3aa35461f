"""The whole course (issue 3): full marks, zero for stubs, other styles, classic mistakes."""
import pytest

from conftest import ROOT, broken, messages, mutate, reference_source

COURSE_NAMES = ["02_autograd", "03_dataset", "04_custom_function", "05_models", "06_networks"]


def test_reference_scores_100(grade):
    result = grade(ROOT / "reference")
    assert (result.score, result.max_score) == (100, 100)
    assert [a.max_score for a in result.assignments] == [20, 20, 15, 20, 10, 15]


def test_stubs_score_zero(grade):
    result = grade(ROOT / "assignments")
    assert result.score == 0
    assert all("not implemented" in c.message for ch in result.checks() for c in ch.cases)


def test_demo_shows_full_marks_and_one_useful_failure(grade):
    result = grade(ROOT / "submissions" / "demo")
    assert broken(result) == {"gradient_descent"}
    assert result.score == 95


@pytest.mark.parametrize("folder", COURSE_NAMES)
def test_other_styles_score_full_marks(grade, folder):
    """The demo's 02-06 are correct and written the way the course notes write them."""
    result = grade(ROOT / "submissions" / "demo", folder)
    assert result.score == result.max_score, broken(result)


# Correct solutions the contract allows but the reference does not write: full marks.
DIFFERENT_BUT_CORRECT = {
    "parameters defined w first": ("02_autograd", [(
        "        self.b = nn.Parameter(torch.tensor(b0, dtype=torch.float64))\n"
        "        self.w = nn.Parameter(torch.tensor(w0, dtype=torch.float64))",
        "        self.w = nn.Parameter(torch.tensor(w0, dtype=torch.float64))\n"
        "        self.b = nn.Parameter(torch.tensor(b0, dtype=torch.float64))")]),
    "trajectory as a list of tensors": ("02_autograd", [(
        "        path.append(torch.stack([b.detach().clone(), w.detach().clone()]))\n"
        "    return torch.stack(path)",
        "        path.append(torch.stack([b.detach().clone(), w.detach().clone()]))\n"
        "    return path")]),
    "losses as Python floats": ("05_models", [(
        "        losses.append(loss.detach())", "        losses.append(loss.item())"),
        ("    return torch.stack(losses)", "    return losses")]),
    "losses as a float64 tensor": ("05_models", [(
        "    return torch.stack(losses)", "    return torch.stack(losses).double()")]),
    # The contract fixes these trajectories' numbers, not their container.
    "gradient descent's path as a NumPy array": ("02_autograd", [(
        "        path.append(torch.stack([b.detach().clone(), w.detach().clone()]))\n"
        "    return torch.stack(path)",
        "        path.append([b.item(), w.item()])\n"
        "    return np.array(path)"), ("import torch\n", "import numpy as np\nimport torch\n")]),
    "the sine fit's path as a NumPy array": ("04_custom_function", [(
        "        path.append(torch.stack([a.detach(), b.detach(), c.detach(), d.detach()]))\n"
        "    return torch.stack(path)",
        "        path.append(torch.stack([a.detach(), b.detach(), c.detach(), d.detach()]))\n"
        "    return torch.stack(path).numpy()")]),
    # torch.func's stateless style: the model's own parameters are never touched, the training
    # runs on a dict of tensors swapped in for them (the grader's models must allow it).
    "train_model with torch.func.functional_call": ("02_autograd", [(
        "    optimizer = torch.optim.SGD(model.parameters(), lr=lr)\n"
        "    loss_fn = nn.MSELoss()\n"
        "    path = []\n"
        "    for _ in range(n_epochs):\n"
        "        optimizer.zero_grad()\n"
        "        loss = loss_fn(model(X), y)\n"
        "        loss.backward()\n"
        "        optimizer.step()\n"
        "        path.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()]))\n",
        "    params = {k: v.detach().clone().requires_grad_()\n"
        "              for k, v in model.named_parameters()}\n"
        "    loss_fn = nn.MSELoss()\n"
        "    path = []\n"
        "    for _ in range(n_epochs):\n"
        "        loss = loss_fn(torch.func.functional_call(model, params, (X,)), y)\n"
        "        grads = torch.autograd.grad(loss, list(params.values()))\n"
        "        params = {k: (p - lr * g).detach().requires_grad_()\n"
        "                  for (k, p), g in zip(params.items(), grads)}\n"
        "        path.append(torch.cat([p.detach().reshape(-1) for p in params.values()]))\n")]),
    "batches as lists of ints": ("01_gradient_descent", [(
        "    return [order[start:start + batch_size] for start in range(0, n, batch_size)]",
        "    return [order[start:start + batch_size].tolist() for start in range(0, n, batch_size)]")]),
}


@pytest.mark.parametrize("variant", sorted(DIFFERENT_BUT_CORRECT))
def test_correct_but_different_keeps_full_marks(grade, student, variant):
    folder, replacements = DIFFERENT_BUT_CORRECT[variant]
    result = grade(student(folder, mutate(reference_source(folder), replacements)), folder)
    assert result.score == result.max_score, broken(result)


MISTAKES = {
    "02_autograd": {
        "gradients not zeroed": ([("        b.grad.zero_()\n        w.grad.zero_()\n", "")],
                                 {"autograd_gd"}),
        "update loses the leaf": ([("b -= lr * b.grad\n            w -= lr * w.grad",
                                    "b = b - lr * b.grad\n            w = w - lr * w.grad")],
                                  {"autograd_gd"}),
        "float32 parameters": ([("self.b = nn.Parameter(torch.tensor(b0, dtype=torch.float64))",
                                 "self.b = nn.Parameter(torch.tensor(b0, dtype=torch.float32))"),
                                ("self.w = nn.Parameter(torch.tensor(w0, dtype=torch.float64))",
                                 "self.w = nn.Parameter(torch.tensor(w0, dtype=torch.float32))")],
                               {"LR"}),
        "(N,1) against (N,) in MSELoss": ([("loss = loss_fn(model(X), y)",
                                            "loss = loss_fn(model(X), y.reshape(-1, 1))")],
                                          {"train_model"}),
        # Where the contract says tensor, a NumPy array is wrong (train_model feeds plots and
        # later code that call tensor methods).
        "train_model's path as NumPy": ([(
            "        path.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()]))\n"
            "    return torch.stack(path)",
            "        path.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()]))\n"
            "    return torch.stack(path).numpy()")], {"train_model"}),
        "optimizer never zeroed": ([("        optimizer.zero_grad()\n        loss = ((y",
                                     "        loss = ((y")], {"optimizer_gd"}),
    },
    "03_dataset": {
        "__len__ off by one": ([("return self.data.shape[0]", "return self.data.shape[0] - 1")],
                               {"LRDataset"}),
        "items as NumPy": ([("return self.x[i], self.y[i]",
                             "return self.x[i].numpy(), self.y[i].numpy()")], {"MyData"}),
        "unseeded DataLoader": ([("generator = torch.Generator().manual_seed(seed) if shuffle "
                                  "and seed is not None else None", "generator = None")],
                                {"make_loader"}),
        "gradients not zeroed": ([("            optimizer.zero_grad()\n", "")],
                                 {"train_minibatch"}),
    },
    "04_custom_function": {
        "wrong derivative in backward": ([("grad_output * 1.5 * (5 * input ** 2 - 1)",
                                           "grad_output * 1.5 * (5 * input ** 2)")],
                                         {"LegendrePolynomial3", "fit_sine"}),
        "ctx.saved_tensor": ([("(input,) = ctx.saved_tensors", "(input,) = ctx.saved_tensor")],
                             {"LegendrePolynomial3", "fit_sine"}),
        "poly_grads without factor 2": ([("g = 2.0 * residual", "g = residual")],
                                        {"poly_grads"}),
        "fit_sine never zeroes": ([("                p.grad = None\n", "")], {"fit_sine"}),
    },
    "05_models": {
        "missing sigmoid": ([("return torch.sigmoid(self.linear(x))", "return self.linear(x)")],
                            {"LogisticRegression"}),
        "matrix_grad without 2": ([("return 2.0 / n * X.T", "return 1.0 / n * X.T")],
                                  {"matrix_grad"}),
        "loss recorded after the step": ([("        losses.append(loss.detach())\n"
                                           "        loss.backward()\n        optimizer.step()\n",
                                           "        loss.backward()\n        optimizer.step()\n"
                                           "        losses.append(loss_fn(model(X), y).detach())"
                                           "\n")], {"train_logistic"}),
        "threshold on the logit": ([("(model(X) >= 0.5)", "(model(X) >= 0.0)")], {"accuracy"}),
    },
}
TABLE = [(folder, name) for folder in MISTAKES for name in MISTAKES[folder]]


@pytest.mark.parametrize("folder, mistake", TABLE)
def test_classic_mistakes_lose_points_exactly_where_they_break(grade, student, folder, mistake):
    replacements, names = MISTAKES[folder][mistake]
    result = grade(student(folder, mutate(reference_source(folder), replacements)), folder)
    assert broken(result) == names


def test_float32_is_named_in_the_feedback(grade, student):
    replacements, _ = MISTAKES["02_autograd"]["float32 parameters"]
    result = grade(student("02_autograd", mutate(reference_source("02_autograd"), replacements)),
                   "02_autograd")
    assert "expected ['float64', 'float64']" in messages(result, "LR")


def test_numpy_items_are_named_in_the_feedback(grade, student):
    replacements, _ = MISTAKES["03_dataset"]["items as NumPy"]
    result = grade(student("03_dataset", mutate(reference_source("03_dataset"), replacements)),
                   "03_dataset")
    assert "expected a torch tensor, got a NumPy array" in messages(result, "MyData")


# make_loader is judged by what the contract fixes, not by the reference's order (issue 15):
# any seeded mechanism passes; what breaks a property loses make_loader only.
LOADERS = {
    "the notes' SubsetRandomSampler": ('''
def make_loader(dataset, batch_size, shuffle=False, seed=None):
    if not shuffle:
        return DataLoader(dataset, batch_size=batch_size)
    g = torch.Generator()
    g.manual_seed(seed)
    sampler = torch.utils.data.SubsetRandomSampler(list(range(len(dataset))), generator=g)
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=0)
''', set()),
    "a RandomSampler with its own generator": ('''
def make_loader(dataset, batch_size, shuffle=False, seed=None):
    from torch.utils.data import RandomSampler, SequentialSampler
    if shuffle:
        sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(seed + 12345))
    else:
        sampler = SequentialSampler(dataset)
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler)
''', set()),
    "shuffled even without shuffle": ('''
def make_loader(dataset, batch_size, shuffle=False, seed=None):
    g = torch.Generator().manual_seed(0 if seed is None else seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=g)
''', {"make_loader"}),
    "a seed that changes nothing": ('''
def make_loader(dataset, batch_size, shuffle=False, seed=None):
    g = torch.Generator().manual_seed(7)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=g)
''', {"make_loader"}),
    "the last batch dropped": ('''
def make_loader(dataset, batch_size, shuffle=False, seed=None):
    g = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=g,
                      drop_last=True)
''', {"make_loader"}),
}


@pytest.mark.parametrize("variant", sorted(LOADERS))
def test_make_loader_is_judged_by_the_properties_the_contract_states(grade, student, variant):
    body, names = LOADERS[variant]
    source = reference_source("03_dataset")
    start = source.index("def make_loader(")
    end = source.index("def split_dataset(")
    source = source[:start] + body.lstrip() + "\n\n" + source[end:]
    result = grade(student("03_dataset", source), "03_dataset")
    assert broken(result) == names, messages(result, "make_loader")


# Credit follows what is right (issue 15): the quantities a check declares shares for earn
# them on their own; anything else wrong, or a crash, earns nothing.
SPLITS = {
    "a right forward, a backward without its factor 5": (
        "04_custom_function", "LegendrePolynomial3",
        [("grad_output * 1.5 * (5 * input ** 2 - 1)", "grad_output * 1.5 * (input ** 2 - 1)")],
        3 / 7, "right: forward"),
    "a right backward, a forward without its factor 0.5": (
        "04_custom_function", "LegendrePolynomial3",
        [("return 0.5 * (5 * input ** 3 - 3 * input)", "return 5 * input ** 3 - 3 * input")],
        2 / 7, "right: backward"),
    "items as float64 tensors": (
        "03_dataset", "LRDataset",
        [("dtype=torch.float32", "dtype=torch.float64")], 3 / 9, "right: is a torch.utils"),
    "items as NumPy arrays (batches still right)": (
        "03_dataset", "MyData",
        [("return self.x[i], self.y[i]", "return self.x[i].numpy(), self.y[i].numpy()")],
        6 / 9, "right: is a torch.utils.data.Dataset, len(dataset), batches"),
    "a logistic regression without its sigmoid": (
        "05_models", "LogisticRegression",
        [("return torch.sigmoid(self.linear(x))", "return self.linear(x)")],
        6 / 10, "right: is an nn.Module, the parameter names"),
    "a network whose hidden layer has no bias": (
        "06_networks", "two_layer_net",
        [("nn.Linear(n_in, n_hidden, dtype=torch.float64)",
          "nn.Linear(n_in, n_hidden, bias=False, dtype=torch.float64)")],
        1 / 10, "right: is an nn.Module (10%"),
    "a module whose forward subtracts": (
        "02_autograd", "LR", [("return self.b + self.w * x", "return self.b - self.w * x")],
        6 / 10, "right: is an nn.Module, the parameter names"),
}


@pytest.mark.parametrize("split", sorted(SPLITS))
def test_declared_quantities_earn_their_own_share(grade, student, split):
    folder, name, replacements, share, words = SPLITS[split]
    source = mutate(reference_source(folder), replacements)
    result = grade(student(folder, source), folder)
    check = next(c for c in result.checks() if c.name == name)
    assert {c.status for c in check.cases} == {"partial"}, messages(result, name)
    assert check.score == pytest.approx(round(check.max_score * share, 4), abs=1e-3)
    assert words in messages(result, name)


def test_a_crash_earns_no_share(grade, student):
    source = mutate(reference_source("04_custom_function"), [(
        "(input,) = ctx.saved_tensors", "(input,) = ctx.saved_tensor")])
    result = grade(student("04_custom_function", source), "04_custom_function")
    check = next(c for c in result.checks() if c.name == "LegendrePolynomial3")
    assert check.score == 0 and {c.status for c in check.cases} == {"error"}


def test_the_same_note_about_every_item_is_said_once(grade, student):
    """Batches returned as lists, each converted: one note about every item, not one each."""
    folder = "01_gradient_descent"
    result = grade(student(folder, mutate(reference_source(folder), DIFFERENT_BUT_CORRECT[
        "batches as lists of ints"][1])), folder)
    check = next(c for c in result.checks() if c.name == "make_batches")
    assert check.notes == ["the returned value[…]: returned a list; it was converted to a "
                           "NumPy array"], check.notes


def test_a_whole_course_in_other_styles_scores_full_marks(grade):
    """Written after the reference and without looking at it: polyval and vander, np.polyfit,
    torch.autograd.grad, SubsetRandomSampler, parameters_to_vector, optimizers where the
    notes update by hand (and back), a NumPy plist for the sine fit, `p.data` updates."""
    result = grade(ROOT / "tests" / "submissions" / "other_styles")
    assert result.score == result.max_score == 100, broken(result)


def test_not_implemented_raised_by_torch_is_not_called_unfinished(grade, student):
    """Only a stub's own ``raise NotImplementedError`` means "not implemented yet": a tensor
    on the ``meta`` device (torch raises it, reading the output) is told as what happened,
    and loses exactly that function's points."""
    source = mutate(reference_source("02_autograd"), [(
        '    """Return ``[dJ/db, dJ/dw]`` computed by ``loss.backward()`` (not by the formula)."""',
        '    """Return ``[dJ/db, dJ/dw]`` computed by ``loss.backward()`` (not by the formula)."""'
        '\n    return torch.zeros(2, device="meta")')])
    result = grade(student("02_autograd", source), "02_autograd")
    assert broken(result) == {"autograd_grad"}
    said = messages(result, "autograd_grad")
    assert "meta tensor" in said and "not implemented" not in said

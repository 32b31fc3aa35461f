"""Feedback that teaches (issue 7): every catalogued mistake gets its own hint; a correct
submission gets none; hidden cases never show hidden values."""
import re

import numpy as np
import pytest

from conftest import COURSE, ROOT, broken, messages, mutate, reference_source
from grader.judge.diagnose import Diagnosis, explain_error, generic

CATALOGUE = [m for a in COURSE for m in COURSE.mistakes[a.folder]]
BY_OUTPUT = [m for m in CATALOGUE if m.replace]

# Submissions that raise the errors the error-signature entries describe.
ERROR_MUTATIONS = {
    "update loses the leaf": [("b -= lr * b.grad\n            w -= lr * w.grad",
                               "b = b - lr * b.grad\n            w = w - lr * w.grad")],
    "missing super().__init__()": [("        super().__init__()\n        self.b", "        self.b"),
                                   ("        super().__init__()\n        self.linear = nn.Linear(1",
                                    "        self.linear = nn.Linear(1"),
                                   ("        super().__init__()\n        self.linear = nn.Linear(n",
                                    "        self.linear = nn.Linear(n")],
    "def len instead of __len__": [("    def __len__(self):", "    def len(self):")],
    "ctx.saved_tensor": [("(input,) = ctx.saved_tensors", "(input,) = ctx.saved_tensor")],
    "update outside no_grad": [("    with torch.no_grad():\n        for param in model.parameters():"
                                "\n            param -= lr * param.grad\n"
                                "            param.grad = None",
                                "    for param in model.parameters():\n"
                                "        param -= lr * param.grad\n        param.grad = None")],
    "float32 layers": [("nn.Linear(n_in, n_hidden, dtype=torch.float64)", "nn.Linear(n_in, n_hidden)"),
                       ("nn.Linear(n_hidden, n_out, dtype=torch.float64)",
                        "nn.Linear(n_hidden, n_out)")],
}


def said(*args, **kwargs) -> str:
    """The hint of the generic finding, or ''."""
    found = generic(*args, **kwargs)
    return found.hint if found else ""


def hints(result, name):
    check = next(c for c in result.checks() if c.name == name)
    return [c.hint for c in check.cases]


@pytest.mark.parametrize("mistake", BY_OUTPUT, ids=lambda m: f"{m.target}: {m.name}")
def test_each_catalogued_mistake_gets_its_own_hint(grade, student, mistake):
    source = mutate(reference_source(mistake.folder), list(mistake.replace))
    result = grade(student(mistake.folder, source), mistake.folder)
    assert mistake.target in broken(result)
    found = hints(result, mistake.target)
    assert mistake.hint in found, found


@pytest.mark.parametrize("mistake", [m for m in CATALOGUE if m.error and m.name in
                                     ERROR_MUTATIONS],
                         ids=lambda m: f"{m.target}: {m.name}")
def test_each_catalogued_error_gets_its_hint(grade, student, mistake):
    source = reference_source(mistake.folder)
    for old, new in ERROR_MUTATIONS[mistake.name]:
        if old in source:
            source = source.replace(old, new)
    result = grade(student(mistake.folder, source), mistake.folder)
    assert mistake.hint in hints(result, mistake.target)


def test_every_error_entry_has_a_submission_here_or_needs_cuda():
    untested = {m.name for m in CATALOGUE if m.error} - set(ERROR_MUTATIONS)
    assert untested <= {"CPU tensor with GPU inputs"}  # covered by tests/test_gpu.py


def test_correct_submissions_get_no_hint(grade, fixture_student):
    demo_02_to_05 = ("02_autograd", "03_dataset", "04_custom_function", "05_models")
    for result in (grade(ROOT / "reference"), grade(fixture_student("loops"), "01_gradient_descent"),
                   grade(ROOT / "submissions" / "demo", *demo_02_to_05)):
        assert [c.hint for ch in result.checks() for c in ch.cases if c.hint] == []


def test_a_loop_over_a_wrong_gradient_is_judged_on_its_own(grade, student):
    source = mutate(reference_source("01_gradient_descent"),
                    [("np.mean(2 * residual * -1)", "np.mean(3 * residual * -1)")])
    result = grade(student("01_gradient_descent", source), "01_gradient_descent")
    assert "gradient_descent" not in broken(result) and "mse_grad" in broken(result)
    assert any("judged on its own" in h for h in hints(result, "gradient_descent"))


def test_generic_patterns_name_what_no_catalogue_knows():
    def out(v, dtype="float64"):
        v = np.asarray(v, dtype=np.float64)
        return {"result": {"kind": "ndarray", "dtype": dtype, "shape": list(v.shape),
                           "value": v}}
    e = np.array([[1.0, 2.0], [1.5, 2.5], [1.75, 2.75]])
    assert "3" in said(out(3 * e), out(e), "value", "cpu", hidden=False)
    assert "times the same constant" in said(out(3 * e), out(e), "value", "cpu", True)
    assert "3" not in said(out(3 * e), out(e), "value", "cpu", hidden=True)
    assert "negative" in said(out(-e), out(e), "value", "cpu", False)
    assert "transpose" in said(out(e.T), out(e), "value", "cpu", False)
    assert "wrong order" in said(out(e[::-1]), out(e), "value", "cpu", False)
    ahead = np.vstack([e[1:], [[1.9, 2.9]]])
    assert "one step ahead" in said(out(ahead), out(e), "trajectory", "cpu", False)
    f32 = e.astype(np.float32).astype(np.float64) * (1 + 3e-7)
    assert "float32 precision" in said(out(f32), out(e), "value", "cpu", False)


def test_hidden_failures_never_print_hidden_values(grade, student):
    source = mutate(reference_source("01_gradient_descent"),
                    [("np.mean(2 * residual * -1), np.mean(2 * residual * -X)",
                      "np.mean(7 * residual * -1), np.mean(7 * residual * -X)")])
    result = grade(student("01_gradient_descent", source), "01_gradient_descent")
    check = next(c for c in result.checks() if c.name == "mse_grad")
    hidden = [c for c in check.cases if c.hidden]
    assert hidden and all(c.status == "wrong" for c in hidden)
    for c in hidden:
        text = c.message + c.hint
        assert not re.search(r"\d\.\d{3,}", text), text  # no long decimals: no values
        assert "expected [" not in text and "Greatest" not in text
    public = [c for c in check.cases if not c.hidden]
    assert any("3.5" in c.hint for c in public)  # the ratio 7/2 is shown where it may be


def test_class_summary_names_the_most_common_mistakes():
    from grader.instructor.summary import common_mistakes
    payloads = [{"score": 1, "tests": [{"name": "02_autograd/autograd_gd", "score": 0,
                                        "max_score": 5, "extra_data": {"cases": [
                                            {"diagnosis": "gradients not zeroed"}]}}]}] * 3 + \
               [{"score": 1, "tests": []}]
    rows = common_mistakes(payloads)
    assert rows[0] == ("02_autograd/autograd_gd", "gradients not zeroed", 0.75)


# Attribution (issue 15): a hint that says "this comes from `other`" is said only when
# `other` is defined and loses points of its own.
GD = "01_gradient_descent"


def test_a_wrong_loop_over_a_right_gradient_does_not_blame_the_gradient(grade, student):
    source = reference_source(GD).replace("p = p - lr * mse_grad(p, X, y)",
                                          "p = p - lr / 2 * mse_grad(p, X, y)")
    result = grade(student(GD, source), GD)
    assert broken(result) == {"gradient_descent"}
    said = hints(result, "gradient_descent")
    assert not any("mse_grad" in h for h in said), said


def test_a_loop_whose_gradient_function_is_absent_is_not_told_to_fix_it(grade, student):
    source = reference_source(GD)
    start, end = source.index("def mse_grad("), source.index("def gradient_descent(")
    inline = ("def gradient_descent(params0, X, y, lr, n_steps):\n"
              "    p = np.array(params0, dtype=float)\n    path = []\n"
              "    for _ in range(n_steps):\n        r = y - p[0] - p[1] * X\n"
              "        p = p - lr * np.array([np.mean(-r), np.mean(-r * X)])\n"
              "        path.append(p)\n    return np.array(path)\n\n\n")
    end_gd = source.index("def make_batches(")
    source = source[:start] + inline + source[end_gd:]
    result = grade(student(GD, source), GD)
    assert "gradient_descent" in broken(result) and "mse_grad" in broken(result)
    said = hints(result, "gradient_descent")
    assert not any("mse_grad" in h for h in said), said


def test_a_wrong_gradient_is_still_named_in_the_loop_that_follows_it(grade, student):
    source = reference_source(GD).replace("np.mean(2 * residual * -1), np.mean(2 * residual * -X)",
                                          "np.mean(residual * -1), np.mean(residual * -X)")
    result = grade(student(GD, source), GD)
    assert any("factor 2" in h for h in hints(result, "mse_grad"))
    assert any("mse_grad" in h for h in hints(result, "minibatch_gd"))


def test_a_shuffle_of_batch_order_is_not_told_it_ignores_rng(grade, student):
    """Two ways to get make_batches wrong with a generator at hand, told apart: the catalogue's
    "ignores rng" where the order is never shuffled; the chunks' order shuffled is said as
    such, even on a case where that shuffle happens to leave the chunks in order."""
    start, end = reference_source(GD).index("def make_batches("), \
        reference_source(GD).index("def minibatch_gd(")
    chunks = ("def make_batches(n, batch_size, rng=None):\n"
              "    parts = [np.arange(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]\n"
              "    if rng is not None:\n"
              "        parts = [parts[k] for k in rng.permutation(len(parts))]\n"
              "    return parts\n\n\n")
    ignores = ("def make_batches(n, batch_size, rng=None):\n"
               "    idx = list(range(n))\n"
               "    return [np.array(idx[i:i + batch_size]) for i in range(0, n, batch_size)]\n\n\n")
    said_of = {}
    for name, body in (("chunks", chunks), ("ignores", ignores)):
        source = reference_source(GD)
        result = grade(student(GD, source[:start] + body + source[end:], name), GD)
        assert broken(result) == {"make_batches"}
        said_of[name] = [h for h in hints(result, "make_batches") if h]
    assert said_of["chunks"] and all("consecutive" in h for h in said_of["chunks"])
    assert not any("ignore `rng`" in h for h in said_of["chunks"])
    assert said_of["ignores"] and all("ignore `rng`" in h for h in said_of["ignores"])


def test_a_fit_over_a_failing_function_is_told_where_the_mistake_is(grade, student):
    """fit_sine calls the student's own LegendrePolynomial3: its failure is attributed there,
    and only while that Function fails its own checks."""
    wrong = reference_source("04_custom_function").replace(
        "grad_output * 1.5 * (5 * input ** 2 - 1)", "grad_output * 1.5 * (5 * input ** 2 - 2)")
    result = grade(student("04_custom_function", wrong), "04_custom_function")
    assert broken(result) == {"LegendrePolynomial3", "fit_sine"}
    assert all("LegendrePolynomial3" in h for h in hints(result, "fit_sine"))


# Known exceptions mapped to causes whatever the exercise (issue 15), written as students do.
ERRORS_WITH_KNOWN_CAUSES = {
    "a loader with worker processes": (
        "03_dataset", "make_loader",
        [("shuffle=shuffle, generator=generator)",
          "shuffle=shuffle, generator=generator, num_workers=2)")], "num_workers=0"),
    "unpacking the first parameter": (
        GD, "predict", [("b, w = params[0], params[1]\n    return b + w * X",
                         "b, w = params[0]\n    return b + w * X")], "unpacking"),
}


@pytest.mark.parametrize("case", sorted(ERRORS_WITH_KNOWN_CAUSES))
def test_known_exceptions_are_explained(grade, student, case):
    folder, name, replacements, words = ERRORS_WITH_KNOWN_CAUSES[case]
    result = grade(student(folder, mutate(reference_source(folder), replacements)), folder)
    assert name in broken(result)
    assert any(words in h for h in hints(result, name)), hints(result, name)
    # the student's own line is shown, even where the exception is raised in torch's code
    assert re.search(r"line \d+", messages(result, name)), messages(result, name)
    assert replacements[0][1].strip().splitlines()[0][:30] in messages(result, name)


def test_error_causes_read_the_message_and_where_it_was_raised():
    explain = lambda error: (explain_error(error) or Diagnosis("", "")).hint
    assert "num_workers" in explain({"type": "PermissionError", "message": "[Errno 13]",
                                     "origin": "multiprocessing/popen_fork.py:_launch"})
    assert explain({"type": "PermissionError", "message": "[Errno 13]",
                    "origin": "mymodule/files.py:open_it"}) == ""
    assert "saved_tensors" in explain({"type": "AttributeError", "message":
                                       "'BackwardCFunction' object has no attribute "
                                       "'saved_tensor'"})
    assert "float64" in explain({"type": "RuntimeError", "message": "mat1 and mat2 must "
                                 "have the same dtype, but got Double and Float"})
    assert "no_grad" in explain({"type": "RuntimeError", "message": "a leaf Variable that "
                                 "requires grad is being used in an in-place operation."})
    assert "import numpy as np" in explain({"type": "NameError",
                                            "message": "name 'np' is not defined"})
    assert explain({"type": "NameError", "message": "name 'my_helper' is not defined"}) == ""


def test_generic_names_factors_components_and_motion_from_the_numbers():
    """Mistakes no catalogue lists, recognised from the numbers and the case alone."""
    out = lambda v: {"result": {"kind": "ndarray", "dtype": "float64", "shape": list(v.shape),
                                "value": v}}
    X = np.linspace(0, 1, 50)
    inputs = {"args": [np.zeros(2), X, X, 0.1, 20]}
    e = np.array([0.3, -1.2])
    summed = said(out(50 * e), out(e), "gradient", "cpu", False, None, inputs)
    assert "N times" in summed and "number of samples (50)" in summed and "mean" in summed
    hidden = said(out(50 * e), out(e), "gradient", "cpu", True, None, inputs)
    assert "N times" in hidden and "50" not in hidden
    assert "divided by N" in said(out(e / 50), out(e), "gradient", "cpu", False, None, inputs)
    one = said(out(np.array([0.3, 2.4])), out(e), "gradient", "cpu", False, None, inputs)
    assert "only entry [1]" in one and "[0] is right" in one
    path = np.cumsum(np.full((20, 2), 0.1), axis=0)
    assert "never change" in said(out(np.zeros((20, 2))), out(path), "trajectory", "cpu",
                                     False, None, inputs)
    stops = path.copy()
    stops[10:] = stops[9]
    assert "stops changing after row 9" in said(out(stops), out(path), "trajectory", "cpu",
                                                    False, None, inputs)
    every = np.vstack([np.zeros((4, 2)), np.repeat(path[4::5], 5, axis=0)[:16]])
    assert "only every 5 steps" in said(out(every), out(path), "trajectory", "cpu", False,
                                           None, inputs)
    scalar = lambda v: {"result": {"kind": "float", "type": "float", "value": float(v)}}
    assert "square root" in said(scalar(3.0), scalar(9.0), "value", "cpu", False, None, inputs)
    assert "square of" in said(out(e ** 2), out(e), "value", "cpu", False, None, inputs)
    # a constant factor that is no quantity of the case keeps the plain wording
    assert "3" in said(out(3 * e), out(e), "gradient", "cpu", False, None, inputs)


def test_generic_names_dtypes_registration_missing_parts_packing_and_straight_lines():
    """More findings from the numbers alone, whatever the course (issue 15)."""
    arr = lambda v, dtype="float64", kind="ndarray": {"kind": kind, "dtype": dtype,
                                                      "shape": list(np.shape(v)),
                                                      "value": np.asarray(v, dtype=float)}
    e = arr([0.5, 1.5])
    assert "float32 where float64" in said({"result": arr([0.25, 1.25], "float32")},
                                           {"result": e}, "value", "cpu", False)
    assert "nn.Parameter" in said({"names": [], "grads_flow": [[]]},
                                  {"names": ["b", "w"], "grads_flow": [[True, True]]},
                                  "structure", "cpu", False)
    batches = lambda *parts: {"result": {"kind": "list", "items": [
        arr(np.array(p), "int64") for p in parts]}}
    assert "last" in said(batches([0, 1, 2], [3, 4, 5]), batches([0, 1, 2], [3, 4, 5], [6]),
                          "exact", "cpu", False)
    pair = {"items": [{"kind": "tuple", "items": [arr(1.0, "float32", "tensor"),
                                                  arr(2.0, "float32", "tensor")]}]}
    row = {"items": [arr([1.0, 2.0], "float32", "tensor")]}
    assert "return x, y" in said(row, pair, "structure", "cpu", False)
    start, step = np.array([0.0, 0.0]), np.array([0.1, -0.2])
    line = start + np.outer(np.arange(1, 11), step)
    curve = start + np.outer(np.sqrt(np.arange(1, 11)), step)
    assert "same step every time" in said({"result": arr(line)}, {"result": arr(curve)},
                                          "trajectory", "cpu", False)
    # integers that differ are no dtype matter
    assert "float" not in said({"result": arr([1, 7], "int64")}, {"result": arr([1, 2], "int64")},
                               "exact", "cpu", False)


def test_a_drift_after_a_right_first_step_and_three_more_known_exceptions():
    out = lambda v: {"result": {"kind": "ndarray", "dtype": "float64",
                                "shape": list(np.shape(v)), "value": np.asarray(v)}}
    e = np.cumsum(np.tile([[0.5, -0.25]], (8, 1)), axis=0) * np.linspace(1, 2, 8)[:, None]
    a = e.copy()
    a[3:, 0] += np.arange(1, 6) * 0.1  # right for three steps, then column [0] drifts
    said_drift = said(out(a), out(e), "trajectory", "cpu", False)
    assert "first 3 steps are right" in said_drift and "only column [0]" in said_drift
    assert "accumulate" in said_drift
    explain = lambda error: (explain_error(error) or Diagnosis("", "")).hint
    frame = lambda code: [{"file": "m.py", "line": 3, "function": "f", "code": code}]
    assert "save_for_backward" in explain({
        "type": "ValueError", "message": "not enough values to unpack (expected 1, got 0)",
        "frames": frame("(x,) = ctx.saved_tensors")})
    assert "b, w = params" in explain({  # the same message elsewhere: the unpacking hint
        "type": "ValueError", "message": "not enough values to unpack (expected 2, got 0)",
        "frames": frame("b, w = params[0]")})
    assert "backward() has not run" in explain({
        "type": "TypeError", "message": "unsupported operand type(s) for *: 'float' and "
        "'NoneType'", "frames": frame("param -= lr * param.grad")})
    assert "keepdims=True" in explain({
        "type": "ValueError", "message": "operands could not be broadcast together with "
        "shapes (5,3) (5,) "})


def test_a_parameter_forward_leaves_out_and_an_arrangement_not_from_the_seed():
    assert "`linear.bias` never gets a gradient" in said(
        {"names": ["linear.bias", "linear.weight"], "grads_flow": [[False, True]]},
        {"names": ["linear.bias", "linear.weight"], "grads_flow": [[True, True]]},
        "structure", "cpu", False)
    members = lambda train, val: {"train": np.array(train), "val": np.array(val)}
    inputs = {"n": 6, "val_fraction": 0.5, "seed": 3}
    assert "seeded with it" in said(members([5, 1, 2], [0, 3, 4]), members([2, 0, 4], [1, 5, 3]),
                                    "exact", "cpu", False, None, inputs)
    # without a random source in the case, other members are just other members
    assert said(members([5, 1, 2], [0, 3, 4]), members([2, 0, 4], [1, 5, 3]), "exact", "cpu",
                False, None, {"n": 6}) == ""


def test_a_builtin_used_as_a_value_and_a_graph_used_twice_are_explained():
    explain = lambda error: (explain_error(error) or Diagnosis("", "")).hint
    assert "ctx.saved_tensors" in explain({
        "type": "TypeError", "message": "unsupported operand type(s) for ** or pow(): "
        "'builtin_function_or_method' and 'int'"})
    assert "every step" in explain({
        "type": "RuntimeError", "message": "Trying to backward through the graph a second "
        "time (or directly access saved tensors after they have already been freed)."})


def test_an_activation_too_many_or_missing_and_rows_scaled_on_their_own():
    out = lambda v: {"result": {"kind": "ndarray", "dtype": "float64",
                                "shape": list(np.shape(v)), "value": np.asarray(v, float)}}
    e = np.array([[0.3, -1.2, 2.0], [1.5, 0.1, -0.7]])
    sigmoid = 1 / (1 + np.exp(-e))
    assert "extra sigmoid" in said(out(sigmoid), out(e), "value", "cpu", False)
    assert "sigmoid (activation) is missing" in said(out(e), out(sigmoid), "value", "cpu", False)
    rows = e * np.array([[2.0], [5.0]])
    assert "each row of your result" in said(out(rows), out(e), "value", "cpu", False)
    forward = lambda v: {"forward": [{"kind": "tensor", "dtype": "float64",
                                      "shape": list(np.shape(v)), "value": np.asarray(v)}]}
    assert "extra sigmoid" in said(forward(sigmoid), forward(e), "structure", "cpu", False)


def test_a_dimension_of_size_one_and_steps_uphill():
    arr = lambda v: {"kind": "tensor", "dtype": "float64", "shape": list(np.shape(v)),
                     "value": np.asarray(v, float)}
    items = lambda *vs: {"items": [{"kind": "tuple", "items": [arr(v) for v in vs]}]}
    assert "size 1 is missing" in said(items(0.5, 1.5), items([0.5], [1.5]), "structure",
                                       "cpu", False)
    assert "size 1 is too many" in said({"result": arr([[1.0], [2.0]])},
                                        {"result": arr([1.0, 2.0])}, "value", "cpu", False)
    from grader.judge.diagnose.variants import input_variants
    uphill = [v for v in input_variants({"args": [np.zeros(2), np.ones(5), np.ones(5), 0.1, 3]},
                                        False) if v.name == "steps uphill"]
    assert uphill and uphill[0].inputs["args"][3] == -0.1


def test_one_row_an_offset_an_unreduced_array_a_constant_and_rows_normalised():
    """An eighth held-out batch (only the last row returned, the intercept left out, the
    squared errors not averaged, an output normalised across its row): each named."""
    arr = lambda v: {"kind": "ndarray", "dtype": "float64", "shape": list(np.shape(v)),
                     "value": np.asarray(v, float)}
    out = lambda v: {"result": arr(v)}
    path = np.array([[1.0, 2.0], [1.5, 2.5], [1.8, 2.9]])
    assert "only the last of the 3 expected rows" in said(out(path[-1]), out(path),
                                                          "trajectory", "cpu", False)
    X = np.linspace(0, 1, 5)
    case = {"args": [np.array([0.7, 2.0]), X]}
    offset = said(out(2.0 * X), out(0.7 + 2.0 * X), "value", "cpu", False, inputs=case)
    assert "plus the same constant (-0.7): it is minus entry [0] of argument 1" in offset
    assert "(-0.7)" not in said(out(2.0 * X), out(0.7 + 2.0 * X), "value", "cpu", True,
                                inputs=case)  # a hidden case shows no value
    squares = np.array([0.25, 1.0, 4.0])
    loss = {"result": {"kind": "float", "type": "float", "value": float(squares.mean())}}
    assert "their mean is the expected value" in said(out(squares), loss, "value", "cpu", False)
    forward = lambda v: {"forward": [{"kind": "tensor", "dtype": "float32",
                                      "shape": list(np.shape(v)), "value": np.asarray(v)}]}
    z = np.array([[0.2, -1.0], [1.3, 0.4], [-0.5, 0.9]])
    sigmoid = 1 / (1 + np.exp(-z))
    rows = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert "sums to 1" in said(forward(rows), forward(sigmoid), "structure", "cpu", False)
    assert "every value you return is 1" in said(forward(np.ones((3, 1))),
                                                 forward(sigmoid[:, :1]), "structure", "cpu",
                                                 False)


def test_gradients_through_rows_of_a_fixed_sum_are_seen_flowing():
    """The structure probe once backpropagated a plain sum: for rows whose sum is fixed (rows
    centred, or normalised to 1) that gradient is zero, however the parameters flow, and the
    student was told no gradient reaches their parameters."""
    import types

    import torch

    from grader.course.probes import derived, module_structure

    class RowCentred(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(2, 2)

        def forward(self, x):
            h = self.linear(x)
            return h - h.mean(dim=1, keepdim=True)
    module = types.SimpleNamespace(RowCentred=RowCentred)
    inputs = {"forward": [{"__tensor__": np.array([[0.5, -1.0], [2.0, 0.3]]),
                           "dtype": "float32"}]}
    out = module_structure.fn(module, "RowCentred", inputs, "cpu")
    assert derived(module_structure, out, inputs)["grads_flow"] == [[True, True]]


def test_one_minus_the_expected_an_entry_off_by_a_case_factor_and_repeated_indices():
    """A ninth held-out batch (the wrong rows counted, a slope from np.cov over np.var,
    indices drawn with replacement): each named."""
    arr = lambda v, dtype="float64": {"kind": "ndarray", "dtype": dtype,
                                      "shape": list(np.shape(v)), "value": np.asarray(v)}
    num = lambda v: {"result": {"kind": "float", "type": "float", "value": v}}
    assert "one minus the expected one" in said(num(0.25), num(0.75), "value", "cpu", False)
    assert not said(num(0.5), num(0.5), "value", "cpu", False)
    x = np.linspace(1.0, 5.0, 10)
    case = {"args": [x, 3 * x + 1]}
    got, want = np.array([0.7, 3.0 * 10 / 9]), np.array([1.0, 3.0])
    assert "entry [1] of your result is N/(N-1) times the expected one" in said(
        {"result": arr(got)}, {"result": arr(want)}, "value", "cpu", False, inputs=case)
    parts = lambda *ps: {"result": {"kind": "list",
                                    "items": [arr(np.array(p), "int64") for p in ps]}}
    assert "2 of your indices repeat others" in said(parts([3, 3], [0, 3]),
                                                     parts([2, 0], [1, 3]), "exact", "cpu",
                                                     False)


def test_one_step_behind_names_its_cause_only_where_its_first_row_is_the_start():
    """Rows one step behind the expected ones are "recorded before each update" only where
    the first row is the starting point the loop was given; otherwise only what was seen."""
    out = lambda v: {"result": {"kind": "ndarray", "dtype": "float64", "shape": list(v.shape),
                                "value": v.tolist()}}
    start = np.array([0.5, -1.0])
    e = np.array([[0.4, -0.8], [0.3, -0.6], [0.2, -0.4], [0.1, -0.2]])
    behind = np.vstack([start, e[:-1]])
    with_start = {"args": [start, 0.1, 4]}
    assert "before each update" in said(out(behind), out(e), "trajectory", "cpu", False,
                                        inputs=with_start)
    elsewhere = np.vstack([[9.0, 9.0], e[:-1]])  # row 0 is no input of the case
    found = generic(out(elsewhere), out(e), "trajectory", "cpu", False, inputs=with_start)
    assert found is not None and not found.cause
    assert "before each update" not in found.hint and "one step behind" in found.hint

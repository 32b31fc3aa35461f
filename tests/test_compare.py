"""Closeness and its messages: pure functions, actual then expected."""
import numpy as np

from grader.judge.compare import compare_outputs, tolerance_for


def described(value, kind="ndarray"):
    value = np.asarray(value)
    return {"kind": kind, "dtype": value.dtype.name, "shape": list(value.shape), "value": value}


def test_equal_within_tolerance_passes():
    e = {"result": described([1.0, 2.0])}
    a = {"result": described([1.0 + 1e-12, 2.0])}
    assert compare_outputs(a, e, "gradient").passed


def test_message_reports_mismatch_count_and_greatest_differences():
    e = {"result": described([1.0, 2.0, 3.0])}
    a = {"result": described([1.0, 2.5, 4.0])}
    cmp = compare_outputs(a, e, "value")
    text = cmp.problems[0].text
    assert "Mismatched elements: 2 / 3 (66.7%)" in text
    assert "Greatest absolute difference: 1 at index (2,)" in text
    assert "Greatest relative difference: 0.333333 at index (2,)" in text


def test_attributes_are_checked_before_values():
    e = {"result": described(np.zeros(3))}
    assert "shape does not match: got (4,), expected (3,)" in \
        compare_outputs({"result": described(np.zeros(4))}, e, "value").problems[0].text
    assert "dtype does not match: got float32, expected float64" in compare_outputs(
        {"result": described(np.zeros(3, np.float32))}, e, "value").problems[0].text
    assert "expected a NumPy array, got a torch tensor" in compare_outputs(
        {"result": described(np.zeros(3), "tensor")}, e, "value").problems[0].text


def test_trajectory_names_the_first_step_that_leaves():
    path = np.cumsum(np.ones((6, 2)), axis=0)
    wrong = path.copy()
    wrong[3:] += 0.1
    cmp = compare_outputs({"result": described(wrong)}, {"result": described(path)}, "trajectory")
    assert cmp.problems[0].first_step == 3
    assert "leaves the reference at step 4 (row 3)" in cmp.problems[0].text


def test_nan_is_reported_with_its_first_step():
    path = np.ones((5, 2))
    bad = path.copy()
    bad[2, 1] = np.nan
    text = compare_outputs({"result": described(bad)}, {"result": described(path)},
                           "trajectory").problems[0].text
    assert "contains NaN (first at step 3, row 2)" in text


def test_hidden_cases_never_show_values():
    e = {"result": described([1.234567, 2.0])}
    a = {"result": described([9.876543, 2.0])}
    text = compare_outputs(a, e, "value", reveal=False).problems[0].text
    assert "1.234567" not in text and "9.876543" not in text
    assert "Mismatched elements: 1 / 2" in text


def test_scalars_accept_any_number_like_return():
    e = {"result": {"kind": "float", "type": "float", "value": 0.5}}
    for a in ({"kind": "float", "type": "float64", "value": 0.5}, described(0.5),
              described([0.5], "tensor")):
        assert compare_outputs({"result": a}, e, "value").passed


def test_a_list_is_converted_with_a_note_when_an_array_is_expected():
    e = {"result": described([[1.0, 2.0]])}
    a = {"result": {"kind": "list", "items": [{"kind": "list", "items": [
        {"kind": "float", "type": "float", "value": 1.0},
        {"kind": "float", "type": "float", "value": 2.0}]}]}}
    cmp = compare_outputs(a, e, "trajectory")
    assert cmp.passed and "converted to a NumPy array" in cmp.notes[0]


def test_mutated_inputs_fail_even_with_right_values():
    e = {"result": described([1.0]), "mutated": []}
    a = {"result": described([1.0]), "mutated": ["`params0`"]}
    assert "modified its input `params0` in place" in compare_outputs(a, e, "value").problems[0].text


def test_tolerances_depend_on_dtype_kind_and_device():
    assert tolerance_for("value", "float64").rtol < tolerance_for("value", "float32").rtol
    assert tolerance_for("trajectory", "float64").rtol > tolerance_for("value", "float64").rtol
    assert tolerance_for("value", "float64", "cuda").rtol > tolerance_for("value", "float64").rtol


def test_module_structure_sets_the_parameters_a_case_gives_whatever_the_init(tmp_path):
    """Two nets built differently (float64 layers, or float32 layers made double) report the
    same forward once the case sets their parameters."""
    import torch
    from grader.course.probes import PROBES, run_probe
    from grader.worker.wire import dumps, loads
    import types
    nets = types.SimpleNamespace(
        direct=lambda: torch.nn.Sequential(torch.nn.Linear(2, 3, dtype=torch.float64),
                                           torch.nn.Tanh(),
                                           torch.nn.Linear(3, 1, dtype=torch.float64)),
        converted=lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(),
                                              torch.nn.Linear(3, 1)).double())
    rng = np.random.default_rng(0)
    inputs = {"ctor": [], "forward": [{"__tensor__": rng.normal(size=(4, 2)),
                                       "dtype": "float64", "requires_grad": False}],
              "set": {"0.weight": rng.normal(size=(3, 2)), "0.bias": rng.normal(size=3),
                      "2.weight": rng.normal(size=(1, 3)), "2.bias": rng.normal(size=1)}}
    probe = PROBES["module_structure"]
    out = [loads(dumps(run_probe(nets, probe, n, inputs, "cpu", seed))) for n, seed in
           (("direct", 1), ("converted", 2))]
    assert np.array_equal(out[0]["forward"][0]["value"], out[1]["forward"][0]["value"])
    unset = {k: v for k, v in inputs.items() if k != "set"}
    raw = [run_probe(nets, probe, n, unset, "cpu", 1) for n in ("direct", "converted")]
    assert not np.array_equal(raw[0]["forward"][0]["value"], raw[1]["forward"][0]["value"])


def test_no_relative_difference_against_expected_values_below_the_absolute_tolerance():
    e = {"result": described([1e-19, 2.0])}
    a = {"result": described([3e-5, 2.0])}
    text = compare_outputs(a, e, "value").problems[0].text
    assert "Greatest absolute difference" in text and "relative" not in text
    e2 = {"result": described([1e-19, 2.0])}
    a2 = {"result": described([3e-5, 2.5])}
    text = compare_outputs(a2, e2, "value").problems[0].text
    assert "Greatest relative difference: 0.25 at index (1,)" in text


def test_reports_say_a_repeated_message_and_a_repeated_hint_once():
    from grader.judge.compare import Comparison, Problem
    from grader.judge.feedback import check_text, describe_comparison
    from grader.judge.results import CaseResult, CheckResult
    cmp = Comparison([Problem(f"items[{i}]", "the dtype does not match: got float64, "
                              "expected float32") for i in range(20)])
    said = describe_comparison(cmp)
    assert said.count("the dtype does not match") == 1
    assert said.startswith("items[0], items[1], items[2] and 17 more (20 places): ")
    check = CheckResult("01", "f", 5, cases=[
        CaseResult(f"c{i}", False, i, "wrong", 0.0, message="the returned value: values differ",
                   hint="every value is twice the expected one") for i in range(5)])
    text = check_text(check)
    assert text.count("values differ") == 1 and "(all 5 cases)" in text
    assert text.count("twice the expected") == 1
    assert "hint (all 5 cases): every value is twice" in text
    check.cases[4] = CaseResult("c4", True, 4, "wrong", 0.0, message="other\nsame\nsame\nsame")
    text = check_text(check)
    assert "cases c0, c1, c2, c3 (4 cases)" in text and "hidden case c4" in text
    assert "same  (×3)" in text and "hint (c0, c1, c2, c3): every value" in text


# ----------------------------------------------------------------- dicts, exact types (issue 26)
def _out(value):
    """A returned value as the worker sends it: described, then through the wire."""
    from grader.worker import wire
    from grader.course.probes import describe
    return wire.loads(wire.dumps({"result": describe(value)}))


def _said(actual, expected, **kw):
    return [f"{p.where}: {p.text}" for p in
            compare_outputs(_out(actual), _out(expected), "value", **kw).problems]


def test_a_dict_is_compared_key_by_key_and_each_value_is_named_by_its_key():
    import torch
    right = {"loss": 0.25, "weights": torch.tensor([1.0, 2.0]), "epochs": 3}
    assert _said(dict(right), right) == []
    said = _said({"value": 0.123}, right)
    assert said and "the keys do not match: missing key(s) 'loss', 'weights', 'epochs'; " \
        "unexpected key(s) 'value'" in said[0], said
    said = _said({**right, "weights": torch.tensor([1.0, 2.5])}, right)
    assert len(said) == 1 and said[0].startswith("the returned value['weights']: "), said
    assert "got [1. , 2.5], expected [1., 2.]" in said[0] and "Mismatched elements: 1 / 2" in said[0]
    said = _said({**right, "epochs": 4}, right)
    assert said == ["the returned value['epochs']: got 4, expected 3"]
    said = _said([0.25, 3], right)
    assert said == ["the returned value: expected a dict, got a list"]


def test_a_hidden_dict_keeps_the_expected_keys_to_itself():
    said = [p.text for p in compare_outputs(_out({"x": 1.0}), _out({"loss": 1.0, "x": 1.0}),
                                            "value", reveal=False).problems]
    assert said == ["the keys do not match: 1 expected key(s) missing"]


def test_a_forged_dict_description_is_unreadable_not_a_crash():
    e = _out({"loss": 1.0})
    for forged in ({"kind": "dict", "keys": ["'loss'"], "items": []},
                   {"kind": "dict", "keys": [3], "items": [{"kind": "float", "value": 1.0}]},
                   {"kind": "dict", "keys": "'loss'", "items": None}):
        cmp = compare_outputs({"result": forged}, e, "value")
        assert [p.text for p in cmp.problems] == ["could not be read"], forged


def test_a_key_named_kind_is_a_key_like_any_other():
    right = {"kind": "tensor", "value": 1.0}
    assert _said(dict(right), right) == []
    assert _said({"kind": "ndarray", "value": 1.0}, right) == [
        "the returned value['kind']: expected 'tensor', got 'ndarray'"]


def test_exact_python_types_where_the_check_asks_for_them():
    import torch
    strict = dict(strict_type=True)
    assert _said(5.0, 5) == []  # the same number: passes where the type is free
    assert _said(5.0, 5, **strict) == ["the returned value: expected a Python int, got a float "
                                      "(`int(...)` converts it)"]
    assert _said(1, 1.0, **strict) == ["the returned value: expected a Python float, got an int "
                                      "(`float(...)` converts it)"]
    assert _said(torch.tensor(0.75), 0.75, **strict) == [
        "the returned value: expected a Python float, got a torch tensor of shape () "
        "(`.item()` gives the number)"]
    assert _said(np.int64(5), 5, **strict) == [
        "the returned value: expected a Python int, got a NumPy int64 (`int(...)` converts it)"]
    assert _said(5, 5, **strict) == [] and _said(0.75, 0.75, **strict) == []
    assert _said({"n": 5.0}, {"n": 5}, **strict) == [
        "the returned value['n']: expected a Python int, got a float (`int(...)` converts it)"]


def test_an_int_is_compared_exactly_and_shown_as_an_int():
    assert _said(5, 12) == ["the returned value: got 5, expected 12"]
    assert _said(10**12 + 1, 10**12) != []  # a count off by one is wrong at any size


def test_a_tolerance_per_quantity():
    from grader.course.spec import Check, CaseSpec
    import pytest
    path = np.cumsum(np.ones((4, 2)), axis=0)
    e = {"path": described(path), "restored": described(path[1])}
    a = {"path": described(path), "restored": described(path[1] + [0.0, 1e-3])}
    # judged as a trajectory, a restored vector "leaves the reference at step 2"
    said = compare_outputs(a, e, "trajectory").problems[0].text
    assert said.startswith("leaves the reference at step 2"), said
    said = compare_outputs(a, e, "trajectory", tolerances={"restored": "value"}).problems[0].text
    assert said.startswith("got [") and "up to 1.3e-06 allowed" not in said, said
    assert compare_outputs(a, e, "trajectory", tolerances={"restored": (1e-2, 0.0)}).passed
    assert "up to 1e-05 allowed" in compare_outputs(
        a, e, "trajectory", tolerances={"restored": (0.0, 1e-5)}).problems[0].text
    case = (CaseSpec("one", lambda rng: {}),)
    for bad in ("loose", (1e-3,), (-1.0, 0.0), ("1e-3", 0.0), (True, 0.0)):
        with pytest.raises(ValueError, match=r"tolerances\['restored'\] must be one of"):
            Check("f", 1, "call", case, tolerances={"restored": bad})
    Check("f", 1, "call", case, tolerances={"restored": "value", "path": (1e-3, 1e-6)})


def test_an_array_of_rows_is_shown_on_one_line_in_whole_rows():
    e = np.arange(12.0).reshape(4, 3)
    text = compare_outputs({"result": described(e + 1)}, {"result": described(e)},
                           "value").problems[0].text
    assert text.splitlines()[0] == ("got [[1., 2., 3.], [4., 5., 6.], [7., 8., 9.], "
                                    "[10., 11., 12.]], expected [[0., 1., 2.], [3., 4., 5.], "
                                    "[6., 7., 8.], [9., 10., 11.]]"), text
    path = np.cumsum(np.ones((3, 5, 4)), axis=0)  # each step a (5, 4) array of parameters
    wrong = path.copy()
    wrong[1:] += 0.5
    text = compare_outputs({"result": described(wrong)}, {"result": described(path)},
                           "trajectory").problems[0].text
    assert "row 1: got [[2.5, 2.5, 2.5, 2.5], [2.5, 2.5, 2.5, 2.5], [2.5, 2.5, 2.5, 2.5], … " \
        "(2 more rows)], expected [[2., 2., 2., 2.], [2., 2., 2., 2.], [2., 2., 2., 2.], … " \
        "(2 more rows)]" in text, text
    one_left = np.zeros((7, 2))
    one_left[:, 0] = np.arange(7)
    text = compare_outputs({"result": described(one_left + 1)}, {"result": described(one_left)},
                           "trajectory").problems[0].text
    assert "row 0: got [1., 1.], expected [0., 0.]" in text, text


def test_counts_are_worded_in_the_right_number():
    one, two = [described([1.0])], [described([1.0]), described([2.0])]
    text = compare_outputs({"result": {"kind": "list", "items": two}},
                           {"result": {"kind": "list", "items": one}}, "value").problems[0].text
    assert text == "expected 1 entry, got 2 entries", text
    text = compare_outputs({"result": {"kind": "float", "value": 1.0}},
                           {"result": {"kind": "tuple", "items": one}}, "value").problems[0].text
    assert text == "expected a tuple of 1 item, got a float", text


def test_a_bit_for_bit_copy_passes_yet_a_nan_in_both_still_fails():
    """Equal bytes pass at once (a correct output often is the reference's to the bit), but
    not where those bytes hold a NaN or an infinity: the reference's NaN is matched only where
    the comparison asks for it (``equal_nan``, the diagnoses' use)."""
    for kind in ("gradient", "exact", "trajectory"):
        e = {"result": described(np.linspace(-1.0, 1.0, 12).reshape(4, 3))}
        assert compare_outputs({"result": described(e["result"]["value"].copy())}, e,
                               kind).passed
    signed = {"result": described([0.0, -0.0])}
    assert compare_outputs({"result": described([-0.0, 0.0])}, signed, "exact").passed
    for bad in (np.nan, np.inf):
        e = {"result": described([1.0, bad])}
        same = {"result": described([1.0, bad])}
        assert not compare_outputs(same, e, "gradient").passed
        assert compare_outputs(same, e, "gradient", equal_nan=True).passed
    as32 = {"result": described(np.float32([0.5, 0.25]))}
    got = compare_outputs({"result": described([0.5, 0.25])}, as32, "gradient")
    assert not got.passed and "dtype" in got.problems[0].text


def test_an_int_too_large_for_a_float_is_a_wrong_answer_not_a_grader_failure():
    """``return 10**400`` (or a list holding it) raised OverflowError in the grader: every
    case "not graded", told to the instructor as the grader's failure on every run."""
    from grader.judge.compare import signature
    huge = {"result": {"kind": "int", "type": "int", "value": 10**400}}
    for expected in ({"result": {"kind": "float", "type": "float", "value": 2.5}},
                     {"result": {"kind": "int", "type": "int", "value": 3}},
                     {"result": described([1.0, 2.0])}):
        got = compare_outputs(huge, expected, "value")
        assert not got.passed and got.problems
    assert signature(huge) != signature({"result": {"kind": "int", "value": -10**400}})
    assert compare_outputs(huge, {"result": {"kind": "int", "type": "int", "value": 10**400}},
                           "value").passed

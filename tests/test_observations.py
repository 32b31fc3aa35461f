"""Issue 27, observations that locate: a Dataset whose ``len`` disagrees with the items it
returns, a trajectory that is the expected one reversed, shifted by several steps, or stuck at
one of its rows. Each says only what was seen (``cause=False``), fires on a submission built
that way, never on a correct one, and leaves the verdicts as they were."""
import numpy as np

from conftest import broken, mutate, reference_source
from grader.course.probes import describe
from grader.judge.diagnose import generic
from grader.judge.diagnose.trajectories import motion, reordered
from grader.worker import wire

# Words a cause would need: none of them may appear in an observation.
CAUSES = ("because", "missing", "forgot", "instead of", "in place", "condition", "break",
          "loop", "optimizer", "copy", "clone", "step()")


def _desc(value):
    return wire.loads(wire.dumps({"result": describe(value)}))


def _seen_only(found, *words):
    assert found is not None and not found.cause, found
    for w in words:
        assert w in found.hint, found.hint
    assert not any(c in found.hint for c in CAUSES), found.hint


def _by_case(result, name):
    check = next(c for c in result.checks() if c.name == name)
    return check.cases


# ------------------------------------------------------------------ a Dataset's len
SHORT = ("        return len(self.x)\n", "        return len(self.x) - 1\n")
WIDTH = ("        return len(self.x)\n", "        return self.x.shape[1]\n")


def test_a_len_shorter_than_the_items_returned_is_observed(grade, student):
    for name, change in (("short", SHORT), ("width", WIDTH)):
        source = mutate(reference_source("03_dataset"), [change])
        result = grade(student("03_dataset", source, name), "03_dataset")
        assert broken(result) == {"MyData"}  # verdicts as before: the length is what fails
        cases = _by_case(result, "MyData")
        assert all(c.status == "partial" for c in cases)
        for case in cases:
            assert case.diagnosis == "len disagrees with the items" and not case.cause
            assert "`__len__` counts fewer items than `__getitem__` gives" in case.hint
            assert not any(c in case.hint for c in CAUSES), case.hint
        public = [c for c in cases if not c.hidden]
        n = int(public[0].message.split("expected ")[1].split(",")[0])
        got = n - 1 if name == "short" else 1
        assert f"len(dataset) is {got}, yet your dataset returns item [" in public[0].hint
        assert ("the first item" if got == 1 else f"the first {got} items") in public[0].hint
        hidden = [c for c in cases if c.hidden]
        assert hidden and all(not any(ch.isdigit() for ch in c.hint) for c in hidden)


def test_a_correct_dataset_gets_no_observation(grade, student):
    result = grade(student("03_dataset", reference_source("03_dataset")), "03_dataset")
    assert broken(result) == set()
    assert [c.hint for ch in result.checks() for c in ch.cases if c.hint] == []


def _dataset_output(n, items, rows):
    pair = lambda i: (np.array([float(i)]), np.array([2.0 * i]))
    batches = [(np.arange(s, min(s + 4, rows), dtype=float)[:, None],
                2 * np.arange(s, min(s + 4, rows), dtype=float)[:, None])
               for s in range(0, rows, 4)]
    return wire.loads(wire.dumps({"len": n, "items": [describe(pair(i)) for i in items],
                                  "batches": [describe(b) for b in batches],
                                  "is_dataset": True}))


def test_a_len_that_differs_with_other_items_too_is_not_said_to_disagree():
    """Wrong items as well as a wrong length: no claim that only the count is off."""
    expected = _dataset_output(10, [0, 5, 9], 10)
    wrong_items = _dataset_output(9, [0, 5, 8], 9)
    found = generic(wrong_items, expected, "structure", "cpu", False, None, {"items": [0, 5, 9]})
    assert found is None or found.name != "len disagrees with the items"
    # a longer len with the right items: said as seen, no "fewer"
    longer = generic(_dataset_output(12, [0, 5, 9], 10), expected, "structure", "cpu", False,
                     None, {"items": [0, 5, 9]})
    _seen_only(longer, "len(dataset) is 12 where 10 is expected",
               "every item your dataset returned")
    assert "fewer" not in longer.hint


# ------------------------------------------------------------------ trajectories
E = np.cumsum(np.vstack([np.full((1, 2), 0.5), 0.5 * 0.8 ** np.arange(1, 12)[:, None]
                         * np.array([[1.0, -2.0]])]), axis=0)


def test_a_reversed_trajectory_is_observed():
    _seen_only(generic(_desc(E[::-1]), _desc(E), "trajectory", "cpu", False, None,
                       {"args": []}), "the expected one in reverse order")


def test_a_trajectory_shifted_by_several_steps_is_observed():
    late = np.vstack([np.zeros((3, 2)), E[:-3]])
    found = generic(_desc(late), _desc(E), "trajectory", "cpu", False, None, {"args": []})
    assert found is not None and not found.cause
    assert "3 steps late" in found.hint and "from your row 3 on" in found.hint, found.hint
    _seen_only(found)
    early = np.vstack([E[2:], np.repeat(E[-1:], 2, axis=0)])
    found = generic(_desc(early), _desc(E), "trajectory", "cpu", False, None, {"args": []})
    assert found is not None and not found.cause
    assert "2 steps early" in found.hint, found.hint
    _seen_only(found)


def test_a_trajectory_stuck_at_one_of_the_expected_rows_is_observed():
    middle = np.repeat(E[4:5], len(E), axis=0)
    _seen_only(generic(_desc(middle), _desc(E), "trajectory", "cpu", False, None,
                       {"args": []}), "equals the expected row 4 (counting from 0, of 12 rows)")
    hidden = generic(_desc(middle), _desc(E), "trajectory", "cpu", True, None, {"args": []})
    _seen_only(hidden, "one same row of the expected ones")
    assert not any(ch.isdigit() for ch in hidden.hint)
    _seen_only(generic(_desc(np.repeat(E[:1], len(E), axis=0)), _desc(E), "trajectory", "cpu",
                       False, None, {"args": []}), "equals the first of the expected rows")
    # the last row keeps its witnessed cause (rows that alias the final state)
    assert generic(_desc(np.repeat(E[-1:], len(E), axis=0)), _desc(E), "trajectory", "cpu",
                   False, None, {"args": []}).cause


def test_a_trajectory_right_then_stuck_at_its_own_row_is_observed():
    stuck = E.copy()
    stuck[6:] = stuck[5]
    _seen_only(generic(_desc(stuck), _desc(E), "trajectory", "cpu", False, None, {"args": []}),
               "stops changing after row 5", "rows up to row 5 are the expected ones")
    # wrong before it stops: the rows are not said to be right
    off = stuck * 1.01
    found = generic(_desc(off), _desc(E), "trajectory", "cpu", False, None, {"args": []})
    assert "are the expected ones" not in found.hint


def test_paths_that_only_look_reversed_or_stuck_are_not_said_so():
    """A path that is its own reverse, or expected rows that repeat, cannot be told apart."""
    there_and_back = np.vstack([E[:6], E[:6][::-1]])
    assert reordered(there_and_back, there_and_back, "trajectory", "cpu") is None
    assert reordered(there_and_back[::-1], there_and_back, "trajectory", "cpu") is None
    flat = E.copy()
    flat[3:6] = flat[3]  # the expected path itself rests a while
    assert motion(np.repeat(flat[3:4], len(flat), axis=0), flat, "trajectory", "cpu") is None
    for f in (reordered, motion):  # a correct path
        assert f(E, E, "trajectory", "cpu") is None


def test_a_reversed_gradient_descent_is_observed_and_keeps_its_verdict(grade, student):
    source = mutate(reference_source("01_gradient_descent"), [(
        "        path.append(p)\n    return np.array(path).reshape(n_steps, 2)",
        "        path.append(p)\n    return np.array(path[::-1]).reshape(n_steps, 2)")])
    result = grade(student("01_gradient_descent", source), "01_gradient_descent")
    assert broken(result) == {"gradient_descent"}
    cases = _by_case(result, "gradient_descent")
    assert all(c.status == "wrong" for c in cases)
    public = [c for c in cases if not c.hidden]
    assert public and all("in reverse order" in c.hint and not c.cause for c in public)

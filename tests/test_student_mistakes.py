"""Mistakes written as students write them, none a catalogue entry's own text (issue 15):
each loses points on exactly the names it breaks, and each broken name's hint names the cause;
no hint blames a function that passes its own checks or that the file does not define."""
import sys

import pytest

from conftest import ROOT, reference_source, write_submission
from student_mistakes import MISTAKES, rewrite

sys.path.insert(0, str(ROOT / "bench"))
from bench_diagnosis import judge_feedback  # noqa: E402  (the measurement the note quotes)


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: f"{m.folder[:2]} {m.id}")
def test_a_student_written_mistake_is_named_where_it_is(grade, tmp_path, mistake):
    source = rewrite(reference_source(mistake.folder), mistake.code)
    result = grade(write_submission(tmp_path / "s", mistake.folder, source), mistake.folder)
    got = judge_feedback(result, mistake)
    assert got["broken"] == set(mistake.broken)
    assert not got["missed"], got["missed"]
    assert not got["wrong_blames"], got["wrong_blames"]


def test_generic_findings_carry_names_into_the_class_summary(grade, tmp_path):
    """The class summary's most common mistakes come from generic findings too."""
    from grader.instructor.summary import common_mistakes
    from grader.report.student import gradescope
    summed = next(m for m in MISTAKES if m.id == "loss summed over the points")
    step = next(m for m in MISTAKES if m.id == "n_steps + 1 rows")
    payloads = []
    for i, m in enumerate((summed, summed, step)):
        source = rewrite(reference_source(m.folder), m.code)
        payloads.append(gradescope(grade(write_submission(tmp_path / f"s{i}", m.folder, source),
                                         m.folder)))
    rows = common_mistakes(payloads)
    assert rows[0][:2] == ("01_gradient_descent/mse_loss", "N times the expected value")
    assert rows[0][2] == pytest.approx(2 / 3)
    assert ("01_gradient_descent/gradient_descent", "one update too many") in \
        [r[:2] for r in rows]


def test_rewrite_puts_definitions_in_place():
    source = "import numpy as np\n\n\ndef f(x):\n    return x\n\n\ndef g(x):\n    return 2\n"
    out = rewrite(source, "def g(x):\n    return 3\n\n\ndef h():\n    pass\n")
    assert "return 3" in out and "return 2" not in out and "def h():" in out
    assert out.index("def f") < out.index("def g")

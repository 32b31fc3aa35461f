"""The report's pictures as SVG (``grader.report.chart``): contour lines where the function
takes the level, round ticks, a well-formed file whatever numbers a student returns, and
course text shown as text, never as markup."""
import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from grader.instructor.summary import histogram_svg
from grader.report import chart, plots

SVG = "{http://www.w3.org/2000/svg}"


def _tree(data: bytes) -> ET.Element:
    root = ET.fromstring(data)  # raises on a malformed file
    assert root.tag == SVG + "svg"
    return root


def _numbers(d: str) -> np.ndarray:
    return np.array([float(v) for v in d.replace("M", " ").replace("L", " ").split()])


def test_contour_segments_lie_where_the_function_takes_the_level():
    x, y = np.meshgrid(np.linspace(-2, 2, 41), np.linspace(-2, 2, 41))
    z = x ** 2 + y ** 2
    for level in (0.5, 1.0, 2.0):
        seg = chart.contour_segments(x, y, z, level)
        assert len(seg) > 20
        radii = np.hypot(np.concatenate([seg[:, 0], seg[:, 2]]),
                         np.concatenate([seg[:, 1], seg[:, 3]]))
        assert np.allclose(radii, math.sqrt(level), atol=0.01)  # linear interpolation
    assert len(chart.contour_segments(x, y, z, 100.0)) == 0  # never reached: no line


def test_a_saddle_cell_gets_two_segments_and_flat_ground_none():
    x, y = np.meshgrid([0.0, 1.0], [0.0, 1.0])
    saddle = np.array([[1.0, 0.0], [0.0, 1.0]])  # high corners opposite each other
    assert len(chart.contour_segments(x, y, saddle, 0.5)) == 2
    assert len(chart.contour_segments(x, y, np.zeros((2, 2)), 0.5)) == 0


@pytest.mark.parametrize("lo,hi", [(0, 1), (-3.2, 17.9), (1e-6, 5e-6), (0.98, 1.02),
                                   (-1e12, 3e12), (5, 5.000001)])
def test_ticks_are_round_numbers_inside_the_range(lo, hi):
    ticks = chart.nice_ticks(lo, hi)
    assert 2 <= len(ticks) <= 8
    assert all(lo - 1e-9 * abs(hi - lo) <= t <= hi + 1e-9 * abs(hi - lo) for t in ticks)
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0])
    mantissa = steps[0] / 10 ** math.floor(math.log10(steps[0]))
    assert any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (1, 2, 5))
    labels = [chart.tick_label(t, ticks) for t in ticks]
    assert len(set(labels)) == len(labels), labels  # each tick reads differently


def test_a_students_numbers_never_break_the_file():
    """NaN breaks the line, inf and 1e300 are drawn off the edge: the file stays readable
    and holds no non-finite coordinate."""
    expected = np.cumsum(np.full((20, 2), 0.1), 0)
    for bad in (np.nan, np.inf, -np.inf, 1e300, -1e308):
        actual = expected.copy()
        actual[3] = np.nan
        actual[5:] = bad
        data = plots.curves(actual, expected, "trajectory", "value")
        root = _tree(data)
        paths = [p.get("d") for p in root.iter(SVG + "path")]
        assert len(paths) == 4  # two columns, expected and yours
        for d in paths:
            values = _numbers(d)
            assert np.isfinite(values).all() and np.abs(values).max() < 1e5
        assert b"nan" not in data.lower() and b"inf" not in data.lower()


def test_a_path_on_contours_draws_both_paths_and_the_loss_along_each():
    start = np.zeros(2)
    expected = np.cumsum(np.full((10, 2), 0.2), 0)
    actual = expected * 1.5
    data = plots.path_on_contours(actual, expected, start, lambda r, _: float(r @ r), {},
                                  "gd: path", ("b", "w"))
    root = _tree(data)
    assert int(root.get("width")) == 810
    texts = [t.text for t in root.iter(SVG + "text")]
    assert {"gd: path", "loss along the path", "b", "w", "step", "loss", "expected",
            "yours"} <= set(texts)
    dots = list(root.iter(SVG + "circle"))
    assert len(dots) == 2 * 11  # each path's points, the start included


def test_course_text_is_shown_as_text_never_as_markup():
    """A title or label (the course's, or a check's name) is escaped: an SVG in an <img>
    runs no script anyway, but the file must stay well-formed."""
    panel = chart.Panel('<script>alert(1)</script> & "x"', "a<b", "c>d",
                        lines=[chart.Line(np.arange(3), np.arange(3.0), chart.BLUE,
                                          "</text><script>")])
    root = _tree(chart.svg([panel]))
    assert not list(root.iter(SVG + "script"))
    texts = [t.text for t in root.iter(SVG + "text")]
    assert '<script>alert(1)</script> & "x"' in texts and "</text><script>" in texts


def test_the_histogram_has_a_bar_per_occupied_bin():
    scores = [0, 10, 10, 55, 100, 100, 100]
    root = _tree(histogram_svg(scores))
    bars = [r for r in root.iter(SVG + "rect") if r.get("fill") == "#3b6ea5"]
    assert len(bars) == 4  # 0-5, 10-15, 55-60, 95-100
    heights = sorted(float(b.get("height")) for b in bars)
    assert math.isclose(heights[-1], 3 * heights[0], rel_tol=0.02)  # 3 students against 1


@pytest.mark.parametrize("values", [(0.0, 1.7976931348623157e308), (-1.7e308, 1.7e308),
                                    (5e-324, 1e-320), (0.0, 0.0), (-2e-310, 3e-310)])
def test_the_largest_and_smallest_floats_still_give_finite_ticks(values):
    """A red team's trajectories of ±max float gave `inf` tick labels drawn off the picture;
    subnormal ones raised (and lost the picture)."""
    expected = np.linspace(0.0, 1.0, 10)
    actual = np.repeat(np.array(values), 5)
    root = _tree(plots.curves(actual, expected, "t", "v"))
    texts = [t.text for t in root.iter(SVG + "text")]
    assert not any("inf" in t or "nan" in t for t in texts if t), texts
    for t in root.iter(SVG + "text"):
        x, y = float(t.get("x", 0)), float(t.get("y", 0))
        assert -1 <= x <= 540 and -1 <= y <= 288, (t.text, x, y)

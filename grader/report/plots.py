"""Pictures for the report: a path on the loss contours, loss curves, a fit over its data.

Drawn as SVG text (``chart``). Only public cases are drawn: a picture of a hidden case would
show its values.
"""
from __future__ import annotations

import numpy as np

from grader.course.probes import described_array
from grader.course.spec import Picture
from grader.report import chart


def _array(value) -> np.ndarray | None:
    """A described result, or an input (an array or a tensor marker), as float64."""
    described = described_array(value)
    if described is not None:
        return described
    if isinstance(value, dict) and "__tensor__" in value:
        return np.asarray(value["__tensor__"], dtype=np.float64)
    if isinstance(value, np.ndarray):
        return value.astype(np.float64)
    return None


def _grid_loss(loss, inputs: dict, bb: np.ndarray, ww: np.ndarray) -> np.ndarray:
    """``loss`` of every point of a 2-D grid of parameter rows."""
    flat = [loss(np.array([b, w]), inputs) for b, w in zip(bb.ravel(), ww.ravel())]
    return np.asarray(flat, dtype=np.float64).reshape(bb.shape)


def path_on_contours(actual: np.ndarray, expected: np.ndarray, start: np.ndarray, loss,
                     inputs: dict, title: str,
                     axes: tuple[str, str] = ("parameter 0", "parameter 1")) -> bytes:
    """Both paths of two parameters over the contours of ``loss``, and the loss along each."""
    paths = [np.vstack([start, p]) for p in (expected, actual)]
    pts = np.vstack([p for p in paths if np.isfinite(p).all()])
    with np.errstate(all="ignore"):  # a path out at 1e308: the grid overflows, nothing else
        lo, hi = pts.min(0), pts.max(0)
        pad = np.maximum((hi - lo) * 0.25, 0.25)
        bb, ww = np.meshgrid(np.linspace(lo[0] - pad[0], hi[0] + pad[0], 40),
                             np.linspace(lo[1] - pad[1], hi[1] + pad[1], 40))
        grid = _grid_loss(loss, inputs, bb, ww)
    space = chart.Panel(title, axes[0], axes[1], contours=chart.Contours(bb, ww, grid))
    along = chart.Panel("loss along the path", "step", "loss")
    for path, colour, label in zip(paths, (chart.BLUE, chart.RED), ("expected", "yours")):
        if np.isfinite(path).all():
            space.lines.append(chart.Line(path[:, 0], path[:, 1], colour, label, markers=True))
            along.lines.append(chart.Line(np.arange(len(path)), np.array(
                [loss(row, inputs) for row in path], dtype=np.float64), colour, label))
    return chart.svg([space, along], width=810, height=324)


def curves(actual: np.ndarray, expected: np.ndarray, title: str, ylabel: str) -> bytes:
    """Each column of a trajectory (or a loss history) against the step."""
    panel = chart.Panel(title, "step", ylabel)
    a, e = actual.reshape(len(actual), -1), expected.reshape(len(expected), -1)
    for j in range(e.shape[1]):
        panel.lines.append(chart.Line(np.arange(len(e)), e[:, j], chart.BLUE,
                                      "expected" if j == 0 else None))
        if a.shape == e.shape:
            panel.lines.append(chart.Line(np.arange(len(a)), a[:, j], chart.RED,
                                          "yours" if j == 0 else None, dashed=True))
    return chart.svg([panel])


def curve_fit(x: np.ndarray, y: np.ndarray, model, actual_row, expected_row, title) -> bytes:
    """The data and both fitted curves (final parameters)."""
    panel = chart.Panel(title, lines=[
        chart.Line(x, y, chart.GREY, "data", width=3, opacity=0.5),
        chart.Line(x, np.asarray(model(expected_row, x), dtype=np.float64), chart.BLUE,
                   "expected fit")])
    if actual_row is not None and np.isfinite(actual_row).all():
        panel.lines.append(chart.Line(x, np.asarray(model(actual_row, x), dtype=np.float64),
                                      chart.RED, "your fit", dashed=True))
    return chart.svg([panel])


def pictures_for(check, evidence: dict) -> list[bytes]:
    """The pictures one public trajectory or fit case of ``check`` asks for (its
    ``pictures``; plain curves when it declares none)."""
    a, e = _array(evidence["actual"]), _array(evidence["expected"])
    if e is None:
        return []
    same = a is not None and a.shape == e.shape
    inputs, out = evidence["inputs"], []
    for picture in check.pictures or (Picture("curves"),):
        try:
            if picture.kind == "fit":
                x, y = (_array(v) for v in picture.data(inputs))
                out.append(curve_fit(x, y, picture.model, a[-1] if same else None, e[-1],
                                     f"{check.name}: final fit"))
            elif picture.kind == "contours":
                start = _array(picture.start(inputs))
                if same and e.ndim == 2 and e.shape[1] == 2 and start is not None:
                    out.append(path_on_contours(a, e, start, picture.loss, inputs,
                                                f"{check.name}: path in parameter space",
                                                picture.axes))
            elif picture.kind == "curves":
                out.append(curves(a if same else e, e, check.name
                                  if not check.pictures else f"{check.name}: parameters",
                                  picture.ylabel))
        except Exception:  # a picture is a help, never a reason to lose the report
            continue
    return out

"""Pictures for the report: a path on the loss contours, loss curves, a fit over its data.

Drawn with matplotlib's Agg backend (no display) into PNG bytes. Only public cases are drawn:
a picture of a hidden case would show its values.
"""
from __future__ import annotations

import io

import numpy as np

from grader.course.probes import described_array
from grader.course.spec import Picture


def pyplot():
    """matplotlib's pyplot on the Agg backend (no display)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


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


def _layout(fig, left: float = 0.1, right: float = 0.97, wspace: float = 0.3) -> None:
    """Fixed margins (room for tick labels and titles): matplotlib's tight_layout measures
    every label first and costs more than drawing the picture (titles are placed at a fixed
    height, ``y=1.01``, for the same reason)."""
    fig.subplots_adjust(left=left, right=right, bottom=0.15, top=0.9, wspace=wspace)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    pyplot().close(fig)
    return buf.getvalue()


def _grid_loss(loss, inputs: dict, bb: np.ndarray, ww: np.ndarray) -> np.ndarray:
    """``loss`` of every point of a 2-D grid of parameter rows."""
    flat = [loss(np.array([b, w]), inputs) for b, w in zip(bb.ravel(), ww.ravel())]
    return np.asarray(flat, dtype=np.float64).reshape(bb.shape)


def path_on_contours(actual: np.ndarray, expected: np.ndarray, start: np.ndarray, loss,
                     inputs: dict, title: str,
                     axes: tuple[str, str] = ("parameter 0", "parameter 1")) -> bytes:
    """Both paths of two parameters over the contours of ``loss``, and the loss along each."""
    plt = pyplot()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
    paths = [np.vstack([start, p]) for p in (expected, actual)]
    pts = np.vstack([p for p in paths if np.isfinite(p).all()])
    lo, hi = pts.min(0), pts.max(0)
    pad = np.maximum((hi - lo) * 0.25, 0.25)
    bb, ww = np.meshgrid(np.linspace(lo[0] - pad[0], hi[0] + pad[0], 40),
                         np.linspace(lo[1] - pad[1], hi[1] + pad[1], 40))
    ax.contour(bb, ww, _grid_loss(loss, inputs, bb, ww), levels=25, cmap="Greys",
               linewidths=0.6)
    for path, colour, label in zip(paths, ("#2b6cb0", "#c53030"), ("expected", "yours")):
        if np.isfinite(path).all():
            ax.plot(path[:, 0], path[:, 1], "o-", ms=2.5, lw=1.2, color=colour, label=label)
            ax2.plot([loss(row, inputs) for row in path], color=colour, label=label)
    ax.set_xlabel(axes[0])
    ax.set_ylabel(axes[1])
    ax.set_title(title, y=1.01)
    ax.legend(fontsize=8)
    ax2.set_xlabel("step")
    ax2.set_ylabel("loss")
    ax2.set_title("loss along the path", y=1.01)
    ax2.legend(fontsize=8)
    _layout(fig, left=0.08, wspace=0.28)
    return _png(fig)


def curves(actual: np.ndarray, expected: np.ndarray, title: str, ylabel: str) -> bytes:
    """Each column of a trajectory (or a loss history) against the step."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    a, e = actual.reshape(len(actual), -1), expected.reshape(len(expected), -1)
    for j in range(e.shape[1]):
        ax.plot(e[:, j], color="#2b6cb0", lw=1.2, label="expected" if j == 0 else None)
        if a.shape == e.shape:
            ax.plot(a[:, j], "--", color="#c53030", lw=1.2, label="yours" if j == 0 else None)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.set_title(title, y=1.01)
    ax.legend(fontsize=8)
    _layout(fig, left=0.13)
    return _png(fig)


def curve_fit(x: np.ndarray, y: np.ndarray, model, actual_row, expected_row, title) -> bytes:
    """The data and both fitted curves (final parameters)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(x, y, color="#888", lw=3, alpha=0.5, label="data")
    ax.plot(x, model(expected_row, x), color="#2b6cb0", lw=1.2, label="expected fit")
    if actual_row is not None and np.isfinite(actual_row).all():
        ax.plot(x, model(actual_row, x), "--", color="#c53030", lw=1.2, label="your fit")
    ax.set_title(title, y=1.01)
    ax.legend(fontsize=8)
    _layout(fig, left=0.13)
    return _png(fig)


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

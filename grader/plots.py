"""Pictures for the report: a path on the loss contours, loss curves, a fit over its data.

Drawn with matplotlib's Agg backend (no display) into PNG bytes. Only public cases are drawn:
a picture of a hidden case would show its values.
"""
from __future__ import annotations

import io

import numpy as np

from .compare import described_array


def _plt():
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


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    _plt().close(fig)
    return buf.getvalue()


def _mse(b, w, X, y):
    return ((y[None, None, :] - b[..., None] - w[..., None] * X[None, None, :]) ** 2).mean(-1)


def line_fit_path(actual: np.ndarray, expected: np.ndarray, start: np.ndarray, X: np.ndarray,
                  y: np.ndarray, title: str) -> bytes:
    """Both paths in the (b, w) plane over the contours of J, and J along each path."""
    plt = _plt()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
    paths = [np.vstack([start, p]) for p in (expected, actual)]
    pts = np.vstack([p for p in paths if np.isfinite(p).all()])
    lo, hi = pts.min(0), pts.max(0)
    pad = np.maximum((hi - lo) * 0.25, 0.25)
    bb, ww = np.meshgrid(np.linspace(lo[0] - pad[0], hi[0] + pad[0], 120),
                         np.linspace(lo[1] - pad[1], hi[1] + pad[1], 120))
    ax.contour(bb, ww, _mse(bb, ww, X, y), levels=25, cmap="Greys", linewidths=0.6)
    for path, colour, label in zip(paths, ("#2b6cb0", "#c53030"), ("expected", "yours")):
        if np.isfinite(path).all():
            ax.plot(path[:, 0], path[:, 1], "o-", ms=2.5, lw=1.2, color=colour, label=label)
            ax2.plot(_mse(path[:, 0][None], path[:, 1][None], X, y)[0], color=colour,
                     label=label)
    ax.set_xlabel("b")
    ax.set_ylabel("w")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax2.set_xlabel("step")
    ax2.set_ylabel("loss J(b, w)")
    ax2.set_title("loss along the path")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)


def curves(actual: np.ndarray, expected: np.ndarray, title: str, ylabel: str) -> bytes:
    """Each column of a trajectory (or a loss history) against the step."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    a, e = actual.reshape(len(actual), -1), expected.reshape(len(expected), -1)
    for j in range(e.shape[1]):
        ax.plot(e[:, j], color="#2b6cb0", lw=1.2, label="expected" if j == 0 else None)
        if a.shape == e.shape:
            ax.plot(a[:, j], "--", color="#c53030", lw=1.2, label="yours" if j == 0 else None)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)


def curve_fit(x: np.ndarray, y: np.ndarray, model, actual_row, expected_row, title) -> bytes:
    """The data and both fitted curves (final parameters)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(x, y, color="#888", lw=3, alpha=0.5, label="data")
    ax.plot(x, model(expected_row, x), color="#2b6cb0", lw=1.2, label="expected fit")
    if actual_row is not None and np.isfinite(actual_row).all():
        ax.plot(x, model(actual_row, x), "--", color="#c53030", lw=1.2, label="your fit")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)


def _p3(z):
    return 0.5 * (5 * z ** 3 - 3 * z)


FIT_MODELS = {
    "fit_sine": lambda r, x: r[0] + r[1] * _p3(r[2] + r[3] * x),
    "fit_poly": lambda r, x: r[0] + r[1] * x + r[2] * x ** 2 + r[3] * x ** 3,
}


def pictures_for(name: str, evidence: dict) -> list[bytes]:
    """The pictures that explain one public trajectory or fit case."""
    a, e = _array(evidence["actual"]), _array(evidence["expected"])
    if e is None:
        return []
    args = evidence["inputs"].get("args", [])
    if name in FIT_MODELS and len(args) >= 2:
        x, y = (_array(v) for v in (args[1], args[2])) if name == "fit_poly" else \
            (_array(args[0]), _array(args[1]))
        last = a[-1] if a is not None and a.shape == e.shape else None
        return [curve_fit(x, y, FIT_MODELS[name], last, e[-1], f"{name}: final fit"),
                curves(a if a is not None else e, e, f"{name}: parameters", "value")]
    if e.ndim == 2 and e.shape[1] == 2 and len(args) >= 3 and a is not None and \
            a.shape == e.shape and "model" not in evidence["inputs"]:
        start, X, y = (_array(v) for v in args[:3])
        if start is not None and X is not None and y is not None and X.ndim == 1:
            return [line_fit_path(a, e, start, X, y, f"{name}: path in parameter space")]
    if a is not None and a.shape == e.shape:
        return [curves(a, e, name, "value")]
    return []

"""Charts as SVG text: panels of lines, contour lines and bars on axes with round ticks.

What the report and the class summary draw needs a few kinds of marks, not a plotting
library: matplotlib took ~20 ms a picture (its artists and tick machinery, then rasterising)
and ~0.6 s to import, the grader's largest cost after judging. Here the numbers are mapped to
pixels with NumPy and written out by a Jinja2 template (``chart.svg.j2``): a picture costs
about a millisecond, scales without blurring, and is plain text (a page embeds it as a data
URI, where no script of an SVG runs).

Values that are not finite break a line (as matplotlib does); values far outside the axes
are clipped to the panel, so a student's output of 1e300 draws a line off the edge, never a
broken file.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

BLUE, RED, GREY = "#2b6cb0", "#c53030", "#888888"
FONT = 11
"""Text size in pixels (ticks and legends; titles one larger)."""
MARGIN = {"left": 58, "right": 12, "top": 26, "bottom": 38}
"""Room around each panel's plot area for tick labels, axis labels and the title (more on
the left where the tick labels are wider)."""
GAP = 30
"""Between two panels side by side (beyond their margins)."""
BIG, TINY = 1e300, 1e-250
"""Beyond these an axis does not go: its padding would overflow, its ticks underflow."""
FAR = 4.0
"""How far outside the plot area (in plot widths) a point may be drawn before it is clipped."""


@dataclass
class Line:
    x: np.ndarray
    y: np.ndarray
    colour: str
    label: str | None = None
    dashed: bool = False
    markers: bool = False
    width: float = 1.2
    opacity: float = 1.0


@dataclass
class Contours:
    """Contour lines of ``z`` on the grid ``x`` × ``y`` (2-D arrays as ``np.meshgrid``
    makes them), at ``levels`` values evenly spaced between its least and greatest."""
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    levels: int = 25


@dataclass
class Bars:
    """A histogram's bars: ``edges`` (n + 1 values) and ``heights`` (n)."""
    edges: np.ndarray
    heights: np.ndarray
    colour: str = "#3b6ea5"


@dataclass
class Panel:
    title: str = ""
    xlabel: str = ""
    ylabel: str = ""
    lines: list[Line] = field(default_factory=list)
    contours: Contours | None = None
    bars: Bars | None = None


def nice_ticks(lo: float, hi: float, most: int = 7) -> list[float]:
    """Round values (1, 2 or 5 times a power of ten apart) within ``[lo, hi]``: at least two
    where the range is not empty, at most ``most``."""
    span = hi - lo
    raw = span / max(most - 1, 1)
    if not (math.isfinite(span) and raw > 0):  # empty, unbounded, or below what floats hold
        return [lo] if math.isfinite(lo) else []
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))
    first = math.ceil(lo / step - 1e-9)
    ticks = [k * step for k in range(first, first + most + 1) if k * step <= hi + step * 1e-9]
    return [0.0 if abs(t) < step * 1e-9 else t for t in ticks]


def tick_label(value: float, ticks: list[float]) -> str:
    """``value`` with as many decimals as the ticks' spacing needs (scientific notation for
    very large or very small numbers)."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else abs(value) or 1.0
    largest = max(abs(t) for t in ticks) or 1.0
    if largest >= 1e5 or largest < 1e-3:
        return f"{value:.3g}"
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return f"{value:.{decimals}f}"


def _limits(values: list[np.ndarray], pad: float = 0.05) -> tuple[float, float]:
    """The range an axis shows: every finite value, padded on both sides."""
    # ±1e300 at most: padding the largest floats would overflow (a line goes off the edge)
    finite = [np.clip(v[np.isfinite(v)], -BIG, BIG) for v in values if v.size]
    finite = [v for v in finite if v.size]
    if not finite:
        return 0.0, 1.0
    lo, hi = float(min(v.min() for v in finite)), float(max(v.max() for v in finite))
    span = hi - lo
    if span <= max(abs(lo), abs(hi)) * 1e-12 or span < TINY:  # flat (or subnormal) data
        half = max(abs(lo), abs(hi)) * 0.05
        half = half if half > TINY else 0.5
        return lo - half, hi + half
    return lo - span * pad, hi + span * pad


def contour_segments(x: np.ndarray, y: np.ndarray, z: np.ndarray, level: float) -> np.ndarray:
    """Marching squares: the segments (rows of x0, y0, x1, y1) where ``z``, sampled on the
    grid ``x`` × ``y``, crosses ``level``. A cell crossed on all four edges (a saddle) gets
    two segments, joining its crossings in the order bottom, right, top, left."""
    above = z >= level
    corners = [(slice(None, -1), slice(None, -1)), (slice(None, -1), slice(1, None)),
               (slice(1, None), slice(1, None)), (slice(1, None), slice(None, -1))]
    points, crossed = [], []
    for k in range(4):  # edges: bottom, right, top, left (corner k to corner k + 1)
        a, b = corners[k], corners[(k + 1) % 4]
        za, zb = z[a], z[b]
        cross = above[a] != above[b]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(cross, (level - za) / (zb - za), 0.0)
        points.append(np.stack([x[a] + t * (x[b] - x[a]), y[a] + t * (y[b] - y[a])], -1))
        crossed.append(cross)
    points, crossed = np.stack(points, -2), np.stack(crossed, -1)  # (..., 4, 2), (..., 4)
    order = np.argsort(~crossed, axis=-1, kind="stable")  # crossed edges first, in order
    ends = np.take_along_axis(points, order[..., None], axis=-2)
    count = crossed.sum(-1)
    segments = [ends[count >= 2][:, :2].reshape(-1, 4), ends[count == 4][:, 2:].reshape(-1, 4)]
    return np.concatenate(segments)


class _Frame:
    """One panel's plot area: data coordinates to pixels."""

    def __init__(self, left: float, top: float, width: float, height: float,
                 xlim: tuple[float, float], ylim: tuple[float, float]):
        self.left, self.top, self.width, self.height = left, top, width, height
        self.xlim, self.ylim = xlim, ylim

    def px(self, x: np.ndarray) -> np.ndarray:
        lo, hi = self.xlim
        with np.errstate(over="ignore", invalid="ignore"):
            u = (np.asarray(x, dtype=np.float64) - lo) / (hi - lo)
        return self.left + np.clip(u, -FAR, 1 + FAR) * self.width

    def py(self, y: np.ndarray) -> np.ndarray:
        lo, hi = self.ylim
        with np.errstate(over="ignore", invalid="ignore"):
            v = (np.asarray(y, dtype=np.float64) - lo) / (hi - lo)
        return self.top + (1 - np.clip(v, -FAR, 1 + FAR)) * self.height


def _path(xs: np.ndarray, ys: np.ndarray) -> str:
    """SVG path data of a polyline, broken where a point is not finite."""
    parts, pen = [], False
    for x, y in zip(xs.tolist(), ys.tolist()):
        if math.isfinite(x) and math.isfinite(y):
            parts.append(f"{'L' if pen else 'M'}{x:.1f} {y:.1f}")
            pen = True
        else:
            pen = False
    return "".join(parts)


def _grey(fraction: float) -> str:
    shade = int(205 - 160 * fraction)  # low levels light, high ones dark (matplotlib's Greys)
    return f"#{shade:02x}{shade:02x}{shade:02x}"


def _panel(panel: Panel, left: float, width: float, height: float) -> dict:
    """What the template draws for one panel whose margins start at ``left``."""
    xs = [np.ravel(line.x).astype(np.float64) for line in panel.lines]
    ys = [np.ravel(line.y).astype(np.float64) for line in panel.lines]
    if panel.contours is not None:
        xs.append(np.ravel(panel.contours.x))
        ys.append(np.ravel(panel.contours.y))
    if panel.bars is not None:
        xs.append(np.asarray(panel.bars.edges, dtype=np.float64))
        ys.append(np.append(np.asarray(panel.bars.heights, dtype=np.float64), 0.0))
    tight = panel.contours is not None  # a contour plot fills its axes, as matplotlib's
    xlim = _limits(xs, 0.0 if tight or panel.bars is not None else 0.05)
    ylim = _limits(ys, 0.0 if tight else 0.05)
    if panel.bars is not None:
        ylim = (0.0, ylim[1])
    xticks, yticks = nice_ticks(*xlim), nice_ticks(*ylim)
    ylabels = [tick_label(t, yticks) for t in yticks]
    # room on the left for the widest tick label and the axis label beside it
    room = max(MARGIN["left"], 28 + 0.62 * FONT * max(map(len, ylabels), default=0))
    frame = _Frame(left + room, MARGIN["top"], width - room - MARGIN["right"],
                   height - MARGIN["top"] - MARGIN["bottom"], xlim, ylim)
    drawn = {"frame": frame, "title": panel.title, "xlabel": panel.xlabel,
             "ylabel": panel.ylabel, "contours": [], "bars": [], "lines": [], "legend": [],
             "ylabel_x": left + FONT,
             "xticks": [(float(frame.px(t)), tick_label(t, xticks)) for t in xticks],
             "yticks": [(float(frame.py(t)), text) for t, text in zip(yticks, ylabels)]}
    c = panel.contours
    if c is not None:
        z = np.asarray(c.z, dtype=np.float64)
        finite = z[np.isfinite(z)]
        if finite.size and finite.max() > finite.min():
            levels = np.linspace(finite.min(), finite.max(), c.levels + 2)[1:-1]
            for k, level in enumerate(levels):
                seg = contour_segments(c.x, c.y, z, level)
                if len(seg):
                    x0, y0 = frame.px(seg[:, 0]), frame.py(seg[:, 1])
                    x1, y1 = frame.px(seg[:, 2]), frame.py(seg[:, 3])
                    d = "".join(f"M{a:.1f} {b:.1f}L{p:.1f} {q:.1f}"
                                for a, b, p, q in zip(x0.tolist(), y0.tolist(), x1.tolist(),
                                                      y1.tolist()))
                    drawn["contours"].append({"d": d, "colour": _grey(k / max(len(levels) - 1,
                                                                              1))})
    if panel.bars is not None:
        edges = np.asarray(panel.bars.edges, dtype=np.float64)
        for lo, hi, h in zip(edges[:-1], edges[1:], panel.bars.heights):
            if h > 0:
                x0, x1, top = float(frame.px(lo)), float(frame.px(hi)), float(frame.py(h))
                drawn["bars"].append({"x": x0, "y": top, "w": max(x1 - x0 - 1, 0.5),
                                      "h": frame.top + frame.height - top,
                                      "colour": panel.bars.colour})
    for line, x, y in zip(panel.lines, xs, ys):
        px, py = frame.px(x), frame.py(y)
        drawn["lines"].append({"d": _path(px, py), "line": line,
                               "dots": [(a, b) for a, b in zip(px.tolist(), py.tolist())
                                        if math.isfinite(a) and math.isfinite(b)]
                               if line.markers else []})
        if line.label:
            drawn["legend"].append(line)
    return drawn


@lru_cache(maxsize=1)
def _template():
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    env = Environment(loader=FileSystemLoader(Path(__file__).parent),
                      autoescape=select_autoescape(["j2"]), trim_blocks=True,
                      lstrip_blocks=True)
    return env.get_template("chart.svg.j2")


def svg(panels: list[Panel], width: int = 540, height: int = 288) -> bytes:
    """The panels side by side in one picture of ``width`` × ``height`` pixels."""
    each = (width - GAP * (len(panels) - 1)) / len(panels)
    drawn = [_panel(p, k * (each + GAP), each, height) for k, p in enumerate(panels)]
    return _template().render(width=width, height=height, panels=drawn,
                              font=FONT).encode("utf-8")

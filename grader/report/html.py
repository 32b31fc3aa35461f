"""``results/<student>/report.html``: the report with its pictures embedded (SVG data URIs:
in an ``<img>``, an SVG's scripts never run)."""
from __future__ import annotations

import base64
import hashlib
import html
import threading
from collections import OrderedDict

import numpy as np

from grader.judge.feedback import verdict_line
from grader.report.plots import _array, pictures_for
from grader.judge.results import StudentResult

DRAWN: "OrderedDict[tuple, list[bytes]]" = OrderedDict()
"""Pictures already drawn, by (check, case, seed, the wrong output's signature): students who
return the same wrong numbers (a common mistake) get the same pictures, drawn once. A
passing case has no signature (its picture shows the student's own numbers within
tolerance, which may differ in the last digits): it is kept by the exact bytes of its
output instead, so only the students whose numbers are bit for bit the same share it (most
of a class, on the passing cases of a check that lost points elsewhere)."""
DRAWN_MAX = 256
_drawn_lock = threading.Lock()


def _exact(value) -> str | None:
    """A digest of an output's exact numbers (shape, type and bytes); None where the
    picture would not be drawn from an array."""
    values = _array(value)
    if values is None:
        return None
    values = np.ascontiguousarray(values)
    return hashlib.sha256(f"{values.shape}{values.dtype.str}".encode() +
                          values.tobytes()).hexdigest()


def _pictures(case) -> list[bytes]:
    check = case.evidence["check"]
    if case.signature:
        key = (id(check), case.id, case.seed, case.signature)
    else:
        exact = _exact(case.evidence["actual"])
        key = (id(check), case.id, case.seed, "exact", exact) if exact else None
    with _drawn_lock:
        if key is not None and key in DRAWN:
            DRAWN.move_to_end(key)
            return DRAWN[key]
    drawn = pictures_for(case.evidence["check"], case.evidence)
    if key is not None:
        with _drawn_lock:
            DRAWN[key] = drawn
            while len(DRAWN) > DRAWN_MAX:
                DRAWN.popitem(last=False)
    return drawn

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 62rem; margin: 2rem auto; padding: 0 1rem;
       color: #1a202c; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
.check { border-left: 4px solid #c53030; padding: .2rem .8rem; margin: .8rem 0; }
.check.ok { border-color: #2f855a; }
.score { font-variant-numeric: tabular-nums; font-weight: 600; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f7fafc; padding: .5rem;
      font-size: .85rem; }
.hint { background: #fffbea; border: 1px solid #f6e05e; padding: .4rem .6rem; }
img { max-width: 100%; height: auto; display: block; margin: .5rem 0; }
details > summary { cursor: pointer; }
"""

# Sets data-images-loaded / data-images / data-overflow on <body> once the page has loaded:
# how the browser test (and a curious instructor) can tell the page rendered as meant.
LAYOUT_PROBE = """
<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  document.body.dataset.images = imgs.length;
  document.body.dataset.imagesLoaded = imgs.filter(function (i) {
    return i.complete && i.naturalWidth > 0; }).length;
  document.body.dataset.overflow =
    document.documentElement.scrollWidth > window.innerWidth ? 'yes' : 'no';
});
</script>
"""


def _img(picture: bytes, alt: str) -> str:
    return (f'<img alt="{html.escape(alt)}" '
            f'src="data:image/svg+xml;base64,{base64.b64encode(picture).decode()}">')


def render(result: StudentResult, pictures: str = "all") -> str:
    """The page; ``pictures`` is ``all``, ``failing`` (checks that lost points; what a batch
    draws, as pictures cost ~0.3 s each) or ``none``."""
    # the grade block: ``instructor.semester.with_grade`` puts the final grade here (late
    # penalties, overrides); student text is escaped, so no student writes a marker
    parts = [f"<!--grade--><h1>{html.escape(result.student)}: {result.score:g}/"
             f"{result.max_score:g}</h1><!--/grade-->",
             f"<p>Graded on {html.escape(result.device)} by grader "
             f"{html.escape(result.grader_version)}.</p>"]
    for a in result.assignments:
        parts.append(f"<h2>{html.escape(a.folder)} <span class='score'>{a.score:g}/"
                     f"{a.max_score:g}</span></h2>")
        if a.note:
            parts.append(f"<p>{html.escape(a.note)}</p>")
        for check in a.checks:
            ok = check.passed
            body = [f"<div class='check{' ok' if ok else ''}'><p><b>{html.escape(check.name)}"
                    f"</b> <span class='score'>{check.score:.2f}/{check.max_score:g}</span> — "
                    f"{html.escape(verdict_line(check))}</p>"]
            hints: dict[str, list[str]] = {}
            for c in check.cases:
                label = f"hidden case {c.id}" if c.hidden else f"case {c.id}"
                if c.status != "passed" and c.message:
                    body.append(f"<details open><summary>{html.escape(label)}: "
                                f"{html.escape(c.status)}</summary>"
                                f"<pre>{html.escape(c.message)}</pre></details>")
                if c.hint:
                    hints.setdefault(c.hint, []).append(label)
            for hint, labels in hints.items():  # each hint once, with the cases it explains
                on = f"all {len(labels)} cases" if len(labels) == len(check.cases) > 1 \
                    else ", ".join(labels)
                body.append(f"<p class='hint'>hint ({html.escape(on)}): "
                            f"{html.escape(hint)}</p>")
            if pictures == "all" or (pictures == "failing" and not ok):
                case = next((c for c in check.cases if c.evidence is not None), None)
                if case is not None:
                    for picture in _pictures(case):
                        body.append(_img(picture, f"{check.name}, case {case.id}"))
            body.append("</div>")
            parts.append("".join(body))
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>Report: {html.escape(result.student)}</title><style>{STYLE}</style>"
            f"</head><body>{''.join(parts)}{LAYOUT_PROBE}</body></html>")

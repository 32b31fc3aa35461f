"""The class at a glance: score distribution and per-test pass rates (terminal and HTML).

The payloads are the students' *final* grades (``semester.finalize``: overrides in place, late
penalties as ``<folder>/late penalty`` tests), what grades.csv and every export carry: the
scores are the final ones, the penalties are no test of their own, and the page lists each
student whose final score differs from the grader's, and why."""
from __future__ import annotations

import base64
import html
from collections import defaultdict

import numpy as np

from grader.instructor.semester import PENALTY_TEST


def _tests(payload: dict) -> list[dict]:
    """The graded tests (a late penalty is none: its assignment's score carries it)."""
    return [t for t in payload["tests"] if not t["name"].endswith("/" + PENALTY_TEST)]


def pass_rates(payloads: list[dict]) -> list[tuple[str, float, float]]:
    """(test name, share of students with full marks, mean score share), in course order."""
    full, share, order = defaultdict(int), defaultdict(float), []
    for p in payloads:
        for t in _tests(p):
            if t["name"] not in full and t["name"] not in order:
                order.append(t["name"])
            full[t["name"]] += t["score"] >= t["max_score"] - 1e-9
            share[t["name"]] += t["score"] / t["max_score"] if t["max_score"] else 0
    n = max(len(payloads), 1)
    return [(name, full[name] / n, share[name] / n) for name in order]


def common_mistakes(payloads: list[dict], top: int = 10) -> list[tuple[str, str, float]]:
    """(test, diagnosed mistake, share of the class) — each student counted once per pair."""
    seen = defaultdict(set)
    for i, p in enumerate(payloads):
        for t in p["tests"]:
            for c in t.get("extra_data", {}).get("cases", []):
                if c.get("diagnosis"):
                    seen[(t["name"], c["diagnosis"])].add(i)
    n = max(len(payloads), 1)
    rows = [(test, name, len(who) / n) for (test, name), who in seen.items()]
    return sorted(rows, key=lambda r: (-r[2], r[0], r[1]))[:top]


FAILED = ("wrong", "partial", "error")
"""Verdicts that fail a case (not those no verdict was reached on: not graded)."""


def public_only_passes(payloads: list[dict]) -> list[tuple[str, list[str]]]:
    """(student, tests) for each student who passes every public case and fails every hidden
    one: of every test with hidden cases, or of two tests or more. The public expected values
    ship with the students' copy, so this is what a file that looks them up scores; an
    honest mistake seldom misses every hidden case while passing every public one twice."""
    flagged = []
    for p in payloads:
        tests, hidden_tests = [], 0
        for t in p["tests"]:
            cases = t.get("extra_data", {}).get("cases", [])
            public = [c for c in cases if not c.get("hidden")]
            hidden = [c for c in cases if c.get("hidden")]
            hidden_tests += bool(hidden)
            if public and hidden and all(c.get("status") == "passed" for c in public) and \
                    all(c.get("status") in FAILED for c in hidden):
                tests.append(t["name"])
        if tests and (len(tests) >= 2 or len(tests) == hidden_tests):
            flagged.append((str(p.get("extra_data", {}).get("student", "?")), tests))
    return sorted(flagged, key=lambda f: (-len(f[1]), f[0]))


def adjusted(payloads: list[dict]) -> list[tuple[str, float, float, list[str]]]:
    """(student, the grader's score, final score, why) of every student whose final score
    differs from the grader's or who has a late penalty or an override, by name."""
    rows = []
    for p in payloads:
        grade = p.get("extra_data", {}).get("grade") or {}
        why = [f"late: −{x['points']:g} on {x['assignment']} ({x['percent']:g}%)"
               for x in grade.get("late", []) if x.get("percent", 0) > 0]
        why += [f"override: {o['test']} {o['raw']:g} → {o['score']:g} ({o['reason']})"
                for o in grade.get("overrides", [])]
        raw = grade.get("raw_score", p["score"])
        if why or abs(raw - p["score"]) > 1e-9:
            rows.append((str(p.get("extra_data", {}).get("student", "?")), raw, p["score"],
                         why))
    return sorted(rows, key=lambda r: r[0])


def histogram_svg(scores: list[float], max_score: float = 100.0) -> bytes:
    """The final scores in 20 bins from 0 to ``max_score``."""
    from grader.report import chart
    edges = np.linspace(0, max_score, 21)
    counts, _ = np.histogram(np.clip(scores, 0, max_score), bins=edges)
    return chart.svg([chart.Panel(
        f"{len(scores)} students, median {np.median(scores) if scores else 0:g}", "score",
        "students", bars=chart.Bars(edges, counts))], width=600, height=300)


def terminal(payloads: list[dict]) -> str:
    scores = [p["score"] for p in payloads]
    if not scores:
        return "no graded students"
    lines = [f"{len(scores)} students: mean {np.mean(scores):.1f}, median {np.median(scores):g}, "
             f"min {min(scores):g}, max {max(scores):g}", "", "pass rate  test"]
    for name, rate, _ in pass_rates(payloads):
        bar = "#" * int(round(rate * 20))
        lines.append(f"  {rate:6.1%}  {bar:<20} {name}")
    mistakes = common_mistakes(payloads)
    if mistakes:
        lines += ["", "most common diagnosed mistakes"]
        lines += [f"  {share:6.1%} of the class: {name} ({test})" for test, name, share in mistakes]
    changed = adjusted(payloads)
    if changed:
        lines.append(f"final scores: {len(changed)} student(s) differ from the grader's (late "
                     "penalties, overrides)")
    flagged = public_only_passes(payloads)
    if flagged:
        lines += ["", "pass every public case and fail every hidden one (the public answers "
                  "ship with the students' copy: look at these by hand)"]
        lines += [f"  {who}: {len(tests)} test(s): {', '.join(tests)}" for who, tests in flagged]
    return "\n".join(lines)


def html_page(payloads: list[dict], extra_sections: str = "") -> str:
    scores = [p["score"] for p in payloads]
    picture = base64.b64encode(histogram_svg(scores)).decode() if scores else ""
    rows = "\n".join(
        f"<tr><td>{html.escape(name)}</td><td>{rate:.0%}</td><td>{mean:.0%}</td>"
        f"<td><div class='bar' style='width:{rate * 100:.0f}%'></div></td></tr>"
        for name, rate, mean in pass_rates(payloads))
    mistakes = common_mistakes(payloads)
    mistake_list = ("<ul>" + "".join(
        f"<li>{share:.0%} of the class: {html.escape(name)} "
        f"(<code>{html.escape(test)}</code>)</li>" for test, name, share in mistakes) + "</ul>"
        if mistakes else "<p>No catalogued mistake was diagnosed.</p>")
    changed = adjusted(payloads)
    changed_rows = "\n".join(
        f"<tr><td>{html.escape(who)}</td><td><span class='raw'>{raw:g}</span> → "
        f"<b>{final:g}</b> <span class='mark' title='final differs from the grader’s "
        f"score'>*</span></td><td>{html.escape('; '.join(why))}</td></tr>"
        for who, raw, final, why in changed)
    changed_list = ("<h2>Final scores that differ from the grader's</h2><p>Marked *: the "
                    "grader's score → the final score, after late penalties and the "
                    "instructor's overrides (what grades.csv and every export carry).</p>"
                    "<table><thead><tr><th style='width:25%'>student</th>"
                    "<th style='width:20%'>score</th><th>why</th></tr></thead><tbody>"
                    f"{changed_rows}</tbody></table>" if changed else "")
    flagged = public_only_passes(payloads)
    flagged_list = ("<h2>Every public case passed, every hidden one failed</h2><p>The public "
                    "answers ship with the students' copy: a submission that looks them up "
                    "scores like this. Look at these by hand.</p><ul>" + "".join(
                        f"<li>{html.escape(who)}: {len(tests)} test(s): "
                        f"<code>{html.escape(', '.join(tests))}</code></li>"
                        for who, tests in flagged) + "</ul>" if flagged else "")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Class summary</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }}
table {{ border-collapse: collapse; width: 100%; table-layout: fixed; }}
td, th {{ padding: .25rem .5rem; border-bottom: 1px solid #ddd; overflow-wrap: anywhere; }}
th {{ text-align: left; }}
.bar {{ background: #3b6ea5; height: .8rem; }}
.raw {{ color: #666; }}
.mark {{ color: #b00; font-weight: bold; }}
img {{ max-width: 100%; height: auto; }}
</style></head><body>
<h1>Class summary</h1>
<p>{len(scores)} students graded; final scores (late penalties and overrides applied):
mean {np.mean(scores) if scores else 0:.1f}, median {np.median(scores) if scores else 0:g}{
f"; {len(changed)} differ from the grader's (marked * below)" if changed else ""}.</p>
<h2>Score distribution</h2>
{f'<img alt="histogram of final scores" src="data:image/svg+xml;base64,{picture}">'
  if picture else ''}
{changed_list}
<h2>Per-test pass rate</h2>
<table><thead><tr><th style="width:45%">test</th><th>full marks</th><th>mean score</th>
<th style="width:30%"></th></tr></thead><tbody>
{rows}
</tbody></table>
<h2>Most common mistakes</h2>
{mistake_list}
{flagged_list}
{extra_sections}
</body></html>
"""

"""Two batches' results of one class, compared: every student's score, every check's score
and message, every case's status, diagnosis and first step. What a run measures (seconds,
CPU) and what names the run (the grader version) are left out. Used to check that a change
meant to make grading cheaper changes no verdict, hint or score.

Usage: python bench/compare_results.py RESULTS_A RESULTS_B   (exit 1 on any difference)
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

MEASURED = {"seconds", "cpu_seconds", "grader_version", "submission"}
"""Keys whose values differ from run to run whatever is graded (times, the version, when and
where a submission was read)."""
LIMIT = re.compile(r"(within|limit of) \d+(\.\d+)? s")
"""A time limit said in a message: 100x the reference's measured median time, so it differs
in its last digits from run to run (unless the expected values were stored)."""


def verdicts(payload, at: str = "") -> dict[str, object]:
    """Every value of a results.json but the measured ones, by its path."""
    out: dict[str, object] = {}
    if isinstance(payload, dict):
        for k, v in payload.items():
            if k not in MEASURED:
                out.update(verdicts(v, f"{at}/{k}"))
    elif isinstance(payload, list):
        for i, v in enumerate(payload):
            out.update(verdicts(v, f"{at}[{i}]"))
    else:
        out[at] = LIMIT.sub(r"\1 (the limit) s", payload) if isinstance(payload, str) \
            else payload
    return out


def compare(a: Path, b: Path) -> list[str]:
    """One line per difference (a student only one side has, or a value that differs)."""
    lines = []
    students = sorted({p.parent.name for p in a.glob("*/results.json")} |
                      {p.parent.name for p in b.glob("*/results.json")})
    for name in students:
        pa, pb = a / name / "results.json", b / name / "results.json"
        if not (pa.is_file() and pb.is_file()):
            lines.append(f"{name}: results only in {a if pa.is_file() else b}")
            continue
        va, vb = (verdicts(json.loads(p.read_text())) for p in (pa, pb))
        for key in sorted(set(va) | set(vb)):
            if va.get(key) != vb.get(key):
                lines.append(f"{name}{key}: {va.get(key)!r:.200} != {vb.get(key)!r:.200}")
    return lines if students else [f"no results.json under {a} or {b}"]


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    a, b = Path(sys.argv[1]), Path(sys.argv[2])
    lines = compare(a, b)
    for line in lines:
        print(line)
    n = len(list(a.glob("*/results.json")))
    print(f"{n} students compared: " + ("identical" if not lines else f"{len(lines)} differences"))
    return 1 if lines else 0


if __name__ == "__main__":
    raise SystemExit(main())

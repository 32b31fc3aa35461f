"""Exports for an LMS: one CSV row per student, and each student's results.json."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from grader.report.student import write_atomic

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (OWASP's CSV injection list)."""
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def spreadsheet_cell(value):
    """A CSV cell a spreadsheet shows and never runs: text that starts with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return gets a leading single quote (``'=HYPERLINK(…)``);
    numbers, written as numbers or as text (``-1.5``), stay numbers."""
    if not isinstance(value, str) or _NUMBER.match(value):
        return value
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def spreadsheet_row(row) -> list:
    """``spreadsheet_cell`` of every cell: what every CSV the grader writes goes through."""
    return [spreadsheet_cell(v) for v in row]


def gradebook_csv(latest: list[tuple[str, dict]], folders: list[str]) -> str:
    """``student, <folder>..., total``: the columns an LMS import maps to assignments."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(spreadsheet_row(["student", *folders, "total"]))
    for name, payload in latest:
        per = {f: 0.0 for f in folders}
        for t in payload["tests"]:
            folder = t["name"].split("/")[0]
            if folder in per:
                per[folder] += t["score"]
        writer.writerow(spreadsheet_row([name, *(f"{per[f]:g}" for f in folders),
                                         f"{payload['score']:g}"]))
    return out.getvalue()


def write_exports(latest: list[tuple[str, dict]], folders: list[str], results_root: Path,
                  csv_path: Path) -> None:
    write_atomic(csv_path, gradebook_csv(latest, folders))
    for name, payload in latest:
        write_atomic(results_root / name / "results.json", json.dumps(payload, indent=2))

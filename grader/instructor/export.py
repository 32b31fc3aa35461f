"""Exports for an LMS: one CSV row per student, and each student's results.json."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..report import write_atomic


def gradebook_csv(latest: list[tuple[str, dict]], folders: list[str]) -> str:
    """``student, <folder>..., total``: the columns an LMS import maps to assignments."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", *folders, "total"])
    for name, payload in latest:
        per = {f: 0.0 for f in folders}
        for t in payload["tests"]:
            folder = t["name"].split("/")[0]
            if folder in per:
                per[folder] += t["score"]
        writer.writerow([name, *(f"{per[f]:g}" for f in folders), f"{payload['score']:g}"])
    return out.getvalue()


def write_exports(latest: list[tuple[str, dict]], folders: list[str], results_root: Path,
                  csv_path: Path) -> None:
    write_atomic(csv_path, gradebook_csv(latest, folders))
    for name, payload in latest:
        write_atomic(results_root / name / "results.json", json.dumps(payload, indent=2))

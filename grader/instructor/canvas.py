"""Grades back into Canvas: fill the gradebook CSV that Canvas exports, for Canvas to import.

Canvas's export has ``Student, ID, SIS User ID, SIS Login ID, [Integration ID,] Section``, then
one column per assignment named ``Title (id)`` and read-only totals, a ``Points Possible`` row
under the header (sometimes a posting-policy row too), then one row per student. Only the
columns of the assignments graded here change, and only for the students matched; every other
row, column and cell is written back as it was read, in the file's own CSV dialect.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from grader.instructor.export import spreadsheet_row

ASSIGNMENT_COLUMN = re.compile(r"^(?P<title>.*?\S)\s*\((?P<id>\d+)\)$")
IDS_FILE = ".lms_ids.json"
"""Written by ``import`` beside the student folders: LMS user ids by student folder name."""


class CanvasError(ValueError):
    """The file is not a Canvas gradebook export, or a --column names no column of it."""


@dataclass
class Filled:
    text: str
    columns: dict[str, str] = field(default_factory=dict)
    """Assignment folder -> the Canvas column it filled."""
    not_in_canvas: list[str] = field(default_factory=list)
    """Assignment folders with no column in the file."""
    updated: list[str] = field(default_factory=list)
    """Canvas students given grades."""
    no_grade: list[str] = field(default_factory=list)
    """Canvas students the grader has no grade for (their cells are kept)."""
    unmatched: list[str] = field(default_factory=list)
    """Graded students found in no Canvas row (never dropped silently: listed)."""
    scaled: list[str] = field(default_factory=list)


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


@dataclass(frozen=True)
class Dialect:
    delimiter: str
    lineterminator: str
    quoting: int
    bom: bool


def sniff(text: str) -> Dialect:
    bom = text.startswith("\ufeff")
    body = text[1:] if bom else text
    first = body.split("\n", 1)[0].rstrip("\r")
    try:
        delimiter = csv.Sniffer().sniff(first, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    fields = next(csv.reader([first], delimiter=delimiter), [])
    quoted_all = bool(fields) and first.count('"') >= 2 * len(fields) and first.startswith('"')
    return Dialect(delimiter, "\r\n" if "\r\n" in body[:len(first) + 2] else "\n",
                   csv.QUOTE_ALL if quoted_all else csv.QUOTE_MINIMAL, bom)


def parse(text: str) -> tuple[Dialect, list[list[str]]]:
    dialect = sniff(text)
    body = text[1:] if dialect.bom else text
    rows = list(csv.reader(io.StringIO(body, newline=""), delimiter=dialect.delimiter))
    if not rows or "Student" not in [c.strip() for c in rows[0]] or \
            "ID" not in [c.strip() for c in rows[0]]:
        raise CanvasError("not a Canvas gradebook export: its first row has no Student and ID "
                          "columns")
    return dialect, rows


def unparse(dialect: Dialect, rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=dialect.delimiter, lineterminator=dialect.lineterminator,
               quoting=dialect.quoting).writerows(rows)
    return ("\ufeff" if dialect.bom else "") + out.getvalue()


def assignment_columns(header: list[str]) -> dict[str, int]:
    """``Title (id)`` header -> its index: the assignment columns (totals have no id)."""
    return {h.strip(): i for i, h in enumerate(header) if ASSIGNMENT_COLUMN.match(h.strip())}


def match_columns(header: list[str], assignments, explicit: dict[str, str]) -> dict[str, int]:
    """Assignment folder -> column index, by ``--column`` first, else by title or folder."""
    columns = assignment_columns(header)
    by_title = {_norm(ASSIGNMENT_COLUMN.match(h).group("title")): i for h, i in columns.items()}
    out = {}
    for a in assignments:
        if a.folder in explicit:
            want = explicit[a.folder].strip()
            index = columns.get(want, by_title.get(_norm(want)))
            if index is None:
                raise CanvasError(f"--column {a.folder}={want}: no such column; the "
                                  f"assignment columns are: {', '.join(columns) or 'none'}")
            out[a.folder] = index
            continue
        stem = re.sub(r"^\d+[_\- ]*", "", a.folder)
        for key in (a.title, a.folder, stem, a.module):
            if _norm(key) in by_title:
                out[a.folder] = by_title[_norm(key)]
                break
    return out


def folder_scores(payload: dict) -> dict[str, tuple[float, float]]:
    per: dict[str, list[float]] = {}
    for t in payload["tests"]:
        got = per.setdefault(t["name"].split("/")[0], [0.0, 0.0])
        got[0] += t["score"]
        got[1] += t["max_score"]
    return {k: (v[0], v[1]) for k, v in per.items()}


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "")) if text.strip() else None
    except ValueError:
        return None


def fill(text: str, latest: list[tuple[str, dict]], assignments,
         explicit: dict[str, str] | None = None, canvas_ids: dict[str, str] | None = None
         ) -> Filled:
    """The Canvas file with the graded assignments' cells filled for every matched student.

    A student is matched by the Canvas user id recorded when their submissions zip was
    imported, else by SIS Login ID (then SIS User ID) equal to their folder name. Where the
    column's Points Possible differs from the grader's maximum, the score is scaled to it."""
    dialect, rows = parse(text)
    header = [h.strip() for h in rows[0]]
    cols = match_columns(header, assignments, explicit or {})
    result = Filled("")
    result.columns = {f: header[i] for f, i in cols.items()}
    result.not_in_canvas = [a.folder for a in assignments if a.folder not in cols]
    id_col = header.index("ID")
    name_col = header.index("Student")
    login_cols = [header.index(h) for h in ("SIS Login ID", "SIS User ID") if h in header]
    possible: dict[int, float] = {}
    students: list[int] = []
    for r, row in enumerate(rows[1:], 1):
        first = row[name_col].strip() if len(row) > name_col else ""
        if first == "Points Possible":
            possible = {i: v for i in cols.values() if i < len(row)
                        and (v := _number(row[i])) is not None}
        elif len(row) > id_col and row[id_col].strip().isdigit():
            students.append(r)
    by_id = {rows[r][id_col].strip(): r for r in students}
    by_login = {}
    for c in reversed(login_cols):  # SIS Login ID wins over SIS User ID
        by_login.update({rows[r][c].strip().lower(): r for r in students
                         if len(rows[r]) > c and rows[r][c].strip()})
    canvas_ids = canvas_ids or {}
    graded_rows = set()
    for name, payload in latest:
        r = by_id.get(str(canvas_ids.get(name, "")).strip()) or by_login.get(name.lower())
        if r is None:
            result.unmatched.append(name)
            continue
        graded_rows.add(r)
        row = rows[r]
        row.extend([""] * (len(header) - len(row)))
        scores = folder_scores(payload)
        for folder, i in cols.items():
            if folder not in scores:
                continue
            score, top = scores[folder]
            points = possible.get(i)
            if points is not None and top and abs(points - top) > 1e-9:
                score = score / top * points
                note = f"{folder}: scaled from {top:g} to the column's {points:g} points"
                if note not in result.scaled:
                    result.scaled.append(note)
            row[i] = f"{round(score, 2):g}"
        result.updated.append(row[name_col])
    result.no_grade = [rows[r][name_col] for r in students if r not in graded_rows]
    # The columns that say who a student is (names, logins, sections) come before the first
    # assignment column: text a student may have chosen, made inert for a spreadsheet.
    who = min([i for i, h in enumerate(header) if ASSIGNMENT_COLUMN.match(h)] or [len(header)])
    for r in students:
        rows[r][:who] = spreadsheet_row(rows[r][:who])
    result.text = unparse(dialect, rows)
    return result


def read_ids(submissions: Path) -> dict[str, str]:
    path = submissions / IDS_FILE
    if not path.is_file():
        return {}
    try:
        return {str(k): str(v) for k, v in json.loads(path.read_text()).get("canvas", {}).items()}
    except (ValueError, AttributeError):
        return {}


def record_ids(submissions: Path, ids: dict[str, str]) -> None:
    """Remember LMS user ids by student folder (merged with what earlier imports recorded)."""
    if not ids:
        return
    from grader.report.student import write_atomic
    known = read_ids(submissions)
    known.update(ids)
    try:  # what else import keeps there (submission times, Canvas file names) stays
        data = json.loads((submissions / IDS_FILE).read_text())
        data = data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        data = {}
    data["canvas"] = known
    write_atomic(submissions / IDS_FILE, json.dumps(data, indent=1, sort_keys=True))

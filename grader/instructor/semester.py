"""Running a semester: submission times, late penalties, extensions, overrides with an audit
trail, regrades that say what changed, and feedback handed back to students.

The gradebook keeps what the grader computed (``grades.results_json``, the *raw* grade) apart
from what the instructor decides on top of it: the submission time of what was graded
(``submission_times``, by student and content), overrides (``overrides``, every one kept with
who, when and why) and the course's late policy and extensions (read when needed, never stored
in a grade). The *final* grade is made from them whenever it is shown or exported
(``finalize``): a regrade keeps every override and every late penalty, and an extension
granted later changes the final grade without grading anyone again.
"""
from __future__ import annotations

import csv
import getpass
import html
import io
import json
import os
import re
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from grader.course.deadlines import NO_EXTENSIONS, Extensions, Late
from grader.instructor.export import spreadsheet_row

SCHEMA = """
CREATE TABLE IF NOT EXISTS submission_times (
    student TEXT NOT NULL, content_hash TEXT NOT NULL, assignment TEXT NOT NULL,
    submitted REAL, source TEXT NOT NULL, late_marker INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (student, content_hash, assignment));
CREATE TABLE IF NOT EXISTS overrides (
    id INTEGER PRIMARY KEY, student TEXT NOT NULL, test TEXT NOT NULL, score REAL,
    reason TEXT NOT NULL, who TEXT NOT NULL, at REAL NOT NULL);
"""
PENALTY_TEST = "late penalty"
"""The test a late penalty is written as (``<folder>/late penalty``, negative, out of 0): what
every export sums per assignment, so they all carry the final score. No contract name has a
space, so it never meets a check's name."""
GRADE_BLOCK = re.compile(r"<!--grade-->.*?<!--/grade-->", re.S)
LMS_FILE = ".lms_ids.json"


def ensure(gradebook) -> None:
    """The semester's tables (and the runs' course fingerprint) in ``gradebook``."""
    with gradebook._lock, gradebook.db:
        gradebook.db.executescript(SCHEMA)
        columns = {row[1] for row in gradebook.db.execute("PRAGMA table_info(runs)")}
        if "course_fingerprint" not in columns:
            gradebook.db.execute("ALTER TABLE runs ADD COLUMN course_fingerprint TEXT "
                                 "NOT NULL DEFAULT ''")


def stamp_run(gradebook, run_id: int, course_root: Path) -> None:
    """Which course a run graded with (``history`` shows it)."""
    from grader.course.fingerprint import tree_hash
    ensure(gradebook)
    with gradebook._lock, gradebook.db:
        gradebook.db.execute("UPDATE runs SET course_fingerprint = ? WHERE id = ?",
                             (tree_hash(Path(course_root), (".py", ".toml"))[:10], run_id))


# ----------------------------------------------------------------- submission times
def lms_record(submissions: Path) -> dict:
    """What ``import`` recorded beside the student folders (``.lms_ids.json``)."""
    path = Path(submissions) / LMS_FILE
    try:
        data = json.loads(path.read_text()) if path.is_file() else {}
    except (ValueError, OSError):
        return {}
    return data if isinstance(data, dict) else {}


def record_lms(submissions: Path, submitted: dict, canvas_files: dict) -> None:
    """Merge an import's submission times and Canvas file names into ``.lms_ids.json``."""
    if not submitted and not canvas_files:
        return
    from grader.report.student import write_atomic
    data = lms_record(submissions)
    for key, new in (("submitted", submitted), ("canvas_files", canvas_files)):
        known = data.get(key) if isinstance(data.get(key), dict) else {}
        for student, value in new.items():
            known.setdefault(student, {}).update(value)
        data[key] = known
    write_atomic(Path(submissions) / LMS_FILE, json.dumps(data, indent=1, sort_keys=True))


_GS_TIME = re.compile(r"^\s*:created_at:\s*(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(\.\d+)?"
                      r"\s*(Z|[+-]\d\d:?\d\d)?\s*$")


def gradescope_times(text: str) -> dict[str, float]:
    """Submission id -> its ``:created_at:`` (epoch seconds) in Gradescope's
    ``submission_metadata.yml`` (``submission_<id>:`` then ``:created_at: 2026-02-06
    23:41:07.123 -0600``)."""
    out, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^submission_(\d+):", line)
        if m:
            current = m.group(1)
            continue
        m = _GS_TIME.match(line)
        if current and m and current not in out:
            offset = m.group(4) or "+00:00"
            offset = "+00:00" if offset == "Z" else offset
            if ":" not in offset:
                offset = offset[:3] + ":" + offset[3:]
            try:
                fraction = (m.group(3) or "")[:7]
                out[current] = datetime.fromisoformat(
                    f"{m.group(1)}T{m.group(2)}{fraction}{offset}").timestamp()
            except ValueError:
                continue
    return out


def collected_times(student: str, submission, snapshot, lms: dict) -> dict:
    """Assignment folder -> (submitted epoch or None, source, LMS late marker) of what is
    graded: the LMS's record when ``import`` made one, else the graded file's modification
    time as read."""
    recorded = (lms.get("submitted") or {}).get(student) or {}
    out = {}
    for folder, (rel, _note, _rule) in submission.chosen.items():
        if rel is None:
            continue
        mine = recorded.get(folder)
        if isinstance(mine, dict) and ("at" in mine or mine.get("late")):
            at = mine.get("at")
            out[folder] = (float(at) if isinstance(at, (int, float)) else None,
                           str(mine.get("source", "the LMS export")), bool(mine.get("late")))
        elif rel in snapshot.files:
            out[folder] = (snapshot.files[rel][1], f"modification time of {rel}", False)
    return out


def record_times(gradebook, student: str, content_hash: str, times: dict) -> None:
    ensure(gradebook)
    with gradebook._lock, gradebook.db:
        gradebook.db.executemany(
            "INSERT OR REPLACE INTO submission_times (student, content_hash, assignment, "
            "submitted, source, late_marker) VALUES (?, ?, ?, ?, ?, ?)",
            [(student, content_hash, folder, at, source, int(late))
             for folder, (at, source, late) in times.items()])


def latest_times(gradebook) -> dict[str, dict]:
    """student -> {folder: (submitted, source, late marker)} of their newest grade."""
    ensure(gradebook)
    rows = gradebook.db.execute(
        "SELECT st.name, t.assignment, t.submitted, t.source, t.late_marker FROM grades g "
        "JOIN submissions s ON g.submission_id = s.id JOIN students st ON s.student_id = "
        "st.id JOIN submission_times t ON t.student = st.name AND t.content_hash = "
        f"s.content_hash WHERE g.id = ({gradebook.NEWEST})").fetchall()
    out: dict[str, dict] = {}
    for name, folder, at, source, late in rows:
        out.setdefault(name, {})[folder] = (at, source, bool(late))
    return out


# ----------------------------------------------------------------------- overrides
@dataclass(frozen=True)
class Override:
    student: str
    test: str
    score: float | None
    """None: an earlier override withdrawn."""
    reason: str
    who: str
    at: float

    def line(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.at))
        what = "withdrawn" if self.score is None else f"set to {self.score:g}"
        return f"{self.test} {what} by {self.who} on {when}: {self.reason}"


def whoami() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment: the uid says who
        return f"uid {os.getuid()}"


def add_override(gradebook, student: str, test: str, score: float | None, reason: str,
                 who: str | None = None) -> Override:
    ensure(gradebook)
    o = Override(student, test, score, reason, who or whoami(), time.time())
    with gradebook._lock, gradebook.db:
        gradebook.db.execute("INSERT INTO overrides (student, test, score, reason, who, at) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             (o.student, o.test, o.score, o.reason, o.who, o.at))
    return o


def all_overrides(gradebook, student: str | None = None) -> list[Override]:
    ensure(gradebook)
    sql = "SELECT student, test, score, reason, who, at FROM overrides"
    rows = gradebook.db.execute(sql + (" WHERE student = ?" if student else "") +
                                " ORDER BY at, id", (student,) if student else ())
    return [Override(*row) for row in rows]


def active_overrides(gradebook) -> dict[str, dict[str, Override]]:
    """student -> test -> the override in force (the newest, unless withdrawn)."""
    return _in_force(all_overrides(gradebook))


def overrides_of(path: Path, student: str) -> dict[str, Override]:
    """test -> the override in force for ``student`` in the gradebook at ``path``, read only
    (nothing is created or migrated): what a single student's ``grade`` applies, as a batch
    does. No gradebook, or one from before overrides: none."""
    import sqlite3
    path = Path(path)
    if not path.is_file():
        return {}
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        rows = db.execute("SELECT student, test, score, reason, who, at FROM overrides "
                          "WHERE student = ? ORDER BY at, id", (student,)).fetchall()
    except sqlite3.OperationalError:  # no overrides table: a gradebook from before them
        rows = []
    finally:
        db.close()
    return _in_force([Override(*row) for row in rows]).get(student, {})


def _in_force(overrides: list[Override]) -> dict[str, dict[str, Override]]:
    out: dict[str, dict[str, Override]] = {}
    for o in overrides:
        mine = out.setdefault(o.student, {})
        if o.score is None:
            mine.pop(o.test, None)
        else:
            mine[o.test] = o
    return out


# ------------------------------------------------------------------------ finalize
def _late_of(course, folder: str, times: dict, extensions: Extensions, student: str
             ) -> Late | None:
    policy = course.late.get(folder)
    if policy is None or folder not in times:
        return None
    at, source, marker = times[folder]
    submitted = datetime.fromtimestamp(at, timezone.utc) if at is not None else None
    late = policy.judge(submitted, extensions.get(student, folder), late_marker=marker)
    return Late(late.folder, late.due, late.submitted, late.late_by, late.percent,
                f"{late.why} [time: {source}]")


def finalize(raw: dict, course, times: dict | None = None,
             extensions: Extensions = NO_EXTENSIONS, overrides: dict | None = None) -> dict:
    """The final grade of one student: ``raw`` (results.json as graded) with the instructor's
    overrides in place of the scores they replace, then each late assignment's penalty (a
    share of its score after overrides) as a ``<folder>/late penalty`` test. Says everything
    in ``extra_data.grade``: raw, penalties and why, overrides and why, final."""
    payload = json.loads(json.dumps(raw))
    student = payload.get("extra_data", {}).get("student", "")
    times, overrides = times or {}, overrides or {}
    tests = [t for t in payload["tests"] if not t["name"].endswith("/" + PENALTY_TEST)]
    applied = []
    for t in tests:
        o = overrides.get(t["name"])
        if o is not None and o.score is not None:
            t["raw_score"] = t["score"]
            t["score"] = round(min(max(o.score, 0.0), t["max_score"]), 4)
            t["output"] = (f"Score set by the instructor to {o.score:g} (the grader gave "
                           f"{t['raw_score']:g}): {o.reason}\n\n{t['output']}")
            applied.append({"test": t["name"], "raw": t["raw_score"], "score": t["score"],
                            "reason": o.reason, "who": o.who,
                            "at": datetime.fromtimestamp(o.at, timezone.utc).isoformat()})
    lates, penalties = [], []
    folders = []
    for t in tests:
        folder = t["name"].split("/")[0]
        if folder not in folders:
            folders.append(folder)
    for folder in folders:
        late = _late_of(course, folder, times, extensions, student)
        if late is None:
            continue
        earned = sum(t["score"] for t in tests if t["name"].split("/")[0] == folder)
        points = round(earned * late.percent / 100, 4)
        lates.append({"assignment": folder, "due": late.due.isoformat(),
                      "submitted": late.submitted.isoformat() if late.submitted else None,
                      "late_seconds": late.late_by.total_seconds() if late.late_by else 0,
                      "percent": late.percent, "points": points, "why": late.why})
        if points > 0:
            penalties.append({"name": f"{folder}/{PENALTY_TEST}", "score": -points,
                              "max_score": 0.0, "visibility": "visible",
                              "output": f"Late: -{points:g} points ({late.percent:g}% of "
                                        f"{earned:g}). {late.why}"})
    raw_score = round(sum(t.get("raw_score", t["score"]) for t in tests), 4)
    payload["tests"] = tests + penalties
    final = round(sum(t["score"] for t in payload["tests"]), 4)
    payload["score"] = final
    payload.setdefault("extra_data", {})["grade"] = {
        "raw_score": raw_score, "final_score": final, "late": lates, "overrides": applied}
    notes = [f"Late, {x['assignment']}: -{x['points']:g} points. {x['why']}"
             for x in lates if x["points"] > 0]
    notes += [f"Override, {o['test']}: {o['raw']:g} -> {o['score']:g} ({o['reason']})"
              for o in applied]
    if notes:
        payload["output"] = "\n".join([payload.get("output", ""),
                                       f"Grader's score {raw_score:g}, final {final:g}:",
                                       *notes]).strip()
    return payload


def final_graded(raw: dict, course, times: dict, extensions: Extensions = NO_EXTENSIONS,
                 overrides: dict | None = None) -> dict | None:
    """The final grade of one student graded alone (``grade``), made as a batch makes it:
    ``finalize`` over the times ``collected_times`` read (the LMS's, else the graded file's
    modification time), the extensions and the overrides in force. None when nothing can
    change it (a course without deadlines, no override): ``raw`` is the grade."""
    if not course.late and not overrides:
        return None
    return finalize(raw, course, times, extensions, overrides)


def final_latest(gradebook, course, extensions: Extensions = NO_EXTENSIONS,
                 latest: list[tuple[str, dict]] | None = None) -> list[tuple[str, dict]]:
    """Every student's newest grade (``latest``, when read already), made final
    (``finalize``), by name."""
    times, overrides = latest_times(gradebook), active_overrides(gradebook)
    return [(name, finalize(raw, course, times.get(name), extensions, overrides.get(name)))
            for name, raw in (gradebook.latest() if latest is None else latest)]


def grade_html(payload: dict) -> str:
    """The top of a student's report.html: the final score, and what made it differ from
    the grader's (late penalties and overrides, each with why)."""
    grade = payload.get("extra_data", {}).get("grade", {})
    student = payload.get("extra_data", {}).get("student", "")
    top = sum(t["max_score"] for t in payload["tests"])
    parts = [f"<h1>{html.escape(student)}: {payload['score']:g}/{top:g}</h1>"]
    rows = []
    for x in grade.get("late", []):
        if x["points"] > 0 or x["percent"] > 0:
            rows.append(f"<li>Late penalty on {html.escape(x['assignment'])}: "
                        f"−{x['points']:g} points ({x['percent']:g}%). "
                        f"{html.escape(x['why'])}</li>")
    for o in grade.get("overrides", []):
        rows.append(f"<li>{html.escape(o['test'])}: set to {o['score']:g} by the instructor "
                    f"(the grader gave {o['raw']:g}): {html.escape(o['reason'])} "
                    f"<small>({html.escape(o['who'])}, {html.escape(o['at'][:16])})</small>"
                    "</li>")
    if rows:
        parts.append(f"<p class='grade'>The grader's score: {grade.get('raw_score', 0):g}; "
                     f"final score: <b>{payload['score']:g}</b>.</p><ul class='grade'>"
                     + "".join(rows) + "</ul>")
    return "<!--grade-->" + "".join(parts) + "<!--/grade-->"


def with_grade(page: str, payload: dict) -> str:
    """``page`` (a report.html) with its grade block made from ``payload``; a page from before
    grade blocks gets one after ``<body>``."""
    block = grade_html(payload)
    if GRADE_BLOCK.search(page):
        return GRADE_BLOCK.sub(lambda _: block, page, count=1)
    return page.replace("<body>", "<body>" + block, 1)


def terminal_lines(payload: dict) -> list[str]:
    grade = payload.get("extra_data", {}).get("grade", {})
    lines = [f"  late, {x['assignment']}: -{x['points']:g} ({x['percent']:g}%): {x['why']}"
             for x in grade.get("late", []) if x["percent"] > 0]
    lines += [f"  override, {o['test']}: {o['raw']:g} -> {o['score']:g} by {o['who']}: "
              f"{o['reason']}" for o in grade.get("overrides", [])]
    return lines


def refresh(results_root: Path, finals: list[tuple[str, dict]]) -> int:
    """Rewrite each student's results.json and the grade block of their report.html from
    the final grade, where they differ (made durable by one sync). Returns how many
    students' files changed."""
    from grader.instructor.durable import sync, write_atomic
    changed = 0
    for name, payload in finals:
        folder = Path(results_root) / name
        if not folder.is_dir():
            continue
        text = json.dumps(payload)
        path = folder / "results.json"
        old = path.read_text() if path.is_file() else ""
        if old == text:  # written from this very grade before: its page was too
            continue
        write_atomic(path, text)
        page_path = folder / "report.html"
        if page_path.is_file():
            page = page_path.read_text(encoding="utf-8")
            new = with_grade(page, payload)
            if new != page:
                write_atomic(page_path, new)
        changed += 1
    if changed:
        sync(Path(results_root))
    return changed


# ------------------------------------------------------------------------- regrades
def test_scores(latest: list[tuple[str, dict]]) -> dict[str, dict[str, float]]:
    """student -> test -> score, of graded tests (late penalties left out)."""
    return {name: {t["name"]: t["score"] for t in payload["tests"]
                   if not t["name"].endswith("/" + PENALTY_TEST)}
            for name, payload in latest}


def moved(before: dict, after: dict, students) -> list[tuple[str, str, float | None,
                                                              float | None]]:
    """(student, test, old, new) of every test whose score moved for ``students``."""
    rows = []
    for name in sorted(students):
        old, new = before.get(name), after.get(name, {})
        if old is None:
            continue
        for test in list(old) + [t for t in new if t not in old]:
            a, b = old.get(test), new.get(test)
            if a is None or b is None or abs(a - b) > 1e-9:
                rows.append((name, test, a, b))
    return rows


def regrade_csv(rows) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(spreadsheet_row(["student", "test", "old", "new", "change"]))
    for name, test, a, b in rows:
        change = "" if a is None or b is None else f"{b - a:+g}"
        w.writerow(spreadsheet_row([name, test, "" if a is None else f"{a:g}",
                                    "" if b is None else f"{b:g}", change]))
    return out.getvalue()


NOT_GRADED = "not graded: "
"""How ``why_regraded`` starts the one reason of a folder a batch cannot grade."""


def why_regraded(gradebook, students: list[Path], version: str, sid: str, device: str,
                 public_only: bool, force: bool) -> list[tuple[str, list[str]]]:
    """Who a batch would grade and why (nothing is written): per student folder, the
    reasons, empty for one it would skip."""
    from grader.worker.submission import FolderUnreadable, read_student
    last = {}
    if gradebook is not None:
        rows = gradebook.db.execute(
            "SELECT st.name, s.content_hash, r.grader_version, r.secret_id, r.device, "
            "g.public_only, g.grader_errors FROM grades g JOIN submissions s ON "
            "g.submission_id = s.id JOIN students st ON s.student_id = st.id JOIN runs r ON "
            f"g.run_id = r.id WHERE g.id = ({gradebook.NEWEST})").fetchall()
        last = {r[0]: r[1:] for r in rows}
    out = []
    for path in students:
        try:
            content = read_student(path).digest()
        except FolderUnreadable as exc:
            out.append((exc.name, [NOT_GRADED + exc.why]))
            continue
        prev = last.get(path.name)
        if prev is None:
            out.append((path.name, ["never graded"]))
            continue
        if gradebook.already_graded(path.name, content, version, sid, device, public_only):
            out.append((path.name, ["--force"] if force else []))
            continue
        h, v, s, d, p, errors = prev
        why = []
        if h != content:
            why.append("the submission changed")
        if v != version:
            why.append(f"the grader or the course changed ({v} -> {version})")
        if s != sid:
            why.append(f"the hidden-case secret changed ({s} -> {sid})")
        if d != device:
            why.append(f"another device ({d} -> {device})")
        if bool(p) != public_only:
            why.append("public cases only" if public_only else "hidden cases too now")
        if errors:
            why.append(f"{errors} case(s) not graded last time")
        out.append((path.name, why or ["graded again (an earlier grade differs)"]))
    return out


# --------------------------------------------------------------------------- history
def history(gradebook, student: str) -> list[str]:
    """Every grade and override of ``student``, oldest first, with the grader version and
    the course fingerprint each grade was made with."""
    ensure(gradebook)
    events = []
    for at, score, top, version, course, content, errors, run in gradebook.db.execute(
            "SELECT g.graded_at, g.score, g.max_score, r.grader_version, "
            "r.course_fingerprint, s.content_hash, g.grader_errors, r.id FROM grades g "
            "JOIN submissions s ON g.submission_id = s.id JOIN students st ON "
            "s.student_id = st.id JOIN runs r ON g.run_id = r.id WHERE st.name = ? "
            "ORDER BY g.graded_at, g.id", (student,)):
        note = f", {errors} case(s) not graded" if errors else ""
        events.append((at, f"graded {score:g}/{top:g} (run {run}, grader {version}, course "
                           f"{course or '?'}, submission {content[:10]}{note})"))
    for o in all_overrides(gradebook, student):
        events.append((o.at, "override: " + o.line()))
    return [f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(at))}  {text}"
            for at, text in sorted(events, key=lambda e: e[0])]


# -------------------------------------------------------------------------- feedback
def student_copy(payload: dict) -> dict:
    """results.json as a student may read it: no hidden case's seed (the secret and the seed
    together make its inputs), nothing of the grader's bookkeeping beyond their grade."""
    out = json.loads(json.dumps(payload))
    for t in out.get("tests", []):
        for c in t.get("extra_data", {}).get("cases", []):
            if c.get("hidden"):
                c.pop("seed", None)
    extra = out.get("extra_data", {})
    for key in ("secret_id", "cpu_seconds"):
        extra.pop(key, None)
    return out


@dataclass
class FeedbackOutcome:
    folders: list[str] = field(default_factory=list)
    canvas: list[str] = field(default_factory=list)
    """Students whose files are in the Canvas zip."""
    not_in_canvas: list[str] = field(default_factory=list)
    missing_report: list[str] = field(default_factory=list)
    canvas_zip: Path | None = None
    seconds: float = 0.0


CANVAS_NAME = re.compile(r"^[^_/\\]+$")


def canvas_entry(info: dict, what: str) -> str | None:
    """The name Canvas's "Re-Upload Submissions" reads: ``<name>_<user id>_<attachment
    id>_<anything>`` (Canvas takes the first two all-digit parts as the user and one of
    the files they submitted, and attaches the file as a comment on that submission)."""
    name, uid, attachment = (str(info.get(k, "")) for k in ("name", "uid", "attachment"))
    if not (CANVAS_NAME.match(name) and uid.isdigit() and attachment.isdigit()) or \
            name.isdigit():
        return None
    return f"{name}_{uid}_{attachment}_{what}"


def write_feedback(finals: list[tuple[str, dict]], results_root: Path, out: Path,
                   canvas_files: dict, as_zip: bool = False) -> FeedbackOutcome:
    """One folder (or zip) per student under ``out`` with their report.html (self-contained,
    its grade block from the final grade) and results.json (``student_copy``), and
    ``out/canvas_feedback.zip`` for Canvas's "Re-Upload Submissions", for the students whose
    Canvas names ``import`` recorded."""
    from grader.instructor.durable import sync, write_atomic  # each file renamed into place, one sync at the end
    started = time.perf_counter()
    result = FeedbackOutcome()
    out.mkdir(parents=True, exist_ok=True)
    canvas_path = out / "canvas_feedback.zip"
    tmp = out / ".canvas_feedback.zip.tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as canvas:
        for name, payload in finals:
            page_path = Path(results_root) / name / "report.html"
            if page_path.is_file():
                page = with_grade(page_path.read_text(encoding="utf-8"), payload)
            else:
                result.missing_report.append(name)
                page = _minimal_page(payload)
            text = json.dumps(student_copy(payload))  # one line: the C encoder, 10x faster
            if as_zip:
                buf = io.BytesIO()
                with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
                    z.writestr(f"{name}/report.html", page)
                    z.writestr(f"{name}/results.json", text)
                _write_bytes(out / f"{name}.zip", buf.getvalue())
            else:
                write_atomic(out / name / "report.html", page)
                write_atomic(out / name / "results.json", text)
            result.folders.append(name)
            info = canvas_files.get(name)
            entry = canvas_entry(info, "report.html") if isinstance(info, dict) else None
            if entry is None:
                result.not_in_canvas.append(name)
                continue
            canvas.writestr(entry, page)
            canvas.writestr(canvas_entry(info, "results.json"), text)
            result.canvas.append(name)
    sync(out)
    if result.canvas:
        os.replace(tmp, canvas_path)
        result.canvas_zip = canvas_path
    else:
        tmp.unlink()
    result.seconds = time.perf_counter() - started
    return result


def _write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _minimal_page(payload: dict) -> str:
    """A report for a student whose report.html is gone: the grade and each test's text."""
    body = [grade_html(payload)]
    for t in payload["tests"]:
        body.append(f"<h2>{html.escape(t['name'])} {t['score']:g}/{t['max_score']:g}</h2>"
                    f"<pre>{html.escape(t.get('output', ''))}</pre>")
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Report"
            "</title></head><body>" + "".join(body) + "</body></html>")

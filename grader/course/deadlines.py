"""Deadlines and late policy: ``course.toml`` per assignment, extensions per student.

In ``course.toml``, on an ``[[assignment]]`` (a course-wide ``[late]`` table gives defaults for
every key but ``due``)::

    due = 2026-02-06T23:59:00          # a TOML date-time, or "2026-02-06 23:59"
    timezone = "America/Chicago"        # IANA name; needed unless `due` carries an offset
    grace = "15 minutes"                # late by no more than this: on time
    penalty = "10% per day"             # or "2% per hour": of the score earned, per day or
                                        # hour begun after the due date
    cap = "30%"                         # the most a penalty takes
    no_credit_after = "3 days"          # after the due date (or a date-time): no credit

``extensions.toml`` (the instructor's, next to the gradebook or ``--extensions``)::

    [alice]
    01_intro = "2 days"                 # more time on one assignment
    "*" = "1 day"                       # on every assignment
    [bob]
    02_loops = 2026-03-01T12:00:00      # a new due date (the assignment's time zone)

Everything is checked when it is read: a bad entry is one line naming the file and the key.
"""
from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10 (a student's own environment): the same parser, from PyPI
    import tomli as tomllib

KEYS = ("due", "timezone", "grace", "penalty", "cap", "no_credit_after")
DEFAULT_KEYS = KEYS[1:]
_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600,
          "hr": 3600, "hour": 3600, "d": 86400, "day": 86400, "w": 604800, "week": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+?)s?\s*$")
_PENALTY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*(?:per|/|an?)\s*(day|hour)\s*$")
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%?\s*$")


class DeadlineError(ValueError):
    """A deadline, a late policy or an extension that cannot be read: file and key named."""


def duration(value, where: str) -> timedelta:
    """``"15 minutes"``, ``"2 h"``, ``"3 days"``, or 0."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0:
        return timedelta(0)
    m = _DURATION.match(str(value).lower()) if isinstance(value, str) else None
    if not m or m.group(2) not in _UNITS:
        raise DeadlineError(f"{where}: {value!r} is not a duration (write e.g. \"15 minutes\", "
                            "\"2 hours\", \"3 days\")")
    return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


def zone(name, where: str):
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    if not isinstance(name, str) or not name:
        raise DeadlineError(f"{where}: the time zone must be an IANA name such as "
                            "\"Europe/Paris\"")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DeadlineError(f"{where}: unknown time zone {name!r} (an IANA name such as "
                            "\"America/New_York\")") from None


def moment(value, tz, where: str) -> datetime:
    """A TOML date-time (with or without offset) or an ISO text, made aware (``tz`` for one
    without an offset; None: an offset is required)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise DeadlineError(f"{where}: {value!r} is not a date and time (write e.g. "
                                "2026-02-06T23:59:00)") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time(23, 59, 59))
    if not isinstance(value, datetime):
        raise DeadlineError(f"{where}: {value!r} is not a date and time")
    if value.tzinfo is None:
        if tz is None:
            raise DeadlineError(f"{where}: {value.isoformat()} has no time zone: give "
                                "`timezone` (an IANA name) or an offset (+01:00)")
        value = value.replace(tzinfo=tz)
    return value


@dataclass(frozen=True)
class LatePolicy:
    folder: str
    due: datetime
    grace: timedelta = timedelta(0)
    rate: float = 0.0
    """Percent of the score earned taken per ``per`` begun after the due date."""
    per: str = "day"
    cap: float = 100.0
    """The most a penalty takes, in percent."""
    no_credit_after: timedelta | datetime | None = None
    """After the due date plus this (or after this date): no credit."""

    def describe(self) -> str:
        parts = [f"due {self.due.isoformat(' ', 'minutes')}"]
        if self.grace:
            parts.append(f"grace {_span(self.grace)}")
        if self.rate:
            parts.append(f"{self.rate:g}% per {self.per}" +
                         (f" up to {self.cap:g}%" if self.cap < 100 else ""))
        if self.no_credit_after is not None:
            parts.append("no credit after " + (
                _span(self.no_credit_after) + " late" if isinstance(self.no_credit_after,
                                                                   timedelta)
                else self.no_credit_after.isoformat(" ", "minutes")))
        return ", ".join(parts)

    def judge(self, submitted: datetime | None, extension=None, late_marker: bool = False
              ) -> "Late":
        """How late ``submitted`` is and what it costs; ``extension``: a timedelta added to
        the due date or a new due date. No time but an LMS's late marker: charged one
        ``per`` (the least it can mean), said so."""
        due = self.due
        if isinstance(extension, timedelta):
            due = self.due + extension
        elif isinstance(extension, datetime):
            due = extension
        shift = due - self.due
        ext = "" if not extension else f" (extended to {due.isoformat(' ', 'minutes')})"
        if submitted is None:
            if not late_marker:
                return Late(self.folder, due, None, timedelta(0), 0.0,
                            f"no submission time known; not charged{ext}")
            pct = min(self.rate, self.cap)
            return Late(self.folder, due, None, None, pct,
                        f"the LMS marks it late and gives no time: charged as late by one "
                        f"{self.per} ({pct:g}%){ext}")
        late_by = submitted - due
        cutoff = None
        if isinstance(self.no_credit_after, timedelta):
            cutoff = due + self.no_credit_after
        elif isinstance(self.no_credit_after, datetime):
            cutoff = self.no_credit_after + shift
        when = f"submitted {submitted.astimezone(due.tzinfo).isoformat(' ', 'minutes')}"
        if late_by <= timedelta(0):
            return Late(self.folder, due, submitted, late_by, 0.0, f"on time ({when}){ext}")
        if late_by <= self.grace:
            return Late(self.folder, due, submitted, late_by, 0.0,
                        f"inside the grace period ({_span(late_by)} late, grace "
                        f"{_span(self.grace)}){ext}")
        if cutoff is not None and submitted > cutoff:
            return Late(self.folder, due, submitted, late_by, 100.0,
                        f"{_span(late_by)} late, after {cutoff.isoformat(' ', 'minutes')}: "
                        f"no credit{ext}")
        unit = timedelta(days=1) if self.per == "day" else timedelta(hours=1)
        units = math.ceil(late_by / unit - 1e-9)
        pct = min(self.rate * units, self.cap)
        capped = " (the cap)" if self.rate * units > self.cap else ""
        return Late(self.folder, due, submitted, late_by, pct,
                    f"{_span(late_by)} late: {units} {self.per}{'s' if units != 1 else ''} × "
                    f"{self.rate:g}% = {pct:g}%{capped}{ext}")


@dataclass(frozen=True)
class Late:
    folder: str
    due: datetime
    submitted: datetime | None
    late_by: timedelta | None
    percent: float
    why: str


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days} d"] if days else []
    if hours:
        parts.append(f"{hours} h")
    if minutes or not parts:
        parts.append(f"{minutes} min")
    return " ".join(parts)


def late_policies(data: dict, path: Path) -> dict[str, LatePolicy]:
    """Every assignment's late policy in a parsed ``course.toml`` (those with a ``due``)."""
    defaults = data.get("late", {})
    if not isinstance(defaults, dict):
        raise DeadlineError(f"{path}: [late] must be a table")
    for key in defaults:
        if key not in DEFAULT_KEYS:
            raise DeadlineError(f"{path}: [late] {key}: unknown key (known: "
                                f"{', '.join(DEFAULT_KEYS)})")
    out = {}
    for i, entry in enumerate(data.get("assignment", [])):
        if not isinstance(entry, dict):
            continue
        folder = entry.get("folder", f"#{i + 1}")
        where = f"{path}: [[assignment]] {folder}"
        given = {k: entry[k] for k in KEYS if k in entry}
        if "due" not in given:
            extra = sorted(set(given) - {"timezone"})
            if extra:
                raise DeadlineError(f"{where}: {extra[0]} without a `due` date")
            continue
        spec = {**defaults, **given}
        tz = zone(spec["timezone"], f"{where}: timezone") if "timezone" in spec else None
        due = moment(spec["due"], tz, f"{where}: due")
        grace = duration(spec.get("grace", 0), f"{where}: grace")
        rate, per = 0.0, "day"
        penalty = spec.get("penalty", "none")
        if penalty not in ("none", "", 0):
            m = _PENALTY.match(str(penalty).lower())
            if not m:
                raise DeadlineError(f"{where}: penalty {penalty!r}: write e.g. \"10% per day\" "
                                    "or \"2% per hour\"")
            rate, per = float(m.group(1)), m.group(2)
            if rate > 100:
                raise DeadlineError(f"{where}: penalty {penalty!r}: more than 100%")
        cap = spec.get("cap", 100)
        m = _PERCENT.match(str(cap))
        if not m or float(m.group(1)) > 100:
            raise DeadlineError(f"{where}: cap {cap!r}: a percentage from 0 to 100 "
                                "(e.g. \"30%\")")
        cutoff = spec.get("no_credit_after")
        if cutoff is not None:
            cutoff = (duration(cutoff, f"{where}: no_credit_after")
                      if isinstance(cutoff, str) and _DURATION.match(cutoff.lower())
                      else moment(cutoff, tz or due.tzinfo, f"{where}: no_credit_after"))
            if isinstance(cutoff, datetime) and cutoff < due:
                raise DeadlineError(f"{where}: no_credit_after is before the due date")
        out[folder] = LatePolicy(folder, due, grace, rate, per, float(m.group(1)), cutoff)
    return out


@dataclass(frozen=True)
class Extensions:
    path: Path | None
    by_student: dict
    """student -> {folder or "*": timedelta (more time) or datetime (a new due date)}."""

    def get(self, student: str, folder: str):
        mine = self.by_student.get(student, {})
        return mine.get(folder, mine.get("*"))


NO_EXTENSIONS = Extensions(None, {})


def load_extensions(path: Path | None, policies: dict[str, LatePolicy],
                    folders) -> Extensions:
    """``extensions.toml`` checked against the course: each key an assignment folder (or
    ``*``), each value a duration or a date-time. No file: no extensions."""
    if path is None or not Path(path).is_file():
        return NO_EXTENSIONS
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DeadlineError(f"{path}: not valid TOML: {exc}") from None
    folders = set(folders)
    out = {}
    for student, table in data.items():
        if not isinstance(table, dict):
            raise DeadlineError(f"{path}: {student}: write a table per student, e.g. "
                                f"[{student}] then 01_intro = \"2 days\"")
        mine = {}
        for folder, value in table.items():
            where = f"{path}: [{student}] {folder}"
            if folder != "*" and folder not in folders:
                raise DeadlineError(f"{where}: no assignment {folder!r} in the course (known: "
                                    f"{', '.join(sorted(folders))}, or \"*\" for all)")
            policy = policies.get(folder) or next(iter(policies.values()), None)
            if isinstance(value, str) and _DURATION.match(value.lower()):
                mine[folder] = duration(value, where)
            else:
                mine[folder] = moment(value, policy.due.tzinfo if policy else None, where)
        out[str(student)] = mine
    return Extensions(Path(path), out)

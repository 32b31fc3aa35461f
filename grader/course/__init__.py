"""Stage 1, the course: what is asked of a student, as data.

Holds the course's declared contract and how it is loaded and checked: ``spec`` (the frozen,
self-validating dataclasses a course's ``checks.py`` and ``mistakes.py`` are written in),
``loader`` (``course.toml`` and every assignment's files, checked as they load),
``modules`` (a course's own Python files imported as one package), ``cases`` (concrete cases
from case makers and the secret), ``probes`` (how a contract name is called and its output
described — the same code runs beside the reference and inside a student's fork),
``stubs`` (the student's files made from the reference), ``deadlines`` (due dates and late
policy) and ``fingerprint`` (the grader's version and content hashes).

In: a course folder (``reference/`` or ``--course DIR``). Out: a ``Course`` of
``Assignment``s and their ``Check``s, and ``Case``s of plain data. Imports nothing from the
stages after it (``worker``, ``judge``, ``report``, ``instructor``).
"""

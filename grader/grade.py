"""Grading one student: cases, worker runs, comparison with the reference, verdicts."""
from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.course.fingerprint import __version__
from grader.judge import ownloop
from grader.worker import wire
from grader.course.cases import case_seed, secret_id
from grader.course.loader import load_course
from grader.judge.diagnose import Diagnoser
from grader.judge.compare import compare_for
from grader.judge.diagnose.repair import (MAX_CANDIDATES, MAX_PAIRS, PAIR_SEEDS, Relative,
                                          body_key, candidates, distance)
from grader.judge.diagnose.repair import pairs as two_edits
from grader.judge.diagnose.uses import contract_uses
from grader.judge.verdict import NOT_GRADED, Judge, attribute, point_at_lines
from grader.judge.expected import CaseMakerError, Expected, ReferenceError, make_cases
from grader.judge.results import AssignmentResult, CaseResult, CheckResult, StudentResult
from grader.course.probes import derived, resolve
from grader.course.spec import PUBLIC_SHARE, Assignment, Case, Check
from grader.worker.submission import Submission, collect, ram_folder, source_code
from grader.worker.pool import Call, Job, ModuleCalls, WorkerPool

ADAPTIVE_FACTOR, ADAPTIVE_FLOOR = 100.0, 2.0
REPAIR_CPU_SECONDS = 2.0
"""The repair search of one failing definition stops after its candidates used this much CPU
(it finishes the chunk under way): one-edit and two-edit candidates together (the two-edit
ones get what the one-edit ones left)."""
REPAIR_WALL_SECONDS = 6.0
"""...and after this long on the clock, or at the first candidate that runs past its time
limit (the rest of its chunk is skipped): a candidate that sleeps costs no CPU, yet each
may wait out its whole limit (a student's code can tell it is being repaired)."""
REPAIR_CHUNK = 40
"""Candidates screened in the first fork of a search (fewer where the check is slow); each
later fork of the same search screens twice as many as the one before, up to
``REPAIR_CHUNK_MAX`` (and never more than half the CPU budget at the reference's pace): a fix
found early costs little, and a search that finds none (most of them: a crash no small edit
mends) takes a few forks instead of one per 40 candidates."""
REPAIR_CHUNK_MAX = 320
REPAIR_TIME_FACTOR = 5.0
"""A candidate's call may take this many times the reference's longest case (+0.5 s); so
may each call of a student's gradient made for the own-loop rule."""
OWN_CHUNK = 100
"""The own-loop rule's calls of a student's gradient run this many to a fork..."""
OWN_WALL_SECONDS = 20.0
"""...and no new fork starts after this long: the loops left are judged as they are."""


@dataclass
class Plan:
    """One assignment of one student: what to run, and what came back."""

    assignment: Assignment
    result: AssignmentResult
    pairs: list[tuple[Check, Case]]
    module: ModuleCalls | None
    outcomes: list[dict]

    def add_notes(self, notes: list[str]) -> None:
        self.result.note = "\n".join(n for n in [self.result.note, *notes] if n)


@dataclass
class Session:
    """Everything shared by the students of one grading run."""

    pool: WorkerPool
    course: tuple[Assignment, ...]
    device: str = "cpu"
    secret: str = ""
    include_hidden: bool = True
    confine: bool = True
    one_fork_per_student: bool = False
    """Batch mode: all of a student's modules in one fork (cheaper, but not in parallel)."""
    max_timeout: float | None = None
    """Caps every check's time limit (tests use it to keep endless loops short)."""
    expected: Expected = field(default_factory=Expected)
    diagnoser: Diagnoser | None = field(default_factory=Diagnoser)
    warnings: list[str] = field(default_factory=list)
    _cases: dict = field(default_factory=dict)
    case_errors: dict = field(default_factory=dict)
    """(folder, check name) -> ``CaseMakerError``: a case maker of the course failed; the
    check is not graded (``course_error``) for every student, its other checks are."""
    _encoded: dict = field(default_factory=dict)
    _limits: dict = field(default_factory=dict)
    repair: bool = True
    """Search a verified fix for failing definitions (``repairs``); off where only verdicts
    and hints matter (the course's own validation grades dozens of catalogued mistakes)."""
    repairs_found: MutableMapping = field(default_factory=dict)
    """Each search's outcome (a ``repair.Relative`` or None) by (folder, check, file): every
    student with the same file (``repair.body_key``) gets the same fix, searched once. A
    cluster's worker puts a mapping here that the batch's other workers share
    (``cluster.worker.SharedRepairs``)."""
    repair_log: list = field(default_factory=list)
    """(check, candidates run, their CPU seconds, wall seconds, found) per search (benchmarks)."""
    repair_for: str = "graded"
    """Which of the course's ``[feedback]`` options says what a fix shows: ``graded`` or
    ``selfcheck`` (a student's own check, public cases only: the fix is said to pass every
    public case)."""

    def __post_init__(self):
        self.course = tuple(self.course)  # a loaded Course, or some of its assignments
        roots = {a.course_root for a in self.course}
        if len(roots) > 1:
            raise ValueError("a session grades the assignments of one course")
        self._judge = Judge(self.expected, self.diagnoser, self.device, self.timeout)

    def cases(self, assignment: Assignment, check: Check) -> list[Case]:
        key = (assignment.folder, check.name)
        if key not in self._cases:
            try:
                self._cases[key] = make_cases(assignment, check, self.secret,
                                              self.include_hidden)
            except CaseMakerError as exc:  # the course's code: its check is not graded
                self.case_errors[key] = exc
                self._cases[key] = []
        return self._cases[key]

    def encoded(self, assignment: Assignment, check: Check, case: Case):
        """A case's inputs as JSON text, encoded once for every student."""
        key = (assignment.folder, check.name, case.id)
        if key not in self._encoded:
            self._encoded[key] = wire.Raw(case.inputs)
        return self._encoded[key]

    def warm_expected(self) -> None:
        """Compute every expected value now; a reference failure is reported per case later."""
        for a in self.course:
            for check in a.checks:
                for case in self.cases(a, check):
                    try:
                        self.expected.get(a, check, case, self.device)
                    except ReferenceError:
                        pass

    def timeout(self, assignment: Assignment, check: Check, case: Case | None = None) -> float:
        """The check's limit, shortened to 100x the reference's median time (+2 s) if known
        (then kept for the session: every student gets the same limit)."""
        key = (assignment.folder, check.name)
        if key in self._limits:
            return self._limits[key]
        limit = min(check.timeout, self.max_timeout or check.timeout)
        times = [self.expected.seconds[k] for k in
                 (Expected.key(assignment, check, c, self.device)
                  for c in self.cases(assignment, check)) if k in self.expected.seconds]
        if times:
            limit = min(limit, ADAPTIVE_FACTOR * float(np.median(times)) + ADAPTIVE_FLOOR)
            if len(times) == len(self.cases(assignment, check)):
                self._limits[key] = limit
        return limit

    def grade(self, student_dir: Path | Submission, student: str | None = None
              ) -> StudentResult:
        """One student: a folder, collected here (``submission.collect``: read without
        following a link, into a private copy, the graded files decided before any of the
        student's code runs), or a submission collected already (a batch collects its
        whole class before its first student runs)."""
        if isinstance(student_dir, Submission):
            return self._grade(student_dir, student or student_dir.name)
        folder = Path(student_dir).resolve()
        with collect(folder, self.course, student or folder.name) as sub:
            return self._grade(sub, sub.name)

    def _grade(self, submission: Submission, student: str) -> StudentResult:
        started = time.perf_counter()
        student_dir = submission.root.resolve()
        result = StudentResult(student, self.device, __version__,
                               secret_id(self.secret), public_only=not self.include_hidden,
                               warnings=list(self.warnings) + submission.other_notes(self.course),
                               submission=submission.record())
        plans = [self.plan(student_dir, a, submission) for a in self.course]
        runnable = [p for p in plans if p.module is not None]
        if self.one_fork_per_student:  # batch: one fork per student (a fork costs ~20 ms)
            if runnable:
                ran = self.pool.run(self.job([p.module for p in runnable], student_dir))
                result.cpu += ran.cpu
                for p, m in zip(runnable, ran.modules):
                    p.outcomes, p.result.output = m.results, ran.output
                    p.add_notes(m.notes)
        else:  # one student: its assignments in parallel, expected values meanwhile
            runnable.sort(key=self._cost, reverse=True)  # the longest first: ends soonest
            with ThreadPoolExecutor(max_workers=max(len(runnable), 1)) as ex:
                futures = [(p, ex.submit(self.pool.run, self.job([p.module], student_dir)))
                           for p in runnable]
                self.warm_expected()
                for p, fut in futures:
                    ran = fut.result()
                    result.cpu += ran.cpu
                    p.outcomes, p.result.output = ran.modules[0].results, ran.output
                    p.add_notes(ran.modules[0].notes)
        result.assignments = [self.finish(p, student_dir, result) for p in plans]
        result.seconds = time.perf_counter() - started
        return result

    def trial_limit(self, assignment: Assignment, check: Check) -> float:
        """The limit of a call made to try something on a student's code (a repair candidate,
        the student's gradient at a point of their own path): ``REPAIR_TIME_FACTOR`` times
        the reference's longest case (+0.5 s), within the check's own limit."""
        longest = max([self.expected.time_of(assignment, check, ca, self.device)
                       for ca in self.cases(assignment, check)] or [0.0])
        return min(self.timeout(assignment, check), REPAIR_TIME_FACTOR * longest + 0.5)

    def _cost(self, plan: "Plan") -> float:
        """What the reference took on the plan's cases, when known (0 otherwise)."""
        return sum(self.expected.time_of(plan.assignment, check, case, self.device)
                   for check, case in plan.pairs)

    def job(self, modules: list[ModuleCalls], student_dir: Path) -> Job:
        cap = self.max_timeout
        root = self.course[0].course_root
        return Job(modules, str(student_dir), self.device, self.confine,
                   cell_seconds=min(30.0, cap or 30.0),
                   import_seconds=min(120.0, 4 * cap) if cap else 120.0,
                   course_root=str(root or ""),
                   probe_modules=list(load_course(root).probe_modules) if root else [])

    def plan(self, student_dir: Path, assignment: Assignment,
             submission: Submission) -> "Plan":
        located = submission.locate(assignment)
        rel = str(located.path.relative_to(submission.root)) if located.path else None
        out = AssignmentResult(assignment.folder, assignment.module, rel, note=located.note)
        pairs = [(check, case) for check in assignment.checks
                 for case in self.cases(assignment, check)]
        module = None
        if located.path is None:
            outcomes = [{"status": "error", "error": {"kind": "missing",
                                                      "message": located.note.split("\n")[0]}}
                        ] * len(pairs)
        else:
            outcomes = []
            module = ModuleCalls(str(located.path), assignment.module, [
                Call(resolve(ch.probe), ch.name, ca.inputs, ca.seed,
                     self.timeout(assignment, ch, ca),
                     encoded_inputs=self.encoded(assignment, ch, ca), shared=True,
                     hidden=ca.hidden)
                for ch, ca in pairs])
        return Plan(assignment, out, pairs, module, outcomes)

    def finish(self, plan: "Plan", student_dir: Path | None = None,
               result: StudentResult | None = None) -> AssignmentResult:
        by_check: dict[str, CheckResult] = {}
        for (check, case), outcome in zip(plan.pairs, plan.outcomes):
            cr = by_check.setdefault(check.name, CheckResult(
                plan.assignment.folder, check.name, check.points,
                public_share=check.public_share if check.public_share is not None
                else PUBLIC_SHARE))
            cr.cases.append(self.judge(plan.assignment, check, case, outcome, cr.notes))
        plan.result.checks = [by_check.get(c.name) or self.unmade(plan.assignment, c)
                              for c in plan.assignment.checks]
        if student_dir is not None:
            self.own_loops(plan, student_dir, result)
        path = Path(plan.module.module_path) if plan.module else None
        source = functools.cache(lambda: source_code(path) if path and path.is_file() else "")
        attribute(plan.result.checks,
                  lambda: contract_uses(source(), {c.name for c in plan.assignment.checks}))
        point_at_lines(plan.result.checks, source, f"{plan.assignment.module}.py")
        if student_dir is not None and self.repair:
            self.repairs(plan, source(), result)
        return plan.result

    def unmade(self, assignment: Assignment, check: Check) -> CheckResult:
        """A check whose cases the course could not make (``case_errors``): every case not
        graded, never charged to the student and never credited."""
        failure = self.case_errors[(assignment.folder, check.name)]
        share = check.public_share if check.public_share is not None else PUBLIC_SHARE
        out = CheckResult(assignment.folder, check.name, check.points, public_share=share)
        for spec in check.cases:
            if spec.hidden and not self.include_hidden:
                continue
            seed = 0 if spec.hidden else case_seed("public", assignment.folder, check.name,
                                                   spec.id)
            out.cases.append(CaseResult(id=spec.id, hidden=spec.hidden, seed=seed,
                                        status="course_error", fraction=0.0,
                                        message=NOT_GRADED.format(why=failure.headline)))
        return out

    def repairs(self, plan: "Plan", source: str, result: StudentResult | None) -> None:
        """A verified fix for each failing definition (``diagnose.repair``): small edits of the
        student's own code, each run confined like any student code on every case of the
        check, hidden ones included; the smallest that passes them all is said in the
        check's notes (as the course's ``[feedback] repair_graded`` says: the fix, the line
        only, or nothing). Searched once per distinct file (``repair.body_key``)."""
        root = plan.assignment.course_root
        default = "fix" if self.repair_for == "graded" else "line"
        show = load_course(root).repair.get(self.repair_for, default) if root else default
        cases = "every case" if self.include_hidden else "every public case"
        if show == "nothing" or plan.module is None or not source or \
                plan.module.module_path.endswith(".ipynb"):
            return
        for check, checked in zip(plan.assignment.checks, plan.result.checks):
            failing = [c for c in checked.cases if c.status != "passed"]
            if not failing or any(c.status in ("grader_error", "course_error") or
                                  c.error_kind in ("missing", "not_implemented")
                                  for c in checked.cases) or all(c.blames for c in failing):
                continue  # nothing to fix here, or the mistake is in a name it calls
            key = (plan.assignment.folder, check.name, body_key(source, check.name))
            if key[2] is None:
                continue
            if key not in self.repairs_found:
                self.repairs_found[key] = self._search(plan, check, source, result)
            found = self.repairs_found[key]
            if found is not None:
                checked.notes.append(found.at(source, check.name).said(check.name, show,
                                                                       cases))

    def _search(self, plan: "Plan", check: Check, source: str,
                result: StudentResult | None) -> "Relative | None":
        """The smallest one-edit candidate that passes every case of ``check``, else a
        two-edit one (``repair.pairs``, seeded by the one-edit candidates that came closest),
        all within ``REPAIR_CPU_SECONDS`` of the candidates' CPU; None where none does."""
        import tempfile
        pairs = [(ch, ca) for ch, ca in plan.pairs if ch.name == check.name]
        try:  # bounded by repair.MAX_CANDIDATE_BYTES; a file built to exhaust it still may
            edits = candidates(source, check.name)
        except (MemoryError, RecursionError):
            return None
        if not edits or not pairs:
            return None
        # The first failing case screens every candidate; the few that pass it run the rest.
        verdicts = next(c for c in plan.result.checks if c.name == check.name).cases
        first = next((i for i, v in enumerate(verdicts) if v.status != "passed" and
                      not v.hidden), next(i for i, v in enumerate(verdicts)
                                          if v.status != "passed"))
        limit = self.trial_limit(plan.assignment, check)
        name = Path(plan.module.module_path).name
        run = dict(spent=0.0, tried=0, started=time.perf_counter(), stalled=False)
        # Hundreds of small files, written and removed: in RAM where there is room.
        with tempfile.TemporaryDirectory(prefix="repair-",
                                         dir=ram_folder((MAX_CANDIDATES + MAX_PAIRS) *
                                                        len(source.encode()))) as tmp:
            # a chunk the budget can afford on slow checks (a fit), 40 on quick ones
            each = self.expected.time_of(plan.assignment, check, pairs[first][1], self.device)
            size = max(4, min(REPAIR_CHUNK_MAX, int(REPAIR_CPU_SECONDS / 2 / max(each, 1e-3))))
            scores: list[float] = []
            found = self._screen(plan, edits, pairs, first, limit, name, tmp, size, run,
                                 scores)
            if found is None and not run["stalled"]:
                # Two edits: a second one tried on each one-edit candidate that came closer
                # to the expected output on the screening case (the closest first).
                at = [i for i, (ch, _) in enumerate(plan.pairs) if ch.name == check.name][first]
                origin = self._distance(plan, check, pairs[first][1], plan.outcomes[at])
                seeds = sorted((d, k) for k, d in enumerate(scores) if d < origin * 0.999)
                seeds = seeds[:PAIR_SEEDS]
                both = [e for _, k in seeds for e in two_edits(
                    source, check.name, edits[k], MAX_PAIRS // max(len(seeds), 1))]
                if both:
                    found = self._screen(plan, both, pairs, first, limit, name, tmp, size, run)
        self._log(check, run["tried"], run["spent"], run["started"], found is not None, result)
        return Relative.of(found, source, check.name) if found is not None else None

    def _screen(self, plan: "Plan", edits: list, pairs: list, first: int, limit: float,
                name: str, tmp: str, size: int, run: dict, scores: list | None = None):
        """The first of ``edits`` (in chunks growing from ``REPAIR_CHUNK`` to ``size``) that
        passes every one of ``pairs``: each chunk screened on ``pairs[first]``, the survivors
        run on the rest. Stops at the budget (``run`` holds the CPU spent, the candidates
        tried, the start) or at the first candidate that runs past its limit
        (``run["stalled"]``). ``scores`` gets each screened candidate's ``distance`` to the
        expected output (inf where a chunk was not run)."""
        at, grown = 0, min(REPAIR_CHUNK, size)
        while at < len(edits):
            if run["stalled"] or run["spent"] > REPAIR_CPU_SECONDS or \
                    time.perf_counter() - run["started"] > REPAIR_WALL_SECONDS:
                break
            chunk = edits[at:at + grown]
            at, grown = at + len(chunk), min(size, grown * 2)
            paths = []
            for k, edit in enumerate(chunk):
                folder = Path(tmp) / f"c{run['tried'] + k}"
                folder.mkdir()
                (folder / name).write_text(edit.source)
                paths.append(str(folder / name))
            screened = self._run_candidates(plan, paths, [pairs[first]], limit, tmp,
                                            scores is not None)
            run["spent"] += screened[1]
            run["tried"] += len(chunk)
            run["stalled"] = screened[2]
            if scores is not None:
                scores.extend(screened[3])
            alive = [k for k, ok in enumerate(screened[0]) if ok]
            if alive:
                rest = [p for i, p in enumerate(pairs) if i != first]
                full = self._run_candidates(plan, [paths[k] for k in alive], rest, limit,
                                            tmp) if rest else ([True] * len(alive), 0.0, False, [])
                run["spent"] += full[1]
                run["stalled"] = run["stalled"] or full[2]
                for k, ok in zip(alive, full[0]):
                    if ok:
                        return chunk[k]
        return None

    def _distance(self, plan: "Plan", check: Check, case: Case, outcome) -> float:
        """How far an outcome's output is from the expected one (``repair.distance``; inf
        where it did not return)."""
        if not isinstance(outcome, dict) or outcome.get("status") != "ok":
            return float("inf")
        try:
            probe = resolve(check.probe)
            expected = derived(probe, self.expected.get(plan.assignment, check, case,
                                                        self.device), case.inputs)
            return distance(derived(probe, outcome["output"], case.inputs), expected)
        except Exception:  # unreadable, or the reference failing: no closeness
            return float("inf")

    def _log(self, check, tried, spent, started, found, result) -> None:
        self.repair_log.append((check.name, tried, spent, time.perf_counter() - started, found))
        if result is not None:
            result.cpu += spent

    def _run_candidates(self, plan: "Plan", paths: list[str], pairs: list, limit: float,
                        root: str, score: bool = False
                        ) -> tuple[list[bool], float, bool, list[float]]:
        """Whether each candidate file passes every one of ``pairs``, the CPU it took,
        whether one ran past its limit (the rest were then skipped), and (``score``) each
        one's ``distance`` to the expected output on the first of ``pairs``."""
        modules = [ModuleCalls(path, plan.assignment.module, [
            Call(resolve(ch.probe), ch.name, ca.inputs, ca.seed, limit,
                 encoded_inputs=self.encoded(plan.assignment, ch, ca), shared=True,
                 hidden=ca.hidden)
            for ch, ca in pairs]) for path in paths]
        job = self.job(modules, root)
        job.stop_on_timeout = True
        ran = self.pool.run(job)
        scores = [self._distance(plan, pairs[0][0], pairs[0][1], m.results[0])
                  if m.results else float("inf") for m in ran.modules] if score else []
        return [all(self._passes(plan.assignment, ch, ca, out)
                    for (ch, ca), out in zip(pairs, m.results))
                for m in ran.modules], ran.cpu, any(
                    r.get("status") in ("timeout", "skipped") for m in ran.modules
                    for r in m.results if isinstance(r, dict)), scores

    def _passes(self, assignment: Assignment, check: Check, case: Case, outcome) -> bool:
        """A candidate's outcome on one case passes, judged like any (no diagnosis)."""
        if not isinstance(outcome, dict) or outcome.get("status") != "ok":
            return False
        try:
            probe = resolve(check.probe)
            expected = derived(probe, self.expected.get(assignment, check, case, self.device),
                               case.inputs)
            actual = derived(probe, outcome["output"], case.inputs)
            return compare_for(check, actual, expected, self.device,
                               reveal=False).passed  # only whether: no numbers formatted
        except Exception:  # unreadable, or the reference failing: no fix is claimed
            return False

    def own_loops(self, plan: "Plan", student_dir: Path, result: StudentResult | None) -> None:
        """The own-loop rule (``ownloop``): a failing descent loop whose gradient function
        fails its own check is judged on its own, from calls of that gradient at the student's
        path made now, in one more fork (confined like any call). The same step for every
        path that grades through a session."""
        questions = ownloop.asks(self._judge, plan.assignment, plan.result.checks, plan.pairs,
                                 plan.outcomes) if plan.module is not None else []
        if not questions:
            return
        checks = {c.name: c for c in plan.assignment.checks}
        calls = [Call(resolve("call"), q.grad, inputs, q.case.seed,
                      self.timeout(plan.assignment, checks[q.grad]), hidden=q.case.hidden)
                 for q in questions for inputs in q.inputs]
        # The student's gradient is asked for at every step of the loop: each call as long
        # as a repair candidate's may take.
        trial = {g: self.trial_limit(plan.assignment, checks[g]) for g in {q.grad for q in
                                                                           questions}}
        answers = self._own_gradients(plan, student_dir, [
            dataclasses.replace(c, timeout=trial[c.name]) for c in calls], result)
        # The reference's gradient at the same points, in a fork of its own (never the
        # student's): the grader need not import torch and the reference for it.
        reference = plan.assignment.reference_path
        theirs = self.pool.run(self.job([ModuleCalls(str(reference), plan.assignment.module,
                                                     calls)], reference.parent))
        references, at = theirs.modules[0].results, 0
        failure = theirs.modules[0].import_error
        if failure:  # the course's own code: not graded, never charged
            references = [{"status": "grader_error", "reason": "the reference could not be "
                           f"imported: {str(failure.get('message', ''))[:200]}"}] * len(calls)
        for q in questions:
            cases = plan.result.checks[q.check_index].cases
            cases[q.case_index] = ownloop.settle(self._judge, plan.assignment, q,
                                                 cases[q.case_index],
                                                 answers[at:at + len(q.inputs)],
                                                 references[at:at + len(q.inputs)])
            at += len(q.inputs)

    def _own_gradients(self, plan: "Plan", student_dir: Path, calls: list,
                       result: StudentResult | None) -> list[dict]:
        """The student's gradient at each point (``calls``), in chunks of ``OWN_CHUNK`` calls
        until ``OWN_WALL_SECONDS`` have passed; the calls left then are skipped, and the rule
        does not apply to their loops (every step of a loop is re-checked: a gradient that
        waits out most of its limit at each point would hold a worker for an hour)."""
        answers: list[dict] = []
        started = time.perf_counter()
        for at in range(0, len(calls), OWN_CHUNK):
            chunk = calls[at:at + OWN_CHUNK]
            if time.perf_counter() - started > OWN_WALL_SECONDS:
                answers += [{"status": "skipped", "reason": "time", "limit": c.timeout}
                            for c in chunk]
                continue
            job = self.job([ModuleCalls(plan.module.module_path, plan.module.module_name,
                                        chunk)], student_dir)
            job.stop_on_timeout = True
            ran = self.pool.run(job)
            if result is not None:
                result.cpu += ran.cpu
            answers += ran.modules[0].results
        return answers

    def judge(self, assignment: Assignment, check: Check, case: Case, outcome: dict,
              notes: list[str]) -> CaseResult:
        return self._judge.case(assignment, check, case, outcome, notes)

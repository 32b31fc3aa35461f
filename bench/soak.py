"""Soak: grade a mixed class again and again on busy cores, killing things at random moments.

Each run grades the same class with ``python -m grader batch`` while CPU hogs keep every core
busy, and a fault thread kills, at random moments, a student's fork, a fork server or (once
per run, on some runs) the batch itself with SIGTERM or SIGKILL, after which the batch is
run again to resume. Every run is checked against a quiet run of the same class:

- no grader error (exit status, "grader failure" lines, ``grader_error`` cases);
- no student missing (results.json and the gradebook);
- every verdict identical (score of every test); a student whose fork the harness killed
  may lose the one case that fork was running, and nothing else;
- no file written outside the results folder (the class is hashed before and after, and the
  fork servers' scratch folders are gone);
- no process left behind (every process the batch started has exited).

Usage: python bench/soak.py [--runs 5] [--hogs N] [--seed 1] [--quick]
Prints one line per run and a summary table (runs x students, faults, failures).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.course.loader import strip_markers
from grader.course.stubs import reference_notebook  # noqa: E402
from grader.course.loader import load_course  # noqa: E402

assignment = load_course().assignment

A01 = "01_gradient_descent"
HOG = "import time\nend = time.time() + 3600\nwhile time.time() < end: pass\n"


def _reference() -> str:
    return strip_markers((ROOT / "reference" / A01 / "gradient_descent.py").read_text())


def _in_function(source: str, name: str, line: str) -> str:
    """``line`` inserted as the first statement of function ``name``."""
    out, lines = [], source.splitlines()
    for i, text in enumerate(lines):
        out.append(text)
        if text.startswith(f"def {name}("):
            j = i + 1
            while not lines[j].strip().startswith('"""') and lines[j].strip():
                j += 1
            out.append(f"    {line}")
    return "\n".join(out) + "\n"


THREAD = ("import sys as _s, threading as _t\n"
          "def _noise():\n"
          "    while True:\n"
          "        {body}\n"
          "_t.Thread(target=_noise, daemon=True).start()\n")


def students() -> dict[str, str]:
    """Student name -> the source of their ``gradient_descent.py`` (or a notebook's code)."""
    ref = _reference()
    demo = (ROOT / "submissions" / "demo" / A01 / "gradient_descent.py").read_text()
    every_call = ref
    for fn in ("predict", "mse_loss", "mse_grad", "gradient_descent", "make_batches",
               "minibatch_gd"):
        every_call = _in_function(every_call, fn, "print('progress', flush=True)")
    return {
        "correct": ref,
        "wrong": demo,
        "print-every-call": every_call,
        "partial-lines": THREAD.format(body="_s.stdout.write('.'); _s.stderr.write('#')") + ref,
        "flood-both": THREAD.format(body="print('x' * 200); print('y' * 200, file=_s.stderr)")
        + ref,
        "print-at-import": "for _i in range(50000):\n    print(_i, end=' ')\n" + ref,
        "sleeper": "import time\n" + _in_function(ref, "predict", "time.sleep(0.05)"),
        "crash": _in_function(ref, "mse_grad", "raise ValueError('oops')"),
        "exit-early": _in_function(_in_function(ref, "make_batches", "import sys; sys.exit(3)"),
                                   "minibatch_gd", "import os; os._exit(0)"),
        "forker": _in_function(ref, "predict",
                               "import os; pid = os.fork()\n    if pid == 0: os._exit(0)"),
        "fork-and-loop": _in_function(ref, "mse_loss",
                                      "import os\n    if os.fork() == 0:\n"
                                      "        while True: pass"),
        "looper": _in_function(ref, "gradient_descent", "while True: pass"),
        "memory-hog": _in_function(ref, "mse_loss", "_x = bytearray(8 << 30)"),
    }


NOTEBOOK_EXTRAS = {
    "nb-correct": None,
    "nb-looping-cell": "while True:\n    pass",
    "nb-flood": "import sys\nfor i in range(20000):\n    print(i, end='')\n    "
                "print(i, file=sys.stderr)",
    "nb-crash-cell": "raise RuntimeError('a broken cell')",
}


def make_class(root: Path) -> list[str]:
    a = assignment(A01)
    for name, source in students().items():
        folder = root / name / A01
        folder.mkdir(parents=True)
        (folder / f"{a.module}.py").write_text(source)
    base = json.loads(reference_notebook(a))
    for name, extra in NOTEBOOK_EXTRAS.items():
        nb = json.loads(json.dumps(base))
        if extra is not None:
            nb["cells"].insert(1, {"cell_type": "code", "metadata": {}, "outputs": [],
                                   "execution_count": None, "source": extra})
        folder = root / name / A01
        folder.mkdir(parents=True)
        (folder / f"{a.module}.ipynb").write_text(json.dumps(nb))
    return sorted(p.name for p in root.iterdir())


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def verdicts(results: Path) -> dict[str, dict[str, tuple[float, str]]]:
    """student -> test name -> (score, output) from every results.json."""
    out = {}
    for path in sorted(results.glob("*/results.json")):
        data = json.loads(path.read_text())
        out[path.parent.name] = {t["name"]: (t["score"], t.get("output", ""))
                                 for t in data["tests"]}
    return out


def zygotes_of(pid: int) -> list[psutil.Process]:
    try:
        return [p for p in psutil.Process(pid).children(recursive=True)
                if "grader.worker.zygote" in " ".join(p.cmdline())]
    except psutil.Error:
        return []


@dataclass
class Faults:
    forks: int = 0
    fork_servers: int = 0
    batch: str = ""
    victims: set = field(default_factory=set)


class Injector(threading.Thread):
    """Kills, at random moments, a student's fork or a fork server of the batch ``pid``."""

    def __init__(self, pid: int, rng: random.Random, faults: Faults, class_root: Path):
        super().__init__(daemon=True)
        self.pid, self.rng, self.faults, self.class_root = pid, rng, faults, class_root
        self.stop = threading.Event()
        self.seen: set[int] = set()

    def run(self) -> None:
        while not self.stop.wait(self.rng.uniform(0.5, 4.0)):
            servers = zygotes_of(self.pid)
            self.seen.update(p.pid for p in servers)
            # A server that has forked is serving (while it starts, it has no child yet).
            serving = [(z, kids) for z in servers if (kids := _children(z))]
            if not serving:
                continue
            server, forks = self.rng.choice(serving)
            if forks and self.rng.random() < 0.7:
                victim = self.rng.choice(forks)
                student = self._student_of(victim)
                try:
                    victim.kill()
                except psutil.Error:
                    continue
                self.faults.forks += 1
                if student:
                    self.faults.victims.add(student)
            else:
                try:
                    server.kill()
                except psutil.Error:
                    continue
                self.faults.fork_servers += 1

    def _student_of(self, proc: psutil.Process) -> str:
        """The student whose files the fork has open or whose folder it reads (best effort);
        an unknown victim is any student (its verdict is then checked leniently)."""
        try:
            for f in proc.open_files():
                if str(self.class_root) in f.path:
                    return Path(f.path).relative_to(self.class_root).parts[0]
        except psutil.Error:
            pass
        return "?"


def batch_cmd(class_root: Path, results: Path) -> list[str]:
    return [sys.executable, "-m", "grader", "batch", str(class_root), "--results", str(results),
            "--device", "cpu", "--assignment", A01, "--workers", "2"]


def run_batch(class_root: Path, results: Path, env: dict, injector_seed: int | None,
              kill_batch: str, rng: random.Random) -> tuple[int, str, Faults, set[int]]:
    faults = Faults()
    proc = subprocess.Popen(batch_cmd(class_root, results), cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    injector = None
    if injector_seed is not None:
        injector = Injector(proc.pid, random.Random(injector_seed), faults, class_root)
        injector.start()
    seen: set[int] = set()
    if kill_batch:
        # Some students in: kill it at a random moment after the first results appear.
        deadline = time.time() + 300
        want = rng.randint(1, 6)
        while time.time() < deadline and len(list(results.glob("*/results.json"))) < want \
                and proc.poll() is None:
            seen.update(p.pid for p in _descendants(proc.pid))
            time.sleep(0.05)
        time.sleep(rng.uniform(0, 0.5))
        seen.update(p.pid for p in _descendants(proc.pid))
        if proc.poll() is None:
            if kill_batch == "SIGKILL":
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.send_signal(signal.SIGTERM)
            faults.batch = kill_batch
    out, _ = proc.communicate(timeout=900)
    if injector:
        injector.stop.set()
        injector.join()
        seen |= injector.seen
    return proc.returncode, out, faults, seen


def _children(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return proc.children()
    except psutil.Error:
        return []


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def leftovers(pids: set[int]) -> list[str]:
    alive = []
    for pid in pids:
        try:
            p = psutil.Process(pid)
            if p.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{pid} {' '.join(p.cmdline())[:80]}")
        except psutil.Error:
            pass
    return alive


def compare(quiet, got, victims: set[str]) -> list[str]:
    problems = []
    for student, tests in quiet.items():
        if student not in got:
            problems.append(f"{student}: missing")
            continue
        for name, (score, _) in tests.items():
            g_score, g_out = got[student].get(name, (None, ""))
            if g_score == score:
                continue
            killed = any(w in g_out for w in ("signal 9", "SIGKILL", "kernel died"))
            if killed and (student in victims or "?" in victims):
                continue  # the harness killed the fork running this case
            problems.append(f"{student} {name}: {g_score} instead of {score}: "
                            + " ".join(g_out.split())[:400])
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--hogs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-faults", action="store_true", help="load only, no killing")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    class_root = work / "class"
    names = make_class(class_root)
    digest = tree_digest(class_root)
    env = {**os.environ, "GRADER_SECRET": "soak-secret"}
    scratch_before = set(Path(tempfile.gettempdir()).glob("grader-scratch-*"))

    started = time.time()
    rc, out, _, _ = run_batch(class_root, work / "quiet", env, None, "", rng)
    quiet = verdicts(work / "quiet")
    print(f"quiet run: exit {rc}, {len(quiet)} students in {time.time() - started:.1f} s")
    if rc != 0 or len(quiet) != len(names):
        print(out[-3000:])
        return 1

    hogs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(args.hogs)]
    totals = {"runs": 0, "students": 0, "fork kills": 0, "fork server kills": 0,
              "batch kills": 0, "re-runs for grader errors": 0, "failures": 0}
    try:
        for run in range(args.runs):
            results = work / f"run{run}"
            kill_batch = "" if args.no_faults or run % 2 == 0 else rng.choice(
                ["SIGTERM", "SIGKILL"])
            t0 = time.time()
            rc, out, faults, seen = run_batch(class_root, results, env,
                                              None if args.no_faults else rng.randrange(1 << 30),
                                              kill_batch, rng)
            problems = []
            if faults.batch:  # resume: the same command again, untouched
                expected_rc = {"SIGTERM": 143, "SIGKILL": -9}[faults.batch]
                if rc not in (expected_rc, 0):
                    problems.append(f"killed batch exited {rc}")
                if faults.batch == "SIGTERM" and rc == 143 and "Run the same command" not in out:
                    problems.append("no resume message after SIGTERM")
                rc, out, more, seen2 = run_batch(class_root, results, env, None, "", rng)
                seen |= seen2
            if "grader errors" in out:
                # Cases the machinery failed on (retried, then not charged): the batch says
                # a re-run grades them again, and so does the harness.
                totals["re-runs for grader errors"] += 1
                rc, out, _, seen2 = run_batch(class_root, results, env, None, "", rng)
                seen |= seen2
            if rc != 0:
                problems.append(f"batch exited {rc}: {out[-500:]}")
            failures = re.search(r"grader failures (\d+)", out)
            if not failures or int(failures.group(1)) or "grader errors" in out:
                problems.append("grader failures: " + out[out.find("grader fail"):][:300])
            got = verdicts(results)
            problems += compare(quiet, got, faults.victims)
            if tree_digest(class_root) != digest:
                problems.append("the class folder changed")
            time.sleep(0.5)  # the processes' last exits
            problems += [f"left behind: {p}" for p in leftovers(seen)]
            stray = set(Path(tempfile.gettempdir()).glob("grader-scratch-*")) - scratch_before
            problems += [f"scratch folder left: {p}" for p in stray]
            for p in stray:
                shutil.rmtree(p, ignore_errors=True)
            totals["runs"] += 1
            totals["students"] += len(names)
            totals["fork kills"] += faults.forks
            totals["fork server kills"] += faults.fork_servers
            totals["batch kills"] += bool(faults.batch)
            totals["failures"] += len(problems)
            print(f"run {run + 1}: {len(got)}/{len(names)} students, {time.time() - t0:.1f} s, "
                  f"killed {faults.forks} fork(s), {faults.fork_servers} fork server(s)"
                  f"{', the batch by ' + faults.batch if faults.batch else ''}; "
                  f"{len(problems)} failure(s)")
            for p in problems:
                print(f"    {p}")
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    print("\n| runs | students per run | load | faults injected | re-runs asked | failures |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| {totals['runs']} | {len(names)} | {args.hogs} CPU hogs on {os.cpu_count()} cores "
          f"| {totals['fork kills']} student forks, {totals['fork server kills']} fork servers, "
          f"{totals['batch kills']} batches (SIGTERM/SIGKILL) "
          f"| {totals['re-runs for grader errors']} | {totals['failures']} |")
    shutil.rmtree(work, ignore_errors=True)
    return 1 if totals["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())

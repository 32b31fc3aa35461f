"""Driver benchmark (issue 28): how many students per second a cluster batch's driver sustains.

The real driver code (``batch.run_batch`` with ``cluster.driver.DaskRunner``: each student's
folder collected, packed and sent, the result received, results.json, report.html with its
pictures, the gradebook) is fed the recorded results of a real class: workers of a real Dask
scheduler (their own processes, as docs/cluster.md starts them) return stored results instead
of grading, finished by the same worker-side code as a grading worker (``worker.finish_here``),
so the driver alone sets the pace. Reports students per second and the driver's CPU per student (its own process:
the scheduler and the workers are measured apart).

The recording: a generated class (bench/make_class.py: correct, partly wrong, crashing,
looping) graded once for real on the local pool, kept in bench/out/driver_record_N.pkl. The
class the driver reads: ``--students`` folders, copies of the recorded students, round robin.
Usage: python bench/bench_driver.py [--students 1000] [--record 24] [--workers 4]
       [--pictures failing|all|none] [--unshared-pictures] [--profile]
"""
from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import os
import pickle
import pstats
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT / "bench"))
from make_class import make_class  # noqa: E402

from distributed import Client, WorkerPlugin  # noqa: E402

from grader.course.loader import load_course  # noqa: E402
from grader.course.fingerprint import grader_version  # noqa: E402
from grader.grade import Session  # noqa: E402
from grader.instructor.batch import discover, run_batch  # noqa: E402
from grader.instructor.cluster import payload as wire  # noqa: E402
from grader.instructor.cluster import worker as dask_side  # noqa: E402
from grader.instructor.cluster.driver import DaskRunner  # noqa: E402
from grader.instructor.gradebook import Gradebook  # noqa: E402
from grader.instructor.progress import Progress  # noqa: E402
from grader.worker.pool import WorkerPool  # noqa: E402


def record(n: int) -> tuple[Path, dict]:
    """A real class of ``n`` graded once on the local pool: its folder and its results."""
    klass, stored = OUT / f"driver_record_class_{n}", OUT / f"driver_record_{n}.pkl"
    if stored.is_file() and klass.is_dir():
        try:
            return klass, pickle.loads(stored.read_bytes())
        except (ImportError, AttributeError, pickle.UnpicklingError):
            pass  # recorded by an engine whose classes have moved since: recorded again
    print(f"recording: grading a generated class of {n} for real (once)...", flush=True)
    make_class(klass, n)
    results = OUT / "driver_record_results"
    shutil.rmtree(results, ignore_errors=True)
    book = Gradebook(results / "gradebook.sqlite")
    with WorkerPool(size=2) as pool:
        session = Session(pool, load_course(), secret="bench-driver", max_timeout=3.0,
                          one_fork_per_student=True)
        outcome = run_batch(session, discover(klass), book, results, parallel=3,
                            pictures="none", progress=Progress(n, io.StringIO()))
    book.close()
    graded = {r.student: wire.detach(r) for r in outcome.graded}
    stored.write_bytes(pickle.dumps(graded))
    return klass, graded


def big_class(recorded: Path, names: list[str], n: int) -> tuple[Path, dict[str, str]]:
    """``n`` student folders, copies of the recorded ones in turn; which one each copies."""
    klass = OUT / f"driver_class_{n}_{len(names)}"
    which = {f"s{i:05d}": names[i % len(names)] for i in range(n)}
    if not klass.is_dir() or len(list(klass.iterdir())) != n:
        shutil.rmtree(klass, ignore_errors=True)
        for name, template in which.items():
            shutil.copytree(recorded / template, klass / name)
    return klass, which


class ReplayPlugin(WorkerPlugin):
    """A worker that returns the stored result of the student a folder copies, finished as a
    grading worker finishes its results (``worker.finish``), instead of grading."""

    idempotent = False

    def __init__(self, results: dict, which: dict[str, str], pictures: str, shared: bool,
                 version: str):
        self.results, self.which, self.pictures = results, which, pictures
        self.shared, self.version = shared, version

    def setup(self, worker) -> None:
        self.course = load_course(ROOT / "reference")
        if not self.shared:
            unshared_pictures()

    def grade(self, name: str, files, decided=None):
        result = dataclasses.replace(self.results[self.which[name]], student=name)
        wire.attach(result, self.course)  # as graded here: pictures draw from the checks
        return dask_side.finish_here(result, self.version, self.pictures)


def unshared_pictures() -> None:
    """Every student's pictures drawn for them: in a class of copies, the pictures of a
    wrong output would otherwise be drawn once per recorded student and then reused."""
    from grader.report import html as html_report
    html_report.DRAWN_MAX = 0


class ReplayRunner(DaskRunner):
    """The real runner, whose workers get the replay plugin instead of the grader's."""

    def __init__(self, client, session, plugin: ReplayPlugin):
        super().__init__(client, session)
        self.plugin = plugin

    def prepare(self) -> None:
        self.client.wait_for_workers(1, timeout=60)
        self.full_course = load_course(self.course[0].course_root)
        self.client.register_plugin(self.plugin, name=dask_side.PLUGIN)

    def as_completed(self, futures):
        """Every result made before the first is taken: from then on the driver alone sets
        the pace (``self.ready``: when, in wall and CPU seconds)."""
        from distributed import wait
        wait([f for f in futures if hasattr(f, "key")])
        self.ready = (time.perf_counter(), time.process_time())
        yield from super().as_completed(futures)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cluster(workers: int) -> tuple[str, list[subprocess.Popen]]:
    dask = str(Path(sys.executable).parent / "dask")
    address = f"tcp://127.0.0.1:{_port()}"
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=OUT)
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port",
                               address.rsplit(":", 1)[1], "--dashboard-address", ":0",
                               "--no-show"], **quiet)]
    procs += [subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--no-nanny",
                                "--host", "127.0.0.1", "--dashboard-address", ":0"], **quiet)
              for _ in range(workers)]
    return address, procs


def cpu(proc: subprocess.Popen) -> float:
    try:
        t = psutil.Process(proc.pid).cpu_times()
        return t.user + t.system
    except psutil.Error:
        return 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=1000)
    ap.add_argument("--record", type=int, default=24, help="students graded for real, once")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--pictures", default="failing", choices=["failing", "all", "none"])
    ap.add_argument("--unshared-pictures", action="store_true",
                    help="draw every student's pictures (a class of distinct wrong outputs)")
    ap.add_argument("--profile", action="store_true", help="the driver's 25 costliest calls")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    recorded, results = record(args.record)
    klass, which = big_class(recorded, sorted(results), args.students)
    failing = sum(any(c.score < c.max_score for c in results[t].checks())
                  for t in which.values())
    print(f"class of {args.students} copies of {len(results)} recorded students "
          f"({failing} with a check that lost points); {args.workers} replay workers")
    address, procs = start_cluster(args.workers)
    out = OUT / "driver_results"
    shutil.rmtree(out, ignore_errors=True)
    try:
        client = Client(address, timeout=60)
        client.wait_for_workers(args.workers, timeout=120)
        session = Session(WorkerPool(size=0), load_course(), secret="bench-driver",
                          one_fork_per_student=True)
        runner = ReplayRunner(client, session, ReplayPlugin(
            results, which, args.pictures, not args.unshared_pictures,
            grader_version(session.course[0].course_root)))
        if args.unshared_pictures:
            unshared_pictures()
        book = Gradebook(out / "gradebook.sqlite")
        others = [cpu(p) for p in procs]
        profiler = cProfile.Profile() if args.profile else None
        wall, own = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        outcome = run_batch(session, discover(klass), book, out, force=True, runner=runner,
                            pictures=args.pictures, progress=Progress(args.students,
                                                                      io.StringIO()))
        if profiler:
            profiler.disable()
        end = (time.perf_counter(), time.process_time())
        wall, own = end[0] - wall, end[1] - own
        loop = [b - a for a, b in zip(runner.ready, end)]
        others = [cpu(p) - before for p, before in zip(procs, others)]
        book.close()
        client.close()
    finally:
        for p in procs:
            p.kill()
            p.wait()
    n = len(outcome.graded)
    assert n == args.students and not outcome.failed, (n, outcome.failed[:3])
    pages = len(list(out.glob("*/report.html")))
    print(f"whole batch: {n / wall:.1f} students/s ({wall:.1f} s for {n}, the workers' pace "
          f"included), driver CPU {own:.1f} s = {own / n * 1000:.1f} ms per student "
          f"({pages} pages)")
    print(f"the driver alone, every result waiting: {n / loop[0]:.1f} students/s, CPU "
          f"{loop[1] / n * 1000:.1f} ms per student to receive and save; collecting and "
          f"sending before: {(own - loop[1]) / n * 1000:.1f} ms per student")
    print(f"scheduler CPU {others[0] / n * 1000:.1f} ms per student; replay workers "
          f"{sum(others[1:]) / n * 1000:.1f} ms per student in all")
    if profiler:
        stats = io.StringIO()
        pstats.Stats(profiler, stream=stats).sort_stats("tottime").print_stats(25)
        print(stats.getvalue())


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()

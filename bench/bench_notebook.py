"""A notebook against the same code as a .py (issue 4): the cost of grading a notebook.

The reference solutions are graded as five .py files and as the five lesson notebooks made
from them (same code, plus markdown and check cells), through one warm fork server: a
notebook runs under nbclient in a kernel forked from it. Then, for comparison, the same
notebooks run by nbclient the usual way, each in a freshly started kernel.
Usage: python bench/bench_notebook.py
"""
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.course.loader import strip_markers
from grader.course.stubs import reference_notebook  # noqa: E402
from grader.course.loader import load_course  # noqa: E402

COURSE = load_course()
from grader.grade import Session  # noqa: E402
from grader.worker.pool import WorkerPool  # noqa: E402


def main() -> None:
    work = Path(tempfile.mkdtemp())
    for kind in ("py", "ipynb"):
        for a in COURSE:
            folder = work / kind / a.folder
            folder.mkdir(parents=True)
            ref = ROOT / "reference"
            text = strip_markers((ref / a.folder / f"{a.module}.py").read_text()) \
                if kind == "py" else reference_notebook(a)
            (folder / f"{a.module}.{kind}").write_text(text)
    pool = WorkerPool(1)
    pool.wait_ready()
    print("per assignment, median of 5 (one warm fork server):")
    totals = {}
    for a in COURSE:
        session = Session(pool, (a,), secret="x", one_fork_per_student=True)
        session.warm_expected()
        row = {}
        for kind in ("py", "ipynb"):
            times = []
            for _ in range(5):
                start = time.perf_counter()
                result = session.grade(work / kind)
                times.append(time.perf_counter() - start)
                assert result.score == a.points, (kind, a.folder)
            row[kind] = statistics.median(times)
            totals[kind] = totals.get(kind, 0) + row[kind]
        print(f"  {a.folder:<20} .py {row['py'] * 1000:7.0f} ms   .ipynb "
              f"{row['ipynb'] * 1000:7.0f} ms   difference {(row['ipynb'] - row['py']) * 1000:+5.0f} ms")
    print(f"  whole course         .py {totals['py'] * 1000:7.0f} ms   .ipynb "
          f"{totals['ipynb'] * 1000:7.0f} ms")
    pool.close()
    print("for comparison, nbclient's usual way (a fresh kernel process per notebook), cells "
          "only, no grading, median of 3:")
    import nbclient
    import nbformat
    for a in COURSE:
        times = []
        for _ in range(3):
            nb = nbformat.read(work / "ipynb" / a.folder / f"{a.module}.ipynb", 4)
            start = time.perf_counter()
            nbclient.NotebookClient(nb, kernel_name="python3", timeout=120,
                                    skip_cells_with_tag="self-check").execute()
            times.append(time.perf_counter() - start)
        print(f"  {a.folder:<20} fresh kernel {statistics.median(times) * 1000:7.0f} ms")


if __name__ == "__main__":
    main()

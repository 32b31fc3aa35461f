"""The worker pool's speed-ups must not change what a student's code sees (issue 6)."""
import numpy as np

from grader import wire
from grader.worker.pool import Call, Job, ModuleCalls, WorkerPool

MUTATES = '''
def total_then_spoil(x):
    out = float(x.sum())
    x[:] = -1.0  # in place: the next call must not see this
    return out
'''


def test_inputs_sent_once_then_by_key_reach_every_call_unspoiled(tmp_path):
    (tmp_path / "m.py").write_text(MUTATES)
    inputs = wire.Raw({"args": [np.ones(4)]})
    calls = [Call("call", "total_then_spoil", {}, seed=1, timeout=10.0, encoded_inputs=inputs)
             for _ in range(3)]
    job = Job([ModuleCalls(str(tmp_path / "m.py"), "m", calls)], str(tmp_path))
    with WorkerPool(size=1) as pool:
        runs = [pool.run(job) for _ in range(3)]  # sent in full once, then by key
        holds = pool._all[0].holds
    assert holds == {inputs.key}
    for out in runs:
        results = out.modules[0].results
        assert [r["status"] for r in results] == ["ok"] * 3, results
        assert len({repr(r["output"]) for r in results}) == 1, results  # all saw 4 ones
        assert out.forks == 1


def test_a_server_warmed_for_numpy_only_still_grades_a_notebook_and_counts_cpu(tmp_path):
    """Fork servers import only what a run needs (issue 16); a notebook that arrives anyway
    gets its machinery loaded before the fork (a confined child cannot read it), and the CPU
    the student's forks used comes back for benchmarks."""
    from grader.course import load_course
    from grader.grade import Session
    from grader.instructor.assign import reference_notebook
    from grader.worker.pool import Warm
    a = load_course().assignment("01_gradient_descent")
    folder = tmp_path / "s" / a.folder
    folder.mkdir(parents=True)
    (folder / f"{a.module}.ipynb").write_text(reference_notebook(a))
    with WorkerPool(1, warm=Warm(torch=False, notebooks=False)) as pool:
        result = Session(pool, (a,), secret="x").grade(tmp_path / "s")
    assert result.score == a.points, [c.message for ch in result.checks() for c in ch.cases]
    assert result.cpu > 0

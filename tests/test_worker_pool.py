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

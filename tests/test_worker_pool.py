"""The worker pool's speed-ups must not change what a student's code sees (issue 6)."""
import numpy as np
import pytest

from grader.worker import wire
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
    calls = [Call("call", "total_then_spoil", {}, seed=1, timeout=10.0, encoded_inputs=inputs,
                  shared=True)
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


HELD = '''
import sys

def held(x):
    return sorted(sys.modules["grader.worker.student"].HELD_INPUTS)
'''


def test_only_a_course_cases_inputs_are_kept_for_later_forks(tmp_path):
    """Inputs made from one student's outputs (the own-loop rule's points) are sent in full
    and kept by no forker: a later student's fork, a copy of the forker, never holds them."""
    (tmp_path / "m.py").write_text(MUTATES + HELD)
    course = wire.Raw({"args": [np.ones(4)]})
    theirs = wire.Raw({"args": [np.full(4, 7.0)]})
    first = Job([ModuleCalls(str(tmp_path / "m.py"), "m", [
        Call("call", "total_then_spoil", {}, seed=1, timeout=10.0, encoded_inputs=course,
             shared=True),
        Call("call", "total_then_spoil", {}, seed=1, timeout=10.0, encoded_inputs=theirs)])],
        str(tmp_path))
    later = Job([ModuleCalls(str(tmp_path / "m.py"), "m", [
        Call("call", "held", {"args": [0]}, seed=1, timeout=10.0)])], str(tmp_path))
    with WorkerPool(size=1) as pool:
        assert [r["status"] for r in pool.run(first).modules[0].results] == ["ok", "ok"]
        pool.run(later)  # forked before the first's notice was read: the one after is asked
        out = pool.run(later)
        holds = pool._all[0].holds
    keys = [item["value"] for item in out.modules[0].results[0]["output"]["result"]["items"]]
    assert course.key in keys and theirs.key not in keys
    assert holds == {course.key}


def test_a_hidden_case_with_a_public_cases_inputs_gets_them_once_they_are_kept(tmp_path):
    """A hidden case whose inputs are a public case's (same key): once the forker keeps the
    public ones, the hidden call's still travel in full, later (they once became None: the
    student's call failed, charged)."""
    (tmp_path / "m.py").write_text(MUTATES)
    same = wire.Raw({"args": [np.ones(4)]})
    calls = [Call("call", "total_then_spoil", {}, seed=1, timeout=10.0, encoded_inputs=same,
                  shared=True),
             Call("call", "total_then_spoil", {}, seed=1, timeout=10.0, encoded_inputs=same,
                  shared=True, hidden=True)]
    job = Job([ModuleCalls(str(tmp_path / "m.py"), "m", calls)], str(tmp_path))
    with WorkerPool(size=1) as pool:
        runs = [pool.run(job) for _ in range(3)]  # the third's fork holds them
    for out in runs:
        assert [r["status"] for r in out.modules[0].results] == ["ok", "ok"], out.modules
        assert {repr(r["output"]) for r in out.modules[0].results} == \
            {repr(runs[0].modules[0].results[0]["output"])}


def test_a_server_warmed_for_numpy_only_still_grades_a_notebook_and_counts_cpu(tmp_path):
    """Fork servers import only what a run needs (issue 16); a notebook that arrives anyway
    gets its machinery loaded before the fork (a confined child cannot read it), and the CPU
    the student's forks used comes back for benchmarks."""
    from grader.course.loader import load_course
    from grader.grade import Session
    from grader.course.stubs import reference_notebook
    from grader.worker.pool import Warm
    a = load_course().assignment("01_gradient_descent")
    folder = tmp_path / "s" / a.folder
    folder.mkdir(parents=True)
    (folder / f"{a.module}.ipynb").write_text(reference_notebook(a))
    with WorkerPool(1, warm=Warm(torch=False, notebooks=False)) as pool:
        result = Session(pool, (a,), secret="x").grade(tmp_path / "s")
    assert result.score == a.points, [c.message for ch in result.checks() for c in ch.cases]
    assert result.cpu > 0


ADD_ONE = "import torch\n\ndef f(x):\n    return float(torch.tensor(x) + 1)\n"


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _job(tmp_path, n=3):
    (tmp_path / "m.py").write_text(ADD_ONE)
    calls = [Call("call", "f", {"args": [i]}, seed=1, timeout=10.0) for i in range(n)]
    return Job([ModuleCalls(str(tmp_path / "m.py"), "m", calls)], str(tmp_path))


def _values(out):
    return [r["output"]["result"]["value"] for r in out.modules[0].results]


def test_a_pool_forks_its_servers_from_one_template_and_leaves_nothing_behind(tmp_path):
    """Torch is imported once for a pool, not once per server (issue 16)."""
    import os
    with WorkerPool(size=2) as pool:
        pool.wait_ready()
        template = pool._template.proc.pid
        servers = [z.proc.pid for z in pool._all]
        assert len(servers) == 2 and {_parent(pid) for pid in servers} == {template}
        assert _values(pool.run(_job(tmp_path))) == [1.0, 2.0, 3.0]
    assert not any(os.path.exists(f"/proc/{pid}") for pid in [template, *servers])


def test_a_template_killed_from_outside_is_started_again_and_no_student_pays(tmp_path):
    """Its servers die with it (a student's fork in them too); the machinery's retry forks a
    fresh server from a fresh template."""
    import os
    import signal
    import time
    with WorkerPool(size=2) as pool:
        pool.wait_ready()
        old = pool._template.proc.pid
        os.kill(old, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while any(z.proc.poll() is None for z in pool._all):  # they die with it
            assert time.monotonic() < deadline, "a fork server outlived its template"
            time.sleep(0.01)
        out = pool.run(_job(tmp_path))
        assert _values(out) == [1.0, 2.0, 3.0]
        assert pool._template.proc.pid != old
        assert _parent(next(z for z in pool._all if not z.dead).proc.pid) == \
            pool._template.proc.pid


PARENTS = "import os\n\ndef f(x):\n    return [os.getpid(), os.getppid()]\n"


def test_each_child_is_the_fork_servers_child_forked_by_its_forker(tmp_path):
    """The server, which reads what students send, forks nothing after its forker; the forker
    forks each child with CLONE_PARENT, so the server waits for it, and its exit status
    (here a segfault, as the student reads it) comes back."""
    import os
    (tmp_path / "m.py").write_text(PARENTS + "\ndef crash(x):\n    os.kill(os.getpid(), 11)\n")
    calls = [Call("call", "f", {"args": [0]}, seed=1, timeout=10.0)]
    crash = [Call("call", "crash", {"args": [0]}, seed=1, timeout=10.0)]
    with WorkerPool(size=2) as pool:
        pool.wait_ready()
        runs = [pool.run(Job([ModuleCalls(str(tmp_path / "m.py"), "m", calls)],
                             str(tmp_path))) for _ in range(4)]
        servers = {z.proc.pid: z.forker for z in pool._all}
        died = pool.run(Job([ModuleCalls(str(tmp_path / "m.py"), "m", crash)], str(tmp_path)))
    seen = [tuple(item["value"] for item in out.modules[0].results[0]["output"]["result"]["items"])
            for out in runs]
    assert len({pid for pid, _ in seen}) == 4  # a fresh child each time
    assert {parent for _, parent in seen} <= set(servers)
    assert all(forker not in servers and forker > 0 for forker in servers.values())
    assert "signal 11" in str(died.modules[0].results[0]), died.modules[0].results[0]


def test_a_forker_killed_from_outside_costs_no_student_anything(tmp_path):
    """Its server cannot fork again: it ends, and the machinery's retry grades the next
    request in a fresh server (never charged to the student)."""
    import os
    import signal
    with WorkerPool(size=1) as pool:
        assert _values(pool.run(_job(tmp_path))) == [1.0, 2.0, 3.0]
        server = pool._all[0]
        os.kill(server.forker, signal.SIGKILL)
        assert _values(pool.run(_job(tmp_path))) == [1.0, 2.0, 3.0]
        assert _values(pool.run(_job(tmp_path))) == [1.0, 2.0, 3.0]
        assert server.proc.poll() is not None  # the server without a forker ended


def test_fork_servers_are_watched_by_pid_where_the_kernel_has_no_pidfd(tmp_path, monkeypatch):
    """Linux before 5.3 has no pidfd_open: the pool still grades, stops and replaces."""
    import os

    def missing(pid):
        raise OSError(38, "Function not implemented")
    monkeypatch.setattr(os, "pidfd_open", missing)
    with WorkerPool(size=2) as pool:
        pool.wait_ready()
        servers = [z.proc.pid for z in pool._all]
        victim = pool._all[0]
        victim.proc.kill()
        assert victim.proc.wait(timeout=10) == victim.proc.ENDED
        victim.dead = True
        assert _values(pool.run(_job(tmp_path))) == [1.0, 2.0, 3.0]
        assert _values(pool.run(_job(tmp_path))) == [1.0, 2.0, 3.0]
    assert not any(os.path.exists(f"/proc/{pid}") for pid in servers)


def test_without_unix_sockets_each_fork_server_starts_alone(tmp_path, monkeypatch):
    """Where no socket pair can be made (a locked-down container), the pool falls back to
    servers that each import torch themselves, and grades as before."""
    import socket

    def refused(*args, **kwargs):
        raise PermissionError(13, "socketpair refused")
    monkeypatch.setattr(socket, "socketpair", refused)
    with WorkerPool(size=2) as pool:
        pool.wait_ready()
        assert pool._template is None and len(pool._all) == 2
        assert _values(pool.run(_job(tmp_path))) == [1.0, 2.0, 3.0]


def _huge_pages_expected() -> str | None:
    """Why this machine cannot collapse memory into huge pages (None where it should)."""
    import os
    import platform
    if not platform.system() == "Linux":
        return "not Linux"
    try:
        if "[never]" in open("/sys/kernel/mm/transparent_hugepage/enabled").read():
            return "transparent huge pages are off ([never])"
    except OSError:
        return "no transparent huge pages in this kernel"
    major, minor = (int(x) for x in os.uname().release.split(".")[:2])
    if (major, minor) < (6, 1):
        return f"kernel {major}.{minor} has no MADV_COLLAPSE (6.1)"
    return None


def _anon_huge_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/smaps_rollup"):
        if line.startswith("AnonHugePages:"):
            return int(line.split()[1])
    return 0


def test_the_template_shares_its_memory_in_huge_pages_so_each_fork_copies_less(tmp_path):
    """Forking a process that holds torch copies a page-table entry per written page; the
    template collapses its memory into 2 MiB pages first (``pages.collapse``), so the servers
    and every fork of theirs inherit far fewer. Where the kernel cannot, nothing changes."""
    why = _huge_pages_expected()
    if why:
        pytest.skip(why)
    with WorkerPool(size=2) as pool:
        pool.wait_ready()
        assert _anon_huge_kib(pool._template.proc.pid) > 32 * 1024
        assert all(_anon_huge_kib(z.proc.pid) > 0 for z in pool._all)  # inherited
        assert _values(pool.run(_job(tmp_path))) == [1.0, 2.0, 3.0]
    with WorkerPool(size=1) as alone:  # one server, no template: it collapses its own
        alone.wait_ready()
        assert _anon_huge_kib(alone._all[0].proc.pid) > 32 * 1024


def test_collapsing_keeps_every_byte_and_a_fork_writes_its_own_copy():
    import os
    import subprocess
    import sys
    why = _huge_pages_expected()
    if why:
        pytest.skip(why)
    script = (
        "import os\n"
        "from grader.worker import pages\n"
        "buf = bytearray(os.urandom(1 << 20) * 48)\n"
        "before = bytes(buf)\n"
        "done = pages.collapse()\n"
        "assert bytes(buf) == before\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    buf[5] ^= 0xFF\n"
        "    os._exit(0 if buf[5] != before[5] else 1)\n"
        "assert os.waitpid(pid, 0)[1] == 0 and bytes(buf) == before\n"
        "print(done >> 20)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) >= 32  # MiB collapsed: at least most of the 48 MiB buffer

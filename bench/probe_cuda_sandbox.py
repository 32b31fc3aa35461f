"""Which confinement layer lets a forked child initialise CUDA? (diagnostic for GPU hosts)

Forks a child per layer combination, applies the layers, then creates a CUDA tensor.
Usage: python bench/probe_cuda_sandbox.py
"""
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
import torch  # noqa: E402

from grader.worker import sandbox  # noqa: E402


def attempt(landlock: bool, seccomp: bool, rlimits: bool, extra_read=(), extra_write=(),
            unix=False) -> None:
    scratch = tempfile.mkdtemp()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            if rlimits:
                sandbox.apply_rlimits(sandbox.Limits(), cap_memory=False)
            if landlock:
                sandbox.apply_landlock(sandbox.readable_roots(scratch, True) + list(extra_read),
                                       sandbox.writable_roots(scratch, True) + list(extra_write))
            if seccomp:
                sandbox.apply_seccomp(allow_unix_sockets=unix)
            x = torch.ones(3, device="cuda")
            msg = f"ok {float(x.sum())}"
        except BaseException as exc:
            msg = f"{type(exc).__name__}: {str(exc)[:200]}"
        os.write(w, msg.encode())
        os._exit(0)
    os.close(w)
    out = os.read(r, 4096).decode()
    os.waitpid(pid, 0)
    print(f"landlock={landlock!s:5} seccomp={seccomp!s:5} rlimits={rlimits!s:5} "
          f"read+={list(extra_read)} write+={list(extra_write)} unix={unix}: {out}")


if __name__ == "__main__":
    print("features:", sandbox.probe_features())
    attempt(False, False, False)
    attempt(True, False, False)
    attempt(False, True, False, unix=False)
    attempt(False, True, False, unix=True)
    attempt(True, True, True, unix=True)

"""The command line: results.json in Gradescope's schema, one-line errors, exit codes."""
import json
import subprocess
import sys

import pytest
import torch

from conftest import ROOT


def run_cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=300, **kw)


def test_grade_writes_gradescope_results_and_a_report(tmp_path):
    proc = run_cli("grade", "demo", "--results", str(tmp_path), "--device", "cpu",
                   "--assignment", "01_gradient_descent", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    assert "gradient_descent" in proc.stdout and "leaves the reference at step 1" in proc.stdout
    data = json.loads((tmp_path / "demo" / "results.json").read_text())
    assert data["score"] == 15
    names = [t["name"] for t in data["tests"]]
    assert names[0] == "01_gradient_descent/predict"
    for t in data["tests"]:
        assert {"name", "score", "max_score", "output", "visibility"} <= set(t)
        assert t["name"].startswith("01_gradient_descent/")
    assert data["extra_data"]["device"] == "cpu"
    seeds = [c["seed"] for t in data["tests"] for c in t["extra_data"]["cases"]]
    assert all(isinstance(s, int) for s in seeds)


def test_unknown_student_is_one_line_and_exit_2():
    proc = run_cli("grade", "no-such-student")
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: no student folder")
    assert "Traceback" not in proc.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_one_clear_line():
    proc = run_cli("grade", "demo", "--device", "cuda")
    assert proc.returncode == 2
    assert "CUDA is not available" in proc.stderr and "Traceback" not in proc.stderr

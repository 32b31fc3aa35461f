"""CUDA grading reaches the CPU's verdicts (issue 9). Skipped cleanly without CUDA."""
import json
import subprocess
import sys

import pytest
import torch

from conftest import ROOT, broken, messages, mutate, reference_source

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def test_reference_scores_100_on_cuda(grade):
    result = grade(ROOT / "reference", device="cuda")
    assert result.score == 100, broken(result)
    assert result.device == "cuda"


@pytest.mark.parametrize("student", ["demo", "loops", "reference"])
def test_verdicts_on_cuda_equal_those_on_cpu(grade, fixture_student, student):
    folder = {"demo": ROOT / "submissions" / "demo", "reference": ROOT / "reference"}.get(
        student) or fixture_student(student)
    cpu, cuda = grade(folder, device="cpu"), grade(folder, device="cuda")
    assert {c.test_name: c.score for c in cpu.checks()} == \
        {c.test_name: c.score for c in cuda.checks()}


def test_cpu_tensor_with_gpu_inputs_is_diagnosed_with_the_line(grade, student):
    source = mutate(reference_source("02_autograd"), [(
        "        path.append(p.detach().clone())",
        "        path.append(p.detach().clone() + torch.tensor([0.0, 0.0], dtype=torch.float64))")])
    result = grade(student("02_autograd", source), "02_autograd", device="cuda")
    assert broken(result) == {"optimizer_gd"}
    text = messages(result, "optimizer_gd")
    assert "device=X.device" in text and "autograd_lr.py, line" in text


def test_cli_reports_the_device(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", "demo", "--device", "cuda",
                           "--results", str(tmp_path), "--assignment", "02_autograd"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "on cuda" in proc.stdout
    assert json.loads((tmp_path / "demo" / "results.json").read_text())["extra_data"][
        "device"] == "cuda"

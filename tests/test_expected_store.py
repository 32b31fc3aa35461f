"""Expected values kept on disk (issue 16): believed only with their key and MAC, verdicts
unchanged, and a warm run of `grade` that never imports torch in the grader."""
import json
import shutil
import subprocess
import sys

import numpy as np

from conftest import COURSE, ROOT
from grader.judge.store import ExpectedStore
from grader.grade import Session
from grader.judge.expected import Expected
from grader.worker.pool import WorkerPool

A01 = COURSE.assignment("01_gradient_descent")


def computed(secret="s") -> Expected:
    session = Session(WorkerPool(0), (A01,), secret=secret)
    session.warm_expected()
    return session.expected


def values(expected: Expected) -> dict:
    return {row[:5]: json.loads(row[5]) for row in expected.export()}


def test_a_stored_value_comes_back_equal_and_only_with_its_key(tmp_path):
    original = computed()
    store = ExpectedStore(tmp_path, COURSE.root, "s", "cpu")
    assert store.save_from(original)
    loaded = Expected()
    assert ExpectedStore(tmp_path, COURSE.root, "s", "cpu").load_into(loaded) == \
        len(original.export())
    assert values(loaded) == values(original)
    assert loaded.seconds.keys() == original.seconds.keys()  # time limits stay the same
    # another secret, another device, another course state: another key, nothing believed
    assert ExpectedStore(tmp_path, COURSE.root, "other", "cpu").load_into(Expected()) == 0
    assert ExpectedStore(tmp_path, COURSE.root, "s", "cuda").load_into(Expected()) == 0
    course = tmp_path / "course"
    shutil.copytree(COURSE.root, course, ignore=shutil.ignore_patterns("__pycache__"))
    assert ExpectedStore(tmp_path, course, "s", "cpu").key == store.key
    (course / "01_gradient_descent" / "checks.py").write_text(
        (course / "01_gradient_descent" / "checks.py").read_text() + "\n# edited\n")
    assert ExpectedStore(tmp_path, course, "s", "cpu").key != store.key


def test_an_edited_store_is_not_believed(tmp_path):
    store = ExpectedStore(tmp_path, COURSE.root, "s", "cpu")
    store.save_from(computed())
    raw = json.loads(store.path.read_text())
    body = json.loads(raw["body"])
    body["expected"][0][5] = body["expected"][0][5].replace("1", "2", 1)  # edited by hand
    raw["body"] = json.dumps(body)
    store.path.write_text(json.dumps(raw))
    assert ExpectedStore(tmp_path, COURSE.root, "s", "cpu").load_into(Expected()) == 0
    store.path.write_text("{not json")
    assert ExpectedStore(tmp_path, COURSE.root, "s", "cpu").load_into(Expected()) == 0


def test_an_unwritable_store_costs_nothing(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert not ExpectedStore(blocked / "sub", COURSE.root, "s", "cpu").save_from(computed())


GRADE_AND_SAY_IF_TORCH = """
import json, sys
from grader.cli import main
main(["grade", sys.argv[1], "--results", sys.argv[2], "--pictures", "none"])
print(json.dumps({"torch": "torch" in sys.modules}))
"""


def test_grade_twice_same_verdicts_and_the_second_never_imports_torch(tmp_path):
    """The demo with a second mistake, in torch code: diagnosing it runs the catalogue and
    the reference on varied inputs, whose outputs are stored too."""
    student = tmp_path / "demo"
    shutil.copytree(ROOT / "submissions" / "demo", student)
    lr = student / "02_autograd" / "autograd_lr.py"
    lr.write_text(lr.read_text().replace(".mean()", ".sum()"))
    runs = []
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", GRADE_AND_SAY_IF_TORCH, str(student),
                               str(tmp_path / "results")], cwd=ROOT, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        said = json.loads(proc.stdout.strip().splitlines()[-1])
        result = json.loads((tmp_path / "results" / "demo" / "results.json").read_text())
        runs.append((said, [(t["name"], t["score"], [c["status"] for c in
                                                     t["extra_data"]["cases"]], t["output"])
                            for t in result["tests"]]))
    assert list((tmp_path / "results" / ".expected").glob("expected-*.json"))
    assert runs[0][1] == runs[1][1]
    assert any("N times too large" in output for name, _, _, output in runs[1][1]
               if name == "02_autograd/autograd_gd")
    assert runs[0][0]["torch"] is True  # the first computed the reference's values
    assert runs[1][0]["torch"] is False, "the grader imported torch with every value stored"
    assert np.isfinite([s for _, s, _, _ in runs[1][1]]).all()

"""Generate a class of students across the whole course for the batch benchmark.

Half are correct (three styles), a quarter partly wrong (classic mistakes), the rest crash
(syntax errors, exceptions, missing files) or loop forever in one function.
Usage: python bench/make_class.py OUT [N]
"""
from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from grader.course.loader import strip_markers  # noqa: E402
from grader.course.loader import load_course  # noqa: E402

COURSE = load_course()
from test_grade_course import MISTAKES as COURSE_MISTAKES  # noqa: E402
from test_grade_gradient_descent import MISTAKES as GD_MISTAKES  # noqa: E402

MISTAKES = {"01_gradient_descent": GD_MISTAKES, **COURSE_MISTAKES}
# Correct solutions in other styles: the demo (02-05 are right) and the Python-loop 01.
STYLES = {"01_gradient_descent": [ROOT / "tests" / "submissions" / "loops"],
          **{f: [ROOT / "submissions" / "demo"] for f in
             ("02_autograd", "03_dataset", "04_custom_function", "05_models")}}


def reference(folder: str, module: str) -> str:
    return strip_markers((ROOT / "reference" / folder / f"{module}.py").read_text())


def write(student: Path, folder: str, module: str, text: str) -> None:
    (student / folder).mkdir(parents=True, exist_ok=True)
    (student / folder / f"{module}.py").write_text(text)


def correct(student: Path, rng: random.Random) -> None:
    for a in COURSE:
        source = reference(a.folder, a.module)
        for style in STYLES.get(a.folder, [ROOT / "submissions" / "demo"]):
            candidate = style / a.folder / f"{a.module}.py"
            if candidate.is_file() and rng.random() < 0.5:
                source = candidate.read_text()
        write(student, a.folder, a.module, source)


def partly_wrong(student: Path, rng: random.Random) -> None:
    correct(student, rng)
    for a in rng.sample([a for a in COURSE if a.folder in MISTAKES], 2):
        name = rng.choice(sorted(MISTAKES[a.folder]))
        text = reference(a.folder, a.module)
        for old, new in MISTAKES[a.folder][name][0]:
            text = text.replace(old, new)
        write(student, a.folder, a.module, text)


def crashing(student: Path, rng: random.Random) -> None:
    correct(student, rng)
    a = rng.choice(COURSE)
    kind = rng.choice(["syntax", "raise", "missing"])
    if kind == "missing":
        shutil.rmtree(student / a.folder)
    elif kind == "syntax":
        write(student, a.folder, a.module, reference(a.folder, a.module).replace("):", ")", 1))
    else:
        name = a.checks[0].name
        write(student, a.folder, a.module, reference(a.folder, a.module) +
              f"\n\ndef {name}(*args, **kwargs):\n    raise RuntimeError('oops')\n")


def looping(student: Path, rng: random.Random) -> None:
    correct(student, rng)
    a = rng.choice([a for a in COURSE if a.folder in ("01_gradient_descent", "05_models")])
    name = a.checks[0].name
    write(student, a.folder, a.module, reference(a.folder, a.module) +
          f"\n\ndef {name}(*args, **kwargs):\n    while True:\n        pass\n")


KINDS = {"correct": correct, "partly_wrong": partly_wrong, "crashing": crashing,
         "looping": looping}


def make_class(out: Path, n: int = 100, seed: int = 0, only: str | None = None
               ) -> dict[str, int]:
    """``n`` students in ``out``: the mix above, or every one of kind ``only``."""
    if out.exists():
        shutil.rmtree(out)
    rng = random.Random(seed)
    kinds = [KINDS[only]] if only else \
        ([correct] * 50 + [partly_wrong] * 25 + [crashing] * 15 + [looping] * 10)
    counts: dict[str, int] = {}
    for i in range(n):
        make = kinds[i * len(kinds) // n]
        make(out / f"student{i:03d}", rng)
        counts[make.__name__] = counts.get(make.__name__, 0) + 1
    return counts


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench" / "out" / "class"
    print(make_class(target, int(sys.argv[2]) if len(sys.argv) > 2 else 100))

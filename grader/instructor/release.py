"""The student release: assignments, the grader, public expected values; nothing secret.

``dist/student/`` (and ``dist/student.zip``) holds what a student needs to work and to check
their work, by construction: the stubs and notebooks, the engine without its instructor
package (``grader/instructor/``), the course files a self-check imports (``course.toml``, the
checks, the probes and the helpers they import: ``Course.student_files``) in ``course/``
with the expected values of the public cases, a README and a Makefile whose ``make check``
builds a virtual environment and runs ``python -m grader check``. No reference solution, no
catalogue, no lesson source, no hidden expected value and no secret is ever copied.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..course import Course
from ..fingerprint import ROOT
from ..public import PUBLIC_FILE, build_public

STUDENT_MAKEFILE = """# Your course folder. `make check` checks your work on the public cases.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: check venv

check: $(STAMP)
\t$(VENV)/bin/python -m grader check $(ARGS)

venv: $(STAMP)

$(STAMP): requirements.lock
\t$(PYTHON) -m venv $(VENV)
\t$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.lock
\t@# let notebooks anywhere in this folder `from grader import check`
\t$(VENV)/bin/python -c "import site, sys; open(site.getsitepackages()[0] + '/course.pth', 'w').write(sys.argv[1])" "$(CURDIR)"
\t@touch $(STAMP)
"""

STUDENT_README = """# Your PyTorch course folder

Each assignment is a folder under `assignments/` with a README, a Python file of stubs
(`raise NotImplementedError`) and a notebook with the same exercises. Work in either one:
replace each `raise NotImplementedError` with your code, and keep every name and signature.

## Checking your work

```sh
make check                          # every exercise (the first run builds .venv)
make check ARGS={folder}   # one assignment
make check ARGS={name}     # one exercise
```

or, inside a notebook:

```python
from grader import check
check("{name}")
```

Each check runs your code on the *public* cases and tells you, for every exercise, what
was expected, what your code returned and where they differ (for a trajectory: the first
step that leaves the expected path). Your final grade also uses *hidden* cases with other
data: passing every public case is necessary, not sufficient. Write code that follows the
contract in each README, not code that matches the public numbers.

Your code runs confined while it is graded: it cannot open network connections, start
processes or write outside a scratch folder. Printing is fine and never costs points.
"""

def build_release(target: Path, course: Course, assignments: Path) -> Path:
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copytree(assignments, target / "assignments",
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    shutil.copytree(ROOT / "grader", target / "grader",
                    ignore=lambda folder, names: [n for n in names if n == "__pycache__" or (
                        n == "instructor" and Path(folder) == ROOT / "grader")])
    for path in course.student_files():
        dest = target / "course" / path.relative_to(course.root)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, dest)
    (target / "course" / PUBLIC_FILE).write_text(json.dumps(build_public(course)))
    shutil.copy(ROOT / "requirements.lock", target / "requirements.lock")
    (target / "Makefile").write_text(STUDENT_MAKEFILE)
    first = course.assignments[0]
    (target / "README.md").write_text(STUDENT_README.replace("{folder}", first.folder)
                                      .replace("{name}", first.checks[0].name))
    archive = shutil.make_archive(str(target), "zip", root_dir=target.parent, base_dir=target.name)
    return Path(archive)


def find_text(target: Path, archive: Path, text: str) -> str:
    """The first file of the release (its folder, or inside its zip) that holds ``text``
    (what ``release`` checks the secret against), relative to the release; '' if none."""
    import zipfile
    needle = text.encode()
    for path in sorted(target.rglob("*")):
        if path.is_file() and not path.is_symlink() and needle in path.read_bytes():
            return str(path.relative_to(target))
    with zipfile.ZipFile(archive) as z:
        for name in z.namelist():
            if needle in z.read(name):
                return name
    return ""

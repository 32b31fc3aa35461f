"""The student release: assignments, the grader, public expected values; nothing secret.

``dist/student/`` (and ``dist/student.zip``) holds what a student needs to work and to check
their work, by construction: the stubs and notebooks, the engine without its instructor
package (``grader/instructor/``), the course files a self-check imports (``course.toml``, the
checks, the probes and the helpers they import: ``Course.student_files``) in
``grader/_course/`` with the expected values of the public cases, a ``pyproject.toml``, a
README and a Makefile. No reference solution, no catalogue, no lesson source, no hidden
expected value and no secret is ever copied.

The bundle is a package a student installs with one command into whatever environment they
use (``pip install ./student`` or ``pip install student.zip``: a terminal, Jupyter, VS Code,
Colab; Linux, macOS or Windows; Python 3.10 to 3.13). It declares only what checking needs:
NumPy, torch where a check hands out tensors, ``tomli`` on Python 3.10. The course travels
inside the package, so ``from grader import check`` finds it in any kernel of that
environment, from any folder. ``make check`` (where there is ``make``) builds ``.venv`` with
whichever ``python3`` is there and installs the bundle into it.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from grader.course.fingerprint import ROOT, __version__
from grader.course.loader import STUDENT_COURSE, Course
from grader.course.cases import needs_torch
from grader.judge.public import PUBLIC_FILE, build_public

DIST_NAME = "course-selfcheck"
"""The name pip knows the bundle by (``pip uninstall course-selfcheck``)."""

STUDENT_PYPROJECT = """# The self-check of your course, installable with pip: `pip install .` in this folder.
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{version}"
description = "Self-check for {title}"
readme = "README.md"
requires-python = ">={python}"
dependencies = [{dependencies}]

[tool.setuptools]
packages = [{packages}]
include-package-data = false

[tool.setuptools.package-data]
grader = ["{course}/*", "{course}/**/*"]
"""

STUDENT_MAKEFILE = """# Your course folder. `make check` checks your work on the public cases.
# The first run builds .venv with the python3 found here (PYTHON=python3.12 to choose) and
# installs this folder into it; `pip install .` into an environment of your own does the same.
PYTHON ?= $(shell command -v python3 2>/dev/null || command -v python)
VENV := .venv
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: check venv

check: $(STAMP)
\t$(VENV)/bin/python -m grader check $(ARGS)

venv: $(STAMP)

$(STAMP): pyproject.toml
\t@test -n "$(PYTHON)" || { echo "error: no python3 found (set PYTHON=...)"; exit 2; }
\t$(PYTHON) -m venv $(VENV)
\t$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check .
\t@touch $(STAMP)
"""

STUDENT_README = """# {title}

Your course folder. Each assignment is a folder under `assignments/` with a README, a Python
file of stubs (`raise NotImplementedError`) and a notebook with the same exercises. Work in
either one: replace each `raise NotImplementedError` with your code, and keep every name and
signature.

## Installing the self-check (once)

One command, in the environment you work in (a virtual environment, conda, the Python of
your Jupyter or VS Code), from the folder that holds this README:

```sh
pip install .                  # or, from the folder above: pip install ./{dirname}  (or {zipname})
```

It installs the `grader` package and what checking needs: {needs}. Supported: Python
{python_range}{versions}. Linux, macOS and Windows. Installing again (after a new
release) replaces it; `pip uninstall {dist}` removes it.

## Checking your work

**In a terminal** (any OS), from this folder:

```sh
python -m grader check                          # every exercise
python -m grader check {folder}        # one assignment
python -m grader check {exercise}                 # one exercise
python -m grader check --dir path/to/assignments   # your files elsewhere
```

With `make` (Linux, macOS), `make check` does the same in a `.venv` of its own, built on
the first run with the `python3` it finds (`make check PYTHON=python3.12` to choose one;
`make check ARGS={exercise}` for one exercise).

**In a notebook** (Jupyter, JupyterLab, VS Code), in a kernel of the environment where you
installed it (in VS Code: "Select Kernel"):

```python
from grader import check
check("{exercise}")
```

`check` takes your function from the notebook itself: run the cell that defines it first.
Outside a notebook, or for a name the notebook does not define, it reads your `.py` file
under `assignments/`.

**In Google Colab**: upload `{zipname}` (the folder icon on the left, then "Upload"), then
make this the notebook's first cell and run it (again after each restart of the runtime):

```python
!pip install -q {zipname}
```

Colab's own NumPy and torch are used. Then `from grader import check` works as above.

Each check runs your code on the *public* cases and tells you, for every exercise, what
was expected, what your code returned and where they differ (for a trajectory: the first
step that leaves the expected path). Your final grade also uses *hidden* cases with other
data: passing every public case is necessary, not sufficient. Write code that follows the
contract in each README, not code that matches the public numbers.

The self-check runs your code here, on your machine, in its own process: a call past its
time limit is stopped and reported as a timeout, as in grading. When it is graded, your
code runs confined: it cannot open network connections, start processes or write outside a
scratch folder. Printing is fine and never costs points.
"""


def student_packages(grader: Path) -> list[str]:
    """The packages of the shipped engine (folders of Python files, the course aside)."""
    return sorted(".".join(("grader",) + d.relative_to(grader).parts) if d != grader
                  else "grader" for d in {p.parent for p in grader.rglob("*.py")}
                  if STUDENT_COURSE not in d.relative_to(grader).parts)


def _requirements(needs_torch: bool) -> list[str]:
    from grader.worker.selfrun import SUPPORTED
    low = {k: ".".join(map(str, v)) for k, v in SUPPORTED.items()}
    out = [f"numpy>={low['numpy']}"]
    if needs_torch:
        out.append(f"torch>={low['torch']}")
    return out + ['tomli>=1.1; python_version < "3.11"']


def build_release(target: Path, course: Course, assignments: Path) -> Path:
    from grader.worker.selfrun import SUPPORTED
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copytree(assignments, target / "assignments",
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    shutil.copytree(ROOT / "grader", target / "grader",
                    ignore=lambda folder, names: [n for n in names if n == "__pycache__" or (
                        n in ("instructor", STUDENT_COURSE) and Path(folder) == ROOT / "grader")])
    shipped = target / "grader" / STUDENT_COURSE
    for path in course.student_files():
        dest = shipped / path.relative_to(course.root)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, dest)
    public = json.dumps(build_public(course))
    (shipped / PUBLIC_FILE).write_text(public)
    torch_too = needs_torch(course)
    requirements = _requirements(torch_too)
    python = ".".join(map(str, SUPPORTED["python"]))
    digest = hashlib.sha256(public.encode()).hexdigest()[:10]
    (target / "pyproject.toml").write_text(STUDENT_PYPROJECT.format(
        name=DIST_NAME, version=f"{__version__}+{digest}", python=python,
        title=course.title.replace('"', "'"), course=STUDENT_COURSE,
        dependencies=", ".join(json.dumps(r) for r in requirements),
        packages=", ".join(json.dumps(p) for p in student_packages(target / "grader"))))
    (target / "Makefile").write_text(STUDENT_MAKEFILE)
    first = course.assignments[0]
    versions = "".join(f", {r.split('>=')[0]} {r.split('>=')[1]} or newer"
                       for r in requirements[:2])
    (target / "README.md").write_text(STUDENT_README.format(
        title=" ".join(course.title.split()) or "Your course folder",
        dirname=target.name, zipname=f"{target.name}.zip", dist=DIST_NAME,
        folder=first.folder, exercise=first.checks[0].name, python_range=f"{python} to 3.13",
        versions=versions, needs=" and ".join(r.split(">=")[0] for r in requirements[:2])
        + " (and `tomli` on Python 3.10)"))
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

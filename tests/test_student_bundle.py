"""The student bundle installs with pip wherever students work and checks there (issue 30).

- installed into a fresh virtual environment holding only what it declares (torch from this
  machine's wheel), ``python -m grader check`` on the stubs and on correct solutions from
  another folder, and a lesson notebook's check cells run in a kernel of that environment;
- ``make check`` with whichever ``python3`` is found;
- the self-check under a simulated Windows and macOS (no ``resource``, no ``fcntl``, no
  ``ctypes.CDLL(None)``, no fork): a ``.py`` checked from the terminal, a notebook's
  namespace checked with ``check``;
- nothing the bundle ships needs a newer Python than 3.10 (``vermin``), and the NumPy-only
  assignment checked for real on Python 3.10 and 3.13 where pyenv has them;
- versions too old for the self-check are named in one line.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import COURSE, ROOT, reference_source
from grader.instructor.release import DIST_NAME, build_release

INSTRUCTOR_ONLY = ("dask", "distributed", "copydetect", "jinja2", "nbclient", "nbformat",
                   "ipykernel", "jupyter-client", "jupyter_client", "matplotlib", "pyzmq")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    target = tmp_path_factory.mktemp("release") / "student"
    build_release(target, COURSE, ROOT / "assignments")
    return target


def clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA"))}
    env.update(extra)
    return env


def solutions(folder: Path, only: tuple[str, ...] = ()) -> Path:
    for a in COURSE:
        if not only or a.folder in only:
            path = folder / a.folder / f"{a.module}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(reference_source(a.folder))
    return folder


def run(cmd, cwd, timeout=600, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env or clean_env(),
                          capture_output=True, text=True, timeout=timeout)


# --------------------------------------------------------------------------- what it declares
def test_the_bundle_is_a_package_declaring_only_what_checking_needs(bundle):
    import tomllib
    meta = tomllib.loads((bundle / "pyproject.toml").read_text())
    project = meta["project"]
    assert project["name"] == DIST_NAME and project["requires-python"] == ">=3.10"
    names = {d.split(">=")[0].split(";")[0].strip().lower() for d in project["dependencies"]}
    assert names == {"numpy", "torch", "tomli"}
    assert any('python_version < "3.11"' in d for d in project["dependencies"] if "tomli" in d)
    assert not (bundle / "requirements.lock").exists()
    assert "grader.instructor" not in meta["tool"]["setuptools"]["packages"]
    makefile = (bundle / "Makefile").read_text()
    assert "python3.11" not in makefile and "command -v python3" in makefile
    readme = (bundle / "README.md").read_text()
    for words in ("pip install .", "python -m grader check", "from grader import check",
                  "Colab", "!pip install -q student.zip", "Python\n3.10 to 3.13",
                  "numpy 1.24 or newer", "torch 2.0 or newer", "Windows"):
        assert words in readme, words


# --------------------------------------------------------------------------- installed with pip
@pytest.fixture(scope="module")
def installed(bundle, tmp_path_factory):
    """A fresh virtual environment (no system packages) with the bundle installed by pip,
    torch from this machine's own wheel (the constraint pip is given here)."""
    venv = tmp_path_factory.mktemp("student-env") / "venv"
    made = run([sys.executable, "-m", "venv", venv], cwd=bundle)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    # The zip, as Colab installs it (the make test installs the folder).
    pip = run([python, "-m", "pip", "install", "--quiet", "torch==2.13.0",
               bundle.parent / "student.zip"], cwd=bundle,
              timeout=900)
    if pip.returncode != 0 and "No matching distribution" in pip.stderr:
        pytest.skip(f"the student's dependencies cannot be installed here: {pip.stderr[-300:]}")
    assert pip.returncode == 0, pip.stderr[-3000:]
    return python


@pytest.mark.slow
def test_installed_with_pip_it_holds_nothing_of_the_instructor_side(installed):
    frozen = run([installed, "-m", "pip", "list", "--format=json"], cwd=installed.parent)
    names = {p["name"].lower() for p in json.loads(frozen.stdout)}
    assert DIST_NAME in names and {"numpy", "torch"} <= names
    assert not names & set(INSTRUCTOR_ONLY) - {"jinja2"}  # torch itself needs Jinja2
    assert "nbformat" not in names and "dask" not in names


@pytest.mark.slow
def test_installed_check_grades_stubs_in_the_bundle_and_solutions_from_elsewhere(
        installed, bundle, tmp_path):
    stubs = run([installed, "-m", "grader", "check", "--device", "cpu"], cwd=bundle)
    assert stubs.returncode == 0, stubs.stderr[-3000:]
    assert "Total: 0/100" in stubs.stdout and "not implemented" in stubs.stdout
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    work = solutions(tmp_path / "my work")
    good = run([installed, "-m", "grader", "check", "--device", "cpu", "--dir", work],
               cwd=elsewhere)
    assert good.returncode == 0, good.stderr[-3000:]
    assert "Total: 100/100" in good.stdout, good.stdout[-3000:]
    # The installed package answered, not the bundle's folder: nothing of it is on the path.
    where = run([installed, "-c", "import grader; print(grader.__file__)"], cwd=elsewhere)
    assert "site-packages" in where.stdout


@pytest.mark.slow
def test_a_lesson_notebook_checks_in_a_kernel_of_the_installed_environment(
        installed, bundle, tmp_path):
    """The released lesson notebook of the first assignment, with its solutions filled in
    and its check cells run (as a student runs them), in a kernel of the student's
    environment started from a folder that is not the bundle."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    kernel = run([installed, "-m", "pip", "install", "--quiet", "ipykernel"], cwd=tmp_path,
                 timeout=600)
    if kernel.returncode != 0:
        pytest.skip(f"ipykernel cannot be installed here: {kernel.stderr[-300:]}")
    spec = tmp_path / "kernels" / "kernels" / "student"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(installed), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "student", "language": "python"}))
    a = COURSE.assignments[0]
    nb = nbformat.read(bundle / "assignments" / a.folder / f"{a.module}.ipynb", 4)
    checks = [c for c in nb.cells if c.cell_type == "code" and "check(" in c.source]
    assert checks, "the lesson notebook has check cells"
    solved = []
    for cell in nb.cells:  # the student's code written before each check cell
        if any(cell is c for c in checks):
            solved.append(nbformat.v4.new_code_cell(reference_source(a.folder)))
        solved.append(cell)
    nb.cells = solved
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_env(JUPYTER_PATH=str(tmp_path / "kernels"))
    old = dict(os.environ)
    os.environ.update(JUPYTER_PATH=env["JUPYTER_PATH"])
    try:
        nbclient.NotebookClient(nb, timeout=300, kernel_name="student", resources={
            "metadata": {"path": str(elsewhere)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    shown = [o for c in checks for o in c.outputs if o.get("output_type") == "execute_result"]
    assert len(shown) == len(checks)
    for out in shown:
        counts = re.search(r"(\d+)/(\d+) public cases pass", out["data"]["text/plain"])
        assert counts and counts[1] == counts[2] != "0", out["data"]["text/plain"][:500]
    assert not [o for c in nb.cells for o in c.get("outputs", [])
                if o.get("output_type") == "error"]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("make") is None or shutil.which("python3") is None,
                    reason="needs make and a python3")
def test_make_check_uses_whichever_python3_is_there(bundle, tmp_path):
    copy = tmp_path / "student"
    shutil.copytree(bundle, copy)
    solutions(copy / "assignments", only=(COURSE.assignments[0].folder,))
    env = clean_env()
    env.pop("PYTHON", None)
    made = run(["make", "check", "ARGS=--device cpu 01_gradient_descent"], cwd=copy,
               timeout=900, env=env)
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]
    assert "Total: 20/20" in made.stdout, made.stdout[-3000:]


# --------------------------------------------------------------------------- other systems
SIMULATE = r"""
import sys, os, ctypes, importlib.abc
# The standard library as the other system has it, imported first (its own modules branch on
# sys.platform at import); then what only Linux has is taken away.
import subprocess, tempfile, shutil, selectors, socket, signal, threading, asyncio, json
import numpy, torch  # real on every OS
BLOCKED = {"resource", "fcntl", "termios", "pty"}
class NoLinux(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (simulated)", name=name)
sys.meta_path.insert(0, NoLinux())
for name in BLOCKED:
    sys.modules.pop(name, None)
_CDLL = ctypes.CDLL
class CDLL(_CDLL):
    def __init__(self, name, *args, **kwargs):
        if name is None:
            raise TypeError("simulated: no CDLL(None) on this system")
        super().__init__(name, *args, **kwargs)
ctypes.CDLL = CDLL
def no_fork(*a, **k):
    raise OSError("simulated: no fork on this system")
os.fork = no_fork
if PLATFORM == "win32":
    for attr in ("O_NOFOLLOW", "O_DIRECTORY", "O_CLOEXEC", "O_NOCTTY", "statvfs", "wait4",
                 "fork", "setsid", "killpg"):
        if hasattr(os, attr):
            delattr(os, attr)
sys.platform = PLATFORM
from grader.cli import main
from grader import check
code = main(["check", "--device", "cpu", "--dir", WORK, "01_gradient_descent", "02_autograd"])
good = check("predict", {"predict": lambda p, X: p[0] + p[1] * X})
bad = check("predict", {"predict": lambda p, X: p[1] + p[0] * X})
print("NOTEBOOK", good.passed, bad.passed)
assert not {"resource", "fcntl"} & set(sys.modules), sorted({"resource", "fcntl"} & set(sys.modules))
print("EXIT", code)
"""


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_the_self_check_runs_without_anything_linux_only(bundle, tmp_path, platform):
    work = solutions(tmp_path / "work", only=("01_gradient_descent",))
    broken = work / "02_autograd" / "autograd_lr.py"
    broken.parent.mkdir()
    broken.write_text(reference_source("02_autograd").replace("def ", "def _", 1))
    script = f"PLATFORM = {platform!r}\nWORK = {str(work)!r}\n" + SIMULATE
    proc = subprocess.run([sys.executable, "-c", script], cwd=bundle, capture_output=True,
                          text=True, timeout=600, env=clean_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "EXIT 0" in proc.stdout and "NOTEBOOK True False" in proc.stdout
    assert "01_gradient_descent  20/20" in proc.stdout, proc.stdout[-3000:]
    assert "02_autograd" in proc.stdout and "02_autograd  20/20" not in proc.stdout


# --------------------------------------------------------------------------- Python versions
def shipped_python(bundle: Path) -> list[Path]:
    return sorted(p for p in bundle.rglob("*.py") if "__pycache__" not in p.parts)


def test_nothing_shipped_needs_a_python_newer_than_3_10(bundle):
    vermin = shutil.which("vermin", path=str(Path(sys.executable).parent))
    assert vermin, "vermin is pinned in requirements.lock"
    files = shipped_python(bundle)
    assert len(files) > 40
    proc = subprocess.run([vermin, "--target=3.10-", "--violations", "--no-tips",
                           *map(str, files)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_vermin_catches_a_file_that_needs_3_11(tmp_path):
    """The check above can fail: a file importing tomllib unguarded is refused."""
    vermin = shutil.which("vermin", path=str(Path(sys.executable).parent))
    (tmp_path / "new.py").write_text("import tomllib\n")
    proc = subprocess.run([vermin, "--target=3.10-", "--violations", "--no-tips",
                           str(tmp_path / "new.py")], capture_output=True, text=True)
    assert proc.returncode != 0 and "3.11" in proc.stdout


def pyenv_python(version: str) -> Path | None:
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(root.glob(f"{version}.*/bin/python{version}"))
    return found[-1] if found else None


@pytest.mark.slow
@pytest.mark.parametrize("version", ["3.10", "3.13"])
def test_the_numpy_assignment_checks_on_other_pythons(bundle, tmp_path, version):
    """Python 3.10 (tomli for the course file) and 3.13, for real: the bundle installed
    without torch (the NumPy assignment never imports it), then checked."""
    python = pyenv_python(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine")
    venv = tmp_path / "venv"
    assert run([python, "-m", "venv", venv], cwd=tmp_path).returncode == 0
    py = venv / "bin" / "python"
    pip = run([py, "-m", "pip", "install", "--quiet", "--only-binary=:all:", "numpy",
               "tomli"], cwd=tmp_path, timeout=600)
    if pip.returncode != 0:
        pytest.skip(f"NumPy for Python {version} cannot be installed here: {pip.stderr[-300:]}")
    own = run([py, "-m", "pip", "install", "--quiet", "--no-deps", bundle], cwd=tmp_path)
    assert own.returncode == 0, own.stderr[-2000:]
    work = solutions(tmp_path / "work", only=("01_gradient_descent",))
    proc = run([py, "-m", "grader", "check", "01_gradient_descent", "--dir", work],
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Total: 20/20" in proc.stdout, proc.stdout[-3000:]


# --------------------------------------------------------------------------- versions
def test_a_version_too_old_is_named_in_one_line(bundle, monkeypatch):
    import numpy

    from grader.worker import selfrun
    monkeypatch.setattr(numpy, "__version__", "1.19.5")
    line = selfrun.too_old(torch_too=False)
    assert line == ("numpy 1.19.5 is too old for this course's self-check: it needs numpy "
                    ">= 1.24 (pip install -U numpy)")
    monkeypatch.setattr(numpy, "__version__", "2.4.6")
    assert selfrun.too_old(torch_too=False) is None
    code = textwrap.dedent("""
        import numpy, sys
        numpy.__version__ = "1.19.5"
        from grader.cli import main
        sys.exit(main(["check", "--device", "cpu", "01_gradient_descent"]))""")
    proc = subprocess.run([sys.executable, "-c", code], cwd=bundle, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {line}"

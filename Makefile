# Thin wrappers over `python -m grader`; the virtual environment is built on first use.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STUDENT ?= demo
DEVICE ?= auto
ARGS ?=
# COURSE=path/to/course: every command works on that course folder (default: reference/).
COURSE ?=
C := $(if $(COURSE),--course $(COURSE))

.PHONY: venv grade grade-all similarity check validate test test-slow browser assignments release gradescope export feedback override history bench clean

venv: $(STAMP)

# The pinned dependencies, then the grader itself, editable (no download: it builds with the
# pinned setuptools): `.venv/bin/python -m grader`, `.venv/bin/dask worker` import it from any
# directory, with no PYTHONPATH.
$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (set PYTHON=...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

grade: $(STAMP)
	$(PY) -m grader grade $(STUDENT) --device $(DEVICE) $(C) $(ARGS)

# DRY_RUN=1: who a regrade would grade and why (the submission, the grader or the course
# changed...), nothing written.
grade-all: $(STAMP)
	$(PY) -m grader batch submissions --device $(DEVICE) $(C) $(if $(CLUSTER),--cluster $(CLUSTER)) $(if $(SIMILARITY),--similarity) $(if $(DRY_RUN),--dry-run) $(ARGS)

similarity: $(STAMP)
	$(PY) -m grader similarity $(C) $(ARGS)

check: $(STAMP)
	$(PY) -m grader check $(C) $(ARGS)

# The course tests itself: reference, stubs, catalogue, case makers, pictures, lessons.
validate: $(STAMP)
	$(PY) -m grader validate --device $(DEVICE) $(C) $(ARGS)

export: $(STAMP)
	$(PY) -m grader export $(C) $(ARGS)

# A semester (docs/semester.md): each student's feedback folder and Canvas's re-upload zip;
# an override (ARGS="STUDENT TEST --score X --reason '...'"); a student's history.
feedback: $(STAMP)
	$(PY) -m grader feedback $(C) $(ARGS)

override: $(STAMP)
	$(PY) -m grader override $(C) $(ARGS)

history: $(STAMP)
	$(PY) -m grader history $(C) $(ARGS)

assignments: $(STAMP)
	$(PY) -m grader assign $(C) $(ARGS)

gradescope: $(STAMP)
	$(PY) -m grader gradescope $(C)

release: $(STAMP)
	$(PY) -m grader release dist/student $(C) $(ARGS)

test: $(STAMP) browser
	$(PY) -m pytest -q -m "not slow" tests $(ARGS)

# What `make test` leaves out: tests marked slow (a student bundle installed into fresh
# environments, minutes each).
test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow tests $(ARGS)

# The report test opens pages in a real headless Chromium (Debian's package). Installed when
# missing and possible (root with apt); otherwise that one test says why it skipped.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "note: chromium not installed; the browser test will be skipped"; }

bench: $(STAMP)
	$(PY) bench/bench_grade.py

clean:
	rm -rf results dist

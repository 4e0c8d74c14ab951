# cnn-course: every target bootstraps .venv by itself, so on a fresh machine
# `make demo` and `make test` are all the set-up there is.

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# nbgrader runs `alembic` from PATH when it creates a gradebook: the venv's bin goes first.
export PATH := $(BIN):$(PATH)
# Tests, grading, the demo and the benchmarks draw off-screen. The lab targets do not get
# this: a notebook's kernel picks the inline backend only when MPLBACKEND is unset.
HEADLESS := MPLBACKEND=Agg

# `make lab` is the student's JupyterLab: jupyter/student is put first on the Jupyter config
# path (JUPYTER_CONFIG_PATH outranks the venv's own config), and its page_config.json and
# jupyter_server_config.json turn nbgrader's instructor extensions off for this launch only.
# `make formgrader` starts the same JupyterLab with them on.
STUDENT_CONFIG := $(CURDIR)/jupyter/student
LAB_ARGS ?=
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
define root_warning
	@if [ "$$(id -u)" = 0 ]; then echo "warning: running as root, so JupyterLab starts with \
	--allow-root: notebook code runs with root's rights (a normal user account is safer)" >&2; fi
endef

.PHONY: demo test test-fast e2e lab formgrader lint sandbox-tools browser-tools bench clean help

help:
	@echo "make demo        - release an assignment, grade the sample class, train a CNN on the digits"
	@echo "make test        - the whole test suite, browser tests included"
	@echo "make test-fast   - the suite without the browser tests (tests/e2e)"
	@echo "make e2e         - only the browser tests: JupyterLab as students start it, in Chromium"
	@echo "make lab         - the student's JupyterLab on notebooks/ (each assignment's student cnnlib)"
	@echo "make formgrader  - the instructor's JupyterLab on the course: nbgrader's formgrader and"
	@echo "                   Create Assignment panel (LAB_ARGS='--port=...' is passed to both labs)"
	@echo "make lint        - ruff"
	@echo "make bench       - the benchmarks in benchmarks/ (slow; prints figures)"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The grader's sandbox uses bubblewrap; install it when we can (root with apt), else the
# grader warns at run time about the protection that is missing.
sandbox-tools:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && apt-get install -y -qq bubblewrap) >/dev/null 2>&1 \
	      || echo "warning: could not install bubblewrap; the grader falls back to weaker isolation"; \
	  else echo "warning: bubblewrap (bwrap) missing; install it for the grader's full sandbox"; fi; }

# The browser tests drive Debian's Chromium with Playwright's Python package (never
# `playwright install`: no browser download). Without Chromium they skip and say why.
browser-tools: $(VENV)/.playwright
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	      >/dev/null 2>&1 || echo "warning: could not install chromium; the browser tests will skip"; \
	  else echo "warning: chromium missing (apt-get install chromium); the browser tests will skip"; fi; }

$(VENV)/.playwright: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet 'playwright>=1.40'
	touch $@

demo: $(VENV)/.installed sandbox-tools
	$(HEADLESS) $(BIN)/cnn-course demo

# Two test processes on two cores: each gets one BLAS thread, or the notebooks' training
# cells oversubscribe the cores (measured: 07's solution 27 s with two BLAS threads per
# process, 12 s with one). The benchmarks and the tests that need two set their own.
ONE_BLAS_THREAD := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

# The end-to-end tests run after the rest, on two workers, one test file each (loadfile):
# the student bundle (a fresh venv from PyPI), `make lab` and `make formgrader`, and the
# Gradescope bundle (its own setup.sh). (xdist 3.8's loadgroup does not group under pytest
# 9.) Both runs always run; the target fails if either failed.
E2E := $(HEADLESS) $(ONE_BLAS_THREAD) $(BIN)/python -m pytest -q -n 2 --dist loadfile -m e2e tests/e2e \
	tests/autograder/test_gradescope.py
FAST := $(HEADLESS) $(ONE_BLAS_THREAD) $(BIN)/python -m pytest -q -n 2 -m 'not e2e'

test: $(VENV)/.installed sandbox-tools browser-tools
	@$(FAST); fast=$$?; $(E2E); e2e=$$?; [ $$fast = 0 ] && [ $$e2e = 0 ]

test-fast: $(VENV)/.installed sandbox-tools
	$(FAST)

e2e: $(VENV)/.installed browser-tools
	$(E2E)

lint: $(VENV)/.installed
	$(BIN)/ruff check .

lab: $(VENV)/.installed
	$(BIN)/cnn-course prepare-lab
	$(root_warning)
	env -u MPLBACKEND JUPYTER_CONFIG_PATH=$(STUDENT_CONFIG)$(if $(JUPYTER_CONFIG_PATH),:$(JUPYTER_CONFIG_PATH)) \
	  $(BIN)/jupyter lab notebooks/ $(ROOT_FLAG) $(LAB_ARGS)

formgrader: $(VENV)/.installed
	$(root_warning)
	@echo "Formgrader: the Nbgrader menu, or http://localhost:PORT/formgrader once it runs"
	env -u MPLBACKEND $(BIN)/jupyter lab $(ROOT_FLAG) $(LAB_ARGS)

bench: $(VENV)/.installed
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(HEADLESS) $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) dist demo-output .pytest_cache .hypothesis

# Neural Networks in Practice: build the book, run the tests, open JupyterLab.
# Every target creates .venv and installs what it needs; a second run reuses it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The CPU wheel of torch lies on local disk on the CI machines; elsewhere pip uses PyPI.
FIND_LINKS := $(if $(wildcard /opt/wheels/torch-*.whl),--find-links /opt/wheels)
# chromium: the browser tests drive Debian's Chromium (Playwright never downloads one).
SYSTEM_PACKAGES := dataset-fashion-mnist chromium
# Tests and the CPU book run the CPU-sized experiments with one BLAS thread.
export NNPRACTICE_SCALE ?= cpu
export OMP_NUM_THREADS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# matplotlib's font cache beside the venv: a cache written by another install (other font paths)
# makes every kernel print findfont warnings to stderr, which the -W book build turns into errors.
export MPLCONFIGDIR := $(CURDIR)/$(VENV)/matplotlib

.PHONY: help install system-deps book test unit lab bench assignments grade clean

help:
	@echo "make book   - install, execute every notebook, build the HTML book"
	@echo "make test   - install, then run every test (library, exercises, notebooks, book build)"
	@echo "make unit   - install, then the fast library and notebook-rule tests only"
	@echo "make lab    - open JupyterLab on the chapters"
	@echo "make bench  - run the benchmarks and print their tables"
	@echo "make assignments          - student notebooks (no solutions, no hidden tests) in assignments/"
	@echo "make grade SUBMISSIONS=dir - autograde dir/<student>/<chapter>.ipynb into grades/"

$(STAMP): pyproject.toml requirements/ci.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q $(FIND_LINKS) torch==2.13.0
	$(BIN)/python -m pip install -q $(FIND_LINKS) -r requirements/ci.txt
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP) system-deps

system-deps:
	@bash scripts/system-deps.sh $(SYSTEM_PACKAGES)

book: install
	@rm -rf _build
	@start=$$(date +%s); \
	$(BIN)/jupyter-book build -W -n --keep-going . || exit 1; \
	echo "Built in $$(( $$(date +%s) - start )) s; size $$(du -sh _build/html | cut -f1)."; \
	echo "Open file://$(CURDIR)/_build/html/index.html"

# Unit tests first (fast), then exercises, notebooks end to end, and the book from clean.
test: install
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/python -m pytest -q --durations=25 tests
	$(BIN)/python -m pytest -q --nbval-lax chapters/

unit: install
	$(BIN)/python -m pytest -q tests -m "not slow"

lab: install
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) chapters/

bench: install
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/time_to_accuracy.py

# Instructors: see book/instructors.md. Student code runs with your rights when graded.
assignments: install
	$(BIN)/python scripts/grading.py release

grade: install
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=dir  (dir/<student>/<chapter>.ipynb)"; exit 2; }
	$(BIN)/python scripts/grading.py grade "$(SUBMISSIONS)" $(GRADE_OPTIONS)

clean:
	rm -rf _build .pytest_cache

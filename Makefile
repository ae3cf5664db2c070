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
# nodejs: the playgrounds' JavaScript trainer (src/nnpractice/widgets/js/) is tested under Node.js.
# bubblewrap: the grader runs each student's code in a sandbox of its own (scripts/sandbox.py).
# postgresql: chapter 11's shared Optuna study on a real database server (tests/test_search_postgres.py starts one).
SYSTEM_PACKAGES := dataset-fashion-mnist chromium nodejs bubblewrap postgresql
# Tests and the CPU book run the CPU-sized experiments with one BLAS thread.
export NNPRACTICE_SCALE ?= cpu
export OMP_NUM_THREADS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# matplotlib's font cache beside the venv: a cache written by another install (other font paths)
# makes every kernel print findfont warnings to stderr, which the -W book build turns into errors.
export MPLCONFIGDIR := $(CURDIR)/$(VENV)/matplotlib

.PHONY: help install system-deps book test unit chapter claims compat lab bench assignments grade release clean

help:
	@echo "make book   - install, execute every notebook, build the HTML book"
	@echo "make test   - install, then every test (library, exercises, seed 1, book build, browser, grading)"
	@echo "make unit   - install, then the fast library and notebook-rule tests and the docstring examples"
	@echo "make chapter N=07         - one chapter: ruff, its notebook rules, seeds 0 and 1, its exercises, the book"
	@echo "make claims SEEDS=\"0 1 2\" [CHAPTERS=\"03 07\"] - chapters top to bottom under each seed, claims included"
	@echo "make compat [ONLY=colab] [CHAPTERS=\"03 07\"] - chapters and widget tests under Colab's and other versions (~1.5 h)"
	@echo "make lab    - open JupyterLab on the chapters"
	@echo "make bench  - run the benchmarks and print their tables"
	@echo "make release VERSION=x.y.z - version everywhere, changelog, commit and tag (book and library together)"
	@echo "make assignments [STUDENTS=ids.txt] - student notebooks (no solutions, no hidden tests) in assignments/"
	@echo "make grade SUBMISSIONS=dir - grade dir/<student>/<chapter>.ipynb in a sandbox into grades/ (needs bwrap, root)"

$(STAMP): pyproject.toml requirements/ci.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q $(FIND_LINKS) torch==2.13.0
	$(BIN)/python -m pip install -q $(FIND_LINKS) -r requirements/ci.txt
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# axe-core, the accessibility engine tests/test_accessibility.py runs in Chromium, from npm (pinned by package-lock.json).
NODE_STAMP := node_modules/.package-lock.json
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

install: $(STAMP) system-deps $(NODE_STAMP)

system-deps:
	@bash scripts/system-deps.sh $(SYSTEM_PACKAGES)

book: install
	@rm -rf _build
	@start=$$(date +%s); \
	$(BIN)/jupyter-book build -W -n --keep-going . || exit 1; \
	echo "Built in $$(( $$(date +%s) - start )) s; size $$(du -sh _build/html | cut -f1)."; \
	echo "Open file://$(CURDIR)/_build/html/index.html"

PYTEST := $(BIN)/python -m pytest
# Notebook stages run two notebooks at a time, one per core (each kernel uses one thread).
PARALLEL := -n 2
TIMES := _build/test-times.txt
# $(call stage,NAME,COMMAND): one stage of `make test`; it prints and records its time and result, and the
# stages after a failing one still run (make test fails at the end).
stage = start=$$(date +%s); $(2); status=$$?; \
	printf '%-22s %5d s  %s\n' '$(1)' $$(( $$(date +%s) - start )) $$([ $$status = 0 ] && echo ok || echo FAILED) \
	| tee -a $(TIMES)

# Each notebook executes once per seed: the exercise pass runs every chapter at seed 0 and fills the book's
# cache, the seed stage runs chapters/seeded.txt at seed 1, and the book build only renders.
test: install
	@mkdir -p _build && rm -f $(TIMES)
	@$(call stage,ruff,$(BIN)/ruff check src tests benchmarks scripts)
	@$(call stage,unit,node --test --test-reporter=dot src/nnpractice/widgets/js/test/ && $(PYTEST) -q $(PARALLEL) --dist loadfile -m "not slow" tests)
	@$(call stage,doctests,$(PYTEST) -q --doctest-modules src/nnpractice)
	@$(call stage,exercises+cache,$(PYTEST) -q $(PARALLEL) --durations=8 tests/test_exercises.py)
	@$(call stage,seed 1,( $(PYTEST) -q $(PARALLEL) tests/test_claims.py -k claims_hold; claims=$$?; \
		$(PYTEST) -q $(PARALLEL) tests/test_claims.py tests/test_federated_deploy.py -m slow -k "not claims_hold" && exit $$claims ))
	@$(call stage,book+pages+browser,NNPRACTICE_TEST_TIMES=$(TIMES) $(PYTEST) -q --durations=5 \
		tests/test_book.py tests/test_book_pages.py tests/test_browser.py tests/test_live_playground.py \
		tests/test_accessibility.py)
	@$(call stage,grading,$(PYTEST) -q -rP --durations=8 tests/test_sandbox.py tests/test_grading.py)
	@echo "make test, time by stage:"; cat $(TIMES); ! grep -q FAILED $(TIMES)

unit: install
	node --test --test-reporter=dot src/nnpractice/widgets/js/test/
	$(PYTEST) -q $(PARALLEL) --dist loadfile -m "not slow" tests
	$(PYTEST) -q --doctest-modules src/nnpractice

# One chapter while writing it (N=07): about 3 minutes once the cache holds the other chapters.
STEM = $(notdir $(basename $(wildcard chapters/$(N)_*.ipynb)))
chapter: install
	@test -n "$(STEM)" || { echo "usage: make chapter N=07  (two digits; chapters: $$(ls chapters | grep -o '^[0-9][0-9]' | xargs))"; exit 2; }
	$(BIN)/ruff check src tests benchmarks scripts
	$(PYTEST) -q tests/test_notebooks.py -k "$(STEM)"
	$(PYTEST) -q $(PARALLEL) tests/test_exercises.py tests/test_claims.py -k "$(STEM) and not two_seeds" \
		--chapters $(STEM) --seeds 1
	$(PYTEST) -q tests/test_claims.py -k "two_seeds and $(STEM)"
	@rm -rf _build/html _build/.doctrees _build/jupyter_execute
	@start=$$(date +%s); \
	$(BIN)/jupyter-book build -W -n --keep-going . || exit 1; \
	echo "Book built in $$(( $$(date +%s) - start )) s (chapters unchanged since their last run come from _build/.jupyter_cache)."; \
	echo "Open file://$(CURDIR)/_build/html/chapters/$(STEM).html"

# Claims under any seeds, no book: make claims SEEDS="0 1 2" CHAPTERS="03 07" (default: every chapter).
SEEDS ?= 0 1 2
claims: install
	$(PYTEST) -q $(PARALLEL) tests/test_claims.py -k claims_hold --seeds "$(SEEDS)" --chapters "$(or $(CHAPTERS),all)"

# Every chapter and the widget tests under each configuration of scripts/compat.py's MATRIX (Colab's versions,
# the torch minors pyproject.toml admits, both ipywidgets lines), each in a venv of its own under .compat/;
# the matrix goes to _build/compat/matrix.md. ONLY=colab runs one configuration.
compat: install
	$(BIN)/python scripts/compat.py $(if $(ONLY),--only $(ONLY)) $(if $(CHAPTERS),--chapters $(CHAPTERS))

lab: install
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) chapters/

bench: install
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/time_to_accuracy.py
	$(BIN)/python benchmarks/serving.py

# Instructors: see book/instructors.md. Student code runs in a bubblewrap sandbox (scripts/sandbox.py);
# STUDENTS=ids.txt (one id a line) releases one copy per student of the chapters with per-student variants.
assignments: install
	$(BIN)/python scripts/grading.py release $(if $(STUDENTS),--students "$(STUDENTS)")

grade: install
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=dir  (dir/<student>/<chapter>.ipynb)"; exit 2; }
	$(BIN)/python scripts/grading.py grade "$(SUBMISSIONS)" $(GRADE_OPTIONS)

# The book and its library are released together (scripts/release.py): the version in pyproject.toml, the library,
# every chapter's setup cell and the book's footer, a CHANGELOG.md section, a commit and the tag v$(VERSION).
release: install
	@test -n "$(VERSION)" || { echo "usage: make release VERSION=x.y.z  (after writing CHANGELOG.md's Unreleased section)"; exit 2; }
	$(BIN)/python scripts/release.py "$(VERSION)"

# _build holds the jupyter-cache too: after make clean the next book build executes every chapter.
clean:
	rm -rf _build .pytest_cache

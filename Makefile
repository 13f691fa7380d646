# Two commands on a fresh machine: `make report` (the estimate on the bundled
# data) and `make test`. Both create .venv with the pinned versions first.
PYTHON ?= python
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat constraints.txt pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: report test test-ordered test-random test-slow lint docs notebooks validation benchmarks browser layout clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "nkest needs Python >= 3.12: install it (pyenv install 3.12) or run make PYTHON=python3.12")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,docs,notebooks]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	rm -f $(VENV)/.installed-*
	touch $@

# The main job: fit the bundled DPRK reports and write the report, tables,
# figures and saved fit to results/dprk/.
report: $(STAMP)
	$(BIN)/nkest report --dataset dprk --out results/dprk --seed 20251123 --force

# The suite in a random order, shuffled across files, so that a test that passes only
# after (or before) another one fails; the order's seed is printed, and SEED=N reruns it.
SEED ?= $(shell echo $$RANDOM)
test: $(STAMP)
	@echo "tests in a random order: make test SEED=$(SEED) reruns this order"
	$(BIN)/python -m pytest -n 2 --random-order-bucket=global --random-order-seed=$(SEED)

# The suite in file order.
test-ordered: $(STAMP)
	$(BIN)/python -m pytest -n 2

# Kept for the commands people know: the same as make test.
test-random: test

test-slow: $(STAMP)
	$(BIN)/python -m pytest -n 2 --run-slow

# Headless Chromium (Debian's package) for the test that opens the report as a reader
# would; without it that test is skipped, unless NKEST_REQUIRE_BROWSER is set (CI).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	@chromium --version

# The report as a reader sees it: results/dprk/report.html opened in headless Chromium at
# 1280 px and at 420 px, checked (no word broken mid-word, no sideways scrolling on a phone,
# figure text at least 11 px) and photographed into results/layout/.
layout: report browser
	$(BIN)/python -m browser.report_layout results/dprk/report.html --out results/layout

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Execute the example notebooks with few draws (their committed outputs use the defaults).
notebooks: $(STAMP)
	NKEST_DRAWS=200 $(BIN)/python examples/run_notebooks.py

# Regenerate docs/validation.md, its figures and data (about a day on two
# cores; the coverage study, 900 fits, takes most of it).
validation: $(STAMP)
	$(BIN)/python -m validation.publish --workers 2

# Speed: every target with its ratio to a baseline timed in the same run (about two hours).
benchmarks: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) results site

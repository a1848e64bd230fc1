# The two commands of this book (see README.md):
#   make site   builds the website into _build/html (creating .venv and installing everything first)
#   make test   runs the whole test suite: lint, library tests, nbval, strict build, browser tests
# Everything else here is a step of those two.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
JB_FLAGS := --all -n -W --keep-going

.PHONY: site test venv data assets book lint unit bench-smoke nbval browser clean

site: book

test: lint unit bench-smoke nbval book browser

# One virtual environment, rebuilt whenever the pinned requirements change.
$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.10+ (Debian: apt-get install python3 python3-venv)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

# Fashion-MNIST: found locally (XENT_DATA_DIR, user cache, Debian's dataset-fashion-mnist) or downloaded.
data: $(STAMP)
	$(PY) -m xent.data

# Third-party web assets (KaTeX: its style sheet and fonts for the site, its script for typesetting
# at build time in Node) fetched from the npm registry at build time, never committed.
assets: $(STAMP)
	$(PY) tools/fetch_assets.py

book: $(STAMP) assets
	$(BIN)/jupyter-book build $(JB_FLAGS) .

lint: $(STAMP)
	$(BIN)/ruff check .
	$(PY) tools/apply_explorer_tags.py --check

unit: $(STAMP)
	$(BIN)/pytest tests --ignore=tests/browser

# The benchmarks on small arrays: every contender must agree (no timing check).
bench-smoke: $(STAMP)
	$(PY) benchmarks/bench_cross_entropy.py --smoke
	$(PY) benchmarks/bench_linear_ce.py --smoke

nbval: $(STAMP) data
	$(BIN)/pytest --nbval chapters --nbval-sanitize-with tests/nbval_sanitize.cfg

# Two workers (the browser tests mostly wait on Chromium and JupyterLab); the page-load timing
# test runs afterwards on its own, so nothing else competes with the load it measures.
browser: $(STAMP)
	$(BIN)/pytest -n 2 -m "not timing" tests/browser
	$(BIN)/pytest -m timing tests/browser

clean:
	rm -rf _build

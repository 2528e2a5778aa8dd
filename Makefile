# Every task creates (or reuses) .venv from requirements.txt first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
READY := $(VENV)/.ready

.PHONY: book test lint refresh drift bench setup-cells exercises jupyter screenshots vendor clean

$(READY): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11 or newer is needed (the pinned matplotlib 3.11, which shapes Bengali, requires it)."; \
	    echo "Run: make PYTHON=python3.11 ..."; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(READY)

## book: build the HTML book into _build/html (from the stored outputs; nothing is executed)
book: $(READY)
	$(VENV)/bin/jupyter-book build . --builder html --warningiserror --keep-going --quiet

## test: the linter, then every test: package, parity, notebooks (strict nbval), and the built HTML in headless Chromium
## (TEST_JOBS pytest workers, one test file or notebook per worker at a time; TEST_JOBS=0 runs them in one process)
TEST_JOBS ?= 2
test: book lint
	$(PY) -m pytest -n $(TEST_JOBS) --dist loadfile

## lint: ruff over the package, the tests, the benchmarks and the book's extensions (configured in pyproject.toml)
lint: $(READY)
	$(VENV)/bin/ruff check src tests benchmarks book/_ext

## refresh: re-execute every notebook in place to accept new outputs (a deliberate act)
refresh: $(READY)
	$(PY) -m backprop_lab refresh

## drift: list Bengali cells whose English original changed since they were translated
drift: $(READY)
	$(PY) -m backprop_lab drift

## setup-cells: rewrite the Colab setup cell of every chapter and master from _config.yml
setup-cells: $(READY)
	$(PY) -m backprop_lab setup-cells

## exercises: generate the student notebooks in exercises/ from the masters in solutions/
exercises: $(READY)
	$(PY) -m backprop_lab exercises

## jupyter: generate the Jupyter editions in jupyter/ (the chapters without book-only markup) from book/
jupyter: $(READY)
	$(PY) -m backprop_lab jupyter

## bench: measure notebook execution, the book build and the floor; writes benchmarks/results.json
bench: $(READY)
	$(PY) benchmarks/run.py

## screenshots: accept the current look of the screenshot pages as the new baseline (look at them first)
screenshots: book
	UPDATE_SCREENSHOTS=1 $(PY) -m pytest tests/test_html.py -k screenshot

## vendor: refresh the self-hosted MathJax, widget manager and web font from the npm registry
vendor:
	tools/vendor-assets.sh

clean:
	rm -rf _build

# Two commands matter: `make test` (lint, types, tests) and `make bench` (the peer benchmark).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck pytest bench bench-quick soak fuzz docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,speedups]'
	touch $(STAMP)

test: lint typecheck pytest

lint: $(STAMP)
	$(PY) -m ruff check aiosonic tests bench fuzz soak

typecheck: $(STAMP)
	$(PY) -m mypy --strict aiosonic
	$(PY) -m pyright

# Branch coverage of the package, measured on every run; CI fails below the floor.
COVERAGE_FLOOR ?= 95

pytest: $(STAMP)
	$(PY) -m coverage run -m pytest
	$(PY) -m coverage report --fail-under=$(COVERAGE_FLOOR)

bench: $(STAMP)
	$(PY) -m bench $(BENCH_ARGS)

bench-quick: $(STAMP)
	$(PY) -m bench --quick $(BENCH_ARGS)

# Not part of `make test`: a million requests, then memory and descriptors must be flat.
soak: $(STAMP)
	$(PY) -m soak.soak $(SOAK_ARGS)

# Coverage-guided fuzzing of the parser, decoders and request encoder (atheris when
# installed: pip install -e '.[fuzz]'; a long hypothesis run otherwise).
fuzz: $(STAMP)
	mkdir -p fuzz/corpus
	$(PY) fuzz/fuzz_parser.py -max_total_time=$${FUZZ_SECONDS:-600} -max_len=4096 \
		-dict=fuzz/http.dict fuzz/corpus $(FUZZ_ARGS)

# The documentation site (MkDocs + mkdocstrings) into site/; any warning fails the build.
DOCS_STAMP := $(VENV)/.docs-installed

$(DOCS_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install -q -e '.[docs]'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

clean:
	rm -rf $(VENV) bench/.venvs .mypy_cache .pytest_cache .ruff_cache site .coverage

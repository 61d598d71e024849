# Two commands matter: `make test` (lint, types, tests) and `make bench` (the peer benchmark).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck pytest pytest-compiled interop bench bench-quick soak fuzz docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,speedups]'
	touch $(STAMP)

test: lint typecheck pytest

lint: $(STAMP)
	$(PY) -m ruff check aiosonic tests bench fuzz soak

# tests/typing: the public API as users (and upstream 1.x programs) call it, checked too.
typecheck: $(STAMP)
	$(PY) -m mypy --strict aiosonic
	$(PY) -m mypy --strict tests/typing
	$(PY) -m pyright
	$(PY) -m pyright tests/typing

# Branch coverage of the package, measured on every run; CI fails below the floor.
COVERAGE_FLOOR ?= 95

pytest: $(STAMP)
	AIOSONIC_EXPECT_BUILD=pure $(PY) -m coverage run -m pytest
	$(PY) -m coverage report --fail-under=$(COVERAGE_FLOOR)
	$(MAKE) --no-print-directory pytest-compiled

# The compiled build (hatch_build.py): its wheel is built here, installed into
# $(COMPILED_DIR) and the whole suite runs again against it (the pytest script, unlike
# `python -m`, puts no work-tree sources ahead of it on sys.path). Where nothing can
# compile, it says so and passes: the pure run above is then the whole test.
COMPILED_DIR := build/compiled
pytest-compiled: $(STAMP)
	@if $(PY) hatch_build.py check; then \
		rm -rf $(COMPILED_DIR) build/wheels && \
		AIOSONIC_COMPILE=1 $(PY) -m pip wheel --quiet --no-deps --no-build-isolation \
			--wheel-dir build/wheels . && \
		$(PY) -m pip install --quiet --no-deps --target $(COMPILED_DIR) build/wheels/aiosonic-*.whl && \
		PYTHONPATH=$(COMPILED_DIR) AIOSONIC_EXPECT_BUILD=compiled $(VENV)/bin/pytest -q; \
	else \
		echo "pytest-compiled: skipped, the compiled build cannot be made here"; \
	fi

# Not part of `make test`: aiosonic against real proxies (squid, tinyproxy, microsocks, dante)
# and web servers (nginx, apache2, caddy), each started on loopback with a generated
# configuration (docs/interop.md). A daemon that is not installed skips its tests (fails
# them under CI=true).
interop: $(STAMP)
	$(PY) -m pytest tests/interop -q $(INTEROP_ARGS)

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
	rm -rf $(VENV) build bench/.venvs .mypy_cache .pytest_cache .ruff_cache site .coverage

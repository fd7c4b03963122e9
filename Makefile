# specdsl: `make demo` sets up and builds an example; `make test` runs the test suite.
PYTHON ?= python3
PIP := $(PYTHON) -m pip

.PHONY: setup demo test test-slow lint bench fuzz

setup:
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[dev]"

demo: setup
	$(PYTHON) -m specdsl build architectures/hybrid.yaml
	$(PYTHON) -m specdsl estimate architectures/hybrid.yaml --seq-len 512,2048

test: setup
	$(PYTHON) -m pytest

test-slow: setup
	$(PYTHON) -m pytest -m slow

lint:
	$(PYTHON) -m ruff check specdsl tests benchmarks examples
	$(PYTHON) -m ruff format --check specdsl tests benchmarks examples
	$(PYTHON) -m mypy specdsl

bench: setup
	$(PYTHON) -m pytest -m bench

# The two commands a newcomer needs are `make demo` and `make test`; each sets up what it needs.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: setup pulumi demo test lint bench reliability clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(STAMP)

# Prints the directory holding the pinned Pulumi CLI (built from Go modules on first use).
pulumi:
	@scripts/ensure-pulumi | tail -1

demo: setup
	@scripts/demo

test: setup
	scripts/ensure-pulumi >/dev/null
	$(VENV)/bin/pytest

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: setup
	scripts/ensure-pulumi >/dev/null
	$(PY) -m benchmarks

# Fault matrix, soak and hostile-input table; writes docs/reliability.md. Not part of `make test`.
reliability: setup
	scripts/ensure-pulumi >/dev/null
	$(PY) -m reliability

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache

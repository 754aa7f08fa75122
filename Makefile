# Jiuzhu: `make run` starts the embedded stack, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[dev]"
	scripts/install_fonts.sh
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/python scripts/run_stack.py

test: $(STAMP)
	scripts/test.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/mypy .

bench: $(STAMP)
	$(VENV)/bin/python -m bench

clean:
	rm -rf var/pytest-status .pytest_cache .mypy_cache .ruff_cache

# Jiuzhu: `make run` starts the embedded stack, `make test` runs the whole suite (SQLite),
# `make test-pg` runs it again on a throw-away PostgreSQL cluster (scripts/pg_cluster.sh).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-pg pg-install lint bench bench-pg clean

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[dev]"
	scripts/install_fonts.sh
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/python scripts/run_stack.py

# The workbench's browser tests need Debian's Chromium: installed here when missing (apt, as
# root or through sudo); without it they are skipped, naming the command (CI requires them).
test: $(STAMP)
	scripts/browser.sh install || echo "Chromium could not be installed: the browser tests will be skipped" >&2
	scripts/test.sh

# The same pytest suite with JIUZHU_TEST_DATABASE_URL at a throw-away cluster (lint is `make
# test`'s); PostgreSQL must be installed: `make pg-install` (Debian packages) if it is not.
test-pg: $(STAMP)
	scripts/pg_cluster.sh run scripts/test.sh --no-lint

pg-install:
	scripts/pg_cluster.sh install

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/mypy .

bench: $(STAMP)
	$(VENV)/bin/python -m bench

# The payroll benchmark on a throw-away PostgreSQL cluster: make bench-pg N=100000
N ?= 100000
bench-pg: $(STAMP)
	scripts/pg_cluster.sh run sh -c '$(VENV)/bin/python -m bench.payroll --n $(N) --database "$$JIUZHU_TEST_DATABASE_URL"'

clean:
	rm -rf var/pytest-status* .pytest_cache .mypy_cache .ruff_cache

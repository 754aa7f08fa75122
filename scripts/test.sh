#!/usr/bin/env bash
# Run the whole suite: ruff, mypy, pytest on real Temporal dev servers (`--no-lint`: pytest only,
# as `make test-pg` runs it after `make test` linted the same tree). Exits with pytest's own
# status even when the SDK's native bridge aborts at interpreter exit (134/139) after the run.
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin
if [ "${1:-}" = "--no-lint" ]; then
  shift
else
  $PY/ruff check . || exit 1
  $PY/ruff format --check . || exit 1
  $PY/mypy . || exit 1
fi
# pytest records its status here (tests/conftest.py): one file per run, so two runs at once
# (SQLite and PostgreSQL) never read each other's.
mkdir -p var
export JIUZHU_PYTEST_STATUS_FILE="var/pytest-status.$$"
rm -f "$JIUZHU_PYTEST_STATUS_FILE"
$PY/pytest "$@"
rc=$?
if [ "$rc" -eq 134 ] || [ "$rc" -eq 139 ]; then
  if [ -f "$JIUZHU_PYTEST_STATUS_FILE" ]; then
    echo "note: the interpreter aborted at exit ($rc) after pytest finished; using pytest's status"
    rc=$(cat "$JIUZHU_PYTEST_STATUS_FILE")
  fi
fi
rm -f "$JIUZHU_PYTEST_STATUS_FILE"
exit "$rc"

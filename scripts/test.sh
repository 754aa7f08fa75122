#!/usr/bin/env bash
# Run the whole suite: ruff, mypy, pytest on real Temporal dev servers. Exits with pytest's own
# status even when the SDK's native bridge aborts at interpreter exit (134/139) after the run.
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin
$PY/ruff check . || exit 1
$PY/ruff format --check . || exit 1
$PY/mypy . || exit 1
rm -f var/pytest-status
$PY/pytest "$@"
rc=$?
if [ "$rc" -eq 134 ] || [ "$rc" -eq 139 ]; then
  if [ -f var/pytest-status ]; then
    echo "note: the interpreter aborted at exit ($rc) after pytest finished; using pytest's status"
    rc=$(cat var/pytest-status)
  fi
fi
exit "$rc"

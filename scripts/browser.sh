#!/usr/bin/env bash
# The browser of the workbench's browser tests (tests/workbench/browser.py): Debian's Chromium and
# its ChromeDriver, driven by the PyPI package `playwright` (pinned in pyproject.toml's dev extras,
# installed by `make`) with executable_path=/usr/bin/chromium. Playwright's own browser download
# (`playwright install`) is never used: nothing downloads at run time.
#
#   scripts/browser.sh install   install chromium and chromium-driver from the Debian packages
#                                when /usr/bin/chromium is missing (idempotent; sudo when not root)
#   scripts/browser.sh version   print the installed Chromium's version (exit 1 when missing)
#
# CHROMIUM overrides the binary looked for (default /usr/bin/chromium).
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

version() {
  # --version answers without starting a browser (no profile, no network).
  [ -x "$CHROMIUM" ] || return 1
  "$CHROMIUM" --version 2>/dev/null
}

install_browser() {
  if version >/dev/null; then
    echo "Chromium: $(version)"
    return 0
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "Chromium not found at $CHROMIUM: installing chromium and chromium-driver from the Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q chromium chromium-driver
  version >/dev/null || { echo "Chromium still missing at $CHROMIUM after the install" >&2; exit 1; }
  echo "Chromium: $(version)"
}

case "${1:-}" in
  install)
    install_browser
    ;;
  version)
    version
    ;;
  *)
    awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"
    exit 2
    ;;
esac

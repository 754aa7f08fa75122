#!/usr/bin/env bash
# The CJK Extension B font for printed notices (jiuzhu/notices_pdf.py): HanaMinB from Debian's
# fonts-hanazono (pinned below). Noto Serif SC (PyPI pylopdf-fonts-zh-cn) sets the text but has
# only 52 of the 42,711 Extension B ideographs; no PyPI package ships an Extension B font, so
# this one comes from the distribution. Without it a notice naming 王𡉃 or 𠮷 is refused (422
# naming the field) instead of printed. Idempotent; nothing is downloaded at run time.
set -euo pipefail
FONT=/usr/share/fonts/truetype/hanazono/HanaMinB.ttf
VERSION=20170904-2.1
if [ -f "$FONT" ]; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq \
    && { apt-get install -y -qq --no-install-recommends "fonts-hanazono=$VERSION" \
         || apt-get install -y -qq --no-install-recommends fonts-hanazono; }; } \
    || echo "fonts-hanazono could not be installed: Extension B names will be refused (422)" >&2
else
  echo "install fonts-hanazono ($VERSION) as root for CJK Extension B in printed notices" >&2
fi

#!/usr/bin/env bash
# Installs Debian's Chromium (for tests/test_report.py, which renders the HTML report headless).
# Does nothing when chromium is on PATH. Exit 3: it is not there and cannot be installed here
# (not root and no sudo, or no apt-get).
set -euo pipefail
if command -v chromium >/dev/null; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "install-chromium: no apt-get here; install Chromium by hand (tests/test_report.py needs it)" >&2
  exit 3
fi
run=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null; then
    echo "install-chromium: not root and no sudo; install Debian's chromium package by hand" >&2
    exit 3
  fi
  run=(sudo -n)  # never stop to ask for a password
fi
echo "install-chromium: installing Debian's chromium package" >&2
if ! "${run[@]}" apt-get update -qq \
   || ! "${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
   || ! command -v chromium >/dev/null; then
  echo "install-chromium: apt-get could not install chromium (see above); tests/test_report.py needs it" >&2
  exit 3
fi

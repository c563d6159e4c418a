#!/usr/bin/env bash
# Makes sure the browser tests (test/e2e) have a Chromium: Debian's `chromium` at /usr/bin/chromium, or the executable
# named by CHROMIUM_PATH. Installs Debian's package with apt-get when it is missing and this runs as root (CI);
# otherwise prints what to run and exits non-zero. Playwright's own browser download is not used (it needs hosts
# that CI does not reach).
set -euo pipefail

if [ -n "${CHROMIUM_PATH:-}" ]; then
  if [ -x "$CHROMIUM_PATH" ]; then exit 0; fi
  echo "ensure-chromium: CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file; unset it to use /usr/bin/chromium" >&2
  exit 1
fi

if [ -x /usr/bin/chromium ]; then exit 0; fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-chromium: /usr/bin/chromium is missing and this is not root, so it cannot be installed here." >&2
  echo "  Install Debian's Chromium:  sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium" >&2
  echo "  or point CHROMIUM_PATH at a Chromium executable." >&2
  exit 1
fi

echo "ensure-chromium: installing Debian's chromium with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium

if [ ! -x /usr/bin/chromium ]; then
  echo "ensure-chromium: apt-get finished but /usr/bin/chromium is still missing" >&2
  exit 1
fi

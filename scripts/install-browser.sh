#!/usr/bin/env bash
# Installs Debian's Chromium for the browser test (test/e2e/browser.test.ts drives it with playwright-core).
# Playwright's own browser download is not used: Debian's package is what this project tests against.
set -euo pipefail
if [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  echo "chromium: $("${CHROMIUM_PATH:-/usr/bin/chromium}" --version 2>/dev/null | tail -1)"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "install Chromium (Debian: apt-get install -y chromium) or set CHROMIUM_PATH; the browser test fails without it" >&2
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | tail -1)"

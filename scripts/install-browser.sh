#!/usr/bin/env bash
# Installs Debian's Chromium for the browser test (test/e2e/browser.test.ts drives it with playwright-core).
# `npm test` runs this before the tests, so Chromium comes only with the test that needs it, not with `npm run setup`.
# Playwright's own browser download is not used: Debian's package is what this project tests against.
set -euo pipefail
if [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  echo "chromium: $("${CHROMIUM_PATH:-/usr/bin/chromium}" --version 2>/dev/null | tail -1)"
  exit 0
fi
if [ -n "${CHROMIUM_PATH:-}" ]; then
  echo "chromium: CHROMIUM_PATH=$CHROMIUM_PATH is not an executable; the browser test will fail. Fix or unset it" >&2
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  # Not fatal here: the other tests can still run; the browser test fails and says the same.
  echo "chromium: not installed; the browser test will fail. Install it (Debian: apt-get install -y chromium)" \
    "or set CHROMIUM_PATH" >&2
  exit 0
fi
echo "chromium: installing Debian's package for the browser test…"
apt-get update -qq
# apt's notices (debconf without a terminal) are noise on a normal run: shown only when the install fails.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | tail -1)"

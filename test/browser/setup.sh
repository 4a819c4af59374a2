#!/bin/sh
# Make sure what test/browser/ui.mjs needs is here, installing only what
# is missing: node and npm, Debian's chromium, and playwright-core from
# the committed lockfile (npm ci, re-run when the lockfile changes).
cd "$(dirname "$0")" || exit 1
have() { command -v "$1" >/dev/null 2>&1; }
need=""
have node && have npm || need="nodejs npm"
[ -x /usr/bin/chromium ] || need="$need chromium"
if [ -n "$need" ]; then
  have apt-get || { echo "need: $need (no apt-get here)"; exit 1; }
  apt-get update -q >/dev/null 2>&1
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >/dev/null 2>&1 ||
    { echo "apt-get install $need failed"; exit 1; }
fi
if [ ! -f node_modules/.package-lock.json ] ||
   ! cmp -s package-lock.json node_modules/.ssoproxy-lock; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1 &&
    cp package-lock.json node_modules/.ssoproxy-lock ||
    { echo "npm ci in test/browser failed"; exit 1; }
fi

#!/bin/sh
# Make sure what test/browser/ui.mjs needs is here, installing only what
# is missing: node and npm, Debian's chromium, and playwright-core from
# the committed lockfile (npm ci, re-run when the lockfile changes).
cd "$(dirname "$0")" || exit 1
have() { command -v "$1" >/dev/null 2>&1; }
need=""
updated=""
# apt_get PKG: install one Debian package (apt-get update once first).
apt_get() {
  have apt-get || { echo "need: $1 (no apt-get here)"; exit 1; }
  [ -n "$updated" ] || { apt-get update -q >/dev/null 2>&1; updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null 2>&1 ||
    { echo "apt-get install $1 failed"; exit 1; }
}
# nodejs alone first: NodeSource's build brings npm and conflicts with
# Debian's npm package; Debian's own nodejs needs npm as well.
have node || apt_get nodejs
have npm || apt_get npm
[ -x /usr/bin/chromium ] || apt_get chromium
if [ ! -f node_modules/.package-lock.json ] ||
   ! cmp -s package-lock.json node_modules/.ssoproxy-lock; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1 &&
    cp package-lock.json node_modules/.ssoproxy-lock ||
    { echo "npm ci in test/browser failed"; exit 1; }
fi

#!/bin/sh
# Make sure the build dependencies are present: a C compiler, make,
# pkg-config, and the mbedTLS and SQLite development headers.
#
#   tool/deps.sh            install what is missing (apt, apk, dnf or brew)
#   tool/deps.sh --check    only check; exit 1 naming what is missing
#   tool/deps.sh --test     also what the test suite needs (clang, curl...)
#
# Installing needs root (or sudo); without it the script stops with one
# message naming the packages to install.
set -eu
mode=${1-}
CC=${CC:-cc}

have_header() {
  printf '#include <%s>\n' "$1" | $CC $(pkg-config --cflags "$2" 2>/dev/null) \
    -E -x c - >/dev/null 2>&1
}

missing=""
command -v "$CC" >/dev/null 2>&1 || missing="$missing cc"
command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
if [ -z "$missing" ]; then
  have_header mbedtls/ssl.h mbedtls || missing="$missing mbedtls"
  have_header sqlite3.h sqlite3 || missing="$missing sqlite3"
fi
if [ "$mode" = "--test" ]; then
  for t in clang curl; do
    command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
  done
  # libFuzzer and the sanitizer runtimes ship with clang's runtime package.
  if command -v clang >/dev/null 2>&1 && ! echo 'int main(void){return 0;}' |
       clang -fsanitize=address,undefined -x c - -o /dev/null 2>/dev/null; then
    missing="$missing clang-rt"
  fi
fi
[ -z "$missing" ] && exit 0

# Map the logical names to each package manager's package names.
pkgs() {
  for m in $missing; do
    case "$1:$m" in
      apt:cc) echo gcc ;;           apt:pkg-config) echo pkg-config ;;
      apt:mbedtls) echo libmbedtls-dev ;; apt:sqlite3) echo libsqlite3-dev ;;
      apt:clang) echo clang ;;      apt:curl) echo curl ;;
      apt:llvm-nm) echo llvm ;;     apt:clang-rt) echo libclang-rt-dev ;;
      apk:cc) echo gcc musl-dev ;;  apk:pkg-config) echo pkgconf ;;
      apk:mbedtls) echo mbedtls-dev ;; apk:sqlite3) echo sqlite-dev ;;
      apk:clang-rt) echo compiler-rt ;; apk:llvm-nm) echo llvm ;;
      dnf:cc) echo gcc ;;           dnf:pkg-config) echo pkgconf-pkg-config ;;
      dnf:mbedtls) echo mbedtls-devel ;; dnf:sqlite3) echo sqlite-devel ;;
      dnf:clang-rt) echo compiler-rt ;; dnf:llvm-nm) echo llvm ;;
      brew:cc) echo llvm ;;         brew:mbedtls) echo mbedtls ;;
      brew:sqlite3) echo sqlite ;;  brew:clang-rt) echo llvm ;;
      brew:llvm-nm) echo llvm ;;
      *) echo "$m" ;;
    esac
  done | tr '\n' ' '
}

if [ "$mode" = "--check" ]; then
  echo "missing build dependencies:$missing" >&2
  exit 1
fi

sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo=sudo; fi
fi
fail() {
  echo "ssoproxy needs:$missing. Install the packages: $1" >&2
  exit 1
}
if command -v apt-get >/dev/null 2>&1; then
  p=$(pkgs apt)
  { [ -n "$sudo" ] || [ "$(id -u)" = 0 ]; } || fail "apt-get install $p"
  echo "installing: $p" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $p >&2 ||
    fail "apt-get install $p"
elif command -v apk >/dev/null 2>&1; then
  p=$(pkgs apk)
  $sudo apk add --no-cache $p >&2 || fail "apk add $p"
elif command -v dnf >/dev/null 2>&1; then
  p=$(pkgs dnf)
  $sudo dnf install -y $p >&2 || fail "dnf install $p"
elif command -v brew >/dev/null 2>&1; then
  p=$(pkgs brew)
  brew install $p >&2 || fail "brew install $p"
else
  fail "(no known package manager) headers for mbedTLS and SQLite"
fi

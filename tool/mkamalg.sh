#!/bin/sh
# Build the amalgamation: ssoproxy.c and ssoproxy.h from src/.
#
#   tool/mkamalg.sh [OUTDIR]     write OUTDIR/ssoproxy.c and OUTDIR/ssoproxy.h
#   tool/mkamalg.sh --list       print the source files in amalgamation order
#
# The file list is written out by hand, base layer first and app last, so
# the compiler meets helpers before their callers (SQLite's habit). Each
# src/*.h is inlined at its first #include and commented out afterwards;
# "ssoproxy.h" stays an #include because the public header ships beside the
# .c file. A line that starts with SSO_PRIVATE starts with "static" in the
# output, so only the ssoproxy_* API is exported. The source id is the
# SHA-256 of every input, so the same sources always give the same bytes.
set -eu
LC_ALL=C
export LC_ALL
cd "$(dirname "$0")/.."

FILES="mem.c buf.c log.c os.c crypto.c b64.c json.c url.c jose.c loop.c http.c tls.c
client.c server.c store.c health.c authz.c api.c page.c session.c oidc.c ui.c
proxy.c fauth.c config.c app.c admin.c main.c"

if [ "${1-}" = "--list" ]; then
  for f in $FILES; do printf 'src/%s\n' "$f"; done
  exit 0
fi
out=${1:-.}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum | cut -c1-64
  else shasum -a 256 | cut -c1-64; fi
}

version=$(cat VERSION)
vnum=$(echo "$version" | awk -F. '{ printf "%d%03d%03d", $1, $2, $3 }')
srcid=$( (cat VERSION tool/mkamalg.sh src/ssoproxy.h.in src/*.h
          for f in $FILES; do cat "src/$f"; done) | sha256)

tmpc="$out/ssoproxy.c.tmp.$$"
tmph="$out/ssoproxy.h.tmp.$$"
trap 'rm -f "$tmpc" "$tmph"' EXIT

sed -e "s/--VERS--/$version/" \
    -e "s/--VERSION-NUMBER--/$vnum/" \
    -e "s/--SOURCE-ID--/$srcid/" src/ssoproxy.h.in > "$tmph"

{
cat <<BANNER
/******************************************************************************
** This file is the ssoproxy amalgamation, version $version:
** every source file of ssoproxy concatenated into one translation unit.
** Source id: $srcid
**
** It is generated from src/ by tool/mkamalg.sh: do not edit it by hand.
** Compile it with ssoproxy.h beside it and link mbedTLS and SQLite:
**
**   cc -O2 -o ssoproxy ssoproxy.c -lsqlite3 -lmbedtls -lmbedx509 \\
**      -lmbedcrypto -lpthread
**
** Define SSOPROXY_OMIT_MAIN to embed it in another program.
******************************************************************************/
#define SSO_AMALGAMATION 1
#ifndef SSO_PRIVATE
# define SSO_PRIVATE static
#endif
/* Internal functions a given build does not call are fine to leave. */
#if defined(__GNUC__)
# pragma GCC diagnostic ignored "-Wunused-function"
#endif
BANNER
for f in $FILES; do printf 'src/%s\n' "$f"; done | awk '
  function banner(text) {
    printf "/************** %s **************/\n", text
  }
  function emit(file,    line, inc) {
    while( (getline line < file) > 0 ){
      if( line ~ /^#include "[^"]*"/ ){
        inc = line
        sub(/^#include "/, "", inc)
        sub(/".*$/, "", inc)
        if( inc=="ssoproxy.h" ){
          if( !(inc in seen) ){ seen[inc] = 1; print line }
          else print "/* #include \"ssoproxy.h\" */"
          continue
        }
        if( inc in seen ){
          print "/* #include \"" inc "\" */"
          continue
        }
        seen[inc] = 1
        banner("Include " inc " in the middle of " name[file])
        name["src/" inc] = inc
        emit("src/" inc)
        banner("Continuing where we left off in " name[file])
        continue
      }
      if( line ~ /^SSO_PRIVATE / ) sub(/^SSO_PRIVATE /, "static ", line)
      print line
    }
    close(file)
  }
  {
    name[$0] = substr($0, 5)
    banner("Begin file " name[$0])
    emit($0)
    banner("End of " name[$0])
  }
'
echo "/************** End of the ssoproxy amalgamation **************/"
} > "$tmpc"

mv "$tmpc" "$out/ssoproxy.c"
mv "$tmph" "$out/ssoproxy.h"
trap - EXIT

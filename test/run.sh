#!/bin/sh
# The whole test suite: `make test` runs this. Every step is a test; the
# C suites and shell suites count their own cases. The last line printed
# is "N passed, N failed"; the exit status is 0 only when N failed is 0.
set -u
cd "$(dirname "$0")/.."
CC=${CC:-cc}
O=build
mkdir -p $O/log
pass=0
fail=0

report() {   # report NAME STATUS
  if [ "$2" = 0 ]; then
    pass=$((pass+1)); echo "ok - $1"
  else
    fail=$((fail+1)); echo "not ok - $1"
    tail -n 40 "$O/log/$1" | sed 's/^/    /'
  fi
}

# step NAME COMMAND...: one test that passes when COMMAND succeeds.
step() {
  name=$1; shift
  "$@" >"$O/log/$name" 2>&1
  report "$name" $?
}

# suite NAME COMMAND...: COMMAND prints "N passed, N failed" as its last
# line; its counts join ours. A suite that dies without that line counts
# as one failure.
suite() {
  name=$1; shift
  "$@" >"$O/log/$name" 2>&1
  st=$?
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$O/log/$name" | tail -n 1)
  if [ -z "$line" ]; then
    report "$name" 1
    return
  fi
  p=${line%% passed*}
  f=${line#*passed, }; f=${f%% failed*}
  pass=$((pass+p)); fail=$((fail+f))
  if [ "$f" = 0 ] && [ "$st" = 0 ]; then
    echo "ok - $name ($p cases)"
  else
    [ "$f" = 0 ] && fail=$((fail+1))
    echo "not ok - $name ($p passed, $f failed, exit $st)"
    grep -E 'FAIL|not ok|ERROR|error' "$O/log/$name" | head -n 40 | sed 's/^/    /'
  fi
}

amalgamation_fresh() {
  rm -rf $O/amalg && mkdir -p $O/amalg &&
  tool/mkamalg.sh $O/amalg &&
  cmp $O/amalg/ssoproxy.c ssoproxy.c && cmp $O/amalg/ssoproxy.h ssoproxy.h ||
  { echo "ssoproxy.c/ssoproxy.h are stale: run 'make amalgamation'"; return 1; }
}

# With SSOPROXY_OMIT_MAIN the object may export nothing but ssoproxy_*.
symbols_prefixed() {
  $CC -std=c11 -O2 -DSSOPROXY_OMIT_MAIN -c ssoproxy.c -o $O/ssoproxy.o &&
  nm -g --defined-only $O/ssoproxy.o > $O/symbols.txt &&
  bad=$(awk '{ print $NF }' $O/symbols.txt | grep -v '^ssoproxy_') ;
  if [ -n "$bad" ]; then echo "exported without the ssoproxy_ prefix:"; echo "$bad"; return 1; fi
  grep -q ' T ssoproxy_open$' $O/symbols.txt
}

amalgamation_compiles() {
  for c in gcc clang; do
    $c -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
      -Wmissing-prototypes -Wformat=2 -Wundef -Wvla -O2 \
      -DSSOPROXY_OMIT_MAIN -c ssoproxy.c -o $O/amalg-$c.o || return 1
  done
}

step amalgamation-fresh amalgamation_fresh
step build make -s ssoproxy
step symbols-prefixed symbols_prefixed
step amalgamation-gcc-clang amalgamation_compiles
step split-build make -s split
step build-unit make -s $O/unit
suite unit $O/unit
step build-unit-poll make -s $O/unit-poll
suite unit-poll-loop $O/unit-poll test_loop
suite unit-poll-server $O/unit-poll test_server
suite unit-poll-client $O/unit-poll test_client
suite unit-poll-tls $O/unit-poll test_tls
step build-unit-san make -s CC=clang $O/unit-san
suite unit-san $O/unit-san
step build-embed make -s $O/embed
suite embed $O/embed
for f in test/fuzz/fuzz_*.c; do
  t=$(basename "$f" .c); t=${t#fuzz_}
  step "build-replay-$t" make -s "$O/replay-$t"
  suite "fuzz-replay-$t" "$O/replay-$t" test/fuzz/corpus/$t test/fuzz/crash/$t
done
for t in test/*.sh; do
  case $t in test/run.sh|test/lib.sh) continue ;; esac
  suite "$(basename "$t" .sh)" sh "$t"
done

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]

# Shared helpers for the shell test suites (sourced, not run).
# Each suite calls `ok NAME` / `fail NAME WHY` per case and `finish` last,
# which prints "N passed, N failed" for test/run.sh to add up.
T_PASS=0
T_FAIL=0
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ssoproxy-test.XXXXXX")
T_PIDS=""
cleanup() {
  for p in $T_PIDS; do kill "$p" 2>/dev/null; done
  rm -rf "$T_DIR"
}
trap cleanup EXIT

ok()   { T_PASS=$((T_PASS+1)); echo "ok - $1"; }
fail() { T_FAIL=$((T_FAIL+1)); echo "not ok - $1: $2"; }

# expect NAME WANT_STATUS PATTERN COMMAND...: run COMMAND, check its exit
# status and that PATTERN (grep -E) matches its combined output.
expect() {
  name=$1; want=$2; pat=$3; shift 3
  out=$("$@" 2>&1); st=$?
  if [ "$st" != "$want" ]; then
    fail "$name" "exit $st, expected $want; output: $out"
  elif ! printf '%s\n' "$out" | grep -Eq -- "$pat"; then
    fail "$name" "output does not match /$pat/: $out"
  else
    ok "$name"
  fi
}

# listening_url LOG: wait up to 10 s for the server's "ssoproxy listening"
# line in LOG and print its URL (http://... or https://...); prints
# nothing and fails if it never comes.
listening_url() {
  n=0
  while [ $n -lt 100 ]; do
    u=$(sed -n 's/.*msg="ssoproxy listening" url=\([^ ]*\).*/\1/p' "$1" \
        2>/dev/null)
    if [ -n "$u" ]; then echo "$u"; return 0; fi
    sleep 0.1
    n=$((n+1))
  done
  return 1
}

finish() {
  echo "$T_PASS passed, $T_FAIL failed"
  [ "$T_FAIL" = 0 ]
}

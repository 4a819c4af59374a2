#!/bin/sh
# Authenticated requests per second with 1,000 and with 1,000,000 keys in
# the database, in the same run: the key lookup behind every request
# must not slow down as the key table grows (target: the rate at 1M is at
# least 0.9 x the rate at 1k).
#
#   sh bench/keys.sh [--record] [-d SECONDS] [-r ROUNDS] [-c CONNECTIONS]
#
#   --record   append the results, this command and the machine's facts
#              to bench/RESULTS.md
#   -d         length of one wrk run (default 10)
#   -r         rounds; each round runs 1k then 1M, and the figure is the
#              median over rounds (default 3)
#   -c         wrk connections (default 32)
#   --keep     reuse the databases of an earlier run when they exist
#
# The databases are made by build/bench/keysgen through the store (keys
# hashed as usual, 10,000 per transaction), not over HTTP. The route is
# GET /key/info with the caller's own key: authentication (SHA-256, one
# indexed lookup of the key joined with its owner, the expiry, block and
# disabled checks), the permission matrix, and a ~700-byte JSON answer.
# wrk cycles through a sample of 1,000 keys spread over the whole table.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
O=build/bench
cmd="sh bench/keys.sh${*:+ $*}"
record=0; secs=10; rounds=3; conns=32; keep=0
while [ $# -gt 0 ]; do
  case $1 in
    --record) record=1 ;;
    --keep) keep=1 ;;
    -d) secs=$2; shift ;;
    -r) rounds=$2; shift ;;
    -c) conns=$2; shift ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
bench_tools bench/keys.sh wrk

make -s ssoproxy
mkdir -p $O
# shellcheck disable=SC2046
$(makevar CC) $(makevar BUILD_CFLAGS) -DSSOPROXY_OMIT_MAIN -I. \
  -o $O/keysgen bench/keysgen.c $(makevar DEP_LIBS)

pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null || true; done' EXIT
for n in 1000 1000000; do
  [ $keep = 1 ] && [ -f "$O/keys-$n.db" ] && [ -f "$O/keys-$n.txt" ] && continue
  rm -f "$O/keys-$n.db" "$O/keys-$n.db-wal" "$O/keys-$n.db-shm"
  t0=$(date +%s.%N)
  $O/keysgen "$O/keys-$n.db" $n 1000 "$O/keys-$n.txt"
  t1=$(date +%s.%N)
  echo "made $n keys in $(echo "$t1 - $t0" | bc | cut -c1-5) s" \
       "($(du -h "$O/keys-$n.db" | cut -f1))" >&2
done

# serve N: a server on the database of N keys, one worker thread (the
# machine's other core runs wrk); sets URL and PID.
serve() {
  log=$O/keys-serve-$1.log
  : > "$log"
  SSOPROXY_DB=$O/keys-$1.db SSOPROXY_WORKERS=1 SSOPROXY_ACCESS_LOG=false \
    ./ssoproxy --listen 127.0.0.1:0 2>"$log" &
  PID=$!
  pids="$pids $PID"
  URL=""
  i=0
  while [ $i -lt 100 ] && [ -z "$URL" ]; do
    URL=$(sed -n 's/.*msg="ssoproxy listening" url=\(http:[^ ]*\).*/\1/p' "$log")
    [ -n "$URL" ] || sleep 0.1
    i=$((i+1))
  done
  [ -n "$URL" ] || { cat "$log" >&2; exit 1; }
}

# CPU time (utime+stime, clock ticks) the server has used so far.
cputicks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }

# rate N: one wrk run against the N-key server, after checking that the
# keys work (200) and a warm-up. Prints "requests/s cpu-us-per-request":
# the second is the server's own CPU time per request, which other load
# on the machine disturbs much less than the rate.
rate() {
  k=$(head -n 1 "$O/keys-$1.txt")
  st=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $k" \
       "$URL/key/info")
  [ "$st" = 200 ] || { echo "key check: status $st" >&2; exit 1; }
  KEYS_FILE=$O/keys-$1.txt wrk -t1 -c"$conns" -d2s -s bench/keys.lua \
    "$URL" >/dev/null
  c0=$(cputicks)
  KEYS_FILE=$O/keys-$1.txt wrk -t1 -c"$conns" -d"${secs}s" \
    -s bench/keys.lua "$URL" > "$O/keys-wrk-$1.txt"
  c1=$(cputicks)
  if grep -q 'Non-2xx' "$O/keys-wrk-$1.txt"; then
    cat "$O/keys-wrk-$1.txt" >&2; exit 1
  fi
  awk -v c="$((c1-c0))" -v hz="$(getconf CLK_TCK)" '
    /requests in/ { n = $1 }
    /^Requests\/sec:/ { r = $2 }
    END { printf "%d %.2f\n", r, c / hz * 1e6 / n }' "$O/keys-wrk-$1.txt"
}

median() { sort -n | awk '{ a[NR]=$1 } END { print a[int((NR+1)/2)] }'; }

r1k=""; r1m=""; u1k=""; u1m=""
r=1
while [ $r -le "$rounds" ]; do
  for n in 1000 1000000; do
    serve $n
    set -- $(rate $n)
    kill -TERM "$PID"; wait "$PID" || true
    echo "round $r: $n keys: $1 requests/s, $2 us of server CPU per request" >&2
    if [ $n = 1000 ]; then r1k="$r1k $1"; u1k="$u1k $2"
    else r1m="$r1m $1"; u1m="$u1m $2"; fi
  done
  r=$((r+1))
done
m1k=$(printf '%s\n' $r1k | median)
m1m=$(printf '%s\n' $r1m | median)
c1k=$(printf '%s\n' $u1k | median)
c1m=$(printf '%s\n' $u1m | median)
ratio=$(echo "scale=3; $m1m / $m1k" | bc)
cratio=$(echo "scale=3; $c1k / $c1m" | bc)
table="| keys in the database | requests/s (median of $rounds) | server CPU per request (median) | rounds: requests/s | rounds: CPU us/request |
|--:|--:|--:|---|---|
| 1,000 | $m1k | $c1k us |$r1k |$u1k |
| 1,000,000 | $m1m | $c1m us |$r1m |$u1m |

Rate at 1M / rate at 1k: **$ratio** by requests/s, **$cratio** by server CPU
per request (the CPU-bound rate, 1 / CPU time; target >= 0.9)."
echo "$table"

if [ $record = 1 ]; then
  {
    echo
    echo "## Authenticated requests and the size of the key table ($(date -u +%Y-%m-%d))"
    echo
    echo "Command: \`$cmd\` (wrk -t1 -c$conns, ${secs} s per run, GET /key/info"
    echo "with the caller's own key, 1,000 sampled keys cycled; server with one"
    echo "worker thread and the access log off)."
    echo
    echo "Machine: $(uname -srm); $(nproc) processors,"
    echo "$(cpu_model);"
    echo "$(cc --version | head -n 1); SQLite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1);"
    echo "$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)."
    echo
    echo "$table"
  } >> "$(results_file)"
fi

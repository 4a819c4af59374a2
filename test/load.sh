#!/bin/sh
# Load tests of the network core, on loopback and bounded in time (about
# 12 s): 1,000 slowloris connections while a normal client's
# /health/liveliness p99 stays under 50 ms and the header timeout ends
# them with 408; then 10,000 idle keep-alive connections held, with the
# server's memory per connection (VmRSS growth / N) at most 16 KiB.
# The client is test/load/conns.c (epoll, so Linux only), built here.
cd "$(dirname "$0")/.." || exit 1
. test/lib.sh
S=$PWD/ssoproxy
unset LITELLM_MASTER_KEY SSOPROXY_MASTER_KEY SSOPROXY_LISTEN SSOPROXY_DB

SLOW_N=1000            # slowloris connections
SLOW_INTERVAL=2000     # ms between two bytes on one of them
SLOW_SEC=6             # measured window; the server must hold them all
SLOW_HEADER_MS=8000    # the server's header timeout, which ends them
P99_MAX_MS=50
IDLE_N=10000           # idle keep-alive connections
KIB_MAX=16             # per idle connection
NOFILE=$((IDLE_N + 400))

if [ "$(uname -s)" != Linux ]; then
  echo "load tests skipped: test/load/conns.c needs Linux (epoll, /proc)"
  finish
  exit
fi

# Both the server and the client hold one descriptor per connection.
if ! ulimit -n "$NOFILE" 2>/dev/null; then
  fail nofile-limit "cannot raise 'ulimit -n' to $NOFILE (hard limit $(ulimit -Hn)); raise the hard limit to run the load tests"
  finish
  exit
fi
ok nofile-limit

if ${CC:-cc} -O2 -std=c11 -Wall -Wextra -Werror -o "$T_DIR/conns" \
     test/load/conns.c -lpthread 2>"$T_DIR/cc.log"; then
  ok conns-builds
else
  fail conns-builds "$(cat "$T_DIR/cc.log")"
  finish
  exit
fi

# start NAME VAR=VALUE...: run the server on a free port with a fresh
# database; sets $pid and $port (empty if it did not come up). One
# worker: one event loop carries every slow connection and the probe,
# the harder case.
start() {
  name=$1; shift
  : >"$T_DIR/$name.log"
  env "$@" SSOPROXY_WORKERS=1 "$S" --listen 127.0.0.1:0 \
    --db "$T_DIR/$name.db" 2>"$T_DIR/$name.log" &
  pid=$!
  T_PIDS="$T_PIDS $pid"
  port=$(listening_url "$T_DIR/$name.log")
  port=${port##*:}
  if [ -n "$port" ]; then ok "$name-starts"; else
    fail "$name-starts" "$(cat "$T_DIR/$name.log")"; fi
}

# stop NAME: SIGTERM, and the server must exit 0 within its deadline.
stop() {
  kill -TERM "$pid"
  wait "$pid"
  st=$?
  [ "$st" = 0 ] && ok "$1-stops" || fail "$1-stops" "exit $st; $(tail -n 3 "$T_DIR/$1.log")"
}

# val KEY: the value of KEY= in $line (conns' report).
val() { printf '%s\n' "$line" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

# check NAME AWK_CONDITION WHY: one case on conns' report.
check() {
  if printf '%s\n' "$line" | tr ' ' '\n' | awk -F= '{ v[$1]=$2 } END { exit !('"$2"') }'; then
    ok "$1"
  else
    fail "$1" "$3: $line"
  fi
}

# ---- slowloris ----------------------------------------------------------
start slowloris SSOPROXY_MAX_CONNECTIONS=$((SLOW_N + 100)) \
  SSOPROXY_HEADER_TIMEOUT_MS=$SLOW_HEADER_MS
if [ -n "$port" ]; then
  line=$("$T_DIR/conns" slowloris -p "$port" -n $SLOW_N -t $SLOW_SEC \
           -i $SLOW_INTERVAL -w $(( (SLOW_HEADER_MS+999)/1000 - SLOW_SEC + 3 )) \
           2>&1 | tail -n 1)
  echo "$line"
  check slowloris-all-connect "v[\"connected\"]==$SLOW_N" \
    "not every connection was made"
  check slowloris-all-held "v[\"held\"]==$SLOW_N" \
    "the server dropped connections before the header timeout"
  check slowloris-probe-answered "v[\"probes\"]>=1000 && v[\"probe_errors\"]==0" \
    "the normal client was not served every time"
  check slowloris-p99 "v[\"p99_ms\"]!=\"\" && v[\"p99_ms\"]+0<$P99_MAX_MS" \
    "p99 of /health/liveliness is not under $P99_MAX_MS ms"
  check slowloris-header-timeout-408 \
    "v[\"closed_408\"]==$SLOW_N && v[\"first_close_ms\"]>=$SLOW_HEADER_MS-100 && v[\"last_close_ms\"]<$SLOW_HEADER_MS+3000" \
    "the header timeout did not end every slow connection with 408 on time"
  n=$(grep -c 'msg=request .*status=408' "$T_DIR/slowloris.log")
  [ "$n" = $SLOW_N ] && ok slowloris-logged ||
    fail slowloris-logged "$n access log lines with status=408, expected $SLOW_N"
  echo "slowloris: $SLOW_N connections, p50 $(val p50_ms) ms, p99 $(val p99_ms) ms," \
       "max $(val max_ms) ms over $(val probes) requests"
  stop slowloris
fi

# ---- idle keep-alive connections ----------------------------------------
start idle SSOPROXY_MAX_CONNECTIONS=$((IDLE_N + 100)) \
  SSOPROXY_KEEPALIVE_TIMEOUT_MS=120000
if [ -n "$port" ]; then
  line=$("$T_DIR/conns" idle -p "$port" -n $IDLE_N -P "$pid" 2>&1 | tail -n 1)
  echo "$line"
  check idle-all-answered "v[\"answered\"]==$IDLE_N" \
    "not every connection got its answer"
  check idle-all-held "v[\"held\"]==$IDLE_N" \
    "the server closed idle connections before the keep-alive timeout"
  check idle-new-request "v[\"new_request\"]==\"ok\"" \
    "a new client was not served while $IDLE_N connections were held"
  check idle-memory "v[\"kib_per_conn\"]!=\"\" && v[\"kib_per_conn\"]+0<=$KIB_MAX" \
    "more than $KIB_MAX KiB of server memory per idle connection"
  echo "idle: $IDLE_N keep-alive connections, $(val kib_per_conn) KiB each" \
       "(VmRSS $(val rss_before_kib) -> $(val rss_after_kib) KiB)"
  stop idle
fi

finish

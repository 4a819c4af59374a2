#!/bin/sh
# Proxy benchmark (issue 7): what ssoproxy adds in front of an
# OpenAI-compatible upstream, against nginx doing the least a gateway can
# do, all measured in the same run on loopback. `make bench-proxy` runs it.
#
#   sh bench/proxy.sh [--record] [-r ROUNDS] [-d SECONDS] [-c CONNS]
#                     [-n STREAMS]
#
#   --record   append the tables, this command and the machine's facts to
#              bench/RESULTS.md
#   -r ROUNDS  interleaved rounds (default 2); figures are medians
#   -d SECONDS length of one wrk run (default 5, after a 1 s warm-up)
#   -c CONNS   wrk connections for the throughput runs (default 32)
#   -n STREAMS concurrent slow SSE streams (default 10000, capped by the
#              open-file limit: ssoproxy holds two descriptors per stream;
#              0 skips it)
#
# The sides, each measured server alone on core 0 (`taskset -c 0`), wrk on
# core 1, POST /v1/chat/completions with a ~70-byte JSON body
# (bench/proxy.lua), upstream connections kept alive on every side:
#   (a) wrk straight to the upstream: nginx `return 200` with a small
#       chat-completion JSON (its own instance, on core 0);
#   (b) ssoproxy with a valid key (SSOPROXY_UPSTREAM_URL, one worker) in
#       front of a second, identical upstream instance on core 1;
#   (c) nginx `proxy_pass` with a fixed bearer check (`if
#       ($http_authorization != "Bearer sk-...") { return 401; }`), one
#       worker, `keepalive 64`, in front of the same core-1 upstream;
#   (d) GET /oauth2/auth on ssoproxy with a key, against (e) nginx
#       answering `return 202`.
# Throughput at -c CONNS; latency (p50, p99) also at one connection, where
# p50 is the time of one request rather than queueing: "added p50" is
# (b) or (c) minus (a) there. CPU time per request is the measured server's
# utime+stime (/proc/PID/stat, all threads; nginx: master and worker) over
# the wrk run divided by wrk's request count.
#
# Slow streams: bench/sse.c is both ends (an upstream that sends one SSE
# event per second per stream, forever, and a client opening the streams
# through ssoproxy); ssoproxy's VmRSS growth over STREAMS streams that each
# delivered their first event, per stream.
#
# Installs nginx and wrk from the distribution's packages when missing.
# Everything is written under build/bench/proxy, except bench/RESULTS.md
# with --record.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
O=build/bench/proxy
cmd="sh bench/proxy.sh${*:+ $*}"
record=0; rounds=2; secs=5; conns=32; streams=10000
while [ $# -gt 0 ]; do
  case $1 in
    --record) record=1 ;;
    -r) rounds=$2; shift ;;
    -d) secs=$2; shift ;;
    -c) conns=$2; shift ;;
    -n) streams=$2; shift ;;
    -h|--help) sed -n '2,40p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/proxy.sh: unknown argument $1 (see -h)" >&2; exit 2 ;;
  esac
  shift
done

# ---- Tools -------------------------------------------------------------------
bench_tools bench/proxy.sh nginx wrk taskset
if [ "$(nproc)" -lt 2 ]; then
  echo "bench/proxy.sh needs 2 CPUs (servers on core 0, wrk on core 1)" >&2
  exit 1
fi
# Two descriptors per stream in ssoproxy (client and upstream side).
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
ulimit -n "$hard"
maxstreams=$(( (hard - 200) / 2 ))
streams_asked=$streams
[ "$streams" -le "$maxstreams" ] || streams=$maxstreams

make -s ${CC:+"CC=$CC"} ${CFLAGS:+"CFLAGS=$CFLAGS"} ssoproxy
rm -rf "${O:?}"
mkdir -p $O/tmp
${CC:-cc} -O2 -std=c11 -o $O/sse bench/sse.c
HZ=$(getconf CLK_TCK)
MK=sk-bench-master-0123456789abcdef
FIXED=sk-bench-fixed-bearer-0123456789abcdef
JSON='{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}'

pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# A port below the ephemeral range that answers nothing now.
free_port() {
  lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  p=$((lo - 10000 + ($$ + $1 * 97) % 9000))
  while curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/" 2>/dev/null; do p=$((p+1)); done
  echo $p
}

nginx_head() {   # nginx_head NAME
  cat <<EOF
worker_processes 1;
daemon off;
pid $PWD/$O/$1.pid;
error_log $PWD/$O/$1-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  server_tokens off;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  client_body_temp_path $PWD/$O/tmp;
  proxy_temp_path $PWD/$O/tmp;
  fastcgi_temp_path $PWD/$O/tmp;
  uwsgi_temp_path $PWD/$O/tmp;
  scgi_temp_path $PWD/$O/tmp;
EOF
}

# start_nginx NAME CORE CONFIG-BODY: sets NPID (master) and WPID (worker).
start_nginx() {
  { nginx_head "$1"; printf '%s\n}\n' "$3"; } >$O/$1.conf
  taskset -c "$2" "$NGINX" -e "$PWD/$O/$1-error.log" -c "$PWD/$O/$1.conf" &
  NPID=$!
  pids="$pids $NPID"
  i=0
  while [ -z "$(pgrep -P "$NPID" 2>/dev/null | head -n 1)" ]; do
    i=$((i+1)); [ $i -lt 100 ] || { cat $O/$1-error.log >&2; exit 1; }
    sleep 0.05
  done
  WPID=$(pgrep -P "$NPID" | head -n 1)
}

upstream_body() {   # upstream_body PORT
  cat <<EOF
  server {
    listen 127.0.0.1:$1;
    location / {
      default_type application/json;
      return 200 '$JSON';
    }
  }
EOF
}

# start_sso NAME UPSTREAM-URL: sets SPID and SURL (one worker, core 0).
start_sso() {
  : >$O/$1.log
  env LITELLM_MASTER_KEY=$MK SSOPROXY_UPSTREAM_URL="$2" SSOPROXY_WORKERS=1 \
    SSOPROXY_ACCESS_LOG=false SSOPROXY_MAX_CONNECTIONS=$((streams * 2 + 500)) \
    SSOPROXY_KEEPALIVE_TIMEOUT_MS=120000 \
    taskset -c 0 ./ssoproxy --listen 127.0.0.1:0 --db $O/sso.db 2>>$O/$1.log &
  SPID=$!
  pids="$pids $SPID"
  SURL=""
  i=0
  while [ -z "$SURL" ] && [ $i -lt 100 ]; do
    SURL=$(sed -n 's/.*msg="ssoproxy listening" url=\(http:[^ ]*\).*/\1/p' $O/$1.log)
    [ -n "$SURL" ] || sleep 0.1
    i=$((i+1))
  done
  [ -n "$SURL" ] || { cat $O/$1.log >&2; exit 1; }
}

# ---- Servers -------------------------------------------------------------------
PA=$(free_port 1); PB=$(free_port 2); PC=$(free_port 3)
start_nginx upA 0 "$(upstream_body "$PA")"
UPA_M=$NPID; UPA_W=$WPID
start_nginx upB 1 "$(upstream_body "$PB")"
start_nginx front 0 "
  upstream up { server 127.0.0.1:$PB; keepalive 64; }
  server {
    listen 127.0.0.1:$PC;
    location /v1/ {
      if (\$http_authorization != \"Bearer $FIXED\") { return 401; }
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
    }
    location = /oauth2/auth { return 202; }
  }"
FR_M=$NPID; FR_W=$WPID
start_sso sso "http://127.0.0.1:$PB/v1"
KEY=$(curl -s -X POST -H "Authorization: Bearer $MK" -d '{"key_alias":"bench"}' \
      "$SURL/key/generate" | sed -n 's/.*"key":"\(sk-[^"]*\)".*/\1/p')
[ -n "$KEY" ] || { echo "could not make a key" >&2; exit 1; }
# Every side answers the same request before anything is measured.
for u in "http://127.0.0.1:$PA" "$SURL" "http://127.0.0.1:$PC"; do
  case $u in "$SURL") k=$KEY ;; *) k=$FIXED ;; esac
  st=$(curl -s -o $O/check.json -w '%{http_code}' -H "Authorization: Bearer $k" \
       -H 'Content-Type: application/json' --data '{"model":"bench","messages":[]}' \
       "$u/v1/chat/completions")
  [ "$st" = 200 ] && grep -q chatcmpl-bench $O/check.json ||
    { echo "$u answered $st: $(cat $O/check.json)" >&2; exit 1; }
done

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
cputicks() {   # cputicks PID...
  t=0
  for p in "$@"; do t=$((t + $(ticks "$p"))); done
  echo $t
}

# measure SIDE CONNS URL "PIDS" [wrk args...]: appends
# "SIDE CONNS rps p50 p99 us_per_req errors" to $O/runs.txt.
measure() {
  side=$1; c=$2; url=$3; mp=$4; shift 4
  # shellcheck disable=SC2086
  taskset -c 1 wrk -t1 -c"$c" -d1s "$@" "$url" >/dev/null
  # shellcheck disable=SC2086
  t0=$(cputicks $mp)
  taskset -c 1 wrk -t1 -c"$c" -d"${secs}s" --latency "$@" "$url" >$O/wrk.out
  # shellcheck disable=SC2086
  t1=$(cputicks $mp)
  awk -v side="$side" -v c="$c" -v dt=$((t1 - t0)) -v hz="$HZ" '
    function ms(v,  n){ n = v + 0
      if( v ~ /us$/ ) n /= 1000; else if( v ~ /ms$/ ) n += 0; else if( v ~ /s$/ ) n *= 1000
      return n }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    / requests in / { n = $1 }
    /^Requests\/sec:/ { rps = $2 }
    /Non-2xx/ { err += $NF }
    /Socket errors/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
    END {
      if( n == 0 ) { print "no requests measured" > "/dev/stderr"; exit 1 }
      printf "%s %d %.0f %.3f %.3f %.2f %d\n", side, c, rps, p50, p99,
             dt * 1e6 / hz / n, err
    }' $O/wrk.out >>$O/runs.txt
  tail -n 1 $O/runs.txt >&2
}

run_side() {   # run_side SIDE CONNS
  case $1 in
    a) BENCH_KEY=$FIXED measure a "$2" "http://127.0.0.1:$PA/v1/chat/completions" \
         "$UPA_M $UPA_W" -s bench/proxy.lua ;;
    b) BENCH_KEY=$KEY measure b "$2" "$SURL/v1/chat/completions" "$SPID" \
         -s bench/proxy.lua ;;
    c) BENCH_KEY=$FIXED measure c "$2" "http://127.0.0.1:$PC/v1/chat/completions" \
         "$FR_M $FR_W" -s bench/proxy.lua ;;
    d) measure d "$2" "$SURL/oauth2/auth" "$SPID" -H "Authorization: Bearer $KEY" ;;
    e) measure e "$2" "http://127.0.0.1:$PC/oauth2/auth" "$FR_M $FR_W" \
         -H "Authorization: Bearer $FIXED" ;;
  esac
}

export BENCH_KEY=""
: >$O/runs.txt
echo "side conns req/s p50_ms p99_ms cpu_us/req errors" >&2
r=0
while [ $r -lt "$rounds" ]; do
  if [ $((r % 2)) = 0 ]; then order="a b c d e"; else order="e d c b a"; fi
  for s in $order; do run_side "$s" "$conns"; done
  for s in $order; do
    case $s in a|b|c) run_side "$s" 1 ;; esac
  done
  r=$((r+1))
done

# ---- Slow SSE streams through ssoproxy ----------------------------------------------
: >$O/sse.txt
if [ "$streams" -gt 0 ]; then
  $O/sse upstream -i 1000 >$O/sse-up.out &
  pids="$pids $!"
  i=0
  until grep -q port= $O/sse-up.out 2>/dev/null; do
    i=$((i+1)); [ $i -lt 100 ] || { echo "sse upstream did not start" >&2; exit 1; }
    sleep 0.05
  done
  PS=$(sed -n 's/^port=//p' $O/sse-up.out)
  kill "$SPID"; wait "$SPID" 2>/dev/null || true
  start_sso sso-sse "http://127.0.0.1:$PS/v1"
  # One stream first, so the figure is the growth per stream, not start-up.
  timeout 3 curl -s -N -o /dev/null -H "Authorization: Bearer $KEY" \
    -d '{"model":"bench","stream":true}' "$SURL/v1/chat/completions" || true
  line=$(taskset -c 1 $O/sse clients -p "${SURL##*:}" -n "$streams" -k "$KEY" \
         -P "$SPID" -s 3 -t 90)
  echo "$line" >&2
  echo "$line" >$O/sse.txt
  kill "$SPID"; wait "$SPID" 2>/dev/null || true
fi

# ---- Tables -------------------------------------------------------------------------
awk -v rounds="$rounds" -v secs="$secs" -v conns="$conns" \
    -v asked="$streams_asked" -v hard="$hard" '
  function median(key,  n, i, j, t, a){
    n = cnt[key]
    for(i=1; i<=n; i++) a[i] = val[key, i]
    for(i=2; i<=n; i++){ t = a[i]; for(j=i-1; j>=1 && a[j]>t; j--) a[j+1] = a[j]; a[j+1] = t }
    if( n % 2 ) return a[(n+1)/2]
    return (a[n/2] + a[n/2+1]) / 2
  }
  function add(key, v){ cnt[key]++; val[key, cnt[key]] = v }
  FILENAME ~ /runs/ {
    k = $1 "/" $2
    add(k "/rps", $3); add(k "/p50", $4); add(k "/p99", $5); add(k "/cpu", $6)
    err[k] += $7
    next
  }
  FILENAME ~ /sse/ {
    for(i=1; i<=NF; i++){ split($i, kv, "="); sse[kv[1]] = kv[2] }
    bSse = 1
    next
  }
  END {
    name["a"] = "(a) upstream direct (nginx return 200)"
    name["b"] = "(b) ssoproxy, valid key"
    name["c"] = "(c) nginx proxy_pass + fixed bearer check"
    name["d"] = "(d) ssoproxy GET /oauth2/auth, valid key"
    name["e"] = "(e) nginx return 202"
    printf "wrk -t1 --latency, %d s per run after a 1 s warm-up, %d interleaved " \
           "rounds, medians; measured server on core 0 (one worker), wrk on " \
           "core 1; the upstream of (b) and (c) is a second nginx on core 1.\n\n", \
           secs, rounds
    print "| side | conns | req/s | p50 ms | p99 ms | CPU µs/request | errors |"
    print "|---|--:|--:|--:|--:|--:|--:|"
    split("a b c d e", order, " ")
    for(i=1; i<=5; i++){
      s = order[i]
      for(cc=0; cc<2; cc++){
        c = cc ? 1 : conns; k = s "/" c
        if( !cnt[k "/rps"] ) continue
        printf "| %s | %d | %.0f | %.3f | %.3f | %.2f | %d |\n", name[s], c,
               median(k "/rps"), median(k "/p50"), median(k "/p99"),
               median(k "/cpu"), err[k]
      }
    }
    b = "b/" conns; c = "c/" conns
    print ""
    print "| figure | value | target |"
    print "|---|--:|---|"
    printf "| req/s (b)/(c) at %d connections | **%.2f** | ≥ 0.9 |\n", conns,
           median(b "/rps") / median(c "/rps")
    printf "| CPU per request (b)/(c) | **%.2f** | ≤ 1.1 |\n",
           median(b "/cpu") / median(c "/cpu")
    printf "| p50 added over (a), one connection: ssoproxy | **%.3f ms** | < 0.1 ms |\n",
           median("b/1/p50") - median("a/1/p50")
    printf "| p50 added over (a), one connection: nginx | %.3f ms | (reference) |\n",
           median("c/1/p50") - median("a/1/p50")
    printf "| req/s /oauth2/auth (d) / nginx return 202 (e) | **%.2f** | ≥ 0.8 |\n",
           median("d/" conns "/rps") / median("e/" conns "/rps")
    printf "| CPU per request (d)/(e) | %.2f | |\n",
           median("d/" conns "/cpu") / median("e/" conns "/cpu")
    if( bSse ){
      printf "| memory per slow SSE stream (VmRSS growth / %d streams) | **%s KiB** | ≤ 32 KiB |\n",
             sse["streams"], sse["kib_per_stream"]
      print ""
      printf "Slow streams: %d asked, %d opened (ssoproxy holds two descriptors " \
             "per stream; open-file hard limit %s), %d delivering when measured, " \
             "%d dropped; one event per stream per second; %s events read in " \
             "the 3 s after the reading; VmRSS %s KiB before, %s KiB with the " \
             "streams open.\n", asked, sse["streams"], hard, sse["streaming"],
             sse["dead"], sse["events_while_held"], sse["rss0_kib"], sse["rss1_kib"]
    }
  }' $O/runs.txt $O/sse.txt >$O/table.md
echo
cat $O/table.md

if [ $record = 1 ]; then
  f=$(results_file)
  {
    echo
    echo "## Proxy, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Command: \`$cmd\` (\`make bench-proxy\` runs bench/proxy.sh)"
    echo
    echo "- Source: $(source_id src ssoproxy.c ssoproxy.h bench/proxy.sh bench/proxy.lua bench/sse.c)"
    echo "- Machine: $(nproc) CPUs, $(cpu_model), $(uname -srm); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- ssoproxy: \`$(./ssoproxy --version)\`, built with \`$(makevar CC) $(makevar BUILD_CFLAGS)\`"
    echo "- nginx: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), one worker; wrk: $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)"
    echo
    cat $O/table.md
  } >>"$f"
  echo "appended to $f" >&2
fi

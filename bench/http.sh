#!/bin/sh
# HTTP benchmark: wrk on loopback against ssoproxy's /health/liveliness
# and against nginx answering the same bytes, measured in the same run.
# Each server runs one worker pinned to core 0, wrk runs pinned to core 1
# (`taskset -c 1 wrk -t1 -c64 -d10s --latency`); runs are interleaved
# (ssoproxy, nginx, nginx, ssoproxy, ...) and the medians reported, with
# the access log off and on (nginx's too, so both do the same work).
# `make bench-http` runs this.
#
#   sh bench/http.sh [--record] [--callgrind] [-r ROUNDS] [-d SECONDS]
#                    [-c CONNS] [-n IDLE]
#
#   --record   append the tables, this command and the machine's facts to
#              bench/RESULTS.md
#   --callgrind  also count each server's user-space instructions per
#              request under valgrind's callgrind (deterministic, unlike
#              times; blind to the kernel, where most of the time goes)
#   -r ROUNDS  interleaved rounds (default 3)
#   -d SECONDS length of one wrk run (default 10)
#   -c CONNS   wrk connections (default 64)
#   -n IDLE    idle keep-alive connections for the memory figure (default
#              10000; 0 skips it)
#
# Figures: requests/s and p50/p99 as wrk reports them; the server's CPU
# time per request from /proc/PID/stat (utime+stime, all threads, before
# and after the wrk run, divided by wrk's request count), because wrk on
# one core can be the bottleneck and then requests/s only measures wrk;
# memory per idle connection from test/load/conns.c (VmRSS growth over
# IDLE connections that each completed one request).
#
# SSOPROXY=PATH measures another ssoproxy binary (an older build, say)
# instead of ./ssoproxy.
#
# Installs nginx and wrk from the distribution's packages when missing
# (apt-get; needs root or sudo). Everything is written under
# build/bench/http, except bench/RESULTS.md with --record.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
O=build/bench/http
cmd="sh bench/http.sh${*:+ $*}"
record=0
callgrind=0
rounds=3
secs=10
conns=64
idle=10000
while [ $# -gt 0 ]; do
  case $1 in
    --record) record=1 ;;
    --callgrind) callgrind=1 ;;
    -r) rounds=$2; shift ;;
    -d) secs=$2; shift ;;
    -c) conns=$2; shift ;;
    -n) idle=$2; shift ;;
    -h|--help) sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/http.sh: unknown argument $1 (see -h)" >&2; exit 2 ;;
  esac
  shift
done

# ---- Tools -----------------------------------------------------------------
bench_tools bench/http.sh nginx wrk taskset $([ $callgrind = 0 ] || echo valgrind)
if [ "$(nproc)" -lt 2 ]; then
  echo "bench/http.sh needs 2 CPUs (server on core 0, wrk on core 1)" >&2
  exit 1
fi
# 10,000 idle connections: one descriptor each in the server and client.
nofile=$((idle + 400))
[ "$idle" = 0 ] || ulimit -n $nofile 2>/dev/null ||
  { echo "cannot raise ulimit -n to $nofile (hard limit $(ulimit -Hn)); use -n" >&2; exit 1; }

make -s ${CC:+"CC=$CC"} ${CFLAGS:+"CFLAGS=$CFLAGS"} ssoproxy
mkdir -p $O
rm -rf "${O:?}"/run
mkdir -p $O/run $O/nginx-tmp
${CC:-cc} -O2 -std=c11 -o $O/conns test/load/conns.c -lpthread
HZ=$(getconf CLK_TCK)
SSO=${SSOPROXY:-./ssoproxy}
URLPATH=/health/liveliness

# ---- Servers -----------------------------------------------------------------
# nginx: one worker, the same body and Content-Type, the same extra fields
# (Cache-Control, a request id); its access log, when on, goes to a file
# like ssoproxy's (stderr redirected to a file), one write per line.
nginx_conf() {   # nginx_conf PORT LOG(on|off) [single]
  if [ "$2" = on ]; then alog="access_log $PWD/$O/run/nginx-access.log;"
  else alog="access_log off;"; fi
  # Under valgrind: one process, no master (its worker would not be traced).
  if [ "${3-}" = single ]; then master="master_process off;"; else master=""; fi
  cat <<EOF
worker_processes 1;
daemon off;
$master
pid $PWD/$O/run/nginx.pid;
error_log $PWD/$O/run/nginx-error.log warn;
worker_rlimit_nofile $((nofile * 2));
events { worker_connections $((nofile * 2)); }
http {
  $alog
  server_tokens off;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  client_body_temp_path $PWD/$O/nginx-tmp;
  proxy_temp_path $PWD/$O/nginx-tmp;
  fastcgi_temp_path $PWD/$O/nginx-tmp;
  uwsgi_temp_path $PWD/$O/nginx-tmp;
  scgi_temp_path $PWD/$O/nginx-tmp;
  server {
    listen 127.0.0.1:$1;
    location = $URLPATH {
      default_type application/json;
      add_header Cache-Control no-store;
      add_header X-Request-Id \$request_id;
      return 200 '"I\\'m alive!"';
    }
  }
}
EOF
}

# A port for nginx (ssoproxy picks its own with port 0): below the
# ephemeral range, so wrk's own client ports never take it, and one that
# answers nothing now.
free_port() {
  lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  p=$((lo - 10000 + ($$ + ${1:-0} * 7) % 9000))
  while curl -s -o /dev/null "http://127.0.0.1:$p/" 2>/dev/null; do p=$((p+1)); done
  echo $p
}

# start_server KIND LOG: sets $spid (the process whose /proc is read),
# $skill (what to signal) and $url. With $wrap set (a valgrind command)
# the server runs under it, unpinned, as one process.
wrap=""
start_server() {
  case $1 in
    ssoproxy)
      rm -f $O/run/sso.db*
      : >$O/run/sso.log
      if [ "$2" = on ]; then slog=true; else slog=false; fi
      # shellcheck disable=SC2086  # $wrap is words on purpose
      env SSOPROXY_WORKERS=1 SSOPROXY_ACCESS_LOG=$slog \
        SSOPROXY_MAX_CONNECTIONS=$((idle + 200)) SSOPROXY_KEEPALIVE_TIMEOUT_MS=120000 \
        ${wrap:-taskset -c 0} "$SSO" --listen 127.0.0.1:0 --db $O/run/sso.db 2>>$O/run/sso.log &
      skill=$!; spid=$skill
      url=""
      i=0
      while [ -z "$url" ] && [ $i -lt 600 ]; do
        url=$(sed -n 's/.*msg="ssoproxy listening" url=\(http:[^ ]*\).*/\1/p' $O/run/sso.log)
        [ -n "$url" ] || sleep 0.1
        i=$((i+1))
      done
      [ -n "$url" ] || { cat $O/run/sso.log >&2; exit 1; }
      ;;
    nginx)
      # Another program may take the port between the probe and the
      # bind: then nginx exits at once, and the next port is tried.
      try=0
      while :; do
        port=$(free_port $try)
        nginx_conf "$port" "$2" ${wrap:+single} >$O/run/nginx.conf
        rm -f $O/run/nginx-access.log
        # shellcheck disable=SC2086
        ${wrap:-taskset -c 0} "$NGINX" -e $PWD/$O/run/nginx-error.log -c $PWD/$O/run/nginx.conf &
        skill=$!
        url=http://127.0.0.1:$port
        i=0
        until curl -sf -o /dev/null "$url$URLPATH"; do
          kill -0 "$skill" 2>/dev/null || break
          i=$((i+1))
          [ $i -lt 600 ] || { cat $O/run/nginx-error.log >&2; exit 1; }
          sleep 0.1
        done
        kill -0 "$skill" 2>/dev/null && break
        try=$((try+1))
        [ $try -lt 5 ] || { cat $O/run/nginx-error.log >&2; exit 1; }
      done
      spid=$(pgrep -P "$skill" | head -n 1)    # the worker
      [ -n "$spid" ] || spid=$skill            # no master
      ;;
  esac
}

stop_server() {
  kill -TERM "$skill" 2>/dev/null || true
  wait "$skill" 2>/dev/null || true
  rm -f $O/run/nginx-access.log $O/run/sso.log
}

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# All of nginx's processes (the master is idle, but count it).
cputicks() {
  if [ "$spid" = "$skill" ]; then ticks "$spid"
  else echo $(( $(ticks "$spid") + $(ticks "$skill") )); fi
}

# One measured run: appends "KIND LOG rps p50 p99 us_per_req bytes_per_resp errors"
# to $O/runs.txt.
measure() {
  kind=$1; log=$2
  start_server "$kind" "$log"
  # A short warm-up, so the run does not measure page faults and connects.
  taskset -c 1 wrk -t1 -c"$conns" -d1s "$url$URLPATH" >/dev/null
  t0=$(cputicks)
  taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" --latency "$url$URLPATH" >$O/run/wrk.out
  t1=$(cputicks)
  stop_server
  awk -v kind="$kind" -v lg="$log" -v dt=$((t1 - t0)) -v hz="$HZ" '
    function ms(v,  n){ n = v + 0
      if( v ~ /us$/ ) n /= 1000; else if( v ~ /ms$/ ) n += 0; else if( v ~ /s$/ ) n *= 1000
      return n }
    function bytes(v,  n){ n = v + 0
      if( v ~ /KB$/ ) n *= 1024; else if( v ~ /MB$/ ) n *= 1048576; else if( v ~ /GB$/ ) n *= 1073741824
      return n }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    / requests in / { n = $1; rd = bytes($5) }
    /^Requests\/sec:/ { rps = $2 }
    /Non-2xx/ { err += $NF }
    /Socket errors/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
    END {
      if( n == 0 ) { print "no requests measured" > "/dev/stderr"; exit 1 }
      printf "%s %s %.0f %.3f %.3f %.3f %.0f %d\n", kind, lg, rps, p50, p99,
             dt * 1e6 / hz / n, rd / n, err
    }' $O/run/wrk.out >>$O/runs.txt
  tail -n 1 $O/runs.txt >&2
}

# ---- Throughput rounds ---------------------------------------------------------
: >$O/runs.txt
echo "kind log req/s p50_ms p99_ms cpu_us/req bytes/resp errors" >&2
r=0
while [ $r -lt "$rounds" ]; do
  # ABBA order per round, alternating which side goes first.
  if [ $((r % 2)) = 0 ]; then order="ssoproxy nginx nginx ssoproxy"
  else order="nginx ssoproxy ssoproxy nginx"; fi
  # shellcheck disable=SC2086  # four words on purpose
  set -- $order
  measure "$1" off; measure "$2" off
  measure "$3" on;  measure "$4" on
  r=$((r+1))
done

# ---- Memory per idle connection -----------------------------------------------------
: >$O/idle.txt
if [ "$idle" != 0 ]; then
  for kind in ssoproxy nginx; do
    start_server $kind off
    line=$($O/conns idle -p "${url##*:}" -n "$idle" -P "$spid" | tail -n 1)
    echo "$kind $line" >&2
    stop_server
    echo "$kind $(printf '%s\n' "$line" | sed -n 's/.* kib_per_conn=\([^ ]*\).*/\1/p') $(printf '%s\n' "$line" | sed -n 's/.* held=\([^ ]*\).*/\1/p')" >>$O/idle.txt
  done
fi

# ---- Instructions per request (--callgrind) -------------------------------------------
# Each server runs twice under callgrind: once answering one request, once
# also under 4 s of wrk; the difference over wrk's request count is what
# one request costs in user space, start-up and shutdown cancelled out.
: >$O/callgrind.txt
cg_count() {   # cg_count KIND LOG WITH_WRK: prints "INSTRUCTIONS REQUESTS"
  rm -f $O/run/cg.out
  wrap="valgrind --tool=callgrind --callgrind-out-file=$PWD/$O/run/cg.out"
  start_server "$1" "$2" 2>$O/run/valgrind.log
  n=1
  if [ "$3" = 1 ]; then
    n=$(wrk -t1 -c16 -d4s "$url$URLPATH" | awk '/ requests in / { print $1 + 1 }')
  fi
  # nginx without a master: SIGQUIT is its graceful exit.
  if [ "$1" = nginx ]; then kill -QUIT "$skill"; else kill -TERM "$skill"; fi
  wait "$skill" 2>/dev/null || true
  wrap=""
  rm -f $O/run/nginx-access.log $O/run/sso.log
  echo "$(sed -n 's/^summary: //p; s/^totals: //p' $O/run/cg.out | head -n 1) $n"
}
if [ $callgrind = 1 ]; then
  for kind in ssoproxy nginx; do
    for lg in off on; do
      a=$(cg_count $kind $lg 0)
      b=$(cg_count $kind $lg 1)
      echo "$kind $lg $a $b" | awk '{ printf "%s %s %.0f\n", $1, $2, ($5-$3)/($6-$4) }' >>$O/callgrind.txt
      tail -n 1 $O/callgrind.txt >&2
    done
  done
fi

# ---- Tables -------------------------------------------------------------------------
awk -v rounds="$rounds" -v secs="$secs" -v conns="$conns" -v idle="$idle" '
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
    bytes[$1] = $7; err[k] += $8
    next
  }
  FILENAME ~ /idle/ { kib[$1] = $2; held[$1] = $3; next }
  FILENAME ~ /callgrind/ { ir[$1 "/" $2] = $3; bIr = 1; next }
  END {
    printf "wrk -t1 -c%d -d%ds --latency, %d interleaved rounds, medians; " \
           "server on core 0 (one worker), wrk on core 1.\n\n", conns, secs, rounds
    print "| server | access log | req/s | p50 ms | p99 ms | CPU µs/request | bytes/answer | errors |"
    print "|---|---|--:|--:|--:|--:|--:|--:|"
    for(l=0; l<2; l++){
      lg = l ? "on" : "off"
      for(s=0; s<2; s++){
        kd = s ? "nginx" : "ssoproxy"; k = kd "/" lg
        printf "| %s | %s | %.0f | %.3f | %.3f | %.2f | %d | %d |\n", kd, lg,
               median(k "/rps"), median(k "/p50"), median(k "/p99"),
               median(k "/cpu"), bytes[kd], err[k]
      }
    }
    print ""
    print "| access log | req/s ssoproxy/nginx (target ≥ 1.0) | CPU per request ssoproxy/nginx (target ≤ 1.0) |"
    print "|---|--:|--:|"
    for(l=0; l<2; l++){
      lg = l ? "on" : "off"
      printf "| %s | **%.2f** | **%.2f** |\n", lg,
             median("ssoproxy/" lg "/rps") / median("nginx/" lg "/rps"),
             median("ssoproxy/" lg "/cpu") / median("nginx/" lg "/cpu")
    }
    if( idle > 0 ){
      print ""
      printf "Memory per idle keep-alive connection (VmRSS growth over %d " \
             "connections that each completed one request; target ≤ 16 KiB):\n\n", idle
      print "| server | KiB per idle connection | connections held |"
      print "|---|--:|--:|"
      printf "| ssoproxy | **%s** | %s |\n", kib["ssoproxy"], held["ssoproxy"]
      printf "| nginx | %s | %s |\n", kib["nginx"], held["nginx"]
    }
    if( bIr ){
      print ""
      print "User-space instructions per request (callgrind; the kernel is not counted):"
      print ""
      print "| access log | ssoproxy Ir/request | nginx Ir/request | ratio ssoproxy/nginx |"
      print "|---|--:|--:|--:|"
      for(l=0; l<2; l++){
        lg = l ? "on" : "off"
        printf "| %s | %d | %d | **%.2f** |\n", lg, ir["ssoproxy/" lg],
               ir["nginx/" lg], ir["ssoproxy/" lg] / ir["nginx/" lg]
      }
    }
  }' $O/runs.txt $O/idle.txt $O/callgrind.txt >$O/table.md
echo
cat $O/table.md

if [ $record = 1 ]; then
  f=$(results_file)
  cpu=$(cpu_model)
  src=$(source_id src ssoproxy.c ssoproxy.h bench/http.sh test/load/conns.c)
  {
    echo
    echo "## HTTP server, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Command: \`${SSOPROXY:+SSOPROXY=$SSOPROXY }$cmd\` (\`make bench-http\` runs bench/http.sh)"
    echo
    if [ -n "${SSOPROXY-}" ]; then echo "- Source: $src (the script; the binary is named below)"
    else echo "- Source: $src"; fi
    echo "- Machine: $(nproc) CPUs, $cpu, $(uname -srm); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    if [ -n "${SSOPROXY-}" ]; then
      echo "- ssoproxy: \`$("$SSO" --version)\`, the binary $SSO (not this checkout's)"
    else
      echo "- ssoproxy: \`$("$SSO" --version)\`, built with \`$(makevar CC) $(makevar BUILD_CFLAGS)\`"
    fi
    echo "- nginx: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), one worker; wrk: $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)"
    echo
    cat $O/table.md
  } >>$f
  echo "appended to $f" >&2
fi

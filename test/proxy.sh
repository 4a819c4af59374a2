#!/bin/sh
# The /v1 proxy end to end: a real ./ssoproxy in front of two instances
# of test/upstream.c (an OpenAI-compatible server that echoes what it
# got, streams with delays, hangs, fails on demand). Every route, model
# routing and rewriting across two upstreams, model filtering, header
# stripping and injection, streaming as it happens, disconnect
# propagation, each error mapping, rpm limits, usage counting, pooled
# upstream connections, SIGHUP reload under an open stream, and start-up
# errors in the models file.
cd "$(dirname "$0")/.." || exit 1
. test/lib.sh
S=$PWD/ssoproxy
unset LITELLM_MASTER_KEY SSOPROXY_MASTER_KEY SSOPROXY_LISTEN SSOPROXY_DB \
      SSOPROXY_UPSTREAM_URL SSOPROXY_UPSTREAM_KEY SSOPROXY_MODELS_FILE
make -s build/upstream || { echo "cannot build the test upstream"; exit 1; }
MK=sk-master-test-0123456789abcdef
DB=$T_DIR/proxy.db
CURL="curl -s --max-time 10"

# upstream NAME: start one; sets P_NAME (port).
upstream() {
  : > "$T_DIR/up$1.log"
  build/upstream "$1" "$T_DIR/port$1" "$T_DIR/up$1.log" &
  T_PIDS="$T_PIDS $!"
  n=0
  while [ ! -s "$T_DIR/port$1" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done
  eval "P_$1=\$(cat \"\$T_DIR/port$1\")"
}
upstream A
upstream B
# A port nothing listens on: bind and release one.
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 9)

MF=$T_DIR/models.txt
cat > "$MF" <<EOF
# model      api_base                          options
alpha   http://127.0.0.1:$P_A/v1   api_key=os.environ/T_UPKEY_A
beta    http://127.0.0.1:$P_B/v1/  model=beta-upstream-name
slowm   http://127.0.0.1:$P_A/v1   first_byte_timeout_ms=300
dead    http://127.0.0.1:$DEAD/v1  timeout_ms=1000
EOF
export T_UPKEY_A=upkey-alpha-secret

# start NAME [ENV...]: the server on a free port; sets URL, PID, LOG.
start() {
  LOG=$T_DIR/$1.log; shift
  : > "$LOG"
  env "$@" LITELLM_MASTER_KEY=$MK SSOPROXY_WORKERS=2 \
    $S --listen 127.0.0.1:0 --db "$DB" 2>"$LOG" &
  PID=$!
  T_PIDS="$T_PIDS $PID"
  URL=$(listening_url "$LOG")
  [ -n "$URL" ] || { echo "server did not start: $(cat "$LOG")"; exit 1; }
}

# req METHOD PATH KEY [BODY [HEADER...]]: sets ST, B (body), H (head).
req() {
  _m=$1; _p=$2; _k=$3; _b=${4-}
  shift 3; [ $# -gt 0 ] && shift
  set -- -X "$_m" -D "$T_DIR/head" -w '\n%{http_code}' "$@"
  [ -n "$_k" ] && set -- "$@" -H "Authorization: Bearer $_k"
  [ -n "$_b" ] && set -- "$@" -H 'Content-Type: application/json' \
                         --data-binary "$_b"
  out=$($CURL "$@" "$URL$_p")
  ST=$(printf '%s' "$out" | tail -n 1)
  B=$(printf '%s' "$out" | sed '$d')
  H=$(cat "$T_DIR/head")
}

# check NAME WANT_STATUS [PATTERN...]: last answer's status and body.
check() {
  n=$1; want=$2; shift 2
  if [ "$ST" != "$want" ]; then fail "$n" "status $ST, expected $want: $B"; return; fi
  for pat in "$@"; do
    if ! printf '%s\n' "$B" | grep -Eq -- "$pat"; then
      fail "$n" "answer does not match /$pat/: $B"; return
    fi
  done
  ok "$n"
}
# nocheck NAME PATTERN: the last answer does NOT match PATTERN.
nomatch() {
  if printf '%s\n%s\n' "$H" "$B" | grep -Eiq -- "$2"; then fail "$1" "matches /$2/: $B"
  else ok "$1"; fi
}
field() { printf '%s\n' "$B" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
newkey() {   # newkey USER [JSON fields]: a fresh key
  req POST /key/generate "$MK" "{\"user_id\":\"$1\"${2:+,$2}}"
  field key
}
nowms() { date +%s%3N; }

start main SSOPROXY_MODELS_FILE="$MF" SSOPROXY_FORWARD_IDENTITY=true

req POST /user/new "$MK" '{"user_id":"u1","user_role":"internal_user","user_email":"u1@example.com","auto_create_key":false}'
check setup-user 200
K=$(newkey u1)
KA=$(newkey u1 '"models":["alpha"]')
KR=$(newkey u1 '"rpm_limit":2')
KU=$(newkey u1)
[ -n "$K" ] && [ -n "$KA" ] && [ -n "$KR" ] && [ -n "$KU" ] && ok setup-keys \
  || fail setup-keys "no keys"

# ---- Credentials ----
req POST /v1/chat/completions "" '{"model":"alpha"}'
check no-key-401 401 '"error":\{"message":"[^"]+","type":"auth_error","param":null,"code":"401"\}'
req POST /v1/chat/completions "sk-nope" '{"model":"alpha"}'
check bad-key-401 401 'Unable to find token'
req POST /v1/chat/completions "" '{"model":"alpha"}' -H "x-api-key: $K"
check key-in-x-api-key 200 '"upstream":"A"'

# ---- /v1/models ----
req GET /v1/models "$K"
check models-list 200 '^\{"object":"list","data":\[\{"id":"alpha","object":"model","created":1677610602,"owned_by":"openai"\},\{"id":"beta"' \
  '"id":"slowm"' '"id":"dead"'
req GET /models "$KA"
check models-filtered 200 '^\{"object":"list","data":\[\{"id":"alpha","object":"model","created":1677610602,"owned_by":"openai"\}\]\}$'
req GET /v1/models/alpha "$KA"
check model-one 200 '^\{"id":"alpha","object":"model","created":1677610602,"owned_by":"openai"\}$'
req GET /v1/models/beta "$KA"
check model-one-forbidden 403 '"type":"permission_error"' '"code":"403"'
req GET /v1/models/nope "$K"
check model-one-unknown 404 '"code":"model_not_found"'

# ---- Routing, rewriting, headers ----
req POST /v1/chat/completions "$K" '{"model":"alpha","messages":[{"role":"user","content":"hi"}]}' \
  -H 'X-Forwarded-User: evil' -H 'X-Forwarded-Email: evil@x' \
  -H 'X-Auth-Request-User: evil' -H 'Remote-User: evil' \
  -H 'X-Ssoproxy-Role: proxy_admin' -H 'Cookie: session=abc' \
  -H 'Connection: keep-alive, X-Hop' -H 'X-Hop: 1' -H 'OpenAI-Beta: v2'
check route-alpha 200 '"upstream":"A"' '"path":"/v1/chat/completions"' \
  '"model":"alpha"' '"authorization":"Bearer upkey-alpha-secret"' \
  '"x-ssoproxy-user":"u1"' '"x-ssoproxy-email":"u1@example.com"' \
  '"x-ssoproxy-role":"internal_user"' '"openai-beta":"v2"' \
  '"x-request-id":"[0-9a-f]{16}"'
nomatch strip-client-key "$K"
nomatch strip-identity 'evil|"x-forwarded|"x-auth-request|"remote-user|proxy_admin'
nomatch strip-cookie-hop '"cookie"|"x-hop"|session=abc|"keep-alive"'
if printf '%s' "$H" | grep -qi '^set-cookie'; then fail no-upstream-cookie "$H"
else ok no-upstream-cookie; fi
if printf '%s' "$H" | grep -qi '^x-upstream: A'; then ok upstream-header-passed
else fail upstream-header-passed "$H"; fi
BODY='{"model":"beta","messages":[{"role":"user","content":"x\"model\":\"beta\""}],"temperature":0.5}'
req POST /v1/chat/completions "$K" "$BODY"
check route-beta-rewritten 200 '"upstream":"B"' '"model":"beta-upstream-name"' \
  '"body":"\{\\"model\\":\\"beta-upstream-name\\",\\"messages\\":\[\{\\"role\\":\\"user\\",\\"content\\":\\"x\\\\\\"model\\\\\\":\\\\\\"beta\\\\\\"\\"\}\],\\"temperature\\":0.5\}"'
nomatch beta-no-authorization '"authorization"'
BODY='{"messages":[],"model":"alpha","n":1}'
req POST /v1/chat/completions "$K" "$BODY"
check body-byte-for-byte 200 '"body_bytes":37' '"body":"\{\\"messages\\":\[\],\\"model\\":\\"alpha\\",\\"n\\":1\}"'
for p in /v1/completions /v1/embeddings /v1/responses /v1/audio/speech; do
  req POST "$p" "$K" '{"model":"beta","input":"x"}'
  check "route$(echo $p | tr / -)" 200 '"upstream":"B"' "\"path\":\"/v1${p#/v1}\""
done
req POST /chat/completions "$K" '{"model":"alpha"}'
check route-alias-no-v1 200 '"upstream":"A"' '"path":"/v1/chat/completions"'
req POST '/v1/chat/completions?api-version=1' "$K" '{"model":"alpha"}'
check route-query-kept 200 '"path":"/v1/chat/completions\?api-version=1"'

# ---- Model errors ----
req POST /v1/chat/completions "$K" '{"model":"gpt-nope"}'
check unknown-model-404 404 '"type":"invalid_request_error","param":"model","code":"model_not_found"'
req POST /v1/chat/completions "$KA" '{"model":"beta"}'
check forbidden-model-403 403 '"type":"permission_error"' 'Tried to access beta'
req POST /v1/chat/completions "$K" '{"messages":[]}'
check no-model-400 400 "'model' is required"
req POST /v1/chat/completions "$K" '{"model":"alpha","model":"beta"}'
check duplicate-model-400 400 '"param":"model"'
req POST /v1/chat/completions "$KA" '{"model":"alpha","\u006dodel":"beta"}'
check escaped-duplicate-400 400 '"param":"model"'

# ---- Streaming ----
# Four chunks 400 ms apart: the first must arrive long before the end.
$CURL -N -H "Authorization: Bearer $K" -H 'X-Test-Mode: sse' \
  -H 'X-Test-Chunks: 4' -H 'X-Test-Delay-Ms: 400' \
  -d '{"model":"alpha","stream":true}' "$URL/v1/chat/completions" |
  while IFS= read -r line; do
    case $line in data:*) echo "$(nowms) $line" ;; esac
  done > "$T_DIR/sse.txt"
t1=$(head -n 1 "$T_DIR/sse.txt" | cut -d' ' -f1)
tn=$(tail -n 1 "$T_DIR/sse.txt" | cut -d' ' -f1)
n=$(grep -c 'data:' "$T_DIR/sse.txt")
if [ "$n" = 6 ] && [ $((tn - t1)) -ge 1200 ] && grep -q 'data: \[DONE\]' "$T_DIR/sse.txt"; then
  ok sse-first-chunk-early
else
  fail sse-first-chunk-early "lines=$n first=$t1 last=$tn: $(cat "$T_DIR/sse.txt")"
fi
# A client that leaves mid-stream: the upstream sees its connection
# close within a second.
$CURL -N --max-time 1 -H "Authorization: Bearer $K" -H 'X-Test-Mode: hang' \
  -d '{"model":"alpha","stream":true}' "$URL/v1/chat/completions" >/dev/null
n=0
while ! grep -q hang-closed "$T_DIR/upA.log" && [ $n -lt 30 ]; do sleep 0.1; n=$((n+1)); done
ts=$(sed -n 's/^hang-start //p' "$T_DIR/upA.log" | tail -n 1)
tc=$(sed -n 's/^hang-closed //p' "$T_DIR/upA.log" | tail -n 1)
if [ -n "$tc" ] && [ $((tc - ts)) -lt 2000 ]; then ok disconnect-cancels-upstream
else fail disconnect-cancels-upstream "start=$ts closed=$tc"; fi
# An answer larger than the buffer streams through whole.
req POST /v1/chat/completions "$K" '{"model":"beta"}' -H 'X-Test-Mode: big' \
  -H 'X-Test-Size: 3000000'
if [ "$ST" = 200 ] && [ "${#B}" = 3000000 ]; then ok big-answer-streamed
else fail big-answer-streamed "status $ST, ${#B} bytes"; fi

# A slow reader: the upstream is paused and resumed (back-pressure);
# every byte still arrives, in order.
n=$($CURL --limit-rate 2M -H "Authorization: Bearer $K" -H 'X-Test-Mode: big' \
    -H 'X-Test-Size: 4000000' -d '{"model":"beta"}' \
    "$URL/v1/chat/completions" | tee "$T_DIR/slow.bin" | wc -c)
if [ "$n" = 4000000 ] && tail -c 60 "$T_DIR/slow.bin" | grep -q '"completion_tokens":200}}$'; then
  ok slow-reader-backpressure
else fail slow-reader-backpressure "$n bytes"; fi

# ---- Upstream errors ----
req POST /v1/chat/completions "$K" '{"model":"dead"}'
check refused-502 502 '"error":\{"message":"[^"]*127\.0\.0\.1:'"$DEAD"'[^"]*","type":"api_error","param":null,"code":"502"\}'
t0=$(nowms)
req POST /v1/chat/completions "$K" '{"model":"slowm"}' -H 'X-Test-Mode: slow' \
  -H 'X-Test-Delay-Ms: 3000'
t1=$(nowms)
check first-byte-timeout-504 504 '"type":"timeout_error"' '"code":"504"' 'within 300 ms'
[ $((t1 - t0)) -lt 2000 ] && ok timeout-is-prompt || fail timeout-is-prompt "$((t1-t0)) ms"
req POST /v1/chat/completions "$K" '{"model":"alpha"}' -H 'X-Test-Mode: reset'
check reset-502 502 '"code":"502"'
req POST /v1/chat/completions "$K" '{"model":"alpha"}' -H 'X-Test-Mode: status500'
check upstream-500-passthrough 500 '^\{"error":\{"message":"upstream exploded","type":"server_error"\}\}$'

# ---- Pooled upstream connections ----
a0=$(grep -c accept "$T_DIR/upB.log")
for i in 1 2 3 4 5 6; do req POST /v1/chat/completions "$K" '{"model":"beta"}'; done
a1=$(grep -c accept "$T_DIR/upB.log")
[ $((a1 - a0)) -le 2 ] && ok upstream-connections-reused \
  || fail upstream-connections-reused "$((a1-a0)) new connections for 6 requests"

# ---- Limits ----
req POST /v1/chat/completions "$KR" '{"model":"alpha"}'; s1=$ST
req POST /v1/chat/completions "$KR" '{"model":"alpha"}'; s2=$ST
req POST /v1/chat/completions "$KR" '{"model":"alpha"}'
if [ "$s1$s2" = 200200 ]; then check rpm-limit-429 429 '"type":"rate_limit_error"' '"code":"429"'
else fail rpm-limit-429 "first two: $s1 $s2"; fi
if printf '%s' "$H" | grep -Eqi '^retry-after: [0-9]+'; then ok retry-after
else fail retry-after "$H"; fi

# ---- Usage ----
req POST /v1/chat/completions "$KU" '{"model":"alpha"}'
req POST /v1/embeddings "$KU" '{"model":"beta"}'
$CURL -N -H "Authorization: Bearer $KU" -H 'X-Test-Mode: sse' \
  -d '{"model":"alpha","stream":true}' "$URL/v1/chat/completions" >/dev/null
sleep 1.6
req GET /key/info "$KU"
check usage-in-key-info 200 '"usage":\{"requests":3,"prompt_tokens":25,"completion_tokens":23,"total_tokens":48\}' \
  '"last_used_at":"20'
req GET "/key/list?user_id=u1&return_full_object=true" "$MK"
check usage-in-key-list 200 '"usage":\{"requests":3,"prompt_tokens":25,"completion_tokens":23,"total_tokens":48\}'

# ---- SIGHUP reload with a stream open ----
$CURL -N -H "Authorization: Bearer $K" -H 'X-Test-Mode: sse' \
  -H 'X-Test-Chunks: 6' -H 'X-Test-Delay-Ms: 300' \
  -d '{"model":"alpha","stream":true}' "$URL/v1/chat/completions" \
  > "$T_DIR/long.txt" &
LONG=$!
sleep 0.3
req POST /v1/chat/completions "$K" '{"model":"gamma"}'
check before-reload-404 404 'model_not_found'
printf 'gamma http://127.0.0.1:%s/v1 model=g2\n' "$P_B" >> "$MF"
kill -HUP "$PID"
n=0
while ! grep -q 'models file reloaded' "$LOG" && [ $n -lt 30 ]; do sleep 0.1; n=$((n+1)); done
req POST /v1/chat/completions "$K" '{"model":"gamma"}'
check reload-new-model 200 '"upstream":"B"' '"model":"g2"'
printf 'delta http://127.0.0.1:1/v1 colour=red\n' >> "$MF"
kill -HUP "$PID"
n=0
while ! grep -q 'not reloaded' "$LOG" && [ $n -lt 30 ]; do sleep 0.1; n=$((n+1)); done
if grep -q 'models.txt:7: unknown option' "$LOG"; then ok reload-bad-file-logged
else fail reload-bad-file-logged "$(tail -n 3 "$LOG")"; fi
req POST /v1/chat/completions "$K" '{"model":"gamma"}'
check reload-bad-file-keeps-old 200 '"upstream":"B"'
wait $LONG
if [ "$(grep -c '^data:' "$T_DIR/long.txt")" = 8 ] && grep -q '\[DONE\]' "$T_DIR/long.txt"; then
  ok reload-stream-survives
else fail reload-stream-survives "$(cat "$T_DIR/long.txt")"; fi
kill -0 "$PID" 2>/dev/null && ok server-alive-after-hup || fail server-alive-after-hup dead
kill -TERM "$PID"; wait "$PID"

# ---- One upstream for every model (SSOPROXY_UPSTREAM_URL) ----
start single SSOPROXY_UPSTREAM_URL="http://127.0.0.1:$P_A/v1" \
  SSOPROXY_UPSTREAM_KEY=upkey-default
req GET /v1/models "$K"
check upstream-models 200 '^\{"object":"list","data":\[\{"id":"A-m1","object":"model","created":1700000000,"owned_by":"A"\},\{"id":"shared"'
KSH=$(newkey u1 '"models":["shared"]')
req GET /v1/models "$KSH"
check upstream-models-filtered 200 '^\{"object":"list","data":\[\{"id":"shared","object":"model","created":1700000001,"owned_by":"A"\}\]\}$'
req POST /v1/chat/completions "$K" '{"model":"anything-at-all"}'
check upstream-any-model 200 '"upstream":"A"' '"authorization":"Bearer upkey-default"' '"model":"anything-at-all"'
nomatch upstream-no-identity '"x-ssoproxy-'
req POST /v1/chat/completions "$KSH" '{"model":"A-m1"}'
check upstream-filter-403 403 'permission_error'
req GET /v1/models/shared "$KSH"
check upstream-model-one 200 '"id":"shared"' '"owned_by":"A"'
kill -TERM "$PID"; wait "$PID"

# ---- Start-up errors ----
printf 'ok http://127.0.0.1:1/v1\nok http://127.0.0.1:2/v1\n' > "$T_DIR/dup.txt"
expect start-duplicate-model 2 'dup.txt:2: model .ok. is already defined on line 1' \
  env SSOPROXY_MODELS_FILE="$T_DIR/dup.txt" $S --listen 127.0.0.1:0 --db "$DB"
printf '# x\nm http://h/v1 api_key=os.environ/T_NOT_SET_ANYWHERE\n' > "$T_DIR/env.txt"
expect start-missing-env 2 'env.txt:2: api_key: environment variable T_NOT_SET_ANYWHERE is not set' \
  env SSOPROXY_MODELS_FILE="$T_DIR/env.txt" $S --listen 127.0.0.1:0 --db "$DB"
expect start-missing-file 2 'SSOPROXY_MODELS_FILE: cannot read' \
  env SSOPROXY_MODELS_FILE="$T_DIR/none.txt" $S --listen 127.0.0.1:0 --db "$DB"
expect start-key-without-url 2 'SSOPROXY_UPSTREAM_KEY is set but SSOPROXY_UPSTREAM_URL is not' \
  env SSOPROXY_UPSTREAM_KEY=x $S --listen 127.0.0.1:0 --db "$DB"
expect start-bad-url 2 'SSOPROXY_UPSTREAM_URL: not an http' \
  env SSOPROXY_UPSTREAM_URL=localhost:8000 $S --listen 127.0.0.1:0 --db "$DB"

finish

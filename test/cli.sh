#!/bin/sh
# The command line: help, version, config and its sources, precise errors
# with exit status 2, and serve/stop by signal.
cd "$(dirname "$0")/.." || exit 1
. test/lib.sh
S=$PWD/ssoproxy
unset LITELLM_MASTER_KEY SSOPROXY_MASTER_KEY SSOPROXY_LISTEN SSOPROXY_DB

expect version 0 '^ssoproxy [0-9]+\.[0-9]+\.[0-9]+ \(source [0-9a-f]{64}\)$' $S --version
expect help 0 'SSOPROXY_LISTEN +Address to listen on' $S --help
expect unknown-option 2 '^ssoproxy: unknown option --frobnicate; see ssoproxy --help$' \
  $S --frobnicate
expect unknown-command 2 'unknown command frob' $S frob
expect option-needs-value 2 'option --listen needs a value' $S --listen

cat > "$T_DIR/good.conf" <<CONF
# comment
SSOPROXY_LISTEN=0.0.0.0:9000
LITELLM_MASTER_KEY=sk-very-secret
CONF
expect config-file 0 "SSOPROXY_LISTEN=0.0.0.0:9000  # file $T_DIR/good.conf:2" \
  $S --config "$T_DIR/good.conf" config
expect config-masks-secret 0 'LITELLM_MASTER_KEY=\*{8}  # file' \
  $S --config "$T_DIR/good.conf" config
out=$($S --config "$T_DIR/good.conf" config 2>&1)
case $out in *very-secret*) fail config-never-prints-secret "$out" ;;
  *) ok config-never-prints-secret ;; esac
expect config-env-over-file 0 'SSOPROXY_LISTEN=127.0.0.1:9100  # env' \
  env SSOPROXY_LISTEN=127.0.0.1:9100 $S --config "$T_DIR/good.conf" config
expect config-flag-over-env 0 'SSOPROXY_LISTEN=127.0.0.1:9200  # flag --listen' \
  env SSOPROXY_LISTEN=127.0.0.1:9100 $S --listen 127.0.0.1:9200 config
expect config-default 0 'SSOPROXY_DB=ssoproxy.db  # default' $S config

expect bad-env-value 2 \
  '^ssoproxy: invalid value for SSOPROXY_LISTEN: "nowhere" \(expected host:port' \
  env SSOPROXY_LISTEN=nowhere $S config
expect misspelt-env 2 '^ssoproxy: unknown setting SSOPROXY_LSTEN in the environment$' \
  env SSOPROXY_LSTEN=1 $S
printf 'SSOPROXY_WORKERS=lots\n' > "$T_DIR/bad.conf"
expect bad-file-value 2 "^ssoproxy: $T_DIR/bad.conf:1: invalid value for SSOPROXY_WORKERS" \
  $S --config "$T_DIR/bad.conf"
expect missing-config-file 2 'cannot read config file /nonexistent.conf' \
  $S --config /nonexistent.conf
out=$(env SSOPROXY_LISTEN=x $S 2>&1 >/dev/null)
[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && ok one-line-error ||
  fail one-line-error "$out"

# serve: port 0, the URL from the log line, health probes, a second
# server on the same port refused, SIGTERM -> exit 0.
: > "$T_DIR/serve.log"
$S --listen 127.0.0.1:0 --db "$T_DIR/serve.db" 2>"$T_DIR/serve.log" &
pid=$!
T_PIDS="$T_PIDS $pid"
url=$(listening_url "$T_DIR/serve.log")
if [ -n "$url" ]; then ok serve-prints-url; else
  fail serve-prints-url "$(cat "$T_DIR/serve.log")"; fi
expect serve-liveliness 0 "^\"I'm alive!\"$" curl -sf "$url/health/liveliness"
expect serve-readiness 0 '"status":"healthy","db":"connected"' \
  curl -sf "$url/health/readiness"
expect serve-unknown-route 0 '^404$' \
  curl -s -o /dev/null -w '%{http_code}' "$url/nope"
expect serve-port-in-use 1 'ssoproxy: .*(in use|cannot)' \
  $S --listen "${url#http://}" --db "$T_DIR/serve2.db"
kill -TERM "$pid"
wait "$pid"
st=$?
if [ "$st" = 0 ] && grep -q 'msg="ssoproxy stopped"' "$T_DIR/serve.log"; then
  ok serve-sigterm-exit-0
else
  fail serve-sigterm-exit-0 "exit $st; $(tail -n 3 "$T_DIR/serve.log")"
fi
[ -f "$T_DIR/serve.db" ] && ok serve-created-db || fail serve-created-db "no file"

printf 'this is not a database at all, just some words in a file\n' \
  > "$T_DIR/text.db"
cp "$T_DIR/text.db" "$T_DIR/text.orig"
expect not-a-database 1 'not an SQLite database' \
  $S --listen 127.0.0.1:0 --db "$T_DIR/text.db"
cmp -s "$T_DIR/text.db" "$T_DIR/text.orig" && ok not-a-database-untouched ||
  fail not-a-database-untouched "the file changed"

# The README's configuration table lists every setting there is.
missing=""
for n in $($S config | sed 's/=.*//'); do
  grep -q "| \`$n\`" README.md || missing="$missing $n"
done
[ -z "$missing" ] && ok readme-lists-every-setting ||
  fail readme-lists-every-setting "not in README.md:$missing"

finish

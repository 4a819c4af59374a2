#!/bin/sh
# The HTTPS listener from the outside, with curl: a CA and certificates
# made here with the openssl command, keep-alive over TLS, a client that
# sends plain HTTP instead of a ClientHello (closed, others unaffected),
# and the start-up errors, each one line with exit status 2.
cd "$(dirname "$0")/.." || exit 1
. test/lib.sh
S=$PWD/ssoproxy
unset LITELLM_MASTER_KEY SSOPROXY_MASTER_KEY SSOPROXY_LISTEN SSOPROXY_DB \
      SSOPROXY_TLS_CERT SSOPROXY_TLS_KEY SSOPROXY_CA_FILE SSL_CERT_FILE \
      SSOPROXY_TLS_INSECURE

if ! command -v openssl >/dev/null 2>&1; then
  echo "openssl not found: skipping the HTTPS listener suite"
  finish
  exit 0
fi

D=$T_DIR
# A CA, a server certificate it signs (RSA, for localhost and 127.0.0.1),
# and an unrelated key.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$D/ca.key" -out "$D/ca.pem" -days 2 -subj "/CN=tls.sh test CA" \
  >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -keyout "$D/srv.key" -out "$D/srv.csr" \
  -subj "/CN=localhost" >/dev/null 2>&1
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$D/ext.cnf"
openssl x509 -req -in "$D/srv.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" \
  -CAcreateserial -out "$D/srv.pem" -days 2 -extfile "$D/ext.cnf" \
  >/dev/null 2>&1
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
  -out "$D/other.key" >/dev/null 2>&1
if [ -s "$D/srv.pem" ] && [ -s "$D/other.key" ]; then ok make-pki; else
  fail make-pki "openssl could not make the test certificates"; finish; exit 1
fi

# serve LOG: start ssoproxy over TLS on a free port; sets $url and $pid.
serve() {
  log=$1; shift
  env SSOPROXY_TLS_CERT="$D/srv.pem" SSOPROXY_TLS_KEY="$D/srv.key" "$@" \
    "$S" --listen 127.0.0.1:0 --db "$D/serve.db" 2>"$log" &
  pid=$!
  T_PIDS="$T_PIDS $pid"
  url=$(listening_url "$log")
}

serve "$D/serve.log"
case $url in
  https://127.0.0.1:*) ok log-says-https ;;
  *) fail log-says-https "url '$url': $(cat "$D/serve.log")" ;;
esac
port=${url##*:}
expect liveliness-over-tls 0 "^\"I'm alive!\"$" \
  curl -sS --cacert "$D/ca.pem" "$url/health/liveliness"
expect by-name-over-tls 0 '"status":"healthy"' \
  curl -sS --cacert "$D/ca.pem" "https://localhost:$port/health/readiness"
expect tls-1.2-at-least 0 'SSL connection using TLSv1\.[23]' \
  curl -sS -v -o /dev/null --cacert "$D/ca.pem" "$url/health/liveliness"
expect keep-alive-over-tls 0 'Re-using existing connection' \
  curl -sS -v -o /dev/null -o /dev/null --cacert "$D/ca.pem" \
  "$url/health/liveliness" "$url/health/readiness"
expect untrusted-without-cacert 60 '' \
  curl -sS -o /dev/null "$url/health/liveliness"
expect no-tls-1.1 35 '' \
  curl -sS -o /dev/null --cacert "$D/ca.pem" --tlsv1.1 --tls-max 1.1 \
  "$url/health/liveliness"
# Plain HTTP where a ClientHello belongs: the connection is closed, with
# no answer, and the server goes on serving others.
out=$(curl -sS -m 5 "http://127.0.0.1:$port/health/liveliness" 2>&1); st=$?
case $st in
  52|56) ok garbage-client-closed ;;
  *) fail garbage-client-closed "curl exit $st: $out" ;;
esac
expect others-unaffected 0 "^\"I'm alive!\"$" \
  curl -sS --cacert "$D/ca.pem" "$url/health/liveliness"
kill -TERM "$pid"
wait "$pid"
st=$?
[ "$st" = 0 ] && ok tls-sigterm-exit-0 || fail tls-sigterm-exit-0 "exit $st"

# The insecure switch is said out loud at every start.
serve "$D/insecure.log" SSOPROXY_TLS_INSECURE=1
if grep -q 'level=warn msg="SSOPROXY_TLS_INSECURE is on' "$D/insecure.log"
then ok insecure-warns; else fail insecure-warns "$(cat "$D/insecure.log")"; fi
kill -TERM "$pid"
wait "$pid"
serve "$D/ca.log" SSOPROXY_CA_FILE="$D/ca.pem"
if grep -q "msg=\"trusted CA certificates loaded\" from=$D/ca.pem count=1" \
     "$D/ca.log"
then ok ca-file-logged; else fail ca-file-logged "$(cat "$D/ca.log")"; fi
kill -TERM "$pid"
wait "$pid"

# Start-up errors: one line each, exit status 2.
expect cert-without-key 2 \
  '^ssoproxy: SSOPROXY_TLS_CERT is set but SSOPROXY_TLS_KEY is not' \
  env SSOPROXY_TLS_CERT="$D/srv.pem" "$S" --listen 127.0.0.1:0 --db "$D/e.db"
expect key-without-cert 2 \
  '^ssoproxy: SSOPROXY_TLS_KEY is set but SSOPROXY_TLS_CERT is not' \
  env SSOPROXY_TLS_KEY="$D/srv.key" "$S" --listen 127.0.0.1:0 --db "$D/e.db"
expect unreadable-cert 2 \
  "^ssoproxy: cannot read TLS certificate $D/none.pem: No such file" \
  env SSOPROXY_TLS_CERT="$D/none.pem" SSOPROXY_TLS_KEY="$D/srv.key" \
  "$S" --listen 127.0.0.1:0 --db "$D/e.db"
expect invalid-cert 2 \
  "^ssoproxy: TLS certificate $D/ext.cnf holds no valid certificate" \
  env SSOPROXY_TLS_CERT="$D/ext.cnf" SSOPROXY_TLS_KEY="$D/srv.key" \
  "$S" --listen 127.0.0.1:0 --db "$D/e.db"
expect invalid-key 2 \
  "^ssoproxy: TLS key $D/srv.pem is not a valid private key" \
  env SSOPROXY_TLS_CERT="$D/srv.pem" SSOPROXY_TLS_KEY="$D/srv.pem" \
  "$S" --listen 127.0.0.1:0 --db "$D/e.db"
expect key-mismatch 2 \
  "^ssoproxy: TLS key $D/other.key does not match the certificate $D/srv.pem" \
  env SSOPROXY_TLS_CERT="$D/srv.pem" SSOPROXY_TLS_KEY="$D/other.key" \
  "$S" --listen 127.0.0.1:0 --db "$D/e.db"
expect bad-ca-file 2 \
  "^ssoproxy: SSOPROXY_CA_FILE: cannot read CA file $D/none.pem" \
  env SSOPROXY_CA_FILE="$D/none.pem" "$S" --listen 127.0.0.1:0 --db "$D/e.db"
expect ssl-cert-file-alias 2 \
  "^ssoproxy: SSOPROXY_CA_FILE: cannot load CA certificates from $D/ext.cnf" \
  env SSL_CERT_FILE="$D/ext.cnf" "$S" --listen 127.0.0.1:0 --db "$D/e.db"
[ -e "$D/e.db" ] && fail config-errors-before-db "a database was created" ||
  ok config-errors-before-db

finish

#!/bin/sh
# API keys for IDE extensions and CLIs, end to end against a real
# ./ssoproxy, with browser sessions from the password sign-in (curl plays
# the browser): the seed PR's /sso/key/generate flow with its consent,
# every refused redirect_uri/callback_url class (400, never a redirect),
# state tampered, replayed, expired and from another session, consent
# without CSRF, the existing-key shortcut and its limits, CORS, Roo Code's
# exact requests against /auth and /api/v1/auth/keys, PKCE wrong, missing
# and downgraded, code reuse revoking the key, OAuth authorize/token/
# revoke, the device flow's polling states, user-code guessing limits,
# keys listed and audited, and `ssoproxy login` in both modes.
cd "$(dirname "$0")/.." || exit 1
. test/lib.sh
S=$PWD/ssoproxy
unset LITELLM_MASTER_KEY SSOPROXY_MASTER_KEY SSOPROXY_LISTEN SSOPROXY_DB \
      PROXY_BASE_URL OAUTH_ALLOWED_ORIGINS OAUTH_ALLOWED_REDIRECT_SCHEMES \
      SSOPROXY_ALLOWED_REDIRECT_URIS DISPLAY WAYLAND_DISPLAY
MK=sk-master-oauth-0123456789abcdef
PW=oauth-test-password
CURL="curl -s --max-time 10"
ROO_CB='vscode://RooVeterinaryInc.roo-cline/openrouter'
# RFC 7636 Appendix B
VERIFIER=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk
CHALLENGE=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM

# start NAME [ENV...]: a server on a free port; sets URL and PID.
start() {
  log=$T_DIR/$1.log; db=$T_DIR/$1.db; shift
  : > "$log"
  env "$@" LITELLM_MASTER_KEY=$MK UI_PASSWORD=$PW SSOPROXY_WORKERS=2 \
    "$S" --listen 127.0.0.1:0 --db "$db" 2>"$log" &
  PID=$!
  T_PIDS="$T_PIDS $PID"
  URL=$(listening_url "$log")
  [ -n "$URL" ] || { echo "server did not start: $(cat "$log")"; exit 1; }
}

# enc TEXT: URL-encoded (RFC 3986 unreserved kept).
enc() {
  printf '%s' "$1" | od -An -tx1 -v | tr -s ' \n' '  ' | {
    read -r hex || true
    out=""
    for h in $hex; do
      case $h in
        2d|2e|5f|7e|3[0-9]|4[1-9a-f]|5[0-9a]|6[1-9a-f]|7[0-9a])
          out="$out$(printf "\\$(printf '%03o' "0x$h")")" ;;
        *) out="$out%$(echo "$h" | tr a-f A-F)" ;;
      esac
    done
    printf '%s' "$out"
  }
}

# jget KEY: a string (or number) member of the JSON on stdin.
jget() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\)\"\{0,1\}.*/\1/p" | head -n 1; }

# login JAR: sign a browser (cookie jar) in with the password.
login() {
  rm -f "$1"
  $CURL -c "$1" -b "$1" "$URL/login?rd=/ui" > "$T_DIR/login.html"
  c=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$T_DIR/login.html")
  $CURL -c "$1" -b "$1" -o /dev/null --data-urlencode username=admin \
    --data-urlencode "password=$PW" --data-urlencode "csrf=$c" \
    --data-urlencode rd=/ui "$URL/login"
}

# get PATH [CURL-ARGS...]: sets ST, H (headers) and B (body).
get() {
  p=$1; shift
  $CURL -D "$T_DIR/h" -o "$T_DIR/b" "$@" "$URL$p" >/dev/null
  ST=$(sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$T_DIR/h")
  H=$(tr -d '\r' < "$T_DIR/h")
  B=$(cat "$T_DIR/b")
}
loc() { printf '%s\n' "$H" | sed -n 's/^[Ll]ocation: //p'; }
hdr() { printf '%s\n' "$H" | grep -i "^$1:" | sed 's/^[^:]*: //'; }

# check NAME STATUS [PATTERN...]: the last answer's status and body.
check() {
  n=$1; want=$2; shift 2
  if [ "$ST" != "$want" ]; then fail "$n" "status $ST, expected $want: $B"
    return 1; fi
  for pat in "$@"; do
    if ! printf '%s' "$B" | grep -Eq -- "$pat"; then
      fail "$n" "body does not match /$pat/: $B"; return 1; fi
  done
  ok "$n"
}
# refused NAME: 400 and no Location.
refused() {
  if [ "$ST" = 400 ] && [ -z "$(loc)" ]; then ok "$1"
  else fail "$1" "status $ST, location '$(loc)': $B"; fi
}

# consent JAR: the consent id and CSRF token of the page in $B.
consent_fields() {
  CID=$(printf '%s' "$B" | sed -n 's/.*name="consent" value="\([^"]*\)".*/\1/p')
  CSRF=$(printf '%s' "$B" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p')
}
# approve JAR [ACTION]: post the consent in $CID with $CSRF.
approve() {
  get /oauth/consent -b "$1" --data-urlencode "consent=$CID" \
    --data-urlencode "csrf=$CSRF" --data-urlencode "action=${2:-approve}"
}
# authed KEY: the status /key/list gives with that key.
authed() {
  $CURL -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" \
    "$URL/key/list"
}

start main OAUTH_ALLOWED_ORIGINS="https://app.example.com, https://b.example" \
  SSOPROXY_ALLOWED_REDIRECT_URIS=https://app.example.com/cb \
  OAUTH_ALLOWED_REDIRECT_SCHEMES=myide SSOPROXY_DEVICE_INTERVAL=1
J=$T_DIR/jar
J2=$T_DIR/jar2
login "$J"
login "$J2"
if grep -q ssoproxy_session "$J"; then ok "password sign-in gives a session"
else fail "password sign-in gives a session" "$(cat "$J")"; fi

# ---- 1. The seed PR's flow ----
get "/sso/key/generate?response_type=oauth_token"
if [ "$ST" = 302 ] && loc | grep -q '^/login?rd=%2Fsso%2Fkey%2Fgenerate%3Fresponse_type%3Doauth_token$'
then ok "seed: no session -> sign in, then back"; else fail "seed: no session" "$ST $(loc)"; fi
get "/sso/key/generate?response_type=code" -b "$J"
check "seed: other response_type is 400" 400 '"error":"unsupported_response_type"' '"error_description"'
get "/sso/key/generate?response_type=oauth_token" -b "$J"
check "seed: JSON token with a session" 200 '^\{"access_token":"sk-[A-Za-z0-9_-]{43}","token_type":"Bearer","expires_in":86400\}$'
K1=$(printf '%s' "$B" | jget access_token)
if [ "$(hdr Cache-Control)" = no-store ] && [ "$(hdr Pragma)" = no-cache ]
then ok "seed: no-store, no-cache"; else fail "seed: no-store" "$H"; fi
[ "$(authed "$K1")" = 200 ] && ok "seed: the key works" || fail "seed: the key works" "$(authed "$K1")"

# Every refused redirect_uri form: 400, no redirect, no consent.
long="http://127.0.0.1/$(head -c 2100 /dev/zero | tr '\0' a)"
for bad in "https://evil.example/cb" "javascript:alert(1)" "data:text/html,x" \
  "file:///etc/passwd" "http://localhost:1234/cb" "http://evil.example/cb" \
  "http://127.0.0.1:1/cb#frag" "http://evil.example@127.0.0.1/cb" \
  "http://127.0.0.1@evil.example/cb" "vscode://" "vscode://ext" \
  "https://app.example.com/cb/x" "ftp://127.0.0.1/" "evilide://x/cb" \
  "http://[::ffff:127.0.0.1]/cb" "http://2130706433/cb" "$long"; do
  get "/sso/key/generate?response_type=oauth_token&redirect_uri=$(enc "$bad")" -b "$J"
  refused "seed: refused redirect_uri $(printf '%.40s' "$bad")"
done
get "/sso/key/generate?response_type=oauth_token&redirect_uri=http://127.0.0.1/cb%0d%0aSet-Cookie:x=1" -b "$J"
refused "seed: refused redirect_uri with CR/LF"
get "/sso/key/generate?response_type=oauth_token&redirect_uri=vscode://a.b/c&redirect_uri=https://evil.example/" -b "$J"
refused "seed: refused repeated redirect_uri"

# Consent, then the key in the redirect's query.
get "/sso/key/generate?response_type=oauth_token&redirect_uri=$(enc 'vscode://a.b/cb?x=1')" -b "$J"
check "seed: consent page names destination and account" 200 \
  'id="destination">vscode://a.b/cb\?x=1<' '<b>admin</b>'
if printf '%s\n' "$H" | grep -qi '^X-Frame-Options: DENY' && \
   printf '%s\n' "$H" | grep -qi "^Content-Security-Policy:.*frame-ancestors 'none'"
then ok "seed: consent page cannot be framed"; else fail "consent framing" "$H"; fi
consent_fields
SAVE_CSRF=$CSRF
CSRF=""; approve "$J"
check "seed: approval without CSRF token is 403" 403
CSRF=wrong-token; approve "$J"
check "seed: approval with a wrong CSRF token is 403" 403
CSRF=$SAVE_CSRF
CID_SAVE=$CID; CID="${CID}x"; approve "$J"
check "seed: tampered state is 400" 400
CID=$CID_SAVE
CSRF2=$($CURL -b "$J2" "$URL/device" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p')
get /oauth/consent -b "$J2" --data-urlencode "consent=$CID" --data-urlencode "csrf=$CSRF2" \
  --data-urlencode action=approve
if [ "$ST" = 403 ] || [ "$ST" = 400 ]; then ok "seed: state of another session refused"
else fail "seed: other session" "$ST $B"; fi
# That attempt used the consent up (single use): start again.
get "/sso/key/generate?response_type=oauth_token&redirect_uri=$(enc 'vscode://a.b/cb?x=1')" -b "$J"
consent_fields
approve "$J"
if [ "$ST" = 302 ] && loc | grep -Eq '^vscode://a\.b/cb\?x=1&access_token=sk-[A-Za-z0-9_-]{43}&token_type=Bearer&expires_in=86400$'
then ok "seed: approved -> 302 with the key added to the query"
else fail "seed: approved" "$ST $(loc)"; fi
K2=$(loc | sed -n 's/.*access_token=\([^&]*\).*/\1/p')
[ "$(authed "$K2")" = 200 ] && ok "seed: redirected key works" || fail "seed: redirected key" x
approve "$J"
refused "seed: replayed state is 400 without redirect"
get "/sso/key/generate?response_type=oauth_token&redirect_uri=$(enc 'myide://x/cb')" -b "$J"
consent_fields
approve "$J" deny
check "seed: denied -> nothing sent" 200 'denied'
[ -z "$(loc)" ] || fail "seed: denied has no Location" "$(loc)"
get "/sso/key/generate?response_type=oauth_token&redirect_uri=$(enc 'http://[::1]:45678/cb')" -b "$J"
check "seed: loopback [::1] any port gets consent" 200 'http://\[::1\]:45678/cb'
get "/sso/key/generate?response_type=oauth_token&redirect_uri=$(enc 'https://app.example.com/cb')" -b "$J"
check "seed: exactly listed https gets consent" 200 'https://app.example.com/cb'

# ---- The existing-key shortcut ----
get /key/generate -H "Authorization: Bearer $MK" -H 'Content-Type: application/json' \
  --data '{"user_id":"admin","models":["m1"],"duration":"1h"}'
KM=$(printf '%s' "$B" | jget key)
get "/sso/key/generate?response_type=oauth_token" -H "Authorization: Bearer $KM"
check "shortcut: a user's key mints a key" 200 '"access_token":"sk-'
KS=$(printf '%s' "$B" | jget access_token)
EI=$(printf '%s' "$B" | jget expires_in)
if [ -n "$EI" ] && [ "$EI" -le 3600 ]; then ok "shortcut: no longer life than the presenting key"
else fail "shortcut: lifetime" "$EI"; fi
get "/key/info?key=$KS" -H "Authorization: Bearer $MK"
check "shortcut: same models as the presenting key" 200 '"models":\["m1"\]' '"user_id":"admin"'
get "/sso/key/generate?response_type=oauth_token" -H "Authorization: Bearer $MK"
check "shortcut: the master key is refused" 401 '"error":"invalid_token"'
get "/sso/key/generate?response_type=oauth_token" -H "Authorization: Bearer sk-nope"
check "shortcut: an unknown key is refused" 401

# ---- CORS ----
get /sso/key/generate -X OPTIONS -H 'Origin: https://b.example' \
  -H 'Access-Control-Request-Method: GET'
if [ "$ST" = 204 ] && [ "$(hdr Access-Control-Allow-Origin)" = https://b.example ] \
   && hdr Vary | grep -q Origin && hdr Access-Control-Allow-Methods | grep -q GET
then ok "cors: preflight from a listed origin"; else fail "cors: preflight" "$H"; fi
get /sso/key/generate -X OPTIONS -H 'Origin: https://evil.example'
if [ -z "$(hdr Access-Control-Allow-Origin)" ]; then ok "cors: preflight from another origin gets no ACAO"
else fail "cors: refused preflight" "$H"; fi
get "/sso/key/generate?response_type=oauth_token" -H 'Origin: https://app.example.com' -H "Authorization: Bearer $KM"
if [ "$(hdr Access-Control-Allow-Origin)" = https://app.example.com ] \
   && [ -z "$(hdr Access-Control-Allow-Credentials)" ]
then ok "cors: the listed origin is echoed alone, never with credentials"
else fail "cors: allowed" "$H"; fi
get "/sso/key/generate?response_type=oauth_token" -H 'Origin: https://evil.example' -H "Authorization: Bearer $KM"
if [ -z "$(hdr Access-Control-Allow-Origin)" ] && hdr Vary | grep -q Origin
then ok "cors: an unlisted origin gets no ACAO"; else fail "cors: refused" "$H"; fi

# ---- 2. OpenRouter's flow, as Roo Code sends it (peers.md §4.2) ----
get "/auth?callback_url=$(enc "$ROO_CB")"
if [ "$ST" = 302 ] && loc | grep -q '^/login?rd=%2Fauth%3Fcallback_url%3D'
then ok "openrouter: no session -> sign in first"; else fail "openrouter: login" "$ST $(loc)"; fi
get "/auth?callback_url=$(enc "$ROO_CB")" -b "$J"
check "openrouter: consent names Roo's callback" 200 'RooVeterinaryInc.roo-cline/openrouter'
consent_fields
approve "$J"
CODE=$(loc | sed -n 's/^vscode:\/\/RooVeterinaryInc\.roo-cline\/openrouter?code=\([A-Za-z0-9_-]*\)$/\1/p')
if [ "$ST" = 302 ] && [ -n "$CODE" ]; then ok "openrouter: 302 to the callback with only code=[A-Za-z0-9_-]"
else fail "openrouter: callback" "$ST $(loc)"; fi
# Roo: axios.post(`${baseUrlDomain}/api/v1/auth/keys`, { code })
get /api/v1/auth/keys -H 'Content-Type: application/json' -H 'Accept: application/json, text/plain, */*' \
  --data "{\"code\":\"$CODE\"}"
check "openrouter: Roo's exchange gives {key,user_id}" 200 '^\{"key":"sk-[A-Za-z0-9_-]{43}","user_id":"admin"\}$'
KR=$(printf '%s' "$B" | jget key)
[ "$(hdr Cache-Control)" = no-store ] && ok "openrouter: exchange is no-store" || fail "openrouter no-store" "$H"
[ "$(authed "$KR")" = 200 ] && ok "openrouter: Roo's key works" || fail "openrouter key" x
get /api/v1/auth/keys -H 'Content-Type: application/json' --data "{\"code\":\"$CODE\"}"
check "openrouter: a reused code is 403" 403 '"error":\{"code":403'
[ "$(authed "$KR")" = 401 ] && ok "openrouter: reuse revoked the key already issued" \
  || fail "openrouter: reuse revokes" "$(authed "$KR")"

# PKCE: wrong, missing, right; downgrade.
pkce_code() {
  get "/auth?callback_url=$(enc "$ROO_CB")&code_challenge=$CHALLENGE&code_challenge_method=S256" -b "$J"
  consent_fields; approve "$J"
  CODE=$(loc | sed -n 's/.*?code=\([A-Za-z0-9_-]*\)$/\1/p')
}
pkce_code
get /api/v1/auth/keys -H 'Content-Type: application/json' \
  --data "{\"code\":\"$CODE\",\"code_verifier\":\"${VERIFIER}x\",\"code_challenge_method\":\"S256\"}"
check "openrouter: wrong verifier is 403" 403
pkce_code
get /api/v1/auth/keys -H 'Content-Type: application/json' --data "{\"code\":\"$CODE\"}"
check "openrouter: missing verifier after a challenge is 400" 400 'code_verifier is required'
pkce_code
get /api/v1/auth/keys -H 'Content-Type: application/json' \
  --data "{\"code\":\"$CODE\",\"code_verifier\":\"$VERIFIER\",\"code_challenge_method\":\"S256\"}"
check "openrouter: the RFC 7636 verifier gets the key" 200 '"key":"sk-'
get "/auth?callback_url=$(enc "$ROO_CB")" -b "$J"
consent_fields; approve "$J"
CODE=$(loc | sed -n 's/.*?code=\([A-Za-z0-9_-]*\)$/\1/p')
get /api/v1/auth/keys -H 'Content-Type: application/json' \
  --data "{\"code\":\"$CODE\",\"code_verifier\":\"$VERIFIER\"}"
check "openrouter: verifier without challenge is 400 (downgrade)" 400 'downgrade'
get "/auth?callback_url=$(enc "$ROO_CB")&code_challenge=$VERIFIER&code_challenge_method=plain" -b "$J"
refused "openrouter: plain challenge method refused"
for bad in "https://evil.example/cb" "javascript:alert(1)" "http://localhost:3000/cb" \
  "vscode://RooVeterinaryInc.roo-cline/openrouter#x" "data:,x"; do
  get "/auth?callback_url=$(enc "$bad")" -b "$J"
  refused "openrouter: refused callback_url $(printf '%.36s' "$bad")"
done
get /api/v1/auth/keys --data "code=$CODE"
check "openrouter: a form body is 415" 415
get /api/v1/auth/keys -H 'Content-Type: application/json' --data '{"code":'
check "openrouter: malformed JSON is 400" 400
get /api/v1/auth/keys -H 'Content-Type: application/json' --data '{"code":"nope"}'
check "openrouter: unknown code is 403" 403
get /api/v1/auth/keys
check "openrouter: GET is 405" 405

# ---- 3. OAuth for native apps ----
get /.well-known/oauth-authorization-server
check "oauth: RFC 8414 metadata" 200 '"issuer":"http://127.0.0.1:' \
  '"code_challenge_methods_supported":\["S256"\]' '"device_authorization_endpoint"' \
  '"token_endpoint_auth_methods_supported":\["none"\]'
RD=http://127.0.0.1:49152/cb
get "/oauth/authorize?response_type=code&client_id=my-cli&redirect_uri=$(enc $RD)&state=s1" -b "$J"
if [ "$ST" = 302 ] && loc | grep -q '^http://127.0.0.1:49152/cb?error=invalid_request&'
then ok "oauth: no PKCE -> error to the client"; else fail "oauth: no pkce" "$ST $(loc)"; fi
get "/oauth/authorize?response_type=code&client_id=my-cli&redirect_uri=$(enc https://evil.example/cb)&code_challenge=$CHALLENGE&code_challenge_method=S256" -b "$J"
refused "oauth: refused redirect_uri is never redirected to"
get "/oauth/authorize?response_type=code&client_id=my-cli&redirect_uri=$(enc $RD)&code_challenge=$CHALLENGE&code_challenge_method=S256&state=xyz" -b "$J"
check "oauth: consent names the client" 200 '<b>my-cli</b>'
consent_fields; approve "$J"
CODE=$(loc | sed -n 's/^http:\/\/127\.0\.0\.1:49152\/cb?code=\([A-Za-z0-9_-]*\)&state=xyz&iss=.*/\1/p')
[ -n "$CODE" ] && ok "oauth: code, state and iss to the loopback redirect" || fail "oauth: code" "$(loc)"
get /oauth/token --data-urlencode grant_type=authorization_code --data-urlencode "code=$CODE" \
  --data-urlencode "redirect_uri=http://127.0.0.1:49153/cb" --data-urlencode client_id=my-cli \
  --data-urlencode "code_verifier=$VERIFIER"
check "oauth: another redirect_uri is invalid_grant" 400 '"error":"invalid_grant"'
get "/oauth/authorize?response_type=code&client_id=my-cli&redirect_uri=$(enc $RD)&code_challenge=$CHALLENGE&code_challenge_method=S256" -b "$J"
consent_fields; approve "$J"
CODE=$(loc | sed -n 's/.*?code=\([A-Za-z0-9_-]*\)&.*/\1/p')
get /oauth/token --data-urlencode grant_type=authorization_code --data-urlencode "code=$CODE" \
  --data-urlencode "redirect_uri=$RD" --data-urlencode client_id=my-cli \
  --data-urlencode "code_verifier=$VERIFIER"
check "oauth: token endpoint gives the key" 200 '"access_token":"sk-' '"token_type":"Bearer"' '"expires_in":86400'
KO=$(printf '%s' "$B" | jget access_token)
get /oauth/token --data-urlencode grant_type=authorization_code --data-urlencode "code=$CODE" \
  --data-urlencode "redirect_uri=$RD" --data-urlencode client_id=my-cli \
  --data-urlencode "code_verifier=$VERIFIER"
check "oauth: a reused code is invalid_grant" 400 'already used'
[ "$(authed "$KO")" = 401 ] && ok "oauth: reuse revoked the key" || fail "oauth: reuse revoke" x
get /oauth/token --data-urlencode grant_type=password
check "oauth: other grant types refused" 400 unsupported_grant_type
get /oauth/revoke --data-urlencode "token=$K2"
check "oauth: RFC 7009 revocation" 200
[ "$(authed "$K2")" = 401 ] && ok "oauth: revoked key no longer works" || fail "revoke" x
get /oauth/revoke --data-urlencode "token=sk-unknown"
check "oauth: revoking an unknown token is 200 too" 200

# ---- 4. Device flow ----
device() {
  get /oauth/device_authorization --data client_id=tv-box
  DC=$(printf '%s' "$B" | jget device_code)
  UC=$(printf '%s' "$B" | jget user_code)
}
poll() {
  get /oauth/token --data-urlencode "grant_type=urn:ietf:params:oauth:grant-type:device_code" \
    --data-urlencode "device_code=$DC" --data-urlencode client_id=tv-box
}
device
check "device: authorization answer" 200 '"verification_uri":"http://127.0.0.1:[0-9]+/device"' \
  '"verification_uri_complete":"http://[^"]*/device\?user_code=' '"expires_in":600' '"interval":1'
if printf '%s' "$UC" | grep -Eq '^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$'
then ok "device: user code XXXX-XXXX without ambiguous letters"; else fail "device: user code" "$UC"; fi
poll; check "device: authorization_pending" 400 '"error":"authorization_pending"'
poll; check "device: polling too fast is slow_down" 400 '"error":"slow_down"'
get "/device?user_code=$UC"
if [ "$ST" = 302 ] && loc | grep -q '^/login?rd=%2Fdevice'; then ok "device: page needs a session"
else fail "device: page login" "$ST $(loc)"; fi
get "/device?user_code=$(printf '%s' "$UC" | tr A-Z a-z)" -b "$J"
check "device: confirm page (code typed in lower case)" 200 '<b>tv-box</b>' 'name="user_code"'
consent_fields
get /device -b "$J" --data-urlencode "user_code=$UC" --data-urlencode action=approve
check "device: approval without CSRF is 403" 403
get /device -b "$J" --data-urlencode "user_code=$UC" --data-urlencode "csrf=$CSRF" \
  --data-urlencode action=approve
check "device: approved" 200 'connected'
sleep 6
poll; check "device: the poll after approval gets the key" 200 '"access_token":"sk-'
KD=$(printf '%s' "$B" | jget access_token)
[ "$(authed "$KD")" = 200 ] && ok "device: key works" || fail "device key" x
sleep 1; poll; check "device: the device code is single use" 400 invalid_grant
device
get "/device?user_code=$UC" -b "$J"; consent_fields
get /device -b "$J" --data-urlencode "user_code=$UC" --data-urlencode "csrf=$CSRF" \
  --data-urlencode action=deny
poll; check "device: denied is access_denied" 400 '"error":"access_denied"'
get /oauth/token --data-urlencode "grant_type=urn:ietf:params:oauth:grant-type:device_code" \
  --data-urlencode "device_code=nope" --data-urlencode client_id=tv-box
check "device: unknown device code" 400 invalid_grant
# Guessing: ten wrong codes per session, then 429 even for a right one.
device
CSRF2=$($CURL -b "$J2" "$URL/device" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p')
n=0
while [ $n -lt 10 ]; do
  get "/device?user_code=BBBB-BBB$(echo BCDFGHJKLM | cut -c$((n+1)))" -b "$J2"
  n=$((n+1))
done
check "device: a wrong code is 400" 400
get "/device?user_code=$UC" -b "$J2"
check "device: guessing is rate-limited per session (429)" 429
get "/device?user_code=$UC" -b "$J"
check "device: other sessions still work" 200 'tv-box'

# ---- Keys listed and audited ----
get "/key/list?return_full_object=true&size=100" -H "Authorization: Bearer $MK"
for via in ui oauth device; do
  if printf '%s' "$B" | grep -q "\"issued_via\":\"$via\""; then ok "keys: issued_via $via listed"
  else fail "keys: issued_via $via" "$B"; fi
done
check "keys: flow and client recorded" 200 '"metadata":\{"flow":"openrouter","redirect_uri":"vscode://RooVeterinaryInc.roo-cline/openrouter"\}' \
  '"flow":"device","client":"tv-box"'
get "/audit/list?type=key" -H "Authorization: Bearer $MK"
check "keys: creations audited as the user, revocations too" 200 \
  '"changed_by":"admin","action":"create","table_name":"key"' \
  '"changed_by":"oauth:code_reuse","action":"delete"' '"changed_by":"key:sk-[.]{3}'


# ---- 5. ssoproxy login ----
OUT=$T_DIR/key-device
"$S" login "$URL" --device --output "$OUT" --timeout 30 2>"$T_DIR/login-device.err" &
LP=$!
n=0; UC=""
while [ $n -lt 50 ] && [ -z "$UC" ]; do
  UC=$(sed -n 's/.*enter the code \([A-Z-]*\).*/\1/p' "$T_DIR/login-device.err" 2>/dev/null); sleep 0.1; n=$((n+1))
done
get "/device?user_code=$UC" -b "$J"; consent_fields
get /device -b "$J" --data-urlencode "user_code=$UC" --data-urlencode "csrf=$CSRF" \
  --data-urlencode action=approve
wait $LP; st=$?
if [ $st = 0 ] && [ "$(stat -c %a "$OUT")" = 600 ] && grep -Eq '^sk-[A-Za-z0-9_-]{43}$' "$OUT"
then ok "login --device: key written to a 0600 file"; else fail "login --device" "exit $st: $(cat "$T_DIR/login-device.err")"; fi
[ "$(authed "$(cat "$OUT")")" = 200 ] && ok "login --device: key works" || fail "login --device key" x
expect "login: never overwrites a file" 1 'never overwritten' "$S" login "$URL" --device --output "$OUT" --timeout 2

OUT=$T_DIR/key-loopback
"$S" login "$URL" --no-browser --output "$OUT" --timeout 30 2>"$T_DIR/login-lb.err" &
LP=$!
n=0; AU=""
while [ $n -lt 50 ] && [ -z "$AU" ]; do
  AU=$(grep '/oauth/authorize?' "$T_DIR/login-lb.err" 2>/dev/null); sleep 0.1; n=$((n+1))
done
if printf '%s' "$AU" | grep -q 'client_id=ssoproxy-cli' && printf '%s' "$AU" | grep -q 'redirect_uri=http%3A%2F%2F127.0.0.1%3A[0-9]*%2Fcallback' \
   && printf '%s' "$AU" | grep -q 'code_challenge_method=S256'
then ok "login: loopback URL with PKCE printed"; else fail "login: URL" "$AU"; fi
B=$($CURL -b "$J" "$AU"); consent_fields; approve "$J"
CB=$(loc)
$CURL -o /dev/null "$CB"
wait $LP; st=$?
if [ $st = 0 ] && [ "$(stat -c %a "$OUT")" = 600 ] && grep -Eq '^sk-' "$OUT"
then ok "login: loopback flow writes the key"; else fail "login loopback" "exit $st: $(cat "$T_DIR/login-lb.err")"; fi
get "/key/info?key=$(cat "$OUT")" -H "Authorization: Bearer $MK"
check "login: key issued via cli to ssoproxy-cli" 200 '"issued_via":"cli"' '"client":"ssoproxy-cli"'
expect "login: bad base URL is a usage error" 2 'not an http' "$S" login "javascript:alert(1)"
kill "$PID"; wait "$PID" 2>/dev/null

# ---- Short lifetimes and switches ----
start short SSOPROXY_OAUTH_STATE_TTL=1 SSOPROXY_OAUTH_CODE_TTL=1 \
  SSOPROXY_DEVICE_CODE_TTL=1 SSOPROXY_OAUTH_KEY_SHORTCUT=false \
  SSOPROXY_OAUTH_ALLOW_CODE_ONLY=false
login "$J"
get "/sso/key/generate?response_type=oauth_token&redirect_uri=$(enc vscode://a.b/c)" -b "$J"
consent_fields; sleep 2; approve "$J"
refused "short: expired state is 400 without redirect"
get "/auth?callback_url=$(enc "$ROO_CB")&code_challenge=$CHALLENGE&code_challenge_method=S256" -b "$J"
consent_fields; approve "$J"
CODE=$(loc | sed -n 's/.*?code=\([A-Za-z0-9_-]*\)$/\1/p')
sleep 2
get /api/v1/auth/keys -H 'Content-Type: application/json' \
  --data "{\"code\":\"$CODE\",\"code_verifier\":\"$VERIFIER\"}"
check "short: expired code is 403" 403
get "/auth?callback_url=$(enc "$ROO_CB")" -b "$J"
refused "short: code-only switch off requires a challenge"
device; sleep 2; poll
check "short: expired device code is expired_token" 400 '"error":"expired_token"'
get "/sso/key/generate?response_type=oauth_token" -H "Authorization: Bearer $MK"
check "short: shortcut switched off is 403" 403 'SSOPROXY_OAUTH_KEY_SHORTCUT'
kill "$PID"; wait "$PID" 2>/dev/null

# Bad settings stop the server with one line each.
expect "config: javascript as a redirect scheme" 2 'OAUTH_ALLOWED_REDIRECT_SCHEMES' \
  env OAUTH_ALLOWED_REDIRECT_SCHEMES=javascript "$S" --listen 127.0.0.1:0 --db "$T_DIR/x.db"
expect "config: plain http listed" 2 'SSOPROXY_ALLOWED_REDIRECT_URIS' \
  env SSOPROXY_ALLOWED_REDIRECT_URIS=http://evil.example/cb "$S" --listen 127.0.0.1:0 --db "$T_DIR/x.db"
finish

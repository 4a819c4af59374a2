#!/bin/sh
# The web sign-in end to end, against a real ./ssoproxy: the sign-in page
# and its protective headers, password sign-in with UI_USERNAME/
# UI_PASSWORD and with the master key, wrong passwords (401, no session),
# CSRF missing or wrong on POST /login and POST /logout (403), the
# per-address limit (429), the session cookie's attributes (plain, and
# __Host- + Secure behind an https PROXY_BASE_URL), rotation, the
# management API with a session (GET works, a change needs X-CSRF-Token),
# logout after which the old cookie is refused, idle expiry, LiteLLM's
# UI discovery document, and a real headless Chromium signing in.
cd "$(dirname "$0")/.." || exit 1
. test/lib.sh
S=$PWD/ssoproxy
unset LITELLM_MASTER_KEY SSOPROXY_MASTER_KEY SSOPROXY_LISTEN SSOPROXY_DB \
  UI_USERNAME UI_PASSWORD PROXY_BASE_URL AUTO_REDIRECT_UI_LOGIN_TO_SSO \
  SSOPROXY_SESSION_IDLE_TIMEOUT SSOPROXY_SESSION_MAX_AGE \
  SSOPROXY_LOGIN_MAX_FAILURES
MK=sk-master-ui-test-0123456789
PW='p&ss w=rd%'
CURL="curl -s --max-time 10"
[ -x "$S" ] || make -s ssoproxy || exit 1

# start NAME [ENV...]: a server on a free port with its own database;
# sets URL and PID.
start() {
  log=$T_DIR/$1.log; db=$T_DIR/$1.db; shift
  : > "$log"
  env "$@" SSOPROXY_WORKERS=2 $S --listen 127.0.0.1:0 --db "$db" 2>"$log" &
  PID=$!
  T_PIDS="$T_PIDS $PID"
  URL=$(listening_url "$log")
  [ -n "$URL" ] || { echo "server did not start: $(cat "$log")"; exit 1; }
}
stop() { kill -TERM "$PID"; wait "$PID"; }

# http METHOD PATH [CURL ARGS...]: sets ST, B (body), H (headers file),
# LOC (Location). Cookies: whatever $COOKIE holds is sent as the Cookie
# header (the test plays the browser's cookie jar itself, so it can also
# send Secure cookies over plain http and replay old ones).
http() {
  _m=$1; _p=$2; shift 2
  if [ -n "$COOKIE" ]; then set -- -H "Cookie: $COOKIE" "$@"; fi
  ST=$($CURL -X "$_m" -D "$T_DIR/h" -o "$T_DIR/b" -w '%{http_code}' "$@" \
       "$URL$_p")
  B=$(cat "$T_DIR/b")
  H=$T_DIR/h
  LOC=$(sed -n 's/^Location: *//Ip' "$H" | tr -d '\r')
}
# setcookie NAME: the value the last answer set for cookie NAME ("" if
# none); SETC holds that Set-Cookie line.
setcookie() {
  SETC=$(grep -i "^Set-Cookie: $1=" "$H" | tr -d '\r' | head -n 1)
  printf '%s' "$SETC" | sed -n "s/^Set-Cookie: $1=\([^;]*\).*/\1/Ip"
}
# field NAME: the value of the hidden field NAME in the last page.
field() {
  printf '%s' "$B" | sed -n "s/.*name=\"$1\" value=\"\([^\"]*\)\".*/\1/p" |
    head -n 1
}
hdr() { grep -i "^$1:" "$H" | tr -d '\r' | sed 's/^[^:]*: *//' | head -n 1; }

# A case passes only when every check in it passes.
begin() { C_NAME=$1; C_BAD=""; }
bad() { [ -n "$C_BAD" ] || C_BAD=$1; }
want_st() { [ "$ST" = "$1" ] || bad "status $ST, expected $1: $(printf '%s' "$B" | tr '\n' ' ' | cut -c1-200)"; }
want_body() { printf '%s' "$B" | grep -Eq -- "$1" || bad "body lacks /$1/"; }
want_hdr() { grep -Eiq -- "$1" "$H" || bad "no header /$1/"; }
no_hdr() { ! grep -Eiq -- "$1" "$H" || bad "unexpected header /$1/"; }
done_case() { if [ -z "$C_BAD" ]; then ok "$C_NAME"; else fail "$C_NAME" "$C_BAD"; fi; }

# The headers every page must carry.
page_headers() {
  want_hdr '^X-Frame-Options: DENY'
  want_hdr "^Content-Security-Policy: .*frame-ancestors 'none'"
  want_hdr "^Content-Security-Policy: default-src 'none';.*form-action 'self'"
  want_hdr '^Referrer-Policy: no-referrer'
  want_hdr '^Cache-Control: no-store'
  want_hdr '^X-Content-Type-Options: nosniff'
}

# login_form PATH: fetch a sign-in page; sets LOGIN (cookie pair) and TOK.
login_form() {
  COOKIE=$1; http GET "${2:-/login}"
  TOK=$(field csrf)
  LOGIN="$LOGIN_NAME=$(setcookie "$LOGIN_NAME")"
}
# login USER PASS [RD]: a whole sign-in from a fresh browser; sets SESS
# (the session cookie pair, "" if none was set).
login() {
  login_form ""
  COOKIE=$LOGIN
  http POST /login --data-urlencode "csrf=$TOK" --data-urlencode "username=$1" \
    --data-urlencode "password=$2" --data-urlencode "rd=${3:-}"
  _v=$(setcookie "$SESS_NAME")
  if [ -n "$_v" ]; then SESS="$SESS_NAME=$_v"; else SESS=""; fi
}

# ------------------------------------------------------------- server A
# UI_USERNAME + UI_PASSWORD and a master key, plain http.
LOGIN_NAME=ssoproxy_login; SESS_NAME=ssoproxy_session
start a LITELLM_MASTER_KEY=$MK UI_USERNAME=root-admin "UI_PASSWORD=$PW"

begin ui-login-page
COOKIE=""; http GET /ui
want_st 200
page_headers
want_hdr '^Content-Type: text/html; charset=utf-8'
want_body '<form method="post" action="/login">'
want_body 'name="password"'
no_hdr '^Set-Cookie: ssoproxy_session='
want_hdr '^Set-Cookie: ssoproxy_login=[A-Za-z0-9_-]{43}; Path=/; Max-Age=[0-9]+; HttpOnly; SameSite=Lax'
no_hdr '^Set-Cookie: .*Secure'
printf '%s' "$B" | grep -q 'Login with SSO' && bad "SSO link without SSO"
printf '%s' "$B" | grep -qi '<script' && bad "script in page"
done_case

begin ui-login-keeps-rd
COOKIE=""; http GET '/login?rd=%2Fkey%2Flist%3Fpage%3D2'
want_st 200; page_headers
want_body 'name="rd" value="/key/list\?page=2"'
COOKIE=""; http GET '/login?rd=%2F%2Fevil.example%2Fx'
want_body 'name="rd" value="/ui"'
COOKIE=""; http GET '/login?rd=https%3A%2F%2Fevil.example%2F'
want_body 'name="rd" value="/ui"'
COOKIE=""; http GET '/login?rd=%2F%5Cevil.example'
want_body 'name="rd" value="/ui"'
done_case

begin ui-login-reuses-form-cookie
login_form ""
T1=$TOK; L1=$LOGIN
login_form "$L1"
[ "$TOK" = "$T1" ] || bad "a second tab got another token"
[ -n "$T1" ] || bad "no token"
done_case

begin ui-login-csrf-missing
login_form ""
COOKIE=$LOGIN
http POST /login --data-urlencode "username=root-admin" \
  --data-urlencode "password=$PW"
want_st 403; page_headers
[ -z "$(setcookie ssoproxy_session)" ] || bad "session set"
want_body 'expired or did not come from this site'
done_case

begin ui-login-csrf-wrong
login_form ""
COOKIE=$LOGIN
http POST /login --data-urlencode "csrf=${TOK}x" \
  --data-urlencode "username=root-admin" --data-urlencode "password=$PW"
want_st 403
[ -z "$(setcookie ssoproxy_session)" ] || bad "session set (field too long)"
http POST /login --data-urlencode "csrf=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
  --data-urlencode "username=root-admin" --data-urlencode "password=$PW"
want_st 403
[ -z "$(setcookie ssoproxy_session)" ] || bad "session set (other token)"
# The field without the cookie (a cross-site form cannot set it).
COOKIE=""
http POST /login --data-urlencode "csrf=$TOK" \
  --data-urlencode "username=root-admin" --data-urlencode "password=$PW"
want_st 403
[ -z "$(setcookie ssoproxy_session)" ] || bad "session set (no cookie)"
done_case

begin ui-login-wrong-password
login root-admin "${PW}x"
want_st 401; page_headers
[ -z "$SESS" ] || bad "session cookie on a wrong password"
want_body 'Wrong username or password'
want_body 'value="root-admin"'
printf '%s' "$B" | grep -qF "$PW" && bad "password echoed"
login admin "$PW"
want_st 401
[ -z "$SESS" ] || bad "session for the wrong user name"
login root-admin ""
want_st 401
[ -z "$SESS" ] || bad "session for an empty password"
done_case

begin ui-login-password
login root-admin "$PW"
want_st 303; page_headers
[ "$LOC" = "/ui" ] || bad "Location $LOC"
want_hdr '^Set-Cookie: ssoproxy_session=[A-Za-z0-9_-]{43}; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax'
no_hdr '^Set-Cookie: ssoproxy_session=.*Secure'
S1=$SESS
COOKIE=$S1; http GET /ui
want_st 200; page_headers
want_body '<dt>User id</dt><dd>root-admin</dd>'
want_body '<dt>Role</dt><dd>proxy_admin</dd>'
want_body 'action="/logout"'
done_case

begin ui-local-admin-audited
COOKIE=""; http GET '/audit/list?object_type=user&object_id=root-admin' -H "Authorization: Bearer $MK"
want_st 200
want_body '"action":"create"'
want_body '"changed_by":"root-admin"'
COOKIE=""; http GET '/user/info?user_id=root-admin' -H "Authorization: Bearer $MK"
want_body '"user_role":"proxy_admin"'
done_case

begin ui-login-rd
login root-admin "$PW" /key/list
want_st 303
[ "$LOC" = "/key/list" ] || bad "Location $LOC"
login root-admin "$PW" //evil.example/
[ "$LOC" = "/ui" ] || bad "open redirect: $LOC"
login root-admin "$PW" 'https://evil.example/'
[ "$LOC" = "/ui" ] || bad "open redirect: $LOC"
# Signed in, /login goes on to rd at once.
COOKIE=$S1; http GET '/login?rd=%2Fkey%2Flist'
want_st 302
[ "$LOC" = "/key/list" ] || bad "signed in: Location $LOC"
done_case

begin ui-login-master-key
login root-admin "$MK"
want_st 303
[ -n "$SESS" ] || bad "no session with the master key"
COOKIE=$SESS; http GET /ui
want_body '<dd>root-admin</dd>'
done_case

begin ui-session-rotation
# Signing in with a session cookie already set ends that session.
login_form ""
COOKIE="$S1; $LOGIN"
http POST /login --data-urlencode "csrf=$TOK" \
  --data-urlencode "username=root-admin" --data-urlencode "password=$PW"
want_st 303
S2="ssoproxy_session=$(setcookie ssoproxy_session)"
[ "$S2" != "$S1" ] || bad "same id after sign-in"
COOKIE=$S1; http GET /key/list
want_st 401
COOKIE=$S2; http GET /key/list
want_st 200
done_case

begin ui-session-management-api
COOKIE=$S2; http GET /key/list
want_st 200; want_body '"keys"'
COOKIE=$S2; http GET /ui
CS=$(field csrf)
[ ${#CS} = 43 ] || bad "no CSRF token on /ui"
COOKIE=$S2; http POST /key/generate -H 'Content-Type: application/json' \
  --data '{"key_alias":"from-browser"}'
want_st 403; want_body 'X-CSRF-Token'
COOKIE=$S2; http POST /key/generate -H 'Content-Type: application/json' \
  -H "X-CSRF-Token: ${CS}x" --data '{"key_alias":"from-browser"}'
want_st 403
COOKIE=$S2; http POST /key/generate -H 'Content-Type: application/json' \
  -H "X-CSRF-Token: $S2" --data '{"key_alias":"from-browser"}'
want_st 403
COOKIE=$S2; http POST /key/generate -H 'Content-Type: application/json' \
  -H "X-CSRF-Token: $CS" --data '{"key_alias":"from-browser"}'
want_st 200; want_body '"key":"sk-'
COOKIE=""; http GET '/audit/list?object_type=key' -H "Authorization: Bearer $MK"
want_body '"changed_by":"root-admin"'
done_case

begin ui-logout-confirm
COOKIE=$S2; http GET /logout
want_st 200; page_headers
want_body '<form method="post" action="/logout">'
[ "$(field csrf)" = "$CS" ] || bad "the confirm form lacks the session's token"
COOKIE=""; http GET /logout
want_st 302; page_headers
[ "$LOC" = "/ui" ] || bad "signed out: Location $LOC"
done_case

begin ui-logout-csrf
COOKIE=$S2; http POST /logout
want_st 403; page_headers
no_hdr '^Set-Cookie'
COOKIE=$S2; http POST /logout --data-urlencode "csrf=${CS}x"
want_st 403
COOKIE=$S2; http POST /logout --data-urlencode "csrf=$T1"
want_st 403
COOKIE=$S2; http GET /key/list
want_st 200
done_case

begin ui-logout
COOKIE=$S2; http POST /logout --data-urlencode "csrf=$CS"
want_st 303; page_headers
[ "$LOC" = "/ui" ] || bad "Location $LOC"
want_hdr '^Set-Cookie: ssoproxy_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax'
# The old cookie, replayed, is worth nothing.
COOKIE=$S2; http GET /key/list
want_st 401
COOKIE=$S2; http GET /ui
want_st 200; want_body 'name="password"'
COOKIE=$S2; http POST /logout --data-urlencode "csrf=$CS"
want_st 303
done_case

begin ui-config-document
COOKIE=""; http GET /.well-known/litellm-ui-config
want_st 200
want_hdr '^Content-Type: application/json'
want_body '"server_root_path":"/"'
want_body '"proxy_base_url":null'
want_body '"auto_redirect_to_sso":false'
COOKIE=""; http GET /litellm/.well-known/litellm-ui-config
want_st 200; want_body '"server_root_path":"/"'
done_case

begin ui-fallback-login
COOKIE=""; http GET '/fallback/login?rd=%2Fkey%2Flist'
want_st 200; page_headers
want_body 'name="rd" value="/key/list"'
done_case

begin ui-rate-limit
n=0; st401=0
while [ $n -lt 10 ]; do
  login root-admin "wrong-$n"
  [ "$ST" = 401 ] && st401=$((st401+1))
  n=$((n+1))
done
[ $st401 = 10 ] || bad "only $st401 of the first 10 wrong passwords got 401"
login root-admin "wrong-again"
want_st 429; page_headers
want_hdr '^Retry-After: [0-9]+'
login root-admin "$PW"
want_st 429
[ -z "$SESS" ] || bad "a session while limited"
done_case
stop

# ------------------------------------------------------------- server B
# The master key only (UI_USERNAME defaults to admin), behind an https
# PROXY_BASE_URL, a 2-second idle lifetime, 3 failures allowed.
LOGIN_NAME=__Host-ssoproxy_login; SESS_NAME=__Host-ssoproxy_session
start b LITELLM_MASTER_KEY=$MK PROXY_BASE_URL=https://llm.example.com \
  SSOPROXY_SESSION_IDLE_TIMEOUT=2 SSOPROXY_LOGIN_MAX_FAILURES=3

begin ui-https-cookies
login_form ""
want_hdr '^Set-Cookie: __Host-ssoproxy_login=[A-Za-z0-9_-]{43}; Path=/; .*HttpOnly; SameSite=Lax; Secure'
login admin "$MK"
want_st 303
want_hdr '^Set-Cookie: __Host-ssoproxy_session=[A-Za-z0-9_-]{43}; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax; Secure'
grep -i '^Set-Cookie' "$H" | grep -qi 'Domain=' && bad "Domain attribute"
SB=$SESS
# The plain name is not the session cookie here.
COOKIE="ssoproxy_session=${SB#*=}"; http GET /key/list
want_st 401
COOKIE=$SB; http GET /ui
want_body '<dd>admin</dd>'
done_case

begin ui-master-key-default-user
COOKIE=""; http GET '/user/info?user_id=admin' -H "Authorization: Bearer $MK"
want_st 200; want_body '"user_role":"proxy_admin"'
COOKIE=""; http GET '/audit/list?object_type=user&object_id=admin' -H "Authorization: Bearer $MK"
want_body '"changed_by":"master_key"'
login admin "not-the-key"
want_st 401
done_case

begin ui-config-base-url
COOKIE=""; http GET /.well-known/litellm-ui-config
want_body '"proxy_base_url":"https://llm.example.com"'
done_case

begin ui-idle-expiry
COOKIE=$SB; http GET /key/list
want_st 200
sleep 1
COOKIE=$SB; http GET /key/list
want_st 200
sleep 3
COOKIE=$SB; http GET /key/list
want_st 401
COOKIE=$SB; http GET /ui
want_body 'name="password"'
done_case

begin ui-rate-limit-setting
# One wrong password was counted above; two more reach the limit of 3.
login admin x1; want_st 401
login admin x2; want_st 401
login admin x3; want_st 429
login admin "$MK"; want_st 429
done_case
stop

# ------------------------------------------------------------- server C
# No password at all: the page says so, POST /login is refused.
LOGIN_NAME=ssoproxy_login; SESS_NAME=ssoproxy_session
start c

begin ui-no-sign-in-method
COOKIE=""; http GET /ui
want_st 200
want_body 'No way to sign in is configured'
printf '%s' "$B" | grep -q 'name="password"' && bad "password form shown"
login admin ""
want_st 403
[ -z "$SESS" ] || bad "session"
done_case
stop

begin ui-bad-settings
out=$(SSOPROXY_SESSION_IDLE_TIMEOUT=0 $S --listen 127.0.0.1:0 \
      --db "$T_DIR/bad.db" 2>&1); st=$?
[ $st = 2 ] || bad "idle 0: exit $st"
printf '%s' "$out" | grep -q SSOPROXY_SESSION_IDLE_TIMEOUT || bad "no name: $out"
done_case

# ------------------------------------------------------------- Chromium
# A real browser: the sign-in page renders, the form works, the identity
# page follows, and signing out works (test/browser/ui.mjs).
LOGIN_NAME=ssoproxy_login; SESS_NAME=ssoproxy_session
if sh test/browser/setup.sh >"$T_DIR/browser-setup.log" 2>&1; then
  start d LITELLM_MASTER_KEY=$MK UI_USERNAME=root-admin "UI_PASSWORD=$PW"
  begin ui-chromium
  out=$(cd test/browser && URL=$URL USER=root-admin PASS=$PW \
        node ui.mjs 2>&1); st=$?
  [ $st = 0 ] || bad "browser: $out"
  done_case
  stop
else
  fail ui-chromium "could not install chromium/playwright-core: $(tail -n 5 "$T_DIR/browser-setup.log")"
fi

finish

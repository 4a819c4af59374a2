#!/bin/sh
# Forward-auth end to end: a real nginx protects a static site and a small
# backend with `auth_request /oauth2/auth` against a real ./ssoproxy, the
# configuration docs/forward-auth.md gives (oauth2-proxy's recipe). Cases:
# no credentials -> 302 to the sign-in with the return-to intact; an API
# key -> 200 and the identity reaches the site; a revoked key, a disabled
# owner -> sign-in; allowed_roles -> 403; a spoofed X-Auth-Request-User
# from the client never reaches the site; sign-out; a browser session from
# the local sign-in (/login with UI_USERNAME and
# UI_PASSWORD); and the /oauth2/ routes directly.
#
# Installs nginx when missing (apt-get). nginx runs from its own
# configuration in the test's temporary directory (pid file, logs and
# temporary paths there, loopback ports only) and both servers are
# stopped by pid.
cd "$(dirname "$0")/.." || exit 1
. test/lib.sh
S=$PWD/ssoproxy
unset LITELLM_MASTER_KEY SSOPROXY_MASTER_KEY SSOPROXY_LISTEN SSOPROXY_DB \
      UI_USERNAME UI_PASSWORD PROXY_BASE_URL
MK=sk-master-fauth-0123456789abcdef
CURL="curl -s --max-time 10"

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "installing nginx" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >&2 ||
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >&2
fi
NGINX=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { fail nginx "nginx is not installed"; finish; exit 1; }
make -s ssoproxy >&2 || exit 1

# ---- ssoproxy ----------------------------------------------------------------
: > "$T_DIR/sso.log"
env LITELLM_MASTER_KEY=$MK UI_USERNAME=admin UI_PASSWORD=fauth-test-pw \
  SSOPROXY_WORKERS=2 "$S" --listen 127.0.0.1:0 --db "$T_DIR/sso.db" \
  2>"$T_DIR/sso.log" &
SPID=$!
T_PIDS="$T_PIDS $SPID"
SURL=$(listening_url "$T_DIR/sso.log")
[ -n "$SURL" ] || { fail start "ssoproxy did not start: $(cat "$T_DIR/sso.log")"; finish; exit 1; }
SPORT=${SURL##*:}

# ---- nginx -------------------------------------------------------------------
# Two loopback ports nobody answers on: the site and its backend.
free_port() {
  p=$(( 20000 + ($$ * 7 + $1 * 131) % 20000 ))
  while curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/"; do p=$((p+1)); done
  echo $p
}
FPORT=$(free_port 1)
BPORT=$(free_port 2)
[ "$BPORT" != "$FPORT" ] || BPORT=$((FPORT+1))
mkdir -p "$T_DIR/site/static" "$T_DIR/ngx"
echo "protected static page" > "$T_DIR/site/static/index.html"
# nginx's worker drops root for an unprivileged user: let it read the site.
chmod 711 "$T_DIR"
chmod -R a+rX "$T_DIR/site"

cat > "$T_DIR/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $T_DIR/nginx.pid;
error_log $T_DIR/nginx-error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $T_DIR/ngx;
  proxy_temp_path $T_DIR/ngx;
  fastcgi_temp_path $T_DIR/ngx;
  uwsgi_temp_path $T_DIR/ngx;
  scgi_temp_path $T_DIR/ngx;
  upstream ssoproxy { server 127.0.0.1:$SPORT; keepalive 8; }

  # The protected application: shows the identity fields it was given.
  server {
    listen 127.0.0.1:$BPORT;
    location / {
      default_type text/plain;
      return 200 "user=[\$http_x_auth_request_user] email=[\$http_x_auth_request_email] groups=[\$http_x_auth_request_groups] name=[\$http_x_auth_request_preferred_username] role=[\$http_x_auth_request_role] uri=[\$request_uri]\n";
    }
  }

  server {
    listen 127.0.0.1:$FPORT;
    proxy_http_version 1.1;
    proxy_set_header Connection "";

    # ssoproxy's sign-in, sign-out and userinfo, on the site's own host.
    location /oauth2/ {
      proxy_pass http://ssoproxy;
      proxy_set_header Host \$host;
      proxy_set_header X-Auth-Request-Redirect \$request_uri;
    }
    # Without SSO the sign-in is ssoproxy's own page; with SSO the IdP
    # comes back to /sso/callback: both on the site's host too.
    location = /login { proxy_pass http://ssoproxy; proxy_set_header Host \$host; }
    location /sso/ { proxy_pass http://ssoproxy; proxy_set_header Host \$host; }
    location = /oauth2/auth {
      internal;
      proxy_pass http://ssoproxy;
      proxy_set_header Host \$host;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
    }
    location = /oauth2/auth-admins {
      internal;
      proxy_pass http://ssoproxy/oauth2/auth?allowed_roles=proxy_admin;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
    }

    location / {
      auth_request /oauth2/auth;
      error_page 401 = /oauth2/start;
      auth_request_set \$user   \$upstream_http_x_auth_request_user;
      auth_request_set \$email  \$upstream_http_x_auth_request_email;
      auth_request_set \$groups \$upstream_http_x_auth_request_groups;
      auth_request_set \$name   \$upstream_http_x_auth_request_preferred_username;
      auth_request_set \$role   \$upstream_http_x_auth_request_role;
      proxy_set_header X-Auth-Request-User \$user;
      proxy_set_header X-Auth-Request-Email \$email;
      proxy_set_header X-Auth-Request-Groups \$groups;
      proxy_set_header X-Auth-Request-Preferred-Username \$name;
      proxy_set_header X-Auth-Request-Role \$role;
      proxy_pass http://127.0.0.1:$BPORT;
    }
    location /admin/ {
      auth_request /oauth2/auth-admins;
      error_page 401 = /oauth2/start;
      auth_request_set \$user \$upstream_http_x_auth_request_user;
      proxy_set_header X-Auth-Request-User \$user;
      proxy_pass http://127.0.0.1:$BPORT;
    }
    location /static/ {
      auth_request /oauth2/auth;
      error_page 401 = /oauth2/start;
      auth_request_set \$user \$upstream_http_x_auth_request_user;
      add_header X-Signed-In-As \$user always;
      root $T_DIR/site;
    }
  }
}
EOF
"$NGINX" -e "$T_DIR/nginx-error.log" -c "$T_DIR/nginx.conf" &
NPID=$!
T_PIDS="$T_PIDS $NPID"
SITE=http://127.0.0.1:$FPORT
n=0
until curl -s -o /dev/null --max-time 1 "$SITE/static/"; do
  n=$((n+1))
  if [ $n -gt 50 ] || ! kill -0 $NPID 2>/dev/null; then
    fail nginx "nginx did not start: $(cat "$T_DIR/nginx-error.log")"
    finish; exit 1
  fi
  sleep 0.1
done

# ---- Helpers -------------------------------------------------------------------
# get URL [CURL ARGS...]: sets ST, H (headers) and B (body).
get() {
  u=$1; shift
  $CURL -D "$T_DIR/h" -o "$T_DIR/b" -w '%{http_code}' "$@" "$u" > "$T_DIR/st"
  ST=$(cat "$T_DIR/st"); H=$(tr -d '\r' < "$T_DIR/h"); B=$(cat "$T_DIR/b")
}
# check NAME WANT_STATUS [PATTERN...]: in the headers and body together.
check() {
  n=$1; want=$2; shift 2
  if [ "$ST" != "$want" ]; then fail "$n" "status $ST, expected $want: $H $B"; return; fi
  for pat in "$@"; do
    if ! printf '%s\n%s\n' "$H" "$B" | grep -Eq -- "$pat"; then
      fail "$n" "no /$pat/ in: $H $B"; return
    fi
  done
  ok "$n"
}
# admin METHOD PATH JSON: a management call with the master key; prints the body.
admin() {
  $CURL -X "$1" -H "Authorization: Bearer $MK" -H 'Content-Type: application/json' \
    --data-binary "$3" "$SURL$2"
}
jkey() { sed -n 's/.*"key":"\(sk-[^"]*\)".*/\1/p'; }

admin POST /user/new '{"user_id":"bob","user_email":"bob@example.com","user_role":"internal_user"}' >/dev/null
admin POST /user/new '{"user_id":"ada","user_email":"ada@example.com","user_role":"proxy_admin"}' >/dev/null
KB=$(admin POST /key/generate '{"user_id":"bob"}' | jkey)
KA=$(admin POST /key/generate '{"user_id":"ada"}' | jkey)
KR=$(admin POST /key/generate '{"user_id":"bob"}' | jkey)
[ -n "$KB" ] && [ -n "$KA" ] && [ -n "$KR" ] || { fail keys "could not make keys"; finish; exit 1; }

# ---- Through nginx --------------------------------------------------------------
get "$SITE/app/page?x=1&y=two"
check "no credentials: 302 to the sign-in, return-to intact" 302 \
  '^[Ll]ocation: /login\?rd=%2Fapp%2Fpage%3Fx%3D1%26y%3Dtwo$'

get "$SITE/app/page?x=1" -H "Authorization: Bearer $KB"
check "API key: the page, with the identity" 200 \
  'user=\[bob\]' 'email=\[bob@example.com\]' 'role=\[internal_user\]' \
  'name=\[bob\]' 'uri=\[/app/page\?x=1\]'

get "$SITE/app/page" -H "x-api-key: $KB"
check "API key in x-api-key" 200 'user=\[bob\]'

get "$SITE/static/index.html" -H "Authorization: Bearer $KB"
check "static file: served, identity in a response field" 200 \
  'protected static page' '^X-Signed-In-As: bob$'

get "$SITE/static/index.html"
check "static file without credentials: sign-in" 302 \
  '^[Ll]ocation: /login\?rd=%2Fstatic%2Findex.html$'

get "$SITE/app/page" -H "Authorization: Bearer $KB" \
  -H "X-Auth-Request-User: mallory" -H "X-Auth-Request-Role: proxy_admin"
check "spoofed identity fields are replaced" 200 'user=\[bob\]' 'role=\[internal_user\]'
if printf '%s' "$B" | grep -q mallory; then fail "spoofed user absent" "$B"; else ok "spoofed user absent"; fi

get "$SITE/app/page" -H "X-Auth-Request-User: mallory"
check "spoofed identity alone is no credential" 302 '^[Ll]ocation: /login'

get "$SITE/admin/x" -H "Authorization: Bearer $KB"
check "allowed_roles=proxy_admin refuses internal_user: 403" 403
get "$SITE/admin/x" -H "Authorization: Bearer $KA"
check "allowed_roles=proxy_admin admits proxy_admin" 200 'user=\[ada\]'
get "$SITE/admin/x"
check "allowed_roles without credentials: sign-in" 302 '^[Ll]ocation: /login'

get "$SITE/app/page" -H "Authorization: Bearer $KR"
check "a key before revocation" 200 'user=\[bob\]'
admin POST /key/delete "{\"keys\":[\"$KR\"]}" >/dev/null
get "$SITE/app/page" -H "Authorization: Bearer $KR"
check "a revoked key: the 401 path (sign-in)" 302 '^[Ll]ocation: /login'
get "$SITE/app/page" -H "Authorization: Bearer sk-not-a-key-at-all"
check "an unknown key: the 401 path" 302 '^[Ll]ocation: /login'

get "$SITE/oauth2/userinfo" -H "Authorization: Bearer $KB"
check "userinfo through nginx" 200 '"user":"bob"' '"email":"bob@example.com"' \
  '"role":"internal_user"' '"groups":\[\]'

get "$SITE/oauth2/sign_out"
check "sign_out without rd: home, never back to sign_out" 302 '^[Ll]ocation: /$'
get "$SITE/oauth2/sign_out?rd=/bye"
check "sign_out?rd=/bye" 302 '^[Ll]ocation: /bye$'
get "$SITE/oauth2/sign_out?rd=https://evil.example/"
check "sign_out refuses another site" 302 '^[Ll]ocation: /$'
get "$SITE/oauth2/start?rd=//evil.example/"
check "start refuses another site" 302 '^[Ll]ocation: /login\?rd=%2F$'

# A disabled owner's key stops at once.
admin POST /user/update '{"user_id":"bob","disabled":true}' >/dev/null
get "$SITE/app/page" -H "Authorization: Bearer $KB"
check "key of a disabled user: the 401 path" 302 '^[Ll]ocation: /login'
admin POST /user/update '{"user_id":"bob","disabled":false}' >/dev/null

# ---- A browser session (the local sign-in: UI_USERNAME/UI_PASSWORD) ------------
get "$SITE/login?rd=/app/page%3Fs%3D1" -c "$T_DIR/jar"
if [ "$ST" = 200 ] && printf '%s' "$B" | grep -q 'name="password"'; then
  # The form's hidden fields (the sign-in CSRF token, rd) go back with the
  # password, with the cookie the page set (double submit).
  printf '%s' "$B" | tr '>' '\n' |
    sed -n 's/.*type="hidden" name="\([^"]*\)" value="\([^"]*\)".*/\1=\2/p' |
    sed 's/&amp;/\&/g; s/&quot;/"/g; s/&lt;/</g; s/&gt;/>/g' > "$T_DIR/form"
  set --
  while IFS= read -r kv; do set -- "$@" --data-urlencode "$kv"; done < "$T_DIR/form"
  get "$SITE/login" -b "$T_DIR/jar" -c "$T_DIR/jar" "$@" \
    --data-urlencode username=admin --data-urlencode password=fauth-test-pw
  check "local sign-in through the site: back to rd" 303 '^[Ll]ocation: /app/page\?s=1$'
  get "$SITE/app/page?s=1" -b "$T_DIR/jar"
  check "session cookie: the page, with the identity" 200 'user=\[admin\]' 'role=\[proxy_admin\]'
  get "$SITE/admin/x" -b "$T_DIR/jar"
  check "session cookie: allowed_roles=proxy_admin admits the admin" 200 'user=\[admin\]'
  get "$SITE/oauth2/userinfo" -b "$T_DIR/jar"
  check "userinfo for a session" 200 '"user":"admin"' '"role":"proxy_admin"'
  cp "$T_DIR/jar" "$T_DIR/jar-old"
  get "$SITE/oauth2/sign_out?rd=/bye" -b "$T_DIR/jar" -c "$T_DIR/jar"
  check "sign_out with a session: cookie cleared" 302 '^[Ll]ocation: /bye$' '^[Ss]et-[Cc]ookie: '
  get "$SITE/app/page" -b "$T_DIR/jar-old"
  check "the old cookie no longer works after sign_out" 302 '^[Ll]ocation: /login'
  get "$SURL/oauth2/auth" -b "$T_DIR/jar-old"
  check "auth: 401 for the ended session" 401
else
  fail "local sign-in page" "no password form at /login: $ST $B"
fi

# ---- Directly -------------------------------------------------------------------
get "$SURL/oauth2/auth" -H "Authorization: Bearer $KB"
check "auth: 202 and the fields" 202 '^X-Auth-Request-User: bob$' \
  '^X-Auth-Request-Email: bob@example.com$' '^X-Auth-Request-Role: internal_user$' \
  '^X-Auth-Request-Preferred-Username: bob$' '^Content-Length: 0$'
get "$SURL/oauth2/auth"
check "auth: 401 without credentials, empty body" 401 '^Content-Length: 0$'
get "$SURL/oauth2/auth" -X POST -H "Authorization: Bearer $KB" --data 'ignored'
check "auth answers any method" 202 '^X-Auth-Request-User: bob$'
get "$SURL/oauth2/auth?allowed_roles=internal_user,proxy_admin&allowed_email_domains=EXAMPLE.com" \
  -H "Authorization: Bearer $KB"
check "auth: filters that match" 202
get "$SURL/oauth2/auth?allowed_groups=admins" -H "Authorization: Bearer $KB"
check "auth: allowed_groups with no groups: 403" 403
get "$SURL/oauth2/auth?allowed_roles=%zz" -H "Authorization: Bearer $KB"
check "auth: a malformed filter: 400" 400
get "$SURL/oauth2/auth" -H "Authorization: Bearer $MK"
check "auth: master key" 202 '^X-Auth-Request-User: master_key$' '^X-Auth-Request-Role: proxy_admin$'
get "$SURL/oauth2/auth?signin=1" -H 'X-Forwarded-Uri: /app/x?a=1&b=2'
check "auth?signin=1 without credentials: 302 to start with X-Forwarded-Uri" 302 \
  '^[Ll]ocation: /oauth2/start\?rd=%2Fapp%2Fx%3Fa%3D1%26b%3D2$'
get "$SURL/oauth2/auth?signin=1" -H 'X-Forwarded-Uri: //evil.example/'
check "auth?signin=1 refuses another site as the return-to" 302 '^[Ll]ocation: /oauth2/start$'
get "$SURL/oauth2/auth?signin=1&allowed_roles=proxy_admin" -H "Authorization: Bearer $KB"
check "auth?signin=1 with credentials: still 403 when not allowed" 403
get "$SURL/oauth2/auth?signin=1" -H "Authorization: Bearer $KB"
check "auth?signin=1 with credentials: 202" 202 '^X-Auth-Request-User: bob$'
get "$SURL/oauth2/userinfo"
check "userinfo: 401 JSON without credentials" 401 '"error"' '"code":"401"'
get "$SURL/oauth2/start" -H 'X-Auth-Request-Redirect: /from/header?a=1'
check "start: return-to from X-Auth-Request-Redirect" 302 \
  '^[Ll]ocation: /login\?rd=%2Ffrom%2Fheader%3Fa%3D1$'
get "$SURL/oauth2/sign_out" -X POST
check "sign_out by POST" 302 '^[Ll]ocation: /$'

kill -TERM "$NPID" "$SPID" 2>/dev/null
wait "$NPID" 2>/dev/null
wait "$SPID" 2>/dev/null
finish

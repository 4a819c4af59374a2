#!/bin/sh
# OpenID Connect login end to end, against a real OpenID provider: the
# project's test IdP (test/idp/idp.mjs, npm's oidc-provider, pinned by
# test/idp/package-lock.json) set up like Authentik in the seed guide, and
# a real ./ssoproxy started with the guide's environment block (only the
# URLs changed). Curl plays the browser (one cookie jar per browser) and
# one login runs in a real headless Chromium.
#
# First the IdP alone is checked with curl (so that a failure below is
# ssoproxy's, not the IdP's), then every login case of the issue: roles
# from the claim, the default role, role sync and first_login, group
# mapping, the role only in userinfo or only in the id_token, discovery
# and explicit endpoints, wrong password, consent denied, state missing /
# replayed / expired / from another browser, a tampered code, the IdP
# refusing connections or answering after 10 s, and logout.
#
# Every process is started here and stopped by its pid. Loopback only.
cd "$(dirname "$0")/.." || exit 1
. test/lib.sh
# A signal (^C, a closed pipe) still runs lib.sh's exit trap, which stops
# the IdP and ssoproxy by pid.
trap 'exit 1' INT TERM HUP PIPE
S=${T_SSOPROXY:-$PWD/ssoproxy}   # T_SSOPROXY: test another build
unset T_SSOPROXY
unset LITELLM_MASTER_KEY SSOPROXY_MASTER_KEY SSOPROXY_LISTEN SSOPROXY_DB \
  PROXY_BASE_URL PROXY_LOGOUT_URL AUTO_REDIRECT_UI_LOGIN_TO_SSO GENERIC_ISSUER \
  GENERIC_CLIENT_ID GENERIC_CLIENT_SECRET GENERIC_AUTHORIZATION_ENDPOINT \
  GENERIC_TOKEN_ENDPOINT GENERIC_USERINFO_ENDPOINT GENERIC_SCOPE \
  GENERIC_USER_ROLE_ATTRIBUTE GENERIC_ROLE_MAPPINGS_ROLES \
  GENERIC_ROLE_MAPPINGS_GROUP_CLAIM GENERIC_JWKS_ENDPOINT SSOPROXY_ROLE_SYNC
MK=sk-master-oidc-test-0123456789
CLIENT=litellm
# A secret that must be form-urlencoded inside HTTP Basic (RFC 6749 2.3.1).
SECRET='lite+llm%secret/2'
CURL="curl -s --max-time 20"

[ -x "$S" ] || make -s ssoproxy || exit 1
idp_setup || { fail setup "node/npm or npm ci failed"; finish; exit 1; }

# ---------------------------------------------------------------- helpers

# js EXPR: evaluate a JavaScript expression over the JSON text in $J
# (bound as j) and print the result; used to read answers.
js() { J=$J node -e 'const j=JSON.parse(process.env.J||"null");
let v;try{v=(function(){return '"$1"'})()}catch(e){v=undefined}
process.stdout.write(v===undefined||v===null?"":typeof v==="object"?JSON.stringify(v):String(v))'; }

urlenc() { V=$1 node -e 'process.stdout.write(encodeURIComponent(process.env.V))'; }
b64() { printf '%s' "$1" | base64 | tr -d '\n'; }

# qparam URL NAME: one query parameter of URL, decoded.
qparam() { U=$1 N=$2 node -e 'let u;try{u=new URL(process.env.U)}catch(e){process.exit(0)}
process.stdout.write(u.searchParams.get(process.env.N)??"")'; }

# jwt_payload JWT: the payload of a JWS as JSON text.
jwt_payload() { printf '%s' "$1" | cut -d. -f2 | tr '_-' '/+' |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>
process.stdout.write(Buffer.from(s,"base64").toString()))'; }

# get JAR URL [CURL ARGS...]: sets ST, LOC (redirect target), B (body) and
# H (response headers, one file); ms in MS.
get() {
  _jar=$1; _url=$2; shift 2
  _t0=$(date +%s%N)
  _r=$($CURL -b "$_jar" -c "$_jar" -D "$T_DIR/h" -o "$T_DIR/b" \
    -w '%{http_code} %{redirect_url}' "$@" "$_url")
  MS=$(( ($(date +%s%N) - _t0) / 1000000 ))
  ST=${_r%% *}; LOC=${_r#* }; B=$(cat "$T_DIR/b"); H=$T_DIR/h
}

# A case passes only when every check in it passes: begin NAME, then
# want*/check calls, then done_case.
begin() { C_NAME=$1; C_BAD=""; }
bad() { C_BAD="${C_BAD:+$C_BAD | }$1"; }   # every failed check is reported
want_st() {   # want_st WHAT EXPECTED(regex)
  printf '%s\n' "$ST" | grep -Eqx -- "$2" || bad "$1: status $ST, expected $2; $(printf '%s' "$B" | tr '\n' ' ' | cut -c1-300)"
}
want_match() {   # want_match WHAT TEXT REGEX
  printf '%s\n' "$2" | grep -Eiq -- "$3" || bad "$1: /$3/ not in: $(printf '%s' "$2" | tr '\n' ' ' | cut -c1-300)"
}
want_eq() {   # want_eq WHAT GOT EXPECTED
  [ "$2" = "$3" ] || bad "$1: got '$2', expected '$3'"
}
done_case() { if [ -z "$C_BAD" ]; then ok "$C_NAME"; else fail "$C_NAME" "$C_BAD"; fi; }

# ------------------------------------------------------------- the IdP

SP_PORT=$(free_port)
SP=http://127.0.0.1:$SP_PORT
CB=$SP/sso/callback
idp_start idp --client-id $CLIENT --client-secret "$SECRET" \
  --redirect-uri "$CB" --post-logout-uri "$SP/ui,$SP/" ||
  { fail idp-start "the test IdP did not start"; finish; exit 1; }
IDP=$IDP_URL

# Basic credentials as RFC 6749 2.3.1 wants them, and as a careless
# client would send them (the IdP must refuse the latter).
BASIC=$(b64 "$(urlenc $CLIENT):$(urlenc "$SECRET")")
BASIC_RAW=$(b64 "$CLIENT:$SECRET")

begin idp-discovery
get /dev/null "$IDP/.well-known/openid-configuration"
J=$B
want_st discovery 200
want_eq issuer "$(js j.issuer)" "$IDP"
want_match scopes "$(js 'j.scopes_supported.join(" ")')" 'litellm_role.*groups|groups.*litellm_role'
want_match pkce "$(js j.code_challenge_methods_supported)" 'S256'
want_eq end_session "$(js j.end_session_endpoint)" "$IDP/session/end"
want_match auth_methods "$(js j.token_endpoint_auth_methods_supported)" 'client_secret_basic.*client_secret_post|client_secret_post.*client_secret_basic'
get /dev/null "$IDP/jwks"
J=$B
want_match jwks "$(js 'j.keys.map(k=>k.kid+":"+k.kty).join(" ")')" 'test-rs256-1:RSA.*test-es256-1:EC'
want_eq no_private_parts "$(js 'j.keys.some(k=>k.d)')" "false"
done_case

# idp_code JAR USER PASS [approve|deny] [EXTRA QUERY]: an authorization
# request straight to the IdP (no ssoproxy), with PKCE; sets IDP_OUT,
# VERIFIER and STATE.
VERIFIER=0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ
CHALLENGE=$(printf '%s' "$VERIFIER" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=\n')
idp_code() {
  STATE=st$(date +%s%N)
  idp_drive "$1" "$IDP/auth?response_type=code&client_id=${5:-$CLIENT}&redirect_uri=$(urlenc "$CB")&scope=openid%20email%20profile%20litellm_role%20groups&state=$STATE&nonce=n1&code_challenge=$CHALLENGE&code_challenge_method=S256" "$2" "$3" "${4:-approve}"
}

begin idp-login-pages
JAR=$T_DIR/idp-a.jar
idp_drive "$JAR" "$IDP/auth?response_type=code&client_id=$CLIENT&redirect_uri=$(urlenc "$CB")&scope=openid&state=x" alice wrong-password
want_eq wrong_password_status "$IDP_LOGIN_ST" 401
want_match wrong_password_page "$(cat "$IDP_PAGE")" 'id="error".*Wrong username or password'
rm -f "$JAR"
idp_code "$JAR" alice alice-pw
want_eq login_status "$IDP_LOGIN_ST" 303
want_eq consent_page "$IDP_CONSENT" 1
want_match back_to_callback "$IDP_OUT" "^$CB\\?"
want_eq iss "$(qparam "$IDP_OUT" iss)" "$IDP"
want_eq state "$(qparam "$IDP_OUT" state)" "$STATE"
CODE=$(qparam "$IDP_OUT" code)
want_match code "$CODE" '^[A-Za-z0-9_-]{20,}$'
done_case

begin idp-token-basic-auth
get /dev/null "$IDP/token" -H "Authorization: Basic $BASIC_RAW" \
  --data-urlencode grant_type=authorization_code --data-urlencode "code=$CODE" \
  --data-urlencode "redirect_uri=$CB" --data-urlencode "code_verifier=$VERIFIER"
want_st unencoded_secret 400
want_match unencoded_secret "$B" 'not properly encoded'
get /dev/null "$IDP/token" -H "Authorization: Basic $BASIC" \
  --data-urlencode grant_type=authorization_code --data-urlencode "code=$CODE" \
  --data-urlencode "redirect_uri=$CB" --data-urlencode code_verifier=wrong-verifier-0123456789012345678901234567
want_st bad_verifier 400
want_match bad_verifier "$B" invalid_grant
done_case

begin idp-token-and-userinfo
idp_code "$JAR" alice alice-pw   # the IdP session and consent are remembered
want_eq no_pages_second_time "$IDP_LOGIN_ST$IDP_CONSENT" ""
CODE=$(qparam "$IDP_OUT" code)
get /dev/null "$IDP/token" -H "Authorization: Basic $BASIC" \
  --data-urlencode grant_type=authorization_code --data-urlencode "code=$CODE" \
  --data-urlencode "redirect_uri=$CB" --data-urlencode "code_verifier=$VERIFIER"
want_st token 200
J=$B
AT=$(js j.access_token)
IDT=$(js j.id_token)
J=$(jwt_payload "$IDT")
want_eq id_token_iss "$(js j.iss)" "$IDP"
want_eq id_token_aud "$(js j.aud)" "$CLIENT"
want_eq id_token_nonce "$(js j.nonce)" "n1"
want_eq role_not_in_id_token "$(js j.litellm_role)" ""
J=$(printf '%s' "$IDT" | cut -d. -f1 | tr '_-' '/+' | base64 -d 2>/dev/null)
want_match id_token_header "$J" '"alg":"RS256".*"kid":"test-rs256-1"|"kid":"test-rs256-1".*"alg":"RS256"'
get /dev/null "$IDP/me" -H "Authorization: Bearer $AT"
want_st userinfo 200
J=$B
want_eq userinfo_sub "$(js j.sub)" alice
want_eq userinfo_role "$(js j.litellm_role)" proxy_admin
want_eq userinfo_groups "$(js 'j.groups.join(",")')" "litellm-admins,team-a"
want_eq userinfo_email "$(js j.email)" alice@example.local
want_eq userinfo_username "$(js j.preferred_username)" alice
get /dev/null "$IDP/token" -H "Authorization: Basic $BASIC" \
  --data-urlencode grant_type=authorization_code --data-urlencode "code=$CODE" \
  --data-urlencode "redirect_uri=$CB" --data-urlencode "code_verifier=$VERIFIER"
want_st code_replay 400
get /dev/null "$IDP/me" -H "Authorization: Bearer $AT"
want_st token_revoked_after_replay 401
done_case

begin idp-claims-in-id-token
idp_post /test/config '{"claimsIn":"id_token"}' >/dev/null
idp_code "$JAR" bob bob-pw          # another user: the IdP asks again
rm -f "$JAR"; idp_code "$JAR" bob bob-pw
CODE=$(qparam "$IDP_OUT" code)
get /dev/null "$IDP/token" -H "Authorization: Basic $BASIC" \
  --data-urlencode grant_type=authorization_code --data-urlencode "code=$CODE" \
  --data-urlencode "redirect_uri=$CB" --data-urlencode "code_verifier=$VERIFIER"
want_st token 200
J=$B; AT=$(js j.access_token); J=$(jwt_payload "$(js j.id_token)")
want_eq id_token_role "$(js j.litellm_role)" internal_user
want_eq id_token_email "$(js j.email)" bob@example.local
get /dev/null "$IDP/me" -H "Authorization: Bearer $AT"
J=$B
want_eq userinfo_has_no_role "$(js j.litellm_role)" ""
want_eq userinfo_sub "$(js j.sub)" bob
idp_post /test/config '{"claimsIn":"userinfo"}' >/dev/null
done_case

begin idp-client-secret-post
rm -f "$JAR"; idp_code "$JAR" carol carol-pw approve "$CLIENT-post"
CODE=$(qparam "$IDP_OUT" code)
get /dev/null "$IDP/token" --data-urlencode grant_type=authorization_code \
  --data-urlencode "code=$CODE" --data-urlencode "redirect_uri=$CB" \
  --data-urlencode "code_verifier=$VERIFIER" --data-urlencode "client_id=$CLIENT-post" \
  --data-urlencode "client_secret=$SECRET"
want_st token 200
J=$B; AT=$(js j.access_token)
get /dev/null "$IDP/me" -H "Authorization: Bearer $AT"
J=$B
want_eq carol_no_role "$(js j.litellm_role)" ""
want_eq carol_unverified "$(js j.email_verified)" false
done_case

begin idp-consent-denied
rm -f "$JAR"; idp_code "$JAR" alice alice-pw deny
want_eq error "$(qparam "$IDP_OUT" error)" access_denied
want_eq state "$(qparam "$IDP_OUT" state)" "$STATE"
want_eq no_code "$(qparam "$IDP_OUT" code)" ""
done_case

begin idp-test-role-endpoint
J=$(idp_post /test/role '{"user":"carol","role":"proxy_admin_viewer"}')
want_eq set "$(js j.litellm_role)" proxy_admin_viewer
J=$(idp_post /test/role '{"user":"carol","role":null}')
want_eq cleared "$(js j.litellm_role)" ""
done_case

# --------------------------------------------------------------- ssoproxy

# sp_start NAME [ENV...]: start ./ssoproxy on $SP_PORT with the seed
# guide's environment block (URLs pointing at the test IdP), then ENV
# (NAME=VALUE... override or add; NAME= removes); a fresh database per
# NAME. Sets SP_PID. Fails when it does not start.
sp_start() {
  _name=$1; shift
  SP_LOG=$T_DIR/sp-$_name.log
  : > "$SP_LOG"
  env GENERIC_CLIENT_ID=$CLIENT GENERIC_CLIENT_SECRET="$SECRET" \
    GENERIC_AUTHORIZATION_ENDPOINT="$IDP/auth" \
    GENERIC_TOKEN_ENDPOINT="$IDP/token" \
    GENERIC_USERINFO_ENDPOINT="$IDP/me" \
    GENERIC_SCOPE="openid profile email litellm_role" \
    GENERIC_USER_ROLE_ATTRIBUTE=litellm_role \
    PROXY_BASE_URL="$SP" \
    PROXY_LOGOUT_URL="$IDP/session/end" \
    AUTO_REDIRECT_UI_LOGIN_TO_SSO=true \
    LITELLM_MASTER_KEY=$MK SSOPROXY_WORKERS=2 \
    SSOPROXY_LISTEN=127.0.0.1:$SP_PORT SSOPROXY_DB="$T_DIR/sp-$_name.db" \
    "$@" sh -c 'for v in "$@"; do case $v in *=) unset "${v%=}";; esac; done
      exec "$0"' "$S" "$@" 2>"$SP_LOG" &
  SP_PID=$!
  T_PIDS="$T_PIDS $SP_PID"
  _u=$(listening_url "$SP_LOG")
  if [ "$_u" != "$SP" ]; then
    echo "ssoproxy ($_name) did not start on $SP: $(head -c 2000 "$SP_LOG")"
    sp_stop
    return 1
  fi
}
sp_stop() {
  kill -TERM "$SP_PID" 2>/dev/null
  wait "$SP_PID" 2>/dev/null
  forget_pid "$SP_PID"
}

# sp_begin JAR [PATH]: GET PATH (default /sso/key/generate) at ssoproxy;
# sets AUTHZ (the authorization request it redirected to).
sp_begin() {
  get "$1" "$SP${2:-/sso/key/generate}"
  AUTHZ=$LOC
}

# login JAR USER PASS: the whole login as a browser: ssoproxy, the IdP's
# pages, back to /sso/callback. Sets CB_URL (the callback the IdP sent),
# and ST/LOC/B of the callback answer.
login() {
  CB_URL=""
  sp_begin "$1"
  idp_drive "$1" "$AUTHZ" "$2" "$3" || { ST=none; B="IdP step failed (authorize: $AUTHZ)"; return 1; }
  CB_URL=$IDP_OUT
  get "$1" "$CB_URL"
}

# whoami JAR: /oauth2/userinfo with that browser's cookies; sets ST, J.
whoami() { get "$1" "$SP/oauth2/userinfo"; J=$B; }

# db_role USER: user_role from /user/info with the master key.
db_role() {
  get /dev/null "$SP/user/info?user_id=$1" -H "Authorization: Bearer $MK"
  J=$B; js 'j.user_info&&j.user_info.user_role'
}

# logged_in_as NAME JAR USER ROLE: the checks after a successful login.
logged_in_as() {
  want_st "$1 callback" '302'
  want_eq "$1 session cookie" "$(jar_session "$2")" yes
  want_eq "$1 db role" "$(db_role "$3")" "$4"
  whoami "$2"
  want_st "$1 /oauth2/userinfo" 200
  want_eq "$1 user_id" "$(js j.user_id)" "$3"
  want_eq "$1 role" "$(js j.role)" "$4"
}

# jar_session JAR: "yes" when that browser holds an ssoproxy session
# cookie (any name ending in ssoproxy_session, with a value).
jar_session() {
  awk -F'\t' '$6 ~ /ssoproxy_session$/ && $7 != "" { f=1 } END { print f ? "yes" : "no" }' "$1" 2>/dev/null
}

# no_session NAME JAR: that browser got no ssoproxy session: no session
# cookie, and /oauth2/userinfo refuses it.
no_session() {
  want_eq "$1 no session cookie" "$(jar_session "$2")" no
  whoami "$2"
  want_st "$1 no session" 401
}

# The seed guide's env block, explicit endpoints, no discovery.
if ! sp_start guide; then
  fail ssoproxy-start "ssoproxy did not start with the seed guide's settings: $(head -c 600 "$SP_LOG" | tr '\n' ' ')"
  finish; exit 1
fi

begin sp-authorization-request
JAR=$T_DIR/a1.jar; rm -f "$JAR"
sp_begin "$JAR"
want_st redirect '302'
want_match to_idp "$AUTHZ" "^$IDP/auth\\?"
want_eq response_type "$(qparam "$AUTHZ" response_type)" code
want_eq client_id "$(qparam "$AUTHZ" client_id)" $CLIENT
want_eq redirect_uri "$(qparam "$AUTHZ" redirect_uri)" "$CB"
want_eq scope "$(qparam "$AUTHZ" scope)" "openid profile email litellm_role"
want_match state "$(qparam "$AUTHZ" state)" '^[A-Za-z0-9_~.-]{22,}$'
want_match nonce "$(qparam "$AUTHZ" nonce)" '^[A-Za-z0-9_~.-]{22,}$'
want_match code_challenge "$(qparam "$AUTHZ" code_challenge)" '^[A-Za-z0-9_-]{43}$'
want_eq code_challenge_method "$(qparam "$AUTHZ" code_challenge_method)" S256
get "$T_DIR/a0.jar" "$SP/ui"
want_st ui_auto_redirect '30[23]'
want_match ui_goes_to_sso "$LOC" "^($SP/sso/key/generate|$IDP/auth\\?)"
done_case

begin sp-admin-login-role-from-userinfo
JAR=$T_DIR/alice.jar; rm -f "$JAR"
login "$JAR" alice alice-pw
SETC=$(grep -i '^set-cookie' "$H")
logged_in_as alice "$JAR" alice proxy_admin
whoami "$JAR"
want_eq email_local_tld_kept "$(js j.email)" alice@example.local
want_match session_cookie_httponly "$SETC" 'httponly'
want_match session_cookie_samesite "$SETC" 'samesite=lax'
want_match session_cookie_path "$SETC" 'path=/'
done_case
ALICE_JAR=$JAR

# The seed PR's story on a real IdP: an IDE opens
# /sso/key/generate?response_type=oauth_token in a browser without a
# session; it signs in at the IdP, comes back to the flow and gets a key
# that is the signed-in user's.
begin sp-seed-key-handoff-after-sso
JAR=$T_DIR/seed.jar; rm -f "$JAR"
sp_begin "$JAR" "/sso/key/generate?response_type=oauth_token"
want_match seed_sign_in_first "$AUTHZ" "^$SP/login\\?rd="
get "$JAR" "$AUTHZ"        # /login goes on to the IdP (auto-redirect is on)
AUTHZ=$LOC
want_match seed_goes_to_idp "$AUTHZ" "^$IDP/auth\\?"
idp_drive "$JAR" "$AUTHZ" alice alice-pw || bad "IdP steps failed"
get "$JAR" "$IDP_OUT"
want_st seed_callback 302
want_match seed_back_to_flow "$LOC" "^$SP/sso/key/generate\\?response_type=oauth_token"
get "$JAR" "$LOC"
want_st seed_key 200
want_match seed_no_store "$(grep -i '^cache-control' "$H")" 'no-store'
J=$B
SEED_KEY=$(js j.access_token)
want_match seed_key_format "$SEED_KEY" '^sk-[A-Za-z0-9_-]{20,}$'
want_eq seed_token_type "$(js j.token_type)" Bearer
get /dev/null "$SP/key/info" -H "Authorization: Bearer $SEED_KEY"
want_st seed_key_works 200
J=$B
want_eq seed_key_owner "$(js 'j.info&&j.info.user_id')" alice
done_case

begin sp-user-login-internal-user
JAR=$T_DIR/bob.jar; rm -f "$JAR"
login "$JAR" bob bob-pw
logged_in_as bob "$JAR" bob internal_user
done_case

begin sp-no-role-claim-default-viewer
JAR=$T_DIR/carol.jar; rm -f "$JAR"
login "$JAR" carol carol-pw
logged_in_as carol "$JAR" carol internal_user_viewer
done_case

begin sp-role-synced-on-next-login
idp_post /test/role '{"user":"bob","role":"proxy_admin"}' >/dev/null
JAR=$T_DIR/bob.jar   # the same browser: the IdP does not ask again
login "$JAR" bob bob-pw
want_eq no_idp_pages "$IDP_LOGIN_ST$IDP_CONSENT" ""
logged_in_as bob "$JAR" bob proxy_admin
idp_post /test/role '{"user":"bob","role":"internal_user"}' >/dev/null
login "$JAR" bob bob-pw
logged_in_as bob-back "$JAR" bob internal_user
done_case

begin sp-wrong-password-at-idp
JAR=$T_DIR/w.jar; rm -f "$JAR"
sp_begin "$JAR"
idp_drive "$JAR" "$AUTHZ" alice not-the-password
want_eq idp_401 "$IDP_LOGIN_ST" 401
want_eq not_sent_back "$IDP_OUT" ""
no_session wrong-password "$JAR"
done_case

begin sp-consent-denied
JAR=$T_DIR/deny.jar; rm -f "$JAR"
sp_begin "$JAR"
idp_drive "$JAR" "$AUTHZ" alice alice-pw deny
want_eq idp_error "$(qparam "$IDP_OUT" error)" access_denied
get "$JAR" "$IDP_OUT"
want_st callback '403'
want_match says_why "$B" 'access_denied|denied'
want_match html "$(cat "$H")" 'content-type: text/html'
want_match no_framing "$(cat "$H")" "x-frame-options: deny|frame-ancestors 'none'"
want_match no_store "$(cat "$H")" 'cache-control: no-store'
no_session consent-denied "$JAR"
done_case

# A callback URL from a real login, not yet used: sets JAR, CB_URL.
fresh_callback() {
  JAR=$T_DIR/$1.jar; rm -f "$JAR"
  sp_begin "$JAR"
  idp_drive "$JAR" "$AUTHZ" bob bob-pw
  CB_URL=$IDP_OUT
}

begin sp-state-missing
fresh_callback nostate
get "$JAR" "$(printf '%s' "$CB_URL" | sed 's/[?&]state=[^&]*//; s/callback&/callback?/')"
want_st callback '400'
want_match says_why "$B" 'state'
no_session state-missing "$JAR"
done_case

begin sp-state-replayed
fresh_callback replay
cp "$JAR" "$T_DIR/replay-copy.jar"
get "$JAR" "$CB_URL"
want_st first_use '302'
get "$T_DIR/replay-copy.jar" "$CB_URL"
want_st replay '400'
want_match says_why "$B" 'state'
no_session state-replayed "$T_DIR/replay-copy.jar"
done_case

begin sp-state-from-another-browser
fresh_callback other
get "$T_DIR/stranger.jar" "$CB_URL"
want_st other_browser '400'
want_match says_why "$B" 'state|browser'
no_session other-browser "$T_DIR/stranger.jar"
done_case

begin sp-tampered-code
fresh_callback tamper
C0=$(qparam "$CB_URL" code)
C1=$(printf '%s' "$C0" | sed 's/.$//')X
[ "$C1" = "$C0" ] && C1=$(printf '%s' "$C0" | sed 's/.$//')Y
get "$JAR" "$(printf '%s' "$CB_URL" | sed "s/code=$C0/code=$C1/")"
want_st tampered '400'
want_match says_why "$B" 'invalid_grant|code|token'
no_session tampered "$JAR"
# The refused callback used the state up: the genuine code cannot follow.
get "$JAR" "$CB_URL"
want_st state_used_up '400'
no_session tampered-then-genuine "$JAR"
done_case

begin sp-logout
JAR=$ALICE_JAR
whoami "$JAR"
BEFORE=$ST
cp "$JAR" "$T_DIR/old-cookie.jar"
get "$JAR" "$SP/logout"
want_st confirm_page 200
CSRF=$(printf '%s' "$B" | sed -n 's/.*name="\(csrf[a-z_]*\)"[^>]*value="\([^"]*\)".*/\1=\2/p' | head -n 1)
[ -n "$CSRF" ] || CSRF=$(printf '%s' "$B" | sed -n 's/.*value="\([^"]*\)"[^>]*name="\(csrf[a-z_]*\)".*/\2=\1/p' | head -n 1)
want_match csrf_field "$CSRF" '^csrf[a-z_]*=.{16,}'
get "$JAR" "$SP/logout" -X POST --data-urlencode "${CSRF%%=*}=forged"
want_st forged_csrf '403'
want_eq forged_csrf_keeps_session "$(jar_session "$JAR")" yes
get "$JAR" "$SP/logout" -X POST --data-urlencode "$CSRF"
want_st logout '30[23]'
want_match to_logout_url "$LOC" "^$IDP/session/end"
want_eq cookie_cleared "$(jar_session "$JAR")" no
want_eq logged_in_before "$BEFORE" 200
get "$T_DIR/old-cookie.jar" "$SP/oauth2/userinfo"
want_st old_cookie_refused 401
done_case

# The login state lives 5 minutes (issue 5). ssoproxy runs under
# libfaketime with a clock read from a file, so the test moves its clock
# (wall and monotonic) 6 minutes ahead between the IdP and the callback.
begin sp-state-expired
sp_stop
FT_LIB=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -n 1)
if [ -z "$FT_LIB" ]; then apt_install faketime
  FT_LIB=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -n 1); fi
echo "+0" > "$T_DIR/faketime"
sp_start expired LD_PRELOAD="$FT_LIB" FAKETIME_TIMESTAMP_FILE="$T_DIR/faketime" \
  FAKETIME_NO_CACHE=1 || bad "start: $(head -c 300 "$SP_LOG")"
fresh_callback expired
echo "+360s" > "$T_DIR/faketime"
get "$JAR" "$CB_URL"
want_st expired '400'
want_match says_why "$B" 'expired|state'
no_session state-expired "$JAR"
echo "+0" > "$T_DIR/faketime"
done_case

# The IdP goes away between its login page and the callback: its port
# refuses connections; then it comes back on the same port.
begin sp-idp-refuses-connections
sp_stop
sp_start refused || bad "start: $(head -c 300 "$SP_LOG")"
fresh_callback refused
IDP_PORT=${IDP##*:}
idp_stop
get "$JAR" "$CB_URL"
want_st callback '502'
want_match says_why "$B" 'identity provider'
[ "$MS" -lt 5000 ] || bad "answered in $MS ms"
no_session refused "$JAR"
get /dev/null "$SP/health/liveliness"
want_st liveliness 200
idp_start idp2 --port "$IDP_PORT" --client-id $CLIENT --client-secret "$SECRET" \
  --redirect-uri "$CB" --post-logout-uri "$SP/ui,$SP/" || bad "IdP did not come back"
[ "$IDP_URL" = "$IDP" ] || bad "IdP came back as $IDP_URL, not $IDP"
done_case

begin sp-idp-answers-after-10s
sp_stop
sp_start slow SSOPROXY_IDP_TIMEOUT_MS=3000 || bad "start: $(head -c 300 "$SP_LOG")"
fresh_callback slow
idp_post /test/config '{"tokenDelayMs":10000}' >/dev/null
( get "$JAR" "$CB_URL"; echo "$ST $MS" > "$T_DIR/slow.res"; cp "$T_DIR/b" "$T_DIR/slow.body" ) &
SLOW=$!
sleep 0.5
worst=0
for i in 1 2 3 4 5; do
  get /dev/null "$SP/health/liveliness"
  [ "$ST" = 200 ] || bad "liveliness status $ST during the hang"
  [ "$MS" -gt "$worst" ] && worst=$MS
  sleep 0.2
done
[ "$worst" -lt 200 ] || bad "/health/liveliness took $worst ms during the hang"
wait $SLOW
idp_post /test/config '{"tokenDelayMs":0}' >/dev/null
read -r sst sms < "$T_DIR/slow.res"
ST=$sst; B=$(cat "$T_DIR/slow.body")
want_st callback '504'
[ "$sms" -lt 9000 ] || bad "error page after $sms ms, not within the 3 s timeout"
want_match says_why "$B" 'identity provider|IdP|timed out|timeout'
no_session slow "$JAR"
done_case

begin sp-client-secret-post
sp_stop
sp_start post GENERIC_CLIENT_ID=$CLIENT-post SSOPROXY_CLIENT_AUTH_METHOD=client_secret_post ||
  bad "start: $(head -c 300 "$SP_LOG")"
JAR=$T_DIR/carol-post.jar; rm -f "$JAR"
login "$JAR" carol carol-pw
want_eq client_id "$(qparam "$AUTHZ" client_id)" "$CLIENT-post"
logged_in_as carol-post "$JAR" carol internal_user_viewer
done_case

begin sp-first-login-role-kept
sp_stop
sp_start firstlogin SSOPROXY_ROLE_SYNC=first_login || bad "start: $(head -c 300 "$SP_LOG")"
JAR=$T_DIR/fl.jar; rm -f "$JAR"
login "$JAR" bob bob-pw
logged_in_as bob-first "$JAR" bob internal_user
idp_post /test/role '{"user":"bob","role":"proxy_admin"}' >/dev/null
login "$JAR" bob bob-pw
logged_in_as bob-second "$JAR" bob internal_user
idp_post /test/role '{"user":"bob","role":"internal_user"}' >/dev/null
done_case

begin sp-group-mapping
sp_stop
sp_start groups GENERIC_SCOPE="openid profile email groups" \
  GENERIC_USER_ROLE_ATTRIBUTE= \
  GENERIC_ROLE_MAPPINGS_GROUP_CLAIM=groups \
  GENERIC_ROLE_MAPPINGS_ROLES='{"proxy_admin":["litellm-admins"],"internal_user":["team-a"]}' ||
  bad "start: $(head -c 300 "$SP_LOG")"
JAR=$T_DIR/dave.jar; rm -f "$JAR"
login "$JAR" dave dave-pw
logged_in_as dave "$JAR" dave proxy_admin
whoami "$JAR"
want_match dave_groups "$(js j.groups)" 'litellm-admins'
JAR=$T_DIR/bobg.jar; rm -f "$JAR"
login "$JAR" bob bob-pw
logged_in_as bob-team-a "$JAR" bob internal_user
JAR=$T_DIR/carolg.jar; rm -f "$JAR"
login "$JAR" carol carol-pw
logged_in_as carol-no-group "$JAR" carol internal_user_viewer
done_case

begin sp-role-only-in-id-token
sp_stop
idp_post /test/config '{"claimsIn":"id_token"}' >/dev/null
sp_start idtoken || bad "start: $(head -c 300 "$SP_LOG")"
JAR=$T_DIR/alice-idt.jar; rm -f "$JAR"
login "$JAR" alice alice-pw
logged_in_as alice-id-token "$JAR" alice proxy_admin
idp_post /test/config '{"claimsIn":"userinfo"}' >/dev/null
done_case

begin sp-discovery
sp_stop
sp_start discovery GENERIC_ISSUER="$IDP" GENERIC_AUTHORIZATION_ENDPOINT= \
  GENERIC_TOKEN_ENDPOINT= GENERIC_USERINFO_ENDPOINT= PROXY_LOGOUT_URL= ||
  bad "start: $(head -c 300 "$SP_LOG")"
JAR=$T_DIR/alice-disc.jar; rm -f "$JAR"
login "$JAR" alice alice-pw
want_match discovered_authz "$AUTHZ" "^$IDP/auth\\?"
logged_in_as alice-discovery "$JAR" alice proxy_admin
JAR=$T_DIR/bob-disc.jar; rm -f "$JAR"
login "$JAR" bob bob-pw
logged_in_as bob-discovery "$JAR" bob internal_user
# Logout goes to the discovered end_session_endpoint with an id_token_hint.
get "$JAR" "$SP/logout"
CSRF=$(printf '%s' "$B" | sed -n 's/.*name="\(csrf[a-z_]*\)"[^>]*value="\([^"]*\)".*/\1=\2/p' | head -n 1)
get "$JAR" "$SP/logout" -X POST --data-urlencode "$CSRF"
want_st logout '30[23]'
want_match end_session "$LOC" "^$IDP/session/end\\?"
want_match id_token_hint "$LOC" 'id_token_hint='
want_match post_logout_redirect "$LOC" 'post_logout_redirect_uri='
done_case

begin sp-discovery-issuer-mismatch-refused
sp_stop
sp_start badissuer GENERIC_ISSUER="$IDP/" GENERIC_AUTHORIZATION_ENDPOINT= \
  GENERIC_TOKEN_ENDPOINT= GENERIC_USERINFO_ENDPOINT= 2>/dev/null
if kill -0 "$SP_PID" 2>/dev/null; then
  JAR=$T_DIR/mism.jar; rm -f "$JAR"
  sp_begin "$JAR"
  want_match "no login through a mismatched issuer" "$ST" '^5[0-9][0-9]$'
fi
want_match says_why "$(cat "$SP_LOG") $B" 'issuer'
done_case

begin sp-chromium-login
sp_stop
sp_start browser || bad "start: $(head -c 300 "$SP_LOG")"
if browser_setup; then
  J=$(node "$IDP_DIR/browser.mjs" "$SP/ui" alice alice-pw wrong-pw 2>"$T_DIR/browser.err")
  [ -n "$J" ] || bad "browser.mjs printed nothing: $(head -c 500 "$T_DIR/browser.err")"
  want_eq error "$(js j.error)" ""
  want_match went_to_idp "$(js j.idpLoginUrl)" "^$IDP/interaction/"
  want_eq wrong_password "$(js j.wrongStatus)" 401
  want_match back_at_ssoproxy "$(js j.finalUrl)" "^$SP/"
  want_match page_shows_user "$(js j.pageText)" 'alice'
  want_match page_shows_role "$(js j.pageText)" 'proxy_admin'
  want_eq userinfo "$(js j.userinfoStatus)" 200
  want_eq role "$(js j.userinfo.role)" proxy_admin
  want_eq loopback_only "$(js j.offLoopback)" 0
else
  bad "chromium could not be installed"
fi
done_case

sp_stop
finish

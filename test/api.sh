#!/bin/sh
# The management API end to end, against a real ./ssoproxy with a master
# key and a temporary database: LiteLLM's request and response shapes on
# every endpoint, the whole permission matrix, bad input of each kind,
# refused credentials, immediate revocation, the audit log, last-use
# batching, no plaintext key on disk, the seed guide's curl line, and the
# admin CLI beside the running server.
cd "$(dirname "$0")/.." || exit 1
. test/lib.sh
S=$PWD/ssoproxy
unset LITELLM_MASTER_KEY SSOPROXY_MASTER_KEY SSOPROXY_LISTEN SSOPROXY_DB
MK=sk-master-test-0123456789abcdef
DB=$T_DIR/api.db
CURL="curl -s --max-time 10"

# start NAME [ENV...]: run the server in the background on a free port;
# sets URL and PID.
start() {
  log=$T_DIR/$1.log; shift
  : > "$log"
  env "$@" SSOPROXY_WORKERS=2 $S --listen 127.0.0.1:0 --db "$DB" 2>"$log" &
  PID=$!
  T_PIDS="$T_PIDS $PID"
  URL=$(listening_url "$log")
  [ -n "$URL" ] || { echo "server did not start: $(cat "$log")"; exit 1; }
}

stop() {
  kill -TERM "$PID"
  wait "$PID"
}

# req METHOD PATH CREDENTIAL [BODY]: sets ST (status) and B (body).
# CREDENTIAL "" sends none; "H:name:value" sends that header as it is.
req() {
  _m=$1; _p=$2; _k=$3
  set -- -X "$_m" -w '\n%{http_code}'
  case $_k in
    "") ;;
    H:*) _h=${_k#H:}; set -- "$@" -H "${_h%%:*}: ${_h#*:}" ;;
    *) set -- "$@" -H "Authorization: Bearer $_k" ;;
  esac
  if [ -n "${BODY+x}" ]; then
    set -- "$@" -H 'Content-Type: application/json' --data-binary "$BODY"
  fi
  out=$($CURL "$@" "$URL$_p")
  ST=$(printf '%s' "$out" | tail -n 1)
  B=$(printf '%s' "$out" | sed '$d')
}
get()  { unset BODY; req GET "$1" "$2"; }
post() { BODY=$3; req POST "$1" "$2"; unset BODY; }

# check NAME WANT_STATUS [PATTERN...]: the last answer has that status and
# matches every PATTERN (grep -E).
check() {
  n=$1; want=$2; shift 2
  if [ "$ST" != "$want" ]; then
    fail "$n" "status $ST, expected $want: $B"
    return
  fi
  for pat in "$@"; do
    if ! printf '%s\n' "$B" | grep -Eq -- "$pat"; then
      fail "$n" "answer does not match /$pat/: $B"
      return
    fi
  done
  ok "$n"
}

# A string member of the last answer.
field() { printf '%s\n' "$B" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }

# entry_has NAME PATTERN: one entry of the last /audit/list answer matches.
entry_has() {
  if printf '%s\n' "$B" | sed 's/{"id":/\
{"id":/g' | grep -Eq -- "$2"; then ok "$1"; else fail "$1" "no entry /$2/"; fi
}

# newkey USER: a fresh key for USER, made with the master key.
newkey() {
  post /key/generate "$MK" "{\"user_id\":\"$1\"}"
  field key
}

start api LITELLM_MASTER_KEY=$MK

# ---- Users and their first keys (POST /user/new) ----
for u in admin:proxy_admin pav:proxy_admin_viewer iu:internal_user \
         iuv:internal_user_viewer other:internal_user; do
  id=${u%%:*}; role=${u#*:}
  post /user/new "$MK" "{\"user_id\":\"$id\",\"user_role\":\"$role\",\"user_email\":\"$id@example.com\"}"
  eval "K_$id=\$(field key)"
done
check user-new-shape 200 '"key":"sk-[A-Za-z0-9_-]{43}"' \
  '"key_name":"sk-\.\.\.[A-Za-z0-9_-]{4}"' '"token_id":"[0-9a-f]{64}"' \
  '"user_id":"other"' '"user_role":"internal_user"' \
  '"user_email":"other@example.com"' '"expires":null' '"teams":\[\]'
case $K_other in *"$(field key_name | cut -c7-)") ok key-name-is-last-4 ;;
  *) fail key-name-is-last-4 "$K_other vs $(field key_name)" ;; esac
post /user/new "$MK" '{"user_email":"anon@example.com","auto_create_key":false}'
check user-new-default-id-no-key 200 \
  '"user_id":"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"' \
  '"key":null' '"user_role":"internal_user"' '"source":"local"'
post /user/new "$MK" '{"user_id":"other"}'
check user-new-duplicate 400 '"param":"user_id"' 'already exists' '"code":"400"'

# ---- Keys ----
post /key/generate "$MK" '{"user_id":"iu","key_alias":"iu-laptop","duration":"30d","models":["gpt-4o","llama3"],"metadata":{"team":"blue"},"rpm_limit":60,"tpm_limit":1000}'
check key-generate-shape 200 '"key":"sk-[A-Za-z0-9_-]{43}"' \
  '"token_id":"[0-9a-f]{64}"' '"key_alias":"iu-laptop"' \
  '"expires":"20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z"' \
  '"models":\["gpt-4o","llama3"\]' '"metadata":\{"team":"blue"\}' \
  '"rpm_limit":60' '"tpm_limit":1000' '"user_id":"iu"' '"duration":"30d"' \
  '"issued_via":"api"' '"created_by":"master_key"' '"blocked":false'
K_laptop=$(field key)
H_laptop=$(field token_id)
post /key/generate "$MK" '{}'
check key-generate-master-no-owner 200 '"user_id":null'
K_nobody=$(field key)
post /key/generate "$K_iu" '{"key_alias":"iu-own"}'
check key-generate-own-default-owner 200 '"user_id":"iu"' '"created_by":"iu"'

get /key/info "$K_iu"
check key-info-own-key 200 '^\{"key":"[0-9a-f]{64}","info":\{"token":"[0-9a-f]{64}"' \
  '"user_id":"iu"' '"spend":0\.0' '"key_name":"sk-\.\.\.'
get "/key/info?key=$K_laptop" "$MK"
check key-info-by-key 200 '"key_alias":"iu-laptop"' '"rpm_limit":60'
get "/key/info?key=$H_laptop" "$K_admin"
check key-info-by-hash 200 "\"token\":\"$H_laptop\""
get /key/info "$MK"
check key-info-master-needs-key 400 '"param":"key"'
get "/key/info?key=sk-does-not-exist" "$MK"
check key-info-unknown 404 '"type":"not_found_error"' '"code":"404"'

post /key/update "$K_iu" "{\"key\":\"$K_laptop\",\"key_alias\":\"iu-desk\",\"models\":[\"gpt-4o\"],\"metadata\":{\"team\":\"red\"}}"
check key-update-shape 200 "\"key\":\"$K_laptop\"" '"key_alias":"iu-desk"' \
  '"models":\["gpt-4o"\]' '"metadata":\{"team":"red"\}' '"rpm_limit":60'
post /key/update "$K_iu" "{\"key\":\"$K_laptop\",\"rpm_limit\":1000}"
check key-update-limit-admin-only 403 '"param":"rpm_limit"'
post /key/update "$MK" "{\"key\":\"$H_laptop\",\"rpm_limit\":1000,\"duration\":\"1h\"}"
check key-update-admin-limit 200 '"rpm_limit":1000' '"expires":"20'
post /key/update "$MK" "{\"key\":\"$K_laptop\",\"key_alias\":\"iu-own\"}"
check key-update-alias-taken 400 '"param":"key_alias"'

get /key/list "$K_iu"
check key-list-own 200 '^\{"keys":\["[0-9a-f]{64}"' '"total_count":3' \
  '"current_page":1' '"total_pages":1'
get "/key/list?user_id=iu&size=2&page=2&return_full_object=true" "$MK"
check key-list-page-2-full 200 '"keys":\[\{"token":' '"total_count":3' \
  '"current_page":2' '"total_pages":2'
get "/key/list?key_alias=iu-desk" "$K_pav"
check key-list-by-alias 200 "\"keys\":\\[\"$H_laptop\"\\]" '"total_count":1'
get /key/list "$MK"
check key-list-all 200 '"total_count":8'

post /key/block "$MK" "{\"key\":\"$K_laptop\"}"
check key-block 200 '"blocked":true' "\"token\":\"$H_laptop\""
get /key/info "$K_laptop"
check key-blocked-refused 401 'Key is blocked' '"type":"auth_error"' '"code":"401"'
post /key/unblock "$MK" "{\"key\":\"$H_laptop\"}"
check key-unblock 200 '"blocked":false'
get /key/info "$K_laptop"
check key-unblocked-works 200

post /key/delete "$K_iu" '{"key_aliases":["iu-desk"]}'
check key-delete-by-alias 200 '^\{"deleted_keys":\["iu-desk"\]\}$'
get /key/info "$K_laptop"
check key-deleted-refused 401 'Invalid proxy server token'
k1=$(newkey other); k2=$(newkey other)
post /key/delete "$MK" "{\"keys\":[\"$k1\",\"sk-nope\"]}"
check key-delete-all-or-nothing 404 '"param":"keys"'
get /key/info "$k1"
check key-delete-all-or-nothing-kept 200
post /key/delete "$MK" "{\"keys\":[\"$k1\",\"$k2\"]}"
check key-delete-two 200 "\"deleted_keys\":\\[\"$k1\",\"$k2\"\\]"
post /key/delete "$MK" '{}'
check key-delete-needs-keys 422 '"param":"keys"'

# ---- Users ----
post /user/new "$MK" '{"user_id":"the-username","user_role":"internal_user_view_only","auto_create_key":false}'
check role-alias-accepted 200 '"user_role":"internal_user_viewer"'
grep -q 'level=warn msg="role internal_user_view_only is deprecated' \
  "$T_DIR/api.log" && ok role-alias-warning-logged ||
  fail role-alias-warning-logged "$(tail -n 3 "$T_DIR/api.log")"

# The seed guide's line, as written (only the URL differs).
LITELLM_MASTER_KEY=$MK
out=$(curl -X POST $URL/user/update \
-H "Authorization: Bearer $LITELLM_MASTER_KEY" \
-H "Content-Type: application/json" \
-d '{"user_id": "the-username", "user_role": "proxy_admin"}' 2>/dev/null)
case $out in *'"user_id":"the-username"'*'"user_role":"proxy_admin"'*)
  ok seed-guide-user-update ;; *) fail seed-guide-user-update "$out" ;; esac
unset LITELLM_MASTER_KEY

post /user/update "$MK" '{"user_email":"IUV@example.com","user_alias":"Ivy"}'
check user-update-by-email 200 '"user_id":"iuv"' '"user_alias":"Ivy"'
post /user/update "$MK" '{"user_role":"proxy_admin"}'
check user-update-needs-id 422 '"param":"user_id"' 'one of user_id or user_email'
post /user/update "$MK" '{"user_id":"ghost","user_role":"proxy_admin"}'
check user-update-unknown 404 '"param":"user_id"' 'no such user: ghost'
post /user/update "$MK" '{"user_id":"iu","user_role":"admin"}'
check user-update-bad-role 400 '"param":"user_role"' \
  'valid roles: proxy_admin, proxy_admin_viewer, internal_user, internal_user_viewer'

get "/user/info?user_id=iu" "$K_pav"
check user-info 200 '^\{"user_id":"iu","user_info":\{"user_id":"iu"' \
  '"keys":\[\{"token":' '"teams":\[\]'
get /user/info "$K_iuv"
check user-info-self 200 '"user_id":"iuv"'
get "/user/list?role=internal_user&page_size=2&page=2" "$K_admin"
check user-list-role-page 200 '^\{"users":\[\{"user_id":"other"' \
  '"key_count":[0-9]' '"total":3' '"page":2' '"page_size":2' '"total_pages":2'
get "/user/list?user_ids=iu,other,ghost" "$MK"
check user-list-ids 200 '"total":2'
get "/user/list?role=nobody" "$MK"
check user-list-bad-role 400 '"param":"role"'

k1=$(newkey other)
post /user/new "$MK" '{"user_id":"gone","auto_create_key":true}'
k2=$(field key)
post /user/delete "$MK" '{"user_ids":["gone"]}'
check user-delete 200 '^\{"deleted_users":\["gone"\],"deleted_keys":1\}$'
get /key/info "$k2"
check user-delete-kills-keys 401
post /user/delete "$MK" '{"user_ids":["gone"]}'
check user-delete-unknown 404

# ---- Bad input of each kind ----
# name | status | body of a POST /key/generate | pattern the answer matches
while IFS='|' read -r name want body pat; do
  post /key/generate "$MK" "$body"
  check "$name" "$want" "$pat"
done <<'EOF'
bad-json|400|{"key_alias":|invalid JSON in the request body at byte 13.*"param":null
duplicate-json-member|400|{"key_alias":"a","key_alias":"b"}|invalid JSON
body-not-object|422|["not","an","object"]|must be a JSON object
wrong-type-array|422|{"models":"gpt-4"}|models: expected an array, got a string.*"param":"models"
wrong-type-element|422|{"models":[1,2]}|array of strings.*"param":"models"
wrong-type-int|422|{"rpm_limit":"60"}|"param":"rpm_limit"
wrong-type-fraction|422|{"rpm_limit":1.5}|"param":"rpm_limit"
wrong-type-bool|422|{"blocked":"yes"}|expected a boolean.*"param":"blocked"
wrong-type-object|422|{"metadata":[]}|"param":"metadata"
bad-duration|400|{"duration":"forever"}|"param":"duration"
key-for-unknown-user|400|{"user_id":"ghost"}|no such user.*"param":"user_id"
custom-key-refused|400|{"key":"sk-mine"}|"param":"key"
empty-text|400|{"key_alias":""}|must not be empty.*"param":"key_alias"
nul-in-text|400|{"key_alias":"a\u0000b"}|NUL
EOF
long=$(printf '%0300d' 0)
post /key/generate "$MK" "{\"key_alias\":\"$long\"}"
check text-too-long 400 'longer than 256 bytes'
post /key/update "$MK" '{"key_alias":"x"}'
check missing-required 422 '"param":"key"' 'key: field required'
post /key/update "$MK" '{"key":"not-a-key"}'
check bad-key-reference 400 'expected an API key'
get "/key/list?size=1000" "$MK"
check page-size-range 422 '"param":"size"'
get "/key/list?page=zero" "$MK"
check page-not-number 422 '"param":"page"'
get "/user/info?user_id=a&user_id=b" "$MK"
check repeated-query 400 'given more than once'
unset BODY; req GET /key/generate "$MK"
check wrong-method 405

# ---- Credentials ----
get /key/list ""
check no-credential 401 'No api key passed in\.' '"type":"auth_error"' '"code":"401"'
get /key/list "sk-never-issued-0123456789"
check unknown-key 401 'Invalid proxy server token passed' 'sk-\.\.\.6789'
secret=notakey-supersecretvalue-1234
get /key/list "$secret"
check non-sk-bearer 401 "LiteLLM Virtual Key expected\. Received=\*\*\*\*1234, expected to start with 'sk-'\."
case $B in *supersecret*) fail non-sk-bearer-masked "$B" ;;
  *) ok non-sk-bearer-masked ;; esac
get /key/list "H:Authorization:Basic dXNlcjpwYXNz"
check not-bearer 401 'Malformed API Key'
for h in x-litellm-api-key api-key x-api-key; do
  get /key/list "H:$h:$K_iu"
  check "header-$h" 200 '"total_count":'
done
get /key/list "H:x-api-key:Bearer $K_iu"
check header-bearer-prefix-stripped 200
post /key/generate "$MK" '{"user_id":"other","duration":"1s"}'
k_exp=$(field key)
sleep 1.2
get /key/info "$k_exp"
check expired-key 401 'Expired Key'
get /key/info "$K_nobody"
check ownerless-key-reads-itself 200 '"user_id":null'
get /key/list "$K_nobody"
check ownerless-key-lists-itself 200 '"total_count":1'
post /key/generate "$K_nobody" '{}'
check ownerless-key-cannot-generate 403

# ---- Permission matrix: every role on every endpoint ----
# Each line: endpoint, then the expected status for the master key and
# the roles proxy_admin, proxy_admin_viewer, internal_user,
# internal_user_viewer acting on another user's object, then (where it
# means something) the four roles acting on their own.
matrix() {
  ep=$1 want=$2 c=$3 t=$4
  case $ep in
    key/generate) post /key/generate "$c" "{\"user_id\":\"$t\"}" ;;
    key/info) k=$(newkey "$t"); get "/key/info?key=$k" "$c" ;;
    key/update) k=$(newkey "$t")
      post /key/update "$c" "{\"key\":\"$k\",\"metadata\":{\"m\":1}}" ;;
    key/delete) k=$(newkey "$t"); post /key/delete "$c" "{\"keys\":[\"$k\"]}" ;;
    key/list) get "/key/list?user_id=$t" "$c" ;;
    key/block) k=$(newkey "$t"); post /key/block "$c" "{\"key\":\"$k\"}" ;;
    key/unblock) k=$(newkey "$t"); post /key/unblock "$c" "{\"key\":\"$k\"}" ;;
    user/new) n=$((n+1))
      post /user/new "$c" "{\"user_id\":\"new$n\",\"auto_create_key\":false}" ;;
    user/update) post /user/update "$c" "{\"user_id\":\"$t\",\"user_alias\":\"x\"}" ;;
    user/info) get "/user/info?user_id=$t" "$c" ;;
    user/list) get /user/list "$c" ;;
    user/delete) n=$((n+1))
      post /user/new "$MK" "{\"user_id\":\"del$n\",\"auto_create_key\":false}"
      post /user/delete "$c" "{\"user_ids\":[\"del$n\"]}" ;;
    audit/list) get /audit/list "$c" ;;
  esac
  [ "$ST" = "$want" ]
}
n=0
nbad=0
while read -r ep m pa pav iu iuv opa opav oiu oiuv; do
  [ -n "$ep" ] || continue
  for pair in "$MK:$m:master" "$K_admin:$pa:admin" "$K_pav:$pav:pav" \
              "$K_iu:$iu:iu" "$K_iuv:$iuv:iuv"; do
    c=${pair%%:*}; rest=${pair#*:}; w=${rest%%:*}; who=${rest#*:}
    if matrix "$ep" "$w" "$c" other; then :; else
      nbad=$((nbad+1)); echo "  $who on $ep (other): $ST, expected $w: $B"
    fi
  done
  [ "$opa" = - ] && continue
  for pair in "$K_admin:$opa:admin" "$K_pav:$opav:pav" "$K_iu:$oiu:iu" \
              "$K_iuv:$oiuv:iuv"; do
    c=${pair%%:*}; rest=${pair#*:}; w=${rest%%:*}; who=${rest#*:}
    if matrix "$ep" "$w" "$c" "$who"; then :; else
      nbad=$((nbad+1)); echo "  $who on $ep (own): $ST, expected $w: $B"
    fi
  done
done <<'EOF'
key/generate 200 200 403 403 403   200 403 200 403
key/info     200 200 200 403 403   200 200 200 200
key/update   200 200 403 403 403   200 403 200 403
key/delete   200 200 403 403 403   200 403 200 403
key/list     200 200 200 403 403   200 200 200 200
key/block    200 200 403 403 403   200 403 403 403
key/unblock  200 200 403 403 403   200 403 403 403
user/new     200 200 403 403 403   -
user/update  200 200 403 403 403   200 403 403 403
user/info    200 200 200 403 403   200 200 200 200
user/list    200 200 200 403 403   -
user/delete  200 200 403 403 403   -
audit/list   200 200 200 403 403   -
EOF
[ "$nbad" = 0 ] && ok permission-matrix-walked || fail permission-matrix-walked "$nbad cells wrong"
post /user/new "$K_iu" '{"user_id":"x"}'
check denied-message 403 'Access denied: /user/new is not allowed for role internal_user' \
  '"type":"auth_error"' '"code":"403"'

# ---- Revocation is immediate ----
k=$(newkey other)
post /user/update "$MK" '{"user_id":"other","disabled":true}'
get /key/info "$k"
check disabled-user-refused 401 'User other is disabled'
post /user/update "$MK" '{"user_id":"other","disabled":false}'
get /key/info "$k"
check enabled-user-works 200
post /user/update "$MK" '{"user_id":"other","user_role":"internal_user_viewer"}'
post /key/generate "$k" '{}'
check demoted-user-limited 403 'internal_user_viewer'
post /user/update "$MK" '{"user_id":"other","user_role":"internal_user"}'
post /key/generate "$k" '{}'
check promoted-user-allowed 200
post /key/block "$MK" "{\"key\":\"$k\"}"
get /key/info "$k"
check blocked-next-request 401
post /key/delete "$MK" "{\"keys\":[\"$k\"]}"
get /key/info "$k"
check deleted-next-request 401

# ---- The audit log: who, when, before and after ----
get "/audit/list?object_type=user&object_id=the-username" "$K_pav"
check audit-role-change 200 '"action":"role_change"' '"changed_by":"master_key"' \
  '"before_value":\{[^}]*"user_role":"internal_user_viewer"' \
  '"updated_values":\{[^}]*"user_role":"proxy_admin"' \
  '"action":"create","table_name":"user","object_id":"the-username","before_value":null'
get "/audit/list?object_type=user&object_id=gone" "$MK"
check audit-user-delete 200 \
  '"action":"delete","table_name":"user","object_id":"gone","before_value":\{"user_id":"gone"' \
  '"updated_values":null\}'
entry_has audit-user-delete-whole-row 'before_value":\{"user_id":"gone".*"created_at":"20.*\},"updated_values":null\}'
get "/audit/list?object_type=key&object_id=$H_laptop&page_size=100" "$MK"
check audit-key-history 200 '"action":"delete"' '"changed_by":"iu"' \
  '"action":"create","table_name":"key"' '"total":6'
entry_has audit-key-block-before-after \
  '"action":"update".*"before_value":\{.*"blocked":false.*"updated_values":\{.*"blocked":true'
entry_has audit-key-update-before-after \
  '"changed_by":"iu","action":"update".*"key_alias":"iu-laptop".*"updated_values":.*"key_alias":"iu-desk"'
entry_has audit-key-delete-before '"changed_by":"iu","action":"delete".*"before_value":\{"token".*"updated_values":null'
get "/audit/list?object_type=team" "$MK"
check audit-bad-type 400 '"param":"object_type"'

# ---- Last use is recorded, in batches ----
get /key/info "$K_iuv"
sleep 1.5
get /key/info "$K_iuv"
check last-used-recorded 200 '"last_used_at":"20'

# ---- The admin CLI beside the running server ----
expect cli-user-list 0 '^iu +internal_user +local +active +iu@example.com' \
  $S --db "$DB" user list
expect cli-set-role 0 'user iuv: role internal_user \(was internal_user_viewer\)' \
  $S --db "$DB" user set-role iuv internal_user
post /key/generate "$K_iuv" '{}'
check cli-set-role-effective 200
expect cli-set-role-bad 2 'invalid role "root"; valid roles: proxy_admin' \
  $S --db "$DB" user set-role iuv root
expect cli-set-role-unknown-user 1 '^ssoproxy: no such user: ghost$' \
  $S --db "$DB" user set-role ghost internal_user
expect cli-not-utf8 2 'argument is not valid UTF-8' \
  $S --db "$DB" user add "$(printf 'bad\377')"
expect cli-bad-subcommand 2 'usage: ssoproxy user' $S --db "$DB" user frob
expect cli-key-bad-option 2 'unknown option --colour' \
  $S --db "$DB" key list --colour
k=$($S --db "$DB" key create --user other --alias cli-key --duration 1d 2>/dev/null)
case $k in sk-???????????????????????????????????????????) ok cli-key-create ;;
  *) fail cli-key-create "$k" ;; esac
get /key/info "$k"
check cli-key-works 200 '"issued_via":"cli"' '"key_alias":"cli-key"'
expect cli-key-list 0 'cli-key +active' $S --db "$DB" key list --user other
expect cli-key-revoke 0 'revoked key sk-\.\.\.' $S --db "$DB" key revoke cli-key
get /key/info "$k"
check cli-revoke-immediate 401
expect cli-key-revoke-unknown 1 'no such key: cli-key' \
  $S --db "$DB" key revoke cli-key
expect cli-user-disable 0 'user iu disabled' $S --db "$DB" user disable iu
get /key/info "$K_iu"
check cli-disable-immediate 401 'disabled'
expect cli-audit 0 "cli:$(id -un) update user iu" $S --db "$DB" audit --limit 5
expect cli-audit-before-after 0 '  before: \{"user_id":"iu".*"disabled":false' \
  $S --db "$DB" audit --type user --id iu --limit 1
expect cli-user-delete 0 'deleted user other and [0-9]+ keys?' \
  $S --db "$DB" user delete other
expect cli-user-delete-unknown 1 'no such user: other' $S --db "$DB" user delete other

# ---- No plaintext key anywhere in the database files ----
stop
found=""
for k in "$K_admin" "$K_iu" "$K_laptop" "$K_nobody" "$MK"; do
  for f in "$DB" "$DB-wal"; do
    [ -f "$f" ] || continue
    if grep -qaF -- "$k" "$f" || grep -qaF -- "${k#sk-}" "$f"; then
      found="$found $f"
    fi
  done
done
[ -z "$found" ] && ok no-plaintext-key-on-disk || fail no-plaintext-key-on-disk "$found"
grep -qaF -- "$H_laptop" "$DB" "$DB-wal" 2>/dev/null && ok hash-is-stored ||
  fail hash-is-stored "hash not found: the plaintext test above means nothing"
grep -qF -- "$K_iu" "$T_DIR/api.log" && fail no-key-in-log "key in log" ||
  ok no-key-in-log

# ---- Without a master key the API answers only keys of admins ----
start nomaster
grep -q 'level=warn msg="no master key set' "$T_DIR/nomaster.log" &&
  ok no-master-key-warning || fail no-master-key-warning "$(cat "$T_DIR/nomaster.log")"
get /user/list "$MK"
check no-master-key-refused 401
get /user/list "$K_admin"
check admin-key-without-master 200
stop

finish

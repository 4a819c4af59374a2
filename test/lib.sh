# Shared helpers for the shell test suites (sourced, not run).
# Each suite calls `ok NAME` / `fail NAME WHY` per case and `finish` last,
# which prints "N passed, N failed" for test/run.sh to add up.
T_PASS=0
T_FAIL=0
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ssoproxy-test.XXXXXX")
T_PIDS=""
cleanup() {
  for p in $T_PIDS; do kill "$p" 2>/dev/null; done
  rm -rf "$T_DIR"
}
trap cleanup EXIT

ok()   { T_PASS=$((T_PASS+1)); echo "ok - $1"; }
fail() { T_FAIL=$((T_FAIL+1)); echo "not ok - $1: $2"; }

# expect NAME WANT_STATUS PATTERN COMMAND...: run COMMAND, check its exit
# status and that PATTERN (grep -E) matches its combined output.
expect() {
  name=$1; want=$2; pat=$3; shift 3
  out=$("$@" 2>&1); st=$?
  if [ "$st" != "$want" ]; then
    fail "$name" "exit $st, expected $want; output: $out"
  elif ! printf '%s\n' "$out" | grep -Eq -- "$pat"; then
    fail "$name" "output does not match /$pat/: $out"
  else
    ok "$name"
  fi
}

# listening_url LOG: wait up to 10 s for the server's "ssoproxy listening"
# line in LOG and print its URL (http://... or https://...); prints
# nothing and fails if it never comes.
listening_url() {
  n=0
  while [ $n -lt 100 ]; do
    u=$(sed -n 's/.*msg="ssoproxy listening" url=\([^ ]*\).*/\1/p' "$1" \
        2>/dev/null)
    if [ -n "$u" ]; then echo "$u"; return 0; fi
    sleep 0.1
    n=$((n+1))
  done
  return 1
}

finish() {
  echo "$T_PASS passed, $T_FAIL failed"
  [ "$T_FAIL" = 0 ]
}

# --- The test OpenID provider (test/idp) and a browser to drive it. ---

# have_cmd NAME: NAME is on the PATH.
have_cmd() { command -v "$1" >/dev/null 2>&1; }

# apt_install PKG...: install Debian packages once (apt-get update first).
apt_install() {
  have_cmd apt-get || { echo "need the packages: $* (no apt-get here)"; return 1; }
  if [ -z "${T_APT_UPDATED:-}" ]; then
    apt-get update -q >/dev/null 2>&1
    T_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 ||
    { echo "apt-get install $* failed"; return 1; }
}

# node_setup: node 20 or later (what oidc-provider needs) and npm. The
# nodejs package is installed alone first: NodeSource's build of it brings
# npm and conflicts with Debian's npm package; Debian's own needs npm too.
node_setup() {
  have_cmd node || apt_install nodejs || return 1
  have_cmd npm || apt_install npm || return 1
  _v=$(node -p 'process.versions.node.split(".")[0]')
  [ "$_v" -ge 20 ] 2>/dev/null ||
    { echo "node $(node -v) is too old: the test IdP needs node 20 or later"; return 1; }
}

# idp_setup: make sure node, npm and test/idp/node_modules (from the
# committed lockfile) are there; installs them only when missing.
idp_setup() {
  node_setup || return 1
  _d=$PWD/test/idp   # suites run from the top of the repository
  if [ ! -f "$_d/node_modules/.package-lock.json" ] ||
     ! cmp -s "$_d/package-lock.json" "$_d/node_modules/.ssoproxy-lock"; then
    (cd "$_d" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1 &&
      cp package-lock.json node_modules/.ssoproxy-lock) ||
      { echo "npm ci in test/idp failed"; return 1; }
  fi
  IDP_DIR=$_d
}

# browser_setup: headless Chromium from Debian for test/idp/browser.mjs.
browser_setup() {
  [ -x /usr/bin/chromium ] || apt_install chromium || return 1
}

# free_port: print a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
  node -e 'const s=require("net").createServer();
s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# idp_start NAME [FLAGS...]: start test/idp/idp.mjs with FLAGS and wait
# (up to 15 s) for its ready line; sets IDP_URL and IDP_PID (node's own
# pid, from the ready line) and adds it to T_PIDS.
idp_start() {
  _n=$1; shift
  : > "$T_DIR/$_n.out"
  node "$IDP_DIR/idp.mjs" "$@" >"$T_DIR/$_n.out" 2>"$T_DIR/$_n.err" &
  T_PIDS="$T_PIDS $!"
  _i=0
  while [ $_i -lt 150 ]; do
    _l=$(grep '"ready":true' "$T_DIR/$_n.out" 2>/dev/null)
    if [ -n "$_l" ]; then
      IDP_URL=$(printf '%s' "$_l" | sed 's/.*"issuer":"\([^"]*\)".*/\1/')
      IDP_PID=$(printf '%s' "$_l" | sed 's/.*"pid":\([0-9]*\).*/\1/')
      T_PIDS="$T_PIDS $IDP_PID"
      return 0
    fi
    sleep 0.1
    _i=$((_i+1))
  done
  echo "test IdP did not start: $(cat "$T_DIR/$_n.err")"
  return 1
}

# forget_pid PID: take PID off T_PIDS once that process has been stopped
# and reaped, so that the exit trap cannot hit another process that got
# the same pid later.
forget_pid() {
  _k=""
  for _p in $T_PIDS; do [ "$_p" = "$1" ] || _k="$_k $_p"; done
  T_PIDS=$_k
}

# idp_stop: stop the IdP started last, by its pid, and wait until its port
# refuses connections.
idp_stop() {
  kill "$IDP_PID" 2>/dev/null
  wait "$IDP_PID" 2>/dev/null
  forget_pid "$IDP_PID"
  _i=0
  while [ $_i -lt 50 ] && curl -s -o /dev/null --max-time 1 "$IDP_URL/"; do
    sleep 0.1; _i=$((_i+1))
  done
}

# idp_post PATH JSON: call one of the IdP's /test/* endpoints.
idp_post() {
  curl -s --max-time 5 -H 'Content-Type: application/json' \
    --data-binary "$2" "$IDP_URL$1"
}

# idp_drive JAR URL USER PASS [approve|deny]: be the browser at the IdP,
# from URL (an authorization request) until the IdP sends the browser
# elsewhere: fill in the login form with USER and PASS and answer the
# consent page. Sets IDP_OUT (where the IdP sent the browser, empty if
# it did not), IDP_LOGIN_ST (status of the login POST, empty if no login
# form came), IDP_CONSENT (1 if a consent page came) and IDP_PAGE (a file
# with the last page). Fails when the IdP did not send the browser away.
idp_drive() {
  _jar=$1; _u=$2; _user=$3; _pass=$4; _consent=${5:-approve}
  IDP_OUT=""; IDP_LOGIN_ST=""; IDP_CONSENT=""; IDP_PAGE=$T_DIR/idp-page.html
  _c="curl -s --max-time 10 -b $_jar -c $_jar -o $IDP_PAGE"
  _i=0
  while [ $_i -lt 12 ]; do
    _i=$((_i+1))
    _r=$($_c -w '%{http_code} %{redirect_url}' "$_u")
    _st=${_r%% *}; _loc=${_r#* }
    case $_st in
      30[1-8])
        case $_loc in
          "$IDP_URL"/*) _u=$_loc; continue ;;
          *) IDP_OUT=$_loc; return 0 ;;
        esac ;;
      200) ;;
      *) return 1 ;;
    esac
    _act=$(sed -n 's/.*<form id="\(login\|consent\)" method="post" action="\([^"]*\)".*/\2/p' "$IDP_PAGE" | head -n 1)
    [ -n "$_act" ] || return 1
    if grep -q '<form id="login"' "$IDP_PAGE"; then
      _r=$($_c -w '%{http_code} %{redirect_url}' --data-urlencode "username=$_user" \
        --data-urlencode "password=$_pass" "$IDP_URL$_act")
      IDP_LOGIN_ST=${_r%% *}
    else
      IDP_CONSENT=1
      [ "$_consent" = deny ] && _act=${_act%/confirm}/abort
      _r=$($_c -w '%{http_code} %{redirect_url}' -X POST "$IDP_URL$_act")
    fi
    _st=${_r%% *}; _loc=${_r#* }
    case $_st in
      30[1-8]) ;;
      *) return 1 ;;
    esac
    case $_loc in
      "$IDP_URL"/*) _u=$_loc ;;
      *) IDP_OUT=$_loc; return 0 ;;
    esac
  done
  return 1
}

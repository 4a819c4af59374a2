# Shared by the benchmark scripts (sourced, not run): where results go and
# the facts every recorded section states.

# results_file: the path of bench/RESULTS.md, created with its title if
# it does not exist yet.
results_file() {
  [ -f bench/RESULTS.md ] || printf '# Benchmark results\n' >bench/RESULTS.md
  echo bench/RESULTS.md
}

# cpu_model: the processor's model name, or "unknown CPU".
cpu_model() {
  m=$(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo 2>/dev/null | head -n 1)
  echo "${m:-unknown CPU}"
}

# source_id FILE...: "commit abc1234", with " (with local changes)" when
# any FILE differs from HEAD; "unknown" outside a git checkout.
source_id() {
  if command -v git >/dev/null 2>&1 && git rev-parse --git-dir >/dev/null 2>&1
  then
    s="commit $(git rev-parse --short HEAD)"
    git diff --quiet HEAD -- "$@" || s="$s (with local changes)"
    echo "$s"
  else
    echo unknown
  fi
}

# The value of a Makefile variable, exactly as make computes it (with the
# caller's CC and CFLAGS, as the scripts build with them).
# shellcheck disable=SC2016  # $(...) is make's expansion, not the shell's
makevar() {
  printf 'bench-print-var:\n\t@echo $(%s)\n' "$1" |
    make -s --no-print-directory ${CC:+"CC=$CC"} ${CFLAGS:+"CFLAGS=$CFLAGS"} \
      -f Makefile -f - bench-print-var
}

# bench_tools SCRIPT TOOL...: the tools a wrk benchmark runs (nginx, wrk,
# taskset, valgrind), installed from the distribution's packages when
# missing; sets NGINX. SCRIPT names the caller in messages. Exits when a
# tool cannot be had.
bench_tools() {
  _who=$1; shift
  _need=""
  for _t in "$@"; do
    case $_t in
      nginx) command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] ||
               _need="$_need nginx" ;;
      taskset) command -v taskset >/dev/null 2>&1 || _need="$_need util-linux" ;;
      *) command -v "$_t" >/dev/null 2>&1 || _need="$_need $_t" ;;
    esac
  done
  if [ -n "$_need" ]; then
    _sudo=""
    [ "$(id -u)" = 0 ] || _sudo=sudo
    command -v apt-get >/dev/null 2>&1 ||
      { echo "$_who needs:$_need (no apt-get here)" >&2; exit 1; }
    echo "installing:$_need" >&2
    # shellcheck disable=SC2086
    $_sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
    $_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $_need >&2
  fi
  NGINX=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
}

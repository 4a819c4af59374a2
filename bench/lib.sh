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

#!/bin/sh
# Benchmarks of the layer-1 codecs (bench/codec.c): every workload is
# measured against a reference in the same run, and the figure that
# counts is the ratio ours/reference (lower is better). `make bench` runs
# this; results and how to read them are in bench/RESULTS.md.
#
#   sh bench/run.sh [--record] [--callgrind] [-r ROUNDS] [-t MS] [FILTER]
#
#   --record      append the tables, this command and the machine's facts
#                 to bench/RESULTS.md
#   --callgrind   also count instructions (and simulated branch
#                 mispredictions) per operation under valgrind's callgrind:
#                 deterministic, unlike times; needs valgrind
#   -r ROUNDS     interleaved rounds per workload (default 25)
#   -t MS         length of one timed batch (default 4)
#   FILTER        only the workloads whose id contains FILTER
#                 (`build/bench/codec --list` lists them)
#
# build/bench/codec is compiled with the Makefile's own CC, BUILD_CFLAGS
# and DEP_LIBS (CC and CFLAGS from the environment are honoured, as make
# honours them). Everything is written under build/, except
# bench/RESULTS.md with --record.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
O=build/bench
cmd="sh bench/run.sh${*:+ $*}"
record=0
callgrind=0
filter=""
skip=0
for a do
  shift
  case $a in
    --record) record=1 ;;
    --callgrind) callgrind=1 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *)
      set -- "$@" "$a"
      if [ $skip = 1 ]; then skip=0
      elif [ "$a" = -r ] || [ "$a" = -t ]; then skip=1
      else filter=$a
      fi ;;
  esac
done

# Checks (and if need be installs) the dependencies, as `make` does.
make -s ${CC:+"CC=$CC"} ${CFLAGS:+"CFLAGS=$CFLAGS"} ssoproxy
cc=$(makevar CC)
cflags=$(makevar BUILD_CFLAGS)
libs=$(makevar DEP_LIBS)
mkdir -p $O
echo "building $O/codec: $cc $cflags" >&2
# shellcheck disable=SC2086  # the flags are words on purpose
$cc $cflags -DSSOPROXY_OMIT_MAIN -I. -o $O/codec bench/codec.c $libs

echo "running $O/codec $*" >&2
$O/codec "$@" >$O/table.md || { cat $O/table.md; exit 1; }
cat $O/table.md

if [ $callgrind = 1 ] && ! command -v valgrind >/dev/null 2>&1; then
  echo "valgrind not found: --callgrind skipped" >&2
  callgrind=0
fi
# One valgrind process runs every side of every workload once, each in
# one call of benchLoop(): callgrind collects inside benchLoop() only and
# dumps a profile part after each call, so part k holds the instructions
# of the k-th line codec prints ("ID SIDE COUNT") and nothing else.
if [ $callgrind = 1 ]; then
  echo "counting instructions under callgrind" >&2
  rm -f $O/callgrind.out $O/callgrind.out.*
  valgrind --tool=callgrind --branch-sim=yes --callgrind-out-file=$O/callgrind.out \
    --toggle-collect=benchLoop --dump-after=benchLoop \
    $O/codec --once-all ${filter:+"$filter"} >$O/callgrind.runs \
    2>$O/callgrind.log || { cat $O/callgrind.log >&2; exit 1; }
  # Each part has "events: Ir Bc Bcm Bi Bim" and "summary: <counts>".
  k=0
  while read -r id side n; do
    k=$((k+1))
    awk -v id="$id" -v side="$side" -v n="$n" '
      /^events:/  { for(i=2; i<=NF; i++) col[$i] = i }
      /^summary:/ { ok = 1; ir = $col["Ir"]; bm = $col["Bcm"] + $col["Bim"] }
      END {
        if( !ok ) exit 1
        printf "%s\t%s\t%.0f\t%.0f\n", id, side, ir/n, bm/n
      }' $O/callgrind.out.$k ||
      { echo "no summary in $O/callgrind.out.$k" >&2; exit 1; }
  done <$O/callgrind.runs >$O/callgrind.ir
  # Join with the workload list (titles, bytes, reference names).
  $O/codec --list | awk -F '\t' -v vg="$(valgrind --version)" '
    NR==FNR { ir[$1 "/" $2] = $3; bm[$1 "/" $2] = $4; next }
    ($1 "/0") in ir {
      if( !hdr++ ){
        printf "\nInstructions per operation (callgrind --branch-sim=yes, %s):\n\n", vg
        print "| workload | ours Ir/op | reference | ref Ir/op | ratio ours/ref | ours Ir/byte | mispredicts/op ours, ref |"
        print "|---|--:|---|--:|--:|--:|--:|"
      }
      a = ir[$1 "/0"]
      for(s=1; s<$2; s++){
        b = ir[$1 "/" s]
        printf "| %s | %d | %s | %d | **%.2f** | %.1f | %d, %d |\n",
               $4, a, $(4+s), b, a/b, a/$3, bm[$1 "/0"], bm[$1 "/" s]
      }
    }' $O/callgrind.ir - >$O/callgrind.md
  cat $O/callgrind.md
fi

if [ $record = 1 ]; then
  f=$(results_file)
  cpu=$(cpu_model)
  src=$(source_id src ssoproxy.c ssoproxy.h bench/codec.c)
  {
    echo
    echo "## $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Command: \`$cmd\`"
    echo
    echo "- Source: $src"
    echo "- Machine: $(nproc 2>/dev/null || echo '?') CPUs, $cpu, $(uname -sm)"
    echo "- Compiler used: $($cc --version | head -n 1)"
    for c in gcc clang; do
      command -v $c >/dev/null 2>&1 &&
        echo "- Also installed: $($c --version | head -n 1)"
    done
    echo "- Flags: \`$cflags -DSSOPROXY_OMIT_MAIN\`"
    echo "- Libraries: $($O/codec --info)"
    echo
    cat $O/table.md
    [ $callgrind = 1 ] && cat $O/callgrind.md
    :
  } >>$f
  echo "appended to $f" >&2
fi

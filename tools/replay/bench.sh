#!/bin/bash
# bench.sh - `make bench` for tmem-replay (docs/traces.md "Speed"): how
# fast a trace is replayed, on a generated 10 M-record Zipf(0.9) trace over
# 1 M pages (4 files of 250 000 pages).
#   - metadata mode (the fast model), one thread, LRU guest cache of 64 Ki
#     pages, cleancache of 256 Ki pages: records/s, wall time, peak RSS;
#   - data mode (tmemfs's read path on a real store) on the first 1 M
#     records' worth (a 1 M-record trace of the same shape), next to
#     metadata mode on it: the ratio;
#   - tmem-trace mrc (one-pass exact LRU curve) on the 10 M trace;
#   - a sweep of 8 capacities on 1 and 2 threads: the speed-up.
# Each figure is taken RUNS (3) times and printed as a range. Nothing is
# asserted: times depend on the machine and its load.
# Binaries: $REPLAY_BIN_PATH and $TRACE_BIN_PATH (exported by the
# Makefile), else build/tmem-replay and build/tmem-trace.
set -euo pipefail
REPLAY=${REPLAY_BIN_PATH:-${BUILD:-build}/tmem-replay}
TRACE=${TRACE_BIN_PATH:-${BUILD:-build}/tmem-trace}
RUNS=${RUNS:-3}
RECORDS=${BENCH_RECORDS:-10000000}
PAGES=${BENCH_PAGES:-1000000}
DATA_RECORDS=${BENCH_DATA_RECORDS:-1000000}
GUEST=65536
CAP=262144
SWEEP=16384,32768,65536,131072,262144,524288,786432,1048576

dir=$(mktemp -d /tmp/tmem-replay-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT

now() { date +%s.%N; }
# range VALUES...: "min - max" (or the value when all are equal)
range() { printf '%s\n' "$@" | sort -g | awk 'NR==1{lo=$1} {hi=$1} END{ if (lo==hi) print lo; else print lo " - " hi }'; }
field() { awk -v k="$1" '$1 == k { print $2; exit }'; }

echo "machine: $(nproc) CPU(s), $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
t0=$(now)
"$TRACE" generate --records "$RECORDS" --pages "$PAGES" --files 4 --zipf 0.9 --seed 1 "$dir/big.trc"
"$TRACE" generate --records "$DATA_RECORDS" --pages "$PAGES" --files 4 --zipf 0.9 --seed 1 "$dir/small.trc"
t1=$(now)
size=$(stat -c %s "$dir/big.trc")
echo "trace: $RECORDS records over $PAGES pages, Zipf 0.9, $((size / 1048576)) MiB" \
     "(generated with the 1 M-record one in $(echo "$t1 - $t0" | bc -l | xargs printf '%.2f') s)"

# replay TRACE RECORDS MODE: one run; prints "records/s wall_s peak_rss_MiB"
replay() {
    local out
    out=$("$REPLAY" --quiet --mode "$3" --guest-pages $GUEST --capacity-pages $CAP "$1")
    local wall rss
    wall=$(field wall_seconds <<<"$out")
    rss=$(field peak_rss_bytes <<<"$out")
    echo "$(echo "$2 / $wall" | bc -l | xargs printf '%.0f') $wall $(echo "$rss / 1048576" | bc -l | xargs printf '%.1f')"
}

series() { # series LABEL TRACE RECORDS MODE
    local rate=() wall=() rss=() r
    for ((i = 0; i < RUNS; i++)); do
        read -r -a r <<<"$(replay "$2" "$3" "$4")"
        rate+=("${r[0]}"); wall+=("${r[1]}"); rss+=("${r[2]}")
    done
    echo "$1: $(range "${rate[@]}") records/s, wall $(range "${wall[@]}") s, peak RSS $(range "${rss[@]}") MiB"
    last_rate=$(printf '%s\n' "${rate[@]}" | sort -g | tail -1)
}

echo "== metadata mode, 1 thread, LRU, guest $GUEST pages, cleancache $CAP pages (target >= 15 M records/s, RSS < 64 MiB + trace)"
series "metadata, $RECORDS records" "$dir/big.trc" "$RECORDS" metadata
echo "   (wall: the whole replay, reading the 305 MiB trace once included)"
echo "== data mode vs metadata mode on $DATA_RECORDS records"
series "data, $DATA_RECORDS records" "$dir/small.trc" "$DATA_RECORDS" data
data_rate=$last_rate
series "metadata, $DATA_RECORDS records" "$dir/small.trc" "$DATA_RECORDS" metadata
echo "   metadata / data: $(echo "$last_rate / $data_rate" | bc -l | xargs printf '%.1f')x (best runs)"

echo "== tmem-trace mrc (exact LRU curve by stack distance) on $RECORDS records"
rates=()
for ((i = 0; i < RUNS; i++)); do
    a=$(now)
    "$TRACE" mrc --sizes $GUEST,$((GUEST + CAP)) "$dir/big.trc" >/dev/null 2>&1
    b=$(now)
    rates+=("$(echo "$RECORDS / ($b - $a)" | bc -l | xargs printf '%.0f')")
done
echo "mrc: $(range "${rates[@]}") records/s"

echo "== sweep, metadata mode, 8 capacities ($SWEEP pages)"
for threads in 1 2; do
    walls=()
    for ((i = 0; i < RUNS; i++)); do
        a=$(now)
        "$REPLAY" --quiet --mode metadata --guest-pages $GUEST --sweep "$SWEEP" \
            --threads $threads "$dir/big.trc" >/dev/null
        b=$(now)
        walls+=("$(echo "$b - $a" | bc -l | xargs printf '%.2f')")
    done
    echo "sweep on $threads thread(s): $(range "${walls[@]}") s"
    best[$threads]=$(printf '%s\n' "${walls[@]}" | sort -g | head -1)
done
echo "   speed-up 2 threads / 1: $(echo "${best[1]} / ${best[2]}" | bc -l | xargs printf '%.2f')x (best runs)"

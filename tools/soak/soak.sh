#!/bin/bash
# soak.sh - the bounded soak of issue #16 (make soak; not in make test).
#
# One tmem-testbed process on scenarios/soak.ini for SOAK_SECONDS (default
# 300): every guest on ONE store whose capacity takes a random walk, the
# store's allocations failing at random (TMEM_FAULT), each guest checking
# integrity all along:
#   - a tmemfs mount running the random read/write/verify mix
#     (tests/fuse_cleancache/tmemfs_mix, every read checked against its
#     model, EIO retried) with backing read and write faults;
#   - two swap guests (random access patterns; every swapped-in page
#     verified). Their schedule is the host's random walk: the store's
#     pressure callbacks take their frontswap pages back as it shrinks.
#     Their swap file writes and reads fail now and then (EIO, ENOSPC:
#     the guests' fault_swap_write/fault_swap_read keys): retried, never
#     a lost page;
#   - a stress guest (kind = stress): the core's random workload in
#     threads, on private and shared, persistent and ephemeral pools,
#     every get checked against an exact model, the store's invariant
#     checker (tmem_check) every 2000 operations of a thread.
# Any mismatch, failed workload, lost page or broken invariant fails the
# run. Prints one summary line; exit 0 only if the run passed.
#
# Environment: SOAK_SECONDS (300), SOAK_SEED (1), SOAK_OUT (BUILD/soak),
# BUILD (build: where the binaries are), SOAK_P_ALLOC (0.0002). The
# backing-fault probability and the guests' sizes are in soak.ini.
set -u
cd "$(dirname "$0")/../.."
SECONDS_TOTAL=${SOAK_SECONDS:-300}
SEED=${SOAK_SEED:-1}
BUILD=${BUILD:-build}
OUT=${SOAK_OUT:-$BUILD/soak}
P_ALLOC=${SOAK_P_ALLOC:-0.0002}
TESTBED=$BUILD/tmem-testbed
MIX=$(realpath -m "$BUILD/tests/fuse_cleancache/tmemfs_mix")
for b in "$TESTBED" "$MIX"; do
    [ -x "$b" ] || { echo "soak: $b not built (make _all BUILD=$BUILD)" >&2; exit 2; }
done
case $SECONDS_TOTAL in ''|*[!0-9]*) echo "soak: SOAK_SECONDS='$SECONDS_TOTAL' is not a number of seconds" >&2; exit 2;; esac
[ "$SECONDS_TOTAL" -ge 10 ] || { echo "soak: SOAK_SECONDS must be at least 10" >&2; exit 2; }
case $SEED in ''|*[!0-9]*) echo "soak: SOAK_SEED='$SEED' is not a number" >&2; exit 2;; esac
rm -rf "$OUT"
mkdir -p "$OUT/testbed/soak-src"

# the scenario with the duration and seed filled in
sed -e "s|^duration = .*|duration = ${SECONDS_TOTAL}s|" -e "s|^seed = 1\$|seed = $SEED|" \
    -e "s|seed=1\\([,]\\)|seed=$SEED\\1|g" -e "s|seed=1\$|seed=$SEED|" \
    scenarios/soak.ini >"$OUT/testbed/soak.ini"
TMEMFS_MIX_BIN=$MIX TMEM_FAULT="p=$P_ALLOC,seed=$SEED" "$TESTBED" -q -N -f -o "$OUT/testbed/out" \
    "$OUT/testbed/soak.ini" >"$OUT/testbed/testbed.log" 2>&1
tb_rc=$?

# the numbers: the summary's lines, and report.json (totals first, then
# the samples: for a counter the largest value is the total)
S=$OUT/testbed/out/summary.txt
J=$OUT/testbed/out/report.json
LOG=$OUT/testbed/out/files.log
jmax() { grep -ho "\"$1\": *[0-9]*" "$J" 2>/dev/null | awk -F: '$2 > m { m = $2 } END { print m + 0 }'; }
sw_pages=$(awk '/^  verified:/ { for (i = 1; i <= NF; i++) if ($i == "pages") s += $(i - 1) } END { print s + 0 }' "$S" 2>/dev/null)
sw_acc=$(awk '/^  verified:/ { s += $2 } END { print s + 0 }' "$S" 2>/dev/null)
sw_mism=$(awk '/^  verified:/ { for (i = 1; i <= NF; i++) if ($i == "mismatches,") s += $(i - 1) } END { print s + 0 }' "$S" 2>/dev/null)
mix_runs=$(grep -c "every read matched" "$LOG" 2>/dev/null)
mix_ops=$(awk '/every read matched/ { s += $2 } END { print s + 0 }' "$LOG" 2>/dev/null)
mix_retries=$(awk '/EIO retries/ { gsub(/[()]/, ""); for (i = 1; i <= NF; i++) if ($i == "EIO") s += $(i - 1) } END { print s + 0 }' "$LOG" 2>/dev/null)
st_ops=$(jmax stress_ops) st_hits=$(jmax stress_hits) st_refused=$(jmax stress_puts_refused)
st_pool_refused=$(jmax stress_pool_creations_refused) st_checks=$(jmax stress_checks)
st_verified=$(jmax stress_pages_verified) st_mism=$(jmax stress_mismatches)
alloc_fail=$(jmax alloc_failures)
backing_r=$(jmax backing_read_errors)
backing_w=$(jmax backing_write_errors)
swap_w=$(jmax swap_write_errors)
swap_r=$(jmax swap_read_errors)
mism=$((sw_mism + st_mism))
ok=1
[ "$tb_rc" -eq 0 ] && grep -q "RESULT: ok" "$S" 2>/dev/null || { ok=0; echo "soak: the testbed run failed (exit $tb_rc): $OUT/testbed/testbed.log, $S" >&2; }
[ "$st_ops" -gt 0 ] || { ok=0; echo "soak: the stress guest made no operation: $S" >&2; }
[ "$mism" -eq 0 ] || ok=0
line="soak: ${SECONDS_TOTAL} s on one store; operations: mount mix $mix_ops ($mix_runs runs), swap accesses $sw_acc, stress $st_ops ($st_hits hits, $st_refused puts and $st_pool_refused pool creations refused, $st_checks invariant checks); pages verified $((sw_pages + st_verified)); faults injected: alloc $alloc_fail, backing read $backing_r, backing write $backing_w, swap write $swap_w, swap read $swap_r (the finished mix runs retried $mix_retries EIO); mismatches $mism; $([ $ok = 1 ] && echo PASS || echo FAIL)"
echo "$line"
echo "$line" >"$OUT/summary.txt"
[ $ok = 1 ]

#!/bin/bash
# soak.sh - the bounded soak of issue #16 (make soak; not in make test).
#
# For SOAK_SECONDS (default 300) three things run at once, each checking
# integrity all along, each with faults injected at a low probability:
#   1. tmem-testbed on scenarios/soak.ini: a tmemfs mount running the
#      random read/write/verify mix (tests/fuse_cleancache/tmemfs_mix,
#      every read checked against its model, EIO retried) with backing
#      read and write faults, and two swap guests (every swapped-in page
#      verified) on ONE store whose capacity takes a random walk; the
#      store's allocations fail at random (TMEM_FAULT).
#   2. tmem-swapsim runs one after another, each with a random capacity
#      schedule, swap-file write and read faults (EIO) and its own store
#      with allocation faults; each must end with 0 mismatches.
#   3. the core's stress test (tests/core/test_stress: threads on every
#      pool kind, capacity flipping, the invariant checker every 1000
#      operations) run after run, with allocation faults.
# 2 and 3 have their own stores (separate programs); the testbed's one
# store carries the mount and the swap guests together.
# Prints one summary line; exit 0 only if every part passed.
#
# Environment: SOAK_SECONDS (300), SOAK_SEED (1), SOAK_OUT (build/soak),
# BUILD (build: where the binaries are), SOAK_P_ALLOC (0.0002),
# SOAK_P_SWAP (0.002). The backing-fault probability is in soak.ini.
set -u
cd "$(dirname "$0")/../.."
SECONDS_TOTAL=${SOAK_SECONDS:-300}
SEED=${SOAK_SEED:-1}
BUILD=${BUILD:-build}
OUT=${SOAK_OUT:-$BUILD/soak}
P_ALLOC=${SOAK_P_ALLOC:-0.0002}
P_SWAP=${SOAK_P_SWAP:-0.002}
TESTBED=$BUILD/tmem-testbed SWAPSIM=$BUILD/tmem-swapsim STRESS=$BUILD/tests/core/test_stress
MIX=$(realpath -m "$BUILD/tests/fuse_cleancache/tmemfs_mix")
for b in "$TESTBED" "$SWAPSIM" "$STRESS" "$MIX"; do
    [ -x "$b" ] || { echo "soak: $b not built (make _all BUILD=$BUILD)" >&2; exit 2; }
done
case $SECONDS_TOTAL in ''|*[!0-9]*) echo "soak: SOAK_SECONDS='$SECONDS_TOTAL' is not a number of seconds" >&2; exit 2;; esac
[ "$SECONDS_TOTAL" -ge 10 ] || { echo "soak: SOAK_SECONDS must be at least 10" >&2; exit 2; }
rm -rf "$OUT"
mkdir -p "$OUT/testbed/soak-src" "$OUT/swapsim" "$OUT/stress"
DEADLINE=$(($(date +%s) + SECONDS_TOTAL))

# 1. the testbed (its own duration)
sed -e "s|^duration = .*|duration = ${SECONDS_TOTAL}s|" -e "s|^seed = 1\$|seed = $SEED|" \
    -e "s|seed=1\\([,]\\)|seed=$SEED\\1|g" -e "s|seed=1\$|seed=$SEED|" \
    scenarios/soak.ini >"$OUT/testbed/soak.ini"
TMEMFS_MIX_BIN=$MIX TMEM_FAULT="p=$P_ALLOC,seed=$SEED" "$TESTBED" -q -N -f -o "$OUT/testbed/out" \
    "$OUT/testbed/soak.ini" >"$OUT/testbed/testbed.log" 2>&1 &
TB=$!

# 2. swapsim runs with random schedules, until the deadline
(
    r=0 fails=0
    while [ "$(date +%s)" -lt "$DEADLINE" ]; do
        r=$((r + 1)) s=$((SEED * 1000 + r))
        sched=$(awk -v s="$s" 'BEGIN { srand(s); a = 0; for (i = 0; i < 6; i++) {
            a += 10000 + int(rand() * 40000); printf "%s%d:%dK", i ? "," : "", a, int(rand() * 8192) } }')
        TMEM_FAULT="p=$P_ALLOC,seed=$s" "$SWAPSIM" --ram 4M --wss 16M --accesses 300000 \
            --workload mix --writes 35 --seed "$s" --capacity 8M --schedule "$sched" \
            --fault-swap-write "p=$P_SWAP,seed=$s" --fault-swap-read "p=$P_SWAP,seed=$((s + 7))" \
            >"$OUT/swapsim/run$r.log" 2>&1 || { fails=$((fails + 1)); echo "swapsim run $r failed" >&2; }
        grep -q "mismatches 0," "$OUT/swapsim/run$r.log" || { fails=$((fails + 1)); echo "swapsim run $r: mismatches" >&2; }
    done
    echo "$r $fails" >"$OUT/swapsim/result"
) &
SW=$!

# 3. the core stress test, run after run
(
    r=0 fails=0 churn_enomem=0
    while [ $(($(date +%s) + 8)) -lt "$DEADLINE" ]; do
        r=$((r + 1))
        log=$OUT/stress/run$r.log
        TMEM_STRESS_SECONDS=3 TMEM_FAULT="p=$P_ALLOC,seed=$((SEED * 1000 + r))" "$STRESS" \
            >"$log" 2>&1 && continue
        # test_stress_client_churn stops at a client or pool creation
        # refused for want of memory (documented: NULL / -ENOMEM, what an
        # allocation fault gives) and counts that as a failure; the soak
        # does not. Every other failure is one.
        if [ "$(grep '^\[  FAILED  \] test_' "$log" | sort -u | wc -l)" -eq 1 ] &&
           grep -q '^\[  FAILED  \] test_stress_client_churn' "$log" &&
           grep -Eq '^ERROR: (churn: new_pool failed .*-12|client_create failed)' "$log"; then
            churn_enomem=$((churn_enomem + 1))
            continue
        fi
        fails=$((fails + 1)); echo "stress run $r failed: $log" >&2
    done
    echo "$r $fails $churn_enomem" >"$OUT/stress/result"
) &
ST=$!

wait "$TB"; tb_rc=$?
wait "$SW" "$ST"
read -r sw_runs sw_fails <"$OUT/swapsim/result"
read -r st_runs st_fails st_churn <"$OUT/stress/result"

# the numbers
S=$OUT/testbed/out/summary.txt
J=$OUT/testbed/out/report.json # totals first, then the samples: the largest value is the total
tb_pages=$(awk '/verified:/ { for (i = 1; i <= NF; i++) if ($i == "pages") s += $(i - 1) } END { print s + 0 }' "$S" 2>/dev/null)
tb_acc=$(awk '/verified:/ { s += $2 } END { print s + 0 }' "$S" 2>/dev/null)
tb_mism=$(awk '/verified:/ { for (i = 1; i <= NF; i++) if ($i == "mismatches,") s += $(i - 1) } END { print s + 0 }' "$S" 2>/dev/null)
mix_runs=$(grep -c "every read matched" "$OUT/testbed/out/files.log" 2>/dev/null)
mix_ops=$(awk '/every read matched/ { s += $2 } END { print s + 0 }' "$OUT/testbed/out/files.log" 2>/dev/null)
mix_retries=$(awk '/EIO retries/ { gsub(/[()]/, ""); for (i = 1; i <= NF; i++) if ($i == "EIO") s += $(i - 1) } END { print s + 0 }' "$OUT/testbed/out/files.log" 2>/dev/null)
sw_pages=$(awk '/pages verified/ { s += $3 } END { print s + 0 }' "$OUT"/swapsim/run*.log)
sw_acc=$(awk '/^  accesses/ { s += $2 } END { print s + 0 }' "$OUT"/swapsim/run*.log)
sw_werr=$(awk '/swap file errors/ { gsub(/,/, ""); s += $5 } END { print s + 0 }' "$OUT"/swapsim/run*.log)
sw_rerr=$(awk '/swap file errors/ { gsub(/,/, ""); s += $7 } END { print s + 0 }' "$OUT"/swapsim/run*.log)
alloc_fail=$(grep -ho '"alloc_failures": *[0-9]*' "$J" 2>/dev/null | awk -F: '$2 > m { m = $2 } END { print m + 0 }')
backing_r=$(grep -ho '"backing_read_errors": *[0-9]*' "$J" 2>/dev/null | awk -F: '$2 > m { m = $2 } END { print m + 0 }')
backing_w=$(grep -ho '"backing_write_errors": *[0-9]*' "$J" 2>/dev/null | awk -F: '$2 > m { m = $2 } END { print m + 0 }')
mism=$((tb_mism))
ok=1
[ "$tb_rc" -eq 0 ] && grep -q "RESULT: ok" "$S" 2>/dev/null || { ok=0; echo "soak: the testbed run failed (exit $tb_rc): $OUT/testbed/testbed.log, $S" >&2; }
[ "$sw_fails" -eq 0 ] || { ok=0; echo "soak: $sw_fails swapsim run(s) failed: $OUT/swapsim/" >&2; }
[ "$st_fails" -eq 0 ] || { ok=0; echo "soak: $st_fails stress run(s) failed: $OUT/stress/" >&2; }
[ "$mism" -eq 0 ] || ok=0
line="soak: ${SECONDS_TOTAL} s; operations: mount mix $mix_ops ($mix_runs runs), swap accesses $((tb_acc + sw_acc)), stress $st_runs runs; pages verified $((tb_pages + sw_pages)); faults injected: alloc $alloc_fail (testbed store), backing read $backing_r, backing write $backing_w (the finished mix runs retried $mix_retries EIO), swap write $sw_werr, swap read $sw_rerr (swapsim), stress runs with TMEM_FAULT $st_runs ($st_churn churn tests stopped by a refused client/pool creation); mismatches $mism; $([ $ok = 1 ] && echo PASS || echo FAIL)"
echo "$line"
echo "$line" >"$OUT/summary.txt"
[ $ok = 1 ]

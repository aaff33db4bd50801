#!/bin/bash
# testbed_stress_guest.sh - the stress guest (kind = stress) keeps the
# core's rules on a store it shares, under pressure and allocation faults:
#  1. a stress guest (2 threads: random put/get/flush_page/flush_object/
#     new_pool/destroy_pool on private and shared, persistent and
#     ephemeral pools, every get checked against its exact model, the
#     invariant checker every 200 operations) beside a swap guest, on one
#     store whose capacity takes a random walk, with the store's
#     allocations failing at p=0.002 (TMEM_FAULT): the run passes, the
#     stress guest made operations, hits, refused puts and invariant
#     checks with 0 mismatches, the store counted injected allocation
#     failures, and the swap guest lost nothing either, though its swap
#     file writes and reads failed now and then (fault_swap_write/_read
#     keys: swap_write_errors and swap_read_errors counted);
#  2. `rate` holds a thread to its pace (1 thread at 1000 operations/s for
#     3 s makes about 3000, not the hundreds of thousands it makes free);
#  3. tmemctl-free failure path: a stress guest's mismatch fails the run
#     (exit 1, RESULT: FAILED) - checked by mutation (docs/testbed.md),
#     not here, as no scenario can make the core wrong;
#  4. a slow pace (rate = 1: 16 s between bursts) does not hold the stop
#     up: a 1 s run ends in well under the pace's sleep.
# Bad stress keys are in tests/testbed/bad/stress-*.ini.
. "$(dirname "$0")/testbed-lib.bash"
tb_begin
W=$TB_WORK

cat >"$W/stress.ini" <<INI
[run]
duration = 5s
sample_interval = 500ms
plots = no

[host]
capacity = 8M

[pressure]
model = random-walk
low = 1M
high = 16M
step = 2M
seed = 3
interval = 100ms

[guest hammer]
kind = stress
threads = 2
pages = 300
seed = 5
check_every = 200

[guest anon]
kind = swap
ram = 2M
memory = 8M
workload = mix
writes = 30
seed = 2
fault_swap_write = p=0.01,seed=4
fault_swap_read = p=0.01,seed=5
INI
TMEM_FAULT="p=0.002,seed=7" tb_run "$W/stress.ini" "$W/out"
[ "$TB_RC" = 0 ] || { cat "$W/out.err" "$W/out/summary.txt" >&2; tb_fail "run 1: exit $TB_RC"; }
S=$W/out/summary.txt C=$W/out/samples.csv
grep -q "^RESULT: ok" "$S" || tb_fail "run 1: no RESULT: ok"
tb_expect "stress mismatches" "$(tb_last "$C" guest.hammer.stress_mismatches)" 0
tb_expect "swap mismatches" "$(tb_last "$C" guest.anon.mismatches)" 0
ops=$(tb_last "$C" guest.hammer.stress_ops)
hits=$(tb_last "$C" guest.hammer.stress_hits)
refused=$(tb_last "$C" guest.hammer.stress_puts_refused)
checks=$(tb_last "$C" guest.hammer.stress_checks)
faults=$(tb_last "$C" host.host.store_alloc_failures)
swap_w=$(tb_last "$C" guest.anon.swap_write_errors)
swap_r=$(tb_last "$C" guest.anon.swap_read_errors)
[ "$swap_w" -gt 0 ] && [ "$swap_r" -gt 0 ] ||
    tb_fail "run 1: swap file faults not injected (write errors $swap_w, read errors $swap_r)"
[ "$ops" -gt 10000 ] || tb_fail "run 1: only $ops stress operations"
[ "$hits" -gt 0 ] || tb_fail "run 1: no stress get hit"
[ "$refused" -gt 0 ] || tb_fail "run 1: no stress put refused (pressure and faults should refuse some)"
[ "$checks" -gt 10 ] || tb_fail "run 1: only $checks invariant checks"
[ "$faults" -gt 0 ] || tb_fail "run 1: no allocation failure injected (TMEM_FAULT ignored?)"
grep -Eq "^  checked: every get against the model, [0-9]+ invariant checks, [0-9]+ persistent pages read back at the stop, 0 mismatches$" "$S" ||
    tb_fail "run 1: the summary's stress line is missing or wrong"
tb_pass "stress beside swap under a random walk and TMEM_FAULT: $ops operations, $hits hits, $refused refused puts, $checks checks, $faults allocation faults, $swap_w/$swap_r swap write/read errors, 0 mismatches"

cat >"$W/rate.ini" <<INI
[run]
duration = 3s
plots = no

[guest slow]
kind = stress
threads = 1
pages = 64
rate = 1000
INI
tb_run "$W/rate.ini" "$W/rate"
[ "$TB_RC" = 0 ] || { cat "$W/rate.err" >&2; tb_fail "run 2: exit $TB_RC"; }
ops=$(tb_last "$W/rate/samples.csv" guest.slow.stress_ops)
[ "$ops" -ge 1500 ] && [ "$ops" -le 4000 ] || tb_fail "run 2: $ops operations in 3 s at rate 1000 (expected about 3000)"
tb_pass "rate = 1000 for 3 s: $ops operations"

# 4. a slow pace does not hold the stop up: at rate = 1 a thread makes its
#    first 16 operations and then sleeps for its pace (about 16 s); the
#    stop (the run's end at 1 s) must wake it, not wait that sleep out.
cat >"$W/slow.ini" <<INI
[run]
duration = 1s
plots = no

[guest crawl]
kind = stress
threads = 2
pages = 16
rate = 1
INI
t0=$(date +%s%N)
tb_run "$W/slow.ini" "$W/slow"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$TB_RC" = 0 ] || { cat "$W/slow.err" >&2; tb_fail "run 4: exit $TB_RC"; }
[ "$ms" -lt 6000 ] || tb_fail "run 4: a 1 s run at rate = 1 took $ms ms: the stop waited for the pace's sleep"
tb_pass "rate = 1: the stop ends the run in $ms ms"

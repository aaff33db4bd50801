#!/bin/bash
# testbed_stop_and_fail.sh - how a run ends, and what the exit status says:
#  - a guest starts and stops at its scenario times (start 1 s, stop 2.5 s;
#    within the runner's 50 ms step plus the stop's own time);
#  - a workload that fails (exit 1) fails its guest and the run: exit 1,
#    "FAILED: guest NAME: workload exited with status 1" on stderr, the
#    summary's RESULT says FAILED, the other guests run on;
#  - SIGINT and SIGTERM stop the run at once: the guests are stopped (the
#    workloads' process groups killed, the mounts unmounted), the reports
#    and plots written with what was done, marked interrupted, and the
#    exit status is 130 / 143;
#  - nothing stays mounted in any case.
. "$(dirname "$0")/testbed-lib.bash"
tb_begin
W=$TB_WORK
mkdir -p "$W/data"
head -c 2M /dev/urandom >"$W/data/file"

cat >"$W/fail.ini" <<INI
[run]
duration = 4s
sample_interval = 250ms

[guest broken]
kind = mount
source = $W/data
workload = cat file >/dev/null && exit 1

[guest late]
kind = swap
start = 1s
stop = 2.5s
ram = 2M
memory = 8M
workload = uniform
INI
tb_run "$W/fail.ini" "$W/fail"
[ "$TB_RC" = 1 ] || { cat "$W/fail.err" >&2; tb_fail "failing workload: exit $TB_RC, expected 1"; }
grep -q "FAILED: guest broken: workload exited with status 1" "$W/fail.err" ||
    { cat "$W/fail.err" >&2; tb_fail "failing workload not reported"; }
grep -q "^RESULT: FAILED: broken$" "$W/fail/summary.txt" || tb_fail "summary does not say the run failed"
grep -q '"failed": true' "$W/fail/report.json" || tb_fail "report.json does not say failed"
[ -z "$(tb_mounts)" ] || tb_fail "still mounted after a failed run: $(tb_mounts)"
times=$(sed -n 's/^guest late (swap .*): ran \([0-9.]*\) to \([0-9.]*\) s, stopped: its stop time$/\1 \2/p' "$W/fail/summary.txt")
[ -n "$times" ] || { cat "$W/fail/summary.txt" >&2; tb_fail "guest late did not run from its start to its stop time"; }
set -- $times
awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= 1.0 && a <= 1.2 && b >= 2.5 && b <= 2.7) }' ||
    tb_fail "guest late ran $1 to $2 s, expected 1 to 2.5 s"

cat >"$W/long.ini" <<INI
[run]
duration = 60s
sample_interval = 250ms

[guest reader]
kind = mount
source = $W/data
options = cache_size=256K
workload = cat file >/dev/null
repeat = yes

[guest anon]
kind = swap
ram = 2M
memory = 8M
workload = zipf
INI
for sig in INT TERM; do
    out=$W/sig$sig
    start=$(date +%s.%N)
    "$TESTBED_BIN" --quiet --output "$out" "$W/long.ini" >"$out.out" 2>"$out.err" &
    pid=$!
    for _ in $(seq 1 100); do [ -n "$(tb_mounts)" ] && break; sleep 0.05; done
    [ -n "$(tb_mounts)" ] || tb_fail "SIG$sig: the mount never came up"
    sleep 2
    kill -$sig $pid
    wait $pid
    rc=$?
    took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
    want=$([ $sig = INT ] && echo 130 || echo 143)
    [ "$rc" = "$want" ] || { cat "$out.err" >&2; tb_fail "SIG$sig: exit $rc, expected $want"; }
    awk -v t="$took" 'BEGIN { exit !(t < 15) }' || tb_fail "SIG$sig: the run took $took s to stop"
    grep -q "INTERRUPTED by SIG$sig" "$out/summary.txt" || tb_fail "SIG$sig: summary not marked interrupted"
    grep -q '"interrupted": true' "$out/report.json" || tb_fail "SIG$sig: report.json not marked interrupted"
    [ "$(grep -c . "$out/samples.csv")" -gt 5 ] || tb_fail "SIG$sig: too few samples kept"
    [ -s "$out/capacity.png" ] || tb_fail "SIG$sig: no plot"
    [ -z "$(tb_mounts)" ] || tb_fail "SIG$sig: still mounted: $(tb_mounts)"
done
tb_pass "failing workload: exit 1, reported; start/stop times kept ($1 to $2 s); SIGINT 130, SIGTERM 143 with reports marked interrupted; nothing left mounted"

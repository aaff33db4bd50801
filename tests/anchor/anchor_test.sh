#!/bin/bash
# anchor_test.sh - tools/anchor/zswap-anchor.sh's argument checks and
# refusals, which must change nothing on the host (the script itself changes
# zswap, sysctls, swap and cgroups, so it is not run for real here).
# Rules checked:
#  - a bad argument (size, percent list, option) exits 2 with one line
#    naming the option;
#  - not root: refused with one line, exit 1 (as user nobody, when this
#    test runs as root and runuser exists);
#  - a swap device active, no cgroup v1 memory controller, no zswap:
#    refused with one line, exit 1 (the script's test hooks point its checks
#    at fake files);
#  - worker-trace.awk summarises a made-up trace of zswap's shrink worker
#    (wake-ups, the delay from queueing to start in the workload's
#    swap-outs, the wake-ups that wrote and the swap-outs meanwhile, the
#    workload's own write bios), skipping lines it cannot read;
#  - --dry-run prints every setting it would change with its saved value
#    and exits 0;
#  - none of these changes a zswap parameter, vm.page-cluster,
#    vm.swappiness, the swaps, the debugfs or tracefs mount (compared
#    before/after);
#  - with the anchor_workload binary given ($1): --sample-every N records
#    one sample per N accesses, each with the mapped pages of the address
#    space (1..its size) and the vmstat counters, and the replay verifies
#    every page (0 mismatches).
# Usage: anchor_test.sh [PATH-TO-anchor_workload]
set -u
workload=${1:-}
here=$(cd "$(dirname "$0")" && pwd)
script=$here/../../tools/anchor/zswap-anchor.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
params=/sys/module/zswap/parameters

snapshot() {
    { for f in "$params"/*; do [ -r "$f" ] && echo "$f=$(cat "$f")"; done
      sysctl -n vm.page-cluster vm.swappiness
      cat /proc/swaps
      mountpoint -q /sys/kernel/debug && echo debugfs-mounted
      mountpoint -q /sys/kernel/tracing && echo tracefs-mounted
      ls -d /sys/fs/cgroup/memory/tmem-anchor-* /sys/fs/cgroup/memory/*/*/tmem-anchor-* 2>/dev/null
      ls /var/tmp/tmem-anchor-* 2>/dev/null; } 2>/dev/null
}

# expect RC PATTERN -- ARGS...: run the script, check exit status and that
# stderr is one line matching PATTERN.
expect() {
    local rc=$1 pattern=$2; shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    if [ "$got" -ne "$rc" ] || ! grep -q -- "$pattern" "$tmp/err" || [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
        echo "FAIL: $* -> exit $got (want $rc), stderr: $(cat "$tmp/err")"
        fail=1
    else
        echo "ok: $* -> exit $rc: $(cat "$tmp/err")"
    fi
}

before=$(snapshot)

expect 2 "--ram '12Q'" -- "$script" --ram 12Q --dry-run
expect 2 "--wss '64M'.*larger" -- "$script" --ram 128M --wss 64M --dry-run
expect 2 "--pool-percents '1,x'" -- "$script" --pool-percents 1,x --dry-run
expect 2 "--pool-percents '0'" -- "$script" --pool-percents 0 --dry-run
expect 2 "--accept-threshold '101'" -- "$script" --accept-threshold 101 --dry-run
expect 2 "unknown option '--bogus'" -- "$script" --bogus
expect 2 "--writeback-pace 'fast'" -- "$script" --writeback-pace fast --dry-run
expect 2 "--reclaim 'fifo'" -- "$script" --reclaim fifo --dry-run
expect 2 "--repeat '0'" -- "$script" --repeat 0 --dry-run
expect 2 "--swapsim-ram '1X'" -- "$script" --swapsim-ram 1X --dry-run
expect 2 "--worker-delay 'soon'" -- "$script" --worker-delay soon --dry-run
expect 2 "--trace-worker 'yes'" -- "$script" --trace-worker yes --dry-run

# worker-trace.awk on a made-up trace: wake-up 1 queued after 1 swap-out,
# started 3 swap-outs later (2 refused: write bios), wrote nothing; wake-up
# 2 queued, started 1 swap-out later, wrote 2 bios (kworker) while the
# workload swapped out once (refused: 1 bio), 0.5 s long. Noise: a line
# that is no event, another program's bio and write_folio, a command
# name with a space.
cat >"$tmp/trace" <<'TRACE'
# tracer: nop
 anchor_workloa-100     [000] ..... 10.000000: mm_vmscan_write_folio: page=0 pfn=0x1 flags=RECLAIM_WB_ANON
 anchor_workloa-100     [000] d..1. 10.000001: workqueue_queue_work: work struct=0 function=shrink_worker workqueue=zswap-shrink req_cpu=256 cpu=-1
 anchor_workloa-100     [000] ..... 10.000002: mm_vmscan_write_folio: page=0 pfn=0x2 flags=RECLAIM_WB_ANON
 anchor_workloa-100     [000] ..... 10.000003: block_bio_queue: 254,0 WS 8 + 8 [anchor_workloa]
 anchor_workloa-100     [000] ..... 10.000004: mm_vmscan_write_folio: page=0 pfn=0x3 flags=RECLAIM_WB_ANON
 anchor_workloa-100     [000] ..... 10.000005: block_bio_queue: 254,0 WS 16 + 8 [anchor_workloa]
 my prog-77             [001] ..... 10.000006: mm_vmscan_write_folio: page=0 pfn=0x9 flags=RECLAIM_WB_ANON
 my prog-77             [001] ..... 10.000006: block_bio_queue: 254,0 WS 99 + 8 [my prog]
 anchor_workloa-100     [000] ..... 10.000007: mm_vmscan_write_folio: page=0 pfn=0x4 flags=RECLAIM_WB_ANON
 kworker/u8:1-50        [001] ..... 10.000010: workqueue_execute_start: work struct 0: function shrink_worker
 kworker/u8:1-50        [001] ..... 10.000020: workqueue_execute_end: work struct 0: function shrink_worker
garbage that is not a trace line
 anchor_workloa-100     [000] d..1. 10.100000: workqueue_queue_work: work struct=0 function=shrink_worker workqueue=zswap-shrink req_cpu=256 cpu=-1
 anchor_workloa-100     [000] ..... 10.100001: mm_vmscan_write_folio: page=0 pfn=0x5 flags=RECLAIM_WB_ANON
 kworker/u8:1-50        [001] ..... 10.200000: workqueue_execute_start: work struct 0: function shrink_worker
 kworker/u8:1-50        [001] ..... 10.200001: block_bio_queue: 254,0 WS 24 + 8 [kworker/u8:1]
 anchor_workloa-100     [000] ..... 10.300000: mm_vmscan_write_folio: page=0 pfn=0x6 flags=RECLAIM_WB_ANON
 anchor_workloa-100     [000] ..... 10.300001: block_bio_queue: 254,0 WS 32 + 8 [anchor_workloa]
 kworker/u8:1-50        [001] ..... 10.400000: block_bio_queue: 254,0 WS 40 + 8 [kworker/u8:1]
 kworker/u8:1-50        [001] ..... 10.700000: workqueue_execute_end: work struct 0: function shrink_worker
TRACE
want='{"queued":2,"wakeups":2,"swapouts":6,"workload_write_bios":3,"delay_mean":2,"delay_median":1,"refused_per_wakeup":1.5,"writeback_wakeups":1,"writeback_wakeup_swapouts":1,"worker_write_bios":2,"longest_wakeup_s":0.5}'
got=$(awk -v workload=anchor_workl -f "$here/../../tools/anchor/worker-trace.awk" "$tmp/trace" | jq -c . 2>&1)
if [ "$got" = "$want" ]; then
    echo "ok: worker-trace.awk: $got"
else
    echo "FAIL: worker-trace.awk gave $got, want $want"
    fail=1
fi
expect 2 "--reuse-kernel '$tmp'.*no kernel-1-1.json" -- "$script" --reuse-kernel "$tmp" --pool-percents 1

if [ -n "$workload" ]; then
    if "$workload" --wss 8M --accesses 20000 --sample-every 5000 --seed 3 --json "$tmp/w.json" 2>"$tmp/err" &&
       jq -e '(.samples | length) == 4 and .mismatches == 0 and .pages_verified > 0 and
              ([.samples[] | select(.resident_pages >= 1 and .resident_pages <= 2048
                                    and .vmstat.pgmajfault != null)] | length) == 4 and
              ([.samples[].at] == [5000, 10000, 15000, 20000])' "$tmp/w.json" >/dev/null; then
        echo "ok: anchor_workload --sample-every: 4 samples with mapped pages and vmstat, 0 mismatches"
    else
        echo "FAIL: anchor_workload --sample-every: $(cat "$tmp/err") $(head -c 400 "$tmp/w.json" 2>/dev/null)"
        fail=1
    fi
fi

if [ "$(id -u)" -ne 0 ]; then
    expect 1 "must run as root" -- "$script" --dry-run
    echo "SKIPPED: the root-only refusals (swap active, no cgroup v1, no zswap) and --dry-run need root"
else
    if command -v runuser >/dev/null && id nobody >/dev/null 2>&1; then
        expect 1 "must run as root" -- runuser -u nobody -- "$script" --dry-run
    fi
    printf 'Filename\tType\tSize\tUsed\tPriority\n/dev/fake\tpartition\t1024\t0\t-2\n' >"$tmp/swaps"
    printf 'Filename\tType\tSize\tUsed\tPriority\n' >"$tmp/noswaps"
    expect 1 "a swap device is active (/dev/fake)" -- env ZSWAP_ANCHOR_PROC_SWAPS="$tmp/swaps" "$script" --dry-run
    expect 1 "no cgroup v1 memory controller" -- env ZSWAP_ANCHOR_PROC_SWAPS="$tmp/noswaps" \
        ZSWAP_ANCHOR_CGROUP_ROOT="$tmp/none" "$script" --dry-run
    if [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ] && [ -d "$params" ]; then
        expect 1 "has no zswap" -- env ZSWAP_ANCHOR_PROC_SWAPS="$tmp/noswaps" \
            ZSWAP_ANCHOR_ZSWAP_PARAMS="$tmp/none" "$script" --dry-run
        if [ -z "$(tail -n +2 /proc/swaps)" ]; then
            "$script" --dry-run --pool-percents 3 >"$tmp/out" 2>"$tmp/err"
            rc=$?
            for k in zswap.enabled zswap.compressor zswap.max_pool_percent \
                     zswap.accept_threshold_percent vm.page-cluster vm.swappiness debugfs tracefs swap cgroup; do
                grep -q "^saved: $k " "$tmp/out" || { echo "FAIL: --dry-run does not print saved $k"; fail=1; }
            done
            if [ "$rc" -ne 0 ] || ! grep -q "dry run: nothing changed" "$tmp/out"; then
                echo "FAIL: --dry-run exit $rc: $(cat "$tmp/err")"; fail=1
            else
                echo "ok: --dry-run prints every saved setting"
            fi
        else
            echo "SKIPPED: --dry-run (a swap device is active on this host)"
        fi
    else
        echo "SKIPPED: --dry-run and the zswap refusal (no cgroup v1 memory or no zswap here)"
    fi
fi

after=$(snapshot)
if [ "$before" != "$after" ]; then
    echo "FAIL: the host changed:"; diff <(echo "$before") <(echo "$after"); fail=1
else
    echo "ok: host settings unchanged"
fi
[ "$fail" -eq 0 ] && echo "anchor_test: all checks passed"
exit "$fail"

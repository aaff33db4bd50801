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
#  - --dry-run prints every setting it would change with its saved value
#    and exits 0;
#  - none of these changes a zswap parameter, vm.page-cluster,
#    vm.swappiness, the swaps or the debugfs mount (compared before/after);
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
                     zswap.accept_threshold_percent vm.page-cluster vm.swappiness debugfs swap cgroup; do
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

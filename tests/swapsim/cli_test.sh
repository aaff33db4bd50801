#!/bin/bash
# cli_test.sh - the tmem-swapsim command line: help, clear one-line errors
# with the right exit status for bad options and bad traces, sizes in the
# project's one grammar (common/size.h), the swap device's profile
# (--device, guest/device.h's grammar), a trace run, JSON/CSV output and
# the bench line.
# Usage: cli_test.sh PATH-TO-tmem-swapsim (make runs it through a wrapper
# generated in $(BUILD)/tests/swapsim/cli_test).
set -u
BIN=${1:?usage: cli_test.sh PATH-TO-tmem-swapsim}
TRACE=traces/swapsim-sample.trace
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect STATUS PATTERN -- args...: exit status and a stderr line matching
expect() {
    local want=$1 pat=$2; shift 3
    "$BIN" "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    [ "$rc" -eq "$want" ] || fail "$* exited $rc, wanted $want ($(head -c 300 "$tmp/err"))"
    if [ -n "$pat" ]; then
        grep -q -- "$pat" "$tmp/err" || fail "$*: stderr lacks '$pat': $(head -c 300 "$tmp/err")"
        [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "$*: expected one error line, got: $(cat "$tmp/err")"
    fi
}

"$BIN" --help >"$tmp/help" || fail "--help exited non-zero"
grep -q -- "--schedule" "$tmp/help" || fail "--help does not list --schedule"
grep -q -- "SIZE: bytes, with an optional K, M, G or T suffix" "$tmp/help" || fail "--help does not give the size grammar"

expect 2 "--ram 'abc': expected a size in bytes, with an optional K, M, G or T suffix (powers of 1024) (see" -- --ram abc
# one grammar: "inf" is retired, "unlimited" only where a limit may be lifted
expect 2 "--capacity 'inf': expected a size in bytes, .* or 'unlimited'" -- --capacity inf
expect 2 "--ram 'unlimited': expected a size" -- --ram unlimited
expect 2 "--wss '12Q': expected a size" -- --wss 12Q
expect 2 "--swap '0': must be at least one page" -- --swap 0
"$BIN" --ram 1MiB --wss 4m --swap 4MB --capacity 512k --accesses 2000 --no-baseline >"$tmp/out" 2>"$tmp/err" ||
    fail "sizes in the grammar refused: $(cat "$tmp/err")"
grep -q "RAM 256 pages, address space 1024 pages" "$tmp/out" || fail "1MiB / 4m not read as 256 / 1024 pages: $(head -1 "$tmp/out")"
expect 2 "unknown option '--frobnicate'" -- --frobnicate
expect 2 "needs an argument" -- --ram
expect 2 "must be larger than RAM" -- --ram 64M --wss 32M
expect 2 "--workload 'zipfian'" -- --workload zipfian
expect 2 "--reclaim 'fifo': expected clock or lru" -- --reclaim fifo
"$BIN" --reclaim lru --ram 1M --wss 4M --accesses 2000 --no-baseline >"$tmp/out" 2>"$tmp/err" ||
    fail "--reclaim lru failed: $(cat "$tmp/err")"
grep -q "reclaim lru" "$tmp/out" || fail "--reclaim lru not in effect: $(sed -n 2p "$tmp/out")"
expect 2 "--schedule '100'" -- --schedule 100
expect 2 "--content" -- --content 60,30,20
expect 2 "unexpected argument 'extra'" -- extra
expect 1 "cannot open trace" -- --trace "$tmp/none.trace" --ram 1M --wss 8M
printf '1 R\n2 Q\n' >"$tmp/bad.trace"
expect 1 "bad.trace:2: bad operation 'Q'" -- --trace "$tmp/bad.trace" --ram 1M --wss 8M
printf '1 R\n9999 W\n' >"$tmp/range.trace"
expect 1 "range.trace:2: virtual page 9999 out of range" -- --trace "$tmp/range.trace" --ram 1M --wss 8M

# --device: the block-device model's grammar, a one-line error naming it
expect 2 "--device 'floppy': expected hdd, sata-ssd, nvme or custom:LAT_US,MBPS (LAT_US 0 to 10000000, MBPS 1 to 1000000) (see --help)" -- --device floppy
expect 2 "--device 'custom:90,0': expected hdd, sata-ssd, nvme or custom:LAT_US,MBPS" -- --device custom:90,0
expect 2 "--device 'SATA-SSD': expected" -- --device SATA-SSD
expect 2 "--device needs an argument" -- --device
# per-page disk costs are gone: the device prices swap I/O
expect 2 "--cost 'disk_read=100000': swap I/O is priced by the device model now: use --device custom:LAT_US,MBPS" -- --cost disk_read=100000
expect 2 "--cost 'disk_write=1': swap I/O is priced" -- --cost disk_write=1
expect 2 "--cost 'disk=1': expected NAME=NS with NAME one of access, fault, tmem_copy, compress, decompress" -- --cost disk=1
"$BIN" --help | grep -q -- "--device PROFILE" || fail "--help does not list --device"
# default sata-ssd; the chosen profile prices the run and is named
"$BIN" --ram 1M --wss 4M --accesses 5000 --capacity 0 --no-baseline >"$tmp/out" 2>"$tmp/err" ||
    fail "default device run failed: $(cat "$tmp/err")"
grep -q "swap I/O on sata-ssd: [0-9]* random + [0-9]* sequential requests, [0-9.]* s (hdd [0-9.]* s, sata-ssd [0-9.]* s, nvme [0-9.]* s)" "$tmp/out" ||
    fail "default run does not price swap I/O on sata-ssd: $(cat "$tmp/out")"
"$BIN" --ram 1M --wss 4M --accesses 5000 --capacity 0 --no-baseline --device custom:1000,1 --json "$tmp/d.json" >"$tmp/out" 2>"$tmp/err" ||
    fail "--device custom run failed: $(cat "$tmp/err")"
grep -q "swap I/O on custom:1000,1: " "$tmp/out" || fail "--device custom:1000,1 not in effect: $(cat "$tmp/out")"
grep -q '"device": "custom:1000,1"' "$tmp/d.json" || fail "json config lacks the device"
if command -v python3 >/dev/null; then
    # custom:1000,1: 1 ms a request plus 4096 us a page (1 MB/s)
    python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["total"]; n=t["device_random_requests"]+t["device_sequential_requests"]; assert n == t["pswpin"]+t["pswpout"] > 0, t; assert t["device_time_ns"] == n*(1000000+4096000), t' "$tmp/d.json" ||
        fail "json: device requests or time wrong"
fi

if [ -r "$TRACE" ]; then
    "$BIN" --trace "$TRACE" --ram 1M --wss 8M >"$tmp/out" 2>"$tmp/err" || fail "sample trace run failed: $(cat "$tmp/err")"
    grep -q "mismatches 0, leaked slots 0, leaked tmem pages 0" "$tmp/out" || fail "sample trace: $(cat "$tmp/out")"
fi

"$BIN" --ram 1M --wss 4M --accesses 20000 --schedule 5000:64K,10000:0:swapout,15000:unlimited \
    --json "$tmp/r.json" --csv "$tmp/r.csv" >"$tmp/out" 2>"$tmp/err" || fail "json/csv run failed: $(cat "$tmp/err")"
grep -q '"leaked_tmem_pages": 0' "$tmp/r.json" || fail "json lacks leaked_tmem_pages 0"
if command -v python3 >/dev/null; then
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["total"]["mismatches"]==0 and len(d["samples"])==100' "$tmp/r.json" || fail "json does not parse or is wrong"
fi
[ "$(wc -l <"$tmp/r.csv")" -eq 101 ] || fail "csv: expected header + 100 rows, got $(wc -l <"$tmp/r.csv")"
head -1 "$tmp/r.csv" | grep -q ",device_random_requests,device_sequential_requests," || fail "csv lacks the device request columns"
head -1 "$tmp/r.csv" | grep -q ",sim_ns,device_time_ns,device_time_ns_hdd,device_time_ns_sata_ssd,device_time_ns_nvme$" || fail "csv lacks the device time columns"
grep -q "shrink: calls [1-9]" "$tmp/out" || fail "capacity drop did not shrink: $(cat "$tmp/out")"

# Rule: a run repeats exactly. A tight store refuses most puts, and which
# ones depends on the bytes the store holds: the same run four times gives
# the same counters (everything but the wall-clock line), also when the
# process is moved between CPUs while it runs (here on purpose, every
# 20 ms, where there are two CPUs: the core's memory shards once followed
# the CPU, and then runs differed).
hop() { # pid: move it between CPU 0 and 1 until it ends
    local c=0
    while kill -0 "$1" 2>/dev/null; do
        taskset -p -c $c "$1" >/dev/null 2>&1
        c=$((1 - c)); sleep 0.02
    done
}
for i in 1 2 3 4; do
    "$BIN" --ram 4M --wss 16M --accesses 300000 --capacity 256K --exclusive-loads --write-through \
        >"$tmp/repeat.$i" 2>&1 &
    pid=$!
    [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null && hop $pid
    wait $pid || fail "repeat run $i failed"
    grep -v "wall time" "$tmp/repeat.$i" >"$tmp/repeat.$i.counters"
done
for i in 2 3 4; do
    cmp -s "$tmp/repeat.1.counters" "$tmp/repeat.$i.counters" ||
        fail "run $i differs from run 1: $(diff "$tmp/repeat.1.counters" "$tmp/repeat.$i.counters" | head -4)"
done
grep -q "failed_stores [1-9]" "$tmp/repeat.1" || fail "the repeat runs refused no store: $(cat "$tmp/repeat.1")"

"$BIN" --bench --ram 1M --wss 4M --accesses 20000 >"$tmp/out" 2>&1 || fail "--bench failed"
grep -q "simulated page faults handled per second" "$tmp/out" || fail "--bench output: $(cat "$tmp/out")"

if [ "$fails" -ne 0 ]; then
    echo "cli_test: $fails failure(s)"
    exit 1
fi
echo "cli_test: all checks passed"

#!/bin/bash
# cli_test.sh - the tmem-swapsim command line: help, clear one-line errors
# with the right exit status for bad options and bad traces, sizes in the
# project's one grammar (common/size.h), the swap device's profile
# (--device, guest/device.h's grammar), a trace run, JSON/CSV output, the
# status line on a terminal only, swap file faults (--fault-swap-write,
# --fault-swap-read), and the bench line.
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

# the shares of writes and unmaps are given in percent: a bad sum is a bad
# option (2), named in percent, before anything runs
expect 2 "writes 80% + unmaps 80% = 160% of accesses, more than 100%" -- --writes 80 --unmaps 80
grep -q "per mille" "$tmp/err" && fail "--writes/--unmaps error still in per mille: $(cat "$tmp/err")"
expect 2 "writes 60.5% + unmaps 40% = 100.5%" -- --writes 60.5 --unmaps 40
# outputs are checked before the run: one line, 2, no report printed
expect 2 "--json $tmp/nodir/r.json: cannot write it: No such file or directory" -- --json "$tmp/nodir/r.json"
[ -s "$tmp/out" ] && fail "--json to an unwritable path still ran: $(head -2 "$tmp/out")"
expect 2 "--csv $tmp: cannot write it: Is a directory" -- --csv "$tmp" --json "$tmp/ok.json"
[ -s "$tmp/out" ] && fail "--csv to a directory still ran: $(head -2 "$tmp/out")"
[ -e "$tmp/ok.json" ] && fail "--json file created by a refused command was left behind"
# a run that fails leaves no output file it created, and an existing one as it was
echo keep >"$tmp/old.json"
expect 1 "cannot open trace" -- --trace "$tmp/none.trace" --ram 1M --wss 8M --json "$tmp/old.json" --csv "$tmp/new.csv"
[ "$(cat "$tmp/old.json")" = keep ] || fail "a failed run changed an existing --json file"
[ -e "$tmp/new.csv" ] && fail "a failed run left the --csv file it created"
# schedules: empty items and events the run never reaches are refused
expect 2 "--schedule '100:32M,,200:0': schedule item 2 is empty" -- --schedule 100:32M,,200:0
expect 2 "schedule item 3 is empty" -- --schedule 100:32M,200:0,
expect 2 "schedule item 1 is empty" -- --schedule ,100:32M
expect 2 "--schedule: event 2 (at access 1000) would never fire: the run has 1000 accesses" -- --accesses 1000 --schedule 100:1M,1000:0
expect 2 "event 1 (at access 5000) would never fire" -- --schedule 5000:0 --accesses 2000
"$BIN" --ram 1M --wss 4M --accesses 1000 --schedule 999:0 --no-baseline >"$tmp/out" 2>"$tmp/err" ||
    fail "an event at the last access refused: $(cat "$tmp/err")"
# --trace is the workload: --workload beside it is refused, in either order
expect 2 "--trace and --workload cannot be used together" -- --trace "$TRACE" --workload seq
expect 2 "--trace and --workload cannot be used together" -- --workload zipf --trace "$TRACE"
# nothing swapped: no "-0.0% faster", the headline says there is nothing to compare
"$BIN" --ram 4M --wss 8M --accesses 1000 >"$tmp/out" 2>"$tmp/err" || fail "small run failed: $(cat "$tmp/err")"
grep -q -- "-0\.0%" "$tmp/out" && fail "negative zero in the report: $(tail -1 "$tmp/out")"
grep -q "^frontswap: nothing to compare: the run without frontswap did no swap I/O" "$tmp/out" ||
    fail "no-swap run lacks 'nothing to compare': $(tail -1 "$tmp/out")"
# unlimited capacity is the word, not 2^64-1
"$BIN" --ram 1M --wss 4M --accesses 1000 --capacity unlimited --no-baseline >"$tmp/out" 2>"$tmp/err" ||
    fail "--capacity unlimited failed: $(cat "$tmp/err")"
grep -q "store capacity unlimited, 0 capacity event" "$tmp/out" || fail "text capacity: $(sed -n 2p "$tmp/out")"
grep -q "18446744073709551615" "$tmp/out" && fail "2^64-1 in the text report"

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
    # capacity: a number, or the string "unlimited" (never 2^64-1)
    python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
assert d["config"]["capacity_bytes"] == 256 << 20, d["config"]
caps = [(s["at"], s["capacity"]) for s in d["samples"]]
assert all(c == "unlimited" for a, c in caps if a > 15000), caps
assert all(isinstance(c, int) for a, c in caps if a <= 15000), caps' "$tmp/r.json" || fail "json capacity not a number or \"unlimited\""
fi
grep -q "18446744073709551615" "$tmp/r.json" "$tmp/r.csv" && fail "2^64-1 in the JSON or CSV"
grep -q "^0,20000,unlimited,20000," "$tmp/r.csv" || fail "csv capacity not 'unlimited' at the end: $(tail -1 "$tmp/r.csv" | cut -c1-60)"
grep -q "^0,9800,65536,9800," "$tmp/r.csv" || fail "csv capacity not a number mid-run: $(sed -n 50p "$tmp/r.csv" | cut -c1-60)"
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

# Rule: two processes started at once (on this 2-CPU machine they run side
# by side) give the same counters, in the frontswap and the zswap model;
# several guests, stepped round robin by default, too.
for model in frontswap zswap; do
    for i in 1 2; do
        "$BIN" --model $model --ram 4M --wss 16M --accesses 200000 --capacity 1M --guests 2 \
            --no-baseline >"$tmp/pair.$model.$i" 2>&1 &
    done
    wait || fail "a $model pair run failed"
    for i in 1 2; do grep -v "wall time" "$tmp/pair.$model.$i" >"$tmp/pair.$model.$i.counters"; done
    cmp -s "$tmp/pair.$model.1.counters" "$tmp/pair.$model.2.counters" ||
        fail "two $model runs at once differ: $(diff "$tmp/pair.$model.1.counters" "$tmp/pair.$model.2.counters" | head -4)"
done
grep -q "failed_stores [1-9]" "$tmp/pair.frontswap.1" || fail "the pair runs refused no store"
grep -q "written back [1-9]" "$tmp/pair.zswap.1" || fail "the zswap pair runs wrote nothing back: $(cat "$tmp/pair.zswap.1")"
# --concurrent: a thread per guest, not repeatable, still every page verified
"$BIN" --model zswap --ram 4M --wss 16M --accesses 100000 --capacity 1M --guests 3 --concurrent \
    --no-baseline >"$tmp/conc" 2>&1 || fail "--concurrent run failed: $(tail -3 "$tmp/conc")"
grep -q "mismatches 0, leaked slots 0, leaked tmem pages 0" "$tmp/conc" || fail "--concurrent: $(cat "$tmp/conc")"

# The zswap model's command line (the anchor's, tools/anchor): its options,
# their errors, and the new counters in the JSON.
expect 2 "--model 'zswap2': expected frontswap or zswap" -- --model zswap2
expect 2 "--accept-threshold '0': expected a percentage from 1 to 100" -- --accept-threshold 0
expect 2 "--accept-threshold '101': expected a percentage from 1 to 100" -- --accept-threshold 101
expect 2 "--model zswap and --write-through cannot be used together" -- --model zswap --write-through
expect 2 "--compressor 'lzo2': expected lz4, lzo, zstd" -- --compressor lzo2
expect 2 "--writeback-pace needs --model zswap" -- --writeback-pace 50
expect 2 "--writeback-pace 'x': expected entries per 100 swap-outs" -- --model zswap --writeback-pace x
expect 2 "--zswap-pool 'pages': expected zspages or bytes" -- --model zswap --zswap-pool pages
expect 2 "--zswap-pool needs --model zswap" -- --zswap-pool bytes
expect 2 "--worker-delay 'soon': expected swap-outs" -- --model zswap --worker-delay soon
expect 2 "--worker-delay need --model zswap" -- --worker-delay 3
expect 2 "--worker-delay needs --zswap-second-chance on" -- --model zswap --zswap-second-chance off --worker-delay 3
"$BIN" --model zswap --ram 4M --wss 16M --accesses 100000 --workload zipf --zipf-alpha 0.99 \
    --writes 30 --seed 3 --capacity 512K --accept-threshold 80 --json "$tmp/zs.json" \
    --no-baseline >"$tmp/zs.out" 2>"$tmp/zs.err" || fail "zswap run failed: $(cat "$tmp/zs.err")"
python3 - "$tmp/zs.json" <<'PY' || fail "zswap JSON: $(head -c 400 "$tmp/zs.json")"
import json, sys
d = json.load(open(sys.argv[1]))
c, t = d["config"], d["total"]
assert c["model"] == "zswap" and c["compressor"] == "lzo" and c["budget"] == "zspages", c
assert c["accept_threshold_percent"] == 80 and c["hysteresis"] is True, c
assert c["writeback_pace"] == 0 and c["worker_delay"] == 0, c
for k in ("swpout_zero", "swpin_zero", "written_back_pages", "pool_limit_hit",
          "stored_incompressible_pages"):
    assert k in t, k
assert t["swpout_zero"] > 0 and t["swpin_zero"] > 0, t
assert t["written_back_pages"] > 0 and t["pool_limit_hit"] > 0, t
assert t["pswpout"] >= t["written_back_pages"] + t["failed_stores"], t
assert max(s["counters"]["stored_incompressible_pages"] for s in d["samples"]) > 0
s = d["store_at_end"]
assert s["pages_same_filled"] == 0 and s["pages_deduplicated"] == 0, s
assert 0 < s["budget_used_bytes"] <= 512 * 1024, s
PY
grep -q "frontswap mode zswap" "$tmp/zs.out" || fail "text report does not name the zswap model"
# --worker-delay reaches the guest: the same run with a delay has fewer
# wake-ups (refusals share them) and says so in its JSON config
"$BIN" --model zswap --ram 4M --wss 16M --accesses 100000 --workload zipf --zipf-alpha 0.99 \
    --writes 30 --seed 3 --capacity 512K --accept-threshold 80 --worker-delay 8 --json "$tmp/zsd.json" \
    --no-baseline >/dev/null 2>"$tmp/zsd.err" || fail "zswap --worker-delay run failed: $(cat "$tmp/zsd.err")"
python3 - "$tmp/zs.json" "$tmp/zsd.json" <<'PY' || fail "--worker-delay 8 did not reach the worker"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert b["config"]["worker_delay"] == 8, b["config"]
assert 0 < b["total"]["shrink_worker_runs"] < a["total"]["shrink_worker_runs"], (a["total"], b["total"])
assert b["total"]["mismatches"] == 0
PY
"$BIN" --model zswap --compressor lz4 --ram 1M --wss 4M --accesses 20000 --json "$tmp/zs4.json" \
    --no-baseline >/dev/null 2>&1 || fail "--model zswap --compressor lz4 failed"
grep -q '"compressor": "lz4"' "$tmp/zs4.json" || fail "--compressor after --model zswap not kept"
"$BIN" --model zswap --zswap-pool bytes --ram 1M --wss 4M --accesses 20000 --json "$tmp/zsb.json" \
    --no-baseline >/dev/null 2>&1 || fail "--model zswap --zswap-pool bytes failed"
grep -q '"budget": "zsmalloc"' "$tmp/zsb.json" || fail "--zswap-pool bytes: budget not the 16-byte count"

# SIGINT / SIGTERM: the run stops at the next access, the reports are
# written with what it has (marked interrupted), exit 128 + the signal
interrupt() { # SIGNAL WANT-STATUS NAME args...: signal a long run after 1 s
    local sig=$1 want=$2 name=$3; shift 3
    "$BIN" --ram 4M --wss 64M --accesses 1000000000 --sample-every 10000 "$@" \
        --json "$tmp/$name.json" --csv "$tmp/$name.csv" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    local pid=$! n=0 rc
    sleep 1
    kill -"$sig" $pid
    while kill -0 $pid 2>/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
    if kill -0 $pid 2>/dev/null; then
        kill -KILL $pid; wait $pid; fail "$name: SIG$sig did not stop the run within 30 s"; return
    fi
    wait $pid; rc=$?
    [ $rc -eq "$want" ] || fail "$name: exited $rc after SIG$sig, wanted $want: $(cat "$tmp/$name.err")"
    grep -q "^tmem-swapsim: interrupted by SIG$sig: reports written" "$tmp/$name.err" ||
        fail "$name: stderr: $(cat "$tmp/$name.err")"
    grep -q "^tmem-swapsim: INTERRUPTED: the run was stopped early" "$tmp/$name.out" ||
        fail "$name: text report not marked interrupted: $(head -2 "$tmp/$name.out")"
    grep -q "mismatches 0, leaked slots 0, leaked tmem pages 0" "$tmp/$name.out" ||
        fail "$name: text report: $(cat "$tmp/$name.out")"
    if command -v python3 >/dev/null; then
        python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
assert d["interrupted"] is True and "baseline" not in d, d.keys()
assert 0 < d["total"]["accesses"] < 1000000000 * len(d["guests"]), d["total"]
assert d["total"]["mismatches"] == 0 and len(d["samples"]) > 0' "$tmp/$name.json" ||
            fail "$name: json missing, not parsing or wrong"
    fi
    [ "$(wc -l <"$tmp/$name.csv")" -gt 1 ] || fail "$name: csv has no samples"
}
interrupt INT 130 sigint
interrupt TERM 143 sigterm --guests 2
# a run not interrupted says so
grep -q '"interrupted": false,' "$tmp/r.json" || fail "json lacks \"interrupted\": false"

# Progress: a status line on stderr only when stderr is a terminal: the
# interrupted runs above (over a second each, stderr a file) printed none.
# On a terminal (script(1) gives one) a run of over a second shows
# "frontswap run: N/M accesses ..." lines, each after a carriage return,
# and erases the last one (blanks, then \r) before it prints anything
# else; --quiet shows none.
for name in sigint sigterm; do
    grep -q $'\r' "$tmp/$name.err" && fail "$name: a status line on stderr, which is a file"
done
on_terminal() { # NAME args...: a long run on a terminal, SIGINT after 2.2 s
    local name=$1 spid; shift
    script -qec "exec $BIN --ram 4M --wss 64M --accesses 1000000000 --no-baseline $* >/dev/null" \
        /dev/null >"$tmp/$name.tty" 2>&1 </dev/null &
    spid=$!
    sleep 2.2
    kill -INT $(pgrep -P $spid) 2>/dev/null
    wait $spid
}
if command -v script >/dev/null && command -v pgrep >/dev/null; then
    on_terminal tty &
    on_terminal quiet --quiet &
    wait
    grep -qa $'\rfrontswap run: [0-9]*/1000000000 accesses ([0-9.]*%), [0-9]* faults, [0-9.]* s' "$tmp/tty.tty" ||
        fail "no status line on a terminal: $(od -c "$tmp/tty.tty" | head -5)"
    grep -qaE $'\r +\rtmem-swapsim: interrupted by SIGINT' "$tmp/tty.tty" ||
        fail "status line not erased before the next message: $(od -c "$tmp/tty.tty" | tail -8)"
    grep -qa "tmem-swapsim: interrupted by SIGINT" "$tmp/quiet.tty" || fail "--quiet run: $(cat "$tmp/quiet.tty")"
    grep -qa "frontswap run" "$tmp/quiet.tty" && fail "--quiet still showed the status line"
else
    echo "cli_test: script(1) or pgrep missing: the status line on a terminal not checked"
fi

# --record: guest 0's accesses of a built-in workload become a trace (kind
# anon) that --trace replays to the very same counters.
rec_opts=(--ram 1M --wss 4M --no-baseline --quiet --seed 7)
"$BIN" "${rec_opts[@]}" --accesses 5000 --writes 30 --unmaps 5 --record "$tmp/rec.trace" \
    --json "$tmp/rec1.json" >"$tmp/out" 2>&1 || fail "--record run failed: $(cat "$tmp/out")"
"$BIN" "${rec_opts[@]}" --trace "$tmp/rec.trace" --json "$tmp/rec2.json" >"$tmp/out" 2>&1 ||
    fail "--trace of the recording failed: $(cat "$tmp/out")"
python3 - "$tmp/rec1.json" "$tmp/rec2.json" <<'PY' || fail "replaying the --record trace changed the counters"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["total"]["accesses"] == 5000 and a["total"]["unmaps"] > 0, a["total"]
assert a["total"] == b["total"], (a["total"], b["total"])
PY
if [ -n "${TRACE_BIN_PATH:-}" ] && [ -x "$TRACE_BIN_PATH" ]; then
    "$TRACE_BIN_PATH" cat "$tmp/rec.trace" >"$tmp/rec.txt" || fail "tmem-trace cat of the recording failed"
    head -1 "$tmp/rec.txt" | grep -q "kind=anon" || fail "recording header: $(head -1 "$tmp/rec.txt")"
    [ "$(grep -c '^a' "$tmp/rec.txt")" -eq 5000 ] || fail "recording holds $(grep -c '^a' "$tmp/rec.txt") records, wanted 5000"
fi
expect 1 "$tmp/nodir/r.trace: cannot create" -- --record "$tmp/nodir/r.trace" --ram 1M --wss 4M --accesses 10 --no-baseline

# swap file faults (test switches; docs/swapsim.md "Failure behaviour"):
# bad values, a write or read that fails every try (one clear line, exit
# 1), and transient faults retried to a finished run with 0 mismatches.
expect 2 "--fault-swap-read 'enospc:nth=1': .*enospc is a write fault" -- --fault-swap-read enospc:nth=1
expect 2 "--fault-swap-write 'p=2': fault 'p=2': P of p=P" -- --fault-swap-write p=2
fault_opts=(--ram 1M --wss 4M --capacity 256k --accesses 20000 --no-baseline --quiet)
expect 1 "swap file slot [0-9]*: write error: No space left on device (3 tries); page [0-9]* stays in RAM" \
    -- "${fault_opts[@]}" --fault-swap-write enospc:p=1
expect 1 "swap file slot [0-9]*: read error: Input/output error (3 tries); page [0-9]* cannot be loaded" \
    -- "${fault_opts[@]}" --fault-swap-read p=1
"$BIN" "${fault_opts[@]}" --fault-swap-write p=0.02,seed=3 --fault-swap-read short:p=0.5 \
    --json "$tmp/fault.json" >"$tmp/out" 2>&1 || fail "transient swap faults stopped the run: $(cat "$tmp/out")"
grep -q "mismatches 0" "$tmp/out" || fail "transient swap faults: $(grep mismatches "$tmp/out")"
grep -q "swap file errors: swap_write_errors [1-9]" "$tmp/out" || fail "swap file errors not reported: $(cat "$tmp/out")"
python3 - "$tmp/fault.json" <<'PY' || fail "swap_write_errors not in the JSON totals"
import json, sys
t = json.load(open(sys.argv[1]))["total"]
assert t["swap_write_errors"] > 0 and t["swap_read_errors"] == 0 and t["mismatches"] == 0, t
PY

"$BIN" --bench --ram 1M --wss 4M --accesses 20000 >"$tmp/out" 2>&1 || fail "--bench failed"
grep -q "simulated page faults handled per second" "$tmp/out" || fail "--bench output: $(cat "$tmp/out")"

if [ "$fails" -ne 0 ]; then
    echo "cli_test: $fails failure(s)"
    exit 1
fi
echo "cli_test: all checks passed"

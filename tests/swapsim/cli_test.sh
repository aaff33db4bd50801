#!/bin/bash
# cli_test.sh - the tmem-swapsim command line: help, clear one-line errors
# with the right exit status for bad options and bad traces, sizes in the
# project's one grammar (common/size.h), a trace run, JSON/CSV output and
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
grep -q "shrink: calls [1-9]" "$tmp/out" || fail "capacity drop did not shrink: $(cat "$tmp/out")"

"$BIN" --bench --ram 1M --wss 4M --accesses 20000 >"$tmp/out" 2>&1 || fail "--bench failed"
grep -q "simulated page faults handled per second" "$tmp/out" || fail "--bench output: $(cat "$tmp/out")"

if [ "$fails" -ne 0 ]; then
    echo "cli_test: $fails failure(s)"
    exit 1
fi
echo "cli_test: all checks passed"

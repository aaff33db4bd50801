#!/bin/bash
# replay_cli.sh - the tmem-replay command line.
# Rules: every sample of traces/samples, converted with tmem-trace, replays
# (exit 0, the summary names the trace, its record count is the trace's,
# no mismatch; JSON parses and agrees); bad options are one line and exit
# 2; a bad trace (keeping its FILE:LINE), an empty trace, an anonymous
# trace in metadata mode and a trace of kind both are one line and exit 1;
# SIGINT stops a long replay, which still writes what it did, marked
# interrupted, and exits 130 (SIGTERM: 143).
# Binaries: REPLAY_BIN_PATH and TRACE_BIN_PATH (exported by make), run from
# the top of the tree.
set -u
BIN=${REPLAY_BIN_PATH:?REPLAY_BIN_PATH not set (run through make)}
TRACE=${TRACE_BIN_PATH:?TRACE_BIN_PATH not set (run through make)}
S=traces/samples
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect STATUS PATTERN -- args...: exit status and one stderr line matching
expect() {
    local want=$1 pat=$2; shift 3
    "$BIN" "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    [ "$rc" -eq "$want" ] || fail "$* exited $rc, wanted $want ($(head -c 300 "$tmp/err"))"
    grep -q -- "$pat" "$tmp/err" || fail "$*: stderr lacks '$pat': $(head -c 300 "$tmp/err")"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "$*: expected one error line, got: $(cat "$tmp/err")"
}

records() { "$TRACE" info "$1" | sed -n 's/^records //p'; }

# ---------------------------------------------------------------- samples
declare -A FROM=([blkparse.txt]=blkparse [fio-iolog-v2.log]=fio-iolog
                 [fio-iolog-v3.log]=fio-iolog [lackey.txt]=lackey [msr.csv]=msr
                 [oracle-general.bin]=oracle-general)
for s in "${!FROM[@]}"; do
    t=$tmp/$s.trace
    "$TRACE" convert --from "${FROM[$s]}" "$S/$s" "$t" 2>/dev/null || { fail "convert $s"; continue; }
    n=$(records "$t")
    "$BIN" --quiet --guest-pages 8 "$t" >"$tmp/out" 2>"$tmp/err" ||
        { fail "replay of $s exited $?: $(cat "$tmp/err")"; continue; }
    [ -s "$tmp/err" ] && fail "replay of $s wrote to stderr: $(cat "$tmp/err")"
    grep -q "^replay of $t (.*): $n records" "$tmp/out" ||
        fail "replay of $s: no summary with $n records: $(grep replay "$tmp/out")"
    grep -Eq "^mismatches +0$|mismatches 0" "$tmp/out" || fail "replay of $s: mismatches not 0"
    "$BIN" --quiet --json --guest-pages 8 "$t" >"$tmp/json" || fail "json replay of $s"
    python3 - "$tmp/json" "$n" <<'PY' || fail "JSON of $s"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["records"] == int(sys.argv[2]), d["records"]
assert d["interrupted"] == 0 and d["mismatches"] == 0
c = d.get("counters")
if c is not None:  # a file trace: the two levels add up
    assert c["guest_hits"] + c["guest_misses"] == d["page_reads"]
    assert c["failed_gets"] + c["succ_gets"] == c["guest_misses"] or c["cleancache_enabled"] == 0
    assert c["backing_pages_read"] == c["guest_misses"] - c["succ_gets"]
else:
    assert d["swap"]["total"]["accesses"] == int(sys.argv[2])
PY
    # file traces: metadata mode gives the data mode's counters (none, off, off)
    if [ "$s" != lackey.txt ]; then
        "$BIN" --quiet --mode metadata --guest-pages 8 "$t" >"$tmp/meta" || fail "metadata replay of $s"
        for c in succ_gets failed_gets guest_hits guest_misses backing_pages_read; do
            a=$(awk -v c=$c '$1 == c { print $2 }' "$tmp/out")
            b=$(awk -v c=$c '$1 == c { print $2 }' "$tmp/meta")
            [ "$a" = "$b" ] || fail "$s: $c data $a, metadata $b"
        done
    fi
done

# ---------------------------------------------------------------- usage
t=$tmp/oracle-general.bin.trace
expect 2 "--mode: 'fast' is not data or metadata" -- --mode fast "$t"
expect 2 "--guest-pages: '0' is not a page count" -- --guest-pages 0 "$t"
expect 2 "--capacity: '12Q' is not a size" -- --capacity 12Q "$t"
expect 2 "--compressor: 'gzip'" -- --compressor gzip "$t"
expect 2 "--dedup: 'maybe' is not yes or no" -- --dedup maybe "$t"
expect 2 "--policy: 'fifo' is not lru or clock" -- --policy fifo "$t"
expect 2 "--device: 'floppy'" -- --device floppy "$t"
expect 2 "--series-format: 'xml'" -- --series-format xml "$t"
expect 2 "unknown option '--bogus'" -- --bogus "$t"
expect 2 "--mode needs an argument" -- "$t" --mode
expect 2 "no TRACE given" -- --quiet
expect 2 "one TRACE only" -- "$t" "$t"
expect 2 "--series-every needs --series" -- --series-every 5 "$t"
expect 2 "--guest-pages and --guest-cache" -- --guest-pages 4 --guest-cache 1M "$t"
"$BIN" --help >"$tmp/out" 2>&1 && grep -q "^usage: tmem-replay" "$tmp/out" || fail "--help"
"$BIN" --version | grep -q "tmem-replay" || fail "--version"

# ---------------------------------------------------------------- bad traces
printf '# tmem-trace 1 page_size=4096 kind=file\nread 1 2\nread 1\n' >"$tmp/bad.txt"
expect 1 "$tmp/bad.txt:3: read takes" -- --quiet "$tmp/bad.txt"
printf '# tmem-trace 1 page_size=4096 kind=file\n# nothing\n' >"$tmp/empty.txt"
expect 1 "$tmp/empty.txt: empty trace" -- --quiet "$tmp/empty.txt"
expect 1 "$tmp/missing.trace: No such file or directory" -- --quiet "$tmp/missing.trace"
printf 'hello\n' >"$tmp/junk"
expect 1 "$tmp/junk" -- --quiet "$tmp/junk"
expect 1 "metadata mode replays file traces" -- --quiet --mode metadata "$tmp/lackey.txt.trace"
expect 1 "--capacity-pages needs a file trace" -- --quiet --capacity-pages 8 "$tmp/lackey.txt.trace"
expect 1 "--series needs a file trace" -- --quiet --series "$tmp/s.csv" "$tmp/lackey.txt.trace"
printf '# tmem-trace 1 page_size=4096 kind=both\nread 1 2\naread 3\n' >"$tmp/both.txt"
expect 1 "a trace of kind both is not replayed as one" -- --quiet "$tmp/both.txt"

# ---------------------------------------------------------------- signals
"$TRACE" generate --records 3000000 --pages 300000 "$tmp/big.trace" || fail "generate"
for sig in INT TERM; do
    "$BIN" --quiet --capacity-pages 10000 "$tmp/big.trace" >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    sleep 0.7
    kill -$sig $pid
    wait $pid
    rc=$?
    want=$([ $sig = INT ] && echo 130 || echo 143)
    [ $rc -eq $want ] || fail "SIG$sig: exit $rc, wanted $want ($(cat "$tmp/err"))"
    grep -q "(interrupted: what was replayed so far)" "$tmp/out" || fail "SIG$sig: no interrupted mark"
    n=$(sed -n 's/^records  *//p' "$tmp/out")
    [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -lt 3000000 ] ||
        fail "SIG$sig: partial record count '$n'"
done

if [ $fails -eq 0 ]; then echo "ok: tmem-replay command line"; else exit 1; fi

#!/bin/bash
# tmem_trace_cli.sh - the tmem-trace command line: --help, one-line errors
# with exit 2 (bad usage, bad input) or 1 (I/O), each sample of
# traces/samples converted with the record counts computed independently by
# tools/trace/make-samples.py, the mapping file, and the native round trip
# text -> binary -> text giving identical text.
# The binary comes from TRACE_BIN_PATH (exported by src/trace/module.mk)
# or the first argument; run from the top of the tree.
set -u
BIN=${1:-${TRACE_BIN_PATH:?TRACE_BIN_PATH not set (run through make)}}
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

# records FILE: the record count tmem-trace info reports
records() { "$BIN" info "$1" | sed -n 's/^records //p'; }

"$BIN" --help >"$tmp/help" || fail "--help exited non-zero"
grep -q -- "--from FORMAT" "$tmp/help" || fail "--help does not list --from"
grep -q "oracle-general, msr, blkparse, fio-iolog, lackey" "$tmp/help" || fail "--help lacks the formats"

expect 2 "expected a command" --
expect 2 "unknown command 'frob'" -- frob
expect 2 "--from 'csv': unknown format" -- convert --from csv a b
expect 2 "--page-size '3000': expected a power of two" -- convert --from msr --page-size 3000 a b
expect 2 "--event 'X': expected Q or C" -- convert --from blkparse --event X a b
expect 2 "--event applies to --from blkparse only" -- convert --from msr --event C a b
expect 2 "convert takes IN and OUT" -- convert --from msr a
expect 2 "unknown option or missing value in '--frob'" -- convert --frob a b
expect 2 "unknown option or missing value in '--from'" -- convert a b --from
expect 2 "--page-size does not apply to native input" -- convert --page-size 4096 a b
expect 1 "$tmp/none: cannot open" -- convert --from msr "$tmp/none" "$tmp/o"
expect 1 "$tmp/none: cannot open" -- info "$tmp/none"
printf '1,h,0,Read,0,1,1\n1,h,0,Erase,0,1,1\n' >"$tmp/bad.csv"
expect 2 "$tmp/bad.csv:2: bad type 'Erase' (expected Read or Write)" -- \
    convert --from msr "$tmp/bad.csv" "$tmp/bad.trace"
[ ! -e "$tmp/bad.trace" ] || fail "a failed convert left its output behind"
expect 1 "cannot create" -- convert --from msr $S/msr.csv "$tmp/no/such/dir/x"

# each sample: FILE FORMAT RECORDS [extra options]
while read -r file format want opts; do
    # shellcheck disable=SC2086
    "$BIN" convert --from "$format" $opts --mapping "$tmp/map" "$S/$file" "$tmp/$file.trace" \
        2>"$tmp/notes" || { fail "convert $file: $(cat "$tmp/notes")"; continue; }
    got=$(records "$tmp/$file.trace")
    [ "$got" = "$want" ] || fail "$file $opts: $got records, wanted $want"
    [ -s "$tmp/map" ] || fail "$file: empty mapping"
    head -n 1 "$tmp/map" | grep -q '^0 ' || fail "$file: mapping does not start at id 0"
done <<'LIST'
oracle-general.bin oracle-general 178
msr.csv msr 382
blkparse.txt blkparse 308
blkparse.txt blkparse 308 --event C
fio-iolog-v2.log fio-iolog 97
fio-iolog-v3.log fio-iolog 89
lackey.txt lackey 155
LIST

# notes: skipped lines are counted, never silent
"$BIN" convert --from lackey $S/lackey.txt "$tmp/l.trace" 2>"$tmp/notes"
grep -q "lackey.txt: skipped 35 instruction fetches (I lines)" "$tmp/notes" ||
    fail "lackey notes: $(cat "$tmp/notes")"
"$BIN" info "$tmp/l.trace" | grep -q '^kind anon$' || fail "lackey output is not kind anon"

# native round trip: text -> binary -> text identical; cat = convert --text
"$BIN" convert --from msr --text $S/msr.csv "$tmp/a.txt" 2>/dev/null || fail "msr --text"
"$BIN" convert "$tmp/a.txt" "$tmp/a.bin" || fail "text -> binary"
"$BIN" convert --text "$tmp/a.bin" - >"$tmp/b.txt" || fail "binary -> text"
cmp -s "$tmp/a.txt" "$tmp/b.txt" || fail "text -> binary -> text differs"
"$BIN" cat "$tmp/a.bin" >"$tmp/c.txt" || fail "cat"
cmp -s "$tmp/a.txt" "$tmp/c.txt" || fail "cat differs from the text form"
[ "$(head -c 8 "$tmp/a.bin")" = "TMEMTRC" ] || fail "binary output lacks the magic"

if [ "$fails" -ne 0 ]; then
    echo "tmem_trace_cli: $fails failure(s)"
    exit 1
fi
echo "tmem_trace_cli: ok"

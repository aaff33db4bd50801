#!/bin/bash
# Rule: -o record=PATH writes what the mount served as a page trace (kind
# file, timestamps): one read / write record per page index of each
# request, a truncate with the new length in pages, an unlink when the
# file loses its last link; one dense object id per file. Checked on: a
# 3-page file written, read twice (direct_io: the kernel's cache does not
# hide the second read), cut to 1 page and removed. An unwritable PATH is
# a one-line error before mounting.
source "$(dirname "$0")/common.bash"
tmemfs_begin
W=$TMEMFS_WORK
: "${TRACE_BIN_PATH:?TRACE_BIN_PATH (the tmem-trace program) not set: run through make}"
mkdir -p "$W/src" "$W/m"

# unwritable record path: refused before mounting, one line
if "$TMEMFS_BIN" "$W/src" "$W/m" -o record="$W/nodir/t.trace" >"$W/out" 2>"$W/err"; then
    tmemfs_fail "record= to a missing directory mounted"
fi
tmemfs_expect "error lines" "$(wc -l <"$W/err")" 1
grep -q "record $W/nodir/t.trace: No such file or directory" "$W/err" ||
    tmemfs_fail "record error: $(cat "$W/err")"

tmemfs_mount "$W/src" "$W/m" -o record="$W/t.trace"
head -c $((3 * 4096)) /dev/urandom >"$W/data"
dd if="$W/data" of="$W/m/f" bs=4096 count=3 status=none
cat "$W/m/f" >/dev/null
cat "$W/m/f" >/dev/null
truncate -s 4096 "$W/m/f"
rm "$W/m/f"
tmemfs_umount "$W/m"

"$TRACE_BIN_PATH" cat "$W/t.trace" >"$W/t.txt" || tmemfs_fail "tmem-trace cat failed: $(cat "$W/t.txt")"
python3 - "$W/t.txt" <<'PY' || tmemfs_fail "recorded trace wrong: $(cat "$W/t.txt")"
import collections, sys
lines = [l.split() for l in open(sys.argv[1]) if l.strip()]
head, recs = lines[0], [l for l in lines[1:] if not l[0].startswith("#")]
assert head[:3] == ["#", "tmem-trace", "1"] and "page_size=4096" in head, head
assert "kind=file" in head and "timestamps" in head, head
ts = [int(r[0][1:]) for r in recs]
assert all(r[0].startswith("@") for r in recs) and ts == sorted(ts), "timestamps"
ops = [r[1:] for r in recs]
assert {o[1] for o in ops} == {"0"}, "one file: object 0 only: %r" % ops
count = collections.Counter((o[0], o[2]) for o in ops if o[0] in ("read", "write"))
# written once, read twice, page by page (the kernel may split requests:
# each page is counted once per request that touched it)
assert count == {("write", "0"): 1, ("write", "1"): 1, ("write", "2"): 1,
                 ("read", "0"): 2, ("read", "1"): 2, ("read", "2"): 2}, count
order = [o[0] for o in ops]
assert order.index("truncate") > max(i for i, o in enumerate(order) if o == "read"), order
assert [o for o in ops if o[0] == "truncate"] == [["truncate", "0", "1"]], ops
assert ops[-1] == ["unlink", "0"] and order.count("unlink") == 1, ops
PY
tmemfs_pass "$(($(wc -l <"$W/t.txt") - 1)) records: 3 page writes, 2x3 page reads, truncate 1, unlink last"

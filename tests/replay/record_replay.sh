#!/bin/bash
# Rule: replaying a tmemfs recording (-o record=PATH) with the mount's
# settings gives the mount's counters exactly. A tmemfs mount (single-
# threaded, -s, so requests reach the read path one at a time in the order
# they are recorded; guest cache of 32 pages, LRU; store unlimited,
# compressor none, dedup off) serves a workload over a generated tree:
# every file read three times (and a small one twice in a row, and a
# part of one), page-aligned writes into two files, one
# file cut to a page boundary and one into a page (recorded rounded
# down: the page holding the new end changed), one removed, everything
# read again. Its
# counters (.tmemfs/stats) are then compared with tmem-replay's on the
# recording (the same guest size and policy, data mode): succ_gets,
# failed_gets, puts, guest_hits, guest_misses, guest_evictions and
# backing_pages_read must all be equal; then the same for metadata mode.
# Needs root and /dev/fuse (else a loud SKIPPED).
source "$(dirname "$0")/../fuse_cleancache/common.bash"
tmemfs_begin
W=$TMEMFS_WORK
REPO=$(cd "$(dirname "$0")/../.." && pwd)
REPLAY=${REPLAY_BIN_PATH:-$REPO/build/tmem-replay}
[ -x "$REPLAY" ] || tmemfs_fail "tmem-replay binary $REPLAY not built"
PAGES=32

mkdir -p "$W/src/d1" "$W/src/d2"
# 8 files of 5..40 pages, some ending in a partial page (deterministic sizes)
for i in 1 2 3 4 5 6 7 8; do
    d=$([ $((i % 2)) = 0 ] && echo d1 || echo d2)
    size=$(( (i * 37 % 36 + 5) * 4096 - (i % 3) * 1000 ))
    head -c "$size" /dev/urandom >"$W/src/$d/f$i"
done
FILES=$(cd "$W/src" && find . -type f | sort)

tmemfs_mount "$W/src" "$W/m" -s -o cache_size=$((PAGES * 4096)),capacity=unlimited,compressor=none,dedup=off,policy=lru,record="$W/rec.trace"
M=$W/m
for pass in 1 2 3; do
    for f in $FILES; do cat "$M/$f" >/dev/null || tmemfs_fail "read $f"; done
    # a small file twice in a row: guest cache hits
    cat "$M/d1/f6" "$M/d1/f6" >/dev/null
    # part of a file: a 3-page read in the middle
    dd if="$M/d2/f1" of=/dev/null bs=4096 skip=2 count=3 status=none
done
dd if=/dev/urandom of="$M/d1/f2" bs=4096 seek=2 count=3 conv=notrunc status=none
dd if=/dev/urandom of="$M/d2/f3" bs=4096 seek=0 count=1 conv=notrunc status=none
truncate -s $((3 * 4096)) "$M/d2/f5"   # to a page boundary
truncate -s 10000 "$M/d2/f7"            # into a page: that page changed too
rm "$M/d1/f4"
FILES=$(cd "$W/src" && find . -type f | sort)
for f in $FILES; do cat "$M/$f" >/dev/null || tmemfs_fail "read $f"; done
cp "$M/.tmemfs/stats" "$W/mount.stats"
tmemfs_umount "$M"

NAMES="succ_gets failed_gets puts guest_hits guest_misses guest_evictions backing_pages_read"
for mode in data metadata; do
    "$REPLAY" --quiet --mode $mode --guest-pages $PAGES --policy lru --compressor none \
        --dedup off "$W/rec.trace" >"$W/replay.$mode" 2>"$W/replay.$mode.err" ||
        tmemfs_fail "tmem-replay --mode $mode failed: $(cat "$W/replay.$mode.err")"
    bad=0
    for n in $NAMES; do
        a=$(awk -v n=$n '$1 == n { print $2 }' "$W/mount.stats")
        b=$(awk -v n=$n '$1 == n { print $2 }' "$W/replay.$mode")
        [ -n "$a" ] || tmemfs_fail "counter $n missing from the mount's stats"
        if [ "$a" != "$b" ]; then
            echo "$mode: $n: mount $a, replay ${b:-missing}" >&2
            bad=1
        fi
    done
    if [ $bad = 1 ]; then
        for n in $NAMES; do
            printf '%-20s mount %-8s replay %s\n' $n \
                "$(awk -v n=$n '$1 == n { print $2 }' "$W/mount.stats")" \
                "$(awk -v n=$n '$1 == n { print $2 }' "$W/replay.$mode")" >&2
        done
        tmemfs_fail "$mode mode: the replay's counters differ from the mount's"
    fi
done
tmemfs_pass "replay of $("$TRACE_BIN_PATH" info "$W/rec.trace" 2>/dev/null | awk '$1 == "records" { print $2 }') recorded records gives the mount's counters ($(awk '$1 == "succ_gets" { print $2 }' "$W/mount.stats") succ_gets, $(awk '$1 == "guest_hits" { print $2 }' "$W/mount.stats") guest hits), data and metadata mode"

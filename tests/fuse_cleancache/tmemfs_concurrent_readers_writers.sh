#!/bin/bash
# Rule: no read returns stale data, with real concurrency. Writer and
# reader processes race on one file (tmemfs_race: whole-block records with
# versions; a read must never return a version older than one whose write
# had returned before the read began, nor another block's data) through a guest
# cache of 16 pages for a 1 MiB file, so evictions, cleancache puts, gets
# and invalidations interleave all the time: one mount multi-threaded; one
# mount with the capacity dropping to 0 and back and the pool dropped
# (drop_caches 2) meanwhile; and two mounts of one daemon sharing the
# pool, writers on one, readers on the other.
source "$(dirname "$0")/common.bash"
tmemfs_begin
[ -x "$TMEMFS_RACE_BIN" ] || tmemfs_fail "helper $TMEMFS_RACE_BIN not built"
W=$TMEMFS_WORK
mkdir -p "$W/src"
check_ran() { # reader-mnt [writer-mnt]: cleancache hits and invalidations really happened
    local sg inv
    sg=$(tmemfs_stat "$1" succ_gets); inv=$(tmemfs_stat "${2:-$1}" invalidates)
    [ "$sg" -gt 0 ] && [ "$inv" -gt 0 ] || tmemfs_fail "$1: succ_gets=$sg invalidates=$inv: the race did not exercise cleancache"
}

tmemfs_mount "$W/src" "$W/m1" -o cache_size=64K
out=$("$TMEMFS_RACE_BIN" "$W/m1/f" 256 4 2 3) || tmemfs_fail "one mount: $out"
check_ran "$W/m1"
tmemfs_pass "one mount: $out"
( for c in 0 64K 0 unlimited 0 256K unlimited; do
      sleep 0.25; echo $c >"$W/m1/.tmemfs/capacity"; sleep 0.25; echo 2 >"$W/m1/.tmemfs/drop_caches"
  done ) &
changer=$!
out=$("$TMEMFS_RACE_BIN" "$W/m1/g" 256 4 2 3) || tmemfs_fail "capacity changing: $out"
wait $changer
tmemfs_umount "$W/m1"
tmemfs_pass "capacity changing and the pool dropped under the race: $out"

tmemfs_mount_multi "$W/multi.log" -o cache_size=64K -o shared_uuid=0123456789abcdef0123456789abcdef \
    -- "$W/src" "$W/a" "$W/src" "$W/b"
out=$("$TMEMFS_RACE_BIN" "$W/a/h" 256 4 2 3 "$W/b/h") || tmemfs_fail "two mounts sharing the pool: $out"
check_ran "$W/b" "$W/a"
tmemfs_pass "two mounts sharing the pool, writers on one, readers on the other: $out"

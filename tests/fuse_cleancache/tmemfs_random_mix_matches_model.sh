#!/bin/bash
# Rule: no read ever returns stale data. A random mix of writes, appends,
# reads, truncates, O_TRUNC opens, renames over other files and unlinks,
# every read checked byte for byte against an in-memory model (tmemfs_mix),
# while the tmem capacity goes unlimited -> 64K -> 0 -> 256K -> unlimited
# and the guest cache is pushed into / dropped with cleancache. Run with a
# tiny guest cache (16 pages) so cleancache is on the read path all the
# time, once multi-threaded with CLOCK and once single-threaded with LRU;
# afterwards the backing files equal what the mount showed.
# Rule (mmap, fsx's mapped reads and writes): on a default (direct I/O)
# mount MAP_PRIVATE reads see the model, and MAP_SHARED fails cleanly
# with ENODEV; with -o kcache, reads and writes through MAP_SHARED
# mappings (msync'ed) mix with the rest and match the model too.
source "$(dirname "$0")/common.bash"
tmemfs_begin
[ -x "$TMEMFS_MIX_BIN" ] || tmemfs_fail "helper $TMEMFS_MIX_BIN not built"
W=$TMEMFS_WORK
run_mix() { # name seed ops opts... (TMEMFS_MIX_MMAP from the environment)
    local name=$1 seed=$2 ops=$3
    shift 3
    mkdir -p "$W/src-$name/dir"
    tmemfs_mount "$W/src-$name" "$W/m-$name" -o cache_size=64K "$@"
    "$TMEMFS_MIX_BIN" "$W/m-$name/dir" "$W/m-$name/.tmemfs" "$seed" "$ops" || {
        cat "$W/m-$name/.tmemfs/stats" >&2; tmemfs_fail "random mix $name (seed $seed) saw wrong data"; }
    local sg inv
    sg=$(tmemfs_stat "$W/m-$name" succ_gets); inv=$(tmemfs_stat "$W/m-$name" invalidates)
    [ "$sg" -gt 0 ] || tmemfs_fail "$name: cleancache never hit: the test did not exercise it"
    [ "$inv" -gt 0 ] || tmemfs_fail "$name: no invalidation happened"
    for f in "$W/src-$name"/dir/*; do
        cmp "$f" "$W/m-$name/dir/$(basename "$f")" || tmemfs_fail "$name: backing $f differs from mount"
    done
    tmemfs_umount "$W/m-$name"
    tmemfs_pass "$name: $ops ops matched the model (succ_gets=$sg invalidates=$inv)"
}
run_mix clock-mt 1 4000
run_mix lru-st 7 3000 -s -o policy=lru
run_mix shared 3 2000 -o shared_uuid=0123456789abcdef0123456789abcdef -o compress=off
TMEMFS_MIX_MMAP=private run_mix mmap-private 11 2000
TMEMFS_MIX_MMAP=shared run_mix mmap-shared-kcache 13 2000 -o kcache
# MAP_SHARED on a direct-I/O mount: a clean ENODEV, no crash, no hang.
mkdir -p "$W/src-direct"; head -c 8192 /dev/urandom >"$W/src-direct/f"
tmemfs_mount "$W/src-direct" "$W/m-direct"
python3 - "$W/m-direct/f" <<'PY' || tmemfs_fail "MAP_SHARED on a direct-I/O mount did not fail with ENODEV"
import errno, mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    mmap.mmap(fd, 8192, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
except OSError as e:
    sys.exit(0 if e.errno == errno.ENODEV else 1)
sys.exit(1)
PY
tmemfs_umount "$W/m-direct"
tmemfs_pass "MAP_SHARED without -o kcache: ENODEV"

#!/bin/bash
# tmemfs-bench.sh - `make bench` for tmemfs: fio random 4 KiB reads and
# sequential 128 KiB reads (each over the file twice) on the backing
# directory (page cache dropped first), through tmemfs with cleancache on,
# and through tmemfs with cleancache off; prints MiB/s and the ratios.
# Skips (exit 0, loud line) without /dev/fuse. Env: BENCH_SIZE (default 128M),
# BENCH_CACHE (guest cache, default 16M).
set -u
here=$(cd "$(dirname "$0")" && pwd)
TMEMFS_BIN=${TMEMFS_BIN:-$here/../../build/tmemfs}
size=${BENCH_SIZE:-128M} cache=${BENCH_CACHE:-16M}
if ! ( exec 9<>/dev/fuse ) 2>/dev/null; then echo "SKIPPED: tmemfs bench: /dev/fuse unusable"; exit 0; fi
work=$(mktemp -d /tmp/tmemfs-bench.XXXXXX)
mnt=$work/mnt pid=
cleanup() {
    mountpoint -q "$mnt" && { fusermount3 -u "$mnt" || fusermount3 -u -z "$mnt"; }
    [ -n "$pid" ] && wait "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
mkdir -p "$work/data" "$mnt"
fio --name=prep --directory="$work/data" --filename=bench.dat --size="$size" --rw=write \
    --bs=1M --ioengine=psync --output=/dev/null || exit 1
drop() { sync; [ -w /proc/sys/vm/drop_caches ] && echo 3 >/proc/sys/vm/drop_caches; }
bw() { # dir rw bs -> MiB/s
    fio --name=b --directory="$1" --filename=bench.dat --size="$size" --rw="$2" --bs="$3" \
        --ioengine=psync --loops=2 --randrepeat=1 --output-format=terse --terse-version=3 2>/dev/null |
        awk -F';' '{ printf "%.1f", $7 / 1024 }'
}
mount_it() {
    "$TMEMFS_BIN" -f -o cache_size="$cache" "$@" "$work/data" "$mnt" 2>/dev/null &
    pid=$!
    for _ in $(seq 100); do mountpoint -q "$mnt" && return 0; sleep 0.05; done
    echo "tmemfs bench: mount failed" >&2; exit 1
}
umount_it() { fusermount3 -u "$mnt"; wait "$pid"; pid=; }
printf "tmemfs bench: file %s, guest cache %s, each job reads the file twice\n" "$size" "$cache"
printf "%-22s %12s %12s %12s %10s %10s\n" job backing_MiB/s cc_on_MiB/s cc_off_MiB/s on/backing on/off
for spec in "randread 4k" "read 128k"; do
    set -- $spec
    drop; b=$(bw "$work/data" "$1" "$2")
    drop; mount_it; on=$(bw "$mnt" "$1" "$2"); umount_it
    drop; mount_it -o cleancache=off; off=$(bw "$mnt" "$1" "$2"); umount_it
    awk -v j="$1 $2" -v b="$b" -v on="$on" -v off="$off" 'BEGIN {
        printf "%-22s %12.1f %12.1f %12.1f %10.2f %10.2f\n", j, b, on, off, b ? on / b : 0, off ? on / off : 0 }'
done

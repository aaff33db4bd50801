#!/bin/bash
# tmemfs-bench.sh - `make bench` for tmemfs: fio random 4 KiB reads and
# sequential 128 KiB reads (each over the file twice) on the backing
# directory (page cache dropped first), through tmemfs with cleancache on,
# and through tmemfs with cleancache off; prints MiB/s and the ratios.
# Skips (exit 0, loud line) without /dev/fuse. Env: BENCH_SIZE (default 128M),
# BENCH_CACHE (guest cache, default 16M).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tmemfs-lib.sh"
size=${BENCH_SIZE:-128M} cache=${BENCH_CACHE:-16M}
tmemfs_require_fuse "tmemfs bench"
work=$(mktemp -d /tmp/tmemfs-bench.XXXXXX)
mnt=$work/mnt
mkdir -p "$work/data" "$mnt"
fio --name=prep --directory="$work/data" --filename=bench.dat --size="$size" --rw=write \
    --bs=1M --ioengine=psync --output=/dev/null || exit 1
drop() { sync; [ -w /proc/sys/vm/drop_caches ] && echo 3 >/proc/sys/vm/drop_caches; }
bw() { # dir rw bs -> MiB/s
    fio --name=b --directory="$1" --filename=bench.dat --size="$size" --rw="$2" --bs="$3" \
        --ioengine=psync --loops=2 --randrepeat=1 --output-format=terse --terse-version=3 2>/dev/null |
        awk -F';' '{ printf "%.1f", $7 / 1024 }'
}
mount_it() { tmemfs_mount "$work/data" -o cache_size="$cache" "$@"; }
printf "tmemfs bench: file %s, guest cache %s, each job reads the file twice\n" "$size" "$cache"
printf "%-22s %12s %12s %12s %10s %10s\n" job backing_MiB/s cc_on_MiB/s cc_off_MiB/s on/backing on/off
for spec in "randread 4k" "read 128k"; do
    set -- $spec
    drop; b=$(bw "$work/data" "$1" "$2")
    drop; mount_it; on=$(bw "$mnt" "$1" "$2"); tmemfs_umount
    drop; mount_it -o cleancache=off; off=$(bw "$mnt" "$1" "$2"); tmemfs_umount
    awk -v j="$1 $2" -v b="$b" -v on="$on" -v off="$off" 'BEGIN {
        printf "%-22s %12.1f %12.1f %12.1f %10.2f %10.2f\n", j, b, on, off, b ? on / b : 0, off ? on / off : 0 }'
done

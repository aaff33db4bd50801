#!/bin/bash
# tmemfs-bench.sh - `make bench` for tmemfs: fio psync jobs on the backing
# directory (page cache dropped first), through tmemfs with cleancache on,
# and through tmemfs with cleancache off, in one run; prints MiB/s and the
# ratios (on/backing, on/off). Jobs (each reads its file twice):
#   randread 4k        the miss path: a file larger than the guest cache
#   randread 4k x2     the same with two jobs
#   read 128k          sequential reads of the large file
#   hit 4k             the hit path: a file half the guest cache, read
#                      once before (so every timed read is a guest hit);
#                      its "on/off" column is hit/miss: against the miss
#                      path with cleancache on
# Skips (exit 0, loud line) without /dev/fuse. Env: BENCH_SIZE (default
# 128M), BENCH_CACHE (guest cache, default 16M).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tmemfs-lib.sh"
size=${BENCH_SIZE:-128M} cache=${BENCH_CACHE:-16M}
small=$(($(numfmt --from=iec "$cache") / 2))
tmemfs_require_fuse "tmemfs bench"
work=$(mktemp -d /tmp/tmemfs-bench.XXXXXX)
mnt=$work/mnt
mkdir -p "$work/data" "$mnt"
for f in "bench.dat:$size" "small.dat:$small"; do
    fio --name=prep --directory="$work/data" --filename="${f%%:*}" --size="${f#*:}" --rw=write \
        --bs=1M --ioengine=psync --output=/dev/null || exit 1
done
drop() { sync; [ -w /proc/sys/vm/drop_caches ] && echo 3 >/proc/sys/vm/drop_caches; }
bw() { # dir file size rw bs jobs -> MiB/s (all jobs)
    fio --name=b --directory="$1" --filename="$2" --size="$3" --rw="$4" --bs="$5" \
        --numjobs="$6" --group_reporting --ioengine=psync --loops=2 --randrepeat=1 \
        --output-format=terse --terse-version=3 2>/dev/null |
        awk -F';' '{ printf "%.1f", $7 / 1024 }'
}
mount_it() { tmemfs_mount "$work/data" -o cache_size="$cache" "$@"; }
row() { # job backing on off
    awk -v j="$1" -v b="$2" -v on="$3" -v off="$4" 'BEGIN {
        printf "%-22s %12.1f %12.1f %12.1f %10.2f %10.2f\n", j, b, on, off, b ? on / b : 0, off ? on / off : 0 }'
}
printf "tmemfs bench: file %s, guest cache %s, each job reads the file twice\n" "$size" "$cache"
printf "%-22s %12s %12s %12s %10s %10s\n" job backing_MiB/s cc_on_MiB/s cc_off_MiB/s on/backing on/off
for spec in "randread 4k 1" "randread 4k 2" "read 128k 1"; do
    set -- $spec
    name="$1 $2"; [ "$3" -gt 1 ] && name="$name x$3"
    drop; b=$(bw "$work/data" bench.dat "$size" "$1" "$2" "$3")
    drop; mount_it; on=$(bw "$mnt" bench.dat "$size" "$1" "$2" "$3"); tmemfs_umount
    drop; mount_it -o cleancache=off; off=$(bw "$mnt" bench.dat "$size" "$1" "$2" "$3"); tmemfs_umount
    row "$name" "$b" "$on" "$off"
    [ "$name" = "randread 4k" ] && miss=$on
done
drop; b=$(bw "$work/data" small.dat "$small" randread 4k 1)
drop; mount_it; cat "$mnt/small.dat" >/dev/null; hit=$(bw "$mnt" small.dat "$small" randread 4k 1); tmemfs_umount
row "hit 4k (on/off=hit/miss)" "$b" "$hit" "$miss"

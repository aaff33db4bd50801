#!/bin/bash
# tmemfs-compile-demo.sh - the seeds' experiment for real: a compile whose
# every header read passes through tmemfs. A copy of this project's
# sources and of the compiler's system headers (/usr/include and gcc's
# own include directory) is mounted with a guest cache much smaller than
# what the compile reads, and each source file is compiled (gcc -O0 -c,
# two at a time) against the mounted headers only (-nostdinc), once with
# cleancache off and once on, each on a fresh mount. Prints the backing
# pages read, the simulated device time on each device profile, the wall
# time, and a headline (the seeds: up to 52 % fewer sectors read, up to
# 8 % faster, on a kernel compile under memory pressure).
# usage: tools/fio/tmemfs-compile-demo.sh [GUEST_CACHE] [ROUNDS]
#   GUEST_CACHE  guest page cache of the mount (default 1M)
#   ROUNDS       times the whole compile runs on one mount (default 1;
#                a second round is what a rebuild reads again)
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/tmemfs-lib.sh"
cache=${1:-1M} rounds=${2:-1}
tmemfs_require_fuse "tmemfs compile demo"
command -v gcc >/dev/null || { echo "SKIPPED: tmemfs compile demo: gcc not installed"; exit 0; }
work=$(mktemp -d /tmp/tmemfs-compile.XXXXXX)
mnt=$work/mnt
mkdir -p "$mnt" "$work/tree/sys" "$work/obj"
cp -a "$repo/src" "$work/tree/src" && cp -a /usr/include "$work/tree/sys/include" &&
    cp -a "$(gcc -print-file-name=include)" "$work/tree/sys/gccinc" || exit 1
sources=$(cd "$work/tree" && find src -name '*.c' | sort)
multiarch=$(gcc -print-multiarch)
echo "compile: $(echo "$sources" | wc -l) files of src/ against $(du -sh "$work/tree/sys" | cut -f1) of system headers, all through tmemfs; guest cache $cache, $rounds rounds"

compile_all() { # through the mount, objects outside it
    (cd "$mnt" && echo "$sources" | xargs -P 2 -I{} sh -c '
        gcc -std=c11 -D_GNU_SOURCE -O0 -nostdinc -isystem sys/gccinc \
            -isystem sys/include/'"$multiarch"' -isystem sys/include -isystem sys/include/fuse3 \
            -Isrc -DTMEM_USE_JEMALLOC=1 -c {} -o "'"$work/obj"'/$(echo {} | tr / _).o"' ) ||
        { echo "compile failed" >&2; exit 1; }
}

demo_header
for cc in off on; do
    tmemfs_mount "$work/tree" -o cache_size="$cache" -o cleancache=$cc -o stats_json="$work/$cc.json"
    start=$(date +%s.%N)
    for _ in $(seq "$rounds"); do compile_all; done
    wall=$(seconds_since "$start")
    tmemfs_umount
    demo_row $cc "$work/$cc.json" "$wall"
done
demo_headline
echo "(wall time: the backing files are in the host's page cache, so saved reads cost ~nothing here; the device columns price them)"

#!/bin/bash
# tmemfs-fio.sh - mount tmemfs over DIR, run one fio job file through it,
# unmount, and print guest-cache and cleancache hit rates, backing reads
# and fio's throughput lines.
#
# usage: tools/fio/tmemfs-fio.sh DIR JOB.fio [tmemfs -o options...]
#   e.g. tools/fio/tmemfs-fio.sh /tmp/data tools/fio/reread.fio -o cache_size=4M
# Environment: TMEMFS_BIN (default build/tmemfs), FIO_SIZE (default 64M).
set -u
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || { echo "usage: $0 DIR JOB.fio [tmemfs options...]" >&2; exit 2; }
dir=$1 job=$2
shift 2
[ -d "$dir" ] || { echo "tmemfs-fio: $dir: not a directory" >&2; exit 2; }
[ -f "$job" ] || { echo "tmemfs-fio: $job: no such job file" >&2; exit 2; }
. "$here/tmemfs-lib.sh"
mnt=$(mktemp -d /tmp/tmemfs-fio.XXXXXX)
out=$(mktemp /tmp/tmemfs-fio-out.XXXXXX)
extra_cleanup='rmdir "$mnt" 2>/dev/null; rm -f "$out" "$out.json"'
tmemfs_mount "$dir" "$@" -o stats_json="$out.json"
TMEMFS_DIR=$mnt FIO_SIZE=${FIO_SIZE:-64M} fio "$job" >"$out" 2>&1
rc=$?
tmemfs_umount
grep -E "^ *(READ|WRITE):" "$out" | sed 's/^ */fio /'
[ $rc -eq 0 ] || { cat "$out" >&2; echo "tmemfs-fio: fio failed" >&2; exit 1; }
get() { json_counter "$out.json" "$1"; }
gh=$(get guest_hits) gm=$(get guest_misses) sg=$(get succ_gets) fg=$(get failed_gets)
awk -v gh="$gh" -v gm="$gm" -v sg="$sg" -v fg="$fg" -v br="$(get backing_pages_read)" \
    -v bb="$(get backing_bytes_read)" -v puts="$(get puts)" 'BEGIN {
    printf "guest cache hit rate  %6.2f%%  (%d hits, %d misses)\n", gh + gm ? 100 * gh / (gh + gm) : 0, gh, gm
    printf "cleancache hit rate   %6.2f%%  (%d succ_gets, %d failed_gets, %d puts)\n", sg + fg ? 100 * sg / (sg + fg) : 0, sg, fg, puts
    printf "backing reads         %d pages, %.1f MiB\n", br, bb / 1048576 }'

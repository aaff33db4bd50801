#!/bin/bash
# record-sample.sh - make traces/tmemfs-edit-session.trace: a recording
# (tmemfs -o record=PATH) of a small real workload through a mount.
#
# The tree (120 text files of 2..40 KiB, 2.1 MiB, made by a fixed LCG in
# the python below: the same bytes on every machine) is mounted with
# tmemfs; then, in order: `grep -rc` over all of it, `cat` of the first 40
# files twice, `sed -i` on 15 files (each writes a new file and renames it
# over the old one: the old file's unlink is recorded), `truncate` of 5
# files to half, `rm` of 10 files, and `grep -rc` again. The recording
# holds every page read and written with request boundaries, the
# truncates and the unlinks (docs/traces.md, "Recording").
#
# Usage: tools/trace/record-sample.sh [OUT]   (default
# traces/tmemfs-edit-session.trace). Needs root and /dev/fuse, and a built
# tmemfs (TMEMFS_BIN, default build/tmemfs). The request sizes come from
# the kernel's FUSE client, so another kernel may split reads differently.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/traces/tmemfs-edit-session.trace}
tmemfs=${TMEMFS_BIN:-$top/build/tmemfs}
[ -x "$tmemfs" ] || { echo "record-sample: $tmemfs not built (make first)" >&2; exit 1; }
work=$(mktemp -d)
mnt=$work/mnt
cleanup() {
    mountpoint -q "$mnt" 2>/dev/null && fusermount3 -u "$mnt"
    rm -rf "$work"
}
trap cleanup EXIT

python3 - "$work/src" <<'PY'
import os, sys
root = sys.argv[1]
state = 4242
def rand(n):
    global state
    state = (state * 1103515245 + 12345) % (1 << 31)
    return (state >> 8) % n
words = ("tmem cleancache frontswap page pool object index put get flush "
         "ephemeral persistent guest host capacity evict hit miss").split()
for i in range(120):
    d = os.path.join(root, "dir%d" % (i % 6))
    os.makedirs(d, exist_ok=True)
    size = 2048 + rand(38 * 1024)
    text, n = [], 0
    while n < size:
        line = " ".join(words[rand(len(words))] for _ in range(1 + rand(12))) + "\n"
        text.append(line)
        n += len(line)
    open(os.path.join(d, "file%03d.txt" % i), "w").write("".join(text)[:size])
PY
mkdir -p "$mnt"
"$tmemfs" -o record="$work/t.trace",cache_size=256K "$work/src" "$mnt"
cd "$mnt"
grep -rc tmem . >/dev/null
files=$(find . -name '*.txt' | sort)
for pass in 1 2; do
    # shellcheck disable=SC2086
    cat $(echo "$files" | head -40) >/dev/null
done
for f in $(echo "$files" | sed -n '41,55p'); do sed -i 's/page/PAGE/g' "$f"; done
for f in $(echo "$files" | sed -n '56,60p'); do truncate -s $(($(stat -c %s "$f") / 2)) "$f"; done
# shellcheck disable=SC2046
rm $(echo "$files" | sed -n '61,70p')
grep -rc tmem . >/dev/null
cd /
fusermount3 -u "$mnt"
for _ in $(seq 1 100); do [ -s "$work/t.trace" ] && ! pgrep -f "record=$work/t.trace" >/dev/null && break; sleep 0.1; done
cp "$work/t.trace" "$out"
echo "record-sample: wrote $out"

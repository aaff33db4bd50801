#!/bin/bash
# Rule: bad input (unknown or malformed option, a libfuse module, missing
# SOURCE, missing or non-empty MOUNTPOINT, too few arguments, a stats_json
# that cannot be written, a cache_size above the machine's memory) gives a
# one-line error on stderr
# and a non-zero exit, without mounting anything (needs no /dev/fuse); and
# the fstab path (mount.fuse3, options after the positionals) mounts with
# the options given (skipped, loudly, without /dev/fuse).
source "$(dirname "$0")/common.bash"
[ -x "$TMEMFS_BIN" ] || tmemfs_fail "tmemfs binary $TMEMFS_BIN not built"
TMEMFS_WORK=$(mktemp -d /tmp/tmemfs-test.XXXXXX)
trap tmemfs_cleanup EXIT
W=$TMEMFS_WORK
mkdir -p "$W/src" "$W/mnt" "$W/full"
touch "$W/full/x"

check_bad() { # description, args...
    local what=$1 out rc lines
    shift
    out=$("$TMEMFS_BIN" "$@" 2>&1 >/dev/null); rc=$?
    lines=$(printf '%s\n' "$out" | grep -c .)
    [ "$rc" -ne 0 ] || tmemfs_fail "$what: exit status 0"
    [ "$lines" -eq 1 ] || tmemfs_fail "$what: $lines lines of error output: $out"
    mountpoint -q "$W/mnt" && tmemfs_fail "$what: something got mounted"
    tmemfs_pass "$what -> $out"
}
check_bad "missing SOURCE" "$W/nosuch" "$W/mnt"
check_bad "SOURCE not a directory" "$W/full/x" "$W/mnt"
check_bad "missing MOUNTPOINT" "$W/src" "$W/nosuch"
check_bad "non-empty MOUNTPOINT" "$W/src" "$W/full"
check_bad "no arguments"
check_bad "one argument" "$W/src"
check_bad "three arguments" "$W/src" "$W/mnt" "$W/mnt"
check_bad "unknown option" -o no_such_option "$W/src" "$W/mnt"
check_bad "bad cache_size" -o cache_size=lots "$W/src" "$W/mnt"
check_bad "bad capacity" -o capacity=-1 "$W/src" "$W/mnt"
check_bad "bad page_size" -o page_size=3000 "$W/src" "$W/mnt"
check_bad "bad shared_uuid" -o shared_uuid=xyz "$W/src" "$W/mnt"
check_bad "bad cleancache" -o cleancache=maybe "$W/src" "$W/mnt"
check_bad "bad policy" -o policy=random "$W/src" "$W/mnt"
check_bad "MOUNTPOINT inside SOURCE" "$W/full" "$W/full"
check_bad "a libfuse module" -o modules=subdir,subdir=x "$W/src" "$W/mnt"
check_bad "stats_json in a missing directory" -o stats_json="$W/nosuch/s.json" "$W/src" "$W/mnt"
check_bad "cache_size above the machine's memory" -o cache_size=1T "$W/src" "$W/mnt"
check_bad "bad attr_timeout" -o attr_timeout=-1 "$W/src" "$W/mnt"
check_bad "bad capacity suffix" -o capacity=64Q "$W/src" "$W/mnt"
"$TMEMFS_BIN" --help >"$W/help" 2>&1 || tmemfs_fail "--help exited non-zero"
for o in cache_size capacity cleancache compress dedup page_size shared_uuid policy stats_json ctl kcache; do
    grep -q -- "$o" "$W/help" || tmemfs_fail "--help does not list $o"
done
tmemfs_pass "--help lists every option"
# fstab / `mount -t fuse.tmemfs` path: mount.fuse3 runs
# `tmemfs SOURCE MOUNTPOINT -o opts` (options after the positionals).
MOUNT_FUSE=$(command -v mount.fuse3 || echo /sbin/mount.fuse3)
if ! (exec 9<>/dev/fuse) 2>/dev/null; then
    echo "SKIPPED: fstab-style mount check: /dev/fuse unusable (the error checks above ran)"
elif [ -x "$MOUNT_FUSE" ]; then
    mkdir -p "$W/fstab-src" "$W/fstab-m"
    echo fstab >"$W/fstab-src/f"
    "$MOUNT_FUSE" "$TMEMFS_BIN#$W/fstab-src" "$W/fstab-m" -o cache_size=1M,capacity=8M ||
        tmemfs_fail "mount.fuse3 (the fstab path) could not mount tmemfs"
    TMEMFS_MOUNTS+=("$W/fstab-m")
    tmemfs_expect "read through a mount.fuse3 mount" "$(cat "$W/fstab-m/f")" fstab
    tmemfs_expect "cache_size from -o after the positionals" \
        "$(awk '$1 == "guest_capacity_pages" { print $2 }' "$W/fstab-m/.tmemfs/stats")" 256
    tmemfs_expect "capacity from -o after the positionals" \
        "$(awk '$1 == "tmem_capacity_bytes" { print $2 }' "$W/fstab-m/.tmemfs/stats")" 8388608
    tmemfs_expect "source and type in /proc/mounts" \
        "$(awk -v m="$W/fstab-m" '$2 == m { print $1, $3 }' /proc/mounts)" "$W/fstab-src fuse.tmemfs"
    fusermount3 -u "$W/fstab-m" || tmemfs_fail "fusermount3 -u of the mount.fuse3 mount"
    tmemfs_pass "mount.fuse3 $TMEMFS_BIN#SOURCE MOUNTPOINT -o ... (fstab style) mounts with the options"
else
    echo "note: mount.fuse3 not installed; fstab-style mount not checked"
fi
# A mount whose daemon died: mounting there again says what to do.
if (exec 9<>/dev/fuse) 2>/dev/null; then
    mkdir -p "$W/dead"
    "$TMEMFS_BIN" -f "$W/src" "$W/dead" 2>/dev/null &
    pid=$!
    for _ in $(seq 1 100); do mountpoint -q "$W/dead" && break; sleep 0.05; done
    kill -9 "$pid"; wait "$pid" 2>/dev/null
    TMEMFS_MOUNTS+=("$W/dead")
    out=$("$TMEMFS_BIN" "$W/src" "$W/dead" 2>&1 >/dev/null) && tmemfs_fail "mounted over a dead mount"
    case $out in
        *"fusermount3 -u $W/dead"*) tmemfs_pass "a dead mount -> $out" ;;
        *) tmemfs_fail "a dead mount: the error does not say what to do: $out" ;;
    esac
    fusermount3 -u "$W/dead" || tmemfs_fail "fusermount3 -u of the dead mount"
fi

#!/bin/bash
# Rule: bad input (unknown or malformed option, missing SOURCE, missing or
# non-empty MOUNTPOINT, too few arguments) gives a one-line error on stderr
# and a non-zero exit, without mounting anything. Needs no /dev/fuse.
source "$(dirname "$0")/common.bash"
[ -x "$TMEMFS_BIN" ] || ccfs_fail "tmemfs binary $TMEMFS_BIN not built"
CCFS_WORK=$(mktemp -d /tmp/tmemfs-test.XXXXXX)
trap ccfs_cleanup EXIT
W=$CCFS_WORK
mkdir -p "$W/src" "$W/mnt" "$W/full"
touch "$W/full/x"

check_bad() { # description, args...
    local what=$1 out rc lines
    shift
    out=$("$TMEMFS_BIN" "$@" 2>&1 >/dev/null); rc=$?
    lines=$(printf '%s\n' "$out" | grep -c .)
    [ "$rc" -ne 0 ] || ccfs_fail "$what: exit status 0"
    [ "$lines" -eq 1 ] || ccfs_fail "$what: $lines lines of error output: $out"
    mountpoint -q "$W/mnt" && ccfs_fail "$what: something got mounted"
    ccfs_pass "$what -> $out"
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
"$TMEMFS_BIN" --help >"$W/help" 2>&1 || ccfs_fail "--help exited non-zero"
for o in cache_size capacity cleancache compress dedup page_size shared_uuid policy stats_json ctl kcache; do
    grep -q -- "$o" "$W/help" || ccfs_fail "--help does not list $o"
done
ccfs_pass "--help lists every option"

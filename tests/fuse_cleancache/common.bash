# common.bash - sourced by the tmemfs integration tests (tests/fuse_cleancache/*.sh).
#
# Environment: TMEMFS_BIN (the tmemfs binary; make exports it, default
# build/tmemfs), TMEMFS_MIX_BIN (the random-mix helper, default
# build/tests/fuse_cleancache/tmemfs_mix). Every test: tmemfs_begin (skips with
# exit 77 and a loud SKIPPED line only when /dev/fuse is unusable), mounts
# with tmemfs_mount, and relies on the EXIT trap to unmount and clean up.
set -u
TMEMFS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TMEMFS_BIN=${TMEMFS_BIN:-$TMEMFS_REPO/build/tmemfs}
TMEMFS_MIX_BIN=${TMEMFS_MIX_BIN:-$TMEMFS_REPO/build/tests/fuse_cleancache/tmemfs_mix}
TMEMFS_RACE_BIN=${TMEMFS_RACE_BIN:-$TMEMFS_REPO/build/tests/fuse_cleancache/tmemfs_race}
TMEMFS_MOUNTS=()
TMEMFS_PIDS=()
TMEMFS_WORK=

tmemfs_cleanup() {
    local m p
    for m in "${TMEMFS_MOUNTS[@]+"${TMEMFS_MOUNTS[@]}"}"; do
        if mountpoint -q "$m" 2>/dev/null; then
            fusermount3 -u "$m" 2>/dev/null || fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
        fi
    done
    for p in "${TMEMFS_PIDS[@]+"${TMEMFS_PIDS[@]}"}"; do
        kill "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    [ -n "$TMEMFS_WORK" ] && rm -rf "$TMEMFS_WORK"
}

tmemfs_skip() { echo "SKIPPED: $*"; echo "SKIPPED: $*" >&2; exit 77; }
tmemfs_fail() { echo "FAIL: $*" >&2; exit 1; }
tmemfs_pass() { echo "ok: $*"; }

# tmemfs_begin: check prerequisites, make $TMEMFS_WORK, install the trap.
tmemfs_begin() {
    [ -x "$TMEMFS_BIN" ] || tmemfs_fail "tmemfs binary $TMEMFS_BIN not built"
    [ -c /dev/fuse ] || tmemfs_skip "/dev/fuse does not exist (no FUSE in this environment)"
    ( exec 9<>/dev/fuse ) 2>/dev/null || tmemfs_skip "/dev/fuse cannot be opened (no permission / not supported)"
    command -v fusermount3 >/dev/null || tmemfs_skip "fusermount3 not installed"
    TMEMFS_WORK=$(mktemp -d /tmp/tmemfs-test.XXXXXX)
    trap tmemfs_cleanup EXIT
    trap 'exit 1' INT TERM
}

# tmemfs_mount SRC MNT [tmemfs options...]: mount in the foreground in the
# background; log in $MNT.log; wait until mounted.
tmemfs_mount() {
    local src=$1 mnt=$2 i
    shift 2
    mkdir -p "$mnt"
    "$TMEMFS_BIN" -f "$@" "$src" "$mnt" 2>"$mnt.log" &
    TMEMFS_PIDS+=($!)
    TMEMFS_MOUNTS+=("$mnt")
    for i in $(seq 1 100); do
        mountpoint -q "$mnt" && return 0
        kill -0 "${TMEMFS_PIDS[-1]}" 2>/dev/null || break
        sleep 0.05
    done
    cat "$mnt.log" >&2
    tmemfs_fail "mount of $src on $mnt failed"
}

# tmemfs_mount_multi LOG [tmemfs options...] -- SRC MNT [SRC MNT ...]: one
# tmemfs process (foreground, in the background) serving every pair; its
# stderr goes to LOG; waits until every MNT is mounted. The daemon's pid is
# left in TMEMFS_MULTI_PID (registered once per MNT for the EXIT trap).
tmemfs_mount_multi() {
    local log=$1 i m ok
    local opts=() pairs=() mnts=()
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    pairs=("$@")
    for ((i = 1; i < ${#pairs[@]}; i += 2)); do
        mkdir -p "${pairs[$i]}"
        mnts+=("${pairs[$i]}")
    done
    "$TMEMFS_BIN" -f "${opts[@]+"${opts[@]}"}" "${pairs[@]}" 2>"$log" &
    TMEMFS_MULTI_PID=$!
    for m in "${mnts[@]}"; do
        TMEMFS_PIDS+=("$TMEMFS_MULTI_PID")
        TMEMFS_MOUNTS+=("$m")
    done
    for i in $(seq 1 100); do
        ok=1
        for m in "${mnts[@]}"; do mountpoint -q "$m" || ok=0; done
        [ "$ok" = 1 ] && return 0
        kill -0 "$TMEMFS_MULTI_PID" 2>/dev/null || break
        sleep 0.05
    done
    cat "$log" >&2
    tmemfs_fail "mount of ${mnts[*]} by one daemon failed"
}

# tmemfs_umount MNT: unmount, wait for the daemon, check its exit status.
tmemfs_umount() {
    local mnt=$1 idx pid rc
    for idx in "${!TMEMFS_MOUNTS[@]}"; do
        [ "${TMEMFS_MOUNTS[$idx]}" = "$mnt" ] && pid=${TMEMFS_PIDS[$idx]}
    done
    fusermount3 -u "$mnt" || tmemfs_fail "fusermount3 -u $mnt failed"
    wait "$pid"; rc=$?
    [ "$rc" -eq 0 ] || { cat "$mnt.log" >&2; tmemfs_fail "tmemfs exited $rc after unmount"; }
}

# tmemfs_stat MNT NAME: one counter from the control directory.
tmemfs_stat() {
    awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) exit 1 }' "$1/.tmemfs/stats" ||
        tmemfs_fail "counter $2 missing from $1/.tmemfs/stats"
}

# tmemfs_expect WHAT GOT WANT
tmemfs_expect() {
    [ "$2" = "$3" ] || tmemfs_fail "$1: got $2, expected $3"
}

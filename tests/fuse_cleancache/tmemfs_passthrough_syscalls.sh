#!/bin/bash
# Rule: the system calls a shell cannot make pass through as on the backing
# directory and invalidate what they change: renameat2 RENAME_NOREPLACE and
# RENAME_EXCHANGE, copy_file_range, flock, statfs, errno values. The checks
# are in tmemfs_syscalls.c (built by make; TMEMFS_SYSCALLS_BIN), run against a
# mount whose guest cache (64 KiB) is smaller than each test file (256 KiB),
# so changed pages sit in both the guest cache and cleancache.
source "$(dirname "$0")/common.bash"
TMEMFS_SYSCALLS_BIN=${TMEMFS_SYSCALLS_BIN:-$TMEMFS_REPO/build/tests/fuse_cleancache/tmemfs_syscalls}
[ -x "$TMEMFS_SYSCALLS_BIN" ] || tmemfs_fail "helper $TMEMFS_SYSCALLS_BIN not built"
tmemfs_begin
W=$TMEMFS_WORK
mkdir -p "$W/src"
for threads in "" -s; do
    tmemfs_mount "$W/src" "$W/m" -o cache_size=64K $threads
    "$TMEMFS_SYSCALLS_BIN" "$W/m" "$W/src" || tmemfs_fail "passthrough system calls (${threads:-multi-threaded})"
    tmemfs_umount "$W/m"
    rm -rf "${W:?}/src"/*
done
tmemfs_pass "renameat2 flags, copy_file_range, flock, statfs, errno through the mount"

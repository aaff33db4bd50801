#!/bin/bash
# Rule: the system calls a shell cannot make pass through as on the backing
# directory and invalidate what they change: renameat2 RENAME_NOREPLACE and
# RENAME_EXCHANGE, copy_file_range, flock, statfs, errno values. The checks
# are in ccfs_syscalls.c (built by make; CCFS_SYSCALLS_BIN), run against a
# mount whose guest cache (64 KiB) is smaller than each test file (256 KiB),
# so changed pages sit in both the guest cache and cleancache.
source "$(dirname "$0")/common.bash"
CCFS_SYSCALLS_BIN=${CCFS_SYSCALLS_BIN:-$CCFS_REPO/build/tests/fuse_cleancache/ccfs_syscalls}
[ -x "$CCFS_SYSCALLS_BIN" ] || ccfs_fail "helper $CCFS_SYSCALLS_BIN not built"
ccfs_begin
W=$CCFS_WORK
mkdir -p "$W/src"
for threads in "" -s; do
    ccfs_mount "$W/src" "$W/m" -o cache_size=64K $threads
    "$CCFS_SYSCALLS_BIN" "$W/m" "$W/src" || ccfs_fail "passthrough system calls (${threads:-multi-threaded})"
    ccfs_umount "$W/m"
    rm -rf "${W:?}/src"/*
done
ccfs_pass "renameat2 flags, copy_file_range, flock, statfs, errno through the mount"

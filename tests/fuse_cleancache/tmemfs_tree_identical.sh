#!/bin/bash
# Rule: a mount over a real tree is indistinguishable from the tree: tar c,
# grep -r and find -type f | xargs cat give byte-identical output through
# the mount and on the backing tree, with a guest cache (1M) far smaller
# than the tree so most re-reads are served by cleancache; and the re-read
# reads (almost) nothing from the backing files.
source "$(dirname "$0")/common.bash"
tmemfs_begin
W=$TMEMFS_WORK
TREE=${TMEMFS_TREE:-/usr/include}
[ -d "$TREE/linux" ] || tmemfs_fail "$TREE/linux missing (linux-libc-dev is a gcc dependency)"
# A copy (so the test owns it and can add a hard link and a symlink).
mkdir -p "$W/src"
cp -a "$TREE/linux" "$TREE/asm-generic" "$W/src/"
ln "$W/src/linux/types.h" "$W/src/hardlink.h"
ln -s linux/types.h "$W/src/symlink.h"
tmemfs_mount "$W/src" "$W/m" -o cache_size=1M
(cd "$W/src" && tar c --sort=name . | sha256sum) >"$W/tar.src"
(cd "$W/m" && tar c --sort=name . | sha256sum) >"$W/tar.mnt"
cmp "$W/tar.src" "$W/tar.mnt" || tmemfs_fail "tar of the mount differs from tar of the tree"
tmemfs_pass "tar c --sort=name identical"
(cd "$W/src" && grep -r -n -c '#define' . | sort) >"$W/grep.src"
(cd "$W/m" && grep -r -n -c '#define' . | sort) >"$W/grep.mnt"
cmp "$W/grep.src" "$W/grep.mnt" || tmemfs_fail "grep -r differs"
tmemfs_pass "grep -r identical ($(wc -l <"$W/grep.src") files)"
back1=$(tmemfs_stat "$W/m" backing_pages_read)
(cd "$W/src" && find . -type f | sort | xargs cat | sha256sum) >"$W/cat.src"
(cd "$W/m" && find . -type f | sort | xargs cat | sha256sum) >"$W/cat.mnt"
cmp "$W/cat.src" "$W/cat.mnt" || tmemfs_fail "find | xargs cat differs"
back2=$(tmemfs_stat "$W/m" backing_pages_read)
sg=$(tmemfs_stat "$W/m" succ_gets); fg=$(tmemfs_stat "$W/m" failed_gets)
[ "$((back2 - back1))" -le "$((back1 / 20))" ] ||
    tmemfs_fail "third pass read $((back2 - back1)) backing pages (first passes: $back1): cleancache not serving"
tmemfs_umount "$W/m"
tmemfs_pass "find | xargs cat identical; third pass read $((back2 - back1)) backing pages vs $back1 before (succ_gets=$sg failed_gets=$fg)"

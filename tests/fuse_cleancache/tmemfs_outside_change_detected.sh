#!/bin/bash
# Rule: a change made to a backing file outside the mount is detected (size,
# mtime or ctime differ) at the next open, getattr or read, and the object
# is flushed from both caches: the mount shows the new data, never the
# cached old pages. Cases: same-size rewrite in place, truncate+grow,
# replacement by rename (new inode), change while a reader holds the file
# open, and a change that keeps size and mtime (touch -d back) but not ctime.
source "$(dirname "$0")/common.bash"
tmemfs_begin
W=$TMEMFS_WORK
mkdir -p "$W/src"
tmemfs_mount "$W/src" "$W/m" -o cache_size=32K
S=$W/src/f; M=$W/m/f
prime() { # read through the mount twice so pages sit in the guest cache and cleancache
    cat "$M" >/dev/null; cat "$M" >/dev/null
}
head -c 100000 /dev/urandom >"$S"; prime
cmp "$S" "$M" || tmemfs_fail "initial content"
# 1. same size, rewritten in place.
head -c 100000 /dev/urandom >"$W/new"; dd if="$W/new" of="$S" conv=notrunc status=none
cmp "$S" "$M" || tmemfs_fail "same-size in-place rewrite not seen"
tmemfs_pass "same-size rewrite in place is seen"
prime
# 2. shrink then grow (holes must read as zeros).
truncate -s 5000 "$S"; truncate -s 90000 "$S"
cmp "$S" "$M" || tmemfs_fail "outside truncate not seen"
tmemfs_pass "outside truncate/grow is seen"
prime
# 3. replaced by rename (new inode, new oid).
head -c 70000 /dev/urandom >"$W/src/.tmp"; mv "$W/src/.tmp" "$S"
cmp "$S" "$M" || tmemfs_fail "replacement by rename not seen"
tmemfs_pass "replacement by rename is seen"
prime
# 4. change while a reader holds the file open (detected at read).
exec 3<"$M"          # opened (and checked) before the change
printf 'OUTSIDE-CHANGE' | dd of="$S" bs=1 seek=20000 conv=notrunc status=none
got2=$(dd bs=1 skip=20000 count=14 status=none <&3)
exec 3<&-
[ "$got2" = "OUTSIDE-CHANGE" ] || tmemfs_fail "change while open not seen through the held descriptor: '$got2'"
cmp "$S" "$M" || tmemfs_fail "change while open not seen"
tmemfs_pass "change while a reader holds the file open is seen"
prime
# 5. same size, mtime restored: only ctime tells.
mt=$(stat -c %y "$S")
printf 'CTIME-ONLY' | dd of="$S" bs=1 seek=100 conv=notrunc status=none
touch -d "$mt" "$S"
cmp "$S" "$M" || tmemfs_fail "change hidden by restoring mtime not seen (ctime)"
tmemfs_pass "change with mtime restored is seen (ctime)"
n=$(tmemfs_stat "$W/m" outside_changes)
# cases 1, 2, 4, 5 change an object in place (3 makes a new oid)
[ "$n" -ge 4 ] || tmemfs_fail "outside_changes=$n, expected >= 4"
# Writes through the mount are not outside changes.
before=$(tmemfs_stat "$W/m" outside_changes)
printf 'through the mount' | dd of="$M" bs=1 seek=10 conv=notrunc status=none
cat "$M" >/dev/null; stat "$M" >/dev/null
cmp "$S" "$M" || tmemfs_fail "write through the mount"
tmemfs_expect "outside_changes after a write through the mount" "$(tmemfs_stat "$W/m" outside_changes)" "$before"
tmemfs_umount "$W/m"
tmemfs_pass "writes through the mount are not counted as outside changes"

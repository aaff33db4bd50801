#!/bin/bash
# Rule (issue #16, short transfers, tmemfs_io_set_fault_kinds): with
# -o fault_backing_read=short:p=1 and fault_backing_write=short:p=1 every
# backing pread and pwrite moves at most half of what is left, and
# tmemfs completes them: files written and read through the mount equal
# the bytes written (compared with the backing file and with the
# original), one write(2) returns its full count, and no backing error is counted
# (a short transfer is not an error).
source "$(dirname "$0")/common.bash"
tmemfs_begin
W=$TMEMFS_WORK
mkdir -p "$W/src"
head -c 300000 /dev/urandom >"$W/orig"
cp "$W/orig" "$W/src/old"
tmemfs_mount "$W/src" "$W/m" -o cache_size=64K \
    -o 'fault_backing_read=short:p=1\,seed=1' -o 'fault_backing_write=short:p=1\,seed=2'
cmp "$W/orig" "$W/m/old" || tmemfs_fail "a file read with short reads differs"
dd if="$W/orig" of="$W/m/new" bs=100000 status=none || tmemfs_fail "writing through the mount failed"
cat "$W/orig" >>"$W/m/new" || tmemfs_fail "appending through the mount failed"
cat "$W/orig" "$W/orig" >"$W/twice"
# one write(2) of 200000 bytes: it must not come back short (dd and cat
# would quietly write the rest themselves)
n=$(perl -e 'open(my $f, "+<", $ARGV[0]) or die "$!"; binmode $f; sysseek($f, 50000, 0);
    my $d = "x" x 200000; print syswrite($f, $d) // -1' "$W/m/new") ||
    tmemfs_fail "the single write failed"
tmemfs_expect "bytes one write(2) wrote" "$n" 200000
dd if=/dev/zero bs=200000 count=1 status=none | tr '\0' x |
    dd of="$W/twice" bs=50000 seek=1 conv=notrunc status=none
cmp "$W/twice" "$W/src/new" || tmemfs_fail "the backing file differs from what was written"
echo 1 >"$W/m/.tmemfs/drop_caches"
cmp "$W/twice" "$W/m/new" || tmemfs_fail "the re-read through the mount differs"
tmemfs_expect backing_read_errors "$(tmemfs_stat "$W/m" backing_read_errors)" 0
tmemfs_expect backing_write_errors "$(tmemfs_stat "$W/m" backing_write_errors)" 0
tmemfs_umount "$W/m"
tmemfs_pass "every backing transfer made short: reads, writes and appends complete and match"

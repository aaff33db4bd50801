#!/bin/bash
# Rule (issue #16, backing-file faults, tmemfs_io_set_faults): with
# -o fault_backing_read=nth=N the N-th backing read request fails and
# read(2) through the mount fails with EIO at exactly that request; the
# reads before and after it return the backing file's bytes; the failed
# page is cached nowhere (pushing the guest cache to cleancache puts only
# the pages read, and re-reading gets exactly those from cleancache);
# backing_read_errors counts it. With -o fault_backing_write=nth=1 the
# first write fails with EIO (half of it landed: the injected fault's
# model of a device failing part way) and every later read through the
# mount equals the backing file (its whole range was invalidated);
# backing_write_errors counts it. A bad FAULT is a one-line error.
source "$(dirname "$0")/common.bash"
tmemfs_begin
W=$TMEMFS_WORK
PS=4096
mkdir -p "$W/src"
head -c $((8 * PS)) /dev/urandom >"$W/src/f"

# 0. bad specs: one line naming the grammar, exit non-zero, nothing mounted.
mkdir -p "$W/bad"
for spec in nth=0 p=2 bogus 'nth=1,seed=2'; do
    out=$("$TMEMFS_BIN" -f -o "fault_backing_read=$spec" "$W/src" "$W/bad" 2>&1); rc=$?
    [ "$rc" -ne 0 ] && [ "$(printf '%s\n' "$out" | grep -c .)" -eq 1 ] ||
        tmemfs_fail "bad fault_backing_read=$spec: rc $rc, output: $out"
    mountpoint -q "$W/bad" && tmemfs_fail "bad spec $spec mounted"
done
tmemfs_pass "bad FAULT specs refused with one line"

# 1. reads: the 3rd backing request (page 2, read one page at a time) fails.
tmemfs_mount "$W/src" "$W/m" -o cache_size=64K -o fault_backing_read=nth=3
for p in 0 1 2 3 4 5 6 7; do
    if dd if="$W/m/f" of="$W/page.$p" bs=$PS skip=$p count=1 status=none 2>"$W/err.$p"; then
        [ "$p" = 2 ] && tmemfs_fail "read of page 2 (the 3rd request) succeeded"
        dd if="$W/src/f" bs=$PS skip=$p count=1 status=none | cmp -s - "$W/page.$p" ||
            tmemfs_fail "page $p differs from the backing file"
    else
        [ "$p" = 2 ] || tmemfs_fail "read of page $p failed: $(cat "$W/err.$p")"
        grep -q "Input/output error" "$W/err.$p" || tmemfs_fail "page 2: not EIO: $(cat "$W/err.$p")"
    fi
done
tmemfs_expect backing_read_errors "$(tmemfs_stat "$W/m" backing_read_errors)" 1
tmemfs_expect guest_pages "$(tmemfs_stat "$W/m" guest_pages)" 7
tmemfs_pass "the planned read fails with EIO, the others return the file's bytes"
echo 1 >"$W/m/.tmemfs/drop_caches" # guest cache -> cleancache
tmemfs_expect puts "$(tmemfs_stat "$W/m" puts)" 7
tmemfs_expect tmem_pool_pages "$(tmemfs_stat "$W/m" tmem_pool_pages)" 7
cmp "$W/src/f" "$W/m/f" || tmemfs_fail "re-read after the fault differs"
tmemfs_expect succ_gets "$(tmemfs_stat "$W/m" succ_gets)" 7
tmemfs_expect backing_pages_read "$(tmemfs_stat "$W/m" backing_pages_read)" $((7 + 1))
tmemfs_pass "the failed page was cached nowhere; the re-read is right (7 from cleancache, 1 from the file)"
tmemfs_umount "$W/m"

# 2. writes: the first write fails with EIO; what the mount shows is the file.
tmemfs_mount "$W/src" "$W/m2" -o cache_size=64K -o fault_backing_write=nth=1
cat "$W/m2/f" >/dev/null # cache every page
head -c $((3 * PS)) /dev/urandom >"$W/new"
if dd if="$W/new" of="$W/m2/f" bs=$((3 * PS)) seek=100 oflag=seek_bytes conv=notrunc \
      count=1 status=none 2>"$W/werr"; then
    tmemfs_fail "the planned write succeeded"
fi
grep -q "Input/output error" "$W/werr" || tmemfs_fail "write: not EIO: $(cat "$W/werr")"
cmp -s "$W/src/f" "$W/m2/f" || tmemfs_fail "after the failed write the mount differs from the file"
# half of it landed in the backing file (the injected fault's model)
dd if="$W/src/f" bs=1 skip=100 count=$((3 * PS / 2)) status=none | cmp -s - <(head -c $((3 * PS / 2)) "$W/new") ||
    tmemfs_fail "the injected write fault did not land half the bytes"
tmemfs_expect backing_write_errors "$(tmemfs_stat "$W/m2" backing_write_errors)" 1
dd if="$W/new" of="$W/m2/f" bs=$((3 * PS)) seek=100 oflag=seek_bytes conv=notrunc count=1 status=none ||
    tmemfs_fail "the write after the fault failed"
cmp -s "$W/src/f" "$W/m2/f" || tmemfs_fail "after the good write the mount differs from the file"
tmemfs_pass "the failed write is EIO and invalidated its range; the next write works"
tmemfs_umount "$W/m2"

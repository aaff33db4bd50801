#!/bin/bash
# Rule: data written through the mount reads back intact under a real I/O
# load: fio random writes then reads with verify=crc32c through a mount
# whose guest cache (256K) is far smaller than the file (16M), so the
# verify reads come from the guest cache, cleancache and the backing file.
source "$(dirname "$0")/common.bash"
tmemfs_begin
command -v fio >/dev/null || tmemfs_fail "fio not installed (tools/install-deps.sh installs it)"
W=$TMEMFS_WORK
mkdir -p "$W/src"
tmemfs_mount "$W/src" "$W/m" -o cache_size=256K
for rw in randwrite write; do
    fio --name=verify-$rw --directory="$W/m" --filename=fio.dat --size=16M --bs=4k \
        --rw=$rw --ioengine=psync --verify=crc32c --verify_fatal=1 --do_verify=1 --verify_state_save=0 \
        --numjobs=1 --output="$W/fio-$rw.out" || { cat "$W/fio-$rw.out" >&2; tmemfs_fail "fio $rw verify failed"; }
    grep -q "err= 0" "$W/fio-$rw.out" || { cat "$W/fio-$rw.out" >&2; tmemfs_fail "fio $rw reported an error"; }
done
# Re-verify after pushing the guest cache into cleancache: the verify reads
# then come from cleancache.
echo 1 >"$W/m/.tmemfs/drop_caches"
before=$(tmemfs_stat "$W/m" succ_gets)
fio --name=verify-write --directory="$W/m" --filename=fio.dat --size=16M --bs=4k --rw=write \
    --ioengine=psync --verify=crc32c --verify_fatal=1 --verify_only=1 --verify_state_save=0 \
    --output="$W/fio-vo.out" || { cat "$W/fio-vo.out" >&2; tmemfs_fail "fio verify_only failed"; }
after=$(tmemfs_stat "$W/m" succ_gets)
[ "$after" -gt "$before" ] || tmemfs_fail "verify_only pass never hit cleancache"
cmp "$W/src/fio.dat" "$W/m/fio.dat" || tmemfs_fail "backing file differs from the mount"
tmemfs_umount "$W/m"
tmemfs_pass "fio verify=crc32c (randwrite, write, verify_only after drop_caches) through the mount"

#!/bin/bash
# Rule (issue #16, daemon death): tmemfs killed with SIGKILL while a
# writer writes a known pattern through the mount, one block at a time
# with fsync after each: the backing file holds every block whose
# write+fsync returned, bit for bit (what the kernel acknowledged through
# the mount is on the backing file: the daemon buffers nothing; cleancache
# dies with the process and nothing in it mattered); what lies beyond the
# last acknowledged block, if anything, is a prefix of the next block's
# pattern (a write in flight); the dead mount is unmounted with
# fusermount3 -u (or -u -z); a new tmemfs on the same mountpoint works and
# reads return the backing bytes.
source "$(dirname "$0")/common.bash"
tmemfs_begin
W=$TMEMFS_WORK
BS=16384
N=4000
mkdir -p "$W/src"
head -c $((64 * BS)) /dev/urandom >"$W/pattern64"
# block i is slice (i % 64) of the pattern, then its number (so blocks differ)
make_block() { dd if="$W/pattern64" bs=$BS skip=$(($1 % 64)) count=1 status=none | head -c $((BS - 16)); printf '%016d' "$1"; }
tmemfs_mount "$W/src" "$W/m" -o cache_size=256K
DAEMON=${TMEMFS_PIDS[-1]}
: >"$W/acked"
(
    for ((i = 0; i < N; i++)); do
        make_block $i | dd of="$W/m/f" bs=$BS seek=$i count=1 iflag=fullblock \
            conv=notrunc,fsync status=none 2>/dev/null || exit 0
        echo $i >>"$W/acked"
    done
) &
WRITER=$!
for ((t = 0; t < 400; t++)); do
    [ "$(wc -l <"$W/acked")" -ge 40 ] && break
    sleep 0.05
done
[ "$(wc -l <"$W/acked")" -ge 40 ] || tmemfs_fail "the writer did not get going"
kill -KILL "$DAEMON"
wait "$WRITER"
{ wait "$DAEMON"; } 2>/dev/null
ACKED=$(wc -l <"$W/acked")
[ "$ACKED" -lt "$N" ] || tmemfs_fail "the writer finished before the kill: raise N"
fusermount3 -u "$W/m" 2>/dev/null || fusermount3 -u -z "$W/m" || tmemfs_fail "cannot unmount the dead mount"
mountpoint -q "$W/m" && tmemfs_fail "the dead mount is still mounted"
tmemfs_pass "daemon killed after $ACKED acknowledged blocks; the dead mount unmounted"

# every acknowledged block, bit for bit
for ((i = 0; i < ACKED; i++)); do
    make_block $i >>"$W/expect"
done
SIZE=$(stat -c %s "$W/src/f")
[ "$SIZE" -ge $((ACKED * BS)) ] || tmemfs_fail "backing file $SIZE bytes < $ACKED acknowledged blocks"
head -c $((ACKED * BS)) "$W/src/f" | cmp -s - "$W/expect" ||
    tmemfs_fail "an acknowledged block differs in the backing file"
# beyond: at most the block in flight, a prefix of its pattern
EXTRA=$((SIZE - ACKED * BS))
[ "$EXTRA" -le "$BS" ] || tmemfs_fail "$EXTRA bytes beyond the last acknowledged block (more than one block)"
if [ "$EXTRA" -gt 0 ]; then
    tail -c "$EXTRA" "$W/src/f" | cmp -s - <(make_block "$ACKED" | head -c "$EXTRA") ||
        tmemfs_fail "the $EXTRA bytes beyond the acknowledged blocks are not the block in flight"
fi
tmemfs_pass "the backing file holds exactly the $ACKED acknowledged blocks (+$EXTRA bytes of the one in flight)"

# remount on the same mountpoint
tmemfs_mount "$W/src" "$W/m" -o cache_size=256K
cmp -s "$W/src/f" "$W/m/f" || tmemfs_fail "after the remount the mount differs from the backing file"
echo again >"$W/m/g" && [ "$(cat "$W/src/g")" = again ] || tmemfs_fail "write after the remount"
tmemfs_umount "$W/m"
tmemfs_pass "remount on the same mountpoint works and reads the backing bytes"

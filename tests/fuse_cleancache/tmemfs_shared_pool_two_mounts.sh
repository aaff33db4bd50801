#!/bin/bash
# Rule: two mounts of the same dataset in one tmemfs process share clean
# pages through a shared cleancache pool (-o shared_uuid), and a
# cleancache read never returns stale data across them.
#  1. Exact sharing: K pages read through A with a K/2-page guest cache
#     (A evicts pages 0..K/2-1 into the shared pool), then through B:
#     B's succ_gets = K/2 (exactly what A evicted), failed_gets = K/2,
#     backing_pages_read = K/2 (instead of K). Private pools (no
#     shared_uuid): B gets 0 hits and reads all K pages. Capacity written
#     through one mount changes the one store.
#  2. Coherence: B caches pages, A writes some of them, B is then pushed
#     to evict everything into the pool (drop_caches 1), so is A: both
#     mounts and the backing file show the new bytes (B's stale guest
#     copies were dropped by A's write, under the group lock).
#  3. A random write/append/read/truncate/rename/unlink mix alternating
#     between the two mounts, with capacity changes and drop_caches on
#     both, checked byte for byte against one model (tmemfs_mix two-mount
#     mode); multi-threaded CLOCK and single-threaded LRU.
#  4. Signals and lifetime: SIGTERM (foreground), SIGHUP with -s, SIGINT
#     to a daemonized two-mount process unmount both, exit 0 and print two
#     stats JSON lines naming their mountpoints (stats_json: an array of
#     two); fusermount3 -u of one mount ends only that mount.
#  5. Command line: an odd number of positionals or a bad second pair is a
#     one-line error with exit status 1.
source "$(dirname "$0")/common.bash"
tmemfs_begin
[ -x "$TMEMFS_MIX_BIN" ] || tmemfs_fail "helper $TMEMFS_MIX_BIN not built"
W=$TMEMFS_WORK
K=64
UUID=0123456789abcdef0123456789abcdef
mkdir -p "$W/src"
head -c $((K * 4096)) /dev/urandom >"$W/src/big"

# stop_daemon PID SIG [LOG]: send SIG, wait (5 s at most) for the exit
# status; on a failure the daemon's LOG is shown.
stop_daemon() {
    local pid=$1 sig=$2 log=${3:-} i rc
    kill "-$sig" "$pid" || tmemfs_fail "kill -$sig $pid failed"
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null && tmemfs_fail "daemon $pid still running 5 s after SIG$sig"
    wait "$pid"; rc=$?
    [ "$rc" -eq 0 ] || { [ -n "$log" ] && cat "$log" >&2; tmemfs_fail "daemon exited $rc after SIG$sig"; }
}

# check_json_lines LOG MNT...: one tmemfs-stats-json line per MNT, in
# order, each naming its mountpoint.
check_json_lines() {
    local log=$1 n=0 m
    shift
    tmemfs_expect "stats JSON lines in $log" "$(grep -c '^tmemfs-stats-json: ' "$log")" $#
    for m in "$@"; do
        n=$((n + 1))
        grep '^tmemfs-stats-json: ' "$log" | sed -n "${n}p" |
            grep -qF "{\"mountpoint\": \"$m\"," || tmemfs_fail "JSON line $n does not name $m"
    done
}

# ------------------------------------------------------------------ 1
tmemfs_mount_multi "$W/s1.log" -o shared_uuid=$UUID -o cache_size=$((K / 2 * 4096)) \
    -o stats_json="$W/s1.json" -- "$W/src" "$W/a1" "$W/src" "$W/b1"
PID=$TMEMFS_MULTI_PID
cmp "$W/src/big" "$W/a1/big" || tmemfs_fail "A content differs"
tmemfs_expect "A failed_gets" "$(tmemfs_stat "$W/a1" failed_gets)" $K
tmemfs_expect "A backing_pages_read" "$(tmemfs_stat "$W/a1" backing_pages_read)" $K
tmemfs_expect "A puts (its evictions into the shared pool)" "$(tmemfs_stat "$W/a1" puts)" $((K / 2))
tmemfs_expect "B before reading: nothing" "$(tmemfs_stat "$W/b1" guest_misses)" 0
cmp "$W/src/big" "$W/b1/big" || tmemfs_fail "B content differs"
tmemfs_expect "B succ_gets (= the K/2 pages A evicted)" "$(tmemfs_stat "$W/b1" succ_gets)" $((K / 2))
tmemfs_expect "B failed_gets" "$(tmemfs_stat "$W/b1" failed_gets)" $((K / 2))
tmemfs_expect "B backing_pages_read" "$(tmemfs_stat "$W/b1" backing_pages_read)" $((K / 2))
tmemfs_expect "B outside_changes" "$(tmemfs_stat "$W/b1" outside_changes)" 0
# One store: a capacity written through A is the capacity B sees.
echo 0 >"$W/a1/.tmemfs/capacity"
tmemfs_expect "B's capacity after A set it to 0" "$(cat "$W/b1/.tmemfs/capacity")" 0
tmemfs_expect "B's store pages after capacity 0" "$(tmemfs_stat "$W/b1" tmem_store_pages)" 0
echo unlimited >"$W/b1/.tmemfs/capacity"
tmemfs_expect "A's capacity after B set it" "$(cat "$W/a1/.tmemfs/capacity")" unlimited
# fusermount3 -u of A ends only A.
fusermount3 -u "$W/a1" || tmemfs_fail "fusermount3 -u a1 failed"
sleep 0.2
kill -0 "$PID" 2>/dev/null || tmemfs_fail "daemon exited when only A was unmounted"
mountpoint -q "$W/b1" || tmemfs_fail "B unmounted with A"
cmp "$W/src/big" "$W/b1/big" || tmemfs_fail "B content differs after A's unmount"
fusermount3 -u "$W/b1" || tmemfs_fail "fusermount3 -u b1 failed"
wait "$PID"; rc=$?
[ "$rc" -eq 0 ] || { cat "$W/s1.log" >&2; tmemfs_fail "daemon exited $rc after both unmounts"; }
check_json_lines "$W/s1.log" "$W/a1" "$W/b1"
python3 - "$W/s1.json" "$W/a1" "$W/b1" $K <<'EOF' || tmemfs_fail "stats_json array wrong: $(cat "$W/s1.json")"
import json, sys
d = json.load(open(sys.argv[1]))
k = int(sys.argv[4])
assert isinstance(d, list) and len(d) == 2, d
assert [o["mountpoint"] for o in d] == sys.argv[2:4], d
assert d[1]["succ_gets"] == k // 2 + k // 2, d[1]  # K/2, then K/2 on the re-read
EOF
tmemfs_pass "shared pool: B got exactly the $((K / 2)) pages A evicted, read $((K / 2)) backing pages instead of $K; one store; per-mount unmount and stats"

# Private pools: nothing shared.
tmemfs_mount_multi "$W/s2.log" -o cache_size=$((K / 2 * 4096)) -- "$W/src" "$W/a2" "$W/src" "$W/b2"
PID=$TMEMFS_MULTI_PID
cmp "$W/src/big" "$W/a2/big" || tmemfs_fail "A content differs (private)"
cmp "$W/src/big" "$W/b2/big" || tmemfs_fail "B content differs (private)"
tmemfs_expect "private: B succ_gets" "$(tmemfs_stat "$W/b2" succ_gets)" 0
tmemfs_expect "private: B backing_pages_read" "$(tmemfs_stat "$W/b2" backing_pages_read)" $K
tmemfs_expect "private: A puts" "$(tmemfs_stat "$W/a2" puts)" $((K / 2))
stop_daemon "$PID" TERM
mountpoint -q "$W/a2" && tmemfs_fail "SIGTERM left A mounted"
mountpoint -q "$W/b2" && tmemfs_fail "SIGTERM left B mounted"
check_json_lines "$W/s2.log" "$W/a2" "$W/b2"
tmemfs_pass "private pools: B got 0 cleancache hits and read all $K pages; SIGTERM unmounted both, two JSON lines"

# ------------------------------------------------------------------ 2
cp "$W/src/big" "$W/ref"
tmemfs_mount_multi "$W/s3.log" -o shared_uuid=$UUID -o cache_size=$((K / 2 * 4096)) \
    -- "$W/src" "$W/a3" "$W/src" "$W/b3"
PID=$TMEMFS_MULTI_PID
cmp "$W/ref" "$W/b3/big" || tmemfs_fail "B content differs before the write"
cmp "$W/ref" "$W/a3/big" || tmemfs_fail "A content differs before the write"
# B's guest cache now holds pages K/2..K-1; the pool pages 0..K/2-1.
head -c 4096 /dev/urandom >"$W/p1"
head -c 6000 /dev/urandom >"$W/p2"
for spec in "p1 5" "p2 $((K - 3))"; do
    set -- $spec
    dd if="$W/$1" of="$W/a3/big" bs=4096 seek="$2" conv=notrunc status=none ||
        tmemfs_fail "write through A failed"
    dd if="$W/$1" of="$W/ref" bs=4096 seek="$2" conv=notrunc status=none
done
[ "$(tmemfs_stat "$W/b3" guest_invalidates)" -ge 1 ] ||
    tmemfs_fail "A's write did not drop B's guest copy of page $((K - 3))"
echo 1 >"$W/b3/.tmemfs/drop_caches"   # B's (old) guest pages would go to the pool
echo 1 >"$W/a3/.tmemfs/drop_caches"
cmp "$W/ref" "$W/a3/big" || tmemfs_fail "A read stale data after its own write"
cmp "$W/ref" "$W/b3/big" || tmemfs_fail "B read stale data after A's write"
cmp "$W/ref" "$W/src/big" || tmemfs_fail "backing file differs"
sg=$(( $(tmemfs_stat "$W/a3" succ_gets) + $(tmemfs_stat "$W/b3" succ_gets) ))
[ "$sg" -gt $K ] || tmemfs_fail "the coherence run hardly used cleancache ($sg hits)"
tmemfs_expect "B outside_changes (a write through A is inside the group)" \
    "$(tmemfs_stat "$W/b3" outside_changes)" 0
tmemfs_pass "coherence: after A's writes and both mounts' evictions both read the new bytes ($sg cleancache hits)"
# An outside change to a file only A has read (its pages in the pool) is
# caught when B, which never saw the file, reads it first.
head -c $((K * 4096)) /dev/urandom >"$W/src/c"
cmp "$W/src/c" "$W/a3/c" || tmemfs_fail "A content of c differs"
[ "$(tmemfs_stat "$W/a3" tmem_pool_pages)" -ge $((K / 2)) ] ||
    tmemfs_fail "A's reading of c did not fill the shared pool"
head -c $((K * 4096)) /dev/urandom >"$W/c.new"
dd if="$W/c.new" of="$W/src/c" bs=4096 conv=notrunc status=none   # outside, same size
cmp "$W/c.new" "$W/b3/c" || tmemfs_fail "B read pages of c that A cached before an outside change"
cmp "$W/c.new" "$W/a3/c" || tmemfs_fail "A read stale pages of c after an outside change"
[ "$(tmemfs_stat "$W/b3" outside_changes)" -ge 1 ] ||
    tmemfs_fail "B did not count the outside change it caught through A's record"
stop_daemon "$PID" TERM
tmemfs_pass "outside change caught by a mount that never saw the file (through the other mount's record)"

# ------------------------------------------------------------------ 3
run_mix2() { # name seed ops opts...
    local name=$1 seed=$2 ops=$3 sa sb inv
    shift 3
    mkdir -p "$W/src-$name/dir"
    # Zero kernel timeouts: names and sizes changed through one mount are
    # seen at once through the other (this tests data, not the kernel's
    # dentry/attribute caches).
    tmemfs_mount_multi "$W/$name.log" -o cache_size=64K -o entry_timeout=0 -o attr_timeout=0 \
        -o negative_timeout=0 "$@" -- "$W/src-$name" "$W/ma-$name" "$W/src-$name" "$W/mb-$name"
    "$TMEMFS_MIX_BIN" "$W/ma-$name/dir" "$W/ma-$name/.tmemfs" "$seed" "$ops" \
        "$W/mb-$name/dir" "$W/mb-$name/.tmemfs" || {
        cat "$W/ma-$name/.tmemfs/stats" "$W/mb-$name/.tmemfs/stats" >&2
        tmemfs_fail "two-mount random mix $name (seed $seed) saw wrong data"; }
    sa=$(tmemfs_stat "$W/ma-$name" succ_gets); sb=$(tmemfs_stat "$W/mb-$name" succ_gets)
    inv=$(( $(tmemfs_stat "$W/ma-$name" invalidates) + $(tmemfs_stat "$W/mb-$name" invalidates) ))
    [ "$sa" -gt 0 ] && [ "$sb" -gt 0 ] || tmemfs_fail "$name: cleancache never hit on one mount ($sa, $sb)"
    [ "$inv" -gt 0 ] || tmemfs_fail "$name: no invalidation happened"
    for f in "$W/src-$name"/dir/*; do
        cmp "$f" "$W/ma-$name/dir/$(basename "$f")" || tmemfs_fail "$name: backing $f differs from A"
        cmp "$f" "$W/mb-$name/dir/$(basename "$f")" || tmemfs_fail "$name: backing $f differs from B"
    done
    stop_daemon "$TMEMFS_MULTI_PID" TERM "$W/$name.log"
    tmemfs_pass "$name: $ops ops over two mounts matched the model (succ_gets A=$sa B=$sb, invalidates=$inv)"
}
run_mix2 shared-clock-mt 11 4000 -o shared_uuid=$UUID
run_mix2 shared-lru-st 12 3000 -o shared_uuid=$UUID -s -o policy=lru -o compress=off

# ------------------------------------------------------------------ 4
# SIGHUP, single-threaded loops.
tmemfs_mount_multi "$W/s4.log" -s -o shared_uuid=$UUID -- "$W/src" "$W/a4" "$W/src" "$W/b4"
cmp "$W/src/big" "$W/a4/big" && cmp "$W/src/big" "$W/b4/big" || tmemfs_fail "content differs (-s)"
stop_daemon "$TMEMFS_MULTI_PID" HUP "$W/s4.log"
mountpoint -q "$W/a4" || mountpoint -q "$W/b4" && tmemfs_fail "SIGHUP left a mount behind"
check_json_lines "$W/s4.log" "$W/a4" "$W/b4"
# SIGINT to a daemonized (no -f) two-mount process.
mkdir -p "$W/a5" "$W/b5"
TMEMFS_MOUNTS+=("$W/a5" "$W/b5")
"$TMEMFS_BIN" -o shared_uuid=$UUID -o stats_json="$W/s5.json" "$W/src" "$W/a5" "$W/src" "$W/b5" ||
    tmemfs_fail "daemonized two-mount start failed"
mountpoint -q "$W/a5" && mountpoint -q "$W/b5" || tmemfs_fail "daemonized: not both mounted"
cmp "$W/src/big" "$W/b5/big" || tmemfs_fail "content differs (daemon)"
DPID=$(pgrep -f -- "stats_json=$W/s5.json") || tmemfs_fail "cannot find the daemon"
kill -INT "$DPID"
for i in $(seq 1 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$DPID" 2>/dev/null && tmemfs_fail "daemon still running after SIGINT"
mountpoint -q "$W/a5" || mountpoint -q "$W/b5" && tmemfs_fail "SIGINT left a mount behind"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [o["mountpoint"] for o in d] == sys.argv[2:], d' \
    "$W/s5.json" "$W/a5" "$W/b5" || tmemfs_fail "daemon stats_json wrong: $(cat "$W/s5.json")"
tmemfs_pass "SIGHUP (-s) and SIGINT (daemonized) unmount both mounts; stats per mount"

# ------------------------------------------------------------------ 5
mkdir -p "$W/e1" "$W/e2"
check_bad1() { # description, args...
    local what=$1 out rc lines
    shift
    out=$("$TMEMFS_BIN" "$@" 2>&1 >/dev/null); rc=$?
    lines=$(printf '%s\n' "$out" | grep -c .)
    [ "$rc" -eq 1 ] || tmemfs_fail "$what: exit status $rc, expected 1"
    [ "$lines" -eq 1 ] || tmemfs_fail "$what: $lines lines of error output: $out"
    mountpoint -q "$W/e1" || mountpoint -q "$W/e2" && tmemfs_fail "$what: something got mounted"
    tmemfs_pass "$what -> $out"
}
check_bad1 "three positionals" "$W/src" "$W/e1" "$W/src"
check_bad1 "five positionals" "$W/src" "$W/e1" "$W/src" "$W/e2" "$W/src"
check_bad1 "second SOURCE missing" "$W/src" "$W/e1" "$W/nosuch" "$W/e2"
check_bad1 "second MOUNTPOINT missing" "$W/src" "$W/e1" "$W/src" "$W/nosuch"
check_bad1 "same MOUNTPOINT twice" "$W/src" "$W/e1" "$W/src" "$W/e1"
mkdir -p "$W/src/sub"
check_bad1 "MOUNTPOINT inside the other SOURCE" "$W/src" "$W/e1" "$W/e2" "$W/src/sub"
mkdir -p "$W/e1/sub"
check_bad1 "MOUNTPOINT inside the other MOUNTPOINT" -o nonempty "$W/src" "$W/e1" "$W/src" "$W/e1/sub"

#!/bin/bash
# remote_mount.sh - a mount guest (tmemfs) on a host with a remote tier
# (issue #17; docs/remote.md, "In the testbed"): its cleancache pool
# overflows to a private redis-server and is read back from there, and a
# file rewritten through the mount is never read back stale from it.
#
# The scenario: a 1 MiB store, a mount with a 256 KiB guest cache over a
# 4 MiB dataset (8 files of 512 KiB, random bytes), so pages the guest
# cache drops go to cleancache, which the store cannot hold: they go to
# the remote tier (puts it refuses, pages it evicts). The workload, in the
# mount, compares every byte it reads (cmp) with a copy outside the mount:
#  1. reads every file (pages go remote), then reads them all again (the
#     guest cache misses, cleancache misses locally: remote hits);
#  2. reads f0 and then the rest, so f0's pages are in cleancache, most of
#     them remotely; rewrites f0 in place through the mount (dd
#     conv=notrunc, 4 KiB writes: each invalidates its cleancache page,
#     which must remove the remote copy: flush_page) and f1 by a new copy
#     (O_TRUNC: the whole object is invalidated: flush_object);
#  3. reads the rest, then f0 and f1: each must be the new bytes, never
#     an old copy from the remote tier.
# Any difference is counted and fails the workload, so the guest and the
# run (RESULT not ok). Checked: RESULT ok, 0 mismatches, the guest's
# remote lines (hits > 0, pages held remotely: peak > 0) in summary.txt
# and report.json, the mount's remote columns in samples.csv, its login
# file, no key left on the server once it stopped (its pool was destroyed
# with its client), and at --check a mount asking for persistent remote
# pages refused with FILE:LINE.
# Mutations checked (docs/remote.md, tests table): the remote flush on a
# page's invalidation skipped (remote_op_flush_page) -> the stale-read
# check fails; the attach skipped in guest_mount.c -> no remote hits.
# Needs root and /dev/fuse (a real mount; else SKIPPED, exit 77),
# redis-server and jq (tools/install-deps.sh).
. "$(dirname "$0")/../testbed/testbed-lib.bash"
. "$TB_REPO/tools/testbed/redis-private.bash"
tb_begin
command -v jq >/dev/null || tb_fail "jq not installed"
W=$TB_WORK
trap 'redis_private_stop; tb_cleanup' EXIT
redis_private_start "$W/redis" || tb_fail "redis-server did not start"

mkdir -p "$W/data" "$W/orig" "$W/new"
for i in 0 1 2 3 4 5 6 7; do
    head -c 524288 /dev/urandom >"$W/orig/f$i"
done
cp "$W/orig/"f* "$W/data/"
head -c 524288 /dev/urandom >"$W/new/f0"
head -c 524288 /dev/urandom >"$W/new/f1"
cmp -s "$W/orig/f0" "$W/new/f0" && tb_fail "new f0 equals the old one"

# The workload (its working directory: the mount). check NAME WANT: read
# NAME through the mount, every byte compared with WANT.
cat >"$W/reread.sh" <<SH
set -u
bad=0
check() { cmp "\$1" "\$2" || { echo "MISMATCH: \$1 differs from \$2"; bad=\$((bad + 1)); }; }
for pass in 1 2; do
    for i in 0 1 2 3 4 5 6 7; do check f\$i $W/orig/f\$i; done
done
check f0 $W/orig/f0
for i in 1 2 3 4 5 6 7; do check f\$i $W/orig/f\$i; done
dd if=$W/new/f0 of=f0 bs=4k conv=notrunc status=none || { echo "dd failed"; exit 2; }
cp $W/new/f1 f1 || { echo "cp failed"; exit 2; }
for i in 2 3 4 5 6 7; do check f\$i $W/orig/f\$i; done
check f0 $W/new/f0
check f1 $W/new/f1
echo "mismatches \$bad"
[ \$bad = 0 ]
SH

cat >"$W/mount.ini" <<INI
[run]
duration = 60s
sample_interval = 250ms

[remote store]
server = $REDIS_SOCK
password_file = $REDIS_PASSWORD_FILE
prefix = rmount
capacity = 64M
ephemeral_ttl = 10m

[host]
capacity = 1M
remote = store

[guest files]
kind = mount
source = $W/data
options = cache_size=256K
workload = sh $W/reread.sh
remote_kinds = ephemeral
remote_cap = 32M
INI

tb_run "$W/mount.ini" "$W/out"
S=$W/out/summary.txt J=$W/out/report.json C=$W/out/samples.csv
[ "$TB_RC" = 0 ] || { cat "$W/out.err" "$S" "$W/out/files.log" >&2; tb_fail "tmem-testbed exited $TB_RC"; }
[ -z "$(tb_mounts)" ] || tb_fail "still mounted after the run: $(tb_mounts)"
grep -q '^RESULT: ok$' "$S" || { cat "$S" >&2; tb_fail "summary does not say RESULT: ok"; }
grep -q '^mismatches 0$' "$W/out/files.log" || { cat "$W/out/files.log" >&2; tb_fail "the workload saw mismatches"; }
tb_pass "every byte read through the mount matched (also after f0 and f1 were rewritten)"

grep -q '^  remote: .* pages held remotely: peak [1-9]' "$S" || { cat "$S" >&2; tb_fail "no guest remote line with pages held remotely"; }
grep -q '^  remote time: .* in its cleancache calls' "$S" || { cat "$S" >&2; tb_fail "no remote time line for the mount"; }
g='.guests[] | select(.name == "files") | .remote'
hits=$(jq "$g.hits" "$J") peak=$(jq "$g.peak_held_pages" "$J")
# pages that went remote: puts the store refused and the tier took, and
# pages the store evicted, written by the tier's writer thread
acc=$(jq "$g | .puts_accepted + .latency.writeback.count" "$J")
kinds=$(jq -r "$g.kinds" "$J") flushes=$(jq "$g.latency.flush.count" "$J")
[ "$kinds" = ephemeral ] || tb_fail "guest remote kinds '$kinds'"
[ "$acc" -gt 0 ] || tb_fail "no page went remote (puts accepted + written back: $acc)"
[ "$peak" -gt 0 ] || tb_fail "no pages held remotely (peak $peak)"
[ "$hits" -gt 0 ] || tb_fail "no remote hits"
[ "$flushes" -gt 0 ] || tb_fail "no remote flush: the rewrites removed no remote copy"
head -1 "$C" | grep -q 'guest\.files\.remote_hits' || tb_fail "no guest remote columns in samples.csv"
[ -s "$W/out/remote-files.login" ] || tb_fail "no login file for the mount guest"
tb_pass "mount guest: $acc pages went remote (peak $peak held), $hits remote hits, $flushes remote flushes"

# Its pool went with its client: no key of it is left.
keys=$(redis_private_cli DBSIZE) # the server is this test's alone
[ "$keys" = 0 ] || tb_fail "$keys keys of the mount left on the server"
tb_pass "no key left on the server after the guest stopped"

# A mount has only an ephemeral pool: persistent remote kinds are refused.
sed 's/^remote_kinds = ephemeral$/remote_kinds = persistent/' "$W/mount.ini" >"$W/bad.ini"
"$TESTBED_BIN" --check "$W/bad.ini" >"$W/bad.out" 2>&1
rc=$?
[ $rc = 2 ] || tb_fail "persistent kinds for a mount: exit $rc (expected 2): $(cat "$W/bad.out")"
grep -q "^$W/bad.ini:[0-9]*: guest .*files.*: remote_kinds = persistent: a mount guest has only an ephemeral" "$W/bad.out" ||
    tb_fail "persistent kinds for a mount: $(cat "$W/bad.out")"
tb_pass "persistent remote kinds for a mount refused at --check: $(cat "$W/bad.out")"

#!/bin/bash
# testbed_mount_and_swap.sh - issue #12's acceptance run: a mount guest and
# a swap guest on one store whose capacity follows a sine wave (48 MiB down
# to 4 MiB and back, period 8 s) for 16 s. Rules checked:
#  - data integrity through the mount: fio writes an 8 MiB file with crc32c
#    checksums and reads it back verifying every block (verify_fatal), then
#    verifies it twice more (verify_only: those reads come from cleancache,
#    the guest cache being 1 MiB), over and over (repeat); a mismatch fails
#    fio, which fails the guest and the run (exit 1); at least one whole
#    round must have completed, and cleancache must have served reads;
#  - the swap guest loses no page: 0 mismatches, 0 failed loads, 0 leaked
#    slots or tmem pages after swapoff (the runner fails the run otherwise);
#  - persistent pages are returned on shrink: the wave's low (4 MiB) is far
#    below what frontswap holds, so the store must ask for pages back
#    (shrink_pages > 0) and get them (the capacity check below);
#  - capacity honoured: in every sample, used bytes (data + metadata) <=
#    the capacity (+64 KiB, below) (a sample is taken between two capacity
#    changes, never during one's reclaim step: above the capacity only
#    within a step);
#  - nothing stays mounted.
. "$(dirname "$0")/testbed-lib.bash"
tb_begin
command -v fio >/dev/null || tb_fail "fio not installed (tools/install-deps.sh installs it)"
W=$TB_WORK
mkdir -p "$W/data"
# One round, run in the mount (its working directory): write and verify,
# then verify twice more.
cat >"$W/fio-round.sh" <<'SH'
F='--name=verify --filename=fio.dat --size=8M --bs=4k --rw=write --ioengine=psync --verify=crc32c --verify_fatal=1 --verify_state_save=0'
fio $F --do_verify=1 && fio $F --verify_only=1 && fio $F --verify_only=1
SH
cat >"$W/two.ini" <<INI
[run]
duration = 16s
sample_interval = 500ms

[host]
capacity = 48M

[pressure]
model = sine
low = 4M
high = 48M
period = 8s
phase = 0.25
interval = 250ms

[guest files]
kind = mount
source = $W/data
options = cache_size=1M
workload = sh $W/fio-round.sh
repeat = yes

[guest anon]
kind = swap
ram = 8M
memory = 32M
workload = zipf
writes = 30
INI
start=$(date +%s)
tb_run "$W/two.ini" "$W/out"
end=$(date +%s)
[ "$TB_RC" = 0 ] || { cat "$W/out.out" "$W/out.err" "$W/out/files.log" >&2; tb_fail "tmem-testbed exited $TB_RC"; }
[ -z "$(tb_mounts)" ] || tb_fail "still mounted after the run: $(tb_mounts)"
S=$W/out/summary.txt
C=$W/out/samples.csv
grep -q '^RESULT: ok$' "$S" || { cat "$S" >&2; tb_fail "summary does not say RESULT: ok"; }

# capacity honoured in every sample: samples are taken between capacity
# changes (never during one's reclaim step), so used <= capacity, within
# 64 KiB: tmem_stats reads the gauges one by one while guests' puts and
# gets run (seen once in 44 runs under ThreadSanitizer; a store that skips
# reclaim is 400 KiB and more over).
cap=$(tb_col "$C" host.host.capacity_bytes)
used=$(tb_col "$C" host.host.used_bytes)
awk -F, -v c="$cap" -v u="$used" 'NR > 1 {
        if ($u + 0 > $c + 65536) { printf "t=%s s: used %d > capacity %d\n", $1, $u, $c; bad = 1 }
        n++
    } END { if (n < 20) { print "only " n " samples"; bad = 1 } exit bad }' "$C" >&2 ||
    tb_fail "the store used more than its capacity"

# fio: at least one complete run, every one with err=0, verify reads hit.
runs=$(sed -n 's/.*`sh .*fio-round.sh` ran \([0-9]*\) time.*/\1/p' "$S")
[ -n "$runs" ] && [ "$runs" -ge 2 ] || { cat "$S" >&2; tb_fail "fio did not complete a run (runs: '$runs')"; }
# (every round that ended by itself ended well, or the run would have
# failed; the one the stop cut short may report an error, not a bad block)
grep -q 'err= 0' "$W/out/files.log" || tb_fail "fio's log has no err= 0"
if grep -E 'verify failed|verify: bad|bad magic' "$W/out/files.log" >&2; then
    tb_fail "fio found a bad block"
fi
hits=$(tb_last "$C" guest.files.succ_gets)
[ "$hits" -gt 0 ] || tb_fail "no cleancache hit in fio's verify reads"

# the swap guest: verified pages, nothing lost, pages given back on shrink.
grep -Eq '^  verified: [0-9]+ accesses, [1-9][0-9]* pages checked, 0 mismatches, 0 failed loads, 0 leaked slots, 0 leaked tmem pages$' "$S" ||
    { cat "$S" >&2; tb_fail "swap guest: pages not verified or lost"; }
shrunk=$(tb_last "$C" guest.anon.shrink_pages)
[ "$shrunk" -gt 0 ] || tb_fail "the store never asked the swap guest for its pages back"

min=$(awk -F, -v c="$cap" 'NR > 1 && (m == "" || $c + 0 < m) { m = $c + 0 } END { print m }' "$C")
[ "$min" -le $((5 * 1024 * 1024)) ] || tb_fail "the wave never went low (min capacity $min)"
for f in capacity.png capacity.svg hitrate.png hitrate.svg report.json; do
    [ -s "$W/out/$f" ] || tb_fail "$f missing"
done
tb_pass "mount + swap guests on a sine wave for $((end - start)) s: fio verify ok ($runs runs, $hits cleancache hits), 0 swap mismatches, $shrunk pages given back on shrink, capacity honoured"

#!/bin/bash
# testbed_caps.sh - a cap is never exceeded (Xen tmem recorded a cap but
# never enforced it; here it holds): on a 64 MiB store with room to spare,
# a mount guest capped at 4 MiB keeps re-reading 16 MiB of random bytes
# through a 1 MiB guest cache, and a swap guest capped at 6 MiB swaps a
# 24 MiB working set through 4 MiB of RAM. Checked in every sample: what
# the cap counts of each guest's client (tmem.h: each page's 32-byte
# record and its data, i.e. client data_bytes + 32 x client pages) <= its
# cap; each got close to it (>= 3/4 of the cap at some sample: the cap,
# not the workload, held it back); the swap guest's cap refused stores,
# and it lost no page (the run's exit status: refused stores go to the
# swap file). (held_bytes, data + all metadata, also counts the pools'
# index nodes, which the cap does not: a few KiB above the cap.)
. "$(dirname "$0")/testbed-lib.bash"
tb_begin
W=$TB_WORK
mkdir -p "$W/data"
for i in 1 2 3 4; do head -c 4M /dev/urandom >"$W/data/f$i"; done
cat >"$W/caps.ini" <<INI
[run]
duration = 10s
sample_interval = 250ms

[host]
capacity = 64M

[guest files]
kind = mount
cap = 4M
source = $W/data
options = cache_size=1M
workload = cat f1 f2 f3 f4 >/dev/null
repeat = yes

[guest anon]
kind = swap
cap = 6M
ram = 4M
memory = 24M
workload = uniform
writes = 30
INI
tb_run "$W/caps.ini" "$W/out"
[ "$TB_RC" = 0 ] || { cat "$W/out.out" "$W/out.err" >&2; tb_fail "tmem-testbed exited $TB_RC"; }
[ -z "$(tb_mounts)" ] || tb_fail "still mounted after the run: $(tb_mounts)"
C=$W/out/samples.csv
for spec in files:4 anon:6; do
    g=${spec%%:*} capb=$((${spec#*:} * 1024 * 1024))
    data=$(tb_col "$C" "guest.$g.client_data_bytes")
    pages=$(tb_col "$C" "guest.$g.client_pages")
    peak=$(awk -F, -v d="$data" -v p="$pages" -v cap="$capb" -v g="$g" 'NR > 1 {
            b = $d + 32 * $p
            if (b > cap) { printf "t=%s s: %s holds %d > its cap %d\n", $1, g, b, cap > "/dev/stderr"; bad = 1 }
            if (b > peak) peak = b
        } END { print peak; exit bad }' "$C") || tb_fail "guest $g went over its cap"
    [ "$peak" -ge $((capb * 3 / 4)) ] || tb_fail "guest $g never pressed on its cap (peak $peak of $capb)"
    echo "guest $g: peak $peak bytes, cap $capb"
done
refused=$(tb_last "$C" guest.anon.failed_stores)
[ "$refused" -gt 0 ] || tb_fail "the swap guest's cap never refused a store"
tb_pass "caps hold in every sample (mount guest 4 MiB, swap guest 6 MiB; $refused frontswap stores refused)"

#!/bin/bash
# Rule: cleancache counters are exactly what the model predicts.
#  - A file of K pages read twice through a guest cache of K/2 pages:
#    pass 1: K failed_gets, K backing pages, K/2 puts (the evictions);
#    pass 2: every page misses the guest cache and hits cleancache
#    (succ_gets = K, no backing read), puts = K/2 + K.
#  - capacity=0: pass 2 reads all K pages from the backing file again,
#    exactly like cleancache=off (which counts no cleancache op at all).
#  - A file smaller than the guest cache: the second read is all guest hits.
#  - drop_caches=1 pushes the guest pages to cleancache: the next read is
#    all cleancache hits.
#  - Writes count backing_bytes_written (bytes) and backing_pages_written
#    (pages each write touches): 10000 bytes at offset 100 touch 3 pages.
#  - A value the size grammar refuses, written to .tmemfs/capacity, is
#    EINVAL and leaves the capacity as it was.
#  - The device model: K pages read 4 KiB at a time, twice, with
#    cleancache off: 2 random requests (each pass starts at 0) and 2K - 2
#    sequential ones, priced exactly on every profile; with cleancache on
#    the second pass reads nothing, so it costs no device time;
#    backing_delay=USEC really waits that long per backing read.
#  - backing_direct: reads through the mount leave none of the backing
#    file in the host's page cache (fincore), and return the right bytes;
#    without it they do leave it there.
#  - Listing a directory does not cost cached pages: the names readdirplus
#    looks up get no object-table record (whose eviction would flush a
#    cached file), so after ls -l of more files than the table holds a
#    file read before is still read back from cleancache.
#  - zswap-style detail: a file of zeros read through a guest cache of half
#    its size leaves K/2 same-filled pages in the pool (no data held for
#    them), and random data leaves raw pages (lz4 cannot shrink them).
source "$(dirname "$0")/common.bash"
tmemfs_begin
W=$TMEMFS_WORK
K=64
mkdir -p "$W/src"
head -c $((K * 4096)) /dev/urandom >"$W/src/big"
head -c $((8 * 4096 - 100)) /dev/urandom >"$W/src/small"   # 8 pages, last partial

two_reads() { # MNT: read big twice, compare content
    cmp "$W/src/big" "$1/big" || tmemfs_fail "content differs (pass 1)"
    P1_FAILED=$(tmemfs_stat "$1" failed_gets); P1_BACK=$(tmemfs_stat "$1" backing_pages_read)
    P1_PUTS=$(tmemfs_stat "$1" puts)
    cmp "$W/src/big" "$1/big" || tmemfs_fail "content differs (pass 2)"
    P2_SUCC=$(tmemfs_stat "$1" succ_gets); P2_BACK=$(tmemfs_stat "$1" backing_pages_read)
    P2_PUTS=$(tmemfs_stat "$1" puts); P2_HITS=$(tmemfs_stat "$1" guest_hits)
}

# 1. cleancache on, room in the store.
tmemfs_mount "$W/src" "$W/m1" -o cache_size=$((K / 2 * 4096)) -o stats_json="$W/m1.json"
two_reads "$W/m1"
tmemfs_expect "pass 1 failed_gets" "$P1_FAILED" $K
tmemfs_expect "pass 1 backing_pages_read" "$P1_BACK" $K
tmemfs_expect "pass 1 puts" "$P1_PUTS" $((K / 2))
tmemfs_expect "pass 2 succ_gets" "$P2_SUCC" $K
tmemfs_expect "pass 2 backing_pages_read (no new backing read)" "$P2_BACK" $K
tmemfs_expect "pass 2 puts" "$P2_PUTS" $((K / 2 + K))
tmemfs_expect "guest hits" "$P2_HITS" 0
# drop_caches=1: the K/2 guest pages go to cleancache; reading them back hits.
echo 1 >"$W/m1/.tmemfs/drop_caches"
tmemfs_expect "guest pages after drop_caches" "$(tmemfs_stat "$W/m1" guest_pages)" 0
head -c $((K / 2 * 4096)) "$W/m1/big" | cmp - <(head -c $((K / 2 * 4096)) "$W/src/big") ||
    tmemfs_fail "content differs after drop_caches"
tmemfs_expect "succ_gets after drop_caches + read of K/2 pages" "$(tmemfs_stat "$W/m1" succ_gets)" $((K + K / 2))
# small file: second read all guest hits.
cmp "$W/src/small" "$W/m1/small" && cmp "$W/src/small" "$W/m1/small" || tmemfs_fail "small differs"
tmemfs_expect "guest hits on re-read of an 8-page file" "$(tmemfs_stat "$W/m1" guest_hits)" 8
tmemfs_umount "$W/m1"
grep -q "\"succ_gets\": $((K + K / 2))," "$W/m1.json" || tmemfs_fail "stats_json at unmount wrong: $(cat "$W/m1.json")"
tmemfs_pass "K=$K pages through a K/2 guest cache: cleancache hits = K on the re-read; JSON at unmount"

# 2. capacity 0: behaves as cleancache off.
tmemfs_mount "$W/src" "$W/m2" -o cache_size=$((K / 2 * 4096)) -o capacity=0
two_reads "$W/m2"
tmemfs_expect "capacity=0 pass 2 succ_gets" "$P2_SUCC" 0
tmemfs_expect "capacity=0 pass 2 backing_pages_read" "$P2_BACK" $((2 * K))
tmemfs_expect "capacity=0 failed_puts" "$(tmemfs_stat "$W/m2" failed_puts)" "$P2_PUTS"
tmemfs_umount "$W/m2"
tmemfs_mount "$W/src" "$W/m3" -o cache_size=$((K / 2 * 4096)) -o cleancache=off
two_reads "$W/m3"
tmemfs_expect "cleancache=off pass 2 backing_pages_read" "$P2_BACK" $((2 * K))
tmemfs_expect "cleancache=off puts" "$P2_PUTS" 0
tmemfs_expect "cleancache=off succ_gets" "$P2_SUCC" 0
tmemfs_umount "$W/m3"
tmemfs_pass "capacity=0 reads the backing file exactly as often as cleancache=off (2K pages)"

# 3. Capacity back from 0 while mounted: cleancache works again.
tmemfs_mount "$W/src" "$W/m4" -o cache_size=$((K / 2 * 4096)) -o capacity=0 -o policy=lru
echo unlimited >"$W/m4/.tmemfs/capacity"
tmemfs_expect "capacity file" "$(cat "$W/m4/.tmemfs/capacity")" unlimited
two_reads "$W/m4"
tmemfs_expect "lru, capacity restored: pass 2 succ_gets" "$P2_SUCC" $K
tmemfs_umount "$W/m4"
tmemfs_pass "capacity raised from 0 at run time (control file), LRU policy: K hits"

# 4. Write counters, and bad capacity values.
tmemfs_mount "$W/src" "$W/m5" -o cache_size=$((K / 2 * 4096)) -o capacity=64M
head -c 10000 /dev/urandom >"$W/w1"
dd if="$W/w1" of="$W/m5/big" bs=10000 count=1 seek=100 oflag=seek_bytes conv=notrunc status=none
tmemfs_expect "backing_bytes_written after 10000 bytes at 100" "$(tmemfs_stat "$W/m5" backing_bytes_written)" 10000
tmemfs_expect "backing_pages_written after 10000 bytes at 100 (pages 0..2)" \
    "$(tmemfs_stat "$W/m5" backing_pages_written)" 3
dd if="$W/w1" of="$W/m5/big" bs=4096 count=1 seek=2 conv=notrunc status=none
tmemfs_expect "backing_bytes_written after one more aligned page" "$(tmemfs_stat "$W/m5" backing_bytes_written)" 14096
tmemfs_expect "backing_pages_written after one more aligned page" "$(tmemfs_stat "$W/m5" backing_pages_written)" 4
cmp "$W/src/big" "$W/m5/big" || tmemfs_fail "content differs after writes"
for bad in garbage -5 12Q 64MiBx max inf 1.5M ""; do
    if echo "$bad" 2>/dev/null >"$W/m5/.tmemfs/capacity"; then
        tmemfs_fail "capacity '$bad' was accepted"
    fi
    tmemfs_expect "capacity after writing '$bad'" "$(cat "$W/m5/.tmemfs/capacity")" $((64 << 20))
done
echo 32MiB >"$W/m5/.tmemfs/capacity" || tmemfs_fail "capacity 32MiB refused"
tmemfs_expect "capacity after 32MiB" "$(cat "$W/m5/.tmemfs/capacity")" $((32 << 20))
tmemfs_umount "$W/m5"
tmemfs_pass "write counters exact; bad capacity values refused, capacity unchanged"

# 5. The device model.
dd_pages() { dd if="$1" of=/dev/null bs=4096 status=none || tmemfs_fail "dd $1"; }
tmemfs_mount "$W/src" "$W/m6" -o cache_size=$((K / 2 * 4096)) -o cleancache=off -o 'device=custom:1000\,1'
dd_pages "$W/m6/big"; dd_pages "$W/m6/big"
tmemfs_expect "random requests, cleancache off" "$(tmemfs_stat "$W/m6" device_random_requests)" 2
tmemfs_expect "sequential requests, cleancache off" "$(tmemfs_stat "$W/m6" device_sequential_requests)" $((2 * K - 2))
bytes=$((2 * K * 4096))
tmemfs_expect "device time on custom:1000,1 (us)" "$(tmemfs_stat "$W/m6" device_time_us)" $((2 * K * 1000 + bytes))
tmemfs_expect "device time on nvme (us)" "$(tmemfs_stat "$W/m6" device_time_us_nvme)" \
    $(((2 * K * 20000 + bytes * 1000 / 3200) / 1000))
tmemfs_expect "device time on hdd (us)" "$(tmemfs_stat "$W/m6" device_time_us_hdd)" \
    $(((2 * 8500000 + (2 * K - 2) * 100000 + bytes * 1000 / 160) / 1000))
off_hdd=$(tmemfs_stat "$W/m6" device_time_us_hdd)
tmemfs_umount "$W/m6"
tmemfs_mount "$W/src" "$W/m7" -o cache_size=$((K / 2 * 4096))
dd_pages "$W/m7/big"; dd_pages "$W/m7/big"
tmemfs_expect "requests with cleancache on (the second pass hits)" \
    "$(($(tmemfs_stat "$W/m7" device_random_requests) + $(tmemfs_stat "$W/m7" device_sequential_requests)))" $K
on_hdd=$(tmemfs_stat "$W/m7" device_time_us_hdd)
[ $((on_hdd * 2)) -le $((off_hdd + 1)) ] || tmemfs_fail "hdd time with cleancache $on_hdd us, without $off_hdd us"
tmemfs_umount "$W/m7"
tmemfs_mount "$W/src" "$W/m8" -o cache_size=$((K / 2 * 4096)) -o cleancache=off -o backing_delay=20000
start=$(date +%s%N); head -c $((10 * 4096)) "$W/m8/big" | cmp - <(head -c $((10 * 4096)) "$W/src/big") || tmemfs_fail "content with backing_delay"
waited=$((($(date +%s%N) - start) / 1000000))
reads=$(($(tmemfs_stat "$W/m8" device_random_requests) + $(tmemfs_stat "$W/m8" device_sequential_requests)))
[ "$waited" -ge $((reads * 20)) ] || tmemfs_fail "backing_delay=20000: $reads reads took $waited ms"
tmemfs_umount "$W/m8"
tmemfs_pass "device model: requests and prices exact on every profile; cleancache halves the time; backing_delay waits ($reads reads, $waited ms)"

# 6. zswap-style detail of the pool.
head -c $((K * 4096)) /dev/zero >"$W/src/zeros"
tmemfs_mount "$W/src" "$W/m9" -o cache_size=$((K / 2 * 4096))
cat "$W/m9/zeros" >/dev/null
tmemfs_expect "same-filled pool pages after reading zeros" "$(tmemfs_stat "$W/m9" tmem_pool_pages_same_filled)" $((K / 2))
tmemfs_expect "pool data bytes for same-filled pages" "$(tmemfs_stat "$W/m9" tmem_pool_data_bytes)" 0
cat "$W/m9/big" >/dev/null
tmemfs_expect "raw pool pages after random data" "$(tmemfs_stat "$W/m9" tmem_pool_pages_raw)" $((K / 2))
tmemfs_expect "pool pages by kind add up" \
    "$(($(tmemfs_stat "$W/m9" tmem_pool_pages_raw) + $(tmemfs_stat "$W/m9" tmem_pool_pages_compressed) + \
       $(tmemfs_stat "$W/m9" tmem_pool_pages_same_filled) + $(tmemfs_stat "$W/m9" tmem_pool_pages_deduplicated)))" \
    "$(tmemfs_stat "$W/m9" tmem_pool_pages)"
tmemfs_umount "$W/m9"
tmemfs_pass "pool detail: same-filled pages hold no data, random pages stay raw, kinds add up"

# 7. backing_direct: the host's page cache never sees the backing reads.
command -v fincore >/dev/null || tmemfs_fail "fincore (util-linux) not installed"
uncache() { dd if=/dev/null of="$1" oflag=nocache conv=notrunc,fdatasync count=0 status=none; }
resident() { fincore -n -o PAGES "$1" | tr -d ' '; }
cp "$W/src/big" "$W/big.copy"
uncache "$W/src/big"
tmemfs_expect "resident pages before" "$(resident "$W/src/big")" 0
tmemfs_mount "$W/src" "$W/m10" -o cache_size=$((K / 2 * 4096)) -o backing_direct
cmp "$W/m10/big" "$W/big.copy" || tmemfs_fail "backing_direct read wrong bytes"
tmemfs_expect "resident backing pages after reading through backing_direct" "$(resident "$W/src/big")" 0
tmemfs_umount "$W/m10"
tmemfs_mount "$W/src" "$W/m11" -o cache_size=$((K / 2 * 4096))
cmp "$W/m11/big" "$W/big.copy" || tmemfs_fail "buffered read wrong bytes"
[ "$(resident "$W/src/big")" -gt 0 ] || tmemfs_fail "a buffered backing read left nothing in the host page cache (the check above proves nothing)"
tmemfs_umount "$W/m11"
tmemfs_pass "backing_direct: reads right, nothing of the backing file in the host page cache"

# 8. A listing does not evict object records (and so cached pages).
mkdir -p "$W/src/many"
for i in $(seq 1 20); do echo "$i" >"$W/src/many/f$i"; done
tmemfs_mount "$W/src" "$W/m12" -o cache_size=$((K / 2 * 4096)) -o max_objects=4
cat "$W/m12/big" >/dev/null
before=$(tmemfs_stat "$W/m12" succ_gets)
ls -l "$W/m12/many" >/dev/null
cmp "$W/m12/big" "$W/src/big" || tmemfs_fail "content after the listing"
tmemfs_expect "cleancache hits for big after listing 20 files (table of 4)" \
    "$(($(tmemfs_stat "$W/m12" succ_gets) - before))" $K
tmemfs_umount "$W/m12"
tmemfs_pass "a listing of more files than the object table holds keeps a cached file's pages"

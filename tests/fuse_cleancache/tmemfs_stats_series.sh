#!/bin/bash
# Rule: -o stats_interval=SEC with stats_csv=PATH / stats_jsonl=PATH write a
# time series of every counter: a CSV header of "time,mountpoint" and the
# names of .tmemfs/stats in their order, then one row per sample with the
# time growing; the JSON lines carry the same members; the last sample
# (taken at unmount) equals the final statistics (stats_json). The control
# directory lists its files. An unlimited capacity is written "unlimited".
source "$(dirname "$0")/common.bash"
tmemfs_begin
W=$TMEMFS_WORK
K=32
mkdir -p "$W/src"
head -c $((K * 4096)) /dev/urandom >"$W/src/f"
tmemfs_mount "$W/src" "$W/m" -o cache_size=$((K / 2 * 4096)) -o stats_interval=0.1 \
    -o stats_csv="$W/s.csv" -o stats_jsonl="$W/s.jsonl" -o stats_json="$W/final.json"
tmemfs_expect "control directory listing" "$(ls "$W/m/.tmemfs" | tr '\n' ' ')" "capacity drop_caches stats stats.json "
names=$(awk '{ print $1 }' "$W/m/.tmemfs/stats" | tr '\n' ',' | sed 's/,$//')
cat "$W/m/f" >/dev/null; sleep 0.35
cat "$W/m/f" >/dev/null; sleep 0.35
tmemfs_umount "$W/m"
tmemfs_expect "CSV header" "$(head -1 "$W/s.csv")" "time,mountpoint,$names"
rows=$(($(wc -l <"$W/s.csv") - 1))
[ "$rows" -ge 5 ] || tmemfs_fail "only $rows CSV rows in 0.7 s at 0.1 s"
tmemfs_expect "JSON lines = CSV rows" "$(wc -l <"$W/s.jsonl")" "$rows"
python3 - "$W/s.csv" "$W/s.jsonl" "$W/final.json" $K <<'PY' || tmemfs_fail "series content wrong"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
lines = [json.loads(l) for l in open(sys.argv[2])]
final = json.load(open(sys.argv[3]))
k = int(sys.argv[4])
times = [float(r["time"]) for r in rows]
assert times == sorted(times) and times[-1] > times[0], times
assert [float(l["time"]) for l in lines] == times
for r, l in zip(rows, lines):
    assert all(r[n] == str(l[n]) for n in l if n not in ("time", "mountpoint")), (r, l)
# an unlimited store capacity is the word, in CSV and JSON (not 2^64 - 1)
assert rows[-1]["tmem_capacity_bytes"] == lines[-1]["tmem_capacity_bytes"] == "unlimited", lines[-1]
last = lines[-1]
assert all(last[n] == final[n] for n in final), (last, final)
assert last["failed_gets"] == k and last["succ_gets"] == k, last
assert int(rows[0]["backing_pages_read"]) <= int(rows[-1]["backing_pages_read"]) == k
PY
tmemfs_pass "$rows samples in CSV and JSON lines, header in the order of .tmemfs/stats, last = final"

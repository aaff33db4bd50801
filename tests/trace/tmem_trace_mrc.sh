#!/bin/bash
# tmem_trace_mrc.sh - rule (docs/traces.md, "Miss-ratio curves"): the
# curve `tmem-trace mrc` prints is, at every size, the hit count of a
# textbook LRU cache of that many pages - an ordered dictionary simulated
# separately at each size by the python below, with truncate, unlink and
# afree freeing the removed pages' slots - on random traces of both kinds,
# text and binary; plus its one-line usage errors.
# The binary comes from TRACE_BIN_PATH (exported by src/trace/module.mk)
# or the first argument; run from the top of the tree.
set -u
BIN=${1:-${TRACE_BIN_PATH:?TRACE_BIN_PATH not set (run through make)}}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# textbook SEED KIND: write $tmp/t.txt (a random trace) and $tmp/want.csv
# (its LRU curve at sizes 1..40 computed by direct simulation).
textbook() {
    python3 - "$1" "$2" "$tmp/t.txt" "$tmp/want.csv" <<'PY'
import random, sys
from collections import OrderedDict
seed, kind, out, want = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
rnd = random.Random(seed)
recs = []
for _ in range(3000):
    x = rnd.random()
    if kind == "file":
        f = rnd.randrange(3)
        p = min(int(rnd.expovariate(0.08)), 60)
        if x < 0.01:
            recs.append(("truncate", f, rnd.randrange(30)))
        elif x < 0.012:
            recs.append(("unlink", f))
        else:
            recs.append(("read" if x < 0.8 else "write", f, p))
    else:
        v = min(int(rnd.expovariate(0.05)), 200)
        if x < 0.02:
            recs.append(("afree", v))
        else:
            recs.append(("aread" if x < 0.8 else "awrite", v))
with open(out, "w") as fo:
    fo.write("# tmem-trace 1 page_size=4096 kind=%s\n" % kind)
    for r in recs:
        fo.write(" ".join(str(w) for w in r) + "\n")
rows = ["pages,hits,misses,hit_ratio"]
for size in range(1, 41):
    lru, hits, acc = OrderedDict(), 0, 0
    for r in recs:
        op = r[0]
        if op in ("read", "write", "aread", "awrite"):
            key = (r[1], r[2]) if op in ("read", "write") else r[1]
            acc += 1
            if key in lru:
                hits += 1
                lru.move_to_end(key)
            else:
                if len(lru) == size:
                    lru.popitem(last=False)
                lru[key] = True
        elif op == "truncate":
            for k in [k for k in lru if k[0] == r[1] and k[1] >= r[2]]:
                del lru[k]
        elif op == "unlink":
            for k in [k for k in lru if k[0] == r[1]]:
                del lru[k]
        elif op == "afree":
            lru.pop(r[1], None)
    rows.append("%d,%d,%d,%.6f" % (size, hits, acc - hits, hits / acc))
open(want, "w").write("\n".join(rows) + "\n")
PY
}

for kind in file anon; do
    for seed in 1 2 3; do
        textbook "$seed" "$kind" || { fail "python textbook failed"; continue; }
        for form in text binary; do
            in=$tmp/t.txt
            if [ $form = binary ]; then
                "$BIN" convert "$tmp/t.txt" "$tmp/t.bin" 2>/dev/null || fail "convert failed"
                in=$tmp/t.bin
            fi
            if ! "$BIN" mrc --max-pages 40 "$in" >"$tmp/got.csv" 2>"$tmp/err"; then
                fail "mrc $kind seed $seed ($form): $(cat "$tmp/err")"
                continue
            fi
            cmp -s "$tmp/got.csv" "$tmp/want.csv" ||
                fail "mrc $kind seed $seed ($form) differs from the textbook LRU: $(diff "$tmp/got.csv" "$tmp/want.csv" | head -6)"
        done
    done
done

# --sizes picks rows of the same curve; --csv writes to a file
"$BIN" mrc --sizes 3,17,40 --csv "$tmp/some.csv" "$tmp/t.txt" 2>/dev/null || fail "mrc --sizes failed"
grep -E '^(pages|3|17|40),' "$tmp/want.csv" | cmp -s - "$tmp/some.csv" || fail "mrc --sizes rows differ from --max-pages rows"

# usage errors: one line, exit 2
for args in "mrc --sizes 0 $tmp/t.txt" "mrc --sizes 1,x $tmp/t.txt" "mrc --max-pages 0 $tmp/t.txt" \
            "mrc --sizes 4 --max-pages 4 $tmp/t.txt" "mrc" "mrc $tmp/nonexistent"; do
    # shellcheck disable=SC2086
    "$BIN" $args >/dev/null 2>"$tmp/err"
    rc=$?
    [ $rc -ne 0 ] || fail "'$args' succeeded"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "'$args': expected one error line, got: $(cat "$tmp/err")"
done

if [ $fails -ne 0 ]; then
    echo "tmem_trace_mrc: $fails failure(s)"
    exit 1
fi
echo "tmem_trace_mrc: ok (LRU curve equals a textbook LRU at sizes 1..40 on 12 traces)"

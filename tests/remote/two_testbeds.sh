#!/bin/bash
# two_testbeds.sh - two testbed processes share one Redis server as their
# remote tier (issue #17; docs/remote.md, "In the testbed").
#
# Starts its own redis-server on a Unix socket in a temporary folder
# (tools/testbed/redis-private.bash), runs scenarios/remote-a.ini and
# remote-b.ini at the same time against it (squeezed: 4 MiB stores, so
# pages go remote), and checks:
#  - both end with RESULT: ok and 0 mismatches (every page read back,
#    also those served by the remote tier, was the right one);
#  - each report shows pages held remotely (host peak > 0), remote hits,
#    and the latency charged: the swap guest's measured tmem time (its
#    simulated time's tmem part) is at least the remote round trips made
#    inside its calls, which are > 0;
#  - isolation at the store, while both run: with process A's guest login
#    (written to its output folder) B's keys answer NOPERM, A's own key
#    pattern does not, and KEYS is refused; once A's run ended its login
#    is gone (the tier deletes its users: WRONGPASS);
#  - no key without a TTL is left once both processes ended;
#  - a bad server line is refused at --check with FILE:LINE, exit 2.
# Needs redis-server and jq (tools/install-deps.sh); no root, no FUSE.
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
TESTBED_BIN=${TESTBED_BIN:-$REPO/build/tmem-testbed}
. "$REPO/tools/testbed/redis-private.bash"
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v jq >/dev/null || fail "jq not installed"
[ -x "$TESTBED_BIN" ] || fail "tmem-testbed binary $TESTBED_BIN not built"
W=$(mktemp -d /tmp/two-testbeds.XXXXXX)
trap 'redis_private_stop; rm -rf "$W"' EXIT
trap 'exit 1' INT TERM
redis_private_start "$W/redis" || fail "redis-server did not start"

for p in a b; do
    redis_private_scenario "$REPO/scenarios/remote-$p.ini" "$W/$p.ini" "$W/out-$p"
    sed -i 's/^duration = .*/duration = 6s/' "$W/$p.ini"
done
"$TESTBED_BIN" --quiet --no-control "$W/a.ini" >"$W/a.log" 2>&1 & A=$!
"$TESTBED_BIN" --quiet --no-control "$W/b.ini" >"$W/b.log" 2>&1 & B=$!
# Private at the store, while both run: A's guest login against B's keys.
for _ in $(seq 1 100); do
    [ -s "$W/out-a/remote-worker.login" ] && [ -s "$W/out-b/remote-worker.login" ] && break
    sleep 0.05
done
login() { awk -v k="$2" '$1 == k { print $2 }' "$W/out-$1/remote-worker.login"; }
ua=$(login a user) pa=$(login a password) xa=$(login a prefix) xb=$(login b prefix)
[ -n "$ua" ] && [ -n "$pa" ] && [ -n "$xb" ] || fail "no login file in out-a or out-b"
as_a() { REDISCLI_AUTH=$pa redis-cli -s "$REDIS_SOCK" --user "$ua" "$@" 2>&1; }
out=$(as_a HGET "{$xb:1}:0.0.0" 0)
echo "$out" | grep -q NOPERM || fail "A's credentials read B's key: $out"
out=$(as_a HGET "{$xa:1}:0.0.0" 0)
echo "$out" | grep -q -e NOPERM -e WRONGPASS && fail "A's credentials refused on A's own keys: $out"
out=$(as_a KEYS '*')
echo "$out" | grep -q NOPERM || fail "A's credentials may list keys: $out"
echo "ok: A's Redis login gets NOPERM on B's keys and on KEYS"
wait $A; rc_a=$?
wait $B; rc_b=$?
[ $rc_a = 0 ] || { cat "$W/a.log" >&2; fail "process a: exit $rc_a"; }
[ $rc_b = 0 ] || { cat "$W/b.log" >&2; fail "process b: exit $rc_b"; }

for p in a b; do
    S=$W/out-$p/summary.txt J=$W/out-$p/report.json
    grep -q '^RESULT: ok$' "$S" || { cat "$S" >&2; fail "$p: no RESULT: ok"; }
    grep -q 'verified: .* 0 mismatches, 0 failed loads' "$S" || fail "$p: mismatches or failed loads"
    grep -q '^  remote: .* pages held remotely: peak [1-9]' "$S" || { cat "$S" >&2; fail "$p: no pages held remotely in the summary"; }
    peak=$(jq '.hosts[0].remote.peak_held_pages' "$J")
    hits=$(jq '.hosts[0].remote.hits' "$J")
    charged=$(jq '.guests[] | select(.name == "worker") | .remote.charged_ns' "$J")
    tmem_ns=$(jq '.guests[] | select(.name == "worker") | .final.tmem_ns // .tmem_ns' "$J")
    [ "$peak" -gt 0 ] || fail "$p: host peak_held_pages $peak"
    [ "$hits" -gt 0 ] || fail "$p: no remote hits"
    [ "$charged" -gt 0 ] || fail "$p: no remote time charged"
    [ "$tmem_ns" != null ] && [ "$tmem_ns" -ge "$charged" ] ||
        fail "$p: the measured tmem time ($tmem_ns ns) does not hold the remote round trips ($charged ns)"
    head -1 "$W/out-$p/samples.csv" | grep -q 'host\.[ab]\.remote_held_pages' || fail "$p: no remote columns in samples.csv"
    echo "ok: process $p: RESULT ok, peak $peak pages held remotely, $hits remote hits, $((charged / 1000000)) ms of remote round trips in $((tmem_ns / 1000000)) ms of tmem time"
done

# Nothing persistent left behind: guests that stop destroy their pools,
# whose keys go (ephemeral ones could only linger with their TTL).
for k in $(redis_private_cli KEYS '*'); do
    [ "$(redis_private_cli TTL "$k")" != -1 ] || fail "key $k left on the server without a TTL"
done
echo "ok: no key without a TTL left on the server ($(redis_private_cli DBSIZE) keys)"

# The runs deleted their guests' Redis users when they ended: A's login
# no longer works at all.
out=$(as_a PING)
echo "$out" | grep -q WRONGPASS || fail "A's login still works after its run ended: $out"
echo "ok: the users went with their runs (A's login: WRONGPASS)"

# A bad server line: refused before anything runs.
sed 's|^server = .*|server = host:notaport|' "$W/a.ini" >"$W/bad.ini"
"$TESTBED_BIN" --check "$W/bad.ini" >"$W/bad.out" 2>&1; rc=$?
[ $rc = 2 ] || fail "bad server: exit $rc (expected 2): $(cat "$W/bad.out")"
grep -q "^$W/bad.ini:[0-9]*: remote shared: bad server 'host:notaport'" "$W/bad.out" ||
    fail "bad server: $(cat "$W/bad.out")"
echo "ok: a bad server line is refused at --check: $(cat "$W/bad.out")"

#!/bin/bash
# demo-remote.sh - `make demo-remote`: two testbed processes on one
# machine sharing one Redis server as their remote memory tier
# (docs/remote.md, "The demo"). Starts a private redis-server on a Unix
# socket in a temporary folder, runs scenarios/remote-a.ini and
# remote-b.ini at the same time against it (outputs in testbed-out/remote-a
# and remote-b of the checkout), prints both summaries' remote lines and
# results, and stops the server. No root needed (swap and stress guests
# only). Binary: $TESTBED_BIN (make exports it) or build/tmem-testbed.
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${TESTBED_BIN:-$repo/build/tmem-testbed}
. "$repo/tools/testbed/redis-private.bash"
if ! command -v redis-server >/dev/null; then
    echo "SKIPPED: demo-remote: redis-server not installed (tools/install-deps.sh)"
    exit 0
fi
work=$(mktemp -d /tmp/tmem-demo-remote.XXXXXX)
trap 'redis_private_stop; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
cd "$repo" || exit 1
redis_private_start "$work/redis" || { echo "demo-remote: redis-server did not start" >&2; exit 1; }
echo "--- a private redis-server on $REDIS_SOCK (pid $REDIS_PID)"
for p in a b; do
    redis_private_scenario "scenarios/remote-$p.ini" "$work/remote-$p.ini" "$repo/testbed-out/remote-$p"
    rm -rf "testbed-out/remote-$p"
done
echo "--- two testbed processes, scenarios/remote-a.ini and remote-b.ini, at once (12 s)"
"$BIN" --quiet --no-control "$work/remote-a.ini" >"$work/a.log" 2>&1 & a=$!
"$BIN" --quiet --no-control "$work/remote-b.ini" >"$work/b.log" 2>&1 & b=$!
wait $a; rc_a=$?
wait $b; rc_b=$?
for p in a b; do
    s=testbed-out/remote-$p/summary.txt
    echo "--- process $p ($s)"
    [ -f "$s" ] || { cat "$work/$p.log"; continue; }
    grep -E '^(host|guest) |^  remote|^  verified|^  simulated|^RESULT' "$s"
done
echo "--- keys still on the server: $(redis_private_cli DBSIZE) (pools are deleted when guests stop); ACL users left (each run deletes its own): $(redis_private_cli ACL USERS | tr '\n' ' ')"
[ $rc_a = 0 ] && [ $rc_b = 0 ]

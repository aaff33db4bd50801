#!/bin/bash
# testbed_migrate.sh - live migration of swap guests between two hosts
# while their workloads run (docs/control.md "Live migration",
# docs/testbed.md `migrate =`). Two hosts whose selfballoon models give
# the store what the guests on the host leave free: host a 32M, host b
# 6M, so b's capacity shrinks as a guest arrives (to 4M: less than a
# guest holds, so b refuses pages, which go to the guest's swap file).
# Swap guest g1 migrates by the scenario (a -> b at 1 s, back to a at
# 4 s); g2 by `tmemctl migrate g2 b` once g1 is back, then back with
# --no-wait; a mount guest, a guest that has not started and a host of
# another page size are there to be refused. The test waits for states,
# not for times (a loaded machine may run late), and ends the run with
# tmemctl stop once both are back on a.
# Rules checked:
#  - malformed or refused migrate commands (unknown guest or host, the
#    host it is on, a mount guest, a guest not started, a store of
#    another page size, a missing argument; a second migrate of a guest
#    right after the first) get an error and the exit status for it, and
#    change nothing: no migration is logged, the guest stays on its host;
#  - `tmemctl migrate` waits and prints the result (done, rounds, pages
#    moved); `list` then shows the guest under its new host with its
#    persistent private pool, and the migration in the log;
#  - the committed-memory slot follows the guest: while g1 is on b and g2
#    on a, host a's selfballoon capacity is 32M - 2M (g2's RAM) and host
#    b's 6M - 2M, i.e. a no longer counts g1 and b does;
#  - no page is lost or wrong across the moves: 0 mismatches, 0 failed
#    loads, 0 leaked slots or tmem pages for both guests; RESULT ok;
#  - the reports list every migration (summary.txt, report.json) with
#    rounds >= 1 and pages moved > 0; a destination that refused pages
#    sent them to the swap file; samples.csv's guest.NAME.host column
#    shows g1 on b (1) and back on a (0).
. "$(dirname "$0")/../control/control-lib.bash"
tb_begin
W=$TB_WORK
CTL_SOCK=$W/ctl.sock
mkdir -p "$W/src"
echo data >"$W/src/file"

cat >"$W/mig.ini" <<EOF
[run]
duration = 60s
sample_interval = 100ms
plots = false

[host a]
capacity = 32M
[pressure a]
model = selfballoon
host_memory = 32M
reserve = 0
hysteresis = 1
interval = 50ms

[host b]
capacity = 6M
[pressure b]
model = selfballoon
host_memory = 6M
reserve = 0
hysteresis = 1
interval = 50ms

[host c]
page_size = 8192

[guest g1]
kind = swap
host = a
ram = 2M
memory = 16M
workload = uniform
migrate = b@1s, a@4s

[guest g2]
kind = swap
host = a
ram = 2M
memory = 16M
workload = uniform
seed = 5

[guest later]
kind = swap
host = a
start = 50s
ram = 1M
memory = 4M
workload = uniform

[guest files]
kind = mount
host = a
source = $W/src
workload = sleep 30
EOF

"$TESTBED_BIN" --output "$W/out" --control "$CTL_SOCK" "$W/mig.ini" >"$W/out.out" 2>"$W/out.err" &
TB_PID=$!
# a failing check must not leave the 60 s run behind
trap 'kill "$TB_PID" 2>/dev/null; wait "$TB_PID" 2>/dev/null; tb_cleanup' EXIT
wait_socket "$CTL_SOCK"
where() { list_get "[h[\"name\"] for h in d[\"hosts\"] for g in h[\"guests\"] if g[\"name\"] == \"$1\"][0]"; }
by_tmemctl() { list_get 'len([m for m in d["migrations"] if m["by"] == "tmemctl"])'; }

# --- the scenario moves g1 to b and back; tmemctl migrate waits for the end
# and prints it
for _ in $(seq 1 100); do [ "$(where g1)" = b ] && break; sleep 0.1; done
tb_expect "scenario: g1 on b" "$(where g1)" b
sleep 0.8 # samples with g1 on b and g2 on a
for _ in $(seq 1 100); do [ "$(where g1)" = a ] && break; sleep 0.1; done
tb_expect "scenario: g1 back on a" "$(where g1)" a
ctl_ok migrate g2 b
case "$CTL_OUT" in "MIGRATION "*"  g2  a -> b  by tmemctl"*" done"*"rounds "*"moved "*) ;;
    *) tb_fail "migrate output: $CTL_OUT";; esac
moved=$(printf '%s' "$CTL_OUT" | sed -n 's/.*moved \([0-9]*\).*/\1/p')
[ "${moved:-0}" -gt 0 ] || tb_fail "tmemctl migrate: pages moved ${moved:-?}"
tb_expect "list: g2 on b" "$(where g2)" b
tb_expect "list: g2's pool" "$(list_get '[g["pools"][0]["kind"] + " " + g["pools"][0]["sharing"] for g in d["hosts"][1]["guests"] if g["name"] == "g2"][0]')" "persistent private"
tb_expect "list: log" "$(list_get 'sorted(m["guest"] + " " + m["to"] + " " + m["state"] for m in d["migrations"] if m["to"] == "b")')" "['g1 b done', 'g2 b done']"
ctl_ok list
case "$CTL_OUT" in *"HOST b"*"GUEST g2  swap  running"*"POOL 0  persistent private"*"MIGRATION "*"  g2  a -> b"*) ;;
    *) tb_fail "list text: $CTL_OUT";; esac
tb_pass "tmemctl migrate: waits, prints, list follows the guest"

# --- refused: each changes nothing
ctl_err 1 'no guest "nosuch"' migrate nosuch a
ctl_err 1 'no host "nosuch"' migrate g2 nosuch
ctl_err 1 "is on host b already" migrate g2 b
ctl_err 1 "is a mount guest: only swap guests migrate" migrate files b
ctl_err 1 "is not running (waiting)" migrate later b
ctl_err 1 "8192-byte pages" migrate g2 c
ctl_err 2 "usage: tmemctl migrate GUEST HOST" migrate g2
ctl_err 1 'missing argument "host"' raw '{"tmemctl": 1, "id": 1, "command": "migrate", "guest": "g2"}'
tb_expect "refused: g2 stays" "$(where g2)" b
tb_expect "refused: nothing logged" "$(by_tmemctl)" 1
tb_pass "malformed and refused migrations change nothing"

# migrate, and save in the same breath (one connection, two requests:
# the save is served while the migration thread has just begun): the
# save is refused with nothing written (it would miss the pages in
# flight), the migration goes on
python3 - "$CTL_SOCK" "$W/during.save" >"$W/pipe.out" <<'PY' || tb_fail "migrate + save: $(cat "$W/pipe.out")"
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall((json.dumps({"tmemctl": 1, "id": 1, "command": "migrate", "guest": "g2", "host": "a"}) + "\n" +
           json.dumps({"tmemctl": 1, "id": 2, "command": "save", "guest": "g2", "file": sys.argv[2]}) + "\n").encode())
f = s.makefile()
r1, r2 = json.loads(f.readline()), json.loads(f.readline())
assert r1["ok"] and r1["result"]["state"] == "running", r1
assert not r2["ok"] and "guest g2 is migrating: save it once the migration has ended" in json.dumps(r2["error"]), r2
print("ok")
PY
[ ! -e "$W/during.save" ] || tb_fail "the refused save left a file"
tb_pass "a save while the guest migrates is refused, nothing written"
# at once again: refused while it runs (or, had it ended already, because
# g2 is on a then); either way no second migration starts
ctl migrate g2 a
[ "$CTL_RC" = 1 ] || tb_fail "second migrate: exit $CTL_RC"
case "$CTL_ERR" in *"a migration of it is already running"*|*"is on host a already"*) ;;
    *) tb_fail "second migrate: $CTL_ERR";; esac

# --- g2 back on a, a few samples more, then stop
for _ in $(seq 1 100); do [ "$(where g2)" = a ] && break; sleep 0.1; done
tb_expect "g2 back on a" "$(where g2)" a
sleep 0.5
ctl_ok stop

wait "$TB_PID"
rc=$?
[ "$rc" = 143 ] || { cat "$W/out.err" >&2; tb_fail "testbed exit $rc, expected 143 (tmemctl stop)"; }
S=$W/out/summary.txt
grep -q "^RESULT: ok" "$S" || { cat "$S" >&2; tb_fail "summary: RESULT not ok"; }
n=$(grep -c "verified: .* 0 mismatches, 0 failed loads, 0 leaked slots, 0 leaked tmem pages" "$S")
[ "$n" = 2 ] || { cat "$S" >&2; tb_fail "summary: $n swap guests verified clean, expected 2"; }
grep -q "^migrations: 4 (4 done, 0 failed)" "$S" || { cat "$S" >&2; tb_fail "summary: migrations line"; }
tb_pass "no page lost or wrong across the moves"

python3 - "$W/out/report.json" "$W/out/samples.csv" <<'EOF' || tb_fail "reports"
import csv, json, sys
r = json.load(open(sys.argv[1]))
ms = r["migrations"]
got = [(m["guest"], m["from"], m["to"], m["by"], m["state"]) for m in ms]
want = [("g1", "a", "b", "scenario", "done"), ("g2", "a", "b", "tmemctl", "done"),
        ("g2", "b", "a", "tmemctl", "done"), ("g1", "b", "a", "scenario", "done")]
assert sorted(got) == sorted(want), got
for m in ms:
    assert m["rounds"] >= 1 and m["pages_moved"] > 0 and m["pages_sent"] >= m["pages_moved"], m
    assert m["bytes_sent"] == m["pages_sent"] * 4096, m
    assert m["stop_ms"] <= m["total_ms"], m
into_b = [m for m in ms if m["to"] == "b"]
assert all(m["pages_refused"] > 0 and m["pages_to_swapfile"] > 0 for m in into_b), into_b
for g in r["guests"]:
    assert not g["failed"], g
g1 = [g for g in r["guests"] if g["name"] == "g1"][0]
assert g1["host"] == "a" and g1["start_host"] == "a", g1
rows = list(csv.DictReader(open(sys.argv[2])))
hosts = [int(x["guest.g1.host"]) for x in rows]
assert 1 in hosts and hosts[-1] == 0, hosts
# the committed slots follow: a counts only g2 while g1 is on b, b counts g1
MiB = 1 << 20
steady = 0
for i in range(4, len(rows)):
    window = rows[i - 4:i + 1]
    if all(int(x["guest.g1.host"]) == 1 and int(x["guest.g2.host"]) == 0 and
           x["guest.g1.running"] == "1" and x["guest.g2.running"] == "1" for x in window):
        steady += 1
        assert int(rows[i]["host.a.capacity_bytes"]) == 30 * MiB, rows[i]["host.a.capacity_bytes"]
        assert int(rows[i]["host.b.capacity_bytes"]) == 4 * MiB, rows[i]["host.b.capacity_bytes"]
assert steady >= 1, "no steady sample with g1 on b and g2 on a"
EOF
tb_pass "reports: every migration, pages to the swap file, committed slots follow"

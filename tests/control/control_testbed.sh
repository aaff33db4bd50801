#!/bin/bash
# control_testbed.sh - tmemctl against a running tmem-testbed
# (tests/control/control.ini: one host at 8M, one swap guest "anon").
# Rules checked (docs/control.md):
#  - list shows the host, the guest and its pool (text and --json);
#    stats answers once and, with --every, once a period;
#  - set-capacity changes the store's capacity at once (list) and pauses
#    the pressure model, samples.csv shows it; resume hands the capacity
#    back to the model (the constant 8M again); pause/resume of all hosts;
#  - freeze makes the guest's puts fail (failed_puts_frozen grows), thaw
#    makes them succeed again (it stops growing);
#  - set-weight and set-cap change the client's weight and cap;
#  - malformed requests (not JSON, another version, unknown command,
#    unknown guest or host, a bad size, weight out of range, a bad
#    number on the command line) are refused with the right exit status
#    and nothing changes; migrate to the host the guest is on is refused
#    (tests/testbed/testbed_migrate.sh moves guests between two hosts);
#  - save writes the guest's persistent pool to a file (no temporary file
#    left); a damaged file is refused and nothing is restored; with room
#    (capacity unlimited) restore loads every saved page into a new pool
#    of the guest;
#  - another user cannot use the socket: the file is 0600 in a closed
#    folder (connect refused), and with the file opened up the server's
#    own SO_PEERCRED check answers "permission denied (uid 65534)";
#  - a second testbed on the same socket path is refused ("another
#    process serves"); a stale socket is replaced; without --control the
#    default path under $XDG_RUNTIME_DIR is served (tmemctl --testbed PID);
#  - stop ends the run as SIGTERM: exit 143, reports written, marked
#    interrupted, the socket removed.
. "$(dirname "$0")/control-lib.bash"
tb_begin
W=$TB_WORK
SC=$TB_REPO/tests/control/control.ini
CTL_SOCK=$W/ctl.sock

"$TESTBED_BIN" --quiet --output "$W/out" --control "$CTL_SOCK" "$SC" >"$W/out.out" 2>"$W/out.err" &
TB_PID=$!
wait_socket "$CTL_SOCK"
sleep 0.5

# --- list, stats
ctl_ok list
case "$CTL_OUT" in *"HOST host  capacity 8.0M"*"GUEST anon  swap  running  weight 100  cap unlimited  frozen no"*"POOL 0  persistent private"*) ;;
    *) tb_fail "list text: $CTL_OUT";; esac
tb_expect "list: capacity" "$(list_get 'd["hosts"][0]["store"]["capacity"]')" 8388608
tb_expect "list: pressure" "$(list_get 'd["hosts"][0]["pressure"]')" running
tb_expect "list: pools" "$(list_get 'len(d["hosts"][0]["guests"][0]["pools"])')" 1
ctl_ok --json stats
tb_expect "stats: guest" "$(printf '%s' "$CTL_OUT" | jq_get 'd["hosts"][0]["guests"][0]["name"]')" anon
n=$(timeout 1.3 "$TMEMCTL_BIN" --socket "$CTL_SOCK" --json stats --every 0.25 | wc -l)
[ "$n" -ge 4 ] || tb_fail "stats --every 0.25 for 1.3 s gave $n lines"
tb_pass "list and stats"

# --- set-capacity, pause, resume
ctl_ok set-capacity host 4M
tb_expect "set-capacity: capacity" "$(list_get 'd["hosts"][0]["store"]["capacity"]')" 4194304
tb_expect "set-capacity: pressure" "$(list_get 'd["hosts"][0]["pressure"]')" paused
sleep 0.6 # a sample or two at 4M; the paused model does not set 8M back
tb_expect "set-capacity: capacity kept" "$(list_get 'd["hosts"][0]["store"]["capacity"]')" 4194304
ctl_ok resume host
sleep 0.6
tb_expect "resume: capacity back" "$(list_get 'd["hosts"][0]["store"]["capacity"]')" 8388608
tb_expect "resume: pressure" "$(list_get 'd["hosts"][0]["pressure"]')" running
ctl_ok pause
tb_expect "pause: pressure" "$(list_get 'd["hosts"][0]["pressure"]')" paused
ctl_ok resume
tb_expect "resume all: pressure" "$(list_get 'd["hosts"][0]["pressure"]')" running
ctl_ok set-capacity host unlimited
tb_expect "set-capacity unlimited" "$(list_get 'd["hosts"][0]["store"]["capacity"]')" unlimited
ctl_ok resume host
tb_pass "set-capacity, pause, resume"

# --- freeze, thaw
frozen_puts() { list_get 'd["hosts"][0]["guests"][0]["stats"]["failed_puts_frozen"]'; }
tb_expect "before freeze" "$(frozen_puts)" 0
ctl_ok freeze anon
tb_expect "freeze: frozen" "$(list_get 'd["hosts"][0]["guests"][0]["frozen"]')" True
sleep 0.5
a=$(frozen_puts)
[ "$a" -gt 0 ] || tb_fail "frozen guest: failed_puts_frozen $a, expected > 0"
ctl_ok thaw anon
tb_expect "thaw: frozen" "$(list_get 'd["hosts"][0]["guests"][0]["frozen"]')" False
b=$(frozen_puts)
s1=$(list_get 'd["hosts"][0]["guests"][0]["stats"]["succ_puts"]')
sleep 0.5
tb_expect "thawed: failed_puts_frozen stays" "$(frozen_puts)" "$b"
s2=$(list_get 'd["hosts"][0]["guests"][0]["stats"]["succ_puts"]')
[ "$s2" -gt "$s1" ] || tb_fail "thawed guest: succ_puts $s1 -> $s2, expected to grow"
tb_pass "freeze makes puts fail ($a failed_puts_frozen), thaw ends it"

# --- weight, cap
ctl_ok set-weight anon 300
tb_expect "set-weight" "$(list_get 'd["hosts"][0]["guests"][0]["weight"]')" 300
ctl_ok set-cap anon 1M
tb_expect "set-cap" "$(list_get 'd["hosts"][0]["guests"][0]["cap"]')" 1048576
ctl_ok set-cap anon unlimited
tb_expect "set-cap unlimited" "$(list_get 'd["hosts"][0]["guests"][0]["cap"]')" unlimited
tb_pass "set-weight, set-cap"

# --- malformed and refused requests: nothing changes
ctl_err 1 "not JSON" raw 'this is not json'
ctl_err 1 "protocol version 9 not supported: this side speaks version 1" raw '{"tmemctl": 9, "id": 1, "command": "list"}'
ctl_err 1 'missing argument "guest"' raw '{"tmemctl": 1, "id": 1, "command": "freeze"}'
ctl_err 1 'argument "weight" must be an integer' raw '{"tmemctl": 1, "id": 1, "command": "set-weight", "guest": "anon", "weight": "9"}'
ctl_err 1 'unknown command "frobnicate"' frobnicate
ctl_err 1 'no guest "nosuch"' freeze nosuch
ctl_err 1 'no host "nohost"' set-capacity nohost 1M
ctl_err 1 'bad size "12Q"' set-cap anon 12Q
ctl_err 1 "weight 0 out of range (1..10000)" set-weight anon 0
ctl_err 2 "N must be an integer" set-weight anon heavy
ctl_err 2 "usage: tmemctl freeze|thaw GUEST" freeze
ctl_err 1 "guest anon is on host host already" migrate anon host
ctl_err 1 "No such file or directory" restore anon "$W/none.save"
ctl_err 1 "nodir" save anon "$W/nodir/anon.save"
tb_expect "refused: weight kept" "$(list_get 'd["hosts"][0]["guests"][0]["weight"]')" 300
tb_expect "refused: not frozen" "$(list_get 'd["hosts"][0]["guests"][0]["frozen"]')" False
tb_pass "malformed requests refused, nothing changed"

# --- save and restore (docs/control.md "Save file")
ctl_ok --json save anon "$W/anon.save"
saved=$(printf '%s' "$CTL_OUT" | jq_get 'd["pages"]')
[ "$saved" -gt 0 ] || tb_fail "save wrote no page: $CTL_OUT"
tb_expect "saved pools" "$(printf '%s' "$CTL_OUT" | jq_get 'd["pools"]')" 1
[ -s "$W/anon.save" ] || tb_fail "no save file"
ls "$W"/anon.save.tmp-* >/dev/null 2>&1 && tb_fail "a temporary file was left"
head -c 300 "$W/anon.save" >"$W/cut.save"
pools_before=$(list_get 'len(d["hosts"][0]["guests"][0]["pools"])')
ctl_err 1 "cut.save" restore anon "$W/cut.save"
tb_expect "pools after a refused restore" "$(list_get 'len(d["hosts"][0]["guests"][0]["pools"])')" "$pools_before"
ctl_ok set-capacity host unlimited
ctl_ok --json restore anon "$W/anon.save"
tb_expect "restored pages" "$(printf '%s' "$CTL_OUT" | jq_get 'd["pages"]')" "$saved"
tb_expect "pools after the restore" "$(list_get 'len(d["hosts"][0]["guests"][0]["pools"])')" $((pools_before + 1))
ctl_ok resume host
tb_pass "save: $saved pages; a cut file refused, nothing changed; restore: $saved pages in a new pool"

# --- another user
tb_expect "socket mode" "$(stat -c %a "$CTL_SOCK")" 600
cp "$TMEMCTL_BIN" "$W/tmemctl.nobody"
chmod 755 "$W/tmemctl.nobody"
chmod 711 "$W"
out=$(runuser -u nobody -- "$W/tmemctl.nobody" --socket "$CTL_SOCK" list 2>&1)
rc=$?
[ "$rc" = 3 ] && [[ "$out" == *"Permission denied"* ]] ||
    tb_fail "nobody on a 0600 socket: exit $rc: $out"
chmod 666 "$CTL_SOCK" # open the file: the server's own check must refuse
out=$(runuser -u nobody -- "$W/tmemctl.nobody" --socket "$CTL_SOCK" freeze anon 2>&1)
rc=$?
[ "$rc" = 1 ] && [[ "$out" == *"permission denied (uid $(id -u nobody))"* ]] ||
    tb_fail "nobody through SO_PEERCRED: exit $rc: $out"
chmod 600 "$CTL_SOCK"
chmod 700 "$W"
tb_expect "nobody changed nothing" "$(list_get 'd["hosts"][0]["guests"][0]["frozen"]')" False
tb_pass "another user cannot use the socket"

# --- a live socket is refused, a stale one replaced, the default path
cat >"$W/short.ini" <<INI
[run]
duration = 3s
sample_interval = 250ms

[guest anon]
kind = swap
ram = 1M
memory = 4M
workload = uniform
INI
"$TESTBED_BIN" --quiet --output "$W/second" --control "$CTL_SOCK" "$W/short.ini" >"$W/second.out" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q "another process serves $CTL_SOCK" "$W/second.out" ||
    tb_fail "second testbed on a live socket: exit $rc: $(cat "$W/second.out")"
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' "$W/stale.sock"
[ -S "$W/stale.sock" ] || tb_fail "no stale socket made"
"$TESTBED_BIN" --quiet --output "$W/stale" --control "$W/stale.sock" "$W/short.ini" >"$W/stale.out" 2>&1 &
pid2=$!
sleep 1
CTL_SOCK=$W/stale.sock ctl_ok list
wait $pid2 || tb_fail "testbed on a stale socket: exit $?: $(cat "$W/stale.out")"
[ ! -e "$W/stale.sock" ] || tb_fail "stale.sock left after the run"
mkdir -m 700 "$W/xdg"
XDG_RUNTIME_DIR=$W/xdg "$TESTBED_BIN" --quiet --output "$W/xdgout" "$W/short.ini" >"$W/xdg.out" 2>&1 &
pid3=$!
wait_socket "$W/xdg/tmem-testbed-$pid3.sock"
out=$(XDG_RUNTIME_DIR=$W/xdg "$TMEMCTL_BIN" --testbed $pid3 list) || tb_fail "tmemctl --testbed $pid3: $out"
out=$(XDG_RUNTIME_DIR=$W/xdg "$TMEMCTL_BIN" list) || tb_fail "tmemctl with the one default socket: $out"
wait $pid3
tb_pass "live socket refused, stale socket replaced, default path served"

# --- stop
ctl_ok stop
wait $TB_PID
rc=$?
[ "$rc" = 143 ] || tb_fail "stop: exit $rc, expected 143 ($(cat "$W/out.err"))"
grep -q "interrupted" "$W/out/summary.txt" || tb_fail "stop: summary not marked interrupted"
grep -q '"interrupted": true' "$W/out/report.json" || tb_fail "stop: report.json not interrupted"
[ ! -e "$CTL_SOCK" ] || tb_fail "stop: the socket is left"
c=$(tb_col "$W/out/samples.csv" host.host.capacity_bytes)
cut -d, -f"$c" "$W/out/samples.csv" | grep -qx 4194304 || tb_fail "samples.csv never shows the 4M set by hand"
tb_pass "stop ends the run as SIGTERM, samples.csv shows the capacity set by hand"

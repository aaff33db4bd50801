#!/bin/bash
# control_tmemfs.sh - tmemctl against a tmemfs mount (-o control).
# Rules checked (docs/control.md, docs/fuse_cleancache.md):
#  - -o control=PATH serves the socket (mode 0600) once mounted;
#    list shows the one store ("store") and the mount as a guest;
#  - set-capacity store SIZE sets the store's capacity: list and the
#    mount's control file .tmemfs/capacity agree;
#  - freeze MOUNTPOINT makes the mount's cleancache puts fail
#    (failed_puts_frozen grows), thaw ends it;
#  - set-weight and set-cap change the mount's client;
#  - refused: pause (tmemfs has no pressure model), an unknown mount or
#    host, migrate (one host); save writes a file with no pool (the
#    mount's cleancache pool is ephemeral: skipped, as Xen did);
#  - -o control without a path serves the default path named after the
#    mountpoint: tmemctl --tmemfs MOUNTPOINT finds it;
#  - stop unmounts (as SIGTERM) and removes the socket.
# tmemfs runs in the foreground (-f, in the background of this shell): a
# daemonized tmemfs (fork after the store is made) can hang for good in
# tmem_stats (jemalloc's explicit tcaches do not survive the fork; found
# while writing this test, reading .tmemfs/stats hangs the same way).
. "$(dirname "$0")/control-lib.bash"
tb_begin
[ -x "$TMEMFS_BIN" ] || tb_fail "tmemfs binary $TMEMFS_BIN not built"
W=$TB_WORK
mkdir -p "$W/src" "$W/mnt" "$W/mnt2"
head -c 2M /dev/urandom >"$W/src/a"
head -c 2M /dev/urandom >"$W/src/b"
CTL_SOCK=$W/fs.sock

"$TMEMFS_BIN" -f -o control="$CTL_SOCK",cache_size=256K "$W/src" "$W/mnt" 2>"$W/fs1.err" &
FS1=$!
wait_socket "$CTL_SOCK"
tb_expect "socket mode" "$(stat -c %a "$CTL_SOCK")" 600
ctl_ok list
case "$CTL_OUT" in *"HOST store"*"GUEST $W/mnt  mount  running"*) ;; *) tb_fail "list: $CTL_OUT";; esac
tb_pass "list"

ctl_ok set-capacity store 64M
tb_expect "list capacity" "$(list_get 'd["hosts"][0]["store"]["capacity"]')" 67108864
tb_expect "control file" "$(cat "$W/mnt/.tmemfs/capacity")" 67108864
tb_pass "set-capacity"

guest() { list_get "d[\"hosts\"][0][\"guests\"][0]$1"; }
cat "$W/mnt/a" "$W/mnt/b" >/dev/null
tb_expect "before freeze" "$(guest '["stats"]["failed_puts_frozen"]')" 0
ctl_ok freeze "$W/mnt"
tb_expect "frozen" "$(guest '["frozen"]')" True
cat "$W/mnt/a" "$W/mnt/b" >/dev/null
a=$(guest '["stats"]["failed_puts_frozen"]')
[ "$a" -gt 0 ] || tb_fail "frozen mount: failed_puts_frozen $a, expected > 0"
ctl_ok thaw "$W/mnt/"
cat "$W/mnt/a" "$W/mnt/b" >/dev/null
tb_expect "thawed: failed_puts_frozen stays" "$(guest '["stats"]["failed_puts_frozen"]')" "$a"
tb_pass "freeze makes cleancache puts fail ($a), thaw ends it"

ctl_ok set-weight "$W/mnt" 50
tb_expect "weight" "$(guest '["weight"]')" 50
ctl_ok set-cap "$W/mnt" 2M
tb_expect "cap" "$(guest '["cap"]')" 2097152
tb_pass "set-weight, set-cap"

ctl_err 1 "tmemfs has no pressure model" pause
ctl_err 1 "no mount \"$W/nosuch\"" freeze "$W/nosuch"
ctl_err 1 'no host "host": tmemfs has one store, "store"' set-capacity host 1M
ctl_err 1 "no other store to migrate to" migrate "$W/mnt" store
# a mount's only pool is cleancache's (ephemeral): a save holds none
ctl_ok --json save "$W/mnt" "$W/x.save"
tb_expect "saved pools of a mount" "$(printf '%s' "$CTL_OUT" | jq_get 'd["pools"]')" 0
tb_expect "ephemeral pools skipped" "$(printf '%s' "$CTL_OUT" | jq_get 'd["pools_ephemeral_skipped"]')" 1
ctl_err 1 "not JSON" raw '{"tmemctl": 1'
tb_expect "refused: weight kept" "$(guest '["weight"]')" 50
tb_pass "refused requests"

mkdir -m 700 "$W/xdg"
XDG_RUNTIME_DIR=$W/xdg "$TMEMFS_BIN" -f -o control "$W/src" "$W/mnt2" 2>"$W/fs2.err" &
FS2=$!
for _ in $(seq 1 100); do ls "$W"/xdg/tmemfs-*.sock >/dev/null 2>&1 && break; sleep 0.05; done
out=$(XDG_RUNTIME_DIR=$W/xdg "$TMEMCTL_BIN" --tmemfs "$W/mnt2" list) || tb_fail "--tmemfs: $out"
[[ "$out" == *"GUEST $W/mnt2 "* ]] || tb_fail "--tmemfs list: $out"
XDG_RUNTIME_DIR=$W/xdg "$TMEMCTL_BIN" --tmemfs "$W/mnt2" stop >/dev/null || tb_fail "--tmemfs stop"
wait $FS2 || tb_fail "second tmemfs: exit $? after stop: $(cat "$W/fs2.err")"
tb_pass "default path: tmemctl --tmemfs MOUNTPOINT"

ctl_ok stop
wait $FS1 || tb_fail "tmemfs: exit $? after stop: $(cat "$W/fs1.err")"
for _ in $(seq 1 100); do [ -z "$(tb_mounts)" ] && [ ! -e "$CTL_SOCK" ] && break; sleep 0.05; done
[ -z "$(tb_mounts)" ] || tb_fail "stop: still mounted: $(tb_mounts)"
[ ! -e "$CTL_SOCK" ] || tb_fail "stop: the socket is left"
[ -z "$(ls "$W/xdg")" ] || tb_fail "stop: left in xdg: $(ls "$W/xdg")"
tb_pass "stop unmounts and removes the socket"

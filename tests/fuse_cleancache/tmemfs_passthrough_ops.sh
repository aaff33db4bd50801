#!/bin/bash
# Rule: operations through the mount behave as on the backing directory
# (rename / link / symlink / fifo / chmod / utimens / O_APPEND / O_EXCL /
# truncate / fallocate / xattr, errors as errno), and nothing outside
# SOURCE is reachable: a directory replaced in the backing tree by a
# symlink to / is refused by the daemon (it never follows symlinks).
source "$(dirname "$0")/common.bash"
tmemfs_begin
W=$TMEMFS_WORK
mkdir -p "$W/src/d" "$W/outside"
echo secret >"$W/outside/secret"
# The mount sits one level deeper than SOURCE so that "../outside" names
# $W/outside only when resolved by the daemon beneath SOURCE, never when
# the kernel follows the symlink on the client side.
mkdir -p "$W/deep"
tmemfs_mount "$W/src" "$W/deep/m" -o cache_size=64K
M=$W/deep/m; S=$W/src
echo one >"$M/a"; echo two >>"$M/a"
tmemfs_expect "O_APPEND" "$(cat "$S/a")" "$(printf 'one\ntwo')"
( set -o noclobber; echo x >"$M/a" ) 2>/dev/null && tmemfs_fail "O_EXCL create over an existing file succeeded"
mv "$M/a" "$M/d/b"; [ -e "$S/d/b" ] && [ ! -e "$S/a" ] || tmemfs_fail "rename"
ln "$M/d/b" "$M/hard"; tmemfs_expect "link count" "$(stat -c %h "$M/hard")" 2
ln -s d/b "$M/sym"; tmemfs_expect "readlink" "$(readlink "$M/sym")" d/b
tmemfs_expect "read through symlink" "$(cat "$M/sym")" "$(printf 'one\ntwo')"
mkfifo "$M/fifo"; [ -p "$S/fifo" ] || tmemfs_fail "mkfifo"
chmod 600 "$M/hard"; tmemfs_expect "chmod" "$(stat -c %a "$S/d/b")" 600
touch -d '2001-02-03 04:05:06' "$M/hard"; tmemfs_expect "utimens" "$(stat -c %Y "$S/hard")" "$(date -d '2001-02-03 04:05:06' +%s)"
truncate -s 3 "$M/hard"; tmemfs_expect "truncate" "$(cat "$M/d/b")" one
fallocate -l 10000 "$M/hard" 2>/dev/null && tmemfs_expect "fallocate size" "$(stat -c %s "$M/hard")" 10000
mkdir "$M/e"; rmdir "$M/e"; [ ! -e "$S/e" ] || tmemfs_fail "rmdir"
rmdir "$M/d" 2>"$W/err" && tmemfs_fail "rmdir of a non-empty directory succeeded"
grep -q "not empty" "$W/err" || tmemfs_fail "rmdir error is not ENOTEMPTY: $(cat "$W/err")"
cat "$M/nosuch" 2>"$W/err" && tmemfs_fail "reading a missing file succeeded"
grep -q "No such file" "$W/err" || tmemfs_fail "missing file error: $(cat "$W/err")"
if command -v setfattr >/dev/null; then
    setfattr -n user.k -v v "$M/hard" && tmemfs_expect "xattr" "$(getfattr --only-values -n user.k "$S/hard")" v
fi
unlink "$M/hard"; cmp "$M/d/b" "$S/d/b" || tmemfs_fail "unlink of one link broke the other"
tmemfs_pass "passthrough operations"
# The control directory is hidden from readdir.
ls -a "$M" | grep -q tmemfs && tmemfs_fail "control directory listed by readdir"
# Confinement: d (seen as a directory by the kernel) becomes a symlink to
# the outside; the daemon must refuse to resolve through it.
ls "$M/d" >/dev/null
rm -rf "$S/d"; ln -s ../outside "$S/d"
if out=$(cat "$M/d/secret" 2>/dev/null); then
    [ "$out" != secret ] || tmemfs_fail "read $W/outside/secret through the mount: symlink followed by the daemon"
fi
tmemfs_pass "a backing symlink swapped in for a directory is not followed by the daemon"
tmemfs_umount "$M"

#!/bin/bash
# Rule (security): on a mount made by root with -o allow_other, and with
# -o allow_other,default_permissions, another user can do through the mount
# exactly what they can do on the backing directory itself. Each access
# below runs as user nobody (with one supplementary group) once on a
# backing tree directly and once through each mount (over identical copies
# of the tree): the exit status and the messages must be the same, and so
# must the trees afterwards (names, types, modes, owners, groups, contents,
# user xattrs), so every access the backing directory refuses is refused
# through the mount, every one it allows still works, and new files belong
# to their creator. Root lists the mounts before each access, so accesses
# the kernel could answer from its cache of names and attributes are
# covered too.
# Rule (control): only root (the daemon's user) may write .tmemfs/capacity
# and .tmemfs/drop_caches; any user may read the statistics.
source "$(dirname "$0")/common.bash"
tmemfs_begin
[ "$(id -u)" -eq 0 ] ||
    tmemfs_skip "needs root: a mount other users may use (allow_other), and running accesses as user nobody"
command -v setpriv >/dev/null || tmemfs_fail "setpriv (util-linux) not installed"
command -v setfattr >/dev/null || tmemfs_fail "setfattr (package attr) not installed: run tools/install-deps.sh"
W=$TMEMFS_WORK
chmod 755 "$W" # nobody must reach the trees and the mounts
NOBODY=65534
GROUP=4242 # nobody's supplementary group in this test
as_nobody() { setpriv --reuid=$NOBODY --regid=$NOBODY --groups=$GROUP -- "$@"; }

# make_tree DIR: the same tree for each view.
make_tree() {
    local d=$1
    mkdir -p "$d"/{lockeddir,listonly,rodir,opendir,sticky,mydir}
    echo secret-data >"$d/secret"; chmod 600 "$d/secret"
    echo public >"$d/public"; chmod 644 "$d/public"
    echo world >"$d/world"; chmod 666 "$d/world"
    echo grp >"$d/grpfile"; chgrp $GROUP "$d/grpfile"; chmod 640 "$d/grpfile"
    echo grpw >"$d/grpw"; chgrp $GROUP "$d/grpw"; chmod 660 "$d/grpw"
    echo inner >"$d/lockeddir/inner"; chmod 700 "$d/lockeddir"
    echo f >"$d/listonly/f"; chmod 744 "$d/listonly"
    echo f >"$d/rodir/f"
    chmod 777 "$d/opendir"
    chmod 1777 "$d/sticky"; echo r >"$d/sticky/rootfile"; chmod 666 "$d/sticky/rootfile"
    echo mine >"$d/mine"; chown $NOBODY:$NOBODY "$d/mine"
    echo x >"$d/mydir/x"; chown -R $NOBODY:$NOBODY "$d/mydir"
    setfattr -n user.k -v v "$d/public"
    setfattr -n user.k -v v "$d/secret"
    chmod 755 "$d"
}

# state DIR: what an access may change, timestamps aside.
state() {
    (
        cd "$1" || exit 1
        find . -printf '%p %y %m %U %G\n' | sort
        find . -type f -exec md5sum {} + | sort
        getfattr -h -R -d -m '^user\.' . 2>/dev/null
    )
}

A=$W/direct # the backing directory used directly
B1=$W/b1 B2=$W/b2 M1=$W/m1 M2=$W/m2
for d in "$A" "$B1" "$B2"; do make_tree "$d"; done
tmemfs_mount "$B1" "$M1" -o allow_other -o cache_size=64K
tmemfs_mount "$B2" "$M2" -o allow_other,default_permissions -o cache_size=64K
grep " $M1 fuse" /proc/mounts | grep -q default_permissions ||
    tmemfs_fail "-o allow_other did not turn on default_permissions: $(grep " $M1 " /proc/mounts)"

# expect|access ($D is the root of the view; run by sh as nobody). expect:
# ok / no = the outcome on the backing directory (a check that this machine
# is what the test assumes), any = either (depends on a sysctl).
ACCESSES=(
    'no|cat "$D/secret"'
    'ok|cat "$D/public"'
    'ok|cat "$D/grpfile"'
    'no|cat "$D/lockeddir/inner"'
    'no|stat -c %s "$D/lockeddir/inner"'
    'no|ls "$D/lockeddir"'
    'ok|ls "$D/listonly"'
    'no|stat -c %s "$D/listonly/f"'
    'ok|test -r "$D/public"'
    'no|test -w "$D/public"'
    'ok|test -w "$D/grpw"'
    'no|test -r "$D/secret"'
    'no|echo x >>"$D/secret"'
    'no|echo x >>"$D/public"'
    'ok|echo x >>"$D/world"'
    'ok|echo x >>"$D/grpw"'
    'no|echo new >"$D/newfile"'
    'ok|echo new >"$D/opendir/new"'
    'no|mkdir "$D/newdir"'
    'ok|mkdir "$D/opendir/nd"'
    'ok|mkfifo "$D/opendir/fifo"'
    'no|mkfifo "$D/fifo"'
    'ok|ln -s public "$D/opendir/sym"'
    'no|ln -s public "$D/sym"'
    'no|mv "$D/public" "$D/public2"'
    'ok|mv "$D/opendir/new" "$D/opendir/new2"'
    'no|mv "$D/sticky/rootfile" "$D/sticky/moved"'
    'no|mv "$D/mine" "$D/opendir/mine"'
    'ok|mv "$D/mydir/x" "$D/opendir/x"'
    'any|ln "$D/secret" "$D/opendir/secretlink"'
    'ok|ln "$D/world" "$D/opendir/worldlink"'
    'ok|ln "$D/mine" "$D/opendir/minelink"'
    'no|ln "$D/public" "$D/publink"'
    'no|rm -f "$D/secret"'
    'no|rm -f "$D/sticky/rootfile"'
    'no|rm -f "$D/rodir/f"'
    'ok|rm "$D/opendir/worldlink"'
    'ok|rmdir "$D/opendir/nd"'
    'no|rmdir "$D/rodir"'
    'no|chmod 777 "$D/secret"'
    'ok|chmod 600 "$D/mine"'
    'no|chown $NOBODY "$D/secret"'
    'no|chown 0 "$D/mine"'
    'ok|chgrp $GROUP "$D/mine"'
    'no|chgrp 0 "$D/mine"'
    'no|truncate -s 0 "$D/secret"'
    'no|truncate -s 0 "$D/public"'
    'ok|truncate -s 1 "$D/world"'
    'ok|truncate -s 2 "$D/grpw"'
    'no|setfattr -n user.a -v 1 "$D/secret"'
    'no|setfattr -n user.a -v 1 "$D/public"'
    'ok|setfattr -n user.a -v 1 "$D/world"'
    'no|setfattr -x user.k "$D/public"'
    'no|getfattr --absolute-names -n user.k "$D/secret"'
    'ok|getfattr --absolute-names -n user.k "$D/public"'
    'no|touch -d 2001-01-01 "$D/world"'
    'ok|touch "$D/world"'
    'no|touch "$D/public"'
    'ok|touch -d 2001-01-01 "$D/mine"'
    'ok|chmod 666 "$D/mine"'
    'ok|mv "$D/opendir/x" "$D/mydir/x"'
    'ok|echo more >"$D/opendir/new2"; cat "$D/opendir/new2"'
)

# run_access VIEW ACCESS OUT: run as nobody; prints the exit status, leaves
# the output (VIEW's path replaced by "D") in OUT.
run_access() {
    local view=$1 access=$2 out=$3 rc
    as_nobody env D="$view" NOBODY=$NOBODY GROUP=$GROUP sh -c "$access" >"$out.raw" 2>&1
    rc=$?
    sed "s|$view|D|g" "$out.raw" >"$out"
    echo "$rc"
}

allowed=0 refused=0
for entry in "${ACCESSES[@]}"; do
    expect=${entry%%|*}
    access=${entry#*|}
    # Fill the kernel's caches of names and attributes as root first.
    ls -lR "$M1" "$M2" >/dev/null 2>&1
    cat "$M1/lockeddir/inner" "$M2/lockeddir/inner" >/dev/null
    rc_a=$(run_access "$A" "$access" "$W/out.a")
    case $expect in
        ok) [ "$rc_a" -eq 0 ] || tmemfs_fail "backing directory: '$access' refused: $(cat "$W/out.a")" ;;
        no) [ "$rc_a" -ne 0 ] || tmemfs_fail "backing directory: '$access' allowed (test set-up is wrong)" ;;
    esac
    if [ "$rc_a" -eq 0 ]; then allowed=$((allowed + 1)); else refused=$((refused + 1)); fi
    for pair in "$M1:$B1:allow_other" "$M2:$B2:allow_other,default_permissions"; do
        IFS=: read -r m b opts <<<"$pair"
        rc_m=$(run_access "$m" "$access" "$W/out.m")
        [ "$rc_m" = "$rc_a" ] ||
            tmemfs_fail "-o $opts: '$access' exit $rc_m through the mount, $rc_a on the backing directory ($(cat "$W/out.m"))"
        cmp -s "$W/out.a" "$W/out.m" ||
            tmemfs_fail "-o $opts: '$access' said '$(cat "$W/out.m")' through the mount, '$(cat "$W/out.a")' on the backing directory"
        diff <(state "$A") <(state "$b") >"$W/state.diff" ||
            tmemfs_fail "-o $opts: after '$access' the trees differ (< backing directory used directly, > behind the mount): $(cat "$W/state.diff")"
    done
done
[ "$allowed" -ge 20 ] && [ "$refused" -ge 20 ] ||
    tmemfs_fail "too few accesses of each kind: $allowed allowed, $refused refused"
tmemfs_expect "owner of a file nobody created through the mount" \
    "$(stat -c %u:%g "$B1/opendir/new2")" "$NOBODY:$NOBODY"
tmemfs_pass "${#ACCESSES[@]} accesses as nobody: $allowed allowed, $refused refused, each the same through both mounts as on the backing directory"

for m in "$M1" "$M2"; do
    cap=$(cat "$m/.tmemfs/capacity")
    as_nobody cat "$m/.tmemfs/stats" >/dev/null || tmemfs_fail "nobody cannot read $m/.tmemfs/stats"
    as_nobody sh -c "echo 0 >'$m/.tmemfs/capacity'" 2>/dev/null &&
        tmemfs_fail "nobody changed the capacity through $m/.tmemfs/capacity"
    tmemfs_expect "capacity after nobody's write" "$(cat "$m/.tmemfs/capacity")" "$cap"
    as_nobody sh -c "echo 3 >'$m/.tmemfs/drop_caches'" 2>/dev/null &&
        tmemfs_fail "nobody wrote $m/.tmemfs/drop_caches"
    echo 64M >"$m/.tmemfs/capacity" || tmemfs_fail "root cannot write $m/.tmemfs/capacity"
    tmemfs_expect "capacity after root's write" "$(cat "$m/.tmemfs/capacity")" 67108864
    echo 3 >"$m/.tmemfs/drop_caches" || tmemfs_fail "root cannot write $m/.tmemfs/drop_caches"
done
tmemfs_pass "control directory: nobody reads stats but cannot change capacity or drop caches; root can"
tmemfs_umount "$M1"
tmemfs_umount "$M2"

# control-lib.bash - sourced by the control integration tests
# (tests/control/*.sh): helpers to drive a running program with tmemctl.
#
# Environment: TMEMCTL_BIN, TESTBED_BIN, TMEMFS_BIN (make exports them;
# defaults under build/). Uses the testbed tests' helpers (tb_begin,
# tb_fail, tb_col, ...: tests/testbed/testbed-lib.bash): root and FUSE
# are needed (the tmemfs test mounts; runuser needs root).
. "$(dirname "${BASH_SOURCE[0]}")/../testbed/testbed-lib.bash"
TMEMCTL_BIN=${TMEMCTL_BIN:-$TB_REPO/build/tmemctl}
TMEMFS_BIN=${TMEMFS_BIN:-$TB_REPO/build/tmemfs}
[ -x "$TMEMCTL_BIN" ] || tb_fail "tmemctl binary $TMEMCTL_BIN not built"

# ctl ARGS...: tmemctl on $CTL_SOCK; stdout in $CTL_OUT, stderr in
# $CTL_ERR, exit status in $CTL_RC.
CTL_OUT= CTL_ERR= CTL_RC=
ctl() {
    CTL_OUT=$("$TMEMCTL_BIN" --socket "$CTL_SOCK" "$@" 2>"$TB_WORK/ctl.err")
    CTL_RC=$?
    CTL_ERR=$(cat "$TB_WORK/ctl.err")
}

# ctl_ok ARGS...: must succeed.
ctl_ok() {
    ctl "$@"
    [ "$CTL_RC" = 0 ] || tb_fail "tmemctl $*: exit $CTL_RC: $CTL_ERR"
}

# ctl_err STATUS TEXT ARGS...: must exit STATUS with TEXT on stderr.
ctl_err() {
    local want=$1 text=$2
    shift 2
    ctl "$@"
    [ "$CTL_RC" = "$want" ] || tb_fail "tmemctl $*: exit $CTL_RC, expected $want ($CTL_ERR)"
    case "$CTL_ERR" in *"$text"*) ;; *) tb_fail "tmemctl $*: error '$CTL_ERR' does not say '$text'";; esac
}

# jq_get EXPR: EXPR (Python, on the JSON object d) of the JSON on stdin.
jq_get() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

# list_get EXPR: EXPR on `tmemctl --json list`.
list_get() { ctl_ok --json list; printf '%s' "$CTL_OUT" | jq_get "$1"; }

# wait_socket PATH: until a socket is at PATH (5 s at most).
wait_socket() {
    for _ in $(seq 1 100); do [ -S "$1" ] && return 0; sleep 0.05; done
    tb_fail "no control socket at $1"
}

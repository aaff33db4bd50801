# testbed-lib.bash - sourced by the testbed's integration tests
# (tests/testbed/*.sh): they run tmem-testbed on scenarios they write and
# check its reports.
#
# Environment: TESTBED_BIN (make exports it; default build/tmem-testbed).
# Every test: tb_begin (skips with exit 77 and a loud SKIPPED line when not
# root or /dev/fuse is unusable: the guests mount for real), writes its
# scenario into $TB_WORK, runs it, and relies on the EXIT trap to unmount
# anything left under $TB_WORK and remove it.
set -u
TB_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TESTBED_BIN=${TESTBED_BIN:-$TB_REPO/build/tmem-testbed}
TB_WORK=

tb_skip() { echo "SKIPPED: $*"; echo "SKIPPED: $*" >&2; exit 77; }
tb_fail() { echo "FAIL: $*" >&2; exit 1; }
tb_pass() { echo "ok: $*"; }

# Mounts under $TB_WORK now (none must be left by the testbed).
tb_mounts() { awk -v w="$TB_WORK" 'index($2, w) == 1 { print $2 }' /proc/mounts; }

tb_cleanup() {
    [ -n "${TB_KEEP:-}" ] && return
    local m
    if [ -n "$TB_WORK" ]; then
        for m in $(tb_mounts); do umount -l "$m" 2>/dev/null; done
        rm -rf "$TB_WORK"
    fi
}

tb_begin() {
    [ -x "$TESTBED_BIN" ] || tb_fail "tmem-testbed binary $TESTBED_BIN not built"
    [ "$(id -u)" = 0 ] || tb_skip "$(basename "$0"): the testbed's guests mount for real: run as root"
    [ -c /dev/fuse ] || tb_skip "$(basename "$0"): /dev/fuse does not exist (no FUSE here)"
    ( exec 9<>/dev/fuse ) 2>/dev/null || tb_skip "$(basename "$0"): /dev/fuse cannot be opened"
    TB_WORK=$(mktemp -d /tmp/testbed-test.XXXXXX)
    trap tb_cleanup EXIT
    trap 'exit 1' INT TERM
}

# tb_run SCENARIO OUTDIR [options...]: run the testbed (quiet); its stdout
# and stderr in OUTDIR.out / OUTDIR.err; sets TB_RC.
tb_run() {
    local sc=$1 out=$2
    shift 2
    "$TESTBED_BIN" --quiet --output "$out" "$@" "$sc" >"$out.out" 2>"$out.err"
    TB_RC=$?
}

# tb_col CSV NAME: the 1-based column of NAME in CSV's header (fails if none).
tb_col() {
    local c
    c=$(head -1 "$1" | tr ',' '\n' | grep -nx -- "$2" | cut -d: -f1)
    [ -n "$c" ] || tb_fail "no column $2 in $1"
    echo "$c"
}

# tb_last CSV NAME: NAME's value in the last row.
tb_last() {
    local c
    c=$(tb_col "$1" "$2") || exit 1
    tail -1 "$1" | cut -d, -f"$c"
}

# tb_expect WHAT GOT WANT
tb_expect() { [ "$2" = "$3" ] || tb_fail "$1: got '$2', expected '$3'"; }

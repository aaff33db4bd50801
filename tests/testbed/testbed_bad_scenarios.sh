#!/bin/bash
# testbed_bad_scenarios.sh - a bad command line or scenario costs nothing:
# one line on stderr (FILE:LINE: what is wrong, for a scenario), exit
# status 2, no output folder made, nothing mounted. Cases: every file in
# tests/testbed/bad/ (the parser's refusals: unknown keys and sections, bad
# values, missing sections and keys, a guest with no workload, ...; each
# says on its first line what it expects, checked by test_scenario), then
# what only the runner can see: a SOURCE that does not exist, a mountpoint
# that is not empty, a trace that cannot be read after a valid mount guest
# (so a mount guest was already prepared when the error came), shared_uuid
# in a mount's options, two guests on one mountpoint, a mountpoint inside
# another guest's source, an output folder that is not empty (no --force),
# and command-line errors. --check on a good scenario exits 0 and creates
# nothing.
. "$(dirname "$0")/testbed-lib.bash"
tb_begin
W=$TB_WORK
mounts_before=$(grep -c . /proc/mounts)

# expect_bad NAME SCENARIO [options...]: exit 2, one line, FILE:LINE form
# for scenario errors (pattern in $PATTERN), nothing mounted or created.
expect_bad() {
    local name=$1 sc=$2 out=$W/out-$1 rc lines
    shift 2
    "$TESTBED_BIN" --output "$out" "$@" ${sc:+"$sc"} >"$W/$name.stdout" 2>"$W/$name.stderr"
    rc=$?
    lines=$(grep -c . "$W/$name.stderr")
    [ "$rc" = 2 ] || { cat "$W/$name.stderr" >&2; tb_fail "$name: exit $rc, expected 2"; }
    [ "$lines" = 1 ] || { cat "$W/$name.stderr" >&2; tb_fail "$name: $lines lines on stderr, expected 1"; }
    grep -Eq -- "$PATTERN" "$W/$name.stderr" || { cat "$W/$name.stderr" >&2; tb_fail "$name: message does not match $PATTERN"; }
    [ ! -s "$W/$name.stdout" ] || tb_fail "$name: wrote to stdout"
    [ -z "$(tb_mounts)" ] || tb_fail "$name: left mounted: $(tb_mounts)"
}

n=0
for f in "$TB_REPO"/tests/testbed/bad/*.ini; do
    PATTERN="^$f:[0-9]+: "
    expect_bad "parser-$(basename "$f" .ini)" "$f"
    [ ! -e "$W/out-parser-$(basename "$f" .ini)" ] || tb_fail "$f: output folder created"
    n=$((n + 1))
done
[ "$n" -ge 10 ] || tb_fail "only $n files in tests/testbed/bad"

mkdir -p "$W/data" "$W/busy"
touch "$W/busy/something"
good_mount="[guest web]
kind = mount
source = $W/data
workload = ls >/dev/null"
scenario() { # NAME BODY: write $W/NAME.ini with a [run] section and BODY
    printf '[run]\nduration = 5s\n\n%s\n' "$2" >"$W/$1.ini"
}

scenario no-source "[guest web]
kind = mount
source = $W/nowhere
workload = ls"
PATTERN="^$W/no-source.ini:[0-9]+: guest web: .*$W/nowhere.*(No such file|exist)"
expect_bad no-source "$W/no-source.ini"

scenario busy-mountpoint "[guest web]
kind = mount
source = $W/data
mountpoint = $W/busy
workload = ls"
PATTERN="^$W/busy-mountpoint.ini:[0-9]+: guest web: .*not empty"
expect_bad busy-mountpoint "$W/busy-mountpoint.ini"

scenario bad-trace "$good_mount

[guest db]
kind = swap
ram = 4M
memory = 16M
trace = $W/no-such.trace"
PATTERN="^$W/bad-trace.ini:[0-9]+: guest db: .*no-such.trace"
expect_bad bad-trace "$W/bad-trace.ini"

scenario shared "[guest web]
kind = mount
source = $W/data
options = shared_uuid=00112233445566778899aabbccddeeff
workload = ls"
PATTERN="^$W/shared.ini:[0-9]+: .*shared_uuid"
expect_bad shared "$W/shared.ini"

mkdir -p "$W/shared-mnt" "$W/data/inner"
scenario same-mountpoint "[guest one]
kind = mount
source = $W/data
mountpoint = $W/shared-mnt
workload = ls

[guest two]
kind = mount
source = $W/busy
options = nonempty
mountpoint = $W/shared-mnt
workload = ls"
PATTERN="^$W/same-mountpoint.ini:[0-9]+: guest (one|two): mountpoint .* is guest (one|two)'s mountpoint"
expect_bad same-mountpoint "$W/same-mountpoint.ini"

scenario in-other-source "$good_mount

[guest two]
kind = mount
source = $W/busy
mountpoint = $W/data/inner
workload = ls"
PATTERN="^$W/in-other-source.ini:[0-9]+: guest two: mountpoint .* is guest web's source"
expect_bad in-other-source "$W/in-other-source.ini"

scenario good "$good_mount"
mkdir -p "$W/full" && touch "$W/full/old-report"
PATTERN="output folder .*$W/full.* is not empty"
expect_bad not-empty "$W/good.ini" --output "$W/full"

PATTERN="no SCENARIO"
expect_bad no-scenario ""
PATTERN="unknown option --frobnicate"
expect_bad bad-option "$W/good.ini" --frobnicate
PATTERN="more than one SCENARIO"
expect_bad two-scenarios "$W/good.ini" "$W/good.ini"

"$TESTBED_BIN" --check --output "$W/checked" "$W/good.ini" >"$W/check.out" 2>&1 ||
    { cat "$W/check.out" >&2; tb_fail "--check of a good scenario failed"; }
[ ! -e "$W/checked" ] || tb_fail "--check created the output folder"
[ "$(grep -c . /proc/mounts)" = "$mounts_before" ] || tb_fail "/proc/mounts changed"
tb_pass "$n bad scenario files and 10 runner-level errors: one line, exit 2, nothing mounted or created; --check ok"

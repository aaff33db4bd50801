#!/bin/bash
# demo.sh - `make demo`'s first act: the testbed's bundled scenario
# (scenarios/demo.ini: a mount guest reading a real directory tree through
# a small guest cache and a swap guest beside it, on one tmem store whose
# capacity a sine wave squeezes), run with its live status line, then the
# summary and the paths of the reports and plots (testbed-out/demo/ of the
# checkout, replaced on each run). Needs root and /dev/fuse (mounts for
# real); prints a loud SKIPPED line and succeeds otherwise, like the other
# demos. Binary: $TESTBED_BIN (make exports it) or build/tmem-testbed.
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${TESTBED_BIN:-$repo/build/tmem-testbed}
if [ "$(id -u)" != 0 ]; then echo "SKIPPED: testbed demo: its guests mount for real: run as root"; exit 0; fi
if ! (exec 9<>/dev/fuse) 2>/dev/null; then echo "SKIPPED: testbed demo: /dev/fuse unusable"; exit 0; fi
cd "$repo" || exit 1
echo "--- testbed: scenarios/demo.ini (docs/testbed.md walks through it)"
exec "$BIN" --force --output testbed-out/demo scenarios/demo.ini

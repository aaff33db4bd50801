#!/bin/bash
# docs-tables.sh [--write] - the counter tables of the docs pages against
# the lists the code declares (tools/counters/counters.c prints them).
# Rule: each docs page's block between "<!-- counters:MODULE begin -->" and
# "<!-- counters:MODULE end -->" is exactly the table of MODULE's list.
# Without --write: a test (exit 1 and a diff on any difference); with
# --write: rewrite the blocks (make counter-docs).
set -u
cd "$(dirname "$0")/../.."
bin=${COUNTERS_BIN:-build/tools/counters/counters}
write=0
[ "${1:-}" = --write ] && write=1
[ -x "$bin" ] || { echo "docs-tables: $bin not built" >&2; exit 1; }
status=0
for pair in core:docs/core.md tmemfs:docs/fuse_cleancache.md swapsim:docs/swapsim.md; do
    module=${pair%%:*} page=${pair#*:}
    begin="<!-- counters:$module begin -->" end="<!-- counters:$module end -->"
    grep -qxF "$begin" "$page" && grep -qxF "$end" "$page" ||
        { echo "docs-tables: $page has no $begin ... $end block" >&2; status=1; continue; }
    want=$("$bin" "$module") || { status=1; continue; }
    if [ $write = 1 ]; then
        WANT=$want awk -v b="$begin" -v e="$end" '
            $0 == b { print; print ENVIRON["WANT"]; skip = 1; next }
            $0 == e { skip = 0 }
            !skip' "$page" >"$page.new" && mv "$page.new" "$page"
        echo "docs-tables: $page: $module table written"
    else
        got=$(awk -v b="$begin" -v e="$end" '$0 == e { in_block = 0 } in_block { print } $0 == b { in_block = 1 }' "$page")
        if [ "$got" != "$want" ]; then
            echo "FAIL: $page: the $module counter table differs from the code (make counter-docs rewrites it):" >&2
            diff <(echo "$want") <(echo "$got") >&2
            status=1
        else
            echo "ok: $page: $module counter table matches the code"
        fi
    fi
done
exit $status

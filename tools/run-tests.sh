#!/bin/bash
# run-tests.sh - run every test binary / script given, print one summary.
# A cmocka binary prints its own report; a shell test exits 0 (pass),
# 77 (skipped, it must print a loud SKIPPED line itself) or anything else
# (fail). The last line is "tests: N passed, N failed, N skipped" (counting
# programs, not cases) and the exit status is non-zero if anything failed.
set -u
passed=0 failed=0 skipped=0 failures=()
for t in "$@"; do
    echo "==> $t"
    start=$(date +%s)
    "$t"
    rc=$?
    end=$(date +%s)
    case $rc in
        0) passed=$((passed + 1)); echo "<== $t: ok ($((end - start)) s)";;
        77) skipped=$((skipped + 1)); echo "<== $t: SKIPPED";;
        *) failed=$((failed + 1)); failures+=("$t"); echo "<== $t: FAILED (exit $rc)";;
    esac
done
for f in "${failures[@]+"${failures[@]}"}"; do echo "FAILED: $f"; done
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

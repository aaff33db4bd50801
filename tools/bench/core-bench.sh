#!/bin/sh
# core-bench.sh - `make bench` for the tmem core: build/tools/bench/core_bench
# over pages cut from this project's own sources, documents and built
# binaries (text and machine code, as a page cache holds), the same on
# every run of a checkout. Env: BUILD (default build), CORE_BENCH_PAGES
# (default 65536).
set -e
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
exec "$build/tools/bench/core_bench" "${CORE_BENCH_PAGES:-65536}" \
    src docs tests tools README.md "$build/tmemfs" "$build/tmem-swapsim" "$build/libtmem.a"

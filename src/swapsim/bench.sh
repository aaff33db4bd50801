#!/bin/bash
# bench.sh - `make bench` for the swap simulator: simulated page faults
# handled per second on the default workload (every fault verified).
# Binary: $SWAPSIM_BIN or $BUILD/tmem-swapsim.
set -euo pipefail
BIN=${SWAPSIM_BIN:-${BUILD:-build}/tmem-swapsim}
"$BIN" --bench
"$BIN" --bench --exclusive-loads
"$BIN" --bench --write-through

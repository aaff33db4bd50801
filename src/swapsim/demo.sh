#!/bin/bash
# demo.sh - `make demo` for the swap simulator: the default workload (64 MiB
# guest RAM, 256 MiB address space, Zipf 0.99, 1M accesses) twice: with a
# 256 MiB store (room for everything), then with the store dropping to zero
# in the middle of a swap-out at access 500000 (frontswap shrinks back to
# the swap file, nothing lost). Binary: $SWAPSIM_BIN or $BUILD/tmem-swapsim.
set -euo pipefail
BIN=${SWAPSIM_BIN:-${BUILD:-build}/tmem-swapsim}
echo "--- swapsim: store with room"
"$BIN"
echo "--- swapsim: store capacity drops to 0 at access 500000 (inside a swap-out)"
"$BIN" --schedule 500000:0:swapout

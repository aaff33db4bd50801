#!/bin/sh
# install-deps.sh - install the Debian packages tmem-testbed needs, if missing.
#
# Idempotent: when every package is already installed it prints nothing and
# exits 0 without touching apt.  Runs non-interactively (CI has no terminal).
# Usage: tools/install-deps.sh [extra-package ...]
set -eu

packages="pkg-config make gcc libfuse3-dev fuse3 liblz4-dev libjemalloc-dev libcmocka-dev libxxhash-dev libzstd-dev liblzo2-dev libjansson-dev libinih-dev gnuplot-nox python3 fio attr redis-server libhiredis-dev jq $*"

missing=""
for p in $packages; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

[ -z "$missing" ] && exit 0

echo "install-deps: installing missing Debian packages:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-deps: need root to install:$missing (run as root or install sudo)" >&2
        exit 1
    fi
else
    SUDO=""
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-deps: done" >&2

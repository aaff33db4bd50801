# tmemfs-lib.sh - what the tools/fio scripts share (sourced, not run):
# mounting tmemfs in the background, unmounting, cleaning up on exit, and
# reading one counter out of the JSON statistics tmemfs writes at unmount.
#
# The sourcing script sets: mnt (the mount point), and optionally work (a
# scratch directory removed at exit) and extra_cleanup (a command run at
# exit). TMEMFS_BIN defaults to build/tmemfs of this checkout.

TMEMFS_BIN=${TMEMFS_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/tmemfs}
tmemfs_pid=

# Exit 0 with a loud SKIPPED line when /dev/fuse cannot be opened. $1: what.
tmemfs_require_fuse() {
    if ! (exec 9<>/dev/fuse) 2>/dev/null; then echo "SKIPPED: $1: /dev/fuse unusable"; exit 0; fi
}

tmemfs_cleanup() {
    [ -n "${mnt:-}" ] && mountpoint -q "$mnt" && { fusermount3 -u "$mnt" || fusermount3 -u -z "$mnt"; }
    [ -n "$tmemfs_pid" ] && wait "$tmemfs_pid" 2>/dev/null
    [ -n "${extra_cleanup:-}" ] && eval "$extra_cleanup"
    [ -n "${work:-}" ] && rm -rf "$work"
    return 0
}
trap tmemfs_cleanup EXIT
trap 'exit 1' INT TERM

# tmemfs_mount SOURCE [tmemfs options...]: mount SOURCE on $mnt in the
# background (foreground daemon, stderr discarded) and wait until it is up.
tmemfs_mount() {
    local src=$1
    shift
    "$TMEMFS_BIN" -f "$@" "$src" "$mnt" 2>/dev/null &
    tmemfs_pid=$!
    for _ in $(seq 100); do mountpoint -q "$mnt" && return 0; sleep 0.05; done
    echo "$(basename "$0"): tmemfs mount of $src on $mnt failed" >&2
    exit 1
}

# Unmount $mnt and wait for the daemon (it writes its stats_json then).
tmemfs_umount() {
    fusermount3 -u "$mnt"
    wait "$tmemfs_pid"
    tmemfs_pid=
}

# json_counter FILE NAME: the value of "NAME" in a tmemfs stats JSON file.
json_counter() {
    tr ',{}' '\n\n\n' <"$1" | awk -F: -v k="\"$2\"" '{ gsub(/ /, "") } $1 == k { print $2 }'
}

# The demos' table (tmemfs-reread-demo.sh, tmemfs-compile-demo.sh): one
# row per run from its stats JSON, then the headline of off against on.
demo_header() {
    printf "%-11s %18s %11s %11s %11s %11s %10s\n" cleancache backing_pages_read succ_gets \
        hdd_s sata_ssd_s nvme_s wall_s
}

# demo_row NAME JSON WALL_S: print the row; remember it as NAME for the headline.
demo_row() {
    local name=$1 json=$2 wall=$3
    eval "demo_${name}=\"$(json_counter "$json" backing_pages_read) $(json_counter "$json" device_time_us_hdd) \
$(json_counter "$json" device_time_us_sata_ssd) $(json_counter "$json" device_time_us_nvme)\""
    awk -v c="$name" -v br="$(json_counter "$json" backing_pages_read)" -v sg="$(json_counter "$json" succ_gets)" \
        -v h="$(json_counter "$json" device_time_us_hdd)" -v s="$(json_counter "$json" device_time_us_sata_ssd)" \
        -v n="$(json_counter "$json" device_time_us_nvme)" -v w="$wall" 'BEGIN {
        printf "%-11s %18d %11d %11.3f %11.3f %11.3f %10.2f\n", c, br, sg, h / 1e6, s / 1e6, n / 1e6, w }'
}

# demo_headline: "cleancache: X % fewer backing reads, Y % less device time"
# from the rows named off and on.
demo_headline() {
    # shellcheck disable=SC2154
    echo "$demo_off $demo_on" | awk 'function pct(a, b) { return a ? 100 * (a - b) / a : 0 }
        { printf "cleancache: %.1f%% fewer backing reads, %.1f%% less device time on a SATA SSD (hdd %.1f%%, nvme %.1f%%)\n",
                 pct($1, $5), pct($3, $7), pct($2, $6), pct($4, $8) }'
}

# seconds_since START (date +%s.%N)
seconds_since() {
    awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { print e - s }'
}

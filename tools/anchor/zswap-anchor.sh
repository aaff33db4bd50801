#!/bin/bash
# zswap-anchor.sh - run one tmem-swapsim workload two ways, under the real
# kernel's zswap and under tmem-swapsim, and print them side by side.
#
# For each zswap pool percent given:
#   kernel   a memory cgroup limited to the guest RAM (plus the program's own
#            memory, measured), a swap file twice the address space, zswap on
#            (compressor, max_pool_percent, accept_threshold_percent),
#            vm.page-cluster=0; anchor_workload replays swapsim's access
#            stream and page bytes in it and reads /proc/vmstat and zswap's
#            debugfs numbers before and after its access loop.
#            With --repeat N the kernel side runs N times (its own spread).
#            The program also samples, every --sample-every accesses, the
#            mapped pages of its address space and the cgroup's memory.stat
#            (the RAM the data really has: mapped plus swap cache) and the
#            vmstat/debugfs counters (how fast zswap's shrink worker writes
#            back against the stores it refuses).
#   swapsim  tmem-swapsim --model zswap --compressor C --accept-threshold T
#            --reclaim lru (default) --zswap-second-chance on (default;
#            --second-chance, --rotation-cost pass the worker's options,
#            --zswap-pool the pool count, --swapsim-arg anything else
#            on) with the same stream (same options and
#            seed) and a store capacity equal to zswap's pool limit:
#            totalram_pages * max_pool_percent / 100 pages (mm/zswap.c,
#            zswap_max_pages), in bytes. By default its RAM, its worker's
#            delay and its writeback pace are the kernel runs' measured
#            ones at that pool size (--swapsim-ram, --worker-delay,
#            --writeback-pace: a number overrides).
#   worker   with --trace-worker on (default) each kernel run also records
#            zswap's shrink worker through tracefs events (workqueue
#            queue/start/end of shrink_worker, reclaim's write_folio, write
#            bios) and worker-trace.awk summarises it (worker-P-RUN.json):
#            wake-ups, the swap-outs between a wake-up's queueing and its
#            start (swapsim's --worker-delay), and the swap-outs during the
#            wake-ups that wrote back (the pace while it writes back).
# One table row per kernel run, also written as CSV and JSON under --out.
# --reuse-kernel DIR runs the swapsim side only, against DIR's kernel runs
# (no root, no host change).
#
# Host settings changed (each recorded before anything changes and restored
# by an EXIT/INT/TERM trap, also on error; "restored: ..." lines):
#   /sys/module/zswap/parameters/{enabled,compressor,max_pool_percent,
#   accept_threshold_percent,shrinker_enabled}, vm.page-cluster,
#   vm.swappiness (only with --swappiness), debugfs (mounted if it was not),
#   with --trace-worker on: tracefs (mounted if it was not), its
#   buffer_size_kb and five events' enable and filter,
#   a swap file (created, swapon/swapoff, removed), a memory cgroup (created
#   under this shell's own memory cgroup, removed).
# Refuses (one line, exit 1) unless root, when any swap is active, when the
# cgroup v1 memory controller or zswap is missing. --dry-run prints what it
# would change and the saved values, and changes nothing.
# docs/swapsim.md, "Checked against the kernel's zswap", explains the table.
set -euo pipefail

PROG=zswap-anchor
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

# Test hooks (tests/anchor/anchor_test.sh): where the refusal checks look.
PROC_SWAPS=${ZSWAP_ANCHOR_PROC_SWAPS:-/proc/swaps}
CGROUP_ROOT=${ZSWAP_ANCHOR_CGROUP_ROOT:-/sys/fs/cgroup/memory}
ZSWAP_PARAMS=${ZSWAP_ANCHOR_ZSWAP_PARAMS:-/sys/module/zswap/parameters}
DEBUGFS=/sys/kernel/debug
TRACEFS=${ZSWAP_ANCHOR_TRACEFS:-/sys/kernel/tracing}
# the events --trace-worker records (worker-trace.awk reads them)
trace_events=(workqueue/workqueue_queue_work workqueue/workqueue_execute_start
              workqueue/workqueue_execute_end vmscan/mm_vmscan_write_folio block/block_bio_queue)

ram=256M wss=4G accesses=2000000 alpha=0.99 writes=30 seed=1 content=
pool_percents=1,2,5,20 compressor=lzo accept=90 swappiness=
swap_dir=/var/tmp out=anchor-out dry_run=0 repeat=1 sample_every=
pace=measured reclaim=lru swapsim_ram=measured reuse_kernel=
second_chance=on rotation_cost= zswap_pool= swapsim_extra=()
trace_worker=on worker_delay=measured
workload_bin=$top/build/tools/anchor/anchor_workload
swapsim_bin=$top/build/tmem-swapsim

usage() {
    cat <<EOF
usage: $0 [options]        (as root; changes host settings and restores them)
Run a tmem-swapsim workload under the kernel's zswap and under tmem-swapsim;
print served share, major faults, swap-outs, disk writes (and writebacks) and
pool compression ratio for each zswap pool percent.
  --ram SIZE             guest RAM: the memory cgroup's limit (default $ram)
  --wss SIZE             address space (default $wss)
  --accesses N           accesses (default $accesses)
  --zipf-alpha A         Zipf exponent (default $alpha)
  --writes PCT           share of writes (default $writes)
  --content Z,D,C        content mix in percent (default: swapsim's 10,10,50)
  --seed N               seed of stream and contents (default $seed)
  --pool-percents LIST   zswap max_pool_percent values, e.g. 1,2,5,20 (default $pool_percents)
  --compressor NAME      zswap's compressor, also swapsim's (default $compressor)
  --accept-threshold PCT zswap accept_threshold_percent (default $accept)
  --writeback-pace N|measured
                         swapsim's zswap shrink-worker pace: entries written
                         back per 100 swap-outs while refusing, 0 = all at
                         once (default $pace: with a worker trace the
                         kernel's zswpwb per 100 swap-outs during the wake-ups
                         that wrote back; without one 100 * zswpwb / (pswpout
                         - zswpwb); at that pool size, mean of its runs)
  --worker-delay N|measured
                         swapsim's --worker-delay: swap-outs between a refused
                         store that queues the worker and the wake-up's start
                         (default $worker_delay: the traced kernel runs' mean
                         at that pool size; 0 without a trace)
  --trace-worker on|off  record the kernel's shrink worker through tracefs
                         events during each kernel run (default $trace_worker);
                         its delay and its pace while writing back then go to
                         swapsim (off: the pace from the counters, delay 0)
  --second-chance on|off swapsim's --zswap-second-chance (default $second_chance:
                         the kernel's referenced bit and 16-failure budget)
  --rotation-cost N      swapsim's --rotation-cost: what a rotation costs its
                         paced worker, in hundredths of a writeback (default:
                         swapsim's, 0; the measured pace counts writebacks only)
  --reclaim clock|lru    swapsim's page replacement (default $reclaim)
  --zswap-pool zspages|bytes
                         swapsim's --zswap-pool: what its pool limit counts
                         (default: swapsim's, zspages, as the kernel; bytes:
                         the 16-byte-class count without fragmentation)
  --swapsim-arg ARG      pass ARG on to tmem-swapsim as it is (repeatable)
  --swapsim-ram SIZE|measured
                         swapsim's RAM (default $swapsim_ram: the mean number
                         of the data's pages in the kernel's RAM, mapped or
                         in the swap cache, over the run's second half at
                         that pool size; SIZE: that, e.g. the same as --ram)
  --repeat N             kernel runs per pool percent (default $repeat)
  --sample-every N       kernel-side samples every N accesses (default N/40)
  --reuse-kernel DIR     no kernel runs: take the kernel side from an earlier
                         --out DIR (kernel-P-RUN.json) and run swapsim only;
                         changes nothing on the host, needs no root
  --swappiness N         also set vm.swappiness (default: leave it; the
                         cgroup inherits it)
  --swap-dir DIR         where the swap file goes (default $swap_dir; ext4/xfs)
  --out DIR              results: rows.csv, rows.json, per-run JSON (default $out)
  --workload-bin PATH    anchor_workload (default build/tools/anchor/anchor_workload)
  --swapsim-bin PATH     tmem-swapsim (default build/tmem-swapsim)
  --dry-run              print the settings it would change and their saved
                         values; change nothing
  --help                 this text
SIZE: bytes with an optional K, M, G or T suffix (powers of 1024).
EOF
}

die() { echo "$PROG: $*" >&2; exit 1; }
bad_arg() { echo "$PROG: $1 '$2': $3" >&2; exit 2; }

# SIZE (the project's size grammar, common/size.h) -> bytes on stdout.
size_bytes() {
    local s=$1 n u
    [[ $s =~ ^([0-9]+)([KkMmGgTt]?)(B|iB)?$ ]] || return 1
    n=${BASH_REMATCH[1]} u=${BASH_REMATCH[2]}
    [[ -z ${BASH_REMATCH[3]} || -n $u ]] || return 1
    case $u in
        K|k) n=$((n * 1024));; M|m) n=$((n * 1024 ** 2));;
        G|g) n=$((n * 1024 ** 3));; T|t) n=$((n * 1024 ** 4));;
    esac
    echo "$n"
}

need_value() { [[ $# -ge 2 ]] || bad_arg "$1" "" "needs a value"; }
while [[ $# -gt 0 ]]; do
    case $1 in
        --ram) need_value "$@"; ram=$2; shift 2;;
        --wss) need_value "$@"; wss=$2; shift 2;;
        --accesses) need_value "$@"; accesses=$2; shift 2;;
        --zipf-alpha) need_value "$@"; alpha=$2; shift 2;;
        --writes) need_value "$@"; writes=$2; shift 2;;
        --content) need_value "$@"; content=$2; shift 2;;
        --seed) need_value "$@"; seed=$2; shift 2;;
        --pool-percents) need_value "$@"; pool_percents=$2; shift 2;;
        --compressor) need_value "$@"; compressor=$2; shift 2;;
        --accept-threshold) need_value "$@"; accept=$2; shift 2;;
        --swappiness) need_value "$@"; swappiness=$2; shift 2;;
        --writeback-pace) need_value "$@"; pace=$2; shift 2;;
        --reclaim) need_value "$@"; reclaim=$2; shift 2;;
        --second-chance) need_value "$@"; second_chance=$2; shift 2;;
        --rotation-cost) need_value "$@"; rotation_cost=$2; shift 2;;
        --worker-delay) need_value "$@"; worker_delay=$2; shift 2;;
        --trace-worker) need_value "$@"; trace_worker=$2; shift 2;;
        --zswap-pool) need_value "$@"; zswap_pool=$2; shift 2;;
        --swapsim-arg) need_value "$@"; swapsim_extra+=("$2"); shift 2;;
        --swapsim-ram) need_value "$@"; swapsim_ram=$2; shift 2;;
        --repeat) need_value "$@"; repeat=$2; shift 2;;
        --reuse-kernel) need_value "$@"; reuse_kernel=$2; shift 2;;
        --sample-every) need_value "$@"; sample_every=$2; shift 2;;
        --swap-dir) need_value "$@"; swap_dir=$2; shift 2;;
        --out) need_value "$@"; out=$2; shift 2;;
        --workload-bin) need_value "$@"; workload_bin=$2; shift 2;;
        --swapsim-bin) need_value "$@"; swapsim_bin=$2; shift 2;;
        --dry-run) dry_run=1; shift;;
        --help|-h) usage; exit 0;;
        *) echo "$PROG: unknown option '$1' (--help lists them)" >&2; exit 2;;
    esac
done

# ------------------------------------------------------------ argument checks
ram_bytes=$(size_bytes "$ram") || bad_arg --ram "$ram" "expected a SIZE such as 1G"
wss_bytes=$(size_bytes "$wss") || bad_arg --wss "$wss" "expected a SIZE such as 4G"
page=$(getconf PAGESIZE)
((ram_bytes >= page)) || bad_arg --ram "$ram" "must be at least one page"
((wss_bytes > ram_bytes)) || bad_arg --wss "$wss" "the address space must be larger than --ram"
[[ $accesses =~ ^[1-9][0-9]*$ ]] || bad_arg --accesses "$accesses" "expected a positive number"
((accesses >= 2)) || bad_arg --accesses "$accesses" "expected at least 2"
[[ $seed =~ ^[0-9]+$ ]] || bad_arg --seed "$seed" "expected a number"
[[ $alpha =~ ^[0-9]*\.?[0-9]+$ ]] || bad_arg --zipf-alpha "$alpha" "expected a number in (0, 10]"
[[ $writes =~ ^[0-9]*\.?[0-9]+$ ]] && awk -v w="$writes" 'BEGIN { exit !(w <= 100) }' ||
    bad_arg --writes "$writes" "expected a percentage 0..100"
[[ -z $content || $content =~ ^[0-9.]+,[0-9.]+,[0-9.]+$ ]] ||
    bad_arg --content "$content" "expected Z,D,C percentages"
[[ $pool_percents =~ ^[0-9]+(,[0-9]+)*$ ]] ||
    bad_arg --pool-percents "$pool_percents" "expected a comma-separated list of percents, e.g. 1,2,5,20"
IFS=, read -r -a percents <<<"$pool_percents"
for p in "${percents[@]}"; do
    ((p >= 1 && p <= 100)) || bad_arg --pool-percents "$pool_percents" "each percent must be 1..100"
done
[[ $accept =~ ^[0-9]+$ ]] && ((accept <= 100)) ||
    bad_arg --accept-threshold "$accept" "expected a percentage 0..100"
[[ $compressor =~ ^[a-z0-9_-]+$ ]] || bad_arg --compressor "$compressor" "expected a compressor name such as lzo"
[[ -z $swappiness || ($swappiness =~ ^[0-9]+$ && $swappiness -le 200) ]] ||
    bad_arg --swappiness "$swappiness" "expected 0..200"
[[ $pace == measured || ($pace =~ ^[0-9]+$ && $pace -le 100000) ]] ||
    bad_arg --writeback-pace "$pace" "expected a number of entries per 100 swap-outs, or measured"
[[ $reclaim == clock || $reclaim == lru ]] || bad_arg --reclaim "$reclaim" "expected clock or lru"
[[ $second_chance == on || $second_chance == off ]] ||
    bad_arg --second-chance "$second_chance" "expected on or off"
[[ $worker_delay == measured || ($worker_delay =~ ^[0-9]+$ && $worker_delay -le 1000000) ]] ||
    bad_arg --worker-delay "$worker_delay" "expected a number of swap-outs, or measured"
[[ $trace_worker == on || $trace_worker == off ]] || bad_arg --trace-worker "$trace_worker" "expected on or off"
[[ -z $zswap_pool || $zswap_pool == zspages || $zswap_pool == bytes ]] ||
    bad_arg --zswap-pool "$zswap_pool" "expected zspages or bytes"
[[ -z $rotation_cost || ($rotation_cost =~ ^[0-9]+$ && $rotation_cost -le 100) ]] ||
    bad_arg --rotation-cost "$rotation_cost" "expected hundredths of a writeback, 0 to 100"
if [[ -n $swapsim_ram && $swapsim_ram != measured ]]; then
    swapsim_ram_bytes=$(size_bytes "$swapsim_ram") && ((swapsim_ram_bytes >= page)) ||
        bad_arg --swapsim-ram "$swapsim_ram" "expected a SIZE such as 1G, or measured"
fi
[[ $repeat =~ ^[1-9][0-9]*$ ]] && ((repeat <= 20)) || bad_arg --repeat "$repeat" "expected 1..20"
[[ -n $sample_every ]] || sample_every=$(( accesses / 40 > 0 ? accesses / 40 : 1 ))
[[ $sample_every =~ ^[1-9][0-9]*$ ]] || bad_arg --sample-every "$sample_every" "expected a positive number"

swap_bytes=$((2 * wss_bytes))
totalram_pages=$(awk '/^MemTotal:/ { print int($2 * 1024 / '"$page"') }' /proc/meminfo)
if [[ -n $reuse_kernel ]]; then
    [[ $dry_run -eq 0 ]] || bad_arg --reuse-kernel "$reuse_kernel" "changes nothing anyway: no --dry-run"
    for p in "${percents[@]}"; do
        for ((r = 1; r <= repeat; r++)); do
            [[ -f $reuse_kernel/kernel-$p-$r.json ]] ||
                bad_arg --reuse-kernel "$reuse_kernel" "has no kernel-$p-$r.json (--pool-percents and --repeat must match)"
        done
    done
    [[ -x $swapsim_bin ]] || die "$swapsim_bin: not built (make)"
    mkdir -p "$out"
    echo "$PROG: kernel side from $reuse_kernel: no host setting changes"
else
# ------------------------------------------------------------ refusals
[[ $(id -u) -eq 0 ]] || die "must run as root: it changes zswap, sysctl, swap and cgroup settings (nothing was changed)"
if [[ ! -r $PROC_SWAPS ]] || [[ $(tail -n +2 "$PROC_SWAPS" | grep -c .) -ne 0 ]]; then
    die "refusing: a swap device is active ($(tail -n +2 "$PROC_SWAPS" | awk '{print $1}' | paste -sd, -)); swapoff it first (nothing was changed)"
fi
[[ -f $CGROUP_ROOT/memory.limit_in_bytes ]] ||
    die "refusing: no cgroup v1 memory controller at $CGROUP_ROOT (nothing was changed)"
[[ -d $ZSWAP_PARAMS && -f $ZSWAP_PARAMS/enabled ]] ||
    die "refusing: this kernel has no zswap ($ZSWAP_PARAMS missing) (nothing was changed)"
grep -qw "$compressor" /proc/crypto 2>/dev/null ||
    die "refusing: the kernel has no '$compressor' compressor for zswap (see /proc/crypto) (nothing was changed)"
if [[ $dry_run -eq 0 ]]; then
    [[ -x $workload_bin ]] || die "$workload_bin: not built (make BUILD=... \$(BUILD)/tools/anchor/anchor_workload, or make anchor)"
    [[ -x $swapsim_bin ]] || die "$swapsim_bin: not built (make, or make anchor)"
    [[ -d $swap_dir ]] || die "--swap-dir $swap_dir: no such directory"
fi

# Our own memory cgroup (the child goes under it, not under the root).
own_cg=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
cg_parent=$CGROUP_ROOT${own_cg%/}
[[ -d $cg_parent ]] || cg_parent=$CGROUP_ROOT

# ------------------------------------------------------------ saved settings
zswap_names=(enabled compressor max_pool_percent accept_threshold_percent shrinker_enabled)
sysctl_names=(vm.page-cluster vm.swappiness)
declare -A saved
for n in "${zswap_names[@]}"; do
    [[ -f $ZSWAP_PARAMS/$n ]] && saved[zswap.$n]=$(cat "$ZSWAP_PARAMS/$n")
done
for n in "${sysctl_names[@]}"; do saved[$n]=$(sysctl -n "$n"); done
if mountpoint -q "$DEBUGFS"; then saved[debugfs]=mounted; else saved[debugfs]=unmounted; fi
if [[ $trace_worker == on ]]; then
    if mountpoint -q "$TRACEFS"; then saved[tracefs]=mounted; else saved[tracefs]=unmounted; fi
fi
saved[swap]=none
saved[cgroup]=none

# The current value of a saved setting.
current_value() {
    local v
    case $1 in
        zswap.*) cat "$ZSWAP_PARAMS/${1#zswap.}";;
        vm.*) sysctl -n "$1";;
        debugfs) if mountpoint -q "$DEBUGFS"; then echo mounted; else echo unmounted; fi;;
        tracefs) if mountpoint -q "$TRACEFS"; then echo mounted; else echo unmounted; fi;;
        swap) v=$(tail -n +2 "$PROC_SWAPS" | awk '{print $1}' | paste -sd, -); echo "${v:-none}";;
        cgroup) v=$(compgen -G "$cg_parent/tmem-anchor-*" | paste -sd, -); echo "${v:-none}";;
    esac
}
print_settings() { # $1: label
    local k
    for k in $(printf '%s\n' "${!saved[@]}" | sort); do
        if [[ $1 == saved ]]; then
            printf '%s: %-34s %s\n' "$1" "$k" "${saved[$k]}"
        else
            printf '%s: %-34s %s\n' "$1" "$k" "$(current_value "$k")"
        fi
    done
}

swap_file=$swap_dir/tmem-anchor-$$.swap
cg=$cg_parent/tmem-anchor-$$
echo "$PROG: will change (recorded first, restored on exit):"
echo "  zswap: enabled=Y compressor=$compressor max_pool_percent=<each of $pool_percents> accept_threshold_percent=$accept shrinker_enabled=N"
echo "  vm.page-cluster=0${swappiness:+ vm.swappiness=$swappiness}"
echo "  swap file $swap_file ($((2 * wss_bytes)) bytes, swapon/swapoff, removed)"
echo "  memory cgroup $cg (limit $ram_bytes bytes + the program's own memory, removed)"
[[ ${saved[debugfs]} == mounted ]] || echo "  debugfs mounted on $DEBUGFS (unmounted again)"
if [[ $trace_worker == on ]]; then
    [[ ${saved[tracefs]} == mounted ]] || echo "  tracefs mounted on $TRACEFS (unmounted again)"
    echo "  tracefs: buffer_size_kb=65536, and the filter and enable of the events ${trace_events[*]##*/} (recorded when first read, restored)"
fi
print_settings saved
if [[ $dry_run -eq 1 ]]; then
    echo "$PROG: dry run: nothing changed"
    exit 0
fi

# ------------------------------------------------------------ restore trap
workload_pid=
restored=0
restore() {
    [[ $restored -eq 0 ]] || return 0
    restored=1
    set +e
    if [[ -n $workload_pid ]] && kill -0 "$workload_pid" 2>/dev/null; then
        kill "$workload_pid"; wait "$workload_pid" 2>/dev/null
        echo "restored: stopped workload pid $workload_pid"
    fi
    if grep -q "^$swap_file " /proc/swaps; then swapoff "$swap_file" && echo "restored: swapoff $swap_file"; fi
    if [[ -e $swap_file ]]; then rm -f "$swap_file" && echo "restored: removed $swap_file"; fi
    if [[ -d $cg ]]; then rmdir "$cg" && echo "restored: removed cgroup $cg"; fi
    # zswap: enabled last, so the others are back before it may turn on
    for n in compressor max_pool_percent accept_threshold_percent shrinker_enabled enabled; do
        [[ -n ${saved[zswap.$n]+x} ]] || continue
        if [[ $(cat "$ZSWAP_PARAMS/$n") != "${saved[zswap.$n]}" ]]; then
            echo "${saved[zswap.$n]}" >"$ZSWAP_PARAMS/$n"
        fi
        echo "restored: zswap.$n = $(cat "$ZSWAP_PARAMS/$n")"
    done
    for n in "${sysctl_names[@]}"; do
        sysctl -q -w "$n=${saved[$n]}" >/dev/null
        echo "restored: $n = $(sysctl -n "$n")"
    done
    local trace_bad=0
    trace_restore || trace_bad=1
    if [[ ${saved[debugfs]} == unmounted ]] && mountpoint -q "$DEBUGFS"; then
        umount "$DEBUGFS" && echo "restored: debugfs unmounted"
    fi
    local bad=0 k
    for k in "${!saved[@]}"; do
        [[ $(current_value "$k") == "${saved[$k]}" ]] ||
            { echo "$PROG: NOT RESTORED: $k is '$(current_value "$k")', was '${saved[$k]}'" >&2; bad=1; }
    done
    print_settings after
    [[ $bad -eq 0 && $trace_bad -eq 0 ]] && echo "$PROG: every setting is as it was"
}
trap restore EXIT

# ------------------------------------------------------------ worker trace
# tracefs settings as found (recorded by trace_setup before it changes
# them: when tracefs was not mounted they can only be read once it is).
declare -A trace_saved
trace_reader=
trace_on=0
trace_read() { # $1: a key of trace_saved
    case $1 in
        # an unused buffer reads "7 (expanded: 1408)": its size once used
        buffer_size_kb) sed -n 's/.*expanded: \([0-9]*\).*/\1/p; t; s/ .*//; p' "$TRACEFS/buffer_size_kb";;
        */enable|*/filter) head -n 1 "$TRACEFS/events/$1";;
    esac
}
# Mount tracefs if needed, record its settings, set the filters. Leaves
# trace_on 0 (with a warning) where the events or shrink_worker are missing.
trace_setup() {
    local e fn
    [[ $trace_worker == on ]] || return 0
    if [[ ${saved[tracefs]} == unmounted ]]; then
        mount -t tracefs nodev "$TRACEFS" 2>/dev/null ||
            { echo "$PROG: warning: cannot mount tracefs on $TRACEFS: no worker trace" >&2; return 0; }
    fi
    fn=$(awk '$3 == "shrink_worker" { print $1; exit }' /proc/kallsyms)
    for e in "${trace_events[@]}"; do
        [[ -f $TRACEFS/events/$e/enable ]] ||
            { echo "$PROG: warning: no tracefs event $e: no worker trace" >&2; return 0; }
    done
    [[ -n $fn && $fn != 0000000000000000 ]] ||
        { echo "$PROG: warning: shrink_worker not in /proc/kallsyms: no worker trace" >&2; return 0; }
    trace_saved[buffer_size_kb]=$(trace_read buffer_size_kb)
    for e in "${trace_events[@]}"; do
        trace_saved[$e/enable]=$(trace_read "$e/enable")
        trace_saved[$e/filter]=$(trace_read "$e/filter")
    done
    for e in "${!trace_saved[@]}"; do
        if [[ -z ${trace_saved[$e]} ]]; then
            echo "$PROG: warning: cannot read $TRACEFS's $e: no worker trace" >&2
            trace_saved=()
            return 0
        fi
    done
    echo 65536 >"$TRACEFS/buffer_size_kb"
    for e in "${trace_events[@]:0:3}"; do echo "function == 0x$fn" >"$TRACEFS/events/$e/filter"; done
    echo 'rwbs ~ "*W*"' >"$TRACEFS/events/block/block_bio_queue/filter"
    trace_on=1
}
# Record trace_pipe into $1 while the workload runs (trace_stop ends it).
trace_start() {
    local e
    [[ $trace_on -eq 1 ]] || return 0
    echo >"$TRACEFS/trace"
    for e in "${trace_events[@]}"; do echo 1 >"$TRACEFS/events/$e/enable"; done
    cat "$TRACEFS/trace_pipe" >"$1" &
    trace_reader=$!
}
trace_stop() {
    local e
    [[ -n $trace_reader ]] || return 0
    for e in "${trace_events[@]}"; do echo 0 >"$TRACEFS/events/$e/enable"; done
    sleep 1 # trace_pipe drains what is left
    kill "$trace_reader" 2>/dev/null; wait "$trace_reader" 2>/dev/null || true
    trace_reader=
    echo >"$TRACEFS/trace"
}
trace_restore() {
    local k v bad=0
    trace_stop
    if [[ ${#trace_saved[@]} -gt 0 ]]; then
        for k in "${!trace_saved[@]}"; do
            v=${trace_saved[$k]}
            case $k in
                buffer_size_kb) echo "$v" >"$TRACEFS/buffer_size_kb";;
                */filter) if [[ $v == none ]]; then echo 0; else echo "$v"; fi >"$TRACEFS/events/$k";;
                *) echo "$v" >"$TRACEFS/events/$k";;
            esac
        done
        for k in $(printf '%s\n' "${!trace_saved[@]}" | sort); do
            v=$(trace_read "$k")
            echo "restored: tracing.$k = $v"
            # the kernel rounds a buffer size up (1408 reads back as 1410)
            [[ $v == "${trace_saved[$k]}" ]] ||
                { [[ $k == buffer_size_kb ]] && ((v >= trace_saved[$k] && v - trace_saved[$k] <= 8)); } ||
                { echo "$PROG: NOT RESTORED: tracing.$k is '$v', was '${trace_saved[$k]}'" >&2; bad=1; }
        done
    fi
    if [[ ${saved[tracefs]:-} == unmounted ]] && mountpoint -q "$TRACEFS"; then
        umount "$TRACEFS" && echo "restored: tracefs unmounted"
    fi
    return $bad
}
trap 'echo "$PROG: interrupted" >&2; exit 130' INT
trap 'echo "$PROG: terminated" >&2; exit 143' TERM

# ------------------------------------------------------------ setup
mkdir -p "$out"
if [[ ${saved[debugfs]} == unmounted ]]; then mount -t debugfs none "$DEBUGFS"; fi
zswap_debug=$DEBUGFS/zswap # appears once zswap has been enabled
trace_setup

workload_args=(--wss "$wss_bytes" --accesses "$accesses" --workload zipf --zipf-alpha "$alpha"
               --writes "$writes" --seed "$seed")
[[ -z $content ]] || workload_args+=(--content "$content")

# Run "$@" inside cgroup $cg, in the background; wait for it.
run_in_cgroup() {
    bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "$cg" "$@" &
    workload_pid=$!
    local rc=0
    wait "$workload_pid" || rc=$?
    workload_pid=
    return $rc
}

# The program's own memory (arrays, generator tables, the address space's
# page tables, its binary): --setup-only in an unlimited cgroup.
mkdir "$cg"
run_in_cgroup "$workload_bin" "${workload_args[@]}" --setup-only --cgroup "$cg" --json "$out/setup.json"
rmdir "$cg"
own_bytes=$(jq .cgroup_usage_bytes "$out/setup.json")
allowance=$(( (own_bytes + 1048575) / 1048576 * 1048576 ))
limit=$((ram_bytes + allowance))
echo "$PROG: the program's own memory in the cgroup: $own_bytes bytes (page tables $(jq .page_table_bytes "$out/setup.json")); limit = RAM $ram_bytes + $allowance = $limit bytes"

fallocate -l "$swap_bytes" "$swap_file"
chmod 600 "$swap_file"
mkswap -q "$swap_file" >/dev/null
fi # not --reuse-kernel

# swapsim's mode: the zswap model (lzo, zswap's accept threshold).
swapsim_help=$("$swapsim_bin" --help)
grep -q -- '--model frontswap|zswap' <<<"$swapsim_help" ||
    die "$swapsim_bin has no --model zswap: rebuild it (make)"
swapsim_mode=(--model zswap --compressor "$compressor" --accept-threshold "$accept" --reclaim "$reclaim"
              --zswap-second-chance "$second_chance")
[[ -z $rotation_cost ]] || swapsim_mode+=(--rotation-cost "$rotation_cost")
if [[ -n $zswap_pool ]]; then
    grep -q -- '--zswap-pool' <<<"$swapsim_help" ||
        die "$swapsim_bin has no --zswap-pool: rebuild it (make)"
    swapsim_mode+=(--zswap-pool "$zswap_pool")
fi
swapsim_mode+=("${swapsim_extra[@]}")
grep -q -- '--zswap-second-chance' <<<"$swapsim_help" ||
    die "$swapsim_bin has no --zswap-second-chance: rebuild it (make)"
if [[ $pace != measured ]]; then swapsim_mode+=(--writeback-pace "$pace"); fi
echo "$PROG: swapsim mode: ${swapsim_mode[*]}${swapsim_ram:+, RAM: $swapsim_ram}$([[ $pace != measured ]] || echo ", writeback pace: measured")"

# ------------------------------------------------------------ the runs
csv=$out/rows.csv
echo "pool_percent,run,capacity_bytes,kernel_served_share,swapsim_served_share,kernel_major_faults,swapsim_major_faults,kernel_swap_outs,swapsim_swap_outs,kernel_disk_writes,swapsim_disk_writes,kernel_writebacks,swapsim_writebacks,kernel_pool_ratio,swapsim_pool_ratio,kernel_swpout_zero,swapsim_swpout_zero,kernel_swpin_zero,swapsim_swpin_zero,kernel_pool_limit_hit,swapsim_pool_limit_hit,kernel_data_pages,kernel_mapped_pages,swapsim_ram_pages,kernel_pace,swapsim_pace,kernel_wall_s,swapsim_wall_s,mismatches,kernel_wakeups,swapsim_wakeups,kernel_worker_delay,swapsim_worker_delay,kernel_writeback_wakeup_pace" >"$csv"
table_head="| pool % | run | capacity | served share k / s | major faults k / s | swap-outs k / s | disk writes k / s | of which writeback k / s | pool ratio k / s | zero out k / s | zero in k / s |"
rows=()
fmt() { awk -v x="$1" 'BEGIN { if (x ~ /^[0-9.e+-]+$/) printf "%.3f", x; else printf "%s", x }'; }
mean() { printf '%s\n' "$@" | awk '{ s += $1; n++ } END { if (n) printf "%.6f", s / n; else print 0 }'; }

# The kernel's numbers over the access loop, from its summary $1:
# share major outs writes wb ratio zout zin limit_hit data_pages pace wall
# mismatches mapped_pages. data_pages: the data's pages in RAM, mapped
# (pagemap's present bit) or in the swap cache (the cgroup's anon LRU pages
# not mapped: active_anon + inactive_anon - rss); mapped_pages: the mapped
# ones only; both means over the second half of the run.
kernel_numbers() {
    jq -r --argjson half $((accesses / 2)) --argjson page "$page" '
        .vmstat_delta as $v | (.zswap_after // {}) as $z | (.zswap_before // {}) as $b |
        [.samples[]? | select(.at > $half)] as $late |
        [$late[] | select(.memory_stat.inactive_anon != null and .resident_pages >= 0) |
         .resident_pages + (.memory_stat.active_anon + .memory_stat.inactive_anon
                            - .memory_stat.rss) / $page] as $res |
        [$late[] | select(.resident_pages >= 0) | .resident_pages] as $mapped |
        [ (if ($v.zswpin + $v.pswpin) > 0 then $v.zswpin / ($v.zswpin + $v.pswpin) else 0 end),
          .major_faults,
          ($v.zswpout + $v.pswpout - $v.zswpwb + ($v.swpout_zero // 0)),
          $v.pswpout, $v.zswpwb,
          (if ($z.pool_total_size // 0) > 0 then $z.stored_pages * '"$page"' / $z.pool_total_size else 0 end),
          ($v.swpout_zero // 0), ($v.swpin_zero // 0),
          (($z.pool_limit_hit // 0) - ($b.pool_limit_hit // 0)),
          (if ($res | length) > 0 then ($res | add / length | floor) else 0 end),
          (if ($v.pswpout - $v.zswpwb) > 0 then 100 * $v.zswpwb / ($v.pswpout - $v.zswpwb) else 0 end),
          .wall_seconds, .mismatches,
          (if ($mapped | length) > 0 then ($mapped | add / length | floor) else 0 end) ] | @tsv' "$1"
}

for p in "${percents[@]}"; do
    capacity=$((totalram_pages * p / 100 * page))
    kernel_rows=()
    for ((r = 1; r <= repeat; r++)); do
        kjson=$out/kernel-$p-$r.json
        if [[ -n $reuse_kernel ]]; then
            [[ $reuse_kernel/kernel-$p-$r.json -ef $kjson ]] || cp "$reuse_kernel/kernel-$p-$r.json" "$kjson"
            if [[ -f $reuse_kernel/worker-$p-$r.json && ! $reuse_kernel/worker-$p-$r.json -ef $out/worker-$p-$r.json ]]; then
                cp "$reuse_kernel/worker-$p-$r.json" "$out/worker-$p-$r.json"
            fi
            kernel_rows+=("$(kernel_numbers "$kjson")")
            continue
        fi
        echo "$PROG: === max_pool_percent $p, kernel run $r of $repeat ==="
        echo N >"$ZSWAP_PARAMS/enabled"
        echo "$compressor" >"$ZSWAP_PARAMS/compressor"
        echo "$p" >"$ZSWAP_PARAMS/max_pool_percent"
        echo "$accept" >"$ZSWAP_PARAMS/accept_threshold_percent"
        [[ ! -f $ZSWAP_PARAMS/shrinker_enabled ]] || echo N >"$ZSWAP_PARAMS/shrinker_enabled"
        echo Y >"$ZSWAP_PARAMS/enabled"
        sysctl -q -w vm.page-cluster=0
        [[ -z $swappiness ]] || sysctl -q -w vm.swappiness="$swappiness"
        [[ -d $zswap_debug ]] || echo "$PROG: warning: $zswap_debug missing: no pool statistics" >&2
        swapon "$swap_file"
        mkdir "$cg"
        echo "$limit" >"$cg/memory.limit_in_bytes"
        trace_start "$out/trace-$p-$r.txt"
        run_in_cgroup "$workload_bin" "${workload_args[@]}" --cgroup "$cg" --zswap-stats "$zswap_debug" \
            --sample-every "$sample_every" --json "$kjson" ||
            die "the workload failed under the kernel (see above; $kjson)"
        if [[ -n $trace_reader ]]; then
            trace_stop
            comm=$(basename "$workload_bin")
            awk -v workload="${comm:0:12}" -f "$here/worker-trace.awk" "$out/trace-$p-$r.txt" \
                >"$out/worker-$p-$r.json" || die "worker-trace.awk failed on $out/trace-$p-$r.txt"
            rm -f "$out/trace-$p-$r.txt"
        fi
        swapoff "$swap_file"
        rmdir "$cg"
        kernel_rows+=("$(kernel_numbers "$kjson")")
    done
    # swapsim's RAM and pace at this size (measured: the kernel runs' means)
    resident=() paces=() refused=0
    for kr in "${kernel_rows[@]}"; do
        read -r _ _ _ k_writes k_wb _ _ _ _ k_res k_pace _ <<<"$kr"
        resident+=("$k_res") paces+=("$k_pace")
        ((k_writes <= k_wb)) || refused=1
    done
    ss_ram=$ram_bytes
    if [[ $swapsim_ram == measured ]]; then
        ss_ram=$(( $(mean "${resident[@]}" | cut -d. -f1) * page ))
        ((ss_ram >= page)) || die "--swapsim-ram measured: no resident-page samples in the kernel runs"
    elif [[ -n $swapsim_ram ]]; then
        ss_ram=$swapsim_ram_bytes
    fi
    # the worker traces of this size's kernel runs, if every run has one:
    # the delay (swap-outs from queueing to start) and the pace while it
    # writes back (zswpwb per 100 swap-outs during the wake-ups that wrote;
    # run_wpace[r], empty for a run without a trace or without a writeback)
    delays=() wakeup_paces=() run_wpace=() traced=1
    for ((r = 1; r <= repeat; r++)); do
        wjson=$out/worker-$p-$r.json
        run_wpace[r]=
        [[ -f $wjson ]] || { traced=0; continue; }
        delays+=("$(jq .delay_mean "$wjson")")
        read -r _ _ _ _ k_wb _ <<<"${kernel_rows[r - 1]}"
        w_so=$(jq .writeback_wakeup_swapouts "$wjson")
        ((w_so == 0)) || run_wpace[r]=$(awk -v wb="$k_wb" -v so="$w_so" 'BEGIN { print 100 * wb / so }')
        [[ -z ${run_wpace[r]} ]] || wakeup_paces+=("${run_wpace[r]}")
    done
    ss_pace=()
    # measured: with a trace, the pace while writing back; without one (or
    # when the kernel never wrote back) its writebacks per 100 refused
    # stores; at least 1 when it refused any (0 would be swapsim's
    # synchronous worker, while a kernel that refused without writing back
    # wrote back nothing)
    if [[ $pace == measured ]]; then
        if ((traced && ${#wakeup_paces[@]} > 0)); then
            ss_pace=(--writeback-pace "$(mean "${wakeup_paces[@]}" | awk '{ print int($1 + 0.5) }')")
        else
            ss_pace=(--writeback-pace "$(mean "${paces[@]}" |
                awk -v refused="$refused" '{ p = int($1 + 0.5); if (refused && p < 1) p = 1; print p }')")
        fi
    fi
    ss_delay=()
    if [[ $worker_delay != measured ]]; then
        ss_delay=(--worker-delay "$worker_delay")
    elif ((traced)); then
        ss_delay=(--worker-delay "$(mean "${delays[@]}" | awk '{ print int($1 + 0.5) }')")
    fi

    sjson=$out/swapsim-$p.json
    ss_args=(--ram "$ss_ram" --wss "$wss_bytes" --swap "$swap_bytes" --accesses "$accesses" --workload zipf
             --zipf-alpha "$alpha" --writes "$writes" --seed "$seed" --capacity "$capacity"
             "${swapsim_mode[@]}" "${ss_pace[@]}" "${ss_delay[@]}" --swap-dir "$swap_dir" --no-baseline --quiet
             --sample-every $((accesses - 1)) --json "$sjson")
    [[ -z $content ]] || ss_args+=(--content "$content")
    echo "$PROG: $swapsim_bin ${ss_args[*]}"
    "$swapsim_bin" "${ss_args[@]}" >"$out/swapsim-$p.txt" || die "tmem-swapsim failed ($out/swapsim-$p.txt)"
    # swapsim: the last sample before its swapoff (at accesses - 1); the
    # pool ratio from what the store held at the end of the run. Served:
    # the loads of faults only: `loads` also counts the worker's writeback
    # loads (one per written_back_pages), zswpin does not.
    read -r s_share s_major s_outs s_writes s_wb s_ratio s_zout s_zin s_hit s_rampages s_pace s_wall \
        s_wakeups s_delay < <(jq -r '
        ([.samples[] | select(.at < '"$accesses"')] | last | .counters) as $c | .store_at_end as $e |
        ($c.loads - $c.written_back_pages) as $served |
        [ (if ($served + $c.pswpin) > 0 then $served / ($served + $c.pswpin) else 0 end),
          $c.major_faults, $c.swap_outs, $c.pswpout, $c.written_back_pages,
          (if ($e.budget_used_bytes // 0) > 0 then $e.pages * '"$page"' / $e.budget_used_bytes else 0 end),
          $c.swpout_zero, $c.swpin_zero, $c.pool_limit_hit, .config.ram_pages, .config.writeback_pace,
          .wall_seconds, $c.shrink_worker_runs, (.config.worker_delay // 0) ] | @tsv' "$sjson")

    for ((r = 1; r <= repeat; r++)); do
        read -r k_share k_major k_outs k_writes k_wb k_ratio k_zout k_zin k_hit k_res k_pace k_wall mism k_mapped \
            <<<"${kernel_rows[r - 1]}"
        row="| $p | $r | $((capacity / 1048576)) MiB | $(fmt "$k_share") / $(fmt "$s_share") | $k_major / $s_major | $k_outs / $s_outs | $k_writes / $s_writes | $k_wb / $s_wb | $(fmt "$k_ratio") / $(fmt "$s_ratio") | $k_zout / $s_zout | $k_zin / $s_zin |"
        rows+=("$row")
        echo "$row"
        echo "$PROG: kernel run $r: data pages in RAM $k_res ($k_mapped mapped; swapsim RAM $s_rampages pages), writeback pace $(fmt "$k_pace") per 100 refused (swapsim $s_pace), pool_limit_hit $k_hit (swapsim $s_hit)"
        k_wakeups= k_delay= k_wpace=
        if [[ -f $out/worker-$p-$r.json ]]; then
            read -r k_wakeups k_delay k_median k_refused_per w_wakeups w_so w_bios k_longest < <(jq -r \
                '[.wakeups, .delay_mean, .delay_median, .refused_per_wakeup, .writeback_wakeups,
                  .writeback_wakeup_swapouts, .worker_write_bios, .longest_wakeup_s] | @tsv' "$out/worker-$p-$r.json")
            [[ -z ${run_wpace[r]} ]] || k_wpace=$(printf '%.1f' "${run_wpace[r]}")
            echo "$PROG: kernel run $r: shrink worker: $k_wakeups wake-ups (swapsim $s_wakeups), $k_refused_per refused stores per wake-up, delay $k_delay swap-outs mean, $k_median median (swapsim $s_delay); $w_wakeups wrote back, during $w_so swap-outs: ${k_wpace:-no} writebacks per 100 (swapsim pace $s_pace), $((w_bios - k_wb)) refused stores from the worker's own reclaim; longest wake-up $k_longest s"
        fi
        echo "$p,$r,$capacity,$(fmt "$k_share"),$(fmt "$s_share"),$k_major,$s_major,$k_outs,$s_outs,$k_writes,$s_writes,$k_wb,$s_wb,$(fmt "$k_ratio"),$(fmt "$s_ratio"),$k_zout,$s_zout,$k_zin,$s_zin,$k_hit,$s_hit,$k_res,$k_mapped,$s_rampages,$(fmt "$k_pace"),$s_pace,$(fmt "$k_wall"),$(fmt "$s_wall"),$mism,$k_wakeups,$s_wakeups,$k_delay,$s_delay,$k_wpace" >>"$csv"
        ((mism == 0)) || die "the workload saw $mism page(s) with wrong content under the kernel"
    done
done

jq -R -s 'split("\n") | map(select(length > 0) | split(",")) | .[0] as $h
          | .[1:] | map([$h, .] | transpose | map({(.[0]): (.[1] | tonumber? // .)}) | add)' \
    "$csv" >"$out/rows.json"

echo
echo "kernel $(uname -r), zswap $compressor, accept threshold $accept %, RAM $ram_bytes, address space $wss_bytes,"
echo "$accesses accesses, zipf $alpha, $writes % writes, seed $seed; k = kernel, s = tmem-swapsim ${swapsim_mode[*]}"
echo "${swapsim_ram:+swapsim RAM: $swapsim_ram; }$([[ $pace != measured ]] || echo "writeback pace: measured per pool size; ")$repeat kernel run(s) per pool size"
echo "$table_head"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo "$PROG: results in $out (rows.csv, rows.json, kernel-P-RUN.json, swapsim-P.json)"

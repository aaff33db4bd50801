# worker-trace.awk - summarise zswap's shrink worker from a tracefs trace
# (zswap-anchor.sh --trace-worker): one JSON object on stdout.
#
# Input: trace_pipe lines of five events, recorded while anchor_workload
# ran (filters as zswap-anchor.sh sets them):
#   workqueue_queue_work, workqueue_execute_start, workqueue_execute_end
#       for the work function shrink_worker only: a wake-up queued (only
#       when it was not pending: queue_work on a pending item traces
#       nothing), started, ended;
#   mm_vmscan_write_folio   a page reclaim writes out (a swap-out: stored
#       in zswap, refused and written, or a zero page);
#   block_bio_queue         a write bio (rwbs has W).
# A line: "COMM-PID [CPU] FLAGS SECONDS: EVENT: ...". The workload is
# recognised by its command name (-v workload=anchor_workl, a prefix).
#
# Output fields:
#   queued, wakeups          wake-ups queued and run
#   swapouts                 the workload's swap-outs (write_folio)
#   workload_write_bios      its write bios: stores zswap refused
#   delay_mean, delay_median swap-outs of the workload between a wake-up's
#                            queueing and its start (the workqueue's latency)
#   refused_per_wakeup       workload_write_bios / wakeups
#   writeback_wakeups        wake-ups that issued write bios (writebacks)
#   writeback_wakeup_swapouts the workload's swap-outs during those
#   worker_write_bios        the write bios those wake-ups issued: zswap's
#                            writebacks plus the stores refused by the
#                            reclaim a writeback's folio charge ran in the
#                            worker (zswpwb tells the two apart)
#   longest_wakeup_s         the longest wake-up, in seconds
BEGIN { queued_at = -1 }
{
    # find "[CPU]": the field before it is COMM-PID (COMM may hold spaces)
    for (i = 1; i <= NF; i++)
        if ($i ~ /^\[[0-9]+\]$/)
            break
    if (i > NF || i + 3 > NF)
        next
    who = $(i - 1)
    pid = who
    sub(/.*-/, "", pid)
    comm = $1
    for (j = 2; j < i; j++)
        comm = comm " " $j
    sub(/-[0-9]+$/, "", comm)
    ts = $(i + 2)
    sub(/:$/, "", ts)
    ev = $(i + 3)
    sub(/:$/, "", ev)
    is_workload = index(comm, workload) == 1

    if (ev == "workqueue_queue_work") {
        queued++
        queued_at = swapouts
    } else if (ev == "workqueue_execute_start") {
        if (queued_at >= 0) {
            d = swapouts - queued_at
            delays[d]++
            delay_sum += d
            delay_n++
            queued_at = -1
        }
        running[pid] = 1
        start_ts[pid] = ts + 0
        start_swapouts[pid] = swapouts
        bios[pid] = 0
    } else if (ev == "workqueue_execute_end") {
        if (!(pid in running))
            next
        wakeups++
        if (ts - start_ts[pid] > longest)
            longest = ts - start_ts[pid]
        if (bios[pid] > 0) {
            writeback_wakeups++
            writeback_wakeup_swapouts += swapouts - start_swapouts[pid]
            worker_write_bios += bios[pid]
        }
        delete running[pid]
    } else if (ev == "mm_vmscan_write_folio") {
        if (is_workload)
            swapouts++
    } else if (ev == "block_bio_queue") {
        if (pid in running)
            bios[pid]++
        else if (is_workload)
            workload_write_bios++
    }
}
END {
    median = 0
    if (delay_n > 0) {
        seen = 0
        for (d = 0; seen * 2 < delay_n; d++)
            if (d in delays)
                seen += delays[d]
        median = d - 1
    }
    printf "{\"queued\": %d, \"wakeups\": %d, \"swapouts\": %d, \"workload_write_bios\": %d, ",
        queued, wakeups, swapouts, workload_write_bios
    printf "\"delay_mean\": %.2f, \"delay_median\": %d, \"refused_per_wakeup\": %.2f, ",
        delay_n ? delay_sum / delay_n : 0, median, wakeups ? workload_write_bios / wakeups : 0
    printf "\"writeback_wakeups\": %d, \"writeback_wakeup_swapouts\": %d, \"worker_write_bios\": %d, ",
        writeback_wakeups, writeback_wakeup_swapouts, worker_write_bios
    printf "\"longest_wakeup_s\": %.3f}\n", longest
}

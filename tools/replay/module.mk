# tools/replay: tmem-replay's benchmark (run by `make bench`): replay speed
# in metadata and data mode, tmem-trace mrc, sweep scaling on a generated
# 10 M-record Zipf trace (docs/traces.md "Speed").
BENCH_CMDS += tools/replay/bench.sh

# tools: benchmark programs (run by `make bench`).
CORE_BENCH := $(BUILD)/tools/bench/core_bench
ALL_SOURCES += tools/bench/core_bench.c
BENCH_CMDS += tools/bench/core-bench.sh

$(CORE_BENCH): $(BUILD)/tools/bench/core_bench.o $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(CORE_LIBS)

_all: $(CORE_BENCH)

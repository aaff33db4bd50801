# tools: benchmark programs (run by `make bench`).
CORE_BENCH := $(BUILD)/tools/bench/core_bench
ALL_SOURCES += tools/bench/core_bench.c
BENCH_CMDS += tools/bench/core-bench.sh

$(CORE_BENCH): $(BUILD)/tools/bench/core_bench.o $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(CORE_LIBS)

_all: $(CORE_BENCH)

# tools/counters: prints each module's counter table from the list its code
# declares; docs-tables.sh checks the docs pages against it (a test) or
# rewrites them (make counter-docs). It only expands the modules' X-macro
# lists, so it links nothing but libc.
COUNTERS_TOOL := $(BUILD)/tools/counters/counters
ALL_SOURCES += tools/counters/counters.c
TEST_SCRIPTS += tools/counters/docs-tables.sh
export COUNTERS_BIN := $(abspath $(COUNTERS_TOOL))

$(COUNTERS_TOOL): $(BUILD)/tools/counters/counters.o
	$(CC) $(LDFLAGS_COMMON) -o $@ $<

_all: $(COUNTERS_TOOL)

.PHONY: counter-docs
counter-docs: $(COUNTERS_TOOL)
	tools/counters/docs-tables.sh --write
include tools/anchor/module.mk
include tools/replay/module.mk

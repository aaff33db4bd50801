# src/swapsim: the swap simulator (frontswap in front of a real swap file).
#   $(BUILD)/libswapsim.a   the library (every src/swapsim/*.c but main.c)
#   $(BUILD)/tmem-swapsim   the command-line tool
#   tests/swapsim/test_*.c  cmocka tests -> $(BUILD)/tests/swapsim/test_*
# Both link the guest-kernel parts ($(GUEST_LIB): page replacement) and
# then the core ($(CORE_LIBS), with src/common inside).
SWAPSIM_SOURCES := $(filter-out src/swapsim/main.c,$(wildcard src/swapsim/*.c))
SWAPSIM_OBJECTS := $(SWAPSIM_SOURCES:%.c=$(BUILD)/%.o)
SWAPSIM_LIB := $(BUILD)/libswapsim.a
SWAPSIM_BIN := $(BUILD)/tmem-swapsim
SWAPSIM_TEST_SOURCES := $(wildcard tests/swapsim/test_*.c)
SWAPSIM_TEST_BINS := $(SWAPSIM_TEST_SOURCES:tests/swapsim/%.c=$(BUILD)/tests/swapsim/%)

PROGRAMS += $(SWAPSIM_BIN)
# The CLI test is a shell script; a generated wrapper passes it this build's
# binary and sits in TEST_BINS so every build flavour (asan, tsan) runs it.
SWAPSIM_CLI_TEST := $(BUILD)/tests/swapsim/cli_test
TEST_BINS += $(SWAPSIM_TEST_BINS) $(SWAPSIM_CLI_TEST)
ALL_SOURCES += $(SWAPSIM_SOURCES) src/swapsim/main.c $(SWAPSIM_TEST_SOURCES)
DEMO_CMDS += src/swapsim/demo.sh
BENCH_CMDS += src/swapsim/bench.sh

$(SWAPSIM_LIB): $(SWAPSIM_OBJECTS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(SWAPSIM_BIN): $(BUILD)/src/swapsim/main.o $(SWAPSIM_LIB) $(TRACE_LIB) $(GUEST_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(SWAPSIM_LIB) $(TRACE_LIB) $(GUEST_LIB) $(CORE_LIBS)

$(BUILD)/tests/swapsim/%: $(BUILD)/tests/swapsim/%.o $(SWAPSIM_LIB) $(TRACE_LIB) $(GUEST_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(SWAPSIM_LIB) $(TRACE_LIB) $(GUEST_LIB) $(CORE_LIBS) $(CMOCKA_LIBS)

$(SWAPSIM_CLI_TEST): tests/swapsim/cli_test.sh $(SWAPSIM_BIN)
	@mkdir -p $(dir $@)
	printf '#!/bin/sh\nexec tests/swapsim/cli_test.sh $(SWAPSIM_BIN)\n' >$@ && chmod +x $@

EXTRA_CFLAGS_tests/swapsim/ = $(CMOCKA_CFLAGS)

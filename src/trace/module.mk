# src/trace: the project's page trace format (trace.h: binary and text
# forms, reader, writer) and converters from other formats (convert.h).
#   $(BUILD)/libtrace.a   every src/trace/*.c but main.c
#   $(BUILD)/tmem-trace   the converter program (src/trace/main.c)
#   tests/trace/test_*.c  cmocka tests
# It sits beside src/guest: it uses src/common (in libtmem.a) and nothing
# above; swapsim and the replayer read traces through it.
TRACE_SOURCES := $(filter-out src/trace/main.c,$(wildcard src/trace/*.c))
TRACE_OBJECTS := $(TRACE_SOURCES:%.c=$(BUILD)/%.o)
TRACE_LIB := $(BUILD)/libtrace.a
TRACE_BIN := $(BUILD)/tmem-trace
TRACE_TEST_SOURCES := $(wildcard tests/trace/test_*.c)
TRACE_TEST_BINS := $(TRACE_TEST_SOURCES:tests/trace/%.c=$(BUILD)/tests/trace/%)

ALL_SOURCES += $(TRACE_SOURCES) $(wildcard src/trace/main.c) $(TRACE_TEST_SOURCES)
TEST_BINS += $(TRACE_TEST_BINS)
# the tmem-trace command line and its LRU curve against a textbook LRU
# (both find the binary through TRACE_BIN_PATH)
TEST_SCRIPTS += tests/trace/tmem_trace_cli.sh tests/trace/tmem_trace_mrc.sh
EXTRA_CFLAGS_tests/trace/ = $(CMOCKA_CFLAGS)
export TRACE_BIN_PATH := $(abspath $(TRACE_BIN))

$(TRACE_LIB): $(TRACE_OBJECTS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

ifneq ($(wildcard src/trace/main.c),)
PROGRAMS += $(TRACE_BIN)
$(TRACE_BIN): $(BUILD)/src/trace/main.o $(TRACE_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(TRACE_LIB) $(CORE_LIBS)
endif

$(BUILD)/tests/trace/%: $(BUILD)/tests/trace/%.o $(TRACE_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(TRACE_LIB) $(CORE_LIBS) $(CMOCKA_LIBS)

_all: $(TRACE_LIB)

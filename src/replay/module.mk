# src/replay: tmem-replay, the trace replayer (replay.h, docs/traces.md
# "Replaying"): file traces through tmemfs's read path (data mode) or the
# fast model (metadata mode), anonymous traces through the swapsim guest.
#   $(BUILD)/libreplay.a    every src/replay/*.c but main.c
#   $(BUILD)/tmem-replay    the program
#   tests/replay/test_*.c   cmocka tests; tests/replay/*.sh integration tests
REPLAY_SOURCES := $(filter-out src/replay/main.c,$(wildcard src/replay/*.c))
REPLAY_OBJECTS := $(REPLAY_SOURCES:%.c=$(BUILD)/%.o)
REPLAY_LIB := $(BUILD)/libreplay.a
REPLAY_BIN := $(BUILD)/tmem-replay
REPLAY_TEST_SOURCES := $(wildcard tests/replay/test_*.c)
REPLAY_TEST_BINS := $(REPLAY_TEST_SOURCES:tests/replay/%.c=$(BUILD)/tests/replay/%)
# What a replay program links after its own objects.
REPLAY_LIBS = $(REPLAY_LIB) $(TMEMFS_LIB) $(SWAPSIM_LIB) $(TRACE_LIB) $(GUEST_LIB) $(CORE_LIBS)
REPLAY_DEPS = $(REPLAY_LIB) $(TMEMFS_LIB) $(SWAPSIM_LIB) $(TRACE_LIB) $(GUEST_LIB) $(CORE_LIB)

ALL_SOURCES += $(REPLAY_SOURCES) src/replay/main.c $(REPLAY_TEST_SOURCES)
TEST_BINS += $(REPLAY_TEST_BINS)
PROGRAMS += $(REPLAY_BIN)
EXTRA_CFLAGS_src/replay/ = $(FUSE_CFLAGS)
EXTRA_CFLAGS_tests/replay/ = $(CMOCKA_CFLAGS) $(FUSE_CFLAGS)

$(REPLAY_LIB): $(REPLAY_OBJECTS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(REPLAY_BIN): $(BUILD)/src/replay/main.o $(REPLAY_DEPS)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(REPLAY_LIBS)

$(BUILD)/tests/replay/%: $(BUILD)/tests/replay/%.o $(REPLAY_DEPS)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(REPLAY_LIBS) $(CMOCKA_LIBS)

_all: $(REPLAY_LIB)

# Integration tests run the program (mounts: root and /dev/fuse, else a
# loud SKIPPED); they find it through REPLAY_BIN_PATH (and tmemfs through
# TMEMFS_BIN, tmem-trace through TRACE_BIN_PATH).
TEST_SCRIPTS += $(sort $(wildcard tests/replay/*.sh))
export REPLAY_BIN_PATH := $(abspath $(REPLAY_BIN))

# src/fuse_cleancache: tmemfs, the FUSE cleancache filesystem.
# Library objects (everything but main) go to TMEMFS_LIB so the unit tests
# can link them; $(BUILD)/tmemfs links main + TMEMFS_LIB + the core.
TMEMFS_SOURCES := $(wildcard src/fuse_cleancache/tmemfs_*.c)
TMEMFS_LIB_SOURCES := $(filter-out src/fuse_cleancache/tmemfs_main.c,$(TMEMFS_SOURCES))
TMEMFS_LIB_OBJECTS := $(TMEMFS_LIB_SOURCES:%.c=$(BUILD)/%.o)
TMEMFS_LIB := $(BUILD)/libtmemfs.a
TMEMFS := $(BUILD)/tmemfs
ALL_SOURCES += $(TMEMFS_SOURCES)
PROGRAMS += $(TMEMFS)
EXTRA_CFLAGS_src/fuse_cleancache/ = $(FUSE_CFLAGS)

$(TMEMFS_LIB): $(TMEMFS_LIB_OBJECTS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(TMEMFS): $(BUILD)/src/fuse_cleancache/tmemfs_main.o $(TMEMFS_LIB) $(TRACE_LIB) $(GUEST_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(TMEMFS_LIB) $(TRACE_LIB) $(GUEST_LIB) $(CORE_LIBS) $(FUSE_LIBS) $(CONTROL_LIBS)

# cmocka unit tests: tests/fuse_cleancache/test_*.c
TMEMFS_TEST_SOURCES := $(wildcard tests/fuse_cleancache/test_*.c)
TMEMFS_TEST_BINS := $(TMEMFS_TEST_SOURCES:tests/fuse_cleancache/%.c=$(BUILD)/tests/fuse_cleancache/%)
TEST_BINS += $(TMEMFS_TEST_BINS)
ALL_SOURCES += $(TMEMFS_TEST_SOURCES)
EXTRA_CFLAGS_tests/fuse_cleancache/ = $(CMOCKA_CFLAGS) $(FUSE_CFLAGS)

$(BUILD)/tests/fuse_cleancache/%: $(BUILD)/tests/fuse_cleancache/%.o $(TMEMFS_LIB) $(TRACE_LIB) $(GUEST_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(TMEMFS_LIB) $(TRACE_LIB) $(GUEST_LIB) $(CORE_LIBS) $(CMOCKA_LIBS) $(FUSE_LIBS)

# Integration tests mount for real; they find tmemfs through TMEMFS_BIN
# (exported to every recipe, so `make test` with any BUILD finds its own).
TEST_SCRIPTS += $(sort $(wildcard tests/fuse_cleancache/*.sh))
export TMEMFS_BIN := $(abspath $(TMEMFS))

DEMO_CMDS += tools/fio/tmemfs-reread-demo.sh tools/fio/tmemfs-compile-demo.sh
BENCH_CMDS += tools/fio/tmemfs-bench.sh

# Helper programs the integration tests run (not tests themselves).
TMEMFS_HELPER_SOURCES := tests/fuse_cleancache/tmemfs_mix.c tests/fuse_cleancache/tmemfs_syscalls.c \
    tests/fuse_cleancache/tmemfs_race.c
TMEMFS_HELPERS := $(TMEMFS_HELPER_SOURCES:tests/fuse_cleancache/%.c=$(BUILD)/tests/fuse_cleancache/%)
ALL_SOURCES += $(TMEMFS_HELPER_SOURCES)
export TMEMFS_MIX_BIN := $(abspath $(BUILD)/tests/fuse_cleancache/tmemfs_mix)
export TMEMFS_SYSCALLS_BIN := $(abspath $(BUILD)/tests/fuse_cleancache/tmemfs_syscalls)
export TMEMFS_RACE_BIN := $(abspath $(BUILD)/tests/fuse_cleancache/tmemfs_race)
_all: $(TMEMFS_HELPERS)

$(TMEMFS_HELPERS): $(BUILD)/tests/fuse_cleancache/%: $(BUILD)/tests/fuse_cleancache/%.o
	$(CC) $(LDFLAGS_COMMON) -o $@ $<

# src/fuse_cleancache: tmemfs, the FUSE cleancache filesystem.
# Library objects (everything but main) go to CCFS_LIB so the unit tests
# can link them; $(BUILD)/tmemfs links main + CCFS_LIB + the core.
CCFS_SOURCES := $(wildcard src/fuse_cleancache/ccfs_*.c)
CCFS_LIB_SOURCES := $(filter-out src/fuse_cleancache/ccfs_main.c,$(CCFS_SOURCES))
CCFS_LIB_OBJECTS := $(CCFS_LIB_SOURCES:%.c=$(BUILD)/%.o)
CCFS_LIB := $(BUILD)/libccfs.a
TMEMFS := $(BUILD)/tmemfs
ALL_SOURCES += $(CCFS_SOURCES)
PROGRAMS += $(TMEMFS)
EXTRA_CFLAGS_src/fuse_cleancache/ = $(FUSE_CFLAGS)

$(CCFS_LIB): $(CCFS_LIB_OBJECTS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(TMEMFS): $(BUILD)/src/fuse_cleancache/ccfs_main.o $(CCFS_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(CCFS_LIB) $(CORE_LIBS) $(FUSE_LIBS)

# cmocka unit tests: tests/fuse_cleancache/test_*.c
CCFS_TEST_SOURCES := $(wildcard tests/fuse_cleancache/test_*.c)
CCFS_TEST_BINS := $(CCFS_TEST_SOURCES:tests/fuse_cleancache/%.c=$(BUILD)/tests/fuse_cleancache/%)
TEST_BINS += $(CCFS_TEST_BINS)
ALL_SOURCES += $(CCFS_TEST_SOURCES)
EXTRA_CFLAGS_tests/fuse_cleancache/ = $(CMOCKA_CFLAGS) $(FUSE_CFLAGS)

$(BUILD)/tests/fuse_cleancache/%: $(BUILD)/tests/fuse_cleancache/%.o $(CCFS_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(CCFS_LIB) $(CORE_LIBS) $(CMOCKA_LIBS) $(FUSE_LIBS)

# Integration tests mount for real; they find tmemfs through TMEMFS_BIN
# (exported to every recipe, so `make test` with any BUILD finds its own).
TEST_SCRIPTS += $(sort $(wildcard tests/fuse_cleancache/*.sh))
export TMEMFS_BIN := $(abspath $(TMEMFS))

DEMO_CMDS += tools/fio/tmemfs-reread-demo.sh
BENCH_CMDS += tools/fio/tmemfs-bench.sh

# Helper programs the integration tests run (not tests themselves).
CCFS_HELPER_SOURCES := tests/fuse_cleancache/ccfs_mix.c tests/fuse_cleancache/ccfs_syscalls.c
CCFS_HELPERS := $(CCFS_HELPER_SOURCES:tests/fuse_cleancache/%.c=$(BUILD)/tests/fuse_cleancache/%)
ALL_SOURCES += $(CCFS_HELPER_SOURCES)
export CCFS_MIX_BIN := $(abspath $(BUILD)/tests/fuse_cleancache/ccfs_mix)
export CCFS_SYSCALLS_BIN := $(abspath $(BUILD)/tests/fuse_cleancache/ccfs_syscalls)
_all: $(CCFS_HELPERS)

$(CCFS_HELPERS): $(BUILD)/tests/fuse_cleancache/%: $(BUILD)/tests/fuse_cleancache/%.o
	$(CC) $(LDFLAGS_COMMON) -o $@ $<

# src/testbed: the testbed runner, tmem-testbed SCENARIO: hosts (stores
# with pressure models) and guests (tmemfs mounts, swap simulators) in one
# process, with reports and plots.
#   $(BUILD)/libtestbed.a   every src/testbed/*.c but main.c
#   $(BUILD)/tmem-testbed   the program
#   tests/testbed/test_*.c  cmocka tests; tests/testbed/*.sh integration tests
TESTBED_SOURCES := $(filter-out src/testbed/main.c,$(wildcard src/testbed/*.c))
TESTBED_OBJECTS := $(TESTBED_SOURCES:%.c=$(BUILD)/%.o)
TESTBED_LIB := $(BUILD)/libtestbed.a
TESTBED_BIN := $(BUILD)/tmem-testbed
TESTBED_TEST_SOURCES := $(wildcard tests/testbed/test_*.c)
TESTBED_TEST_BINS := $(TESTBED_TEST_SOURCES:tests/testbed/%.c=$(BUILD)/tests/testbed/%)
# What a testbed program links after its own objects.
# (src/remote/module.mk is read after this file: libremote.a by its path)
TESTBED_LIBS = $(TESTBED_LIB) $(TMEMFS_LIB) $(SWAPSIM_LIB) $(TRACE_LIB) $(GUEST_LIB) $(BUILD)/libremote.a $(CORE_LIBS) $(INIH_LIBS) $(FUSE_LIBS) $(HIREDIS_LIBS)

ALL_SOURCES += $(TESTBED_SOURCES) $(wildcard src/testbed/main.c) $(TESTBED_TEST_SOURCES)
TEST_BINS += $(TESTBED_TEST_BINS)
PROGRAMS += $(TESTBED_BIN)
EXTRA_CFLAGS_src/testbed/ = $(FUSE_CFLAGS) $(INIH_CFLAGS)
EXTRA_CFLAGS_tests/testbed/ = $(CMOCKA_CFLAGS) $(FUSE_CFLAGS) $(INIH_CFLAGS)

$(TESTBED_LIB): $(TESTBED_OBJECTS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(TESTBED_BIN): $(BUILD)/src/testbed/main.o $(TESTBED_LIB) $(TMEMFS_LIB) $(SWAPSIM_LIB) $(TRACE_LIB) $(GUEST_LIB) $(BUILD)/libremote.a $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(TESTBED_LIBS)

$(BUILD)/tests/testbed/%: $(BUILD)/tests/testbed/%.o $(TESTBED_LIB) $(TMEMFS_LIB) $(SWAPSIM_LIB) $(TRACE_LIB) $(GUEST_LIB) $(BUILD)/libremote.a $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(TESTBED_LIBS) $(CMOCKA_LIBS)

_all: $(TESTBED_LIB)

# Integration tests run the program for real (mounts: root and /dev/fuse,
# else a loud SKIPPED); they find it through TESTBED_BIN.
TEST_SCRIPTS += $(sort $(wildcard tests/testbed/*.sh))
export TESTBED_BIN := $(abspath $(TESTBED_BIN))

# make demo runs the bundled scenario first, then the other demos.
DEMO_CMDS := tools/testbed/demo.sh $(DEMO_CMDS)

# The remote tier in the testbed (docs/remote.md, "In the testbed"): two
# testbed processes sharing one private redis-server (make demo-remote:
# the top Makefile); a mount guest's cleancache pool on the tier.
TEST_SCRIPTS += tests/remote/two_testbeds.sh tests/remote/remote_mount.sh

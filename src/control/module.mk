# src/control: the control layer (docs/control.md): the tmemctl protocol
# (one JSON object a line over a Unix socket), the server a long-running
# program runs in a thread of its own, the client side, and tmemctl.
#   $(BUILD)/libcontrol.a   every src/control/*.c but tmemctl.c
#   $(BUILD)/tmemctl        the program
#   tests/control/test_*.c  cmocka tests; tests/control/*.sh integration tests
# Programs that serve a socket (tmem-testbed, tmemfs) link CONTROL_LIBS
# after their own libraries.
CONTROL_SOURCES := $(filter-out src/control/tmemctl.c,$(wildcard src/control/*.c))
CONTROL_OBJECTS := $(CONTROL_SOURCES:%.c=$(BUILD)/%.o)
CONTROL_LIB := $(BUILD)/libcontrol.a
CONTROL_LIBS = $(CONTROL_LIB) $(SNAPSHOT_LIB) $(CORE_LIBS)
TMEMCTL_BIN := $(BUILD)/tmemctl
CONTROL_TEST_SOURCES := $(wildcard tests/control/test_*.c)
CONTROL_TEST_BINS := $(CONTROL_TEST_SOURCES:tests/control/%.c=$(BUILD)/tests/control/%)

ALL_SOURCES += $(CONTROL_SOURCES) src/control/tmemctl.c $(CONTROL_TEST_SOURCES)
TEST_BINS += $(CONTROL_TEST_BINS)
PROGRAMS += $(TMEMCTL_BIN)
EXTRA_CFLAGS_tests/control/ = $(CMOCKA_CFLAGS)

$(CONTROL_LIB): $(CONTROL_OBJECTS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(TMEMCTL_BIN): $(BUILD)/src/control/tmemctl.o $(CONTROL_LIB) $(SNAPSHOT_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(CONTROL_LIBS)

$(BUILD)/tests/control/%: $(BUILD)/tests/control/%.o $(CONTROL_LIB) $(SNAPSHOT_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(CONTROL_LIBS) $(CMOCKA_LIBS)

# The testbed and tmemfs serve a control socket: they link this layer.
TESTBED_LIBS += $(CONTROL_LIBS)
$(BUILD)/tmem-testbed $(TESTBED_TEST_BINS): $(CONTROL_LIB) $(SNAPSHOT_LIB)

# Integration tests: tests/control/*.sh, with TMEMCTL_BIN.
TEST_SCRIPTS += $(sort $(wildcard tests/control/*.sh))
export TMEMCTL_BIN := $(abspath $(TMEMCTL_BIN))
$(TMEMFS): $(CONTROL_LIB) $(SNAPSHOT_LIB)

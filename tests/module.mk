# tests: cmocka unit tests, one binary per tests/<part>/test_*.c file.
# tests/core, tests/common and tests/guest are built here (the support
# helpers, tests/support, go into each); tests/swapsim and
# tests/fuse_cleancache in their parts' module.mk.
# A test binary links the core library and, for tests/swapsim and
# tests/fuse_cleancache, that part's library (SWAPSIM_LIB / TMEMFS_LIB).
CORE_TEST_SOURCES := $(wildcard tests/core/test_*.c)
CORE_TEST_BINS := $(CORE_TEST_SOURCES:tests/core/%.c=$(BUILD)/tests/core/%)
TEST_BINS += $(CORE_TEST_BINS)
ALL_SOURCES += $(CORE_TEST_SOURCES)
TEST_SUPPORT_OBJECTS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/support/*.c))

$(BUILD)/tests/core/%: $(BUILD)/tests/core/%.o $(TEST_SUPPORT_OBJECTS) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(TEST_SUPPORT_OBJECTS) $(CORE_LIBS) $(CMOCKA_LIBS)

EXTRA_CFLAGS_tests/core/ = $(CMOCKA_CFLAGS)
EXTRA_CFLAGS_tests/support/ = $(CMOCKA_CFLAGS)

# tests/common (src/common is inside the core library) and tests/guest.
COMMON_TEST_SOURCES := $(wildcard tests/common/test_*.c)
COMMON_TEST_BINS := $(COMMON_TEST_SOURCES:tests/common/%.c=$(BUILD)/tests/common/%)
GUEST_TEST_SOURCES := $(wildcard tests/guest/test_*.c)
GUEST_TEST_BINS := $(GUEST_TEST_SOURCES:tests/guest/%.c=$(BUILD)/tests/guest/%)
TEST_BINS += $(COMMON_TEST_BINS) $(GUEST_TEST_BINS)
ALL_SOURCES += $(COMMON_TEST_SOURCES) $(GUEST_TEST_SOURCES)
EXTRA_CFLAGS_tests/common/ = $(CMOCKA_CFLAGS)
EXTRA_CFLAGS_tests/guest/ = $(CMOCKA_CFLAGS)

$(BUILD)/tests/common/%: $(BUILD)/tests/common/%.o $(TEST_SUPPORT_OBJECTS) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(TEST_SUPPORT_OBJECTS) $(CORE_LIBS) $(CMOCKA_LIBS)

$(BUILD)/tests/guest/%: $(BUILD)/tests/guest/%.o $(TEST_SUPPORT_OBJECTS) $(GUEST_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(TEST_SUPPORT_OBJECTS) $(GUEST_LIB) $(CORE_LIBS) $(CMOCKA_LIBS)

# tests: cmocka unit tests, one binary per tests/<part>/test_*.c file.
# A test binary links the core library and, for tests/swapsim and
# tests/fuse_cleancache, that part's library (SWAPSIM_LIB / CCFS_LIB).
CORE_TEST_SOURCES := $(wildcard tests/core/test_*.c)
CORE_TEST_BINS := $(CORE_TEST_SOURCES:tests/core/%.c=$(BUILD)/tests/core/%)
TEST_BINS += $(CORE_TEST_BINS)
ALL_SOURCES += $(CORE_TEST_SOURCES)
TEST_SUPPORT_OBJECTS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/support/*.c))

$(BUILD)/tests/core/%: $(BUILD)/tests/core/%.o $(TEST_SUPPORT_OBJECTS) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(TEST_SUPPORT_OBJECTS) $(CORE_LIBS) $(CMOCKA_LIBS)

EXTRA_CFLAGS_tests/core/ = $(CMOCKA_CFLAGS)
EXTRA_CFLAGS_tests/support/ = $(CMOCKA_CFLAGS)

# src/snapshot: save and restore of a client's persistent tmem (snapshot.h,
# docs/control.md "Save file").
#   $(BUILD)/libsnapshot.a     every src/snapshot/*.c
#   tests/snapshot/test_*.c    cmocka tests (linked with the library)
# What a program using it links after its own objects: $(SNAPSHOT_LIB)
# $(CORE_LIBS) (lz4 and xxhash come with the core's libraries).
SNAPSHOT_SOURCES := $(wildcard src/snapshot/*.c)
SNAPSHOT_OBJECTS := $(SNAPSHOT_SOURCES:%.c=$(BUILD)/%.o)
SNAPSHOT_LIB := $(BUILD)/libsnapshot.a
SNAPSHOT_TEST_SOURCES := $(wildcard tests/snapshot/test_*.c)
SNAPSHOT_TEST_BINS := $(SNAPSHOT_TEST_SOURCES:tests/snapshot/%.c=$(BUILD)/tests/snapshot/%)

ALL_SOURCES += $(SNAPSHOT_SOURCES) $(SNAPSHOT_TEST_SOURCES)
TEST_BINS += $(SNAPSHOT_TEST_BINS)
EXTRA_CFLAGS_tests/snapshot/ = $(CMOCKA_CFLAGS)
# tests/support's objects (tests/module.mk's TEST_SUPPORT_OBJECTS; named
# here again because this file is included before it)
SNAPSHOT_TEST_SUPPORT := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/support/*.c))

$(SNAPSHOT_LIB): $(SNAPSHOT_OBJECTS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/tests/snapshot/%: $(BUILD)/tests/snapshot/%.o $(SNAPSHOT_TEST_SUPPORT) $(SNAPSHOT_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(SNAPSHOT_TEST_SUPPORT) $(SNAPSHOT_LIB) $(CORE_LIBS) $(CMOCKA_LIBS)

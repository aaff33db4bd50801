# src/core: the tmem core, built as a static library. The objects of
# src/common (which the core uses) go into the same archive.
CORE_SOURCES := $(wildcard src/core/*.c)
CORE_OBJECTS := $(CORE_SOURCES:%.c=$(BUILD)/%.o)
CORE_LIB := $(BUILD)/libtmem.a
# What a program linking the core needs after its own objects.
CORE_LIBS = $(CORE_LIB) $(LZ4_LIBS) $(ZSTD_LIBS) $(LZO_LIBS) $(XXHASH_LIBS) $(JANSSON_LIBS) $(JEMALLOC_LIBS) -lm
ALL_SOURCES += $(CORE_SOURCES)

$(CORE_LIB): $(CORE_OBJECTS) $(COMMON_OBJECTS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

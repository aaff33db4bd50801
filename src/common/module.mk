# src/common: small parts every layer uses (index-linked lists, the integer
# mixer, the random stream, the size, time and on/off grammars, the
# whole-file reader, one-line error text, histograms, the ticker, the statistics writer). Below the core: its
# objects go into $(CORE_LIB) (libtmem.a), so everything that links the
# core has them.
COMMON_SOURCES := $(wildcard src/common/*.c)
COMMON_OBJECTS := $(COMMON_SOURCES:%.c=$(BUILD)/%.o)
ALL_SOURCES += $(COMMON_SOURCES)

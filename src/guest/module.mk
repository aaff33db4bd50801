# src/guest: the guest kernel's parts every guest model shares (page
# replacement). Built as $(BUILD)/libguest.a; tmemfs and tmem-swapsim link
# it before the core library.
GUEST_SOURCES := $(wildcard src/guest/*.c)
GUEST_OBJECTS := $(GUEST_SOURCES:%.c=$(BUILD)/%.o)
GUEST_LIB := $(BUILD)/libguest.a
ALL_SOURCES += $(GUEST_SOURCES)

$(GUEST_LIB): $(GUEST_OBJECTS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

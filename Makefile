# tmem-testbed top-level Makefile (GNU make).
#
# The user-facing targets (all, test, demo, bench, asan, tsan, install) first
# make sure the Debian packages are there (tools/install-deps.sh, idempotent),
# then re-enter make so pkg-config sees the freshly installed packages.
# Objects go out of tree under $(BUILD) (build/, build/asan, build/tsan).
#
# Each part of the tree adds its own rules in a module.mk fragment:
#   src/common/module.mk, src/core/module.mk, src/guest/module.mk,
#   src/swapsim/module.mk, src/fuse_cleancache/module.mk, src/replay/module.mk,
#   tests/module.mk, src/remote/module.mk (after tests/: it uses TEST_SUPPORT_OBJECTS)
# Variables for fragments: $(BUILD), $(CFLAGS_COMMON), $(CORE_LIB),
#   TEST_BINS (cmocka binaries run by `make test`), TEST_SCRIPTS (shell
#   integration tests), PROGRAMS (installed binaries), BENCH_CMDS.

SHELL := /bin/bash
.DEFAULT_GOAL := all
PREFIX ?= /usr/local
CC ?= cc
BUILD ?= build
SAN ?=
WERROR ?=
ifeq ($(CI),true)
WERROR := 1
endif

PKG_CONFIG ?= pkg-config
LZ4_CFLAGS = $(shell $(PKG_CONFIG) --cflags liblz4)
LZ4_LIBS = $(shell $(PKG_CONFIG) --libs liblz4)
XXHASH_CFLAGS = $(shell $(PKG_CONFIG) --cflags libxxhash)
XXHASH_LIBS = $(shell $(PKG_CONFIG) --libs libxxhash)
FUSE_CFLAGS = $(shell $(PKG_CONFIG) --cflags fuse3)
FUSE_LIBS = $(shell $(PKG_CONFIG) --libs fuse3)
ZSTD_CFLAGS = $(shell $(PKG_CONFIG) --cflags libzstd)
ZSTD_LIBS = $(shell $(PKG_CONFIG) --libs libzstd)
LZO_CFLAGS = $(shell $(PKG_CONFIG) --cflags lzo2)
LZO_LIBS = $(shell $(PKG_CONFIG) --libs lzo2)
JANSSON_CFLAGS = $(shell $(PKG_CONFIG) --cflags jansson)
JANSSON_LIBS = $(shell $(PKG_CONFIG) --libs jansson)
INIH_CFLAGS = $(shell $(PKG_CONFIG) --cflags inih)
INIH_LIBS = $(shell $(PKG_CONFIG) --libs inih)
CMOCKA_CFLAGS = $(shell $(PKG_CONFIG) --cflags cmocka)
CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka)

# jemalloc backs the store, except under sanitizers (they do not mix).
ifeq ($(SAN),)
JEMALLOC_CFLAGS = $(shell $(PKG_CONFIG) --cflags jemalloc) -DTMEM_USE_JEMALLOC=1
JEMALLOC_LIBS = $(shell $(PKG_CONFIG) --libs jemalloc)
OPTFLAGS ?= -O2 -g
else
JEMALLOC_CFLAGS = -DTMEM_USE_JEMALLOC=0
JEMALLOC_LIBS =
OPTFLAGS ?= -O1 -g -fno-omit-frame-pointer
endif

SANFLAGS =
ifeq ($(SAN),address)
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined
endif
ifeq ($(SAN),thread)
SANFLAGS = -fsanitize=thread
endif

WARNFLAGS = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
ifneq ($(WERROR),)
WARNFLAGS += -Werror
endif

CFLAGS_COMMON = -std=c11 -D_GNU_SOURCE $(OPTFLAGS) $(WARNFLAGS) $(SANFLAGS) -pthread -MMD -MP -Isrc
LDFLAGS_COMMON = $(SANFLAGS) -pthread

TEST_BINS :=
TEST_SCRIPTS :=
PROGRAMS :=
BENCH_CMDS :=
DEMO_CMDS :=

include src/common/module.mk
include src/core/module.mk
include src/snapshot/module.mk
include src/guest/module.mk
include src/trace/module.mk
-include src/swapsim/module.mk
-include src/fuse_cleancache/module.mk
include src/testbed/module.mk
include src/control/module.mk
include src/replay/module.mk
include tests/module.mk
include src/remote/module.mk
include tools/module.mk
include tools/fuzz/module.mk
include tools/testbed/module.mk

# ---------------------------------------------------------------- user targets
.PHONY: all test demo bench asan tsan install clean deps check-clang soak
.PHONY: _all _test _demo _bench

deps:
	@tools/install-deps.sh

all: deps
	@$(MAKE) --no-print-directory _all

test: deps
	@$(MAKE) --no-print-directory _test

demo: deps
	@$(MAKE) --no-print-directory _demo

bench: deps
	@$(MAKE) --no-print-directory _bench

# The bounded soak (issue #16; not in make test): SOAK_SECONDS (300) of
# the mount mix, swap guests and a stress guest on one store with faults
# injected; one summary line (tools/soak/soak.sh, docs/faults.md).
soak: deps
	@$(MAKE) --no-print-directory _all
	@BUILD=$(BUILD) tools/soak/soak.sh

# The remote tier's demo (issue #17; docs/remote.md, "The demo"): two
# testbed processes sharing one private redis-server.
.PHONY: demo-remote
demo-remote: deps
	@$(MAKE) --no-print-directory $(TESTBED_BIN)
	@tools/testbed/demo-remote.sh

asan: deps
	@$(MAKE) --no-print-directory _test SAN=address BUILD=build/asan

tsan: deps
	@$(MAKE) --no-print-directory _test SAN=thread BUILD=build/tsan TEST_SCRIPTS=

_all: $(CORE_LIB) $(GUEST_LIB) $(PROGRAMS) $(TEST_BINS)

# Every cmocka binary, then every shell integration test; one summary line.
_test: _all check-clang
	@tools/run-tests.sh $(TEST_BINS) $(TEST_SCRIPTS)

_demo: _all
	@set -e; $(foreach c,$(DEMO_CMDS),echo "==> $(c)"; $(c);)

_bench: _all
	@set -e; $(foreach c,$(BENCH_CMDS),echo "==> $(c)"; $(c);)

# Both compilers must build clean: compile every source with clang too
# (syntax and warnings only, no link) when clang is on the machine. Any
# clang warning fails the check (-Werror here whatever WERROR says), so
# "builds clean" is only printed when it is true.
check-clang:
	@if command -v clang >/dev/null 2>&1 && [ -z "$(SAN)" ]; then \
	    for f in $(ALL_SOURCES); do \
	        clang -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes \
	            -Wmissing-prototypes -Wno-unused-parameter -Werror -Isrc \
	            $(LZ4_CFLAGS) $(XXHASH_CFLAGS) $(ZSTD_CFLAGS) $(LZO_CFLAGS) $(JANSSON_CFLAGS) $(INIH_CFLAGS) $(FUSE_CFLAGS) $(CMOCKA_CFLAGS) -DTMEM_USE_JEMALLOC=1 \
	            -fsyntax-only $$f || exit 1; \
	    done; echo "check-clang: $(words $(ALL_SOURCES)) sources build clean with clang"; \
	else echo "check-clang: clang not installed or sanitizer build, skipped"; fi

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/tmem/common
	install -m 644 $(CORE_LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 src/core/tmem.h $(DESTDIR)$(PREFIX)/include/tmem/
	install -m 644 src/common/histogram.h $(DESTDIR)$(PREFIX)/include/tmem/common/
	$(if $(PROGRAMS),install -m 755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/)

clean:
	rm -rf build

# Keep every object, also those only chained through pattern rules (test
# and helper objects): no "rm *.o" after a build, no needless rebuilds.
.SECONDARY:

# Generic compile rule: src/x/y.c -> $(BUILD)/src/x/y.o
$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(EXTRA_CFLAGS_$(dir $<)) $(LZ4_CFLAGS) $(XXHASH_CFLAGS) $(ZSTD_CFLAGS) $(LZO_CFLAGS) $(JANSSON_CFLAGS) $(JEMALLOC_CFLAGS) -c $< -o $@

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

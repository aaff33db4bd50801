# src/remote: the remote memory tier on Redis (issue #17; docs/remote.md):
# remote_redis.c (one connection), remote_cluster.c (the same connection
# on a Redis Cluster: slots, -MOVED/-ASK), remote_tier.c (the core's tier
# ops). Built as $(BUILD)/libremote.a; links hiredis (pkg-config hiredis).
# tests/remote: cmocka tests against a private redis-server (or a private
# 3-master cluster, test_remote_cluster) they start.
HIREDIS_CFLAGS = $(shell $(PKG_CONFIG) --cflags hiredis)
HIREDIS_LIBS = $(shell $(PKG_CONFIG) --libs hiredis)
REMOTE_SOURCES := $(wildcard src/remote/*.c)
REMOTE_OBJECTS := $(REMOTE_SOURCES:%.c=$(BUILD)/%.o)
REMOTE_LIB := $(BUILD)/libremote.a
ALL_SOURCES += $(REMOTE_SOURCES)
EXTRA_CFLAGS_src/remote/ = $(HIREDIS_CFLAGS)

$(REMOTE_LIB): $(REMOTE_OBJECTS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

REMOTE_TEST_SOURCES := $(wildcard tests/remote/test_*.c)
REMOTE_TEST_BINS := $(REMOTE_TEST_SOURCES:tests/remote/%.c=$(BUILD)/tests/remote/%)
REMOTE_TEST_HELPERS := $(BUILD)/tests/remote/redis_fixture.o
# the cmocka tests' shared store + tier set-up (the bench has no cmocka)
REMOTE_TEST_ENV := $(BUILD)/tests/remote/remote_env.o
TEST_BINS += $(REMOTE_TEST_BINS)
ALL_SOURCES += $(REMOTE_TEST_SOURCES) tests/remote/redis_fixture.c tests/remote/remote_env.c \
	tests/remote/remote_bench.c
EXTRA_CFLAGS_tests/remote/ = $(CMOCKA_CFLAGS) $(HIREDIS_CFLAGS)

$(BUILD)/tests/remote/%: $(BUILD)/tests/remote/%.o $(REMOTE_TEST_HELPERS) $(REMOTE_TEST_ENV) $(TEST_SUPPORT_OBJECTS) $(REMOTE_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(REMOTE_TEST_HELPERS) $(REMOTE_TEST_ENV) $(TEST_SUPPORT_OBJECTS) $(REMOTE_LIB) $(CORE_LIBS) $(HIREDIS_LIBS) $(CMOCKA_LIBS)

# make bench: remote put/get latency and throughput next to the local core
# (tests/remote/remote_bench.c; REMOTE_BENCH_PAGES, default 20000).
REMOTE_BENCH := $(BUILD)/tests/remote/remote_bench
BENCH_CMDS += $(REMOTE_BENCH)
_all: $(REMOTE_BENCH)

$(REMOTE_BENCH): $(BUILD)/tests/remote/remote_bench.o $(REMOTE_TEST_HELPERS) $(REMOTE_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(REMOTE_TEST_HELPERS) $(REMOTE_LIB) $(CORE_LIBS) $(HIREDIS_LIBS)

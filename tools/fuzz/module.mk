# tools/fuzz: libFuzzer targets for the project's parsers, run by `make fuzz`.
#   fuzz_scenario        scenario files (src/testbed/scenario.c, libinih)
#   fuzz_pressure        [pressure] keys and schedule files (src/testbed/pressure.c)
#   fuzz_size_duration   the size, time, number and fault grammars (src/common)
#   fuzz_swapsim         tmem-swapsim trace files and --schedule text
#   fuzz_trace           page traces, binary and text (src/trace/trace.c)
#   fuzz_convert         the trace converters (src/trace/convert*.c)
#   fuzz_snapshot        save files, restored into a small store (src/snapshot)
#   fuzz_control         tmemctl's request parser (src/control/control_protocol.c)
#
# `make fuzz` rebuilds the parsers and their libraries with clang under
# -fsanitize=fuzzer-no-link,address,undefined into build/fuzz/ (a build of
# its own: nothing else there is instrumented), links each target with
# -fsanitize=fuzzer and runs it for FUZZ_TIME seconds (default 20) from
# the seeds: scenarios/ and tests/testbed/bad/ for scenarios,
# tools/fuzz/seeds/NAME/ for the others. New inputs go to
# build/fuzz/corpus/NAME/ (kept between runs); a crash, a failed check or
# an input that takes more than 10 s stops make with the input saved as
# build/fuzz/crash-NAME-* (replay: build/fuzz/tools/fuzz/fuzz_NAME FILE).
FUZZ_NAMES := scenario pressure size_duration swapsim trace convert snapshot control
FUZZ_SOURCES := $(FUZZ_NAMES:%=tools/fuzz/fuzz_%.c)
FUZZ_BINS := $(FUZZ_NAMES:%=$(BUILD)/tools/fuzz/fuzz_%)
FUZZ_TIME ?= 20
FUZZ_SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
ALL_SOURCES += $(FUZZ_SOURCES)

# The seeds of each target (folders; libFuzzer reads every file in them).
FUZZ_SEEDS_scenario := scenarios tests/testbed/bad
FUZZ_SEEDS_pressure := tools/fuzz/seeds/pressure
FUZZ_SEEDS_size_duration := tools/fuzz/seeds/size_duration
FUZZ_SEEDS_swapsim := tools/fuzz/seeds/swapsim
FUZZ_SEEDS_trace := tools/fuzz/seeds/trace
FUZZ_SEEDS_convert := tools/fuzz/seeds/convert
FUZZ_SEEDS_snapshot := tools/fuzz/seeds/snapshot
FUZZ_SEEDS_control := tools/fuzz/seeds/control

# What each target links after its own object (the parsers' objects, not
# libtestbed.a: the runner's objects are not needed to parse).
FUZZ_TESTBED_OBJECTS = $(BUILD)/src/testbed/scenario.o $(BUILD)/src/testbed/pressure.o
FUZZ_LIBS_scenario = $(FUZZ_TESTBED_OBJECTS) $(SWAPSIM_LIB) $(TRACE_LIB) $(GUEST_LIB) $(CORE_LIBS) $(INIH_LIBS)
FUZZ_LIBS_pressure = $(BUILD)/src/testbed/pressure.o $(CORE_LIBS)
FUZZ_LIBS_size_duration = $(CORE_LIBS)
FUZZ_LIBS_swapsim = $(SWAPSIM_LIB) $(TRACE_LIB) $(GUEST_LIB) $(CORE_LIBS)
FUZZ_LIBS_trace = $(TRACE_LIB) $(CORE_LIBS)
FUZZ_LIBS_convert = $(TRACE_LIB) $(CORE_LIBS)
FUZZ_LIBS_snapshot = $(SNAPSHOT_LIB) $(CORE_LIBS)
FUZZ_LIBS_control = $(BUILD)/src/control/control_protocol.o $(CORE_LIBS)

.PHONY: fuzz _fuzz

fuzz: deps
	@tools/install-deps.sh clang libclang-rt-14-dev
	@$(MAKE) --no-print-directory _fuzz BUILD=build/fuzz CC=clang SAN=address \
	    SANFLAGS='$(FUZZ_SANFLAGS)'

_fuzz: $(FUZZ_BINS)
	@set -e; for n in $(FUZZ_NAMES); do \
	    mkdir -p $(BUILD)/corpus/$$n; \
	    echo "==> fuzz_$$n for $(FUZZ_TIME) s"; \
	    case $$n in \
	        scenario) seeds="$(FUZZ_SEEDS_scenario)";; \
	        pressure) seeds="$(FUZZ_SEEDS_pressure)";; \
	        size_duration) seeds="$(FUZZ_SEEDS_size_duration)";; \
	        swapsim) seeds="$(FUZZ_SEEDS_swapsim)";; \
	        trace) seeds="$(FUZZ_SEEDS_trace)";; \
	        convert) seeds="$(FUZZ_SEEDS_convert)";; \
	        snapshot) seeds="$(FUZZ_SEEDS_snapshot)";; \
	        control) seeds="$(FUZZ_SEEDS_control)";; \
	    esac; \
	    $(BUILD)/tools/fuzz/fuzz_$$n -max_total_time=$(FUZZ_TIME) -timeout=10 \
	        -rss_limit_mb=2048 -print_final_stats=0 \
	        -artifact_prefix=$(BUILD)/crash-$$n- $(BUILD)/corpus/$$n $$seeds \
	        2>$(BUILD)/fuzz_$$n.log || { tail -n 40 $(BUILD)/fuzz_$$n.log; \
	        echo "fuzz: fuzz_$$n FAILED (log: $(BUILD)/fuzz_$$n.log)"; exit 1; }; \
	    grep -E '^Done [0-9]+ runs' $(BUILD)/fuzz_$$n.log | tail -n 1; \
	done; echo "fuzz: $(words $(FUZZ_NAMES)) targets ran $(FUZZ_TIME) s each, no crash"

$(BUILD)/tools/fuzz/fuzz_scenario: $(BUILD)/tools/fuzz/fuzz_scenario.o $(FUZZ_TESTBED_OBJECTS) $(SWAPSIM_LIB) $(TRACE_LIB) $(GUEST_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIBS_scenario)

$(BUILD)/tools/fuzz/fuzz_pressure: $(BUILD)/tools/fuzz/fuzz_pressure.o $(BUILD)/src/testbed/pressure.o $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIBS_pressure)

$(BUILD)/tools/fuzz/fuzz_size_duration: $(BUILD)/tools/fuzz/fuzz_size_duration.o $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIBS_size_duration)

$(BUILD)/tools/fuzz/fuzz_swapsim: $(BUILD)/tools/fuzz/fuzz_swapsim.o $(SWAPSIM_LIB) $(TRACE_LIB) $(GUEST_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIBS_swapsim)

$(BUILD)/tools/fuzz/fuzz_trace: $(BUILD)/tools/fuzz/fuzz_trace.o $(TRACE_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIBS_trace)

$(BUILD)/tools/fuzz/fuzz_convert: $(BUILD)/tools/fuzz/fuzz_convert.o $(TRACE_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIBS_convert)

$(BUILD)/tools/fuzz/fuzz_snapshot: $(BUILD)/tools/fuzz/fuzz_snapshot.o $(SNAPSHOT_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIBS_snapshot)

EXTRA_CFLAGS_tools/fuzz/ = $(INIH_CFLAGS) $(FUSE_CFLAGS)

$(BUILD)/tools/fuzz/fuzz_control: $(BUILD)/tools/fuzz/fuzz_control.o $(BUILD)/src/control/control_protocol.o $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIBS_control)

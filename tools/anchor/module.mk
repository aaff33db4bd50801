# tools/anchor: the zswap anchor, swapsim checked against the kernel's zswap.
#   $(BUILD)/tools/anchor/anchor_workload   swapsim's workload as a real
#                                            program (same stream, same bytes)
#   make anchor                              tools/anchor/zswap-anchor.sh at a
#                                            small size (root; changes and then
#                                            restores host settings: not a test)
#   tests/anchor/anchor_test.sh              its argument checks and refusals,
#                                            changing nothing, and the workload's
#                                            samples (in make test, through the
#                                            wrapper $(BUILD)/tests/anchor/anchor_test)
ANCHOR_WORKLOAD := $(BUILD)/tools/anchor/anchor_workload
ALL_SOURCES += tools/anchor/anchor_workload.c
ANCHOR_TEST := $(BUILD)/tests/anchor/anchor_test
TEST_SCRIPTS += $(ANCHOR_TEST)
ANCHOR_ARGS ?= --ram 256M --wss 4G --accesses 2000000 --pool-percents 1,2,5,20 --repeat 2

$(ANCHOR_WORKLOAD): $(BUILD)/tools/anchor/anchor_workload.o $(SWAPSIM_LIB) $(TRACE_LIB) $(GUEST_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(SWAPSIM_LIB) $(TRACE_LIB) $(GUEST_LIB) $(CORE_LIBS)

# make runs the test through a wrapper that names the workload binary
$(ANCHOR_TEST): tests/anchor/anchor_test.sh $(ANCHOR_WORKLOAD)
	@mkdir -p $(dir $@)
	printf '#!/bin/sh\nexec tests/anchor/anchor_test.sh $(ANCHOR_WORKLOAD)\n' >$@ && chmod +x $@

_all: $(ANCHOR_WORKLOAD) $(ANCHOR_TEST)

.PHONY: anchor
anchor: $(ANCHOR_WORKLOAD) $(SWAPSIM_BIN)
	tools/anchor/zswap-anchor.sh --workload-bin $(ANCHOR_WORKLOAD) --swapsim-bin $(SWAPSIM_BIN) \
	    --out $(BUILD)/anchor $(ANCHOR_ARGS)

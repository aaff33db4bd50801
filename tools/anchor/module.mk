# tools/anchor: the zswap anchor, swapsim checked against the kernel's zswap.
#   $(BUILD)/tools/anchor/anchor_workload   swapsim's workload as a real
#                                            program (same stream, same bytes)
#   make anchor                              tools/anchor/zswap-anchor.sh at a
#                                            small size (root; changes and then
#                                            restores host settings: not a test)
#   tests/anchor/anchor_test.sh              its argument checks and refusals,
#                                            changing nothing (in make test)
ANCHOR_WORKLOAD := $(BUILD)/tools/anchor/anchor_workload
ALL_SOURCES += tools/anchor/anchor_workload.c
TEST_SCRIPTS += tests/anchor/anchor_test.sh
ANCHOR_ARGS ?= --ram 128M --wss 512M --accesses 300000 --pool-percents 1,2,5,20

$(ANCHOR_WORKLOAD): $(BUILD)/tools/anchor/anchor_workload.o $(SWAPSIM_LIB) $(TRACE_LIB) $(GUEST_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $< $(SWAPSIM_LIB) $(TRACE_LIB) $(GUEST_LIB) $(CORE_LIBS)

_all: $(ANCHOR_WORKLOAD)

.PHONY: anchor
anchor: $(ANCHOR_WORKLOAD) $(SWAPSIM_BIN)
	tools/anchor/zswap-anchor.sh --workload-bin $(ANCHOR_WORKLOAD) --swapsim-bin $(SWAPSIM_BIN) \
	    --out $(BUILD)/anchor $(ANCHOR_ARGS)

# tools/testbed: helpers of the testbed's docs.
#   $(BUILD)/tools/testbed/pressure-plot   a scenario's pressure model as
#                                          "t capacity" rows
#   make pressure-plots                    docs/img/pressure-<model>.png (gnuplot)
PRESSURE_PLOT := $(BUILD)/tools/testbed/pressure-plot
PRESSURE_PLOT_OBJECTS = $(BUILD)/tools/testbed/pressure_plot.o \
    $(BUILD)/src/testbed/scenario.o $(BUILD)/src/testbed/pressure.o
ALL_SOURCES += tools/testbed/pressure_plot.c
EXTRA_CFLAGS_tools/testbed/ = $(INIH_CFLAGS) $(FUSE_CFLAGS)

$(PRESSURE_PLOT): $(PRESSURE_PLOT_OBJECTS) $(SWAPSIM_LIB) $(TRACE_LIB) $(GUEST_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS_COMMON) -o $@ $(PRESSURE_PLOT_OBJECTS) $(SWAPSIM_LIB) $(TRACE_LIB) $(GUEST_LIB) \
	    $(CORE_LIBS) $(INIH_LIBS)

_all: $(PRESSURE_PLOT)

.PHONY: pressure-plots
pressure-plots: $(PRESSURE_PLOT)
	tools/testbed/pressure-plots.sh $(PRESSURE_PLOT) docs/img

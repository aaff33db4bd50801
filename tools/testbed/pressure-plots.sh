#!/bin/bash
# pressure-plots.sh - render one PNG per pressure model for docs/testbed.md:
#
#   tools/testbed/pressure-plots.sh PRESSURE_PLOT [OUTDIR]
#
# PRESSURE_PLOT is the built tools/testbed/pressure-plot (make pressure-plots
# passes it); OUTDIR defaults to docs/img. For each model a small scenario
# (written to a temporary folder) holds the [pressure] section shown under
# the plot's title; pressure-plot evaluates it over the run and gnuplot
# (pngcairo, or png where cairo is missing) draws capacity over time into
# OUTDIR/pressure-<model>.png. Exit non-zero on the first failure.
set -euo pipefail

plot=${1:?usage: pressure-plots.sh PRESSURE_PLOT [OUTDIR]}
out=${2:-docs/img}
command -v gnuplot >/dev/null || { echo "pressure-plots: gnuplot not found" >&2; exit 1; }
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if gnuplot -e 'set terminal' 2>&1 | grep -q pngcairo; then
    terminal="pngcairo size 800,360 font 'Sans,10'"
else
    terminal="png size 800,360"
fi

# model TITLE DURATION: the scenario's [pressure] (and guests) on stdin.
model() {
    local name=$1 duration=$2 ini="$work/$1.ini" keys
    {
        printf '[run]\nduration = %s\n\n' "$duration"
        cat
    } >"$ini"
    # the [pressure] keys, one line, for the plot's subtitle
    keys=$(sed -n '/^\[pressure\]/,/^\[/{/^\[/d;/^$/d;p}' "$ini" | sed 's/ *= */=/' |
           paste -sd' ' | sed 's/_/\\\\_/g')
    "$plot" "$ini" >"$work/$name.dat"
    gnuplot <<GNUPLOT
set terminal $terminal
set output '$out/pressure-$name.png'
set title "pressure model: $name\n{/*0.8 $keys}"
set xlabel 'time (s)'
set ylabel 'store capacity (MiB)'
set grid
set key off
set yrange [0:*]
set xrange [0:$duration]
plot '$work/$name.dat' using 1:2 with steps lw 2 lc rgb '#1f6fb4'
GNUPLOT
    echo "pressure-plots: $out/pressure-$name.png"
}

model constant 60 <<'INI'
[pressure]
model = constant
capacity = 64M
INI

model steps 60 <<'INI'
[pressure]
model = steps
steps = 0:64M, 15s:32M, 30s:8M, 45s:48M
INI

model sine 60 <<'INI'
[pressure]
model = sine
low = 4M
high = 40M
period = 20s
INI

model square 60 <<'INI'
[pressure]
model = square
low = 8M
high = 48M
period = 20s
duty = 0.25
INI

model random-walk 60 <<'INI'
[pressure]
model = random-walk
low = 8M
high = 56M
step = 4M
seed = 1
interval = 500ms
INI

cat >"$work/schedule.txt" <<'SCHEDULE'
# WHEN SIZE
0     64M
10s   16M
12.5s 32M
30s   8M
45s   56M
SCHEDULE
model schedule 60 <<INI
[pressure]
model = schedule
file = schedule.txt
capacity = 48M
INI

model selfballoon 60 <<'INI'
[pressure]
model = selfballoon
host_memory = 160M
reserve = 8M
hysteresis = 8
interval = 250ms

[guest early]
kind = swap
ram = 48M
memory = 96M
workload = zipf
stop = 35s

[guest late]
kind = swap
start = 15s
ram = 32M
memory = 64M
workload = zipf
INI

model spike 60 <<'INI'
[pressure]
model = spike
capacity = 64M
at = 15s
duration = 10s
floor = 2M
recover = 15s
interval = 100ms
INI

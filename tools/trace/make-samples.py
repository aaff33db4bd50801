#!/usr/bin/env python3
"""make-samples.py - write the small sample inputs of traces/samples/ (one
per format tmem-trace converts), deterministically (a fixed LCG, no
download), from each format's documented layout. Prints, per sample, the
record count tmem-trace convert must give at 4096-byte pages (computed
here independently of the C converters; tests/trace/tmem_trace_cli.sh
checks them).

Usage: tools/trace/make-samples.py [OUTDIR]   (default traces/samples)
"""
import os
import struct
import sys

PAGE = 4096
state = 12345


def rand(n):
    """A number in 0..n-1 from a 31-bit LCG (deterministic)."""
    global state
    state = (state * 1103515245 + 12345) % (1 << 31)
    return (state >> 8) % n


def pages(off, size):
    return (off + size - 1) // PAGE - off // PAGE + 1 if size else 0


def oracle(out):
    n = 0
    with open(os.path.join(out, "oracle-general.bin"), "wb") as f:
        for i in range(100):
            obj = [7, 42, 1000003, 2 ** 40 + 5, 99][rand(5)]
            size = [0, 100, 4096, 4097, 20000][obj % 5]
            f.write(struct.pack("<IQIq", 1700000000 + i, obj, size, -1))
            n += max(1, (size + PAGE - 1) // PAGE)
    return n


def msr(out):
    n = 0
    t = 128166372000000000
    with open(os.path.join(out, "msr.csv"), "w") as f:
        for _ in range(80):
            t += rand(50000)
            host, disk = [("usr", 0), ("usr", 1), ("proj", 0)][rand(3)]
            typ = ["Read", "Write"][rand(2)]
            off = rand(4096) * 512
            size = [512, 4096, 8192, 65536, 1000][rand(5)]
            f.write(f"{t},{host},{disk},{typ},{off},{size},{rand(3000)}\n")
            n += pages(off, size)
    return n


def blkparse(out):
    n_q = n_c = 0
    seq = 0
    t = 0
    lines = []
    for _ in range(40):
        seq += 1
        t += rand(900000)
        dev = ["8,0", "8,16"][rand(2)]
        rwbs = ["R", "W", "WS", "RM", "FN"][rand(5)]
        sector = rand(100000)
        count = [8, 16, 1, 256][rand(4)]
        pid = 600 + rand(50)
        stamp = f"{t // 10**9}.{t % 10**9:09d}"
        if rwbs == "FN":
            lines.append(f"{dev:>5} {rand(4):>2} {seq:>8} {stamp:>14} {pid:>5}  Q  FN [kworker]")
            continue
        lines.append(f"{dev:>5} {rand(4):>2} {seq:>8} {stamp:>14} {pid:>5}  Q {rwbs:>3} "
                     f"{sector} + {count} [dd]")
        lines.append(f"{dev:>5} {rand(4):>2} {seq:>8} {stamp:>14} {pid:>5}  G {rwbs:>3} "
                     f"{sector} + {count} [dd]")
        lines.append(f"{dev:>5} {rand(4):>2} {seq:>8} {stamp:>14}     0  C {rwbs:>3} "
                     f"{sector} + {count} [0]")
        p = pages(sector * 512, count * 512)
        n_q += p
        n_c += p
    lines += ["CPU0 (8,0):",
              " Reads Queued:          10,       40KiB\t Writes Queued:          12,       48KiB",
              "Total (8,0):",
              " Reads Queued:          10,       40KiB\t Writes Queued:          12,       48KiB",
              "", "Throughput (R/W): 40KiB/s / 48KiB/s",
              "Events (8,0): 120 entries", "Skips: 0 forward (0 -   0.0%)"]
    with open(os.path.join(out, "blkparse.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return n_q, n_c


def fio(out, version):
    files = ["/data/a.bin", "/data/b.bin"]
    n = 0
    lines = [f"fio version {version} iolog"]
    ms = 0
    pre = lambda: (f"{ms} " if version == 3 else "")
    for name in files:
        lines.append(f"{pre()}{name} add")
    for name in files:
        lines.append(f"{pre()}{name} open")
    for _ in range(60):
        ms += rand(5)
        name = files[rand(2)]
        act = ["read", "write", "read", "trim", "sync"][rand(5)]
        if act in ("trim",):
            lines.append(f"{pre()}{name} trim {rand(1000) * 4096} 4096")
            continue
        if act == "sync":
            lines.append(f"{pre()}{name} sync")
            continue
        off = rand(1000) * 1024
        size = [4096, 8192, 1024, 16384][rand(4)]
        lines.append(f"{pre()}{name} {act} {off} {size}")
        n += pages(off, size)
    for name in files:
        lines.append(f"{pre()}{name} close")
    with open(os.path.join(out, f"fio-iolog-v{version}.log"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return n


def lackey(out):
    n = 0
    lines = ["==4242== Lackey, an example Valgrind tool",
             "==4242== Command: ./a.out", "==4242== "]
    for _ in range(150):
        kind = ["I ", " L", " S", " M"][rand(4)]
        base = [0x04000000, 0x04222000, 0x1ffefff000][rand(3)]
        addr = base + rand(3 * PAGE)
        size = [1, 2, 4, 8, 16][rand(5)]
        lines.append(f"{kind} {addr:08x},{size}")
        if kind == "I ":
            continue
        p = pages(addr, size)
        n += 2 * p if kind == " M" else p
    lines += ["==4242== ", "==4242== Counted 1 call to main()"]
    with open(os.path.join(out, "lackey.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return n


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "traces/samples"
    os.makedirs(out, exist_ok=True)
    print("oracle-general.bin", oracle(out))
    print("msr.csv", msr(out))
    q, c = blkparse(out)
    print("blkparse.txt", q, "(Q)", c, "(C)")
    print("fio-iolog-v2.log", fio(out, 2))
    print("fio-iolog-v3.log", fio(out, 3))
    print("lackey.txt", lackey(out))


if __name__ == "__main__":
    main()

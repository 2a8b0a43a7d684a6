"""What a probe costs while no tracer is attached.

A C program (gcc -O2) runs a hot loop -- a 64-bit LCG step, x = x * K + i, a serial chain
the compiler cannot remove or vectorise -- built several ways:

  no probe                          the baseline
  usdtgen MYAPP_TICK(i, x)          a bare probe in the loop (one nop + a note)
  usdtgen if (MYAPP_TICK_ENABLED()) the semaphore check, probe inside the if
  sys/sdt.h STAP_PROBE2(..., i, x)  the peer: systemtap's bare probe
  dtrace -h if (MYAPP_TICK_ENABLED()) the peer's semaphore check (systemtap's dtrace -h
                                    header, semaphores from its dtrace -G object)

The program times the loop itself with clock_gettime and prints ns per iteration. The
binaries run interleaved, --runs rounds after one warm-up round, each variant run between
two baseline runs (b v1 b v2 b ...); the ratio is the median over rounds of (variant / mean
of its two neighbouring baseline runs), so drift of a noisy machine cancels out. The
baseline row's range compares consecutive baseline runs: the noise floor. Goal for the bare usdtgen probe: ratio <= 1.02.

When valgrind is installed, the instructions each iteration executes are counted too
(callgrind, at two loop lengths, difference / length): exact and noise-free, which is what
the cost is on a machine whose loop is not bound by the LCG's multiply latency.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from _common import CC, median, print_header, run, table, tempdir, usdtgen_cmd

PROVIDER = """\
provider myapp {
    probe tick(uint64_t i, uint64_t x);
};
"""

SOURCE = r"""
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(USE_USDTGEN)
# include "myapp_usdtgen.h"
#elif defined(USE_DTRACE_H)
# include "myapp_dtrace.h"
#elif defined(USE_SDT)
# include <sys/sdt.h>
#endif

#if MODE == 0                               /* no probe */
# define SITE(i, x) ((void)0)
#elif MODE == 1 && defined(USE_SDT)         /* bare probe, sys/sdt.h */
# define SITE(i, x) STAP_PROBE2(myapp, tick, i, x)
#elif MODE == 1                             /* bare probe, generated header */
# define SITE(i, x) MYAPP_TICK(i, x)
#elif MODE == 2                             /* semaphore check; probe (and its argument
                                               computation) only while a tracer is on */
# define SITE(i, x) do { if (MYAPP_TICK_ENABLED()) MYAPP_TICK(i, (x) ^ ((x) >> 17)); } while (0)
#endif

__attribute__((noinline)) static uint64_t hot_loop(uint64_t n, uint64_t x)
{
    for (uint64_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + i;
        SITE(i, x);
    }
    return x;
}

int main(int argc, char **argv)
{
    uint64_t n = strtoull(argv[1], 0, 10);
    uint64_t seed = argc > 2 ? strtoull(argv[2], 0, 10) : 1;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    uint64_t x = hot_loop(n, seed);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
    printf("%.6f %llu\n", ns / (double)n, (unsigned long long)x);
    return 0;
}
"""

# name, -D flags, link the dtrace -G object, stapsdt notes expected in the binary
VARIANTS = [
    ("no probe (baseline)", ["-DMODE=0"], False, 0),
    ("usdtgen  MYAPP_TICK(i, x)", ["-DMODE=1", "-DUSE_USDTGEN"], False, 1),
    ("usdtgen  if (MYAPP_TICK_ENABLED())", ["-DMODE=2", "-DUSE_USDTGEN"], False, 1),
    ("sys/sdt.h STAP_PROBE2(i, x)", ["-DMODE=1", "-DUSE_SDT"], False, 1),
    ("dtrace -h if (MYAPP_TICK_ENABLED())", ["-DMODE=2", "-DUSE_DTRACE_H"], True, 1),
]


def count_stapsdt_notes(path: Path) -> int:
    out = run(["readelf", "-n", "--wide", path]).stdout
    return len(re.findall(r"^\s*stapsdt\s", out, re.M))


def callgrind_instructions(exe: Path, n: int) -> int:
    proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           str(exe), str(n)], capture_output=True, text=True)
    m = re.search(r"Collected\s*:\s*(\d+)", proc.stderr)
    if proc.returncode != 0 or not m:
        raise RuntimeError(proc.stderr[-2000:])
    return int(m.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=200_000_000, help="loop iterations per run")
    ap.add_argument("--runs", type=int, default=9, help="timed rounds (median)")
    ap.add_argument("--no-valgrind", action="store_true", help="skip instruction counts")
    opts = ap.parse_args()

    print_header("disabled probe cost",
                 f"hot loop of {opts.iters:,} LCG steps, gcc -O2, no tracer attached; "
                 f"median of {opts.runs} interleaved rounds")
    if os.getloadavg()[0] > max(1, (os.cpu_count() or 1) - 1) * 0.75:
        print("warning: the machine is busy (load average above); expect noisy timings\n")
    with tempdir("disabled") as tmp:
        tmp = Path(tmp)
        (tmp / "myapp.d").write_text(PROVIDER)
        (tmp / "bench.c").write_text(SOURCE)
        run(usdtgen_cmd() + ["-h", "-s", tmp / "myapp.d", "-o", tmp / "myapp_usdtgen.h"])
        run(["dtrace", "-h", "-s", "myapp.d", "-o", "myapp_dtrace.h"], cwd=tmp)
        run(["dtrace", "-G", "-s", "myapp.d", "-o", "myapp_dtrace.o"], cwd=tmp)

        exes = []
        for k, (name, flags, link_g, notes) in enumerate(VARIANTS):
            exe = tmp / f"bench{k}"
            extra = [tmp / "myapp_dtrace.o"] if link_g else []
            run([CC, "-O2", "-std=gnu11", "-Wall", "-I", tmp, *flags, tmp / "bench.c", *extra,
                 "-o", exe])
            found = count_stapsdt_notes(exe)
            if found != notes:
                sys.exit(f"{name}: expected {notes} stapsdt note(s) in the binary, found {found}")
            exes.append(exe)

        def once(exe: Path) -> float:
            out = run([exe, str(opts.iters)]).stdout.split()
            return float(out[0])

        for exe in exes:                       # warm-up round (frequency, page cache)
            once(exe)
        # Each round: the variants in a rotated order, a baseline run before and after
        # each (b v1 b v2 b v3 b v4 b), so every variant run is compared with the
        # baseline runs right next to it in time.
        samples = [[] for _ in exes]
        ratios = [[] for _ in exes]
        for r in range(opts.runs):
            order = list(range(1, len(exes)))
            order = order[r % len(order):] + order[:r % len(order)]
            before = once(exes[0])
            samples[0].append(before)
            for k in order:
                t = once(exes[k])
                after = once(exes[0])
                samples[k].append(t)
                samples[0].append(after)
                ratios[k].append(t / ((before + after) / 2))
                ratios[0].append(after / before)      # baseline vs itself: the noise
                before = after

        instr = [None] * len(exes)
        if not opts.no_valgrind and shutil.which("valgrind"):
            n1, n2 = 1_000_000, 3_000_000
            for k, exe in enumerate(exes):
                instr[k] = (callgrind_instructions(exe, n2)
                            - callgrind_instructions(exe, n1)) / (n2 - n1)

    base = samples[0]
    rows = []
    for k, (name, *_rest) in enumerate(VARIANTS):
        rows.append([
            name,
            f"{median(samples[k]):.3f}",
            "1.000" if k == 0 else f"{median(ratios[k]):.3f}",
            f"{min(ratios[k]):.3f}-{max(ratios[k]):.3f}",
            f"{min(samples[k]) / min(base):.3f}",
            "-" if instr[k] is None else f"{instr[k]:.2f}",
            "-" if instr[k] is None else f"{instr[k] - instr[0]:+.2f}",
        ])
    print(table(["variant", "ns/iter", "ratio", "ratio range", "best ratio",
                 "instr/iter", "vs base"], rows))
    print()
    ours = median(ratios[1])
    verdict = "met" if ours <= 1.02 else "NOT met"
    print(f"goal: bare usdtgen probe ratio <= 1.02 -> {ours:.3f}, {verdict}")
    print("ratio: median over rounds of variant / mean of the baseline runs just before and")
    print("after it (range: min-max; the baseline's range is baseline vs itself: the noise);")
    print("best ratio: fastest run / fastest baseline run (noise only ever adds time);")
    print("instr/iter: callgrind, exact. The loop is bound by its multiply chain, so the extra")
    print("instructions run in its shadow; instr/iter is the cost where they would not.")


if __name__ == "__main__":
    main()

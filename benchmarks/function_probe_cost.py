"""What a function entry probe that counts its hits costs the traced program, per hit, with
usdtgen and with bpftrace, against the same program untraced in the same run.

A C program built here calls a small non-inlined function ``hot(i)`` N times in a loop and
times the loop itself (CLOCK_MONOTONIC), writing "calls loop_ns" to a file. It runs:

  untraced                                                     (the baseline)
  bpftrace -e 'uprobe:PATH:hot { @ = count(); }' -c CMD           (the peer)
  usdtgen trace -q -e 'pid$target:a.out:hot:entry { @ = count(); }' -c CMD
                                              (counted in the kernel by a BPF program)
  usdtgen trace -q -u a.out:hot -c CMD -o FILE   (every hit printed: recorded, sent to
                                              usdtgen, decoded and written)

Rounds are interleaved (untraced, then each tracer, --runs times); the table gives the
median loop time per call, the cost per hit (traced minus untraced), its ratio to
bpftrace's, and the count each tracer reported (checked against the calls made).
Needs root, tracefs, gcc; bpftrace is optional (its row is skipped when absent).
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

from _common import CC, median, print_header, report_bpftrace, run, table, tempdir, \
    usdtgen_cmd

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

long sink;

__attribute__((noinline)) long hot(long i)
{
    sink += i;
    __asm__ volatile("" ::: "memory");
    return sink;
}

int main(int argc, char **argv)
{
    long n = atol(argv[1]);
    long start = ns();
    for (long i = 0; i < n; i++)
        hot(i);
    long end = ns();
    FILE *f = fopen(argv[2], "w");
    if (!f)
        return 3;
    fprintf(f, "%ld %ld\n", n, end - start);
    fclose(f);
    return 0;
}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100_000, help="calls of hot() per run")
    parser.add_argument("--runs", type=int, default=5, help="interleaved rounds")
    options = parser.parse_args()
    print_header("function entry probe: cost per hit to the traced program",
                 f"{options.calls:,} calls of a noinline function, median of {options.runs} "
                 "interleaved rounds; count() of its entries")
    have_bpftrace = report_bpftrace()
    with tempdir("funcprobe") as folder:
        folder = Path(folder)
        program = folder / "calls"
        (folder / "calls.c").write_text(PROGRAM)
        run([CC, "-O2", "-o", program, folder / "calls.c"])
        stats = folder / "stats.txt"
        command = f"{program} {options.calls} {stats}"
        usdtgen = usdtgen_cmd()
        variants = [("untraced", [program, options.calls, stats], None)]
        if have_bpftrace:
            variants.append(("bpftrace uprobe count()",
                             ["bpftrace", "-q", "-e", f"uprobe:{program}:hot {{ @ = count(); }}",
                              "-c", command], r"^@: (\d+)$"))
        variants.append(("usdtgen pid$target count()",
                         usdtgen + ["trace", "-q", "-e",
                                    "pid$target:a.out:hot:entry { @ = count(); }", "-c",
                                    command], r"^\s+(\d+)\s*$"))
        variants.append(("usdtgen -u (each hit printed)",
                         usdtgen + ["trace", "-q", "-u", "a.out:hot", "-o", folder / "out.txt",
                                    "-c", command], None))
        notice = run(usdtgen + ["trace", "-e", "pid$target:a.out:hot:entry { @ = count(); }",
                                "-c", f"{program} 10 {stats}"]).stderr.strip()
        print(f"  {notice}\n")
        loops: dict[str, list[float]] = {label: [] for label, _, _ in variants}
        counts: dict[str, set] = {label: set() for label, _, _ in variants}
        for _ in range(options.runs):
            for label, cmd, count_pattern in variants:
                stats.unlink(missing_ok=True)
                proc = run(cmd)
                calls, loop_ns = map(int, stats.read_text().split())
                loops[label].append(loop_ns / calls)
                if count_pattern is not None:
                    found = re.findall(count_pattern, proc.stdout, re.M)
                    counts[label].add(int(found[-1]) if found else None)
                elif label.startswith("usdtgen -u"):
                    printed = sum(1 for _ in open(folder / "out.txt"))
                    counts[label].add(printed)
        base = median(loops["untraced"])
        peer = median(loops["bpftrace uprobe count()"]) - base if have_bpftrace else None
        rows = []
        for label, _, _ in variants:
            per_call = median(loops[label])
            extra = per_call - base
            ratio = f"{extra / peer:.2f}x" if peer and label != "untraced" else "-"
            shown = ", ".join(str(c) for c in sorted(counts[label], key=str)) or "-"
            rows.append([label, f"{per_call:.1f}", f"{extra:.1f}" if label != "untraced"
                         else "-", ratio, shown])
        print(table(["variant", "ns/call", "ns/hit added", "vs bpftrace", "hits counted"],
                    rows))
        print(f"\n(calls per run: {options.calls:,}; 'hits counted' must equal it)")


if __name__ == "__main__":
    main()

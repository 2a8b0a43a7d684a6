"""How fast ``@[ustack()] = count()`` on a USDT probe keeps up with a program firing it as
fast as it can, and how long naming and printing the stacks takes at the end, next to
bpftrace's ``@[ustack] = count()`` on the same program in the same run.

A C program built here (-O2 with frame pointers) fires ``bench:hit(i)`` N times through
three call paths (leaf; a -> leaf; b -> a -> leaf), timing its loop (CLOCK_MONOTONIC) and
writing "fired loop_ns loop_end_ns" to a file. Each tracer starts it with -c:

  usdtgen trace -q -e 'bench:::hit { @[ustack()] = count(); }' -c CMD
  bpftrace -q -e 'usdt:PATH:bench:hit { @[ustack] = count(); }' -c CMD

Per run: the program's rate (events/s it reached, traced and untraced), the events the
tracer counted (the sum of the printed counts; fired - counted were lost), the number of
distinct stacks printed, and the exit time: from the program's last event to the tracer's
end (draining, the program's exit, naming the frames and printing). Then usdtgen in this
process, to time its END alone (naming the frames and printing: the symbolizer starts
empty), with a cProfile of it under --profile. Median of --runs interleaved rounds.
Needs root, tracefs, gcc; bpftrace is optional (its rows are skipped when absent).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import sys
import time
from pathlib import Path

from _common import CC, median, print_header, report_bpftrace, run, run_tracer, table, \
    tempdir, usdtgen_cmd

PROVIDER = "provider bench { probe hit(long i); };\n"
PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "bench.h"

static long ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

__attribute__((noinline)) static void leaf(long i) { BENCH_HIT(i); __asm__ volatile("" ::: "memory"); }
__attribute__((noinline)) static void path_a(long i) { leaf(i); __asm__ volatile("" ::: "memory"); }
__attribute__((noinline)) static void path_b(long i) { path_a(i); __asm__ volatile("" ::: "memory"); }

int main(int argc, char **argv)
{
    long n = atol(argv[1]);
    long start = ns();
    for (long i = 0; i < n; i++) {
        switch (i % 3) {
        case 0: leaf(i); break;
        case 1: path_a(i); break;
        default: path_b(i); break;
        }
    }
    long end = ns();
    FILE *f = fopen(argv[2], "w");
    if (!f)
        return 3;
    fprintf(f, "%ld %ld %ld\n", n, end - start, end);
    fclose(f);
    return 0;
}
"""
USDTGEN_SCRIPT = "bench:::hit { @[ustack()] = count(); }"


def usdtgen_stacks(text: str) -> list[int]:
    """The count of each stack of usdtgen's printed aggregation."""
    counts = []
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip()]
        if len(lines) > 1 and re.fullmatch(r"\s+\d+", lines[-1]):
            counts.append(int(lines[-1]))
    return counts


def bpftrace_stacks(text: str) -> list[int]:
    return [int(c) for c in re.findall(r"^\]: (\d+)$", text, re.M)]


def in_process_end(program: Path, events: int, stats: Path, profile: bool):
    """Run usdtgen's script in this process; the seconds its END took (naming the frames
    and printing the aggregation), and a cProfile of it when asked."""
    from usdtgen.trace import symbolize
    from usdtgen.trace.script.run import load_script, run_script, trace_config

    symbolize.SYMBOLIZER.__init__()            # a fresh symbolizer, as a new usdtgen has
    out = io.StringIO()
    script = load_script(USDTGEN_SCRIPT, "<-e>", (), out, sys.stderr, quiet=True)
    machine = script.machine
    print_remaining = machine.print_remaining
    timing: dict = {}

    def timed() -> None:
        profiler = cProfile.Profile() if profile else None
        start = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        print_remaining()
        if profiler is not None:
            profiler.disable()
        timing["seconds"] = time.perf_counter() - start
        timing["profile"] = profiler
    machine.print_remaining = timed
    config = trace_config(script, command=f"{program} {events} {stats}")
    run_script(script, config)
    return timing["seconds"], usdtgen_stacks(out.getvalue()), timing["profile"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="probe hits per run")
    parser.add_argument("--runs", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--profile", action="store_true", help="cProfile usdtgen's END")
    options = parser.parse_args()
    print_header("@[ustack()] = count() at full speed",
                 f"{options.events:,} hits of a USDT probe through 3 call paths, as fast as "
                 f"the program fires them; median of {options.runs} rounds")
    have_bpftrace = report_bpftrace()
    with tempdir("ustack") as folder:
        folder = Path(folder)
        (folder / "bench.d").write_text(PROVIDER)
        run(usdtgen_cmd() + ["-h", "-s", folder / "bench.d", "-o", folder / "bench.h"])
        (folder / "bench.c").write_text(PROGRAM)
        program = folder / "bench"
        run([CC, "-O2", "-fno-omit-frame-pointer", "-I", folder, "-o", program,
             folder / "bench.c"])
        stats, out, err = folder / "stats.txt", folder / "out.txt", folder / "err.txt"
        command = f"{program} {options.events} {stats}"
        variants = [("untraced", None, None)]
        variants.append(("usdtgen", usdtgen_cmd() + ["trace", "-q", "-e", USDTGEN_SCRIPT, "-c",
                                                     command], usdtgen_stacks))
        if have_bpftrace:
            variants.append(("bpftrace", ["bpftrace", "-q", "-e",
                                          f"usdt:{program}:bench:hit {{ @[ustack] = count(); }}",
                                          "-c", command], bpftrace_stacks))
        results: dict[str, list[tuple]] = {label: [] for label, _, _ in variants}
        for _ in range(options.runs):
            for label, cmd, parse in variants:
                stats.unlink(missing_ok=True)
                if cmd is None:
                    run([program, options.events, stats])
                    fired, loop_ns, _ = map(int, stats.read_text().split())
                    results[label].append((fired / loop_ns * 1e9, None, None, None))
                    continue
                _, _, ended = run_tracer(cmd, out, err)
                fired, loop_ns, loop_end = map(int, stats.read_text().split())
                counts = parse(out.read_text())
                results[label].append((fired / loop_ns * 1e9, sum(counts), len(counts),
                                       (ended - loop_end) / 1e9))
        rows = []
        peer_exit = median([r[3] for r in results["bpftrace"]]) if have_bpftrace else None
        for label, _, _ in variants:
            runs = results[label]
            rate = median([r[0] for r in runs])
            if label == "untraced":
                rows.append([label, f"{rate:,.0f}", "-", "-", "-", "-", "-"])
                continue
            counted = median([r[1] for r in runs])
            exit_s = median([r[3] for r in runs])
            rows.append([label, f"{rate:,.0f}", f"{counted:,.0f}",
                         f"{options.events - counted:,.0f}",
                         "/".join(str(r[2]) for r in runs), f"{exit_s:.3f}",
                         f"{exit_s / peer_exit:.2f}x" if peer_exit else "-"])
        print(table(["tracer", "events/s", "counted", "lost", "stacks", "exit s",
                     "exit vs bpftrace"], rows))
        seconds, counts, profiler = in_process_end(program, options.events, stats,
                                                   options.profile)
        print(f"\nusdtgen's END in-process (name {len(counts)} stacks' frames, print): "
              f"{seconds * 1e3:.1f} ms for {sum(counts):,} events counted")
        if profiler is not None:
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(20)
            print(text.getvalue())


if __name__ == "__main__":
    main()

"""How many events ``usdtgen trace`` keeps up with, and what it costs, next to bpftrace.

A C program built here with the ``usdtgen -h`` header fires ``bench:tick(long i, int x)``
(or ``bench:tick_str(long i, const char *s)``, a string it formats itself) N times, paced
at a fixed rate (100 us ticks: it fires the events due, then clock_nanosleep's to the next
tick) or as fast as it can. It writes its own figures to a file: events fired, the loop's
wall and CPU time (clock_gettime), its whole CPU time (getrusage), and the CPU time its
parent -- the tracer, which started it with -c -- had used when the loop began and ended
(/proc/PPID/task/*/schedstat). Each tracer runs the program with -c, its standard output
to a file in the temp dir (captured = the event lines in it, lost = fired - captured;
usdtgen's own summary is checked against that when it prints one):

  usdtgen trace -c CMD bench:tick                 text lines (-q where noted)
  usdtgen trace --json / -f '%d %d\\n'            the other output modes
  bpftrace -q -e 'usdt:PATH:bench:tick { printf("%d %d\\n", arg0, arg1); }' -c CMD

Tracer CPU = the tracer's user+sys from os.wait4 (which includes the program it reaped)
minus the program's own getrusage total; per event = (that - the tracer's CPU when the loop
began) / events captured, so start-up (Python, LLVM for bpftrace, attaching) is left out
and shown apart.

  1. rates     10k..400k events/s for --seconds each: captured, lost, the rate the program
               reached, how long the tracer ran on after the program's last event (lag)
  2. CPU       the tracer's CPU per event at --cpu-rate, per output mode, int and string probes
  3. slowdown  the program's own loop time per hit, untraced vs traced (max speed)
  4. burst     --burst events as fast as the program fires them: captured vs lost, median
               of --runs; usdtgen's default buffer, bpftrace's default, and usdtgen with a
               buffer as small as bpftrace's
Then one run_trace of --profile-events (as fast as the program can) in this process under
cProfile, with a sink that discards the events: where usdtgen's per-event time goes.
Needs root, tracefs and gcc; bpftrace is optional (its rows are skipped when absent).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from _common import C_TIMING, CC, median, print_header, program_stats, report_bpftrace, run, \
    run_tracer, table, tempdir, usdtgen_cmd

PROVIDER = """\
provider bench {
    probe tick(long i, int x);
    probe tick_str(long i, const char *s);
};
"""

PROGRAM = C_TIMING + r"""
#include "bench.h"

static char name[32];

static void __attribute__((noinline)) fire(int mode, long i)
{
    if (mode == 1) {
        int x = (int)(i * 7 + 3);
        BENCH_TICK(i, x);
    } else {
        /* a string the program writes itself (its page is present, as in real programs) */
        snprintf(name, sizeof name, "req-%ld", i);
        BENCH_TICK_STR(i, name);
    }
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s N RATE int|str STATSFILE\n", argv[0]);
        return 2;
    }
    long n = atol(argv[1]);
    double rate = atof(argv[2]);
    int mode = strcmp(argv[3], "str") == 0 ? 2 : 1;
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    const long tick = 100000;                      /* paced in 100 us ticks */
    long parent_start = parent_cpu_ns();
    long cpu0 = ns(CLOCK_PROCESS_CPUTIME_ID), start = ns(CLOCK_MONOTONIC);
    long i = 0;
    if (rate <= 0) {
        for (; i < n; i++)
            fire(mode, i);
    } else {
        long next = start;
        while (i < n) {
            long due = (long)((double)(ns(CLOCK_MONOTONIC) - start) * rate / 1e9) + 1;
            if (due > n)
                due = n;
            for (; i < due; i++)
                fire(mode, i);
            next += tick;
            struct timespec ts = { next / 1000000000L, next % 1000000000L };
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        }
    }
    long end = ns(CLOCK_MONOTONIC), cpu1 = ns(CLOCK_PROCESS_CPUTIME_ID);
    long parent_end = parent_cpu_ns();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    FILE *f = fopen(argv[4], "w");
    if (!f)
        return 3;
    fprintf(f, "%ld %ld %ld %ld %ld %ld %ld\n", i, end - start, cpu1 - cpu0,
            (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000L +
            (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000L,
            parent_start, parent_end, end);
    fclose(f);
    return 0;
}
"""

KEPT_UP_LAG = 0.5             # s after the program's last event: more means the buffer held a backlog
INT_FMT = r"%d %d\n"
STR_FMT = r"%d %s\n"


@dataclass
class Result:
    label: str
    fired: int
    captured: int
    lost: int
    loop_ns: int                 # the program's firing loop, wall
    loop_cpu_ns: int             # ... and CPU
    tracer_cpu_ns: int | None = None     # whole tracer, program excluded
    startup_cpu_ns: int | None = None    # tracer CPU before the loop began
    lag_s: float | None = None           # tracer's end - the program's last event
    summary: tuple[int, int] | None = None   # usdtgen's own (events, lost)
    lost_reported: int | None = None      # bpftrace's "Lost N events", if it printed one

    @property
    def rate(self) -> float:
        return self.fired / (self.loop_ns / 1e9) if self.loop_ns else 0.0

    @property
    def us_per_event(self) -> float | None:
        if self.tracer_cpu_ns is None or not self.captured:
            return None
        return (self.tracer_cpu_ns - self.startup_cpu_ns) / self.captured / 1e3


class Bench:
    def __init__(self, tmp: Path, have_bpftrace: bool):
        self.tmp = tmp
        self.program = tmp / "bench"
        self.stats = tmp / "stats.txt"
        self.out = tmp / "out.txt"
        self.err = tmp / "err.txt"
        self.have_bpftrace = have_bpftrace
        self.usdtgen = usdtgen_cmd()

    def build(self) -> None:
        (self.tmp / "bench.d").write_text(PROVIDER)
        run(self.usdtgen + ["-h", "-s", self.tmp / "bench.d", "-o", self.tmp / "bench.h"])
        (self.tmp / "bench.c").write_text(PROGRAM)
        run([CC, "-O2", "-Wall", "-o", self.program, self.tmp / "bench.c"], cwd=self.tmp)

    def command(self, n: int, rate: float, kind: str) -> str:
        return f"{self.program} {n} {rate:g} {kind} {self.stats}"

    def usdtgen_cmd(self, n, rate, kind, mode, extra=()) -> list[str]:
        probe = "bench:tick" if kind == "int" else "bench:tick_str"
        flags = {"text": [], "text -q": ["-q"], "json": ["--json"],
                 "-f": ["-q", "-f", INT_FMT if kind == "int" else STR_FMT]}[mode]
        return self.usdtgen + ["trace"] + flags + list(extra) + \
            ["-c", self.command(n, rate, kind), probe]

    def bpftrace_cmd(self, n, rate, kind) -> list[str]:
        if kind == "int":
            prog = f'usdt:{self.program}:bench:tick {{ printf("{INT_FMT}", arg0, arg1); }}'
        else:
            prog = (f'usdt:{self.program}:bench:tick_str '
                    f'{{ printf("{STR_FMT}", arg0, str(arg1)); }}')
        return ["bpftrace", "-q", "-e", prog, "-c", self.command(n, rate, kind)]

    def _program_stats(self) -> list[int]:
        return program_stats(self.stats, self.err)

    def untraced(self, n: int, kind: str, rate: float = 0) -> Result:
        self.stats.unlink(missing_ok=True)
        run([self.program, n, f"{rate:g}", kind, self.stats])
        fired, loop_ns, loop_cpu, *_ = self._program_stats()
        return Result("untraced", fired, 0, 0, loop_ns, loop_cpu)

    def traced(self, label: str, cmd: list[str], tool: str, json_out=False) -> Result:
        """Run a tracer (it starts the program with -c); count what it printed."""
        self.stats.unlink(missing_ok=True)
        errors, cpu_s, ended = run_tracer(cmd, self.out, self.err)
        fired, loop_ns, loop_cpu, self_cpu, parent_start, _parent_end, loop_end = \
            self._program_stats()
        data = self.out.read_bytes()
        summary = None
        if json_out:
            lines = [line for line in data.split(b"\n") if line]
            captured = sum(1 for line in lines if line.startswith(b'{"type": "event"'))
            tail = lines[-1].decode() if lines else ""
            m = re.search(r'"events": (\d+), "lost": (\d+)', tail)
            summary = (int(m.group(1)), int(m.group(2))) if m else None
        else:
            captured = sum(1 for line in data.split(b"\n") if line)
            m = re.search(r"^(\d+) events, (\d+) lost", errors, re.MULTILINE)
            summary = (int(m.group(1)), int(m.group(2))) if m else None
        reported = None
        if tool == "bpftrace":
            m = re.search(r"Lost (\d+) events", errors)
            reported = int(m.group(1)) if m else None
        tracer_cpu = int(cpu_s * 1e9) - self_cpu
        result = Result(label, fired, captured, fired - captured, loop_ns, loop_cpu,
                        tracer_cpu, parent_start, (ended - loop_end) / 1e9, summary, reported)
        if reported is not None and reported != fired - captured:
            print(f"  ({label}: bpftrace reported {reported} lost; the output holds {captured} "
                  f"of {fired} fired)")
        if summary is not None and summary != (captured, fired - captured):
            print(f"  ({label}: usdtgen's summary says {summary[0]} events, {summary[1]} "
                  f"lost; the output holds {captured} of {fired} fired)")
        return result


def fmt_rate(rate: float) -> str:
    return f"{rate / 1e3:,.0f}k" if rate >= 1e3 else f"{rate:.0f}"


def part_rates(bench: Bench, rates: list[int], seconds: float) -> None:
    print(f"1. sustained rate: bench:tick fired at a fixed rate for {seconds:g} s, "
          "output to a file; usdtgen text (default buffer) vs bpftrace printf")
    rows = []
    best, kept_up = {}, {}
    for rate in rates:
        n = int(rate * seconds)
        tools = [("usdtgen", bench.usdtgen_cmd(n, rate, "int", "text"))]
        if bench.have_bpftrace:
            tools.append(("bpftrace", bench.bpftrace_cmd(n, rate, "int")))
        for tool, cmd in tools:
            r = bench.traced(tool, cmd, tool)
            reached = r.rate >= 0.95 * rate
            if r.lost == 0 and reached:
                best[tool] = rate
                if r.lag_s < KEPT_UP_LAG:
                    kept_up[tool] = rate
            per = r.us_per_event
            rows.append([fmt_rate(rate), tool, f"{r.rate:,.0f}" + ("" if reached else " (!)"),
                         f"{r.fired:,}", f"{r.captured:,}", f"{r.lost:,}",
                         f"{100 * r.lost / max(1, r.fired):.1f}%", f"{r.lag_s:.2f}",
                         f"{per:.2f}" if per is not None else "-"])
    print(table(["asked/s", "tracer", "reached/s", "fired", "captured", "lost", "lost %",
                 "lag s", "tracer us/event"], rows, align="llrrrrrrr"))
    print("(!) the program did not reach the asked rate (< 95%): its hits cost more than the "
          "interval. lag: how long the tracer ran on after the program's last event.")
    for tool in ["usdtgen"] + (["bpftrace"] if bench.have_bpftrace else []):
        top, kept = best.get(tool), kept_up.get(tool)
        print(f"{tool:<9} highest rate with zero loss (and reached): "
              f"{fmt_rate(top) + '/s' if top else 'none of those tried'}; "
              f"of those, kept up (lag < {KEPT_UP_LAG} s, not just buffered): "
              f"{fmt_rate(kept) + '/s' if kept else 'none'}")
    print()


def part_cpu(bench: Bench, rate: int, seconds: float, runs: int) -> None:
    n = int(rate * seconds)
    print(f"2. tracer CPU per event: {n:,} events at {fmt_rate(rate)}/s, median of {runs}; "
          "start-up = the tracer's CPU before the program's first event")
    configs = [("usdtgen -q (text)", "int", "text -q"), ("usdtgen --json", "int", "json"),
               (f"usdtgen -f '{INT_FMT}'", "int", "-f"),
               ("bpftrace printf", "int", None),
               ("usdtgen -q (text)", "str", "text -q"), ("usdtgen --json", "str", "json"),
               (f"usdtgen -f '{STR_FMT}'", "str", "-f"),
               ("bpftrace printf str()", "str", None)]
    per_event, startup, lost, captured, program_cpu = {}, {}, {}, {}, {}
    untraced = {"int": [], "str": []}
    for _ in range(runs):                     # round-robin, so a noisy moment hits all
        for kind, cpu in untraced.items():
            cpu.append(bench.untraced(n, kind, rate).loop_cpu_ns)
        for label, kind, mode in configs:
            if mode is None and not bench.have_bpftrace:
                continue
            key = (label, kind)
            cmd = bench.bpftrace_cmd(n, rate, kind) if mode is None else \
                bench.usdtgen_cmd(n, rate, kind, mode)
            r = bench.traced(label, cmd, "bpftrace" if mode is None else "usdtgen",
                             json_out=mode == "json")
            per_event.setdefault(key, []).append(r.us_per_event)
            startup.setdefault(key, []).append(r.startup_cpu_ns / 1e9)
            lost.setdefault(key, []).append(r.lost)
            captured.setdefault(key, []).append(r.captured)
            program_cpu.setdefault(key, []).append(r.loop_cpu_ns)
    rows = []
    for kind in ("int", "str"):
        peer_key = ("bpftrace printf" if kind == "int" else "bpftrace printf str()", kind)
        peer = median(per_event[peer_key]) if peer_key in per_event else None
        for label, k, mode in configs:
            key = (label, k)
            if k != kind or key not in per_event:
                continue
            us = median(per_event[key])
            added = (median(program_cpu[key]) - median(untraced[kind])) / n / 1e3
            rows.append([label, "bench:tick" if kind == "int" else "bench:tick_str",
                         f"{median(captured[key]):,.0f}", f"{max(lost[key]):,}",
                         f"{median(startup[key]):.2f}", f"{us:.2f}",
                         f"{us / peer:.2f}" if peer else "-", f"{1e6 / us / 1e3:,.0f}k",
                         f"{added:.2f}", f"{us + added:.2f}"])
    print(table(["tracer", "probe", "captured", "lost (max)", "start-up CPU s", "CPU us/event",
                 "vs bpftrace", "1 CPU keeps up with /s", "+ program us/hit", "= total us"],
                rows, align="llrrrrrrrr"))
    print("1 CPU keeps up with: 1 / CPU per event. + program: the CPU the hits added to the "
          "traced program's loop (vs the same paced loop untraced); = total: both.")
    print()


def part_slowdown(bench: Bench, n: int, runs: int) -> None:
    print(f"3. the traced program's slowdown: {n:,} hits as fast as it fires them, its own "
          f"loop time per hit (wall / CPU), median of {runs}")
    rows = []
    for kind in ("int", "str"):
        variants = [("untraced", None),
                    ("usdtgen trace -q", bench.usdtgen_cmd(n, 0, kind, "text -q"))]
        if bench.have_bpftrace:
            variants.append(("bpftrace printf" + (" str()" if kind == "str" else ""),
                             bench.bpftrace_cmd(n, 0, kind)))
        results = {label: [] for label, _ in variants}
        for _ in range(runs):
            for label, cmd in variants:
                r = bench.untraced(n, kind) if cmd is None else \
                    bench.traced(label, cmd, label.split()[0])
                results[label].append(r)
        base_wall = median(r.loop_ns for r in results["untraced"]) / n
        base_cpu = median(r.loop_cpu_ns for r in results["untraced"]) / n
        for label, _ in variants:
            wall = median(r.loop_ns for r in results[label]) / n
            cpu = median(r.loop_cpu_ns for r in results[label]) / n
            lost = max(r.lost for r in results[label])
            rows.append([label, "bench:tick" if kind == "int" else "bench:tick_str",
                         f"{wall:,.1f}", f"{cpu:,.1f}",
                         "-" if label == "untraced" else f"{wall - base_wall:,.0f}",
                         "-" if label == "untraced" else f"{cpu - base_cpu:,.0f}",
                         "-" if label == "untraced" else f"{lost:,}"])
    print(table(["program", "probe", "wall ns/hit", "CPU ns/hit", "added wall ns",
                 "added CPU ns", "lost (max)"], rows, align="llrrrrr"))
    print()


def part_burst(bench: Bench, n: int, runs: int) -> None:
    print(f"4. burst: {n:,} bench:tick hits as fast as the program fires them, median of {runs}")
    configs = [("usdtgen (default buffer)",
                lambda: bench.usdtgen_cmd(n, 0, "int", "text"), "usdtgen")]
    if bench.have_bpftrace:
        configs.append(("bpftrace (default, 64 pages/CPU)",
                         lambda: bench.bpftrace_cmd(n, 0, "int"), "bpftrace"))
    configs.append(("usdtgen --buffer-size 256K",
                    lambda: bench.usdtgen_cmd(n, 0, "int", "text", ["--buffer-size", "256K"]),
                    "usdtgen"))
    results = {label: [] for label, _, _ in configs}
    for _ in range(runs):
        for label, make, tool in configs:
            results[label].append(bench.traced(label, make(), tool))
    rows = []
    for label, _, _ in configs:
        rs = results[label]
        rows.append([label, f"{median(r.captured for r in rs):,.0f}",
                     f"{median(r.lost for r in rs):,.0f}",
                     f"{100 * median(r.lost for r in rs) / n:.1f}%",
                     f"{median(r.loop_ns for r in rs) / 1e6:,.0f}",
                     f"{median(r.rate for r in rs):,.0f}", f"{median(r.lag_s for r in rs):.2f}"])
    print(table(["tracer", "captured", "lost", "lost %", "program ms", "fired/s", "lag s"],
                rows))
    print()


def library_cpu(bench: Bench, n: int, small: int = 1000) -> tuple[float, int]:
    """usdtgen's own CPU per event (read + decode + summary, no formatting), without the
    profiler: run_trace in this process with a discarding sink, process CPU time of a run of
    ``n`` events minus that of a run of ``small``, over the difference; and events lost."""
    from usdtgen.trace.session import TraceConfig, run_trace
    cpu, lost = [], 0
    for count in (small, n):
        config = TraceConfig(command=bench.command(count, 0, "int"), patterns=("bench:tick",))
        before = time.process_time()
        result = run_trace(config, lambda event: None)
        cpu.append(time.process_time() - before)
        lost += result.summary.lost
    return (cpu[1] - cpu[0]) / (n - small) * 1e6, lost


def part_profile(bench: Bench, n: int) -> None:
    from usdtgen.trace.session import TraceConfig, run_trace
    us, lost = library_cpu(bench, n)
    print(f"usdtgen's library alone (run_trace in this process, sink discards, no profiler): "
          f"{us:.2f} us CPU per event ({n:,} vs 1,000 hits as fast as the program fires them; "
          f"{lost:,} lost)")
    config = TraceConfig(command=bench.command(n, 0, "int"), patterns=("bench:tick",))
    prof = cProfile.Profile()
    events = [0]

    def sink(event) -> None:
        events[0] += 1

    start = time.perf_counter()
    prof.enable()
    result = run_trace(config, sink)
    prof.disable()
    elapsed = time.perf_counter() - start
    stats = pstats.Stats(prof)
    total = stats.total_tt
    print(f"cProfile of run_trace (in this process, sink discards) on {n:,} hits fired as fast "
          f"as the program can: {events[0]:,} events, {result.summary.lost:,} lost, "
          f"{elapsed:.2f} s under the profiler, {total:.2f} s profiled, "
          f"{1e6 * total / max(1, events[0]):.1f} us/event profiled")
    phases = [
        ("_drain (all reading and decoding)", "usdtgen/trace/session.py", "_drain"),
        ("  _read_records (the BPF ring buffer)", "usdtgen/trace/session.py", "_read_records"),
        ("    RingBuffer.read (one copy, record offsets)", "usdtgen/trace/bpf.py", "read"),
        ("    decode (generated per site: record -> Event)", "<record decoder ", "decode"),
        ("  Summary.count_all", "usdtgen/trace/output.py", "count_all"),
        ("  the sink (discards)", "benchmarks/trace_throughput.py", "sink"),
        ("setup: collect (reading the notes)", "usdtgen/trace/listing.py", "collect"),
        ("setup: add_sites (tracefs, perf_event_open, mmap)", "usdtgen/trace/session.py",
         "add_sites"),
        ("poll (waiting)", "~", "<method 'poll' of 'select.poll' objects>"),
        ("sleep (records gathering between drains)", "~", "<built-in method time.sleep>"),
    ]
    rows = []
    for label, file_end, func in phases:
        ct = max((v[3] for (f, _line, fn), v in stats.stats.items()
                  if file_end in f.replace("\\", "/") and fn == func), default=0.0)
        calls = max((v[1] for (f, _line, fn), v in stats.stats.items()
                     if file_end in f.replace("\\", "/") and fn == func), default=0)
        rows.append([label, f"{calls:,}", f"{ct:.2f}", f"{100 * ct / total:.0f}%",
                     f"{1e6 * ct / max(1, events[0]):.2f}"])
    print(table(["phase (cumulative)", "calls", "seconds", "share", "us/event"], rows))
    buf = io.StringIO()
    stats.stream = buf
    stats.sort_stats("tottime").print_stats(8)
    print("\ntop 8 by own time:")
    keep = False
    for line in buf.getvalue().splitlines():
        keep = keep or line.lstrip().startswith("ncalls")
        if keep and line.strip():
            print("  " + re.sub(r"\S*/(site-packages|main)/", "", line.strip()))
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", default="10000,50000,100000,200000,400000",
                    help="events/s tried in part 1 (comma-separated)")
    ap.add_argument("--seconds", type=float, default=2.0, help="length of each part-1 run")
    ap.add_argument("--cpu-rate", type=int, default=50000, help="events/s in part 2")
    ap.add_argument("--cpu-seconds", type=float, default=1.0, help="length of each part-2 run")
    ap.add_argument("--hits", type=int, default=100000, help="hits per part-3 run")
    ap.add_argument("--burst", type=int, default=300000, help="events of the part-4 burst")
    ap.add_argument("--runs", type=int, default=3, help="runs per figure in parts 2-4")
    ap.add_argument("--profile-events", type=int, default=200000,
                    help="hits of the profiled run (0: no profile)")
    opts = ap.parse_args()
    rates = [int(float(x)) for x in opts.rates.split(",") if x.strip()]

    print_header("trace throughput",
                 "usdtgen trace vs bpftrace on a program firing bench:tick(long, int) and "
                 "bench:tick_str(long, const char *): sustained rate, tracer CPU per event, "
                 "the traced program's slowdown, a burst")
    have_bpftrace = report_bpftrace()
    if os.geteuid() != 0:
        sys.exit("tracing needs root")
    started = time.perf_counter()
    with tempdir("trace") as tmp:
        bench = Bench(Path(tmp), have_bpftrace)
        bench.build()
        part_rates(bench, rates, opts.seconds)
        part_cpu(bench, opts.cpu_rate, opts.cpu_seconds, opts.runs)
        part_slowdown(bench, opts.hits, opts.runs)
        part_burst(bench, opts.burst, opts.runs)
        if opts.profile_events:
            part_profile(bench, opts.profile_events)
    print(f"(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()

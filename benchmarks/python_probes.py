"""What a probe defined from Python costs: disabled, its semaphore read, and fired while traced.

A provider ``bench`` is declared from Python (``Provider("bench")``) with two probes,
``tick(int, int)`` and ``tick_str(int, str)``, and loaded. Parts 1 and 2 run in this process
with timeit, --number calls per repeat, --repeats rounds interleaved (each round times every
statement once, so a noisy moment hits them all); best and median ns per call, and the ratio
against the baseline: the median over rounds of (statement / baseline of the same round),
also net of timeit's own loop (the ``pass`` statement of the same round subtracted from
both). Arguments are locals of timeit's loop (``a, b = 12345, 678``, ``t = "GET /index.html"``).

  1. disabled probe   tick(a, b) vs an empty function f(a, b) (goal: <= 1.5x);
                      tick_str(a, t) vs f(a, t)
  2. semaphore reads  ``if tick.enabled: pass`` vs ``if obj.flag: pass`` (a plain instance
                      attribute, False) and the bare reads ``tick.enabled`` vs ``obj.flag``
                      (goal: <= 1.5x)

  3. fired while traced (needs root, tracefs and gcc). A fresh Python process declares the
     same provider, says it is ready, and ``usdtgen trace -p PID 'bench:*' -q`` is started
     on it (events to a file). The process waits until both probes' semaphores are set,
     waits --settle s more (the kernel sets a semaphore when it registers the uprobe, a
     moment before the tracer has enabled its events), fires the probe --hits times in a
     loop ``for i in range(n): probe(i, arg)`` and reports its own time (perf_counter_ns,
     process CPU). The same in C: a program built with the ``usdtgen -h`` header of
     ``bench:tick(long long, long long)`` and ``bench:tick_str(long long, const char *)``
     fires BENCH_TICK(i, 678) / BENCH_TICK_STR(i, "GET /index.html") from a noinline
     function --hits times while traced the same way: the uprobe's own cost per hit.
     Python traced - C traced = the Python side of a fired probe (the loop and call, the
     semaphore test, argument conversion, the cffi call). Untraced runs of both programs
     are timed too; and, as a cross-check of that difference, the Python process sets its
     semaphores by hand with no tracer attached (the enabled path down to the stub's nop,
     no uprobe). Every event must reach the tracer's output (checked: captured = fired).
     Median of --runs rounds, interleaved.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import timeit
from pathlib import Path

from _common import CC, median, print_header, run, table, tempdir, usdtgen_cmd

GOAL_RATIO = 1.5
TEXT = "GET /index.html"

PROVIDER = """\
provider bench {
    probe tick(long long a, long long b);
    probe tick_str(long long a, const char *s);
};
"""

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

static const char text[] = "GET /index.html";

static long ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void __attribute__((noinline)) fire_int(long long i)
{
    BENCH_TICK(i, 678LL);
    __asm__ volatile("" ::: "memory");
}

static void __attribute__((noinline)) fire_str(long long i)
{
    BENCH_TICK_STR(i, text);
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s N int|str traced|untraced SETTLE_US\n", argv[0]);
        return 2;
    }
    long n = atol(argv[1]);
    int str = strcmp(argv[2], "str") == 0;
    int traced = strcmp(argv[3], "traced") == 0;
    printf("ready\n");
    fflush(stdout);
    if (traced) {
        long deadline = ns(CLOCK_MONOTONIC) + 30000000000L;
        while (!(BENCH_TICK_ENABLED() && BENCH_TICK_STR_ENABLED())) {
            if (ns(CLOCK_MONOTONIC) > deadline) {
                fprintf(stderr, "no tracer attached within 30 s\n");
                return 3;
            }
            usleep(1000);
        }
        usleep(atol(argv[4]));
    }
    long cpu0 = ns(CLOCK_PROCESS_CPUTIME_ID), t0 = ns(CLOCK_MONOTONIC);
    if (str)
        for (long i = 0; i < n; i++)
            fire_str(i);
    else
        for (long i = 0; i < n; i++)
            fire_int(i);
    long t1 = ns(CLOCK_MONOTONIC), cpu1 = ns(CLOCK_PROCESS_CPUTIME_ID);
    printf("%ld %ld\n", t1 - t0, cpu1 - cpu0);
    return 0;
}
"""

# The Python process of part 3: argv = N int|str traced|untraced SETTLE_S.
# untraced: prints the loop over an empty function, the disabled probe, and the probe with
# its semaphore set by hand (no tracer: the stub's nop runs, no uprobe), wall ns each.
# traced: waits for the tracer, fires, prints wall and CPU ns of the loop, then the empty
# function loop.
CHILD = r"""
import sys, time
from usdtgen import Provider

n, kind, mode, settle = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
prov = Provider("bench")
tick = prov.probe("tick", int, int)
tick_str = prov.probe("tick_str", int, str)
prov.load()
probe, arg = (tick, 678) if kind == "int" else (tick_str, TEXT)


def empty(a, b):
    pass


def loop(fn, n, arg):
    start = time.perf_counter_ns()
    for i in range(n):
        fn(i, arg)
    return time.perf_counter_ns() - start


print("ready", flush=True)
if mode == "traced":
    deadline = time.monotonic() + 30
    while not (tick.enabled and tick_str.enabled):
        if time.monotonic() > deadline:
            sys.exit("no tracer attached within 30 s")
        time.sleep(0.001)
    time.sleep(settle)
    cpu = time.process_time_ns()
    wall = loop(probe, n, arg)
    cpu = time.process_time_ns() - cpu
    print(wall, cpu, loop(empty, n, arg))
else:
    floor = loop(empty, n, arg)
    disabled = loop(probe, n, arg)
    if tick.enabled or tick_str.enabled:
        sys.exit("a tracer is attached to the untraced run")
    tick.enabled.value = tick_str.enabled.value = 1
    forced = loop(probe, n, arg)
    tick.enabled.value = tick_str.enabled.value = 0
    print(floor, disabled, forced)
""".replace("TEXT", repr(TEXT))


class Flag:
    def __init__(self):
        self.flag = False


def empty(a, b):
    pass


def timed_statements(statements: list[str], names: dict, number: int, repeats: int) -> dict:
    """ns per call of each statement, one list entry per round (rounds interleaved)."""
    timers = {s: timeit.Timer(s, setup=f"a, b = 12345, 678; t = {TEXT!r}", globals=names)
              for s in statements}
    for timer in timers.values():                 # warm-up (specialisation, caches)
        timer.timeit(number // 10)
    times = {s: [] for s in statements}
    for _ in range(repeats):
        for s, timer in timers.items():
            times[s].append(timer.timeit(number) / number * 1e9)
    return times


def compare_rows(times: dict, pairs: list[tuple[str, str]], floor: str) -> tuple[list, dict]:
    """Rows for (statement, baseline) pairs; returns the rows and statement -> (ratio, net)."""
    rows, ratios = [], {}
    f = times[floor]
    rows.append([f"{floor}  (timeit's loop: the floor)", f"{min(f):.1f}", f"{median(f):.1f}",
                 "-", "-", "-"])
    for stmt, base in pairs:
        for s in (base, stmt):
            t = times[s]
            net = median(x - p for x, p in zip(t, f))
            if s == base:
                rows.append([f"{s}  (baseline)", f"{min(t):.1f}", f"{median(t):.1f}",
                             f"{net:.1f}", "1.00", "1.00"])
                continue
            b = times[base]
            ratio = median(x / y for x, y in zip(t, b))
            ratio_net = median((x - p) / (y - p) for x, y, p in zip(t, b, f))
            ratios[s] = (ratio, ratio_net, min(t) / min(b))
            rows.append([s, f"{min(t):.1f}", f"{median(t):.1f}", f"{net:.1f}",
                         f"{ratio:.2f}", f"{ratio_net:.2f}"])
    return rows, ratios


def verdict(ratio: float) -> str:
    return "met" if ratio <= GOAL_RATIO else "NOT met"


def part_disabled(number: int, repeats: int) -> None:
    from usdtgen import Provider
    prov = Provider("bench")
    tick = prov.probe("tick", int, int)
    tick_str = prov.probe("tick_str", int, str)
    prov.load()
    if tick.enabled or tick_str.enabled:
        sys.exit("a tracer is attached to this process: parts 1 and 2 need the probes disabled")
    names = {"tick": tick, "tick_str": tick_str, "f": empty, "obj": Flag()}
    pairs1 = [("tick(a, b)", "f(a, b)"), ("tick_str(a, t)", "f(a, t)")]
    pairs2 = [("if tick.enabled: pass", "if obj.flag: pass"), ("tick.enabled", "obj.flag")]
    statements = ["pass"] + [s for pair in pairs1 + pairs2 for s in reversed(pair)]
    times = timed_statements(statements, names, number, repeats)
    headers = ["statement", "best ns", "median ns", "net ns", "ratio", "ratio net"]
    note = ("net: minus the pass statement of the same round. ratio: median over rounds of "
            "statement / baseline of the same round; ratio net: the same with net times.")

    print(f"1. a disabled probe vs an empty Python function, {number:,} calls x {repeats} "
          "rounds (timeit, this process, no tracer)")
    rows, ratios = compare_rows(times, pairs1, "pass")
    print(table(headers, rows))
    print(note)
    r, r_net, r_best = ratios["tick(a, b)"]
    print(f"goal: tick(a, b) <= {GOAL_RATIO}x f(a, b) -> {r:.2f}x, {verdict(r)} "
          f"(best/best {r_best:.2f}x; net of timeit's loop {r_net:.2f}x, {verdict(r_net)})")
    print()

    print("2. reading the semaphore vs a plain instance attribute (obj.flag = False), same "
          "rounds")
    rows, ratios2 = compare_rows(times, pairs2, "pass")
    print(table(headers, rows))
    for stmt, base in pairs2:
        r, r_net, r_best = ratios2[stmt]
        print(f"goal: {stmt} <= {GOAL_RATIO}x {base} -> {r:.2f}x, {verdict(r)} "
              f"(best/best {r_best:.2f}x; net {r_net:.2f}x, {verdict(r_net)})")
    print()
    prov.unload()


class Traced:
    """Part 3: the Python and C programs, untraced and traced by usdtgen trace -p."""

    def __init__(self, tmp: Path, hits: int, settle: float):
        self.tmp = tmp
        self.hits = hits
        self.settle = settle
        self.usdtgen = usdtgen_cmd()
        self.program = tmp / "bench"
        self.child = tmp / "child.py"
        self.out = tmp / "events.txt"
        self.err = tmp / "tracer-err.txt"

    def build(self) -> None:
        (self.tmp / "bench.d").write_text(PROVIDER)
        run(self.usdtgen + ["-h", "-s", self.tmp / "bench.d", "-o", self.tmp / "bench.h"])
        (self.tmp / "bench.c").write_text(PROGRAM)
        run([CC, "-O2", "-Wall", "-o", self.program, self.tmp / "bench.c"], cwd=self.tmp)
        self.child.write_text(CHILD)

    def command(self, lang: str, kind: str, mode: str) -> list[str]:
        if lang == "python":
            return [sys.executable, str(self.child), str(self.hits), kind, mode,
                    str(self.settle)]
        return [str(self.program), str(self.hits), kind, mode, str(int(self.settle * 1e6))]

    def untraced(self, lang: str, kind: str) -> list[float]:
        """ns per call: python -> [empty loop, disabled, semaphore forced]; C -> [wall, cpu]."""
        out = run(self.command(lang, kind, "untraced")).stdout.split()
        return [int(x) / self.hits for x in out[1:]]          # out[0] is "ready"

    def traced(self, lang: str, kind: str) -> tuple[list[float], int]:
        """ns per call [wall, cpu, (python: empty loop)] while traced, and events captured."""
        cmd = self.command(lang, kind, "traced")
        child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if child.stdout.readline().strip() != "ready":
            child.wait()
            sys.exit(f"{' '.join(cmd)} did not start:\n{child.stderr.read()}")
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            tracer = subprocess.Popen(self.usdtgen + ["trace", "-p", str(child.pid), "bench:*",
                                                      "-q"],
                                      stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        result, errors = child.communicate()
        try:
            tracer.wait(timeout=60)
        except subprocess.TimeoutExpired:
            tracer.kill()
            tracer.wait()
            sys.exit("usdtgen trace did not end after its target")
        if child.returncode != 0 or tracer.returncode != 0:
            sys.exit(f"{' '.join(cmd)}: exit {child.returncode}\n{errors}\nusdtgen trace: exit "
                     f"{tracer.returncode}\n{self.err.read_text(errors='replace')[-2000:]}")
        name = b" bench:tick " if kind == "int" else b" bench:tick_str "
        want = b"=678" if kind == "int" else f'="{TEXT}"'.encode()   # the second argument
        captured = sum(1 for line in self.out.read_bytes().split(b"\n")
                       if name in line and line.endswith(want))
        return [int(x) / self.hits for x in result.split()], captured


def part_traced(bench: Traced, runs: int) -> None:
    n = bench.hits
    print(f"3. fired while traced by usdtgen trace -p PID 'bench:*' -q: {n:,} hits, the "
          f"program's own loop time per hit, median of {runs} rounds")
    kinds = ("int", "str")
    py_untraced = {k: [] for k in kinds}
    py_traced = {k: [] for k in kinds}
    c_untraced = {k: [] for k in kinds}
    c_traced = {k: [] for k in kinds}
    captured = {(lang, k): [] for lang in ("python", "c") for k in kinds}
    for _ in range(runs):
        for kind in kinds:
            py_untraced[kind].append(bench.untraced("python", kind))
            c_untraced[kind].append(bench.untraced("c", kind))
            figures, got = bench.traced("python", kind)
            py_traced[kind].append(figures)
            captured[("python", kind)].append(got)
            figures, got = bench.traced("c", kind)
            c_traced[kind].append(figures)
            captured[("c", kind)].append(got)

    def col(values, i):
        return median(v[i] for v in values)

    def caught(lang, kind):
        got = captured[(lang, kind)]
        text = f"{min(got):,}/{n:,}"
        return text if min(got) == n else text + " (!)"

    rows = []
    summary = []
    for kind in kinds:
        probe = "tick(i, 678)" if kind == "int" else f"tick_str(i, {TEXT!r})"
        c_probe = "BENCH_TICK(i, 678)" if kind == "int" else "BENCH_TICK_STR(i, text)"
        floor, disabled, forced = (col(py_untraced[kind], i) for i in range(3))
        traced_wall, traced_cpu = col(py_traced[kind], 0), col(py_traced[kind], 1)
        c_off_wall, c_off_cpu = col(c_untraced[kind], 0), col(c_untraced[kind], 1)
        c_on_wall, c_on_cpu = col(c_traced[kind], 0), col(c_traced[kind], 1)
        rows += [
            [f"Python {probe}", "untraced: empty function f(i, arg)", f"{floor:,.1f}", "-",
             "-"],
            ["", "untraced: probe disabled", f"{disabled:,.1f}", "-", "-"],
            ["", "untraced: semaphore set by hand (nop)", f"{forced:,.1f}", "-", "-"],
            ["", "traced", f"{traced_wall:,.1f}", f"{traced_cpu:,.1f}",
             caught("python", kind)],
            [f"C {c_probe}", "untraced", f"{c_off_wall:,.1f}", f"{c_off_cpu:,.1f}", "-"],
            ["", "traced", f"{c_on_wall:,.1f}", f"{c_on_cpu:,.1f}", caught("c", kind)],
        ]
        summary.append([probe, f"{traced_wall:,.0f}", f"{c_on_wall:,.0f}",
                        f"{traced_wall - c_on_wall:,.0f}", f"{forced - c_off_wall:,.0f}",
                        f"{c_on_wall - c_off_wall:,.0f}", f"{traced_wall - forced:,.0f}"])
    print(table(["program / probe", "state", "wall ns/hit", "CPU ns/hit", "captured"], rows,
                align="llrrr"))
    if any(min(v) != n for v in captured.values()):
        print("(!) fewer events in the tracer's output than the program fired")
    print()
    print(table(["probe", "Python traced ns/call", "C traced ns/hit",
                 "difference = Python side", "Python side, no tracer", "uprobe in C",
                 "uprobe in Python"], summary))
    print("difference: Python traced - C traced (wall), the uprobe's cost assumed to cancel "
          "out: the loop and call, the semaphore test, argument conversion (str: encode) and "
          "the cffi call. Cross-checks: Python side, no tracer = Python with its semaphore "
          "set by hand (the stub's nop instead of the uprobe) - C untraced; uprobe in C = C "
          "traced - C untraced; uprobe in Python = Python traced - Python set by hand. When "
          "the two uprobe columns differ, the difference column is off by as much.")
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--number", type=int, default=1_000_000, help="calls per timeit repeat")
    ap.add_argument("--repeats", type=int, default=15, help="timeit rounds (parts 1, 2)")
    ap.add_argument("--hits", type=int, default=200_000, help="probe hits per run (part 3)")
    ap.add_argument("--runs", type=int, default=3, help="rounds of part 3")
    ap.add_argument("--settle", type=float, default=0.2,
                    help="s to wait after the semaphores are set before firing (part 3)")
    opts = ap.parse_args()

    print_header("Python probes",
                 "probes defined with usdtgen.Provider: a disabled probe and its semaphore "
                 "vs plain Python, and a fired probe while traced vs the same probe in C")
    started = time.perf_counter()
    part_disabled(opts.number, opts.repeats)
    if os.geteuid() != 0:
        print("3. skipped: tracing needs root")
    elif shutil.which(CC) is None:
        print(f"3. skipped: no {CC}")
    else:
        with tempdir("python") as tmp:
            bench = Traced(Path(tmp), opts.hits, opts.settle)
            bench.build()
            part_traced(bench, opts.runs)
    print(f"(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()

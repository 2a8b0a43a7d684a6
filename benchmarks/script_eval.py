"""How many events a D script run by ``usdtgen trace -e`` evaluates, next to bpftrace.

A C program built here with the ``usdtgen -h`` header of examples/app_c/myapp.d fires
``myapp:request__done(int id, const char *path, int status, long long latency_ns)`` N times:
paths cycle through 4 strings, statuses through 200, 201, 404, 500 (all pass the
predicate), latencies spread over 1 us .. 0.5 s (20 quantize buckets). It fires either at a
fixed rate (100 us ticks, clock_nanosleep between them) or as fast as it can, and writes
its own figures to a file: events fired, its loop's wall and CPU time, its whole CPU time,
the CPU its parent (the tracer, which started it with -c) had used when the loop began
(/proc/PPID/task/*/schedstat), and the loop's start and end (CLOCK_MONOTONIC).

Four scripts, each run by three tools on the same program in the same run:

  count      usdtgen  myapp:::request-done /arg2 >= 200/ { @[copyinstr(arg1)] = count(); }
             bpftrace usdt:PATH:myapp:request__done /arg2 >= 200/ { @[str(arg1)] = count(); }
  count-int  usdtgen  myapp:::request-done /arg2 >= 200/ { @[arg2] = count(); }
             bpftrace usdt:PATH:myapp:request__done /arg2 >= 200/ { @[arg2] = count(); }
  quantize   usdtgen  myapp:::request-done { @ = quantize(arg3); }
             bpftrace usdt:PATH:myapp:request__done { @ = hist(arg3); }
  latency    usdtgen  myapp:::request-start { self->ts = timestamp; }
                      myapp:::request-done /self->ts/ { @ = quantize(timestamp - self->ts);
                      self->ts = 0; }
             bpftrace the same with @ts[tid] = nsecs, hist() and delete()
             (the program fires request__start just before each request__done: a hit here
             is the pair, and counted = the pairs in the distribution)

  tools: usdt-kern  usdtgen trace as is: a site whose clauses allow it is aggregated in the
                    kernel by a BPF program (all four; a string key the program cannot
                    read at once goes to userspace as a record)
         usdt-user  usdtgen trace --no-kernel-aggregation: every event to userspace
         bpftrace

Each tool runs the program with -c and prints its aggregation when the program exits;
counted = the sum of the counts it printed (parsed from usdtgen's DTrace layout and from
bpftrace's map output), lost = fired - counted (no loss: counted == fired).

  1. rates      --rates events/s for --seconds each: counted, lost, the rate the program
                reached, how long the tracer ran on after the program's last event (lag:
                above 0.5 s it was working through a backlog, not keeping up), and the
                highest rate each tool kept up with without loss
  2. full speed --hits events as fast as the program fires them, median of --runs: the
                program's loop time traced vs untraced, events evaluated per second from
                the first event to the tracer's exit, tracer CPU per event, loss

usdtgen in userspace ships every event and evaluates the clauses in Python; usdtgen's kernel
path and bpftrace evaluate them at the hit (BPF maps), so their cost is in the traced program.
Needs root, tracefs and gcc; bpftrace is optional (its rows are skipped when absent).
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from _common import C_TIMING, CC, REPO, median, print_header, program_stats, report_bpftrace, \
    run, run_tracer, table, tempdir, usdtgen_cmd

PROGRAM = C_TIMING + r"""
#include "myapp.h"

static const char *const paths[4] = {"/index.html", "/api/users", "/static/app.js", "/health"};
static const int statuses[4] = {200, 201, 404, 500};

static void __attribute__((noinline)) fire(long i)
{
    long long latency = (1000LL << (i % 20)) + ((i * 2654435761L) & 1023);
    const char *path = paths[i & 3];
    int status = statuses[i & 3];
    /* in registers: an indexed operand (paths(,%rax,8)) has no uprobe fetch-arg form */
    __asm__("" : "+r"(path), "+r"(status));
    MYAPP_REQUEST_START((int)i, path);          /* a nop unless a script traces it */
    MYAPP_REQUEST_DONE((int)i, path, status, latency);
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s N RATE STATSFILE\n", argv[0]);
        return 2;
    }
    long n = atol(argv[1]);
    double rate = atof(argv[2]);
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    const long tick = 100000;                      /* paced in 100 us ticks */
    long parent_start = parent_cpu_ns();
    long cpu0 = ns(CLOCK_PROCESS_CPUTIME_ID), start = ns(CLOCK_MONOTONIC);
    long i = 0;
    if (rate <= 0) {
        for (; i < n; i++)
            fire(i);
    } else {
        long next = start;
        while (i < n) {
            long due = (long)((double)(ns(CLOCK_MONOTONIC) - start) * rate / 1e9) + 1;
            if (due > n)
                due = n;
            for (; i < due; i++)
                fire(i);
            next += tick;
            struct timespec ts = { next / 1000000000L, next % 1000000000L };
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        }
    }
    long end = ns(CLOCK_MONOTONIC), cpu1 = ns(CLOCK_PROCESS_CPUTIME_ID);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    FILE *f = fopen(argv[3], "w");
    if (!f)
        return 3;
    fprintf(f, "%ld %ld %ld %ld %ld %ld %ld\n", i, end - start, cpu1 - cpu0,
            (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000L +
            (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000L,
            parent_start, start, end);
    fclose(f);
    return 0;
}
"""

SCRIPTS = {
    "count": ("myapp:::request-done /arg2 >= 200/ { @[copyinstr(arg1)] = count(); }",
              "usdt:{path}:myapp:request__done /arg2 >= 200/ {{ @[str(arg1)] = count(); }}"),
    # the same with strings of 64 bytes, bpftrace's default size (usdtgen's is DTrace's 256:
    # a 256-byte key costs more to clear and to hash)
    "count-64": ("#pragma D option strsize=64\n"
                 "myapp:::request-done /arg2 >= 200/ { @[copyinstr(arg1)] = count(); }",
                 "usdt:{path}:myapp:request__done /arg2 >= 200/ {{ @[str(arg1)] = count(); }}"),
    "count-int": ("myapp:::request-done /arg2 >= 200/ { @[arg2] = count(); }",
                  "usdt:{path}:myapp:request__done /arg2 >= 200/ {{ @[arg2] = count(); }}"),
    "quantize": ("myapp:::request-done { @ = quantize(arg3); }",
                 "usdt:{path}:myapp:request__done {{ @ = hist(arg3); }}"),
    "latency": ("myapp:::request-start { self->ts = timestamp; } "
                "myapp:::request-done /self->ts/ { @ = quantize(timestamp - self->ts); "
                "self->ts = 0; }",
                "usdt:{path}:myapp:request__start {{ @ts[tid] = nsecs; }} "
                "usdt:{path}:myapp:request__done /@ts[tid]/ {{ @ = hist(nsecs - @ts[tid]); "
                "delete(@ts[tid]); }}"),
}
KEPT_UP_LAG = 0.5             # s after the program's last event: more means a backlog was read

# usdtgen's DTrace layout: "  /api/users    50000" and quantize rows "  1024 |@@@   10233"
USDTGEN_COUNT = re.compile(r"^  (\S.*?)\s+(-?\d+)$")
USDTGEN_INT_COUNT = re.compile(r"^\s+(-?\d+)\s+(-?\d+)$")     # integer keys, right-aligned
USDTGEN_BUCKET = re.compile(r"^\s*-?\d+ [@ ]*\|[@ ]*\s(-?\d+)\s*$")
# bpftrace: "@[/api/users]: 50000" and hist rows "[1K, 2K)   10233 |@@@@   |"
BPFTRACE_COUNT = re.compile(r"^@\[(.*)\]: (\d+)$")
BPFTRACE_BUCKET = re.compile(r"^[\[(][^\])]*[\])]\s+(\d+) \|")


@dataclass
class Result:
    tool: str
    script: str
    fired: int
    counted: int
    loop_ns: int                 # the program's firing loop, wall
    loop_cpu_ns: int             # ... and CPU
    tracer_cpu_ns: int = 0       # the tracer, the program excluded, start-up included
    startup_cpu_ns: int = 0      # the tracer's CPU when the loop began
    lag_s: float = 0.0           # tracer exit - the program's last event
    exit_s: float = 0.0          # the part of lag_s any run has (the tool's own exit, calibrated)
    reported_lost: int | None = None   # usdtgen's "N events lost" message

    @property
    def lost(self) -> int:
        return self.fired - self.counted

    @property
    def rate(self) -> float:
        return self.fired / (self.loop_ns / 1e9) if self.loop_ns else 0.0

    @property
    def evaluated_rate(self) -> float:
        """Events counted per second from the first event to the tracer's exit."""
        return self.counted / (self.loop_ns / 1e9 + self.backlog_s)

    @property
    def backlog_s(self) -> float:
        """How long the tracer worked on after the last event, its own exit left out."""
        return max(self.lag_s - self.exit_s, 0.0)

    @property
    def us_per_event(self) -> float | None:
        if not self.counted or self.tool == "untraced":
            return None
        return (self.tracer_cpu_ns - self.startup_cpu_ns) / self.counted / 1e3


class Bench:
    def __init__(self, tmp: Path, have_bpftrace: bool):
        self.tmp = tmp
        self.program = tmp / "reqs"
        self.stats = tmp / "stats.txt"
        self.out = tmp / "out.txt"
        self.err = tmp / "err.txt"
        self.have_bpftrace = have_bpftrace
        self.usdtgen = usdtgen_cmd()
        self.exit_s: dict = {}       # (tool, script) -> lag of a tiny run: the tool's exit
        self.paths: dict = {}        # script -> "kernel" or "userspace": usdt-kern's path

    def calibrate(self, runs: int = 3) -> None:
        """The lag every run has whatever its events: printing, detaching, exiting."""
        for script in SCRIPTS:
            for tool in self.tools():
                self.exit_s[(tool, script)] = median(
                    self.traced(tool, script, 100, 10000).lag_s for _ in range(runs))

    def tools(self) -> list[str]:
        return ["usdt-kern", "usdt-user"] + (["bpftrace"] if self.have_bpftrace else [])

    def check_paths(self) -> None:
        """Where usdtgen aggregates each script (its stderr notice, shown when not quiet)."""
        for script, (d_text, _) in SCRIPTS.items():
            for flags, want in (([], None), (["--no-kernel-aggregation"], "userspace")):
                proc = run(self.usdtgen + ["trace", *flags, "-c", self.command(10, 0),
                                           "-e", d_text])
                path = "kernel" if "aggregated in the kernel" in proc.stderr else "userspace"
                if want is None:
                    self.paths[script] = path
                elif path != want:
                    sys.exit(f"--no-kernel-aggregation still aggregated {script} in the kernel")
            print(f"  usdt-kern {script:<9} aggregates in {'the kernel' if self.paths[script] == 'kernel' else 'userspace (not eligible)'}")
        print()

    def build(self) -> None:
        run(self.usdtgen + ["-h", "-s", REPO / "examples" / "app_c" / "myapp.d",
                            "-o", self.tmp / "myapp.h"])
        (self.tmp / "reqs.c").write_text(PROGRAM)
        run([CC, "-O2", "-Wall", "-o", self.program, self.tmp / "reqs.c"], cwd=self.tmp)
        # the benchmark is meaningless if the kernel cannot fetch the arguments
        listing = run(self.usdtgen + ["list", "-v", self.program, "request__done"]).stdout
        if "cannot" in listing:
            sys.exit(f"an argument of myapp:request__done cannot be fetched:\n{listing}")

    def command(self, n: int, rate: float) -> str:
        return f"{self.program} {n} {rate:g} {self.stats}"

    def tool_cmd(self, tool: str, script: str, n: int, rate: float) -> list[str]:
        d_text, bt_text = SCRIPTS[script]
        if tool.startswith("usdt-"):
            flags = ["--no-kernel-aggregation"] if tool == "usdt-user" else []
            return self.usdtgen + ["trace", "-q", *flags, "-c", self.command(n, rate),
                                   "-e", d_text]
        return ["bpftrace", "-q", "-c", self.command(n, rate),
                "-e", bt_text.format(path=self.program)]

    def _program_stats(self) -> list[int]:
        return program_stats(self.stats, self.err)

    def untraced(self, n: int, rate: float = 0) -> Result:
        self.stats.unlink(missing_ok=True)
        run([self.program, n, f"{rate:g}", self.stats])
        fired, loop_ns, loop_cpu, *_ = self._program_stats()
        return Result("untraced", "-", fired, fired, loop_ns, loop_cpu)

    def traced(self, tool: str, script: str, n: int, rate: float) -> Result:
        cmd = self.tool_cmd(tool, script, n, rate)
        self.stats.unlink(missing_ok=True)
        errors, cpu_s, ended = run_tracer(cmd, self.out, self.err)
        fired, loop_ns, loop_cpu, self_cpu, parent_start, _start, loop_end = \
            self._program_stats()
        counted = count_printed(tool, script, self.out.read_text(errors="replace"))
        reported = None
        if tool.startswith("usdt-"):
            m = re.search(r"usdtgen: (\d+) events lost", errors)
            reported = int(m.group(1)) if m else 0
            # runtime errors would make the counts short for another reason: say so
            faults = errors.count("usdtgen: error on enabled probe")
            if faults:
                print(f"  ({tool} {script}: {faults:,} runtime errors)")
        tracer_cpu = int(cpu_s * 1e9) - self_cpu
        result = Result(tool, script, fired, counted, loop_ns, loop_cpu, tracer_cpu,
                        parent_start, (ended - loop_end) / 1e9,
                        self.exit_s.get((tool, script), 0.0), reported)
        if reported is not None and reported != result.lost:
            print(f"  ({tool} {script}: usdtgen reported {reported:,} lost; its aggregation "
                  f"holds {counted:,} of {fired:,} fired)")
        return result


def count_printed(tool: str, script: str, text: str) -> int:
    """The sum of the counts of the aggregation a tool printed at the end."""
    counts = script.startswith("count")
    if tool.startswith("usdt-"):
        pattern = (USDTGEN_INT_COUNT if script == "count-int" else USDTGEN_COUNT) if counts \
            else USDTGEN_BUCKET
    else:
        pattern = BPFTRACE_COUNT if counts else BPFTRACE_BUCKET
    total = 0
    for line in text.splitlines():
        m = pattern.match(line)
        if m:
            total += int(m.group(m.lastindex))
    return total


def fmt_rate(rate: float) -> str:
    return f"{rate / 1e3:,.0f}k" if rate >= 1e3 else f"{rate:.0f}"


def part_rates(bench: Bench, rates: list[int], seconds: float) -> dict:
    print(f"1. fixed rates: myapp:request__done fired at each rate for {seconds:g} s; the "
          "program's loop untraced, then under each tool and script")
    rows = []
    best: dict = {}
    for rate in rates:
        n = int(rate * seconds)
        base = bench.untraced(n, rate)
        rows.append([fmt_rate(rate), "untraced", "-", f"{base.rate:,.0f}", f"{base.fired:,}",
                     "-", "-", f"{base.loop_ns / 1e9:.2f}", "-", "-"])
        for script in SCRIPTS:
            for tool in bench.tools():
                r = bench.traced(tool, script, n, rate)
                reached = r.rate >= 0.95 * rate
                if r.lost == 0 and reached and r.backlog_s < KEPT_UP_LAG:
                    best[(tool, script)] = rate
                per = r.us_per_event
                rows.append([fmt_rate(rate), tool, script,
                             f"{r.rate:,.0f}" + ("" if reached else " (!)"), f"{r.fired:,}",
                             f"{r.counted:,}", f"{r.lost:,}", f"{r.loop_ns / 1e9:.2f}",
                             f"{r.backlog_s:.2f}", f"{per:.2f}" if per is not None else "-"])
    print(table(["asked/s", "tool", "script", "reached/s", "fired", "counted", "lost",
                 "program s", "backlog s", "tracer CPU us/event"], rows, align="lllrrrrrrr"))
    print("(!) the program did not reach the asked rate (< 95%). backlog: how long the tracer "
          "ran on after the program's last event, less its own exit (the lag of a 100-event "
          "run: " + ", ".join(f"{t} {s} {v:.2f} s" for (t, s), v in bench.exit_s.items())
          + ").")
    for script in SCRIPTS:
        for tool in bench.tools():
            top = best.get((tool, script))
            print(f"  {tool:<9} {script:<9} highest rate kept up with, no loss (backlog < "
                  f"{KEPT_UP_LAG} s): {fmt_rate(top) + '/s' if top else 'none of those tried'}")
    print()
    return best


def part_full_speed(bench: Bench, n: int, runs: int) -> dict:
    print(f"2. full speed: {n:,} myapp:request__done hits as fast as the program fires them, "
          f"median of {runs} (runs interleaved)")
    results: dict = {"untraced": []}
    for _ in range(runs):
        results["untraced"].append(bench.untraced(n))
        for script in SCRIPTS:
            for tool in bench.tools():
                results.setdefault((tool, script), []).append(bench.traced(tool, script, n, 0))
    base = median(r.loop_ns for r in results["untraced"]) / 1e9
    rows = [["untraced", "-", f"{n:,}", "-", "-", f"{base:.4f}", f"{1e6 * base / n:.3f}", "-",
             f"{n / base:,.0f}", "-", "-", "-"]]
    summary = {}
    for script in SCRIPTS:
        for tool in bench.tools():
            rs = results[(tool, script)]
            loop = median(r.loop_ns for r in rs) / 1e9
            evaluated = median(r.evaluated_rate for r in rs)
            per = median(r.us_per_event for r in rs if r.us_per_event is not None) \
                if any(r.us_per_event is not None for r in rs) else None
            lost = max(r.lost for r in rs)
            added = (loop - base) / n * 1e6
            summary[(tool, script)] = (evaluated, added, lost)
            rows.append([tool, script, f"{median(r.fired for r in rs):,.0f}",
                         f"{median(r.counted for r in rs):,.0f}", f"{lost:,}",
                         f"{loop:.4f}", f"{loop / n * 1e6:.3f}", f"{added:.3f}",
                         f"{median(r.rate for r in rs):,.0f}",
                         f"{median(r.backlog_s for r in rs):.2f}", f"{evaluated:,.0f}",
                         f"{per:.2f}" if per is not None else "-"])
    print(table(["tool", "script", "fired", "counted", "lost (max)", "program s",
                 "program us/hit", "added us/hit", "fired/s", "backlog s", "evaluated/s",
                 "tracer CPU us/event"], rows, align="llrrrrrrrrrr"))
    print("program s: the program's own firing loop (wall), traced vs untraced; evaluated/s: "
          "counted / (loop + backlog), the first event to the last one evaluated; tracer CPU: "
          "user+sys of the tracer process after the loop began, over the events (bpftrace's "
          "work is done in the program, at the hit).")
    print()
    return summary


def print_ratios(bench: Bench, best: dict, full: dict) -> None:
    if not bench.have_bpftrace:
        return
    print("usdtgen (kernel path, userspace path) / bpftrace, measured in this run:")
    rows = []
    for script in SCRIPTS:
        for tool in ("usdt-kern", "usdt-user"):
            u, b = best.get((tool, script)), best.get(("bpftrace", script))
            ue, us, ul = full[(tool, script)]
            be, bs, bl = full[("bpftrace", script)]
            label = f"{tool}/bpftrace" + (" (userspace: not eligible)" if tool == "usdt-kern"
                                          and bench.paths.get(script) != "kernel" else "")
            rows.append([script, label,
                         f"{fmt_rate(u) if u else 'none'} / {fmt_rate(b) if b else 'none'}"
                         + (f" = {u / b:.2f}" if u and b else ""),
                         f"{ue:,.0f} / {be:,.0f}" + (f" = {ue / be:.2f}" if be else ""),
                         f"{us:.3f} / {bs:.3f}" + (f" = {us / bs:.2f}" if bs > 0 else ""),
                         f"{ul:,} / {bl:,}"])
    print(table(["script", "ratio", "highest lossless rate", "full-speed evaluated/s",
                 "us added per hit (program)", "lost at full speed"], rows, align="llllll"))
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", default="50000,200000,400000",
                    help="events/s tried in part 1 (comma-separated)")
    ap.add_argument("--seconds", type=float, default=1.0, help="length of each part-1 run")
    ap.add_argument("--hits", type=int, default=300000, help="events of each part-2 run")
    ap.add_argument("--runs", type=int, default=3, help="runs per figure in part 2")
    opts = ap.parse_args()
    rates = [int(float(x)) for x in opts.rates.split(",") if x.strip()]

    print_header("D script evaluation",
                 "usdtgen trace -e (in-kernel aggregation where eligible, and "
                 "--no-kernel-aggregation) vs bpftrace -e on a program firing "
                 "myapp:request__done: predicate + count() by copyinstr(arg1) and by arg2, "
                 "and quantize(arg3); events evaluated per second, without loss")
    have_bpftrace = report_bpftrace()
    if os.geteuid() != 0:
        sys.exit("tracing needs root")
    started = time.perf_counter()
    with tempdir("script") as tmp:
        bench = Bench(Path(tmp), have_bpftrace)
        bench.build()
        bench.check_paths()
        bench.calibrate()
        best = part_rates(bench, rates, opts.seconds)
        full = part_full_speed(bench, opts.hits, opts.runs)
        print_ratios(bench, best, full)
    print(f"(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()

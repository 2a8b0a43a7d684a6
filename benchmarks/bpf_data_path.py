"""The BPF data path against the kernel's fetch-args and against bpftrace, in one run: a
printf of three arguments, one of them a string, for every hit of a program firing as fast
as it can.

A C program built here with the ``usdtgen -h`` header fires ``bench:req(long i, const char
*name, int x)`` --hits times in a loop (the name is a string it formats itself), timing its
own loop (wall and CPU) and reading its parent's (the tracer's) CPU time when the loop
starts and ends. Each tracer starts it with -c, its output to a file:

  usdtgen trace -q -f '%ld %s %d\\n'            (BPF: one program per site, one ring buffer)
  the same with USDTGEN_NO_BPF=1               (the kernel's fetch-args, per-CPU perf rings)
  bpftrace -q -e '... printf("%ld %s %d\\n", arg0, str(arg1), arg2)'

Reported, median of --runs: events printed and lost (printed lines; usdtgen's summary is
checked against them), the program's rate (hits per second of its loop), the cost per hit
it paid (loop ns per hit minus untraced), and the tracer's CPU per event printed (its CPU
from wait4 minus the program's own, less what it used before the loop began).
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import C_TIMING, build_probe_program, median, print_header, program_stats, \
    report_bpftrace, run, run_tracer, table, tempdir, usdtgen_cmd  # noqa: E402

PROVIDER = "provider bench { probe req(long i, const char *name, int x); };\n"
PROGRAM = C_TIMING + r"""
#include "bench.h"

static char name[32];

static void __attribute__((noinline)) fire(long i)
{
    snprintf(name, sizeof name, "req-%ld", i);
    BENCH_REQ(i, name, (int)(i * 7 + 3));
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
    long n = atol(argv[1]);
    long parent_start = parent_cpu_ns();
    long cpu0 = ns(CLOCK_PROCESS_CPUTIME_ID), start = ns(CLOCK_MONOTONIC);
    for (long i = 0; i < n; i++)
        fire(i);
    long end = ns(CLOCK_MONOTONIC), cpu1 = ns(CLOCK_PROCESS_CPUTIME_ID);
    long parent_end = parent_cpu_ns();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    FILE *f = fopen(argv[2], "w");
    fprintf(f, "%ld %ld %ld %ld %ld %ld %ld\n", n, end - start, cpu1 - cpu0,
            (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000L +
            (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000L, parent_start, parent_end, end);
    fclose(f);
    return 0;
}
"""
FORMAT = r"%ld %s %d\n"


def one(cmd, tmp: Path, env=None) -> dict:
    stats, out, err = tmp / "stats.txt", tmp / "out.txt", tmp / "err.txt"
    stats.unlink(missing_ok=True)
    if env is not None:
        saved = dict(os.environ)
        os.environ.update(env)
    try:
        errors, cpu_s, _ = run_tracer(cmd, out, err)
    finally:
        if env is not None:
            os.environ.clear()
            os.environ.update(saved)
    fired, loop_ns, _loop_cpu, self_cpu, parent_start, _, _ = program_stats(stats, err)
    lines = out.read_bytes().split(b"\n")
    captured = sum(1 for line in lines if line)
    expected_first = b"0 req-0 3"
    if captured and lines[0] != expected_first:
        sys.exit(f"unexpected first line {lines[0]!r} from {' '.join(map(str, cmd))}")
    m = re.search(r"^(\d+) events, (\d+) lost", errors, re.M)
    if m and (int(m.group(1)), int(m.group(2))) != (captured, fired - captured):
        print(f"  (usdtgen's summary says {m.group(0)}; the output holds {captured} of {fired})")
    tracer_cpu = int(cpu_s * 1e9) - self_cpu - parent_start
    return {"fired": fired, "captured": captured, "loop_ns": loop_ns,
            "cpu_per_event_us": tracer_cpu / captured / 1e3 if captured else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hits", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (uprobes, BPF)")
    print_header("BPF data path", f"printf of 3 arguments with a string, {opts.hits:,} hits "
                                  "at full speed, one run")
    have_bpftrace = report_bpftrace()
    usdtgen = usdtgen_cmd()
    with tempdir("bpfpath") as tmp:
        tmp = Path(tmp)
        exe = build_probe_program(tmp, "bench", PROVIDER, PROGRAM)
        command = f"{exe} {opts.hits} {tmp / 'stats.txt'}"
        untraced = []
        for _ in range(opts.runs):
            run([exe, opts.hits, tmp / "stats.txt"])
            untraced.append(program_stats(tmp / "stats.txt", tmp / "err.txt")[1] / opts.hits)
        base = median(untraced)
        tracers = [
            ("usdtgen -f (BPF)", usdtgen + ["trace", "-f", FORMAT, "-c", command], None),
            ("usdtgen -f (fetch-args)", usdtgen + ["trace", "-f", FORMAT, "-c", command],
             {"USDTGEN_NO_BPF": "1"}),
        ]
        if have_bpftrace:
            tracers.append(("bpftrace printf str()",
                            ["bpftrace", "-q", "-e",
                             f'usdt:{exe}:bench:req {{ printf("{FORMAT}", arg0, str(arg1), '
                             f'arg2); }}', "-c", command], None))
        rows = [["untraced", "-", "-", f"{opts.hits / (base * opts.hits / 1e9) / 1e6:.2f}M",
                 f"{base:.0f}", "-", "-"]]
        for label, cmd, env in tracers:
            results = [one(cmd, tmp, env) for _ in range(opts.runs)]
            loop = median([r["loop_ns"] / r["fired"] for r in results])
            cpu = [r["cpu_per_event_us"] for r in results if r["cpu_per_event_us"] is not None]
            lost = [r["fired"] - r["captured"] for r in results]
            rows.append([label, ", ".join(str(r["captured"]) for r in results),
                         ", ".join(map(str, lost)), f"{1e3 / loop:.2f}M",
                         f"{loop:.0f}", f"{loop - base:.0f}",
                         f"{median(cpu):.2f}" if cpu else "-"])
        print(table(["tracer", "printed (each run)", "lost", "program rate/s", "ns/hit",
                     "added ns/hit", "tracer CPU us/event"], rows, "llrrrrr"))


if __name__ == "__main__":
    main()

"""What following a process tree costs: the traced children's price per hit and whether
every hit arrives, for ``usdtgen trace -p`` (a BPF program checks that the hit's process is a
member of the followed tree) next to a path trace (no check) and to bpftrace, in one run.

A C program built here with the ``usdtgen -h`` header forks CHILDREN children that each wait
for a go-file, then fire ``tree:hit(int child, long i)`` --hits times as fast as they can,
timing their own loop (CLOCK_MONOTONIC); the parent reaps them and writes each child's loop
ns to a stats file. Each tracer is started on the running program, given --settle seconds to
attach, then the go-file is created:

  untraced                                     the loop alone
  usdtgen trace -p PARENT -o /dev/null         events recorded, process-tree filter in BPF
  usdtgen trace -p PARENT -e '... count()'     aggregated in the kernel, same filter
  usdtgen trace PROGRAM -o /dev/null           every process running it: no filter
  bpftrace -e 'usdt:PROGRAM:tree:hit { @ = count(); }'   (it has no process-tree mode)

Reported: ns per hit added to the children (the median child, median of --runs), and what
the tracer reported against the hits fired: events printed + lost (usdtgen's summary), or
the count of the aggregation. Needs root, tracefs and gcc; bpftrace is
optional.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CC, build_probe_program, median, need, print_header, report_bpftrace, \
    table, tempdir, usdtgen_cmd  # noqa: E402

PROVIDER = "provider tree { probe hit(int child, long i); };\n"
PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include "tree.h"

static long now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

int main(int argc, char **argv)
{
  int children = atoi(argv[1]);
  long hits = atol(argv[2]);
  const char *go = argv[3], *stats = argv[4];
  int fds[64][2];
  for (int c = 0; c < children; c++) {
    pipe(fds[c]);
    if (fork() == 0) {
      while (access(go, F_OK) != 0)
        usleep(1000);
      long start = now();
      for (long i = 0; i < hits; i++)
        TREE_HIT(c, i);
      long took = now() - start;
      write(fds[c][1], &took, sizeof took);
      _exit(0);
    }
  }
  printf("ready\n");
  fflush(stdout);
  FILE *out = fopen(stats, "w");
  for (int c = 0; c < children; c++) {
    long took = 0;
    read(fds[c][0], &took, sizeof took);
    fprintf(out, "%ld\n", took);
  }
  fclose(out);
  while (wait(NULL) > 0)
    ;
  return 0;
}
"""


def one_run(exe: Path, tmp: Path, children: int, hits: int, tracer, settle: float):
    """(median child loop ns, what the tracer reported: "events+lost", a count, or None)."""
    go, stats = tmp / "go", tmp / "stats"
    for path in (go, stats):
        if path.exists():
            path.unlink()
    program = subprocess.Popen([str(exe), str(children), str(hits), str(go), str(stats)],
                               stdout=subprocess.PIPE, text=True)
    assert program.stdout.readline().strip() == "ready"
    proc = None
    if tracer is not None:
        proc = subprocess.Popen([str(c) for c in tracer(program.pid, exe)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL)
        time.sleep(settle)
    go.touch()
    program.wait()
    reported = None
    if proc is not None:
        time.sleep(0.5)                       # -p tracers end with the process
        if proc.poll() is None:               # path tracers run until told
            proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        summary = re.findall(r"(\d+) events, (\d+) lost", err)
        if summary:                                  # usdtgen: printed + lost = fired
            reported = f"{summary[-1][0]}+{summary[-1][1]} lost"
        else:                                        # a count() aggregation's value
            counts = re.findall(r"@\w*: (\d+)", out) or re.findall(r"^\s*(\d+)\s*$", out, re.M)
            reported = counts[-1] if counts else None
    loops = [int(x) for x in stats.read_text().split()]
    return median(loops), reported


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, default=4)
    parser.add_argument("--hits", type=int, default=200_000, help="hits per child")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--settle", type=float, default=2.5,
                        help="seconds a tracer gets to attach before the children fire")
    opts = parser.parse_args()
    need(CC)
    if os.geteuid() != 0:
        sys.exit("needs root (uprobes, BPF)")
    print_header("Following a process tree", "per-hit cost and exactness, one run")
    have_bpftrace = report_bpftrace()
    usdtgen = usdtgen_cmd()
    with tempdir("tree") as tmp:
        tmp = Path(tmp)
        exe = build_probe_program(tmp, "tree", PROVIDER, PROGRAM)
        modes = [
            ("untraced", None),
            ("usdtgen -p (records, tree filter)",
             lambda pid, exe: usdtgen + ["trace", "-o", "/dev/null", "-p", pid]),
            ("usdtgen -p -e count() (kernel)",
             lambda pid, exe: usdtgen + ["trace", "-p", pid, "-e",
                                         "tree:::hit { @ = count(); }"]),
            ("usdtgen PATH (records, no filter)",
             lambda pid, exe: usdtgen + ["trace", "-o", "/dev/null", exe]),
        ]
        if have_bpftrace:
            modes.append(("bpftrace PATH count()",
                          lambda pid, exe: ["bpftrace", "-e",
                                            f"usdt:{exe}:tree:hit {{ @ = count(); }}"]))
        fired = opts.children * opts.hits
        rows, base = [], None
        for name, tracer in modes:
            loops, reported = [], []
            for _ in range(opts.runs):
                loop_ns, got = one_run(exe, tmp, opts.children, opts.hits, tracer, opts.settle)
                loops.append(loop_ns / opts.hits)
                reported.append(got)
            per_hit = median(loops)
            if base is None:
                base = per_hit
            shown = "-" if tracer is None else \
                ", ".join("?" if r is None else f"{r} of {fired}" for r in reported)
            rows.append([name, f"{per_hit:.0f}", f"{per_hit - base:.0f}", shown])
        print(table(["tracer", "ns/hit", "added ns/hit", "hits reported / fired (each run)"],
                    rows, "lrrl"))
        print()
        print("(the PATH tracers run until SIGINT and count every process running the "
              "program; the program here is the only one)")


if __name__ == "__main__":
    main()

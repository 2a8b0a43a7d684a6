"""How long ``usdtgen trace -c CMD`` takes to start CMD with its probes armed, next to
``bpftrace -c CMD``.

A C program built here with the ``usdtgen -h`` header reads CLOCK_MONOTONIC first thing in
main(), writes it to the file named by $STARTUP_FILE, fires ``startup:ready(int n)`` once
and exits. Each tracer starts it with -c (and so holds it back until the probe is armed):

  usdtgen trace -q -c PROG                                       (events to stdout)
  bpftrace -e 'usdt:PROG:startup:ready { printf("hit %d\\n", arg0); }' -c PROG

Timed, median of --runs interleaved rounds after one warm-up each: from the spawn of the
tracer to the program's first instruction of main() ("to the child"; the goal: usdtgen no
later than bpftrace), and to the tracer's exit ("whole", teardown included). Both outputs
are checked to hold the one event. Next to them: the program alone (the spawn's own cost),
``python -c pass`` and ``python -S -c pass`` (the interpreter with and without its site
step, which runs site-packages' .pth files), the import of the modules ``trace`` loads, and
``python -S -m usdtgen trace`` (PYTHONPATH: the checkout, then site-packages). Python
commands get a bytecode cache in the temp dir, as an installed package has.

Then one start-up runs in this process (``run_trace`` with the CLI's configuration) under
cProfile until the probes are armed, and the top functions by cumulative and own time are
printed. Needs root and tracefs, like tracing itself; bpftrace is optional.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import bytecode_env, build_probe_program, median, print_header, \
    report_bpftrace, run, table, tempdir, usdtgen_cmd, without_site_cmd  # noqa: E402

PROVIDER = "provider startup { probe ready(int n); };\n"
PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "startup.h"

int main(int argc, char **argv)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);       /* first thing: when main() began */
    const char *path = getenv("STARTUP_FILE");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (f) {
        fprintf(f, "%lld\n", (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
        fclose(f);
    }
    STARTUP_READY(argc);
    return 0;
}
"""
IMPORTS = "import usdtgen.entry, usdtgen.trace.command, usdtgen.trace.session, usdtgen.trace.output"


def time_start(cmd: list[str], env: dict, started_file: Path) -> tuple[float, float, str]:
    """(seconds from the spawn to the program's main(), seconds to the command's exit, its
    stdout) of one run; exits on failure."""
    started_file.unlink(missing_ok=True)
    spawned = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    ended = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    try:
        began = int(started_file.read_text())
    except (OSError, ValueError):
        began = ended
    return (began - spawned) / 1e9, (ended - spawned) / 1e9, proc.stdout


def time_quiet(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    run(cmd, capture_output=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    return time.perf_counter() - start


def profile_start(program: Path, started_file: Path) -> tuple[float, pstats.Stats]:
    """One ``usdtgen trace -q -c PROGRAM`` start-up in this process under cProfile, from
    the first import to the moment the probes are armed (the child not yet released)."""
    os.environ["STARTUP_FILE"] = str(started_file)
    prof = cProfile.Profile()
    began = time.perf_counter()
    prof.enable()
    from usdtgen.trace.session import TraceConfig, TraceHooks, run_trace

    class StopProfiling(TraceHooks):
        armed = 0.0

        def started(self) -> None:
            prof.disable()
            StopProfiling.armed = time.perf_counter() - began

    run_trace(TraceConfig(command=str(program)), lambda event: None, hooks=StopProfiling())
    return StopProfiling.armed, pstats.Stats(prof)


def top_functions(stats: pstats.Stats, order: str, count: int) -> str:
    buf = io.StringIO()
    stats.stream = buf
    stats.sort_stats(order).print_stats(count)
    keep, lines = False, []
    for line in buf.getvalue().splitlines():
        keep = keep or line.lstrip().startswith("ncalls")
        if keep and line.strip():
            line = re.sub(r"\S*/site-packages/", "", line.rstrip())
            line = re.sub(r"\S*/lib/python3\.\d+/", "", line)
            lines.append("  " + line.replace(str(Path(__file__).resolve().parent.parent) + "/",
                                              ""))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    opts = ap.parse_args()
    print_header("usdtgen trace start-up",
                 f"usdtgen trace -c vs bpftrace -c: from the spawn to the traced program's "
                 f"main(), its probe armed; median of {opts.runs}")
    if os.geteuid() != 0:
        sys.exit("needs root (uprobes), as tracing does")
    have_bpftrace = report_bpftrace()

    with tempdir("startup") as tmp:
        tmp = Path(tmp)
        program = build_probe_program(tmp, "startup", PROVIDER, PROGRAM)
        started_file = tmp / "started"
        env = bytecode_env(tmp / "bytecode")
        env["STARTUP_FILE"] = str(started_file)
        without_site, site_less = without_site_cmd(["trace", "-q", "-c", str(program)])
        tracers = {
            "program alone": ([str(program)], env),
            "usdtgen trace -q -c PROG": (usdtgen_cmd() + ["trace", "-q", "-c", str(program)],
                                         env),
            "python -S -m usdtgen trace -q -c PROG": (without_site, {**env, **site_less}),
        }
        if have_bpftrace:
            tracers["bpftrace -c PROG"] = (
                ["bpftrace", "-e", f'usdt:{program}:startup:ready {{ printf("hit %d\\n", '
                 'arg0); }', "-c", str(program)], env)
        floors = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -S -c pass": [sys.executable, "-S", "-c", "pass"],
            "python -c 'import <trace modules>'": [sys.executable, "-c", IMPORTS],
        }
        starts: dict[str, list[float]] = {label: [] for label in tracers}
        wholes: dict[str, list[float]] = {label: [] for label in tracers | floors}
        for label, (cmd, cmd_env) in tracers.items():          # warm-up, and the checks
            _, _, out = time_start(cmd, cmd_env, started_file)
            hits = len(re.findall(r"startup:ready|^hit 1$", out, re.MULTILINE))
            if label != "program alone" and hits != 1:
                sys.exit(f"{label}: expected the one event in its output, got:\n{out}")
        for cmd in floors.values():
            time_quiet(cmd, env)
        for _ in range(opts.runs):
            for label, (cmd, cmd_env) in tracers.items():
                start, whole, _ = time_start(cmd, cmd_env, started_file)
                starts[label].append(start)
                wholes[label].append(whole)
            for label, cmd in floors.items():
                wholes[label].append(time_quiet(cmd, env))

        peer = median(starts["bpftrace -c PROG"]) if have_bpftrace else None
        peer_whole = median(wholes["bpftrace -c PROG"]) if have_bpftrace else None
        rows = []
        for label in list(tracers) + list(floors):
            start = f"{median(starts[label]):.3f}" if label in starts else "-"
            ratio = f"{median(starts[label]) / peer:.2f}" if peer and label in starts else "-"
            whole = median(wholes[label])
            rows.append([label, start, ratio, f"{whole:.3f}",
                         f"{whole / peer_whole:.2f}" if peer_whole else "-"])
        print(f"program: {program.name} (one probe, fired once)")
        print(table(["command", "to the child (s)", "vs bpftrace", "whole (s)", "vs bpftrace"],
                    rows))
        print()
        ours = median(starts["usdtgen trace -q -c PROG"])
        if peer:
            verdict = "met" if ours <= peer else "NOT met"
            print(f"goal: usdtgen trace starts the child ({ours:.3f} s) no later than bpftrace "
                  f"({peer:.3f} s) -> {verdict} ({ours / peer:.2f}x)")
        else:
            print("goal: not checked (no bpftrace)")
        print()

        sys.pycache_prefix = str(tmp / "bytecode")
        armed, stats = profile_start(program, started_file)
    print(f"cProfile of one start-up in this process, to the probes armed ({armed:.3f} s "
          f"under the profiler), top 12 by cumulative time:")
    print(top_functions(stats, "cumulative", 12))
    print("\ntop 12 by own time:")
    print(top_functions(stats, "tottime", 12))


if __name__ == "__main__":
    main()

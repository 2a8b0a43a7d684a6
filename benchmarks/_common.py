"""Helpers shared by the benchmark scripts: machine description, tables, timing, temp dirs.

Not a benchmark itself. The scripts import it from their own directory (Python puts the
script's directory on sys.path), so ``python benchmarks/NAME.py`` works from anywhere.
"""
from __future__ import annotations

import contextlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CC = os.environ.get("CC", "gcc")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def _usdtgen_version() -> str:
    try:
        import usdtgen
        version = usdtgen.__version__
    except ImportError:
        return "not importable"
    commit = _first_line(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "usdtgen"],
                           capture_output=True, text=True).stdout.strip()
    if commit and " " not in commit:
        version += f" (git {commit}{', usdtgen/ modified' if dirty else ''})"
    return version


def machine_lines() -> list[tuple[str, str]]:
    sdt = _first_line(["dpkg-query", "-W", "-f", "${Version}", "systemtap-sdt-dev"])
    return [
        ("cpu", f"{_cpu_model()} ({os.cpu_count()} logical CPUs)"),
        ("kernel", f"{platform.system()} {platform.release()} {platform.machine()}"),
        ("gcc", _first_line([CC, "--version"])),
        ("python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("usdtgen", _usdtgen_version()),
        ("systemtap-sdt", sdt if sdt[:1].isdigit() else "unknown"),
        ("load average", " ".join(f"{x:.2f}" for x in os.getloadavg()) + " (at start)"),
    ]


def print_header(title: str, what: str) -> None:
    print(f"== {title} ==")
    print(what)
    print()
    for key, value in machine_lines():
        print(f"  {key:<14}{value}")
    print()


def table(headers: list[str], rows: list[list], align: str | None = None) -> str:
    """A plain text table; ``align`` holds one of 'l'/'r' per column (default: first left)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    align = align or "l" + "r" * (len(headers) - 1)
    out = []
    for n, row in enumerate(cells):
        out.append("  ".join(c.ljust(w) if a == "l" else c.rjust(w)
                             for c, w, a in zip(row, widths, align)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def median(values) -> float:
    return statistics.median(values)


def run(cmd, **kw) -> subprocess.CompletedProcess:
    """Run ``cmd``; on failure print its output and exit (a benchmark on a broken build is
    worthless)."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    proc = subprocess.run([str(c) for c in cmd], **kw)
    if proc.returncode != 0:
        sys.stderr.write(f"command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n")
        sys.stderr.write((proc.stdout or "") + (proc.stderr or ""))
        sys.exit(1)
    return proc


def time_cmd(cmd, **kw) -> float:
    """Wall-clock seconds of one run of ``cmd`` (checked)."""
    start = time.perf_counter()
    run(cmd, **kw)
    return time.perf_counter() - start


def need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        sys.exit(f"missing tool(s): {', '.join(missing)}")


def tempdir(prefix: str):
    """A context manager giving a fresh temp dir (build products go there, never into the
    repository), removed afterwards unless KEEP_BENCH_TMP=1."""
    if os.environ.get("KEEP_BENCH_TMP") == "1":
        path = tempfile.mkdtemp(prefix=f"usdtgen-bench-{prefix}-")
        print(f"(build dir kept: {path})")
        return contextlib.nullcontext(path)
    return tempfile.TemporaryDirectory(prefix=f"usdtgen-bench-{prefix}-")


def build_probe_program(tmp: Path, name: str, provider: str, source: str) -> Path:
    """Write ``name``.d and ``name``.c in ``tmp``, generate ``name``.h with usdtgen -h and
    build ``tmp/name`` with $CC -O2; returns the program's path."""
    (tmp / f"{name}.d").write_text(provider)
    run(usdtgen_cmd() + ["-h", "-s", tmp / f"{name}.d", "-o", tmp / f"{name}.h"])
    (tmp / f"{name}.c").write_text(source)
    run([CC, "-O2", "-I", tmp, "-o", tmp / name, tmp / f"{name}.c"], cwd=tmp)
    return tmp / name


def bytecode_env(folder, env: dict | None = None) -> dict:
    """The environment of a timed Python command: bytecode cached in ``folder`` (written by
    the warm-up run, read by the timed ones), as an installed package has it, even where
    PYTHONDONTWRITEBYTECODE is set (the modules would otherwise be compiled at every run);
    nothing is written into the repository or site-packages. ``sys.pycache_prefix = folder``
    lets the benchmark's own process read the same cache."""
    env = dict(os.environ if env is None else env)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(folder)
    return env


def without_site_cmd(args: list[str]) -> tuple[list[str], dict[str, str]]:
    """``python -S -m usdtgen ARGS`` and the PYTHONPATH it needs (the checkout, then
    site-packages): usdtgen as it runs when the interpreter's site step, which runs every
    .pth file of site-packages, is skipped. Returns (command, environment additions)."""
    import sysconfig
    path = os.pathsep.join([str(REPO), sysconfig.get_paths()["purelib"]])
    return [sys.executable, "-S", "-m", "usdtgen", *args], {"PYTHONPATH": path}


def usdtgen_cmd() -> list[str]:
    """How to run usdtgen: the console script installed next to this Python (not a pyenv
    shim, whose own start-up would be timed too), else ``python -m usdtgen``."""
    exe = Path(sys.executable).parent / "usdtgen"
    if exe.is_file() and os.access(exe, os.X_OK):
        return [str(exe)]
    return [sys.executable, "-m", "usdtgen"]


# C shared by the benchmark programs that a tracer runs: includes, a clock in ns, and the CPU
# time the parent process (the tracer) has used. Put it before the program's own header.
C_TIMING = r"""
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>

static long ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* CPU ns the parent process (the tracer) has used so far, all its threads */
static long parent_cpu_ns(void)
{
    char path[64], line[128];
    long total = 0;
    snprintf(path, sizeof path, "/proc/%d/task", (int)getppid());
    DIR *dir = opendir(path);
    if (!dir)
        return -1;
    struct dirent *d;
    while ((d = readdir(dir)) != NULL) {
        if (d->d_name[0] == '.')
            continue;
        char file[128];
        snprintf(file, sizeof file, "%s/%s/schedstat", path, d->d_name);
        FILE *f = fopen(file, "r");
        if (f && fgets(line, sizeof line, f))
            total += atol(line);
        if (f)
            fclose(f);
    }
    closedir(dir);
    return total;
}
"""


def report_bpftrace() -> bool:
    """Print bpftrace's version line (or that it is absent); True when it can be run."""
    have = shutil.which("bpftrace") is not None
    version = "not found: its rows are skipped"
    if have:
        proc = subprocess.run(["bpftrace", "--version"], capture_output=True, text=True,
                              check=False)
        version = (proc.stdout or proc.stderr).strip() or "unknown version"
    print(f"  bpftrace      {version}")
    print()
    return have


def run_tracer(cmd, out_path: Path, err_path: Path) -> tuple[str, float, int]:
    """Run a tracer command (it starts the measured program with -c), its output and errors
    to files; exit on failure. Returns (its stderr, its CPU seconds with its children's,
    the CLOCK_MONOTONIC ns when it ended)."""
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([str(c) for c in cmd], stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        ended = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    errors = err_path.read_text(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(f"command failed ({code}): {' '.join(map(str, cmd))}\n{errors}")
        sys.exit(1)
    return errors, usage.ru_utime + usage.ru_stime, ended


def program_stats(stats_path: Path, err_path: Path, count: int = 7) -> list[int]:
    """The figures a benchmark program wrote to ``stats_path`` (exit when it wrote none)."""
    try:
        fields = [int(x) for x in stats_path.read_text().split()]
    except (OSError, ValueError):
        fields = []
    if len(fields) != count:
        sys.exit(f"the program left no figures in {stats_path}; tracer stderr:\n"
                 + err_path.read_text(errors="replace")[-2000:])
    return fields

"""In-kernel aggregation of D scripts (usdtgen/trace/script/kernel.py): scripts whose clauses
only count(), sum() or quantize() integers keyed by integers, with conjunctions of integer
comparisons as predicates, aggregate in a BPF program; everything else goes to userspace.

A C program built here with the ``usdtgen -h`` header of its own provider fires
``kt:val(long long v, int k, unsigned int u, unsigned long long w)`` over a deterministic
list: edge cases (0, powers of two and their neighbours, +-2^40, +-2^62, INT64_MAX,
INT64_MIN + 1), then pseudo-random values of every magnitude (a fixed LCG); k cycles
through -3..3, u through large unsigned values, w is v's bits as uint64_t. ``kt dump N``
prints the same list untraced, so Python computes what every aggregation must hold.

Each kernel-eligible script is run with and without --no-kernel-aggregation on the same
program: the outputs must be identical, stderr must say "aggregated in the kernel" only in
the first case, and both must equal Python's computation (--json). Then: no loss at 2,000,000
hits as fast as the program fires; scripts that must fall back to userspace; -p and
system-wide (path) targets; tick-1sec printa + clear over a running program. After every
run no usdtgen uprobe event remains, and a traced process that outlives the trace sees its
probe's semaphore drop back (KT_VAL_ENABLED() false).
"""
from __future__ import annotations

import bisect
import json
import math
import re
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from conftest import USDTGEN, ensure_tracefs, Lines, no_uprobe_events_left_after, Processes, \
    require, require_tool, trace_to_end


NOTICE = "aggregated in the kernel"
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
N = 3000                          # hits of ``kt list`` in the comparisons

PROVIDER = """\
provider kt {
  probe val(long long v, int k, unsigned int u, unsigned long long w);
  probe named(const char *name, int k);
};
"""

PROGRAM = r"""
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "kt.h"

static const long long edges[] = {
  0, 1, 2, 3, 4, 7, 8, 1023, 1024, -1, -2, -3, -1024, -1025,
  1LL << 40, -(1LL << 40), 1LL << 62, -(1LL << 62), INT64_MAX, INT64_MIN + 1,
};
#define NEDGES ((long)(sizeof edges / sizeof edges[0]))
static const char *const names[4] = {"alpha", "beta", "gamma", "delta"};

static void __attribute__((noinline)) fire(long long v, int k, unsigned int u)
{
  unsigned long long w = (unsigned long long)v;
  KT_VAL(v, k, u, w);
  __asm__ volatile("" ::: "memory");
}

static void __attribute__((noinline)) fire_named(int k)
{
  const char *name = names[k & 3];
  __asm__("" : "+r"(name));
  KT_NAMED(name, k);
  __asm__ volatile("" ::: "memory");
}

static unsigned long long lcg = 12345;

/* the i-th (v, k, u) of the deterministic list (call with i = 0, 1, 2, ... in order) */
static void value(long i, long long *v, int *k, unsigned int *u)
{
  if (i < NEDGES) {
    *v = edges[i];
  } else {
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    int shift = (int)((lcg >> 58) & 63);
    long long x = (long long)((lcg >> 1) >> shift);     /* every magnitude */
    *v = (lcg & 1) ? -x : x;
  }
  *k = (int)(i % 7) - 3;
  *u = 4000000000u - (unsigned int)(i % 5) * 1000000000u;
}

static void sleep_ns(long ns)
{
  struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
  nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
  const char *mode = argc > 1 ? argv[1] : "";
  long n = argc > 2 ? atol(argv[2]) : 0;
  long long v; int k; unsigned int u;
  if (!strcmp(mode, "list") || !strcmp(mode, "paced")) {
    /* list N: the list as fast as possible; paced N: one hit every 1 ms */
    fprintf(stderr, "pid=%d\n", (int)getpid());
    for (long i = 0; i < n; i++) {
      value(i, &v, &k, &u);
      fire(v, k, u);
      fire_named(k);
      if (mode[0] == 'p')
        sleep_ns(1000000L);
    }
    return 0;
  }
  if (!strcmp(mode, "dump")) {          /* the list as text, untraced */
    for (long i = 0; i < n; i++) {
      value(i, &v, &k, &u);
      printf("%lld %d %u\n", v, k, u);
    }
    return 0;
  }
  if (!strcmp(mode, "fast")) {          /* fast N: N hits of (i, i % 4, i) */
    for (long i = 0; i < n; i++)
      fire(i, (int)(i & 3), (unsigned int)i);
    return 0;
  }
  if (!strcmp(mode, "extremes")) {      /* INT64_MIN and w = 2^63 */
    fire(INT64_MIN, 0, 0);
    return 0;
  }
  if (!strcmp(mode, "watch")) {
    /* watch: every 10 ms, when enabled, 100 hits of (1, i % 4, 0); then a line
       E=<KT_VAL_ENABLED()> F=<hits fired so far> */
    long fired = 0;
    for (long round = 0; round < 6000; round++) {
      if (KT_VAL_ENABLED())
        for (int j = 0; j < 100; j++, fired++)
          fire(1, (int)(fired & 3), 0);
      printf("E=%d F=%ld\n", (int)KT_VAL_ENABLED(), fired);
      fflush(stdout);
      sleep_ns(10000000L);
    }
    return 0;
  }
  return 2;
}
"""


# -- the traced program ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def kt(tmp_path_factory) -> Path:
    require(USDTGEN is not None, "the usdtgen executable is not installed")
    cc = require_tool("cc")
    folder = tmp_path_factory.mktemp("kernel_agg")
    (folder / "kt.d").write_text(PROVIDER)
    header = subprocess.run([USDTGEN, "-h", "-s", folder / "kt.d", "-o", folder / "kt.h"],
                            capture_output=True, text=True, timeout=60)
    assert header.returncode == 0, header.stderr
    (folder / "kt.c").write_text(PROGRAM)
    exe = folder / "kt"
    build = subprocess.run([cc, "-O2", "-Wall", "-I", folder, "-o", exe, folder / "kt.c"],
                           capture_output=True, text=True, timeout=120)
    assert build.returncode == 0, build.stderr
    return exe


@pytest.fixture(scope="module")
def values(kt) -> list[tuple[int, int, int]]:
    """(v, k, u) of every hit of ``kt list N``, from ``kt dump N`` (untraced)."""
    dump = subprocess.run([kt, "dump", str(N)], capture_output=True, text=True, timeout=30)
    assert dump.returncode == 0
    rows = [tuple(map(int, line.split())) for line in dump.stdout.splitlines()]
    assert len(rows) == N
    # the edge cases are all there, and the random part covers small and huge values
    vs = [r[0] for r in rows]
    assert {0, 7, 1024, -1025, 1 << 62, -(1 << 62), INT64_MAX, INT64_MIN + 1} <= set(vs)
    assert min(vs) < -(1 << 60) and max(vs) > 1 << 60 and sum(abs(v) < 1000 for v in vs) > 50
    return rows


@pytest.fixture(autouse=True)
def no_uprobe_events_left():
    yield from no_uprobe_events_left_after()


def trace(*args, timeout: float = 60) -> subprocess.CompletedProcess:
    return trace_to_end(*args, timeout=timeout)


def both(*args, timeout: float = 60):
    """The same trace in the kernel (default) and in userspace (--no-kernel-aggregation)."""
    return trace(*args, timeout=timeout), \
        trace("--no-kernel-aggregation", *args, timeout=timeout)


def json_aggregations(text: str) -> dict[str, dict]:
    """The last JSON printing of each aggregation, by name."""
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return {r["name"]: r for r in records if r["type"] == "aggregation"}


def without_pid(text: str, err: str) -> str:
    """The text with the -c child's pid (``pid=N`` on stderr) replaced by PID."""
    match = re.search(r"pid=(\d+)", err)
    assert match, err
    return re.sub(rf"\b{match[1]}\b", "PID", text)


# -- DTrace's arithmetic -------------------------------------------------------------------------
def wrap64(x: int) -> int:
    x &= (1 << 64) - 1
    return x - (1 << 64) if x >= 1 << 63 else x


def quantize_label(v: int) -> int:
    """DTrace's quantize bucket: 0; 2^floor(log2 v); -2^floor(log2 -v); the 127 buckets end
    at +-2^62, so every value beyond falls in the last one."""
    v = wrap64(v)
    if v == 0:
        return 0
    if v > 0:
        return 1 << min(v.bit_length() - 1, 62)
    return -(1 << min((-v).bit_length() - 1, 62))


def buckets(vs) -> list[list[int]]:
    counts: dict = defaultdict(int)
    for v in vs:
        counts[quantize_label(v)] += 1
    return [[label, counts[label]] for label in sorted(counts)]


def lquantize_by(rows, key, value, low: int, high: int, step: int) -> dict:
    """DTrace's lquantize(): [lower bound, count] of the non-empty buckets, None for the one
    below ``low``; the last bucket starts at ``high``."""
    groups: dict = defaultdict(lambda: defaultdict(int))
    for row in rows:
        v = wrap64(value(row))
        label = None if v < low else min(low + (v - low) // step * step, high)
        groups[key(row)][label] += 1
    return {k: sorted(([label, n] for label, n in counts.items()),
                      key=lambda pair: -(1 << 70) if pair[0] is None else pair[0])
            for k, counts in groups.items()}


def extreme_by(pick, rows, key, value) -> dict:
    out: dict = {}
    for row in rows:
        k = key(row)
        out[k] = value(row) if k not in out else pick(out[k], value(row))
    return out


def c_div(a: int, b: int) -> int:
    """C's division: truncated toward zero."""
    q = abs(a) // abs(b)
    return -q if (a < 0) != (b < 0) else q


def c_rem(a: int, b: int) -> int:
    return a - c_div(a, b) * b


def bucketed_by(rows, key, value, bounds: list[int]) -> dict:
    """[lower bound, count] of the non-empty buckets that ``bounds`` (ascending) open, None
    for the one below the first bound."""
    groups: dict = defaultdict(lambda: defaultdict(int))
    for row in rows:
        index = bisect.bisect_right(bounds, wrap64(value(row)))
        groups[key(row)][bounds[index - 1] if index else None] += 1
    return {k: sorted(([label, n] for label, n in counts.items()),
                      key=lambda pair: -(1 << 70) if pair[0] is None else pair[0])
            for k, counts in groups.items()}


# llquantize(x, 10, 0, 2, 10): 1..9, then 10..90 by 10, 100..900 by 100, and 1000 on
LLQ_BOUNDS = list(range(1, 10)) + list(range(10, 100, 10)) + list(range(100, 1000, 100)) + [1000]

NAMES = ("alpha", "beta", "gamma", "delta")       # the program's names[k & 3]


def avg_by(rows, key, value) -> dict:
    """DTrace's avg(): the int64 (wrapping) sum over the count, truncated toward zero."""
    sums: dict = defaultdict(int)
    counts: dict = defaultdict(int)
    for row in rows:
        sums[key(row)] = wrap64(sums[key(row)] + value(row))
        counts[key(row)] += 1
    return {k: (abs(sums[k]) // counts[k]) * (1 if sums[k] >= 0 else -1) for k in sums}


def stddev_by(rows, key, value) -> dict:
    """DTrace's stddev(): a count, an int64 (wrapping) sum and a 128-bit (wrapping) sum of
    squares; then sqrt(squares / count - (|sum / count|)²) in 128-bit unsigned arithmetic."""
    state: dict = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        v = value(row)
        entry = state[key(row)]
        entry[0] += 1
        entry[1] = wrap64(entry[1] + v)
        entry[2] = (entry[2] + v * v) % (1 << 128)
    out = {}
    for k, (n, total, squares) in state.items():
        mean = abs(total) // n
        out[k] = math.isqrt((squares // n - mean * mean) % (1 << 128))
    return out


def count_by(rows, key) -> dict:
    out: dict = defaultdict(int)
    for row in rows:
        out[key(row)] += 1
    return dict(out)


def sum_by(rows, key, value) -> dict:
    out: dict = defaultdict(int)
    for row in rows:
        out[key(row)] += value(row)
    return {k: wrap64(s) for k, s in out.items()}


def quantize_by(rows, key, value) -> dict:
    groups: dict = defaultdict(list)
    for row in rows:
        groups[key(row)].append(value(row))
    return {k: buckets(vs) for k, vs in groups.items()}


def entries(record: dict) -> dict:
    """keys tuple -> value (or buckets)."""
    return {tuple(e["keys"]): e.get("value", e.get("buckets")) for e in record["entries"]}


# -- 1. kernel-eligible scripts: kernel == userspace == Python -----------------------------------
def u_of(row):
    return row[2]


# name -> (program, {aggregation: expected(rows, pid)})
ELIGIBLE = {
    "count by k": ("kt:::val { @c[arg1] = count(); }",
                   {"@c": lambda rows, pid: count_by(rows, lambda r: (r[1],))}),
    "sum(v) by k": ("kt:::val { @s[args[1]] = sum(arg0); }",
                    {"@s": lambda rows, pid: sum_by(rows, lambda r: (r[1],), lambda r: r[0])}),
    "quantize(v)": ("kt:::val { @q = quantize(arg0); }",
                    {"@q": lambda rows, pid: quantize_by(rows, lambda r: (), lambda r: r[0])}),
    "quantize(v) by k": ("kt:::val { @q[arg1] = quantize(args[0]); }",
                         {"@q": lambda rows, pid: quantize_by(rows, lambda r: (r[1],),
                                                              lambda r: r[0])}),
    "count by pid, tid": ("kt:::val { @p[pid, tid] = count(); @t[tid] = count(); }",
                          {"@p": lambda rows, pid: {(pid, pid): len(rows)},
                           "@t": lambda rows, pid: {(pid,): len(rows)}}),
    "predicate": ("kt:::val /arg1 >= 0 && arg0 != 7/ { @c[arg1] = count(); @s = sum(arg0); }",
                  {"@c": lambda rows, pid: count_by([r for r in rows if r[1] >= 0 and r[0] != 7],
                                                    lambda r: (r[1],)),
                   "@s": lambda rows, pid: sum_by([r for r in rows if r[1] >= 0 and r[0] != 7],
                                                  lambda r: (), lambda r: r[0])}),
    "two clauses": ("kt:::val /args[1] < 0/ { @neg[arg1] = count(); @all = count(); } "
                    "kt:::val { @all = count(); @q[args[2]] = quantize(arg1); }",
                    {"@neg": lambda rows, pid: count_by([r for r in rows if r[1] < 0],
                                                        lambda r: (r[1],)),
                     "@all": lambda rows, pid: {(): len(rows) + sum(r[1] < 0 for r in rows)},
                     "@q": lambda rows, pid: quantize_by(rows, lambda r: (u_of(r),),
                                                         lambda r: r[1])}),
    "constant keys": ("kt:::val { @c[1, 'x', -5] = count(); @s[42] = sum(arg1); "
                      "@q[0x10] = quantize(-3); }",
                      {"@c": lambda rows, pid: {(1, ord("x"), -5): len(rows)},
                       "@s": lambda rows, pid: {(42,): sum(r[1] for r in rows)},
                       "@q": lambda rows, pid: {(16,): [[-2, len(rows)]]}}),
    # strings read by the kernel; a hit whose string page is not in memory yet goes to
    # userspace whole, so the totals must still be exact
    "string keys": ("kt:::named { @c[copyinstr(arg0)] = count(); "
                    "@s[copyinstr(arg0), arg1] = sum(arg1); }",
                    {"@c": lambda rows, pid: count_by(rows, lambda r: (NAMES[r[1] & 3],)),
                     "@s": lambda rows, pid: sum_by(rows, lambda r: (NAMES[r[1] & 3], r[1]),
                                                    lambda r: r[1])}),
    "avg(v) by k": ("kt:::val /arg1 != 0/ { @a[arg1] = avg(arg0); @b = avg(args[2]); }",
                    {"@a": lambda rows, pid: avg_by([r for r in rows if r[1] != 0],
                                                    lambda r: (r[1],), lambda r: r[0]),
                     "@b": lambda rows, pid: avg_by([r for r in rows if r[1] != 0],
                                                    lambda r: (), u_of)}),
    # squares past 64 bits (v up to INT64_MAX), and a sum that wraps: as DTrace computes
    "stddev": ("kt:::val { @d[arg1] = stddev(arg0); @u = stddev(args[2]); "
               "@small[arg1] = stddev(arg1 * 1000 + 7); }",
               {"@d": lambda rows, pid: stddev_by(rows, lambda r: (r[1],), lambda r: r[0]),
                "@u": lambda rows, pid: stddev_by(rows, lambda r: (), u_of),
                "@small": lambda rows, pid: stddev_by(rows, lambda r: (r[1],),
                                                      lambda r: r[1] * 1000 + 7)}),
    "sum(u) by u": ("kt:::val { @u[args[2]] = sum(args[2]); @n[args[2]] = count(); }",
                    {"@u": lambda rows, pid: sum_by(rows, lambda r: (u_of(r),), u_of),
                     "@n": lambda rows, pid: count_by(rows, lambda r: (u_of(r),))}),
    # arithmetic in 64-bit registers, as DTrace's: argN are int64; args[1] is an int (32
    # bits, signed); args[2] an unsigned int, and args[2] * 5 goes past 32 bits unwrapped
    "arithmetic": ("kt:::val /arg1 * 2 + 1 != 3/ { @s[arg1 * 3 + 1] = sum(arg0 * 2 - arg1); "
                   "@x[args[1] & 1, args[1] ^ -2] = count(); @q = quantize(args[2] * 5); }",
                   {"@s": lambda rows, pid: sum_by([r for r in rows if r[1] != 1],
                                                   lambda r: (r[1] * 3 + 1,),
                                                   lambda r: wrap64(r[0] * 2 - r[1])),
                    "@x": lambda rows, pid: count_by([r for r in rows if r[1] != 1],
                                                     lambda r: (r[1] & 1, r[1] ^ -2)),
                    "@q": lambda rows, pid: quantize_by([r for r in rows if r[1] != 1],
                                                        lambda r: (),
                                                        lambda r: u_of(r) * 5)}),
    # strings compared in the kernel: equal, different, a prefix of a longer one
    "string predicates": ('kt:::named /copyinstr(arg0) != "beta"/ { @c[arg1] = count(); } '
                          'kt:::named /"gamma" == copyinstr(arg0) && arg1 > 0/ { @g = count(); } '
                          'kt:::named /copyinstr(arg0) == "alp"/ { @prefix = count(); }',
                          {"@c": lambda rows, pid: count_by([r for r in rows if (r[1] & 3) != 1],
                                                            lambda r: (r[1],)),
                           "@g": lambda rows, pid: {(): sum(1 for r in rows
                                                             if NAMES[r[1] & 3] == "gamma"
                                                             and r[1] > 0)}}),
    # division and remainder by constants (C: truncated toward zero; args[2] / 7 is unsigned
    # int division), arithmetic and logical shifts
    "division and shifts": ("kt:::val { @q[arg1 / 2] = sum(arg0 / 1000); "
                            "@r[args[1] % 3] = sum(arg0 % 1000); @h = sum(arg0 >> 5); "
                            "@u = sum(args[2] / 7); @w = sum(args[3] >> 60); }",
                            {"@q": lambda rows, pid: sum_by(rows, lambda r: (c_div(r[1], 2),),
                                                            lambda r: c_div(r[0], 1000)),
                             "@r": lambda rows, pid: sum_by(rows, lambda r: (c_rem(r[1], 3),),
                                                            lambda r: c_rem(r[0], 1000)),
                             "@h": lambda rows, pid: sum_by(rows, lambda r: (),
                                                            lambda r: r[0] >> 5),
                             "@u": lambda rows, pid: sum_by(rows, lambda r: (),
                                                            lambda r: u_of(r) // 7),
                             "@w": lambda rows, pid: sum_by(
                                 rows, lambda r: (), lambda r: (r[0] & ((1 << 64) - 1)) >> 60)}),
    # division by expressions: a hit whose divisor is 0 (k cycles through 0) goes to
    # userspace whole, where the predicate keeps it from dividing; k + 4 is never 0
    "division by expressions": ("kt:::val /arg1 != 0/ { @q[arg1] = sum(arg0 / arg1); } "
                                "kt:::val { @r[args[1]] = sum(args[2] % (args[1] + 4)); "
                                "@m = count(); }",
                                {"@q": lambda rows, pid: sum_by([r for r in rows if r[1]],
                                                                lambda r: (r[1],),
                                                                lambda r: c_div(r[0], r[1])),
                                 "@r": lambda rows, pid: sum_by(rows, lambda r: (r[1],),
                                                                lambda r: u_of(r) % (r[1] + 4)),
                                 "@m": lambda rows, pid: {(): len(rows)}}),
    "min and max": ("kt:::val { @mn[arg1] = min(arg0); @mx[arg1] = max(arg0); "
                    "@u = max(args[2]); @m = min(arg0 * 3); }",
                    {"@mn": lambda rows, pid: extreme_by(min, rows, lambda r: (r[1],),
                                                         lambda r: r[0]),
                     "@mx": lambda rows, pid: extreme_by(max, rows, lambda r: (r[1],),
                                                         lambda r: r[0]),
                     "@u": lambda rows, pid: extreme_by(max, rows, lambda r: (), u_of),
                     "@m": lambda rows, pid: extreme_by(min, rows, lambda r: (),
                                                        lambda r: wrap64(3 * r[0]))}),
    "llquantize": ("kt:::val { @l[arg1] = llquantize(arg1 * 300 + 320, 10, 0, 2, 10); "
                   "@w = llquantize(arg0, 10, 0, 2, 10); }",
                   {"@l": lambda rows, pid: bucketed_by(rows, lambda r: (r[1],),
                                                        lambda r: r[1] * 300 + 320, LLQ_BOUNDS),
                    "@w": lambda rows, pid: bucketed_by(rows, lambda r: (), lambda r: r[0],
                                                        LLQ_BOUNDS)}),
    "lquantize": ("kt:::val { @l[arg1] = lquantize(arg1 * 100 + 50, -250, 250, 100); "
                  "@w = lquantize(arg0, -100000, 100000, 25000); }",
                  {"@l": lambda rows, pid: lquantize_by(rows, lambda r: (r[1],),
                                                        lambda r: r[1] * 100 + 50,
                                                        -250, 250, 100),
                   "@w": lambda rows, pid: lquantize_by(rows, lambda r: (), lambda r: r[0],
                                                        -100000, 100000, 25000)}),
    # thread-local variables in the kernel: set, read in predicates and sums, freed by 0
    "thread variables": ("kt:::val { self->v = arg0 * 2; } "
                         "kt:::val /self->v > 0/ { @pos[arg1] = sum(self->v); self->v = 0; } "
                         "kt:::val /self->v/ { @neg = count(); }",
                         {"@pos": lambda rows, pid: sum_by(
                             [r for r in rows if wrap64(2 * r[0]) > 0], lambda r: (r[1],),
                             lambda r: wrap64(2 * r[0])),
                          "@neg": lambda rows, pid: {
                              (): sum(1 for r in rows if wrap64(2 * r[0]) < 0)}}),
}


def _drop_program_output(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("pid="))


@pytest.mark.parametrize("name", list(ELIGIBLE))
def test_kernel_equals_userspace_and_python(kt, values, name):
    ensure_tracefs()
    program, expected = ELIGIBLE[name]
    command = f"{kt} list {N}"
    kernel, user = both("-c", command, "-e", program)
    assert kernel.returncode == 0 and user.returncode == 0, (kernel.stderr, user.stderr)
    clauses = program.count("kt:::")
    assert f"matched 1 probe (1 {NOTICE}, {clauses} of {clauses} clause" in kernel.stderr, \
        kernel.stderr
    assert NOTICE not in user.stderr, user.stderr
    assert "lost" not in kernel.stderr + user.stderr
    for result in (kernel, user):               # nothing but the notice and the program's pid
        extra = [line for line in result.stderr.splitlines()
                 if not line.startswith(("pid=", "usdtgen: description "))]
        assert not extra, result.stderr
    assert kernel.stdout.strip(), "nothing printed"
    if "pid" in program or "tid" in program:     # keys differ by the children's pids
        kernel_text = without_pid(kernel.stdout, kernel.stderr)
        user_text = without_pid(user.stdout, user.stderr)
    else:                       # (a pid such as 32768 may equal a bucket: leave numbers alone)
        kernel_text, user_text = kernel.stdout, user.stdout
    assert kernel_text == user_text, f"kernel:\n{kernel.stdout}\nuserspace:\n{user.stdout}"

    # the same values in JSON, both paths, against Python's own computation
    kernel, user = both("--json", "-c", command, "-e", program)
    for path, result in (("kernel", kernel), ("userspace", user)):
        assert result.returncode == 0, result.stderr
        pid = int(re.search(r"pid=(\d+)", result.stderr)[1])
        aggs = json_aggregations(result.stdout)
        for aggregation, want in expected.items():
            assert aggregation in aggs, f"{path}: {aggregation} not printed: {sorted(aggs)}"
            got = entries(aggs[aggregation])
            assert got == want(values, pid), f"{path} {aggregation}: {got} != {want(values, pid)}"


def test_quantize_buckets_reach_every_magnitude(kt, values):
    """The list spans the quantize range: buckets from -2^62 to 2^62, 0 included."""
    labels = {label for label, _ in buckets(r[0] for r in values)}
    assert {0, 1, -1, 1 << 62, -(1 << 62), 1 << 40, -(1 << 40), 1024, -1024} <= labels
    assert len(labels) > 100


def test_quantize_extremes(kt):
    """quantize(INT64_MIN), and a uint64_t 2^63 (DTrace quantizes int64_t values): both in
    the lowest bucket, -2^62, as in DTrace (whose lowest bucket takes everything below)."""
    ensure_tracefs()
    program = "kt:::val { @v = quantize(args[0]); @w = quantize(args[3]); @a = quantize(arg3); }"
    kernel, user = both("--json", "-c", f"{kt} extremes", "-e", program)
    for path, result in (("kernel", kernel), ("userspace", user)):
        assert result.returncode == 0, result.stderr
        aggs = json_aggregations(result.stdout)
        got = {name: entries(aggs[name]) for name in ("@v", "@w", "@a")}
        assert got == {name: {(): [[-(1 << 62), 1]]} for name in ("@v", "@w", "@a")}, \
            f"{path}: {got}"


UNSIGNED = {
    # int k vs unsigned int u: compared unsigned, as 64-bit registers (DTrace's): a
    # negative k is above every u
    "/args[1] < args[2]/": lambda r: (r[1] & ((1 << 64) - 1)) < r[2],
    # nothing is above -1 compared unsigned
    "/args[2] > -1/": lambda r: False,
    # a uint64_t compared with a constant: unsigned (w = v's bits)
    "/args[3] > 4/": lambda r: (r[0] & ((1 << 64) - 1)) > 4,
    # argN is int64_t in D, whatever the argument's declared type
    "/arg3 < 0/": lambda r: r[0] < 0,
}


@pytest.mark.parametrize("predicate", list(UNSIGNED))
def test_unsigned_comparisons(kt, values, predicate):
    """Comparisons are signed or unsigned by C's conversions of the types, of 64-bit values
    (as DTrace's registers hold them), on both paths."""
    ensure_tracefs()
    program = f"kt:::val {predicate} {{ @c = count(); }}"
    kernel, user = both("--json", "-c", f"{kt} list {N}", "-e", program)
    want = sum(1 for r in values if UNSIGNED[predicate](r))
    for path, result in (("kernel", kernel), ("userspace", user)):
        assert result.returncode == 0, result.stderr
        got = entries(json_aggregations(result.stdout)["@c"]).get((), 0)
        assert got == want, f"{path}: {predicate} passed {got} hits, DTrace's rules {want}"


# -- 2. no loss at a high rate ------------------------------------------------------------------
def test_no_loss_at_two_million_hits(kt):
    ensure_tracefs()
    hits = 2_000_000
    result = trace("--json", "-c", f"{kt} fast {hits}",
                   "-e", "kt:::val { @c = count(); @k[arg1] = count(); }", timeout=120)
    assert result.returncode == 0, result.stderr
    assert "events lost" not in result.stderr, result.stderr
    aggs = json_aggregations(result.stdout)
    assert entries(aggs["@c"]) == {(): hits}
    assert entries(aggs["@k"]) == {(k,): hits // 4 for k in range(4)}
    plain = trace("-c", f"{kt} fast 10", "-e", "kt:::val { @c = count(); }")
    assert f"(1 {NOTICE}, " in plain.stderr, plain.stderr


# -- 3. scripts that are not eligible fall back to userspace -------------------------------------
FALLBACK = {
    "string ordering": ('kt:::named /copyinstr(arg0) < "beta"/ { @c[arg1] = count(); }',
                        lambda rows: count_by([r for r in rows if NAMES[r[1] & 3] < "beta"],
                                              lambda r: (r[1],))),
    # (a divisor read twice, when checked and when used, must not change in between)
    "division by timestamp": ("kt:::val { @c[arg1] = avg((arg1 + 3) * 10 / "
                              "(timestamp | 1)); }",
                              lambda rows: {(k,): 0 for k in range(-3, 4)}),
    # (the site's own clauses set the variable: it may change between check and use)
    "division by a variable set here": ("kt:::val { self->d = arg1 + 4; "
                                        "@c[arg1] = avg(arg1 * 10 / self->d); }",
                                        lambda rows: {(k,): c_div(10 * k, k + 4)
                                                      for k in range(-3, 4)}),
    "or predicate": ("kt:::val /arg1 < 0 || arg0 == 7/ { @c[arg1] = count(); }",
                     lambda rows: count_by([r for r in rows if r[1] < 0 or r[0] == 7],
                                           lambda r: (r[1],))),
    "printf": ('kt:::val { @c[arg1] = count(); printf(""); }',
               lambda rows: count_by(rows, lambda r: (r[1],))),
    "one clause of two": ("kt:::val { @c[arg1] = count(); } kt:::val /arg1 == 0/ { n++; }",
                          lambda rows: count_by(rows, lambda r: (r[1],))),
}


@pytest.mark.parametrize("name", list(FALLBACK))
def test_not_eligible_falls_back(kt, values, name):
    ensure_tracefs()
    program, want = FALLBACK[name]
    text = trace("-c", f"{kt} list {N}", "-e", program)
    assert text.returncode == 0, text.stderr
    assert re.search(r"matched 1 probe$", text.stderr, re.M), text.stderr
    assert NOTICE not in text.stderr, text.stderr
    result = trace("--json", "-c", f"{kt} list {N}", "-e", program)
    assert result.returncode == 0, result.stderr
    assert "lost" not in result.stderr
    assert entries(json_aggregations(result.stdout)["@c"]) == want(values)


def test_zero_divisor_reported_as_in_userspace(kt, values):
    """A hit whose divisor is 0 goes to userspace whole: the same divide-by-zero error per
    such hit, and the same aggregations (the faulting clause's hits not added), as the
    userspace path; the other clause and the rest of the hits stay in the kernel."""
    ensure_tracefs()
    program = ("kt:::val { @z[arg1] = sum(arg0 / arg1); @n = count(); } "
               "kt:::val /arg1 == 0/ { @zero = count(); }")
    kernel, user = both("-c", f"{kt} list {N}", "-e", program)
    assert f"1 {NOTICE}, 2 of 2 clauses" in kernel.stderr, kernel.stderr
    zeros = sum(1 for row in values if row[1] == 0)
    assert zeros > 100
    for result in (kernel, user):
        errors = [line for line in result.stderr.splitlines() if "divide-by-zero" in line]
        assert len(errors) == zeros, result.stderr[:2000]
    assert kernel.stdout == user.stdout
    sums = sum_by([r for r in values if r[1]], lambda r: (r[1],), lambda r: c_div(r[0], r[1]))
    got = entries(json_aggregations(trace("--json", "-c", f"{kt} list {N}", "-e",
                                          program).stdout)["@z"])
    assert got == {key: value for key, value in sums.items()}


# -- 4. -p and system-wide targets, semaphores --------------------------------------------------
def _start_watch(procs, kt) -> tuple[subprocess.Popen, Lines]:
    proc = procs.start([kt, "watch"], stdout=subprocess.PIPE, text=True)
    lines = Lines(proc.stdout)
    lines.wait(lambda ls: any(line.startswith("E=0") for line in ls), 10, "kt watch to start")
    return proc, lines


def fired(line: str) -> int:
    return int(line.split("F=")[1])


def assert_disabled_again(lines: Lines, after: int) -> None:
    lines.wait(lambda ls: len(ls[after:]) >= 8, 10, "more lines from kt watch")
    tail = lines.snapshot()[after:][-4:]
    assert all(line.startswith("E=0 ") for line in tail), \
        f"the semaphore is still raised: {tail}"
    assert len({fired(line) for line in tail}) == 1, f"the probe still fires: {tail}"


@pytest.mark.parametrize("mode", ["-p", "path"])
def test_pid_and_system_wide(kt, mode):
    ensure_tracefs()
    program = "kt:::val { @c[arg1] = count(); @all = count(); }"
    with Processes() as procs:
        prog, lines = _start_watch(procs, kt)
        before = fired(lines.snapshot()[-1])
        target = ["-p", prog.pid] if mode == "-p" else [kt]
        result = trace("--json", "--duration", "1.5", *target, "-e", program)
        assert result.returncode == 0, result.stderr
        after = len(lines.snapshot())
        assert_disabled_again(lines, after)
        seen = lines.snapshot()
        assert any(line.startswith("E=1") for line in seen), "the probe was never enabled"
        total = fired(seen[-1]) - before
        assert prog.poll() is None, "the traced process died"
        # the notice (not in --json): the same trace once more, shorter
        text = trace("--duration", "0.3", *target, "-e", program)
        assert f"(1 {NOTICE}, " in text.stderr, text.stderr
        assert_disabled_again(lines, len(lines.snapshot()))
        prog.kill()
    aggs = json_aggregations(result.stdout)
    counted = entries(aggs["@all"])[()]
    by_k = entries(aggs["@c"])
    # ~150 rounds of 100 hits while enabled; hits fired while the probe was armed but before
    # the program was attached (or after it was detached) may be missing, at most a round's
    assert 5000 <= counted <= total, (counted, total)
    assert sum(by_k.values()) == counted and set(by_k) <= {(k,) for k in range(4)}
    assert max(by_k.values()) - min(by_k.values()) <= 1, by_k


@pytest.mark.parametrize("kernel", [True, False], ids=["kernel", "userspace"])
def test_tick_printa_clear(kt, values, kernel):
    """tick-1sec { printa(@c); clear(@c); } over ~3 s of hits: the printed counts of each key
    sum to its total, and clear() keeps the keys (at 0 until hit again)."""
    ensure_tracefs()
    n = 2500
    program = ("kt:::val { @c[arg1] = count(); } tick-1sec { printa(@c); clear(@c); } "
               "END { printa(@c); }")
    flags = [] if kernel else ["--no-kernel-aggregation"]
    result = trace(*flags, "--json", "-c", f"{kt} paced {n}", "-e", program, timeout=60)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()
               if line.startswith("{")]
    blocks = [entries(r) for r in records if r["type"] == "aggregation" and r["name"] == "@c"]
    assert len(blocks) >= 3, f"{len(blocks)} printa blocks: {blocks}"
    totals: dict = defaultdict(int)
    for block in blocks:
        for key, value in block.items():
            totals[key] += value
    want = count_by(values[:n], lambda r: (r[1],))
    assert dict(totals) == want, (dict(totals), want)
    keys = [set(block) for block in blocks]
    for earlier, later in zip(keys, keys[1:]):
        assert earlier <= later, f"clear() dropped keys: {earlier - later}"
    assert keys[-1] == set(want)
    assert sum(1 for block in blocks if sum(block.values())) >= 2, blocks

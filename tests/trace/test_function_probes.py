"""Function-boundary probes in D scripts (DTrace's pid provider): ``pid$target:MODULE:
FUNCTION:entry`` with the arguments of the calling convention, ``:return`` with the return
value in arg1, instruction offsets; in the program (-O0, -O2, PIE and not) and in a shared
library. What the program computed is the oracle, and bpftrace's uprobe/uretprobe counts
on the same program are the peer's. Nothing is left in tracefs after each test.
"""
from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from conftest import (compile_program, ensure_tracefs, no_uprobe_events_left_after,
                      require_tool, trace_to_end)

LIBRARY = r"""
__attribute__((noinline)) long lib_scale(long value, long factor) { return value * factor; }
"""
PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>

long lib_scale(long value, long factor);

__attribute__((noinline)) long add3(long a, long b, long c) { return a + b + c; }
__attribute__((noinline)) int eight(int a, int b, int c, int d, int e, int f, int g, int h)
{ return a + b + c + d + e + f + g + h; }

int main(int argc, char **argv)
{
  int rounds = atoi(argv[1]);
  for (int i = 0; i < rounds; i++) {
    long sum = add3(i, 10 * i, 100);
    long scaled = lib_scale(sum, 3);
    printf("add3 %d %d 100 = %ld; scaled %ld\n", i, 10 * i, sum, scaled);
  }
  printf("eight = %d\n", eight(1, 2, 3, 4, 5, 6, 7, 8));
  return 0;
}
"""
ROUNDS = 5
SCRIPT = """
pid$target:a.out:add3:entry { printf("entry %s %s %d %d %d\\n", probemod, probefunc, arg0,
                                     arg1, arg2); }
pid$target:a.out:add3:return { printf("return %s %d\\n", probefunc, arg1); }
pid$target:libscale.so:lib_scale:return { printf("scaled %d\\n", arg1); }
pid$target::eight:entry { printf("args8 %d %d %d %d\\n", arg0, arg5, arg6, arg7); }
"""


@pytest.fixture(autouse=True)
def no_uprobe_events_left():
    yield from no_uprobe_events_left_after()


def build(folder: Path, flags: tuple[str, ...]) -> Path:
    """The program, linked to libscale.so next to it (found through its run path)."""
    cc = require_tool("gcc")
    subprocess.run([cc, "-O2", "-fPIC", "-shared", "-x", "c", "-", "-o",
                    str(folder / "libscale.so")], input=LIBRARY, text=True, check=True)
    return compile_program(folder, PROGRAM, output="calc", flags=(*flags, f"-Wl,-rpath,{folder}"),
                           extra_sources=(folder / "libscale.so",))


def expected_lines(program_output: str) -> list[str]:
    lines = []
    for a, b, total, scaled in re.findall(r"add3 (\d+) (\d+) 100 = (\d+); scaled (\d+)",
                                             program_output):
        lines += [f"entry calc add3 {a} {b} 100", f"return add3 {total}", f"scaled {scaled}"]
    return lines + ["args8 1 6 7 8"]


@pytest.mark.parametrize("flags", [("-O0",), ("-O2",), ("-O2", "-no-pie"), ("-O2", "-fPIE",
                                                                           "-pie")],
                         ids=["O0", "O2", "O2-no-pie", "O2-pie"])
def test_entry_arguments_and_return_values_are_what_the_program_computed(tmp_path, flags):
    ensure_tracefs()
    program = build(tmp_path, flags)
    result = trace_to_end("-q", "-e", SCRIPT, "-c", f"{program} {ROUNDS}")
    assert result.returncode == 0, result.stderr
    program_lines = [line for line in result.stdout.splitlines()
                     if line.startswith(("add3 ", "eight ="))]
    traced = [line for line in result.stdout.splitlines()
              if line.startswith(("entry ", "return ", "scaled ", "args8 "))]
    assert len(program_lines) == ROUNDS + 1
    assert sorted(traced) == sorted(expected_lines("\n".join(program_lines)))


def test_counts_agree_with_bpftrace(tmp_path):
    ensure_tracefs()
    bpftrace = require_tool("bpftrace")
    program = build(tmp_path, ("-O2",))
    rounds = 50
    ours = trace_to_end("-q", "-e", "pid$target::add3:entry { @[probefunc, probename] = "
                        "count(); } pid$target:libscale.so:lib_scale:return "
                        "{ @[probefunc, probename] = count(); }", "-c", f"{program} {rounds}")
    assert ours.returncode == 0, ours.stderr
    counts = {tuple(m[:2]): int(m[2]) for m in
              re.findall(r"^\s+(\w+)\s+(entry|return)\s+(\d+)$", ours.stdout, re.M)}
    peer = subprocess.run(
        [bpftrace, "-e", f"uprobe:{program}:add3 {{ @a = count(); }} "
         f"uretprobe:{tmp_path}/libscale.so:lib_scale {{ @b = count(); }}", "-c",
         f"{program} {rounds}"], capture_output=True, text=True, timeout=60)
    assert peer.returncode == 0, peer.stderr
    theirs = dict(re.findall(r"^@(\w): (\d+)$", peer.stdout, re.M))
    assert counts == {("add3", "entry"): rounds, ("lib_scale", "return"): rounds}
    assert (int(theirs["a"]), int(theirs["b"])) == (rounds, rounds)


def test_instruction_offset_probe_and_globs(tmp_path):
    ensure_tracefs()
    program = build(tmp_path, ("-O2",))
    # offset 0 is the entry; 'add*' and 'eig?t' are globs over the program's functions
    result = trace_to_end("-q", "-e", "pid$target:a.out:add*:0 { @[probefunc, probename] = "
                          "count(); } pid$target:a.out:eig?t:entry { @[probefunc, probename] = "
                          "count(); }", "-c", f"{program} 3")
    assert result.returncode == 0, result.stderr
    rows = Counter({(f, n): int(c) for f, n, c in
                    re.findall(r"^\s+(\w+)\s+(\w+)\s+(\d+)$", result.stdout, re.M)})
    assert rows == {("add3", "0"): 3, ("eight", "entry"): 1}


@pytest.mark.parametrize("description, message", [
    ("pid$target::add3:middle", "a function probe is 'entry', 'return' or an instruction "
                                "offset in hex"),
    ("syscall::read:entry", "only USDT probes, function probes"),
])
def test_bad_function_descriptions_are_one_line_errors(tmp_path, description, message):
    result = subprocess.run(["usdtgen", "trace", "-e", f"{description} {{ }}", "-c", "true"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr

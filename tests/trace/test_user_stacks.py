"""User stacks in D scripts: ``@[ustack()] = count()`` on a USDT probe reached through three
call paths gives three keys, each with the frames of its path, named ``module`function+0x..``
as DTrace prints them, even though the program has exited when they are printed (frames are
recorded as build ID and file offset); ``ustack()`` as an action and in ``--json``;
``ufunc()``/``umod()``/``uaddr()`` of a function pointer (named from the process's mappings,
so while it runs); bpftrace's ``ustack`` on the same
program sees as many distinct stacks, of the same depths and counts.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from conftest import (compile_program, ensure_tracefs, no_uprobe_events_left_after,
                      require_tool, trace_to_end, write_header)

PROVIDER = "provider st { probe hit(int path, void *fn); };\n"
PROGRAM = r"""
#include <stdlib.h>
#include <unistd.h>
#include "probes.h"

__attribute__((noinline)) void leaf(int path) { ST_HIT(path, (void *)leaf); getpid(); }
__attribute__((noinline)) void via_a(void) { leaf(1); getpid(); }
__attribute__((noinline)) void via_b(void) { leaf(2); getpid(); }
__attribute__((noinline)) void via_c(void) { via_a(); getpid(); }

int main(int argc, char **argv)
{
  int rounds = atoi(argv[1]);
  for (int i = 0; i < rounds; i++) {
    via_a();
    via_b();
    via_c();
  }
  usleep(300000);          /* alive while its events are read: ufunc() needs its mappings */
  return 0;
}
"""
ROUNDS = 4
PATHS = [["leaf", "via_a", "main"], ["leaf", "via_b", "main"], ["leaf", "via_a", "via_c", "main"]]


@pytest.fixture(autouse=True)
def no_uprobe_events_left():
    yield from no_uprobe_events_left_after()


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    ensure_tracefs()
    folder = tmp_path_factory.mktemp("stacks")
    write_header(folder, PROVIDER)
    # frame pointers, so that the kernel can walk the stack, as any stack tracer needs
    return compile_program(folder, PROGRAM, output="paths",
                           flags=("-O0", "-fno-omit-frame-pointer"))


def stacks_of(output: str) -> list[tuple[list[str], int]]:
    """(frames, count) of each key of a printed ``@[ustack()] = count()``."""
    found = []
    for block in output.split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip()]
        if lines and re.fullmatch(r"\s+\d+", lines[-1]):
            found.append(([line.strip() for line in lines[:-1]], int(lines[-1])))
    return found


def test_three_call_paths_give_three_stacks_with_their_frames(program):
    result = trace_to_end("-q", "-e", "st:::hit { @[ustack()] = count(); }",
                          "-c", f"{program} {ROUNDS}")
    assert result.returncode == 0, result.stderr
    stacks = stacks_of(result.stdout)
    assert len(stacks) == 3 and all(count == ROUNDS for _, count in stacks)
    paths = []
    for frames, _ in stacks:
        assert all(re.fullmatch(r"\S+`(\w+(\+0x[0-9a-f]+)?|0x[0-9a-f]+)", f) for f in frames)
        ours = [f.split("`")[1].split("+")[0] for f in frames if f.startswith("paths`")]
        paths.append(ours)
        assert frames[0].startswith("paths`leaf")        # innermost first: the probe site
    assert sorted(paths) == sorted(PATHS)
    # DTrace's layout: a blank line, each frame indented 14 spaces, the count below
    assert re.search(r"\n\n {14}paths`leaf\+0x[0-9a-f]+\n {14}paths`via_b\+0x[0-9a-f]+\n",
                     result.stdout)


def test_ustack_action_json_and_symbol_functions(program):
    result = trace_to_end("-q", "-e", "st:::hit /arg0 == 2/ { ustack(2); "
                          'printf("[%s] [%s] [%s]\\n", ufunc(arg1), umod(arg1), uaddr(arg1 + 3));'
                          " exit(0); }", "-c", f"{program} 1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(r" {14}paths`leaf\+0x[0-9a-f]+", lines[1])
    assert re.fullmatch(r" {14}paths`via_b\+0x[0-9a-f]+", lines[2])
    assert "[paths`leaf] [paths] [paths`leaf+0x3]" in lines
    result = trace_to_end("--json", "-e", "st:::hit /arg0 == 1/ { @[ustack(3)] = count(); }",
                          "-c", f"{program} 2")
    aggregation = next(json.loads(line) for line in result.stdout.splitlines()
                       if '"aggregation"' in line)
    keys = sorted(entry["keys"][0][1] for entry in aggregation["entries"])
    assert [k.split("+")[0] for k in keys] == ["paths`via_a", "paths`via_a"]


def test_as_many_stacks_as_bpftrace_sees(program):
    bpftrace = require_tool("bpftrace")
    ours = stacks_of(trace_to_end("-q", "-e", "st:::hit { @[ustack()] = count(); }",
                                  "-c", f"{program} {ROUNDS}").stdout)
    peer = subprocess.run([bpftrace, "-e", f"usdt:{program}:st:hit {{ @[ustack] = count(); }}",
                           "-c", f"{program} {ROUNDS}"], capture_output=True, text=True,
                          timeout=60)
    assert peer.returncode == 0, peer.stderr
    theirs = [(len(body.split()), int(count)) for body, count in
              re.findall(r"@\[\n(.*?)\n\]: (\d+)", peer.stdout, re.S)]
    assert sorted((len(frames), count) for frames, count in ours) == sorted(theirs)


def test_kernel_and_userspace_aggregate_the_same_stacks(program):
    script = "st:::hit { @[ustack(), arg0] = count(); @n[ustack(2)] = sum(arg0); }"
    kernel = trace_to_end("-e", script, "-c", f"{program} {ROUNDS}")
    assert kernel.returncode == 0, kernel.stderr
    assert "(1 aggregated in the kernel, 1 of 1 clause run there)" in kernel.stderr
    userspace = trace_to_end("--no-kernel-aggregation", "-e", script, "-c",
                             f"{program} {ROUNDS}")
    assert userspace.returncode == 0, userspace.stderr
    assert "aggregated in the kernel" not in userspace.stderr
    assert sorted(kernel.stdout.split("\n\n")) == sorted(userspace.stdout.split("\n\n"))
    # 3 full stacks (with arg0: 1 or 2), and 2 distinct top two frames
    assert kernel.stdout.count("paths`leaf") == 3 + 2


def test_stacks_the_stack_map_cannot_take_are_counted_in_userspace(program, tmp_path):
    # a stack map of one bucket: the first stack takes it, the others' hits go to userspace
    # whole, where they are counted under the same keys
    code = ("import sys, usdtgen.trace.script.run as run; run.STACKS = 1; "
            "from usdtgen.entry import main; sys.exit(main(sys.argv[1:]))")
    full = subprocess.run([sys.executable, "-c", code, "trace", "-q", "-e",
                           "st:::hit { @[ustack()] = count(); }", "-c", f"{program} {ROUNDS}"],
                          capture_output=True, text=True, timeout=60)
    assert full.returncode == 0, full.stderr
    assert "Traceback" not in full.stderr
    stacks = stacks_of(full.stdout)
    assert sorted(frame[0].split("+")[0] for frame, _ in stacks) == ["paths`leaf"] * 3
    assert [count for _, count in stacks] == [ROUNDS] * 3
    assert sorted(len(frames) for frames, _ in stacks) == \
        sorted(len(frames) for frames, _ in stacks_of(trace_to_end(
            "-q", "-e", "st:::hit { @[ustack()] = count(); }", "-c",
            f"{program} {ROUNDS}").stdout))

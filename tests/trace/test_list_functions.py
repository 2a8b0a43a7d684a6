"""``usdtgen list --functions MODULE[:FUNCTION[:NAME]] TARGET | -p PID``: the function probes
of a program, its libraries or a process in ``dtrace -l``'s columns and as JSON; the rows
are the functions ``nm`` and ``bpftrace -l 'uprobe:...'`` see. The click-free fast path of
``usdtgen list`` hands --functions to click. Bad specifications are one-line errors.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import USDTGEN, Processes, compile_program, ensure_tracefs, require, require_tool
from usdtgen.entry import parse_plain_list

LIBRARY = r"""
__attribute__((noinline)) long lib_scale(long value, long factor) { return value * factor; }
__attribute__((noinline)) long lib_shift(long value) { return value << 2; }
"""
PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
long lib_scale(long value, long factor);
__attribute__((noinline)) static long twice(long a) { return 2 * a; }
__attribute__((noinline)) long add3(long a, long b, long c) { return twice(a) + b + c; }
int main(int argc, char **argv)
{
  if (argc > 1)
    sleep(atoi(argv[1]));
  printf("%ld\n", lib_scale(add3(argc, 2, 3), 4));
  return 0;
}
"""
HEADING = "   ID   PROVIDER            MODULE                          FUNCTION NAME"


@pytest.fixture(scope="module")
def program(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("listfn")
    cc = require_tool("gcc")
    subprocess.run([cc, "-O2", "-fPIC", "-shared", "-x", "c", "-", "-o",
                    str(folder / "libscale.so")], input=LIBRARY, text=True, check=True)
    return compile_program(folder, PROGRAM, output="calc", flags=("-O2", f"-Wl,-rpath,{folder}"),
                           extra_sources=(folder / "libscale.so",))


def usdtgen_list(*args, cwd=None) -> subprocess.CompletedProcess:
    require(USDTGEN is not None, "the usdtgen executable is not installed")
    return subprocess.run([USDTGEN, "list", *map(str, args)], capture_output=True, text=True,
                          timeout=60, cwd=cwd)


def table_rows(stdout: str) -> list[tuple[str, ...]]:
    lines = stdout.splitlines()
    assert lines[0] == HEADING
    return [tuple(line.split()) for line in lines[1:]]


def nm_functions(path: Path) -> set[str]:
    out = subprocess.run([require_tool("nm"), "-S", "--defined-only", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return {f[3] for f in (line.split() for line in out.splitlines())
            if len(f) == 4 and f[2] in "Tt"}


def test_program_functions_in_dtrace_columns_are_nm_s(program):
    result = usdtgen_list("--functions", "a.out", program)
    assert result.returncode == 0, result.stderr
    rows = table_rows(result.stdout)
    assert [r[0] for r in rows] == [str(n) for n in range(1, len(rows) + 1)]
    assert {r[1:3] for r in rows} == {("pid", "calc")} and {r[4] for r in rows} == {"entry"}
    assert {r[3] for r in rows} == nm_functions(program)
    # DTrace's widths: ID 5, PROVIDER 10, MODULE 17, FUNCTION 33, then NAME
    line = next(line for line in result.stdout.splitlines() if " add3 " in line)
    assert re.fullmatch(r" {4}\d {8}pid {14}calc {30}add3 entry", line)


def test_libraries_of_a_program_globs_and_names(program):
    result = usdtgen_list("--functions", "libsc*:lib_*:*", program)
    assert result.returncode == 0, result.stderr
    assert [r[1:] for r in table_rows(result.stdout)] == [
        ("pid", "libscale.so", "lib_scale", "entry"), ("pid", "libscale.so", "lib_scale", "return"),
        ("pid", "libscale.so", "lib_shift", "entry"), ("pid", "libscale.so", "lib_shift", "return")]
    # an empty name matches any, as in a DTrace probe description
    empty = usdtgen_list("--functions", "libsc*:lib_*:", program)
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout == result.stdout
    # a program named without a '/', found in the current directory; its libc too
    result = usdtgen_list("--functions", "libc.so*:malloc:return", "calc", cwd=program.parent)
    assert result.returncode == 0, result.stderr
    assert [r[1:] for r in table_rows(result.stdout)] == [("pid", "libc.so.6", "malloc",
                                                           "return")]


def test_same_functions_as_bpftrace_lists(program):
    bpftrace = require_tool("bpftrace")
    peer = subprocess.run([bpftrace, "-l", f"uprobe:{program.parent}/libscale.so:*"],
                          capture_output=True, text=True, timeout=60)
    assert peer.returncode == 0, peer.stderr
    theirs = {line.rsplit(":", 1)[1] for line in peer.stdout.splitlines() if line}
    result = usdtgen_list("--functions", f"{program.parent}/libscale.so", program)
    ours = {r[3] for r in table_rows(result.stdout)}
    assert ours == theirs & nm_functions(program.parent / "libscale.so")
    assert {"lib_scale", "lib_shift"} <= ours


def test_json(program):
    result = usdtgen_list("--json", "--functions", "a.out:add3:*", program)
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    nm = subprocess.run([require_tool("nm"), str(program)], capture_output=True, text=True,
                        check=True).stdout
    symbol = int(next(line.split()[0] for line in nm.splitlines() if line.endswith(" add3")), 16)
    assert [(o["id"], o["provider"], o["module"], o["function"], o["name"]) for o in objects] \
        == [(1, "pid", "calc", "add3", "entry"), (2, "pid", "calc", "add3", "return")]
    assert objects[0]["path"] == str(program)
    assert objects[0]["address"] == objects[1]["address"] == symbol
    assert objects[0]["file_offset"] is not None


def test_process_lists_pid_provider_and_its_mapped_files(program):
    ensure_tracefs()              # root: -p reads /proc/PID/map_files
    with Processes() as procs:
        runner = procs.start([program, "30"], stdout=subprocess.DEVNULL)
        for _ in range(100):       # until the library is mapped
            with open(f"/proc/{runner.pid}/maps") as maps:
                if "libscale.so" in maps.read():
                    break
            os.sched_yield()
        result = usdtgen_list("--functions", "a.out:add*", "-p", runner.pid)
        library = usdtgen_list("--functions", "libscale.so:lib_scale:return", "-p", runner.pid)
    assert result.returncode == 0, result.stderr
    assert [r[1:] for r in table_rows(result.stdout)] == [(f"pid{runner.pid}", "calc", "add3",
                                                           "entry")]
    assert [r[1:] for r in table_rows(library.stdout)] == [
        (f"pid{runner.pid}", "libscale.so", "lib_scale", "return")]


def test_the_fast_path_hands_functions_to_click(program):
    assert parse_plain_list(["list", "--functions", "a.out", str(program)]) is None
    assert parse_plain_list(["list", "--functions=a.out", str(program)]) is None
    assert parse_plain_list(["list", str(program), "--functions", "a.out"]) is None
    result = usdtgen_list(program, "--functions=a.out:main")
    assert result.returncode == 0 and table_rows(result.stdout)[0][3] == "main"


@pytest.mark.parametrize("args, status, message", [
    (("--functions", "a:b:c:d"), 2, "usdtgen: error: --functions 'a:b:c:d': more than 3 fields"),
    (("--functions", "a.out:main:middle"), 2, "'middle' is not 'entry', 'return'"),
    (("--functions", "a.out:nothing_here"), 1, "usdtgen: no function probe matches "
                                               "a.out:nothing_here"),
    (("--functions", "a.out", "-v"), 2, "--functions lists with the table or --json"),
])
def test_errors_are_short(program, args, status, message):
    result = usdtgen_list(*args, program)
    assert result.returncode == status
    assert message in result.stderr and "Traceback" not in result.stderr
    if status == 1:
        assert result.stderr.count("\n") == 1

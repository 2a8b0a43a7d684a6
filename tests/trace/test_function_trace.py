"""``usdtgen trace -u MODULE:FUNCTION[:entry|return]``: function entries with the arguments of
the calling convention and returns with the value returned, in the text, --json and -f
outputs, in the program (a.out, a path) and in a shared library (a file name glob), with
and without USDT filters beside them. What the program computed is the oracle, bpftrace's
uprobe count the peer's; bad specifications are one-line errors. Nothing is left in tracefs.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from conftest import (USDTGEN, Processes, compile_program, ensure_tracefs,
                      no_uprobe_events_left_after, require_tool, trace_to_end, write_header)

PROVIDER = "provider calc { probe step(int i); };\n"
LIBRARY = r"""
__attribute__((noinline)) long lib_scale(long value, long factor) { return value * factor; }
"""
PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "probes.h"

long lib_scale(long value, long factor);

__attribute__((noinline)) long add3(long a, long b, long c) { return a + b + c; }
__attribute__((noinline)) int eight(int a, int b, int c, int d, int e, int f, int g, int h)
{ return a + b + c + d + e + f + g + h; }

int main(int argc, char **argv)
{
  int rounds = atoi(argv[1]);
  int pause_ms = argc > 2 ? atoi(argv[2]) : 0;
  for (int i = 0; i < rounds; i++) {
    CALC_STEP(i);
    long sum = add3(i, 10 * i, 100);
    long scaled = lib_scale(sum, 3);
    printf("add3 %d %d 100 = %ld; scaled %ld\n", i, 10 * i, sum, scaled);
    fflush(stdout);
    if (pause_ms)
      usleep(pause_ms * 1000);
  }
  printf("eight = %d\n", eight(1, 2, 3, 4, 5, 6, 7, 8));
  return 0;
}
"""
ROUNDS = 5
ENTRY = re.compile(r"pid:calc:add3:entry arg0=(-?\d+) arg1=(-?\d+) arg2=(-?\d+) arg3=\S+ "
                   r"arg4=\S+ arg5=\S+$")


@pytest.fixture(autouse=True)
def no_uprobe_events_left():
    yield from no_uprobe_events_left_after()


@pytest.fixture(scope="module")
def program(tmp_path_factory) -> Path:
    """The program, linked to libscale.so next to it (found through its run path)."""
    ensure_tracefs()
    folder = tmp_path_factory.mktemp("functrace")
    cc = require_tool("gcc")
    subprocess.run([cc, "-O2", "-fPIC", "-shared", "-x", "c", "-", "-o",
                    str(folder / "libscale.so")], input=LIBRARY, text=True, check=True)
    write_header(folder, PROVIDER)
    return compile_program(folder, PROGRAM, output="calc", flags=("-O2", f"-Wl,-rpath,{folder}"),
                           extra_sources=(folder / "libscale.so",))


def computed(stdout: str) -> list[tuple[int, int, int, int]]:
    """(a, b, sum, scaled) of each round, as the program printed them."""
    return [tuple(map(int, m)) for m in
            re.findall(r"^add3 (\d+) (\d+) 100 = (\d+); scaled (\d+)$", stdout, re.M)]


def test_entry_arguments_and_return_values_in_text(program):
    result = trace_to_end("-q", "-u", "a.out:add3", "-u", "a.out:add3:return",
                          "-u", "libsc*.so:lib_scale:return", "-u", "a.out:eig?t",
                          "-c", f"{program} {ROUNDS}")
    assert result.returncode == 0, result.stderr
    rounds = computed(result.stdout)
    assert len(rounds) == ROUNDS
    lines = result.stdout.splitlines()
    entries = [tuple(map(int, m.groups())) for m in map(ENTRY.search, lines) if m]
    assert entries == [(a, b, 100) for a, b, _, _ in rounds]
    returns = [int(m) for m in re.findall(r"pid:calc:add3:return retval=(-?\d+)$",
                                              result.stdout, re.M)]
    assert returns == [total for _, _, total, _ in rounds]
    scaled = [int(m) for m in re.findall(r"pid:libscale\.so:lib_scale:return retval=(-?\d+)$",
                                         result.stdout, re.M)]
    assert scaled == [s for _, _, _, s in rounds]
    # the six register arguments of eight(1..8): the stack ones are not shown
    assert re.search(r" calc pid:calc:eight:entry arg0=1 arg1=2 arg2=3 arg3=4 arg4=5 arg5=6$",
                     result.stdout, re.M)
    # nothing but the function probes: the program's USDT probe is not traced
    assert "calc:step" not in result.stdout


def test_json_summary_and_format(program):
    result = trace_to_end("--json", "-u", "a.out:add3:*", "-c", f"{program} {ROUNDS}")
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    events = [o for o in objects if o["type"] == "event"]
    rounds = computed(result.stdout)
    assert [e["args"] for e in events if e["probe"] == "calc:add3:return"] == \
        [{"retval": total} for _, _, total, _ in rounds]
    entries = [e for e in events if e["probe"] == "calc:add3:entry"]
    assert [(e["args"]["arg0"], e["args"]["arg1"]) for e in entries] == \
        [(a, b) for a, b, _, _ in rounds]
    assert all(e["provider"] == "pid" and e["comm"] == "calc" for e in events)
    summary = objects[-1]
    assert summary["type"] == "summary" and summary["lost"] == 0
    assert summary["per_probe"] == {"pid:calc:add3:entry": ROUNDS,
                                    "pid:calc:add3:return": ROUNDS}
    formatted = trace_to_end("-q", "-u", "a.out:add3", "-f", "%d+%d+%d\n",
                             "-c", f"{program} 3")
    assert re.findall(r"^(\d+)\+(\d+)\+100$", formatted.stdout, re.M) == \
        [("0", "0"), ("1", "10"), ("2", "20")]


def test_usdt_filters_beside_function_probes(program):
    result = trace_to_end("-q", "-u", f"{program}:add3", "-c", f"{program} 3", "calc:step")
    assert result.returncode == 0, result.stderr
    kinds = re.findall(r" (calc:step|pid:calc:add3:entry) ", result.stdout)
    assert kinds == ["calc:step", "pid:calc:add3:entry"] * 3


def test_a_path_module_alone_traces_every_process_running_it(program):
    with Processes() as procs:
        runner = procs.start([program, "400", "10"], stdout=subprocess.DEVNULL)
        tracer = procs.trace("-u", f"{program}:add3:return", "--duration", "1.5")
        out, err = tracer.communicate(timeout=30)
        runner.kill()
    assert tracer.returncode == 0, err
    values = [int(v) for v in re.findall(r"pid:calc:add3:return retval=(\d+)$", out, re.M)]
    assert len(values) >= 10
    # consecutive rounds i, i+1 return 100 + 11 i: steps of 11
    assert all(b - a == 11 for a, b in zip(values, values[1:]))


def test_entry_counts_equal_bpftrace_uprobe_counts(program, tmp_path):
    bpftrace = require_tool("bpftrace")
    rounds = 40
    ours = trace_to_end("--json", "-q", "-u", "libscale.so:lib_scale", "-c", f"{program} {rounds}")
    summary = json.loads(ours.stdout.splitlines()[-1])
    peer = subprocess.run([bpftrace, "-e", f"uprobe:{program.parent}/libscale.so:lib_scale "
                           "{ @ = count(); }", "-c", f"{program} {rounds}"],
                          capture_output=True, text=True, timeout=60)
    assert peer.returncode == 0, peer.stderr
    assert summary["per_probe"] == {"pid:libscale.so:lib_scale:entry": rounds}
    assert re.search(r"^@: (\d+)$", peer.stdout, re.M)[1] == str(rounds)


def test_no_matching_function_names_the_closest(program):
    result = trace_to_end("-u", "a.out:add", str(program))
    assert result.returncode == 1
    assert result.stderr.strip() == \
        "usdtgen: no function of calc matches a.out:add:entry; closest: add3"
    result = trace_to_end("-u", "libnothing*:f", str(program))
    assert result.returncode == 1
    assert result.stderr.startswith(f"usdtgen: no module of {program} is libnothing*")


@pytest.mark.parametrize("spec, message", [
    ("a.out", "'a.out': no function; the form is MODULE:FUNCTION[:entry|return]"),
    ("a.out:add3:middle", "'middle' is not 'entry', 'return' or an instruction offset in hex"),
    (":add3", "the module is empty"),
    ("a.out:", "the function is empty"),
    ("a:b:c:d", "more than 3 fields"),
    ("/no/such/file:f", "/no/such/file: no such file"),
])
def test_bad_specifications_are_one_line_usage_errors(spec, message):
    result = subprocess.run([USDTGEN, "trace", "-u", spec, "-c", "true"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert result.stderr.startswith(f"usdtgen: error: -u '{spec}': ")


def test_u_does_not_combine_with_a_script():
    result = subprocess.run([USDTGEN, "trace", "-u", "a.out:main", "-e", "BEGIN { exit(0); }"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "-u goes without a D script" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_documents_u():
    text = subprocess.run([USDTGEN, "trace", "--help"], capture_output=True, text=True,
                          timeout=60).stdout
    assert "-u, --function MODULE:FUNCTION[:entry|return]" in text

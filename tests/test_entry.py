"""The click-free entry point (usdtgen/entry.py): the command lines it runs itself must mean
exactly what they mean to click's commands, the others must reach click unchanged, and a
plain trace must run without loading click at all.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import compile_program, ensure_tracefs, write_header
from usdtgen.cli import main as click_group
from usdtgen.entry import parse_plain_list, parse_plain_trace

TRACE_LINES = [
    ["trace", "-c", "./app"],
    ["trace", "-q", "-c", "./app arg", "myapp:*"],
    ["trace", "--json", "--pid", "42", "req*"],
    ["trace", "--pid=42", "-p", "7"],                       # given twice: the last
    ["trace", "./app", "-f", "%d %s\n", "--duration", "2.5", "myapp:start"],
    ["trace", "--strsize", "64", "-o", "out.txt", "./app"],
    ["trace", "-u", "a.out:main", "--function", "libc.so*:malloc:return", "-c", "./app"],
    ["trace", "--duration=1e-3", "--strsize=16384", "./app"],
    ["trace", "-c", "-q"],                                   # -c takes the next word
    ["trace", "-p", "1", "--", "-weird:name"],
]
CLICK_ONLY_TRACE = [
    ["trace", "--help"], ["trace", "-qc", "./app"], ["trace", "-e", "BEGIN { exit(0); }"],
    ["trace", "--types", "x.d", "./app"], ["trace", "--buffer-size", "8M", "./app"],
    ["trace", "-p", "x"], ["trace", "--duration", "0", "./app"],
    ["trace", "--duration", "nan", "./app"], ["trace", "--strsize", "1", "./app"],
    ["trace", "-o", "/", "./app"], ["trace", "--json=1", "./app"], ["trace", "-c"],
    ["trace", "-p5"], ["list", "-p", "1"], ["compile", "-h", "-s", "x.d"],
]


def click_params(args: list[str]) -> dict:
    command = click_group.commands[args[0]]
    with command.make_context(args[0], list(args[1:])) as ctx:
        return ctx.params


@pytest.mark.parametrize("args", TRACE_LINES, ids=" ".join)
def test_plain_trace_lines_mean_what_they_mean_to_click(args):
    options = parse_plain_trace(args)
    params = click_params(args)
    assert options is not None
    assert (options.pid, options.command, options.printf, options.as_json, options.output,
            options.duration, options.quiet, options.strsize, options.function_specs,
            options.args) == \
        (params["pid"], params["command"], params["printf"], params["as_json"],
         params["output"], params["duration"], params["quiet"], params["strsize"],
         params["function_specs"], params["args"])
    assert params["script_text"] is params["script_file"] is params["buffer_size"] is None
    assert params["types_file"] is None and not params["d_options"]


@pytest.mark.parametrize("args", CLICK_ONLY_TRACE, ids=" ".join)
def test_other_trace_lines_go_to_click(args):
    assert parse_plain_trace(args) is None


@pytest.mark.parametrize("args", [
    ["list", "./app"], ["list", "-v", "--json", "-p", "3", "--pid=4", "./app"],
    ["list", "--", "-dash"], ["list", "-p", "3"],
], ids=" ".join)
def test_plain_list_lines_mean_what_they_mean_to_click(args):
    arguments, pids, verbose, as_json = parse_plain_list(args)
    params = click_params(args)
    assert (arguments, pids, verbose, as_json) == \
        (params["args"], params["pids"], params["verbose"], params["as_json"])


@pytest.mark.parametrize("args", [["list"], ["list", "--help"], ["list", "-p", "x"],
                                  ["list", "--types", "x.d", "./app"], ["list", "-vp", "3"]],
                         ids=" ".join)
def test_other_list_lines_go_to_click(args):
    assert parse_plain_list(args) is None


def test_usage_problems_found_after_parsing_are_worded_by_click():
    result = subprocess.run([sys.executable, "-m", "usdtgen", "trace", "-p", "1", "-c", "x"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("Usage: usdtgen trace [OPTIONS] [ARGS]...")
    assert result.stderr.rstrip().endswith("Error: give -p or -c, not both")


def test_a_plain_trace_runs_without_click(tmp_path):
    ensure_tracefs()
    write_header(tmp_path, "provider fast { probe ready(int n); };", "fast.h")
    program = compile_program(tmp_path, '#include "fast.h"\n'
                              "int main(int argc, char **argv) { FAST_READY(argc + 40); "
                              "return 3; }\n")
    code = ("import sys; from usdtgen.entry import main; status = main(sys.argv[1:]); "
            "sys.stderr.write('click loaded\\n' if 'click' in sys.modules else ''); "
            "sys.exit(status)")
    result = subprocess.run([sys.executable, "-c", code, "trace", "-q", "--json", "-c",
                             str(program)], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert result.returncode == 3, result.stderr          # the command's exit status
    assert '"probe": "ready", "args": {"n": 41}' in result.stdout
    assert "click loaded" not in result.stderr

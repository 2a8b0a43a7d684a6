"""Strings longer than what is read of them: ``usdtgen trace`` shows the text it read, marks
the string as cut with the bytes it has, in text and ``--json``, and never lets it spoil the
other fields (numbers, the thread name, a later string).

With BPF (the default) a string is read up to ``--strsize`` bytes, its NUL included (1024
unless told). Without it (``USDTGEN_NO_BPF=1``), the kernel's fetch-args read all the strings
of a hit into one page: a later string is then marked as cut rather than shown as "".
"""
from __future__ import annotations

import json
import os

import pytest

from conftest import compile_program, ensure_tracefs, no_uprobe_events_left_after, \
    trace_to_end, write_header

LONG_D = "provider ls { probe q(const char *query, int len, const char *after); };\n"
LONG_C = r"""
#include <stdlib.h>
#include <string.h>
#include "probes.h"

/* q(a string of N bytes: '<', 'x' * (N - 2), '>'; N; "tail") */
int main(int argc, char **argv)
{
  int n = atoi(argv[1]);
  char *query = malloc(n + 1);
  memset(query, 'x', n);
  query[0] = '<';
  query[n - 1] = '>';
  query[n] = 0;
  LS_Q(query, n, "tail");
  return 0;
}
"""


@pytest.fixture(scope="module")
def longstr(tmp_path_factory):
    ensure_tracefs()
    folder = tmp_path_factory.mktemp("longstr")
    write_header(folder, LONG_D)
    return compile_program(folder, LONG_C, output="longstr")


@pytest.fixture(autouse=True)
def no_uprobe_events_left():
    yield from no_uprobe_events_left_after()


def expected_query(n: int) -> str:
    return "<" + "x" * (n - 2) + ">"


def one_event(longstr, n: int, *options, env=None) -> str:
    result = trace_to_end(*options, "-c", f"{longstr} {n}", env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("n, options", [(100, ()), (1023, ()), (5009, ("--strsize", "8192"))])
def test_strings_that_fit_are_whole(longstr, n, options):
    event = json.loads(one_event(longstr, n, "--json", *options).splitlines()[0])
    assert event["args"] == {"query": expected_query(n), "len": n, "after": "tail"}
    assert "cut" not in event and event["comm"] == "longstr"


@pytest.mark.parametrize("n, strsize", [(1024, 1024), (5009, 1024), (9000, 4096), (40, 16)])
def test_strings_longer_than_strsize_are_cut_and_marked(longstr, n, strsize):
    event = json.loads(one_event(longstr, n, "--json", "--strsize", str(strsize))
                       .splitlines()[0])
    assert event["args"] == {"query": expected_query(n)[:strsize - 1], "len": n,
                             "after": "tail"}
    assert event["cut"] == {"query": strsize - 1} and event["comm"] == "longstr"
    text = one_event(longstr, n, "--strsize", str(strsize)).splitlines()[0]
    assert f'...(cut at {strsize - 1} bytes) len={n} after="tail"' in text


@pytest.mark.parametrize("n", [4087, 5009, 9000])
def test_without_bpf_long_strings_are_marked_cut_and_spoil_nothing(longstr, n):
    env = {**os.environ, "USDTGEN_NO_BPF": "1"}
    event = json.loads(one_event(longstr, n, "--json", env=env).splitlines()[0])
    args, cut = event["args"], event.get("cut", {})
    assert event["comm"] == "longstr" and args["len"] == n
    assert args["query"] != expected_query(n) and expected_query(n).startswith(args["query"])
    assert cut.get("query") == len(args["query"].encode())
    # the later string is either whole or marked as cut, never a silent ""
    assert args["after"] == "tail" or cut.get("after") == len(args["after"].encode())
    text = one_event(longstr, n, env=env).splitlines()[0]
    assert f'...(cut at {cut["query"]} bytes) len={n} ' in text and " longstr ls:q " in text


def test_strsize_too_large_for_a_record_falls_back_with_a_warning(longstr):
    """Two strings of 16 KiB do not fit one BPF record: that site is read by the kernel's
    fetch-args instead, says so, and still prints its event."""
    result = trace_to_end("--json", "--strsize", "16384", "-c", f"{longstr} 100")
    assert result.returncode == 0, result.stderr
    assert "read by the kernel's fetch-args instead of BPF" in result.stderr
    assert "lower --strsize" in result.stderr
    event = json.loads(result.stdout.splitlines()[0])
    assert event["args"] == {"query": expected_query(100), "len": 100, "after": "tail"}

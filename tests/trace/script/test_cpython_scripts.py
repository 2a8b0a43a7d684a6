"""CPython's own D scripts (Lib/test/dtracedata, Debian's libpython3.11-testsuite) run
unchanged under ``usdtgen trace -q -s SCRIPT -c 'python3.11 SCRIPT.py'`` on Debian's
python3.11, whose interpreter has USDT probes.

Each must compile, attach and end cleanly. line.d prints what CPython's test_dtrace expects
(its .expected file, after the same normalisation: lines sorted by their timestamp, which is
then dropped; the traced program's own lines, starting with '#', left out). call_stack.d and
gc.d trace function-entry, which CPython 3.11 fires only for frames entered from C (its
inlined Python-to-Python calls skip the probe; bpftrace sees the same), so their expected
files cannot be met here: they are checked for running cleanly.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ensure_tracefs, no_uprobe_events_left_after, require, trace_to_end

DTRACEDATA = Path("/usr/lib/python3.11/test/dtracedata")
PYTHON = Path("/usr/bin/python3.11")


@pytest.fixture(autouse=True)
def no_uprobe_events_left():
    yield from no_uprobe_events_left_after()


@pytest.fixture(scope="module")
def dtracedata() -> Path:
    require(DTRACEDATA.is_dir(), f"{DTRACEDATA} is missing (.ci/run installs "
                                 "libpython3.11-testsuite)")
    require(PYTHON.exists(), f"{PYTHON} is missing (.ci/run installs python3.11-minimal)")
    return DTRACEDATA


def normalized(output: str) -> str:
    """As CPython's test_dtrace normalises a trace: rows TIMESTAMP<tab>TEXT in time order,
    TEXT alone; the program's own output (lines starting with '#') left out."""
    rows = [line.split("\t") for line in output.splitlines()
            if line and not line.startswith("#")]
    rows.sort(key=lambda row: int(row[0]))
    return "\n".join(row[1] for row in rows)


def run_script(dtracedata: Path, name: str):
    ensure_tracefs()
    result = trace_to_end("-q", "-s", str(dtracedata / f"{name}.d"), "-c",
                          f"{PYTHON} {dtracedata / name}.py", cwd=dtracedata, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stderr, result.stderr
    return result


def test_line_probes_print_what_cpython_expects(dtracedata):
    result = run_script(dtracedata, "line")
    assert normalized(result.stdout) == (dtracedata / "line.d.expected").read_text().strip()


@pytest.mark.parametrize("name", ["call_stack", "gc"])
def test_scripts_run_cleanly(dtracedata, name):
    result = run_script(dtracedata, name)
    # whatever fired is in CPython's row format: a timestamp, a tab, the probe's text
    for row in result.stdout.splitlines():
        if row and not row.startswith("#"):
            timestamp, text = row.split("\t")
            assert int(timestamp) > 0 and text


def test_assert_usable(dtracedata):
    result = trace_to_end("-q", "-s", str(dtracedata / "assert_usable.d"))
    # (and the empty line dtrace ends with)
    assert result.returncode == 0 and result.stdout == "probe: success\n\n", result.stderr

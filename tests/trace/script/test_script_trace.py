"""``usdtgen trace -e/-s``: D scripts over real kernel uprobes, run as the real ``usdtgen``
executable on examples/app_c (myapp.d + app.c) built here with our header.

Aggregations are checked against values computed here from the same run's events (printf()ed
as JSON), predicates against the app's own rules, then printa/trunc on tick-1sec, END (child
exit, SIGINT, SIGTERM), exit(), compile errors (``file:line:col: error:``), dtrace(1M)'s
non-quiet layout, macro arguments, and a fault in a clause (ERROR clause, the trace goes on).

Every test leaves ``uprobe_events`` as it found it (checked after each test).

The app: ``app N DELAY_MS`` handles requests id = 1..N; path = paths[id % 4]; status 204 for
/health, else 500 when id % 7 == 0, else 200; request-done's arg3 is the latency in ns.
"""
from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import time
from collections import defaultdict
from pathlib import Path

import pytest

from conftest import USDTGEN, ensure_tracefs, Lines, lines_of, no_uprobe_events_left_after, \
    Processes, require, require_tool, trace_to_end, tracer_alive

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "app_c"
PATHS = ["/index.html", "/api/users", "/static/app.js", "/health"]
HEADING = "CPU     ID                    FUNCTION:NAME"


def path_of(request_id: int) -> str:
    return PATHS[request_id % 4]


def status_of(request_id: int) -> int:
    path = path_of(request_id)
    return 204 if path == "/health" else (500 if request_id % 7 == 0 else 200)


# -- the traced program -----------------------------------------------------------------------
def _build(folder: Path, optimization: str) -> Path:
    require(USDTGEN is not None, "the usdtgen executable is not installed")
    cc = require_tool("cc")
    header = subprocess.run([USDTGEN, "-h", "-s", str(EXAMPLE / "myapp.d"), "-o",
                             str(folder / "myapp.h")], capture_output=True, text=True, timeout=60)
    assert header.returncode == 0, header.stderr
    exe = folder / "app"
    build = subprocess.run([cc, optimization, "-I", str(folder), "-o", str(exe),
                            str(EXAMPLE / "app.c")], capture_output=True, text=True, timeout=120)
    assert build.returncode == 0, build.stderr
    return exe


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Path:
    """examples/app_c built the way its README says (-O2)."""
    return _build(tmp_path_factory.mktemp("script_app_O2"), "-O2")


@pytest.fixture(scope="module")
def app_O0(tmp_path_factory) -> Path:
    """The same, at -O0: handle() is not inlined into main()."""
    return _build(tmp_path_factory.mktemp("script_app_O0"), "-O0")


# -- uprobe_events bookkeeping ------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_uprobe_events_left():
    yield from no_uprobe_events_left_after()


# -- running usdtgen ------------------------------------------------------------------------------
def trace(*args, timeout: float = 40) -> subprocess.CompletedProcess:
    return trace_to_end(*args, timeout=timeout)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def aggregations(records: list[dict]) -> dict[str, dict]:
    """The last JSON printing of each aggregation, by name."""
    return {r["name"]: r for r in records if r["type"] == "aggregation"}


def entries_by_key(record: dict) -> dict[tuple, dict]:
    return {tuple(entry["keys"]): entry for entry in record["entries"]}


def app_processes(exe: Path) -> list[int]:
    """The live (not zombie) processes running ``exe``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(entry / "exe") != str(exe):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(int(entry.name))
    return found


# -- reference computations (DTrace's integer arithmetic) -----------------------------------------
def c_trunc_div(a: int, b: int) -> int:
    """C's int64 division: truncated toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def quantize_label(v: int) -> int:
    """The power-of-two bucket quantize() puts ``v`` in, labelled as dtrace labels it."""
    if v == 0:
        return 0
    if v > 0:
        return 1 << (v.bit_length() - 1)
    return -(1 << ((-v).bit_length() - 1))


def lquantize_label(v: int, lo: int, hi: int, step: int):
    """lquantize(v, lo, hi, step): None for the underflow bucket (< lo); (hi - lo) / step
    buckets of step values, then the overflow bucket from lo + levels * step (hi when step
    divides hi - lo), as DTrace's kernel counts them."""
    top = lo + (hi - lo) // step * step
    if v < lo:
        return None
    if v >= top:
        return top
    return lo + (v - lo) // step * step


def buckets(labels: list) -> list[list]:
    """[[label, count], ...] of the used buckets, the underflow (None) first, then ascending."""
    counts: dict = defaultdict(int)
    for label in labels:
        counts[label] += 1
    order = sorted(counts, key=lambda x: (x is not None, x if x is not None else 0))
    return [[label, counts[label]] for label in order]


def stddev(values: list[int]) -> int:
    n = len(values)
    mean = c_trunc_div(sum(values), n)
    return math.isqrt(sum(v * v for v in values) // n - mean * mean)


# -- 1. aggregations equal what Python computes from the same events -------------------------------
AGG_SCRIPT = r"""
myapp:::request-done
{
	printf("%d %s %d %d\n", arg0, copyinstr(arg1), arg2, arg3);
	@count[copyinstr(arg1)] = count();
	@sum[copyinstr(arg1)] = sum(arg3);
	@avg[copyinstr(arg1)] = avg(arg3);
	@min[copyinstr(arg1)] = min(arg3);
	@max[copyinstr(arg1)] = max(arg3);
	@sd[copyinstr(arg1)] = stddev(arg3);
	@q[copyinstr(arg1)] = quantize(arg3);
	@lq[copyinstr(arg1)] = lquantize(arg3 / 1000, 30, 100, 10);
	@status[copyinstr(arg1), arg2] = count();
	@nsum[copyinstr(arg1)] = sum(arg0 % 9 - 6);
	@navg[copyinstr(arg1)] = avg(arg0 % 9 - 6);
	@nmin[copyinstr(arg1)] = min(arg0 % 9 - 6);
	@nmax[copyinstr(arg1)] = max(arg0 % 9 - 6);
	@nsd[copyinstr(arg1)] = stddev(arg0 % 9 - 6);
	@nq = quantize(arg0 - 45);
	@nlq = lquantize(arg0, 10, 70, 7);
	@all = count();
}
"""


def test_aggregations_equal_python(app, tmp_path):
    ensure_tracefs()
    n = 100
    # one plain JSON trace first: the deterministic fields of every request-done event
    plain = trace("--json", "-c", f"{app} {n}")
    assert plain.returncode == 0, plain.stderr
    plain_json = "\n".join(line for line in plain.stdout.splitlines() if line.startswith("{"))
    plain_events = [r for r in json_lines(plain_json)
                    if r["type"] == "event" and r["probe"] == "request__done"]
    assert [(e["args"]["id"], e["args"]["path"], e["args"]["status"]) for e in plain_events] == \
        [(i, path_of(i), status_of(i)) for i in range(1, n + 1)]

    script = tmp_path / "aggs.d"
    script.write_text(AGG_SCRIPT)
    out = tmp_path / "out.json"
    result = trace("--json", "-q", "-o", out, "-s", script, "-c", f"{app} {n}")
    assert result.returncode == 0, result.stderr
    assert "lost" not in result.stderr, result.stderr
    records = json_lines(out.read_text())
    printfs = [r for r in records if r["type"] == "printf"]
    assert {r["probe"] for r in printfs} <= {"myapp:app:main:request-done",
                                              "myapp:app:handle:request-done"}, printfs[0]
    events = []
    for r in printfs:
        assert r["text"].endswith("\n"), r
        i, path, status, latency = r["text"].split()
        events.append((int(i), path, int(status), int(latency)))
    # the events are the app's, the same as the plain trace's
    assert [e[:3] for e in events] == [(i, path_of(i), status_of(i)) for i in range(1, n + 1)]
    assert all(e[3] > 0 for e in events)

    by_path: dict[str, list] = defaultdict(list)
    for event in events:
        by_path[event[1]].append(event)
    lat = {p: [e[3] for e in evs] for p, evs in by_path.items()}
    ids = {p: [e[0] % 9 - 6 for e in evs] for p, evs in by_path.items()}

    expected_scalars = {
        "@count": ("count", {p: len(v) for p, v in lat.items()}),
        "@sum": ("sum", {p: sum(v) for p, v in lat.items()}),
        "@avg": ("avg", {p: c_trunc_div(sum(v), len(v)) for p, v in lat.items()}),
        "@min": ("min", {p: min(v) for p, v in lat.items()}),
        "@max": ("max", {p: max(v) for p, v in lat.items()}),
        "@sd": ("stddev", {p: stddev(v) for p, v in lat.items()}),
        "@nsum": ("sum", {p: sum(v) for p, v in ids.items()}),
        "@navg": ("avg", {p: c_trunc_div(sum(v), len(v)) for p, v in ids.items()}),
        "@nmin": ("min", {p: min(v) for p, v in ids.items()}),
        "@nmax": ("max", {p: max(v) for p, v in ids.items()}),
        "@nsd": ("stddev", {p: stddev(v) for p, v in ids.items()}),
    }
    # a negative average that C truncates toward zero (floor division would differ)
    assert any(sum(v) < 0 and sum(v) % len(v) for v in ids.values()), ids
    aggs = aggregations(records)
    for name, (function, want) in expected_scalars.items():
        agg = aggs.get(name)
        assert agg is not None, f"{name} not printed: {sorted(aggs)}"
        assert agg["function"] == function, agg
        got = {key[0]: entry["value"] for key, entry in entries_by_key(agg).items()}
        assert got == want, f"{name}: {got} != {want}"
        # printed in dtrace's order: by value, ascending
        values = [entry["value"] for entry in agg["entries"]]
        assert values == sorted(values), f"{name} is not sorted by value: {values}"
    for name, values in (("@avg", lat), ("@navg", ids)):
        got = {key[0]: (entry["count"], entry["sum"])
               for key, entry in entries_by_key(aggs[name]).items()}
        assert got == {p: (len(v), sum(v)) for p, v in values.items()}, name
    for name, values in (("@sd", lat), ("@nsd", ids)):
        got = {key[0]: (entry["count"], entry["sum"], entry["sum_of_squares"])
               for key, entry in entries_by_key(aggs[name]).items()}
        assert got == {p: (len(v), sum(v), sum(x * x for x in v))
                       for p, v in values.items()}, name

    assert aggs["@q"]["function"] == "quantize"
    got = {key[0]: entry["buckets"] for key, entry in entries_by_key(aggs["@q"]).items()}
    assert got == {p: buckets([quantize_label(v) for v in vs]) for p, vs in lat.items()}
    assert aggs["@lq"]["function"] == "lquantize"
    got = {key[0]: entry["buckets"] for key, entry in entries_by_key(aggs["@lq"]).items()}
    assert got == {p: buckets([lquantize_label(c_trunc_div(v, 1000), 30, 100, 10) for v in vs])
                   for p, vs in lat.items()}
    all_ids = [e[0] for e in events]
    assert entries_by_key(aggs["@nq"]) == {
        (): {"keys": [], "buckets": buckets([quantize_label(i - 45) for i in all_ids])}}
    # 7 does not divide 70 - 10: 8 buckets of 7 from 10, then ">= 66"
    nlq = buckets([lquantize_label(i, 10, 70, 7) for i in all_ids])
    assert nlq[0][0] is None and nlq[-1][0] == 66      # both the underflow and overflow buckets
    assert entries_by_key(aggs["@nlq"]) == {(): {"keys": [], "buckets": nlq}}
    want_status: dict = defaultdict(int)
    for i, path, status, _ in events:
        want_status[(path, status)] += 1
    got = {key: entry["value"] for key, entry in entries_by_key(aggs["@status"]).items()}
    assert got == dict(want_status)
    assert entries_by_key(aggs["@all"]) == {(): {"keys": [], "value": n}}


# -- 2. predicates --------------------------------------------------------------------------------
def test_predicates(app, tmp_path):
    ensure_tracefs()
    n = 60
    out = tmp_path / "out.json"
    program = r"""
myapp:::request-done /arg2 >= 500/ { @errors = count(); printf("error %d %d\n", arg0, arg2); }
myapp:::request-start /copyinstr(arg1) == "/health"/ { @health = count(); printf("health %d\n", arg0); }
myapp:::request-done /arg2 != 500 && copyinstr(arg1) != "/health"/ { @ok[arg2] = count(); }
"""
    result = trace("--json", "-q", "-o", out, "-e", program, "-c", f"{app} {n}")
    assert result.returncode == 0, result.stderr
    records = json_lines(out.read_text())
    texts = [r["text"] for r in records if r["type"] == "printf"]
    errors = [i for i in range(1, n + 1) if status_of(i) >= 500]
    health = [i for i in range(1, n + 1) if path_of(i) == "/health"]
    assert errors and health
    assert [t for t in texts if t.startswith("error")] == [f"error {i} 500\n" for i in errors]
    assert [t for t in texts if t.startswith("health")] == [f"health {i}\n" for i in health]
    aggs = aggregations(records)
    assert entries_by_key(aggs["@errors"]) == {(): {"keys": [], "value": len(errors)}}
    assert entries_by_key(aggs["@health"]) == {(): {"keys": [], "value": len(health)}}
    assert entries_by_key(aggs["@ok"]) == {(200,): {"keys": [200], "value":
                                                    n - len(errors) - len(health)}}


# -- 3. printa and trunc on tick-1sec -------------------------------------------------------------
def test_tick_printa_trunc(app, tmp_path):
    ensure_tracefs()
    n = 400
    out = tmp_path / "out.json"
    program = r"""
myapp:::request-done { @c[copyinstr(arg1)] = count(); @t = count(); }
tick-1sec { printa(@c); printa(@t); trunc(@c, 2); }
END { printa(@c); printa(@t); }
"""
    started = time.monotonic()
    result = trace("--json", "-q", "-o", out, "-e", program, "-c", f"{app} {n} 10", timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "lost" not in result.stderr, result.stderr
    records = [r for r in json_lines(out.read_text()) if r["type"] == "aggregation"]
    assert [r["name"] for r in records] == ["@c", "@t"] * (len(records) // 2), \
        [r["name"] for r in records]
    blocks = []
    for c, t in zip(records[0::2], records[1::2]):
        counts = {key[0]: entry["value"] for key, entry in entries_by_key(c).items()}
        total = t["entries"][0]["value"] if t["entries"] else 0
        blocks.append((counts, total))
    ticks = blocks[:-1]                         # the last one is END's
    assert len(ticks) >= 2, f"{len(ticks)} tick-1sec printa blocks in {elapsed:.1f} s"
    assert len(ticks) <= elapsed + 1
    final_counts, final_total = blocks[-1]
    assert final_total == n                       # @t is never truncated: every request
    for (before, t_before), (after, t_after) in zip(blocks, blocks[1:]):
        assert set(after) <= set(PATHS) and t_after >= t_before
        new = t_after - t_before
        top2 = sorted(before.values(), reverse=True)[:2]
        # trunc(@c, 2) kept the two largest counts; every later hit added one
        assert sum(after.values()) == sum(top2) + new, (before, after, new)
        if len(before) >= 2:
            kept = [p for p in before if before[p] >= top2[-1] and after.get(p, 0) >= before[p]]
            assert len(kept) >= 2, (before, after)
        for path, value in after.items():
            # a kept entry went on counting; a truncated one started again from 0
            assert value >= before.get(path, 0) or value <= new, (path, before, after, new)
    assert sum(blocks[0][0].values()) == blocks[0][1]    # nothing truncated before the 1st tick


# -- 4. END: when the -c child exits, and on SIGINT/SIGTERM with -p --------------------------------
def test_end_when_command_exits(app, tmp_path):
    ensure_tracefs()
    out = tmp_path / "out.txt"
    program = r'myapp:::request-start { printf("start %d\n", arg0); } END { printf("done\n"); }'
    result = trace("-q", "-o", out, "-e", program, "-c", f"{app} 30")
    assert result.returncode == 0, result.stderr
    lines = [line for line in out.read_text().splitlines() if line]
    assert lines == [f"start {i}" for i in range(1, 31)] + ["done"], lines
    errors = sum(status_of(i) >= 500 for i in range(1, 31))
    assert f"handled 30 requests, {errors} errors" in result.stdout


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_end_on_signal_with_pid(app, signum):
    ensure_tracefs()
    program = (r'BEGIN { printf("begin\n"); } '
               r'myapp:::request-done { @c[copyinstr(arg1)] = count(); } '
               r'END { printf("end\n"); }')
    with Processes() as procs:
        target = procs.start([app, "3000", "10"], stdout=subprocess.DEVNULL)
        time.sleep(0.3)
        tracer = procs.trace("-q", "-p", target.pid, "-e", program)
        lines = Lines(tracer.stdout)
        lines.wait(lambda ls: "begin" in ls, 20, "BEGIN's output")
        assert lines_of(tracer.pid), "the tracer's uprobe events are not in uprobe_events"
        time.sleep(1.5)
        tracer.send_signal(signum)
        output = lines.ended(timeout=20)
        tracer.wait(timeout=10)
        err = tracer.stderr.read()
        assert "Traceback" not in err, err
        assert tracer.returncode == 0, (tracer.returncode, err)
        assert lines_of(tracer.pid) == []
        assert target.poll() is None, "the traced process died with the tracer"
        target.kill()
    output = [line for line in output if line]
    assert output[:2] == ["begin", "end"], output
    entries = [re.fullmatch(r"  (\S+) +(\d+)", line) for line in output[2:]]
    assert all(entries), output
    counts = {m[1]: int(m[2]) for m in entries}
    assert set(counts) == set(PATHS), output
    assert all(v >= 10 for v in counts.values()), counts        # ~1.5 s at one per ~10 ms
    values = [int(m[2]) for m in entries]
    assert values == sorted(values)


# -- 5. exit() ------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [0, 3])
def test_exit_ends_trace_and_command(app, tmp_path, status):
    ensure_tracefs()
    out = tmp_path / "out.txt"
    program = (f'myapp:::request-start /arg0 == 5/ {{ exit({status}); }} '
               r'myapp:::request-start { printf("%d %d\n", pid, arg0); } '
               r'END { printf("end\n"); }')
    started = time.monotonic()
    result = trace("-q", "-o", out, "-e", program, "-c", f"{app} 400 10")
    elapsed = time.monotonic() - started
    assert result.returncode == status, result.stderr
    assert "handled" not in result.stdout, "the command ran to its end"
    assert elapsed < 3.5, f"took {elapsed:.1f} s: the app alone takes 4 s"
    lines = [line for line in out.read_text().splitlines() if line]
    assert lines[-1] == "end", lines
    hits = [line.split() for line in lines[:-1]]
    ids = [int(i) for _, i in hits]
    assert ids[:4] == [1, 2, 3, 4] and max(ids) <= 6, ids   # nothing long after the exit()
    child = int(hits[0][0])
    deadline = time.monotonic() + 5
    while tracer_alive(child) and app_processes(app) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert child not in app_processes(app), "the -c command is still running"


def test_exit_with_pid_leaves_the_process(app):
    """exit() ends a -p trace with its status; the process, not started by usdtgen, lives on."""
    ensure_tracefs()
    program = (r'myapp:::request-start /arg0 > 30/ { exit(4); } '
               r'END { printf("end\n"); }')
    with Processes() as procs:
        target = procs.start([app, "3000", "10"], stdout=subprocess.DEVNULL)
        time.sleep(0.3)
        tracer = procs.trace("-q", "-p", target.pid, "-e", program)
        try:
            out, err = tracer.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("exit() did not end the trace")
        assert "Traceback" not in err, err
        assert tracer.returncode == 4, (tracer.returncode, err)
        assert [line for line in out.splitlines() if line] == ["end"], out
        assert lines_of(tracer.pid) == []
        time.sleep(0.2)
        assert target.poll() is None, "exit() killed a process usdtgen did not start"
        target.kill()


def test_exit_skips_later_clauses(app, tmp_path):
    """After exit(), no further clause runs: not the later clauses of the same firing (as in
    DTrace, whose dtrace_probe() skips every ECB once the state is DRAINING, BEGIN's included:
    "if one BEGIN enabling has invoked the exit() action, we don't want to evaluate subsequent
    BEGIN enablings"), and END still does."""
    ensure_tracefs()
    result = trace("-q", "-e", r'BEGIN { exit(0); } BEGIN { printf("second BEGIN\n"); } '
                               r'END { printf("end\n"); }', timeout=20)
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stdout.splitlines() if line] == ["end"], result.stdout
    out = tmp_path / "out.txt"
    program = (r'myapp:::request-start /arg0 == 5/ { exit(3); } '
               r'myapp:::request-start { printf("%d\n", arg0); } '
               r'END { printf("end\n"); }')
    result = trace("-q", "-o", out, "-e", program, "-c", f"{app} 400 10")
    assert result.returncode == 3, result.stderr
    assert [line for line in out.read_text().splitlines() if line] == \
        ["1", "2", "3", "4", "end"]


# -- 6. compile errors --------------------------------------------------------------------------
ERROR_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): error: (?P<message>.+)$")


def assert_one_error(result, file: str, line: int, col: int, message: str) -> str:
    """Exit status 1, nothing on stdout (the command did not run), one diagnostic whose first
    line is ``file:line:col: error: message`` (then, as README says, the line and a caret)."""
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert result.stdout == "", result.stdout
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert lines, "no error message"
    match = ERROR_LINE.match(lines[0])
    assert match, f"not a file:line:col error: {lines[0]!r}"
    assert (match["file"], int(match["line"]), int(match["col"])) == (file, line, col), lines[0]
    assert re.search(message, match["message"]), lines[0]
    assert sum(": error:" in ln for ln in lines) == 1, result.stderr
    if len(lines) > 1:               # the source line, then a caret under the column
        caret = lines[2] if len(lines) > 2 else ""
        assert caret.strip() == "^", result.stderr
    return match["message"]


def test_errors(app, tmp_path):
    ensure_tracefs()
    syntax = tmp_path / "syntax.d"
    syntax.write_text("myapp:::request-start\n{\n\t@c = count(;\n}\n")
    result = trace("-s", syntax, "-c", f"{app} 3", timeout=20)
    assert_one_error(result, str(syntax), 3, 13, r"syntax error")

    nosuch = tmp_path / "nosuch.d"
    nosuch.write_text("myapp:::request-start\n{ @a = count(); }\n\n"
                      "myapp:::request-done,\nmyapp:::nosuch\n{ @b = count(); }\n")
    result = trace("-s", nosuch, "-c", f"{app} 3", timeout=20)
    assert_one_error(result, str(nosuch), 5, 1, r"myapp:::nosuch\b.*(match|no probe)")
    result = trace("-e", "myapp:::nosuch { @c = count(); }", "-c", f"{app} 3", timeout=20)
    assert_one_error(result, "<-e>", 1, 1, r"myapp:::nosuch\b")

    # with -Z it runs: the other descriptions trace as usual
    out = tmp_path / "z.json"
    result = trace("-Z", "-q", "--json", "-o", out, "-s", nosuch, "-c", f"{app} 10", timeout=30)
    assert result.returncode == 0, result.stderr
    aggs = aggregations(json_lines(out.read_text()))
    assert entries_by_key(aggs["@a"]) == {(): {"keys": [], "value": 10}}
    assert entries_by_key(aggs["@b"]) == {(): {"keys": [], "value": 10}}

    undefined = tmp_path / "undefined.d"
    undefined.write_text("myapp:::request-start\n{\n\tx = y + 1;\n}\n")
    result = trace("-s", undefined, "-c", f"{app} 3", timeout=20)
    message = assert_one_error(result, str(undefined), 3, 6, r"undefined")
    assert "y" in message


# -- 7. dtrace(1M)'s non-quiet layout ---------------------------------------------------------------
@pytest.mark.parametrize("build", ["O0", "O2"])
def test_non_quiet_layout(request, tmp_path, build):
    ensure_tracefs()
    exe = request.getfixturevalue("app_O0" if build == "O0" else "app")
    out = tmp_path / "out.txt"
    result = trace("-o", out, "-e", r'myapp:::request-start /arg0 == 2/ { printf("id=%d", arg0); }',
                   "-c", f"{exe} 5")
    assert result.returncode == 0, result.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == HEADING, lines
    # the function is the one containing the probe: handle(), inlined into main() at -O2
    function = "handle" if build == "O0" else "(?:main|handle)"
    assert re.match(rf"^\s*\d+\s+\d+\s+{function}:request-start id=2$", lines[1]), lines
    assert [line for line in lines[2:] if line] == [], lines
    # the columns: CPU right-aligned in 3, ID in 6, FUNCTION:NAME in 32
    assert re.match(r"^[ \d]{3} [ \d]{6} [ \w:-]{32} id=2$", lines[1]), lines[1]
    assert re.search(r"description 'myapp:::request-start' matched 1 probe", result.stderr), \
        result.stderr


# -- 8. macro arguments ---------------------------------------------------------------------------
MACRO_SCRIPT = """\
#pragma D option quiet
myapp:::request-start
/arg0 == $1/
{
\tprintf("hit %d %s %d\\n", arg0, $$2, $1 * 2);
}
"""


@pytest.mark.parametrize("dashes", [True, False], ids=["with --", "without --"])
def test_macro_arguments(app, tmp_path, dashes):
    ensure_tracefs()
    script = tmp_path / "macro.d"
    script.write_text(MACRO_SCRIPT)
    out = tmp_path / "out.txt"
    result = trace("-o", out, "-s", script, "-c", f"{app} 20", *(["--"] if dashes else []),
                   "7", "seven")
    assert result.returncode == 0, result.stderr
    assert [line for line in out.read_text().splitlines() if line] == ["hit 7 seven 14"]


def test_macro_argument_missing(app, tmp_path):
    ensure_tracefs()
    script = tmp_path / "macro.d"
    script.write_text(MACRO_SCRIPT)
    result = trace("-s", script, "-c", f"{app} 3", "--", "7", timeout=20)
    column = MACRO_SCRIPT.splitlines()[4].index("$$2") + 1     # a tab is one column
    assert_one_error(result, str(script), 5, column, r"\$2")


# -- 9. a fault in a clause ------------------------------------------------------------------------
def test_fault_runs_error_clause_and_goes_on(app, tmp_path):
    ensure_tracefs()
    n = 30
    out = tmp_path / "out.txt"
    program = r"""
myapp:::request-start /arg0 % 10 == 3/ { printf("bad %s\n", copyinstr(arg0)); }
myapp:::request-start { printf("start %d\n", arg0); }
ERROR { printf("ERROR fault=%d addr=%d\n", arg4, arg5); @errors = count(); }
"""
    result = trace("-q", "-o", out, "-e", program, "-c", f"{app} {n}")
    assert result.returncode == 0, result.stderr
    bad = [i for i in range(1, n + 1) if i % 10 == 3]
    faults = [line for line in result.stderr.splitlines() if "error on enabled probe" in line]
    assert len(faults) == len(bad), result.stderr
    assert all("request-start" in line for line in faults), faults
    lines = [line for line in out.read_text().splitlines() if line]
    assert not any(line.startswith("bad") for line in lines), lines
    # each fault runs ERROR (DTRACEFLT_BADADDR = 1, at the id read as an address); the
    # trace goes on: every request-start after a fault is still printed
    expected = []
    for i in range(1, n + 1):
        if i in bad:
            expected.append(f"ERROR fault=1 addr={i}")
        expected.append(f"start {i}")
    assert lines[:len(expected)] == expected, lines
    assert re.fullmatch(r" +(\d+)", lines[len(expected)])[1] == str(len(bad)), lines

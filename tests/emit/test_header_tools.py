"""Peer tools agree on programs built with a usdtgen header.

readelf, gdb and bpftrace each read the ``.note.stapsdt`` notes our probe macros emit; a
live bpftrace attach raises the probe's semaphore (``_ENABLED()``), receives its arguments
and lowers the semaphore again on detach. ``DTRACE_PROBES_DISABLED`` compiles every
probe out.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

try:
    from conftest import (compile_program, ensure_tracefs, readelf_notes, require, require_tool,
                          write_header)
except ImportError:  # tests/ laid out as a package
    from conftest import (compile_program, ensure_tracefs, readelf_notes, require,
                                require_tool, write_header)

PROVIDER = """\
/* The provider every test here builds a program against. */
provider myapp {
    probe request__start(int id, const char *path);
    probe request__done();
    probe counters(signed char sc, short s, unsigned int u, long l,
                   unsigned long long ull, unsigned char uc);
    probe tick();
};
"""

# probe name -> (argument sizes as the note spells them, number of probe sites)
EXPECTED = {
    "request__start": (["-4", "8"], 1),
    "request__done": ([], 1),
    "counters": (["-1", "-2", "4", "-8", "8", "1"], 1),
    "tick": ([], 2),
}

TOOLS_PROGRAM = r"""
#include <stdio.h>
#include "probes.h"

#if defined(__clang__)
# define NOINLINE __attribute__((noinline))
#else
# define NOINLINE __attribute__((noinline, noclone))
#endif

/* MYAPP_TICK is used in two places: here and in main. */
NOINLINE static void tick_elsewhere(void) { MYAPP_TICK(); }

int main(int argc, char **argv) {
    (void)argv;
    MYAPP_REQUEST_START(argc + 41, "hello-usdt");
    MYAPP_COUNTERS((signed char)(-6 * argc), (short)(-2 * argc), 3u * (unsigned)argc,
                   -4L * argc, 5ull * (unsigned long long)argc, (unsigned char)(200 + argc));
    MYAPP_TICK();
    tick_elsewhere();
    MYAPP_REQUEST_DONE();
    printf("done\n");
    return 0;
}
"""

COMPILERS = [("gcc", "c"), ("clang", "c"), ("g++", "cc")]

_NOTE = re.compile(
    r"Provider: (?P<provider>\S+)\s*\n\s*Name: (?P<name>\S+)\s*\n"
    r"\s*Location: (?P<location>0x[0-9a-fA-F]+), Base: (?P<base>0x[0-9a-fA-F]+), "
    r"Semaphore: (?P<semaphore>0x[0-9a-fA-F]+)\s*\n\s*Arguments:(?P<args>[^\n]*)")
_ARG = re.compile(r"^(-?\d+f?)@(\S+)$")


def _stapsdt_notes(readelf_output: str) -> list[dict]:
    """The stapsdt notes ``readelf -n`` printed, each as a dict (args: list of (size, operand))."""
    section = readelf_output.split("Displaying notes found in: .note.stapsdt", 1)
    assert len(section) == 2, f"no .note.stapsdt section:\n{readelf_output}"
    body = section[1].split("Displaying notes found in:", 1)[0]
    notes = []
    for m in _NOTE.finditer(body):
        args = []
        for text in m.group("args").split():
            am = _ARG.match(text)
            assert am, f"malformed argument {text!r} in note for {m.group('name')}"
            args.append((am.group(1), am.group(2)))
        notes.append({"provider": m.group("provider"), "name": m.group("name"),
                      "location": int(m.group("location"), 16),
                      "semaphore": int(m.group("semaphore"), 16), "args": args})
    assert len(notes) == body.count("NT_STAPSDT"), f"could not parse every note:\n{body}"
    return notes


def _symbols(path: Path) -> dict[str, int]:
    out = subprocess.run(["nm", str(path)], capture_output=True, text=True, check=True).stdout
    symbols = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            symbols[parts[2]] = int(parts[0], 16)
    return symbols


def _section(path: Path, name: str) -> tuple[int, int] | None:
    """(address, size) of section ``name`` in ``path``, None when there is none."""
    out = subprocess.run(["readelf", "-SW", str(path)], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", line)
        if m and m.group(1) == name:
            return int(m.group(2), 16), int(m.group(3), 16)
    return None


def _section_names(path: Path) -> set[str]:
    out = subprocess.run(["readelf", "-SW", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return set(re.findall(r"^\s*\[\s*\d+\]\s+(\S+)", out, re.M))


@pytest.fixture(scope="module", params=COMPILERS, ids=lambda p: p[0])
def tools_program(request, tmp_path_factory) -> Path:
    compiler, lang = request.param
    tmp_path = tmp_path_factory.mktemp(f"tools-{compiler}")
    write_header(tmp_path, PROVIDER)
    exe = compile_program(tmp_path, TOOLS_PROGRAM, compiler=compiler, lang=lang)
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=30)
    assert run.returncode == 0 and run.stdout == "done\n", run
    return exe


# ---------------------------------------------------------------------------- readelf

def test_readelf_lists_every_probe(tools_program: Path):
    notes = _stapsdt_notes(readelf_notes(tools_program))
    assert {n["provider"] for n in notes} == {"myapp"}
    sites: dict[str, list[dict]] = {}
    for note in notes:
        sites.setdefault(note["name"], []).append(note)
    assert set(sites) == set(EXPECTED)
    for name, (sizes, count) in EXPECTED.items():
        assert len(sites[name]) == count, f"{name}: {len(sites[name])} sites, expected {count}"
        for note in sites[name]:
            assert [size for size, _ in note["args"]] == sizes, (name, note["args"])
    # distinct probe sites are distinct addresses
    locations = [n["location"] for n in notes]
    assert len(set(locations)) == len(locations)

    # each probe has one semaphore, the symbol named as systemtap names it, in .probes
    symbols = _symbols(tools_program)
    probes_section = _section(tools_program, ".probes")
    assert probes_section is not None, "no .probes section"
    start, size = probes_section
    for name, name_sites in sites.items():
        semaphores = {n["semaphore"] for n in name_sites}
        assert len(semaphores) == 1, f"{name}: sites disagree on the semaphore {semaphores}"
        semaphore = semaphores.pop()
        assert semaphore == symbols[f"myapp_{name}_semaphore"]
        assert start <= semaphore and semaphore + 2 <= start + size
    assert len({n["semaphore"] for n in notes}) == len(EXPECTED)


# ---------------------------------------------------------------------------- gdb

def test_gdb_info_probes(tools_program: Path):
    require_tool("gdb")
    result = subprocess.run(["gdb", "-batch", "-nx", "-ex", "info probes", str(tools_program)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()
            if line.split()[:1] == ["stap"]]
    assert rows, f"gdb lists no stap probes:\n{result.stdout}\n{result.stderr}"
    counts: dict[tuple[str, str], int] = {}
    semaphores: dict[str, set[int]] = {}
    for row in rows:
        # Type Provider Name Where Semaphore Object
        assert len(row) == 6, f"unexpected row {row}"
        _, provider, name, _where, semaphore, obj = row
        assert obj == str(tools_program)
        counts[(provider, name)] = counts.get((provider, name), 0) + 1
        semaphores.setdefault(name, set()).add(int(semaphore, 16))
    assert counts == {("myapp", name): count for name, (_, count) in EXPECTED.items()}

    # gdb and readelf agree on where the semaphores are
    notes = _stapsdt_notes(readelf_notes(tools_program))
    for name in EXPECTED:
        assert semaphores[name] == {n["semaphore"] for n in notes if n["name"] == name}


def test_gdb_reads_probe_arguments(tools_program: Path):
    """gdb decodes the argument operands: values, and signedness from the sizes."""
    require_tool("gdb")
    prints = ["print $_probe_argc"] + [f"print $_probe_arg{i}" for i in range(6)]
    cmd = ["gdb", "-batch", "-nx",
           "-ex", "break -probe-stap myapp:request__start",
           "-ex", "break -probe-stap myapp:counters",
           "-ex", "run",
           "-ex", "print $_probe_argc", "-ex", "print $_probe_arg0",
           "-ex", "print (char *)$_probe_arg1",
           "-ex", "continue", *[x for p in prints for x in ("-ex", p)],
           "-ex", "kill", str(tools_program)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    require("ptrace: Operation not permitted" not in output, "gdb may not ptrace here")
    values = re.findall(r"^\$\d+ = (.*)$", result.stdout, re.M)
    assert len(values) == 10, output
    assert values[0] == "2"
    assert values[1] == "42"
    assert values[2].endswith('"hello-usdt"'), values[2]
    assert values[3:] == ["6", "-6", "-2", "3", "-4", "5", "201"]


# ---------------------------------------------------------------------------- bpftrace

def test_bpftrace_lists_every_probe(tools_program: Path):
    require_tool("bpftrace")
    require(os.geteuid() == 0, "bpftrace needs root")
    result = subprocess.run(["bpftrace", "-l", "usdt:./prog:*"], cwd=tools_program.parent,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    listed = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    assert set(listed) == {f"usdt:./prog:myapp:{name}" for name in EXPECTED}, result.stdout


class _Lines:
    """Collects the lines a child process writes, from a thread; waits for a matching one."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self.closed = False
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def wait_for(self, predicate, start: int = 0, timeout: float = 10.0) -> int | None:
        """Index of the first line at or after ``start`` matching ``predicate``, or None."""
        deadline = time.monotonic() + timeout
        with self._cond:
            i = start
            while True:
                while i < len(self.lines):
                    if predicate(self.lines[i]):
                        return i
                    i += 1
                remaining = deadline - time.monotonic()
                if self.closed or remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def text(self) -> str:
        with self._cond:
            return "\n".join(self.lines)

    def join(self, timeout: float = 5.0) -> None:
        self._thread.join(timeout)


SEMAPHORE_PROGRAM = r"""
#include <stdio.h>
#include <time.h>
#include "probes.h"

int main(int argc, char **argv) {
    struct timespec pause = {0, 10 * 1000 * 1000};
    int id = 4200 + argc;               /* 4201 */
    (void)argv;
    for (int i = 0; i < 2000; i++) {    /* about 20 s at most */
        int enabled = MYAPP_REQUEST_START_ENABLED() ? 1 : 0;
        printf("enabled %d tick %d\n", enabled, MYAPP_TICK_ENABLED() ? 1 : 0);
        fflush(stdout);
        if (enabled)
            MYAPP_REQUEST_START(id, "semaphore-test");
        nanosleep(&pause, NULL);
    }
    return 0;
}
"""


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.kill()
    if proc is not None:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def test_bpftrace_attach_raises_and_lowers_semaphore(tmp_path: Path):
    tracefs = ensure_tracefs()
    require_tool("bpftrace")
    write_header(tmp_path, PROVIDER)
    exe = compile_program(tmp_path, SEMAPHORE_PROGRAM)
    program = tracer = None
    try:
        program = subprocess.Popen([str(exe)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True)
        out = _Lines(program.stdout)
        first = out.wait_for(lambda l: l.startswith("enabled "), timeout=10)
        assert first is not None, "the program printed nothing"
        assert out.lines[first] == "enabled 0 tick 0", "a semaphore is up before any tracer"

        script = (f"usdt:{exe}:myapp:request__start "
                  '{ printf("%d %s\\n", arg0, str(arg1)); @c = count(); }')
        tracer = subprocess.Popen(["bpftrace", "-B", "none", "-p", str(program.pid), "-e", script],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        traced = _Lines(tracer.stdout)
        errors = _Lines(tracer.stderr)

        up = out.wait_for(lambda l: l.startswith("enabled 1"), start=first, timeout=30)
        assert up is not None, (
            f"MYAPP_REQUEST_START_ENABLED() never became 1 while bpftrace was attached\n"
            f"bpftrace exit={tracer.poll()} stdout:\n{traced.text()}\nstderr:\n{errors.text()}")
        assert out.lines[up] == "enabled 1 tick 0", "only the traced probe's semaphore goes up"
        # let the probe fire a few times while the tracer is attached
        assert out.wait_for(lambda l: l.startswith("enabled 1"), start=up + 20, timeout=10)
        hit = traced.wait_for(lambda l: l == "4201 semaphore-test", timeout=10)
        assert hit is not None, f"bpftrace did not print the probe's arguments:\n{traced.text()}"

        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=30)
        traced.join()
        errors.join()
        assert tracer.returncode == 0, errors.text()
        lines = [l for l in traced.lines if l.strip() and not l.startswith("Attaching ")]
        assert all(l == "4201 semaphore-test" for l in lines[:-1]), traced.text()
        m = re.fullmatch(r"@c: (\d+)", lines[-1])
        # printf events still in the ring buffer at SIGINT may be dropped: count >= lines
        assert m and int(m.group(1)) >= max(1, len(lines) - 1), traced.text()
        detached_at = len(out.lines)

        down = out.wait_for(lambda l: l.startswith("enabled 0"), start=detached_at, timeout=10)
        assert down is not None, "MYAPP_REQUEST_START_ENABLED() stayed 1 after bpftrace exited"
        assert out.lines[down] == "enabled 0 tick 0"
        # and it stays down
        later = out.wait_for(lambda l: True, start=down + 10, timeout=10)
        assert later is not None and out.lines[down:later + 1] == ["enabled 0 tick 0"] * (
            later + 1 - down)
        assert program.poll() is None, "the program ended early"
    finally:
        if tracer is not None and tracer.poll() is None:
            tracer.send_signal(signal.SIGINT)       # let bpftrace detach cleanly first
            try:
                tracer.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        _stop(tracer)
        _stop(program)
    events = (tracefs / "uprobe_events").read_text()
    assert str(exe) not in events, f"uprobe left behind:\n{events}"


# ---------------------------------------------------------------------------- disabled

DISABLED_PROGRAM = r"""
#include <stdio.h>
#include "probes.h"

static int counter;
static int calls;

static int side(const char *what) {
    calls++;
    printf("side effect %s\n", what);
    return 7;
}

int main(void) {
    int only_for_probe = counter + 40;          /* used only as a probe argument */
    const char *name = "only-for-probe";        /* likewise */
    MYAPP_REQUEST_START(only_for_probe, name);
    MYAPP_REQUEST_START(counter++, "counter");
    MYAPP_REQUEST_START(side("request"), "side");
    MYAPP_COUNTERS((signed char)side("sc"), (short)counter++, 3u, (long)side("l"), 5ull,
                   (unsigned char)1);
    MYAPP_TICK();
    MYAPP_REQUEST_DONE();
    printf("counter=%d calls=%d enabled=%d%d%d%d\n", counter, calls,
           MYAPP_REQUEST_START_ENABLED() ? 1 : 0, MYAPP_REQUEST_DONE_ENABLED() ? 1 : 0,
           MYAPP_COUNTERS_ENABLED() ? 1 : 0, MYAPP_TICK_ENABLED() ? 1 : 0);
    return 0;
}
"""

WARNINGS = ("-O2", "-Wall", "-Wextra", "-Werror")


@pytest.mark.parametrize("compiler,lang", [("gcc", "c"), ("clang", "c"), ("g++", "cc"),
                                           ("clang++", "cc")])
def test_probes_disabled(tmp_path: Path, compiler: str, lang: str):
    write_header(tmp_path, PROVIDER)
    exe = compile_program(tmp_path, DISABLED_PROGRAM, compiler=compiler, lang=lang,
                          flags=(*WARNINGS, "-DDTRACE_PROBES_DISABLED=1"), output="disabled")
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    # no argument evaluated: no side effect printed, counter untouched; _ENABLED() is 0
    assert run.stdout == "counter=0 calls=0 enabled=0000\n"
    sections = _section_names(exe)
    assert ".note.stapsdt" not in sections
    assert ".note.usdtgen" not in sections
    assert ".probes" not in sections, "semaphores are defined although probes are disabled"
    assert "stapsdt" not in readelf_notes(exe)
    assert not any(s.endswith("_semaphore") for s in _symbols(exe))


@pytest.mark.parametrize("define", [None, "-DDTRACE_PROBES_DISABLED=0"])
@pytest.mark.parametrize("compiler,lang", [("gcc", "c"), ("g++", "cc")])
def test_probes_enabled_control(tmp_path: Path, compiler: str, lang: str, define: str | None):
    """The same program with probes enabled evaluates its arguments and has the notes."""
    write_header(tmp_path, PROVIDER)
    flags = WARNINGS + ((define,) if define else ())
    exe = compile_program(tmp_path, DISABLED_PROGRAM, compiler=compiler, lang=lang,
                          flags=flags, output="enabled")
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "counter=2 calls=3 enabled=0000"
    assert run.stdout.count("side effect") == 3
    sections = _section_names(exe)
    assert {".note.stapsdt", ".note.usdtgen", ".probes"} <= sections
    names = [n["name"] for n in _stapsdt_notes(readelf_notes(exe))]
    assert sorted(names) == sorted(["request__start"] * 3 + ["counters", "tick", "request__done"])

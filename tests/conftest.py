"""Shared test helpers: compiling real C/C++ programs against generated headers, and the
capabilities (root, tracefs, peer tools) the end-to-end tests need.

On CI (``CI`` set) a missing capability is a failure, never a skip.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from usdtgen.emit.header import emit_header
from usdtgen.provider import parse_provider_text

ON_CI = bool(os.environ.get("CI"))
TRACEFS = Path("/sys/kernel/tracing")


def require(condition: bool, reason: str) -> None:
    """Skip when a capability is missing outside CI; on CI, fail: CI must run everything."""
    if condition:
        return
    if ON_CI:
        pytest.fail(f"CI lacks a capability the test suite needs: {reason}")
    pytest.skip(reason)


def require_tool(name: str) -> str:
    path = shutil.which(name)
    require(path is not None, f"{name} is not installed (.ci/run installs it)")
    return path


def ensure_tracefs() -> Path:
    """Root and a mounted tracefs (mounted here when absent), or skip/fail."""
    require(os.geteuid() == 0, "needs root to use tracefs and uprobes")
    if not (TRACEFS / "uprobe_events").exists():
        subprocess.run(["mount", "-t", "tracefs", "nodev", str(TRACEFS)], check=False)
    require((TRACEFS / "uprobe_events").exists(), "tracefs with uprobe_events is not available")
    return TRACEFS


def write_header(tmp_path: Path, provider_text: str, name: str = "probes.h", **kwargs) -> Path:
    """Parse ``provider_text`` and write its generated header into ``tmp_path``."""
    model, _ = parse_provider_text(provider_text, str(tmp_path / "probes.d"))
    header = tmp_path / name
    header.write_text(emit_header(model, name, "probes.d", **kwargs))
    return header


def compile_program(tmp_path: Path, source: str, *, compiler: str = "gcc", lang: str = "c",
                    flags: tuple[str, ...] = ("-O2",), output: str = "prog",
                    extra_sources: tuple[Path, ...] = ()) -> Path:
    """Compile ``source`` (C or C++) in ``tmp_path`` with the generated headers there."""
    require_tool(compiler)
    src = tmp_path / (output + (".c" if lang == "c" else ".cc"))
    src.write_text(source)
    exe = tmp_path / output
    cmd = [compiler, *flags, "-I", str(tmp_path), str(src), *map(str, extra_sources), "-o", str(exe)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stderr}"
    return exe


def readelf_notes(path: Path) -> str:
    return subprocess.run(["readelf", "-n", str(path)], capture_output=True, text=True,
                          check=True).stdout


@dataclass
class Note:
    """One NT_STAPSDT note as ``readelf -n`` prints it (the peer's view)."""

    provider: str
    name: str
    location: int
    base: int
    semaphore: int
    args: list[str]

    @property
    def prefixes(self) -> list[str]:
        return [a.split("@", 1)[0] for a in self.args]

    @property
    def operands(self) -> list[str]:
        return [a.split("@", 1)[1] for a in self.args]


# arguments are separated by one space; aarch64 operands ("[sp, 12]") contain spaces too
_ARG_SPLIT = re.compile(r" (?=-?\d+f?@)")


def parse_stapsdt_notes(text: str) -> list[Note]:
    """The NT_STAPSDT notes of ``readelf -n`` output, in order."""
    notes: list[Note] = []
    current: dict = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("Provider: "):
            current = {"provider": line[len("Provider: "):]}
        elif line.startswith("Name: ") and current:
            current["name"] = line[len("Name: "):]
        elif line.startswith("Location: ") and current:
            m = re.fullmatch(r"Location: (0x[0-9a-f]+), Base: (0x[0-9a-f]+), "
                             r"Semaphore: (0x[0-9a-f]+)", line)
            assert m, f"unexpected readelf line: {line!r}"
            current.update(location=int(m[1], 16), base=int(m[2], 16), semaphore=int(m[3], 16))
        elif line.startswith("Arguments:") and current:
            args_text = line[len("Arguments:"):].strip()
            notes.append(Note(args=_ARG_SPLIT.split(args_text) if args_text else [], **current))
            current = {}
    return notes


# -- tracers the tests start ------------------------------------------------------------------

def _usdtgen_executable() -> str | None:
    beside = Path(sys.executable).with_name("usdtgen")
    return str(beside) if beside.exists() else shutil.which("usdtgen")


USDTGEN = _usdtgen_executable()
GROUP_LINE = re.compile(r"^[pr]:(usdtgen_(\d+)_\d+)/")   # a uprobe_events line of a usdtgen group
OUR_TRACERS: set[int] = set()       # pids of every tracer the running test started


def usdtgen_event_lines() -> list[str]:
    """The uprobe_events lines that belong to usdtgen groups."""
    try:
        text = (TRACEFS / "uprobe_events").read_text()
    except OSError:
        return []
    return [line for line in text.splitlines() if GROUP_LINE.match(line)]


def tracer_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lines_of(pid: int) -> list[str]:
    """The uprobe_events lines of tracer ``pid``'s groups (usdtgen_<pid>_<n>)."""
    return [line for line in usdtgen_event_lines() if GROUP_LINE.match(line)[2] == str(pid)]


def remove_uprobe_event(group_and_name: str) -> None:
    fd = os.open(TRACEFS / "uprobe_events", os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, f"-:{group_and_name}\n".encode())
    except OSError:
        pass
    finally:
        os.close(fd)


def no_uprobe_events_left_after():
    """The body of a test module's autouse fixture: after the test, no usdtgen_ group line of
    a tracer it started, and no new line of a dead tracer (groups of other live tracers, e.g.
    parallel sessions, are left alone). Lines of dead tracers are removed once reported."""
    before = set(usdtgen_event_lines())
    OUR_TRACERS.clear()
    yield
    left = []
    for line in usdtgen_event_lines():
        pid = int(GROUP_LINE.match(line)[2])
        if pid in OUR_TRACERS or (line not in before and not tracer_alive(pid)):
            left.append(line)
    OUR_TRACERS.clear()
    for line in left:
        if not tracer_alive(int(GROUP_LINE.match(line)[2])):
            remove_uprobe_event(line.split()[0].split(":", 1)[1])
    assert not left, f"{len(left)} uprobe events left behind:\n" + "\n".join(left[:5])


class Processes:
    """Processes a test starts; ``with Processes() as procs:`` stops and reaps them all, the
    tracers first with SIGTERM (a tracer removes its events then), anything left with SIGKILL."""

    def __init__(self):
        self.procs: list[subprocess.Popen] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for proc in reversed(self.procs):
            if proc.poll() is None and proc.pid in OUR_TRACERS:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
            if proc.poll() is None:
                proc.kill()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            for stream in (proc.stdout, proc.stderr, proc.stdin):
                if stream:
                    stream.close()

    def start(self, cmd, *, tracer: bool = False, **kwargs) -> subprocess.Popen:
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        proc = subprocess.Popen([str(c) for c in cmd], **kwargs)
        self.procs.append(proc)
        if tracer:
            OUR_TRACERS.add(proc.pid)
        return proc

    def trace(self, *args, **kwargs) -> subprocess.Popen:
        """``usdtgen trace ARGS`` in the background (no tty: stdin is /dev/null)."""
        require(USDTGEN is not None, "the usdtgen executable is not installed")
        kwargs.setdefault("stdout", subprocess.PIPE)
        kwargs.setdefault("stderr", subprocess.PIPE)
        kwargs.setdefault("text", True)
        return self.start([USDTGEN, "trace", *args], tracer=True, **kwargs)


def trace_to_end(*args, timeout: float = 40, cwd=None, env=None) -> subprocess.CompletedProcess:
    """Run ``usdtgen trace ARGS`` to its end: it never prints a traceback, and none of its
    uprobe events is left once it has ended."""
    with Processes() as procs:
        proc = procs.trace(*args, cwd=cwd, env=env)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"usdtgen trace {' '.join(map(str, args))} did not end in {timeout} s")
    assert "Traceback" not in err, err
    assert lines_of(proc.pid) == [], "uprobe events left after the trace ended"
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


class Lines:
    """A process's output lines, collected in a thread so tests can wait for them."""

    def __init__(self, stream):
        self.lines: list = []
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream):
        for line in stream:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self.lines.append(None)            # end of stream
            self._cond.notify_all()

    def wait(self, predicate, timeout: float, what: str) -> list[str]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.snapshot()):
                left = deadline - time.monotonic()
                if left <= 0 or (self.lines and self.lines[-1] is None):
                    pytest.fail(f"timed out waiting for {what}; last lines: {self.lines[-5:]}")
                self._cond.wait(min(left, 0.5))
            return self.snapshot()

    def first(self, prefix: str, timeout: float = 20) -> list[str]:
        """The words of the first line starting with ``prefix`` (waiting for it)."""
        lines = self.wait(lambda ls: any(line.startswith(prefix) for line in ls), timeout,
                          f"a line {prefix!r}")
        return next(line for line in lines if line.startswith(prefix)).split()

    def ended(self, timeout: float = 20) -> list[str]:
        deadline = time.monotonic() + timeout
        self._thread.join(timeout)
        if time.monotonic() > deadline or self._thread.is_alive():
            pytest.fail(f"the output did not end; last lines: {self.lines[-5:]}")
        return self.snapshot()

    def snapshot(self) -> list[str]:
        with self._cond:
            return [line for line in self.lines if line is not None]

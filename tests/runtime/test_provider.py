"""Probes defined and fired from Python (usdtgen.runtime.provider), and the module
``usdtgen python`` generates, as their users rely on them.

In this process (no tracer; a probe is enabled here the way the kernel enables it, by raising
its semaphore in place): bad declarations raise ProbeDefinitionError; a disabled probe converts
nothing; wrong argument counts raise TypeError naming the signature always, wrong types and
out-of-range integers only while enabled; several providers; unload(); the generated module's
docstring, signatures and lazy loading.

In firing programs run as subprocesses (so that ``usdtgen trace -p`` can attach; they
synchronize through stdout lines and files): every value arrives exactly; ``enabled`` follows
the tracer; ``usdtgen list -p``, ``bpftrace -l`` and gdb see the probes; a forked child keeps
working probes; four threads deliver every event; nothing is written outside the runtime
directory; the generated module fires its probes.

Every test that traces leaves ``uprobe_events`` as it found it (checked after each test).
"""
from __future__ import annotations

import ctypes
import enum
import importlib.util
import inspect
import itertools
import json
import os
import re
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
import conftest
from conftest import GROUP_LINE, OUR_TRACERS, Lines, USDTGEN, ensure_tracefs, require, \
    require_tool, usdtgen_event_lines

import usdtgen
from usdtgen.runtime.provider import ProbeDefinitionError, Provider, Semaphore


# the firing programs import the usdtgen this process tests, wherever it is installed
PACKAGE_ROOT = str(Path(usdtgen.__file__).resolve().parent.parent)

# -- the firing program -----------------------------------------------------------------------------
FIRE_PY = r'''
import ctypes, os, sys, threading, time
from usdtgen.runtime.provider import Provider

PAD = "w" * 300          # long warm-up lines fill the tracer's output buffer quickly


def say(*words):
    print(*words, flush=True)


def usdtgen_maps():
    with open("/proc/self/maps") as f:
        return [line.split(None, 5)[5].strip() for line in f
                if "usdtgen" in line and len(line.split(None, 5)) == 6]


def give_up(what):
    say("timeout waiting for", what)
    os._exit(2)


def wait_file(path, seconds=40.0):
    deadline = time.monotonic() + seconds
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            give_up(path)
        time.sleep(0.002)


def warm_until(probe, go, seconds=40.0):
    """Fire probe(i, PAD) until the file go exists: the test creates it once its tracer has
    printed one of these events, i.e. once the tracer is surely reading."""
    deadline, i = time.monotonic() + seconds, 0
    while not os.path.exists(go):
        probe(i, PAD)
        i += 1
        if time.monotonic() > deadline:
            give_up(go)
        time.sleep(0.002)


def attempt(what, probe, *args):
    try:
        probe(*args)
    except Exception as e:
        say(f"ERROR {what}: {type(e).__name__}: {e}")


def values(go):
    vals = Provider("pyvals")
    warm = vals.probe("warm", "int i, const char *pad")
    ints = vals.probe("ints", "long long big, int neg, long long smax, long long smin, "
                              "unsigned long long umax")
    pyints = vals.probe("pyints", int, int)
    flags = vals.probe("flags", bool, bool)
    text = vals.probe("text", "const char *s, const char *empty, const char *raw")
    pystr = vals.probe("pystr", str)
    blob = vals.probe("blob", bytes)
    many = vals.probe("many", "int a, long long b, short c, unsigned char d, bool e, "
                              "const char *f, int g, long long h, signed char i, "
                              "unsigned short j, unsigned long long k, const char *l")
    nullable = vals.probe("nullable", "const char *s, int after")
    other = Provider("pyother")
    tick = other.probe("tick", int)
    vals.load()
    other.load()
    say("ready", os.getpid())
    warm_until(warm, go)
    data = b"blob\x00with\x01bytes\xff"
    attempt("ints", ints, 2**40 + 7, -5, 2**63 - 1, -(2**63), 2**64 - 1)
    attempt("pyints", pyints, -(2**63), 2**63 - 1)
    attempt("flags", flags, True, False)
    attempt("text", text, "h\u00e9llo w\u00f6rld \u2713", "", b"raw bytes \x01")
    attempt("pystr", pystr, "\u65e5\u672c\u8a9e \U0001f600")
    attempt("blob", blob, data)
    say("blob", ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value)
    attempt("many", many, -1, -(2**40), -300, 255, True, "six", -70000, 2**62 + 5, -128,
            65535, 2**64 - 2, "twelve")
    attempt("tick", tick, 42)
    attempt("nullable", nullable, None, 7)
    say("fired")


def watch(stop):
    """Every 10 ms: fire guarded(k) if enabled, then print E=<enabled>."""
    p = Provider("pywatch")
    guarded = p.probe("guarded", "long k")
    p.load()
    say("ready", os.getpid(), type(guarded.enabled).__name__)
    k, deadline = 0, time.monotonic() + 50
    while not os.path.exists(stop) and time.monotonic() < deadline:
        if guarded.enabled:
            guarded(k)
            k += 1
        say(f"E={int(bool(guarded.enabled))}")
        time.sleep(0.01)


def idle(go):
    a = Provider("pyidle")
    a.probe("request", "int id, const char *path")
    a.probe("done", bool)
    b = Provider("pyidletwo")
    b.probe("tick", int)
    a.load()
    b.load()
    say("ready", os.getpid(), a.path, b.path)
    wait_file(go)


def fork(go):
    p = Provider("pyfork")
    warm = p.probe("warm", "int i, const char *pad")
    forked = p.probe("forked", "int pid, int i")
    p.load()
    child = os.fork()
    if child == 0:
        try:
            say("child", os.getpid())
            warm_until(warm, go)
            for i in range(50):
                forked(os.getpid(), i)
            say("child-enabled", int(bool(forked.enabled)))
        finally:
            os._exit(0)
    say("parent", os.getpid())
    _, status = os.waitpid(child, 0)
    for i in range(5):
        forked(os.getpid(), 1000 + i)          # the parent's probes still work (untraced)
    say("parent-done", os.waitstatus_to_exitcode(status))


def threads(go):
    p = Provider("pythreads")
    warm = p.probe("warm", "int i, const char *pad")
    work = p.probe("work", "int idx, int k")
    p.load()
    say("ready", os.getpid())
    warm_until(warm, go)
    per_thread = int(sys.argv[3])
    barrier = threading.Barrier(4)
    tids = {}

    def run(idx):
        tids[idx] = threading.get_native_id()
        barrier.wait()
        for k in range(per_thread):
            work(idx, k)
            if k % 16 == 0:
                time.sleep(0)                  # let the other threads in
    workers = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    say("tids", *(tids[i] for i in range(4)))
    say("fired")


def files(go):
    if sys.argv[3] == "fallback":
        del os.memfd_create                    # as where memfd is missing
    p = Provider("pyfiles")
    tick = p.probe("tick", int)
    p.load()
    tick(1)
    say("ready", os.getpid(), p.path)
    wait_file(go)


def genmod(go):
    sys.path.insert(0, sys.argv[3])
    import genmod
    say("imported", len(usdtgen_maps()))
    warm = genmod.warm                         # the first use: builds and loads
    say("loaded", len(usdtgen_maps()), *usdtgen_maps()[:1])
    say("ready", os.getpid())
    warm_until(warm, go)
    genmod.request__start(7, "/index.html")
    genmod.done(2**64 - 1, -1)
    genmod.paint(1, True, "label")
    genmod.empty()
    say("fired")


globals()[sys.argv[1]](sys.argv[2])
'''


@pytest.fixture
def fire_py(tmp_path) -> Path:
    path = tmp_path / "fire.py"
    path.write_text(FIRE_PY)
    return path


# -- uprobe_events bookkeeping ------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def no_uprobe_events_left():
    """After each test: no uprobe event of a tracer this test started is left behind."""
    OUR_TRACERS.clear()
    yield
    left = [line for line in usdtgen_event_lines()
            if int(GROUP_LINE.match(line)[2]) in OUR_TRACERS]
    OUR_TRACERS.clear()
    assert not left, f"{len(left)} uprobe events left behind:\n" + "\n".join(left[:5])


# -- running things -------------------------------------------------------------------------------------

class Processes(conftest.Processes):
    """Processes a test starts: firing scripts and tracers."""

    def fire(self, fire_py: Path, mode: str, *args, env=None) -> tuple[subprocess.Popen, Lines]:
        env = dict(os.environ if env is None else env)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_ROOT, env.get("PYTHONPATH")]))
        proc = self.start([sys.executable, fire_py, mode, *args], stdout=subprocess.PIPE,
                          text=True, encoding="utf-8", env=env)
        return proc, Lines(proc.stdout)

    def trace(self, *args) -> tuple[subprocess.Popen, Lines]:
        """``usdtgen trace --json ARGS`` in the background, its stdout collected."""
        require(USDTGEN is not None, "the usdtgen executable is not installed")
        proc = self.start([USDTGEN, "trace", "--json", *args], tracer=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          encoding="utf-8")
        return proc, Lines(proc.stdout)


def records(lines: list[str]) -> list[dict]:
    return [json.loads(line) for line in lines if line.strip()]


def events_and_summary(lines: list[str]) -> tuple[list[dict], dict]:
    found = records(lines)
    assert found and found[-1]["type"] == "summary", lines[-3:]
    assert all(r["type"] == "event" for r in found[:-1])
    return found[:-1], found[-1]


def saw_event(probe: str):
    return lambda lines: any(f'"probe": "{probe}"' in line for line in lines)


def traced_run(procs: Processes, tmp_path: Path, fire: tuple, trace_pid_word: str,
               *filters: str) -> tuple[list[dict], dict, Lines]:
    """With the firing program started: trace the pid its line ``trace_pid_word PID``
    names, wait for a warm-up event, let it fire (``go``), then wait for both to end. Returns
    (events without the warm-ups, summary, the program's lines)."""
    go = tmp_path / "go"
    prog, out = fire
    pid = int(out.first(trace_pid_word + " ")[1])
    tracer, events = procs.trace("-p", str(pid), *filters)
    try:
        events.wait(saw_event("warm"), 20, "the tracer to print a warm-up event")
    except pytest.fail.Exception as e:
        if tracer.poll() is not None:
            pytest.fail(f"{e}\nusdtgen trace ended: {tracer.stderr.read()}")
        raise
    go.touch()
    try:
        prog.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the firing program did not end; last lines: {out.snapshot()[-5:]}")
    lines = events.ended(20)
    tracer.wait(timeout=10)
    err = tracer.stderr.read()
    assert "Traceback" not in err, err
    assert tracer.returncode == 0, err
    found, summary = events_and_summary(lines)
    # (warm-ups fired while the tracer opens its buffers may count as lost: not the others,
    # whose every event the callers check)
    return [e for e in found if e["probe"] != "warm"], summary, out


# -- in this process: declaring, calling, loading ----------------------------------------------------------
_names = iter(range(10**6))


def unique(prefix: str) -> str:
    """A provider name no other test of this process uses."""
    return f"{prefix}{os.getpid()}x{next(_names)}z"         # a name may not end in a digit


@contextmanager
def enabled(*probes):
    """Raise the probes' semaphores in place, as the kernel does when a tracer attaches."""
    for probe in probes:
        probe.enabled.value += 1
    try:
        yield
    finally:
        for probe in probes:
            probe.enabled.value -= 1


def mapped_objects(provider: str) -> list[str]:
    with open("/proc/self/maps") as f:
        return [line.split(None, 5)[5].strip() for line in f
                if len(line.split(None, 5)) == 6 and f"usdtgen-{provider}" in line]


class Unconvertible:
    """Raises on every conversion cffi or the runtime could attempt."""

    def __index__(self):
        raise RuntimeError("converted (__index__)")

    def __int__(self):
        raise RuntimeError("converted (__int__)")

    def __str__(self):
        raise RuntimeError("converted (__str__)")

    def __bytes__(self):
        raise RuntimeError("converted (__bytes__)")

    def __bool__(self):
        raise RuntimeError("converted (__bool__)")


class UnencodableStr(str):
    def encode(self, *args, **kwargs):
        raise RuntimeError("converted (encode)")


@pytest.mark.parametrize("declare, message", [
    (lambda p: p.probe("f", float), "float"),
    (lambda p: p.probe("f", int, float), "float"),
    (lambda p: p.probe("f", "double x"), "floating point"),
    (lambda p: p.probe("f", "float x, int y"), "floating point"),
    (lambda p: p.probe("f", *[int] * 13), "13 arguments"),
    (lambda p: p.probe("f", ", ".join(f"int a{i}" for i in range(13))), "13 arguments"),
    (lambda p: p.probe("f", "widget_t w"), "widget_t"),
    (lambda p: p.probe("f", "struct conn c"), "conn"),
    (lambda p: p.probe("f", list), "list"),
    (lambda p: p.probe("f", "int x, int x"), "x"),
    (lambda p: p.probe("bad-name", int), "bad-name"),
    (lambda p: p.probe("1st", int), "1st"),
    (lambda p: p.probe("", int), "''"),
    (lambda p: p.probe("two words", int), "two words"),
], ids=["float type", "float second", "double", "float in D", "13 types", "13 in D",
        "unknown type", "struct by value", "list type", "duplicate parameter", "dash",
        "leading digit", "empty name", "space"])
def test_bad_declarations_raise_probe_definition_error(declare, message):
    provider = Provider(unique("pybad"))
    with pytest.raises(ProbeDefinitionError, match=re.escape(message)):
        declare(provider)
    assert issubclass(ProbeDefinitionError, ValueError)
    # nothing half-declared: the provider still loads, with no probe
    provider.load()
    try:
        assert provider.loaded
    finally:
        provider.unload()


def test_bad_provider_names_duplicates_and_late_declarations():
    for name in ("bad-provider", "1provider", "", "two words"):
        with pytest.raises(ProbeDefinitionError):
            Provider(name)
    provider = Provider(unique("pydecl"))
    twelve = provider.probe("twelve", *[int] * 12)           # the limit is fine
    provider.probe("request", "int id, const char *path")
    with pytest.raises(ProbeDefinitionError, match="twice"):
        provider.probe("request", int)
    with pytest.raises(ProbeDefinitionError, match="twice"):
        provider.probe("twelve", "int x")
    provider.load()
    try:
        with pytest.raises(ProbeDefinitionError, match="load"):
            provider.probe("late", int)
        with enabled(twelve):
            twelve(*range(12))
    finally:
        provider.unload()
    provider.probe("late", int)                  # after unload() it can be declared again


def test_probe_is_a_plain_function_with_the_declared_parameters():
    name = unique("pyshape")
    provider = Provider(name)
    request = provider.probe("request", "int id, const char *path")
    typed = provider.probe("typed", int, str, bytes, bool)
    for probe in (request, typed):
        assert inspect.isfunction(probe)
        assert isinstance(probe.enabled, Semaphore) and not probe.enabled
        assert probe.enabled == False               # the documented comparison
    assert request.__name__ == "request"
    signature = inspect.signature(request)
    assert list(signature.parameters) == ["id", "path"]
    assert [p.annotation for p in signature.parameters.values()] == [int, str]
    assert list(inspect.signature(typed).parameters) == ["arg0", "arg1", "arg2", "arg3"]
    assert [p.annotation for p in inspect.signature(typed).parameters.values()] == \
        [int, str, bytes, bool]
    assert request(1, "/") is None
    provider.load()
    try:
        assert provider["request"] is request
        assert isinstance(request.enabled, Semaphore) and not request.enabled
        with enabled(request):
            assert request.enabled and request.enabled == True
            assert request(1, "/") is None
        assert not request.enabled
    finally:
        provider.unload()


def test_disabled_probe_converts_nothing():
    provider = Provider(unique("pyidle"))
    ints = provider.probe("ints", "int a, unsigned long long b")
    text = provider.probe("text", str, bytes)
    flag = provider.probe("flag", bool)
    calls = [
        (ints, (Unconvertible(), Unconvertible())),
        (ints, ("not an int", 2**99)),
        (text, (UnencodableStr("x"), Unconvertible())),
        (text, (Unconvertible(), "str for bytes")),
        (flag, (Unconvertible(),)),
    ]
    for probe, args in calls:               # before load(): no-ops
        probe(*args)
    provider.load()
    try:
        for probe, args in calls:           # loaded, no tracer: still converts nothing
            assert not probe.enabled
            probe(*args)
        # while enabled the same calls do convert: the laziness above was real
        with enabled(ints, text):
            with pytest.raises(RuntimeError, match="converted"):
                ints(Unconvertible(), 0)
            with pytest.raises((RuntimeError, TypeError)):
                text(Unconvertible(), b"")
    finally:
        provider.unload()


def test_wrong_argument_count_raises_always_naming_the_signature():
    name = unique("pycount")
    provider = Provider(name)
    request = provider.probe("request", "int id, const char *path")
    signature = f"{name}:request(int id, const char *path)"

    def check():
        for args in [(), (1,), (1, "/", 3)]:
            with pytest.raises(TypeError) as caught:
                request(*args)
            assert signature in str(caught.value), str(caught.value)
        with pytest.raises(TypeError) as caught:
            request(1, "/", extra=2)
        assert signature in str(caught.value)
    check()                                  # declared, not loaded
    provider.load()
    try:
        check()                              # loaded, disabled
        with enabled(request):
            check()                          # enabled
    finally:
        provider.unload()
    check()                                  # unloaded


def test_wrong_types_and_ranges_raise_only_while_enabled():
    name = unique("pytypes")
    provider = Provider(name)
    small = provider.probe("small", "int n, unsigned char u")
    big = provider.probe("big", "long long s, unsigned long long u")
    text = provider.probe("text", "const char *s")
    pyint = provider.probe("pyint", int)
    bad_types = [(small, ("7", 1)), (small, (1.5, 1)), (small, (None, 1)), (big, ([], 0)),
                 (text, (3.5,)), (text, (object(),)), (pyint, ("1",))]
    out_of_range = [(small, (2**31, 0)), (small, (-(2**31) - 1, 0)), (small, (0, 256)),
                    (small, (0, -1)), (big, (2**63, 0)), (big, (-(2**63) - 1, 0)),
                    (big, (0, 2**64)), (big, (0, -1)), (pyint, (2**63,))]
    provider.load()
    try:
        for probe, args in bad_types + out_of_range:        # disabled: nothing raised
            probe(*args)
        probes = (small, big, text, pyint)
        with enabled(*probes):
            for probe, args in bad_types:
                with pytest.raises(TypeError) as caught:
                    probe(*args)
                assert probe.signature in str(caught.value), (args, str(caught.value))
                assert probe.signature.startswith(f"{name}:")
            for probe, args in out_of_range:
                with pytest.raises(OverflowError):
                    probe(*args)
            # the limits themselves pass
            small(2**31 - 1, 255)
            small(-(2**31), 0)
            big(2**63 - 1, 2**64 - 1)
            big(-(2**63), 0)
            pyint(-(2**63))
            text(12345)                       # an int is an address for char *
    finally:
        provider.unload()


def test_none_is_a_null_pointer_while_enabled():
    """The generated module annotates strings ``str | bytes | None`` and pointers
    ``bytes | int | None``: None must pass as NULL (trace shows it as null)."""
    provider = Provider(unique("pynull"))
    text = provider.probe("text", "const char *s")
    raw = provider.probe("raw", bytes)
    provider.load()
    try:
        with enabled(text, raw):
            text(None)
            raw(None)
    finally:
        provider.unload()


def test_str_subclasses_are_strings_while_enabled():
    """A str subclass (an enum.StrEnum member, a markup string) is a str: it must fire."""
    class Color(str, enum.Enum):
        RED = "red"

    class Tagged(str):
        pass

    provider = Provider(unique("pysub"))
    text = provider.probe("text", str)
    provider.load()
    try:
        with enabled(text):
            text(Tagged("tagged"))
            text(Color.RED)
    finally:
        provider.unload()


def test_several_providers_in_one_process():
    first, second = unique("pyfirst"), unique("pysecond")
    a, b = Provider(first), Provider(second)
    a_tick, a_other = a.probe("tick", int), a.probe("other", str)
    b_tick = b.probe("tick", int)                  # the same probe name, another provider
    a.load()
    b.load()
    try:
        assert a.path != b.path
        assert mapped_objects(first) and mapped_objects(second)
        assert all(f"/memfd:usdtgen-{first}" in m for m in mapped_objects(first))
        assert ctypes.addressof(a_tick.enabled) != ctypes.addressof(b_tick.enabled)
        with enabled(a_tick):
            assert a_tick.enabled and not b_tick.enabled and not a_other.enabled
            a_tick(1)
        with enabled(b_tick):
            assert b_tick.enabled and not a_tick.enabled
            b_tick(2)
        assert a_tick.signature == f"{first}:tick(long long arg0)"
        assert b_tick.signature == f"{second}:tick(long long arg0)"
    finally:
        a.unload()
        b.unload()


def test_unload_makes_probes_no_ops_and_unmaps_the_object():
    name = unique("pyunload")
    provider = Provider(name)
    tick = provider.probe("tick", "int i")
    provider.load()
    path = provider.path
    assert provider.loaded and path
    maps = mapped_objects(name)
    assert maps and all(m.startswith(f"/memfd:usdtgen-{name}") for m in maps), maps
    semaphore = tick.enabled
    provider.unload()
    assert not provider.loaded and provider.path is None
    assert mapped_objects(name) == [], "the object is still mapped after unload()"
    fd = int(path.rsplit("/", 1)[1]) if path.startswith("/proc/self/fd/") else None
    if fd is not None:                                  # its fd is closed too
        try:
            assert f"usdtgen-{name}" not in os.readlink(f"/proc/self/fd/{fd}")
        except FileNotFoundError:
            pass
    assert tick.enabled is not semaphore and not tick.enabled
    tick(Unconvertible())                               # a no-op: converts nothing
    tick("x")
    provider.unload()                                   # twice is fine
    # and it can be loaded again, live again
    provider.load()
    try:
        assert mapped_objects(name)
        with enabled(tick):
            tick(3)
            with pytest.raises(TypeError):
                tick("x")
    finally:
        provider.unload()
    assert mapped_objects(name) == []


def test_a_provider_redefined_with_other_types_loads():
    """Two Provider objects of one name, one after the other, with different argument types
    (a reloaded plugin, a test suite): the second one must load and fire."""
    name = unique("pyredef")
    first = Provider(name)
    first.probe("tick", int)
    first.load()
    first.unload()
    second = Provider(name)
    tick = second.probe("tick", "const char *s")
    second.load()
    try:
        with enabled(tick):
            tick("now a string")
    finally:
        second.unload()


# -- the generated module ------------------------------------------------------------------------------------
GEN_D = """\
/* typedefs and unnamed parameters, as real provider files have them */
typedef unsigned long long nanos_t;
typedef int conn_id_t;
typedef enum { RED, GREEN } color_t;

provider genapp {
  probe warm(int i, const char *pad);
  probe request__start(conn_id_t id, const char *path);
  probe done(nanos_t, int);
  probe paint(color_t color, bool, char *label);
  probe empty();
};
"""
GEN_SIGNATURES = {
    "warm": [("i", int), ("pad", str)],
    "request__start": [("id", int), ("path", str)],
    "done": [("arg0", int), ("arg1", int)],
    "paint": [("color", int), ("arg1", bool), ("label", str)],
    "empty": [],
}


def generate_module(folder: Path, provider_text: str = GEN_D, name: str = "genmod") -> Path:
    require(USDTGEN is not None, "the usdtgen executable is not installed")
    source = folder / "gen.d"
    source.write_text(provider_text)
    module = folder / f"{name}.py"
    result = subprocess.run([USDTGEN, "python", str(source), "-o", str(module)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return module


_TYPE_NAMES = {"int": int, "str": str, "bytes": bytes, "bool": bool, "None": type(None)}


def _annotation_types(annotation) -> set:
    """int → {int}; 'str | bytes | None' or str | None → {str, bytes, NoneType}."""
    if isinstance(annotation, str):
        return {_TYPE_NAMES.get(part.strip(), part.strip()) for part in annotation.split("|")}
    args = getattr(annotation, "__args__", None)
    return set(args) if args else {annotation}


def test_generated_module_names_parameters_and_loads_on_first_use(tmp_path):
    # a provider name of its own, so that this process has never loaded it
    provider = unique("genapp")
    module_path = generate_module(tmp_path, GEN_D.replace("genapp", provider))
    spec = importlib.util.spec_from_file_location(f"genmod_{provider}", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        assert module.__doc__ and f"provider {provider!r}" in module.__doc__
        assert "request__start(conn_id_t id, const char *path)" in module.__doc__
        assert module.PROBES == tuple(GEN_SIGNATURES)
        assert mapped_objects(provider) == [], "importing the module loaded the provider"
        signature = inspect.signature(module.request__start)        # the first use
        assert mapped_objects(provider), "the first use did not load the provider"
        assert list(signature.parameters) == ["id", "path"]
        for probe, params in GEN_SIGNATURES.items():
            function = getattr(module, probe)
            assert callable(function) and function.__name__ == probe
            signature = inspect.signature(function)
            assert [(p.name, p.kind) for p in signature.parameters.values()] == \
                [(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n, _ in params], probe
            for (param_name, want), param in zip(params, signature.parameters.values()):
                assert want in _annotation_types(param.annotation), (probe, param_name,
                                                                     param.annotation)
            if not params:
                assert function() is None
        # calling them (disabled here) is a no-op; with the wrong count, a TypeError
        module.request__start(1, "/")
        with pytest.raises(TypeError, match=re.escape(f"{provider}:request__start")):
            module.request__start(1)
        assert module.provider() is module.provider()               # built once
        assert set(GEN_SIGNATURES) <= set(dir(module))
    finally:
        if module._provider is not None:
            module._provider.unload()


# -- with a tracer: every value arrives exactly ------------------------------------------------------------
def test_trace_receives_every_argument_exactly(fire_py, tmp_path):
    ensure_tracefs()
    with Processes() as procs:
        fire = procs.fire(fire_py, "values", tmp_path / "go")
        events, _, out = traced_run(procs, tmp_path, fire, "ready", "pyvals:*", "pyother:*")
        lines = out.ended()
    assert fire[0].returncode == 0, lines
    errors = [line for line in lines if line.startswith("ERROR")]
    pid = int(next(line for line in lines if line.startswith("ready")).split()[1])
    blob_address = int(next(line for line in lines if line.startswith("blob")).split()[1])
    assert {(e["pid"], e["tid"]) for e in events} == {(pid, pid)}
    got = {e["probe"]: e for e in events}
    assert got["ints"]["args"] == {"big": 2**40 + 7, "neg": -5, "smax": 2**63 - 1,
                                   "smin": -(2**63), "umax": 2**64 - 1}
    assert got["pyints"]["args"] == {"arg0": -(2**63), "arg1": 2**63 - 1}
    assert got["flags"]["args"] == {"arg0": True, "arg1": False}
    assert got["text"]["args"] == {"s": "h\u00e9llo w\u00f6rld \u2713", "empty": "",
                                   "raw": "raw bytes \x01"}
    assert got["pystr"]["args"] == {"arg0": "\u65e5\u672c\u8a9e \U0001f600"}
    assert got["blob"]["args"] == {"arg0": blob_address}, "not the bytes' own buffer"
    assert got["many"]["args"] == {"a": -1, "b": -(2**40), "c": -300, "d": 255, "e": True,
                                   "f": "six", "g": -70000, "h": 2**62 + 5, "i": -128,
                                   "j": 65535, "k": 2**64 - 2, "l": "twelve"}
    assert got["tick"]["provider"] == "pyother" and got["tick"]["args"] == {"arg0": 42}
    assert {e["provider"] for e in events if e["probe"] != "tick"} == {"pyvals"}
    # None for a char *: a NULL pointer, shown as null
    assert not errors, errors
    assert got["nullable"]["args"] == {"s": None, "after": 7}
    assert len(events) == 9, [e["probe"] for e in events]


def test_enabled_only_while_a_tracer_is_attached(fire_py, tmp_path):
    ensure_tracefs()
    stop = tmp_path / "stop"
    try:
        with Processes() as procs:
            prog, out = procs.fire(fire_py, "watch", stop)
            ready = out.first("ready")
            assert ready[2] == "Semaphore"
            out.wait(lambda ls: ls.count("E=0") >= 3, 10, "E=0 before tracing")
            assert "E=1" not in out.snapshot()
            tracer, lines = procs.trace("-p", ready[1], "--duration", "1")
            out.wait(lambda ls: "E=1" in ls, 15, "the program to see its probe enabled")
            assert tracer.wait(timeout=20) == 0, tracer.stderr.read()
            after = len(out.snapshot())
            out.wait(lambda ls: len(ls) >= after + 6, 10, "more lines after the trace")
            assert out.snapshot()[after:][-4:] == ["E=0"] * 4, "still enabled after the trace"
            events, summary = events_and_summary(lines.ended())
            ks = [e["args"]["k"] for e in events]
            assert summary["per_probe"] == {"pywatch:guarded": len(ks)}
            assert len(ks) >= 20, f"only {len(ks)} events in 1 s at one per 10 ms"
            assert ks == list(range(ks[0], ks[0] + len(ks))), ks
            assert prog.poll() is None
    finally:
        stop.touch()


# -- peers see the probes ---------------------------------------------------------------------------------------
@pytest.fixture
def idle_process(fire_py, tmp_path):
    go = tmp_path / "go"
    with Processes() as procs:
        _, out = procs.fire(fire_py, "idle", go)
        ready = out.first("ready")
        try:
            yield int(ready[1]), procs
        finally:
            go.touch()


def test_usdtgen_list_and_bpftrace_list_the_probes(idle_process):
    pid, _ = idle_process
    require(USDTGEN is not None, "the usdtgen executable is not installed")
    result = subprocess.run([USDTGEN, "list", "-p", str(pid)], capture_output=True, text=True,
                            timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    rows = {}
    for line in result.stdout.splitlines():
        match = re.match(r"\s+(pyidle(?:two)?:\w+)\s+(\d+)\s+(yes|no)\s*(.*)$", line)
        if match:
            rows[match[1]] = match[4].strip()
    assert rows == {"pyidle:request": "int id, const char *path", "pyidle:done": "bool arg0",
                    "pyidletwo:tick": "long long arg0"}, result.stdout
    assert "/memfd:usdtgen-pyidle" in result.stdout
    listed = subprocess.run([USDTGEN, "list", "-p", str(pid), "--json"], capture_output=True,
                            text=True, timeout=30, check=False)
    assert listed.returncode == 0, listed.stderr
    sites = [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]
    assert {(s["provider"], s["name"]) for s in sites} >= \
        {("pyidle", "request"), ("pyidle", "done"), ("pyidletwo", "tick")}

    bpftrace = require_tool("bpftrace")
    require(os.geteuid() == 0, "bpftrace -p needs root")
    result = subprocess.run([bpftrace, "-l", "usdt:*", "-p", str(pid)], capture_output=True,
                            text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    found = {tuple(line.rsplit(":", 2)[1:]) for line in result.stdout.splitlines()
             if line.startswith("usdt:")}
    assert {("pyidle", "request"), ("pyidle", "done"), ("pyidletwo", "tick")} <= found, \
        result.stdout


def test_gdb_lists_the_probes(idle_process):
    """gdb attaches, lists the probes of both providers and detaches, in a few seconds."""
    pid, procs = idle_process
    gdb = require_tool("gdb")
    require(os.geteuid() == 0, "gdb -p needs root (or ptrace rights)")
    proc = procs.start([gdb, "-nx", "-batch", "-p", str(pid), "-ex", "info probes"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=8)     # it takes well under a second
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        os.kill(pid, 9)                       # left stopped by the killed gdb
        pytest.fail("gdb -p hung attaching to a process with Python probes (it opens the "
                    "object's name, /proc/self/fd/N, in its own process)\n" + out[-2000:])
    assert proc.returncode == 0, out
    rows = {tuple(line.split()[1:3]) for line in out.splitlines()
            if line.startswith("stap ")}
    assert {("pyidle", "request"), ("pyidle", "done"), ("pyidletwo", "tick")} <= rows, out


# -- fork, threads ------------------------------------------------------------------------------------------------
def test_forked_child_keeps_working_probes(fire_py, tmp_path):
    ensure_tracefs()
    with Processes() as procs:
        fire = procs.fire(fire_py, "fork", tmp_path / "go")
        events, summary, out = traced_run(procs, tmp_path, fire, "child", "pyfork:*")
        lines = out.ended()
    child = int(next(line for line in lines if line.startswith("child ")).split()[1])
    parent = int(next(line for line in lines if line.startswith("parent ")).split()[1])
    assert child != parent
    assert "child-enabled 1" in lines
    assert "parent-done 0" in lines, lines
    assert fire[0].returncode == 0
    assert [(e["pid"], e["probe"], e["args"]["pid"], e["args"]["i"]) for e in events] == \
        [(child, "forked", child, i) for i in range(50)]
    assert summary["per_probe"]["pyfork:forked"] == 50


def test_four_threads_deliver_every_event(fire_py, tmp_path):
    ensure_tracefs()
    per_thread = 1000
    with Processes() as procs:
        fire = procs.fire(fire_py, "threads", tmp_path / "go", str(per_thread))
        events, summary, out = traced_run(procs, tmp_path, fire, "ready", "pythreads:*")
        lines = out.ended()
    assert fire[0].returncode == 0, lines
    tids = [int(t) for t in next(line for line in lines if line.startswith("tids")).split()[1:]]
    assert len(set(tids)) == 4
    by_idx: dict[int, list] = {}
    for e in events:
        assert e["probe"] == "work"
        by_idx.setdefault(e["args"]["idx"], []).append(e)
    assert sorted(by_idx) == [0, 1, 2, 3]
    for idx, evs in by_idx.items():
        assert [e["args"]["k"] for e in evs] == list(range(per_thread)), idx
        assert {e["tid"] for e in evs} == {tids[idx]}, idx
    assert summary["per_probe"]["pythreads:work"] == 4 * per_thread
    # concurrently: in time order, the threads' events interleave
    in_time = [e["args"]["idx"] for e in sorted(events, key=lambda e: e["time"])]
    switches = sum(1 for x, y in itertools.pairwise(in_time) if x != y)
    assert switches >= 12, f"the threads hardly interleaved ({switches} switches)"


# -- files ---------------------------------------------------------------------------------------------------------
def _usdtgen_entries(folder: str) -> set[str]:
    try:
        return {name for name in os.listdir(folder) if "usdtgen" in name}
    except FileNotFoundError:
        return set()


def tempfile_dir() -> str:
    import tempfile
    return tempfile.gettempdir()


def _all_files(folder: Path) -> list[str]:
    return [str(p.relative_to(folder)) for p in folder.rglob("*")]


@pytest.mark.parametrize("how", ["memfd", "fallback"])
def test_nothing_written_outside_the_runtime_directory_nothing_left(fire_py, tmp_path, how):
    runtime, tmpdir = tmp_path / "runtime", tmp_path / "tmpdir"
    runtime.mkdir(mode=0o700)
    tmpdir.mkdir()
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), TMPDIR=str(tmpdir))
    shared = ["/tmp", "/dev/shm", tempfile_dir()]
    before = {folder: _usdtgen_entries(folder) for folder in shared}
    with Processes() as procs:
        prog, out = procs.fire(fire_py, "files", tmp_path / "go", how, env=env)
        ready = out.first("ready")
        pid = int(ready[1])
        maps = [line.split(None, 5)[5].strip()
                for line in Path(f"/proc/{pid}/maps").read_text().splitlines()
                if "usdtgen" in line and len(line.split(None, 5)) == 6]
        fds = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        fds = [target for target in fds if "usdtgen" in target]
        if how == "memfd":
            assert maps and set(maps) == {"/memfd:usdtgen-pyfiles (deleted)"}, maps
            assert fds == ["/memfd:usdtgen-pyfiles (deleted)"], fds
        else:
            assert maps and all(m.startswith(str(runtime) + "/usdtgen-") and
                                m.endswith("/libusdtgen-pyfiles.so (deleted)") for m in maps), maps
            # still traceable where it was loaded from
            listed = subprocess.run([USDTGEN, "list", "-p", str(pid)], capture_output=True,
                                    text=True, timeout=30, check=False)
            assert "pyfiles:tick" in listed.stdout, listed.stdout + listed.stderr
        assert _all_files(runtime) == [], "a file is left in the runtime directory while running"
        assert _all_files(tmpdir) == []
        for folder in shared:
            assert _usdtgen_entries(folder) - before[folder] == set(), folder
        (tmp_path / "go").touch()
        assert prog.wait(timeout=20) == 0, out.snapshot()
    assert _all_files(runtime) == [] and _all_files(tmpdir) == []
    for folder in shared:
        assert _usdtgen_entries(folder) - before[folder] == set(), folder


# -- the generated module, traced --------------------------------------------------------------------------------
def test_generated_module_fires_its_probes(fire_py, tmp_path):
    ensure_tracefs()
    generate_module(tmp_path)
    with Processes() as procs:
        prog, out = procs.fire(fire_py, "genmod", tmp_path / "go", tmp_path)
        imported = out.first("imported")
        assert imported[1] == "0", "importing the generated module mapped the provider"
        loaded = out.first("loaded")
        assert int(loaded[1]) >= 1 and loaded[2] == "/memfd:usdtgen-genapp", loaded
        events, _, out = traced_run(procs, tmp_path, (prog, out), "ready", "genapp:*")
        lines = out.ended()
    assert prog.returncode == 0, lines
    assert [(e["provider"], e["probe"], e["args"]) for e in events] == [
        ("genapp", "request__start", {"id": 7, "path": "/index.html"}),
        ("genapp", "done", {"arg0": 2**64 - 1, "arg1": -1}),
        ("genapp", "paint", {"color": 1, "arg1": True, "label": "label"}),
        ("genapp", "empty", {}),
    ]


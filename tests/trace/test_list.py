"""``usdtgen list``, run as the real ``usdtgen`` executable: programs built with our header
(typed prototypes from the type note) and with sys/sdt.h (argument specs, --types), filters,
-v and --json checked against ``readelf -n`` and the ELF section headers, PATH look-up, and
-p PID on running processes (libstdc++, python3.11, a deleted binary, a memfd-loaded
library); errors are one line naming the target, never a traceback.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from conftest import compile_program, readelf_notes, require, write_header

LIBSTDCXX = Path("/usr/lib/x86_64-linux-gnu/libstdc++.so.6")
PYTHON311 = Path("/usr/bin/python3.11")


def _usdtgen() -> str | None:
    beside = Path(sys.executable).with_name("usdtgen")
    return str(beside) if beside.exists() else shutil.which("usdtgen")


USDTGEN = _usdtgen()


def usdtgen_list(*args, env=None, cwd=None) -> subprocess.CompletedProcess:
    require(USDTGEN is not None, "the usdtgen executable is not installed")
    result = subprocess.run([USDTGEN, "list", *map(str, args)], capture_output=True, text=True,
                            env=env, cwd=cwd, timeout=60)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def stderr_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


# -- programs -----------------------------------------------------------------------------------
OURS_D = """\
provider myapp {
  probe request__start(int id, const char *path);
  probe request__done(int id, long status);
  probe tick();
};
"""
OURS_C = """\
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "probes.h"

int main(int argc, char **argv)
{
  MYAPP_REQUEST_START(1, argv[0]);
  MYAPP_REQUEST_START(argc + 1, "second");
  MYAPP_REQUEST_DONE(1, 200L);
  if (MYAPP_TICK_ENABLED())
    MYAPP_TICK();
  MYAPP_TICK();
  MYAPP_TICK();
  if (argc > 1 && strcmp(argv[1], "wait") == 0) {
    printf("ready\\n");
    fflush(stdout);
    sleep(120);
  }
  return 0;
}
"""
# site counts at -O0: one site per macro use
OURS_SITES = {"request__start": 2, "request__done": 1, "tick": 3}
OURS_PROTOTYPES = {"request__start": "int id, const char *path",
                   "request__done": "int id, long status", "tick": ""}

SDT_C = """\
#include <sys/sdt.h>
int g_count = 5;
int main(int argc, char **argv)
{
  STAP_PROBE2(theirs, request, argc, argv[0]);
  STAP_PROBE2(theirs, request, g_count, argv[1]);
  STAP_PROBE(theirs, idle);
  STAP_PROBE3(theirs, triple, argc, (long)argc, (char)argc);
  return 0;
}
"""
THEIRS_D = """\
provider theirs {
  probe request(int id, const char *path);
  probe idle();
  probe triple(int, long n, char c);
};
"""

CXX_C = """\
#include <cstdio>
#include <stdexcept>
#include <unistd.h>
int main()
{
  std::printf("ready\\n");
  std::fflush(stdout);
  for (int i = 0; i < 1200; i++) {
    try { throw std::runtime_error("tick"); } catch (const std::exception &) {}
    usleep(100000);
  }
  return 0;
}
"""

MEMLIB_D = "provider memlib { probe hello(int n); };\n"
MEMLIB_C = """\
#include "probes.h"
int lib_fire(int n) { MEMLIB_HELLO(n); return n + 1; }
"""
MEMFD_HELPER = """\
import ctypes, os, sys, time
data = open(sys.argv[1], "rb").read()
fd = os.memfd_create("usdtgen-test-lib", 0)
os.write(fd, data)
os.unlink(sys.argv[1])
lib = ctypes.CDLL(f"/proc/self/fd/{fd}")
lib.lib_fire(1)
print("ready", flush=True)
time.sleep(120)
"""


def build_ours(tmp_path: Path, flags=("-O0",), output="ours") -> Path:
    write_header(tmp_path, OURS_D)
    return compile_program(tmp_path, OURS_C, flags=flags, output=output)


def build_sdt(tmp_path: Path, flags=("-O2",)) -> Path:
    require(Path("/usr/include/x86_64-linux-gnu/sys/sdt.h").exists(),
            "systemtap-sdt-dev is not installed")
    return compile_program(tmp_path, SDT_C, flags=flags, output="theirs")


def start(cmd, **kwargs) -> subprocess.Popen:
    """Start a helper that prints 'ready' once it has mapped what the test lists."""
    proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)
    line = proc.stdout.readline()
    if line.strip() != "ready":
        stop(proc)
        pytest.fail(f"{cmd}: did not start: {line!r} {proc.stderr.read()!r}")
    return proc


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)
    for stream in (proc.stdout, proc.stderr):
        if stream:
            stream.close()


# -- reading what usdtgen and readelf print ---------------------------------------------------------
_ROW = re.compile(r"^  (\S+:\S+)\s+(\d+)  (yes|no)\s*(.*?)\s*$")


def parse_table(stdout: str) -> dict[str, dict[str, tuple[int, str, str]]]:
    """path → {provider:name → (sites, semaphore, arguments)}"""
    tables: dict[str, dict] = {}
    current = None
    for line in stdout.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            current = tables.setdefault(line, {})
            continue
        if line.split()[:2] == ["PROBE", "SITES"]:
            continue
        match = _ROW.match(line)
        assert match and current is not None, f"unexpected table line {line!r}"
        current[match[1]] = (int(match[2]), match[3], match[4])
    return tables


_NOTE = re.compile(r"Provider: (\S+)\s+Name: (\S+)\s+Location: (0x[0-9a-f]+), "
                   r"Base: (0x[0-9a-f]+), Semaphore: (0x[0-9a-f]+)\s+Arguments:([^\n]*)")


def readelf_sites(path: Path) -> list[dict]:
    return [{"provider": p, "name": n, "address": int(a, 16), "base": int(b, 16),
             "semaphore": int(s, 16), "args_text": args.strip()}
            for p, n, a, b, s, args in _NOTE.findall(readelf_notes(path))]


def section_offset(path: Path, address: int) -> int:
    """File offset of ``address`` through the section that holds it."""
    with open(path, "rb") as f:
        for section in ELFFile(f).iter_sections():
            start, size = section["sh_addr"], section["sh_size"]
            if start and section["sh_type"] != "SHT_NOBITS" and start <= address < start + size:
                return section["sh_offset"] + address - start
    raise AssertionError(f"{address:#x} is in no section of {path}")


def symbol_address(path: Path, name: str) -> int:
    with open(path, "rb") as f:
        return ELFFile(f).get_section_by_name(".symtab").get_symbol_by_name(name)[0]["st_value"]


def probe_counts(sites) -> dict[str, int]:
    counts: dict[str, int] = {}
    for site in sites:
        key = f"{site['provider']}:{site['name']}"
        counts[key] = counts.get(key, 0) + 1
    return counts


# -- programs and libraries ----------------------------------------------------------------------------
def test_our_header_program_lists_typed_probes(tmp_path):
    exe = build_ours(tmp_path)
    result = usdtgen_list(exe)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    tables = parse_table(result.stdout)
    assert list(tables) == [str(exe)]
    rows = tables[str(exe)]
    assert rows == {f"myapp:{name}": (OURS_SITES[name], "yes", OURS_PROTOTYPES[name])
                    for name in OURS_SITES}
    # the counts agree with readelf
    assert {k: v[0] for k, v in rows.items()} == probe_counts(readelf_sites(exe))


def test_sys_sdt_program_lists_argument_specs(tmp_path):
    exe = build_sdt(tmp_path)
    notes = readelf_sites(exe)
    first = {}
    for note in notes:
        first.setdefault(f"{note['provider']}:{note['name']}", note["args_text"])
    result = usdtgen_list(exe)
    assert result.returncode == 0, result.stderr
    rows = parse_table(result.stdout)[str(exe)]
    assert rows == {key: (count, "no", first[key])
                    for key, count in probe_counts(notes).items()}
    assert rows["theirs:request"][0] == 2 and rows["theirs:idle"][0] == 1


def test_sys_sdt_program_with_types_file(tmp_path):
    exe = build_sdt(tmp_path)
    types = tmp_path / "theirs.d"
    types.write_text(THEIRS_D)
    result = usdtgen_list("--types", types, exe)
    assert result.returncode == 0, result.stderr
    rows = parse_table(result.stdout)[str(exe)]
    assert rows == {"theirs:request": (2, "no", "int id, const char *path"),
                    "theirs:idle": (1, "no", ""),
                    "theirs:triple": (1, "no", "int, long n, char c")}


@pytest.mark.parametrize("filters, expected", [
    (["myapp:request__*"], {"myapp:request__start", "myapp:request__done"}),
    (["tick"], {"myapp:tick"}),
    (["request__done", "*:tick"], {"myapp:request__done", "myapp:tick"}),
    (["my*:t?ck"], {"myapp:tick"}),
    (["myapp:*start"], {"myapp:request__start"}),
    (["*"], {"myapp:request__start", "myapp:request__done", "myapp:tick"}),
    # D's spelling of the names, as D scripts write them
    (["myapp:request-start"], {"myapp:request__start"}),
    (["request-*"], {"myapp:request__start", "myapp:request__done"}),
])
def test_filters(tmp_path, filters, expected):
    exe = build_ours(tmp_path)
    result = usdtgen_list(exe, *filters)
    assert result.returncode == 0, result.stderr
    rows = parse_table(result.stdout)[str(exe)]
    assert set(rows) == expected
    for key in expected:
        assert rows[key][0] == OURS_SITES[key.split(":")[1]]


def test_filter_matching_nothing(tmp_path):
    exe = build_ours(tmp_path)
    result = usdtgen_list(exe, "other:*", "nosuch")
    assert result.returncode == 1
    assert result.stdout == ""
    lines = stderr_lines(result)
    assert len(lines) == 1 and "no probe matches" in lines[0], lines
    assert "other:*" in lines[0] and "nosuch" in lines[0]


def test_verbose_addresses_and_offsets(tmp_path):
    # not a PIE: addresses and file offsets differ for code and for data
    exe = build_ours(tmp_path, flags=("-O0", "-fno-pie", "-no-pie"))
    result = usdtgen_list("-v", exe)
    assert result.returncode == 0, result.stderr
    blocks = re.split(r"\n(?=\S)", result.stdout.strip())
    notes = readelf_sites(exe)
    assert len(blocks) == len(notes) == sum(OURS_SITES.values())
    for block, note in zip(blocks, notes):
        head, detail = block.splitlines()[:2]
        assert head == f"{exe} {note['provider']}:{note['name']}"
        text_offset = section_offset(exe, note["address"])
        assert text_offset != note["address"]
        fields = re.search(r"address (0x[0-9a-f]+)\s+file offset (0x[0-9a-f]+)\s+"
                           r"base (0x[0-9a-f]+)\s+semaphore (0x[0-9a-f]+) "
                           r"\(file offset (0x[0-9a-f]+)\)", detail)
        assert fields, detail
        address, offset, base, semaphore, sem_offset = (int(v, 16) for v in fields.groups())
        assert address == note["address"], detail
        assert offset == text_offset, detail
        assert base == note["base"], detail
        assert semaphore == note["semaphore"], detail
        assert sem_offset == section_offset(exe, note["semaphore"]), detail
        assert f"args: {note['args_text'] or '(none)'}" in block


def test_verbose_without_semaphore(tmp_path):
    exe = build_sdt(tmp_path)
    result = usdtgen_list("-v", exe, "idle")
    assert result.returncode == 0, result.stderr
    assert "no semaphore" in result.stdout
    note = next(n for n in readelf_sites(exe) if n["name"] == "idle")
    assert f"address {note['address']:#x}" in result.stdout
    assert f"file offset {section_offset(exe, note['address']):#x}" in result.stdout


JSON_KEYS = {"path", "provider", "name", "address", "file_offset", "base", "semaphore",
             "semaphore_offset", "args"}
_PREFIX = re.compile(r"(-?)(\d+)(f?)@")


def check_json_against_readelf(exe: Path, stdout: str) -> list[dict]:
    objects = [json.loads(line) for line in stdout.splitlines()]
    notes = readelf_sites(exe)
    assert len(objects) == len(notes)
    for obj, note in zip(objects, notes):
        assert JSON_KEYS <= set(obj), obj
        assert obj["path"] == str(exe)
        assert (obj["provider"], obj["name"]) == (note["provider"], note["name"])
        assert obj["address"] == note["address"]
        assert obj["base"] == note["base"]
        assert (obj["semaphore"] or 0) == note["semaphore"]
        assert obj["file_offset"] == section_offset(exe, note["address"])
        if note["semaphore"]:
            assert obj["semaphore_offset"] == section_offset(exe, note["semaphore"])
        else:
            assert obj["semaphore_offset"] is None
        pieces = note["args_text"].split() if note["args_text"] else []
        assert [a["spec"] for a in obj["args"]] == pieces
        for entry, piece in zip(obj["args"], pieces):
            sign, size, _ = _PREFIX.match(piece).groups()
            assert (entry["size"], entry["signed"]) == (int(size), sign == "-"), entry
    return objects


def test_json_of_our_header_program(tmp_path):
    exe = build_ours(tmp_path, flags=("-O0", "-fno-pie", "-no-pie"))
    result = usdtgen_list("--json", exe)
    assert result.returncode == 0, result.stderr
    objects = check_json_against_readelf(exe, result.stdout)
    declared = {"request__start": [("id", "int"), ("path", "const char *")],
                "request__done": [("id", "int"), ("status", "long")], "tick": []}
    for obj in objects:
        assert [(a["name"], a["type"]) for a in obj["args"]] == declared[obj["name"]]
        assert obj["semaphore"] and obj["semaphore_offset"]


def test_json_of_sys_sdt_program(tmp_path):
    exe = build_sdt(tmp_path, flags=("-O2", "-fno-pie", "-no-pie"))
    result = usdtgen_list("--json", exe)
    assert result.returncode == 0, result.stderr
    objects = check_json_against_readelf(exe, result.stdout)
    for obj in objects:
        assert obj["semaphore"] is None
        for entry in obj["args"]:
            assert "name" not in entry and "type" not in entry
    # a rip-relative global: the kernel adds @+OFFSET to (probe address - probe file offset)
    g_count = symbol_address(exe, "g_count")
    rip = [(obj, a) for obj in objects for a in obj["args"] if "g_count(%rip)" in a["spec"]]
    for obj, entry in rip:
        expected = g_count - obj["address"] + obj["file_offset"]
        assert entry.get("fetcharg") == f"@+{expected:#x}:s32", entry

    types = tmp_path / "theirs.d"
    types.write_text(THEIRS_D)
    result = usdtgen_list("--json", "--types", types, exe, "theirs:request", "triple")
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted({o["name"] for o in objects}) == ["request", "triple"]
    for obj in objects:
        names = [(a["name"], a["type"]) for a in obj["args"]]
        if obj["name"] == "request":
            assert names == [("id", "int"), ("path", "const char *")]
        else:
            assert names == [("", "int"), ("n", "long"), ("c", "char")]


def test_program_name_looked_up_on_path(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = build_ours(tmp_path, output="usdtgen-list-test-prog")
    shutil.move(exe, bindir / exe.name)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    result = usdtgen_list(exe.name, "tick", env=env, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert parse_table(result.stdout) == {
        str(bindir / exe.name): {"myapp:tick": (3, "yes", "")}}


# -- processes -----------------------------------------------------------------------------------------
def build_cxx(tmp_path: Path) -> Path:
    require(LIBSTDCXX.exists(), f"{LIBSTDCXX} is not installed")
    return compile_program(tmp_path, CXX_C, compiler="g++", lang="c++", output="thrower")


def test_pid_of_cxx_program_lists_libstdcxx(tmp_path):
    exe = build_cxx(tmp_path)
    library = os.path.realpath(LIBSTDCXX)
    proc = start([exe])
    try:
        result = usdtgen_list("-p", proc.pid)
        assert result.returncode == 0, result.stderr
        tables = parse_table(result.stdout)
        assert library in tables, result.stdout
        expected = probe_counts(readelf_sites(Path(library)))
        assert {"libstdcxx:throw", "libstdcxx:catch", "libstdcxx:rethrow"} <= set(expected)
        assert {k: v[0] for k, v in tables[library].items()} == expected
        result = usdtgen_list("--json", "-p", proc.pid, "libstdcxx:*")
        assert result.returncode == 0, result.stderr
        objects = [json.loads(line) for line in result.stdout.splitlines()]
        assert {o["path"] for o in objects} == {library}
        assert sorted(o["name"] for o in objects) == sorted(
            k.split(":")[1] for k, n in expected.items() for _ in range(n))
    finally:
        stop(proc)


def test_same_library_in_two_processes_counted_once(tmp_path):
    exe = build_cxx(tmp_path)
    library = os.path.realpath(LIBSTDCXX)
    expected = probe_counts(readelf_sites(Path(library)))
    procs = []
    try:
        procs.append(start([exe]))
        procs.append(start([exe]))
        result = usdtgen_list("-p", procs[0].pid, "-p", procs[1].pid, "libstdcxx:*")
        assert result.returncode == 0, result.stderr
        rows = parse_table(result.stdout)[library]
        assert {k: v[0] for k, v in rows.items()} == expected, (
            "one library mapped by two processes has each site once:\n" + result.stdout)
    finally:
        for proc in procs:
            stop(proc)


def test_pid_of_python(tmp_path):
    require(PYTHON311.exists(), f"{PYTHON311} is not installed")
    expected = probe_counts(readelf_sites(PYTHON311))
    require(bool(expected), f"{PYTHON311} has no USDT probes")
    proc = start([PYTHON311, "-c", "import time; print('ready', flush=True); time.sleep(120)"])
    try:
        result = usdtgen_list("-p", proc.pid, "python:*")
        assert result.returncode == 0, result.stderr
        tables = parse_table(result.stdout)
        assert list(tables) == [str(PYTHON311)], result.stdout
        rows = tables[str(PYTHON311)]
        assert {k: v[0] for k, v in rows.items()} == expected
        assert "python:function__entry" in rows
        assert all(sem == "yes" for _, sem, _ in rows.values())
    finally:
        stop(proc)


def test_pid_of_deleted_program(tmp_path):
    exe = build_ours(tmp_path)
    proc = start([exe, "wait"])
    try:
        exe.unlink()
        result = usdtgen_list("-p", proc.pid)
        assert result.returncode == 0, result.stderr
        tables = parse_table(result.stdout)
        shown = f"{exe} (deleted)"
        assert shown in tables, result.stdout
        assert tables[shown] == {f"myapp:{name}": (OURS_SITES[name], "yes", OURS_PROTOTYPES[name])
                                 for name in OURS_SITES}
    finally:
        stop(proc)


def test_pid_with_memfd_library(tmp_path):
    write_header(tmp_path, MEMLIB_D)
    library = compile_program(tmp_path, MEMLIB_C, flags=("-O2", "-fPIC", "-shared"),
                              output="libmem.so")
    helper = tmp_path / "memfd_helper.py"
    helper.write_text(MEMFD_HELPER)
    proc = start([sys.executable, helper, library])
    try:
        result = usdtgen_list("-p", proc.pid, "memlib:*")
        assert result.returncode == 0, result.stderr
        tables = parse_table(result.stdout)
        assert len(tables) == 1, result.stdout
        (path, rows), = tables.items()
        assert path.startswith("/memfd:usdtgen-test-lib"), path
        assert rows == {"memlib:hello": (1, "yes", "int n")}
        result = usdtgen_list("--json", "-p", proc.pid, "memlib:*")
        (obj,) = [json.loads(line) for line in result.stdout.splitlines()]
        assert obj["path"] == path and obj["args"][0]["fetcharg"] == "%di:s32"
    finally:
        stop(proc)


# -- errors ----------------------------------------------------------------------------------------------
def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    require(not os.path.exists(f"/proc/{proc.pid}"), "the PID was reused at once")
    return proc.pid


def assert_one_line_about(result, name: str, *words: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = stderr_lines(result)
    about = [line for line in lines if name in line]
    assert len(about) == 1, lines
    for word in words:
        assert word in about[0], about[0]
    assert all(line.startswith("usdtgen: ") for line in lines), lines


def test_nonexistent_pid():
    pid = dead_pid()
    assert_one_line_about(usdtgen_list("-p", pid), f"PID {pid}", "no such process")


def test_nonexistent_file(tmp_path):
    missing = tmp_path / "missing-program"
    assert_one_line_about(usdtgen_list(missing), str(missing), "no such file")


def test_non_elf_file(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    assert_one_line_about(usdtgen_list(text), str(text), "not an ELF")


def test_file_without_probes(tmp_path):
    exe = compile_program(tmp_path, "int main(void) { return 0; }\n", output="plain")
    assert_one_line_about(usdtgen_list(exe), str(exe), "no USDT probes")


def test_directory(tmp_path):
    assert_one_line_about(usdtgen_list(tmp_path), str(tmp_path), "directory")


@pytest.mark.parametrize("bad", ["missing", "text", "plain", "directory"])
def test_good_and_bad_target_together(tmp_path, bad):
    exe = build_ours(tmp_path)
    target = {"missing": tmp_path / "missing-program", "text": tmp_path / "notes.txt",
              "plain": tmp_path / "plain", "directory": tmp_path / "subdir"}[bad]
    if bad == "text":
        target.write_text("hello\n")
    elif bad == "plain":
        compile_program(tmp_path, "int main(void) { return 0; }\n", output="plain")
    elif bad == "directory":
        target.mkdir()
    for args in ((exe, target), (target, exe)):
        result = usdtgen_list(*args)
        assert result.returncode == 0, result.stderr
        assert list(parse_table(result.stdout)) == [str(exe)]
        lines = stderr_lines(result)
        assert len(lines) == 1 and str(target) in lines[0], lines


def test_good_and_bad_pid_together(tmp_path):
    exe = build_ours(tmp_path)
    pid = dead_pid()
    proc = start([exe, "wait"])
    try:
        result = usdtgen_list("-p", proc.pid, "-p", pid, "myapp:*")
        assert result.returncode == 0, result.stderr
        assert list(parse_table(result.stdout)) == [str(exe)]
        lines = stderr_lines(result)
        assert len(lines) == 1 and f"PID {pid}" in lines[0], lines
    finally:
        stop(proc)

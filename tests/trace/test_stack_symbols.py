"""ustack() and ufunc() name the frames of programs whose own symbol table is gone: stripped
programs with MiniDebugInfo, with a separate debug file (.gnu_debuglink, build ID), and
without any debug data (``module`0x..`` frames, no crash); and of mappings that have no file
name any more: a program deleted while it runs (traced with -p) and a library loaded from a
memfd. The static functions of the call paths are the oracle. Nothing is left in tracefs.
"""
from __future__ import annotations

import lzma
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import (Processes, compile_program, ensure_tracefs, no_uprobe_events_left_after,
                      require_tool, trace_to_end, write_header)

PROVIDER = "provider st { probe hit(int path, void *fn); };\n"
PROGRAM = r"""
#include <stdlib.h>
#include <unistd.h>
#include "probes.h"

__attribute__((noinline)) static void leaf(int path) { ST_HIT(path, (void *)leaf); getpid(); }
__attribute__((noinline)) static void via_a(void) { leaf(1); getpid(); }
__attribute__((noinline)) static void via_b(void) { via_a(); getpid(); }

int main(int argc, char **argv)
{
  int rounds = atoi(argv[1]);
  int pause_ms = argc > 2 ? atoi(argv[2]) : 0;
  for (int i = 0; i < rounds; i++) {
    via_a();
    via_b();
    if (pause_ms)
      usleep(pause_ms * 1000);
  }
  usleep(300000);          /* alive while its events are read: ufunc() needs its mappings */
  return 0;
}
"""
LIBRARY = r"""
#include <unistd.h>
#include "probes.h"
__attribute__((noinline)) static void lib_leaf(int path) { ST_HIT(path, (void *)lib_leaf); getpid(); }
__attribute__((noinline)) void lib_entry(int path) { lib_leaf(path); getpid(); }
"""
LOADER = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* copies the library into a memfd and loads it from there: its mapping has no file name */
int main(int argc, char **argv)
{
  FILE *in = fopen(getenv("LIBHIT"), "rb");     /* (not an argument: usdtgen would read it) */
  int fd = memfd_create("libhit", 0);
  char buffer[65536];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, in)) > 0)
    if (write(fd, buffer, n) != (ssize_t)n)
      return 1;
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  void *handle = dlopen(path, RTLD_NOW);
  if (!handle) {
    fprintf(stderr, "%s\n", dlerror());
    return 1;
  }
  void (*entry)(int) = (void (*)(int))dlsym(handle, "lib_entry");
  usleep(800000);           /* the tracer sees the new mapping (it looks every 0.2 s) */
  for (int i = 0; i < atoi(argv[1]); i++)
    entry(7);
  usleep(300000);
  return 0;
}
"""
ROUNDS = 3
FRAME_FLAGS = ("-O0", "-fno-omit-frame-pointer", "-Wl,--build-id=sha1")
SCRIPT = "st:::hit { @[ustack()] = count(); }"


@pytest.fixture(autouse=True)
def no_uprobe_events_left():
    yield from no_uprobe_events_left_after()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The program with every symbol (`full`), in a folder of its own."""
    ensure_tracefs()
    folder = tmp_path_factory.mktemp("stacksyms")
    write_header(folder, PROVIDER)
    return compile_program(folder, PROGRAM, output="full", flags=FRAME_FLAGS)


def run(*cmd) -> str:
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True,
                          text=True).stdout


def stripped(full: Path, folder: Path, name: str = "paths") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / name
    shutil.copy(full, copy)
    run(require_tool("strip"), "--strip-all", copy)
    return copy


def stacks_of(output: str) -> list[list[str]]:
    """The frames of each key of a printed ``@[ustack()] = count()``."""
    found = []
    for block in output.split("\n\n"):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if lines and re.fullmatch(r"\d+", lines[-1]):
            found.append(lines[:-1])
    return found


def functions_of(stacks, module: str) -> list[list[str]]:
    """The functions each stack names in ``module`` (frames 'module`function+0x..')."""
    return sorted([re.match(r"[^`]+`([^+]+)", f)[1] for f in frames
                   if f.startswith(module + "`")] for frames in stacks)


EXPECTED = [["leaf", "via_a", "main"], ["leaf", "via_a", "via_b", "main"]]


def test_minidebuginfo_names_static_functions_in_stacks_and_ufunc(built, tmp_path):
    nm, objcopy = require_tool("nm"), require_tool("objcopy")
    binary = stripped(built, tmp_path / "mini")
    dynamic = {line.split()[0] for line in run(nm, "-D", "--format=posix", "--defined-only",
                                               built).splitlines()}
    functions = {f[0] for f in (line.split() for line in
                                run(nm, "--format=posix", "--defined-only", built).splitlines())
                 if f[1] in ("T", "t")}
    (tmp_path / "keep").write_text("".join(f"{s}\n" for s in sorted(functions - dynamic)))
    run(objcopy, "--only-keep-debug", built, tmp_path / "debug")
    run(objcopy, "-S", "--remove-section", ".comment", f"--keep-symbols={tmp_path / 'keep'}",
        tmp_path / "debug", tmp_path / "mini.elf")
    (tmp_path / "mini.xz").write_bytes(lzma.compress((tmp_path / "mini.elf").read_bytes()))
    run(objcopy, "--add-section", f".gnu_debugdata={tmp_path / 'mini.xz'}", binary)
    result = trace_to_end("-q", "-e", SCRIPT + ' st:::hit { printf("[%s]\\n", ufunc(arg1)); }',
                          "-c", f"{binary} {ROUNDS}")
    assert result.returncode == 0, result.stderr
    assert functions_of(stacks_of(result.stdout), "paths") == EXPECTED
    assert result.stdout.count("[paths`leaf]") == 2 * ROUNDS


@pytest.mark.parametrize("how", ["debuglink", "build-id"])
def test_separate_debug_file_names_the_frames(built, tmp_path, how):
    objcopy = require_tool("objcopy")
    binary = stripped(built, tmp_path / "bin")
    env = dict(os.environ, USDTGEN_DEBUG_DIRS=str(tmp_path / "debugroot"))
    if how == "debuglink":
        run(objcopy, "--only-keep-debug", built, tmp_path / "bin" / "paths.debug")
        run(objcopy, f"--add-gnu-debuglink={tmp_path / 'bin' / 'paths.debug'}", binary)
    else:
        build_id = re.search(r"Build ID: ([0-9a-f]+)", run("readelf", "-n", binary))[1]
        debug = tmp_path / "debugroot" / ".build-id" / build_id[:2] / f"{build_id[2:]}.debug"
        debug.parent.mkdir(parents=True)
        run(objcopy, "--only-keep-debug", built, debug)
    result = trace_to_end("-q", "-e", SCRIPT, "-c", f"{binary} {ROUNDS}", env=env)
    assert result.returncode == 0, result.stderr
    assert functions_of(stacks_of(result.stdout), "paths") == EXPECTED


def test_no_debug_data_gives_module_and_offset_frames(built, tmp_path):
    binary = stripped(built, tmp_path / "bare")
    result = trace_to_end("-q", "-e", SCRIPT, "-c", f"{binary} {ROUNDS}")
    assert result.returncode == 0, result.stderr
    stacks = stacks_of(result.stdout)
    assert sorted(len(frames) for frames in stacks) == [4, 5]    # + libc's frame under main
    for frames in stacks:
        assert all(re.fullmatch(r"paths`0x[0-9a-f]+", f) for f in frames if
                   f.startswith("paths`"))


def test_program_deleted_while_it_runs(built, tmp_path):
    binary = stripped(built, tmp_path / "gone")
    shutil.copy(built, binary)                       # with its symbols, then deleted
    with Processes() as procs:
        runner = procs.start([binary, "1000", "5"], stdout=subprocess.DEVNULL)
        time.sleep(0.2)
        binary.unlink()
        maps = Path(f"/proc/{runner.pid}/maps").read_text()
        assert f"{binary} (deleted)" in maps
        tracer = procs.trace("-q", "-e", SCRIPT + " tick-1s { exit(0); }", "-p", runner.pid)
        out, err = tracer.communicate(timeout=30)
    assert tracer.returncode == 0, err
    assert "Traceback" not in err
    assert functions_of(stacks_of(out), "paths") == EXPECTED


def test_library_loaded_from_a_memfd(built, tmp_path):
    folder = built.parent
    cc = require_tool("gcc")
    subprocess.run([cc, *FRAME_FLAGS, "-fPIC", "-shared", "-I", str(folder), "-x", "c", "-",
                    "-o", str(tmp_path / "libhit.so")], input=LIBRARY, text=True, check=True)
    loader = compile_program(tmp_path, LOADER, output="loader", flags=(*FRAME_FLAGS, "-ldl"))
    env = dict(os.environ, LIBHIT=str(tmp_path / "libhit.so"))
    result = trace_to_end("-q", "-Z", "-e",            # (-Z: the probe comes with dlopen)
                          SCRIPT + ' st:::hit { printf("[%s]\\n", ufunc(arg1)); }',
                          "-c", f"{loader} {ROUNDS}", env=env)
    assert result.returncode == 0, result.stderr
    stacks = stacks_of(result.stdout)
    assert len(stacks) == 1, result.stdout
    frames = stacks[0]
    assert re.fullmatch(r"memfd:libhit`lib_leaf\+0x[0-9a-f]+", frames[0]), frames
    assert re.fullmatch(r"memfd:libhit`lib_entry\+0x[0-9a-f]+", frames[1]), frames
    assert re.fullmatch(r"loader`main\+0x[0-9a-f]+", frames[2]), frames
    assert result.stdout.count("[memfd:libhit`lib_leaf]") == ROUNDS

"""Function names of stripped programs from debug data outside their .symtab: MiniDebugInfo
(.gnu_debugdata, built with Fedora's recipe from gdb's manual), separate debug files found
by build ID and by .gnu_debuglink in each place gdb looks; ``nm`` on the unstripped build
is the oracle. Corrupt or bogus debug data gives fewer names, quickly, never an exception.
"""
from __future__ import annotations

import lzma
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import compile_program, require_tool
from usdtgen.elf.debuginfo import all_function_symbols, read_build_id, separate_debug_file
from usdtgen.elf.reader import ElfFile
from usdtgen.elf.symbols import function_symbols

PROGRAM = r"""
#include <stdio.h>
__attribute__((noinline)) static long helper_one(long x) { return x * 3; }
__attribute__((noinline)) static long helper_two(long x) { return helper_one(x) - 1; }
__attribute__((noinline)) long exported_fn(long x) { return helper_two(x) + 1; }
int main(int argc, char **argv) { printf("%ld\n", exported_fn(argc)); return 0; }
"""
STATIC = {"helper_one", "helper_two"}


def run(*cmd, cwd=None) -> str:
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True,
                          cwd=cwd).stdout


def nm_functions(path: Path) -> dict[str, int]:
    """name -> address of the defined function symbols (T, t) nm sees, sized ones."""
    found = {}
    for line in run(require_tool("nm"), "-S", "--defined-only", path).splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[2] in "Tt":
            found[fields[3]] = int(fields[0], 16)
    return found


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> Path:
    """The program, unstripped (-g, a build ID), exporting exported_fn in .dynsym."""
    folder = tmp_path_factory.mktemp("debuginfo")
    return compile_program(folder, PROGRAM, output="full",
                           flags=("-O2", "-g", "-rdynamic", "-Wl,--build-id=sha1"))


def stripped_copy(full: Path, folder: Path, name: str) -> Path:
    copy = folder / name
    shutil.copy(full, copy)
    run(require_tool("strip"), "--strip-all", copy)
    return copy


def mini_debuginfo(full: Path, folder: Path, name: str = "mini") -> Path:
    """Fedora's MiniDebugInfo recipe (gdb manual, 'MiniDebugInfo'): the function symbols
    .dynsym lacks, in an xz-compressed ELF file added as .gnu_debugdata."""
    nm, objcopy, strip = (require_tool(t) for t in ("nm", "objcopy", "strip"))
    binary = folder / name
    shutil.copy(full, binary)
    dynamic = {line.split()[0] for line in run(nm, "-D", "--format=posix", "--defined-only",
                                               binary).splitlines()}
    functions = {f[0] for f in (line.split() for line in
                                run(nm, "--format=posix", "--defined-only", binary).splitlines())
                 if f[1] in ("T", "t", "D")}
    (folder / "keep_symbols").write_text("".join(f"{s}\n" for s in sorted(functions - dynamic)))
    run(objcopy, "--only-keep-debug", binary, folder / "debug")
    run(objcopy, "-S", "--remove-section", ".gdb_index", "--remove-section", ".comment",
        f"--keep-symbols={folder / 'keep_symbols'}", folder / "debug", folder / "mini_debuginfo")
    run(strip, "--strip-all", "-R", ".comment", binary)
    xz = folder / "mini_debuginfo.xz"
    xz.write_bytes(lzma.compress((folder / "mini_debuginfo").read_bytes()))
    run(objcopy, "--add-section", f".gnu_debugdata={xz}", binary)
    return binary


def with_section(binary: Path, name: str, data: bytes, folder: Path) -> Path:
    """A copy of ``binary`` with section ``name`` holding ``data`` (replacing any)."""
    out = folder / f"{binary.name}-{name.strip('.')}-{len(data)}"
    blob = folder / "section.bin"
    blob.write_bytes(data)
    shutil.copy(binary, out)
    objcopy = require_tool("objcopy")
    subprocess.run([objcopy, "--remove-section", name, str(out)], check=True)
    run(objcopy, "--add-section", f"{name}={blob}", out)
    return out


def names(symbols) -> set[str]:
    return {name for name, _, _ in symbols}


def test_minidebuginfo_names_the_static_functions_of_a_stripped_program(full, tmp_path):
    binary = mini_debuginfo(full, tmp_path)
    expected = nm_functions(full)
    assert STATIC <= expected.keys()
    assert not STATIC & names(function_symbols(str(binary)))      # .dynsym alone lacks them
    found = {name: address for name, address, _ in all_function_symbols(str(binary))}
    assert found == expected          # MiniDebugInfo's .symtab with .dynsym: every function
    assert names(all_function_symbols(str(binary), "helper_*")) == STATIC


@pytest.mark.parametrize("place", ["beside", "dot-debug", "global-tree"])
def test_debuglink_in_each_place_gdb_looks(full, tmp_path, monkeypatch, place):
    objcopy = require_tool("objcopy")
    folder = tmp_path / "bin"
    folder.mkdir()
    binary = stripped_copy(full, folder, "linked")
    debug = tmp_path / "linked.debug"
    run(objcopy, "--only-keep-debug", full, debug)
    run(objcopy, f"--add-gnu-debuglink={debug}", binary)
    root = tmp_path / "debugroot"
    monkeypatch.setenv("USDTGEN_DEBUG_DIRS", str(root))
    target = {"beside": folder / "linked.debug",
              "dot-debug": folder / ".debug" / "linked.debug",
              "global-tree": Path(f"{root}{folder}") / "linked.debug"}[place]
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(debug, target)
    with open(binary, "rb") as stream:
        elf = ElfFile(stream)
        found = separate_debug_file(elf, str(binary))
    assert found == str(target)
    assert {n: a for n, a, _ in all_function_symbols(str(binary))} == nm_functions(full)


def test_debuglink_with_a_wrong_crc_is_not_used(full, tmp_path):
    objcopy = require_tool("objcopy")
    binary = stripped_copy(full, tmp_path, "linked")
    debug = tmp_path / "linked.debug"
    run(objcopy, "--only-keep-debug", full, debug)
    run(objcopy, f"--add-gnu-debuglink={debug}", binary)
    with open(debug, "r+b") as stream:              # another build's debug file, say
        stream.seek(os.path.getsize(debug) - 1)
        stream.write(b"\x55")
    assert not STATIC & names(all_function_symbols(str(binary)))


def test_build_id_tree(full, tmp_path, monkeypatch):
    objcopy = require_tool("objcopy")
    binary = stripped_copy(full, tmp_path, "by-id")        # no debuglink at all
    with open(binary, "rb") as stream:
        build_id = read_build_id(ElfFile(stream)).hex()
    root = tmp_path / "debugroot"
    debug = root / ".build-id" / build_id[:2] / f"{build_id[2:]}.debug"
    debug.parent.mkdir(parents=True)
    run(objcopy, "--only-keep-debug", full, debug)
    assert not STATIC & names(all_function_symbols(str(binary)))  # not in /usr/lib/debug
    monkeypatch.setenv("USDTGEN_DEBUG_DIRS", f"{tmp_path / 'elsewhere'}:{root}")
    assert {n: a for n, a, _ in all_function_symbols(str(binary))} == nm_functions(full)
    # a file at the build ID's place with another build ID is not the debug file
    stranger = tmp_path / "stranger"
    shutil.copy(full, stranger)
    run(objcopy, "--remove-section", ".note.gnu.build-id", stranger)
    run(objcopy, "--only-keep-debug", stranger, debug)
    assert not STATIC & names(all_function_symbols(str(binary)))


ELF_HEAD = b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x02\x00\x3e\x00" + bytes(200)
BOGUS_DEBUGDATA = {                    # made when used: the bomb takes a moment to pack
    "not-xz": lambda: b"this is not xz data at all" * 10,
    "xz-of-text": lambda: lzma.compress(b"hello, not an ELF file\n" * 100),
    "xz-of-elf-header-only": lambda: lzma.compress(ELF_HEAD),
    "xz-truncated": lambda: lzma.compress(bytes(range(256)) * 64)[:-20],
    "xz-bomb": lambda: lzma.compress(bytes(80 << 20)),       # 80 MiB of zeros, unpacked
    "empty": lambda: b"",
}


@pytest.mark.parametrize("label", BOGUS_DEBUGDATA)
def test_bogus_minidebuginfo_gives_dynsym_names_quickly(full, tmp_path, label):
    binary = with_section(stripped_copy(full, tmp_path, "bogus"), ".gnu_debugdata",
                          BOGUS_DEBUGDATA[label](), tmp_path)
    start = time.monotonic()
    symbols = all_function_symbols(str(binary))
    assert time.monotonic() - start < 5
    assert "exported_fn" in names(symbols) and not STATIC & names(symbols)


@pytest.mark.parametrize("label, data", [
    ("no-nul", b"linked.debug"),
    ("slash", b"../etc/passwd\0\0\0\0" + bytes(4)),
    ("empty-name", bytes(8)),
    ("no-crc", b"linked.debug\0"),
    ("huge", b"x" * 5000 + b"\0" * 8),
])
def test_bogus_debuglink_is_ignored(full, tmp_path, label, data):
    binary = with_section(stripped_copy(full, tmp_path, "linked"), ".gnu_debuglink", data,
                          tmp_path)
    (tmp_path / "linked.debug").write_bytes(b"\x7fELF garbage")
    symbols = all_function_symbols(str(binary))
    assert "exported_fn" in names(symbols)


def test_corrupt_debug_file_is_ignored(full, tmp_path, monkeypatch):
    binary = stripped_copy(full, tmp_path, "by-id")
    with open(binary, "rb") as stream:
        build_id = read_build_id(ElfFile(stream)).hex()
    debug = tmp_path / ".build-id" / build_id[:2] / f"{build_id[2:]}.debug"
    debug.parent.mkdir(parents=True)
    monkeypatch.setenv("USDTGEN_DEBUG_DIRS", str(tmp_path))
    good = tmp_path / "good.debug"
    run(require_tool("objcopy"), "--only-keep-debug", full, good)
    data = good.read_bytes()
    for corrupt in (data[:64], data[:len(data) // 2], b"\x7fELF" + bytes(60), b""):
        debug.write_bytes(corrupt)
        assert "exported_fn" in names(all_function_symbols(str(binary)))

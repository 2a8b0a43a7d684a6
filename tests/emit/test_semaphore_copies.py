"""A program keeps one copy of each probe's semaphore, however many of its files include the
header: each semaphore is a COMDAT group of its own, in the header as in the -G object. The
peer: the same program built with systemtap's dtrace -h and -G (whose -G object alone
defines the semaphores). Without the -G object, a file defines only the semaphores of the
probes it fires or checks, so a large provider's header costs a file nothing for the rest."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from conftest import USDTGEN, require, require_tool

PROVIDER = """\
provider mc {
\tprobe get(const char *key, int len);
\tprobe set(const char *key, int len);
\tprobe del(const char *key);
\tprobe flush();
};
"""
UNIT = """\
#include "probes.h"
void f{n}(const char *key) {{
\tif (MC_GET_ENABLED())
\t\tMC_GET(key, {n});
\tMC_SET(key, {n});
}}
"""
MAIN = """\
void f1(const char *); void f2(const char *); void f3(const char *);
int main(void) { f1("a"); f2("b"); f3("c"); return 0; }
"""
UNITS = 3
PROBES = 4


def probes_section_size(binary: Path) -> int:
    text = subprocess.run(["readelf", "-S", "-W", str(binary)], capture_output=True, text=True,
                          check=True).stdout
    sizes = [int(m.group(1), 16) for m in re.finditer(r"\] \.probes\s+PROGBITS\s+\S+ \S+ (\S+)",
                                                      text)]
    return sum(sizes)


def build(tmp_path: Path, dtrace: list[str], compiler: str, flags: tuple[str, ...] = ()) -> Path:
    cc = require_tool(compiler)
    (tmp_path / "probes.d").write_text(PROVIDER)
    subprocess.run([*dtrace, "-h", "-s", "probes.d", "-o", "probes.h"], cwd=tmp_path, check=True)
    objects = []
    for n in range(1, UNITS + 1):
        (tmp_path / f"f{n}.c").write_text(UNIT.format(n=n))
        subprocess.run([cc, "-O2", *flags, "-c", f"f{n}.c", "-o", f"f{n}.o"], cwd=tmp_path,
                       check=True)
        objects.append(f"f{n}.o")
    subprocess.run([*dtrace, "-G", "-s", "probes.d", "-o", "probes.o", *objects], cwd=tmp_path,
                   check=True)
    (tmp_path / "main.c").write_text(MAIN)
    subprocess.run([cc, "-O2", *flags, "main.c", *objects, "probes.o", "-o", "prog"],
                   cwd=tmp_path, check=True)
    return tmp_path / "prog"


@pytest.mark.parametrize("compiler, flags", [("gcc", ()), ("clang", ()), ("gcc", ("-flto",)),
                                             ("gcc", ("-fPIC", "-pie"))])
def test_one_copy_of_each_semaphore_as_systemtaps_build(tmp_path, compiler, flags):
    require(USDTGEN is not None, "the usdtgen executable is not installed")
    dtrace = require_tool("dtrace")
    (tmp_path / "usdtgen").mkdir()
    (tmp_path / "stap").mkdir()
    ours = build(tmp_path / "usdtgen", [USDTGEN], compiler, flags)
    theirs = build(tmp_path / "stap", [dtrace], compiler, flags)
    assert probes_section_size(ours) == 2 * PROBES          # not 2 * PROBES per file
    assert probes_section_size(ours) == probes_section_size(theirs)
    assert subprocess.run([str(ours)]).returncode == 0


def test_header_without_the_g_object_keeps_one_copy(tmp_path):
    require(USDTGEN is not None, "the usdtgen executable is not installed")
    cc = require_tool("gcc")
    (tmp_path / "probes.d").write_text(PROVIDER)
    subprocess.run([USDTGEN, "-h", "-s", "probes.d", "-o", "probes.h"], cwd=tmp_path, check=True)
    sources = []
    for n in range(1, UNITS + 1):
        (tmp_path / f"f{n}.c").write_text(UNIT.format(n=n))
        sources.append(f"f{n}.c")
    (tmp_path / "main.c").write_text(MAIN)
    subprocess.run([cc, "-O2", "main.c", *sources, "-o", "prog"], cwd=tmp_path, check=True)
    assert probes_section_size(tmp_path / "prog") == 2 * 2       # mc:get and mc:set, once


@pytest.mark.parametrize("compiler", ["gcc", "g++", "clang"])
def test_a_file_defines_the_semaphores_of_the_probes_it_uses(tmp_path, compiler):
    require(USDTGEN is not None, "the usdtgen executable is not installed")
    cc = require_tool(compiler)
    many = "provider big {\n" + "".join(f"\tprobe p{i}(int x);\n" for i in range(500)) + "};\n"
    (tmp_path / "big.d").write_text(many)
    subprocess.run([USDTGEN, "-h", "-s", "big.d", "-o", "big.h"], cwd=tmp_path, check=True)
    (tmp_path / "fires.c").write_text('#include "big.h"\n'
                                      "void fires(int x) { BIG_P7(x); }\n")
    # a file that only checks a probe still defines its semaphore: the program links
    (tmp_path / "main.c").write_text('#include "big.h"\nvoid fires(int);\n'
                                     "int main(void) { fires(1); "
                                     "return BIG_P9_ENABLED() ? 3 : 0; }\n")
    for name in ("fires", "main"):
        subprocess.run([cc, "-O2", "-c", f"{name}.c", "-o", f"{name}.o"], cwd=tmp_path,
                       check=True)
    assert probes_section_size(tmp_path / "fires.o") == 2
    groups = subprocess.run(["readelf", "-g", "-W", "fires.o"], cwd=tmp_path,
                            capture_output=True, text=True, check=True).stdout
    assert "big_p7_semaphore" in groups and "big_p8_semaphore" not in groups
    assert probes_section_size(tmp_path / "main.o") == 2
    subprocess.run([cc, "fires.o", "main.o", "-o", "prog"], cwd=tmp_path, check=True)
    assert probes_section_size(tmp_path / "prog") == 2 * 2
    assert subprocess.run([str(tmp_path / "prog")]).returncode == 0


def test_g_object_puts_each_semaphore_in_its_own_comdat_group(tmp_path):
    require(USDTGEN is not None, "the usdtgen executable is not installed")
    (tmp_path / "probes.d").write_text(PROVIDER)
    subprocess.run([USDTGEN, "-G", "-s", "probes.d", "-o", "probes.o"], cwd=tmp_path,
                   check=True)
    groups = subprocess.run(["readelf", "-g", "-W", str(tmp_path / "probes.o")],
                            capture_output=True, text=True, check=True).stdout
    names = re.findall(r"COMDAT group section \[\s*\d+\] `\.group' \[(\w+)\] contains 1 "
                       r"sections", groups)
    assert names == ["mc_get_semaphore", "mc_set_semaphore", "mc_del_semaphore",
                     "mc_flush_semaphore"]


@pytest.mark.parametrize("compiler", ["g++", "clang++"])
def test_enabled_checks_where_cxx_allows_no_statement(tmp_path, compiler):
    # _ENABLED() carries its semaphore's definition: it must still be an expression that a
    # default member initializer and a namespace-scope initializer accept
    require(USDTGEN is not None, "the usdtgen executable is not installed")
    cxx = require_tool(compiler)
    (tmp_path / "probes.d").write_text(PROVIDER)
    subprocess.run([USDTGEN, "-h", "-s", "probes.d", "-o", "probes.h"], cwd=tmp_path, check=True)
    (tmp_path / "main.cc").write_text(
        '#include "probes.h"\n'
        "struct Cache { bool tracing = MC_FLUSH_ENABLED(); };\n"
        "static bool traced_at_start = MC_DEL_ENABLED();\n"
        "int main() { Cache c; return c.tracing || traced_at_start ? 1 : 0; }\n")
    subprocess.run([cxx, "-std=c++11", "-O2", "-Wall", "-Werror", "main.cc", "-o", "prog"],
                   cwd=tmp_path, check=True)
    assert probes_section_size(tmp_path / "prog") == 2 * 2      # mc:flush and mc:del
    assert subprocess.run([str(tmp_path / "prog")]).returncode == 0

"""The generated header in real builds: warning-free under -Wall -Wextra -Werror with gcc and
clang, C and C++, every standard, optimisation level and link mode; programs run; several
translation units, several headers, templates and inline functions behave; and the aarch64
cross build writes aarch64 operands that agree with systemtap's <sys/sdt.h>.
"""
from __future__ import annotations

import glob
import platform
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from conftest import (Note, compile_program, parse_stapsdt_notes, readelf_notes, require,
                      require_tool, write_header)

WARN = ("-Wall", "-Wextra", "-Werror")
SYS_SDT_DIR = Path("/usr/include/x86_64-linux-gnu/sys")
CXX = {"gcc": "g++", "clang": "clang++"}


def driver(cc: str, lang: str) -> str:
    return cc if lang == "c" else CXX[cc]


# --------------------------------------------------------------------------------------
# Notes


def notes_of(path: Path, provider: str, name: str | None = None) -> list[Note]:
    return [n for n in parse_stapsdt_notes(readelf_notes(path))
            if n.provider == provider and (name is None or n.name == name)]


def run(exe: Path, *args: str) -> None:
    result = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, f"{exe.name} exited {result.returncode}:\n{result.stderr}"


# --------------------------------------------------------------------------------------
# The main fixture program: every kind of probe the header generates (no argument, one,
# several, twelve, a pointer to a struct, a double-underscore name, the _ENABLED test).
APP_D = """\
struct conn { int fd; };
provider app {
  probe start();
  probe request__start(int fd, const char *path);
  probe request__done(int fd, long long bytes, unsigned int status);
  probe conn(struct conn *c);
  probe many(int a1, int a2, int a3, int a4, int a5, int a6, int a7, int a8, int a9,
             int a10, int a11, long a12);
};
"""
APP_ARG_COUNTS = {"start": 0, "request__start": 2, "request__done": 3, "conn": 1, "many": 12}

WORK_FN = """\
#include "probes.h"
struct conn { int fd; };
int usdtgen_work(int n, const char *path);
int usdtgen_work(int n, const char *path)
{
  struct conn c;
  c.fd = n;
  APP_START();
  if (APP_REQUEST_START_ENABLED())   /* nobody traces: the semaphore is 0 */
    return -1;
  APP_REQUEST_START(n, path);
  APP_CONN(&c);
  APP_REQUEST_DONE(c.fd, n * 1000LL, 200u);
  APP_MANY(n, n + 1, n + 2, n + 3, n + 4, n + 5, n + 6, n + 7, n + 8, n + 9, n + 10, n + 11L);
  return c.fd;
}
"""
MAIN_BODY = """\
int main(int argc, char **argv)
{
  return usdtgen_work(argc, argv[0]) == argc ? 0 : 1;
}
"""
MAIN_FN = "int usdtgen_work(int n, const char *path);\n" + MAIN_BODY


def check_app_notes(binary: Path) -> None:
    notes = notes_of(binary, "app")
    found = {n.name: len(n.args) for n in notes}
    assert found == APP_ARG_COUNTS, f"probe notes in {binary.name}: {found}"
    assert all(n.semaphore != 0 for n in notes)


def build_and_run_app(tmp_path: Path, cc: str, lang: str, flags: tuple[str, ...]) -> Path:
    write_header(tmp_path, APP_D)
    exe = compile_program(tmp_path, WORK_FN + MAIN_BODY, compiler=driver(cc, lang), lang=lang,
                          flags=(*WARN, *flags))
    run(exe)
    check_app_notes(exe)
    return exe


LANGS = ("c", "c++")
COMPILERS = ("gcc", "clang")
STANDARDS = {"c": ("gnu99", "gnu11", "c17"), "c++": ("c++11", "c++17", "c++20")}


@pytest.mark.parametrize("cc, lang, std", [
    pytest.param(cc, lang, std, id=f"{cc}-{std}")
    for cc in COMPILERS for lang in LANGS for std in STANDARDS[lang]])
def test_standards(tmp_path, cc, lang, std):
    build_and_run_app(tmp_path, cc, lang, (f"-std={std}", "-O2"))


@pytest.mark.parametrize("cc, lang, opt", [
    pytest.param(cc, lang, opt, id=f"{cc}-{lang}-{opt[1:]}")
    for cc in COMPILERS for lang in LANGS for opt in ("-O0", "-O1", "-O2", "-O3", "-Os", "-Og")])
def test_optimisation_levels(tmp_path, cc, lang, opt):
    build_and_run_app(tmp_path, cc, lang, (opt,))


@pytest.mark.parametrize("cc, lang", [
    pytest.param(cc, lang, id=f"{cc}-{lang}") for cc in COMPILERS for lang in LANGS])
def test_shared_library(tmp_path, cc, lang):
    write_header(tmp_path, APP_D)
    lib = compile_program(tmp_path, WORK_FN, compiler=driver(cc, lang), lang=lang,
                          flags=(*WARN, "-O2", "-fPIC", "-shared"), output="libwork.so")
    exe = compile_program(tmp_path, MAIN_FN, compiler=driver(cc, lang), lang=lang,
                          flags=(*WARN, "-O2", f"-Wl,-rpath,{tmp_path}"), extra_sources=(lib,))
    run(exe)
    check_app_notes(lib)
    assert not notes_of(exe, "app")
    with lib.open("rb") as f:
        elf = ELFFile(f)
        assert elf["e_type"] == "ET_DYN"
        dynsym = elf.get_section_by_name(".dynsym")
        exported = {s.name for s in dynsym.iter_symbols()}
    assert any("usdtgen_work" in name for name in exported), exported  # (C++: mangled)
    # hidden semaphores: each shared object has its own, none leaks into the dynamic table
    assert not {s for s in exported if s.endswith("_semaphore")}


@pytest.mark.parametrize("cc, lang, mode", [
    pytest.param(cc, lang, mode, id=f"{cc}-{lang}-{mode}")
    for cc in COMPILERS for lang in LANGS for mode in ("pie", "no-pie", "static", "lto")])
def test_link_modes(tmp_path, cc, lang, mode):
    flags = {"pie": ("-fPIE", "-pie"), "no-pie": ("-fno-pie", "-no-pie"),
             "static": ("-static",), "lto": ("-flto",)}[mode]
    if mode == "lto" and cc == "clang":
        require(bool(glob.glob("/usr/lib/llvm-*/lib/LLVMgold.so") or shutil.which("ld.lld")),
                "clang -flto needs the LLVM gold plugin or lld")
    exe = build_and_run_app(tmp_path, cc, lang, ("-O2", *flags))
    with exe.open("rb") as f:
        elf = ELFFile(f)
        has_interp = elf.get_section_by_name(".interp") is not None
        if mode == "static":
            assert not has_interp, "-static produced a dynamically linked program"
        elif mode == "pie":
            assert elf["e_type"] == "ET_DYN" and has_interp
        elif mode == "no-pie":
            assert elf["e_type"] == "ET_EXEC"


@pytest.mark.parametrize("cc, model, pic", [
    pytest.param(cc, model, pic, id=f"{cc}-{model}-{pic}")
    for cc in COMPILERS for model in ("medium", "large") for pic in ("pie", "no-pie")])
def test_x86_64_code_models(tmp_path, cc, model, pic):
    """sys/sdt.h (with or without semaphores) builds under every x86-64 code model; so must
    the generated header."""
    require(platform.machine() == "x86_64", "x86-64 code models need an x86-64 host")
    pic_flags = ("-fPIE", "-pie") if pic == "pie" else ("-fno-pie", "-no-pie")
    build_and_run_app(tmp_path, cc, "c", ("-O2", f"-mcmodel={model}", *pic_flags))


# Warnings that projects commonly add on top of -Wall -Wextra; the header's macros expand in
# the user's code, so they must not trigger them either.
STRICT_WARNINGS = {
    ("gcc", "c"): ("-Wpedantic", "-Wconversion", "-Wsign-conversion", "-Wshadow", "-Wundef",
                   "-Wcast-qual", "-Wstrict-prototypes", "-Wmissing-prototypes",
                   "-Wredundant-decls", "-Wc++-compat"),
    ("clang", "c"): ("-Wpedantic", "-Wconversion", "-Wsign-conversion", "-Wshadow", "-Wundef",
                     "-Wcast-qual", "-Wstrict-prototypes", "-Wmissing-prototypes",
                     "-Wmissing-variable-declarations", "-Wredundant-decls"),
    ("gcc", "c++"): ("-Wpedantic", "-Wconversion", "-Wsign-conversion", "-Wshadow", "-Wundef",
                     "-Wcast-qual", "-Wold-style-cast", "-Wuseless-cast",
                     "-Wzero-as-null-pointer-constant", "-Wredundant-decls"),
    ("clang", "c++"): ("-Wpedantic", "-Wconversion", "-Wsign-conversion", "-Wshadow",
                       "-Wundef", "-Wcast-qual", "-Wold-style-cast",
                       "-Wzero-as-null-pointer-constant", "-Wredundant-decls"),
}


@pytest.mark.parametrize("cc, lang", [
    pytest.param(cc, lang, id=f"{cc}-{lang}") for cc in COMPILERS for lang in LANGS])
def test_strict_warning_flags(tmp_path, cc, lang):
    build_and_run_app(tmp_path, cc, lang, ("-O2", *STRICT_WARNINGS[cc, lang]))


@pytest.mark.parametrize("cc, lang", [
    pytest.param(cc, lang, id=f"{cc}-{lang}") for cc in COMPILERS for lang in LANGS])
def test_probes_disabled(tmp_path, cc, lang):
    """DTRACE_PROBES_DISABLED: still warning-free (arguments 'used'), no notes at all."""
    write_header(tmp_path, APP_D)
    exe = compile_program(tmp_path, WORK_FN + MAIN_BODY, compiler=driver(cc, lang), lang=lang,
                          flags=(*WARN, "-O2", "-DDTRACE_PROBES_DISABLED=1"))
    run(exe)
    assert "stapsdt" not in readelf_notes(exe)


# --------------------------------------------------------------------------------------
# Several translation units, several headers, several sites.
TU_A = """\
#include "probes.h"
int usdtgen_other(int v);
int main(int argc, char **argv)
{
  APP_START();
  APP_REQUEST_START(argc, argv[0]);
  return usdtgen_other(argc) == argc ? 0 : 1;
}
"""
TU_B = """\
#include "probes.h"
int usdtgen_other(int v);
int usdtgen_other(int v)
{
  APP_START();
  APP_REQUEST_START(v, "other");
  return v;
}
"""


def check_two_unit_binary(exe: Path) -> None:
    """Both units' sites of a probe name the same, single semaphore of the binary, which
    lies in .probes; Base is .stapsdt.base's address."""
    with exe.open("rb") as f:
        elf = ELFFile(f)
        symtab = elf.get_section_by_name(".symtab")
        symbols = [(s.name, s["st_value"]) for s in symtab.iter_symbols()]
        probes = elf.get_section_by_name(".probes")
        base = elf.get_section_by_name(".stapsdt.base")
        assert probes is not None and base is not None
        lo, hi = probes["sh_addr"], probes["sh_addr"] + probes["sh_size"]
        base_addr = base["sh_addr"]
    for probe in ("start", "request__start"):
        sem = f"app_{probe}_semaphore"
        addresses = {value for name, value in symbols if name == sem}
        assert len(addresses) == 1, f"{sem}: {addresses}"
        assert lo <= next(iter(addresses)) < hi
        notes = notes_of(exe, "app", probe)
        assert len(notes) == 2, f"expected one site per translation unit: {notes}"
        assert len({n.location for n in notes}) == 2
        assert {n.semaphore for n in notes} == addresses
        assert {n.base for n in notes} == {base_addr}


@pytest.mark.parametrize("cc, lang, flags", [
    pytest.param(cc, lang, flags, id=f"{cc}-{lang}-{'-'.join(f[1:] for f in flags)}")
    for cc in COMPILERS for lang in LANGS for flags in (("-O0",), ("-O2",), ("-O2", "-flto"))])
def test_two_translation_units_share_semaphores(tmp_path, cc, lang, flags):
    write_header(tmp_path, APP_D)
    second = tmp_path / ("other.c" if lang == "c" else "other.cc")
    second.write_text(TU_B)
    exe = compile_program(tmp_path, TU_A, compiler=driver(cc, lang), lang=lang,
                          flags=(*WARN, *flags), extra_sources=(second,))
    run(exe)
    check_two_unit_binary(exe)


TEMPLATE_PROGRAM = """\
#include <sys/sdt.h>
#include "probes.h"
template <typename T> __attribute__((noinline)) T twice(T v)
{
  APP_VALUE(v);
  STAP_PROBE1(theirs, value, v);
  return v + v;
}
int main(int argc, char **)
{
  return twice(argc) + static_cast<int>(twice(static_cast<double>(argc)))
      + static_cast<int>(twice(static_cast<unsigned char>(argc))) == 6 * argc ? 0 : 1;
}
"""


def sites_agree(exe: Path, probe: str) -> list[Note]:
    """Our notes for ``probe``, checked against sys/sdt.h's notes of the same sites."""
    ours = sorted(notes_of(exe, "app", probe), key=lambda n: n.location)
    theirs = sorted(notes_of(exe, "theirs", probe), key=lambda n: n.location)
    assert len(ours) == len(theirs), (ours, theirs)
    assert [n.prefixes for n in ours] == [n.prefixes for n in theirs]
    assert len({n.location for n in ours}) == len(ours)
    assert len({n.semaphore for n in ours}) == 1
    return ours


@pytest.mark.parametrize("cxx, opt", [
    pytest.param(cxx, opt, id=f"{cxx}-{opt[1:]}") for cxx in ("g++", "clang++")
    for opt in ("-O0", "-O2")])
def test_template_gives_one_site_per_instantiation(tmp_path, cxx, opt):
    require(SYS_SDT_DIR.joinpath("sdt.h").exists(), "systemtap-sdt-dev is not installed")
    write_header(tmp_path, "provider app { probe value(long v); };\n")
    exe = compile_program(tmp_path, TEMPLATE_PROGRAM, compiler=cxx, lang="c++",
                          flags=(*WARN, opt))
    run(exe)
    ours = sites_agree(exe, "value")
    assert len(ours) == 3, ours
    # int, double, unsigned char: each instantiation describes its own type
    assert len({tuple(n.prefixes) for n in ours}) == 3, [n.args for n in ours]


INLINE_HEADER = """\
#include <sys/sdt.h>
#include "probes.h"
static inline int hit(int v)
{
  APP_VALUE(v);
  STAP_PROBE1(theirs, value, v);
  return v + 1;
}
int usdtgen_other(int v);
"""
INLINE_MAIN = """\
#include "inline.h"
int main(int argc, char **argv)
{
  int r = hit(argc);
  if (argv[0] != 0)
    r += hit(argc * 3);
  return r + usdtgen_other(argc) == 5 * argc + 3 ? 0 : 1;
}
"""
INLINE_OTHER = """\
#include "inline.h"
int usdtgen_other(int v)
{
  return hit(v);
}
"""


@pytest.mark.parametrize("cc, lang, opt", [
    pytest.param(cc, lang, opt, id=f"{cc}-{lang}-{opt[1:]}")
    for cc in COMPILERS for lang in LANGS for opt in ("-O0", "-O2")])
def test_static_inline_gives_several_sites(tmp_path, cc, lang, opt):
    """A probe in a static inline function of a shared header, called from two places in
    one unit and from a second unit: every copy (out of line, or inlined) is a site."""
    require(SYS_SDT_DIR.joinpath("sdt.h").exists(), "systemtap-sdt-dev is not installed")
    write_header(tmp_path, "provider app { probe value(int v); };\n")
    (tmp_path / "inline.h").write_text(INLINE_HEADER)
    other = tmp_path / ("other.c" if lang == "c" else "other.cc")
    other.write_text(INLINE_OTHER)
    exe = compile_program(tmp_path, INLINE_MAIN, compiler=driver(cc, lang), lang=lang,
                          flags=(*WARN, opt), extra_sources=(other,))
    run(exe)
    ours = sites_agree(exe, "value")
    assert len(ours) >= 2, f"one copy per unit at least, expected two sites: {ours}"


TWO_HEADERS_PROGRAM = """\
#include "alpha.h"
#include "beta.h"
#include "alpha.h"
int main(int argc, char **argv)
{
  ALPHA_GO(argc);
  BETA_GO(argv[0]);
  BETA_STOP();
  if (ALPHA_GO_ENABLED() || BETA_STOP_ENABLED())
    return 1;
  return 0;
}
"""


@pytest.mark.parametrize("cc, lang", [
    pytest.param(cc, lang, id=f"{cc}-{lang}") for cc in COMPILERS for lang in LANGS])
def test_headers_from_two_provider_files_in_one_unit(tmp_path, cc, lang):
    write_header(tmp_path, "provider alpha { probe go(int x); };\n", name="alpha.h")
    write_header(tmp_path, "provider beta { probe go(const char *s); probe stop(); };\n",
                 name="beta.h")
    exe = compile_program(tmp_path, TWO_HEADERS_PROGRAM, compiler=driver(cc, lang), lang=lang,
                          flags=(*WARN, "-O2"))
    run(exe)
    alpha, beta = notes_of(exe, "alpha"), notes_of(exe, "beta")
    assert [(n.name, len(n.args)) for n in alpha] == [("go", 1)]
    assert sorted((n.name, len(n.args)) for n in beta) == [("go", 1), ("stop", 0)]
    semaphores = [n.semaphore for n in alpha + beta]
    assert 0 not in semaphores and len(set(semaphores)) == 3


EXTERN_C_PROGRAM = """\
extern "C" {
#include "probes.h"
}
int main(int argc, char **argv)
{
  APP_START();
  APP_REQUEST_START(argc, argv[0]);
  return APP_START_ENABLED() ? 1 : 0;
}
"""


@pytest.mark.parametrize("cxx", ["g++", "clang++"])
def test_include_inside_extern_c(tmp_path, cxx):
    write_header(tmp_path, APP_D)
    exe = compile_program(tmp_path, EXTERN_C_PROGRAM, compiler=cxx, lang="c++",
                          flags=(*WARN, "-O2", "-std=c++17"))
    run(exe)
    assert {n.name for n in notes_of(exe, "app")} == {"start", "request__start"}


# --------------------------------------------------------------------------------------
# aarch64 cross build: aarch64 operands, in agreement with sys/sdt.h from the same compiler.
CROSS_D = "provider cross { probe args(int v, const char *p); probe chr(char c); };\n"
CROSS_PROGRAM = """\
#include <sys/sdt.h>
#include "probes.h"
__attribute__((noinline)) int fire(int v, const char *p, char c);
__attribute__((noinline)) int fire(int v, const char *p, char c)
{
  CROSS_ARGS(v, p);
  STAP_PROBE2(theirs, args, v, p);
  CROSS_CHR(c);
  STAP_PROBE1(theirs, chr, c);
  return v + 1;
}
int main(int argc, char **argv)
{
  return fire(argc, argv[0], argv[0][0]) > 0 ? 0 : 1;
}
"""
# x0/w1/sp/xzr, [x1], [sp, 12], [x29, -4], #12 / 12
AARCH64_OPERAND = re.compile(
    r"(?:[xw](?:[0-9]|[12][0-9]|30)|sp|wsp|[xw]zr"
    r"|\[(?:x(?:[0-9]|[12][0-9]|30)|sp)(?:, ?#?-?\d+)?\]"
    r"|#?-?\d+)")
CROSS_COMPILERS = {
    "gcc": (("aarch64-linux-gnu-gcc",), "c"),
    "g++": (("aarch64-linux-gnu-g++",), "c++"),
    "clang": (("clang", "--target=aarch64-linux-gnu"), "c"),
    "clang++": (("clang++", "--target=aarch64-linux-gnu"), "c++"),
}


@pytest.mark.parametrize("compiler, opt, pic", [
    pytest.param(compiler, opt, pic, id=f"{compiler}-{opt[1:]}-{pic}")
    for compiler in CROSS_COMPILERS for opt in ("-O0", "-O2") for pic in ("pie", "no-pie")])
def test_aarch64_cross_compile(tmp_path, compiler, opt, pic):
    command, lang = CROSS_COMPILERS[compiler]
    require_tool(command[0])
    if command[0].startswith("clang"):
        # clang cross-compiles with the aarch64 GNU toolchain's headers
        require_tool("aarch64-linux-gnu-gcc")
    require(SYS_SDT_DIR.joinpath("sdt.h").exists(), "systemtap-sdt-dev is not installed")
    sysdir = tmp_path / "cross-include" / "sys"
    sysdir.mkdir(parents=True)
    for name in ("sdt.h", "sdt-config.h"):
        shutil.copy(SYS_SDT_DIR / name, sysdir / name)
    write_header(tmp_path, CROSS_D)
    src = tmp_path / ("cross.c" if lang == "c" else "cross.cc")
    src.write_text(CROSS_PROGRAM)
    obj = tmp_path / "cross.o"
    pic_flags = ("-fPIE",) if pic == "pie" else ("-fno-pie",)
    cmd = [*command, *WARN, opt, *pic_flags, "-c", "-I", str(sysdir.parent), "-I", str(tmp_path),
           str(src), "-o", str(obj)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stderr}"

    with obj.open("rb") as f:
        assert ELFFile(f)["e_machine"] == "EM_AARCH64"
    notes = parse_stapsdt_notes(readelf_notes(obj))
    for probe, nargs in (("args", 2), ("chr", 1)):
        ours = [n for n in notes if n.provider == "cross" and n.name == probe]
        theirs = [n for n in notes if n.provider == "theirs" and n.name == probe]
        assert len(ours) == len(theirs) == 1, notes
        assert len(ours[0].args) == len(theirs[0].args) == nargs
        for note in ours + theirs:
            for operand in note.operands:
                assert AARCH64_OPERAND.fullmatch(operand), \
                    f"{note.provider}:{probe}: {operand!r} is not an aarch64 operand"
        assert ours[0].prefixes == theirs[0].prefixes, (ours[0].args, theirs[0].args)
    # sanity of the oracle itself: int is signed 4 bytes, a pointer 8, and plain char is
    # unsigned on aarch64 (sys/sdt.h: "1@")
    their_args = next(n for n in notes if n.provider == "theirs" and n.name == "args")
    their_chr = next(n for n in notes if n.provider == "theirs" and n.name == "chr")
    assert their_args.prefixes == ["-4", "8"] and their_chr.prefixes == ["1"]


AARCH64_NOP = bytes.fromhex("1f2003d5")  # d503201f, little-endian


@pytest.mark.parametrize("compiler, flags", [
    pytest.param(compiler, flags, id=f"{compiler}-{'-'.join(f[1:] for f in flags)}")
    for compiler in ("aarch64-linux-gnu-gcc", "aarch64-linux-gnu-g++")
    for flags in (("-O0",), ("-O2",), ("-O2", "-flto"), ("-O2", "-static"))])
def test_aarch64_cross_link(tmp_path, compiler, flags):
    """Linked for aarch64 (not run): the semaphore each note names is the binary's single
    semaphore symbol, Base is .stapsdt.base, and every site is an aarch64 nop."""
    require_tool(compiler)
    lang = "c" if compiler.endswith("gcc") else "c++"
    write_header(tmp_path, APP_D)
    first = tmp_path / ("main.c" if lang == "c" else "main.cc")
    first.write_text(TU_A)
    second = tmp_path / ("other.c" if lang == "c" else "other.cc")
    second.write_text(TU_B)
    exe = tmp_path / "prog"
    cmd = [compiler, *WARN, *flags, "-I", str(tmp_path), str(first), str(second), "-o", str(exe)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0 and "cannot find" in result.stderr:
        require(False, f"the aarch64 C library is not installed: {result.stderr.strip()}")
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stderr}"
    check_two_unit_binary(exe)
    with exe.open("rb") as f:
        elf = ELFFile(f)
        assert elf["e_machine"] == "EM_AARCH64"
        text = elf.get_section_by_name(".text")
        data = text.data()
        for note in notes_of(exe, "app"):
            offset = note.location - text["sh_addr"]
            assert 0 <= offset < text["sh_size"], note
            assert data[offset:offset + 4] == AARCH64_NOP, f"no nop at the site of {note}"

"""Peer agreement with systemtap's <sys/sdt.h>: the generated header must describe every
argument exactly as sys/sdt.h does.

One program per (compiler, language, optimisation level) fires, for each argument type of a
large matrix, a probe through the generated header (provider ``ours``) and the very same
call through sys/sdt.h's STAP_PROBEn (provider ``theirs``, same probe name). sys/sdt.h is
the oracle: the size-and-sign prefix of each argument ("-4", "8", "8f", the part before
'@') in our note must equal the one in sys/sdt.h's note. Nothing here hard-codes what the
prefixes should be.
"""
from __future__ import annotations

import platform
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from conftest import (Note, compile_program, parse_stapsdt_notes, readelf_notes, require,
                      require_tool, write_header)

SYS_SDT_H = Path("/usr/include/x86_64-linux-gnu/sys/sdt.h")


# --------------------------------------------------------------------------------------
# The argument matrix: (probe id, D parameter, C statements declaring the value, argument
# expression). ``seed`` (argc) and ``argv`` are in scope, so values are not constants
# unless the expression is a literal on purpose.
@dataclass(frozen=True)
class ArgCase:
    ident: str
    d_param: str
    decl: str
    expr: str
    langs: tuple[str, ...] = ("c", "c++")

    @property
    def probe(self) -> str:
        return f"t_{self.ident}"


def _int_case(ident: str, ctype: str) -> ArgCase:
    return ArgCase(ident, f"{ctype} v", f"{ctype} v_{ident} = ({ctype})seed;", f"v_{ident}")


ARG_CASES: tuple[ArgCase, ...] = (
    _int_case("char", "char"),
    _int_case("schar", "signed char"),
    _int_case("uchar", "unsigned char"),
    _int_case("short", "short"),
    _int_case("ushort", "unsigned short"),
    _int_case("int", "int"),
    _int_case("uint", "unsigned int"),
    _int_case("long", "long"),
    _int_case("ulong", "unsigned long"),
    _int_case("llong", "long long"),
    _int_case("ullong", "unsigned long long"),
    ArgCase("bool", "bool v", "bool v_bool = seed > 1;", "v_bool"),
    _int_case("int8", "int8_t"),
    _int_case("uint8", "uint8_t"),
    _int_case("int16", "int16_t"),
    _int_case("uint16", "uint16_t"),
    _int_case("int32", "int32_t"),
    _int_case("uint32", "uint32_t"),
    _int_case("int64", "int64_t"),
    _int_case("uint64", "uint64_t"),
    _int_case("size", "size_t"),
    _int_case("ssize", "ssize_t"),
    _int_case("uintptr", "uintptr_t"),
    _int_case("intptr", "intptr_t"),
    _int_case("ptrdiff", "ptrdiff_t"),
    _int_case("pid", "pid_t"),
    _int_case("off", "off_t"),
    _int_case("wchar", "wchar_t"),
    _int_case("char16", "char16_t"),
    _int_case("char32", "char32_t"),
    ArgCase("enum", "enum color v", "enum color v_enum = (enum color)(seed & 1);", "v_enum"),
    ArgCase("enum_neg", "enum delta v", "enum delta v_enum_neg = seed > 1 ? UP : DOWN;",
            "v_enum_neg"),
    ArgCase("const_int", "const int v", "const int v_const_int = seed;", "v_const_int"),
    ArgCase("volatile_short", "short v", "volatile short v_volatile_short = (short)seed;",
            "v_volatile_short"),
    ArgCase("cv_uchar", "unsigned char v",
            "const volatile unsigned char v_cv_uchar = (unsigned char)seed;", "v_cv_uchar"),
    ArgCase("void_ptr", "void *v", "void *v_void_ptr = (void *)argv;", "v_void_ptr"),
    ArgCase("const_char_ptr", "const char *v", "const char *v_const_char_ptr = argv[0];",
            "v_const_char_ptr"),
    ArgCase("string", "string v", "char *v_string = argv[0];", "v_string"),
    ArgCase("char_ptr_ptr", "char **v", "char **v_char_ptr_ptr = argv;", "v_char_ptr_ptr"),
    ArgCase("struct_ptr", "struct foo *v", "struct foo *v_struct_ptr = (struct foo *)argv;",
            "v_struct_ptr"),
    ArgCase("char_array", "char v[16]",
            "char v_char_array[16] = {0}; v_char_array[0] = (char)seed;", "v_char_array"),
    ArgCase("int_array", "int v[4]",
            "int v_int_array[4] = {0}; v_int_array[1] = seed;", "v_int_array"),
    ArgCase("fn_ptr", "void *v", "int (*v_fn_ptr)(int) = seed > 5 ? ident : 0;", "v_fn_ptr"),
    ArgCase("function", "void *v", "", "ident", langs=("c",)),
    ArgCase("struct_value", "struct foo v", "struct foo v_struct_value = { seed };",
            "v_struct_value"),
    ArgCase("reference", "int v", "int &v_reference = seed;", "v_reference", langs=("c++",)),
    ArgCase("enum_class", "short v", "scoped v_enum_class = (scoped)seed;", "v_enum_class",
            langs=("c++",)),
    ArgCase("nullptr", "void *v", "", "nullptr", langs=("c++",)),
    ArgCase("double", "double v", "double v_double = seed * 0.5;", "v_double"),
    ArgCase("float", "float v", "float v_float = (float)seed * 0.25f;", "v_float"),
    # expressions, not just variables: promotion, literals
    ArgCase("promoted", "int v", "", "v_short + 1"),
    ArgCase("uchar_promoted", "int v", "", "v_uchar * 2"),
    ArgCase("literal_int", "int v", "", "42"),
    ArgCase("literal_neg", "long v", "", "-1L"),
    ArgCase("literal_ulong", "unsigned long v", "", "42UL"),
    ArgCase("literal_string", "string v", "", '"hello"'),
    ArgCase("sizeof", "size_t v", "", "sizeof(struct foo)"),
    ArgCase("address_of", "int *v", "", "&seed"),
    ArgCase("deref_char", "char v", "", "argv[0][0]"),
    ArgCase("comparison", "int v", "", "seed > 1"),
)

# A probe with several arguments of mixed types, and a name with a double underscore.
MULTI_PROBE = "request__start"
MULTI_D_PARAMS = "int fd, const char *path, unsigned long long len, short s, double d, void *p"
MULTI_EXPRS = "v_int, v_const_char_ptr, v_ullong, v_short, v_double, v_void_ptr"


def cases(lang: str) -> list[ArgCase]:
    return [c for c in ARG_CASES if lang in c.langs]


def all_probes(lang: str) -> list[str]:
    return [c.probe for c in cases(lang)] + [MULTI_PROBE]


def provider_text() -> str:
    probes = "\n".join(f"  probe {c.probe}({c.d_param});" for c in ARG_CASES)
    return (
        "enum color { RED, GREEN };\n"
        "struct foo { int x; };\n"
        "provider ours {\n"
        f"{probes}\n"
        f"  probe {MULTI_PROBE}({MULTI_D_PARAMS});\n"
        "};\n")


def program_text(lang: str) -> str:
    includes = ["stddef.h", "stdint.h", "sys/types.h", "stdbool.h", "wchar.h", "sys/sdt.h"]
    if lang == "c":
        includes.append("uchar.h")
    decls = "\n".join(f"  {c.decl}" for c in cases(lang) if c.decl)
    fires = "\n".join(
        f"  OURS_{c.probe.upper()}({c.expr});\n"
        f"  STAP_PROBE1(theirs, {c.probe}, {c.expr});" for c in cases(lang))
    scoped = "enum class scoped : short { A = -1, B };\n" if lang == "c++" else ""
    macro = "OURS_" + MULTI_PROBE.replace("__", "_").upper()
    return (
        "".join(f"#include <{h}>\n" for h in includes)
        + '#include "probes.h"\n\n'
        "enum color { RED, GREEN };\n"
        "enum delta { DOWN = -1, UP = 1 };\n"
        "struct foo { int x; };\n"
        f"{scoped}"
        "static int ident(int a) { return a; }\n\n"
        "int main(int argc, char **argv)\n{\n"
        "  int seed = argc;\n"
        f"{decls}\n"
        f"{fires}\n"
        f"  {macro}({MULTI_EXPRS});\n"
        f"  STAP_PROBE6(theirs, {MULTI_PROBE}, {MULTI_EXPRS});\n"
        "  return 0;\n}\n")


# --------------------------------------------------------------------------------------
# Reading the notes back.


def by_probe(notes: list[Note], provider: str) -> dict[str, list[Note]]:
    out: dict[str, list[Note]] = {}
    for note in notes:
        if note.provider == provider:
            out.setdefault(note.name, []).append(note)
    return out


# --------------------------------------------------------------------------------------
COMPILERS = {("gcc", "c"): "gcc", ("gcc", "c++"): "g++",
             ("clang", "c"): "clang", ("clang", "c++"): "clang++"}
MATRIX = [pytest.param(cc, lang, (opt,), id=f"{cc}-{lang}-{opt[1:]}")
          for cc in ("gcc", "clang") for lang in ("c", "c++") for opt in ("-O0", "-O2")]
# plain char is unsigned with -funsigned-char: sys/sdt.h then says "1@", so must we
MATRIX += [pytest.param(cc, lang, ("-O2", "-funsigned-char"), id=f"{cc}-{lang}-O2-unsigned-char")
           for cc in ("gcc", "clang") for lang in ("c", "c++")]


def build_peer_program(tmp_path: Path, cc: str, lang: str, flags: tuple[str, ...]) -> Path:
    require(platform.machine() == "x86_64", "the peer matrix runs on x86-64 hosts")
    require(SYS_SDT_H.exists(), "systemtap-sdt-dev (sys/sdt.h) is not installed")
    write_header(tmp_path, provider_text())
    return compile_program(tmp_path, program_text(lang), compiler=COMPILERS[cc, lang],
                           lang=lang, flags=flags)


def assert_prefixes_agree(notes: list[Note], lang: str) -> None:
    ours, theirs = by_probe(notes, "ours"), by_probe(notes, "theirs")
    assert sorted(theirs) == sorted(all_probes(lang)), "sys/sdt.h program lacks probes"
    assert sorted(ours) == sorted(all_probes(lang))

    mismatches = []
    for probe in all_probes(lang):
        assert len(ours[probe]) == len(theirs[probe]) == 1, probe
        mine, peer = ours[probe][0], theirs[probe][0]
        assert len(mine.args) == len(peer.args), (probe, mine.args, peer.args)
        assert all("@" in a for a in mine.args), (probe, mine.args)
        if mine.prefixes != peer.prefixes:
            mismatches.append(f"{probe}: ours {' '.join(mine.args)!r} "
                              f"vs sys/sdt.h {' '.join(peer.args)!r}")
    assert not mismatches, "argument size/sign differs from sys/sdt.h:\n" + "\n".join(mismatches)


@pytest.mark.parametrize("cc, lang, flags", MATRIX)
def test_argument_prefixes_match_sys_sdt(tmp_path, cc, lang, flags):
    exe = build_peer_program(tmp_path, cc, lang, flags)
    assert_prefixes_agree(parse_stapsdt_notes(readelf_notes(exe)), lang)


CROSS_COMPILERS = {
    "aarch64-gcc": (("aarch64-linux-gnu-gcc",), "c"),
    "aarch64-g++": (("aarch64-linux-gnu-g++",), "c++"),
    "clang-aarch64": (("clang", "--target=aarch64-linux-gnu"), "c"),
    "clang++-aarch64": (("clang++", "--target=aarch64-linux-gnu"), "c++"),
}


@pytest.mark.parametrize("compiler, opt", [
    pytest.param(compiler, opt, id=f"{compiler}-{opt[1:]}")
    for compiler in CROSS_COMPILERS for opt in ("-O0", "-O2")])
def test_argument_prefixes_match_sys_sdt_aarch64(tmp_path, compiler, opt):
    """The same matrix cross-compiled for aarch64 (plain char and wchar_t are unsigned
    there), against sys/sdt.h compiled by the same compiler (object file only)."""
    command, lang = CROSS_COMPILERS[compiler]
    require_tool(command[0])
    require_tool("aarch64-linux-gnu-gcc")  # clang uses its headers and libraries
    require(SYS_SDT_H.exists(), "systemtap-sdt-dev (sys/sdt.h) is not installed")
    sysdir = tmp_path / "cross-include" / "sys"
    sysdir.mkdir(parents=True)
    for name in ("sdt.h", "sdt-config.h"):
        shutil.copy(SYS_SDT_H.parent / name, sysdir / name)
    write_header(tmp_path, provider_text())
    src = tmp_path / ("prog.c" if lang == "c" else "prog.cc")
    src.write_text(program_text(lang))
    obj = tmp_path / "prog.o"
    cmd = [*command, opt, "-c", "-I", str(sysdir.parent), "-I", str(tmp_path), str(src),
           "-o", str(obj)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stderr}"
    with obj.open("rb") as f:
        assert ELFFile(f)["e_machine"] == "EM_AARCH64"
    notes = parse_stapsdt_notes(readelf_notes(obj))
    assert not [n for n in notes if any("%" in a for a in n.args)], "x86 operands in aarch64 notes"
    assert_prefixes_agree(notes, lang)


@pytest.mark.parametrize("cc, lang, flags", MATRIX)
def test_note_fields(tmp_path, cc, lang, flags):
    exe = build_peer_program(tmp_path, cc, lang, flags)
    notes = parse_stapsdt_notes(readelf_notes(exe))
    ours = [n for n in notes if n.provider == "ours"]
    assert ours
    # names exactly as written in the .d file (double underscore kept, not mangled)
    assert {n.name for n in ours} == set(all_probes(lang))
    assert any(n.name == "request__start" for n in ours)

    with exe.open("rb") as f:
        elf = ELFFile(f)
        base_section = elf.get_section_by_name(".stapsdt.base")
        assert base_section is not None, "no .stapsdt.base section"
        probes_section = elf.get_section_by_name(".probes")
        assert probes_section is not None, "semaphores are not in a .probes section"
        symtab = elf.get_section_by_name(".symtab")
        symbols = {s.name: s["st_value"] for s in symtab.iter_symbols()}
        text = elf.get_section_by_name(".text")
        text_data = text.data()

        for note in notes:  # both ours and theirs: Base is .stapsdt.base's address
            assert note.base == base_section["sh_addr"], note
            # the probe site is a nop (x86-64: 0x90) in .text
            offset = note.location - text["sh_addr"]
            assert 0 <= offset < text["sh_size"], note
            assert text_data[offset] == 0x90, f"no nop at the site of {note}"

        lo = probes_section["sh_addr"]
        hi = lo + probes_section["sh_size"]
        for note in ours:
            assert note.semaphore != 0, note
            assert lo <= note.semaphore < hi, note
            assert note.semaphore == symbols[f"ours_{note.name}_semaphore"], note
        assert len({n.semaphore for n in ours}) == len(ours), "probes share a semaphore"
        # theirs (sys/sdt.h without _SDT_HAS_SEMAPHORES) has none: the comparison is fair
        assert all(n.semaphore == 0 for n in notes if n.provider == "theirs")

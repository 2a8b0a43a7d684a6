"""read_probes against its peers: every site it reads from ``.note.stapsdt`` must agree with
``readelf -n`` (provider, name, pc, base, semaphore, argument string, number of sites), and
every file offset it computes must agree with the program headers ``readelf -lW`` prints and
land on a nop in the file's bytes (cross-checked with ``objdump -d``).

Programs are built here with usdtgen's header and with systemtap's <sys/sdt.h>, by gcc and
clang, as PIE and non-PIE executables and shared libraries, at -O0 and -O2; then an aarch64
cross build, an i386 (ELF32) build, hand-made big-endian and ELF32 files, and the real
probe-bearing binaries of this Debian machine.
"""
from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import compile_program, readelf_notes, require, require_tool, write_header

from usdtgen.elf.notes import ElfProbes, read_probes

# --------------------------------------------------------------------------------------
# Peers: readelf -n, readelf -lW, readelf -SW, objdump -d


@dataclass(frozen=True)
class PeerSite:
    provider: str
    name: str
    location: int
    base: int
    semaphore: int
    args: str


_LOCATION = re.compile(r"Location: (0x[0-9a-f]+), Base: (0x[0-9a-f]+), Semaphore: (0x[0-9a-f]+)")


def parse_readelf_sites(text: str) -> list[PeerSite]:
    """The stapsdt notes of ``readelf -n`` output, in file order, argument string verbatim."""
    sites, current = [], None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("Provider: "):
            current = {"provider": stripped[len("Provider: "):]}
        elif current is not None and stripped.startswith("Name: "):
            current["name"] = stripped[len("Name: "):]
        elif current is not None and stripped.startswith("Location: "):
            m = _LOCATION.fullmatch(stripped)
            assert m, f"unexpected readelf line {line!r}"
            current.update(location=int(m[1], 16), base=int(m[2], 16), semaphore=int(m[3], 16))
        elif current is not None and stripped.startswith("Arguments:"):
            # readelf prints "    Arguments: %s\n": everything after that prefix is the string
            args = line.split("Arguments:", 1)[1]
            current["args"] = args.removeprefix(" ")
            sites.append(PeerSite(**current))
            current = None
    return sites


def parse_readelf_type_notes(text: str) -> dict[tuple[str, str], tuple[tuple[str, str], ...]]:
    """usdtgen's type notes as readelf dumps them ("description data: 61 70 70 00 ...")."""
    notes, owner = {}, None
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and re.fullmatch(r"0x[0-9a-f]+", fields[1]):
            owner = fields[0]
        elif owner == "usdtgen" and line.strip().startswith("description data:"):
            desc = bytes.fromhex(line.split(":", 1)[1].replace(" ", ""))
            parts = desc.rstrip(b"\0").decode().split("\0")
            notes[(parts[0], parts[1])] = tuple(zip(parts[2::2], parts[3::2]))
            owner = None
    return notes


@dataclass(frozen=True)
class Load:
    offset: int
    vaddr: int
    filesz: int
    memsz: int
    flags: str


_LOAD = re.compile(r"\s*LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+"
                   r"(0x[0-9a-f]+)\s+([RWE ]+?)\s+0x[0-9a-f]+\s*")


def readelf_loads(path: Path, readelf: str = "readelf") -> list[Load]:
    text = subprocess.run([readelf, "-lW", str(path)], capture_output=True, text=True,
                          check=True).stdout
    loads = []
    for line in text.splitlines():
        m = _LOAD.fullmatch(line)
        if m:
            loads.append(Load(int(m[1], 16), int(m[2], 16), int(m[3], 16), int(m[4], 16),
                              m[5].replace(" ", "")))
    assert loads, f"readelf -lW {path} shows no PT_LOAD:\n{text}"
    return loads


def readelf_section_addr(path: Path, name: str, readelf: str = "readelf") -> int | None:
    text = subprocess.run([readelf, "-SW", str(path)], capture_output=True, text=True,
                          check=True).stdout
    m = re.search(r"\]\s+" + re.escape(name) + r"\s+\S+\s+([0-9a-f]+)\s", text)
    return int(m[1], 16) if m else None


def readelf_type(path: Path) -> str:
    text = subprocess.run(["readelf", "-hW", str(path)], capture_output=True, text=True,
                          check=True).stdout
    return re.search(r"Type:\s+(\S+)", text)[1]


def expected_offset(loads: list[Load], address: int, *, exec_segment: bool) -> int | None:
    """What the program headers say: the 'E' segment for a pc, the 'RW' one for a semaphore."""
    for load in loads:
        wanted = "E" in load.flags if exec_segment else ("W" in load.flags and "E" not in load.flags)
        if wanted and load.vaddr <= address < load.vaddr + load.memsz:
            return address - load.vaddr + load.offset
    return None


X86_NOPS = (b"\x90", b"\x0f\x1f", b"\x66\x90", b"\x66\x0f\x1f")
AARCH64_NOP = bytes.fromhex("1f2003d5")   # d503201f, little-endian


def is_nop(code: bytes, machine: str) -> bool:
    if machine in ("x86_64", "i386"):
        return code.startswith(X86_NOPS)
    if machine == "aarch64":
        return code[:4] == AARCH64_NOP
    raise AssertionError(f"no nop encoding known for {machine}")


def objdump_mnemonic(path: Path, address: int, objdump: str = "objdump") -> str:
    """The mnemonic objdump disassembles at ``address`` (needs the symbols around it)."""
    text = subprocess.run([objdump, "-d", "-w", f"--start-address={address:#x}",
                           f"--stop-address={address + 8:#x}", str(path)],
                          capture_output=True, text=True, check=True).stdout
    for line in text.splitlines():
        m = re.match(r"\s*([0-9a-f]+):\s+(?:[0-9a-f]{2,8} )+\s*(\S+)", line)
        if m and int(m[1], 16) == address:
            return m[2]
    raise AssertionError(f"objdump shows no instruction at {address:#x}:\n{text}")


# --------------------------------------------------------------------------------------
# The checks every file goes through


def check_against_readelf(path: Path, probes: ElfProbes, readelf: str = "readelf") -> list[PeerSite]:
    """Same sites as readelf, in the same order, field by field."""
    text = (readelf_notes(path) if readelf == "readelf" else
            subprocess.run([readelf, "-n", str(path)], capture_output=True, text=True,
                           check=True).stdout)
    peer = parse_readelf_sites(text)
    assert peer, f"readelf finds no stapsdt notes in {path}"
    assert len(probes.sites) == len(peer), (len(probes.sites), len(peer))
    # readelf prints the raw pc; ours is adjusted by .stapsdt.base - base, which is 0 in files
    # that were never prelinked: make that assumption explicit.
    base_addr = readelf_section_addr(path, ".stapsdt.base", readelf)
    assert base_addr is not None, "no .stapsdt.base section"
    assert {p.base for p in peer} == {base_addr}, "a prelinked file? the pc comparison assumes not"
    for ours, theirs in zip(probes.sites, peer):
        assert (ours.provider, ours.name, ours.address, ours.base, ours.semaphore or 0,
                ours.args_text) == (theirs.provider, theirs.name, theirs.location, theirs.base,
                                    theirs.semaphore, theirs.args), (ours, theirs)
        assert ours.semaphore is None if theirs.semaphore == 0 else ours.semaphore == theirs.semaphore
        assert ours.path == str(path)
        assert ours.machine == probes.machine
    return peer


def check_offsets(path: Path, probes: ElfProbes, readelf: str = "readelf") -> None:
    """File offsets agree with the program headers; the pc's byte is a nop, a semaphore's is 0."""
    loads = readelf_loads(path, readelf)
    data = path.read_bytes()
    for site in probes.sites:
        want = expected_offset(loads, site.address, exec_segment=True)
        assert want is not None, f"{site}: readelf's segments do not contain the pc"
        assert site.file_offset == want, (site, hex(want))
        assert is_nop(data[site.file_offset:site.file_offset + 4], probes.machine), \
            f"{site.provider}:{site.name}: {data[site.file_offset:site.file_offset + 4].hex()} " \
            f"at file offset {site.file_offset:#x} is not a nop"
        if site.semaphore is None:
            assert site.semaphore_offset is None
            continue
        want = expected_offset(loads, site.semaphore, exec_segment=False)
        assert want is not None, f"{site}: readelf's segments do not contain the semaphore"
        assert site.semaphore_offset == want, (site, hex(want))
        segment = next(s for s in loads if s.offset <= want < s.offset + s.memsz and "W" in s.flags)
        if want < segment.offset + segment.filesz:   # in the file (not .bss): starts at 0
            assert data[want:want + 2] == b"\0\0", f"semaphore of {site.name} is not 0 in the file"


def check_objdump(path: Path, probes: ElfProbes, count: int = 3, objdump: str = "objdump") -> None:
    """objdump, independently of our offsets, disassembles a nop at a few of the pcs."""
    for site in probes.sites[:count]:
        mnemonic = objdump_mnemonic(path, site.address, objdump)
        assert mnemonic.startswith("nop"), f"{site.provider}:{site.name}: objdump says {mnemonic}"


def check_file(path: Path, machine: str = "x86_64", elfclass: int = 64) -> ElfProbes:
    probes = read_probes(str(path))
    assert (probes.machine, probes.elfclass, probes.little_endian) == (machine, elfclass, True)
    assert probes.path == str(path)
    assert probes.problems == ()
    check_against_readelf(path, probes)
    check_offsets(path, probes)
    return probes


# --------------------------------------------------------------------------------------
# Programs built with usdtgen's header

PROBES_D = """\
struct conn { int fd; };
provider app {
  probe start();
  probe request__start(int fd, const char *path);
  probe done(unsigned long long bytes, struct conn *c, double ratio);
};
provider store {
  probe put(const char *key, long size);
  probe anon(int, unsigned char);
  probe sync();
};
"""
EXPECTED_TYPES = {
    ("app", "start"): (),
    ("app", "request__start"): (("fd", "int"), ("path", "const char *")),
    ("app", "done"): (("bytes", "unsigned long long"), ("c", "struct conn *"), ("ratio", "double")),
    ("store", "put"): (("key", "const char *"), ("size", "long")),
    ("store", "anon"): (("", "int"), ("", "unsigned char")),
    ("store", "sync"): (),
}

USDTGEN_WORK = """\
#include "probes.h"
struct conn { int fd; };
int usdtgen_work(int n, const char *path);
int usdtgen_work(int n, const char *path)
{
  struct conn c;
  c.fd = n;
  APP_START();
  if (APP_REQUEST_START_ENABLED())
    return -1;
  APP_REQUEST_START(n, path);
  APP_DONE((unsigned long long)n * 1000, &c, n / 2.0);
  STORE_PUT(path, (long)n);
  STORE_ANON(n, (unsigned char)n);
  STORE_SYNC();
  return c.fd;
}
"""
USDTGEN_MAIN = """\
int usdtgen_work(int n, const char *path);
int main(int argc, char **argv) { return usdtgen_work(argc, argv[0]) == argc ? 0 : 1; }
"""

# --------------------------------------------------------------------------------------
# Programs built with systemtap's <sys/sdt.h>: one unit with semaphores, one without

SDT_SEM = """\
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
unsigned short sdtapp_ready_semaphore __attribute__((section(".probes")));
unsigned short sdtapp_triple_semaphore __attribute__((section(".probes")));
int sdt_sem(int n, const char *p);
int sdt_sem(int n, const char *p)
{
  if (sdtapp_ready_semaphore)
    return -1;
  STAP_PROBE1(sdtapp, ready, n);
  STAP_PROBE3(sdtapp, triple, n, p, (long long)n * 3);
  return n;
}
"""
SDT_PLAIN = """\
#include <sys/sdt.h>
double sdt_plain(int n, double d);
double sdt_plain(int n, double d)
{
  STAP_PROBE(sdtplain, zero);
  STAP_PROBE2(sdtplain, two, n, d);
  return d * n;
}
"""
SDT_MAIN = """\
int sdt_sem(int n, const char *p);
double sdt_plain(int n, double d);
int main(int argc, char **argv) { return sdt_sem(argc, argv[0]) + (int)sdt_plain(argc, 1.5) > 0 ? 0 : 1; }
"""
SDT_PROBES = {("sdtapp", "ready"), ("sdtapp", "triple"), ("sdtplain", "zero"), ("sdtplain", "two")}

KINDS = {
    "pie-O2": ("-O2", "-fPIE", "-pie"),
    "nopie-O2": ("-O2", "-fno-pie", "-no-pie"),
    "pie-O0": ("-O0", "-fPIE", "-pie"),
    "shared-O2": ("-O2", "-fPIC", "-shared"),
}
ELF_TYPES = {"pie-O2": "DYN", "nopie-O2": "EXEC", "pie-O0": "DYN", "shared-O2": "DYN"}


def build(tmp_path: Path, header: str, cc: str, kind: str) -> Path:
    flags = KINDS[kind]
    shared = kind.startswith("shared")
    if header == "usdtgen":
        write_header(tmp_path, PROBES_D)
        source = USDTGEN_WORK if shared else USDTGEN_WORK + USDTGEN_MAIN
        extra: tuple[Path, ...] = ()
    else:
        require(Path("/usr/include/x86_64-linux-gnu/sys/sdt.h").exists()
                or Path("/usr/include/sys/sdt.h").exists(),
                "<sys/sdt.h> is missing (systemtap-sdt-dev)")
        (tmp_path / "sdt_plain.c").write_text(SDT_PLAIN)
        if shared:
            source, extra = SDT_SEM, (tmp_path / "sdt_plain.c",)
        else:
            (tmp_path / "sdt_sem.c").write_text(SDT_SEM)
            source, extra = SDT_MAIN, (tmp_path / "sdt_sem.c", tmp_path / "sdt_plain.c")
    out = "libprobes.so" if shared else "prog"
    binary = compile_program(tmp_path, source, compiler=cc, flags=flags, output=out,
                             extra_sources=extra)
    assert readelf_type(binary) == ELF_TYPES[kind], f"{kind} did not build a {ELF_TYPES[kind]}"
    return binary


@pytest.mark.parametrize("header", ["usdtgen", "sdt"])
@pytest.mark.parametrize("cc", ["gcc", "clang"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_built_programs_agree_with_readelf(tmp_path, header, cc, kind):
    binary = build(tmp_path, header, cc, kind)
    probes = check_file(binary)
    check_objdump(binary, probes)
    names = {(s.provider, s.name) for s in probes.sites}
    if header == "usdtgen":
        assert names == set(EXPECTED_TYPES)
        assert all(s.semaphore is not None and s.semaphore_offset is not None for s in probes.sites)
        assert {key: t.args for key, t in probes.types.items()} == EXPECTED_TYPES
        assert all(key == (t.provider, t.name) for key, t in probes.types.items())
        # and readelf's dump of the same type notes says the same
        assert parse_readelf_type_notes(readelf_notes(binary)) == EXPECTED_TYPES
    else:
        assert names == SDT_PROBES
        with_semaphore = {s.name for s in probes.sites if s.semaphore is not None}
        assert with_semaphore == {"ready", "triple"}      # the unit without has semaphore 0
        assert probes.types == {}


# --------------------------------------------------------------------------------------
# aarch64 (cross-compiled) and i386 (ELF32)

def test_aarch64_cross_build(tmp_path):
    cc = require_tool("aarch64-linux-gnu-gcc")
    write_header(tmp_path, PROBES_D)
    exe = compile_program(tmp_path, USDTGEN_WORK + USDTGEN_MAIN, compiler=cc,
                          flags=("-O2",), output="prog-aarch64")
    probes = check_file(exe, machine="aarch64")
    assert {(s.provider, s.name) for s in probes.sites} == set(EXPECTED_TYPES)
    assert any(re.search(r"\bx\d+\b|\[sp", s.args_text) for s in probes.sites), \
        "no aarch64 operands in the argument strings"
    assert {key: t.args for key, t in probes.types.items()} == EXPECTED_TYPES
    cross_readelf = shutil.which("aarch64-linux-gnu-readelf")
    if cross_readelf:       # the cross binutils' readelf agrees too
        check_against_readelf(exe, probes, cross_readelf)
        check_offsets(exe, probes, cross_readelf)
    check_objdump(exe, probes, objdump=require_tool("aarch64-linux-gnu-objdump"))


PROBES32_D = """\
provider app32 {
  probe start();
  probe pair(int a, const char *s);
  probe three(unsigned int u, short h, char c);
};
"""
WORK32 = """\
#include "probes.h"
static volatile int sink;
int work(int n, const char *s);
int work(int n, const char *s)
{
  APP32_START();
  if (APP32_PAIR_ENABLED())
    sink = 1;
  APP32_PAIR(n, s);
  APP32_THREE((unsigned int)n, (short)n, (char)n);
  return n;
}
void _start(void);
void _start(void) { for (;;) sink = work(sink, "x"); }
"""


def test_elf32_i386_build(tmp_path):
    """gcc -m32, linked without any library (no 32-bit libc needed): a real ELF32 file."""
    write_header(tmp_path, PROBES32_D)
    exe = compile_program(tmp_path, WORK32, flags=("-m32", "-O2", "-ffreestanding", "-nostdlib",
                                                   "-static", "-fno-pie", "-no-pie"),
                          output="prog32")
    probes = check_file(exe, machine="i386", elfclass=32)
    check_objdump(exe, probes)
    assert {(s.provider, s.name) for s in probes.sites} == {("app32", "start"), ("app32", "pair"),
                                                             ("app32", "three")}
    assert {key: t.args for key, t in probes.types.items()} == {
        ("app32", "start"): (), ("app32", "pair"): (("a", "int"), ("s", "const char *")),
        ("app32", "three"): (("u", "unsigned int"), ("h", "short"), ("c", "char"))}
    assert all(s.address < 2 ** 32 and s.semaphore < 2 ** 32 for s in probes.sites)


# --------------------------------------------------------------------------------------
# Hand-made ELF files: big-endian and 32-bit layouts no local toolchain produces.
#
# craft_elf writes a minimal but complete ET_EXEC file: ELF header, two PT_LOADs (R+X over
# .text, R+W over .probes), and sections .text, .probes, .stapsdt.base, .note.stapsdt,
# .note.usdtgen, .shstrtab. Site i's pc is the i-th 4-byte word of .text and its semaphore
# (when it has one) the i-th 2-byte word of .probes. With ``base_delta`` the notes record
# pc, base and semaphore ``base_delta`` lower than the final addresses while .stapsdt.base
# keeps its address, as a prelinked file would; read_probes must add the difference back.

TEXT_VADDR, DATA_VADDR, BASE_VADDR = 0x10000, 0x20000, 0x18000
EM = {"ppc": 20, "ppc64": 21, "s390": 22, "arm": 40, "i386": 3, "x86_64": 62, "aarch64": 183}


def _pad4(b: bytes) -> bytes:
    return b + b"\0" * (-len(b) % 4)


def _note(e: str, owner: bytes, ntype: int, desc: bytes) -> bytes:
    name = owner + b"\0"
    return struct.pack(e + "III", len(name), len(desc), ntype) + _pad4(name) + _pad4(desc)


@dataclass(frozen=True)
class Crafted:
    data: bytes
    sites: list[dict]        # what read_probes must report, per site
    types: dict


def craft_elf(*, elfclass: int, little: bool, machine: str, sites, types=(),
              base_delta: int = 0) -> Crafted:
    """``sites``: (provider, name, args_text, has_semaphore); ``types``: (provider, name, args)."""
    e = "<" if little else ">"
    w = "I" if elfclass == 32 else "Q"
    ehsize, phentsize, shentsize = (52, 32, 40) if elfclass == 32 else (64, 56, 64)
    phoff = ehsize
    text_off = phoff + 2 * phentsize
    text = b"\0\0\0\0" * len(sites)
    probes_off = text_off + len(text)
    probes = b"\0\0" * len(sites)
    base_off = probes_off + len(probes)
    note_off = (base_off + 1 + 3) & ~3
    notes, expected = b"", []
    for i, (provider, name, args, has_sem) in enumerate(sites):
        pc = TEXT_VADDR + text_off + 4 * i
        sem = DATA_VADDR + probes_off + 2 * i if has_sem else 0
        desc = struct.pack(e + 3 * w, pc - base_delta, BASE_VADDR - base_delta,
                           sem - base_delta if sem else 0)
        desc += provider.encode() + b"\0" + name.encode() + b"\0" + args.encode() + b"\0"
        notes += _note(e, b"stapsdt", 3, desc)
        expected.append({"provider": provider, "name": name, "address": pc,
                         "base": BASE_VADDR - base_delta, "semaphore": sem or None,
                         "args_text": args, "file_offset": text_off + 4 * i,
                         "semaphore_offset": probes_off + 2 * i if has_sem else None,
                         "raw_pc": pc - base_delta,
                         "raw_semaphore": sem - base_delta if sem else 0})
    type_off = note_off + len(notes)
    type_notes = b""
    for provider, name, args in types:
        desc = b"".join(s.encode() + b"\0" for s in (provider, name, *[x for a in args for x in a]))
        type_notes += _note(e, b"usdtgen", 0x55534454, desc)
    names = [b"", b".text", b".probes", b".stapsdt.base", b".note.stapsdt", b".note.usdtgen",
             b".shstrtab"]
    shstrtab = b"".join(n + b"\0" for n in names)
    name_at = [shstrtab.index(n + b"\0") if n else 0 for n in names]
    strtab_off = type_off + len(type_notes)
    shoff = (strtab_off + len(shstrtab) + 7) & ~7
    # (name, type, flags, addr, offset, size, align); SHT_PROGBITS 1, SHT_NOTE 7, SHT_STRTAB 3
    sections = [
        (0, 0, 0, 0, 0, 0, 0),
        (1, 1, 0x6, TEXT_VADDR + text_off, text_off, len(text), 4),
        (2, 1, 0x3, DATA_VADDR + probes_off, probes_off, len(probes), 2),
        (3, 1, 0x2, BASE_VADDR, base_off, 1, 1),
        (4, 7, 0, 0, note_off, len(notes), 4),
        (5, 7, 0, 0, type_off, len(type_notes), 4),
        (6, 3, 0, 0, strtab_off, len(shstrtab), 1),
    ]
    ident = b"\x7fELF" + bytes([1 if elfclass == 32 else 2, 1 if little else 2, 1]) + b"\0" * 9
    header = ident + struct.pack(e + "HHI" + 3 * w + "IHHHHHH", 2, EM[machine], 1,
                                 TEXT_VADDR + text_off, phoff, shoff, 0, ehsize, phentsize, 2,
                                 shentsize, len(sections), len(sections) - 1)
    loads = [(1, 0x5, text_off, TEXT_VADDR + text_off, len(text)),
             (1, 0x6, probes_off, DATA_VADDR + probes_off, len(probes))]
    phdrs = b""
    for ptype, flags, offset, vaddr, size in loads:
        if elfclass == 32:
            phdrs += struct.pack(e + "8I", ptype, offset, vaddr, vaddr, size, size, flags, 1)
        else:
            phdrs += struct.pack(e + "IIQQQQQQ", ptype, flags, offset, vaddr, vaddr, size, size, 1)
    body = header + phdrs + text + probes + b"\0"
    body += b"\0" * (note_off - len(body)) + notes + type_notes + shstrtab
    body += b"\0" * (shoff - len(body))
    for n, stype, flags, addr, offset, size, align in sections:
        fields = (name_at[n], stype, flags, addr, offset, size, 0, 0, align, 0)
        body += struct.pack(e + ("10I" if elfclass == 32 else "IIQQQQIIQQ"), *fields)
    return Crafted(body, expected, {(p, n): tuple(a) for p, n, a in types})


CRAFTED_SITES = [("bigapp", "start", "", True),
                 ("bigapp", "request__start", "-4@%r3 8@%r4", True),
                 ("other", "nosem", "4@$42", False)]
CRAFTED_TYPES = [("bigapp", "start", ()),
                 ("bigapp", "request__start", (("fd", "int"), ("path", "const char *")))]


@pytest.mark.parametrize("elfclass, little, machine", [
    pytest.param(64, False, "ppc64", id="elf64-be-ppc64"),
    pytest.param(64, False, "s390", id="elf64-be-s390"),
    pytest.param(32, False, "ppc", id="elf32-be-ppc"),
    pytest.param(32, True, "arm", id="elf32-le-arm"),
    pytest.param(64, True, "aarch64", id="elf64-le-aarch64"),
])
@pytest.mark.parametrize("base_delta", [0, 0x100], ids=["plain", "prelinked"])
def test_crafted_files(tmp_path, elfclass, little, machine, base_delta):
    crafted = craft_elf(elfclass=elfclass, little=little, machine=machine, sites=CRAFTED_SITES,
                        types=CRAFTED_TYPES, base_delta=base_delta)
    path = tmp_path / f"crafted-{machine}-{elfclass}"
    path.write_bytes(crafted.data)
    probes = read_probes(str(path))
    assert (probes.machine, probes.elfclass, probes.little_endian) == (machine, elfclass, little)
    assert probes.problems == ()
    assert {key: t.args for key, t in probes.types.items()} == crafted.types
    assert len(probes.sites) == len(crafted.sites)
    for site, want in zip(probes.sites, crafted.sites):
        for field in ("provider", "name", "address", "base", "semaphore", "args_text",
                      "file_offset", "semaphore_offset"):
            assert getattr(site, field) == want[field], (field, site, want)
        assert site.machine == machine
    # readelf reads the same hand-made file the same way (it prints the raw, unadjusted pc)
    peer = parse_readelf_sites(readelf_notes(path))
    assert [(p.provider, p.name, p.location, p.base, p.semaphore, p.args) for p in peer] == \
        [(w["provider"], w["name"], w["raw_pc"], w["base"], w["raw_semaphore"], w["args_text"])
         for w in crafted.sites]
    assert parse_readelf_type_notes(readelf_notes(path)) == crafted.types
    loads = readelf_loads(path)
    for site in probes.sites:
        assert site.file_offset == expected_offset(loads, site.address, exec_segment=True)
        if site.semaphore is not None:
            assert site.semaphore_offset == expected_offset(loads, site.semaphore,
                                                            exec_segment=False)


# --------------------------------------------------------------------------------------
# The real probe-bearing binaries of this machine (Debian packages: see REAL_BINARIES)

REAL_BINARIES = {
    "/usr/lib/postgresql/15/bin/postgres": "postgresql-15",
    "/usr/bin/python3.11": "python3.11-minimal",
    "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0": "libpython3.11",
    "/usr/lib/x86_64-linux-gnu/libstdc++.so.6": "libstdc++6",
}


@pytest.mark.parametrize("path", list(REAL_BINARIES), ids=lambda p: os.path.basename(p))
def test_real_binaries(path):
    require(os.path.exists(path), f"{path} is not installed (Debian package {REAL_BINARIES[path]})")
    binary = Path(os.path.realpath(path))
    probes = read_probes(str(binary))
    assert (probes.machine, probes.elfclass, probes.little_endian) == ("x86_64", 64, True)
    assert probes.problems == ()
    peer = check_against_readelf(binary, probes)
    assert len(peer) == len(probes.sites) > 0
    check_offsets(binary, probes)
    check_objdump(binary, probes, count=2)
    assert probes.types == {}         # built with <sys/sdt.h>, not usdtgen's header
    if "postgres" in path:
        assert all(s.provider == "postgresql" and s.semaphore is not None for s in probes.sites)
    if "libstdc++" in path:
        assert {s.provider for s in probes.sites} == {"libstdcxx"}

"""Read USDT probe sites from an ELF file: ``.note.stapsdt`` notes and usdtgen's type notes.

Reads the headers with pyelftools and only the note sections' bytes (never the whole file),
decodes each note with bounds checks, applies the prelink adjustment (``.stapsdt.base``), and
maps each site and semaphore address to the file offset that kernel uprobes and
``ref_ctr_offset`` take. A corrupt note is reported as a problem; the rest is still read.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from elftools.elf.elffile import ELFFile

from usdtgen.errors import ElfError

STAPSDT_OWNER = b"stapsdt"
STAPSDT_TYPE = 3
TYPE_NOTE_OWNER = b"usdtgen"
TYPE_NOTE_TYPE = 0x55534454

PF_X, PF_W = 0x1, 0x2
MACHINE_NAMES = {"EM_X86_64": "x86_64", "EM_AARCH64": "aarch64", "EM_386": "i386",
                 "EM_ARM": "arm", "EM_PPC64": "ppc64", "EM_PPC": "ppc", "EM_S390": "s390",
                 "EM_RISCV": "riscv", "EM_MIPS": "mips", "EM_LOONGARCH": "loongarch"}


@dataclass(frozen=True, slots=True)
class ProbeSite:
    """One probe site: where the ``nop`` is, its semaphore, and its argument string."""

    path: str
    provider: str
    name: str
    address: int                   # the pc, after the prelink adjustment
    base: int                      # the note's .stapsdt.base address
    semaphore: int | None          # its address, None when the probe has none
    args_text: str                 # as in the note: "-4@%edi 8@%rsi"
    file_offset: int | None        # of the pc, inside an executable PT_LOAD
    semaphore_offset: int | None   # of the semaphore, inside a writable PT_LOAD
    machine: str


@dataclass(frozen=True, slots=True)
class ProbeTypes:
    """Argument names and D types of a probe, from usdtgen's type note."""

    provider: str
    name: str
    args: tuple[tuple[str, str], ...]   # (name or "", D type)
    # DTrace's argument mapping (`probe p(int i, int j) : (int j, int i)`): per mapped
    # argument, (the native argument's index, name or "", D type); () without one
    mapped: tuple[tuple[int, str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ElfProbes:
    """Everything usdtgen reads from one ELF file about its probes."""

    path: str
    machine: str
    elfclass: int
    little_endian: bool
    sites: tuple[ProbeSite, ...]
    types: dict
    problems: tuple[str, ...]      # notes that could not be read, sites without offsets


@dataclass(frozen=True, slots=True)
class _Segment:
    vaddr: int
    memsz: int
    offset: int
    flags: int


def _segment_offset(segments: list[_Segment], address: int, want_exec: bool) -> int | None:
    for seg in segments:
        executable = bool(seg.flags & PF_X)
        if want_exec and not executable:
            continue
        if not want_exec and (executable or not seg.flags & PF_W):
            continue
        if seg.vaddr <= address < seg.vaddr + seg.memsz:
            return address - seg.vaddr + seg.offset
    return None


def iter_notes(data: bytes, byteorder: str):
    """Yield (owner, type, desc) for each note in a note section's bytes.

    Raises ElfError at the first note whose sizes run past the section.
    """
    position = 0
    while position + 12 <= len(data):
        namesz = int.from_bytes(data[position:position + 4], byteorder)
        descsz = int.from_bytes(data[position + 4:position + 8], byteorder)
        note_type = int.from_bytes(data[position + 8:position + 12], byteorder)
        name_start = position + 12
        desc_start = name_start + ((namesz + 3) & ~3)
        end = desc_start + ((descsz + 3) & ~3)
        if desc_start + descsz > len(data):
            raise ElfError(f"note at section offset {position} runs past the section's end "
                           f"(namesz {namesz}, descsz {descsz}, section size {len(data)})")
        owner = data[name_start:name_start + namesz].rstrip(b"\0")
        yield owner, note_type, data[desc_start:desc_start + descsz]
        position = end
    if position < len(data) and any(data[position:]):
        raise ElfError(f"{len(data) - position} stray bytes at the end of the note section")


def _cstrings(data: bytes, count: int) -> list[str]:
    parts = data.split(b"\0")
    if len(parts) <= count:
        raise ElfError("a string of the note is not NUL-terminated")
    return [p.decode("utf-8", "replace") for p in parts[:count]]


def _read_range(stream, file_size: int, offset: int, size: int, what: str) -> bytes:
    if offset < 0 or size < 0 or offset + size > file_size:
        raise ElfError(f"{what} (offset {offset}, size {size}) lies past the end of the file "
                       f"({file_size} bytes): the file is truncated or corrupt")
    stream.seek(offset)
    return stream.read(size)


def read_probes(path: str, display_path: str | None = None) -> ElfProbes:
    """Read every probe site and type note of the ELF file at ``path``.

    ``display_path`` is the name sites carry (e.g. the path a process mapped, when ``path``
    goes through /proc). Raises ElfError for files that are not ELF or cannot be read as
    ELF at all; problems with single notes are returned in ``problems``.
    """
    shown = display_path or path
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise ElfError("not a regular file")      # a FIFO or device would block or never end
        with open(path, "rb") as stream:
            file_size = os.fstat(stream.fileno()).st_size
            if stream.read(4) != b"\x7fELF":
                raise ElfError("not an ELF file")
            stream.seek(0)
            return _read(stream, file_size, shown)
    except ElfError:
        raise
    except OSError as e:
        raise ElfError(e.strerror or str(e)) from e
    except Exception as e:          # pyelftools reports corrupt headers in many ways
        raise ElfError(f"corrupt ELF file: {e}") from e


def _read(stream, file_size: int, path: str) -> ElfProbes:
    elf = ELFFile(stream)
    byteorder = "little" if elf.little_endian else "big"
    word = elf.elfclass // 8
    machine = MACHINE_NAMES.get(elf["e_machine"], str(elf["e_machine"]))
    segments = [_Segment(s["p_vaddr"], s["p_memsz"], s["p_offset"], s["p_flags"])
                for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
    base_section = elf.get_section_by_name(".stapsdt.base")
    base_address = base_section["sh_addr"] if base_section is not None else None
    problems: list[str] = []
    sites: list[ProbeSite] = []
    types: dict[tuple[str, str], ProbeTypes] = {}
    for section in elf.iter_sections():
        if section["sh_type"] != "SHT_NOTE" or section.name not in (".note.stapsdt", ".note.usdtgen"):
            continue
        data = _read_range(stream, file_size, section["sh_offset"], section["sh_size"],
                           f"section {section.name}")
        try:
            for owner, note_type, desc in iter_notes(data, byteorder):
                if owner == STAPSDT_OWNER and note_type == STAPSDT_TYPE:
                    site = _decode_site(desc, word, byteorder, path, machine, base_address,
                                        segments, problems)
                    if site is not None:
                        sites.append(site)
                elif owner == TYPE_NOTE_OWNER and note_type == TYPE_NOTE_TYPE:
                    entry = _decode_types(desc)
                    if entry is not None:
                        types.setdefault((entry.provider, entry.name), entry)
        except ElfError as e:
            problems.append(f"{section.name}: {e}")
    return ElfProbes(path, machine, elf.elfclass, elf.little_endian, tuple(sites), types,
                     tuple(problems))


def _decode_site(desc: bytes, word: int, byteorder: str, path: str, machine: str,
                 base_address: int | None, segments: list[_Segment],
                 problems: list[str]) -> ProbeSite | None:
    if len(desc) < 3 * word + 3:
        problems.append(f"a stapsdt note of {len(desc)} bytes is too short")
        return None
    pc, base, semaphore = (int.from_bytes(desc[i * word:(i + 1) * word], byteorder)
                           for i in range(3))
    try:
        provider, name, args_text = _cstrings(desc[3 * word:], 3)
    except ElfError as e:
        problems.append(f"stapsdt note at pc {pc:#x}: {e}")
        return None
    if base_address is not None and base != 0:
        mask = (1 << (8 * word)) - 1          # addresses wrap at the address width
        pc = (pc + base_address - base) & mask
        if semaphore:
            semaphore = (semaphore + base_address - base) & mask
    file_offset = _segment_offset(segments, pc, want_exec=True) if segments else None
    if segments and file_offset is None:
        problems.append(f"{provider}:{name}: pc {pc:#x} is not inside an executable segment")
    semaphore_offset = None
    if semaphore:
        semaphore_offset = _segment_offset(segments, semaphore, want_exec=False) if segments else None
        if segments and semaphore_offset is None:
            problems.append(f"{provider}:{name}: semaphore {semaphore:#x} is not inside a "
                            "writable data segment")
    return ProbeSite(path, provider, name, pc, base, semaphore or None, args_text, file_offset,
                     semaphore_offset, machine)


def _decode_types(desc: bytes) -> ProbeTypes | None:
    parts = [p.decode("utf-8", "replace") for p in desc.rstrip(b"\0").split(b"\0")]
    if len(parts) < 2 or len(parts) % 2:
        return None
    pairs = [(parts[i], parts[i + 1]) for i in range(2, len(parts), 2)]
    args = tuple(pair for pair in pairs if not pair[0].startswith(":"))
    mapped = []
    for label, dtype in pairs[len(args):]:
        native, _, name = label[1:].partition(":")
        if not label.startswith(":") or not native.isdigit() or int(native) >= len(args):
            return None                      # not a note this reader understands
        mapped.append((int(native), name, dtype))
    return ProbeTypes(parts[0], parts[1], args, tuple(mapped))

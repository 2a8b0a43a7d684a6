"""Read USDT probe sites from an ELF file: ``.note.stapsdt`` notes and usdtgen's type notes.

Reads the headers (usdtgen.elf.reader, plain ``struct``) and only the note sections' bytes
(never the whole file), decodes each note with bounds checks, applies the prelink adjustment
(``.stapsdt.base``), and maps each site and semaphore address to the file offset that
kernel uprobes and ``ref_ctr_offset`` take. A corrupt note is reported as a problem; the
rest is still read.
"""
from __future__ import annotations

import itertools
import os
import stat
import struct
from dataclasses import dataclass

from usdtgen.elf.reader import PF_W, PF_X, PT_LOAD, SHT_NOTE, ElfFile
from usdtgen.errors import ElfError

STAPSDT_OWNER = b"stapsdt"
STAPSDT_TYPE = 3
TYPE_NOTE_OWNER = b"usdtgen"
TYPE_NOTE_TYPE = 0x55534454
NOTE_SECTIONS = (".note.stapsdt", ".note.usdtgen")


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
    # `#pragma usdtgen string_length`: (string argument, its length argument), by index
    string_lengths: tuple[tuple[int, int], ...] = ()


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


def _segment_offset(ranges: list[tuple[int, int, int]], address: int) -> int | None:
    """The file offset of ``address`` in the first of ``ranges`` ((start, end, file
    offset) of segments) that holds it, or None."""
    for start, end, offset in ranges:
        if start <= address < end:
            return address - start + offset
    return None


def iter_notes(data: bytes, byteorder: str):
    """Yield (owner, type, desc) for each note in a note section's bytes.

    Raises ElfError at the first note whose sizes run past the section.
    """
    header = struct.Struct(("<" if byteorder == "little" else ">") + "III").unpack_from
    position = 0
    while position + 12 <= len(data):
        namesz, descsz, note_type = header(data, position)
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
            return _read(ElfFile(stream), shown)
    except ElfError:
        raise
    except OSError as e:
        raise ElfError(e.strerror or str(e)) from e
    except Exception as e:          # a reader bug must not take a listing of many files down
        raise ElfError(f"corrupt ELF file: {e}") from e


def _read(elf: ElfFile, path: str) -> ElfProbes:
    byteorder = "little" if elf.little_endian else "big"
    word = elf.elfclass // 8
    loads = [s for s in elf.segments if s.type == PT_LOAD]
    # where pcs may be (executable segments) and semaphores (writable, not executable ones)
    segments = ([(s.vaddr, s.vaddr + s.memsz, s.offset) for s in loads if s.flags & PF_X],
                [(s.vaddr, s.vaddr + s.memsz, s.offset) for s in loads
                 if not s.flags & PF_X and s.flags & PF_W]) if loads else None
    base_section = elf.section_named(".stapsdt.base")
    base_address = base_section.addr if base_section is not None else None
    # a stapsdt note's desc begins with three addresses: pc, base, semaphore
    addresses = struct.Struct(("<" if elf.little_endian else ">") + ("III" if word == 4 else
                                                                      "QQQ"))
    problems: list[str] = []
    sites: list[ProbeSite] = []
    types: dict[tuple[str, str], ProbeTypes] = {}
    for section in elf.sections:
        if section.type != SHT_NOTE or section.name not in NOTE_SECTIONS:
            continue
        data = elf.section_data(section)
        try:
            for owner, note_type, desc in iter_notes(data, byteorder):
                if owner == STAPSDT_OWNER and note_type == STAPSDT_TYPE:
                    site = _decode_site(desc, addresses, path, elf.machine, base_address,
                                        segments, problems)
                    if site is not None:
                        sites.append(site)
                elif owner == TYPE_NOTE_OWNER and note_type == TYPE_NOTE_TYPE:
                    entry = _decode_types(desc)
                    if entry is not None:
                        types.setdefault((entry.provider, entry.name), entry)
        except ElfError as e:
            problems.append(f"{section.name}: {e}")
    return ElfProbes(path, elf.machine, elf.elfclass, elf.little_endian, tuple(sites), types,
                     tuple(problems))


def _decode_site(desc: bytes, addresses: struct.Struct, path: str, machine: str,
                 base_address: int | None, segments: tuple[list, list] | None,
                 problems: list[str]) -> ProbeSite | None:
    """One stapsdt note's site; None (and a problem) when it cannot be read. ``segments``:
    the executable and the writable address ranges of the PT_LOADs, None without any."""
    if len(desc) < addresses.size + 3:
        problems.append(f"a stapsdt note of {len(desc)} bytes is too short")
        return None
    pc, base, semaphore = addresses.unpack_from(desc)
    try:
        provider, name, args_text = _cstrings(desc[addresses.size:], 3)
    except ElfError as e:
        problems.append(f"stapsdt note at pc {pc:#x}: {e}")
        return None
    if base_address is not None and base != 0:
        width = 8 * addresses.size // 3             # bits of an address: they wrap there
        mask = (1 << width) - 1
        pc = (pc + base_address - base) & mask
        if semaphore:
            semaphore = (semaphore + base_address - base) & mask
    file_offset = semaphore_offset = None
    if segments is not None:
        executable, writable = segments
        file_offset = _segment_offset(executable, pc)
        if file_offset is None:
            problems.append(f"{provider}:{name}: pc {pc:#x} is not inside an executable "
                            "segment")
        if semaphore:
            semaphore_offset = _segment_offset(writable, semaphore)
            if semaphore_offset is None:
                problems.append(f"{provider}:{name}: semaphore {semaphore:#x} is not inside a "
                                "writable data segment")
    return ProbeSite(path, provider, name, pc, base, semaphore or None, args_text, file_offset,
                     semaphore_offset, machine)


def _decode_types(desc: bytes) -> ProbeTypes | None:
    parts = [p.decode("utf-8", "replace") for p in desc.rstrip(b"\0").split(b"\0")]
    if len(parts) < 2 or len(parts) % 2:
        return None
    pairs = [(parts[i], parts[i + 1]) for i in range(2, len(parts), 2)]
    args = tuple(itertools.takewhile(lambda pair: not pair[0].startswith(":"), pairs))
    mapped, lengths = [], []
    for label, value in pairs[len(args):]:   # ":N:name" (a mapped argument), ":len:N"
        kind, _, rest = label[1:].partition(":")
        if not label.startswith(":"):
            return None                      # not a note this reader understands
        if kind.isdigit() and int(kind) < len(args):
            mapped.append((int(kind), rest, value))
        elif kind == "len" and rest.isdigit() and value.isdigit() and \
                max(int(rest), int(value)) < len(args):
            lengths.append((int(rest), int(value)))
    return ProbeTypes(parts[0], parts[1], args, tuple(mapped), tuple(lengths))

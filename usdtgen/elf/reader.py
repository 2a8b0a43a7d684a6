"""Read an ELF file's header, program headers and section headers with ``struct``, and the
bytes of the sections asked for: the little of ELF that usdtgen's readers need.

``ElfFile(stream)`` reads the identification, the ELF header and both header tables at once
and keeps only plain records (``Segment``, ``Section``); section contents are read on
demand. Every table and section is checked against the file's size before it is read, so a
truncated or corrupt file raises ElfError naming what lies past its end, and nothing reads
more than the file holds. Follows the System V gABI: ELF32 and ELF64, either byte order,
extended numbering (e_shnum 0, e_shstrndx SHN_XINDEX, e_phnum PN_XNUM: the real values in
section 0).
"""
from __future__ import annotations

import struct
from collections import namedtuple

from usdtgen.errors import ElfError

ELF_MAGIC = b"\x7fELF"
PT_LOAD, PT_INTERP = 1, 3
PF_X, PF_W = 0x1, 0x2
SHT_SYMTAB, SHT_NOTE, SHT_DYNSYM = 2, 7, 11
SHN_XINDEX, PN_XNUM = 0xFFFF, 0xFFFF

# e_machine -> the architecture's name in usdtgen (argument specs, ProbeSite.machine); other
# architectures that have USDT probes by their gABI names; any other number as itself
MACHINE_NAMES = {62: "x86_64", 183: "aarch64", 3: "i386", 40: "arm", 21: "ppc64", 20: "ppc",
                 22: "s390", 243: "riscv", 8: "mips", 258: "loongarch",
                 2: "EM_SPARC", 18: "EM_SPARC32PLUS", 43: "EM_SPARCV9", 50: "EM_IA_64",
                 15: "EM_PARISC", 42: "EM_SH", 4: "EM_68K", 41: "EM_ALPHA", 252: "EM_CSKY",
                 189: "EM_MICROBLAZE", 93: "EM_ARC_COMPACT", 113: "EM_ALTERA_NIOS2"}

# The layouts after e_ident, and of one table entry, by ELF class (byte order put in front).
# ELF header: e_type e_machine e_version e_entry e_phoff e_shoff e_flags e_ehsize
#             e_phentsize e_phnum e_shentsize e_shnum e_shstrndx
_ELF_HEADER = {32: "HHIIIIIHHHHHH", 64: "HHIQQQIHHHHHH"}
# section header: sh_name sh_type sh_flags sh_addr sh_offset sh_size sh_link sh_info
#                 sh_addralign sh_entsize
_SECTION_HEADER = {32: "IIIIIIIIII", 64: "IIQQQQIIQQ"}
# program header: ELF32 p_type p_offset p_vaddr p_paddr p_filesz p_memsz p_flags p_align;
#                 ELF64 p_type p_flags p_offset p_vaddr p_paddr p_filesz p_memsz p_align
_PROGRAM_HEADER = {32: "IIIIIIII", 64: "IIQQQQQQ"}
_IDENT_SIZE = 16

Segment = namedtuple("Segment", "type flags offset vaddr filesz memsz")
Segment.__doc__ = "A program header: p_type, p_flags, p_offset, p_vaddr, p_filesz, p_memsz."
Section = namedtuple("Section", "name type addr offset size link info entsize")
Section.__doc__ = ("A section header, its name read from the section name table ('' without "
                   "one): sh_type, sh_addr, sh_offset, sh_size, sh_link, sh_info, sh_entsize.")


class ElfFile:
    """The headers of the ELF file open in binary ``stream`` (seekable), read at once.

    ``elfclass`` (32 or 64), ``little_endian``, ``machine`` (a name, MACHINE_NAMES), the
    ``segments`` and ``sections`` in file order. Raises ElfError for a file that is not
    ELF, or whose headers are corrupt or lie past its end.
    """

    __slots__ = ("stream", "size", "elfclass", "little_endian", "machine", "segments",
                 "sections")

    def __init__(self, stream):
        self.stream = stream
        self.size = stream.seek(0, 2)
        ident = self.read(0, min(_IDENT_SIZE, self.size), "ELF identification")
        if ident[:4] != ELF_MAGIC:
            raise ElfError("not an ELF file")
        if len(ident) < _IDENT_SIZE:
            raise ElfError(f"corrupt ELF file: the ELF identification is cut short "
                           f"({self.size} bytes)")
        classes = {1: 32, 2: 64}
        orders = {1: "<", 2: ">"}
        if ident[4] not in classes:
            raise ElfError(f"corrupt ELF file: EI_CLASS {ident[4]} is neither 1 (32-bit) "
                           "nor 2 (64-bit)")
        if ident[5] not in orders:
            raise ElfError(f"corrupt ELF file: EI_DATA {ident[5]} is neither 1 (little-endian) "
                           "nor 2 (big-endian)")
        self.elfclass = classes[ident[4]]
        self.little_endian = ident[5] == 1
        order = orders[ident[5]]
        header = struct.Struct(order + _ELF_HEADER[self.elfclass])
        (_, e_machine, _, _, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum,
         shstrndx) = header.unpack(self.read(_IDENT_SIZE, header.size, "ELF header"))
        self.machine = MACHINE_NAMES.get(e_machine, str(e_machine))
        raw_sections = self._section_headers(order, shoff, shentsize, shnum)
        first = raw_sections[0] if raw_sections else None
        if phnum == PN_XNUM and first is not None:
            phnum = first[7]                                   # sh_info
        if shstrndx == SHN_XINDEX and first is not None:
            shstrndx = first[6]                                # sh_link
        self.segments = self._segments(order, phoff, phentsize, phnum)
        self.sections = self._named(raw_sections, shstrndx)

    def read(self, offset: int, size: int, what: str) -> bytes:
        """``size`` bytes at ``offset``; ElfError when they lie past the end of the file."""
        if offset < 0 or size < 0 or offset + size > self.size:
            raise ElfError(f"{what} (offset {offset}, size {size}) lies past the end of the "
                           f"file ({self.size} bytes): the file is truncated or corrupt")
        self.stream.seek(offset)
        return self.stream.read(size)

    def section_data(self, section: Section) -> bytes:
        """The bytes of ``section`` (ElfError when they lie past the end of the file)."""
        return self.read(section.offset, section.size, f"section {section.name}")

    def section_named(self, name: str) -> Section | None:
        """The last section called ``name`` (pyelftools' choice among duplicates), or None."""
        for section in reversed(self.sections):
            if section.name == name:
                return section
        return None

    def _table(self, offset: int, count: int, entsize: int, layout: struct.Struct,
               what: str) -> list[tuple]:
        if entsize < layout.size:
            raise ElfError(f"corrupt ELF file: {what} entries of {entsize} bytes, where "
                           f"ELF{self.elfclass} needs {layout.size}")
        data = self.read(offset, count * entsize, what)
        if entsize == layout.size:
            return list(layout.iter_unpack(data))
        return [layout.unpack_from(data, i * entsize) for i in range(count)]

    def _section_headers(self, order: str, shoff: int, shentsize: int, shnum: int):
        if shoff == 0:                              # no section header table
            return []
        layout = struct.Struct(order + _SECTION_HEADER[self.elfclass])
        if shnum == 0:                              # the count is section 0's sh_size
            shnum = self._table(shoff, 1, shentsize, layout, "section header table")[0][5]
            if shnum == 0:
                return []
        return self._table(shoff, shnum, shentsize, layout, "section header table")

    def _segments(self, order: str, phoff: int, phentsize: int, phnum: int):
        if phoff == 0 or phnum == 0:                # no program header table
            return ()
        layout = struct.Struct(order + _PROGRAM_HEADER[self.elfclass])
        rows = self._table(phoff, phnum, phentsize, layout, "program header table")
        if self.elfclass == 32:
            return tuple(Segment(kind, flags, offset, vaddr, filesz, memsz)
                         for kind, offset, vaddr, _, filesz, memsz, flags, _ in rows)
        return tuple(Segment(kind, flags, offset, vaddr, filesz, memsz)
                     for kind, flags, offset, vaddr, _, filesz, memsz, _ in rows)

    def _named(self, rows: list[tuple], shstrndx: int) -> tuple[Section, ...]:
        names = b""
        if rows and shstrndx != 0:                  # 0: SHN_UNDEF, the file has no names
            if shstrndx >= len(rows):
                raise ElfError(f"corrupt ELF file: the section name table is section "
                               f"{shstrndx}, and the file has {len(rows)} sections")
            table = rows[shstrndx]
            names = self.read(table[4], table[5], "section name table")
        sections = []
        for sh_name, sh_type, _, addr, offset, size, link, info, _, entsize in rows:
            end = names.find(b"\0", sh_name)
            name = names[sh_name:end if end >= 0 else None].decode("utf-8", "replace")
            sections.append(Section(name, sh_type, addr, offset, size, link, info, entsize))
        return tuple(sections)

"""A small writer of ELF64 little-endian relocatable objects (``ET_REL``), in pure Python.

Enough for what usdtgen produces itself (the ``-G`` object): PROGBITS/NOBITS sections,
COMDAT groups of one section each, and a symbol table, no relocations. Layout constants
follow the System V gABI.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

EM_X86_64 = 62
EM_AARCH64 = 183
MACHINES = {"x86_64": EM_X86_64, "amd64": EM_X86_64, "aarch64": EM_AARCH64, "arm64": EM_AARCH64}

SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_GROUP = 1, 2, 3, 17
SHF_WRITE, SHF_ALLOC, SHF_GROUP = 0x1, 0x2, 0x200
GRP_COMDAT = 1
STB_LOCAL, STB_GLOBAL, STB_WEAK = 0, 1, 2
STT_OBJECT, STT_SECTION = 1, 3
STV_DEFAULT, STV_HIDDEN = 0, 2

_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
_SHDR = struct.Struct("<IIQQQQIIQQ")
_SYM = struct.Struct("<IBBHQQ")


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    data: bytes
    type: int = SHT_PROGBITS
    flags: int = 0
    align: int = 1
    group: str = ""          # a COMDAT group of this section alone, named by this symbol


@dataclass(frozen=True, slots=True)
class Symbol:
    name: str
    section: str | int      # the name of the section that defines it, or its position
    value: int
    size: int
    binding: int = STB_GLOBAL
    type: int = STT_OBJECT
    visibility: int = STV_DEFAULT


class _StringTable:
    def __init__(self):
        self.data = bytearray(b"\0")
        self.offsets: dict[str, int] = {"": 0}

    def add(self, text: str) -> int:
        if text not in self.offsets:
            self.offsets[text] = len(self.data)
            self.data += text.encode() + b"\0"
        return self.offsets[text]


def _align(offset: int, alignment: int) -> int:
    return (offset + alignment - 1) & ~(alignment - 1) if alignment > 1 else offset


def write_relocatable(machine: int, sections: list[Section], symbols: list[Symbol]) -> bytes:
    """An ELF64 LE relocatable object holding ``sections`` and ``symbols``, as bytes. A
    section with a ``group`` gets a COMDAT group of its own (its .group section first, as
    the linker wants it), whose signature is the symbol of that name."""
    shstrtab, strtab = _StringTable(), _StringTable()
    grouped = [i for i, section in enumerate(sections) if section.group]
    first = len(grouped) + 1                   # the header index of sections[0]
    index = {}
    for i, section in enumerate(sections):
        index.setdefault(section.name, first + i)
        index[i] = first + i
    symtab = bytearray(_SYM.pack(0, 0, 0, 0, 0, 0))
    locals_ = [sym for sym in symbols if sym.binding == STB_LOCAL]
    ordered = locals_ + [sym for sym in symbols if sym.binding != STB_LOCAL]
    for sym in ordered:
        symtab += _SYM.pack(strtab.add(sym.name), (sym.binding << 4) | sym.type, sym.visibility,
                            index[sym.section], sym.value, sym.size)
    symbol_index = {sym.name: i + 1 for i, sym in enumerate(ordered)}
    symtab_index = first + len(sections)
    groups = [Section(".group", struct.pack("<II", GRP_COMDAT, first + i), SHT_GROUP, align=4,
                      group=sections[i].group) for i in grouped]
    members = [Section(s.name, s.data, s.type, s.flags | SHF_GROUP, s.align, s.group)
               if s.group else s for s in sections]
    all_sections = groups + members + [
        Section(".symtab", bytes(symtab), SHT_SYMTAB, align=8),
        Section(".strtab", bytes(strtab.data), SHT_STRTAB),
    ]
    names = [shstrtab.add(s.name) for s in all_sections]
    shstrtab_name = shstrtab.add(".shstrtab")
    all_sections.append(Section(".shstrtab", bytes(shstrtab.data), SHT_STRTAB))
    names.append(shstrtab_name)

    body = bytearray()
    offsets = []
    cursor = _EHDR.size
    for section in all_sections:
        start = _align(cursor, section.align)
        body += b"\0" * (start - cursor)
        offsets.append(start)
        body += section.data
        cursor = start + len(section.data)
    shoff = _align(cursor, 8)
    body += b"\0" * (shoff - cursor)

    headers = bytearray(_SHDR.pack(0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    for i, section in enumerate(all_sections):
        link = info = entsize = 0
        if section.type == SHT_SYMTAB:
            link, info, entsize = symtab_index + 1, len(locals_) + 1, _SYM.size
        elif section.type == SHT_GROUP:
            link, info, entsize = symtab_index, symbol_index[section.group], 4
        headers += _SHDR.pack(names[i], section.type, section.flags, 0, offsets[i],
                              len(section.data), link, info, section.align, entsize)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    ehdr = _EHDR.pack(ident, 1, machine, 1, 0, 0, shoff, 0, _EHDR.size, 0, 0, _SHDR.size,
                      len(all_sections) + 1, len(all_sections))
    return ehdr + bytes(body) + bytes(headers)


# -- shared objects (ET_DYN) ---------------------------------------------------------------

SHT_HASH, SHT_DYNAMIC, SHT_NOTE, SHT_DYNSYM = 5, 6, 7, 11
SHF_EXECINSTR = 0x4
STT_FUNC = 2
PT_LOAD, PT_DYNAMIC, PT_NOTE, PT_GNU_STACK = 1, 2, 4, 0x6474E551
PF_X, PF_W, PF_R = 1, 2, 4
DT_NULL, DT_HASH, DT_STRTAB, DT_SYMTAB, DT_STRSZ, DT_SYMENT, DT_SONAME = 0, 4, 5, 6, 10, 11, 14
# the largest page size of each machine: segments are aligned to it
PAGE_ALIGN = {EM_X86_64: 0x1000, EM_AARCH64: 0x10000}

_PHDR = struct.Struct("<IIQQQQQQ")
_DYN = struct.Struct("<qQ")


@dataclass(frozen=True, slots=True)
class AllocSection:
    """A section loaded in memory: in the read+execute or the read+write segment."""

    name: str
    size: int
    type: int = SHT_PROGBITS
    flags: int = SHF_ALLOC
    align: int = 1


@dataclass(frozen=True, slots=True)
class DynamicSymbol:
    name: str
    section: str
    offset: int          # within its section
    size: int
    type: int = STT_OBJECT


def sysv_hash(name: bytes) -> int:
    """The System V ABI's ELF hash of a symbol name."""
    h = 0
    for byte in name:
        h = ((h << 4) + byte) & 0xFFFFFFFF
        g = h & 0xF0000000
        if g:
            h ^= g >> 24
        h &= ~g & 0xFFFFFFFF
    return h


@dataclass
class SharedObjectLayout:
    """Where every section of a small shared object goes; addresses equal file offsets.

    Built first, so that contents that hold addresses (notes) can be computed before
    ``write_shared_object`` puts the file together.
    """

    machine: int
    soname: str
    text_sections: list          # AllocSection, in the read+execute segment
    data_sections: list          # AllocSection, in the read+write segment
    symbols: list                # DynamicSymbol
    address: dict = None         # section name -> address (= file offset)
    rx_end: int = 0
    rw_start: int = 0
    rw_end: int = 0

    def __post_init__(self):
        strings = _StringTable()
        for sym in self.symbols:
            strings.add(sym.name)
        strings.add(self.soname)
        self._dynstr = strings
        count = len(self.symbols) + 1
        self._nbucket = max(1, count // 2)
        fixed = [AllocSection(".hash", 4 * (2 + self._nbucket + count), SHT_HASH, align=8),
                 AllocSection(".dynsym", _SYM.size * count, SHT_DYNSYM, align=8),
                 AllocSection(".dynstr", len(strings.data), SHT_STRTAB)]
        dynamic = AllocSection(".dynamic", _DYN.size * 7, SHT_DYNAMIC, SHF_ALLOC | SHF_WRITE, 8)
        self.rx = fixed + list(self.text_sections)
        self.rw = [dynamic] + list(self.data_sections)
        self.address = {}
        cursor = _EHDR.size + _PHDR.size * 5
        for section in self.rx:
            cursor = _align(cursor, section.align)
            self.address[section.name] = cursor
            cursor += section.size
        self.rx_end = cursor
        page = PAGE_ALIGN.get(self.machine, 0x1000)
        cursor = self.rw_start = _align(cursor, page)
        for section in self.rw:
            cursor = _align(cursor, section.align)
            self.address[section.name] = cursor
            cursor += section.size
        self.rw_end = cursor

    def symbol_address(self, name: str) -> int:
        sym = next(s for s in self.symbols if s.name == name)
        return self.address[sym.section] + sym.offset


def write_shared_object(layout: SharedObjectLayout, contents: dict, others: list[Section]) -> bytes:
    """The file: ``contents`` maps each text/data section name to its bytes (exactly the
    size laid out); ``others`` are non-allocated sections (notes) appended after."""
    page = PAGE_ALIGN.get(layout.machine, 0x1000)
    image = bytearray(layout.rw_end)
    strings = layout._dynstr
    names = [s.name for s in layout.symbols]
    count = len(names) + 1
    # .dynsym and .hash
    section_index = {s.name: i + 1 for i, s in enumerate(layout.rx + layout.rw)}
    dynsym = bytearray(_SYM.size)
    for sym in layout.symbols:
        dynsym += _SYM.pack(strings.add(sym.name), (STB_GLOBAL << 4) | sym.type, STV_DEFAULT,
                            section_index[sym.section], layout.address[sym.section] + sym.offset,
                            sym.size)
    buckets = [0] * layout._nbucket
    chains = [0] * count
    for index, name in enumerate(names, start=1):
        slot = sysv_hash(name.encode()) % layout._nbucket
        chains[index], buckets[slot] = buckets[slot], index
    hash_table = struct.pack(f"<II{layout._nbucket}I{count}I", layout._nbucket, count, *buckets, *chains)
    dynamic = b"".join(_DYN.pack(tag, value) for tag, value in (
        (DT_HASH, layout.address[".hash"]), (DT_STRTAB, layout.address[".dynstr"]),
        (DT_SYMTAB, layout.address[".dynsym"]), (DT_STRSZ, len(strings.data)),
        (DT_SYMENT, _SYM.size), (DT_SONAME, strings.add(layout.soname)), (DT_NULL, 0)))
    filled = dict(contents)
    filled.update({".hash": hash_table, ".dynsym": bytes(dynsym), ".dynstr": bytes(strings.data),
                   ".dynamic": dynamic})
    for section in layout.rx + layout.rw:
        data = filled[section.name]
        if len(data) != section.size:
            raise ValueError(f"section {section.name}: {len(data)} bytes, laid out {section.size}")
        start = layout.address[section.name]
        image[start:start + len(data)] = data
    # non-allocated sections, the section name table and the section headers
    offsets = []
    for section in others:
        start = _align(len(image), section.align)
        image += bytes(start - len(image)) + section.data
        offsets.append(start)
    shstrtab = _StringTable()
    all_sections = layout.rx + layout.rw
    header_names = [shstrtab.add(s.name) for s in all_sections] + \
        [shstrtab.add(s.name) for s in others]
    shstrtab_name = shstrtab.add(".shstrtab")
    shstrtab_offset = len(image)
    image += shstrtab.data
    shoff = _align(len(image), 8)
    image += bytes(shoff - len(image))
    headers = bytearray(_SHDR.size)
    link = {".hash": section_index[".dynsym"], ".dynsym": section_index[".dynstr"],
            ".dynamic": section_index[".dynstr"]}
    info = {".dynsym": 1}
    entsize = {".hash": 4, ".dynsym": _SYM.size, ".dynamic": _DYN.size}
    for i, section in enumerate(all_sections):
        headers += _SHDR.pack(header_names[i], section.type, section.flags,
                              layout.address[section.name], layout.address[section.name],
                              section.size, link.get(section.name, 0), info.get(section.name, 0),
                              section.align, entsize.get(section.name, 0))
    for i, section in enumerate(others):
        headers += _SHDR.pack(header_names[len(all_sections) + i], section.type, section.flags, 0,
                              offsets[i], len(section.data), 0, 0, section.align, 0)
    headers += _SHDR.pack(shstrtab_name, SHT_STRTAB, 0, 0, shstrtab_offset, len(shstrtab.data),
                          0, 0, 1, 0)
    image += headers
    # program headers
    dyn, note = layout.address[".dynamic"], layout.address.get(".note.gnu.build-id")
    note_size = next((s.size for s in layout.rx if s.name == ".note.gnu.build-id"), 0)
    phdrs = [(PT_LOAD, PF_R | PF_X, 0, 0, layout.rx_end, layout.rx_end, page),
             (PT_LOAD, PF_R | PF_W, layout.rw_start, layout.rw_start,
              layout.rw_end - layout.rw_start, layout.rw_end - layout.rw_start, page),
             (PT_DYNAMIC, PF_R | PF_W, dyn, dyn, _DYN.size * 7, _DYN.size * 7, 8),
             (PT_NOTE, PF_R, note or 0, note or 0, note_size, note_size, 4),
             (PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16)]
    program = b"".join(_PHDR.pack(kind, flags, offset, vaddr, vaddr, filesz, memsz, align)
                       for kind, flags, offset, vaddr, filesz, memsz, align in phdrs)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    ehdr = _EHDR.pack(ident, 3, layout.machine, 1, 0, _EHDR.size, shoff, 0, _EHDR.size,
                      _PHDR.size, len(phdrs), _SHDR.size, len(all_sections) + len(others) + 2,
                      len(all_sections) + len(others) + 1)
    image[0:len(ehdr)] = ehdr
    image[_EHDR.size:_EHDR.size + len(program)] = program
    return bytes(image)

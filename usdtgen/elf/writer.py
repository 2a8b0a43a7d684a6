"""A small writer of ELF64 little-endian relocatable objects (``ET_REL``), in pure Python.

Enough for what usdtgen produces itself (the ``-G`` object): PROGBITS/NOBITS sections and a
symbol table, no relocations. Layout constants follow the System V gABI.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

EM_X86_64 = 62
EM_AARCH64 = 183
MACHINES = {"x86_64": EM_X86_64, "amd64": EM_X86_64, "aarch64": EM_AARCH64, "arm64": EM_AARCH64}

SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB = 1, 2, 3
SHF_WRITE, SHF_ALLOC = 0x1, 0x2
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


@dataclass(frozen=True, slots=True)
class Symbol:
    name: str
    section: str            # the name of the section that defines it
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
    """An ELF64 LE relocatable object holding ``sections`` and ``symbols``, as bytes."""
    shstrtab, strtab = _StringTable(), _StringTable()
    index = {s.name: i + 1 for i, s in enumerate(sections)}
    symtab = bytearray(_SYM.pack(0, 0, 0, 0, 0, 0))
    locals_ = [sym for sym in symbols if sym.binding == STB_LOCAL]
    for sym in locals_ + [sym for sym in symbols if sym.binding != STB_LOCAL]:
        symtab += _SYM.pack(strtab.add(sym.name), (sym.binding << 4) | sym.type, sym.visibility,
                            index[sym.section], sym.value, sym.size)
    symtab_index = len(sections) + 1
    all_sections = list(sections) + [
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
        headers += _SHDR.pack(names[i], section.type, section.flags, 0, offsets[i],
                              len(section.data), link, info, section.align, entsize)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    ehdr = _EHDR.pack(ident, 1, machine, 1, 0, 0, shoff, 0, _EHDR.size, 0, 0, _SHDR.size,
                      len(all_sections) + 1, len(all_sections))
    return ehdr + bytes(body) + bytes(headers)

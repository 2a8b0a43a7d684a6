"""Symbol addresses of an ELF file, for rip-relative probe arguments (``sym(%rip)``).

Read once per object that needs them (only sites with such arguments do).
"""
from __future__ import annotations

from elftools.elf.elffile import ELFFile


def symbol_addresses(path: str) -> dict[str, int]:
    """name → virtual address of every defined symbol (.symtab first, then .dynsym).

    A missing or corrupt table gives fewer entries, never an exception: it only costs the
    arguments that name those symbols.
    """
    addresses: dict[str, int] = {}
    try:
        with open(path, "rb") as stream:
            elf = ELFFile(stream)
            for name in (".symtab", ".dynsym"):
                table = elf.get_section_by_name(name)
                if table is None or not hasattr(table, "iter_symbols"):
                    continue
                for symbol in table.iter_symbols():
                    if symbol["st_shndx"] != "SHN_UNDEF" and symbol.name:
                        addresses.setdefault(symbol.name, symbol["st_value"])
    except Exception:
        return addresses
    return addresses

"""Look up symbol addresses in an ELF file, for probe arguments that name a symbol
(``sym(%rip)`` on x86-64, ``[xN, #:lo12:sym]`` on aarch64).

Only the names asked for are resolved: the string table is searched for them and the
symbol table scanned as packed records, so large tables (postgres: 10,000 symbols) cost
milliseconds.
"""
from __future__ import annotations

import bisect
import re
import struct
from collections.abc import Iterable

from usdtgen.elf.reader import SHT_DYNSYM, SHT_SYMTAB, ElfFile


def _symbol_tables(elf: ElfFile):
    """(string table bytes, records) of .symtab then .dynsym; each record is
    (st_name, st_info, st_shndx, st_value, st_size) whatever the ELF class and byte order."""
    order = "<" if elf.little_endian else ">"
    is64 = elf.elfclass == 64
    record = struct.Struct(order + ("IBBHQQ" if is64 else "IIIBBH"))
    for table_name in (".symtab", ".dynsym"):
        table = elf.section_named(table_name)
        if table is None or table.type not in (SHT_SYMTAB, SHT_DYNSYM):
            continue
        strings = elf.section_data(elf.sections[table.link])
        data = elf.section_data(table)
        usable = len(data) - len(data) % record.size

        def records(data=data[:usable]):
            for fields in record.iter_unpack(data):
                if is64:
                    st_name, info, _, shndx, value, size = fields
                else:
                    st_name, value, size, info, _, shndx = fields
                yield st_name, info, shndx, value, size
        yield strings, records()


def symbol_addresses(path: str, names: Iterable[str]) -> dict[str, int]:
    """name → address (st_value) of each of ``names`` defined in .symtab or .dynsym.

    Names not found are absent. A missing or corrupt table gives fewer entries, never an
    exception: it only costs the arguments that name those symbols.
    """
    wanted = set(names)
    found: dict[str, int] = {}
    try:
        with open(path, "rb") as stream:
            for strings, records in _symbol_tables(ElfFile(stream)):
                missing = wanted - found.keys()
                if not missing:
                    break
                offsets = {}
                for name in missing:
                    needle = name.encode() + b"\0"
                    at = strings.find(needle)
                    while at >= 0:
                        offsets[at] = name
                        at = strings.find(needle, at + 1)
                for st_name, _, shndx, value, _ in records:
                    if st_name in offsets and shndx != 0:
                        found.setdefault(offsets[st_name], value)
    except Exception:
        return found
    return found


def containing_functions(path: str, addresses: Iterable[int]) -> dict[int, str]:
    """address → name of the function (STT_FUNC symbol, .symtab first) whose range holds it.

    Addresses outside every function are absent; a missing or corrupt table gives fewer
    entries, never an exception.
    """
    wanted = sorted(set(addresses))
    found: dict[int, str] = {}
    if not wanted:
        return found
    try:
        with open(path, "rb") as stream:
            for strings, records in _symbol_tables(ElfFile(stream)):
                for st_name, info, shndx, value, size in records:
                    if info & 0xF != 2 or shndx == 0 or size == 0:      # STT_FUNC, defined
                        continue
                    at = bisect.bisect_left(wanted, value)
                    while at < len(wanted) and wanted[at] < value + size:
                        if wanted[at] not in found:
                            end = strings.find(b"\0", st_name)
                            found[wanted[at]] = strings[st_name:end if end >= 0 else None] \
                                .decode("utf-8", "replace")
                        at += 1
                if len(found) == len(wanted):
                    break
    except Exception:
        return found
    return found


def function_symbols(path: str, pattern: str = "*") -> list[tuple[str, int, int]]:
    """(name, address, size) of each defined function (STT_FUNC, of a size) whose name
    matches the glob ``pattern``, .symtab's then .dynsym's names (each name once), in
    address order. A missing or corrupt table gives fewer entries, never an exception;
    a file that is not ELF gives ElfError."""
    with open(path, "rb") as stream:
        return elf_function_symbols(ElfFile(stream), pattern)


def elf_function_symbols(elf: ElfFile, pattern: str = "*") -> list[tuple[str, int, int]]:
    """``function_symbols`` of an ELF file already open (its stream still open): a file on
    disk, or one held in memory (io.BytesIO), such as a MiniDebugInfo section's."""
    import fnmatch
    plain = not any(c in pattern for c in "*?[")
    match = None if pattern == "*" else (pattern.__eq__ if plain else
                                         re.compile(fnmatch.translate(pattern)).match)
    found: dict[str, tuple[str, int, int]] = {}
    try:
        for strings, records in _symbol_tables(elf):
            find = strings.find
            for st_name, info, shndx, value, size in records:
                if info & 0xF != 2 or shndx == 0 or size == 0:      # STT_FUNC, defined
                    continue
                end = find(b"\0", st_name)
                name = strings[st_name:end if end >= 0 else None].decode("utf-8", "replace")
                if name in found or (match is not None and not match(name)):
                    continue
                found[name] = (name, value, size)
    except Exception:                         # (a corrupt table: what was read so far)
        pass
    return sorted(found.values(), key=lambda entry: (entry[1], entry[0]))

"""Name the functions of stripped ELF files from debug data outside their own .symtab: the
MiniDebugInfo of a .gnu_debugdata section, and separate debug files found as gdb finds them.

MiniDebugInfo (Fedora's, documented in gdb's manual) is an xz-compressed ELF file in the
section .gnu_debugdata holding a .symtab of the functions .dynsym leaves out. A separate
debug file (``objcopy --only-keep-debug``) is looked for by build ID, as
``DEBUG/.build-id/xx/rest.debug``, then by the name .gnu_debuglink gives (its CRC-32
checked) in the file's directory, its ``.debug/`` subdirectory and ``DEBUG/<directory>``;
DEBUG is /usr/lib/debug, or each directory of USDTGEN_DEBUG_DIRS (colon-separated). Corrupt
or bogus debug data only gives fewer names: never an exception, never an unbounded read or
decompression.
"""
from __future__ import annotations

import io
import os
import struct

from usdtgen.elf.reader import SHT_NOTE, SHT_SYMTAB, ElfFile
from usdtgen.elf.symbols import elf_function_symbols

DEFAULT_DEBUG_DIRS = ("/usr/lib/debug",)
NT_GNU_BUILD_ID = 3
MAX_MINIDEBUGINFO = 64 << 20     # bytes a .gnu_debugdata section may hold, and unpack to
CRC_CHUNK = 1 << 20


def debug_dirs() -> tuple[str, ...]:
    """The global debug directories: USDTGEN_DEBUG_DIRS (colon-separated), else
    /usr/lib/debug."""
    configured = os.environ.get("USDTGEN_DEBUG_DIRS")
    if configured is None:
        return DEFAULT_DEBUG_DIRS
    return tuple(d.rstrip("/") or "/" for d in configured.split(":") if d)


def all_function_symbols(path: str, pattern: str = "*",
                         shown_path: str | None = None) -> list[tuple[str, int, int]]:
    """(name, address, size) of the functions of the ELF file at ``path`` whose names match
    ``pattern``, in address order: its own .symtab and .dynsym, and, when it has no .symtab,
    those of its separate debug file or else of its MiniDebugInfo. ``shown_path``: where
    the file lives, when ``path`` is another name of it (/proc/PID/map_files/...), for the
    .gnu_debuglink directories. ElfError when the file is not ELF."""
    with open(path, "rb") as stream:
        elf = ElfFile(stream)
        own = elf_function_symbols(elf, pattern)
        if any(s.type == SHT_SYMTAB for s in elf.sections):
            return own
        extra = _separate_symbols(elf, path, shown_path or path, pattern)
        if not extra:
            extra = minidebuginfo_symbols(elf, pattern)
    if not extra:
        return own
    merged = {name: (name, address, size) for name, address, size in extra}
    for name, address, size in own:
        merged.setdefault(name, (name, address, size))
    return sorted(merged.values(), key=lambda entry: (entry[1], entry[0]))


def minidebuginfo_symbols(elf: ElfFile, pattern: str = "*") -> list[tuple[str, int, int]]:
    """The functions of the MiniDebugInfo in ``elf``'s .gnu_debugdata section (none when it
    has none, or it is corrupt, or larger than MAX_MINIDEBUGINFO packed or unpacked)."""
    import lzma
    section = elf.section_named(".gnu_debugdata")
    if section is None or section.size > MAX_MINIDEBUGINFO:
        return []
    try:
        packed = elf.section_data(section)
        unpacker = lzma.LZMADecompressor()
        data = unpacker.decompress(packed, max_length=MAX_MINIDEBUGINFO)
        if not unpacker.eof:                  # cut short, or larger than we unpack
            return []
        return elf_function_symbols(ElfFile(io.BytesIO(data)), pattern)
    except Exception:                          # (not xz, not ELF, corrupt headers)
        return []


def _separate_symbols(elf: ElfFile, path: str, shown_path: str,
                      pattern: str) -> list[tuple[str, int, int]]:
    debug = separate_debug_file(elf, path, shown_path)
    if debug is None:
        return []
    try:
        with open(debug, "rb") as stream:
            return elf_function_symbols(ElfFile(stream), pattern)
    except Exception:                          # (unreadable, not ELF, corrupt)
        return []


def separate_debug_file(elf: ElfFile, path: str, shown_path: str | None = None) -> str | None:
    """The separate debug file of ``elf`` (the file at ``path``, shown as ``shown_path``):
    by build ID in each debug directory, else by its .gnu_debuglink name and CRC-32; None
    when there is none."""
    build_id = read_build_id(elf)
    if build_id is not None and len(build_id) >= 2:
        text = build_id.hex()
        for root in debug_dirs():
            candidate = f"{root}/.build-id/{text[:2]}/{text[2:]}.debug"
            if _is_file(candidate) and _build_id_at(candidate) == build_id:
                return candidate
    link = read_debuglink(elf)
    if link is None:
        return None
    name, crc = link
    where = shown_path or path
    if where.endswith(" (deleted)"):
        where = where[:-len(" (deleted)")]
    if where.startswith("/memfd:") or "/" not in where:
        return None                            # (no directory to look in)
    folder = os.path.dirname(os.path.realpath(where) if os.path.exists(where) else where)
    candidates = [os.path.join(folder, name), os.path.join(folder, ".debug", name)]
    candidates += [f"{root}{folder}/{name}" for root in debug_dirs()]
    for candidate in candidates:
        if not _is_file(candidate) or _same_file(candidate, path):
            continue
        if file_crc32(candidate) == crc:
            return candidate
    return None


def read_build_id(elf: ElfFile) -> bytes | None:
    """The GNU build ID of ``elf`` (its NT_GNU_BUILD_ID note), None without one."""
    from usdtgen.elf.notes import iter_notes
    order = "little" if elf.little_endian else "big"
    try:
        for section in elf.sections:
            if section.type != SHT_NOTE:
                continue
            for owner, note_type, desc in iter_notes(elf.section_data(section), order):
                if owner == b"GNU" and note_type == NT_GNU_BUILD_ID and desc:
                    return bytes(desc)
    except Exception:                          # (corrupt notes: no build ID known)
        return None
    return None


def read_debuglink(elf: ElfFile) -> tuple[str, int] | None:
    """(file name, CRC-32) of ``elf``'s .gnu_debuglink section: the name NUL-terminated,
    padded to 4 bytes, then the CRC in the file's byte order. None when absent or bogus (a
    name that is empty or holds a '/')."""
    section = elf.section_named(".gnu_debuglink")
    if section is None or section.size > 4096:
        return None
    try:
        data = elf.section_data(section)
    except Exception:
        return None
    end = data.find(b"\0")
    if end <= 0:
        return None
    crc_at = (end + 4) & ~3
    if crc_at + 4 > len(data):
        return None
    name = data[:end].decode("utf-8", "replace")
    if "/" in name or name in (".", ".."):
        return None
    crc = struct.unpack_from("<I" if elf.little_endian else ">I", data, crc_at)[0]
    return name, crc


def file_crc32(path: str) -> int | None:
    """The CRC-32 (zlib's, which .gnu_debuglink uses) of a file's bytes, None if unreadable."""
    import zlib
    crc = 0
    try:
        with open(path, "rb") as stream:
            while chunk := stream.read(CRC_CHUNK):
                crc = zlib.crc32(chunk, crc)
    except OSError:
        return None
    return crc


def _build_id_at(path: str) -> bytes | None:
    try:
        with open(path, "rb") as stream:
            return read_build_id(ElfFile(stream))
    except Exception:
        return None


def _is_file(path: str) -> bool:
    try:
        return os.path.isfile(path)
    except (OSError, ValueError):
        return False


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False

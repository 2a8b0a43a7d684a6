"""Name the code addresses of traced processes as DTrace prints them: ``module`function+0x1c``
(``module`function`` at the function's first byte, ``module`0x7f..`` outside every function,
``0x7f..`` outside every mapping).

A process's mappings are read from /proc/PID/maps when it is first asked about (while it
runs: ``remember`` is called as its events arrive, so a process that has exited since still
resolves), and again when an address falls outside them. Each mapped file's functions come
from its ELF symbols (.symtab and .dynsym; for a stripped file, also its separate debug file
or MiniDebugInfo: usdtgen.elf.debuginfo), read once per file (by device and inode) through
/proc/PID/map_files, so deleted files and memfd objects resolve too (those are held open
once seen, for frames named after their process has exited); a file that cannot be read
gives ``module`0x..`` frames.
"""
from __future__ import annotations

import bisect
import os
import struct
from dataclasses import dataclass

from usdtgen.elf.debuginfo import all_function_symbols, read_build_id
from usdtgen.elf.reader import PT_LOAD, ElfFile
from usdtgen.trace.targets import Mapping, parse_maps

STACK_INDENT = 14          # DTrace's stackindent: the spaces before each frame
MAX_HELD_FILES = 256       # deleted and memfd files kept open to name their frames later


@dataclass(frozen=True, slots=True)
class _Functions:
    """A file's functions by address, and how its file offsets map to addresses."""

    starts: list[int]
    ends: list[int]
    names: list[str]
    loads: tuple[tuple[int, int, int], ...]     # (file offset, size, address) of each PT_LOAD

    def find(self, file_offset: int) -> tuple[str, int] | None:
        """(function, offset in it) of the code at ``file_offset``, or None."""
        for offset, size, address in self.loads:
            if offset <= file_offset < offset + size:
                target = address + file_offset - offset
                break
        else:
            return None
        at = bisect.bisect_right(self.starts, target) - 1
        if at < 0 or target >= self.ends[at]:
            return None
        return self.names[at], target - self.starts[at]


class Symbolizer:
    """Addresses of processes to names, with what it learns cached. A frame is an address,
    or (build ID, file offset): the file is then found by its build ID among the files of
    the traced program and of the processes seen, whether or not the process still runs."""

    def __init__(self):
        self.maps: dict[int, list[Mapping]] = {}
        self.files: dict[tuple, _Functions | None] = {}
        self.names: dict[tuple, str] = {}
        self.build_ids: dict[bytes, tuple[str, str]] = {}    # -> (path to open, shown path)
        self.candidates: list[tuple[str, str]] = []          # files not indexed yet
        self.held: dict[tuple[str, int], str] = {}           # (device, inode) -> fd path

    def add_files(self, files) -> None:
        """Files the traced processes may run (a -c program and its libraries): (path to
        open, path shown) pairs, indexed by build ID when a frame needs them."""
        self.candidates += files

    def remember(self, pid: int) -> None:
        """Read ``pid``'s mappings now, if not read yet (cheap when they are)."""
        if pid not in self.maps:
            self._read_maps(pid)

    def _read_maps(self, pid: int) -> list[Mapping]:
        try:
            with open(f"/proc/{pid}/maps") as maps:
                mappings = [m for m in parse_maps(maps.read()) if "x" in m.perms]
        except OSError:
            mappings = []
        if mappings or pid not in self.maps:
            self.maps[pid] = mappings
            self.candidates += [(self._open_path(pid, m), m.path) for m in mappings]
        return self.maps[pid]

    def _open_path(self, pid: int, mapping: Mapping) -> str:
        """How to open a mapped file: through /proc/PID/map_files while the process runs; a
        file no name reaches (deleted, a memfd) is held open, so that its frames are named
        after the process has exited too (``/proc/self/fd/N``)."""
        map_file = f"/proc/{pid}/map_files/{mapping.start:x}-{mapping.end:x}"
        if not (mapping.path.endswith(" (deleted)") or mapping.path.startswith("/memfd:")):
            return map_file
        key = (mapping.device, mapping.inode)
        held = self.held.get(key)
        if held is None and len(self.held) < MAX_HELD_FILES:
            try:
                fd = os.open(map_file, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return map_file
            held = self.held[key] = f"/proc/self/fd/{fd}"
        return held or map_file

    def _file_of(self, build_id: bytes) -> tuple[str, str] | None:
        while build_id not in self.build_ids and self.candidates:
            open_path, shown = self.candidates.pop()
            found = build_id_of(open_path) or build_id_of(shown)
            if found is not None:
                self.build_ids.setdefault(found, (open_path, shown))
        return self.build_ids.get(build_id)

    def _mapping(self, pid: int, address: int) -> Mapping | None:
        mappings = self.maps.get(pid)
        if mappings is None:
            mappings = self._read_maps(pid)
        for mapping in mappings:
            if mapping.start <= address < mapping.end:
                return mapping
        for mapping in self._read_maps(pid):              # mapped since (dlopen)
            if mapping.start <= address < mapping.end:
                return mapping
        return None

    def _functions(self, pid: int, mapping: Mapping) -> _Functions | None:
        key = (mapping.device, mapping.inode)
        if key not in self.files:
            self.files[key] = _read_functions(self._open_path(pid, mapping), mapping.path)
        return self.files[key]

    def name(self, pid: int, frame) -> str:
        """``module`function+0x1c`` for a frame of process ``pid``: an address, or (build
        ID, file offset)."""
        key = frame if isinstance(frame, tuple) else (pid, frame)
        known = self.names.get(key)
        if known is None:
            known = self.names[key] = self._name(pid, frame)
        return known

    def _name(self, pid: int, address) -> str:
        if isinstance(address, tuple):
            return self._name_in_file(*address)
        mapping = self._mapping(pid, address)
        if mapping is None:
            return f"0x{address:x}"
        module = module_of(mapping.path)
        functions = self._functions(pid, mapping)
        found = functions.find(address - mapping.start + mapping.offset) if functions else None
        if found is None:
            return f"{module}`0x{address:x}"
        function, offset = found
        return f"{module}`{function}+0x{offset:x}" if offset else f"{module}`{function}"

    def _name_in_file(self, build_id: bytes, file_offset: int) -> str:
        found = self._file_of(build_id)
        if found is None:
            return f"0x{file_offset:x}"
        open_path, shown = found
        key = ("file", open_path)
        if key not in self.files:
            self.files[key] = _read_functions(open_path, shown)
        functions = self.files[key]
        module = module_of(shown)
        named = functions.find(file_offset) if functions else None
        if named is None:
            return f"{module}`0x{file_offset:x}"
        function, offset = named
        return f"{module}`{function}+0x{offset:x}" if offset else f"{module}`{function}"

    def parts(self, pid: int, address: int) -> tuple[str, str | None, int]:
        """(module, function or None, offset in the function) of ``address``: for ufunc(),
        umod() and usym()."""
        text = self.name(pid, address)
        if "`" not in text:
            return text, None, 0
        module, _, rest = text.partition("`")
        if rest.startswith("0x"):
            return module, None, 0
        function, _, offset = rest.partition("+0x")
        return module, function, int(offset, 16) if offset else 0

    def stack_text(self, pid: int, addresses) -> str:
        """A user stack as DTrace prints it: a newline, then a frame a line, indented."""
        indent = " " * STACK_INDENT
        return "\n" + "".join(f"{indent}{self.name(pid, pc)}\n" for pc in addresses)


def module_of(path: str) -> str:
    """The module name DTrace prints: the file's base name (a deleted file's too)."""
    if path.endswith(" (deleted)"):
        path = path[:-len(" (deleted)")]
    return os.path.basename(path)


def _read_functions(open_path: str, path: str) -> _Functions | None:
    for candidate in (open_path, path):
        try:
            with open(candidate, "rb") as stream:
                elf = ElfFile(stream)
            loads = tuple((s.offset, s.filesz, s.vaddr) for s in elf.segments
                          if s.type == PT_LOAD)
            symbols = all_function_symbols(candidate, "*", path)
        except Exception:                     # (not ELF, unreadable, gone): addresses only
            continue
        symbols.sort(key=lambda entry: entry[1])
        return _Functions([a for _, a, _ in symbols], [a + s for _, a, s in symbols],
                          [n for n, _, _ in symbols], loads)
    return None


def build_id_of(path: str) -> bytes | None:
    """The GNU build ID of an ELF file (its NT_GNU_BUILD_ID note, as much of it as a stack
    frame holds), None without one."""
    try:
        with open(path, "rb") as stream:
            found = read_build_id(ElfFile(stream))
    except Exception:                      # (unreadable, not ELF): no build ID known
        return None
    return found[:BUILD_ID_SIZE] if found is not None else None


BUILD_ID_SIZE = 20                 # the kernel's BUILD_ID_SIZE_MAX: what a stack frame holds
FRAME = struct.Struct("<i20sQ")     # a bpf_stack_build_id: status, build ID, offset or pc
BUILD_ID_VALID, BUILD_ID_IP = 1, 2


def stack_frames(data: bytes) -> tuple:
    """The frames of a stack the kernel wrote (build ID frames): (build ID, file offset)
    where it found the file's build ID, else the address. The same bytes come again and
    again (a hot path's stack): each distinct stack is parsed once."""
    frames = _parsed_stacks.get(data)
    if frames is None:
        if len(_parsed_stacks) >= MAX_PARSED_STACKS:
            _parsed_stacks.clear()
        frames = _parsed_stacks[data] = _parse_frames(data)
    return frames


MAX_PARSED_STACKS = 65536
_parsed_stacks: dict[bytes, tuple] = {}


def _parse_frames(data: bytes) -> tuple:
    frames = []
    for status, build_id, value in FRAME.iter_unpack(data[:len(data) - len(data) % FRAME.size]):
        if status == BUILD_ID_VALID:
            frames.append((build_id, value))
        elif status == BUILD_ID_IP and value:
            frames.append(value)
        else:
            break
    return tuple(frames)


# Stacks site programs announced (usdtgen.trace.bpfgen.store_stack): (stack map number,
# stack id) -> frames, as stack_frames() gives them.
_announced: dict[tuple[int, int], tuple] = {}
_NOTICE = struct.Struct("<IiII")


def note_announced_stack(data: bytes, start: int) -> None:
    """Keep the stack of the STACK_NOTICE record at ``start`` of ``data``."""
    _, written, number, stack_id = _NOTICE.unpack_from(data, start)
    if written > 0:
        body = start + _NOTICE.size
        _announced[number, stack_id] = stack_frames(data[body:body + written])


def forget_announced(number: int) -> None:
    """Drop what stack map ``number`` announced (the map is closed)."""
    for key in [key for key in _announced if key[0] == number]:
        del _announced[key]


def announced_stack(number: int, stack_id: int) -> tuple | None:
    """The frames announced for ``stack_id`` of stack map ``number``, or None."""
    return _announced.get((number, stack_id))


SYMBOLIZER = Symbolizer()        # one per usdtgen process: what it learns serves every event


class UserStack(tuple):
    """A user stack as a D value: (pid, pc, pc, ...), innermost frame first. Compares by
    its addresses and process, as DTrace's keys do; prints as DTrace prints ustack()."""

    __slots__ = ()

    def __format__(self, spec: str) -> str:
        return SYMBOLIZER.stack_text(self[0], self[1:])

    def __str__(self) -> str:
        return format(self, "")

    def frames(self) -> list[str]:
        """The frames' names, innermost first (the JSON form)."""
        return [SYMBOLIZER.name(self[0], pc) for pc in self[1:]]

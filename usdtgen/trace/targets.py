"""Find the ELF objects to read: a path, a program name looked up on PATH, or every file a
process maps (through /proc/PID/map_files, so deleted files, memfd objects and files inside
containers are reached too).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from usdtgen.errors import TargetError


@dataclass(frozen=True, slots=True)
class ElfObject:
    """A file to read: ``path`` is what users see, ``open_path`` what usdtgen opens."""

    path: str
    open_path: str
    pid: int | None = None


def resolve_program(name: str) -> ElfObject:
    """A path (anything with a '/') as given, else a program name on PATH, else a file here."""
    if "/" not in name:
        import shutil                  # loaded only for names looked up on PATH

        found = shutil.which(name)
        if found:
            return ElfObject(found, found)
        if not os.path.exists(name):
            raise TargetError(f"{name}: no such program on PATH, and no such file")
    if not os.path.exists(name):
        raise TargetError(f"{name}: no such file")
    if os.path.isdir(name):
        raise TargetError(f"{name}: is a directory")
    return ElfObject(name, name)


@dataclass(frozen=True, slots=True)
class Mapping:
    start: int
    end: int
    perms: str
    offset: int
    device: str
    inode: int
    path: str


def parse_maps(text: str) -> list[Mapping]:
    """The file-backed mappings of a /proc/PID/maps text."""
    mappings = []
    for line in text.splitlines():
        fields = line.split(None, 5)
        if len(fields) < 6 or not fields[5].startswith("/"):
            continue
        start, _, end = fields[0].partition("-")
        mappings.append(Mapping(int(start, 16), int(end, 16), fields[1], int(fields[2], 16),
                                fields[3], int(fields[4]), fields[5]))
    return mappings


def process_objects(pid: int) -> list[ElfObject]:
    """Every distinct file mapped by process ``pid``, one ElfObject each.

    Raises TargetError when the process does not exist or cannot be inspected.
    """
    try:
        with open(f"/proc/{pid}/maps") as f:
            text = f.read()
    except FileNotFoundError:
        raise TargetError(f"PID {pid}: no such process") from None
    except PermissionError:
        raise TargetError(f"PID {pid}: permission denied reading its memory map "
                          "(run as root or as the process's owner)") from None
    except OSError as e:
        raise TargetError(f"PID {pid}: {e.strerror}") from None
    chosen: dict[tuple[str, int, str], Mapping] = {}
    for mapping in parse_maps(text):
        key = (mapping.device, mapping.inode, mapping.path)
        if key not in chosen or (mapping.offset == 0 and chosen[key].offset != 0):
            chosen[key] = mapping
    return [ElfObject(m.path, _mapped_file(pid, m), pid) for m in chosen.values()]


def _mapped_file(pid: int, mapping: Mapping) -> str:
    """How to open a mapped file: /proc/PID/map_files/START-END reaches deleted and memfd
    objects but needs CAP_SYS_ADMIN; without it, the path in the process's root."""
    map_file = f"/proc/{pid}/map_files/{mapping.start:x}-{mapping.end:x}"
    if os.geteuid() == 0 or mapping.path.endswith(" (deleted)"):
        return map_file
    return f"/proc/{pid}/root{mapping.path}"


def split_list_arguments(args: tuple[str, ...] | list[str], have_pids: bool) -> tuple[list[str], list[str]]:
    """Split ``usdtgen list`` arguments into targets and probe filters.

    With -p every argument is a filter. Otherwise the first argument is a target, and so is
    any later one that looks like a path (has a '/' and no ':'); the rest are filters.
    """
    if have_pids:
        return [], list(args)
    targets, patterns = [], []
    for i, arg in enumerate(args):
        if i == 0 or ("/" in arg and ":" not in arg):
            targets.append(arg)
        else:
            patterns.append(arg)
    return targets, patterns


def gather_objects(targets: list[str], pids: tuple[int, ...] | list[int]) -> tuple[list[ElfObject], list[str]]:
    """The objects of every target and process; a problem line for each that cannot be used."""
    objects, problems = [], []
    for target in targets:
        try:
            objects.append(resolve_program(target))
        except TargetError as e:
            problems.append(str(e))
    for pid in pids:
        try:
            objects.extend(process_objects(pid))
        except TargetError as e:
            problems.append(str(e))
    return objects, problems

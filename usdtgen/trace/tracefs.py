"""Define and remove dynamic uprobe events in tracefs, and read what the kernel says of them.

Each tracer owns one event group named ``usdtgen_<pid>_<n>`` (so anyone reading
``uprobe_events`` can see whose it is); groups of tracers that died are removed by the next
one. Writes go to ``uprobe_events`` opened O_WRONLY|O_APPEND; rejections are explained from
``error_log``. Formats of ``events/GROUP/EVENT/format`` are parsed into field layouts.
"""
from __future__ import annotations

import errno
import itertools
import os
import re
from dataclasses import dataclass

from usdtgen.errors import TraceError
from usdtgen.trace.process import process_alive

TRACEFS_MOUNTS = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")
GROUP_PREFIX = "usdtgen_"
_GROUP_RE = re.compile(r"^usdtgen_(\d+)(?:_\d+)?$")
_session_numbers = itertools.count(1)


def find_tracefs(mount: bool = True) -> str:
    """The tracefs directory with uprobe support, mounted here when absent and ``mount``.

    Raises TraceError naming what is missing (permissions, tracefs, uprobe support).
    """
    def has_uprobes(root: str) -> bool:
        try:
            return os.path.exists(f"{root}/uprobe_events")
        except OSError:                 # tracefs is mode 0700: not ours to look at
            return False

    for root in TRACEFS_MOUNTS:
        if has_uprobes(root):
            return root
    if mount and os.geteuid() == 0 and os.path.isdir(TRACEFS_MOUNTS[0]):
        import subprocess
        subprocess.run(["mount", "-t", "tracefs", "nodev", TRACEFS_MOUNTS[0]],
                       capture_output=True)
        if has_uprobes(TRACEFS_MOUNTS[0]):
            return TRACEFS_MOUNTS[0]
    if os.geteuid() != 0:
        raise TraceError("tracing needs root (or CAP_PERFMON and CAP_SYS_ADMIN with tracefs "
                         "mounted and writable): run usdtgen trace with sudo")
    if os.path.isdir(TRACEFS_MOUNTS[0]) and os.listdir(TRACEFS_MOUNTS[0]):  # root here
        raise TraceError("this kernel has no uprobe events (CONFIG_UPROBE_EVENTS is off): "
                         f"{TRACEFS_MOUNTS[0]}/uprobe_events is missing")
    raise TraceError(f"tracefs is not mounted and could not be mounted on {TRACEFS_MOUNTS[0]}")


def new_group_name() -> str:
    """A group name unique to this process and session: ``usdtgen_<pid>_<n>``."""
    return f"{GROUP_PREFIX}{os.getpid()}_{next(_session_numbers)}"


@dataclass(frozen=True, slots=True)
class EventDefinition:
    """One uprobe event: where it fires and what the kernel fetches there."""

    group: str
    name: str
    path: str                         # the file the kernel resolves (may be /proc/PID/map_files/..)
    file_offset: int
    ref_ctr_offset: int | None        # the semaphore's file offset, raised while attached
    fetchargs: tuple[tuple[str, str], ...]   # (field name, fetch-arg)
    returns: bool = False             # a uretprobe: fires when the function there returns

    def line(self) -> str:
        where = f"{self.path}:{self.file_offset:#x}"
        if self.ref_ctr_offset is not None:
            where += f"({self.ref_ctr_offset:#x})"
        args = " ".join(f"{field}={fetch}" for field, fetch in self.fetchargs)
        kind = "r" if self.returns else "p"
        return f"{kind}:{self.group}/{self.name} {where} {args}".rstrip()


def _read(path: str) -> str:
    with open(path) as stream:
        return stream.read()


def _error_log(root: str) -> str:
    try:
        lines = _read(f"{root}/error_log").strip().splitlines()
    except OSError:
        return ""
    # the last entry: "[time] trace_uprobe: error: MESSAGE\n  Command: ...\n  ^"
    for i in range(len(lines) - 1, -1, -1):
        if "error:" in lines[i]:
            return lines[i].split("error:", 1)[1].strip()
    return ""


def _write(root: str, text: str) -> None:
    fd = os.open(f"{root}/uprobe_events", os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def add_event(root: str, definition: EventDefinition) -> None:
    """Define one uprobe event. Raises TraceError with the kernel's reason when rejected."""
    try:
        _write(root, definition.line() + "\n")
    except OSError as e:
        if e.errno in (errno.EACCES, errno.EPERM):
            raise TraceError(f"permission denied writing {root}/uprobe_events: run as root") from None
        reason = _error_log(root) or e.strerror
        raise TraceError(f"the kernel refused the uprobe for {definition.path} at offset "
                         f"{definition.file_offset:#x}: {reason}\n  definition: {definition.line()}") from None


def remove_event(root: str, group: str, name: str) -> bool:
    """Remove one event definition; False when it is gone already or still in use."""
    try:
        _write(root, f"-:{group}/{name}\n")
        return True
    except OSError:
        return False


def list_events(root: str) -> list[tuple[str, str]]:
    """(group, event) of every uprobe event defined now."""
    try:
        text = _read(f"{root}/uprobe_events")
    except OSError:
        return []
    events = []
    for line in text.splitlines():
        head = line.split(None, 1)[0] if line.strip() else ""
        if ":" in head and "/" in head:
            group, _, name = head.split(":", 1)[1].partition("/")
            events.append((group, name))
    return events


def remove_group(root: str, group: str) -> list[str]:
    """Remove every event of ``group``; returns the names that could not be removed."""
    return [name for g, name in list_events(root) if g == group and not remove_event(root, g, name)]


def remove_stale_groups(root: str) -> list[str]:
    """Remove the events of usdtgen tracers whose process is gone. Returns the groups cleaned."""
    cleaned = []
    for group in sorted({g for g, _ in list_events(root)}):
        match = _GROUP_RE.match(group)
        if not match or process_alive(int(match.group(1))):
            continue
        remove_group(root, group)
        cleaned.append(group)
    return cleaned


# -- event ids and record formats ------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Field:
    name: str
    offset: int
    size: int
    signed: bool
    data_loc: bool             # __data_loc: a u32 (length << 16 | offset) pointing at bytes


@dataclass(frozen=True, slots=True)
class EventFormat:
    event_id: int
    fields: dict


_FIELD_RE = re.compile(r"field:(?P<decl>[^;]*);\s*offset:(?P<offset>\d+);\s*size:(?P<size>\d+);"
                       r"\s*signed:(?P<signed>\d+);")


def read_format(root: str, group: str, name: str) -> EventFormat:
    """The id and field layout the kernel gives event ``group/name``."""
    folder = f"{root}/events/{group}/{name}"
    try:
        event_id = int(_read(f"{folder}/id"))
        text = _read(f"{folder}/format")
    except (OSError, ValueError) as e:
        raise TraceError(f"cannot read the format of event {group}/{name}: {e}") from None
    fields = {}
    for match in _FIELD_RE.finditer(text):
        decl = match.group("decl").strip()
        field_name = decl.split()[-1].split("[")[0].lstrip("*")   # "__data_loc char[] name"
        fields[field_name] = Field(field_name, int(match.group("offset")), int(match.group("size")),
                                   match.group("signed") == "1", decl.startswith("__data_loc"))
    return EventFormat(event_id, fields)

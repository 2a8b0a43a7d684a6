"""perf_event_open on tracepoint-type events (our uprobe events), and the mmap ring buffers
their samples arrive in.

The kernel fetches each probe's arguments at the hit and writes one PERF_RECORD_SAMPLE
(pid/tid, time, raw trace entry) per hit into a per-CPU ring buffer; hits it had no room
for are found from the events' hit counts. Layouts follow include/uapi/linux/perf_event.h.
"""
from __future__ import annotations

import ctypes
import fcntl
import mmap
import os
import struct
from dataclasses import dataclass

from usdtgen.errors import TraceError

PERF_TYPE_TRACEPOINT = 2
PERF_SAMPLE_TID = 1 << 1
PERF_SAMPLE_TIME = 1 << 2
PERF_SAMPLE_RAW = 1 << 10
# the raw entry's common_type names the event, so samples carry no id or cpu: smaller records
SAMPLE_TYPE = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_RAW

# perf_event_attr flag bits
FLAG_INHERIT = 1 << 1
FLAG_WATERMARK = 1 << 14
FLAG_USE_CLOCKID = 1 << 25

PERF_RECORD_SAMPLE = 9

# ioctl numbers: _IO('$', n) and _IOR('$', 7, __u64) style encodings
PERF_EVENT_IOC_DISABLE = 0x2401
PERF_EVENT_IOC_SET_OUTPUT = 0x2405

CLOCK_MONOTONIC = 1
_SYSCALL = {"x86_64": 298, "aarch64": 241}
PAGE_SIZE = mmap.PAGESIZE

_ATTR = struct.Struct("<IIQQQQQIIQQQQIiQIHHIIQQ")   # struct perf_event_attr, 136 bytes (VER8)
_HEADER = struct.Struct("<IHH")                     # struct perf_event_header
_SAMPLE_HEAD = struct.Struct("<IIQI")                # pid, tid, time, raw size
# struct perf_event_mmap_page: data_head at 1024, data_tail at 1032
_DATA_HEAD, _DATA_TAIL = 1024, 1032

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def online_cpus() -> list[int]:
    """The CPUs perf can open events on (from /sys/devices/system/cpu/online)."""
    try:
        text = open("/sys/devices/system/cpu/online").read().strip()
    except OSError:
        return list(range(os.cpu_count() or 1))
    cpus = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        cpus.extend(range(int(low), int(high or low) + 1))
    return cpus


def open_tracepoint(event_id: int, pid: int, cpu: int, inherit: bool = False,
                    wakeup_bytes: int = 1, sampling: bool = True) -> int:
    """An enabled perf event on tracepoint ``event_id`` for ``pid`` (-1: every process) on
    ``cpu``; returns its fd. The reader is woken once ``wakeup_bytes`` are waiting (it also
    polls with a timeout, so a low rate still shows promptly). Raises TraceError with the
    reason (permissions, no process)."""
    # Enabled from the start: the kernel raises the probe's semaphore as soon as the event
    # exists, and every hit from then on must at least be counted (see hit_count).
    # A counting event (``sampling`` False) only counts hits: with cpu -1 it follows its
    # task (and, with inherit, its new threads) on every CPU.
    return _open(PERF_TYPE_TRACEPOINT, event_id, pid, cpu, FLAG_INHERIT if inherit else 0,
                 wakeup_bytes, SAMPLE_TYPE if sampling else 0, 1 if sampling else 0)


def _open(kind: int, config: int, pid: int, cpu: int, extra_flags: int, wakeup_bytes: int,
          sample_type: int, period: int = 0) -> int:
    flags = FLAG_WATERMARK | FLAG_USE_CLOCKID | extra_flags
    attr = _ATTR.pack(kind, _ATTR.size, config, period, sample_type, 0, flags,
                      wakeup_bytes,
                      0, 0, 0, 0, 0, 0, CLOCK_MONOTONIC, 0, 0, 0, 0, 0, 0, 0, 0)
    buffer = ctypes.create_string_buffer(attr, len(attr))
    number = _SYSCALL.get(os.uname().machine)
    if number is None:
        raise TraceError(f"tracing on {os.uname().machine} is not supported")
    fd = _libc.syscall(number, buffer, pid, cpu, -1, 8)   # 8: PERF_FLAG_FD_CLOEXEC
    if fd < 0:
        err = ctypes.get_errno()
        if err == 3:
            raise TraceError(f"PID {pid}: no such process")
        if err in (1, 13):
            raise TraceError("perf_event_open was refused: tracing needs root, or CAP_PERFMON "
                             "and CAP_SYS_ADMIN (see /proc/sys/kernel/perf_event_paranoid)")
        if err == 24:
            raise TraceError("too many open files: raise the limit (ulimit -n) or trace fewer "
                             "probes or threads")
        raise TraceError(f"perf_event_open failed: {os.strerror(err)}")
    return fd


def default_buffer_pages() -> int:
    """Pages of each CPU's ring buffer: 128 MiB shared by the CPUs, 32 MiB per CPU at most
    (a burst of 300,000 hits of ~64 bytes on one CPU fits twice over), 2 MiB at least; a
    power of two."""
    per_cpu = max(2 << 20, min(32 << 20, (128 << 20) // max(1, len(online_cpus()))))
    pages = per_cpu // PAGE_SIZE
    return 1 << (pages.bit_length() - 1)


PERF_TYPE_SOFTWARE, PERF_COUNT_SW_DUMMY = 1, 9


def open_buffer_owner(cpu: int, wakeup_bytes: int) -> int:
    """A perf event that counts nothing, opened only to own ``cpu``'s ring buffer: the
    buffers then exist before any probe is armed, and tracepoint events join them at once."""
    return _open(PERF_TYPE_SOFTWARE, PERF_COUNT_SW_DUMMY, -1, cpu, 0, wakeup_bytes, 0)


def set_output(fd: int, leader_fd: int) -> None:
    """Send ``fd``'s records into ``leader_fd``'s ring buffer (same CPU)."""
    fcntl.ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, leader_fd)


def disable(fd: int) -> None:
    fcntl.ioctl(fd, PERF_EVENT_IOC_DISABLE, 0)


def hit_count(fd: int) -> int:
    """How many times the event fired (for its task and, with inherit, its exited children),
    whether or not its sample found room in the ring buffer."""
    data = os.read(fd, 8)
    return struct.unpack("<Q", data)[0] if len(data) == 8 else 0


@dataclass(frozen=True, slots=True)
class Sample:
    pid: int
    tid: int
    time: int       # ns, CLOCK_MONOTONIC
    raw: bytes      # the trace entry: common fields (common_type first), then the event's fields


class RingBuffer:
    """The mmap'ed ring buffer of one perf event (and of those set to output into it)."""

    def __init__(self, fd: int, data_pages: int):
        if data_pages & (data_pages - 1):
            raise ValueError("the number of data pages must be a power of two")
        self.fd = fd
        self.size = data_pages * PAGE_SIZE
        try:
            self.map = mmap.mmap(fd, (data_pages + 1) * PAGE_SIZE, mmap.MAP_SHARED,
                                 mmap.PROT_READ | mmap.PROT_WRITE)
        except OSError as e:
            raise TraceError(f"cannot map a {self.size // 1024} KiB perf buffer: {e.strerror} "
                             "(lower --buffer-size, or raise /proc/sys/kernel/perf_event_mlock_kb)") from None
        self.view = memoryview(self.map)

    def read(self):
        """Yield every Sample written since the last call, then free the space."""
        head = struct.unpack_from("<Q", self.map, _DATA_HEAD)[0]
        tail = struct.unpack_from("<Q", self.map, _DATA_TAIL)[0]
        size, base = self.size, PAGE_SIZE
        while tail < head:
            start = tail % size
            if start + _HEADER.size <= size:
                record_type, _, record_size = _HEADER.unpack_from(self.map, base + start)
            else:
                record_type, _, record_size = _HEADER.unpack(self._copy(start, _HEADER.size))
            if record_size == 0:
                break
            if start + record_size <= size:
                body = bytes(self.view[base + start + _HEADER.size:base + start + record_size])
            else:
                body = self._copy(start, record_size)[_HEADER.size:]
            tail += record_size
            if record_type == PERF_RECORD_SAMPLE:   # (losses are counted from hit counts)
                pid, tid, when, raw_size = _SAMPLE_HEAD.unpack_from(body)
                yield Sample(pid, tid, when, body[_SAMPLE_HEAD.size:_SAMPLE_HEAD.size + raw_size])
        struct.pack_into("<Q", self.map, _DATA_TAIL, tail)

    def _copy(self, start: int, length: int) -> bytes:
        """``length`` bytes from ``start``, across the end of the buffer."""
        first = min(length, self.size - start)
        base = PAGE_SIZE
        return bytes(self.view[base + start:base + start + first]) + \
            bytes(self.view[base:base + length - first])

    def close(self) -> None:
        self.view.release()
        self.map.close()

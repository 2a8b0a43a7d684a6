"""The few pieces of BPF the tracer needs to aggregate in the kernel: an instruction
assembler, the bpf() system call (maps, program loading) and attaching a program to a uprobe's
perf event.

Programs are of type KPROBE (the kind uprobe trace events run): their context is the traced
thread's registers (struct pt_regs), so arguments are read where the USDT note says they are.
"""
from __future__ import annotations

import ctypes
import fcntl
import itertools
import mmap
import os
import struct

from usdtgen.errors import TraceError

_libc = ctypes.CDLL(None, use_errno=True)
_SYSCALL_BPF = {"x86_64": 321, "aarch64": 280}

MAP_CREATE, MAP_LOOKUP_ELEM, MAP_UPDATE_ELEM, MAP_DELETE_ELEM, MAP_GET_NEXT_KEY, PROG_LOAD = \
    0, 1, 2, 3, 4, 5
MAP_TYPE_HASH, MAP_TYPE_PERCPU_HASH, MAP_TYPE_PERCPU_ARRAY, MAP_TYPE_RINGBUF = 1, 5, 6, 27
PROG_TYPE_KPROBE, PROG_TYPE_TRACEPOINT = 2, 5
PERF_EVENT_IOC_SET_BPF = 0x40042408

# helpers
MAP_LOOKUP, MAP_UPDATE, GET_CURRENT_PID_TGID, PROBE_READ_USER, PROBE_READ_USER_STR = \
    1, 2, 14, 112, 114
MAP_DELETE, KTIME_GET_NS, GET_SMP_PROCESSOR_ID, GET_CURRENT_COMM = 3, 5, 8, 16
RINGBUF_OUTPUT, RINGBUF_RESERVE, RINGBUF_SUBMIT, COPY_FROM_USER = 130, 131, 132, 148
GET_STACK, F_USER_STACK = 67, 1 << 8       # bpf_get_stack(ctx, buf, size, flags)
F_USER_BUILD_ID = 1 << 11      # ... each frame as a file's build ID and offset in it
MAP_TYPE_ARRAY = 2
NOEXIST = 1
F_SLEEPABLE = 1 << 4           # prog_flags: may sleep (fault user pages in); uprobes only

# pt_regs offsets of the registers USDT notes name, by the kernel's short names
PT_REGS = {
    "x86_64": {name: 8 * i for i, name in enumerate(
        ("r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx", "dx",
         "si", "di", "orig_ax", "ip", "cs", "flags", "sp", "ss"))},
    "aarch64": {**{f"x{i}": 8 * i for i in range(31)}, "sp": 248, "pc": 256},
}


def machine() -> str:
    return os.uname().machine


# -- instructions ----------------------------------------------------------------------------

def insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def ld_imm64(dst: int, value: int, src: int = 0) -> bytes:
    value &= (1 << 64) - 1
    low, high = value & 0xFFFFFFFF, value >> 32
    return insn(0x18, dst, src, 0, struct.unpack("<i", struct.pack("<I", low))[0]) + \
        insn(0, 0, 0, 0, struct.unpack("<i", struct.pack("<I", high))[0])


def ld_map(dst: int, map_fd: int) -> bytes:
    return ld_imm64(dst, map_fd, src=1)              # BPF_PSEUDO_MAP_FD


def ldx64(dst: int, src: int, off: int) -> bytes:
    return insn(0x79, dst, src, off)


def stx64(dst: int, off: int, src: int) -> bytes:
    return insn(0x7B, dst, src, off)


def ldx8(dst: int, src: int, off: int) -> bytes:
    return insn(0x71, dst, src, off)


def ldx32(dst: int, src: int, off: int) -> bytes:
    return insn(0x61, dst, src, off)


def stx32(dst: int, off: int, src: int) -> bytes:
    return insn(0x63, dst, src, off)


def st32(dst: int, off: int, imm: int) -> bytes:
    return insn(0x62, dst, 0, off, imm)


def st64(dst: int, off: int, imm: int) -> bytes:
    return insn(0x7A, dst, 0, off, imm)


def mov_reg(dst: int, src: int) -> bytes:
    return insn(0xBF, dst, src)


def mov_imm(dst: int, imm: int) -> bytes:
    return insn(0xB7, dst, 0, 0, imm)


def alu_imm(op: str, dst: int, imm: int) -> bytes:
    code = {"add": 0x07, "sub": 0x17, "mul": 0x27, "div": 0x37, "and": 0x57, "lsh": 0x67,
            "rsh": 0x77, "arsh": 0xC7}[op]
    return insn(code, dst, 0, 0, imm)


def alu_reg(op: str, dst: int, src: int) -> bytes:
    code = {"add": 0x0F, "sub": 0x1F, "mul": 0x2F, "div": 0x3F, "or": 0x4F, "and": 0x5F,
            "lsh": 0x6F, "rsh": 0x7F, "xor": 0xAF, "arsh": 0xCF}[op]
    return insn(code, dst, src)


def atomic_add64(dst: int, off: int, src: int) -> bytes:
    """*(u64 *)(dst + off) += src, atomically (a counter other runs may bump meanwhile)."""
    return insn(0xDB, dst, src, off, 0)


def divide_reg(dst: int, src: int, signed: bool, remainder: bool = False) -> bytes:
    """dst = dst / src (or dst % src), 64-bit; signed: truncated toward zero as in C (the
    kernel's cpu v4 instructions, 6.6 on)."""
    return insn(0x9F if remainder else 0x3F, dst, src, 1 if signed else 0)


def atomic_fetch_add64(dst: int, off: int, src: int) -> bytes:
    """src = *(u64 *)(dst + off), which then gains src's value, atomically."""
    return insn(0xDB, dst, src, off, 0x01)


def atomic_xchg32(dst: int, off: int, src: int) -> bytes:
    """src = xchg(*(u32 *)(dst + off), src)."""
    return insn(0xC3, dst, src, off, 0xE1)


def and_imm(dst: int, imm: int) -> bytes:
    return insn(0x57, dst, 0, 0, imm)


def or_imm(dst: int, imm: int) -> bytes:
    return insn(0x47, dst, 0, 0, imm)


def neg(dst: int) -> bytes:
    return insn(0x87, dst)


JUMPS = {  # (signed, op) -> opcode with an immediate; +8 compares with a register
    (True, "=="): 0x15, (False, "=="): 0x15, (True, "!="): 0x55, (False, "!="): 0x55,
    (True, ">"): 0x65, (True, ">="): 0x75, (True, "<"): 0xC5, (True, "<="): 0xD5,
    (False, ">"): 0x25, (False, ">="): 0x35, (False, "<"): 0xA5, (False, "<="): 0xB5,
}


def jump_imm(op: str, signed: bool, dst: int, imm: int, off: int) -> bytes:
    return insn(JUMPS[signed, op], dst, 0, off, imm)


def jump_reg(op: str, signed: bool, dst: int, src: int, off: int) -> bytes:
    return insn(JUMPS[signed, op] + 8, dst, src, off)


def ja(off: int) -> bytes:
    return insn(0x05, 0, 0, off)


def call(helper: int) -> bytes:
    return insn(0x85, 0, 0, 0, helper)


def exit_() -> bytes:
    return insn(0x95)


# -- the system call -------------------------------------------------------------------------

def _bpf(command: int, attr: bytes) -> int:
    number = _SYSCALL_BPF.get(machine())
    if number is None:
        raise OSError(0, f"BPF is not supported on {machine()}")
    buffer = ctypes.create_string_buffer(attr, max(len(attr), 128))
    result = _libc.syscall(number, command, buffer, max(len(attr), 128))
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def possible_cpus() -> int:
    try:
        text = open("/sys/devices/system/cpu/possible").read().strip()
    except OSError:
        return os.cpu_count() or 1
    total = 0
    for part in text.split(","):
        low, _, high = part.partition("-")
        total += int(high or low) - int(low) + 1
    return total


def map_keys(fd: int, key_size: int) -> list[bytes]:
    """Every key of map ``fd`` now (keys deleted meanwhile may be missed, as the kernel
    walks the map)."""
    keys = []
    key = ctypes.create_string_buffer(key_size)
    next_key = ctypes.create_string_buffer(key_size)
    first = True
    while True:
        attr = struct.pack("<IIQQ", fd, 0, 0 if first else ctypes.addressof(key),
                           ctypes.addressof(next_key))
        try:
            _bpf(MAP_GET_NEXT_KEY, attr)
        except OSError:
            return keys                                   # ENOENT: the end
        first = False
        ctypes.memmove(key, next_key, key_size)
        keys.append(key.raw)


class PerCpuHash:
    """A BPF_MAP_TYPE_PERCPU_HASH of u64 key words → ``value_words`` u64s, summed over CPUs
    when read (one int, or a tuple of them)."""

    def __init__(self, key_words: int, max_entries: int, value_words: int = 1):
        self.key_size = 8 * max(1, key_words)
        self.value_words = value_words
        self.cpus = possible_cpus()
        self.fd = _bpf(MAP_CREATE, struct.pack("<IIIII", MAP_TYPE_PERCPU_HASH, self.key_size,
                                               8 * value_words, max_entries, 0))

    def items(self, per_cpu: bool = False) -> dict:
        """key bytes → the value summed over CPUs (a tuple with several words); the caller
        wraps sums as its arithmetic wants. ``per_cpu``: each CPU's value instead (a list
        of word tuples)."""
        out = {}
        words = self.value_words
        value = ctypes.create_string_buffer(8 * self.cpus * words)
        for raw_key in map_keys(self.fd, self.key_size):
            key = ctypes.create_string_buffer(raw_key, self.key_size)
            try:
                _bpf(MAP_LOOKUP_ELEM, struct.pack("<IIQQQ", self.fd, 0, ctypes.addressof(key),
                                                  ctypes.addressof(value), 0))
            except OSError:
                continue                                  # deleted meanwhile
            numbers = struct.unpack(f"<{self.cpus * words}q", value.raw)
            if per_cpu:
                out[raw_key] = [numbers[c * words:(c + 1) * words] for c in range(self.cpus)]
                continue
            totals = tuple(sum(numbers[w::words]) for w in range(words))
            out[raw_key] = totals[0] if words == 1 else totals
        return out

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class PerCpuCounter(PerCpuHash):
    """A BPF_MAP_TYPE_PERCPU_ARRAY of ``slots`` counters a program bumps (u32 keys)."""

    def __init__(self, slots: int = 1):
        self.key_size = 4
        self.cpus = possible_cpus()
        self.fd = _bpf(MAP_CREATE, struct.pack("<IIIII", MAP_TYPE_PERCPU_ARRAY, 4, 8, slots, 0))

    def value(self, slot: int = 0) -> int:
        key = ctypes.create_string_buffer(struct.pack("<I", slot), 4)
        value = ctypes.create_string_buffer(8 * self.cpus)
        _bpf(MAP_LOOKUP_ELEM, struct.pack("<IIQQQ", self.fd, 0, ctypes.addressof(key),
                                          ctypes.addressof(value), 0))
        return sum(struct.unpack(f"<{self.cpus}q", value.raw))


SITES_PER_COUNTER_ARRAY = 256


class SiteCounters:
    """Each recorded site's pair of counters (hits, then hits lost to a full ring buffer), in
    per-CPU arrays made ``sites_per_array`` sites at a time as sites come: a trace of a few
    sites allocates one small array, not one sized for the most sites a trace may have
    (the kernel's per-CPU allocator takes about 10 ms for 32,768 counters)."""

    def __init__(self, sites_per_array: int | None = None):
        self.sites_per_array = sites_per_array or SITES_PER_COUNTER_ARRAY
        self.arrays: list[PerCpuCounter] = []

    def slots(self, site: int) -> tuple[int, int]:
        """(map fd, slot of the hits counter; the lost one follows) of site ``site``."""
        array, offset = divmod(site, self.sites_per_array)
        while len(self.arrays) <= array:
            self.arrays.append(PerCpuCounter(2 * self.sites_per_array))
        return self.arrays[array].fd, 2 * offset

    def hits_lost(self, site: int) -> tuple[int, int]:
        array, offset = divmod(site, self.sites_per_array)
        if array >= len(self.arrays):
            return 0, 0
        counter = self.arrays[array]
        return counter.value(2 * offset), counter.value(2 * offset + 1)

    def close(self) -> None:
        for array in self.arrays:
            array.close()
        self.arrays.clear()


MAP_TYPE_STACK_TRACE = 7
GET_STACKID = 27               # bpf_get_stackid(ctx, map, flags): the stack's id in the map
_stack_map_numbers = itertools.count(1)


class StackMap:
    """A BPF_MAP_TYPE_STACK_TRACE of user stacks (addresses, ``frames`` at most), and an
    array of one flag per stack id: programs store a hit's stack with bpf_get_stackid, key
    aggregations by the id, and announce each id once, the first time they set its flag,
    with a record of the same stack as build IDs and file offsets (usdtgen.trace.symbolize
    keeps what was announced). ``number`` tells this map's announcements from others'."""

    def __init__(self, frames: int, max_entries: int):
        self.frames = frames
        self.number = next(_stack_map_numbers)
        self.fd = _bpf(MAP_CREATE, struct.pack("<IIIII", MAP_TYPE_STACK_TRACE, 4, 8 * frames,
                                               max_entries, 0))
        try:
            # ids go up to the map's buckets: a power of two at least max_entries
            buckets = 1 << (max_entries - 1).bit_length()
            self.announced_fd = _bpf(MAP_CREATE, struct.pack("<IIIII", MAP_TYPE_ARRAY, 4, 4,
                                                             buckets, 0))
        except OSError:
            os.close(self.fd)
            raise

    def addresses(self, stack_id: int) -> tuple[int, ...]:
        """The stack stored under ``stack_id``, innermost frame first (empty: none)."""
        key = ctypes.create_string_buffer(struct.pack("<I", stack_id & 0xFFFFFFFF), 4)
        value = ctypes.create_string_buffer(8 * self.frames)
        try:
            _bpf(MAP_LOOKUP_ELEM, struct.pack("<IIQQQ", self.fd, 0, ctypes.addressof(key),
                                              ctypes.addressof(value), 0))
        except OSError:
            return ()
        words = struct.unpack(f"<{self.frames}Q", value.raw)
        return tuple(itertools.takewhile(bool, words))

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            os.close(self.announced_fd)
            self.fd = self.announced_fd = -1


class HashMap:
    """A BPF_MAP_TYPE_HASH that only programs read and write (thread-local variables)."""

    def __init__(self, key_size: int, value_size: int, max_entries: int):
        self.fd = _bpf(MAP_CREATE, struct.pack("<IIIII", MAP_TYPE_HASH, key_size, value_size,
                                               max_entries, 0))

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class U32Set:
    """A BPF_MAP_TYPE_HASH used as a set of u32 (process ids): programs test and add
    members, userspace adds, removes and lists them."""

    def __init__(self, max_entries: int):
        self.fd = _bpf(MAP_CREATE, struct.pack("<IIIII", MAP_TYPE_HASH, 4, 4, max_entries, 0))

    def _call(self, command: int, key: int, flags: int = 0) -> None:
        key_buffer = ctypes.create_string_buffer(struct.pack("<I", key), 4)
        value = ctypes.create_string_buffer(struct.pack("<I", 1), 4)
        _bpf(command, struct.pack("<IIQQQ", self.fd, 0, ctypes.addressof(key_buffer),
                                  ctypes.addressof(value), flags))

    def add(self, key: int) -> None:
        self._call(MAP_UPDATE_ELEM, key)

    def discard(self, key: int) -> None:
        try:
            self._call(MAP_DELETE_ELEM, key)
        except OSError:
            pass                                          # ENOENT: not a member

    def members(self) -> list[int]:
        return [struct.unpack("<I", key)[0] for key in map_keys(self.fd, 4)]

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


STACK_TGID = -4        # the stack slot member_guard() uses for its key


def member_guard(set_fd: int) -> bytes:
    """Code that ends the program with 0 (the hit is neither recorded nor counted) unless
    the current process's id is in the U32Set ``set_fd``. It clobbers r0-r5 and the 4 bytes
    at STACK_TGID; a program saves its context (r1) before it."""
    return b"".join((
        call(GET_CURRENT_PID_TGID), alu_imm("rsh", 0, 32), stx32(10, STACK_TGID, 0),
        ld_map(1, set_fd), mov_reg(2, 10), alu_imm("add", 2, STACK_TGID), call(MAP_LOOKUP),
        jump_imm("!=", False, 0, 0, 2), mov_imm(0, 0), exit_()))


def member_filter_program(set_fd: int) -> bytes:
    """A uprobe event's program: record the hit only when it is a member's (return 1)."""
    return member_guard(set_fd) + mov_imm(0, 1) + exit_()


def fork_follower_program(set_fd: int, child_pid_offset: int) -> bytes:
    """A program for the sched_process_fork tracepoint (it runs in the parent): when the
    parent is a member, its new child (process or thread) becomes one too, before it runs.
    ``child_pid_offset``: where the raw entry holds child_pid."""
    return b"".join((
        mov_reg(6, 1), member_guard(set_fd),
        ldx32(3, 6, child_pid_offset), stx32(10, -8, 3), st32(10, -12, 1),
        ld_map(1, set_fd), mov_reg(2, 10), alu_imm("add", 2, -8), mov_reg(3, 10),
        alu_imm("add", 3, -12), mov_imm(4, 0), call(MAP_UPDATE),
        mov_imm(0, 0), exit_()))


class PerCpuScratch:
    """A BPF_MAP_TYPE_ARRAY with one ``size``-byte value per possible CPU, indexed by the
    CPU a program runs on: room to build a record before copying it out at its length."""

    def __init__(self, size: int):
        self.size = size
        self.fd = _bpf(MAP_CREATE, struct.pack("<IIIII", MAP_TYPE_ARRAY, 4, size,
                                               possible_cpus(), 0))

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class RingBuffer:
    """A BPF_MAP_TYPE_RINGBUF: one buffer every CPU's programs reserve records in, read here
    in the order they were reserved. ``size``: bytes, a power of two pages."""

    PAGE = mmap.PAGESIZE

    def __init__(self, size: int):
        self.size = size
        self.fd = _bpf(MAP_CREATE, struct.pack("<IIIII", MAP_TYPE_RINGBUF, 0, 0, size, 0))
        try:
            self.consumer = mmap.mmap(self.fd, self.PAGE, mmap.MAP_SHARED,
                                      mmap.PROT_READ | mmap.PROT_WRITE, offset=0)
            # the data pages are mapped twice in a row, so a record that wraps reads whole
            self.producer = mmap.mmap(self.fd, self.PAGE + 2 * size, mmap.MAP_SHARED,
                                      mmap.PROT_READ, offset=self.PAGE)
        except OSError:
            os.close(self.fd)
            raise
        self.view = memoryview(self.producer)

    def read(self) -> tuple[bytes, list[int]]:
        """The records submitted since the last call, in order: one copy of the bytes they
        are in, and where each record's body starts in it (discarded ones left out). Stops at
        a record still being written; the next call goes on from there."""
        consumer_pos = struct.unpack_from("<Q", self.consumer, 0)[0]
        producer_pos = struct.unpack_from("<Q", self.producer, 0)[0]
        if producer_pos == consumer_pos:
            return b"", []
        mask, view = self.size - 1, self.view
        first = self.PAGE + (consumer_pos & mask)
        # the data pages are mapped twice in a row: the region is contiguous from ``first``
        data = bytes(view[first:first + (producer_pos - consumer_pos)])
        header = struct.Struct("<I").unpack_from
        position, end, starts = 0, producer_pos - consumer_pos, []
        while position < end:
            word = header(data, position)[0]
            if word & 0x80000000:                       # busy: not submitted yet
                break
            length = word & 0x3FFFFFFF
            if not word & 0x40000000:                   # not discarded
                starts.append(position + 8)
            position += (length + 8 + 7) & ~7
        if position:
            struct.pack_into("<Q", self.consumer, 0, consumer_pos + position)
        return data, starts

    def close(self) -> None:
        if self.fd < 0:
            return
        self.view.release()
        self.producer.close()
        self.consumer.close()
        os.close(self.fd)
        self.fd = -1


def ring_size(pages_per_cpu: int) -> int:
    """Bytes of the BPF ring buffer: as much as per-CPU perf buffers of ``pages_per_cpu``
    pages together, a power of two from 1 MiB to 1 GiB."""
    from usdtgen.trace.perf import online_cpus

    size = 1 << max(20, (pages_per_cpu * mmap.PAGESIZE * len(online_cpus()) - 1).bit_length())
    return min(size, 1 << 30)


class InBackground:
    """``make()`` run in a thread from now on, for kernel work during which the thread holds
    no GIL; result() waits for it and returns its value or raises its exception."""

    def __init__(self, make):
        import threading

        self._value = self._error = None
        self._thread = threading.Thread(target=self._run, args=(make,), daemon=True,
                                        name="usdtgen-ahead")
        self._thread.start()

    def _run(self, make) -> None:
        try:
            self._value = make()
        except BaseException as e:          # handed to result()'s caller
            self._error = e

    def result(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


# The kernel takes 15-40 ms to allocate a 64 MiB ring buffer. A trace asks for it ahead
# (usdtgen's entry point before it loads the rest of usdtgen; run_trace before it reads the
# target) and takes it when its programs need it.
_ring_ahead: tuple[int, InBackground] | None = None


def make_ring_ahead(size: int) -> None:
    """Start making a RingBuffer of ``size`` bytes in a thread, unless one is on its way."""
    global _ring_ahead
    if _ring_ahead is None and not os.environ.get("USDTGEN_NO_BPF"):
        _ring_ahead = (size, InBackground(lambda: RingBuffer(size)))


def take_ring(size: int) -> RingBuffer:
    """The RingBuffer made ahead when it has ``size`` bytes (its error raised here), else a
    new one."""
    global _ring_ahead
    ahead, _ring_ahead = _ring_ahead, None
    if ahead is not None:
        ahead_size, making = ahead
        if ahead_size == size:
            return making.result()
        _close_quietly(making)
    return RingBuffer(size)


def discard_ring_ahead() -> None:
    """Close the RingBuffer made ahead and never taken."""
    global _ring_ahead
    ahead, _ring_ahead = _ring_ahead, None
    if ahead is not None:
        _close_quietly(ahead[1])


def _close_quietly(making: InBackground) -> None:
    try:
        making.result().close()
    except (OSError, TraceError):
        pass


def load_program(code: bytes, name: str = "usdtgen", program_type: int = PROG_TYPE_KPROBE,
                 sleepable: bool = False) -> int:
    """Load a program (KPROBE unless told); raises TraceError with the verifier's last lines,
    or when USDTGEN_NO_BPF is set (to use, or test, the paths that do without BPF)."""
    if os.environ.get("USDTGEN_NO_BPF"):
        raise TraceError("BPF is turned off by USDTGEN_NO_BPF")
    log = ctypes.create_string_buffer(1 << 16)
    license_text = ctypes.create_string_buffer(b"GPL")
    program = ctypes.create_string_buffer(code, len(code))
    attr = struct.pack("<IIQQIIQII16s", program_type, len(code) // 8,
                       ctypes.addressof(program), ctypes.addressof(license_text), 1, len(log),
                       ctypes.addressof(log), 0, F_SLEEPABLE if sleepable else 0,
                       name.encode()[:15])
    try:
        return _bpf(PROG_LOAD, attr)
    except OSError as e:
        lines = [line for line in log.value.decode(errors="replace").strip().splitlines()
                 if not line.startswith(("processed ", "verification time"))]
        raise TraceError(f"the kernel refused a BPF program: {e.strerror}"
                         + (f" ({lines[-1]})" if lines else "")) from None


def attach(perf_fd: int, program_fd: int) -> None:
    fcntl.ioctl(perf_fd, PERF_EVENT_IOC_SET_BPF, program_fd)

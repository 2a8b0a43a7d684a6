"""The one code generator for what runs in the kernel: BPF programs built from USDT argument
specs. It loads any argument a note describes (registers, byte registers, memory with base,
displacement, index and scale, pc- and symbol-relative addresses, constants), copies the
strings they point to, and writes each hit as one record into a BPF ring buffer.

D scripts' in-kernel aggregation (usdtgen.trace.script.kernel) builds on the same pieces:
``Code`` for labels and jumps, ``load_argument`` for values. Programs keep the context (the
traced thread's registers) in R_CTX.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from usdtgen.elf.argspec import ArgSpec, Immediate, Memory, Register
from usdtgen.trace import bpf

R_CTX = 6                 # the program's context (struct pt_regs *), saved on entry
SCRATCH = -8              # stack slot memory reads go through
PAGE = 4096


class NotKernel(Exception):
    """This argument, clause or site cannot be handled in the kernel; the text says why."""


class Code:
    """Instructions with labels: ``jump(maker, label)`` takes a function of the offset."""

    def __init__(self):
        self.parts: list = []
        self.fixups: list[tuple[int, str]] = []           # (part index, label)
        self.labels: dict[str, int] = {}
        self._unique = 0

    def emit(self, *chunks: bytes) -> None:
        self.parts.extend(chunks)

    def jump(self, chunk_maker, label: str) -> None:
        self.fixups.append((len(self.parts), label))
        self.parts.append(chunk_maker)

    def label(self, name: str) -> None:
        self.labels[name] = self.here()

    def refers_to(self, label: str) -> bool:
        """Whether a jump to ``label`` was emitted."""
        return any(target == label for _, target in self.fixups)

    def fresh(self, stem: str) -> str:
        """A label name not used before."""
        self._unique += 1
        return f"{stem}.{self._unique}"

    def here(self) -> int:
        """The index of the next instruction (a pending jump counts as one)."""
        return sum(1 if callable(p) else len(p) // 8 for p in self.parts)

    def assemble(self) -> bytes:
        out, positions, position = [], [], 0
        for part in self.parts:
            positions.append(position)
            position += 1 if callable(part) else len(part) // 8
        targets = dict(self.fixups)
        for i, part in enumerate(self.parts):
            out.append(part(self.labels[targets[i]] - positions[i] - 1) if callable(part)
                       else part)
        return b"".join(out)


def _imm(dst: int, value: int) -> bytes:
    return bpf.mov_imm(dst, value) if -(1 << 31) <= value < (1 << 31) else bpf.ld_imm64(dst, value)


def _register(regs: dict, register: Register) -> int:
    offset = regs.get(register.family)
    if offset is None or register.kind == "vector":
        raise NotKernel(f"register %{register.name} is not in the saved registers")
    return offset


def _symbol_address(code: Code, regs: dict, dst: int, symbol: str, site_relative) -> None:
    """dst = the run-time address of ``symbol``: the site's own address (the pc at the hit)
    plus the symbol's distance from it in the file."""
    distance = site_relative(symbol) if site_relative else None
    if distance is None:
        raise NotKernel(f"symbol {symbol} is not in the object's symbol tables")
    code.emit(bpf.ldx64(dst, R_CTX, regs["pc" if "pc" in regs else "ip"]), _imm(0, distance),
              bpf.alu_reg("add", dst, 0))


def load_argument(code: Code, spec: ArgSpec, arch: str, dst: int, fail: str,
                  site_relative=None) -> None:
    """Put the argument's value in register ``dst``, sign- or zero-extended from its size.

    ``fail``: the label to jump to when memory cannot be read. ``site_relative(symbol)``: the
    symbol's address minus the site's, for pc- and symbol-relative forms. Clobbers r0-r5.
    Raises NotKernel for what the saved registers cannot give (vector registers)."""
    regs = bpf.PT_REGS.get(arch)
    if regs is None:
        raise NotKernel(f"no BPF argument reading on {arch}")
    location = spec.location
    if isinstance(location, Immediate):
        if location.symbol:
            _symbol_address(code, regs, dst, location.symbol, site_relative)
            if location.value:
                code.emit(_imm(0, location.value), bpf.alu_reg("add", dst, 0))
        else:
            code.emit(_imm(dst, location.value))
    elif isinstance(location, Register):
        code.emit(bpf.ldx64(dst, R_CTX, _register(regs, location)))
        if location.bit_offset:
            code.emit(bpf.alu_imm("rsh", dst, location.bit_offset))
    elif isinstance(location, Memory):
        address = 3
        if location.page_offset or (location.base is not None and location.base.kind == "ip"):
            if location.symbol is None:
                raise NotKernel("a pc-relative address without a symbol")
            _symbol_address(code, regs, address, location.symbol, site_relative)
            if not location.page_offset and location.displacement:
                code.emit(_imm(0, location.displacement), bpf.alu_reg("add", address, 0))
        else:
            if location.base is not None:
                code.emit(bpf.ldx64(address, R_CTX, _register(regs, location.base)))
            else:
                code.emit(bpf.mov_imm(address, 0))
            if location.symbol:
                _symbol_address(code, regs, 4, location.symbol, site_relative)
                code.emit(bpf.alu_reg("add", address, 4))
            if location.displacement:
                code.emit(_imm(0, location.displacement), bpf.alu_reg("add", address, 0))
            if location.index is not None:
                code.emit(bpf.ldx64(4, R_CTX, _register(regs, location.index)))
                if location.scale != 1:
                    code.emit(bpf.alu_imm("mul", 4, location.scale))
                code.emit(bpf.alu_reg("add", address, 4))
        size = min(spec.size, 8)
        code.emit(bpf.st64(10, SCRATCH, 0), bpf.mov_reg(1, 10), bpf.alu_imm("add", 1, SCRATCH),
                  bpf.mov_imm(2, size), bpf.call(bpf.PROBE_READ_USER))
        code.jump(lambda off: bpf.jump_imm("!=", True, 0, 0, off), fail)
        code.emit(bpf.ldx64(dst, 10, SCRATCH))
    else:
        raise NotKernel("an argument's location is not supported")
    if spec.size < 8:
        shift = 64 - 8 * spec.size
        code.emit(bpf.alu_imm("lsh", dst, shift),
                  bpf.alu_imm("arsh" if spec.signed and not spec.is_float else "rsh", dst, shift))


# -- records -------------------------------------------------------------------------------------

HEADER = struct.Struct("<IIQIII4x16s")     # site, unread-argument bits, time, pid, tid, cpu, comm
VALUES_AT = HEADER.size                     # then one u64 per argument, then the strings


@dataclass(frozen=True)
class RecordLayout:
    """Where a site's record holds what: ``values`` u64s from VALUES_AT, then for each
    string argument (in ``strings`` order) an s32 length (bytes copied with the NUL, 0 for
    NULL, negative: the read failed), padding, and up to ``strsize`` + 1 bytes, padded to 8:
    a string is whole when its length is at most ``strsize`` (its NUL included), cut when
    the copy filled the one byte more. Before the strings, for each of ``copies`` (a D
    script's copyin(argN, size)): an s32 (0: copied, negative: the read failed), padding,
    and the ``size`` bytes the argument points to, padded to 8."""

    site_index: int
    nargs: int
    strings: tuple[int, ...]               # argument indexes read as strings
    strsize: int
    copies: tuple[tuple[int, int], ...] = ()    # (argument index, bytes) copied from memory
    # strings with a length argument: (string index, length index); such a string is read
    # as that many bytes (at most strsize, else cut), its s32 then the bytes plus one
    lengths: tuple[tuple[int, int], ...] = ()

    @property
    def slot(self) -> int:
        return 8 + (self.strsize + 1 + 7) // 8 * 8

    def copy_at(self, position: int) -> int:
        return VALUES_AT + 8 * self.nargs + sum(8 + (size + 7) // 8 * 8
                                                for _, size in self.copies[:position])

    @property
    def strings_at(self) -> int:
        return self.copy_at(len(self.copies))

    def string_at(self, position: int) -> int:
        return self.strings_at + position * self.slot

    @property
    def size(self) -> int:
        return self.strings_at + len(self.strings) * self.slot


def count(code: Code, counters_fd: int, slot: int) -> None:
    """Atomically add 1 to ``slot`` of the per-CPU counter array. Clobbers r0-r2."""
    skip = code.fresh("count")
    code.emit(bpf.st32(10, -4, slot), bpf.ld_map(1, counters_fd), bpf.mov_reg(2, 10),
              bpf.alu_imm("add", 2, -4), bpf.call(bpf.MAP_LOOKUP))
    code.jump(lambda off: bpf.jump_imm("==", False, 0, 0, off), skip)
    code.emit(bpf.mov_imm(1, 1), bpf.atomic_add64(0, 0, 1))
    code.label(skip)


def record_program(layout: RecordLayout, specs, arch: str, ringbuf_fd: int,
                   counters: tuple[int, int], member_set_fd: int | None = None,
                   site_relative=None, fault_in: bool = True, scratch_fd: int | None = None
                   ) -> tuple[bytes, tuple[str | None, ...]]:
    """The program of one site: ``emit_record`` for every hit (of a member of the set
    ``member_set_fd``, when given: other processes' hits are dropped first, uncounted).
    Returns (code, per argument None or why it cannot be read in the kernel)."""
    code = Code()
    code.emit(bpf.mov_reg(R_CTX, 1))
    if member_set_fd is not None:
        code.emit(bpf.member_guard(member_set_fd))
    problems = emit_record(code, layout, specs, arch, ringbuf_fd, counters, site_relative,
                           fault_in, scratch_fd)
    return code.assemble(), problems


COMPACT = 0x80000000         # in a record's site word: strings packed at their length
MAX_RECORD = 32760           # bytes of a record at most: BPF offsets are 16-bit
MAX_ARGS = 12                # arguments a USDT probe has at most


def largest_record(strsize: int) -> int:
    """The size of the largest record any site can have with strings of ``strsize``."""
    return RecordLayout(0, MAX_ARGS, tuple(range(MAX_ARGS)), strsize).size


def emit_record(code: Code, layout: RecordLayout, specs, arch: str, ringbuf_fd: int,
                counters: tuple[int, int], site_relative=None, fault_in: bool = True,
                scratch_fd: int | None = None):
    """Code that counts the hit, writes a record of it to the ring buffer (time, ids, thread
    name, every argument, the strings) and ends the program with 0 (the uprobe event itself
    records nothing). A full ring buffer is counted as a loss. ``counters``: (per-CPU
    counter array fd, slot of the site's hits); its losses are counted in the next slot.
    ``fault_in``: strings in pages the process never touched are faulted in (the program
    must be loaded sleepable). Needs the context in R_CTX;
    clobbers r0-r9. Returns, per argument, None or why it cannot be read.

    With ``scratch_fd`` (a PerCpuScratch) and strings, the record is built in this CPU's
    scratch value and copied out at its length, its strings packed (COMPACT); when another
    run of a program holds the scratch (it was preempted while faulting a page in), the
    record is reserved at its largest size in the ring buffer instead."""
    if layout.size > MAX_RECORD:
        raise NotKernel(f"its strings and copies need {layout.size} bytes in a record, more "
                        f"than {MAX_RECORD}: lower --strsize (or the strsize option)")
    counters_fd, hits_slot = counters
    count(code, counters_fd, hits_slot)
    if scratch_fd is not None and layout.strings:
        fixed = code.fresh("fixed")
        scratch = 9
        code.emit(bpf.call(bpf.GET_SMP_PROCESSOR_ID), bpf.stx32(10, -4, 0),
                  bpf.ld_map(1, scratch_fd), bpf.mov_reg(2, 10), bpf.alu_imm("add", 2, -4),
                  bpf.call(bpf.MAP_LOOKUP))
        code.jump(lambda off: bpf.jump_imm("==", False, 0, 0, off), fixed)
        code.emit(bpf.mov_reg(scratch, 0), bpf.mov_imm(1, 1), bpf.atomic_xchg32(scratch, 0, 1))
        code.jump(lambda off: bpf.jump_imm("!=", False, 1, 0, off), fixed)
        record = 7
        code.emit(bpf.mov_reg(record, scratch), bpf.alu_imm("add", record, 8))
        problems = _fill(code, record, layout, specs, arch, site_relative,
                         layout.site_index | COMPACT)
        _copy_memory(code, record, layout, fault_in)
        end = 8
        code.emit(bpf.mov_imm(end, layout.strings_at))
        for index in layout.strings:
            _pack_string(code, record, end, layout, index, fault_in)
        sent = code.fresh("sent")
        code.emit(bpf.ld_map(1, ringbuf_fd), bpf.mov_reg(2, record), bpf.mov_reg(3, end),
                  bpf.mov_imm(4, 0), bpf.call(bpf.RINGBUF_OUTPUT))
        code.jump(lambda off: bpf.jump_imm("==", False, 0, 0, off), sent)
        count(code, counters_fd, hits_slot + 1)
        code.label(sent)
        code.emit(bpf.st32(scratch, 0, 0), bpf.mov_imm(0, 0), bpf.exit_())
        code.label(fixed)
    code.emit(bpf.ld_map(1, ringbuf_fd), _imm(2, layout.size), bpf.mov_imm(3, 0),
              bpf.call(bpf.RINGBUF_RESERVE))
    reserved = code.fresh("reserved")
    code.jump(lambda off: bpf.jump_imm("!=", False, 0, 0, off), reserved)
    count(code, counters_fd, hits_slot + 1)
    code.emit(bpf.mov_imm(0, 0), bpf.exit_())
    code.label(reserved)
    record = 7
    code.emit(bpf.mov_reg(record, 0))
    problems = _fill(code, record, layout, specs, arch, site_relative, layout.site_index)
    _copy_memory(code, record, layout, fault_in)
    for position, index in enumerate(layout.strings):
        _copy_string(code, record, layout, position, index, fault_in)
    code.emit(bpf.mov_reg(1, record), bpf.mov_imm(2, 0), bpf.call(bpf.RINGBUF_SUBMIT),
              bpf.mov_imm(0, 0), bpf.exit_())
    return problems


def _fill(code: Code, record: int, layout: RecordLayout, specs, arch: str, site_relative,
          site_word: int) -> tuple[str | None, ...]:
    """The header and the argument values of a record at register ``record``."""
    code.emit(bpf.st32(record, 0, site_word - (1 << 32) if site_word >= 1 << 31 else site_word),
              bpf.st32(record, 4, 0),
              bpf.call(bpf.KTIME_GET_NS), bpf.stx64(record, 8, 0),
              bpf.call(bpf.GET_CURRENT_PID_TGID), bpf.stx32(record, 20, 0),
              bpf.alu_imm("rsh", 0, 32), bpf.stx32(record, 16, 0),
              bpf.call(bpf.GET_SMP_PROCESSOR_ID), bpf.stx32(record, 24, 0),
              bpf.mov_reg(1, record), bpf.alu_imm("add", 1, 32), bpf.mov_imm(2, 16),
              bpf.call(bpf.GET_CURRENT_COMM))
    problems: list[str | None] = []
    for i in range(layout.nargs):
        spec = specs[i] if i < len(specs) else None
        failed, stored = code.fresh("unread"), code.fresh("stored")
        problem = None
        try:
            if spec is None:
                raise NotKernel("the note has no such argument")
            load_argument(Code(), spec, arch, 8, failed, site_relative)    # a dry run
        except NotKernel as e:
            problem = str(e)
        problems.append(problem)
        if problem is None:
            load_argument(code, spec, arch, 8, failed, site_relative)
            code.emit(bpf.stx64(record, VALUES_AT + 8 * i, 8))
            if not code.refers_to(failed):      # (the verifier refuses unreachable code)
                continue
            code.jump(lambda off: bpf.ja(off), stored)
        code.label(failed)
        code.emit(bpf.st64(record, VALUES_AT + 8 * i, 0), bpf.ldx32(1, record, 4),
                  bpf.or_imm(1, 1 << i), bpf.stx32(record, 4, 1))
        code.label(stored)
    return tuple(problems)


USER_STACK = -1             # a copy of this "argument" is the user stack: STACK_FRAME bytes
STACK_FRAME = 32            # a frame: s32 status, 20-byte build ID, u64 file offset (or pc)


# A record that is no hit: a stack map's stack, announced once per stack id. Its words:
# STACK_NOTICE, the bytes bpf_get_stack wrote (negative: its error), the StackMap's number,
# the stack id; then the frames as STACK_FRAME-byte build ID frames.
STACK_NOTICE = 0x7FFFFFFE
STACK_NOTICE_HEAD = 16


def store_stack(code: Code, stack_map, ringbuf_fd: int, id_slot: int, fail: str) -> None:
    """Code that stores the hit's user stack in ``stack_map`` (a bpf.StackMap), its id in
    the 8 bytes at r10 + ``id_slot``, and, the first time the id is seen, announces the stack
    with a STACK_NOTICE record; jumps to ``fail`` when the map cannot take the stack (its
    bucket holds another). A notice that finds no room in the ring buffer is tried again
    by the next hit of that stack. Needs the context in R_CTX; clobbers r0-r5, r7, r8."""
    done = code.fresh("announced")
    code.emit(bpf.mov_reg(1, R_CTX), bpf.ld_map(2, stack_map.fd),
              bpf.mov_imm(3, bpf.F_USER_STACK), bpf.call(bpf.GET_STACKID))
    code.jump(lambda off: bpf.jump_imm("<", True, 0, 0, off), fail)
    code.emit(bpf.stx64(10, id_slot, 0),
              bpf.ld_map(1, stack_map.announced_fd), bpf.mov_reg(2, 10),
              bpf.alu_imm("add", 2, id_slot), bpf.call(bpf.MAP_LOOKUP))
    code.jump(lambda off: bpf.jump_imm("==", False, 0, 0, off), done)
    flag = 7
    code.emit(bpf.mov_reg(flag, 0), bpf.mov_imm(1, 1), bpf.atomic_xchg32(flag, 0, 1))
    code.jump(lambda off: bpf.jump_imm("!=", False, 1, 0, off), done)   # announced before
    size = STACK_NOTICE_HEAD + STACK_FRAME * stack_map.frames
    code.emit(bpf.ld_map(1, ringbuf_fd), _imm(2, size), bpf.mov_imm(3, 0),
              bpf.call(bpf.RINGBUF_RESERVE))
    reserved = code.fresh("notice")
    code.jump(lambda off: bpf.jump_imm("!=", False, 0, 0, off), reserved)
    code.emit(bpf.st32(flag, 0, 0))                   # no room: the next hit announces it
    code.jump(lambda off: bpf.ja(off), done)
    code.label(reserved)
    notice = 8
    code.emit(bpf.mov_reg(notice, 0), _imm(1, STACK_NOTICE), bpf.stx32(notice, 0, 1),
              _imm(1, stack_map.number), bpf.stx32(notice, 8, 1),
              bpf.ldx64(1, 10, id_slot), bpf.stx32(notice, 12, 1),
              bpf.mov_reg(1, R_CTX), bpf.mov_reg(2, notice),
              bpf.alu_imm("add", 2, STACK_NOTICE_HEAD), _imm(3, size - STACK_NOTICE_HEAD),
              bpf.mov_imm(4, bpf.F_USER_STACK | bpf.F_USER_BUILD_ID), bpf.call(bpf.GET_STACK),
              bpf.stx32(notice, 4, 0),
              bpf.mov_reg(1, notice), bpf.mov_imm(2, 0), bpf.call(bpf.RINGBUF_SUBMIT))
    code.label(done)


def _copy_memory(code: Code, record: int, layout: RecordLayout, fault_in: bool) -> None:
    """Copy, for each of the layout's copies, the bytes its argument points to into the
    record after an s32 status (0, or the helper's negative error). ``fault_in``: the program
    is sleepable, and bpf_copy_from_user faults in pages the process never touched. The copy
    of USER_STACK is the thread's user stack, from the hit's pc outwards, each frame as the
    build ID of the file it is in and its offset there (so that it can be named after the
    process has gone), else its address (bpf_get_stack; the s32 is the bytes it wrote)."""
    helper = bpf.COPY_FROM_USER if fault_in else bpf.PROBE_READ_USER
    for position, (index, size) in enumerate(layout.copies):
        at = layout.copy_at(position)
        if index == USER_STACK:
            code.emit(bpf.mov_reg(1, R_CTX), bpf.mov_reg(2, record),
                      bpf.alu_imm("add", 2, at + 8), _imm(3, size),
                      bpf.mov_imm(4, bpf.F_USER_STACK | bpf.F_USER_BUILD_ID),
                      bpf.call(bpf.GET_STACK),
                      bpf.stx32(record, at, 0))
            continue
        code.emit(bpf.mov_reg(1, record), bpf.alu_imm("add", 1, at + 8), _imm(2, size),
                  bpf.ldx64(3, record, VALUES_AT + 8 * index), bpf.call(helper),
                  bpf.stx32(record, at, 0))


def _pack_string(code: Code, record: int, end: int, layout: RecordLayout, index: int,
                 fault_in: bool) -> None:
    """Append the string argument ``index`` points to at ``record + end``: s32 length (0 for
    NULL, negative: the read failed), padding, the bytes padded to 8; ``end`` moves past it.
    The context register is used for the pointer (the arguments are all read by now)."""
    limit = layout.strsize + 1
    null, stored = code.fresh("null"), code.fresh("stored")
    pointer = R_CTX
    code.emit(bpf.ldx64(pointer, record, VALUES_AT + 8 * index))
    code.jump(lambda off: bpf.jump_imm("==", False, pointer, 0, off), null)
    _read_any_string(code, lambda: code.emit(bpf.mov_reg(1, record), bpf.alu_reg("add", 1, end),
                                             bpf.alu_imm("add", 1, 8)),
                     pointer, record, layout, index, fault_in)
    code.emit(bpf.mov_reg(1, record), bpf.alu_reg("add", 1, end), bpf.stx32(1, 0, 0))
    positive, bounded = code.fresh("positive"), code.fresh("bounded")
    code.jump(lambda off: bpf.jump_imm(">", True, 0, 0, off), positive)
    code.emit(bpf.mov_imm(0, 0))
    code.label(positive)
    code.jump(lambda off: bpf.jump_imm("<=", False, 0, limit, off), bounded)
    code.emit(bpf.mov_imm(0, limit))
    code.label(bounded)
    code.emit(bpf.alu_imm("add", 0, 7), bpf.and_imm(0, -8), bpf.alu_imm("add", end, 8),
              bpf.alu_reg("add", end, 0))
    code.jump(lambda off: bpf.ja(off), stored)
    code.label(null)
    code.emit(bpf.mov_reg(1, record), bpf.alu_reg("add", 1, end), bpf.st32(1, 0, 0),
              bpf.alu_imm("add", end, 8))
    code.label(stored)


def _read_any_string(code: Code, destination, pointer: int, record: int, layout: RecordLayout,
                     index: int, fault_in: bool) -> None:
    """r0 = the s32 of string argument ``index``: read to its NUL, or, with a length
    argument, as that many bytes."""
    length = dict(layout.lengths).get(index)
    if length is None:
        _read_string(code, destination, pointer, layout.strsize + 1, fault_in)
    else:
        _read_counted(code, destination, pointer, record, length, layout.strsize, fault_in)


COUNTED_AT = -16             # stack slot: the s32 a counted string's read will have


def _read_counted(code: Code, destination, pointer: int, record: int, length_index: int,
                  strsize: int, fault_in: bool) -> None:
    """r0 = the s32 of a string of the length argument ``length_index`` holds: n + 1 for n
    bytes (none when negative), strsize + 1 (cut) when n is strsize or more, then strsize
    bytes are copied; negative when the read failed. No NUL is needed in memory."""
    whole, positive, read = code.fresh("whole"), code.fresh("positive"), code.fresh("read")
    code.emit(bpf.ldx64(2, record, VALUES_AT + 8 * length_index))
    code.jump(lambda off: bpf.jump_imm(">=", True, 2, 0, off), positive)
    code.emit(bpf.mov_imm(2, 0))
    code.label(positive)
    code.emit(bpf.mov_reg(3, 2), bpf.alu_imm("add", 3, 1))
    code.jump(lambda off: bpf.jump_imm("<", False, 2, strsize, off), whole)
    code.emit(_imm(2, strsize), _imm(3, strsize + 1))
    code.label(whole)
    code.emit(bpf.stx64(10, COUNTED_AT, 3))
    destination()                                 # r1 (r2 is kept: the bytes to copy)
    code.emit(bpf.mov_reg(3, pointer),
              bpf.call(bpf.COPY_FROM_USER if fault_in else bpf.PROBE_READ_USER))
    code.jump(lambda off: bpf.jump_imm("<", True, 0, 0, off), read)
    code.emit(bpf.ldx64(0, 10, COUNTED_AT))
    code.label(read)


def _read_string(code: Code, destination, pointer: int, limit: int, fault_in: bool) -> None:
    """r0 = bpf_probe_read_user_str(destination, limit, pointer): ``destination()`` emits r1;
    ``pointer`` is a register the calls keep (r6-r9). A read that faults (a page never
    touched) is retried once each page the string may span has been touched."""
    def read() -> None:
        destination()
        code.emit(_imm(2, limit), bpf.mov_reg(3, pointer), bpf.call(bpf.PROBE_READ_USER_STR))
    read()
    if fault_in:
        done = code.fresh("read")
        code.jump(lambda off: bpf.jump_imm(">=", True, 0, 0, off), done)
        _touch_pages(code, pointer, limit)
        read()
        code.label(done)


def _touch_pages(code: Code, pointer: int, limit: int) -> None:
    """Fault in, with bpf_copy_from_user of one byte each, the page ``pointer`` is in and
    each later page a string of ``limit`` bytes from it could reach (failures ignored)."""
    code.emit(bpf.mov_reg(1, 10), bpf.alu_imm("add", 1, SCRATCH), bpf.mov_imm(2, 1),
              bpf.mov_reg(3, pointer), bpf.call(bpf.COPY_FROM_USER))
    for page in range(1, (limit + PAGE - 1) // PAGE + 1):
        code.emit(bpf.mov_reg(3, pointer), bpf.or_imm(3, PAGE - 1),
                  bpf.alu_imm("add", 3, 1 + (page - 1) * PAGE),
                  bpf.mov_reg(1, 10), bpf.alu_imm("add", 1, SCRATCH), bpf.mov_imm(2, 1),
                  bpf.call(bpf.COPY_FROM_USER))


def _copy_string(code: Code, record: int, layout: RecordLayout, position: int, index: int,
                 fault_in: bool) -> None:
    """Copy the string argument ``index`` points to into its slot: s32 length, then text.
    A read that faults (a page never touched) is retried after touching, with
    bpf_copy_from_user, each page the string may span."""
    at = layout.string_at(position)
    null = code.fresh("null")
    code.emit(bpf.ldx64(8, record, VALUES_AT + 8 * index))
    code.jump(lambda off: bpf.jump_imm("==", False, 8, 0, off), null)
    _read_any_string(code, lambda: code.emit(bpf.mov_reg(1, record),
                                             bpf.alu_imm("add", 1, at + 8)),
                     8, record, layout, index, fault_in)
    code.emit(bpf.stx32(record, at, 0))
    after = code.fresh("after")
    code.jump(lambda off: bpf.ja(off), after)
    code.label(null)
    code.emit(bpf.st32(record, at, 0))
    code.label(after)

"""The BPF code generator's argument loads (usdtgen/trace/bpfgen.py), run by a small BPF
interpreter written here, for both grammars' forms: aarch64 notes cannot be traced on this
x86-64 machine, so this is where their programs run. Each case gives the saved registers and
the user memory at the hit, and the value the note's argument has there, worked out by hand
from the argument string; the generated code must load exactly that.

The x86-64 forms also run for real against the kernel in test_bpf_arguments.py.
"""
from __future__ import annotations

import struct

import pytest

from usdtgen.elf.argspec import parse_args
from usdtgen.trace import bpf, bpfgen

MASK = (1 << 64) - 1
# the kernel's register layouts, as its headers define them (written here by hand, apart
# from the table the generator uses): x86-64 struct pt_regs, arm64 struct user_pt_regs
KERNEL_PT_REGS = {
    "x86_64": dict(zip(("r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8",
                        "ax", "cx", "dx", "si", "di", "orig_ax", "ip", "cs", "flags", "sp",
                        "ss"), range(0, 168, 8))),
    "aarch64": {**{f"x{i}": 8 * i for i in range(31)}, "sp": 248, "pc": 256},
}


class Machine:
    """Enough of the BPF machine for argument loads: ALU64, loads and stores, jumps, calls
    of probe_read_user (from ``memory``), exit. The context is a pt_regs image."""

    def __init__(self, regs: dict[str, int], arch: str, memory: dict[int, bytes]):
        offsets = KERNEL_PT_REGS[arch]
        size = max(offsets.values()) + 8
        self.ctx = bytearray(size)
        for name, value in regs.items():
            struct.pack_into("<Q", self.ctx, offsets[name], value & MASK)
        self.memory = memory
        self.stack = bytearray(512)

    def read_user(self, address: int, size: int) -> bytes | None:
        for base, data in self.memory.items():
            if base <= address and address + size <= base + len(data):
                return data[address - base:address - base + size]
        return None

    def run(self, code: bytes) -> int:
        insns = [struct.unpack_from("<BBhi", code, i) for i in range(0, len(code), 8)]
        r = [0] * 11
        r[1], r[10] = ("ctx", 0), ("stack", 512)
        pc = 0
        while True:
            op, regs, off, imm = insns[pc]
            dst, src = regs & 0xF, regs >> 4
            pc += 1
            cls = op & 7
            if op == 0x18:                                  # ld_imm64
                r[dst] = (imm & 0xFFFFFFFF) | (insns[pc][3] & 0xFFFFFFFF) << 32
                pc += 1
            elif cls == 7:                                  # ALU64
                value = imm & MASK if not op & 8 else r[src]
                r[dst] = self.alu(op & 0xF0, r[dst], value)
            elif cls in (1, 3, 2):                          # ldx, stx, st
                size = {0x18: 8, 0x00: 4, 0x08: 2, 0x10: 1}[op & 0x18]
                if cls == 1:
                    r[dst] = int.from_bytes(self.area(r[src], off, size), "little")
                else:
                    value = (imm if cls == 2 else r[src]) & ((1 << (8 * size)) - 1)
                    self.store(r[dst], off, value.to_bytes(size, "little"))
            elif op == 0x85:                                # call
                assert imm == bpf.PROBE_READ_USER, f"helper {imm}"
                data = self.read_user(r[3], r[2])
                if data is None:
                    r[0] = MASK - 13                        # -EFAULT
                else:
                    self.store(r[1], 0, data)
                    r[0] = 0
            elif op == 0x95:
                return r[0]
            elif cls == 5:                                  # jumps
                right = r[src] if op & 8 else imm & MASK
                if op == 0x05 or self.jump(op & 0xF0, r[dst], right):
                    pc += off
            else:
                raise AssertionError(f"unexpected opcode {op:#x}")

    @staticmethod
    def alu(op: int, a, b):
        if op == 0xB0:                                  # mov (a pointer stays one)
            return b if isinstance(b, tuple) else b & MASK
        if isinstance(a, tuple):                        # pointer + offset
            assert op in (0x00, 0x10), "only + and - on a pointer"
            offset = b - (1 << 64) if b >> 63 else b
            return (a[0], a[1] + (offset if op == 0x00 else -offset))
        signed = a - (1 << 64) if a >> 63 else a
        results = {0x00: a + b, 0x10: a - b, 0x20: a * b, 0x40: a | b, 0x50: a & b,
                   0x60: a << (b & 63), 0x70: a >> (b & 63), 0xA0: a ^ b, 0xB0: b,
                   0xC0: signed >> (b & 63), 0x80: -a}
        return results[op] & MASK

    @staticmethod
    def jump(op: int, a: int, b: int) -> bool:
        sa, sb = (x - (1 << 64) if x >> 63 else x for x in (a, b))
        return {0x10: a == b, 0x50: a != b, 0x20: a > b, 0x30: a >= b, 0xA0: a < b,
                0xB0: a <= b, 0x60: sa > sb, 0x70: sa >= sb, 0xC0: sa < sb,
                0xD0: sa <= sb}[op]

    def area(self, pointer, off: int, size: int) -> bytes:
        kind, base = pointer
        buffer = self.ctx if kind == "ctx" else self.stack
        return bytes(buffer[base + off:base + off + size])

    def store(self, pointer, off: int, data: bytes) -> None:
        kind, base = pointer
        assert kind == "stack", "only the stack is written"
        self.stack[base + off:base + off + len(data)] = data


def load(arch: str, arg: str, regs: dict, memory=None, symbols=None, pc: int = 0x5000):
    """Generate the load of ``arg`` and run it: the value, or "unread" when it jumps to its
    failure label."""
    spec = parse_args(arg, {"aarch64": "aarch64", "x86_64": "x86_64"}[arch]).args[0]
    code = bpfgen.Code()
    code.emit(bpf.mov_reg(bpfgen.R_CTX, 1))
    site_relative = (lambda name: symbols[name] - 0x1000) if symbols else None
    bpfgen.load_argument(code, spec, arch, 8, "unread", site_relative)
    code.emit(bpf.mov_reg(0, 8), bpf.exit_())
    code.label("unread")
    code.emit(bpf.ld_imm64(0, 0xDEAD), bpf.exit_())
    result = Machine({**regs, "pc" if arch == "aarch64" else "ip": pc}, arch,
                     memory or {}).run(code.assemble())
    if result == 0xDEAD:
        return "unread"
    return result - (1 << 64) if spec.signed and result >> 63 else result


A64_CASES = [
    ("8@x0", {"x0": 0x1122334455667788}, None, None, 0x1122334455667788),
    ("-8@x30", {"x30": -5}, None, None, -5),
    ("-4@w1", {"x1": 0xABCD_0000_FFFF_FFFE}, None, None, -2),       # the low 32 bits, signed
    ("4@w2", {"x2": 0xABCD_0000_FFFF_FFFE}, None, None, 0xFFFF_FFFE),
    ("1@w3", {"x3": 0x1FF}, None, None, 0xFF),
    ("-2@w4", {"x4": 0x18000}, None, None, -32768),
    ("8@sp", {"sp": 0x7FF0}, None, None, 0x7FF0),
    ("8@[x0]", {"x0": 0x9000}, {0x9000: (42).to_bytes(8, "little")}, None, 42),
    ("8@[sp, 16]", {"sp": 0x8FF0}, {0x9000: (77).to_bytes(8, "little")}, None, 77),
    ("-4@[sp,12]", {"sp": 0x8FF4}, {0x9000: (-9 & 0xFFFFFFFF).to_bytes(4, "little")}, None,
     -9),
    ("-4@[x29, -8]", {"x29": 0x9008}, {0x9000: struct.pack("<i", -123456)}, None, -123456),
    ("8@[x0, x1]", {"x0": 0x8FF8, "x1": 8}, {0x9000: (5).to_bytes(8, "little")}, None, 5),
    ("-4@5", {}, None, None, 5),
    ("-4@-1", {}, None, None, -1),
    ("8f@x12", {"x12": 0x4004000000000000}, None, None, 0x4004000000000000),
    # [xN, #:lo12:sym]: the address is sym itself (pc + (sym - site), the site at 0x1000)
    ("-4@[x0, #:lo12:counter]", {"x0": 0x4000}, {0x5000 + 0x2000 - 0x1000:
                                                  struct.pack("<i", -31)},
     {"counter": 0x2000}, -31),
    ("8@[x0]", {"x0": 0x7000}, {}, None, "unread"),                 # unmapped: the fail label
]


@pytest.mark.parametrize("arg, regs, memory, symbols, expected", A64_CASES,
                         ids=[c[0] for c in A64_CASES])
def test_aarch64_argument_loads(arg, regs, memory, symbols, expected):
    assert load("aarch64", arg, regs, memory, symbols) == expected


X86_CASES = [
    ("-4@%edi", {"di": 0xFFFF_FFFF_FFFF_FFFB}, None, None, -5),
    ("1@%ah", {"ax": 0xAB12}, None, None, 0xAB),
    ("-1@%dil", {"di": 0x1F0}, None, None, -16),
    ("8@(%rax,%rcx,8)", {"ax": 0x9000, "cx": 2}, {0x9000: struct.pack("<3q", 1, 2, 3)}, None, 3),
    ("-4@4(%rbx,%rcx,4)", {"bx": 0x9000, "cx": 1},
     {0x9000: struct.pack("<3i", 10, -20, -30)}, None, -30),
    ("-8@16+table(%rip)", {}, {0x5000 + 0x3000 - 0x1000: struct.pack("<3q", 7, 8, 9)},
     {"table": 0x3000}, 9),
    ("-4@arr(,%rax,4)", {"ax": 2}, {0x5000 + 0x3000 - 0x1000: struct.pack("<3i", 4, 5, -6)},
     {"arr": 0x3000}, -6),
    ("8@$0x10", {}, None, None, 16),
]


@pytest.mark.parametrize("arg, regs, memory, symbols, expected", X86_CASES,
                         ids=[c[0] for c in X86_CASES])
def test_x86_argument_loads(arg, regs, memory, symbols, expected):
    assert load("x86_64", arg, regs, memory, symbols) == expected


def test_vector_register_cannot_be_loaded():
    spec = parse_args("8f@%xmm0", "x86_64").args[0]
    with pytest.raises(bpfgen.NotKernel, match="xmm0"):
        bpfgen.load_argument(bpfgen.Code(), spec, "x86_64", 8, "unread")

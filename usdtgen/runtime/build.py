"""Build, in pure Python, the small shared object that holds a provider's probes for Python.

One stub function per probe whose first instruction is the probe site (``nop; ret``), one
``.note.stapsdt`` note per probe naming the calling convention's registers (and stack slots),
a u16 semaphore per probe in ``.probes``, usdtgen's type note, ``.stapsdt.base`` and a build
id derived from the provider's definition. x86-64 and aarch64.
"""
from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from usdtgen.elf.writer import (
    EM_AARCH64, EM_X86_64, SHF_EXECINSTR, SHF_ALLOC, SHF_WRITE, SHT_NOTE, STT_FUNC, AllocSection,
    DynamicSymbol, Section, SharedObjectLayout, write_shared_object,
)
from usdtgen.emit.header import TYPE_NOTE_OWNER, TYPE_NOTE_TYPE
from usdtgen.provider.model import Arg, Provider

STUB_SIZE = {EM_X86_64: 16, EM_AARCH64: 8}
_STUB_CODE = {EM_X86_64: b"\x90\xc3" + b"\xcc" * 14,                       # nop; ret; int3...
              EM_AARCH64: struct.pack("<II", 0xD503201F, 0xD65F03C0)}      # nop; ret
_X86_REGS = [("rdi", "edi", "di", "dil"), ("rsi", "esi", "si", "sil"), ("rdx", "edx", "dx", "dl"),
             ("rcx", "ecx", "cx", "cl"), ("r8", "r8d", "r8w", "r8b"), ("r9", "r9d", "r9w", "r9b")]
_WIDTH_INDEX = {8: 0, 4: 1, 2: 2, 1: 3}


@dataclass(frozen=True, slots=True)
class StubArg:
    """How one argument crosses from Python to the stub."""

    name: str
    d_type: str
    c_type: str          # the cffi parameter type
    size: int
    signed: bool
    kind: str            # int | bool | string | pointer


@dataclass(frozen=True, slots=True)
class StubProbe:
    name: str
    symbol: str          # the stub function
    semaphore: str       # the semaphore symbol
    args: tuple[StubArg, ...]


@dataclass(frozen=True, slots=True)
class BuiltObject:
    """A provider's shared object and what the loader needs to know about it."""

    provider: str
    image: bytes
    probes: tuple[StubProbe, ...]
    semaphore_offsets: dict      # semaphore symbol -> address in the object


class UnsupportedArgument(TypeError):
    """An argument type that a Python probe cannot pass."""


def stub_arg(arg: Arg, index: int) -> StubArg:
    """The cffi type and note description of a declared argument. Raises UnsupportedArgument."""
    ctype = arg.ctype
    name = arg.name or f"arg{index}"
    if ctype.is_string:
        return StubArg(name, ctype.d_name, "char *", 8, False, "string")
    if ctype.pointers or ctype.kind == "pointer":
        return StubArg(name, ctype.d_name, "char *", 8, False, "pointer")
    if ctype.kind == "bool":
        return StubArg(name, ctype.d_name, "_Bool", 1, False, "bool")
    if ctype.kind in ("int", "enum") and ctype.size in (1, 2, 4, 8):
        signed = bool(ctype.signed)
        return StubArg(name, ctype.d_name, f"{'' if signed else 'u'}int{ctype.size * 8}_t",
                       ctype.size, signed, "int")
    if ctype.kind == "float":
        raise UnsupportedArgument(f"argument {name}: {ctype.spelling} is floating point, which "
                                  "stapsdt probes cannot carry; pass an int (e.g. scaled)")
    raise UnsupportedArgument(f"argument {name}: type {ctype.spelling!r} cannot be passed from "
                              "Python (use an integer type, bool, a string or a pointer)")


def _spec(machine: int, index: int, arg: StubArg) -> str:
    size = f"{'-' if arg.signed else ''}{arg.size}"
    if machine == EM_X86_64:
        if index < 6:
            return f"{size}@%{_X86_REGS[index][_WIDTH_INDEX[arg.size]]}"
        return f"{size}@{8 * (index - 6 + 1)}(%rsp)"      # above the return address
    if index < 8:
        return f"{size}@{'x' if arg.size == 8 else 'w'}{index}"
    offset = 8 * (index - 8)
    return f"{size}@[sp, {offset}]" if offset else f"{size}@[sp]"


def _note(owner: bytes, note_type: int, desc: bytes) -> bytes:
    name = owner + b"\0"
    pad = lambda data: data + bytes(-len(data) % 4)      # noqa: E731
    return struct.pack("<III", len(name), len(desc), note_type) + pad(name) + pad(desc)


def build_object(provider: Provider, machine: int = EM_X86_64) -> BuiltObject:
    """The shared object of ``provider`` for ``machine`` (EM_X86_64 or EM_AARCH64)."""
    if machine not in STUB_SIZE:
        raise ValueError(f"Python probes are built for x86-64 and aarch64, not machine {machine}")
    probes = []
    for probe in provider.probes:
        args = tuple(stub_arg(arg, i) for i, arg in enumerate(probe.args))
        probes.append(StubProbe(probe.name, f"usdtgen_{provider.name}_{probe.name}",
                                provider.semaphore_name(probe), args))
    stub = STUB_SIZE[machine]
    symbols = [DynamicSymbol(p.symbol, ".text", i * stub, stub, STT_FUNC) for i, p in enumerate(probes)]
    symbols += [DynamicSymbol(p.semaphore, ".probes", i * 2, 2) for i, p in enumerate(probes)]
    definition = repr((provider.name, [(p.name, [(a.name, a.d_type, a.c_type, a.size, a.signed)
                                                 for a in p.args]) for p in probes],
                       machine)).encode()
    build_id = _note(b"GNU", 3, hashlib.sha1(definition).digest())
    text = [AllocSection(".text", max(1, len(probes)) * stub, flags=SHF_ALLOC | SHF_EXECINSTR,
                         align=16),
            AllocSection(".stapsdt.base", 1),
            AllocSection(".note.gnu.build-id", len(build_id), SHT_NOTE, align=4)]
    data = [AllocSection(".probes", max(2, 2 * len(probes)), flags=SHF_ALLOC | SHF_WRITE, align=2)]
    layout = SharedObjectLayout(machine, f"libusdtgen-{provider.name}.so", text, data, symbols)
    base = layout.address[".stapsdt.base"]
    stapsdt, types = b"", b""
    for probe in probes:
        specs = " ".join(_spec(machine, i, a) for i, a in enumerate(probe.args))
        desc = struct.pack("<QQQ", layout.symbol_address(probe.symbol), base,
                           layout.symbol_address(probe.semaphore))
        desc += provider.name.encode() + b"\0" + probe.name.encode() + b"\0" + specs.encode() + b"\0"
        stapsdt += _note(b"stapsdt", 3, desc)
        fields = [provider.name, probe.name] + [x for a in probe.args for x in (a.name, a.d_type)]
        types += _note(TYPE_NOTE_OWNER.encode(), TYPE_NOTE_TYPE,
                       b"".join(f.encode() + b"\0" for f in fields))
    contents = {".text": _STUB_CODE[machine] * len(probes) or bytes(stub),
                ".stapsdt.base": b"\0", ".note.gnu.build-id": build_id,
                ".probes": bytes(max(2, 2 * len(probes)))}
    if not probes:
        contents[".text"] = bytes(stub)
    others = [Section(".note.stapsdt", stapsdt, SHT_NOTE, align=4),
              Section(".note.usdtgen", types, SHT_NOTE, align=4)]
    image = write_shared_object(layout, contents, others)
    return BuiltObject(provider.name, image, tuple(probes),
                       {p.semaphore: layout.symbol_address(p.semaphore) for p in probes})

"""D's own memory: the bytes behind a script's arrays, structs and unions, ``alloca()`` and
``copyin()`` buffers, at addresses a pointer can hold.

Addresses are in the upper half of the 64-bit space, where no user mapping can be, as
DTrace's are kernel addresses; reading or writing outside an allocation is DTrace's
``invalid address`` error. Values are laid out as ``usdtgen.trace.script.types`` says.
"""
from __future__ import annotations

import math
import os
import struct
from bisect import bisect_right

from usdtgen.trace.script.types import Ty, type_name

BASE = 0xFFFF_FE00_0000_0000
ALIGN = 16


class BadAddress(Exception):
    def __init__(self, address: int):
        super().__init__(f"invalid address ({address:#x})")
        self.address = address


class Memory:
    """Allocations by address; the scratch ones (alloca(), copyin(), this-> aggregates) last
    until the clause that made them ends."""

    def __init__(self):
        self.next_address = BASE
        self.starts: list[int] = []            # sorted
        self.blocks: dict[int, bytearray] = {}
        self.scratch: list[int] = []

    def allocate(self, size: int, scratch: bool = False) -> int:
        address = self.next_address
        self.next_address += max(ALIGN, (size + ALIGN - 1) // ALIGN * ALIGN) + ALIGN
        self.starts.append(address)             # (addresses only grow: stays sorted)
        self.blocks[address] = bytearray(size)
        if scratch:
            self.scratch.append(address)
        return address

    def release_scratch(self) -> None:
        if not self.scratch:
            return
        for address in self.scratch:
            del self.blocks[address]
        gone = set(self.scratch)
        self.starts = [a for a in self.starts if a not in gone]
        self.scratch.clear()

    def _block(self, address: int, size: int) -> tuple[bytearray, int]:
        at = bisect_right(self.starts, address) - 1
        if at >= 0:
            start = self.starts[at]
            block = self.blocks[start]
            offset = address - start
            if offset + size <= len(block):
                return block, offset
        raise BadAddress(address)

    def read(self, address: int, size: int) -> bytes:
        block, offset = self._block(address, size)
        return bytes(block[offset:offset + size])

    def write(self, address: int, data: bytes) -> None:
        block, offset = self._block(address, len(data))
        block[offset:offset + len(data)] = data

    def copy(self, destination: int, source: int, size: int) -> None:
        self.write(destination, self.read(source, size))

    def load(self, address: int, ty: Ty):
        """The value of type ``ty`` at ``address``: an int, or a string's text."""
        if ty.kind == "string":
            return string_at(self, address, ty.size)
        if ty.kind == "float":
            return float_from_bytes(self.read(address, ty.size))
        return int.from_bytes(self.read(address, ty.size), "little", signed=ty.signed)

    def store(self, address: int, ty: Ty, value) -> None:
        if ty.kind == "string":
            data = value.encode("utf-8", "surrogateescape")[:ty.size - 1]
            self.write(address, data + bytes(ty.size - len(data)))
            return
        if ty.kind == "float":
            self.write(address, float_to_bytes(float(value), ty.size))
            return
        mask = (1 << (8 * ty.size)) - 1
        self.write(address, (value & mask).to_bytes(ty.size, "little"))

    def load_bits(self, address: int, unit: Ty, bit_offset: int, bits: int) -> int:
        word = int.from_bytes(self.read(address, unit.size), "little")
        value = (word >> bit_offset) & ((1 << bits) - 1)
        if unit.signed and value >> (bits - 1):
            value -= 1 << bits
        return value

    def store_bits(self, address: int, unit: Ty, bit_offset: int, bits: int,
                   value: int) -> int:
        """Store the low ``bits`` of ``value``; returns what the bit-field now reads."""
        word = int.from_bytes(self.read(address, unit.size), "little")
        mask = ((1 << bits) - 1) << bit_offset
        word = (word & ~mask) | ((value << bit_offset) & mask)
        self.write(address, word.to_bytes(unit.size, "little"))
        return self.load_bits(address, unit, bit_offset, bits)


def float_from_bytes(data: bytes) -> float:
    """A float, double or (x87 80-bit, in 16 bytes) long double as the machine stores it."""
    if len(data) == 4:
        return struct.unpack("<f", data)[0]
    if len(data) == 8:
        return struct.unpack("<d", data)[0]
    mantissa = int.from_bytes(data[:8], "little")
    sign_exponent = int.from_bytes(data[8:10], "little")
    exponent, negative = sign_exponent & 0x7FFF, sign_exponent >> 15
    if exponent == 0x7FFF:
        value = math.nan if mantissa << 1 & ((1 << 64) - 1) else math.inf
    else:
        value = math.ldexp(mantissa, (exponent or 1) - 16383 - 63)
    return -value if negative else value


def float_to_bytes(value: float, size: int) -> bytes:
    if size == 4:
        return struct.pack("<f", value)
    if size == 8:
        return struct.pack("<d", value)
    negative = math.copysign(1.0, value) < 0
    value = abs(value)
    if math.isnan(value) or math.isinf(value):
        exponent, mantissa = 0x7FFF, (0xC000000000000000 if math.isnan(value) else 1 << 63)
    elif value == 0:
        exponent, mantissa = 0, 0
    else:
        fraction, power = math.frexp(value)              # value = fraction * 2**power
        exponent, mantissa = power + 16382, int(fraction * (1 << 64))
    return mantissa.to_bytes(8, "little") + (exponent | negative << 15).to_bytes(2, "little") \
        + bytes(size - 10)


def string_at(memory: Memory, address: int, most: int) -> str:
    """The NUL-terminated text at ``address``, of at most ``most`` bytes (to the end of its
    allocation when shorter)."""
    at = bisect_right(memory.starts, address) - 1
    if at < 0:
        raise BadAddress(address)
    start = memory.starts[at]
    block = memory.blocks[start]
    offset = address - start
    if offset >= len(block):
        raise BadAddress(address)
    data = bytes(block[offset:offset + most])
    return data.split(b"\0", 1)[0].decode("utf-8", "replace")


# -- a process's memory (copyin(), copyinstr() of addresses that are not probe arguments) ----

PAGE = 4096


def read_process(pid: int, address: int, size: int) -> bytes:
    """``size`` bytes of process ``pid``'s memory at ``address``, read through /proc now;
    BadAddress when any of them cannot be read (unmapped, or the process is gone)."""
    if size == 0:
        return b""
    if not 0 < address < 1 << 64 or address + size > 1 << 64:
        raise BadAddress(address)
    try:
        descriptor = os.open(f"/proc/{pid}/mem", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        raise BadAddress(address) from None
    try:
        data = os.pread(descriptor, size, address)
    except (OSError, OverflowError):
        raise BadAddress(address) from None
    finally:
        os.close(descriptor)
    if len(data) != size:
        raise BadAddress(address + len(data))
    return data


def read_process_string(pid: int, address: int, most: int) -> bytes:
    """The bytes of the NUL-terminated string at ``address`` in process ``pid`` (without
    the NUL), at most ``most`` of them, read a page at a time so that a string ending
    before an unmapped page is read whole."""
    data = bytearray()
    while len(data) < most:
        chunk = min(most - len(data), PAGE - (address + len(data)) % PAGE)
        piece = read_process(pid, address + len(data), chunk)
        end = piece.find(b"\0")
        if end >= 0:
            return bytes(data + piece[:end])
        data += piece
    return bytes(data)


# -- print() -------------------------------------------------------------------------------------

def print_text(memory: Memory, ty: Ty, value, enum_names: dict) -> str:
    """What D's print() shows of a value of type ``ty`` (an aggregate's ``value`` is its
    address): the type, then the value as DTrace lays it out (members one a line, integers
    in hex, chars quoted, enums by name)."""
    return f"{type_name(ty)} {_value_text(memory, ty, value, 0, enum_names)}"


def _value_text(memory: Memory, ty: Ty, value, depth: int, enum_names: dict) -> str:
    indent = "    " * depth
    if ty.kind in ("struct", "union"):
        lines = ["{"]
        for member in ty.record.members:
            address = value + member.offset
            if member.bits:
                bits = memory.load_bits(address, member.ty, member.bit_offset, member.bits)
                shown = _int_text(bits & ((1 << member.bits) - 1), member.ty, enum_names)
                lines.append(f"{indent}    {_declaration(member.ty, member.name)} "
                             f":{member.bits} = {shown}")
                continue
            shown = _value_text(memory, member.ty, address if member.ty.is_aggregate else
                                memory.load(address, member.ty), depth + 1, enum_names)
            if member.ty.kind == "array" and _is_char(member.ty.target) and \
                    shown.startswith('"'):
                shown = f"[ {shown} ]"
            lines.append(f"{indent}    {_declaration(member.ty, member.name)} = {shown}")
        return "\n".join(lines + [f"{indent}}}"])
    if ty.kind == "array":
        element = ty.target
        if _is_char(element):
            data = memory.read(value, ty.size)
            text = data.split(b"\0", 1)[0]
            if text and all(32 <= byte < 127 for byte in text):
                return '"' + text.decode("ascii") + '"'
        addresses = [value + i * element.size for i in range(ty.count)]
        if element.is_aggregate:
            inner = "    " * (depth + 1)
            parts = [f"{inner}{type_name(element)} "
                     f"{_value_text(memory, element, a, depth + 1, enum_names)}"
                     for a in addresses]
            return "[ \n" + ", \n".join(parts) + f"\n{indent}]"
        return "[ " + ", ".join(_value_text(memory, element, memory.load(a, element), depth + 1,
                                            enum_names) for a in addresses) + " ]"
    if ty.kind == "string":
        return f'"{value}"'
    return _int_text(value, ty, enum_names)


def _int_text(value: int, ty: Ty, enum_names: dict) -> str:
    names = enum_names.get(type_name(ty))
    if names is not None and value in names:
        return names[value]
    if _is_char(ty):
        byte = value & 0xFF
        if byte == 0:
            return "'\\0'"
        return f"'{chr(byte)}'" if 32 <= byte < 127 else f"'\\{byte:03o}'"
    value &= (1 << (8 * ty.size)) - 1
    return f"{value:#x}" if value else "0"


def _is_char(ty: Ty) -> bool:
    return ty.kind == "int" and ty.size == 1 and ty.target is None and \
        type_name(ty) in ("char", "signed char", "unsigned char")


def _declaration(ty: Ty, name: str) -> str:
    spelled = type_name(ty)
    return f"{spelled}{name}" if spelled.endswith("*") else f"{spelled} {name}"

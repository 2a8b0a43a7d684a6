"""Parse the argument strings of stapsdt notes ("-4@%edi 8@8(%rsp)") into structured specs,
and translate each into the kernel's uprobe fetch-arg syntax.

One grammar per architecture (a recursive-descent parser in ``argspec_parse``);
parsing never raises for bad input: a string that does not parse gives a ``ParsedArgs``
with an ``error``. Register names
are mapped to the kernel's ``pt_regs`` names (x86-64: ``ax``..``r15``; aarch64: ``x0``..``sp``).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


WORD_SIZE = 8  # every architecture usdtgen traces is 64-bit


@dataclass(frozen=True, slots=True)
class Register:
    name: str            # as written, without '%': "edi", "ah", "w1", "xmm0"
    family: str          # the kernel's pt_regs name of the full register: "di", "ax", "x1"
    width: int           # bytes the written alias covers
    bit_offset: int = 0  # 8 for the x86 high-byte registers (%ah, %bh, %ch, %dh)
    kind: str = "gp"     # gp | ip | vector


@dataclass(frozen=True, slots=True)
class Memory:
    base: Register | None
    displacement: int = 0
    symbol: str | None = None          # sym(%rip), sym+8(%rip)
    index: Register | None = None
    scale: int = 1
    page_offset: bool = False          # aarch64 [xN, #:lo12:sym]: the address is sym itself


@dataclass(frozen=True, slots=True)
class Immediate:
    value: int = 0
    symbol: str | None = None


Location = Register | Memory | Immediate


@dataclass(frozen=True, slots=True)
class ArgSpec:
    """One argument of a probe site, as its note describes it."""

    text: str             # "-4@%edi"
    size: int             # bytes
    signed: bool
    is_float: bool
    location: Location
    size_given: bool = True


@dataclass(frozen=True, slots=True)
class ParsedArgs:
    args: tuple[ArgSpec, ...]
    error: str | None = None      # why the string could not be read (args is then empty)


class Unfetchable(Exception):
    """The argument has no equivalent in uprobe_events fetch-arg syntax; says why."""


# -- register tables -------------------------------------------------------------------------

def _x86_registers() -> dict[str, Register]:
    table: dict[str, Register] = {}
    for letter in "abcd":
        family = letter + "x"
        for name, width, offset in ((f"r{letter}x", 8, 0), (f"e{letter}x", 4, 0),
                                    (f"{letter}x", 2, 0), (f"{letter}l", 1, 0), (f"{letter}h", 1, 8)):
            table[name] = Register(name, family, width, offset)
    for family in ("si", "di", "bp", "sp"):
        for name, width in ((f"r{family}", 8), (f"e{family}", 4), (family, 2), (f"{family}l", 1)):
            table[name] = Register(name, family, width)
    for n in range(8, 16):
        family = f"r{n}"
        for name, width in ((family, 8), (f"{family}d", 4), (f"{family}w", 2), (f"{family}b", 1),
                            (f"{family}l", 1)):
            table[name] = Register(name, family, width)
    table["rip"] = Register("rip", "ip", 8, kind="ip")
    table["eip"] = Register("eip", "ip", 4, kind="ip")
    for n in range(32):
        for prefix, width in (("xmm", 16), ("ymm", 32), ("zmm", 64)):
            table[f"{prefix}{n}"] = Register(f"{prefix}{n}", f"{prefix}{n}", width, kind="vector")
    for n in range(8):
        table[f"st{n}"] = Register(f"st{n}", f"st{n}", 10, kind="vector")
    return table


def _aarch64_registers() -> dict[str, Register]:
    table: dict[str, Register] = {}
    for n in range(31):
        table[f"x{n}"] = Register(f"x{n}", f"x{n}", 8)
        table[f"w{n}"] = Register(f"w{n}", f"x{n}", 4)
    table["sp"] = Register("sp", "sp", 8)
    table["wsp"] = Register("wsp", "sp", 4)
    for n in range(32):
        for prefix, width in (("b", 1), ("h", 2), ("s", 4), ("d", 8), ("q", 16), ("v", 16)):
            table[f"{prefix}{n}"] = Register(f"{prefix}{n}", f"v{n}", width, kind="vector")
    return table


REGISTERS = {"x86_64": _x86_registers(), "aarch64": _aarch64_registers()}



@lru_cache(maxsize=65536)
def parse_args(text: str, machine: str) -> ParsedArgs:
    """Parse a note's argument string for ``machine`` ("x86_64" or "aarch64")."""
    if machine not in REGISTERS:
        return ParsedArgs((), f"argument strings of {machine} are not understood")
    from usdtgen.elf.argspec_parse import parse_one     # the parser loads on first use

    specs = []
    for piece in split_args(text):
        spec = parse_one(piece, machine)
        if isinstance(spec, str):
            return ParsedArgs((), spec)
        specs.append(spec)
    return ParsedArgs(tuple(specs))


def split_args(text: str) -> list[str]:
    """The text of each argument: split on blanks outside brackets ("[sp, 12]" stays whole)."""
    pieces, depth, current = [], 0, ""
    for char in text:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        if char in " \t" and depth == 0:
            if current:
                pieces.append(current)
            current = ""
        else:
            current += char
    if current:
        pieces.append(current)
    return pieces


# -- translation into uprobe_events fetch-args -------------------------------------------------

def fetch_type(spec: ArgSpec) -> str:
    """The fetch type for the spec's size and sign (floats are fetched as their bits)."""
    if spec.size not in (1, 2, 4, 8):
        raise Unfetchable(f"a {spec.size}-byte value has no uprobe fetch type")
    kind = "s" if spec.signed and not spec.is_float else "u"
    return f"{kind}{spec.size * 8}"


def to_fetcharg(spec: ArgSpec, symbol_offset=None) -> str:
    """``spec`` as a uprobe_events fetch-arg such as ``%di:s32`` or ``+8(%sp):u64``.

    ``symbol_offset(name) -> file offset or None`` resolves symbols (rip-relative, lo12).
    Raises Unfetchable with the reason when the kernel has no equivalent.
    """
    location = spec.location
    type_ = fetch_type(spec)
    if isinstance(location, Register) and location.bit_offset and location.kind == "gp":
        return f"%{location.family}:b{location.width * 8}@{location.bit_offset}/64"
    return f"{_fetch_location(spec, symbol_offset)}:{type_}"


def to_string_fetcharg(spec: ArgSpec, symbol_offset=None) -> str:
    """The NUL-terminated user string the argument points to: ``+0(%di):ustring``.

    Raises Unfetchable when the pointer itself cannot be fetched or is not pointer-sized.
    """
    if spec.size != WORD_SIZE or spec.is_float:
        raise Unfetchable(f"a {spec.size}-byte {'float' if spec.is_float else 'value'} is not a pointer")
    if isinstance(spec.location, Register) and spec.location.bit_offset:
        raise Unfetchable("a high-byte register is not a pointer")
    return f"+0({_fetch_location(spec, symbol_offset)}):ustring"


def _fetch_location(spec: ArgSpec, symbol_offset) -> str:
    """The fetch-arg of the argument's location, without its type."""
    location = spec.location
    if isinstance(location, Register):
        if location.kind == "vector":
            raise Unfetchable(f"vector register %{location.name}: uprobe_events reads only "
                              "general-purpose registers")
        return f"%{location.family}"
    if isinstance(location, Immediate):
        if location.symbol is not None:
            raise Unfetchable(f"the address of symbol {location.symbol} depends on where the "
                              "object is loaded")
        return f"\\{location.value & (2**64 - 1):#x}"
    if location.index is not None:
        raise Unfetchable("indexed addressing (base + index * scale) has no uprobe fetch-arg form")
    if location.page_offset:
        # base holds sym's 4 KiB page, so the address is sym: fetchable only by its offset
        offset = symbol_offset(location.symbol) if symbol_offset else None
        if offset is None:
            raise Unfetchable(f"the address is symbol {location.symbol}, which the object's "
                              "symbol tables do not hold")
        return f"@+{offset:#x}"
    if location.base is not None and location.base.kind == "ip":
        if location.symbol is None:
            raise Unfetchable("a pc-relative address without a symbol")
        offset = symbol_offset(location.symbol) if symbol_offset else None
        if offset is None:
            raise Unfetchable(f"symbol {location.symbol} is not in the object's symbol tables")
        return f"@+{offset + location.displacement:#x}"
    if location.base is None:
        raise Unfetchable("an absolute address")
    if location.base.kind == "vector":
        raise Unfetchable(f"vector register %{location.base.name} as an address")
    sign = "-" if location.displacement < 0 else "+"
    return f"{sign}{abs(location.displacement)}(%{location.base.family})"

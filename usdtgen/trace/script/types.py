"""D's C types: integers, pointers, arrays, structs, unions, enums and strings, with LP64 sizes
and the C compiler's layout rules (aligned members, bit-fields packed into their units).

The compiler gives every expression a ``Ty``; ``usdtgen.trace.script.memory`` keeps values of
these types as bytes laid out as here, so ``sizeof``, ``offsetof`` and pointer arithmetic
agree with C.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from usdtgen.trace.script.aggregate import KeyType

POINTER_SIZE = 8


@dataclass(eq=False)
class Record:
    """A struct or union the script declares (compared by identity, as C compares tags)."""

    kind: str                       # "struct" or "union"
    tag: str                        # "" for an anonymous one
    members: tuple = ()             # Member, in declaration order
    size: int = 0
    align: int = 1
    complete: bool = False          # its members are known (not just "struct tag;")

    def member(self, name: str):
        for member in self.members:
            if member.name == name:
                return member
        return None


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    ty: "Ty"
    offset: int                     # bytes from the start (a bit-field: of its unit)
    bit_offset: int = 0             # a bit-field's first bit in its unit (from the lowest)
    bits: int = 0                   # a bit-field's width; 0 for any other member


@dataclass(frozen=True, slots=True)
class Ty:
    """The static type of an expression.

    ``kind`` is "int" (integers, enums and pointers: a pointer has a ``target``), "string",
    "array" (``count`` elements of ``target``), "struct", "union" (``record``), "void",
    "function" or "any" (not known before the probe's argument types are)."""

    kind: str
    size: int = 8
    signed: bool = True
    target: "Ty | None" = None
    count: int = 0
    record: Record | None = None
    name: str = field(default="", compare=False)      # as the script spells it (print())

    @property
    def key_type(self) -> KeyType:
        return KeyType(self.kind == "string", self.size if self.kind == "int" else 8,
                       self.kind == "stack")

    @property
    def is_pointer(self) -> bool:
        return self.kind == "int" and self.target is not None

    @property
    def is_aggregate(self) -> bool:
        """Kept in memory and used by address: arrays, structs and unions."""
        return self.kind in ("array", "struct", "union")


INT, LONG, ULONG = Ty("int", 4, name="int"), Ty("int", 8, name="long"), \
    Ty("int", 8, False, name="unsigned long")
CHAR = Ty("int", 1, name="char")
STRING, ANY, VOID = Ty("string", 0, name="string"), Ty("any"), Ty("void", 0, name="void")
STACK = Ty("stack", 8, name="stack")       # ustack(): a symbolizer.UserStack
FUNCTION = Ty("function", 1, name="int ()")

# The integer types D knows by name: C's keywords and the <sys/types.h> names.
_NAMED_INTEGERS = {
    "char": (1, True), "short": (2, True), "int": (4, True), "long": (8, True),
    "int8_t": (1, True), "uint8_t": (1, False), "int16_t": (2, True), "uint16_t": (2, False),
    "int32_t": (4, True), "uint32_t": (4, False), "int64_t": (8, True), "uint64_t": (8, False),
    "size_t": (8, False), "ssize_t": (8, True), "uintptr_t": (8, False),
    "intptr_t": (8, True), "pid_t": (4, True), "uid_t": (4, False), "gid_t": (4, False),
    "id_t": (4, True), "off_t": (8, True), "uchar_t": (1, False), "ushort_t": (2, False),
    "uint_t": (4, False), "ulong_t": (8, False), "u_longlong_t": (8, False),
    "longlong_t": (8, True), "bool": (1, False), "_Bool": (1, False),
}





# The types D predefines that have a meaning on Linux: psinfo_t and lwpsinfo_t, what
# curpsinfo and curlwpsinfo point to (with the members DTrace's translators give them)
# (illumos' member names and order; filled from /proc when a clause reads it).
PRELUDE = """
typedef struct psinfo {
    int pr_flag; int pr_nlwp; pid_t pr_pid; pid_t pr_ppid; pid_t pr_pgid; pid_t pr_sid;
    uid_t pr_uid; uid_t pr_euid; gid_t pr_gid; gid_t pr_egid; uintptr_t pr_addr;
    uint64_t pr_ttydev; char pr_fname[16];
    char pr_psargs[80]; int pr_wstat; int pr_argc; uintptr_t pr_argv; uintptr_t pr_envp;
    char pr_dmodel; int pr_taskid; int pr_projid; int pr_nzomb; int pr_poolid; int pr_zoneid;
    int pr_contract;
} psinfo_t;
typedef struct lwpsinfo {
    int pr_flag; int pr_lwpid; uintptr_t pr_addr; uintptr_t pr_wchan; char pr_stype;
    char pr_state; char pr_sname; short pr_syscall; int pr_pri; char pr_clname[8];
    int pr_onpro; int pr_bindpro; int pr_bindpset; int pr_lgrp;
} lwpsinfo_t;
typedef uint32_t ipaddr_t;
typedef uint32_t in_addr_t;
typedef struct in6_addr {
    union { uint8_t _S6_u8[16]; uint16_t _S6_u16[8]; uint32_t _S6_u32[4]; } _S6_un;
} in6_addr_t;
BEGIN {}
"""


class TypeError_(ValueError):
    """A type that cannot be: ``unsigned string``, ``short long``, a bit-field too wide."""


def scalar_type(words: list[str]) -> Ty:
    """The type that keywords and built-in type names spell (``unsigned long long``,
    ``uint32_t``, ``string``, ``void``); raises TypeError_ for an impossible combination."""
    if not words:
        raise TypeError_("a type is missing")
    signs = [w for w in words if w in ("signed", "unsigned")]
    core = [w for w in words if w not in ("signed", "unsigned")]
    if len(signs) > 1:
        raise TypeError_(f"'{' '.join(signs)}' repeats a sign")
    longs = core.count("long")
    rest = [w for w in core if w != "long"]
    if sorted(rest) == ["int", "short"]:
        rest = ["short"]
    if rest == ["double"] and longs == 1 and not signs:
        return Ty("float", 16, True, name=" ".join(words))      # x87 extended, 16 with padding
    if len(rest) > 1 or longs > 2 or (longs and rest and rest[0] != "int") or \
            (core.count("int") > 1):
        raise TypeError_(f"'{' '.join(words)}' is not a type")
    spelled = " ".join(words)
    if rest in (["string"], ["void"], ["float"], ["double"]) or \
            rest and rest[0] in _NAMED_INTEGERS and rest[0] not in ("char", "short", "int"):
        if signs or longs:
            raise TypeError_(f"'{spelled}' is not a type")
        if rest == ["string"]:
            return STRING
        if rest == ["void"]:
            return VOID
        if rest in (["float"], ["double"]):
            return Ty("float", 4 if rest == ["float"] else 8, name=spelled)
        size, signed = _NAMED_INTEGERS[rest[0]]
        return Ty("int", size, signed, name=spelled)
    if longs:
        size = 8
    elif rest:
        size = _NAMED_INTEGERS[rest[0]][0]
    else:
        size = 4                                   # "unsigned", "signed"
    return Ty("int", size, signs != ["unsigned"], name=spelled)


def pointer_to(ty: Ty) -> Ty:
    name = type_name(ty)
    return Ty("int", POINTER_SIZE, False, target=ty,
              name=name + ("*" if name.endswith("*") else " *"))


def array_of(ty: Ty, count: int) -> Ty:
    return Ty("array", ty.size * count, target=ty, count=count,
              name=f"{type_name(ty)} [{count}]")


def record_type(record: Record, name: str = "") -> Ty:
    return Ty(record.kind, record.size, record=record,
              name=name or f"{record.kind} {record.tag}".rstrip())


def type_name(ty: Ty) -> str:
    if ty.name:
        return ty.name
    if ty.kind == "int":
        return {1: "char", 2: "short", 4: "int", 8: "long"}[ty.size] if ty.signed else \
            {1: "uchar_t", 2: "ushort_t", 4: "uint_t", 8: "ulong_t"}[ty.size]
    return ty.kind


def alignment(ty: Ty) -> int:
    if ty.kind in ("struct", "union"):
        return ty.record.align
    if ty.kind == "array":
        return alignment(ty.target)
    if ty.kind == "string":
        return 1
    if ty.kind == "float":
        return ty.size
    return max(1, min(ty.size, 8))


def usual_arithmetic(left: Ty, right: Ty) -> Ty:
    """C's usual arithmetic conversions, on LP64."""
    size = max(4, left.size if left.kind == "int" else 8, right.size if right.kind == "int" else 8)
    ls = left.signed or left.kind != "int" or left.size < size
    rs = right.signed or right.kind != "int" or right.size < size
    return Ty("int", size, ls and rs)


def lay_out(record: Record, fields: list[tuple[str, Ty, int | None]]) -> None:
    """Place ``fields`` (name, type, bit-field width or None) as gcc does on x86-64 and
    aarch64, and complete ``record``: a bit-field shares the unit of its declared type with
    the bit-fields before it when it fits, else starts the next unit; a union's members all
    start at 0."""
    members, bit_position, align, size = [], 0, 1, 0
    for name, ty, bits in fields:
        member_align = alignment(ty)
        if bits is None:
            if record.kind == "union":
                offset = 0
            else:
                offset = _round_up((bit_position + 7) // 8, member_align)
                bit_position = 8 * (offset + ty.size)
            members.append(Member(name, ty, offset))
            size = max(size, offset + ty.size)
            align = max(align, member_align)
            continue
        unit_bits = 8 * ty.size
        if record.kind == "union":
            bit_position = 0
        if bits == 0:                         # ":0" closes the unit
            bit_position = _round_up(bit_position, unit_bits)
            continue
        start = bit_position
        if start // unit_bits != (start + bits - 1) // unit_bits:
            start = _round_up(start, unit_bits)
        unit = start // unit_bits * ty.size
        if name:
            members.append(Member(name, ty, unit, start - 8 * unit, bits))
            align = max(align, member_align)
        bit_position = start + bits
        size = max(size, (bit_position + 7) // 8)
    record.members = tuple(members)
    record.align = align
    record.size = _round_up(size, align)
    record.complete = True


def _round_up(value: int, unit: int) -> int:
    return (value + unit - 1) // unit * unit

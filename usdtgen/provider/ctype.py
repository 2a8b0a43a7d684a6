"""Turn the tokens of one C declaration (a probe parameter, a typedef) into a name and a CType.

Knows the C scalar keywords, the fixed-width and POSIX/Solaris typedef names that provider
files use, and the typedefs the file itself declares. Sizes are LP64 (x86-64, aarch64).
"""
from __future__ import annotations

from functools import lru_cache

from usdtgen.provider.model import CType

POINTER_SIZE = 8

# Canonical spelling -> (kind, size, signed) for what the C keywords can spell.
_KEYWORD_TYPES = {
    "void": ("void", None, None),
    "char": ("int", 1, True),
    "signed char": ("int", 1, True),
    "unsigned char": ("int", 1, False),
    "short": ("int", 2, True),
    "unsigned short": ("int", 2, False),
    "int": ("int", 4, True),
    "unsigned int": ("int", 4, False),
    "long": ("int", 8, True),
    "unsigned long": ("int", 8, False),
    "long long": ("int", 8, True),
    "unsigned long long": ("int", 8, False),
    "__int128": ("int", 16, True),
    "unsigned __int128": ("int", 16, False),
    "float": ("float", 4, None),
    "double": ("float", 8, None),
    "long double": ("float", 16, None),
    "_Bool": ("bool", 1, False),
}

# Type names that provider files use without declaring them: C99 <stdint.h>, POSIX
# <sys/types.h>, and the Solaris names DTrace itself predefines.
_KNOWN_TYPEDEFS = {
    "bool": ("bool", 1, False),
    "int8_t": ("int", 1, True), "uint8_t": ("int", 1, False),
    "int16_t": ("int", 2, True), "uint16_t": ("int", 2, False),
    "int32_t": ("int", 4, True), "uint32_t": ("int", 4, False),
    "int64_t": ("int", 8, True), "uint64_t": ("int", 8, False),
    "intptr_t": ("int", 8, True), "uintptr_t": ("int", 8, False),
    "intmax_t": ("int", 8, True), "uintmax_t": ("int", 8, False),
    "size_t": ("int", 8, False), "ssize_t": ("int", 8, True),
    "ptrdiff_t": ("int", 8, True), "off_t": ("int", 8, True), "off64_t": ("int", 8, True),
    "loff_t": ("int", 8, True),
    "pid_t": ("int", 4, True), "uid_t": ("int", 4, False), "gid_t": ("int", 4, False),
    "id_t": ("int", 4, False), "mode_t": ("int", 4, False), "dev_t": ("int", 8, False),
    "ino_t": ("int", 8, False), "nlink_t": ("int", 8, False), "blkcnt_t": ("int", 8, True),
    "time_t": ("int", 8, True), "clock_t": ("int", 8, True), "useconds_t": ("int", 4, False),
    "suseconds_t": ("int", 8, True), "socklen_t": ("int", 4, False), "key_t": ("int", 4, True),
    "wchar_t": ("int", 4, True), "char16_t": ("int", 2, False), "char32_t": ("int", 4, False),
    "uchar_t": ("int", 1, False), "ushort_t": ("int", 2, False), "uint_t": ("int", 4, False),
    "ulong_t": ("int", 8, False), "u_char": ("int", 1, False), "u_short": ("int", 2, False),
    "u_int": ("int", 4, False), "u_long": ("int", 8, False), "longlong_t": ("int", 8, True),
    "u_longlong_t": ("int", 8, False), "hrtime_t": ("int", 8, True),
    "processorid_t": ("int", 4, True), "zoneid_t": ("int", 4, True),
    "taskid_t": ("int", 4, True), "projid_t": ("int", 4, True), "psetid_t": ("int", 4, True),
    "boolean_t": ("int", 4, True), "int_t": ("int", 4, True),
    "caddr_t": ("pointer", POINTER_SIZE, False), "uintptr": ("int", 8, False),
}

_QUALIFIERS = {"const", "volatile", "restrict", "__restrict", "__restrict__", "userland"}
_SCALAR_WORDS = {"void", "char", "short", "int", "long", "float", "double", "signed",
                 "unsigned", "_Bool", "__int128"}


class DeclError(ValueError):
    """The tokens do not form a C declaration; ``index`` is the offending token."""

    def __init__(self, message: str, index: int, hint: str = ""):
        super().__init__(message)
        self.index = index
        self.hint = hint


def _canonical_scalar(words: list[str], first_index: int) -> str:
    return _canonical_scalar_cached(tuple(words), first_index)


@lru_cache(maxsize=1024)
def _canonical_scalar_cached(words: tuple[str, ...], first_index: int) -> str:
    """Order-free C scalar keywords → canonical spelling (``long unsigned int`` → ``unsigned long``)."""
    counts = {w: words.count(w) for w in set(words)}
    signed = counts.pop("signed", 0)
    unsigned = counts.pop("unsigned", 0)
    longs = counts.pop("long", 0)
    if signed and unsigned:
        raise DeclError("both 'signed' and 'unsigned' in one type", first_index)
    if signed > 1 or unsigned > 1 or longs > 2:
        raise DeclError("repeated type keyword in '" + " ".join(words) + "'", first_index)
    if counts.get("int") and (counts.get("short") or longs):
        del counts["int"]               # short int, long int, long long int
    base = [w for w in counts for _ in range(counts[w])]
    if len(base) > 1:
        raise DeclError("'" + " ".join(words) + "' is not a type", first_index)
    core = base[0] if base else "int"
    if core == "int" and longs:
        core = "long" if longs == 1 else "long long"
    elif core == "double" and longs == 1:
        core = "long double"
    elif longs and core not in ("int",):
        raise DeclError("'" + " ".join(words) + "' is not a type", first_index)
    if core in ("void", "float", "double", "long double", "_Bool") and (signed or unsigned):
        raise DeclError("'" + " ".join(words) + "' is not a type", first_index)
    if core == "short" and longs:
        raise DeclError("'" + " ".join(words) + "' is not a type", first_index)
    if unsigned:
        return "unsigned " + core
    if signed and core == "char":
        return "signed char"
    return core


def parse_declaration(tokens: list[tuple[str, str]], typedefs: dict[str, CType]) -> tuple[str | None, CType]:
    """Read ``[qualifiers] base-type [*...] [name] [[N]]`` from (kind, text) tokens.

    Returns (name or None, type); an undeclared type name gives kind "unknown".
    Raises DeclError for token runs that are not a declaration.
    """
    const = False
    scalar_words: list[str] = []
    scalar_first = -1
    base_name: str | None = None       # typedef name or struct/union/enum tag
    aggregate_kw: str | None = None
    pointers = 0
    name: str | None = None
    array = False
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        if kind == "STAR":
            if base_name is None and not scalar_words:
                raise DeclError("'*' before any type", i)
            if name is not None:
                raise DeclError(f"'*' after the parameter name '{name}'", i)
            pointers += 1
        elif kind == "ARRAY":
            if array:
                raise DeclError("only one array dimension is supported", i)
            array = True
        elif kind == "AGGREGATE_KW":
            if aggregate_kw or base_name or scalar_words:
                raise DeclError(f"unexpected '{text}' in a type", i)
            if i + 1 >= len(tokens) or tokens[i + 1][0] != "NAME":
                raise DeclError(f"'{text}' needs a tag name", i)
            aggregate_kw = text
            base_name = tokens[i + 1][1]
            i += 1
        elif kind == "NAME":
            if text in _QUALIFIERS:
                if text == "const" and pointers == 0:
                    const = True
            elif text in _SCALAR_WORDS:
                if base_name is not None or pointers or name is not None:
                    raise DeclError(f"unexpected '{text}' in a type", i)
                if scalar_first < 0:
                    scalar_first = i
                scalar_words.append(text)
            elif text == "string" and not scalar_words and base_name is None:
                base_name = "string"
            elif base_name is None and not scalar_words:
                base_name = text
            elif name is None:
                name = text
            else:
                raise DeclError(f"'{text}' is not a type, and '{name}' already names this parameter", i,
                                "a parameter is a type followed by an optional name")
        else:
            raise DeclError(f"unexpected '{text}' in a declaration", i)
        i += 1

    if base_name is None and not scalar_words:
        raise DeclError("no type given", 0)
    if array:
        pointers += 1

    if scalar_words:
        spelling = _canonical_scalar(scalar_words, scalar_first)
        kind, size, signed = _KEYWORD_TYPES[spelling]
        d_spelling = ""
    elif aggregate_kw:
        spelling = f"{aggregate_kw} {base_name}"
        if aggregate_kw == "enum":
            kind, size, signed = "enum", 4, True
        else:
            kind, size, signed = aggregate_kw, None, None
        d_spelling = ""
    elif base_name == "string":
        spelling, kind, size, signed, d_spelling = "char", "int", 1, True, "string"
        pointers += 1
    elif base_name in typedefs:
        target = typedefs[base_name]
        spelling, d_spelling = base_name, ""
        kind, size, signed = target.kind, target.size, target.signed
        pointers += target.pointers
        if target.pointers:
            kind, size, signed = "pointer", POINTER_SIZE, False
    elif base_name in _KNOWN_TYPEDEFS:
        spelling, d_spelling = base_name, ""
        kind, size, signed = _KNOWN_TYPEDEFS[base_name]
    else:
        spelling, d_spelling = base_name, ""
        kind, size, signed = "unknown", None, None

    if const:
        spelling = "const " + spelling
    if pointers:
        own_stars = pointers - (typedefs[base_name].pointers if base_name in typedefs else 0)
        if base_name == "string":
            own_stars = 1 if not array else 2
        if own_stars:
            spelling = spelling + " " + "*" * own_stars
        kind, size, signed = "pointer", POINTER_SIZE, False
    if d_spelling == "string":
        d_spelling = "string" if pointers == 1 else "string" + " " + "*" * (pointers - 1)
        spelling = "char " + "*" * pointers
    if kind == "void" and pointers == 0 and name is not None:
        raise DeclError(f"parameter '{name}' has type void", 0)
    return name, CType(spelling=spelling, kind=kind, size=size, signed=signed,
                       pointers=pointers, d_spelling=d_spelling)


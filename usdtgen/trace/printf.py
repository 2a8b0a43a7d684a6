"""Printf-style formatting of a probe's arguments for the tracer's ``-f/--format`` option.

A format is compiled once into literal text and conversion specs, then rendered for every event
with the probe's arguments taken in order, like ``printf`` in DTrace or bpftrace.

The scanner
-----------
``compile_format`` reads the format one character at a time with a small state machine; a
character that ends a run (of digits, say) without belonging to it is looked at again in the
next state:

``TEXT``
    ordinary characters, copied; ``\\`` enters ESCAPE, ``%`` starts a conversion in FLAGS.
``ESCAPE``
    the character after ``\\``: ``n t r a \\ "`` stand for themselves as in C and go back to
    TEXT; ``x`` enters HEX; an octal digit (``\\0`` included) enters OCTAL.
``HEX``, ``OCTAL``
    at most two hex digits after ``\\x`` (C would take any number), at most three octal digits
    (``\\377`` at most). These escapes give bytes: adjacent ones are decoded together as UTF-8,
    so ``\\xe2\\x86\\x92`` is one arrow; a byte that is not valid UTF-8 becomes U+FFFD.
``FLAGS``
    any of ``- + space 0 #``, in any order, repeated or not; ``%`` right after ``%`` is a
    literal percent sign.
``WIDTH``, ``PRECISION``
    decimal digits; ``.`` starts the precision (``.`` alone means 0). ``*`` (D's printf only,
    ``compile_format(stars=True)``; refused elsewhere) takes the width or precision from the
    argument before the value, as C does: a negative width left-justifies, a negative
    precision counts as none.
``LENGTH``
    ``hh h l ll z j t L``.

Then comes the conversion character, one of ``d i u x X o c s p e E f F g G``. Characters made
by escapes are always literal text: ``\\x25d`` prints ``%d``, it is not a conversion.

Errors
------
Every problem raises ``FormatError`` with one line ``-f: <what> at column <N>``, sometimes with
a hint after it: the quoted text in <what> (``'%q'``, ``'\\q'``, ``'*'``) starts at column N of
the format as written, counted from 1; ``FormatError.column`` is N.

Rendering
---------
C semantics, on LP64 Linux, with the argument values the tracer fetched:

* ``%d %i`` print the int as given, never truncated: the tracer already passes each argument
  with its own size and signedness, so length modifiers do not change them.
* ``%u %o %x %X`` reduce the value modulo 2**bits, as C converts to the unsigned type: 8 bits
  for ``hh``, 16 for ``h``, 32 without a modifier, 64 for ``l ll z j t L``. So ``%x`` of -1 is
  ``ffffffff`` and ``%lx`` of -1 is ``ffffffffffffffff``.
* ``%c`` of an int prints that code point (0 prints nothing; a value that is no code point
  prints U+FFFD); of a str or bytes, prints it.
* ``%s`` of bytes decodes them as UTF-8 with replacement, up to the first NUL byte, as C would
  stop there; width and precision count characters, not bytes.
* ``%p`` prints ``0x`` and lowercase hex of the value modulo 2**64, ``0x0`` for 0 (glibc prints
  ``(nil)``); otherwise flags, width and precision act as glibc's.
* ``%e %E %f %F %g %G`` take floats or ints; ``inf`` and ``nan`` are padded with spaces, never
  zeros, and a NaN with its sign bit set prints ``-nan``, as glibc does.
* ``None`` (an argument the tracer could not fetch), and every argument missing from a short
  sequence, prints ``?``, padded to the width; values beyond the conversions are ignored.
* A value of the wrong type never raises: under a numeric conversion a str or bytes prints as
  text (width applies, precision does not), a float under an integer conversion is truncated
  toward zero like a C cast, ``%s`` of an int prints its decimal, and ``%s`` or ``%c`` of a
  float prints its ``repr``.

Python's own ``%`` operator formats finite floats, whose flags, width and precision follow C.
Integers are assembled here (sign, prefix, digits, padding): there Python differs from C for
``%#o`` (``0o17``), ``%#x`` of 0 (``0x0``), ``%.0d`` of 0 (``0``), ``0`` with a precision, and
``+``/space with unsigned conversions. No I/O happens here.
"""
from __future__ import annotations

import enum
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import NoReturn

from usdtgen.errors import UsdtgenError

FLAG_CHARS = "-+ 0#"
LENGTH_CHARS = "hlzjtL"
CONVERSIONS = "diuxXocspeEfFgG"
FLOAT_CONVERSIONS = "eEfFgG"
MAX_WIDTH = 4096                # for width and precision: one event must not take megabytes

# Bits of the C unsigned type %u %o %x %X convert to, by length modifier (LP64).
UNSIGNED_BITS = {"": 32, "hh": 8, "h": 16, "l": 64, "ll": 64, "z": 64, "j": 64, "t": 64, "L": 64}
POINTER_BITS = 64

SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "\\": "\\", '"': '"'}
HEX_DIGITS = "0123456789abcdefABCDEF"
OCTAL_DIGITS = "01234567"
DECIMAL_DIGITS = "0123456789"

ValueType = int | str | bytes | float | None


class FormatError(UsdtgenError):
    """A ``-f`` format that cannot be compiled; ``column`` is 1-based in the text as written."""

    def __init__(self, message: str, column: int):
        super().__init__(message)
        self.column = column


@dataclass(frozen=True, slots=True)
class Literal:
    """Text printed as is, escapes already decoded."""

    text: str


@dataclass(frozen=True, slots=True)
class Conversion:
    """One ``%`` conversion, consuming one argument."""

    column: int             # of the '%', 1-based
    text: str               # as written, e.g. "%-08.3lx"
    flags: str              # a subset of "-+ 0#", in that order
    width: int | None
    precision: int | None
    length: str             # "", "hh", "h", "l", "ll", "z", "j", "t" or "L"
    conversion: str         # one of CONVERSIONS
    aggregation: bool = False   # %@d in a D printa() format: the aggregation's value
    width_star: bool = False    # %*d: the width is the argument before the value
    precision_star: bool = False  # %.*s: the precision is the argument before the value
    python_spec: str = field(init=False, repr=False, compare=False)   # for finite floats
    fast: object = field(init=False, repr=False, compare=False)        # render, common cases

    def __post_init__(self) -> None:
        spec = "%" + self.flags + ("" if self.width is None else str(self.width))
        if self.precision is not None:
            spec += f".{self.precision}"
        object.__setattr__(self, "python_spec", spec + self.conversion)
        object.__setattr__(self, "fast", self._fast_renderer())

    def _fast_renderer(self):
        """``render`` for the conversions a trace prints most, plain %d and %s: the value's
        own text when it has the expected type (what render gives then), else render."""
        slow = self.render
        if self.flags or self.width is not None or self.precision is not None:
            return slow
        if self.conversion in "di":
            return lambda value: str(value) if type(value) is int else slow(value)
        if self.conversion == "s":
            return lambda value: value if type(value) is str else slow(value)
        return slow

    def render(self, value: ValueType) -> str:
        """This conversion applied to one argument; see the module docstring."""
        if value is None:
            return self._pad("?")
        conv = self.conversion
        if conv == "Y":               # D: a walltimestamp (ns) as a date
            seconds = (value if isinstance(value, int) else 0) // 1_000_000_000
            return self._pad(time.strftime("%Y %b %e %T", time.localtime(seconds)))
        if conv == "s":
            text = _as_text(value)
            return self._pad(text if self.precision is None else text[:self.precision])
        if conv == "c":
            return self._pad(_as_char(value))
        if isinstance(value, (str, bytes)):
            return self._pad(_as_text(value))
        if conv in FLOAT_CONVERSIONS:
            try:
                number = float(value)
            except (TypeError, ValueError, OverflowError):
                return self._pad(_as_text(value))
            return self._float(number)
        if isinstance(value, float):
            if not math.isfinite(value):
                return self._pad(_as_text(value))
            value = int(value)
        elif not isinstance(value, int):
            return self._pad(_as_text(value))
        return self._integer(value)

    def _pad(self, text: str) -> str:
        """Spaces up to the width, on the left, or on the right with ``-``."""
        if self.width is None or len(text) >= self.width:
            return text
        return text.ljust(self.width) if "-" in self.flags else text.rjust(self.width)

    def _sign(self, negative: bool) -> str:
        if negative:
            return "-"
        return "+" if "+" in self.flags else " " if " " in self.flags else ""

    def _integer(self, value: int) -> str:
        conv, flags = self.conversion, self.flags
        prefix = ""
        if conv in "di":
            sign, digits = self._sign(value < 0), str(abs(value))
        elif conv == "p":               # glibc: like %#lx, with the signed conversions' flags
            value %= 1 << POINTER_BITS
            sign, prefix, digits = self._sign(False), "0x", format(value, "x")
        else:
            value %= 1 << UNSIGNED_BITS[self.length]
            sign, digits = "", format(value, "d" if conv == "u" else conv)
            if conv in "xX" and "#" in flags and value:
                prefix = "0" + conv
        if self.precision is not None:
            if self.precision == 0 and value == 0 and conv != "p":
                digits = ""
            else:
                digits = digits.zfill(self.precision)
        if conv == "o" and "#" in flags and not digits.startswith("0"):
            digits = "0" + digits       # C: the precision grows until the first digit is 0
        width = self.width or 0
        if "0" in flags and "-" not in flags and self.precision is None:
            digits = digits.zfill(width - len(sign) - len(prefix))
        return self._pad(sign + prefix + digits)

    def _float(self, value: float) -> str:
        if math.isfinite(value):
            return self.python_spec % value
        text = "inf" if math.isinf(value) else "nan"
        if self.conversion in "EFG":
            text = text.upper()
        return self._pad(self._sign(math.copysign(1.0, value) < 0) + text)


@dataclass(frozen=True, slots=True)
class Format:
    """A compiled ``-f`` format: literal pieces and conversions, in order."""

    text: str
    pieces: tuple[Literal | Conversion, ...]
    conversions: int = field(init=False)        # how many arguments it consumes
    _plan: tuple = field(init=False, repr=False, compare=False)   # (piece, argument or None)
    stars: bool = field(init=False, repr=False, compare=False)  # a '*' takes an argument

    def __post_init__(self) -> None:
        plan, index = [], 0
        for piece in self.pieces:
            if isinstance(piece, Conversion):
                index += piece.width_star + piece.precision_star
                plan.append((piece, index))
                index += 1
            else:
                plan.append((piece, None))
        object.__setattr__(self, "conversions", index)
        object.__setattr__(self, "_plan", tuple(plan))
        values = sum(1 for _, argument in plan if argument is not None)
        object.__setattr__(self, "stars", index > values)     # a '*' took an argument

    def argument_roles(self) -> list[tuple[Conversion, str]]:
        """What each argument is for, in order: (its conversion, "width", "precision" or
        "value"); a ``*`` takes an argument before the value, as in C."""
        roles = []
        for piece, _ in self._plan:
            if isinstance(piece, Conversion):
                roles += [(piece, "width")] * piece.width_star + \
                    [(piece, "precision")] * piece.precision_star + [(piece, "value")]
        return roles

    @property
    def string_arguments(self) -> tuple[int, ...]:
        """Indexes (from 0) of the arguments ``%s`` takes: the tracer reads them as strings."""
        return tuple(i for i, (conv, role) in enumerate(self.argument_roles())
                     if role == "value" and conv.conversion == "s")

    def fast_renderer(self, strings: frozenset[int] = frozenset()):
        """``render`` of a values sequence as one generated function for a trace's hot
        path: a plain ``%d``/``%i`` given an int and a plain ``%s`` given a str (the common
        case) go straight into one ``%`` operation, every other conversion through its own
        ``render``. Returns None, for the caller to call ``render``, when a value is missing
        or of another type than its plain conversion expects, or when a value at an index in
        ``strings`` (arguments read as strings) is not a str."""
        if self.stars:
            return lambda values: None               # (render takes the widths)
        template, guards, parts, scope = [], [], [], {}
        for piece, index in self._plan:
            if index is None:
                template.append(piece.text.replace("%", "%%"))
                continue
            template.append("%s")
            plain = not piece.flags and piece.width is None and piece.precision is None
            if plain and piece.conversion in "dis" or index in strings:
                wanted = "str" if piece.conversion == "s" or index in strings else "int"
                guards.append(f"type(v{index}) is {wanted}")
            if plain and piece.conversion in "dis":
                parts.append(f"v{index}")
            else:
                scope[f"r{index}"] = piece.render
                parts.append(f"r{index}(v{index})")
        names = [f"v{i}" for i in range(self.conversions)]
        lines = ["def render(values):",
                 f"    if len(values) < {self.conversions}:",
                 "        return None"]
        if names:
            lines.append(f"    {', '.join(names)}, = values[:{self.conversions}]")
        if guards:
            lines.append(f"    if not ({' and '.join(guards)}):")
            lines.append("        return None")
        lines.append(f"    return {''.join(template)!r} % ({''.join(p + ', ' for p in parts)})")
        scope["__builtins__"] = {"len": len, "type": type, "int": int, "str": str}
        exec(compile("\n".join(lines) + "\n", f"<format {self.text!r}>", "exec"), scope)
        return scope["render"]

    def render(self, values: Sequence[ValueType]) -> str:
        """The format applied to ``values``, the probe's arguments in order.

        Never raises for values: ``None`` and missing values print ``?``; a value of another
        type than the conversion expects prints as described in the module docstring (``%d``
        of a str prints the str, ``%s`` of an int prints its decimal).
        """
        if self.stars:
            return "".join([piece.text if index is None else
                            _starred(piece, values, index).render(
                                values[index] if index < len(values) else None)
                            for piece, index in self._plan])
        if len(values) >= self.conversions:
            return "".join([piece.text if index is None else piece.fast(values[index])
                            for piece, index in self._plan])
        out: list[str] = []
        index = 0
        for piece in self.pieces:
            if isinstance(piece, Literal):
                out.append(piece.text)
            else:
                out.append(piece.render(values[index] if index < len(values) else None))
                index += 1
        return "".join(out)


def _starred(piece: Conversion, values, index: int) -> Conversion:
    """The conversion with its ``*`` width and precision taken from the arguments before
    ``index``, as C takes them: a negative width left-justifies, a negative precision is as
    if none was given; a missing or non-integer one counts as absent."""
    if not (piece.width_star or piece.precision_star):
        return piece
    at = index - piece.precision_star
    changes = {}
    if piece.precision_star:
        precision = values[index - 1] if 0 <= index - 1 < len(values) else None
        changes["precision"] = min(precision, MAX_WIDTH) if type(precision) is int and \
            precision >= 0 else None
    if piece.width_star:
        width = values[at - 1] if 0 <= at - 1 < len(values) else None
        if type(width) is int:
            if width < 0:
                changes["flags"] = "".join(f for f in FLAG_CHARS if f in piece.flags + "-")
            changes["width"] = min(abs(width), MAX_WIDTH)
    return replace(piece, **changes)


# D's conversions of symbols and stacks, and why usdtgen has none of them
D_SYMBOL_CONVERSIONS = {"a": " prints a kernel symbol: usdtgen has no kernel symbols",
                        "k": " prints a kernel stack: usdtgen has no kernel stacks",
                        "A": " prints a user symbol: usdtgen has no user symbols yet"}


def compile_format(text: str, label: str = "-f", aggregation: bool = False,
                   escapes: bool = True, extra_conversions: str = "",
                   stars: bool = False) -> Format:
    """Parse a ``-f`` format once; raise FormatError naming the column of the first problem.

    For D's printf() and printa() (usdtgen.trace.script): ``label`` starts error messages,
    ``aggregation`` allows the ``@`` flag, ``escapes`` False takes backslashes literally (the
    D string literal already decoded them), ``extra_conversions`` adds D's (``Y``) and
    ``stars`` allows ``*`` widths and precisions, taken from the arguments as C does.
    """
    return _Scanner(text, label, aggregation, escapes, extra_conversions, stars).run()


def _as_text(value: object) -> str:
    """How a value prints as text: a str as is, bytes decoded up to a NUL, numbers in decimal."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.split(b"\0", 1)[0].decode("utf-8", "replace")
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _as_char(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        if value == 0:
            return ""
        if 0 < value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF:
            return chr(value)
        return "\ufffd"
    return _as_text(value)


def _grow(number: int | None, digit: str) -> int:
    """``number`` with one more decimal digit, stopping just above MAX_WIDTH."""
    return min((number or 0) * 10 + int(digit), MAX_WIDTH + 1)


def _quote(text: str) -> str:
    """``'text'`` for a message, on one line: control characters shown as escapes."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return f"'{shown}'"


class _State(enum.Enum):
    TEXT = enum.auto()
    ESCAPE = enum.auto()
    HEX = enum.auto()
    OCTAL = enum.auto()
    FLAGS = enum.auto()
    WIDTH = enum.auto()
    PRECISION = enum.auto()
    LENGTH = enum.auto()


class _Scanner:
    """The state machine of the module docstring: ``step`` looks at one character."""

    def __init__(self, text: str, label: str = "-f", aggregation: bool = False,
                 escapes: bool = True, extra_conversions: str = "", stars: bool = False):
        self.text = text
        self.allow_stars = stars
        self.width_star = self.precision_star = False
        self.label = label
        self.allow_aggregation = aggregation
        self.aggregation = False
        self.escapes = escapes
        self.conversions = CONVERSIONS + extra_conversions
        self.pieces: list[Literal | Conversion] = []
        self.literal: list[str] = []
        self.escaped = bytearray()      # bytes of adjacent escapes, not yet decoded
        self.start = 0                  # index of the '\' or '%' being read
        self.digits = ""                # of a \x or octal escape
        self.flags = ""
        self.width: int | None = None
        self.precision: int | None = None
        self.length = ""
        self.pointer_width = False      # D's '?' flag

    def run(self) -> Format:
        state, i = _State.TEXT, 0
        while i < len(self.text):
            state, consumed = self.step(state, self.text[i], i)
            i += consumed
        self.finish(state)
        self.flush_literal()
        return Format(self.text, tuple(self.pieces))

    def fail(self, what: str, index: int, tail: str = "") -> NoReturn:
        raise FormatError(f"{self.label}: {what} at column {index + 1}{tail}", index + 1)

    # --- literal text -------------------------------------------------------------------

    def add_char(self, c: str) -> None:
        self.decode_escaped()
        self.literal.append(c)

    def add_byte(self, byte: int) -> None:
        self.escaped.append(byte)

    def decode_escaped(self) -> None:
        if self.escaped:
            self.literal.append(self.escaped.decode("utf-8", "replace"))
            self.escaped.clear()

    def flush_literal(self) -> None:
        self.decode_escaped()
        if self.literal:
            self.pieces.append(Literal("".join(self.literal)))
            self.literal.clear()

    # --- the machine --------------------------------------------------------------------

    def step(self, state: _State, c: str, i: int) -> tuple[_State, int]:
        """The next state, and 1 if ``c`` was used, 0 to look at it again in that state."""
        if state is _State.TEXT:
            if (c == "\\" and self.escapes) or c == "%":
                self.start, self.digits = i, ""
                if c == "\\":
                    return _State.ESCAPE, 1
                self.flags, self.width, self.precision, self.length = "", None, None, ""
                self.aggregation = self.width_star = self.precision_star = False
                self.pointer_width = False
                return _State.FLAGS, 1
            self.add_char(c)
            return _State.TEXT, 1

        if state is _State.ESCAPE:
            if c in SIMPLE_ESCAPES:
                self.add_byte(ord(SIMPLE_ESCAPES[c]))
                return _State.TEXT, 1
            if c == "x":
                return _State.HEX, 1
            if c in OCTAL_DIGITS:
                return _State.OCTAL, 0
            self.fail(f"unknown escape {_quote(chr(92) + c)}", self.start,
                      r" (escapes: \n \t \r \a \0 \\ \" \xHH \NNN)")

        if state is _State.HEX:
            if c in HEX_DIGITS and len(self.digits) < 2:
                self.digits += c
                return _State.HEX, 1
            self.end_hex()
            return _State.TEXT, 0

        if state is _State.OCTAL:
            if c in OCTAL_DIGITS and len(self.digits) < 3:
                self.digits += c
                return _State.OCTAL, 1
            self.end_octal()
            return _State.TEXT, 0

        if state is _State.FLAGS:
            if c in FLAG_CHARS:
                self.flags += c
                return _State.FLAGS, 1
            if c == "@" and self.allow_aggregation:
                self.aggregation = True
                return _State.FLAGS, 1
            if c == "'" and not self.escapes:        # D: thousands grouping, ignored
                return _State.FLAGS, 1
            if c == "?" and not self.escapes:        # D: as wide as a pointer's hex digits
                self.pointer_width = True
                return _State.FLAGS, 1
            if c in "123456789":
                self.width = 0
                return _State.WIDTH, 0
            if c == "*" and self.allow_stars:
                self.width_star = True
                return _State.WIDTH, 1
        if c == "@" and self.allow_aggregation and state in (_State.WIDTH, _State.PRECISION):
            self.aggregation = True                  # (D takes %8@d as %@8d)
            return state, 1
        if state is _State.WIDTH and c in DECIMAL_DIGITS and not self.width_star:
            self.width = _grow(self.width, c)
            return _State.WIDTH, 1
        if state in (_State.FLAGS, _State.WIDTH) and c == ".":
            self.precision = 0
            return _State.PRECISION, 1
        if state is _State.PRECISION and c == "*" and self.allow_stars and \
                not self.precision_star and self.precision == 0 and \
                self.text[i - 1] == ".":
            self.precision, self.precision_star = None, True
            return _State.PRECISION, 1
        if state is _State.PRECISION and c in DECIMAL_DIGITS and not self.precision_star:
            self.precision = _grow(self.precision, c)
            return _State.PRECISION, 1
        if state is not _State.LENGTH and c in LENGTH_CHARS:
            self.length = c
            return _State.LENGTH, 1
        if state is _State.LENGTH and c == self.length and c in "hl":
            self.length += c
            return _State.LENGTH, 1
        self.end_conversion(c, i)
        return _State.TEXT, 1

    def end_hex(self) -> None:
        if not self.digits:
            self.fail(r"'\x' without hex digits", self.start)
        self.add_byte(int(self.digits, 16))

    def end_octal(self) -> None:
        value = int(self.digits, 8)
        if value > 0o377:
            self.fail(f"octal escape {_quote(chr(92) + self.digits)}", self.start,
                      r" is out of range (at most \377)")
        self.add_byte(value)

    def end_conversion(self, c: str, i: int) -> None:
        """``c`` ends the spec begun at ``self.start``: a conversion, ``%%``, or an error."""
        written = self.text[self.start:i + 1]
        if c == "%":
            if i == self.start + 1:
                self.add_char("%")
                return
            self.fail(f"{_quote(written)}", self.start,
                      ": write '%%' for a percent sign, with no flags, width or precision")
        if c == "*":
            self.fail("'*'", i, " is not supported: write the width or precision as a number")
        if not self.escapes and c in D_SYMBOL_CONVERSIONS:
            self.fail(_quote(written), self.start, D_SYMBOL_CONVERSIONS[c])
        if c not in self.conversions:
            self.fail(f"unknown conversion {_quote(written)}", self.start,
                      f" (conversions: {' '.join(self.conversions)} %)")
        for name, value in (("width", self.width), ("precision", self.precision)):
            if value is not None and value > MAX_WIDTH:
                self.fail(f"{name} in {_quote(written)}", self.start,
                          f" is too large (at most {MAX_WIDTH})")
        flags = "".join(f for f in FLAG_CHARS if f in self.flags)
        if self.pointer_width and self.width is None:
            self.width = 2 * POINTER_BITS // 8
        if c == "p" and not self.escapes:            # D: a pointer in hex, without 0x
            c, self.length = "x", "l"
        self.flush_literal()
        if (self.width_star or self.precision_star) and self.aggregation:
            self.fail(f"'*' in {_quote(written)}", self.start, " does not go with '@'")
        self.pieces.append(Conversion(self.start + 1, written, flags, self.width, self.precision,
                                      self.length, c, self.aggregation, self.width_star,
                                      self.precision_star))

    def finish(self, state: _State) -> None:
        """The end of the text, in ``state``."""
        if state is _State.TEXT:
            return
        if state is _State.HEX:
            self.end_hex()
        elif state is _State.OCTAL:
            self.end_octal()
        elif state is _State.ESCAPE:
            self.fail("'\\' at the end of the format,", self.start)
        else:
            written = self.text[self.start:]
            hint = " (write '%%' for a percent sign)" if written == "%" else ""
            self.fail(f"{_quote(written)} at the end of the format,", self.start, hint)

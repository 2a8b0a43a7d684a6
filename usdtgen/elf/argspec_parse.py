"""Parse one argument of a stapsdt note's argument string ("-4@%edi", "8@[sp, 16]") into an
ArgSpec, with a recursive-descent parser per architecture over the grammars below.

x86-64, AT&T operands::

    args         := [arg (BLANKS arg)*] [BLANKS]
    arg          := [SIZE] (REGISTER | memory | immediate)
    memory       := [displacement] "(" [REGISTER] ["," REGISTER ["," INT]] ")"
    displacement := INT | SYMBOL [SIGN INT] | INT SIGN SYMBOL
    immediate    := "$" INT | "$" SYMBOL [SIGN INT]

aarch64 (``args`` as above)::

    arg          := [SIZE] (REGISTER | memory | immediate)
    memory       := "[" REGISTER ["," [BLANKS] (INT | REGISTER | "#" ":lo12:" SYMBOL)] "]"
    immediate    := ["#"] INT

The terminals are the patterns of ``TERMINALS``, each tried only where the grammar allows
it. Syntax comes first: a string that does not follow its grammar "cannot be read"; one
that does may still mean nothing usable (an unknown or zero register, a negated symbol, a
size of 0), reported for the first such part, left to right and inner parts first.
"""
from __future__ import annotations

import re
from functools import lru_cache

from usdtgen.elf.argspec import REGISTERS, WORD_SIZE, ArgSpec, Immediate, Memory, Register

_INT = r"-?(?:0[xX][0-9a-fA-F]+|[0-9]+)"
TERMINALS = {
    "x86_64": {"SIZE": r"-?[0-9]+f?@", "REGISTER": r"%[a-z][a-z0-9]*", "INT": _INT,
               "SIGN": r"[+-]", "SYMBOL": r"[A-Za-z_.][A-Za-z0-9_.$@]*", "BLANKS": r"[ \t]+"},
    "aarch64": {"SIZE": r"-?[0-9]+f?@",
                "REGISTER": r"(?:x[0-9]+|w[0-9]+|sp|wsp|xzr|wzr|[bhsdqv][0-9]+)"
                            r"(?![A-Za-z0-9_])",
                "INT": _INT, "SYMBOL": r"[A-Za-z_.$][A-Za-z0-9_.$]*", "BLANKS": r"[ \t]+"},
}
_MATCHERS = {machine: {name: re.compile(pattern).match for name, pattern in terminals.items()}
             for machine, terminals in TERMINALS.items()}


class _BadSpec(Exception):
    """The argument follows the grammar but cannot be used: the reason."""


class _Syntax(Exception):
    """The argument does not follow the grammar."""


class _Parser:
    """Reads the arguments of one string into nested tuples of their tokens' text
    (``_build`` gives them meaning once the whole string has parsed):

    x86-64 operands: ("register", name) | ("number_immediate", int)
    | ("symbol_immediate", symbol, sign, int) | ("memory", displacement, base, index,
    scale), a displacement being None | ("number", int) | ("symbol", symbol, sign, int)
    | ("number_symbol", int, sign, symbol); aarch64 operands: ("register", name)
    | ("number_immediate", int) | ("memory", base, None | ("int", int)
    | ("register", name) | ("lo12", symbol)). Absent optional parts are None.
    """

    def __init__(self, text: str, machine: str):
        self.text = text
        self.at = 0
        self.terminals = _MATCHERS[machine]
        self.operand = self.x86_operand if machine == "x86_64" else self.aarch64_operand

    def take(self, terminal: str) -> str | None:
        """The text of ``terminal`` at the current position, consumed; None if absent."""
        found = self.terminals[terminal](self.text, self.at)
        if found is None:
            return None
        self.at = found.end()
        return found.group()

    def take_literal(self, literal: str) -> bool:
        if self.text.startswith(literal, self.at):
            self.at += len(literal)
            return True
        return False

    @staticmethod
    def need(part):
        """``part`` when the grammar found it; _Syntax when it is missing."""
        if part is None or part is False:
            raise _Syntax
        return part

    def args(self) -> list[tuple[str | None, tuple]]:
        """(SIZE text or None, operand) of every argument, the whole text read."""
        parsed = []
        if self.at < len(self.text):
            parsed.append((self.take("SIZE"), self.operand()))
        while self.at < len(self.text):
            self.need(self.take("BLANKS"))
            if self.at < len(self.text):
                parsed.append((self.take("SIZE"), self.operand()))
        return parsed

    def x86_operand(self) -> tuple:
        register = self.take("REGISTER")
        if register is not None:
            return ("register", register)
        if self.take_literal("$"):
            number = self.take("INT")
            if number is not None:
                return ("number_immediate", number)
            symbol = self.need(self.take("SYMBOL"))
            sign = self.take("SIGN")
            return ("symbol_immediate", symbol, sign,
                    self.need(self.take("INT")) if sign is not None else None)
        displacement = None
        number = self.take("INT")
        if number is not None:
            sign = self.take("SIGN")
            displacement = ("number", number) if sign is None else \
                ("number_symbol", number, sign, self.need(self.take("SYMBOL")))
        else:
            symbol = self.take("SYMBOL")
            if symbol is not None:
                sign = self.take("SIGN")
                displacement = ("symbol", symbol, sign,
                                self.need(self.take("INT")) if sign is not None else None)
        self.need(self.take_literal("("))
        base, index, scale = self.take("REGISTER"), None, None
        if self.take_literal(","):
            index = self.need(self.take("REGISTER"))
            if self.take_literal(","):
                scale = self.need(self.take("INT"))
        self.need(self.take_literal(")"))
        return ("memory", displacement, base, index, scale)

    def aarch64_operand(self) -> tuple:
        register = self.take("REGISTER")
        if register is not None:
            return ("register", register)
        if not self.take_literal("["):
            self.take_literal("#")
            return ("number_immediate", self.need(self.take("INT")))
        base, extra = self.need(self.take("REGISTER")), None
        if self.take_literal(","):
            self.take("BLANKS")
            number = self.take("INT")
            index = self.take("REGISTER") if number is None else None
            if number is not None:
                extra = ("int", number)
            elif index is not None:
                extra = ("register", index)
            else:
                self.need(self.take_literal("#") and self.take_literal(":lo12:"))
                extra = ("lo12", self.need(self.take("SYMBOL")))
        self.need(self.take_literal("]"))
        return ("memory", base, extra)


def _register(written: str, machine: str) -> Register:
    name = written.lstrip("%")
    if name in ("xzr", "wzr"):
        raise _BadSpec(f"zero register '{name}'")
    try:
        return REGISTERS[machine][name]
    except KeyError:
        raise _BadSpec(f"unknown register '{written}'") from None


def _signed(sign: str | None, number: str | None) -> int:
    """SIGN INT as a number (0 without them); INT may carry its own '-'."""
    if number is None:
        return 0
    return int(number, 0) * (-1 if sign == "-" else 1)


def _location(operand: tuple, machine: str):
    """Where the parsed operand's value is: a Register, Memory or Immediate."""
    kind = operand[0]
    if kind == "register":
        return _register(operand[1], machine)
    if kind == "number_immediate":
        return Immediate(int(operand[1], 0))
    if kind == "symbol_immediate":
        _, symbol, sign, number = operand
        return Immediate(_signed(sign, number), symbol)
    return _x86_memory(operand, machine) if machine == "x86_64" else \
        _aarch64_memory(operand, machine)


def _x86_memory(operand: tuple, machine: str) -> Memory:
    _, displacement, base, index, scale = operand
    offset, symbol = 0, None
    if displacement is not None:
        if displacement[0] == "number":
            offset = int(displacement[1], 0)
        elif displacement[0] == "symbol":
            _, symbol, sign, number = displacement
            offset = _signed(sign, number)
        else:
            _, number, sign, symbol = displacement
            if sign == "-":
                raise _BadSpec(f"negated symbol in '{number}-{symbol}'")
            offset = int(number, 0)
    return Memory(_register(base, machine) if base is not None else None, offset, symbol,
                  _register(index, machine) if index is not None else None,
                  int(scale, 0) if scale is not None else 1)


def _aarch64_memory(operand: tuple, machine: str) -> Memory:
    _, base, extra = operand
    base = _register(base, machine)
    if extra is None:
        return Memory(base)
    if extra[0] == "lo12":
        return Memory(base, symbol=extra[1], page_offset=True)
    if extra[0] == "register":
        return Memory(base, index=_register(extra[1], machine))
    return Memory(base, int(extra[1], 0))


def _build(size: str | None, location) -> ArgSpec:
    """The ArgSpec of one parsed argument (its text is set by the caller)."""
    if size is None:
        return ArgSpec("", WORD_SIZE, True, False, location, size_given=False)
    text = size[:-1]                                   # without the '@'
    number = int(text.rstrip("f"))
    if number == 0:
        raise _BadSpec("argument size 0")
    return ArgSpec("", abs(number), number < 0, text.endswith("f"), location)


@lru_cache(maxsize=65536)
def parse_one(text: str, machine: str) -> ArgSpec | str:
    """One argument ("-4@%edi") as an ArgSpec, or the reason it cannot be read."""
    try:
        specs = [_build(size, _location(operand, machine))
                 for size, operand in _Parser(text, machine).args()]
    except _BadSpec as e:
        return f"{e} in {text!r}"
    except (_Syntax, ValueError):          # ValueError: int() of a number such as 010
        return f"cannot read argument {text!r}"
    if len(specs) != 1:
        return f"cannot read argument {text!r}"
    spec = specs[0]
    return ArgSpec(text, spec.size, spec.signed, spec.is_float, spec.location, spec.size_given)

"""The lark side of argument-spec parsing: the grammars' transformer into ArgSpec objects.

Kept apart from ``argspec`` so that importing the spec model does not import lark.
"""
from __future__ import annotations

from functools import lru_cache

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError

from usdtgen.elf.argspec import REGISTERS, WORD_SIZE, ArgSpec, Immediate, Memory, Register
from usdtgen.grammar import load_grammar


class _BadSpec(Exception):
    pass


class _Build(Transformer):
    def __init__(self, machine: str):
        super().__init__()
        self.registers = REGISTERS[machine]

    def _register(self, token: Token) -> Register:
        name = token.value.lstrip("%")
        if name in ("xzr", "wzr"):
            raise _BadSpec(f"zero register '{name}'")
        try:
            return self.registers[name]
        except KeyError:
            raise _BadSpec(f"unknown register '{token.value}'") from None

    def register(self, children):
        return self._register(children[0])

    def number_displacement(self, children):
        return (int(children[0].value, 0), None)

    def symbol_displacement(self, children):
        symbol, sign, value = children
        offset = int(value.value, 0) * (-1 if sign is not None and sign.value == "-" else 1) \
            if value is not None else 0
        return (offset, symbol.value)

    def number_symbol_displacement(self, children):
        value, sign, symbol = children
        if sign.value == "-":
            raise _BadSpec(f"negated symbol in '{value}-{symbol}'")
        return (int(value.value, 0), symbol.value)

    def memory(self, children):
        if len(children) == 2:          # aarch64: [base, offset-or-index]
            base, extra = children
            base = self._register(base)
            if extra is None:
                return Memory(base)
            if isinstance(extra, str) and not isinstance(extra, Token):
                return Memory(base, symbol=extra, page_offset=True)
            if extra.type == "REGISTER":
                return Memory(base, index=self._register(extra))
            return Memory(base, int(extra.value, 0))
        displacement, base, index, scale = children
        offset, symbol = displacement if displacement is not None else (0, None)
        return Memory(self._register(base) if base is not None else None, offset, symbol,
                      self._register(index) if index is not None else None,
                      int(scale.value, 0) if scale is not None else 1)

    def lo12(self, children):
        return str(children[0].value)

    def number_immediate(self, children):
        return Immediate(int(children[0].value, 0))

    def symbol_immediate(self, children):
        symbol, sign, value = children
        offset = int(value.value, 0) * (-1 if sign is not None and sign.value == "-" else 1) \
            if value is not None else 0
        return Immediate(offset, symbol.value)

    def immediate(self, children):          # aarch64
        return Immediate(int(children[-1].value, 0))

    def arg(self, children):
        size_token, location = children
        if size_token is None:
            return ArgSpec("", WORD_SIZE, True, False, location, size_given=False)
        text = size_token.value[:-1]
        is_float = text.endswith("f")
        number = int(text.rstrip("f"))
        if number == 0:
            raise _BadSpec("argument size 0")
        return ArgSpec("", abs(number), number < 0, is_float, location)

    def start(self, children):
        return [c for c in children if c is not None]


def _parser(machine: str) -> Lark:
    return load_grammar("usdtgen.elf", f"argspec_{machine}.lark")


@lru_cache(maxsize=65536)
def parse_one(text: str, machine: str) -> ArgSpec | str:
    """One argument ("-4@%edi") as an ArgSpec, or the reason it cannot be read."""
    try:
        specs = _Build(machine).transform(_parser(machine).parse(text))
    except _BadSpec as e:
        return f"{e} in {text!r}"
    except LarkError as e:
        cause = getattr(e, "orig_exc", None)
        if isinstance(cause, _BadSpec):
            return f"{cause} in {text!r}"
        return f"cannot read argument {text!r}"
    if len(specs) != 1:
        return f"cannot read argument {text!r}"
    spec = specs[0]
    return ArgSpec(text, spec.size, spec.signed, spec.is_float, spec.location, spec.size_given)

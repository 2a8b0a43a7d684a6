"""Parse D script text into a lark tree whose nodes know their line and column.

The first line of a script may be a ``#!`` line (``#!/usr/sbin/dtrace -qs``): it is kept out
of the grammar, and its ``-q`` flag is reported so the script runs quiet as it would there.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from usdtgen.errors import Diagnostic, Loc, ScriptError
from usdtgen.grammar import load_grammar
from usdtgen.provider.cpp import original_line, scan_line_markers
from usdtgen.trace.script.types import PRELUDE

_TOKEN_WORDS = {
    "PROBEDESC": "a probe description", "SLASH": "'/'", "EPRED": "'/' ending the predicate",
    "LBRACE": "'{'", "RBRACE": "'}'", "SEMICOLON": "';'", "LPAR": "'('", "RPAR": "')'",
    "NAME": "a name", "INT": "a number", "STRING": "a string", "COMMA": "','",
    "ASSIGN_OP": "'='", "RSQB": "']'", "LSQB": "'['", "COLON": "':'",
}


@dataclass(frozen=True, slots=True)
class ParsedScript:
    tree: Tree
    text: str
    filename: str
    shebang_quiet: bool          # the #! line asked for -q
    markers: tuple = ()          # cpp's line markers (usdtgen trace -C): where lines came from


def source_line(text: str, line: int) -> str:
    lines = text.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


def error_at(text: str, filename: str, line: int, col: int, message: str, hint: str = "",
             markers=()) -> ScriptError:
    """An error at ``line``:``col`` of ``text``; after cpp (``markers``), named by the file and
    line the text came from."""
    file, original = original_line(markers, filename, line)
    return ScriptError([Diagnostic("error", Loc(file, original, col), message, hint,
                                   source_line(text, line))])


def without_line_markers(text: str, filename: str) -> tuple[str, tuple]:
    """cpp's output with its line markers blanked (lines keep their numbers), and the
    markers, to name the file and line each line came from."""
    markers = scan_line_markers(text, filename)
    if not markers:
        return text, ()
    lines = text.split("\n")
    for marker in markers:
        lines[marker.physical_line - 1] = ""
    return "\n".join(lines), tuple(markers)


# The names the script being parsed makes types with typedef: C's grammar needs them told
# apart from other names before parsing (``(T) x`` is a cast only when T is a type).
_typedef_names: set[str] = set()


def _retype(token: Token) -> Token:
    """A NAME (or at the top level, a probe-description-like word) that the script made a
    type is a TYPEDEF_NAME; a TYPEDEF_NAME that is not one is a NAME."""
    is_type = token.value in _typedef_names
    if token.type == "TYPEDEF_NAME":
        return token if is_type else Token.new_borrow_pos("NAME", token.value, token)
    return Token.new_borrow_pos("TYPEDEF_NAME", token.value, token) if is_type else token


_TYPE_WORDS = re.compile(r"(char|short|int|long|unsigned|signed|void|string|u?int(8|16|32|64)_t|"
                         r"s?size_t|u?intptr_t|uchar_t|ushort_t|uint_t|ulong_t)$")


def _is_scoped_type(text: str) -> bool:
    """``D`int``, ``C`uint32_t``, ``D`my_t``: a type named in a module's scope."""
    name = text.rpartition("`")[2]
    return bool(_TYPE_WORDS.match(name)) or name in _typedef_names


class _TypedefNames:
    """The parser's postlex step: retypes names (lark's lexer callbacks cannot, on a
    terminal that keywords share)."""

    always_accept = ()
    retyped = frozenset(("NAME", "TYPEDEF_NAME", "PROBEDESC"))

    def process(self, stream):
        for token in stream:
            if token.type in self.retyped:
                yield _retype(token)
            elif token.type == "SCOPED_NAME" and _is_scoped_type(token.value):
                yield Token.new_borrow_pos("SCOPED_TYPE", token.value, token)
            elif token.type == "SCOPED_TYPE" and not _is_scoped_type(token.value):
                yield Token.new_borrow_pos("SCOPED_NAME", token.value, token)
            else:
                yield token


_POSTLEX = _TypedefNames()


def typedef_names(text: str) -> set[str]:
    """The names declared by the ``typedef`` declarations of ``text``: the declarators' names
    (the last word of each, outside braces, brackets and parameter lists)."""
    names = set()
    without_comments = re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)
    for match in re.finditer(r"(?<![A-Za-z0-9_])typedef(?![A-Za-z0-9_])", without_comments):
        depth, at, start = 0, match.end(), match.end()
        pieces = []
        while at < len(without_comments):
            char = without_comments[at]
            if char in "{[(":
                depth += 1
            elif char in "}])":
                depth -= 1
            elif depth == 0 and char in ",;":
                pieces.append(_flat(without_comments[start:at]))
                start = at + 1
                if char == ";":
                    break
            at += 1
        for piece in pieces:
            words = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", piece)
            pointer = re.search(r"\(\s*\*\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)", piece)
            if pointer:
                names.add(pointer.group(1))
            elif words:
                names.add(words[-1])
    return names


def _flat(text: str) -> str:
    """``text`` with what is inside braces and brackets removed (parentheses kept)."""
    out, depth = [], 0
    for char in text:
        if char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
        elif depth == 0:
            out.append(char)
    return "".join(out)


_PRELUDE_TYPES = typedef_names(PRELUDE)        # (the types every script has)


def _expected(err: UnexpectedInput) -> str:
    names = sorted(getattr(err, "expected", None) or getattr(err, "allowed", None) or ())
    if len(names) > 1:
        names = [n for n in names if n != "EPRED"]
    words = sorted({_TOKEN_WORDS.get(n, None) or (n.lower().replace("_", " ")
                    if not n.startswith("__") else "") for n in names} - {""})
    return ", ".join(words[:6]) + (", ..." if len(words) > 6 else "")


def _eof_hint(text: str, err) -> str:
    opened = text.count("{") - text.count("}")
    if opened > 0:
        return "a '}' is missing"
    return f"expected {_expected(err)}"


def parse_script(text: str, filename: str = "<script>", require_blocks: bool = False) \
        -> ParsedScript:
    """The tree of a D script; raises ScriptError (``file:line:col`` with a caret). With
    ``require_blocks`` (a script file, as dtrace -s reads it), every probe description is
    followed by an action block."""
    quiet = False
    text, markers = without_line_markers(text, filename)
    body = text
    if text.startswith("#!"):
        first, _, rest = text.partition("\n")
        flags = [word for word in first.split()[1:] if word.startswith("-")]
        quiet = any("q" in flag[1:] for flag in flags)
        body = " " * len(first) + "\n" + rest          # keep lines and columns
    parser = load_grammar("usdtgen.trace.script", "d.lark", positions=True,
                          postlex=_POSTLEX)
    _typedef_names.clear()
    _typedef_names.update(typedef_names(body) | _PRELUDE_TYPES)
    try:
        tree = parser.parse(body)
    except UnexpectedEOF as err:
        lines = text.splitlines() or [""]
        raise error_at(text, filename, len(lines), len(lines[-1]) + 1,
                       "unexpected end of script", _eof_hint(text, err), markers) from None
    except UnexpectedCharacters as err:
        raise error_at(text, filename, err.line, err.column,
                       f"unexpected character {text[err.pos_in_stream]!r}" if
                       err.pos_in_stream < len(text) else "unexpected character",
                       f"expected {_expected(err)}" if _expected(err) else "",
                       markers) from None
    except UnexpectedToken as err:
        token = err.token
        if token.type == "$END":
            lines = text.splitlines() or [""]
            raise error_at(text, filename, len(lines), len(lines[-1]) + 1,
                           "unexpected end of script", _eof_hint(text, err), markers) from None
        raise error_at(text, filename, token.line, token.column,
                       f"syntax error near {str(token)!r}",
                       f"expected {_expected(err)}" if _expected(err) else "",
                       markers) from None
    if require_blocks:
        for clause in tree.find_data("clause"):
            probe_list, predicate, body = clause.children
            if body is None:
                token = probe_list.children[-1]
                hint = "add { } after it" if not re.fullmatch(r"[A-Za-z_]\w*", str(token)) \
                    else f"if {token} is meant as a type, D does not know it: declare it " \
                         "with typedef or struct"
                raise error_at(text, filename, token.line, token.column,
                               f"probe description {token} must be followed by an action "
                               "block { ... } in a script", hint, markers)
    return ParsedScript(tree, text, filename, quiet, markers)

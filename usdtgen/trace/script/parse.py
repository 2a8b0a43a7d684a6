"""Parse D script text into a lark tree whose nodes know their line and column.

The first line of a script may be a ``#!`` line (``#!/usr/sbin/dtrace -qs``): it is kept out
of the grammar, and its ``-q`` flag is reported so the script runs quiet as it would there.
"""
from __future__ import annotations

from dataclasses import dataclass

from lark import Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from usdtgen.errors import Diagnostic, Loc, ScriptError
from usdtgen.grammar import load_grammar
from usdtgen.provider.cpp import original_line, scan_line_markers

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


def parse_script(text: str, filename: str = "<script>") -> ParsedScript:
    """The tree of a D script; raises ScriptError (``file:line:col`` with a caret)."""
    quiet = False
    text, markers = without_line_markers(text, filename)
    body = text
    if text.startswith("#!"):
        first, _, rest = text.partition("\n")
        flags = [word for word in first.split()[1:] if word.startswith("-")]
        quiet = any("q" in flag[1:] for flag in flags)
        body = " " * len(first) + "\n" + rest          # keep lines and columns
    parser = load_grammar("usdtgen.trace.script", "d.lark", positions=True)
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
    return ParsedScript(tree, text, filename, quiet, markers)

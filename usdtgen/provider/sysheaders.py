"""Keep of the system headers a provider file includes (``-C``) only what D can use.

cpp's output of ``#include <sys/types.h>`` holds C that is not D (static inline functions,
prototypes, ``__attribute__``); as DTrace and systemtap's dtrace do, those declarations are
skipped, and typedefs and struct, union and enum definitions are kept (blanked text keeps
every line where it was, so positions in the user's own file do not move).
"""
from __future__ import annotations

import re

# `# 12 "/usr/include/stdio.h" 1 3 4`: flag 3 says the text that follows is a system header's
_MARKER = re.compile(r'#\s*(?:line\s+)?\d+(?:\s+"(?:[^"\\]|\\.)*")?((?:\s+\d+)*)\s*$')
_KEPT_START = re.compile(r"\s*(typedef|struct|union|enum)\b")
_AGGREGATE_ONLY = re.compile(r"\s*(struct|union|enum)\s*(\w+\s*)?(\{.*\}\s*)?;\s*$", re.S)
_NOISE = re.compile(r"\b(__attribute__|__attribute|__asm__|__asm|__declspec)\s*(?=\()|"
                    r"\b(__extension__|__restrict__|__restrict|__inline__|__inline|"
                    r"_Noreturn|__signed__|__const__|__volatile__)\b")


def system_lines(text: str) -> list[bool]:
    """Per line of cpp output: whether it is a system header's (marker lines are not)."""
    flags, in_system = [], False
    for line in text.split("\n"):
        if line.startswith("#"):
            marker = _MARKER.match(line)
            if marker:
                in_system = "3" in marker.group(1).split()
            flags.append(False)
        else:
            flags.append(in_system)
    return flags


def strip_system_c(text: str, drop_at: tuple[int, int] | None = None) -> str:
    """``text`` (cpp output) with the system headers' declarations that are not D blanked:
    functions and their bodies, prototypes, variables, and GNU keywords and attributes in
    what is kept. Lines of the user's own files are left as they are. ``drop_at`` (line,
    column, from 1) blanks the declaration there too: one the grammar could not read."""
    lines = text.split("\n")
    in_system = system_lines(text)
    out = list(lines)
    run: list[int] = []
    for number, line in enumerate(lines + ["#"]):
        if number < len(lines) and (in_system[number] or (run and line.startswith("#"))):
            run.append(number)                 # a marker inside a header's text stays in it
            continue
        if run:
            _strip_run(lines, run, in_system, out, drop_at)
            run = []
    return "\n".join(out)


def _strip_run(lines: list[str], numbers: list[int], in_system: list[bool],
               out: list[str], drop_at: tuple[int, int] | None) -> None:
    """Blank the non-D declarations of one run of system header lines (in ``out``). cpp's
    markers inside a declaration (where it skipped blank lines) are blanked too: the
    grammar takes them only between declarations."""
    texts = [lines[n] if in_system[n] else " " * len(lines[n]) for n in numbers]
    chars = list("\n".join(texts))
    starts, offset = [], 0
    for text in texts:
        starts.append(offset)
        offset += len(text) + 1
    dropped = -1
    if drop_at is not None and drop_at[0] - 1 in numbers:
        dropped = starts[numbers.index(drop_at[0] - 1)] + drop_at[1] - 1
    begun = []                                   # (first non-blank, end) of each declaration
    for start, end in _declarations(chars):
        declaration = _NOISE.sub(" ", "".join(chars[start:end]))
        begun.append((start + len(declaration) - len(declaration.lstrip()), end))
        if _is_d(declaration) and not start <= dropped < end:
            _blank_noise(chars, start, end)
        else:
            _blank(chars, start, end)
    for number, at, text in zip(numbers, starts, "".join(chars).split("\n")):
        if in_system[number]:
            out[number] = text
        elif any(first < at < end for first, end in begun):
            out[number] = ""                     # a marker inside a declaration


def _is_d(declaration: str) -> bool:
    """A typedef, or a struct, union or enum declared with no variable or function."""
    kept = _KEPT_START.match(declaration)
    if kept is None:
        return False
    return kept.group(1) == "typedef" or _AGGREGATE_ONLY.match(declaration) is not None


def _declarations(chars: list[str]):
    """(start, end) of each top-level declaration: up to a ';' outside braces and
    parentheses, or to the '}' that closes a function's body."""
    start, depth, index, size = 0, 0, 0, len(chars)
    body_of_function = False
    while index < size:
        char = chars[index]
        if char in "\"'":
            index = _skip_literal(chars, index)
            continue
        if char in "({[":
            if char == "{" and depth == 0:
                body_of_function = _last_significant(chars, start, index) == ")"
            depth += 1
        elif char in ")}]":
            depth = max(0, depth - 1)
            if char == "}" and depth == 0 and body_of_function:
                yield start, index + 1
                start, body_of_function = index + 1, False
        elif char == ";" and depth == 0:
            yield start, index + 1
            start = index + 1
        index += 1
    if "".join(chars[start:]).strip():
        yield start, size                     # an unfinished declaration: not D either


def _skip_literal(chars: list[str], index: int) -> int:
    quote, index = chars[index], index + 1
    while index < len(chars) and chars[index] not in (quote, "\n"):
        index += 2 if chars[index] == "\\" else 1
    return index + 1


def _last_significant(chars: list[str], start: int, end: int) -> str:
    text = _NOISE.sub(" ", "".join(chars[start:end]))
    text = re.sub(r"\(\s*\([^()]*(\([^()]*\)[^()]*)*\)\s*\)", " ", text)  # ((attribute))
    stripped = text.rstrip()
    return stripped[-1] if stripped else ""


def _blank(chars: list[str], start: int, end: int) -> None:
    for index in range(start, end):
        if chars[index] != "\n":
            chars[index] = " "


def _blank_noise(chars: list[str], start: int, end: int) -> None:
    """Blank GNU keywords, and attributes with their parenthesized arguments."""
    text = "".join(chars[start:end])
    for match in _NOISE.finditer(text):
        stop = start + match.end()
        if match.group(1):                    # __attribute__ (( ... )): to the matching ')'
            depth, index = 0, stop
            while index < end:
                if chars[index] == "(":
                    depth += 1
                elif chars[index] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                index += 1
            stop = min(index + 1, end)
        _blank(chars, start + match.start(), stop)

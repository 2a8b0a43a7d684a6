"""Run the C preprocessor over a provider file (``usdtgen -C``), as dtrace -C does.

Uses ``$CPP`` when set (it may hold arguments, e.g. ``gcc -E``), else ``cpp``. The output keeps
cpp's line markers, which the parser follows so errors name the original file and line.
"""
from __future__ import annotations

import codecs
import os
import re
import shlex
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from usdtgen.errors import PreprocessorError


def preprocess(path: str, includes: Sequence[str] = (), defines: Sequence[str] = (),
               undefines: Sequence[str] = (), text: str | None = None) -> str:
    """Return the preprocessed text of ``path`` (or of ``text``, named ``path`` in cpp's line
    markers). Raises PreprocessorError with cpp's message."""
    command = shlex.split(os.environ.get("CPP", "") or "cpp")
    command += ["-x", "c"]
    command += [f"-I{d}" for d in includes]
    command += [f"-D{d}" for d in defines]
    command += [f"-U{u}" for u in undefines]
    command.append(path if text is None else "-")
    try:
        result = subprocess.run(command, capture_output=True, text=True, errors="replace",
                                input=text)
    except OSError as e:
        raise PreprocessorError(f"{path}: cannot run the C preprocessor '{command[0]}': {e.strerror}"
                                " (set $CPP to one that works)") from e
    if result.returncode != 0:
        message = result.stderr.strip() or f"'{command[0]}' exited with status {result.returncode}"
        raise PreprocessorError(message.replace("<stdin>", path) if text is not None
                                else message)
    if text is not None:                      # cpp names standard input "<stdin>"
        return result.stdout.replace('"<stdin>"', '"' + path.replace('"', '\\"') + '"')
    return result.stdout


LINE_MARKER = re.compile(r'#\s*(?:line\s+)?(\d+)(?:\s+"((?:[^"\\]|\\.)*)")?')


@dataclass(frozen=True, slots=True)
class LineMarker:
    physical_line: int      # the line holding the marker
    line: int               # the line number the next physical line has
    file: str


def parse_line_marker(value: str) -> tuple[int, str | None] | None:
    """``# 12 "file.d" 1`` or ``#line 12 "file.d"`` → (12, "file.d"); anything else → None."""
    m = LINE_MARKER.match(value)
    if not m:
        return None
    file = m.group(2)
    if file is not None and "\\" in file:     # cpp escapes \ and " and odd bytes (octal)
        file = os.fsdecode(codecs.escape_decode(os.fsencode(file))[0])
    return int(m.group(1)), file


def scan_line_markers(text: str, path: str) -> list[LineMarker]:
    """The line markers of preprocessed text, line by line."""
    markers, current = [], path
    for number, line in enumerate(text.split("\n"), start=1):
        if line.startswith("#"):
            marker = parse_line_marker(line)
            if marker:
                current = marker[1] if marker[1] is not None else current
                markers.append(LineMarker(number, marker[0], current))
    return markers


def original_line(markers: Sequence[LineMarker], path: str, line: int) -> tuple[str, int]:
    """(file, line) that line ``line`` of the preprocessed text came from."""
    file, logical = path, line
    for marker in markers:
        if marker.physical_line < line:
            file, logical = marker.file, marker.line + (line - marker.physical_line - 1)
        else:
            break
    return file, logical

"""Run the C preprocessor over a provider file (``usdtgen -C``), as dtrace -C does.

Uses ``$CPP`` when set (it may hold arguments, e.g. ``gcc -E``), else ``cpp``. The output keeps
cpp's line markers, which the parser follows so errors name the original file and line.
"""
from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Sequence

from usdtgen.errors import PreprocessorError


def preprocess(path: str, includes: Sequence[str] = (), defines: Sequence[str] = (),
               undefines: Sequence[str] = ()) -> str:
    """Return the preprocessed text of ``path``. Raises PreprocessorError with cpp's message."""
    command = shlex.split(os.environ.get("CPP", "") or "cpp")
    command += ["-x", "c"]
    command += [f"-I{d}" for d in includes]
    command += [f"-D{d}" for d in defines]
    command += [f"-U{u}" for u in undefines]
    command.append(path)
    try:
        result = subprocess.run(command, capture_output=True, text=True, errors="replace")
    except OSError as e:
        raise PreprocessorError(f"{path}: cannot run the C preprocessor '{command[0]}': {e.strerror}"
                                " (set $CPP to one that works)") from e
    if result.returncode != 0:
        message = result.stderr.strip() or f"'{command[0]}' exited with status {result.returncode}"
        raise PreprocessorError(message)
    return result.stdout

"""The one exception hierarchy of usdtgen, and the diagnostics that parsed input produces.

Library code raises these; only ``usdtgen.cli`` turns them into exit codes and messages.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Loc:
    """A position in a source file, 1-based line and column."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding about the input: an error or a warning, at a place, with an optional hint."""

    severity: str  # "error" or "warning"
    loc: Loc
    message: str
    hint: str = ""
    source_line: str = ""

    def render(self) -> str:
        """``file:line:col: severity: message``, then the source line with a caret, then the hint."""
        lines = [f"{self.loc}: {self.severity}: {self.message}"]
        if self.source_line:
            text = self.source_line.rstrip("\n").expandtabs(1)
            lines.append("    " + text)
            lines.append("    " + " " * max(self.loc.col - 1, 0) + "^")
        if self.hint:
            lines.append(f"    hint: {self.hint}")
        return "\n".join(lines)


class UsdtgenError(Exception):
    """Base of every error usdtgen raises on purpose."""


class ProviderError(UsdtgenError):
    """A provider file that cannot be used: syntax or semantic errors, all collected."""

    def __init__(self, diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]):
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(d.render() for d in self.diagnostics))


class ProviderSyntaxError(ProviderError):
    """The provider file does not follow the D provider grammar."""


class PreprocessorError(UsdtgenError):
    """The C preprocessor (``-C``) failed or could not be run."""


class ElfError(UsdtgenError):
    """An ELF file that cannot be read or written as asked."""


class TargetError(UsdtgenError):
    """A target (path, program name or process) that cannot be used."""


class TraceError(UsdtgenError):
    """Tracing cannot start or go on: permissions, tracefs, the kernel, the target."""


class ScriptError(UsdtgenError):
    """A D script that cannot be compiled: syntax errors, unknown names, wrong arguments."""

    def __init__(self, diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]):
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(d.render() for d in self.diagnostics))

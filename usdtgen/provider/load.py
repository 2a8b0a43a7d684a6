"""Load a provider file: read it, preprocess it (-C), parse it and check it."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from usdtgen.errors import Diagnostic, ProviderError
from usdtgen.provider.check import check_provider_file
from usdtgen.provider.cpp import preprocess
from usdtgen.provider.model import ProviderFile
from usdtgen.provider.parser import parse_provider_source, read_provider_source
from usdtgen.provider.sysheaders import strip_system_c


def load_provider_file(path: str, use_cpp: bool = False, includes: Sequence[str] = (),
                       defines: Sequence[str] = (), undefines: Sequence[str] = (),
                       strict: bool = False) -> tuple[ProviderFile, list[Diagnostic]]:
    """Read, (optionally) preprocess, parse and check a provider file.

    Returns the model and its warnings. Raises ProviderError (or ProviderSyntaxError) with
    every error found, PreprocessorError when cpp fails, OSError when the file cannot be read.
    """
    return load_provider_text(provider_text(path, use_cpp, includes, defines, undefines),
                              path, strict)


def provider_text(path: str, use_cpp: bool = False, includes: Sequence[str] = (),
                  defines: Sequence[str] = (), undefines: Sequence[str] = ()) -> str:
    """The text a provider file is parsed from: the file, or cpp's output with ``use_cpp``."""
    if use_cpp:
        read_provider_source(path)             # binary or unreadable input: our error, not cpp's
        return strip_system_c(preprocess(path, includes, defines, undefines))
    return read_provider_source(path)


def load_provider_text(text: str, path: str,
                       strict: bool = False) -> tuple[ProviderFile, list[Diagnostic]]:
    """Parse and check provider text read from ``path`` (see load_provider_file)."""
    model, findings = parse_provider_source(text, path)
    findings = findings + check_provider_file(model, strict=strict)
    if strict:
        findings = [replace(d, severity="error") for d in findings]
    findings.sort(key=lambda d: (d.loc.file != path, d.loc.file, d.loc.line, d.loc.col))
    errors = [d for d in findings if d.severity == "error"]
    if errors:
        raise ProviderError(errors)
    return model, findings

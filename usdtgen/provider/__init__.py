"""The D provider language: grammar, parser, model, semantic checks and cpp preprocessing.

The parser (and lark) load on first use, so code that only needs the model stays light.
"""
from __future__ import annotations

from usdtgen.provider.model import Arg, CType, Probe, Provider, ProviderFile

__all__ = ["Arg", "CType", "Probe", "Provider", "ProviderFile", "load_provider_file",
           "parse_provider_text"]


def __getattr__(name: str):
    if name == "load_provider_file":
        from usdtgen.provider.load import load_provider_file
        return load_provider_file
    if name == "parse_provider_text":
        from usdtgen.provider.parser import parse_provider_text
        return parse_provider_text
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

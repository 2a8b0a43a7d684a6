"""Probes defined and fired from Python: the shared object built in memory, loaded with cffi."""
from __future__ import annotations


def load_provider_source(source: str, provider: str, source_name: str = "<generated>"):
    """The loaded Provider ``provider`` of provider-file text (what generated modules call)."""
    from usdtgen.provider import parse_provider_text
    from usdtgen.runtime.provider import Provider

    model, _ = parse_provider_text(source, source_name)
    found = next((p for p in model.providers if p.name == provider), None)
    if found is None:
        raise LookupError(f"{source_name} declares no provider {provider!r}")
    loaded = Provider.from_model(found)
    loaded.load()
    return loaded

"""What a C or D type name, as written, says about the value it types.

Shared by the provider model and the tracer, which reads type names from binaries' type
notes and must not load the model (about 5 ms) to ask whether an argument is a string.
"""
from __future__ import annotations


def is_string_type(d_type: str | None) -> bool:
    """``char *``-like types (and D's ``string``), which tracers show as text."""
    if d_type is None:
        return False
    if d_type == "string":
        return True
    base = d_type.replace("const ", "").replace("unsigned ", "").replace("signed ", "")
    return " ".join(base.split()) == "char *"

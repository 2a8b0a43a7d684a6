"""Generate the ``-G`` object: what build systems written for dtrace -G link into the program.

Probes made with usdtgen's header need nothing from it; it holds the probes' semaphores as
weak hidden symbols in ``.probes`` (so code that names ``provider_probe_semaphore`` still
links), each in a COMDAT group named by the semaphore, as the header defines them, so the
program keeps one copy of each; and a non-executable-stack marker.
"""
from __future__ import annotations

from usdtgen.elf.writer import (
    SHF_ALLOC, SHF_WRITE, STB_WEAK, STT_OBJECT, STV_HIDDEN, Section, Symbol, write_relocatable,
)
from usdtgen.provider.model import ProviderFile

SEMAPHORE_SIZE = 2


def emit_probes_object(model: ProviderFile, machine: int) -> bytes:
    """The relocatable object for ``model`` on ``machine`` (an ELF e_machine number)."""
    names = [prov.semaphore_name(probe) for prov in model.providers for probe in prov.probes]
    sections = [Section(".probes", bytes(SEMAPHORE_SIZE), flags=SHF_ALLOC | SHF_WRITE,
                        align=SEMAPHORE_SIZE, group=name) for name in names]
    sections.append(Section(".note.GNU-stack", b""))
    symbols = [Symbol(name, i, 0, SEMAPHORE_SIZE, STB_WEAK, STT_OBJECT, STV_HIDDEN)
               for i, name in enumerate(names)]
    return write_relocatable(machine, sections, symbols)

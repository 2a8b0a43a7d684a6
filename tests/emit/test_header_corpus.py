"""Every provider file of the corpus gives a header that compiles on its own (C and C++,
-Wall -Wextra -Werror), whose notes carry one argument per declared parameter, with the
size and signedness the declared C type has, and whose type note names them."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from conftest import require_tool
from usdtgen.emit.header import TYPE_NOTE_OWNER, emit_header
from usdtgen.provider import load_provider_file

VALID = Path(__file__).parent.parent / "data" / "provider" / "valid"
CORPUS = sorted(VALID.glob("*.d"))
# C spellings a test program can cast to after including the standard headers below.
C_SPELLABLE = re.compile(r"^(const )?((un)?signed )?(char|short|int|long|long long|_Bool|bool|"
                         r"u?int(8|16|32|64|ptr)_t|s?size_t|pid_t|off_t)$")


def needs_cpp(path: Path) -> bool:
    return bool(re.search(r"^\s*#\s*(define|include|if)", path.read_text(), re.M))


def load(path: Path):
    return load_provider_file(str(path), use_cpp=needs_cpp(path), includes=[str(VALID / "include")])


def call_argument(ctype) -> str:
    if ctype.pointers:
        return '(const char *)"x"' if ctype.is_string else "(void *)0"
    if C_SPELLABLE.match(ctype.spelling):
        return f"({ctype.spelling})1"
    return "0"


def probe_calling_program(model) -> str:
    lines = ["#include <stdbool.h>", "#include <stddef.h>", "#include <stdint.h>",
             "#include <sys/types.h>", '#include "probes.h"', "int fire(void);", "int fire(void) {"]
    for prov in model.providers:
        for probe in prov.probes:
            args = ", ".join(call_argument(a.ctype) for a in probe.args)
            lines.append(f"  {prov.macro_name(probe)}({args});")
            lines.append(f"  if ({prov.macro_name(probe)}_ENABLED()) return 1;")
    lines += ["  return 0;", "}"]
    return "\n".join(lines) + "\n"


def read_notes(obj: Path) -> tuple[list[tuple[str, str, str]], list[list[str]]]:
    """(provider, name, args) of each stapsdt note, and the split type notes."""
    stapsdt, types = [], []
    with open(obj, "rb") as f:
        elf = ELFFile(f)
        for section in elf.iter_sections():
            if section.name == ".note.stapsdt":
                for note in section.iter_notes():
                    desc = note["n_descdata"]
                    strings = desc[24:].split(b"\0")
                    stapsdt.append((strings[0].decode(), strings[1].decode(), strings[2].decode()))
            elif section.name == ".note.usdtgen":
                for note in section.iter_notes():
                    assert note["n_name"] == TYPE_NOTE_OWNER
                    desc = note["n_descdata"]
                    desc = desc.encode("latin-1") if isinstance(desc, str) else desc
                    types.append([s.decode() for s in desc.rstrip(b"\0").split(b"\0")])
    return stapsdt, types


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
@pytest.mark.parametrize("lang", ["c", "c++"])
def test_corpus_header_compiles_and_describes_every_argument(path, lang, tmp_path):
    compiler = require_tool("gcc" if lang == "c" else "g++")
    model, _ = load(path)
    (tmp_path / "probes.h").write_text(emit_header(model, "probes.h", path.name))
    src = tmp_path / ("t.c" if lang == "c" else "t.cc")
    src.write_text(probe_calling_program(model))
    obj = tmp_path / "t.o"
    std = "-std=gnu11" if lang == "c" else "-std=c++17"
    result = subprocess.run([compiler, std, "-O2", "-Wall", "-Wextra", "-Werror", "-c", str(src),
                             "-o", str(obj)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr

    stapsdt, types = read_notes(obj)
    declared = [(prov, probe) for prov in model.providers for probe in prov.probes]
    assert sorted((p, n) for p, n, _ in stapsdt) == sorted((prov.name, probe.name)
                                                          for prov, probe in declared)
    notes = {(p, n): args for p, n, args in stapsdt}
    type_notes = {(t[0], t[1]): t[2:] for t in types}
    for prov, probe in declared:
        specs = notes[(prov.name, probe.name)].split()
        assert len(specs) == len(probe.args)
        for arg, spec in zip(probe.args, specs):
            if arg.ctype.pointers or C_SPELLABLE.match(arg.ctype.spelling):
                expected = f"{'-' if arg.ctype.signed else ''}{arg.ctype.size}@"
                assert spec.startswith(expected), (probe.name, arg, spec)
        expected = [x for a in probe.args for x in (a.name or "", a.ctype.d_name)]
        if probe.mapped_args is not None:      # then ":N:name" and the type of each mapped
            names = [a.name for a in probe.args]    # argument, N the native one it names
            for position, mapped in enumerate(probe.mapped_args):
                native = names.index(mapped.name) if mapped.name in names else position
                expected += [f":{native}:{mapped.name or ''}", mapped.ctype.d_name]
        assert type_notes[(prov.name, probe.name)] == expected

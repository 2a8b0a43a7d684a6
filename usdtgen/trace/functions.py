"""Function-boundary probes, as DTrace's pid provider names them: the entry, return and
instruction-offset probes of the functions of a module, made into probe sites that the
tracer attaches as it attaches USDT ones (uprobes; uretprobes for return probes).

``pid$target:libc.so.6:malloc:entry``: arg0..arg9 are the function's arguments by the
calling convention; at ``return``, arg1 is the return value (arg0, DTrace's offset of the
returning instruction, is 0: a uretprobe fires in the caller). The module ``a.out`` is the
program itself, as in DTrace.
"""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass

from usdtgen.elf.argspec import Unfetchable, parse_args, to_fetcharg
from usdtgen.elf.notes import ProbeSite
from usdtgen.elf.reader import PF_X, PT_LOAD, ElfFile
from usdtgen.elf.symbols import function_symbols
from usdtgen.errors import ElfError
from usdtgen.trace.listing import ListedSite
from usdtgen.trace.targets import ElfObject

PROVIDER = "pid"
MAIN_MODULE = "a.out"         # DTrace's name of the program itself, whatever its file's
# the arguments at a function's first instruction (the return address is at 0(%rsp)), and
# the return value at its return; each as a note's argument string
ENTRY_ARGS = {
    "x86_64": "-8@%rdi -8@%rsi -8@%rdx -8@%rcx -8@%r8 -8@%r9 -8@8(%rsp) -8@16(%rsp) "
              "-8@24(%rsp) -8@32(%rsp)",
    "aarch64": "-8@x0 -8@x1 -8@x2 -8@x3 -8@x4 -8@x5 -8@x6 -8@x7 -8@[sp] -8@[sp, 8]",
}
RETURN_ARGS = {"x86_64": "-8@$0 -8@%rax", "aarch64": "-8@$0 -8@x0"}


@dataclass(frozen=True, slots=True)
class FunctionProbe:
    """What a pid-provider description asks for: module and function globs (empty: any),
    and ``entry``, ``return`` or a hexadecimal instruction offset (a glob too)."""

    module: str
    function: str
    name: str


@dataclass(frozen=True, slots=True)
class FunctionSite(ListedSite):
    """A function probe's site: the function it is in, and whether it fires at the
    function's return (a uretprobe at its first instruction) rather than at its address."""

    function: str = ""
    returns: bool = False
    in_main: bool = False     # in the program itself (DTrace's module a.out)


def module_matches(obj: ElfObject, module: str, main_path: str | None) -> bool:
    """Whether ``obj`` is the module a description names (a glob on the file's name; ``a.out``
    for the program itself)."""
    if not module:
        return True
    if module == MAIN_MODULE:
        return main_path is not None and _same_file(obj, main_path)
    return fnmatch.fnmatchcase(os.path.basename(obj.path), module)


def _same_file(obj: ElfObject, path: str) -> bool:
    try:
        return os.path.samefile(obj.open_path, path)
    except OSError:
        return obj.path == path


def function_sites(obj: ElfObject, probe: FunctionProbe,
                   in_main: bool = False) -> list[FunctionSite]:
    """The sites of ``probe`` in ``obj``: one per matching function (and, for an offset
    probe, per offset inside the function). ElfError when the file cannot be read."""
    try:
        with open(obj.open_path, "rb") as stream:
            elf = ElfFile(stream)
    except OSError as e:
        raise ElfError(f"{obj.path}: {e.strerror or e}") from e
    if elf.machine not in ENTRY_ARGS:
        raise ElfError(f"{obj.path}: function probes on {elf.machine} are not supported")
    code = [s for s in elf.segments if s.type == PT_LOAD and s.flags & PF_X]
    kinds = [name for name in ("entry", "return") if fnmatch.fnmatchcase(name, probe.name)]
    offset = None if kinds else _offset(probe.name)
    sites = []
    for name, address, size in function_symbols(obj.open_path, probe.function or "*"):
        if offset is not None:
            if offset >= size:
                continue
            sites.append(_site(obj, elf, code, name, address + offset, f"{offset:x}",
                               ENTRY_ARGS[elf.machine], False, in_main))
            continue
        for kind in kinds:
            sites.append(_site(obj, elf, code, name, address, kind,
                               (RETURN_ARGS if kind == "return" else ENTRY_ARGS)[elf.machine],
                               kind == "return", in_main))
    return [site for site in sites if site is not None]


def _offset(name: str) -> int | None:
    """A probe name that is an instruction offset (hex, as DTrace writes it)."""
    try:
        return int(name, 16)
    except ValueError:
        return None


def _site(obj: ElfObject, elf: ElfFile, code, function: str, address: int, name: str,
          args_text: str, returns: bool, in_main: bool) -> FunctionSite | None:
    segment = next((s for s in code if s.vaddr <= address < s.vaddr + s.memsz), None)
    if segment is None:
        return None                      # not in code that is loaded: nothing to probe
    site = ProbeSite(obj.path, PROVIDER, name, address, 0, None, args_text,
                     address - segment.vaddr + segment.offset, None, elf.machine)
    args = parse_args(args_text, elf.machine)
    fetchargs: list[str | Unfetchable] = []
    for spec in args.args:
        try:
            fetchargs.append(to_fetcharg(spec))
        except Unfetchable as e:
            fetchargs.append(e)
    names = tuple((f"arg{i}", "int64_t") for i in range(len(args.args)))
    return FunctionSite(site, args, names, tuple(fetchargs), None, obj.open_path,
                        function=function, returns=returns, in_main=in_main)


def function_listing(objects, probes, main_path: str | None) -> tuple[list, list[str]]:
    """The sites of function ``probes`` in ``objects`` (each object's once), and one
    problem line for each file that could not be read."""
    sites, problems, seen = [], [], set()
    for obj in objects:
        for probe in probes:
            if not module_matches(obj, probe.module, main_path):
                continue
            try:
                in_main = main_path is not None and _same_file(obj, main_path)
                for site in function_sites(obj, probe, in_main):
                    key = (site.site.path, site.site.address, site.site.name)
                    if key not in seen:
                        seen.add(key)
                        sites.append(site)
            except ElfError as e:
                problems.append(str(e))
                break
    return sites, problems

"""Function-boundary probes, as DTrace's pid provider names them: the entry, return and
instruction-offset probes of the functions of a module, made into probe sites that the
tracer attaches as it attaches USDT ones (uprobes; uretprobes for return probes).

``pid$target:libc.so.6:malloc:entry``: arg0..arg9 are the function's arguments by the
calling convention; at ``return``, arg1 is the return value (arg0, DTrace's offset of the
returning instruction, is 0: a uretprobe fires in the caller). The module ``a.out`` is the
program itself, as in DTrace. ``usdtgen trace -u MODULE:FUNCTION[:entry|return]`` makes
*plain* probes: sites named ``MODULE:FUNCTION:NAME`` whose entry shows the register
arguments and whose return shows ``retval``; ``usdtgen list --functions`` lists the sites
as ``dtrace -l`` does. Functions come from the files' symbols, and for stripped files from
their debug data (usdtgen.elf.debuginfo).
"""
from __future__ import annotations

import fnmatch
import functools
import os
import re
from dataclasses import dataclass

from usdtgen.elf.argspec import Unfetchable, parse_args, to_fetcharg
from usdtgen.elf.debuginfo import all_function_symbols
from usdtgen.elf.notes import ProbeSite
from usdtgen.elf.reader import ELF_MAGIC, PF_X, PT_LOAD, ElfFile
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
# a plain probe's arguments: those the calling convention passes in registers, and the
# return value alone
REGISTER_ARGS = {"x86_64": 6, "aarch64": 8}
PLAIN_RETURN_ARGS = {"x86_64": "-8@%rax", "aarch64": "-8@x0"}
SPEC_FORM = "MODULE:FUNCTION[:entry|return]"
_OFFSET = re.compile(r"[0-9a-fA-F]+")


class FunctionSpecError(ValueError):
    """A ``-u`` or ``--functions`` specification that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class FunctionProbe:
    """What a pid-provider description asks for: module and function globs (empty: any),
    and ``entry``, ``return`` or a hexadecimal instruction offset (a glob too)."""

    module: str
    function: str
    name: str
    plain: bool = False       # usdtgen trace -u's: named MODULE:FUNCTION:NAME, retval


def parse_function_spec(text: str, function_required: bool = True) -> FunctionProbe:
    """The plain probe ``MODULE:FUNCTION[:NAME]`` of ``usdtgen trace -u`` and ``usdtgen list
    --functions``: MODULE ``a.out`` (the program), a path (with a '/'), or a glob over file
    names (``libc.so*``); FUNCTION a glob (``*`` when left out, unless
    ``function_required``); NAME ``entry`` (the default), ``return``, a glob over those
    (empty: any, as in a DTrace probe description), or an instruction offset in hex.
    Raises FunctionSpecError."""
    parts = text.split(":")
    if len(parts) > 3:
        raise FunctionSpecError(f"'{text}': more than 3 fields; the form is {SPEC_FORM}")
    if len(parts) == 1 and function_required:
        raise FunctionSpecError(f"'{text}': no function; the form is {SPEC_FORM} "
                                "(a.out:main, 'libc.so.6:malloc:return')")
    module, function, name = (parts + ["*", "entry"][len(parts) - 1:])[:3]
    name = name or "*"
    if not module:
        raise FunctionSpecError(f"'{text}': the module is empty: a.out (the program), a path, "
                                "or a file name glob ('libc.so*')")
    if not function:
        raise FunctionSpecError(f"'{text}': the function is empty: a name, or a glob ('*' "
                                "for every function)")
    if not (fnmatch.fnmatchcase("entry", name) or fnmatch.fnmatchcase("return", name) or
            _OFFSET.fullmatch(name)):
        raise FunctionSpecError(f"'{text}': '{name}' is not 'entry', 'return' or an "
                                "instruction offset in hex")
    if "/" in module and not os.path.isfile(module):
        raise FunctionSpecError(f"'{text}': {module}: no such file")
    return FunctionProbe(module, function, name, plain=True)


def module_name(path: str) -> str:
    """DTrace's name of the module in the file at ``path``: its base name (a deleted file's
    too; ``memfd:NAME`` for a memfd object)."""
    if path.endswith(" (deleted)"):
        path = path[:-len(" (deleted)")]
    return os.path.basename(path)


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
    if "/" in module:                    # a path: that file, by whatever name it was reached
        return _same_file(obj, module)
    return fnmatch.fnmatchcase(module_name(obj.path), module)


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
            if stream.read(4) != ELF_MAGIC:
                return []                # a mapped data file (locale archive, cache): none
            elf = ElfFile(stream)
    except OSError as e:
        raise ElfError(f"{obj.path}: {e.strerror or e}") from e
    if elf.machine not in ENTRY_ARGS:
        raise ElfError(f"{obj.path}: function probes on {elf.machine} are not supported")
    code = [s for s in elf.segments if s.type == PT_LOAD and s.flags & PF_X]
    kinds = [name for name in ("entry", "return") if fnmatch.fnmatchcase(name, probe.name)]
    offset = None if kinds else _offset(probe.name)
    sites = []
    plain = module_name(obj.path) + ":" if probe.plain else None
    for name, address, size in all_function_symbols(obj.open_path, probe.function or "*",
                                                    obj.path):
        if offset is not None:
            if offset >= size:
                continue
            sites.append(_site(obj, elf, code, name, address + offset, f"{offset:x}",
                               _arguments(elf.machine, False, probe.plain), False, in_main,
                               plain))
            continue
        for kind in kinds:
            sites.append(_site(obj, elf, code, name, address, kind,
                               _arguments(elf.machine, kind == "return", probe.plain),
                               kind == "return", in_main, plain))
    return [site for site in sites if site is not None]


def _arguments(machine: str, returns: bool, plain: bool) -> str:
    """The argument string of a site: a D probe's arg0..arg9 (return: 0 and the value), a
    plain probe's register arguments (return: the value alone)."""
    if not plain:
        return (RETURN_ARGS if returns else ENTRY_ARGS)[machine]
    if returns:
        return PLAIN_RETURN_ARGS[machine]
    return " ".join(ENTRY_ARGS[machine].split(" ")[:REGISTER_ARGS[machine]])


def _offset(name: str) -> int | None:
    """A probe name that is an instruction offset (hex, as DTrace writes it)."""
    try:
        return int(name, 16)
    except ValueError:
        return None


def _site(obj: ElfObject, elf: ElfFile, code, function: str, address: int, name: str,
          args_text: str, returns: bool, in_main: bool,
          plain: str | None = None) -> FunctionSite | None:
    """The site of one probe; ``plain``: the module's name and ':' for a plain probe, whose
    site is named MODULE:FUNCTION:NAME."""
    segment = next((s for s in code if s.vaddr <= address < s.vaddr + s.memsz), None)
    if segment is None:
        return None                      # not in code that is loaded: nothing to probe
    site = ProbeSite(obj.path, PROVIDER, name if plain is None else f"{plain}{function}:{name}",
                     address, 0, None, args_text, address - segment.vaddr + segment.offset,
                     None, elf.machine)
    args, fetchargs, names = _parsed(args_text, elf.machine, plain is not None and returns)
    return FunctionSite(site, args, names, fetchargs, None, obj.open_path,
                        function=function, returns=returns, in_main=in_main)


@functools.lru_cache(maxsize=None)
def _parsed(args_text: str, machine: str, retval: bool):
    """(parsed arguments, fetch-args, names and types) of a site's argument string: the same
    few strings for every function, parsed once."""
    args = parse_args(args_text, machine)
    fetchargs: list[str | Unfetchable] = []
    for spec in args.args:
        try:
            fetchargs.append(to_fetcharg(spec))
        except Unfetchable as e:
            fetchargs.append(e)
    names = (("retval", "int64_t"),) if retval else \
        tuple((f"arg{i}", "int64_t") for i in range(len(args.args)))
    return args, tuple(fetchargs), names


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


def only_function_sites(sites) -> list:
    """The function probes' sites among listed sites (``usdtgen trace -u`` without USDT
    filters attaches no USDT probe)."""
    return [site for site in sites if isinstance(site, FunctionSite)]


def spec_text(probe: FunctionProbe) -> str:
    """``MODULE:FUNCTION:NAME`` of a function probe, as the user wrote it."""
    return f"{probe.module}:{probe.function or '*'}:{probe.name or '*'}"


def unmatched_message(objects, probes, main_path: str | None, where: str) -> str:
    """Why function ``probes`` gave no site in ``objects`` (``where`` describes them): no
    module has that name (the modules there are listed), or no function of the modules
    that do matches (the closest names are given)."""
    import difflib
    reasons = []
    for probe in probes:
        modules = [o for o in objects if module_matches(o, probe.module, main_path)]
        if not modules:
            names = list(dict.fromkeys(module_name(o.path) for o in objects))
            shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
            reasons.append(f"no module of {where} is {probe.module}"
                           + (f" (modules: {shown})" if names else ""))
            continue
        functions: list[str] = []
        for obj in modules:
            try:
                functions += [name for name, _, _ in all_function_symbols(obj.open_path, "*",
                                                                           obj.path)]
            except (OSError, ElfError):
                continue
        if not functions:
            reasons.append(f"{', '.join(module_name(o.path) for o in modules)}: no function "
                           "symbols (stripped, without debug data)")
            continue
        close = difflib.get_close_matches(probe.function, functions, n=3, cutoff=0.5)
        reasons.append(f"no function of {', '.join(module_name(o.path) for o in modules)} "
                       f"matches {spec_text(probe)}"
                       + (f"; closest: {', '.join(dict.fromkeys(close))}" if close else ""))
    return "; ".join(reasons)


# -- usdtgen list --functions ---------------------------------------------------------------

def list_functions(probe: FunctionProbe, targets, pids) -> tuple[list, list[str]]:
    """What ``usdtgen list --functions SPEC TARGET...`` or ``-p PID...`` lists: the sites of
    ``probe`` in each program and the libraries it loads at start-up, or in every file each
    process maps; as (provider, FunctionSite) pairs (``pid``, or ``pidPID`` for a process),
    and one problem line per target or file that could not be used."""
    from usdtgen.errors import TargetError
    from usdtgen.trace.process import program_objects
    from usdtgen.trace.targets import process_objects, resolve_program

    rows: list = []
    problems: list[str] = []
    groups = []
    for target in targets:
        try:
            program = resolve_program(target)
        except TargetError as e:
            problems.append(str(e))
            continue
        path = program.path if "/" in program.path else "./" + program.path   # (for ld.so)
        groups.append(("pid", program_objects(path), path))
    for pid in pids:
        try:
            groups.append((f"pid{pid}", process_objects(pid), f"/proc/{pid}/exe"))
        except TargetError as e:
            problems.append(str(e))
    for provider, objects, main_path in groups:
        sites, found = function_listing(objects, (probe,), main_path)
        rows += [(provider, site) for site in sites]
        problems += found
    return rows, problems


LIST_HEADING = ("ID", "PROVIDER", "MODULE", "FUNCTION", "NAME")


def format_function_table(rows) -> str:
    """The rows as ``dtrace -l`` prints probes: ID, PROVIDER, MODULE, FUNCTION, NAME in
    columns of 5, 10, 17 and 33 characters (longer values push the line on)."""
    lines = ["%5s %10s %17s %33s %s" % LIST_HEADING]
    for number, (provider, site) in enumerate(rows, start=1):
        lines.append("%5d %10s %17s %33s %s" % (number, provider, module_name(site.site.path),
                                                site.function, probe_name(site)))
    return "\n".join(lines)


def probe_name(site: FunctionSite) -> str:
    """The site's probe name: ``entry``, ``return`` or the offset."""
    return site.site.name.rpartition(":")[2]


def function_json(number: int, provider: str, site: FunctionSite) -> dict:
    """The JSON object of one listed function probe."""
    return {"id": number, "provider": provider, "module": module_name(site.site.path),
            "function": site.function, "name": probe_name(site), "path": site.site.path,
            "address": site.site.address, "file_offset": site.site.file_offset}

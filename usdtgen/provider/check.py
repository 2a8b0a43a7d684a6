"""Semantic rules over a parsed provider file: the limits tracers rely on, and warnings.

``check_provider_file`` returns every finding at once; errors make the file unusable,
warnings (struct or float arguments, unknown type names) become errors with ``strict``.
"""
from __future__ import annotations

import linecache
from collections.abc import Callable

from usdtgen.errors import Diagnostic, Loc
from usdtgen.provider.model import MAX_NAME_LEN, MAX_PROBE_ARGS, Arg, ProviderFile


def _file_line(loc: Loc) -> str:
    return linecache.getline(loc.file, loc.line)


def check_provider_file(model: ProviderFile, strict: bool = False,
                        source_line: Callable[[Loc], str] = _file_line) -> list[Diagnostic]:
    """All errors and warnings for ``model``; with ``strict`` the warnings are errors too."""
    found: list[Diagnostic] = []

    def report(severity: str, loc: Loc, message: str, hint: str = "") -> None:
        if severity == "warning" and strict:
            severity = "error"
        found.append(Diagnostic(severity, loc, message, hint, source_line(loc)))

    seen_providers: dict[str, Loc] = {}
    for provider in model.providers:
        if provider.name in seen_providers:
            report("error", provider.loc, f"provider '{provider.name}' is declared twice",
                   f"the first declaration is at {seen_providers[provider.name]}")
        seen_providers.setdefault(provider.name, provider.loc)
        if provider.name[-1].isdigit():
            report("error", provider.loc, f"provider name '{provider.name}' ends in a digit",
                   "DTrace reserves the trailing digits for the process ID (myapp1234)")
        if len(provider.name) > MAX_NAME_LEN:
            report("error", provider.loc,
                   f"provider name is {len(provider.name)} characters long; the limit is {MAX_NAME_LEN}")
        seen_probes: dict[str, Loc] = {}
        macros: dict[str, str] = {}
        for probe in provider.probes:
            macro = provider.macro_name(probe)
            if macros.get(macro, probe.name) != probe.name:
                report("error", probe.loc, f"probes '{macros[macro]}' and '{probe.name}' both "
                       f"become the macro {macro}", "'__' and '_' both turn into '_' in macro names")
            macros.setdefault(macro, probe.name)
            if probe.name in seen_probes:
                report("error", probe.loc, f"probe '{probe.name}' is declared twice in provider '{provider.name}'",
                       f"the first declaration is at {seen_probes[probe.name]}")
            seen_probes.setdefault(probe.name, probe.loc)
            if len(probe.name) > MAX_NAME_LEN:
                report("error", probe.loc,
                       f"probe name is {len(probe.name)} characters long; the limit is {MAX_NAME_LEN}")
            for label, args in (("arguments", probe.args), ("mapped arguments", probe.mapped_args or ())):
                if len(args) > MAX_PROBE_ARGS:
                    report("error", args[MAX_PROBE_ARGS].loc,
                           f"probe '{probe.name}' has {len(args)} {label}; the limit is {MAX_PROBE_ARGS}",
                           "the stapsdt note format that every Linux tracer reads carries 12 at most")
                if args is probe.args:
                    _check_arg_names(args, probe.name, report)
            if probe.mapped_args is not None:
                _check_arg_mapping(probe, report)
            for arg in probe.args:
                _check_arg_type(arg, probe.name, provider.name, report)
    return found


def _check_arg_names(args: tuple[Arg, ...], probe: str, report) -> None:
    seen: dict[str, Loc] = {}
    for arg in args:
        if arg.name is None:
            continue
        if arg.name in seen:
            report("error", arg.loc, f"probe '{probe}': two parameters are named '{arg.name}'",
                   f"the first is at {seen[arg.name]}")
        seen.setdefault(arg.name, arg.loc)


def _check_arg_mapping(probe, report) -> None:
    """DTrace's argument mapping, ``probe p(int i, int j) : (int j, int i, int i)``: each
    mapped argument names the native one it shows (it may name one twice, or leave one
    out); one that names none shows the native argument at its own position."""
    natives = {arg.name for arg in probe.args if arg.name}
    for position, arg in enumerate(probe.mapped_args):
        if arg.name in natives or (arg.name is None and position < len(probe.args)):
            continue
        stands_for = min(position, len(probe.args) - 1)
        shown = f"native argument #{stands_for + 1}" if probe.args else "nothing"
        what = f"'{arg.name}'" if arg.name else f"#{position + 1}"
        report("warning", arg.loc, f"probe '{probe.name}': mapped argument {what} names no "
               f"native argument: args[{position}] shows {shown}",
               "the names after ':' refer to those before it: probe p(int i, int j) : "
               "(int j, int i)")


def _check_arg_type(arg: Arg, probe: str, provider: str, report) -> None:
    ctype = arg.ctype
    what = f"probe '{provider}:{probe}': argument '{arg.name or ctype.spelling}'"
    if ctype.by_value_aggregate:
        report("warning", arg.loc, f"{what} passes a {ctype.kind} by value",
               "most tracers cannot read it; pass a pointer instead")
    elif ctype.kind == "float":
        report("warning", arg.loc, f"{what} is a floating-point value ({ctype.spelling})",
               "most tracers cannot read floating-point arguments; pass an integer (for example scaled)")
    elif ctype.kind == "unknown":
        report("warning", arg.loc, f"{what} has type '{ctype.spelling}', which this file does not declare",
               "declare it with typedef in the .d file, or use -C if it comes from a #define or #include")

"""The ``usdtgen`` command line: a thin click layer over the library.

``usdtgen -h|-G ...`` is the dtrace-compatible compiler (so ``DTRACE=usdtgen`` works in
build systems written for systemtap's dtrace script); subcommands come after it.
"""
from __future__ import annotations

import os
import sys

import click

from usdtgen import __version__
from usdtgen.errors import ProviderError, UsdtgenError

# dtrace flags that only matter to Solaris' dtrace (data model, PIC): accepted, ignored.
_IGNORED_FLAGS = {"-64", "-32", "-fPIC", "-fpic", "-fPIE", "-fpie"}


class InputError(click.ClickException):
    """Bad input: printed as given (already ``file:line:col: error: ...``), exit status 1
    unless told."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(self.message, err=True)


def _print_warnings(diagnostics) -> None:
    for diagnostic in diagnostics:
        if diagnostic.severity == "warning":
            click.echo(diagnostic.render(), err=True)


class _MainGroup(click.Group):
    """Routes ``usdtgen -h ...`` (anything that is not a subcommand) to the compiler."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in _GROUP_OPTIONS:
            args = ["compile"] + list(args)
        return super().parse_args(ctx, args)


# options of the group itself; anything else that is not a subcommand goes to the compiler
_GROUP_OPTIONS = ("--help", "--version", "--cmake-dir", "--make-include")


def _print_data_path(relative: str):
    """Callback of an eager flag that prints where a build-system file ships, then exits."""
    def callback(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        if not value or ctx.resilient_parsing:
            return
        from pathlib import Path
        click.echo(Path(__file__).resolve().parent / relative)
        ctx.exit()
    return callback


@click.group(cls=_MainGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["--help"]})
@click.version_option(__version__, "--version", prog_name="usdtgen")
@click.option("--cmake-dir", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_data_path("cmake"),
              help="Print the folder of usdtgenConfig.cmake (for -Dusdtgen_DIR=...), exit.")
@click.option("--make-include", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_data_path("make/usdtgen.mk"),
              help="Print the path of usdtgen.mk, the %.h: %.d rule for make, exit.")
@click.pass_context
def main(ctx: click.Context) -> None:
    """USDT probes for Linux.

    \b
    usdtgen -h -s myapp.d [-o myapp.h]     generate the C/C++ probe header
    usdtgen -G -s myapp.d [-o myapp.o]     generate the object dtrace -G users link
    usdtgen compile --help                 every option of the two above
    usdtgen list ./app                     the probes of a program, library or process
    usdtgen trace ./app                    print every probe hit, with its arguments
    usdtgen python myapp.d                 a Python module firing the probes of myapp.d

    \b
    Build systems: find_package(usdtgen) in CMake (usdtgen --cmake-dir),
    include $(shell usdtgen --make-include) in a Makefile.
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


class _DtraceCommand(click.Command):
    def parse_args(self, ctx, args):
        return super().parse_args(ctx, [a for a in args if a not in _IGNORED_FLAGS])


@main.command("compile", cls=_DtraceCommand, context_settings={"help_option_names": ["--help"]})
@click.option("-h", "header", is_flag=True, help="Generate a C/C++ header (dtrace -h).")
@click.option("-G", "object_", is_flag=True, help="Generate the object file dtrace -G makes.")
@click.option("-s", "script", metavar="FILE.d", help="The provider file.")
@click.option("-o", "output", metavar="FILE",
              help="Output file (default: the provider file's name with .h or .o, here).")
@click.option("-C", "use_cpp", is_flag=True, help="Run the C preprocessor ($CPP or cpp) first.")
@click.option("-I", "includes", multiple=True, metavar="DIR", help="Include directory for -C.")
@click.option("-D", "defines", multiple=True, metavar="NAME[=VALUE]", help="Macro for -C.")
@click.option("-U", "undefines", multiple=True, metavar="NAME", help="Undefine a macro for -C.")
@click.option("-k", "keep", is_flag=True, help="Accepted for dtrace compatibility (no temp files).")
@click.option("-x", "dtrace_options", multiple=True, metavar="OPT",
              help="dtrace options: accepted and ignored. So are -32, -64, -fPIC.")
@click.option("--strict", is_flag=True,
              help="Warnings are errors; the header type-checks probe arguments.")
@click.option("--depfile", metavar="FILE",
              help="Also write the output's make-style dependencies to FILE: the provider "
                   "file and, with -C, every file the preprocessor read (for make, Ninja, "
                   "CMake's DEPFILE).")
@click.option("--no-touch", is_flag=True,
              help="Leave an output whose content did not change as it is, time included "
                   "(for Ninja's restat). By default its time is set to now when it is older "
                   "than an input, so make settles.")
@click.argument("files", nargs=-1, type=click.Path())
def compile_command(header, object_, script, output, use_cpp, includes, defines, undefines,
                    keep, dtrace_options, strict, depfile, no_touch, files) -> None:
    """Compile a D provider file into a header (-h) or an object (-G), as dtrace does.

    FILES: the provider file when -s is not given; with -G, the program's object
    files may follow (accepted as dtrace -G accepts them; only their machine is read).
    """
    from usdtgen.compile import CompileOptions, compile_provider

    if header == object_:
        raise click.UsageError("give exactly one of -h (header) or -G (object)")
    providers = [f for f in files if f.endswith(".d")]
    objects = tuple(f for f in files if not f.endswith(".d"))
    if script is None:
        if len(providers) != 1:
            raise click.UsageError("name one provider file, with -s FILE.d or as an argument")
        script = providers[0]
    elif providers:
        raise click.UsageError(f"two provider files: -s {script} and {providers[0]}")
    if header and objects:
        raise click.UsageError(f"-h takes no object files ({objects[0]})")
    options = CompileOptions(script, "header" if header else "object", output, use_cpp,
                             includes, defines, undefines, strict, objects, depfile,
                             touch_unchanged=not no_touch)
    try:
        result = compile_provider(options)
    except ProviderError as e:
        raise InputError(str(e)) from None
    except UsdtgenError as e:
        raise InputError(f"usdtgen: error: {e}") from None
    except OSError as e:
        where = e.filename or script
        raise InputError(f"usdtgen: error: {where}: {e.strerror}") from None
    _print_warnings(result.diagnostics)
    for note in result.notes:
        click.echo(f"usdtgen: warning: {note}", err=True)


@main.command("python", context_settings={"help_option_names": ["--help"]})
@click.argument("provider_file", metavar="FILE.d")
@click.option("-o", "output", metavar="FILE.py",
              help="Output module (default: FILE_probes.py in the current directory).")
@click.option("--provider", "provider_name", metavar="NAME",
              help="The provider to generate, when the file declares several.")
@click.option("-C", "use_cpp", is_flag=True, help="Run the C preprocessor first.")
@click.option("-I", "includes", multiple=True, metavar="DIR", help="Include directory for -C.")
@click.option("-D", "defines", multiple=True, metavar="NAME[=VALUE]", help="Macro for -C.")
def python_command(provider_file, output, provider_name, use_cpp, includes, defines) -> None:
    """Generate a Python module with one typed function per probe of FILE.d."""
    from pathlib import Path

    from usdtgen.compile import write_if_changed
    from usdtgen.emit.py_stub import emit_python_module
    from usdtgen.provider.load import load_provider_text, provider_text

    try:
        source = provider_text(provider_file, use_cpp, includes, defines)
        model, diagnostics = load_provider_text(source, provider_file)
        stem = Path(provider_file).name.removesuffix(".d")
        text = emit_python_module(model, provider_name, source, Path(provider_file).name)
        write_if_changed(output or f"{stem}_probes.py", text.encode())
    except ProviderError as e:
        raise InputError(str(e)) from None
    except (UsdtgenError, ValueError) as e:
        raise InputError(f"usdtgen: error: {e}") from None
    except OSError as e:
        raise InputError(f"usdtgen: error: {e.filename or provider_file}: {e.strerror}") from None
    _print_warnings(diagnostics)


def _load_types(types_file: str | None) -> dict | None:
    """``--types FILE.d``: (provider, probe) → ((name, D type), ...), or None."""
    if not types_file:
        return None
    from usdtgen.provider import load_provider_file
    from usdtgen.trace.listing import provider_types
    try:
        model, _ = load_provider_file(types_file)
    except (ProviderError, OSError) as e:
        raise InputError(str(e)) from None
    return provider_types(model)


@main.command("list", context_settings={"help_option_names": ["--help"]})
@click.option("-p", "--pid", "pids", type=int, multiple=True, metavar="PID",
              help="List the probes of every object this process maps (repeatable).")
@click.option("-v", "--verbose", is_flag=True,
              help="One block per site: addresses, file offsets, semaphore, argument specs.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per site, one per line.")
@click.option("--types", "types_file", type=click.Path(exists=True, dir_okay=False),
              metavar="FILE.d", help="Argument names and types from this provider file.")
@click.option("--functions", "functions_spec", metavar="MODULE[:FUNCTION[:NAME]]",
              help="List function probes instead, as dtrace -l -n 'pid$target:MODULE:"
                   "FUNCTION:entry' does: MODULE a.out, a path or a file name glob "
                   "('libc.so*'), FUNCTION a glob (default *), NAME entry (default), return "
                   "or a glob. ARGS are then programs or libraries (a program's libraries "
                   "are listed too).")
@click.argument("args", nargs=-1)
def list_command(pids, verbose, as_json, types_file, functions_spec, args) -> None:
    """List the USDT probes of programs, libraries or processes.

    \b
    ARGS: a target (a path, or a program name looked up on PATH) followed by
    probe filters: 'provider:name' or 'name' globs ('postgresql:txn*').
    With -p, every argument is a filter.
    """
    from usdtgen.entry import run_list       # also run without click (usdtgen.entry)

    if not pids and not args:
        raise click.UsageError("name a program, library or file, or give -p PID")
    if functions_spec is not None:
        if verbose or types_file:
            raise click.UsageError("--functions lists with the table or --json, without -v "
                                   "or --types")
        status = _list_functions(functions_spec, args, pids, as_json)
        click.get_current_context().exit(status)
    status = run_list(args, pids, verbose, as_json, _load_types(types_file))
    if status:
        click.get_current_context().exit(status)


def _list_functions(spec: str, targets, pids, as_json: bool) -> int:
    """``usdtgen list --functions SPEC``: the table (or JSON lines) of the function probes
    SPEC names in the targets' files; returns the exit status (1: none listed)."""
    import json

    from usdtgen.entry import echo
    from usdtgen.trace.functions import (FunctionSpecError, format_function_table,
                                         function_json, list_functions, parse_function_spec)
    try:
        probe = parse_function_spec(spec, function_required=False)
    except FunctionSpecError as e:
        raise InputError(f"usdtgen: error: --functions {e}", 2) from None
    rows, problems = list_functions(probe, targets, pids)
    for problem in problems:
        echo(f"usdtgen: {problem}", err=True)
    if not rows:
        echo(f"usdtgen: no function probe matches {spec}", err=True)
        return 1
    if as_json:
        echo("\n".join(json.dumps(function_json(number, provider, site))
                       for number, (provider, site) in enumerate(rows, start=1)))
    else:
        echo(format_function_table(rows))
    return 0


def _size_in_pages(text: str) -> int:
    """``--buffer-size``: bytes with an optional K/M/G suffix → a power-of-two page count."""
    import mmap

    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    text = text.strip().lower().removesuffix("b").removesuffix("i")
    scale = units.get(text[-1:], 1)
    number = text[:-1] if text[-1:] in units else text
    try:
        size = int(float(number) * scale)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a size such as 8M or 512K") from None
    pages = max(1, size // mmap.PAGESIZE)
    return 1 << (pages.bit_length() - 1)


@main.command("trace", context_settings={"help_option_names": ["--help"]})
@click.option("-p", "--pid", type=int, metavar="PID", help="Trace this process (and its threads).")
@click.option("-c", "--command", metavar="CMD",
              help="Start CMD, trace it from its first instruction, exit with its status.")
@click.option("-f", "--format", "printf", metavar="FMT",
              help="printf-style format over each event's arguments ('%d %s\\n').")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event, then a summary.")
@click.option("--types", "types_file", type=click.Path(exists=True, dir_okay=False),
              metavar="FILE.d", help="Argument names and types from this provider file.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write events to FILE instead of standard output.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Stop after this many seconds.")
@click.option("-q", "--quiet", is_flag=True,
              help="Only the events: no warnings, no summary (with a D script: its quiet option).")
@click.option("-e", "--script", "script_text", metavar="PROGRAM",
              help="Run this D program (clauses like 'myapp:::start /arg0 > 5/ { @[probename] "
                   "= count(); }').")
@click.option("-s", "--script-file", "script_file", type=click.Path(dir_okay=False),
              metavar="FILE.d", help="Run the D script in FILE.d.")
@click.option("-C", "use_cpp", is_flag=True,
              help="With a D script: run the C preprocessor ($CPP or cpp) over it first.")
@click.option("-I", "includes", multiple=True, metavar="DIR", help="Include directory for -C.")
@click.option("-D", "defines", multiple=True, metavar="NAME[=VALUE]", help="Macro for -C.")
@click.option("-U", "undefines", multiple=True, metavar="NAME", help="Undefine a macro for -C.")
@click.option("-Z", "allow_unmatched", is_flag=True,
              help="With a D script: allow probe descriptions that match no probe.")
@click.option("-x", "d_options", multiple=True, metavar="OPT[=VALUE]",
              help="With a D script: set a D option, as '#pragma D option OPT[=VALUE]' "
                   "does (-x quiet, -x strsize=512, -x aggsortrev).")
@click.option("--no-kernel-aggregation", "userspace_only", is_flag=True,
              help="With a D script: aggregate every event in usdtgen, even where a BPF "
                   "program could count in the kernel.")
@click.option("--buffer-size", metavar="SIZE",
              help="Ring buffer per CPU (K, M, G suffixes); default: 128M shared by the "
                   "CPUs, at most 32M and at least 2M each.")
@click.option("--strsize", type=click.IntRange(2, 16384), default=1024, show_default=True,
              metavar="BYTES",
              help="Longest string read, its NUL included; longer ones are shown cut. "
                   "(D scripts: #pragma D option strsize.)")
@click.option("-u", "--function", "function_specs", multiple=True,
              metavar="MODULE:FUNCTION[:entry|return]",
              help="Trace the entry (default) or return of the functions FUNCTION (a glob) of "
                   "MODULE: a.out (the program), a path, or a file name glob ('libc.so*'); "
                   "entries show arg0..arg5 (x86-64; aarch64 arg0..arg7), returns retval. "
                   "Repeatable.")
@click.argument("args", nargs=-1)
def trace_command(pid, command, printf, as_json, types_file, output, duration, quiet,
                  script_text, script_file, use_cpp, includes, defines, undefines,
                  allow_unmatched, d_options, userspace_only, buffer_size, strsize,
                  function_specs, args) -> None:
    """Trace USDT probes with kernel uprobes and print each hit with its arguments,
    or run a D script over them (-e, -s).

    \b
    ARGS: a target (a path, or a program name looked up on PATH: every process
    running it), then probe filters ('provider:name' or 'name' globs). With -p or
    -c, every argument is a filter.
    With -e or -s: a target unless -p or -c is given (or the script has no USDT
    clause), then the script's macro arguments $1, $2, ...
    With -u and no filter, only function probes are traced; -u PATH:FUNCTION
    alone traces every process running PATH.
    """

    from usdtgen.trace.command import CommandError, TraceOptions, UsageProblem, \
        run_trace_command

    if pid is not None and command is not None:
        raise click.UsageError("give -p or -c, not both")
    if function_specs and (script_text is not None or script_file is not None):
        raise click.UsageError("-u goes without a D script: in a script, write "
                               "pid$target:MODULE:FUNCTION:entry")
    if script_text is not None or script_file is not None:
        cpp = (includes, defines, undefines) if use_cpp else None
        _run_script_command(script_text, script_file, pid, command, as_json, types_file,
                            output, duration, quiet, allow_unmatched, buffer_size, args, printf,
                            not userspace_only, cpp, d_options)
        return
    if use_cpp or includes or defines or undefines or d_options:
        raise click.UsageError("-C, -I, -D, -U and -x go with a D script (-e or -s)")
    options = TraceOptions(pid, command, printf, as_json, _load_types(types_file), output,
                           duration, quiet, _size_in_pages(buffer_size) if buffer_size else None,
                           strsize, function_specs, args)
    try:
        status = run_trace_command(options, click.echo)
    except UsageProblem as e:
        raise click.UsageError(str(e)) from None
    except CommandError as e:
        raise InputError(str(e), e.exit_code) from None
    sys.exit(status)


def _run_script_command(script_text, script_file, pid, command, as_json, types_file, output,
                        duration, quiet, allow_unmatched, buffer_size, args, printf,
                        kernel: bool, cpp=None, d_options=()) -> None:
    """``usdtgen trace -e/-s``: compile the D script, trace, print as dtrace does."""
    from usdtgen.trace.script.parse import parse_script
    from usdtgen.trace.script.run import has_usdt_clauses, load_script, run_script, trace_config

    if script_text is not None and script_file is not None:
        raise click.UsageError("give -e PROGRAM or -s FILE, not both")
    if printf is not None:
        raise click.UsageError("-f does not go with a D script: use printf() in the script")
    if script_file is not None:
        try:
            with open(script_file, encoding="utf-8") as stream:
                text = stream.read()
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"usdtgen: {script_file}: cannot read the script: "
                             f"{getattr(e, 'strerror', None) or e}") from None
        filename = script_file
    else:
        text, filename = script_text, "<-e>"
    if cpp is not None:                  # -C: cpp's line markers name the lines' origins
        from usdtgen.errors import PreprocessorError
        from usdtgen.provider.cpp import preprocess
        shebang, _, rest = text.partition("\n") if text.startswith("#!") else ("", "", "")
        try:                             # (a #! line is not for cpp: kept aside, lines kept)
            text = preprocess(filename, *cpp, text="\n" + rest if shebang else text)
        except PreprocessorError as e:
            raise InputError(f"usdtgen: {e}") from None
        if shebang:
            text = shebang + "\n" + text
    stream = open(output, "w") if output else sys.stdout
    positional = list(args)
    try:
        target = None
        parsed = parse_script(text, filename, require_blocks=script_file is not None)
        if pid is None and command is None and has_usdt_clauses(parsed):
            if not positional:
                raise click.UsageError("name a program to trace, or give -p PID or -c CMD")
            target = positional.pop(0)
        script = load_script(text, filename, positional, stream, sys.stderr, as_json, quiet,
                             allow_unmatched, kernel, parsed, d_options)
        pages = _size_in_pages(buffer_size) if buffer_size else None
        config = trace_config(script, target, pid, command, _load_types(types_file), duration,
                              pages)

        def warn(message: str) -> None:           # shown even when quiet: a script's quiet
            click.echo(f"usdtgen: warning: {message}", err=True)   # is about its output

        def notice(matched: int, in_kernel: int, clauses_in_kernel: int, clauses: int) -> None:
            if script.machine.quiet or as_json:
                return
            kernel = f" ({in_kernel} aggregated in the kernel, {clauses_in_kernel} of " \
                     f"{clauses} clause{'s' if clauses != 1 else ''} run there)" \
                if in_kernel else ""
            if script_file:                       # as dtrace -s: one line for the script
                lines = [(f"script '{filename}'", matched)]
            else:                                 # as dtrace -n: one line per description
                lines = [(f"description '{text}'", count)
                         for text, count in script.description_counts()]
            for number, (what, count) in enumerate(lines):
                click.echo(f"usdtgen: {what} matched {count} probe{'s' if count != 1 else ''}"
                           f"{kernel if number == len(lines) - 1 else ''}", err=True)

        status = run_script(script, config, warn, notice)
        stream.flush()
    except UsdtgenError as e:
        raise InputError(f"usdtgen: {e}" if "\n" not in str(e) else str(e)) from None
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    if stream is not sys.stdout:
        stream.close()
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

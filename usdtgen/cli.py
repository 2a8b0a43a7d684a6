"""The ``usdtgen`` command line: a thin click layer over the library.

``usdtgen -h|-G ...`` is the dtrace-compatible compiler (so ``DTRACE=usdtgen`` works in
build systems written for systemtap's dtrace script); subcommands come after it.
"""
from __future__ import annotations

import sys

import click

from usdtgen import __version__
from usdtgen.errors import ProviderError, UsdtgenError

# dtrace flags that only matter to Solaris' dtrace (data model, PIC): accepted, ignored.
_IGNORED_FLAGS = {"-64", "-32", "-fPIC", "-fpic", "-fPIE", "-fpie"}


class InputError(click.ClickException):
    """Bad input: printed as given (already ``file:line:col: error: ...``), exit status 1."""

    def show(self, file=None) -> None:
        click.echo(self.message, err=True)


def _print_warnings(diagnostics) -> None:
    for diagnostic in diagnostics:
        if diagnostic.severity == "warning":
            click.echo(diagnostic.render(), err=True)


class _MainGroup(click.Group):
    """Routes ``usdtgen -h ...`` (anything that is not a subcommand) to the compiler."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "--version"):
            args = ["compile"] + list(args)
        return super().parse_args(ctx, args)


@click.group(cls=_MainGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["--help"]})
@click.version_option(__version__, "--version", prog_name="usdtgen")
@click.pass_context
def main(ctx: click.Context) -> None:
    """USDT probes for Linux.

    \b
    usdtgen -h -s myapp.d [-o myapp.h]     generate the C/C++ probe header
    usdtgen -G -s myapp.d [-o myapp.o]     generate the object dtrace -G users link
    usdtgen compile --help                 every option of the two above
    usdtgen list ./app                     the probes of a program, library or process
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
@click.argument("files", nargs=-1, type=click.Path())
def compile_command(header, object_, script, output, use_cpp, includes, defines, undefines,
                    keep, dtrace_options, strict, files) -> None:
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
                             includes, defines, undefines, strict, objects)
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


@main.command("list", context_settings={"help_option_names": ["--help"]})
@click.option("-p", "--pid", "pids", type=int, multiple=True, metavar="PID",
              help="List the probes of every object this process maps (repeatable).")
@click.option("-v", "--verbose", is_flag=True,
              help="One block per site: addresses, file offsets, semaphore, argument specs.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per site, one per line.")
@click.option("--types", "types_file", type=click.Path(exists=True, dir_okay=False),
              metavar="FILE.d", help="Argument names and types from this provider file.")
@click.argument("args", nargs=-1)
def list_command(pids, verbose, as_json, types_file, args) -> None:
    """List the USDT probes of programs, libraries or processes.

    \b
    ARGS: a target (a path, or a program name looked up on PATH) followed by
    probe filters: 'provider:name' or 'name' globs ('postgresql:txn*').
    With -p, every argument is a filter.
    """
    import json

    from usdtgen.trace.listing import collect, format_table, format_verbose, provider_types, \
        site_json
    from usdtgen.trace.targets import gather_objects, split_list_arguments

    if not pids and not args:
        raise click.UsageError("name a program, library or file, or give -p PID")
    targets, patterns = split_list_arguments(args, bool(pids))
    objects, problems = gather_objects(targets, pids)
    types = None
    if types_file:
        from usdtgen.provider import load_provider_file
        try:
            model, _ = load_provider_file(types_file)
        except (ProviderError, OSError) as e:
            raise InputError(str(e)) from None
        types = provider_types(model)
    listing = collect(objects, patterns, types, quiet_when_empty=bool(pids),
                      with_fetchargs=verbose or as_json)
    for problem in problems + listing.problems:
        click.echo(f"usdtgen: {problem}", err=True)
    if as_json:
        if listing.sites:
            click.echo("\n".join(json.dumps(site_json(listed)) for listed in listing.sites))
    elif listing.sites:
        click.echo(format_verbose(listing) if verbose else format_table(listing))
    if not listing.sites:
        what = "no probe matches " + " ".join(patterns) if patterns and listing.sites_seen \
            else "nothing to list"
        raise InputError(f"usdtgen: {what}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

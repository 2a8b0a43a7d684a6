"""The ``usdtgen`` command's entry point: ``usdtgen list`` and plain ``usdtgen trace``
command lines run here without loading click (about 12 ms); every other command line goes
to the click application of usdtgen.cli, which prints help, usage errors and the rest.

Only command lines that click would read the same way take the fast path: the command,
then only the options of _LIST or _TRACE as separate words (``--name=value`` too), values
that click would accept, ``--`` and arguments. Anything else (``--help``, other options,
combined short options, a bad number, a usage problem found later) is handed to click
unchanged, so its messages stay word for word. Both paths then run the same function:
``run_list``, or usdtgen.trace.command's ``run_trace_command``.
"""
from __future__ import annotations

import math
import os
import sys


def _number_in(convert, low: float, high: float, low_open: bool = False):
    def check(text: str):
        value = convert(text)
        if not (math.isfinite(value) and low <= value <= high) or low_open and value == low:
            raise ValueError(text)
        return value
    return check


def _file_path(text: str) -> str:
    if os.path.isdir(text):             # click's Path(dir_okay=False) says why
        raise ValueError(text)
    return text


# per command: option word -> (name, None for a flag or the value's conversion, repeatable)
_LIST = {"-v": ("verbose", None, False), "--verbose": ("verbose", None, False),
         "--json": ("as_json", None, False),
         "-p": ("pids", int, True), "--pid": ("pids", int, True)}
_TRACE = {"-q": ("quiet", None, False), "--quiet": ("quiet", None, False),
          "--json": ("as_json", None, False),
          "-p": ("pid", int, False), "--pid": ("pid", int, False),
          "-c": ("command", str, False), "--command": ("command", str, False),
          "-f": ("printf", str, False), "--format": ("printf", str, False),
          "-o": ("output", _file_path, False), "--output": ("output", _file_path, False),
          "--duration": ("duration", _number_in(float, 0, math.inf, low_open=True), False),
          "--strsize": ("strsize", _number_in(int, 2, 16384), False),
          "-u": ("function_specs", str, True), "--function": ("function_specs", str, True)}


def main(args: list[str] | None = None, prog_name: str | None = None) -> int:
    """Run ``usdtgen ARGS`` (``sys.argv[1:]`` when None) and return its exit status
    (click's commands exit through SystemExit themselves)."""
    words = sys.argv[1:] if args is None else args
    try:
        plain = parse_plain_list(words)
        if plain is not None:
            return run_list(*plain)
        _make_ring_ahead(words)
        trace = parse_plain_trace(words)
        if trace is not None:
            status = _run_plain_trace(trace)
            if status is not None:
                return status
    except KeyboardInterrupt:            # as click reports an interrupted command
        sys.stderr.write("\nAborted!\n")
        return 1
    from usdtgen.cli import main as click_main
    return click_main(args, prog_name=prog_name)


def parse_plain(args: list[str], command: str,
                options: dict) -> tuple[list[str], dict] | None:
    """(arguments, option name -> value: True for a flag, a list when repeatable) of a
    ``command`` command line that click would read the same way, or None."""
    if not args or args[0] != command:
        return None
    arguments: list[str] = []
    values: dict = {}
    words = iter(args[1:])
    for word in words:
        if word == "--":                 # the rest are arguments, dashes or not
            arguments.extend(words)
            break
        if not word.startswith("-") or word == "-":
            arguments.append(word)
            continue
        option, equals, text = word.partition("=") if word.startswith("--") else \
            (word, "", "")
        if option not in options:
            return None
        name, convert, repeatable = options[option]
        if convert is None:
            if equals:
                return None
            values[name] = True
            continue
        if not equals:
            text = next(words, None)
            if text is None:
                return None
        try:                             # click's INT and FLOAT types convert the same way
            value = convert(text)
        except ValueError:
            return None
        if repeatable:
            values.setdefault(name, []).append(value)
        else:
            values[name] = value         # given twice: click keeps the last
    return arguments, values


def parse_plain_list(args: list[str]) -> tuple[tuple[str, ...], tuple[int, ...], bool,
                                               bool] | None:
    """(arguments, PIDs, verbose, as_json) of a ``list`` command line that click would
    read the same way, or None for any other command line."""
    parsed = parse_plain(args, "list", _LIST)
    if parsed is None:
        return None
    arguments, values = parsed
    if not arguments and not values.get("pids"):
        return None
    return tuple(arguments), tuple(values.get("pids", ())), "verbose" in values, \
        "as_json" in values


def parse_plain_trace(args: list[str]):
    """The TraceOptions of a ``trace`` command line that click would read the same way,
    or None for any other command line."""
    parsed = parse_plain(args, "trace", _TRACE)
    if parsed is None:
        return None
    arguments, values = parsed
    from usdtgen.trace.command import TraceOptions

    values["function_specs"] = tuple(values.get("function_specs", ()))
    return TraceOptions(args=tuple(arguments), **values)


def _run_plain_trace(options) -> int | None:
    """Run a plain trace; None when click must take the command line (a usage problem,
    which click words with the usage line)."""
    from usdtgen.trace.command import CommandError, UsageProblem, run_trace_command
    try:
        return run_trace_command(options, echo)
    except UsageProblem:
        return None
    except CommandError as e:
        echo(str(e), err=True)
        return e.exit_code


def _make_ring_ahead(words: list[str]) -> None:
    """For ``trace`` with the default buffer size: have the kernel allocate the BPF ring
    buffer (15-40 ms for 64 MiB) in a thread while this one loads the rest of usdtgen; the
    trace takes it (or, when it needs none or another size, closes it)."""
    if not words or words[0] != "trace" or os.environ.get("USDTGEN_NO_BPF") or \
            any(word.startswith("--buffer-size") or word == "--help" for word in words):
        return
    from usdtgen.trace import bpf, perf
    try:
        bpf.make_ring_ahead(bpf.ring_size(perf.default_buffer_pages()))
    except (OSError, ValueError):
        pass                             # the trace makes its own and reports what fails


def run_list(args: tuple[str, ...], pids: tuple[int, ...], verbose: bool, as_json: bool,
             types: dict | None = None) -> int:
    """``usdtgen list``: list, print the problems (stderr) and the sites (stdout); returns
    the exit status, 1 when no site was listed (or stdout was closed early)."""
    from usdtgen.trace.listing import format_listing, list_targets, nothing_listed

    listing = list_targets(args, pids, types, with_fetchargs=verbose or as_json)
    try:
        for problem in listing.problems:
            echo(f"usdtgen: {problem}", err=True)
        if not listing.sites:
            echo(f"usdtgen: {nothing_listed(listing)}", err=True)
            return 1
        echo(format_listing(listing, verbose, as_json))
    except BrokenPipeError:              # the reader went away (| head), as click handles it
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


def echo(text: str, err: bool = False) -> None:
    """Print ``text`` and a newline, flushed, as click.echo does. Text holding an escape
    character, or that the stream cannot encode, goes through click.echo itself (which
    drops ANSI sequences when the stream is not a terminal)."""
    stream = sys.stderr if err else sys.stdout
    if "\x1b" not in text:
        try:
            stream.write(text + "\n")
            stream.flush()
            return
        except UnicodeEncodeError:
            pass
    import click
    click.echo(text, err=err)

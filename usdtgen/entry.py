"""The ``usdtgen`` command's entry point: ``usdtgen list`` with plain options runs here
without loading click; every other command line goes to the click application of
usdtgen.cli, which prints help, usage errors and the other commands.

Only command lines that click would read the same way take the fast path: ``list``, then
``-v``/``--verbose``, ``--json``, ``-p``/``--pid`` with an integer, ``--`` and arguments
(a target or -p at least). Anything else (``--help``, ``--types``, combined or unknown
options, a bad PID, nothing to list) is handed to click unchanged, so its messages stay
word for word. Both paths print through ``run_list``.
"""
from __future__ import annotations

import os
import sys

_LIST_FLAGS = {"-v": "verbose", "--verbose": "verbose", "--json": "as_json"}
_PID_OPTIONS = ("-p", "--pid")


def main(args: list[str] | None = None, prog_name: str | None = None) -> int:
    """Run ``usdtgen ARGS`` (``sys.argv[1:]`` when None) and return its exit status
    (click's commands exit through SystemExit themselves)."""
    words = sys.argv[1:] if args is None else args
    plain = parse_plain_list(words)
    if plain is None:
        _make_ring_ahead(words)
        from usdtgen.cli import main as click_main
        return click_main(args, prog_name=prog_name)
    try:
        return run_list(*plain)
    except KeyboardInterrupt:            # as click reports an interrupted command
        sys.stderr.write("\nAborted!\n")
        return 1


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


def parse_plain_list(args: list[str]) -> tuple[tuple[str, ...], tuple[int, ...], bool,
                                               bool] | None:
    """(arguments, PIDs, verbose, as_json) of a ``list`` command line that click would
    read the same way, or None for any other command line."""
    if not args or args[0] != "list":
        return None
    arguments: list[str] = []
    pids: list[int] = []
    flags: set[str] = set()
    words = iter(args[1:])
    for word in words:
        if word == "--":                 # the rest are arguments, dashes or not
            arguments.extend(words)
            break
        if word in _LIST_FLAGS:
            flags.add(_LIST_FLAGS[word])
            continue
        if word in _PID_OPTIONS or word.startswith("--pid="):
            value = word[len("--pid="):] if word.startswith("--pid=") else next(words, None)
            try:                         # click's INT type converts with int() too
                pids.append(int(value))
            except (TypeError, ValueError):
                return None
            continue
        if word.startswith("-") and word != "-":
            return None
        arguments.append(word)
    if not arguments and not pids:
        return None
    return tuple(arguments), tuple(pids), "verbose" in flags, "as_json" in flags


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

"""The plain ``usdtgen trace`` command (probe hits printed, no D script) as one function of
its options, so that click's command and the click-free entry point run the same code.

Problems come back as exceptions the caller words: UsageProblem (click prints it with the
usage line, exit status 2) and CommandError (printed as it is, with its exit status).
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from usdtgen.errors import UsdtgenError


class UsageProblem(Exception):
    """A command line whose options do not go together: reported with the command's usage."""


class CommandError(Exception):
    """A one-line error (already worded ``usdtgen: ...``) and the exit status to end with."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True, slots=True)
class TraceOptions:
    """``usdtgen trace``'s options as the command line gave them (D script options apart)."""

    pid: int | None = None
    command: str | None = None
    printf: str | None = None                 # -f FMT
    as_json: bool = False
    types: dict | None = None                 # --types, loaded (see provider_types)
    output: str | None = None                 # -o FILE
    duration: float | None = None
    quiet: bool = False
    buffer_pages: int | None = None           # --buffer-size in pages (None: the default)
    strsize: int = 1024
    function_specs: tuple[str, ...] = ()      # -u MODULE:FUNCTION[:entry|return]
    args: tuple[str, ...] = ()                # a target, then probe filters


def function_probes(specs) -> tuple:
    """``-u`` specifications as FunctionProbes; a bad one is a CommandError of status 2."""
    if not specs:
        return ()
    from usdtgen.trace.functions import FunctionSpecError, parse_function_spec
    try:
        return tuple(dict.fromkeys(parse_function_spec(spec) for spec in specs))
    except FunctionSpecError as e:
        raise CommandError(f"usdtgen: error: -u {e}", 2) from None


def plan_trace(options: TraceOptions):
    """(the TraceConfig, the compiled -f format or None) of a plain trace; raises
    UsageProblem or CommandError before anything is traced."""
    from usdtgen.trace.session import TraceConfig
    from usdtgen.trace.targets import split_list_arguments

    pid, command, args = options.pid, options.command, options.args
    if pid is not None and command is not None:
        raise UsageProblem("give -p or -c, not both")
    functions = function_probes(options.function_specs)
    if functions and pid is None and command is None and not args:
        paths = list(dict.fromkeys(f.module for f in functions if "/" in f.module))
        args = tuple(paths[:1])          # -u PATH:FUNCTION alone: every process running PATH
    if pid is None and command is None and not args:
        raise UsageProblem("name a program to trace, or give -p PID or -c CMD")
    targets, patterns = split_list_arguments(args, pid is not None or command is not None)
    if len(targets) > 1:
        raise UsageProblem(f"one target at a time ({targets[0]}, {targets[1]}); "
                           "the others must be probe filters (provider:name)")
    compiled = None
    string_args = frozenset()
    if options.printf is not None:
        from usdtgen.trace.printf import FormatError, compile_format
        try:
            compiled = compile_format(options.printf, stars=True)  # '%.*s': length, string
        except FormatError as e:
            raise UsageProblem(str(e)) from None
        string_args = frozenset(compiled.string_arguments)
    selected = {}
    if options.buffer_pages is not None:
        selected["buffer_pages"] = options.buffer_pages
    if functions and not patterns:       # -u alone: no USDT probe
        from usdtgen.trace.functions import only_function_sites
        selected["site_filter"] = only_function_sites
    config = TraceConfig(targets[0] if targets else None, pid, command, tuple(patterns),
                         options.types, string_args, options.duration,
                         string_size=options.strsize, functions=functions, **selected)
    return config, compiled


def run_trace_command(options: TraceOptions, echo) -> int:
    """Trace as ``options`` say, printing events to stdout (or -o's file) and warnings and
    the summary through ``echo(text, err=True)``; returns the exit status (-c: the
    command's). Raises UsageProblem or CommandError."""
    config, compiled = plan_trace(options)
    from usdtgen.trace.output import json_renderer, printf_renderer, text_renderer
    from usdtgen.trace.session import run_trace

    try:
        stream = open(options.output, "w") if options.output else sys.stdout
    except OSError as e:
        raise CommandError(f"usdtgen: {options.output}: {e.strerror}") from None
    start = [None]
    render = printf_renderer(compiled) if compiled is not None else None
    text, json_text = text_renderer(), json_renderer()
    as_json, quiet = options.as_json, options.quiet

    def sink(event) -> None:
        if start[0] is None:
            start[0] = event.time
        if render is not None:
            stream.write(render(event))
        elif as_json:
            stream.write(json_text(event) + "\n")
        else:
            stream.write(text(event, start[0]) + "\n")

    def warn(message: str) -> None:
        if not quiet:
            echo(f"usdtgen: warning: {message}", err=True)

    try:
        result = run_trace(config, sink, warn)
        stream.flush()
    except UsdtgenError as e:
        raise CommandError(f"usdtgen: {e}") from None
    except BrokenPipeError:            # the reader went away (| head): the trace is over
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    if as_json:
        stream.write(result.summary.json() + "\n")
    elif not quiet:
        echo(result.summary.text(), err=True)
    if stream is not sys.stdout:
        stream.close()
    return result.exit_status

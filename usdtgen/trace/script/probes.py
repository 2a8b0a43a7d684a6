"""Probe descriptions of D clauses (``provider:module:function:name``, ``BEGIN``, ``tick-1sec``)
and the probes they match: the USDT sites of a trace, and usdtgen's own BEGIN/END/ERROR/tick.

USDT names in notes spell D's ``-`` as ``__``; a description matches either spelling. A
provider field also matches the provider followed by the traced PID (``myapp$target``), the
way DTrace names USDT providers.
"""
from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass

from usdtgen.errors import Loc

SPECIAL = ("BEGIN", "END", "ERROR")
_UNITS = {"ns": 1, "nsec": 1, "us": 1_000, "usec": 1_000, "ms": 1_000_000, "msec": 1_000_000,
          "s": 10**9, "sec": 10**9, "m": 60 * 10**9, "min": 60 * 10**9, "h": 3600 * 10**9,
          "hour": 3600 * 10**9, "d": 86400 * 10**9, "day": 86400 * 10**9}
SHORTEST_INTERVAL = 200_000     # ns: DTrace's profile provider takes no shorter interval
_TICK = re.compile(r"(?:tick|profile)-(\d+)([a-z]*)")


class DescriptionError(ValueError):
    """A probe description that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class ProbeDescription:
    text: str
    loc: Loc
    kind: str                    # "usdt", "BEGIN", "END", "ERROR" or "tick"
    provider: str = ""
    module: str = ""
    function: str = ""
    name: str = ""
    interval_ns: int = 0         # tick

    @property
    def is_function(self) -> bool:
        """A pid-provider description (function entry, return or offset probes)."""
        return self.kind == "usdt" and is_function_provider(self.provider)

    def matches(self, provider: str, module: str, function: str, name: str,
                pid: int | None = None, main_module: str | None = None) -> bool:
        if self.kind != "usdt" or self.is_function != (provider == "pid"):
            return False
        if self.module == "a.out" and self.is_function:      # DTrace's name of the program
            return main_module is not None and module == main_module and \
                fnmatch.fnmatchcase(function, self.function or "*") and \
                fnmatch.fnmatchcase(name, self.name or "*")
        if self.provider and not (fnmatch.fnmatchcase(provider, self.provider) or
                                  (pid is not None and
                                   fnmatch.fnmatchcase(f"{provider}{pid}", self.provider))):
            return False
        if self.module and not fnmatch.fnmatchcase(module, self.module):
            return False
        if self.function and not fnmatch.fnmatchcase(function, self.function):
            return False
        return not self.name or fnmatch.fnmatchcase(dashed(name), dashed(self.name))


def dashed(name: str) -> str:
    """A USDT probe name as D writes it: ``request__start`` is ``request-start``."""
    return name.replace("__", "-")


def tick_interval(name: str) -> int | None:
    """``tick-5sec`` → 5e9 ns; ``tick-100hz`` or ``tick-100`` → 1e7 ns; None if not a tick.
    ``profile-N`` is read the same way: usdtgen has no per-CPU profile interrupt, so a
    profile probe fires once per period, as a tick probe does (on one CPU, not on each)."""
    match = _TICK.fullmatch(name)
    if match is None:
        return None
    number, unit = int(match.group(1)), match.group(2)
    if number <= 0:
        raise DescriptionError(f"{name}: the interval must be positive")
    if unit in ("", "hz"):
        interval = max(1, 10**9 // number)
    elif unit not in _UNITS:
        raise DescriptionError(f"{name}: unknown unit {unit!r} (ns us ms s sec min h d hz)")
    else:
        interval = number * _UNITS[unit]
    if interval < SHORTEST_INTERVAL:
        raise DescriptionError(f"{name}: the interval is shorter than 200us (5000hz), the "
                               "shortest DTrace's timer probes take")
    return interval


def parse_description(text: str, loc: Loc) -> ProbeDescription:
    """One description as written (macros already expanded)."""
    parts = text.split(":")
    if len(parts) > 4:
        raise DescriptionError(f"{text}: a probe description has at most 4 fields "
                               "(provider:module:function:name)")
    parts = [""] * (4 - len(parts)) + parts
    provider, module, function, name = parts
    special = name in SPECIAL and provider in ("", "dtrace") and not module and not function
    if special:
        return ProbeDescription(text, loc, name, provider, module, function, name)
    if provider in ("", "tick", "profile") and not module and not function:
        interval = tick_interval(name)
        if interval is not None:
            return ProbeDescription(text, loc, "tick", provider, "", "", name, interval)
    if name.startswith("profile-") or provider == "profile":
        raise DescriptionError(f"{text}: not a profile probe (profile-N, with a unit of ns, "
                               "us, ms, s, min, h, d or hz)")
    if provider in ("syscall", "fbt", "proc", "sched", "io", "lockstat", "sdt"):
        raise DescriptionError(f"{text}: only USDT probes, function probes (pid$target::"
                               "FUNCTION:entry) and BEGIN, END, ERROR, tick-N can be traced "
                               "by usdtgen")
    if is_function_provider(provider):
        if name and not (name in ("entry", "return") or _OFFSET.fullmatch(name) or
                         any(c in name for c in "*?[")):
            raise DescriptionError(f"{text}: a function probe is 'entry', 'return' or an "
                                   "instruction offset in hex (pid$target:a.out:main:1c)")
    return ProbeDescription(text, loc, "usdt", provider, module, function, name)


_OFFSET = re.compile(r"[0-9a-fA-F]+")


def is_function_provider(provider: str) -> bool:
    """DTrace's pid provider: ``pid`` followed by the process ID (``pid$target`` once
    expanded, or ``pid`` alone while the target is not known yet)."""
    return provider == "pid" or (provider.startswith("pid") and provider[3:].isdigit())


def module_name(path: str) -> str:
    """The module a USDT probe belongs to in DTrace's naming: the file's base name."""
    return os.path.basename(path)

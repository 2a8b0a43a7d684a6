"""Plan the uprobe events of a trace: one event per probe site, with the fetch-args that make
the kernel read each argument (and, for strings, the bytes it points to) at the hit.

Input: listed sites (usdtgen.trace.listing) with their parsed argument specs and, when
known, names and D types. Output: tracefs EventDefinitions and the layouts to decode them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from usdtgen.ctype_names import is_string_type
from usdtgen.elf.argspec import Unfetchable, to_string_fetcharg
from usdtgen.trace.listing import ListedSite, symbol_offset_for
from usdtgen.trace.tracefs import EventDefinition

MAX_EVENT_NAME = 63
COMM_FIELD = "comm"
# A second copy of the thread's name after the strings: the kernel fills the strings of one
# hit in field order from one page; when they do not fit, the string that crosses the end
# is cut and every later string field (this one included) comes back empty.
STRINGS_END_FIELD = "strings_end"


@dataclass(frozen=True, slots=True)
class ArgLayout:
    """How one argument of a site is fetched and shown."""

    name: str                  # the declared name, else arg0, arg1, ...
    dtype: str | None          # the D type when known
    size: int
    signed: bool
    kind: str                  # int | pointer | string | float
    field: str | None          # the event field holding the value (None: unfetchable)
    string_field: str | None   # the field holding the string it points to
    problem: str | None = None # why the value cannot be fetched


@dataclass(frozen=True, slots=True)
class SiteEvent:
    """One attached site: its probe, its event and how to decode the event's records."""

    provider: str
    probe: str
    event_name: str
    path: str
    address: int
    args: tuple[ArgLayout, ...]
    # strings with a length (#pragma usdtgen string_length): (string, length) by index; the
    # string is cut to that many bytes
    lengths: tuple[tuple[int, int], ...] = ()


def _kind(dtype: str | None, is_float: bool, want_string: bool) -> str:
    if want_string:
        return "string"
    if is_float:
        return "float"
    if dtype is not None and (dtype.endswith("*") or dtype == "string"):
        return "pointer"
    return "int"


def event_name(provider: str, probe: str, index: int) -> str:
    """A tracefs event name for a site: letters, digits and '_' only, at most 63 characters."""
    suffix = f"_{index}"
    stem = re.sub(r"[^A-Za-z0-9_]", "_", f"{provider}_{probe}")
    return stem[:MAX_EVENT_NAME - len(suffix)] + suffix


@dataclass(frozen=True, slots=True)
class _ArgPlan:
    index: int
    spec: object              # the ArgSpec
    name: str
    dtype: str | None
    want_string: bool
    used: bool                # fetched at all (a D script fetches only what it reads)


def _arg_plans(listed: ListedSite, string_args: frozenset[int],
               fetch: frozenset[int] | None) -> list[_ArgPlan]:
    plans = []
    if fetch is not None:                  # a string's length comes with the string
        fetch = fetch | {length for string, length in listed.string_lengths if string in fetch}
    for i, spec in enumerate(listed.args.args if listed.args else ()):
        declared = listed.arg_names[i] if listed.arg_names else None
        name = declared[0] if declared and declared[0] else f"arg{i}"
        dtype = declared[1] if declared else None
        # a -f '%s' asks for a string at this position: only pointer-sized values can be one
        want_string = is_string_type(dtype) or (i in string_args and spec.size == 8
                                                and not spec.is_float)
        plans.append(_ArgPlan(i, spec, name, dtype, want_string, fetch is None or i in fetch))
    return plans


def plan_site(listed: ListedSite, group: str, name: str, kernel_path: str,
              string_args: frozenset[int] = frozenset(),
              fetch: frozenset[int] | None = None) -> tuple[EventDefinition, SiteEvent]:
    """The event definition of one site and the layout of its records, read by the
    kernel's fetch-args.

    ``string_args``: argument indexes to read as strings even without a type saying so
    (e.g. the ``%s`` conversions of a ``-f`` format). ``fetch``: the argument indexes to
    fetch at all (a D script's), None for every argument.
    """
    site = listed.site
    fetchargs: list[tuple[str, str]] = [(COMM_FIELD, "$comm:string")]    # first: always whole
    layouts: list[ArgLayout] = []
    resolver = symbol_offset_for(site, listed.symbols)
    for plan in _arg_plans(listed, string_args, fetch):
        i, spec = plan.index, plan.spec
        fetched = listed.fetchargs[i] if i < len(listed.fetchargs) else Unfetchable("not parsed")
        field = string_field = problem = None
        if not plan.used:
            pass                                  # not used: not fetched, no problem either
        elif isinstance(fetched, Unfetchable):
            problem = str(fetched)
        else:
            field = f"arg{i}"
            fetchargs.append((field, fetched))
            if plan.want_string:
                try:
                    fetchargs.append((f"arg{i}_str", to_string_fetcharg(spec, resolver)))
                    string_field = f"arg{i}_str"
                except Unfetchable as e:
                    problem = f"cannot read it as a string: {e}"
        layouts.append(ArgLayout(plan.name, plan.dtype, spec.size, spec.signed,
                                 _kind(plan.dtype, spec.is_float,
                                       plan.want_string and string_field is not None),
                                 field, string_field, problem))
    if any(layout.string_field for layout in layouts):
        fetchargs.append((STRINGS_END_FIELD, "$comm:string"))
    definition = EventDefinition(group, name, kernel_path, site.file_offset, site.semaphore_offset,
                                 tuple(fetchargs), getattr(listed, "returns", False))
    return definition, SiteEvent(site.provider, site.name, name, site.path, site.address,
                                 tuple(layouts), _counted(listed, layouts))


def _counted(listed: ListedSite, layouts) -> tuple[tuple[int, int], ...]:
    """The (string, length) pairs of a site whose string is read and length fetched."""
    return tuple((string, length) for string, length in listed.string_lengths
                 if string < len(layouts) and layouts[string].kind == "string"
                 and layouts[length].field is not None)


def plan_record_site(listed: ListedSite, group: str, name: str, kernel_path: str,
                     site_index: int, strsize: int, string_args: frozenset[int] = frozenset(),
                     fetch: frozenset[int] | None = None, copies=()):
    """The event of one site whose hits a BPF program records (the event fetches nothing),
    the layout of its records and what the program needs: (EventDefinition, SiteEvent,
    RecordLayout, argument specs). Arguments the program cannot read get a problem.
    ``copies``: (argument index, bytes) the program copies from where the argument points."""
    from usdtgen.trace.bpfgen import RecordLayout
    site = listed.site
    plans = _arg_plans(listed, string_args, fetch)
    specs = [plan.spec for plan in plans]
    layouts = tuple(ArgLayout(p.name, p.dtype, p.spec.size, p.spec.signed,
                              _kind(p.dtype, p.spec.is_float, p.want_string),
                              f"arg{p.index}" if p.used else None,
                              "string" if p.used and p.want_string else None)
                    for p in plans)
    counted = _counted(listed, layouts)
    layout = RecordLayout(site_index, len(plans),
                          tuple(p.index for p in plans if p.used and p.want_string), strsize,
                          tuple(sorted(c for c in copies if c[0] < len(plans))), counted)
    definition = EventDefinition(group, name, kernel_path, site.file_offset,
                                 site.semaphore_offset, (), getattr(listed, "returns", False))
    return definition, SiteEvent(site.provider, site.name, name, site.path, site.address,
                                 layouts, counted), layout, specs


def site_relative_for(listed: ListedSite):
    """symbol -> its address minus the site's (None when unknown), for BPF programs: the pc
    at the hit is the site's run-time address."""
    symbols = listed.symbols or {}

    def distance(name: str) -> int | None:
        address = symbols.get(name)
        return None if address is None else address - listed.site.address
    return distance

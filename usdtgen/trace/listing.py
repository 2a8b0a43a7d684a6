"""``usdtgen list``: gather the probe sites of targets, filter them, and render them as a
table, one row per site (``-v``), or JSON objects.

Inputs are ElfObjects (usdtgen.trace.targets); outputs are strings and dicts, no printing.
The table of raw argument strings needs neither the argument-spec parser nor the provider
model: those modules load inside the functions that use them, so ``usdtgen list`` starts
fast.
"""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field

from usdtgen.elf.notes import ElfProbes, ProbeSite, read_probes
from usdtgen.errors import ElfError
from usdtgen.trace.targets import ElfObject, gather_objects, split_list_arguments

TYPE_CHECKING = False             # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from usdtgen.elf.argspec import ArgSpec, ParsedArgs, Unfetchable


@dataclass(frozen=True, slots=True)
class ListedSite:
    site: ProbeSite
    args: ParsedArgs | None                         # None unless collected with details
    arg_names: tuple[tuple[str, str], ...] | None   # (name, D type) when known
    fetchargs: tuple[str | Unfetchable, ...]    # empty unless collected with_fetchargs
    symbols: dict | None = None                 # symbol addresses resolved for its arguments
    open_path: str = ""                         # the file to open (and to give the kernel)
    mapped: tuple = ()      # DTrace's argument mapping: (native index, name, D type) each
    string_lengths: tuple = ()    # (string argument, its length argument), by index


@dataclass
class Listing:
    sites: list[ListedSite] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)   # one line each, naming the file
    objects_read: int = 0
    sites_seen: int = 0          # before filtering
    patterns: list[str] = field(default_factory=list)   # the probe filters asked for


def matches(site: ProbeSite, patterns: list[str]) -> bool:
    """``provider:name`` globs, or ``name`` alone; no pattern matches everything. A name
    matches in the note's spelling (``query__start``) and in D's (``query-start``)."""
    if not patterns:
        return True
    for pattern in patterns:
        provider, sep, name = pattern.rpartition(":")
        if not sep:
            provider = "*"
        if fnmatch.fnmatchcase(site.provider, provider) and (
                fnmatch.fnmatchcase(site.name, name) or
                fnmatch.fnmatchcase(site.name.replace("__", "-"), name)):
            return True
    return False


def provider_types(model) -> dict:
    """(provider, probe) → ProbeTypes from a parsed provider file (``--types``): what a type
    note would say, argument mapping and string lengths included."""
    from usdtgen.elf.notes import ProbeTypes
    return {(prov.name, probe.name): ProbeTypes(
                prov.name, probe.name, tuple((a.name or "", a.ctype.d_name) for a in probe.args),
                tuple((native, a.name or "", a.ctype.d_name)
                      for native, a in zip(probe.arg_map or (), probe.mapped_args or ())),
                probe.string_lengths)
            for prov in model.providers for probe in prov.probes}


def list_targets(args: tuple[str, ...] | list[str], pids: tuple[int, ...] | list[int] = (),
                 types: dict | None = None, with_fetchargs: bool = False) -> Listing:
    """What ``usdtgen list ARGS [-p PID]...`` lists: ARGS split into targets and probe
    filters (with PIDs, every one is a filter), every object of the targets and processes
    read, the matching sites kept. A target that cannot be used is a problem of the
    listing (first, in order), as a file that cannot be read is; nothing is raised.
    """
    targets, patterns = split_list_arguments(args, bool(pids))
    objects, problems = gather_objects(targets, pids)
    listing = collect(objects, patterns, types, quiet_when_empty=bool(pids),
                      with_fetchargs=with_fetchargs)
    listing.problems[:0] = problems
    listing.patterns = patterns
    return listing


def collect(objects: list[ElfObject], patterns: list[str], types: dict | None = None,
            quiet_when_empty: bool = False, with_fetchargs: bool = True) -> Listing:
    """Read every object; keep the sites that match. Problems are collected, never raised.

    ``with_fetchargs`` also parses each argument spec and translates it for uprobe_events
    (needed by ``-v``, ``--json`` and the tracer; the table shows the raw strings).
    """
    listing = Listing()
    seen: set[tuple[int, int]] = set()
    for obj in objects:
        try:                       # the same file reached twice (two processes, two names)
            status = os.stat(obj.open_path)
        except OSError:
            status = None
        if status is not None:
            if (status.st_dev, status.st_ino) in seen:
                continue
            seen.add((status.st_dev, status.st_ino))
        try:
            probes = read_probes(obj.open_path, obj.path)
        except ElfError as e:
            if not quiet_when_empty:
                listing.problems.append(f"{obj.path}: {e}")
            continue
        listing.objects_read += 1
        for problem in probes.problems:
            listing.problems.append(f"{obj.path}: {problem}")
        if not probes.sites:
            if not quiet_when_empty:
                listing.problems.append(f"{obj.path}: no USDT probes (no .note.stapsdt notes)")
            continue
        listing.sites_seen += len(probes.sites)
        listing.sites.extend(_listed(probes, patterns, types or {}, obj, with_fetchargs))
    return listing


def _listed(probes: ElfProbes, patterns: list[str], types: dict, obj: ElfObject,
            with_fetchargs: bool):
    if with_fetchargs:
        from usdtgen.elf.argspec import Memory, Unfetchable, parse_args, to_fetcharg
        from usdtgen.elf.symbols import symbol_addresses
    sites = [site for site in probes.sites if matches(site, patterns)]
    # the table shows the raw string: parse only when details are wanted
    parsed = [parse_args(site.args_text, site.machine) if with_fetchargs else None
              for site in sites]
    symbols: dict[str, int] = {}
    if with_fetchargs:
        wanted = {spec.location.symbol for args in parsed for spec in args.args
                 if isinstance(spec.location, Memory) and spec.location.symbol is not None}
        if wanted:
            symbols = symbol_addresses(obj.open_path, wanted)
    for site, args in zip(sites, parsed):
        key = (site.provider, site.name)
        # --types wins over the binary's type note; either only with the note's arg count
        known = next((t for t in (types.get(key), probes.types.get(key))
                      if t is not None and (args is None or len(t.args) == len(args.args))),
                     None)
        names = known.args if known is not None else None
        fetchargs: list[str | Unfetchable] = []
        if with_fetchargs:
            for spec in args.args:
                try:
                    fetchargs.append(to_fetcharg(spec, symbol_offset_for(site, symbols)))
                except Unfetchable as e:
                    fetchargs.append(e)
        typed = names is not None
        yield ListedSite(site, args, names, tuple(fetchargs), symbols or None, obj.open_path,
                         known.mapped if typed else (), known.string_lengths if typed else ())


def symbol_offset_for(site: ProbeSite, symbols: dict | None):
    """For ``@+OFFSET`` fetch-args: the kernel adds OFFSET to the probed mapping's base
    (probe address minus its file offset), so express the symbol relative to the site."""
    if not symbols or site.file_offset is None:
        return None

    def offset(name: str) -> int | None:
        address = symbols.get(name)
        return None if address is None else address - site.address + site.file_offset
    return offset


# -- rendering ---------------------------------------------------------------------------------

def _prototype(listed: ListedSite) -> str:
    if listed.args is not None and listed.args.error:
        return f"? ({listed.args.error})"
    if listed.arg_names is not None:
        from usdtgen.provider.model import format_declaration
        return ", ".join(format_declaration(dtype, name) for name, dtype in listed.arg_names)
    return listed.site.args_text


def format_table(listing: Listing) -> str:
    """One row per probe (sites of a probe counted together), grouped by file."""
    rows: dict[tuple[str, str, str], list[ListedSite]] = {}
    for listed in listing.sites:
        rows.setdefault((listed.site.path, listed.site.provider, listed.site.name), []).append(listed)
    out, current = [], None
    width = max((len(p) + len(n) + 1 for _, p, n in rows), default=5)
    for (path, provider, name), sites in rows.items():
        if path != current:
            if current is not None:
                out.append("")
            out.append(path)
            out.append(f"  {'PROBE':<{width}}  SITES  SEMAPHORE  ARGUMENTS")
            current = path
        semaphore = "yes" if any(s.site.semaphore for s in sites) else "no"
        out.append(f"  {provider + ':' + name:<{width}}  {len(sites):>5}  {semaphore:<9}  "
                   f"{_prototype(sites[0])}")
    return "\n".join(out)


def describe_location(spec: ArgSpec) -> str:
    from usdtgen.elf.argspec import Immediate, Register

    location = spec.location
    if isinstance(location, Register):
        return f"register %{location.name}"
    if isinstance(location, Immediate):
        return f"constant {location.symbol or location.value}"
    parts = [location.symbol] if location.symbol else []
    if location.displacement or not parts:
        parts.append(str(location.displacement))
    where = "+".join(parts)
    base = f"%{location.base.name}" if location.base else ""
    index = f" + %{location.index.name}*{location.scale}" if location.index else ""
    return f"memory at {base}{'+' if base else ''}{where}{index}".replace("+-", "-")


def format_verbose(listing: Listing) -> str:
    """One block per site: addresses, offsets, raw and decoded argument specs."""
    from usdtgen.provider.model import format_declaration

    out = []
    for listed in listing.sites:
        site = listed.site
        semaphore = (f"semaphore {site.semaphore:#x} (file offset "
                     f"{_hex(site.semaphore_offset)})" if site.semaphore else "no semaphore")
        out.append(f"{site.path} {site.provider}:{site.name}")
        out.append(f"  address {site.address:#x}  file offset {_hex(site.file_offset)}  "
                   f"base {site.base:#x}  {semaphore}")
        out.append(f"  args: {site.args_text or '(none)'}")
        if listed.args.error:
            out.append(f"    ? {listed.args.error}")
        for i, (spec, fetch) in enumerate(zip(listed.args.args, listed.fetchargs)):
            name = f"arg{i}"
            if listed.arg_names:
                arg_name, dtype = listed.arg_names[i]
                name = f"{name} {format_declaration(dtype, arg_name)}"
            kind = "float" if spec.is_float else ("signed" if spec.signed else "unsigned")
            fetched = f"uprobe: {fetch}" if isinstance(fetch, str) else f"uprobe: cannot ({fetch})"
            out.append(f"    {name}: {spec.text} = {kind} {spec.size}-byte "
                       f"{describe_location(spec)}; {fetched}")
    return "\n".join(out)


def format_listing(listing: Listing, verbose: bool = False, as_json: bool = False) -> str:
    """What ``usdtgen list`` prints for the listing's sites: one JSON object per line
    (``as_json``; the sites must be collected with_fetchargs, as for ``verbose``), one block
    per site (``verbose``), or the table."""
    if as_json:
        import json
        return "\n".join(json.dumps(site_json(listed)) for listed in listing.sites)
    return format_verbose(listing) if verbose else format_table(listing)


def nothing_listed(listing: Listing) -> str:
    """Why a listing holds no site: no probe matched its filters, or nothing had probes."""
    if listing.patterns and listing.sites_seen:
        return "no probe matches " + " ".join(listing.patterns)
    return "nothing to list"


def _hex(value: int | None) -> str:
    return f"{value:#x}" if value is not None else "none"


def site_json(listed: ListedSite) -> dict:
    """The JSON object of one site."""
    site = listed.site
    args = []
    for i, (spec, fetch) in enumerate(zip(listed.args.args, listed.fetchargs)):
        entry = {"spec": spec.text, "size": spec.size, "signed": spec.signed,
                 "float": spec.is_float, "location": describe_location(spec)}
        if isinstance(fetch, str):
            entry["fetcharg"] = fetch
        else:
            entry["unfetchable"] = str(fetch)
        if listed.arg_names:
            entry["name"], entry["type"] = listed.arg_names[i]
        args.append(entry)
    obj = {"path": site.path, "provider": site.provider, "name": site.name,
           "address": site.address, "file_offset": site.file_offset, "base": site.base,
           "semaphore": site.semaphore, "semaphore_offset": site.semaphore_offset,
           "args_text": site.args_text, "args": args}
    if listed.args.error:
        obj["args_error"] = listed.args.error
    return obj

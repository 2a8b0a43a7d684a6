"""Run a trace: find the probes, define their uprobe events, open perf events on them for
the right processes, read and decode every record until the end, and clean up.

``run_trace(config, sink)`` owns the kernel state it creates (an event group
``usdtgen_<pid>_<n>``, perf fds, ring buffers) and removes all of it whatever happens:
normal end, a signal, an error, the target exiting.
"""
from __future__ import annotations

import bisect
import contextlib
import dataclasses
import gc
import operator
import os
import resource
import select
import signal
import struct
import sys
import time
from dataclasses import dataclass, field

from usdtgen.errors import TraceError
from usdtgen.trace import bpf, bpfgen, perf, tracefs
from usdtgen.trace.attach import event_name, plan_record_site, plan_site, site_relative_for
from usdtgen.trace.decode import Decoder, RecordDecoder
from usdtgen.trace.listing import collect
from usdtgen.trace.output import Summary
from usdtgen.trace.process import StoppedChild, command_objects, process_alive, start_stopped, \
    thread_ids
from usdtgen.trace.targets import process_objects, resolve_program
from usdtgen.trace.tree import ProcessTree

DRAIN_SECONDS = 0.02          # the least time between two reads of the buffers
RESCAN_SECONDS = 0.2          # how often a traced process's memory map is checked for new objects
MAX_RECORD_SITES = 16384      # probe sites one trace records with BPF


@dataclass(frozen=True, slots=True)
class TraceConfig:
    target: str | None = None                 # a path or program name: every process running it
    pid: int | None = None                    # -p
    command: str | None = None                # -c
    patterns: tuple[str, ...] = ()
    types: dict | None = None                 # (provider, probe) -> ((name, type), ...)
    string_args: frozenset[int] = frozenset() # argument indexes to read as strings (-f %s)
    duration: float | None = None
    buffer_pages: int = field(default_factory=lambda: perf.default_buffer_pages())   # per CPU
    # For D scripts (usdtgen.trace.script): which listed sites to attach, and for each the
    # argument indexes to fetch and to read as strings; events then keep string arguments'
    # addresses (Event.strings holds the text). allow_empty: no matching probe is no error.
    site_filter: object = None                # (list of ListedSite) -> the ones to attach
    site_fetch: object = None                 # (ListedSite) -> (frozenset | None, frozenset,
                                              #   copies: ((argument index, bytes), ...))
    keep_addresses: bool = False
    allow_empty: bool = False
    site_kernel: object = None                # (ListedSite) -> None, or a loader of a BPF
                                              # program that aggregates its hits in the kernel
    poll_seconds: float = 0.1                 # how long the reader sleeps at most
    string_size: int = 1024                   # bytes of a string read by BPF, its NUL included
    # function probes (usdtgen.trace.functions.FunctionProbe) to make sites of, in every
    # object of the target whose name matches
    functions: tuple = ()


class TraceHooks:
    """What a D script does around the events: no-ops here."""

    def on_target(self, pid: int | None) -> None:
        """The traced process is known (the -c child, or -p), before probes are matched."""

    def started(self) -> None:
        """Probes are armed; a -c child has not run yet (D's BEGIN)."""

    def wakeup_in(self) -> float | None:
        """Seconds until the next timer is due (tick-N), or None."""
        return None

    def tick(self) -> None:
        """Run the timers that are due."""

    def should_stop(self) -> bool:
        """True once the script called exit()."""
        return False


@dataclass
class TraceResult:
    summary: Summary
    exit_status: int = 0                      # the child's, with -c
    warnings: list[str] = field(default_factory=list)


class _Attached:
    """The kernel state of one trace, released by close() in every case."""

    def __init__(self, buffer_pages: int, root=None):
        self.root = root                                # tracefs (None: not found yet)
        self.tree: ProcessTree | None = None            # -p/-c: the followed processes
        self.buffer_pages = buffer_pages                # per CPU ring
        self.group = tracefs.new_group_name()
        self.event_count = 0
        self.fds: list[int] = []
        self.fd_events: dict[int, int] = {}             # perf fd -> tracefs event id
        self.received: dict[int, int] = {}              # tracefs event id -> samples read
        self.pending: list = []                         # decoded events not yet handed on
        self.count_fds: dict[int, list[int]] = {}       # tracefs event id -> counting events
        self.rings: dict[int, perf.RingBuffer] = {}     # cpu -> ring
        self.decoders: dict[int, Decoder] = {}          # tracefs event id -> decoder
        # the BPF data path: one ring buffer of records, per-site hit and loss counters
        self.records: bpf.RingBuffer | None = None
        self.counters: bpf.SiteCounters | None = None
        self.scratch: bpf.PerCpuScratch | None = None
        self.record_decoders: dict[int, RecordDecoder] = {}    # site index -> decoder
        self.record_received: dict[int, int] = {}              # site index -> records read
        self.record_fds: list[int] = []
        self.record_programs: list[int] = []
        self.to_arm: list[tuple[int, int]] = []     # (event id, program fd) defined, not open
        self.seen_sites: set[tuple] = set()          # site_identity of every attached site
        self.seen_objects: set[tuple[int, int]] = set()   # files already looked at
        self.main_path: str | None = None               # the program (module a.out)

    def add_sites(self, listed_sites, config: TraceConfig, targets, warnings,
                  stop=lambda: False) -> int:
        """Define and open events for sites not attached yet, fetching and decoding as
        ``config`` says; returns how many were added.

        ``stop()`` is checked between sites, so a signal does not wait for hundreds of them.
        """
        added = []
        if not listed_sites:
            return 0
        records_before = len(self.record_decoders)
        self._add_sites(listed_sites, config, targets, warnings, stop, added)
        self.arm_records()
        return len(added) + len(self.record_decoders) - records_before

    def _add_sites(self, listed_sites, config, targets, warnings, stop, added) -> None:
        for listed in listed_sites:
            if stop():
                break
            key = site_identity(listed)
            if key in self.seen_sites or listed.site.file_offset is None:
                continue
            self.seen_sites.add(key)
            name = event_name(listed.site.provider, listed.site.name, self.event_count)
            self.event_count += 1
            fetch, site_strings, copies = (None, config.string_args, ()) \
                if config.site_fetch is None else config.site_fetch(listed)
            loader = config.site_kernel(listed) if config.site_kernel is not None else None
            if self.records is not None:
                try:
                    self.add_record_site(listed, name, config, fetch, site_strings, warnings,
                                         loader, copies)
                    continue
                except (bpfgen.NotKernel, TraceError, OSError) as e:
                    warnings.append(f"{listed.site.provider}:{listed.site.name} at "
                                    f"{listed.site.path}:{listed.site.address:#x}: read by "
                                    f"the kernel's fetch-args instead of BPF ({e})")
            where = f"{listed.site.provider}:{listed.site.name} at " \
                    f"{listed.site.path}:{listed.site.address:#x}"
            if any(index == bpfgen.USER_STACK for index, _ in copies):
                warnings.append(f"{where}: ustack() is empty: only a BPF program can read the "
                                "user stack when the probe fires (no BPF program here)")
            if any(index != bpfgen.USER_STACK for index, _ in copies):
                warnings.append(f"{where}: copyin() reads the process's memory when the "
                                "record is processed, not when the probe fired (no BPF "
                                "program here)")
            definition, site_event = plan_site(listed, self.group, name, listed.open_path,
                                               site_strings, fetch)
            for arg in site_event.args:
                if arg.problem:
                    warnings.append(f"{listed.site.provider}:{listed.site.name} at "
                                    f"{listed.site.path}:{listed.site.address:#x}: {arg.name} "
                                    f"cannot be fetched ({arg.problem}); shown as ?")
            tracefs.add_event(self.root, definition)
            event_format = tracefs.read_format(self.root, self.group, name)
            self.decoders[event_format.event_id] = Decoder(site_event, event_format,
                                                           config.keep_addresses)
            added.append((event_format.event_id, listed, loader))
        if added:
            for _, cpu, _ in targets:
                self.ring(cpu)
        for event_id, listed, loader in added:
            # Count first: the kernel raises the semaphore at the first event it gets, and a
            # hit on a CPU whose sampling event is not open yet must still be counted.
            first_fd = None
            for pid, inherit in dict.fromkeys((pid, inherit) for pid, _, inherit in targets):
                if pid != -1:
                    fd = perf.open_tracepoint(event_id, pid, -1, inherit, sampling=False)
                    self.fds.append(fd)
                    self.count_fds.setdefault(event_id, []).append(fd)
                    first_fd = first_fd if first_fd is not None else fd
            for pid, cpu, inherit in targets:
                fd = perf.open_tracepoint(event_id, pid, cpu, inherit)
                self.fds.append(fd)
                self.fd_events[fd] = event_id
                perf.set_output(fd, self.ring(cpu).fd)
                first_fd = first_fd if first_fd is not None else fd
            if first_fd is not None:
                self.attach_program(listed, loader, first_fd, warnings)

    def arm_records(self) -> None:
        """Arm each recorded site defined since the last call, with its program in place
        before any process can hit it: an event for usdtgen's own process first (it
        registers the uprobe, installed in no process since usdtgen does not map the file,
        so no semaphore moves) carries the program, then the event for every process arms
        the probe and raises the semaphores. A program attached after would miss, uncounted,
        the hits of a program that fires as soon as its _ENABLED() turns true. The probes go
        live together, once every event is defined."""
        cpu = perf.online_cpus()[0]
        while self.to_arm:
            event_id, program_fd = self.to_arm.pop(0)
            holder = perf.open_tracepoint(event_id, os.getpid(), -1, sampling=False)
            self.fds.append(holder)
            self.record_fds.append(holder)
            bpf.attach(holder, program_fd)
            fd = perf.open_tracepoint(event_id, -1, cpu, sampling=False)
            self.fds.append(fd)
            self.record_fds.append(fd)

    def start_records(self, config: TraceConfig) -> str | None:
        """Set up the BPF data path (a ring buffer sized like the perf buffers together, and
        the counters); returns why it cannot be used, or None."""
        try:
            if os.environ.get("USDTGEN_NO_BPF"):
                raise TraceError("BPF is turned off by USDTGEN_NO_BPF")
            self.records = bpf.take_ring(bpf.ring_size(config.buffer_pages))
            self.counters = bpf.SiteCounters()
            self.scratch = bpf.PerCpuScratch(8 + bpfgen.largest_record(config.string_size))
        except (TraceError, OSError) as e:
            for name in ("records", "counters", "scratch"):
                if getattr(self, name) is not None:
                    getattr(self, name).close()
                    setattr(self, name, None)
            return e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        return None

    def add_record_site(self, listed, name: str, config: TraceConfig, fetch, site_strings,
                        warnings, loader=None, copies=()) -> None:
        """A site whose hits a BPF program reads and records in the ring buffer: the program
        first (a refusal leaves nothing behind), then an event that fetches nothing, one perf
        event on it (the program runs on every CPU), the program attached. With ``loader``
        (a D script that aggregates this site in the kernel) the program is the script's,
        which records only the hits it cannot aggregate."""
        index = len(self.record_decoders)
        if index >= MAX_RECORD_SITES:
            raise TraceError(f"more than {MAX_RECORD_SITES} probe sites")
        definition, site_event, layout, specs = plan_record_site(
            listed, self.group, name, listed.open_path, index, config.string_size,
            site_strings, fetch, copies)
        member_fd = self.tree.members.fd if self.tree is not None else None
        site_relative = site_relative_for(listed)
        # (a stack walk needs no sleeping, and costs twice as much in a sleepable program:
        # a frame whose file's build ID is not in memory is kept as its address)
        sleepable = bool(layout.strings or any(index != bpfgen.USER_STACK
                                               for index, _ in layout.copies))
        counters = self.counters.slots(index)
        code, problems = bpfgen.record_program(
            layout, specs, listed.site.machine, self.records.fd, counters, member_fd,
            site_relative, fault_in=sleepable, scratch_fd=self.scratch.fd)
        program_fd = None
        if loader is not None:
            def emit_record(code):
                bpfgen.emit_record(code, layout, specs, listed.site.machine, self.records.fd,
                                   counters, site_relative, fault_in=sleepable,
                                   scratch_fd=self.scratch.fd)
            try:
                program_fd = loader(member_fd, site_relative, emit_record, sleepable,
                                    self.records.fd)
            except Exception as e:                              # the verifier, a limit
                warnings.append(f"{listed.site.provider}:{listed.site.name}: aggregating in "
                                f"userspace instead of the kernel: {e}")
        if program_fd is None:
            program_fd = bpf.load_program(code, "usdtgen_site", sleepable=sleepable)
            self.record_programs.append(program_fd)
        tracefs.add_event(self.root, definition)
        event_format = tracefs.read_format(self.root, self.group, name)
        self.to_arm.append((event_format.event_id, program_fd))
        args = list(site_event.args)
        for i, problem in enumerate(problems):
            if problem is not None and args[i].field is not None:
                args[i] = dataclasses.replace(args[i], field=None, string_field=None,
                                              problem=problem)
                warnings.append(f"{listed.site.provider}:{listed.site.name} at "
                                f"{listed.site.path}:{listed.site.address:#x}: "
                                f"{args[i].name} cannot be read ({problem}); shown as ?")
        self.record_decoders[index] = RecordDecoder(
            dataclasses.replace(site_event, args=tuple(args)), layout, config.keep_addresses)
        self.record_received[index] = 0

    def stop_records(self) -> None:
        """Detach the BPF programs of the recorded sites (closing their events: disabling
        does not stop a program); what they wrote stays in the ring buffer to be read."""
        for fd in self.record_fds:
            try:
                self.fds.remove(fd)
            except ValueError:
                pass
            os.close(fd)
        self.record_fds.clear()

    def record_counts(self) -> tuple[int, int]:
        """(hits, lost) of the recorded sites, from the programs' counters."""
        if self.counters is None:
            return 0, 0
        hits = lost = 0
        for index in self.record_decoders:
            site_hits, site_lost = self.counters.hits_lost(index)
            hits += site_hits
            lost += site_lost
        return hits, lost

    def attach_program(self, listed, loader, fd: int, warnings) -> None:
        """Give the site's hits to a BPF program: the script's, when it aggregates this site
        in the kernel (a hit it aggregates is not recorded, nor counted; a hit it passes on,
        a string it cannot read yet, is recorded as usual), else the process tree's filter.
        A hit of a process outside the followed tree is dropped by either, uncounted. One
        program per event: the kernel runs it for every perf event on it."""
        member_fd = self.tree.members.fd if self.tree is not None else None
        if loader is not None:
            try:
                bpf.attach(fd, loader(member_fd))
                return
            except Exception as e:                              # the verifier, a limit
                warnings.append(f"{listed.site.provider}:{listed.site.name}: aggregating in "
                                f"userspace instead of the kernel: {e}")
        if self.tree is not None:
            bpf.attach(fd, self.tree.filter_fd)

    def ring(self, cpu: int) -> perf.RingBuffer:
        """``cpu``'s ring buffer, owned by a perf event of its own: mapping megabytes takes
        milliseconds, so it is done before a probe is armed, not in between."""
        ring = self.rings.get(cpu)
        if ring is None:
            fd = perf.open_buffer_owner(cpu, wakeup_bytes=self.buffer_pages * perf.PAGE_SIZE // 4)
            self.fds.append(fd)
            ring = self.rings[cpu] = perf.RingBuffer(fd, self.buffer_pages)
        return ring

    def hits(self) -> dict[int, int]:
        """tracefs event id -> times its probe fired for the traced processes so far (from
        the counting events where there are some, else from the per-CPU events)."""
        totals: dict[int, int] = {}
        for event_id, fds in self.count_fds.items():
            totals[event_id] = sum(perf.hit_count(fd) for fd in fds)
        for fd, event_id in self.fd_events.items():
            if event_id not in self.count_fds:
                totals[event_id] = totals.get(event_id, 0) + perf.hit_count(fd)
        return totals

    def disable(self) -> None:
        for fd in self.fds:
            try:
                perf.disable(fd)
            except OSError:
                pass

    def close(self) -> list[str]:
        self.disable()
        for ring in self.rings.values():
            ring.close()
        for fd in self.fds:
            os.close(fd)
        self.fds.clear()
        self.fd_events.clear()
        self.count_fds.clear()
        self.rings.clear()
        self.record_fds.clear()
        for fd in self.record_programs:
            os.close(fd)
        self.record_programs.clear()
        bpf.discard_ring_ahead()                         # made, never taken
        for resource_ in (self.records, self.counters, self.scratch, self.tree):
            if resource_ is not None:
                resource_.close()
        return tracefs.remove_group(self.root, self.group) if self.root is not None else []


def file_identity(path: str) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_dev, status.st_ino)


def site_identity(listed) -> tuple:
    """The same site however its file was reached (relative path, /proc/PID/map_files/...)."""
    try:
        status = os.stat(listed.open_path)
        place: tuple = (status.st_dev, status.st_ino, listed.site.file_offset)
    except OSError:
        place = (os.path.realpath(listed.site.path), listed.site.file_offset)
    return place + (True,) if getattr(listed, "returns", False) else place  # (a uretprobe)


def _raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed + 64:
        target = hard if hard == resource.RLIM_INFINITY else max(soft, min(hard, needed + 64))
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass


def _no_match_message(objects, patterns, where: str, functions=(), main_path=None) -> str:
    if functions and not patterns:                   # usdtgen trace -u: the functions'
        from usdtgen.trace.functions import unmatched_message
        return unmatched_message(objects, functions, main_path, where)
    everything = collect(objects, [], quiet_when_empty=True, with_fetchargs=False)
    names = sorted({f"{s.site.provider}:{s.site.name}" for s in everything.sites})
    if not names:
        return f"no USDT probes in {where}"
    from difflib import get_close_matches

    close = []
    for pattern in patterns:
        close += get_close_matches(pattern, names, n=3, cutoff=0.4)
    hint = f"; closest: {', '.join(dict.fromkeys(close))}" if close else \
        f"; it has {len(names)} probes, e.g. {', '.join(names[:3])}"
    return f"no probe of {where} matches {' '.join(patterns)}{hint}"


class _Stop:
    """Signals turn into a flag the loop checks; the previous handlers come back at the end."""

    def __init__(self):
        self.requested = False
        self.child: StoppedChild | None = None     # set once a -c child exists
        self.saved = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            self.saved[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.child is not None and self.child.released and signum == signal.SIGINT \
                and sys.stdin.isatty():
            return          # the terminal sent it to the child too: end when the child ends
        if self.child is not None and self.child.released:
            try:
                os.kill(self.child.pid, signum)
            except ProcessLookupError:
                pass
            return
        self.requested = True

    def __exit__(self, *exc):
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)


def run_trace(config: TraceConfig, sink, warn=lambda message: None,
              hooks: TraceHooks | None = None) -> TraceResult:
    """Trace until the target ends, ``config.duration`` passes, a signal arrives or
    ``hooks.should_stop()``.

    ``sink(event)`` receives every decoded Event in order of reading; ``warn(text)`` gets
    one-line warnings as they happen. Raises TraceError for anything that stops the trace
    from starting.
    """
    with _Stop() as stop:          # from here on a signal ends the trace, never the process
        return _run(config, sink, warn, stop, hooks or TraceHooks())


def _select(config: TraceConfig, sites) -> list:
    return sites if config.site_filter is None else config.site_filter(sites)


def _collect(config: TraceConfig, objects, main_path: str | None):
    """The USDT sites of ``objects`` the patterns match, and the sites of the function
    probes asked for."""
    listing = collect(objects, list(config.patterns), config.types, quiet_when_empty=True)
    if config.functions:
        from usdtgen.trace.functions import function_listing
        sites, problems = function_listing(objects, config.functions, main_path)
        listing.sites += sites
        listing.problems += problems
    return listing


def _main_path(config: TraceConfig, child, objects) -> str | None:
    """The program traced (DTrace's module a.out), as a path usdtgen can open."""
    if child is not None:
        return child.program
    if config.pid is not None:
        return f"/proc/{config.pid}/exe"
    return objects[0].open_path if objects else None


def _open_target(config: TraceConfig, stop: _Stop):
    """(the child held before its first instruction or None, the objects to look at, the
    process to follow or None, whether its children count, what the trace watches)."""
    child: StoppedChild | None = None
    if config.command is not None:
        child = stop.child = start_stopped(config.command)
        return child, command_objects(child), child.pid, True, \
            f"{child.program} and its libraries"
    if config.pid is not None:
        objects = process_objects(config.pid)
        return None, objects, config.pid, True, \
            f"process {config.pid} ({len(objects)} mapped files)"
    if config.target is None:                     # a script of BEGIN/END/tick clauses only
        return None, [], None, False, "nothing"
    objects = [resolve_program(config.target)]
    return None, objects, None, False, objects[0].path


def _run(config: TraceConfig, sink, warn, stop: _Stop, hooks: TraceHooks) -> TraceResult:
    attached = _Attached(config.buffer_pages)
    if config.command is not None or config.pid is not None or config.target is not None:
        bpf.make_ring_ahead(bpf.ring_size(config.buffer_pages))   # in a thread meanwhile
    try:
        attached.root = root = tracefs.find_tracefs()
        tracefs.remove_stale_groups(root)
        child, objects, watch_pid, inherit, where = _open_target(config, stop)
    except BaseException:
        attached.close()
        raise
    warnings: list[str] = []
    summary = Summary()
    attached.main_path = _main_path(config, child, objects)
    if config.keep_addresses:                   # a D script: stacks name their frames by
        from usdtgen.trace.symbolize import SYMBOLIZER     # the build IDs of these files
        SYMBOLIZER.add_files([(o.open_path, o.path) for o in objects])
    exit_status = 0
    hooks.on_target(child.pid if child is not None else config.pid)
    try:
        listing = _collect(config, objects, attached.main_path)
        listing.sites = _select(config, listing.sites)
        attached.seen_objects.update(i for i in map(file_identity, (o.open_path for o in objects))
                                     if i is not None)
        for problem in listing.problems:
            warnings.append(problem)
        if not listing.sites and not config.allow_empty:
            message = _no_match_message(objects, config.patterns, where, config.functions,
                                        attached.main_path)
            if child is None:
                raise TraceError(message)
            # the command may exec another program (env, taskset, a script): keep watching
            warnings.append(message + "; watching for programs and libraries the command maps")
        cpus = perf.online_cpus()
        if watch_pid is not None:
            attached.tree = _follow(watch_pid, root, warnings)
        if watch_pid is None or attached.tree is not None:
            targets = [(-1, cpu, False) for cpu in cpus]
            if watch_pid is not None or objects:
                reason = attached.start_records(config)
                if reason is not None:
                    warnings.append(f"reading arguments with the kernel's fetch-args, not BPF "
                                    f"({reason}): arguments at indexed addresses are shown "
                                    "as ?, and strings are cut at about 4 KiB")
        elif child is not None:
            targets = [(child.pid, cpu, True) for cpu in cpus]
        else:
            targets = [(tid, cpu, inherit) for tid in thread_ids(watch_pid) for cpu in cpus]
        _raise_fd_limit(len(listing.sites) * len(targets))
        attached.add_sites(listing.sites, config, targets, warnings,
                           stop=lambda: stop.requested)
        for message in warnings:
            warn(message)
        warnings_shown = len(warnings)
        if not stop.requested:
            hooks.started()
        if stop.requested or hooks.should_stop():     # a signal while attaching, or exit()
            if child is not None:
                child.kill()
                exit_status = _exit_code(os.waitpid(child.pid, 0)[1])
            return TraceResult(summary, exit_status, warnings)
        if child is not None:
            child.release()
        with _few_collections():
            exit_status = _loop(config, attached, summary, sink, stop, child, watch_pid,
                                targets, warnings, warn, warnings_shown, hooks)
    except BaseException:
        if child is not None:
            child.kill()
            os.waitpid(child.pid, 0)
        raise
    finally:
        leftover = attached.close()
        if leftover:
            message = (f"could not remove uprobe events {', '.join(leftover)} of group "
                       f"{attached.group}; the next usdtgen run removes them")
            warnings.append(message)
            warn(message)
    return TraceResult(summary, exit_status, warnings)


# How far behind the clock events are held back before they are handed on. The kernel takes a
# sample's time and writes the record with preemption disabled, microseconds apart; a virtual
# CPU the host stops in between is the slow case, so the margin is generous.
REORDER_NS = 100_000_000
EVENT_TIME = operator.attrgetter("time")
SITE_WORD = struct.Struct("<I")


def _drain(attached: _Attached, summary: Summary, sink, final: bool = False) -> None:
    """Decode every record the rings hold and hand the events on in time order across CPUs.

    The rings are per CPU and read one after another, so a record written on one CPU just
    after its ring was read would arrive a round late, after newer events of other CPUs.
    Events newer than the clock (read before the rings) minus REORDER_NS therefore wait in
    ``attached.pending`` for the next round; ``final`` (after the events are disabled) hands
    on everything."""
    horizon = time.monotonic_ns() - REORDER_NS          # perf times are CLOCK_MONOTONIC too
    decoders = attached.decoders
    pending = attached.pending
    fresh = _read_records(attached)
    for cpu, ring in list(attached.rings.items()):
        for record in ring.read():
            if isinstance(record, perf.Sample):
                event_id = int.from_bytes(record.raw[:2], "little")      # common_type
                decoder = decoders.get(event_id)
                if decoder is not None:
                    pending.append(decoder.decode(record, cpu))
                    attached.received[event_id] = attached.received.get(event_id, 0) + 1
                    fresh += 1
    if not pending:
        return
    if fresh:
        pending.sort(key=EVENT_TIME)         # mostly in order already: cheap
    if final or pending[-1].time <= horizon:
        ready, attached.pending = pending, []
    else:
        cut = bisect.bisect_right(pending, horizon, key=EVENT_TIME)
        if cut == 0:
            return
        ready, attached.pending = pending[:cut], pending[cut:]
    summary.count_all(ready)
    for event in ready:
        sink(event)


def _drain_records_to_end(attached: _Attached, seconds: float = 0.5) -> None:
    """Once the programs are detached, read the ring buffer until every hit they counted
    was read or counted as lost (briefly: a program that was running when it was detached,
    copying a string from a page being read in, still finishes its record)."""
    if attached.records is None:
        return
    deadline = time.monotonic() + seconds
    while True:
        _read_records(attached)
        hits, lost = attached.record_counts()
        if sum(attached.record_received.values()) + lost >= hits or \
                time.monotonic() >= deadline:
            return
        time.sleep(0.01)


def _read_records(attached: _Attached) -> int:
    """Decode the ring buffer's new records into ``attached.pending``; returns how many."""
    if attached.records is None:
        return 0
    decoders, received, pending = attached.record_decoders, attached.record_received, \
        attached.pending
    data, starts = attached.records.read()
    site_word = SITE_WORD.unpack_from
    append = pending.append
    for start in starts:
        index = site_word(data, start)[0] & ~bpfgen.COMPACT
        if index == bpfgen.STACK_NOTICE:                 # no hit: a stack map's stack
            from usdtgen.trace.symbolize import note_announced_stack
            note_announced_stack(data, start)
            continue
        decoder = decoders.get(index)
        if decoder is not None:
            append(decoder.decode(data, start))
            received[index] += 1
    return len(starts)


@contextlib.contextmanager
def _few_collections():
    """While events stream: the objects made during start-up (parsers, ELF readers) moved
    out of the collector's sight, and a collection every 50,000 new objects rather than
    every 700. Events hold no reference cycles, so reference counting frees them; the
    collector only walked them, which cost about 1 us per event at full speed."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _loop(config, attached, summary, sink, stop, child, watch_pid, targets, warnings, warn,
          warnings_shown, hooks: TraceHooks) -> int:
    deadline = time.monotonic() + config.duration if config.duration else None
    next_rescan = time.monotonic() + RESCAN_SECONDS
    poller = select.poll()
    for ring in attached.rings.values():
        poller.register(ring.fd, select.POLLIN)
    if attached.records is not None:
        poller.register(attached.records.fd, select.POLLIN)
    exit_status = 0
    drained_at = 0.0
    while True:
        timeout = config.poll_seconds
        wakeup = hooks.wakeup_in()
        if wakeup is not None:
            timeout = max(0.0, min(timeout, wakeup))
        # A ring wakes its reader for each record written while the reader waits: at
        # 50,000 events/s that is a wakeup and a drain per event. Letting records gather
        # for DRAIN_SECONDS after the last drain makes it one per few hundred events.
        gather = min(timeout, drained_at + DRAIN_SECONDS - time.monotonic())
        if gather > 0:
            time.sleep(gather)
            timeout -= gather
        try:
            poller.poll(int(timeout * 1000))
        except InterruptedError:
            pass
        drained_at = time.monotonic()
        _drain(attached, summary, sink)
        hooks.tick()
        if stop.requested:
            break
        if hooks.should_stop() or (deadline is not None and time.monotonic() >= deadline):
            if child is not None:              # the trace is over: so is its command
                os.kill(child.pid, signal.SIGTERM)
                _, status = os.waitpid(child.pid, 0)
                exit_status = _exit_code(status)
            break
        if child is not None:
            done, status = os.waitpid(child.pid, os.WNOHANG)
            if done:
                exit_status = _exit_code(status)
                break
        elif watch_pid is not None and not process_alive(watch_pid):
            break
        if watch_pid is not None and time.monotonic() >= next_rescan:
            next_rescan = time.monotonic() + RESCAN_SECONDS
            _rescan(config, attached, watch_pid, targets, warnings)
            for ring in attached.rings.values():
                poller.register(ring.fd, select.POLLIN)
            while warnings_shown < len(warnings):
                warn(warnings[warnings_shown])
                warnings_shown += 1
    attached.disable()               # no hit after this point: counts and buffers agree
    attached.stop_records()
    _drain_records_to_end(attached)
    _drain(attached, summary, sink, final=True)
    # exact loss accounting: the kernel counts every hit, written to the buffer or not
    # (a PERF_RECORD_LOST record only comes when a later record finds room); the BPF
    # programs count their hits and the records they found no room for
    summary.lost = sum(max(0, hits - attached.received.get(event_id, 0))
                       for event_id, hits in attached.hits().items())
    summary.lost += attached.record_counts()[1]
    return exit_status


def _follow(pid: int, root, warnings) -> ProcessTree | None:
    """The process tree of ``pid`` followed in the kernel, or None (with a warning) where BPF
    cannot be used: then the perf events follow ``pid`` and the children it forks from now
    on, which the kernel's per-process filter can make lose events when a sibling exits."""
    try:
        return ProcessTree(pid, root)
    except (TraceError, OSError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        warnings.append(f"cannot follow the process tree of {pid} with BPF ({reason}): "
                        "tracing it and the children it forks from now on; children that "
                        "exist already are not traced, and a child's events can be lost "
                        "when a sibling exits; arguments are read with the kernel's "
                        "fetch-args: those at indexed addresses are shown as ?, and strings "
                        "are cut at about 4 KiB")
        return None


def _exit_code(wait_status: int) -> int:
    """A child's exit status as a shell reports it (128 + N when killed by signal N)."""
    code = os.waitstatus_to_exitcode(wait_status)
    return 128 - code if code < 0 else code


def _rescan(config, attached, pid, targets, warnings) -> None:
    """Attach the probes of objects the followed processes mapped since (dlopen, exec,
    runtime-made objects, a child that ran another program). Objects already looked at are skipped by identity, so a rescan is cheap."""
    pids = attached.tree.processes_now() if attached.tree is not None else [pid]
    objects = []
    for member in pids:
        try:
            objects += process_objects(member)
        except Exception:
            continue                            # gone meanwhile (the root: the loop ends)
    new_objects = []
    for obj in objects:
        identity = file_identity(obj.open_path)
        if identity is not None and identity not in attached.seen_objects:
            attached.seen_objects.add(identity)
            new_objects.append(obj)
    if not new_objects:
        return
    listing = _collect(config, new_objects, attached.main_path)
    fresh = [s for s in _select(config, listing.sites) if site_identity(s) not in attached.seen_sites]
    if not fresh:
        return
    try:
        attached.add_sites(fresh, config, targets, warnings)
    except Exception as e:
        warnings.append(f"could not attach probes of a newly mapped object: {e}")

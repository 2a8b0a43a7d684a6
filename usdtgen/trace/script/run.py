"""Run a compiled D script over a trace: choose the sites its clauses match, tell the tracer
what to fetch for each, turn events into firings, and drive BEGIN, tick-N, END and ERROR.

``load_script`` compiles (raising ScriptError with ``file:line:col``); ``run_script`` traces
with usdtgen.trace.session and returns the exit status, with the trace's kernel state gone.
"""
from __future__ import annotations

import os
import time

from usdtgen.errors import ScriptError
from usdtgen.provider.model import is_string_type
from usdtgen.trace.script.compile import MAX_ARGS, Compiler, Firing, ProbeInfo
from usdtgen.trace.script.parse import ParsedScript, error_at, parse_script
from usdtgen.trace.script.probes import dashed, module_name
from usdtgen.trace.script.runtime import Machine, OptionError, Timer, parse_rate, parse_size
from usdtgen.trace.session import TraceConfig, TraceHooks, run_trace

ZEROS = (0,) * MAX_ARGS
NO_STRINGS = (None,) * MAX_ARGS
THREAD_VARIABLES = 65536       # self-> variables the kernel keeps at once (DTrace: dynvarsize)
# distinct user stacks a stack map holds; a stack whose bucket is taken goes to userspace
STACKS = 16384
BEGIN_ID, END_ID, ERROR_ID = 1, 2, 3


class Script:
    """A compiled script and its running state (``machine``)."""

    def __init__(self, text: str, filename: str, macro_args=(), stream=None, errors=None,
                 as_json: bool = False, quiet: bool = False, allow_unmatched: bool = False,
                 kernel: bool = True, parsed: ParsedScript | None = None, options=()):
        parsed = parsed if parsed is not None else parse_script(text, filename)
        self.parsed = parsed
        self.filename = filename
        self.machine = machine = Machine(stream, errors, as_json)
        if quiet or parsed.shebang_quiet:
            machine.options["quiet"] = True
        self.compiler = Compiler(parsed, machine, list(macro_args), options)
        try:
            self.clauses = self.compiler.compile()
        except OptionError as e:
            raise error_at(text, filename, 1, 1, str(e)) from None
        self.allow_unmatched = allow_unmatched or bool(machine.options.get("zdefs"))
        self.usdt = [c for c in self.clauses if any(d.kind == "usdt" for d in c.descriptions)]
        self.next_id = 4
        self.timers: list[Timer] = []
        self.begin = self.special("BEGIN")
        self.end = self.special("END")
        error_probe = ProbeInfo(ERROR_ID, "dtrace", "", "", "ERROR")
        machine.error_probe = error_probe
        machine.error_clauses = self.special("ERROR")
        by_interval: dict[int, list] = {}
        for clause in self.clauses:
            for description in clause.descriptions:
                if description.kind == "tick":
                    by_interval.setdefault(description.interval_ns, []).append(
                        (clause, description.name))
        now = time.monotonic_ns()
        for interval, entries in by_interval.items():
            probe = ProbeInfo(self.new_id(), "profile", "", "", entries[0][1])
            bound = [(c, *self.compiler.bind(c, None)) for c, _ in entries]
            self.timers.append(Timer(interval, now + interval, bound, probe))
        self.bound_by_site: dict = {}           # (path, address) -> (ProbeInfo, bound clauses)
        self.bound_by_id: dict = {}             # id(SiteEvent) -> (ProbeInfo, bound clauses)
        self.function_names: dict = {}
        self.sites_matched = 0
        self.checked_matches = False
        self.kernel = kernel                    # aggregate in the kernel where a site allows
        self.kernel_sites: list = []
        self.clause_sites: dict = {}            # clause index -> sites it is bound to
        self.description_probes: dict = {}      # id(description) -> the probes it matched
        self.kernel_clause_sites: dict = {}     # clause index -> of those, in the kernel
        self._variables_in_kernel: bool | None = None
        self._variables_map = None              # a HashMap, once a site needs it
        self._stack_maps: dict = {}             # frames -> StackMap, once a site needs it
        self.trace_over = False                 # run_trace has returned
        machine.sync = self.sync_kernel

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def special(self, kind: str) -> list:
        return [(c, *self.compiler.bind(c, None)) for c in self.clauses
                if any(d.kind == kind for d in c.descriptions)]

    # -- choosing and binding sites --------------------------------------------------------------

    def select_sites(self, sites: list) -> list:
        """The listed sites some clause matches; the first time, every USDT description must
        match a site (unless -Z)."""
        pid = self.machine.target
        chosen = []
        matched_descriptions = set()
        for listed in sites:
            site = listed.site
            function = self.function_of(listed)
            module = module_name(site.path)
            main_module = module if getattr(listed, "in_main", False) else None
            hit = False
            for clause in self.usdt:
                for description in clause.descriptions:
                    if description.matches(site.provider, module, function, site.name, pid,
                                           main_module):
                        matched_descriptions.add(id(description))
                        hit = True
            if hit:
                chosen.append(listed)
        if not self.checked_matches:
            self.checked_matches = True
            if not self.allow_unmatched:
                for clause in self.usdt:
                    for description in clause.descriptions:
                        if description.kind == "usdt" and \
                                id(description) not in matched_descriptions:
                            loc = description.loc
                            raise error_at(self.parsed.text, loc.file, loc.line, loc.col,
                                           f"probe description {description.text} does not "
                                           "match any probe",
                                           "check with 'usdtgen list'; -Z allows descriptions "
                                           "that match nothing")
        return chosen

    def function_of(self, listed) -> str:
        if getattr(listed, "function", ""):        # a function probe's own function
            return listed.function
        site = listed.site
        names = self.function_names.get(site.path)
        if names is None:
            names = self.function_names[site.path] = {}
        if site.address not in names:
            from usdtgen.elf.symbols import containing_functions
            names.update(containing_functions(listed.open_path or site.path, [site.address]))
            names.setdefault(site.address, "")
        return names[site.address]

    def site_fetch(self, listed):
        """(argument indexes to fetch, indexes to read as strings, (index, size) of the
        memory copyin() wants copied) for one site; binds the clauses that match it to its
        argument types on the way."""
        info, bound = self.bind_site(listed)
        fetch, strings, copies = set(), set(), set()
        for clause, _, _ in bound:
            fetch |= clause.needs.args
            strings |= clause.needs.strings
            copies |= clause.needs.copies
        return frozenset(fetch), frozenset(strings), tuple(sorted(copies))

    def site_kernel(self, listed):
        """A loader of the BPF program aggregating this site's hits in the kernel, or None
        when one of its clauses (or its arguments) needs userspace."""
        from usdtgen.trace.script.kernel import KernelSite, NotKernel, kernel_clause, \
            load_site, uses_thread_variables
        if not self.kernel or listed.args is None:
            return None
        info, bound = self.bind_site(listed)
        if not bound:
            return None
        variables = any(uses_thread_variables(clause) for clause, _, _ in bound)
        if variables and not self.thread_variables_in_kernel():
            return None
        try:
            site = KernelSite([kernel_clause(self.compiler, clause, info)
                               for clause, _, _ in bound],
                              f"{listed.site.provider}:{listed.site.name}")
        except NotKernel:
            return None
        site.strsize = self.machine.strsize
        if variables:
            site.thread_variables_fd = self.thread_variables_map().fd
        site.stack_map = self.stack_map
        specs = listed.args.args if listed.args is not None else ()
        arch = listed.site.machine                # platform.machine()'s names

        def load(member_set_fd: int | None = None, site_relative=None, emit_record=None,
                 sleepable: bool = False, ring_fd: int | None = None) -> int:
            program_fd = load_site(site, specs, arch, member_set_fd, site_relative,
                                   emit_record, sleepable, ring_fd)
            self.kernel_sites.append(site)
            for clause, _, _ in bound:
                self.kernel_clause_sites[clause.index] = \
                    self.kernel_clause_sites.get(clause.index, 0) + 1
            return program_fd
        return load

    def sync_kernel(self) -> None:
        from usdtgen.trace.script.kernel import MAX_ENTRIES, sync_site
        for site in self.kernel_sites:
            faults, dropped = sync_site(site, final=self.trace_over)
            if faults:
                self.machine.errors.write(
                    f"usdtgen: {faults} hits of {site.name} not aggregated: copyinstr() could "
                    "not read the string (a bad or NULL address)\n")
            if dropped:
                self.machine.errors.write(
                    f"usdtgen: {dropped} hits of {site.name} not aggregated: an in-kernel "
                    f"aggregation is full ({MAX_ENTRIES} keys)\n")

    def thread_variables_in_kernel(self) -> bool:
        """Whether the script's self-> variables live in the kernel: only when every clause
        that uses one is a USDT clause that runs there whole (a variable is never split
        between the kernel and usdtgen)."""
        if self._variables_in_kernel is None:
            from usdtgen.trace.script.kernel import kernel_clause, uses_thread_variables
            decision = self.kernel
            for clause in self.clauses:
                if not decision:
                    break
                if not uses_thread_variables(clause):
                    continue
                if any(d.kind != "usdt" for d in clause.descriptions):
                    decision = False
                    continue
                try:
                    kernel_clause(self.compiler, clause, None)
                except Exception:                      # NotKernel, or untyped without a probe
                    decision = False
            self._variables_in_kernel = decision
        return self._variables_in_kernel

    def thread_variables_map(self):
        """The map every site program keeps the self-> variables in (thread, variable)."""
        if self._variables_map is None:
            from usdtgen.trace import bpf
            self._variables_map = bpf.HashMap(8, 8, THREAD_VARIABLES)
        return self._variables_map

    def stack_map(self, frames: int):
        """The map every site program stores user stacks of ``frames`` frames in (one per
        frame count: its values are that many frames)."""
        table = self._stack_maps.get(frames)
        if table is None:
            from usdtgen.trace import bpf
            table = self._stack_maps[frames] = bpf.StackMap(frames, STACKS)
        return table

    def close_kernel(self) -> None:
        for site in self.kernel_sites:
            site.close()
        if self._stack_maps:
            from usdtgen.trace.symbolize import forget_announced
            for table in self._stack_maps.values():
                forget_announced(table.number)
                table.close()
            self._stack_maps.clear()
        if self._variables_map is not None:
            self._variables_map.close()
            self._variables_map = None

    def bind_site(self, listed):
        site = listed.site
        key = (site.path, site.address, site.provider, site.name)
        known = self.bound_by_site.get(key)
        if known is not None:
            return known
        arg_types = None
        if listed.args is not None:
            types = []
            for i, spec in enumerate(listed.args.args):
                declared = listed.arg_names[i] if listed.arg_names and i < len(listed.arg_names) \
                    else None
                dtype = declared[1] if declared else None
                types.append((declared[0] if declared else f"arg{i}", dtype, spec.size,
                              spec.signed, is_string_type(dtype)))
            arg_types = tuple(types)
        arg_map = mapped_types = None
        if listed.mapped and arg_types is not None:     # args[N] as the provider maps them
            arg_map = tuple(native for native, _, _ in listed.mapped)
            mapped_types = tuple((name or f"args[{k}]", dtype) + arg_types[native][2:4]
                                 + (is_string_type(dtype),)
                                 for k, (native, name, dtype) in enumerate(listed.mapped))
        function = self.function_of(listed)
        info = ProbeInfo(self.new_id(), site.provider, module_name(site.path), function,
                         dashed(site.name), arg_types, arg_map, mapped_types)
        pid = self.machine.target
        bound = []
        probe = (site.provider, info.module, function, site.name)
        for clause in self.usdt:
            matching = [d for d in clause.descriptions
                        if d.matches(site.provider, info.module, function, site.name, pid,
                                     info.module if getattr(listed, "in_main", False) else None)]
            for description in matching:
                self.description_probes.setdefault(id(description), set()).add(probe)
            if matching:
                bound.append((clause, *self.compiler.bind(clause, info)))
                self.clause_sites[clause.index] = self.clause_sites.get(clause.index, 0) + 1
        self.sites_matched += 1
        known = self.bound_by_site[key] = (info, bound)
        return known

    # -- events ----------------------------------------------------------------------------------

    def on_event(self, event) -> None:
        machine = self.machine
        if machine.exiting:
            return
        site = event.site
        known = self.bound_by_id.get(id(site))
        if known is None:
            known = self.bound_by_site.get((site.path, site.address, site.provider, site.probe))
            if known is None:
                return
            self.bound_by_id[id(site)] = known
        info, bound = known
        values = event.values                   # unread arguments are 0 already
        count = len(values)
        args = values + ZEROS[count:]
        strings = event.strings + NO_STRINGS[count:] if event.strings is not None else NO_STRINGS
        machine.run(Firing(args, strings, event.pid, event.tid, event.comm, event.time,
                           event.cpu, info, event.copies), bound)

    def fire_special(self, bound, probe: ProbeInfo) -> None:
        if bound:
            self.machine.run(Firing(ZEROS, NO_STRINGS, os.getpid(), os.getpid(), "usdtgen",
                                    time.monotonic_ns(), 0, probe), bound)

    def fire_begin(self) -> None:
        self.fire_special(self.begin, ProbeInfo(BEGIN_ID, "dtrace", "", "", "BEGIN"))

    def fire_end(self) -> None:
        self.fire_special(self.end, ProbeInfo(END_ID, "dtrace", "", "", "END"))

    def run_timers(self) -> None:
        now = time.monotonic_ns()
        for timer in self.timers:
            if now >= timer.next_ns and not self.machine.exiting:
                self.fire_special(timer.clauses, timer.probe)
                timer.next_ns += timer.interval_ns
                if timer.next_ns <= now:                   # fell behind: no burst of catch-ups
                    timer.next_ns = now + timer.interval_ns

    def next_timer_in(self) -> float | None:
        if not self.timers:
            return None
        return max(0.0, (min(t.next_ns for t in self.timers) - time.monotonic_ns()) / 1e9)

    def clauses_in_kernel(self) -> tuple[int, int]:
        """(USDT clauses that run in the kernel at every site they match, USDT clauses)."""
        whole = sum(1 for index, sites in self.clause_sites.items()
                    if sites and self.kernel_clause_sites.get(index, 0) == sites)
        return whole, len(self.usdt)

    def description_counts(self) -> list[tuple[str, int]]:
        """Each probe description of the script, as written, and how many probes it matched
        (a probe: provider, module, function and name; its sites count once)."""
        counts = []
        for clause in self.clauses:
            for description in clause.descriptions:
                if description.kind == "usdt":
                    count = len(self.description_probes.get(id(description), ()))
                else:                          # BEGIN, END, ERROR, tick-N: one probe each
                    count = 1
                counts.append((description.text, count))
        return counts

    def probes_matched(self) -> int:
        specials = sum(1 for bound in (self.begin, self.end, self.machine.error_clauses) if bound)
        return self.sites_matched + specials + len(self.timers)


class _Hooks(TraceHooks):
    def __init__(self, script: Script, notice):
        self.script = script
        self.notice = notice

    def on_target(self, pid):
        self.script.machine.target = pid

    def started(self):
        script = self.script
        self.notice(script.probes_matched(), len(script.kernel_sites),
                    *script.clauses_in_kernel())
        script.fire_begin()
        script.machine.output.flush()

    def wakeup_in(self):
        return self.script.next_timer_in()

    def tick(self):
        self.script.run_timers()
        self.script.machine.output.flush()             # output shows at once, not at the end

    def should_stop(self):
        return self.script.machine.exiting


def has_usdt_clauses(parsed: ParsedScript) -> bool:
    """Whether a script has a clause for USDT probes (so it needs a target)."""
    from usdtgen.trace.script.probes import SPECIAL, tick_interval, DescriptionError
    for clause in parsed.tree.find_data("clause"):
        for token in clause.children[0].children:
            name = str(token).split(":")[-1]
            try:
                special = name in SPECIAL or tick_interval(name) is not None
            except DescriptionError:
                special = True
            if not special:
                return True
    return False


def load_script(text: str, filename: str, macro_args=(), stream=None, errors=None,
                as_json: bool = False, quiet: bool = False, allow_unmatched: bool = False,
                kernel: bool = True, parsed: ParsedScript | None = None,
                options=()) -> Script:
    """Compile a script (``parsed``: its text already parsed by parse_script; ``options``:
    NAME[=VALUE] set as by ``-x``, before the script's own pragmas)."""
    return Script(text, filename, macro_args, stream, errors, as_json, quiet, allow_unmatched,
                  kernel, parsed, options)


MAX_BUFFER_BYTES = 256 << 20     # what a bufsize option can give the ring buffer


def trace_config(script: Script, target=None, pid=None, command=None, types=None,
                 duration=None, buffer_pages=None) -> TraceConfig:
    options = script.machine.options
    extra = {}
    if buffer_pages is not None:
        extra["buffer_pages"] = buffer_pages
    elif "bufsize" in options:
        from usdtgen.trace import perf
        pages = max(2, parse_size(options["bufsize"]) // perf.PAGE_SIZE)
        # (bufresize=auto, dtrace's default: a size no buffer can have is made smaller)
        pages = min(pages, MAX_BUFFER_BYTES // perf.PAGE_SIZE)
        extra["buffer_pages"] = 1 << (pages.bit_length() - 1)
    poll = 0.1
    for name in ("switchrate", "aggrate"):
        if name in options:
            poll = min(poll, parse_rate(options[name]))
    from usdtgen.trace.functions import FunctionProbe
    functions = tuple(dict.fromkeys(
        FunctionProbe(d.module, d.function, d.name or "*")
        for clause in script.usdt for d in clause.descriptions if d.is_function))
    return TraceConfig(target=target, pid=pid, command=command, types=types, duration=duration,
                       functions=functions,
                       site_filter=script.select_sites, site_fetch=script.site_fetch,
                       site_kernel=script.site_kernel,
                       keep_addresses=True, allow_empty=not script.usdt or script.allow_unmatched,
                       poll_seconds=poll, string_size=script.machine.strsize, **extra)


def run_script(script: Script, config: TraceConfig, warn=lambda message: None,
               notice=lambda matched, in_kernel, clauses_in_kernel, clauses: None) -> int:
    """Trace, then fire END and print what is left; returns the exit status (exit()'s
    value; else, with -c, the command's)."""
    if script.usdt and config.target is None and config.pid is None and config.command is None:
        raise _no_target(script)
    result = run_trace(config, script.on_event, warn, _Hooks(script, notice))
    machine = script.machine
    if result.summary.lost:
        # as dtrace reports drops, whatever the quiet option: the aggregations are short
        machine.errors.write(f"usdtgen: {result.summary.lost} events lost: the probes fired "
                             "faster than usdtgen could read them (raise -- buffer-size or the "
                             "bufsize option)\n".replace("-- ", "--"))
    script.trace_over = True                      # every record read: stacks announced
    was_exiting = machine.exiting
    machine.exiting = False                       # END's clauses run, exit() in END included
    try:
        script.fire_end()
        machine.print_remaining()
    finally:
        script.close_kernel()
    drops, failed = machine.speculative_drops, machine.failed_speculations
    if drops:                                     # as dtrace reports them
        machine.errors.write(f"usdtgen: {drops} speculative drop{'s' if drops != 1 else ''}\n")
    if failed:
        machine.errors.write(f"usdtgen: {failed} failed speculation{'s' if failed != 1 else ''}"
                             " (no speculative buffer free: raise nspec)\n")
    buffer = machine.buffer
    if buffer is not None and buffer.policy == "switch":
        for cpu, count in sorted(buffer.drops.items()):
            machine.errors.write(f"usdtgen: {count} drop{'s' if count != 1 else ''} on CPU "
                                 f"{cpu} (records that did not fit bufsize)\n")
    if was_exiting or machine.exiting:
        return machine.exit_status
    return result.exit_status


def _no_target(script: Script) -> ScriptError:
    description = script.usdt[0].descriptions[0]
    loc = description.loc
    return error_at(script.parsed.text, loc.file, loc.line, loc.col,
                    f"{description.text} is a USDT probe, but there is no process or program "
                    "to trace", "name a program, or give -p PID or -c CMD")

"""The running state of a D script: variables, aggregations, options and output, and the
dispatch of probe firings (USDT events, BEGIN, END, ERROR, tick-N) to compiled clauses.

Output follows dtrace(1M): in non-quiet mode a ``CPU ID FUNCTION:NAME`` heading, then one
line per firing of a clause that prints, ending in a newline; aggregations not printed with
printa() are printed at the end, after an empty line.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field

from usdtgen.trace.symbolize import UserStack
from usdtgen.trace.script.aggregate import Aggregation, KeyType, absent_state, format_key, \
    json_dump, scalar_value
from usdtgen.trace.script.compile import FAULT_BADADDR, MAX_ARGS, Firing, Fault, ProbeInfo
from usdtgen.trace.script.memory import BadAddress, Memory, print_text

ZEROS = (0,) * MAX_ARGS
NO_STRINGS = (None,) * MAX_ARGS
SIZE_SUFFIX = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
# size options and the least each takes (a speculation holds at least one record)
SIZE_OPTIONS = {"bufsize": 0, "aggsize": 0, "dynvarsize": 0, "specsize": 8}


def _memory_size() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 1 << 62


def parse_size(text) -> int:
    """``4m`` → 4 MiB; a bare number is bytes."""
    text = str(text).strip().lower()
    multiplier = 1
    if text and text[-1] in SIZE_SUFFIX:
        multiplier, text = SIZE_SUFFIX[text[-1]], text[:-1]
    return int(text, 0) * multiplier


def parse_rate(text) -> float:
    """``10hz`` → 0.1 s; ``500ms`` → 0.5 s; a bare number is hertz."""
    text = str(text).strip().lower()
    for suffix, scale in (("hz", None), ("nsec", 1e-9), ("ns", 1e-9), ("usec", 1e-6),
                          ("us", 1e-6), ("msec", 1e-3), ("ms", 1e-3), ("sec", 1.0), ("s", 1.0)):
        if text.endswith(suffix):
            number = float(text[:-len(suffix)])
            return 1.0 / number if scale is None else number * scale
    return 1.0 / float(text)


RECORD_HEADER = 8      # bytes: a clause's record header in a DTrace buffer
RECORD_BYTES = 8       # bytes, about, of one recorded action


@dataclass
class PrincipalBuffer:
    """The space of DTrace's per-CPU principal buffer, for a script that sets bufsize: each
    firing of a clause takes its record's bytes (Clause.record_bytes), reserved before the
    predicate runs, as DTrace reserves them. A record that does not fit is dropped with its
    whole clause (the clause's variables are not changed either). Under the switch policy
    the consumer empties the buffer every switchrate; under fill, the first record that does
    not fit (END's reserve kept) fills the buffer and tracing stops."""
    size: int                      # bytes, rounded down to 8
    policy: str                    # "switch" or "fill"
    reserve: int = 0               # fill: what END needs
    switch_ns: int = 1_000_000_000
    used: dict = field(default_factory=dict)        # CPU -> bytes taken
    switched_at: dict = field(default_factory=dict)  # CPU -> when it was last emptied
    drops: dict = field(default_factory=dict)       # CPU -> records dropped
    full: bool = False

    def reserve_record(self, cpu: int, needed: int, alignment: int, now_ns: int,
                       is_end: bool) -> int | None:
        """Where a record of ``needed`` bytes would start, or None if it is dropped."""
        if self.policy == "switch":
            if now_ns - self.switched_at.setdefault(cpu, now_ns) >= self.switch_ns:
                self.used[cpu] = 0
                self.switched_at[cpu] = now_ns
        offset = -(-self.used.get(cpu, 0) // alignment) * alignment
        room = self.size if is_end or self.policy != "fill" else self.size - self.reserve
        if (self.full and not is_end) or offset + needed > room:   # END uses the reserve
            self.drops[cpu] = self.drops.get(cpu, 0) + 1
            self.full = self.full or self.policy == "fill"
            return None
        return offset

    def take(self, cpu: int, offset: int, needed: int) -> None:
        self.used[cpu] = offset + needed


@dataclass
class Speculation:
    """An active speculative buffer: the text its clauses recorded, and the bytes DTrace's
    buffer would hold for it (what specsize limits)."""

    parts: list = field(default_factory=list)
    size: int = 0


class SpeculationDropped(Exception):
    """The running clause's speculative data has nowhere to go: the rest is dropped."""


class OptionError(ValueError):
    """An option value that cannot be used."""


class Output:
    """Where a script's printf/trace/printa text goes, in DTrace's layout (or JSON lines)."""

    def __init__(self, machine: Machine, stream, as_json: bool = False):
        self.machine = machine
        self.stream = stream
        self.as_json = as_json
        self.heading_done = False
        self.heading_at: int | None = None      # where in parts the heading is, until flushed
        self.parts: list[str] = []      # written since the last flush: a faulting clause's
                                        # output is taken back, as dtrace drops its records

    def write(self, text: str) -> None:
        if self.machine.speculating is not None:
            self.machine.charge_speculation()
        self.parts.append(text)

    def mark(self) -> int:
        return len(self.parts)

    def take_back(self, mark: int) -> None:
        if self.heading_at is not None and self.heading_at >= mark:
            self.heading_done, self.heading_at = False, None
        del self.parts[mark:]

    def flush(self) -> None:
        self.heading_at = None
        if self.parts:
            self.stream.write("".join(self.parts))
            self.parts.clear()
        self.stream.flush()

    @property
    def quiet(self) -> bool:
        return bool(self.machine.options.get("quiet"))

    def probe_line(self, f: Firing) -> None:
        if self.as_json:
            return
        if not self.heading_done:
            self.heading_done, self.heading_at = True, len(self.parts)
            self.write(f"{'CPU':>3} {'ID':>6} {'FUNCTION:NAME':>32}\n")
        name = f"{f.probe.function}:{f.probe.name}"
        self.write(f"{f.cpu:3d} {f.probe.id:6d} {name:>32} ")

    def printf_action(self, fmt, value_fns):
        def run(f):
            text = fmt.render([fn(f) for fn in value_fns])
            if self.as_json:
                self.write(json_dump({"type": "printf", "probe": _probe_name(f), "text": text})
                           + "\n")
            else:
                self.write(text)
        return run

    def print_action(self, fn, ty, enum_names):
        memory = self.machine.memory

        def run(f):
            text = print_text(memory, ty, fn(f), enum_names)
            if self.as_json:
                self.write(json_dump({"type": "print", "probe": _probe_name(f),
                                      "text": text}) + "\n")
            else:                # (as dtrace: a struct's closing brace ends the output)
                self.write(text if ty.kind in ("struct", "union") else text + "\n")
        return run

    def tracemem_action(self, address, size, shown):
        """tracemem(address, size[, how many to show]) and trace() of a struct: the bytes
        in dtrace's layout (offsets, 16 bytes in hex a line, then as text)."""
        memory = self.machine.memory

        def run(f):
            total = size(f)
            data = memory.read(address(f), total)
            if shown is not None:
                data = data[:max(0, min(total, shown(f)))]
            text = hex_dump(data)
            if self.as_json:
                self.write(json_dump({"type": "tracemem", "probe": _probe_name(f),
                                      "bytes": data.hex()}) + "\n")
            else:
                self.write(text)
        return run

    def trace_action(self, fn, ty):
        size = ty.size if ty.kind == "int" else 8
        narrow = _narrower(ty)

        def run(f):
            value = narrow(fn(f))
            if self.as_json:
                self.write(json_dump({"type": "trace", "probe": _probe_name(f),
                                      "value": value.frames() if isinstance(value, UserStack)
                                      else value}) + "\n")
            elif self.quiet:
                # 1- and 2-byte integers print unsigned, as dtrace's %d of a uint8/16_t
                self.write(str(value & ((1 << (8 * size)) - 1)
                               if isinstance(value, int) and size < 4 else value))
            elif isinstance(value, str):
                self.write(f"  {value:<33}")
            else:
                self.write(format_key(value, KeyType(False, size)))
        return run

    def printa_action(self, fmt, aggregations: list[Aggregation]):
        machine = self.machine

        def run(f):
            self.printa(fmt, aggregations, machine.options)
        return run

    def printa(self, fmt, aggregations: list[Aggregation], options) -> None:
        machine = self.machine
        if not machine.synced:           # once a firing: its printa()s show one moment
            machine.sync()
            machine.synced = True
        first = aggregations[0]
        for aggregation in aggregations:
            aggregation.printed = True
        if self.as_json:
            for aggregation in aggregations:
                self.write(json_dump(aggregation.json_object(options)) + "\n")
            return
        if fmt is None and len(aggregations) == 1:
            self.write("\n" + first.default_text(options))
            return
        if fmt is None:                  # the keys, then each one's value as printa(@x) has it
            out = ["\n"]
            for key in _joined_keys(aggregations, options):
                out.append("".join(format_key(value, kt)
                                   for value, kt in zip(key, first.key_types)))
                for aggregation in aggregations:
                    state = aggregation.entries.get(key)
                    out.append(aggregation.value_text(
                        state if state is not None else absent_state(aggregation.function)))
                out.append("\n")
            self.write("".join(out))
            return
        keys = first.sorted_keys(options) if len(aggregations) == 1 else \
            _joined_keys(aggregations, options)
        out = []
        for key in keys:
            current = 0
            values = list(key)
            pieces = []
            for piece in fmt.pieces:
                if not hasattr(piece, "conversion"):
                    pieces.append(piece.text)
                    continue
                if piece.aggregation:
                    aggregation = aggregations[min(current, len(aggregations) - 1)]
                    current += 1
                    pieces.append(_aggregation_value(piece, aggregation, key))
                    continue
                value = values.pop(0) if values else None
                pieces.append(piece.render(value))
            out.append("".join(pieces))
        self.write("".join(out))


def _narrower(ty):
    """A value as it is recorded: an integer at its type's size (signed as the type is)."""
    if ty.kind != "int" or ty.size >= 8:
        return lambda value: value
    bits = 8 * ty.size
    mask, half = (1 << bits) - 1, 1 << (bits - 1)
    if ty.signed:
        return lambda value: ((value + half) & mask) - half if type(value) is int else value
    return lambda value: value & mask if type(value) is int else value


def hex_dump(data: bytes) -> str:
    """Bytes as dtrace's tracemem() shows them."""
    lines = ["", "             " + "".join(f"{i:x}  " for i in range(16)) + "0123456789abcdef"]
    for offset in range(0, len(data), 16):
        row = data[offset:offset + 16]
        hexes = " ".join(f"{b:02x}" for b in row).ljust(47)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        lines.append(f"{offset:>10x}: {hexes}  {text}")
    return "\n".join(lines) + "\n"


def _probe_name(f: Firing) -> str:
    return f"{f.probe.provider}:{f.probe.module}:{f.probe.function}:{f.probe.name}"


def _joined_keys(aggregations, options) -> list:
    """Every key of the aggregations, sorted by the values of the one at position
    ``aggsortpos``, ties by those of the ones after it (and then from the first), as DTrace
    sorts them."""
    keys = dict.fromkeys(key for aggregation in aggregations for key in aggregation.entries)
    position = min(int(options.get("aggsortpos", 0) or 0), len(aggregations) - 1)
    others = aggregations[position + 1:] + aggregations[:position]
    return aggregations[position].sorted_keys(options, list(keys), others)


def _aggregation_value(piece, aggregation: Aggregation, key) -> str:
    state = aggregation.entries.get(key)
    if state is None:
        state = absent_state(aggregation.function)
    if aggregation.function.name in ("quantize", "lquantize", "llquantize"):
        return aggregation.value_text(state)
    return piece.render(scalar_value(aggregation.function, state, aggregation.normal))


def _proc_stat(pid: int) -> list[str]:
    """/proc/PID/stat's fields after the command name (state is [0], ppid [1], ...)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return []
    return text[text.rfind(")") + 2:].split()


@dataclass
class Timer:
    interval_ns: int
    next_ns: int
    clauses: list
    probe: ProbeInfo


class Machine:
    """All the state a script's clauses share while it runs."""

    def __init__(self, stream=None, errors=None, as_json: bool = False):
        self.options: dict = {}
        self.globals: dict = {}
        self.thread_locals: dict = {}
        self.arrays: dict = {}
        self.aggregations: dict[str, Aggregation] = {}
        self.memory = Memory()            # D's own: arrays, structs, alloca()
        self.psinfo_type = None           # (curpsinfo's, from the compiler's prelude)
        self.lwpsinfo_type = None         # (curlwpsinfo's)
        self.strtok_rest = None           # what strtok(NULL, ...) goes on with
        self.output = Output(self, stream if stream is not None else sys.stdout, as_json)
        self.errors = errors if errors is not None else sys.stderr
        self.target: int | None = None
        self.own_pid = os.getpid()
        self.wall_offset = time.time_ns() - time.monotonic_ns()
        self.exiting = False
        self.exit_status = 0
        self.buffer: PrincipalBuffer | None = None    # when the script sets bufsize
        self.error_count = 0
        self.error_clauses: list = []
        self.error_probe: ProbeInfo | None = None
        self._procs: dict = {}
        self.sync = lambda: None          # brings in-kernel aggregations up to date
        self.synced = False               # ... and did so in the firing running now
        self.speculations: dict[int, Speculation] = {}  # the active ones, by ID
        self.speculation_used = 0         # bytes of the speculation being written to
        self.speculating: int | None = None   # the ID the running clause speculates to
        self.speculative_drops = 0        # clause outputs no buffer took
        self.failed_speculations = 0      # speculation() with every buffer taken

    # -- options ---------------------------------------------------------------------------------

    def set_option(self, name: str, value) -> None:
        self.options[name] = value
        if name in SIZE_OPTIONS:
            try:
                size = parse_size(value)
            except (TypeError, ValueError):
                raise OptionError(f"option {name} needs a size (bytes, or with k, m, g), "
                                  f"not {value!r}") from None
            if size < SIZE_OPTIONS[name]:
                raise OptionError(f"option {name} is at least {SIZE_OPTIONS[name]} bytes, "
                                  f"not {value}")
            if name == "bufsize" and size < 8:
                raise OptionError(f"option bufsize={value}: a buffer holds at least 8 bytes "
                                  "(one record's header)")
        if name == "nspec":
            try:
                if not 1 <= int(value) <= 1 << 16:
                    raise ValueError
            except (TypeError, ValueError):
                raise OptionError(f"option nspec needs a number of speculations from 1 to "
                                  f"65536, not {value!r}") from None
        if name == "strsize":
            try:
                self.options[name] = parse_size(value)
            except (TypeError, ValueError):
                raise OptionError(f"option strsize needs a size (bytes, or with k, m, g), "
                                  f"not {value!r}") from None
        if name in ("aggsortkeypos", "aggsortpos"):
            try:
                self.options[name] = int(value)
            except (TypeError, ValueError):
                raise OptionError(f"option {name} needs a number, not {value!r}") from None

    def set_option_at_run_time(self, name: str, value) -> None:
        """setopt(): a bad name or value is reported (as dtrace does) and the script goes on;
        options that size buffers are fixed once tracing has started."""
        from usdtgen.trace.script.compile import FLAG_WORDS, OPTIONS_FLAGS, OPTIONS_WITH_VALUES
        if name not in OPTIONS_FLAGS and name not in OPTIONS_WITH_VALUES:
            self.errors.write(f"usdtgen: setopt(): unknown option {name!r}\n")
            return
        if name in SIZE_OPTIONS or name in ("strsize", "nspec"):
            self.errors.write(f"usdtgen: setopt(): option {name} cannot change while the "
                              "script runs\n")
            return
        if name in OPTIONS_FLAGS:
            if value not in (None, True, "") and str(value).lower() not in FLAG_WORDS:
                self.errors.write(f"usdtgen: setopt(): option {name} is a flag: it takes "
                                  f"one of {', '.join(sorted(FLAG_WORDS))}, not {value!r}\n")
                return
            value = True if value in (None, True, "") else FLAG_WORDS[str(value).lower()]
        try:
            if name in ("switchrate", "aggrate", "statusrate", "cleanrate"):
                parse_rate(value)
            self.set_option(name, value)
        except (OptionError, ValueError, TypeError) as e:
            self.errors.write(f"usdtgen: setopt(): {e}\n")

    def check_buffer_options(self) -> None:
        """With bufresize=manual, a buffer larger than can be had is an error; by default
        (auto, as in dtrace) it is made smaller."""
        if self.options.get("bufresize") != "manual":
            return
        for name in ("bufsize", "aggsize", "specsize", "dynvarsize"):
            if name in self.options and parse_size(self.options[name]) > _memory_size() // 2:
                raise OptionError(f"option {name}={self.options[name]} is more than this "
                                  "machine can give (bufresize=manual: not made smaller)")

    @property
    def strsize(self) -> int:
        return int(self.options.get("strsize", 256))

    @property
    def quiet(self) -> bool:
        return bool(self.options.get("quiet"))

    # -- speculations ----------------------------------------------------------------------------

    @property
    def nspec(self) -> int:
        return int(self.options.get("nspec", 1))

    @property
    def specsize(self) -> int:
        return parse_size(self.options.get("specsize", "32k"))

    def new_speculation(self) -> int:
        """An ID of a free speculative buffer (1 .. nspec), now active; 0 when all are taken."""
        for number in range(1, self.nspec + 1):
            if number not in self.speculations:
                self.speculations[number] = Speculation()
                return number
        self.failed_speculations += 1
        return 0

    def speculate(self, number) -> None:
        """What the clause records from here goes to speculation ``number``; when that is
        not an active speculation, the rest of the clause is dropped, as in DTrace."""
        if not isinstance(number, int) or number not in self.speculations:
            if number:
                self.speculative_drops += 1
            raise SpeculationDropped
        self.speculating = number
        self.speculation_used = self.speculations[number].size + RECORD_HEADER

    def charge_speculation(self) -> None:
        """A record written while speculating: its bytes as DTrace's buffers count them
        (about 8 a record); past specsize the rest of the clause is dropped."""
        self.speculation_used += RECORD_BYTES
        if self.speculation_used > self.specsize:
            self.speculative_drops += 1
            raise SpeculationDropped

    def commit(self, number) -> None:
        """The buffer's output goes out now, where commit() is; the buffer is free again."""
        speculation = self.speculations.pop(number, None) if isinstance(number, int) else None
        if speculation is not None:
            self.output.parts.extend(speculation.parts)

    def discard(self, number) -> None:
        if isinstance(number, int):
            self.speculations.pop(number, None)

    def _keep_speculative(self, mark: int) -> None:
        """Move what the speculating clause just wrote into its speculation's buffer (what
        could not go there was dropped as it was written)."""
        output = self.output
        speculation = self.speculations[self.speculating]
        speculation.parts += output.parts[mark:]
        speculation.size = self.speculation_used
        del output.parts[mark:]
        if output.heading_at is not None and output.heading_at >= mark:
            output.heading_at = None          # the heading goes out with the buffer

    # -- running clauses -------------------------------------------------------------------------

    def request_exit(self, status) -> None:
        if not self.exiting:
            self.exiting = True
            self.exit_status = status if isinstance(status, int) else 0

    def run(self, f: Firing, bound_clauses) -> None:
        """Fire ``f`` through its clauses: (clause, predicate, actions) triples."""
        output = self.output
        self.synced = False
        for clause, predicate, actions in bound_clauses:
            if self.exiting:                 # exit() ends the firing: later clauses do not run
                break
            mark = len(output.parts)
            offset = None
            if self.buffer is not None and clause.record_bytes:
                offset = self.buffer.reserve_record(f.cpu, clause.record_bytes,
                                                    clause.record_alignment, f.time,
                                                    f.probe.name == "END")
                if offset is None:
                    if self.buffer.full:
                        self.exiting = True       # the buffer is full: tracing stops
                        break
                    continue                      # dropped: the clause does not run
            try:
                if predicate is not None and not predicate(f):
                    continue
                show = clause.records and not output.quiet
                if show:
                    output.probe_line(f)
                for action in actions:
                    action(f)
                if show and not output.as_json:
                    output.write("\n")
                if self.speculating is not None:
                    self._keep_speculative(mark)
                elif offset is not None and not clause.commits:
                    self.buffer.take(f.cpu, offset, clause.record_bytes)
            except SpeculationDropped:
                output.take_back(mark)
            except Fault as fault:
                output.take_back(mark)
                self.fault(f, clause, fault)
            except BadAddress as bad:
                output.take_back(mark)
                self.fault(f, clause, Fault(str(bad), FAULT_BADADDR, bad.address))
            except (TypeError, ValueError, OverflowError, AttributeError, IndexError) as e:
                output.take_back(mark)
                self.fault(f, clause, Fault(f"cannot evaluate: {e}"))
            finally:
                self.speculating = None       # what follows the clause is not speculative
        if f.probe is not self.error_probe:
            self.memory.release_scratch()     # alloca() and this-> structs end with the firing
        if len(output.parts) > 4096:
            output.flush()

    def fault(self, f: Firing, clause, fault: Fault) -> None:
        self.error_count += 1
        probe = f.probe
        self.output.flush()                   # keep stdout and stderr in order on a terminal
        self.errors.write(f"usdtgen: error on enabled probe ID {probe.id} "
                          f"({probe.provider}:{probe.module}:{probe.function}:{probe.name}): "
                          f"{fault} in clause at {clause.loc}\n")
        if self.error_clauses and probe is not self.error_probe:
            args = (0, probe.id, clause.index, -1, fault.code, fault.address) + ZEROS[6:]
            error_firing = Firing(args, NO_STRINGS, f.pid, f.tid, f.execname, f.time, f.cpu,
                                  self.error_probe)
            self.run(error_firing, self.error_clauses)

    # -- process facts for ppid/uid/gid ----------------------------------------------------------

    def _status(self, pid: int) -> dict:
        cached = self._procs.get(pid)
        if cached is None:
            cached = {}
            try:
                with open(f"/proc/{pid}/status") as status:
                    for line in status:
                        key, _, value = line.partition(":")
                        cached[key] = value.split()
            except OSError:
                pass
            self._procs[pid] = cached
        return cached

    def psinfo_address(self, f: Firing) -> int:
        """The address of a psinfo_t of ``f``'s process, filled from /proc for this firing
        (pr_argv and pr_envp from where the process's stack began; pr_addr, a kernel
        address, is 0)."""
        address = f.this.get("\0psinfo")
        if address is not None:
            return address
        from usdtgen.trace.script.compile import PR_MODEL_ILP32, PR_MODEL_LP64
        pid = f.pid
        stat = _proc_stat(pid)
        status = self._status(pid)
        self._procs.pop(pid, None)                # (ids can change: read again next time)
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                args = cmdline.read().split(b"\0")[:-1]
        except OSError:
            args = []
        try:
            with open(f"/proc/{pid}/exe", "rb") as exe:
                model = PR_MODEL_ILP32 if exe.read(5)[4:5] == b"\x01" else PR_MODEL_LP64
        except OSError:
            model = PR_MODEL_LP64
        # the stack began with argc, then argv[] and envp[], each ended by a null pointer
        stack = int(stat[25]) if len(stat) > 25 else 0
        word = 4 if model == PR_MODEL_ILP32 else 8
        values = {
            "pr_argv": stack + word if stack else 0,
            "pr_envp": stack + word * (len(args) + 2) if stack else 0,
            "pr_nlwp": int(stat[17]) if len(stat) > 17 else 0, "pr_pid": pid,
            "pr_ppid": int(stat[1]) if stat else 0, "pr_pgid": int(stat[2]) if stat else 0,
            "pr_sid": int(stat[3]) if stat else 0,
            "pr_uid": int(status.get("Uid", ["0"])[0]),
            "pr_euid": int(status.get("Uid", ["0", "0"])[1]),
            "pr_gid": int(status.get("Gid", ["0"])[0]),
            "pr_egid": int(status.get("Gid", ["0", "0"])[1]),
            "pr_ttydev": int(stat[4]) if len(stat) > 4 else 0, "pr_argc": len(args),
            "pr_dmodel": model,
            "pr_fname": (status.get("Name") or [""])[0],
            "pr_psargs": b" ".join(args).decode("utf-8", "replace")[:79],
        }
        address = f.this["\0psinfo"] = self._filled(self.psinfo_type, values)
        return address

    def lwpsinfo_address(self, f: Firing) -> int:
        """The address of an lwpsinfo_t of ``f``'s thread, filled from /proc/PID/task/TID
        for this firing (illumos' state numbers and letters; the priority as Linux gives it;
        kernel addresses 0)."""
        address = f.this.get("\0lwpsinfo")
        if address is not None:
            return address
        try:
            with open(f"/proc/{f.pid}/task/{f.tid}/stat") as stat_file:
                text = stat_file.read()
            stat = text[text.rfind(")") + 2:].split()
        except OSError:
            stat = []
        try:
            with open(f"/proc/{f.pid}/task/{f.tid}/syscall") as syscall_file:
                syscall = syscall_file.read().split()
            syscall_number = int(syscall[0]) if syscall and syscall[0].isdigit() else 0
        except (OSError, ValueError):
            syscall_number = 0                    # running, or not to be read
        letter = stat[0] if stat else "R"
        state = {"R": 6, "S": 1, "D": 1, "I": 1, "T": 4, "t": 4, "Z": 3, "X": 3}.get(letter, 2)
        policy = int(stat[38]) if len(stat) > 38 else 0
        values = {
            "pr_lwpid": f.tid, "pr_state": state, "pr_sname": ord("O" if state == 6 else
                                                                  letter[0]),
            "pr_syscall": syscall_number, "pr_pri": int(stat[15]) if len(stat) > 15 else 0,
            "pr_onpro": int(stat[36]) if len(stat) > 36 else 0,
            "pr_bindpro": -1, "pr_bindpset": -1,
            "pr_clname": "RT" if policy in (1, 2) else "TS",
        }
        address = f.this["\0lwpsinfo"] = self._filled(self.lwpsinfo_type, values)
        return address

    def _filled(self, ty, values: dict) -> int:
        """A scratch struct of type ``ty`` with ``values`` by member name (strings in char
        arrays), the rest 0."""
        address = self.memory.allocate(ty.size, scratch=True)
        for member in ty.record.members:
            value = values.get(member.name, 0)
            at = address + member.offset
            if member.ty.kind == "array":
                self.memory.write(at, value.encode("utf-8", "replace")[:member.ty.size - 1])
            else:
                self.memory.store(at, member.ty, value)
        return address

    def descends_from(self, pid: int, ancestor: int) -> bool:
        """Whether process ``pid`` is ``ancestor`` or one of its descendants (progenyof())."""
        seen = 0
        while pid > 0 and seen < 4096:
            if pid == ancestor:
                return True
            stat = _proc_stat(pid)
            pid = int(stat[1]) if len(stat) > 1 else 0
            seen += 1
        return False

    def parent_of(self, pid: int) -> int:
        return int(self._status(pid).get("PPid", ["0"])[0])

    def uid_of(self, pid: int) -> int:
        return int(self._status(pid).get("Uid", ["0"])[0])

    def gid_of(self, pid: int) -> int:
        return int(self._status(pid).get("Gid", ["0"])[0])

    # -- the end ---------------------------------------------------------------------------------

    def print_remaining(self) -> None:
        """The aggregations no printa() printed, as dtrace prints them at exit."""
        self.sync()
        output = self.output
        if not output.as_json:
            output.write("\n")
        # aggsortrev reverses the whole sort, the order of the variables included
        for aggregation in sorted(self.aggregations.values(), key=lambda a: a.var_id,
                                  reverse=bool(self.options.get("aggsortrev"))):
            if aggregation.printed or (not aggregation.entries and not output.as_json):
                continue                    # (JSON readers get every aggregation, even empty)
            if output.as_json:
                output.write(json_dump(aggregation.json_object(self.options)) + "\n")
            else:
                output.write(aggregation.default_text(self.options))
        output.flush()


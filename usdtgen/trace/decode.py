"""Decode the raw trace entries of perf samples into Events: argument values by name, with
the size and signedness the note gives, strings as text.

Input: a Sample (usdtgen.trace.perf), the site's layout (usdtgen.trace.attach) and the event's
format (usdtgen.trace.tracefs). Output: an Event. No I/O.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from usdtgen.trace.attach import COMM_FIELD, STRINGS_END_FIELD, SiteEvent
from usdtgen.trace.tracefs import EventFormat

_INT = {(1, True): "<b", (1, False): "<B", (2, True): "<h", (2, False): "<H",
        (4, True): "<i", (4, False): "<I", (8, True): "<q", (8, False): "<Q"}


@dataclass(slots=True)        # (not frozen: building a frozen one costs 1 µs more per event)
class Event:
    time: int                    # ns, CLOCK_MONOTONIC
    pid: int
    tid: int
    comm: str
    provider: str
    probe: str
    values: tuple                # per argument: int, float, str, or None (not fetched)
    site: SiteEvent
    cpu: int = 0
    strings: tuple | None = None # with keep_addresses: per argument, the string read, or None
    copies: dict | None = None   # (argument index, bytes) -> the bytes copied from where the
                                 # argument points (a D script's copyin()), None: unreadable


class CutString(str):
    """A string the kernel cut short: the text it read, and how many bytes that is. Outputs
    mark it; the rest of the string was not read."""

    __slots__ = ("known_bytes",)

    def __new__(cls, text: str, known_bytes: int):
        value = super().__new__(cls, text)
        value.known_bytes = known_bytes
        return value


def _cut_strings(raw: bytes, end_offset: int, slots, items: list, pointers: list) -> None:
    """When the kernel ran out of room for the strings of this hit (its end marker is
    empty), replace the string that reached the end with a CutString, and the strings after
    it (read as empty, or as faults) with empty CutStrings. ``slots``: (item index, field
    offset) of each string field in field order; ``items``: the strings to fix in place;
    ``pointers``: the arguments' values, where 0 is a NULL pointer (left as it is)."""
    if struct.unpack_from("<I", raw, end_offset)[0] >> 16:
        return                                               # everything fitted
    last = None
    for index, offset in slots:
        loc = struct.unpack_from("<I", raw, offset)[0]
        if loc >> 16:
            last = (index, loc)
        elif pointers[index] != 0:
            items[index] = CutString("", 0)
    if last is not None:
        index, loc = last
        text = raw[loc & 0xFFFF:(loc & 0xFFFF) + (loc >> 16)].split(b"\0", 1)[0]
        items[index] = CutString(text.decode("utf-8", "replace"), len(text))


def _apply_lengths(lengths, texts: list, values: list) -> None:
    """Cut each string of a known length (the kernel read it to a NUL, maybe past its end)
    to the bytes its length argument gives; in place in ``texts``."""
    for string, length in lengths:
        text, count = texts[string], values[length]
        if isinstance(text, str) and isinstance(count, int):
            data = text.encode("utf-8", "surrogateescape")
            if len(data) > max(count, 0):         # (shorter: it stopped at a NUL, or was cut)
                texts[string] = data[:max(count, 0)].decode("utf-8", "replace")


def _data_loc(raw: bytes, offset: int) -> bytes:
    loc = struct.unpack_from("<I", raw, offset)[0]
    start, length = loc & 0xFFFF, loc >> 16
    return raw[start:start + length].split(b"\0", 1)[0]


def _fetched_string(raw: bytes, offset: int) -> str | None:
    """The string of a data_loc field, or None when the kernel's read faulted (it then
    stores nothing, not even the terminating NUL)."""
    loc = struct.unpack_from("<I", raw, offset)[0]
    start, length = loc & 0xFFFF, loc >> 16
    if length == 0:
        return None
    return raw[start:start + length].split(b"\0", 1)[0].decode("utf-8", "replace")


class Decoder:
    """Decodes the samples of one site's event, with the field layout compiled once: every
    number is read by one precompiled struct, strings by their data_loc words."""

    def __init__(self, site: SiteEvent, event_format: EventFormat, keep_addresses: bool = False):
        """``keep_addresses``: a string argument's value stays its address, and the string
        goes to ``Event.strings`` (None where none was read, or the read faulted)."""
        self.site = site
        self.keep_addresses = keep_addresses
        fields = event_format.fields
        self.comm = fields.get(COMM_FIELD)
        self._comms: dict[bytes, str] = {}
        end = fields.get(STRINGS_END_FIELD)
        self.strings_end = end.offset if end is not None else None
        self.string_slots = tuple(sorted(
            ((i, fields[arg.string_field].offset) for i, arg in enumerate(site.args)
             if arg.string_field and arg.string_field in fields), key=lambda slot: slot[1]))
        codes, self.plan = ["<"], []
        position = 0
        for arg in site.args:
            value_field = fields.get(arg.field) if arg.field else None
            string_field = fields.get(arg.string_field) if arg.string_field else None
            if value_field is None or (value_field.size, arg.signed and arg.kind != "float") \
                    not in _INT:
                self.plan.append((arg, None, None))
                continue
            signed = arg.signed and arg.kind != "float"
            if value_field.offset > position:
                codes.append(f"{value_field.offset - position}x")
            codes.append(_INT[value_field.size, signed][1])
            position = value_field.offset + value_field.size
            self.plan.append((arg, value_field, string_field))
        self._numbers = struct.Struct("".join(codes))
        if keep_addresses and not any(arg.kind == "float" for arg in site.args) and \
                not site.lengths:
            self.decode = self._compiled_decode()

    def _compiled_decode(self):
        """``decode`` for a D script's events as one generated function: the numbers
        unpacked at once, each argument's size and sign fixed inline, strings read only
        where fetched, so an event costs a few operations per argument, not a loop."""
        names, values, strings = [], [], []
        for i, (arg, value_field, string_field) in enumerate(self.plan):
            if value_field is None:
                values.append("0")
                strings.append("None")
                continue
            name = f"n{i}"
            names.append(name)
            expression = name
            if arg.size < value_field.size:          # the note's size governs
                bits = 8 * arg.size
                mask, sign = (1 << bits) - 1, 1 << (bits - 1)
                expression = f"((({name} & {mask}) ^ {sign}) - {sign})" if arg.signed \
                    else f"({name} & {mask})"
            values.append(expression)
            strings.append(f"(fetch(raw, {string_field.offset}) if {name} else None)"
                           if string_field is not None else "None")
        unpack = f"    {', '.join(names)}, = unpack(raw, 0)\n" if names else ""
        comm = ("    name = data_loc(raw, %d)\n"
                "    comm = comms.get(name)\n"
                "    if comm is None:\n"
                "        comm = comms[name] = name.decode('utf-8', 'replace')\n"
                % self.comm.offset) if self.comm is not None else "    comm = ''\n"
        cut = ("    if strings_end is not None and not unpack_u32(raw, strings_end)[0] >> 16:\n"
               "        return slow(sample, cpu)\n") if self.strings_end is not None else ""
        source = ("def decode(sample, cpu=0):\n"
                  "    raw = sample.raw\n" + cut + unpack + comm +
                  f"    return Event(sample.time, sample.pid, sample.tid, comm, provider, probe, "
                  f"({', '.join(values)}{',' if len(values) == 1 else ''}), site, cpu, "
                  f"({', '.join(strings)}{',' if len(strings) == 1 else ''}))\n")
        scope = {"unpack": self._numbers.unpack_from, "fetch": _fetched_string,
                 "data_loc": _data_loc, "comms": self._comms, "Event": Event,
                 "provider": self.site.provider, "probe": self.site.probe, "site": self.site,
                 "strings_end": self.strings_end, "unpack_u32": struct.Struct("<I").unpack_from,
                 "slow": self.decode}
        exec(compile(source, f"<decoder {self.site.event_name}>", "exec"), scope)
        return scope["decode"]

    def decode(self, sample, cpu: int = 0) -> Event:
        raw = sample.raw
        numbers = iter(self._numbers.unpack_from(raw, 0)) if self._numbers.size else iter(())
        values = []
        strings = [] if self.keep_addresses else None
        for arg, value_field, string_field in self.plan:
            if value_field is None:
                if strings is not None:                 # a script's: an unread argument is 0
                    values.append(0)
                    strings.append(None)
                else:
                    values.append(None)
                continue
            number = next(numbers)
            if arg.size < value_field.size:       # the note's size governs
                bits = 8 * arg.size
                number &= (1 << bits) - 1
                if arg.signed and arg.kind != "float" and number >> (bits - 1):
                    number -= 1 << bits
            if arg.kind == "float":
                values.append(struct.unpack("<d" if arg.size == 8 else "<f",
                                            number.to_bytes(arg.size, "little"))[0]
                              if arg.size in (4, 8) else None)
            elif strings is not None:
                values.append(number)
                strings.append(None if string_field is None or number == 0 else
                               _fetched_string(raw, string_field.offset))
                continue
            elif string_field is not None:
                values.append(0 if number == 0 else           # 0: a NULL pointer
                              _data_loc(raw, string_field.offset).decode("utf-8", "replace"))
            else:
                values.append(number)
            if strings is not None:
                strings.append(None)
        if self.strings_end is not None:
            _cut_strings(raw, self.strings_end, self.string_slots,
                         strings if strings is not None else values, values)
        if self.site.lengths:
            _apply_lengths(self.site.lengths, strings if strings is not None else values,
                           values)
        comm = ""
        if self.comm is not None:
            name = _data_loc(raw, self.comm.offset)
            comm = self._comms.get(name)
            if comm is None:
                comm = self._comms[name] = name.decode("utf-8", "replace")
        return Event(sample.time, sample.pid, sample.tid, comm, self.site.provider,
                     self.site.probe, tuple(values), self.site, cpu,
                     tuple(strings) if strings is not None else None)


COMPACT = 0x80000000      # (usdtgen.trace.bpfgen.COMPACT) a record with packed strings
USER_STACK = -1           # (usdtgen.trace.bpfgen.USER_STACK) the copy that is a user stack
STACK_FRAME = 32          # (usdtgen.trace.bpfgen.STACK_FRAME) bytes of one of its frames


def _copied(raw: bytes, at: int, key: tuple[int, int]) -> bytes | None:
    """The bytes of a copy in a record (its s32 at ``at``): all of them (status 0), the
    bytes the stack walk wrote (a user stack's status), None when the read failed."""
    status = struct.unpack_from("<i", raw, at)[0]
    if key[0] == USER_STACK:
        return raw[at + 8:at + 8 + min(status, key[1])] if status > 0 else None
    return None if status else raw[at + 8:at + 8 + key[1]]


class RecordDecoder:
    """Decodes the ring-buffer records a site's BPF program writes (usdtgen.trace.bpfgen)
    into the same Events as ``Decoder``: values already sized and signed by the program,
    strings with their length, a string as long as the slot marked as cut."""

    def __init__(self, site: SiteEvent, layout, keep_addresses: bool = False):
        from usdtgen.trace.bpfgen import HEADER, VALUES_AT
        self.site = site
        self.layout = layout
        self.keep_addresses = keep_addresses
        self._header = HEADER.unpack_from
        self._values = struct.Struct(f"<{layout.nargs}Q").unpack_from
        self._values_at = VALUES_AT
        self._strings = {index: layout.string_at(position)
                         for position, index in enumerate(layout.strings)}
        self._copies = tuple((key, layout.copy_at(position))
                             for position, key in enumerate(layout.copies))
        self._comms: dict[bytes, str] = {}
        # (index, layout, fetched, signed): the program sign-extended signed values to 64 bits
        self._plan = [(i, arg, arg.field is not None, arg.signed and arg.kind != "float")
                      for i, arg in enumerate(site.args)]
        if not any(arg.kind == "float" for arg in site.args):
            self.decode = self._compiled_decode()

    def _compiled_decode(self):
        """``decode`` as one generated function for this site: header and values unpacked
        at once, each argument's sign fixed inline, packed strings found in one pass. A
        record with an unread argument takes the general ``decode``."""
        nargs, limit = self.layout.nargs, self.layout.strsize + 1
        names = [f"n{i}" for i in range(nargs)]
        lines = ["def decode(raw, start=0):",
                 "    site_word, unread, time, pid, tid, record_cpu, comm_bytes = "
                 "header(raw, start)",
                 "    if unread:",
                 "        return slow(raw, start)"]
        if nargs:
            lines.append(f"    {', '.join(names)}, = values(raw, start + {self._values_at})")
        strings_at = {}
        if self.layout.strings:
            lines.append("    if site_word & COMPACT:")
            lines.append(f"        at = start + {self.layout.strings_at}")
            for n, index in enumerate(self.layout.strings):
                lines.append(f"        s{index} = at")
                lines.append(f"        l{index} = unpack_i(raw, at)[0]")
                if n + 1 < len(self.layout.strings):
                    lines.append(f"        at += 8 + (min(max(l{index}, 0), {limit}) + 7) "
                                 "// 8 * 8")
            lines.append("    else:")
            for index in self.layout.strings:
                lines.append(f"        s{index} = start + {self._strings[index]}")
                lines.append(f"        l{index} = unpack_i(raw, s{index})[0]")
                strings_at[index] = f"s{index}"
        values, strings = [], []
        counted = {string for string, _ in self.layout.lengths}
        for i, arg, fetched, signed in self._plan:
            name = f"n{i}"
            if not fetched:
                values.append("0" if self.keep_addresses else "None")
                strings.append("None")
                continue
            number = f"({name} - 18446744073709551616 if {name} >> 63 else {name})" \
                if signed else name
            if i in strings_at:
                # a whole string: its bytes end with the NUL at length - 1 (one of a known
                # length has none: it ends at the first NUL, if any)
                split = ".split(b'\\0', 1)[0]" if i in counted else ""
                text = (f"((raw[s{i} + 8:s{i} + 7 + l{i}]{split}.decode('utf-8', 'replace') "
                        f"if 0 < l{i} <= {limit - 1} else string(raw, s{i})) "
                        f"if {name} else None)")
                if self.keep_addresses:
                    values.append(number)
                    strings.append(text)
                else:
                    values.append(f"({text} if {name} else 0)")
            else:
                values.append(number)
                strings.append("None")
        kept = f"({', '.join(strings)}{',' if len(strings) == 1 else ''})" \
            if self.keep_addresses else "None"
        copies = "None"
        if self._copies:
            lines.append("    copies = {" + ", ".join(
                f"{key!r}: copied(raw, start + {at}, {key!r})" for key, at in self._copies)
                + "}")
            copies = "copies"
        lines += ["    comm = comms.get(comm_bytes)",
                  "    if comm is None:",
                  "        comm = comms[comm_bytes] = comm_bytes.split(b'\\0', 1)[0]"
                  ".decode('utf-8', 'replace')",
                  f"    return Event(time, pid, tid, comm, provider, probe, "
                  f"({', '.join(values)}{',' if len(values) == 1 else ''}), site, record_cpu, "
                  f"{kept}, {copies})"]
        scope = {"header": self._header, "values": self._values, "slow": self.decode,
                 "unpack_i": struct.Struct("<i").unpack_from, "string": self._string,
                 "copied": _copied,
                 "COMPACT": COMPACT, "comms": self._comms, "Event": Event,
                 "provider": self.site.provider, "probe": self.site.probe, "site": self.site}
        exec(compile("\n".join(lines) + "\n", f"<record decoder {self.site.event_name}>",
                     "exec"), scope)
        return scope["decode"]

    def decode(self, raw: bytes, start: int = 0) -> Event:
        """The Event of the record at ``start`` in ``raw``."""
        site_word, unread, time, pid, tid, record_cpu, comm_bytes = self._header(raw, start)
        numbers = self._values(raw, start + self._values_at)
        string_at = {index: start + at for index, at in self._strings.items()} \
            if not site_word & COMPACT else self._packed(raw, start)
        copies = {key: _copied(raw, start + at, key)
                  for key, at in self._copies} if self._copies else None
        values, strings = [], ([] if self.keep_addresses else None)
        for i, arg, fetched, signed in self._plan:
            number = numbers[i]
            if not fetched or unread >> i & 1:
                values.append(0 if strings is not None else None)
                if strings is not None:
                    strings.append(None)
                continue
            if signed and number >> 63:
                number -= 1 << 64
            if arg.kind == "float":
                number = struct.unpack("<d" if arg.size == 8 else "<f",
                                       number.to_bytes(8, "little")[:arg.size])[0] \
                    if arg.size in (4, 8) else None
            text = None
            at = string_at.get(i)
            if at is not None and numbers[i] != 0:
                text = self._string(raw, at)
            if strings is not None:
                values.append(number)
                strings.append(text)
            elif at is not None:
                values.append(0 if numbers[i] == 0 else (text if text is not None else None))
            else:
                values.append(number)
        comm = self._comms.get(comm_bytes)
        if comm is None:
            comm = self._comms[comm_bytes] = comm_bytes.split(b"\0", 1)[0].decode("utf-8",
                                                                                 "replace")
        return Event(time, pid, tid, comm, self.site.provider, self.site.probe, tuple(values),
                     self.site, record_cpu, tuple(strings) if strings is not None else None,
                     copies)

    def _packed(self, raw: bytes, start: int) -> dict[int, int]:
        """Where each string is in a record whose strings are packed at their length."""
        where, at = {}, start + self.layout.strings_at
        limit = self.layout.strsize + 1
        for index in self.layout.strings:
            where[index] = at
            length = struct.unpack_from("<i", raw, at)[0]
            at += 8 + (min(max(length, 0), limit) + 7) // 8 * 8
        return where

    def _string(self, raw: bytes, at: int):
        """The text of a string slot, a CutString when it filled the slot, None when the
        read failed."""
        length = struct.unpack_from("<i", raw, at)[0]
        if length <= 0:
            return None
        strsize = self.layout.strsize
        if length > strsize:                         # it filled the byte past the size: cut
            text = raw[at + 8:at + 8 + strsize - 1]
            return CutString(text.decode("utf-8", "replace"), len(text))
        # (its NUL at length - 1; a string of a known length has none, nor needs one)
        return raw[at + 8:at + 7 + length].split(b"\0", 1)[0].decode("utf-8", "replace")

"""Decode the raw trace entries of perf samples into Events: argument values by name, with
the size and signedness the note gives, strings as text.

Input: a Sample (usdtgen.trace.perf), the site's layout (usdtgen.trace.attach) and the event's
format (usdtgen.trace.tracefs). Output: an Event. No I/O.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from usdtgen.trace.attach import COMM_FIELD, SiteEvent
from usdtgen.trace.tracefs import EventFormat

_INT = {(1, True): "<b", (1, False): "<B", (2, True): "<h", (2, False): "<H",
        (4, True): "<i", (4, False): "<I", (8, True): "<q", (8, False): "<Q"}


@dataclass(frozen=True, slots=True)
class Event:
    time: int                    # ns, CLOCK_MONOTONIC
    pid: int
    tid: int
    comm: str
    provider: str
    probe: str
    values: tuple                # per argument: int, float, str, or None (not fetched)
    site: SiteEvent


def _data_loc(raw: bytes, offset: int) -> bytes:
    loc = struct.unpack_from("<I", raw, offset)[0]
    start, length = loc & 0xFFFF, loc >> 16
    return raw[start:start + length].split(b"\0", 1)[0]


def _number(raw: bytes, field, size: int, signed: bool):
    code = _INT.get((field.size, signed))
    if code is None:
        return None
    value = struct.unpack_from(code, raw, field.offset)[0]
    if size < field.size:          # the note's size governs (e.g. a 4-byte value in %rax)
        bits = 8 * size
        value &= (1 << bits) - 1
        if signed and value >> (bits - 1):
            value -= 1 << bits
    return value


class Decoder:
    """Decodes the samples of one site's event, with the field offsets looked up once."""

    def __init__(self, site: SiteEvent, event_format: EventFormat):
        self.site = site
        fields = event_format.fields
        self.comm = fields.get(COMM_FIELD)
        self.plan = []
        for arg in site.args:
            value_field = fields.get(arg.field) if arg.field else None
            string_field = fields.get(arg.string_field) if arg.string_field else None
            self.plan.append((arg, value_field, string_field))

    def decode(self, sample) -> Event:
        raw = sample.raw
        values = []
        for arg, value_field, string_field in self.plan:
            if value_field is None:
                values.append(None)
                continue
            if arg.kind == "float":
                bits = _number(raw, value_field, arg.size, False)
                values.append(struct.unpack("<d" if arg.size == 8 else "<f",
                                            bits.to_bytes(arg.size, "little"))[0]
                              if bits is not None and arg.size in (4, 8) else None)
                continue
            number = _number(raw, value_field, arg.size, arg.signed)
            if string_field is not None:
                values.append(0 if number == 0 else           # 0: a NULL pointer
                              _data_loc(raw, string_field.offset).decode("utf-8", "replace"))
            else:
                values.append(number)
        comm = _data_loc(raw, self.comm.offset).decode("utf-8", "replace") if self.comm else ""
        return Event(sample.time, sample.pid, sample.tid, comm, self.site.provider,
                     self.site.probe, tuple(values), self.site)

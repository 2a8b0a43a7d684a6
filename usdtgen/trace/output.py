"""Render trace events: one text line each, one JSON object each, or a printf-style format;
and the summary printed at the end (events per probe, events lost).

Pure functions from Events to strings; the session writes them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from usdtgen.trace.decode import CutString, Event


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def format_value(value, kind: str) -> str:
    """An argument as the text output shows it: ``?`` when not fetched, strings quoted,
    NULL strings as NULL, pointers in hex, numbers in decimal."""
    if value is None:
        return "?"
    if kind == "string":
        if isinstance(value, CutString):
            return f"{_quote(value)}...(cut at {value.known_bytes} bytes)"
        return "NULL" if value == 0 else _quote(value)
    if kind == "pointer":
        return f"{value:#x}"
    return str(value)


def text_line(event: Event, start_ns: int) -> str:
    """``  1.234567 4242/4243 app myapp:request__start id=42 path="/index.html"``."""
    args = " ".join(f"{arg.name}={format_value(value, arg.kind)}"
                    for arg, value in zip(event.site.args, event.values))
    when = (event.time - start_ns) / 1e9
    return f"{when:12.6f} {event.pid}/{event.tid} {event.comm} " \
           f"{event.provider}:{event.probe}{' ' + args if args else ''}"


def json_value(value, kind: str):
    if kind == "string" and value == 0:
        return None
    return value


def json_line(event: Event) -> str:
    """One event as a JSON object; a string the kernel cut short keeps the text it read, and
    ``"cut"`` maps its argument's name to the bytes of that text."""
    args = {arg.name: json_value(value, arg.kind)
            for arg, value in zip(event.site.args, event.values)}
    record = {"type": "event", "time": event.time, "pid": event.pid, "tid": event.tid,
              "comm": event.comm, "provider": event.provider, "probe": event.probe,
              "args": args}
    cut = {arg.name: value.known_bytes for arg, value in zip(event.site.args, event.values)
           if isinstance(value, CutString)}
    if cut:
        record["cut"] = cut
    return json.dumps(record, ensure_ascii=False)


def format_values(event: Event) -> list:
    """The values a ``-f`` format consumes, in argument order (None: not fetched)."""
    return [None if value is None else ("" if arg.kind == "string" and value == 0 else value)
            for arg, value in zip(event.site.args, event.values)]


@dataclass
class Summary:
    """Counts for the end of a trace: events printed per probe and events the kernel lost."""

    by_site: dict = field(default_factory=dict)   # id(SiteEvent) -> [site, events]
    lost: int = 0

    @property
    def per_probe(self) -> dict:
        """"provider:probe" -> events printed (the sites of a probe together)."""
        totals: dict = {}
        for site, n in self.by_site.values():
            key = f"{site.provider}:{site.probe}"
            totals[key] = totals.get(key, 0) + n
        return totals

    @property
    def events(self) -> int:
        return sum(n for _, n in self.by_site.values())

    def count(self, event: Event) -> None:
        entry = self.by_site.get(id(event.site))       # (per event: no key to build)
        if entry is None:
            self.by_site[id(event.site)] = [event.site, 1]
        else:
            entry[1] += 1

    def text(self) -> str:
        lines = [f"{self.events} events, {self.lost} lost"]
        per_probe = self.per_probe
        width = max((len(k) for k in per_probe), default=0)
        lines += [f"  {name:<{width}}  {n}" for name, n in sorted(per_probe.items())]
        return "\n".join(lines)

    def json(self) -> str:
        return json.dumps({"type": "summary", "events": self.events, "lost": self.lost,
                           "per_probe": dict(sorted(self.per_probe.items()))})

"""Render trace events: one text line each, one JSON object each, or a printf-style format;
and the summary printed at the end (events per probe, events lost).

Pure functions from Events to strings; the session writes them.
"""
from __future__ import annotations

import functools
import json
import operator
from collections import Counter
from dataclasses import dataclass, field

from usdtgen.trace.decode import CutString, Event

EVENT_SITE = operator.attrgetter("site")


# json.dumps(text, ensure_ascii=False) of a str, without building an encoder each time
_quote = json.encoder.encode_basestring


def format_value(value, kind: str) -> str:
    """An argument as the text output shows it: ``?`` when not fetched, strings quoted,
    NULL strings as NULL, pointers in hex, numbers in decimal."""
    if value is None:
        return "?"
    if kind == "string":
        if isinstance(value, CutString):
            return f"{_quote(value)}...(cut at {value.known_bytes} bytes)"
        if value == 0:
            return "NULL"
        return _quote(value) if isinstance(value, str) else json.dumps(value)
    if kind == "pointer" and isinstance(value, int):
        return f"{value:#x}"
    return str(value)


def text_line(event: Event, start_ns: int) -> str:
    """``  1.234567 4242/4243 app myapp:request__start id=42 path="/index.html"``."""
    args = " ".join(f"{arg.name}={format_value(value, arg.kind)}"
                    for arg, value in zip(event.site.args, event.values))
    when = (event.time - start_ns) / 1e9
    return f"{when:12.6f} {event.pid}/{event.tid} {event.comm} " \
           f"{event.provider}:{event.probe}{' ' + args if args else ''}"


def per_site(make):
    """A function of an Event that calls ``make(site)``'s function for the event's site,
    made once per site: for the renderers generated from a site's arguments."""
    made: dict = {}

    def render(event: Event, *extra):
        function = made.get(id(event.site))
        if function is None:
            function = made[id(event.site)] = make(event.site)
        return function(event, *extra)
    return render


def _generate(name: str, site, guards: list[str], expression: str, fallback, scope: dict):
    """Compile ``def name(event, *extra)``: the f-string ``expression`` of the event's
    values v0, v1, ... when ``guards`` hold (each value of the type its text assumes), else
    ``fallback(event, *extra)``."""
    values = [f"v{i}" for i in range(len(site.args))]
    lines = [f"def {name}(event, *extra):"]
    if values:
        lines.append(f"    {', '.join(values)}, = event.values")
    if guards:
        lines.append(f"    if not ({' and '.join(guards)}):")
        lines.append("        return fallback(event, *extra)")
    lines.append(f"    return {expression}")
    scope.update(fallback=fallback, quote=_quote, format_value=format_value)
    exec(compile("\n".join(lines) + "\n", f"<{name} {site.provider}:{site.probe}>", "exec"),
         scope)
    return scope[name]


def _fstring(text: str) -> str:
    """``text`` as literal f-string text."""
    return text.replace("{", "{{").replace("}", "}}")


def _typed_value(index: int, kind: str, scope: dict, as_json: bool) -> tuple[str | None, str]:
    """(guard, f-string field) for argument ``index`` of ``kind``: a str string quoted, an
    int in decimal (hex for a pointer in text); anything else through the general path."""
    name = f"v{index}"
    if kind == "string":
        return f"type({name}) is str", f"{{quote({name})}}"
    if kind in ("int", "pointer"):
        return f"type({name}) is int", f"{{{name}:#x}}" if kind == "pointer" and not as_json \
            else f"{{{name}}}"
    if as_json:
        return None, f"{{dumps({name})}}"
    scope[f"k{index}"] = kind
    return None, f"{{format_value({name}, k{index})}}"


def _site_renderer(site, as_json: bool):
    """``text_line`` or ``json_line`` generated for one site, whose argument names and kinds
    are known: the same text, at a fraction of the cost for events at full speed."""
    scope = {"dumps": functools.partial(json.dumps, ensure_ascii=False)}
    guards, fields = [], []
    for i, arg in enumerate(site.args):
        guard, text = _typed_value(i, arg.kind, scope, as_json)
        if guard:
            guards.append(guard)
        name = _quote(arg.name) + ": " if as_json else arg.name + "="
        fields.append(_fstring(name) + text)
    if as_json:
        body = (_fstring('{"type": "event", "time": ') + "{event.time}"
                + _fstring(', "pid": ') + "{event.pid}" + _fstring(', "tid": ') + "{event.tid}"
                + _fstring(', "comm": ') + "{quote(event.comm)}"
                + _fstring(f', "provider": {_quote(site.provider)}, '
                           f'"probe": {_quote(site.probe)}, "args": {{')
                + ", ".join(fields) + "}}}}")
        return _generate("json_line", site, guards, "f" + repr(body),
                         lambda event, *extra: json_line(event), scope)
    body = ("{(event.time - extra[0]) / 1e9:12.6f} {event.pid}/{event.tid} {event.comm} "
            + _fstring(f"{site.provider}:{site.probe}") + "".join(" " + f for f in fields))
    return _generate("text_line", site, guards, "f" + repr(body), text_line, scope)


def text_renderer():
    """A function (event, start_ns) giving ``text_line``'s text, generated per site."""
    return per_site(lambda site: _site_renderer(site, as_json=False))


def json_renderer():
    """A function (event) giving ``json_line``'s text, generated per site."""
    return per_site(lambda site: _site_renderer(site, as_json=True))


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


def printf_renderer(compiled):
    """A function of an Event that renders a compiled ``-f`` format for it: the format's
    generated fast path when every value is of the plain type (usdtgen.trace.printf), else
    ``render`` of ``format_values``, which gives the same text for those values."""
    render = compiled.render

    def make(site):
        fast = compiled.fast_renderer(frozenset(i for i, arg in enumerate(site.args)
                                                if arg.kind == "string"))

        def line(event: Event) -> str:
            text = fast(event.values)
            return text if text is not None else render(format_values(event))
        return line
    return per_site(make)


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

    def count_all(self, events) -> None:
        """Count ``events`` (a list handed on together: one pass at C speed)."""
        for site_id, n in Counter(map(id, map(EVENT_SITE, events))).items():
            entry = self.by_site.get(site_id)
            if entry is None:
                site = next(event.site for event in events if id(event.site) == site_id)
                self.by_site[site_id] = [site, n]
            else:
                entry[1] += n

    def text(self) -> str:
        lines = [f"{self.events} events, {self.lost} lost"]
        per_probe = self.per_probe
        width = max((len(k) for k in per_probe), default=0)
        lines += [f"  {name:<{width}}  {n}" for name, n in sorted(per_probe.items())]
        return "\n".join(lines)

    def json(self) -> str:
        return json.dumps({"type": "summary", "events": self.events, "lost": self.lost,
                           "per_probe": dict(sorted(self.per_probe.items()))})

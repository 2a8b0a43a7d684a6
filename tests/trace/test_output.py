"""The renderers the tracer generates for each probe site (usdtgen.trace.output) print the
same text as the reference ``text_line``, ``json_line`` and ``Format.render`` for every kind
of value a decoder hands them: numbers of every sign and size, pointers, strings with quotes,
escapes and other scripts, NULL and unread strings, strings the kernel cut, floats that are
not finite, and values of another type than the argument's kind."""
from __future__ import annotations

import json
import math

import pytest

from usdtgen.trace.attach import ArgLayout, SiteEvent
from usdtgen.trace.decode import CutString, Event
from usdtgen.trace.output import Summary, format_values, json_line, json_renderer, \
    printf_renderer, text_line, text_renderer
from usdtgen.trace.printf import compile_format


def arg(name: str, kind: str) -> ArgLayout:
    return ArgLayout(name, None, 8, kind == "int", kind, "f", None)


SITE = SiteEvent("my{app}", 'req"start', "ev", "/bin/x", 0x1000,
                 (arg("id", "int"), arg("path", "string"), arg("buf", "pointer"),
                  arg("ratio", "float")))
EMPTY_SITE = SiteEvent("p", "tick", "ev2", "/bin/x", 0x1010, ())

VALUES = [
    (42, "/index.html", 0x7ffd1234, 0.5),
    (-2 ** 63, 'say "hi"\\n\t', 0, -0.0),
    (2 ** 64 - 1, "naïve → 日本", 1, math.inf),
    (0, "", 2 ** 64 - 1, math.nan),
    (None, None, None, None),                        # nothing could be read
    (7, 0, 16, 1e300),                               # a NULL string
    (7, CutString("a" * 10, 10), 16, 2.0),           # a string the kernel cut
    (True, "x", 5, 3),                               # types other than the kind's
    ("12", 3, "0x10", None),
]


@pytest.mark.parametrize("values", VALUES, ids=range(len(VALUES)))
@pytest.mark.parametrize("comm", ["app", "we{i}rd \"name\""])
def test_generated_text_and_json_match_the_reference(values, comm):
    event = Event(10_123_456_789, 42, 43, comm, SITE.provider, SITE.probe, values, SITE)
    text, as_json = text_renderer(), json_renderer()
    assert text(event, 10_000_000_000) == text_line(event, 10_000_000_000)
    assert as_json(event) == json_line(event)
    if values[3] is None or math.isfinite(values[3]):
        json.loads(as_json(event))                   # valid JSON unless NaN/Infinity


def test_generated_renderers_per_site_and_for_a_probe_without_arguments():
    text, as_json = text_renderer(), json_renderer()
    one = Event(5, 1, 1, "c", SITE.provider, SITE.probe, VALUES[0], SITE)
    none = Event(6, 1, 1, "c", "p", "tick", (), EMPTY_SITE)
    for event in (one, none, one):                   # each site keeps its own function
        assert text(event, 0) == text_line(event, 0)
        assert as_json(event) == json_line(event)
    assert text(none, 0).endswith(" c p:tick")


@pytest.mark.parametrize("fmt", ["%d %s %p %f\n", "%ld|%s|%lx|%.2f", "%5d %-8s %% %x %g",
                                 "%s %s %s %s", "{%d} {%s}", "%d"])
@pytest.mark.parametrize("values", VALUES, ids=range(len(VALUES)))
def test_generated_printf_matches_render(fmt, values):
    compiled = compile_format(fmt)
    event = Event(1, 1, 1, "c", SITE.provider, SITE.probe, values, SITE)
    assert printf_renderer(compiled)(event) == compiled.render(format_values(event))


def test_summary_counts_events_handed_on_together_by_site():
    other = SiteEvent("p", "q", "ev3", "/bin/y", 0x20, ())
    events = [Event(i, 1, 1, "c", s.provider, s.probe, (), s)
              for i, s in enumerate([SITE, other, SITE, EMPTY_SITE, SITE])]
    summary = Summary()
    summary.count_all(events[:2])
    summary.count_all(events[2:])
    summary.count_all([])
    assert summary.events == 5
    assert summary.per_probe == {'my{app}:req"start': 3, "p:q": 1, "p:tick": 1}

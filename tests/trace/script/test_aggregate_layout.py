"""The layout of aggregations, as DTrace's consumer (libdtrace dt_consume.c, dt_aggregate.c)
prints them, and their values cross-checked against Python.

The expected text is built here from libdtrace's rules, not from usdtgen's output:

* at exit, dtrace(1M) prints one "\\n", then every aggregation no printa() printed, in the
  order of first appearance (the aggregation variable id), entries sorted by value, then key
  (dt_aggregate_varvalcmp); aggsortrev reverses every comparison, the variable order included;
* an entry is its keys, then its value, then "\\n"; keys of 8 bytes print " %16lld", of 4
  bytes " %8d", strings "  %-50s"; scalar values " %16lld";
* quantize/lquantize print "\\n%16s %41s %-9s\\n" and one row per bucket from one below the
  lowest used bucket to one above the highest, "%16d " then a 40-column bar and "%-9lld".
"""
from __future__ import annotations

import io
import json
import math
import random

import pytest

from usdtgen.trace.script.run import load_script

HEADER = "\n%16s %41s %-9s\n" % ("value", "------------- Distribution -------------", "count")


def k8(value: int) -> str:
    return " %16d" % value


def k4(value: int) -> str:
    return " %8d" % value


def ks(text: str) -> str:
    return "  %-50s" % text


def val(value: int) -> str:
    return " %16d" % value


def bar_row(label, count: int, total: int) -> str:
    """A row of a distribution whose counts are all >= 0 (dt_print_quantline)."""
    depth = int(count * 40 / total + 0.5) if count else 0
    return "%16s " % label + "|" + "@" * depth + " " * (40 - depth) + " " + "%-9d" % count + "\n"


def table(rows) -> str:
    """HEADER and the rows of (label, count); all counts >= 0."""
    total = sum(c for _, c in rows)
    return HEADER + "".join(bar_row(label, count, total) for label, count in rows)


def run_d(text: str, as_json: bool = False):
    out, err = io.StringIO(), io.StringIO()
    script = load_script(text, "t.d", stream=out, errors=err, as_json=as_json, quiet=True)
    script.fire_begin()
    script.machine.exiting = False
    script.fire_end()
    script.machine.print_remaining()
    assert err.getvalue() == ""
    return out.getvalue()


def begin(*statements: str) -> str:
    return "BEGIN\n{\n" + "\n".join("  " + s for s in statements) + "\n}\n"


def rep(statement: str, n: int) -> list[str]:
    return [statement] * n


# -- hand-written layouts ---------------------------------------------------------------------

# One quantize table written out character by character, to anchor the helpers above:
# quantize(1), quantize(2), quantize(3), quantize(8) -> buckets 1:1, 2:2, 8:1, total 4.
QUANTIZE_LITERAL = (
    "\n"
    "\n"
    "           value  ------------- Distribution ------------- count    \n"
    "               0 |                                         0        \n"
    "               1 |@@@@@@@@@@                               1        \n"
    "               2 |@@@@@@@@@@@@@@@@@@@@                     2        \n"
    "               4 |                                         0        \n"
    "               8 |@@@@@@@@@@                               1        \n"
    "              16 |                                         0        \n"
    "\n"
)

LAYOUTS = [
    ("count-no-key", begin(*rep("@c = count();", 3)), "\n" + val(3) + "\n"),
    ("string-keys-by-value-then-key",
     begin('@a["b"] = count();', '@a["b"] = count();', '@a["a"] = count();',
           '@a["a"] = count();', '@a["c"] = count();'),
     "\n" + ks("c") + val(1) + "\n" + ks("a") + val(2) + "\n" + ks("b") + val(2) + "\n"),
    # int literal keys are 4 bytes; equal values sort by the key's bytes, unsigned: -1 is last
    ("int-keys-unsigned-order",
     begin("@a[1] = sum(10);", "@a[2] = sum(5);", "@a[-1] = sum(5);"),
     "\n" + k4(2) + val(5) + "\n" + k4(-1) + val(5) + "\n" + k4(1) + val(10) + "\n"),
    ("long-keys",
     begin("@m[(long)3] = max(7);", "@m[(long)3] = max(2);", "@m[(long)-3] = max(-7);"),
     "\n" + k8(-3) + val(-7) + "\n" + k8(3) + val(7) + "\n"),
    ("two-keys",
     begin('@a["x", 2] = count();', '@a["x", 1] = count();', '@a["w", 9] = count();',
           '@a["w", 9] = count();'),
     "\n" + ks("x") + k4(1) + val(1) + "\n" + ks("x") + k4(2) + val(1) + "\n"
     + ks("w") + k4(9) + val(2) + "\n"),
    # avg truncates toward zero: 7/3 = 2, -7/3 = -2
    ("avg-truncates",
     begin("@p = avg(1);", "@p = avg(2);", "@p = avg(4);",
           "@n = avg(-1);", "@n = avg(-2);", "@n = avg(-4);"),
     "\n" + val(2) + "\n" + val(-2) + "\n"),
    ("min-max-sum",
     begin("@mn = min(5);", "@mn = min(-3);", "@mn = min(8);",
           "@mx = max(5);", "@mx = max(-3);", "@mx = max(8);",
           "@s = sum(5);", "@s = sum(-3);", "@s = sum(8);"),
     "\n" + val(-3) + "\n" + val(8) + "\n" + val(10) + "\n"),
    # 2 4 4 4 5 5 7 9: sum 40, squares 232: sqrt(232/8 - 5*5) = 2
    ("stddev-exact",
     begin(*[f"@sd = stddev({v});" for v in (2, 4, 4, 4, 5, 5, 7, 9)]),
     "\n" + val(2) + "\n"),
    # 0 0 10: isqrt(100/3 - (10/3)^2) = isqrt(33 - 9) = 4 (C truncation at each step)
    ("stddev-truncated",
     begin("@sd = stddev(0);", "@sd = stddev(0);", "@sd = stddev(10);"),
     "\n" + val(4) + "\n"),
    ("first-appearance-order",
     "BEGIN { @z = count(); @a = sum(5); }\nEND { @m = max(1); }\n",
     "\n" + val(1) + "\n" + val(5) + "\n" + val(1) + "\n"),
    ("quantize-literal",
     begin("@q = quantize(1);", "@q = quantize(2);", "@q = quantize(3);", "@q = quantize(8);"),
     None),
    # -1 -> bucket -1, 0 -> 0, 5 -> 4; rows from -2 to 8
    ("quantize-negative-and-zero",
     begin("@q = quantize(-1);", "@q = quantize(0);", "@q = quantize(0);", "@q = quantize(5);"),
     "\n" + table([(-2, 0), (-1, 1), (0, 2), (1, 0), (2, 0), (4, 1), (8, 0)]) + "\n"),
    ("quantize-with-key",
     begin('@q["a"] = quantize(3);'),
     "\n" + ks("a") + table([(1, 0), (2, 1), (4, 0)]) + "\n"),
    ("quantize-increment",
     begin("@q = quantize(10, 3);"),
     "\n" + table([(4, 0), (8, 3), (16, 0)]) + "\n"),
    # only negative counts: bars grow leftwards to the '|'
    ("quantize-negative-counts",
     begin("@q = quantize(1, -2);"),
     "\n" + HEADER
     + "%16d " % 0 + " " * 40 + "| " + "%-9d" % 0 + "\n"
     + "%16d " % 1 + "@" * 40 + "| " + "%-9d" % -2 + "\n"
     + "%16d " % 2 + " " * 40 + "| " + "%-9d" % 0 + "\n" + "\n"),
    # both signs: half bars (20 columns) either side of the '|'; total 4
    ("quantize-mixed-counts",
     begin("@q = quantize(1, 3);", "@q = quantize(2, -1);"),
     "\n" + HEADER
     + "%16d " % 0 + " " * 20 + "|" + " " * 20 + " " + "%-9d" % 0 + "\n"
     + "%16d " % 1 + " " * 20 + "|" + "@" * 15 + " " * 5 + " " + "%-9d" % 3 + "\n"
     + "%16d " % 2 + " " * 15 + "@" * 5 + "|" + " " * 20 + " " + "%-9d" % -1 + "\n"
     + "%16d " % 4 + " " * 20 + "|" + " " * 20 + " " + "%-9d" % 0 + "\n" + "\n"),
    ("lquantize",
     begin(*[f"@l = lquantize({v}, 0, 10, 2);" for v in (-5, 0, 3, 3, 9, 12)]),
     "\n" + table([("< 0", 1), (0, 1), (2, 2), (4, 0), (6, 0), (8, 1), (">= 10", 1)]) + "\n"),
    ("lquantize-inner-range",
     begin(*[f"@l = lquantize({v}, 10, 20, 5);" for v in (12, 13, 17)]),
     "\n" + table([("< 10", 0), (10, 2), (15, 1), (">= 20", 0)]) + "\n"),
    # (10 - 0) / 3 = 3 levels: the top bucket starts at 9
    ("lquantize-uneven-step",
     begin(*[f"@l = lquantize({v}, 0, 10, 3);" for v in (2, 9, 10)]),
     "\n" + table([("< 0", 0), (0, 1), (3, 0), (6, 0), (">= 9", 2)]) + "\n"),
    # printa(@a) prints "\n" and the aggregation; at exit it is not printed again
    ("printa-default",
     begin('@a["x"] = count();', "printa(@a);"),
     "\n" + ks("x") + val(1) + "\n" + "\n"),
    ("printa-format",
     begin('@a["alpha"] = count();', '@a["beta"] = count();', '@a["beta"] = count();',
           'printa("%-10s %@d\\n", @a);'),
     "alpha      1\nbeta       2\n" + "\n"),
    ("printa-one-of-two",
     begin("@a = count();", "@b = sum(4);", "printa(@b);"),
     "\n" + val(4) + "\n" + "\n" + val(1) + "\n"),
    ("normalize",
     begin("@a = sum(1000);", '@s["x"] = sum(25);', "normalize(@a, 10);", "normalize(@s, 10);"),
     "\n" + val(100) + "\n" + ks("x") + val(2) + "\n"),
    ("trunc-keeps-largest",
     begin('@a["a"] = sum(1);', '@a["b"] = sum(3);', '@a["c"] = sum(2);', '@a["d"] = sum(5);',
           "trunc(@a, 2);"),
     "\n" + ks("b") + val(3) + "\n" + ks("d") + val(5) + "\n"),
    ("trunc-all",
     begin('@a["a"] = sum(1);', "trunc(@a);"),
     "\n"),
    ("clear-keeps-keys",
     begin('@a["y"] = count();', '@a["x"] = count();', '@a["x"] = count();', "clear(@a);"),
     "\n" + ks("x") + val(0) + "\n" + ks("y") + val(0) + "\n"),
    ("aggsortkey",
     "#pragma D option aggsortkey\n"
     + begin('@a["b"] = count();', *rep('@a["a"] = count();', 3), *rep('@a["c"] = count();', 2)),
     "\n" + ks("a") + val(3) + "\n" + ks("b") + val(1) + "\n" + ks("c") + val(2) + "\n"),
    ("aggsortrev",
     "#pragma D option aggsortrev\n"
     + begin('@a["a"] = count();', *rep('@a["b"] = count();', 2), *rep('@a["c"] = count();', 2)),
     "\n" + ks("c") + val(2) + "\n" + ks("b") + val(2) + "\n" + ks("a") + val(1) + "\n"),
    ("aggsortkey-aggsortrev",
     "#pragma D option aggsortkey\n#pragma D option aggsortrev\n"
     + begin('@a["b"] = count();', *rep('@a["a"] = count();', 3), *rep('@a["c"] = count();', 2)),
     "\n" + ks("c") + val(2) + "\n" + ks("b") + val(1) + "\n" + ks("a") + val(3) + "\n"),
    # dt_aggregate_varcmp obeys aggsortrev too: the later aggregation prints first
    ("aggsortrev-two-aggregations",
     "#pragma D option aggsortrev\n" + begin("@first = count();", "@second = sum(9);"),
     "\n" + val(9) + "\n" + val(1) + "\n"),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in LAYOUTS], ids=[c[0] for c in LAYOUTS])
def test_layout(text, expected):
    if expected is None:
        expected = QUANTIZE_LITERAL
    assert run_d(text) == expected


def test_quantize_literal_matches_helpers():
    """The hand-written quantize table and the helpers agree (a check of the test itself)."""
    assert QUANTIZE_LITERAL == "\n" + table([(0, 0), (1, 1), (2, 2), (4, 0), (8, 1), (16, 0)]) \
        + "\n"


# -- values cross-checked against Python ------------------------------------------------------

def c_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def quantize_low(v: int) -> int:
    if v == 0:
        return 0
    if v > 0:
        return 1 << (v.bit_length() - 1)
    return -(1 << ((-v).bit_length() - 1))


def lquantize_low(v: int, lo: int, hi: int, step: int):
    levels = (hi - lo) // step
    if v < lo:
        return None
    if v >= lo + levels * step:
        return lo + levels * step
    return lo + (v - lo) // step * step


def expected_stats(values):
    n, total = len(values), sum(values)
    mean = c_div(total, n)
    return {
        "count": n, "sum": total, "avg": mean, "min": min(values), "max": max(values),
        "stddev": math.isqrt(sum(v * v for v in values) // n - mean * mean),
    }


def feed(values, lq=(-100, 1000, 50)) -> str:
    lo, hi, step = lq
    statements = []
    for v in values:
        statements.append(f"this->v = {v}; @c = count(); @s = sum(this->v); @a = avg(this->v); "
                          f"@mn = min(this->v); @mx = max(this->v); @sd = stddev(this->v); "
                          f"@q = quantize(this->v); @l = lquantize(this->v, {lo}, {hi}, {step});")
    return begin(*statements)


def random_values(seed: int) -> list[int]:
    rng = random.Random(seed)
    n = rng.randint(1, 120)
    choices = [lambda: rng.randint(-2000, 5000), lambda: rng.randint(0, 1 << 30),
               lambda: -rng.randint(0, 1 << 30), lambda: rng.choice([0, 1, -1, 2, 3])]
    return [rng.choice(choices)() for _ in range(n)]


SEEDS = list(range(12))


@pytest.mark.parametrize("seed", SEEDS)
def test_values_json(seed):
    values = random_values(seed)
    out = run_d(feed(values), as_json=True)
    objects = {o["name"]: o for o in map(json.loads, out.splitlines())}
    assert [o["name"] for o in map(json.loads, out.splitlines())] == \
        ["@c", "@s", "@a", "@mn", "@mx", "@sd", "@q", "@l"]
    stats = expected_stats(values)
    for name, function in (("@c", "count"), ("@s", "sum"), ("@a", "avg"), ("@mn", "min"),
                           ("@mx", "max"), ("@sd", "stddev")):
        assert objects[name]["function"] == function
        assert len(objects[name]["entries"]) == 1
        assert objects[name]["entries"][0]["keys"] == []
        assert objects[name]["entries"][0]["value"] == stats[function], name
    buckets: dict = {}
    for v in values:
        buckets[quantize_low(v)] = buckets.get(quantize_low(v), 0) + 1
    assert objects["@q"]["entries"][0]["buckets"] == sorted([low, n] for low, n in buckets.items())
    lbuckets: dict = {}
    for v in values:
        low = lquantize_low(v, -100, 1000, 50)
        lbuckets[low] = lbuckets.get(low, 0) + 1
    expected_l = [[None, lbuckets.pop(None)]] if None in lbuckets else []
    expected_l += sorted([low, n] for low, n in lbuckets.items())
    assert objects["@l"]["entries"][0]["buckets"] == expected_l


def parse_tables(text: str) -> list:
    """The printed aggregations at exit: a list of scalars and {label: count} tables."""
    assert text.startswith("\n")
    lines = text[1:].split("\n")
    result, i = [], 0
    while i < len(lines) and lines[i] != "":
        line = lines[i]
        i += 1
        result.append(int(line))
    # distributions: "" line, header, rows, "" line
    while i < len(lines):
        if lines[i] == "" and i + 1 < len(lines) and lines[i + 1].strip().startswith("value"):
            i += 2
            rows = {}
            while lines[i] != "":
                label, _, rest = lines[i][:16], lines[i][16], lines[i][17:]
                assert rest[0] == "|" and len(rest) == 1 + 40 + 1 + 9, lines[i]
                rows[label.strip()] = (rest[1:41].count("@"), int(rest[42:]))
                i += 1
            result.append(rows)
        i += 1
    return result


@pytest.mark.parametrize("seed", SEEDS)
def test_values_text(seed):
    values = random_values(seed)
    out = run_d(feed(values, lq=(0, 100, 10)))
    parsed = parse_tables(out)
    stats = expected_stats(values)
    assert parsed[:6] == [stats[f] for f in ("count", "sum", "avg", "min", "max", "stddev")]
    quant, lquant = parsed[6], parsed[7]
    n = len(values)

    # quantize: every bucket between one below the lowest and one above the highest
    lows = sorted({quantize_low(v) for v in values})
    ladder = sorted({0} | {1 << i for i in range(63)} | {-(1 << i) for i in range(63)})
    first, last = ladder.index(lows[0]), ladder.index(lows[-1])
    shown = ladder[max(first - 1, 0):last + 2]
    assert list(quant) == [str(b) for b in shown]
    for b in shown:
        count = sum(1 for v in values if quantize_low(v) == b)
        assert quant[str(b)] == (int(count * 40 / n + 0.5), count), b

    labels = ["< 0"] + [str(x) for x in range(0, 100, 10)] + [">= 100"]
    lows_l = [None] + list(range(0, 100, 10)) + [100]
    counts = [sum(1 for v in values if lquantize_low(v, 0, 100, 10) == low) for low in lows_l]
    used = [i for i, c in enumerate(counts) if c]
    first, last = max(used[0] - 1, 0), min(used[-1] + 1, len(labels) - 1)
    assert list(lquant) == labels[first:last + 1]
    for i in range(first, last + 1):
        assert lquant[labels[i]] == (int(counts[i] * 40 / n + 0.5), counts[i]), labels[i]


@pytest.mark.parametrize("seed", SEEDS[:6])
def test_keyed_sums_order(seed):
    """@s[k] = sum(v) over random keys: entries sorted by value, ties by key."""
    rng = random.Random(1000 + seed)
    pairs = [(rng.choice("abcdefg"), rng.randint(-50, 50)) for _ in range(rng.randint(5, 60))]
    text = begin(*[f'@s["{k}"] = sum({v}); @n["{k}"] = count();' for k, v in pairs])
    sums: dict = {}
    counts: dict = {}
    for k, v in pairs:
        sums[k] = sums.get(k, 0) + v
        counts[k] = counts.get(k, 0) + 1
    expected = "\n"
    for k in sorted(sums, key=lambda k: (sums[k], k.encode())):
        expected += ks(k) + val(sums[k]) + "\n"
    for k in sorted(counts, key=lambda k: (counts[k], k.encode())):
        expected += ks(k) + val(counts[k]) + "\n"
    assert run_d(text) == expected

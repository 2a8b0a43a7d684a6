"""Aggregations of D scripts: the aggregating functions (count, sum, avg, min, max, stddev,
quantize, lquantize, llquantize), their per-key state, and their printing in DTrace's layout.

Layout facts follow DTrace's consumer (libdtrace): keys print as `` %16lld`` (8-byte ints),
`` %8d`` (4-byte), `` %5d``/`` %3d`` (2/1-byte, unsigned) or ``"  %-50s"`` (strings); values as
`` %16lld``; distributions as ``value  ---- Distribution ---- count`` tables with 40-column ``@``
bars and one empty bucket kept on each side of the used range. Entries sort by value, then by
key, unless the ``aggsortkey``/``aggsortrev``/``aggsortkeypos`` options say otherwise.
"""
from __future__ import annotations

import json
import math
from bisect import bisect_right
from dataclasses import dataclass, field

from usdtgen.trace.symbolize import UserStack

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
UINT128_MASK = (1 << 128) - 1   # stddev()'s sum of squares wraps at 128 bits, as in DTrace
QUANTIZE_BUCKETS = 127           # -2^62 .. -1, 0, 1 .. 2^62 (log2 buckets)
QUANTIZE_ZERO = 63
DISTRIBUTION = "------------- Distribution -------------"
BAR = 40


def wrap64(value: int) -> int:
    """``value`` as an int64 holds it: wrapped modulo 2^64."""
    if INT64_MIN <= value <= INT64_MAX:
        return value
    return ((value - INT64_MIN) & ((1 << 64) - 1)) + INT64_MIN


def c_div(a: int, b: int) -> int:
    """C's integer division: the quotient truncated toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def quantize_bucket(value: int) -> int:
    if value == 0:
        return QUANTIZE_ZERO
    if value > 0:
        return min(QUANTIZE_ZERO + value.bit_length(), QUANTIZE_BUCKETS - 1)
    return max(QUANTIZE_ZERO - (-value).bit_length(), 0)


def quantize_bucket_value(index: int) -> int:
    if index < QUANTIZE_ZERO:
        return -(1 << (QUANTIZE_ZERO - 1 - index))
    if index == QUANTIZE_ZERO:
        return 0
    return 1 << (index - QUANTIZE_ZERO - 1)


def llquantize_bounds(factor: int, low: int, high: int, steps: int) -> list[int]:
    """The lower bound of every bucket between ``< factor^low`` and ``>= factor^(high+1)``:
    [factor^low, ..., factor^(high+1)] (the last one opens the top bucket)."""
    value = factor ** low
    bounds = []
    for _ in range(low, high + 1):
        following = value * factor
        step = following // steps if following > steps else 1
        while value < following:
            bounds.append(value)
            value += step
        value = following
    bounds.append(value)
    return bounds


@dataclass(frozen=True)
class AggFunction:
    """One aggregating function as used by a statement: its name and constant parameters."""

    name: str
    params: tuple = ()           # lquantize: (lo, hi, step); llquantize: (factor, lo, hi, steps)

    @property
    def levels(self) -> int:
        lo, hi, step = self.params
        return (hi - lo) // step

    def bounds(self) -> list[int]:
        return llquantize_bounds(*self.params)


def new_state(function: AggFunction):
    name = function.name
    if name in ("count", "sum"):
        return 0
    if name == "min":
        return [INT64_MAX]
    if name == "max":
        return [INT64_MIN]
    if name == "avg":
        return [0, 0]
    if name == "stddev":
        return [0, 0, 0]
    if name == "quantize":
        return [0] * QUANTIZE_BUCKETS
    if name == "lquantize":
        return [0] * (function.levels + 2)
    if name == "llquantize":
        return [0] * (len(function.bounds()) + 1)
    raise ValueError(name)


def make_adder(function: AggFunction):
    """``add(entries, key, value, increment)`` for this function, as one small closure."""
    name = function.name
    if name == "count":
        def add(entries, key, value, incr):
            entries[key] = entries.get(key, 0) + 1
    elif name == "sum":
        def add(entries, key, value, incr):
            entries[key] = wrap64(entries.get(key, 0) + value)
    elif name == "min":
        def add(entries, key, value, incr):
            state = entries.get(key)
            if state is None:
                entries[key] = [value]
            elif value < state[0]:
                state[0] = value
    elif name == "max":
        def add(entries, key, value, incr):
            state = entries.get(key)
            if state is None:
                entries[key] = [value]
            elif value > state[0]:
                state[0] = value
    elif name == "avg":
        def add(entries, key, value, incr):
            state = entries.get(key)
            if state is None:
                entries[key] = [1, value]
            else:
                state[0] += 1
                state[1] = wrap64(state[1] + value)     # an int64 in DTrace: it wraps
    elif name == "stddev":
        def add(entries, key, value, incr):
            state = entries.get(key)
            if state is None:
                entries[key] = state = [0, 0, 0]
            state[0] += 1                                # DTrace: a uint64 count,
            state[1] = wrap64(state[1] + value)          # an int64 sum and
            state[2] = (state[2] + value * value) & UINT128_MASK   # 128-bit squares
    elif name == "quantize":
        def add(entries, key, value, incr):
            state = entries.get(key)
            if state is None:
                entries[key] = state = [0] * QUANTIZE_BUCKETS
            bucket = quantize_bucket(value)
            state[bucket] = wrap64(state[bucket] + incr)    # an int64 in DTrace: it wraps
    elif name == "lquantize":
        lo, hi, step = function.params
        levels = function.levels

        def add(entries, key, value, incr):
            state = entries.get(key)
            if state is None:
                entries[key] = state = [0] * (levels + 2)
            if value < lo:
                bucket = 0
            else:
                level = (value - lo) // step
                bucket = levels + 1 if level >= levels else level + 1
            state[bucket] = wrap64(state[bucket] + incr)
    elif name == "llquantize":
        bounds = function.bounds()
        size = len(bounds) + 1

        def add(entries, key, value, incr):
            state = entries.get(key)
            if state is None:
                entries[key] = state = [0] * size
            bucket = bisect_right(bounds, value)
            state[bucket] = wrap64(state[bucket] + incr)
    else:
        raise ValueError(name)
    return add


def stddev_of(state, normal: int = 1) -> int:
    """DTrace's integer standard deviation: sqrt(avg(x²) − avg(x)²) in its 128-bit unsigned
    arithmetic, with C truncation (an int64 sum that wrapped makes the difference wrap too,
    as it does there)."""
    count, total, squares = state
    if count == 0:
        return 0
    mean_of_squares = squares // normal // normal // count
    mean = abs(c_div(c_div(total, normal), count))
    return math.isqrt((mean_of_squares - mean * mean) & UINT128_MASK)


def absent_state(function: AggFunction):
    """What a key an aggregation does not have shows beside the others' in a joined printa():
    zero, whatever the function (a min() of nothing is 0 there, not its starting value)."""
    state = new_state(function)
    return [0] if function.name in ("min", "max") else state


def scalar_value(function: AggFunction, state, normal: int = 1) -> int:
    """The number a count/sum/min/max/avg/stddev entry prints (normalized)."""
    name = function.name
    if name in ("count", "sum"):
        return c_div(state, normal)
    if name in ("min", "max"):
        return c_div(state[0], normal)
    if name == "avg":
        return c_div(c_div(state[1], normal), state[0]) if state[0] else 0
    if name == "stddev":
        return stddev_of(state, normal)
    raise ValueError(name)


def _distribution_weight(function: AggFunction, state) -> tuple[float, int]:
    """What DTrace sorts distributions by: the bucket-weighted total, then the zero bucket."""
    if function.name == "quantize":
        total = sum(quantize_bucket_value(i) * n for i, n in enumerate(state) if n)
        return total, state[QUANTIZE_ZERO]
    if function.name == "lquantize":
        lo, _, step = function.params
        levels = function.levels
        total = state[0] * (lo - 1)
        base = lo
        for i in range(levels):
            total += state[i + 1] * base
            base += step
        total += state[levels + 1] * (base + 1)
        zero = 0
        if lo - 1 == 0:
            zero = state[0]
        elif lo <= 0 < lo + levels * step and (-lo) % step == 0:
            zero = state[(-lo) // step + 1]
        elif base + 1 == 0:
            zero = state[levels + 1]
        return total, zero
    bounds = function.bounds()
    total = state[0] * (bounds[0] - 1)
    for i, bound in enumerate(bounds[:-1]):
        total += state[i + 1] * bound
    total += state[-1] * bounds[-1]
    return total, state[1]


def sort_value(function: AggFunction, state):
    if function.name in ("quantize", "lquantize", "llquantize"):
        return _distribution_weight(function, state)
    if function.name == "avg":
        return c_div(state[1], state[0]) if state[0] else 0
    if function.name == "stddev":
        return stddev_of(state)
    return scalar_value(function, state)


# -- keys ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class KeyType:
    """How a key prints and sorts: a string, or an int of ``size`` bytes."""

    string: bool
    size: int = 8
    stack: bool = False          # a ustack(): prints as its frames


def wrap_int(value: int, size: int, signed: bool = True) -> int:
    bits = 8 * size
    value &= (1 << bits) - 1
    if signed and value >> (bits - 1):
        value -= 1 << bits
    return value


def key_sort_value(value, key_type: KeyType):
    """Keys compare as DTrace compares their bytes: strings bytewise, integers unsigned."""
    if isinstance(value, str):
        return (1, value.encode("utf-8", "replace"))
    if isinstance(value, int):
        return (0, value & ((1 << (8 * key_type.size)) - 1))
    return (2, repr(value))


def format_key(value, key_type: KeyType) -> str:
    if isinstance(value, UserStack):             # a newline, then a frame a line
        return format(value, "")
    if key_type.string or not isinstance(value, int):
        return "  " + f"{value:<50}"
    size = key_type.size
    if size >= 8:
        return f" {wrap_int(value, 8):16d}"
    if size == 4:
        return f" {wrap_int(value, 4):8d}"
    if size == 2:
        return f" {wrap_int(value, 2, False):5d}"
    return f" {wrap_int(value, 1, False):3d}"


# -- aggregations ----------------------------------------------------------------------------

@dataclass
class Aggregation:
    """One aggregation variable: its function, key layout and entries."""

    name: str                            # "@lat", or "@" for the anonymous one
    var_id: int                          # order of first appearance in the script
    function: AggFunction
    key_types: tuple[KeyType, ...]
    entries: dict = field(default_factory=dict)
    normal: int = 1
    printed: bool = False

    def clear(self) -> None:
        """Zero every value and keep the keys, as DTrace's clear() does."""
        for key in list(self.entries):
            state = new_state(self.function)
            self.entries[key] = state

    def sorted_keys(self, options, keys=None, others=()) -> list:
        """The keys in printing order; ``keys`` (a printa of several aggregations: all of
        their keys) may name keys this one lacks, which sort as empty values; the values of
        the aggregations ``others``, in turn, order the keys this one's values tie."""
        function = self.function
        entries = self.entries
        empty = absent_state(function)
        positions = list(range(len(self.key_types)))
        keypos = options.get("aggsortkeypos", 0) or 0
        if 0 < keypos < len(positions):
            positions = positions[keypos:] + positions[:keypos]

        def key_order(key):
            return tuple(key_sort_value(key[i], self.key_types[i]) for i in positions)

        if options.get("aggsortkey"):
            order = lambda key: key_order(key)                       # noqa: E731
        else:
            tie_breakers = [(other.function, other.entries, absent_state(other.function))
                            for other in others]
            order = lambda key: (sort_value(function, entries.get(key, empty)),  # noqa: E731
                                 *(sort_value(f, values.get(key, none))
                                   for f, values, none in tie_breakers),
                                 key_order(key))
        return sorted(entries if keys is None else keys, key=order,
                      reverse=bool(options.get("aggsortrev")))

    def truncate(self, keep: int | None, options) -> None:
        """trunc(@a) empties it; trunc(@a, n) keeps the n largest (n < 0: the n smallest)."""
        if keep is None or keep == 0:
            self.entries.clear()
            return
        ordered = sorted(self.entries, key=lambda key: sort_value(self.function, self.entries[key]))
        kept = ordered[-keep:] if keep > 0 else ordered[:-keep]
        for key in set(self.entries) - set(kept):
            del self.entries[key]

    # -- printing --------------------------------------------------------------------------

    def value_text(self, state) -> str:
        """The value part of a default printa line (a number, or a distribution table)."""
        name = self.function.name
        if name == "quantize":
            return quantize_table(state, self.normal)
        if name == "lquantize":
            return lquantize_table(self.function, state, self.normal)
        if name == "llquantize":
            return llquantize_table(self.function, state, self.normal)
        return f" {scalar_value(self.function, state, self.normal):16d}"

    def default_text(self, options) -> str:
        """The aggregation as ``printa(@a)`` and the end of a trace print it."""
        out = []
        for key in self.sorted_keys(options):
            line = "".join(format_key(value, kt) for value, kt in zip(key, self.key_types))
            out.append(line + self.value_text(self.entries[key]) + "\n")
        return "".join(out)

    def json_object(self, options) -> dict:
        entries = []
        for key in self.sorted_keys(options):
            keys = [value.frames() if isinstance(value, UserStack) else value for value in key]
            entries.append({"keys": keys, **self.json_value(self.entries[key])})
        return {"type": "aggregation", "name": self.name, "function": self.function.name,
                "entries": entries}

    def json_value(self, state) -> dict:
        name = self.function.name
        if name in ("count", "sum", "min", "max"):
            return {"value": scalar_value(self.function, state, self.normal)}
        if name == "avg":
            return {"value": scalar_value(self.function, state, self.normal),
                    "count": state[0], "sum": state[1]}
        if name == "stddev":
            return {"value": stddev_of(state, self.normal), "count": state[0],
                    "sum": state[1], "sum_of_squares": state[2]}
        return {"buckets": [[low, c_div(n, self.normal)]
                            for low, n in bucket_lows(self.function, state) if n]}


def bucket_lows(function: AggFunction, state) -> list[tuple]:
    """(lower bound, count) of every bucket; ``None`` stands for -infinity."""
    if function.name == "quantize":
        return [(quantize_bucket_value(i), n) for i, n in enumerate(state)]
    if function.name == "lquantize":
        lo, _, step = function.params
        return [(None, state[0])] + [(lo + i * step, state[i + 1])
                                     for i in range(function.levels)] + \
            [(lo + function.levels * step, state[-1])]
    bounds = function.bounds()
    return [(None, state[0])] + [(bound, state[i + 1]) for i, bound in enumerate(bounds)]


# -- distribution tables ---------------------------------------------------------------------

def _table_header() -> str:
    return f"\n{'value':>16} {DISTRIBUTION:>41} {'count':<9}\n"


def _bar(value: int, normal: int, total: float, positives: bool, negatives: bool) -> str:
    count_text = f"{c_div(value, normal):<9d}"
    if not negatives:
        depth = int(abs(value) * BAR / total + 0.5) if positives and total else 0
        return "|" + "@" * depth + " " * (BAR - depth) + " " + count_text + "\n"
    if not positives:
        depth = int(abs(value) * BAR / total + 0.5) if total else 0
        return " " * (BAR - depth) + "@" * depth + "| " + count_text + "\n"
    half = BAR // 2
    depth = int(abs(value) * half / total + 0.5) if total else 0
    if value <= 0:
        return " " * (half - depth) + "@" * depth + "|" + " " * half + " " + count_text + "\n"
    return " " * 20 + "|" + "@" * depth + " " * (half - depth) + " " + count_text + "\n"


def _rows(labels: list[str], counts: list[int], first: int, last: int, normal: int) -> str:
    shown = counts[first:last + 1]
    positives = any(n > 0 for n in shown)
    negatives = any(n < 0 for n in shown)
    total = float(sum(abs(n) for n in shown))
    out = [_table_header()]
    for i in range(first, last + 1):
        out.append(f"{labels[i]:>16} " + _bar(counts[i], normal, total, positives, negatives))
    return "".join(out)


def _used_range(counts: list[int], empty: tuple[int, int]) -> tuple[int, int]:
    """The buckets DTrace shows: from one below the first used to one above the last."""
    used = [i for i, n in enumerate(counts) if n]
    if not used:
        return empty
    return max(used[0] - 1, 0), min(used[-1] + 1, len(counts) - 1)


def quantize_table(state, normal: int = 1) -> str:
    nonzero = [i for i, n in enumerate(state[:-1]) if n]
    if not nonzero:
        first, last = QUANTIZE_ZERO - 1, QUANTIZE_ZERO + 1
    else:
        first = max(nonzero[0] - 1, 0)
        used = [i for i, n in enumerate(state) if n]
        last = min(used[-1] + 1, QUANTIZE_BUCKETS - 1)
    labels = [str(quantize_bucket_value(i)) for i in range(QUANTIZE_BUCKETS)]
    return _rows(labels, state, first, last, normal)


def lquantize_table(function: AggFunction, state, normal: int = 1) -> str:
    lo, _, step = function.params
    levels = function.levels
    first, last = _used_range(state, (0, 2))
    labels = [f"< {lo}"] + [str(lo + (i - 1) * step) for i in range(1, levels + 1)] + \
        [f">= {lo + levels * step}"]
    return _rows(labels, state, first, min(last, len(labels) - 1), normal)


def llquantize_table(function: AggFunction, state, normal: int = 1) -> str:
    bounds = function.bounds()
    first, last = _used_range(state, (0, 1))
    labels = [f"< {bounds[0]}"] + [str(b) for b in bounds[:-1]] + [f">= {bounds[-1]}"]
    return _rows(labels, state, first, last, normal)


def json_dump(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)

"""The ``-f`` printf formatter (usdtgen.trace.printf) against the real C library's printf.

Every row of the C tables becomes one printf call, with the C types the conversion asks for
(int, unsigned, long long, size_t, ..., char, const char *, void *, double, long double), in a
C program generated, compiled with gcc and run once per session; its output is compared row by
row with ``Format.render``. Then come what C cannot check (None and missing values, type
mismatches, the documented differences from C), the compiled pieces, and the errors with their
messages and columns.
"""
from __future__ import annotations

import itertools
import math
import subprocess

import pytest

from conftest import compile_program
from usdtgen.errors import UsdtgenError
from usdtgen.trace.printf import FLOAT_CONVERSIONS, Conversion, Format, FormatError, Literal, \
    compile_format

NAN = float("nan")
INF = float("inf")
I64_MIN, I64_MAX, U64_MAX = -2 ** 63, 2 ** 63 - 1, 2 ** 64 - 1

# --- the C tables -----------------------------------------------------------------------------

# Hand-written rows: several conversions, literal text and escapes (passed to gcc as written, so
# the C compiler decodes the same escapes). No \0 (C's printf stops there), no \x followed by a
# hex digit (C's \x takes them all), no escape making a '%' (C would see a conversion): those are
# checked without C further down.
HAND: list[tuple[str, tuple]] = [
    ("", ()),
    ("no conversions", ()),
    ("pid=%d comm=%s ret=%ld\n", (1234, "bash", -1)),
    ("%d %i %u %x %X %o", (-1, -1, -1, -1, -1, -1)),
    ("%d %i %u %x %X %o", (42, 42, 42, 42, 42, 42)),
    ("%hhx %hx %x %lx %llx %zx %jx %tx %Lx", (-1,) * 9),
    ("%hhu %hu %u %lu %llu %zu %ju %tu", (-1,) * 8),
    ("%hho %ho %o %lo %llo", (-1,) * 5),
    ("%hhx %hx %x", (0x1234, 0x12345, 0x123456789)),
    ("%u %x %o", (2 ** 32 + 5, 2 ** 32, 2 ** 32 + 8)),
    ("%lld %lld %llu %llx %llo %llX", (I64_MAX, I64_MIN, U64_MAX, U64_MAX, U64_MAX, U64_MAX)),
    ("%ld|%lu|%lx|%li", (I64_MIN, -1, I64_MIN, I64_MAX)),
    ("%zd %jd %td %Ld", (I64_MIN, I64_MAX, -5, -6)),
    ("%d %d %d", (2 ** 31 - 1, -2 ** 31, 0)),
    ("%hhd %hd", (-128, -32768)),
    ("%5d|%-5d|%05d|%+5d|% 5d|%-+5d|%+05d", (42,) * 7),
    ("%5d|%-5d|%05d|%+5d|% 5d|%-+5d|%+05d", (-42,) * 7),
    ("%05d|%-05d|%05.2d|%5.3d|%-5.3d|%.5d", (-42,) * 6),
    ("%.0d|%.0x|%#.0x|%.0o|%#.0o|%5.0d|%-3.0u|", (0,) * 7),
    ("%.d|%5.x|", (0, 0)),
    ("%#o %#x %#X %#.3o %#.0o %#5o %#05x %#-8x| %#.5x %#08.3x",
     (8, 255, 255, 8, 8, 0, 255, 255, 255, 255)),
    ("%#o %#x %#X", (0, 0, 0)),
    ("% d % d %+d %+d %+i %+ d % +d", (5, -5, 5, -5, 0, 3, 3)),
    ("%+u % u %+x % X %+o", (5, 5, 255, 255, 8)),
    ("%-10s|%10s|%.2s|%-8.3s|%s", ("left", "right", "truncate", "abcdef", "")),
    ("[%5s][%-5s][%.0s][%05s]", ("ab", "ab", "ab", "ab")),
    ("%s=%d", ("caf\u00e9", 1)),
    ("%s \u2192 %s", ("a", "b")),
    ("%c%c%c", (ord("a"), ord("b"), ord("c"))),
    ("[%-5c|%5c|%c]", (65, 66, ord("~"))),
    ("%p %p %p", (1, 0x7FFD12345678, U64_MAX)),
    ("[%18p|%-18p|%018p|%.8p|%+p|% p|%#p]", (0x1234,) * 7),
    ("100%% sure %d%%", (5,)),
    ("%%%d%%%s%%", (1, "x")),
    ("%5.1f%%", (99.44,)),
    ("%f %e %g %E %G %F", (3.14159,) * 6),
    ("%f %e %g", (3, -7, 10 ** 17)),
    ("%.3f %.0f %.0f %.0f %.0f", (2.0005, 0.5, 1.5, 2.5, -0.5)),
    ("%+.3e|% .2f|%-12g|%012.4f|%+012.3e", (-0.0, 1.0, 1e-5, -3.14159, 12345.678)),
    ("%#.0e %#g %#.0f %g %G %.0g %#.0g", (3.0, 1.5, 3.0, 1e-5, 1e20, 0.0, 0.0)),
    ("%f %F %e %g|%010f|%-10f|%+f|% E", (INF, INF, -INF, NAN, INF, -INF, NAN, INF)),
    ("%f %Lf %Le %Lg", (1.25, 1.25, 1.25, 1.25)),
    ("%lf %le %lg", (0.1, 0.1, 0.1)),
    ("%.17g %.20f %g %g", (0.1, 0.1, 1.7976931348623157e308, 5e-324)),
    (r"tab\there\nnew\\line \"q\" bell\a cr\r", ()),
    (r"\x41\x42\103\60\7\x7e", ()),
    (r"\x4g\101\1012\18", ()),
    (r"\xe2\x86\x92 %s \303\251", ("x",)),
    (r"\xff\x80|\303|", ()),
    (r"%d\n%s\t%x\\", (1, "two", 3)),
    ('quote " and \'single\' and tab\tliteral', ()),
]


def _sweep(convs, flags, widths, precisions, values, lengths=("",)) -> list[tuple[str, tuple]]:
    return [(f"%{f}{w}{p}{l}{c}", (v,))
            for c, f, w, p, l, v in itertools.product(convs, flags, widths, precisions, lengths,
                                                      values)]


FLAGS = ["", "-", "+", " ", "0", "#", "-0", "+0", " 0", "#0", "-#", "+ ", "-+ 0#"]
INT_VALUES = [0, 1, -1, 7, -42, 255, 65535, 2 ** 31 - 1, -2 ** 31]
FLOAT_VALUES = [0.0, -0.0, 1.0, -1.5, 0.1, 2.5, 0.125, 123456.789, 1e-5, -2.5e-300, 1e20,
                1.7976931348623157e308, 5e-324, 9.999999, INF, -INF, NAN, -NAN]
STRINGS = ["", "a", "hello", "hello world", "tab\there"]
WIDE = [0, 1, -1, 127, 128, 255, 256, -128, 65535, 65536, -32768, 2 ** 31 - 1, 2 ** 31,
        -2 ** 31, 2 ** 32 - 1, 2 ** 32, -2 ** 32, I64_MAX, I64_MIN, U64_MAX, 0x123456789ABCDEF0]
SIGNED_RANGE = {"hh": 8, "h": 16, "": 32}           # C converts %hhd to signed char, etc.


def _fits(length: str, value: int) -> bool:
    bits = SIGNED_RANGE.get(length, 64)
    return -2 ** (bits - 1) <= value < 2 ** (bits - 1)


SWEEPS: dict[str, list[tuple[str, tuple]]] = {
    "integers": _sweep("diuoxX", FLAGS, ["", "1", "6", "12"], ["", ".", ".0", ".1", ".4"],
                       INT_VALUES),
    "lengths": [row for row in _sweep("diuoxX", ["", "#", "-", "0", "+"], ["", "20"], [""],
                                      WIDE, ["hh", "h", "", "l", "ll", "z", "j", "t", "L"])
                if row[0][-1] not in "di" or _fits(compile_format(row[0]).pieces[0].length,
                                                   row[1][0])],
    "floats": _sweep(FLOAT_CONVERSIONS, FLAGS, ["", "1", "12"], ["", ".0", ".1", ".3", ".10"],
                     FLOAT_VALUES),
    "strings": _sweep("s", FLAGS, ["", "1", "3", "8"], ["", ".", ".0", ".2", ".5"], STRINGS),
    "chars": _sweep("c", FLAGS, ["", "1", "4"], ["", ".0", ".3"],
                    [1, 9, ord(" "), ord("A"), ord("~"), 127]),
    "pointers": _sweep("p", FLAGS, ["", "4", "20"], ["", ".1", ".12"],
                       [1, 0x1234, 0xDEADBEEF, 0x7FFFFFFFFFFF, 2 ** 63, U64_MAX]),
}

# --- the C program ----------------------------------------------------------------------------

C_SIGNED = {"": "int", "hh": "int", "h": "int", "l": "long", "ll": "long long",
            "L": "long long", "z": "ssize_t", "j": "intmax_t", "t": "ptrdiff_t"}
C_UNSIGNED = {"": "unsigned", "hh": "unsigned", "h": "unsigned", "l": "unsigned long",
              "ll": "unsigned long long", "L": "unsigned long long", "z": "size_t",
              "j": "uintmax_t", "t": "ptrdiff_t"}
RECORD_END = 0x1E       # after each row's output


def c_string(data: bytes) -> str:
    """A C string literal of exactly these bytes (octal escapes: at most three digits)."""
    return '"' + "".join(chr(b) if 32 <= b < 127 and chr(b) not in '\\"?' else f"\\{b:03o}"
                         for b in data) + '"'


def c_format(text: str) -> str:
    """The format as a C literal: our escapes copied as written, for gcc to decode."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            out.append(text[i:i + 2])
            i += 2
            continue
        out.append(c_string(text[i].encode())[1:-1])
        i += 1
    return '"' + "".join(out) + '"'


def c_int(value: int) -> str:
    if value == I64_MIN:
        return "(-9223372036854775807LL - 1)"
    return f"({value}LL)" if value <= I64_MAX else f"{value}ULL"


def c_double(value: float) -> str:
    if math.isnan(value):
        return "(-NAN)" if math.copysign(1.0, value) < 0 else "NAN"
    if math.isinf(value):
        return "(-INFINITY)" if value < 0 else "INFINITY"
    return f"({value.hex()})"


def c_argument(conv: Conversion, value) -> str:
    """``value`` as the C type the conversion takes."""
    c = conv.conversion
    if c == "s":
        return c_string(value.encode())
    if c in FLOAT_CONVERSIONS:
        ctype = "long double" if conv.length == "L" else "double"
        return f"({ctype}){c_double(float(value))}"
    if c == "p":
        return f"(void *)(uintptr_t){c_int(value)}"
    ctype = C_SIGNED[conv.length] if c in "dic" else C_UNSIGNED[conv.length]
    return f"({ctype}){c_int(value)}"


def c_program(rows: list[tuple[str, tuple]]) -> str:
    lines = ["#include <stdio.h>", "#include <stdint.h>", "#include <stddef.h>",
             "#include <math.h>", "#include <sys/types.h>", ""]
    chunk = 500         # rows per function: gcc is much faster on many small functions
    for start in range(0, len(rows), chunk):
        lines.append(f"static void rows_{start}(void) {{")
        for text, values in rows[start:start + chunk]:
            convs = [p for p in compile_format(text).pieces if isinstance(p, Conversion)]
            args = "".join(", " + c_argument(conv, v) for conv, v in zip(convs, values))
            lines.append(f"    printf({c_format(text)}{args}); putchar({RECORD_END});")
        lines.append("}")
    lines.append("int main(void) {")
    lines += [f"    rows_{start}();" for start in range(0, len(rows), chunk)]
    lines += ["    return 0;", "}", ""]
    return "\n".join(lines)


@pytest.fixture(scope="session")
def c_outputs(tmp_path_factory) -> dict[str, list[str]]:
    """What glibc's printf prints for every row of HAND and SWEEPS, by table name."""
    tables = {"hand": HAND, **SWEEPS}
    rows = [row for table in tables.values() for row in table]
    tmp = tmp_path_factory.mktemp("printf")
    exe = compile_program(tmp, c_program(rows), flags=("-O0", "-w"), output="printf_rows")
    raw = subprocess.run([str(exe)], capture_output=True, check=True, timeout=60).stdout
    records = raw.split(bytes([RECORD_END]))
    assert len(records) == len(rows) + 1 and records[-1] == b""
    outputs, start = {}, 0
    for name, table in tables.items():
        outputs[name] = [r.decode("utf-8", "replace") for r in records[start:start + len(table)]]
        start += len(table)
    return outputs


@pytest.mark.parametrize("index", range(len(HAND)), ids=[repr(text) for text, _ in HAND])
def test_hand_rows_match_c(c_outputs, index):
    text, values = HAND[index]
    compiled = compile_format(text)
    assert compiled.render(values) == c_outputs["hand"][index]
    # the tracer's generated path gives the same text, or hands the values to render
    assert compiled.fast_renderer()(values) in (None, c_outputs["hand"][index])


@pytest.mark.parametrize("name", SWEEPS)
def test_sweeps_match_c(c_outputs, name):
    """Every flag combination, width, precision and length modifier over typical values."""
    table = SWEEPS[name]
    assert len(table) > 100
    wrong = [(text, values, expected, got)
             for (text, values), expected in zip(table, c_outputs[name])
             if (got := compile_format(text).render(values)) != expected
             or compile_format(text).fast_renderer()(values) not in (None, expected)]
    assert not wrong, f"{len(wrong)} of {len(table)} differ from C, e.g. (format, values, C, " \
                      f"ours): " + "\n".join(map(repr, wrong[:20]))


# --- '*' widths and precisions (D's printf) against C ---------------------------------------------
# (format, arguments: ints for the '*'s and %d, strings for %s), as C takes them: a '*' takes
# an int argument before the value; a negative width left-justifies, a negative precision
# counts as none.
STAR_ROWS = [
    ("[%*d]", (6, 42)), ("[%-*d]", (6, 42)), ("[%*d]", (-6, 42)), ("[%*s]", (4, "")),
    ("[%.*s]", (3, "abcdef")), ("[%.*s]", (-1, "abcdef")), ("[%.*s]", (0, "abc")),
    ("[%*.*s|%s]", (8, 2, "hello", "x")), ("[%0*d]", (5, -42)), ("[%*.*d]", (7, 4, 12)),
    ("%*s%s", (4, "", "indented")), ("[%+*d %*x]", (5, 3, -3, 255)),
]


def test_star_widths_match_c(tmp_path):
    calls = []
    for fmt, args in STAR_ROWS:
        c_args = ", ".join(f'"{a}"' if isinstance(a, str) else str(a) for a in args)
        calls.append(f'  printf("{fmt}\\n", {c_args});')
    source = "#include <stdio.h>\nint main(void)\n{\n" + "\n".join(calls) + "\n  return 0;\n}\n"
    exe = compile_program(tmp_path, source, flags=("-O0", "-w"), output="stars")
    expected = subprocess.run([str(exe)], capture_output=True, text=True, check=True,
                              timeout=30).stdout.splitlines()
    got = [compile_format(fmt, stars=True).render(args) for fmt, args in STAR_ROWS]
    assert got == expected
    compiled = compile_format("[%*.*s|%s]", stars=True)
    assert compiled.conversions == 4 and compiled.string_arguments == (2, 3)
    assert compiled.fast_renderer()((8, 2, "hello", "x")) is None      # render's job


# --- what C cannot check ----------------------------------------------------------------------

@pytest.mark.parametrize("text, values, expected", [
    # None: an argument the tracer could not fetch; width and '-' apply, nothing else
    ("%d %x %s %c %p %f %e %u", (None,) * 8, "? ? ? ? ? ? ? ?"),
    ("[%5d|%-5s|%05x|%.0s|%+.3f]", (None,) * 5, "[    ?|?    |    ?|?|?]"),
    ("pid=%d ret=%ld", (7, None), "pid=7 ret=?"),
    # too few values: the missing ones are None; too many: the rest are ignored
    ("%d %d %d", (1,), "1 ? ?"),
    ("%s|%4d|%-3x|", (), "?|   ?|?  |"),
    ("%d", (1, 2, 3), "1"),
    ("plain", (1,), "plain"),
])
def test_unknown_and_missing_values_print_a_question_mark(text, values, expected):
    assert compile_format(text).render(values) == expected


@pytest.mark.parametrize("text, value, expected", [
    ("%d", "abc", "abc"),                # a str under a numeric conversion prints as text
    ("%5d|", "ab", "   ab|"),
    ("%-5x|", "ab", "ab   |"),
    ("%.1d", "abc", "abc"),              # no truncation: precision means digits there
    ("%x", b"hi\0junk", "hi"),
    ("%f", "n/a", "n/a"),
    ("%p", "x", "x"),
    ("%s", 42, "42"),                    # a number under %s prints its decimal
    ("%s", -7, "-7"),
    ("%.1s", 42, "4"),
    ("%5s", 1.5, "  1.5"),
    ("%d", 3.9, "3"),                    # a float under an integer conversion: a C cast
    ("%d", -3.9, "-3"),
    ("%x", 255.5, "ff"),
    ("%d", NAN, "nan"),
    ("%5x", INF, "  inf"),
    ("%e", 10 ** 400, "1" + "0" * 400),   # too big for a double: its decimal
    ("%c", "ab", "ab"),
    ("%c", b"z", "z"),
    ("%c", 2.5, "2.5"),
])
def test_type_mismatches_never_raise(text, value, expected):
    assert compile_format(text).render([value]) == expected


@pytest.mark.parametrize("text, values, expected", [
    ("%hhd %hd %d", (300, 70000, 2 ** 40), "300 70000 1099511627776"),   # %d never truncated
    ("%hhi", (-1000,), "-1000"),
    ("%d", (2 ** 70,), str(2 ** 70)),
    ("%lx %x", (2 ** 70 + 1, -2 ** 70 - 1), "1 ffffffff"),                 # modulo 2**bits
    ("%c", (0,), ""),                    # C prints a NUL byte
    ("[%3c|%-3c]", (0, 0), "[   |   ]"),
    ("%c", (0xE9,), "\u00e9"),           # a code point; C prints the byte 0xe9
    ("%c%c", (0x263A, 0x1F600), "\u263a\U0001F600"),
    ("%c|%c|%c", (-1, 0xD800, 0x110000), "\ufffd|\ufffd|\ufffd"),
    ("%p %5p %-5p|", (0, 0, 0), "0x0   0x0 0x0  |"),   # glibc: (nil)
    ("%p", (-1,), "0xffffffffffffffff"),
    ("%s", (b"abc\0def",), "abc"),       # bytes end at a NUL, as in C
    ("%s|%s", (b"\xc3\xa9", b"\xff!"), "\u00e9|\ufffd!"),
    ("%.1s|%-3s|%3s", ("\u00e9a", "\u00e9", "\u00e9"), "\u00e9|\u00e9  |  \u00e9"),  # characters
    ("%s", ("x\0y",), "x\0y"),           # a str is printed whole
    (r"a\0b\08", (), "a\0b\0" + "8"),    # \0 is a NUL in the output; C's printf would stop
    (r"\x25d %d", (5,), "%d 5"),         # an escape never makes a conversion
    (r"\045s", (), "%s"),
    (r"\x414\x7e0", (), "A4~0"),         # two hex digits at most
    (r"\0101\1234", (), "\x081S4"),      # three octal digits at most
    (r"\xe2\x86\x92\xe2", (), "\u2192\ufffd"),   # adjacent escaped bytes decode as UTF-8
    ("%f|%e", (True, False), "1.000000|0.000000e+00"),
])
def test_documented_differences_from_c(text, values, expected):
    assert compile_format(text).render(values) == expected


def test_compiled_pieces():
    fmt = compile_format("a=%-08.3lx b%%c %s\\n")
    assert fmt == Format("a=%-08.3lx b%%c %s\\n", (
        Literal("a="), Conversion(3, "%-08.3lx", "-0", 8, 3, "l", "x"), Literal(" b%c "),
        Conversion(17, "%s", "", None, None, "", "s"), Literal("\n")))
    assert fmt.conversions == 2
    assert compile_format("%0-+0 #d").pieces[0].flags == "-+ 0#"
    assert compile_format("%.d %5.f").pieces[0].precision == 0
    assert [p.length for p in compile_format("%hhd%hd%d%ld%lld%zd%jd%td%Lf").pieces] == \
        ["hh", "h", "", "l", "ll", "z", "j", "t", "L"]
    assert compile_format("").pieces == () and compile_format("").conversions == 0
    assert compile_format("%%").pieces == (Literal("%"),)
    assert compile_format(r"\x25d").conversions == 0


def test_string_arguments():
    assert compile_format("%d %s %c %-5.2s %%s %x").string_arguments == (1, 3)
    assert compile_format("no conversions").string_arguments == ()


def test_compile_once_render_many():
    fmt = compile_format("%s:%d\n")
    assert [fmt.render([name, n]) for name, n in [("a", 1), ("b", -2)]] == ["a:1\n", "b:-2\n"]
    assert fmt.render(["c", 3]) == "c:3\n"


# --- errors -----------------------------------------------------------------------------------

CONVS_HINT = " (conversions: d i u x X o c s p e E f F g G %)"
ESCAPES_HINT = r" (escapes: \n \t \r \a \0 \\ \" \xHH \NNN)"
STAR = " is not supported: write the width or precision as a number"
PERCENT = ": write '%%' for a percent sign, with no flags, width or precision"


@pytest.mark.parametrize("text, message, column", [
    ("abc%", "-f: '%' at the end of the format, at column 4 (write '%%' for a percent sign)", 4),
    ("%", "-f: '%' at the end of the format, at column 1 (write '%%' for a percent sign)", 1),
    ("x=%-5", "-f: '%-5' at the end of the format, at column 3", 3),
    ("x=%5.", "-f: '%5.' at the end of the format, at column 3", 3),
    ("%d %ll", "-f: '%ll' at the end of the format, at column 4", 4),
    ("abc %q", "-f: unknown conversion '%q' at column 5" + CONVS_HINT, 5),
    ("%-10q", "-f: unknown conversion '%-10q' at column 1" + CONVS_HINT, 1),
    ("%n", "-f: unknown conversion '%n' at column 1" + CONVS_HINT, 1),
    ("%a", "-f: unknown conversion '%a' at column 1" + CONVS_HINT, 1),
    ("%lld %llld", "-f: unknown conversion '%lll' at column 6" + CONVS_HINT, 6),
    ("%hhhd", "-f: unknown conversion '%hhh' at column 1" + CONVS_HINT, 1),
    ("%lhd", "-f: unknown conversion '%lh' at column 1" + CONVS_HINT, 1),
    ("%5-d", "-f: unknown conversion '%5-' at column 1" + CONVS_HINT, 1),
    ("%5.3.1f", "-f: unknown conversion '%5.3.' at column 1" + CONVS_HINT, 1),
    ("%\td", "-f: unknown conversion '%\\t' at column 1" + CONVS_HINT, 1),
    ("\u00e9\u00e9%y", "-f: unknown conversion '%y' at column 3" + CONVS_HINT, 3),
    (r"\n\x41%y", "-f: unknown conversion '%y' at column 7" + CONVS_HINT, 7),
    ("a %*d", "-f: '*' at column 4" + STAR, 4),
    ("%.*f", "-f: '*' at column 3" + STAR, 3),
    ("%-5*d", "-f: '*' at column 4" + STAR, 4),
    ("%5%", "-f: '%5%' at column 1" + PERCENT, 1),
    ("a%-%", "-f: '%-%' at column 2" + PERCENT, 2),
    (r"ab\q", r"-f: unknown escape '\q' at column 3" + ESCAPES_HINT, 3),
    (r"\e[0m", r"-f: unknown escape '\e' at column 1" + ESCAPES_HINT, 1),
    ("ab\\", r"-f: '\' at the end of the format, at column 3", 3),
    (r"%d\x", r"-f: '\x' without hex digits at column 3", 3),
    (r"\xg", r"-f: '\x' without hex digits at column 1", 1),
    (r"a\400", r"-f: octal escape '\400' at column 2 is out of range (at most \377)", 2),
    ("%5000d", "-f: width in '%5000d' at column 1 is too large (at most 4096)", 1),
    ("%.99999999999999999999f",
     "-f: precision in '%.99999999999999999999f' at column 1 is too large (at most 4096)", 1),
])
def test_malformed_formats(text, message, column):
    with pytest.raises(FormatError) as caught:
        compile_format(text)
    assert str(caught.value) == message
    assert caught.value.column == column
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, UsdtgenError)


def test_largest_width_and_precision_are_accepted():
    assert compile_format("%4096d").render([1]) == " " * 4095 + "1"
    assert compile_format("%.4096f").render([0.5]) == "0." + "5" + "0" * 4095

"""D expressions and actions as usdtgen evaluates them, checked against C/DTrace semantics.

Every row runs a script's BEGIN (and END) clauses in quiet mode, without a kernel, and compares
what it printed with text written by hand from the rules of C (LP64: int is 4 bytes, long 8,
char signed; integer division truncates toward zero) and of DTrace (values computed in 64-bit
registers, cut to their type's size where recorded, cast or narrowed; printf() widens %d/%x/%u
to their ll forms for 8-byte values; trace() in quiet mode prints ints with "%d"/"%lld" of the
traced bytes, so 1- and 2-byte values print unsigned; dtrace prints one newline at exit before
the aggregations). Nothing here was pasted from usdtgen's output.
"""
from __future__ import annotations

import io
import os
import subprocess

import pytest

from conftest import USDTGEN, require
from usdtgen.errors import ScriptError
from usdtgen.trace.script.run import load_script


def run_d(text: str, args=()):
    """Compile ``text``, fire BEGIN then END, print what is left as dtrace does at exit."""
    out, err = io.StringIO(), io.StringIO()
    script = load_script(text, "t.d", macro_args=list(args), stream=out, errors=err,
                         as_json=False, quiet=True)
    script.fire_begin()
    script.machine.exiting = False
    script.fire_end()
    script.machine.print_remaining()
    return script, out.getvalue(), err.getvalue()


def begin(body: str) -> str:
    return "BEGIN\n{\n" + body + "\n}\n"


# (id, statements of a BEGIN clause, what they print). The D text is raw: \n inside a D string
# literal is D's escape, decoded by the D compiler, as in a .d file.
CASES = [
    # -- DTrace's printf: %i is signed and %u %x unsigned at the value's own size; %.0s is all
    ("printf-sizes", r'printf("%u %i %x %d\n", (char) -17, (uint16_t) 0xffff, (short) -1, '
                     r'(uint16_t) 0xffff);', "239 -1 ffff 65535\n"),
    ("printf-zero-string-precision", r'printf("%.0s|%.*s|%.2s\n", "abc", 0, "abc", "abc");',
     "abc|abc|ab\n"),
    # -- strtoll() as DTrace: the base's digits only, 0x in base 16, 64-bit wrap
    ("strtoll", r'printf("%d %d %d %d %d\n", strtoll("0x20", 16), strtoll("12j"), '
                r'strtoll("102", 2), strtoll("1000000000000000000000", 8), strtoll(""));',
     "32 12 2 -9223372036854775808 0\n"),
    ("rindex-empty-before-start", r'printf("%d %d\n", rindex("foobar", "", -4), '
                                  r'rindex("foobar", "o", -4));', "0 -1\n"),
    # -- integer arithmetic: C division truncates toward zero, % takes the dividend's sign
    ("div-trunc", r'printf("%d %d %d %d\n", 7 / 2, -7 / 2, 7 / -2, -7 / -2);', "3 -3 -3 3\n"),
    ("mod-sign", r'printf("%d %d %d %d\n", 7 % 3, -7 % 3, 7 % -3, -7 % -3);', "1 -1 1 -1\n"),
    ("precedence", r'printf("%d %d %d\n", 2 + 3 * 4 - 10 / 3, (2 + 3) * 4, 2 - 3 - 4);',
     "11 20 -5\n"),
    ("unary-minus", r'x = 5; printf("%d %d\n", -x, - -x);', "-5 5\n"),
    ("div-vars", r'a = -17; b = 5; printf("%d %d\n", a / b, a % b);', "-3 -2\n"),
    ("long-div", r'a = -9000000000; printf("%d %d\n", a / 7, a % 7);',
     "-1285714285 -5\n"),
    # -- 64-bit wraparound (decimal literals above INT_MAX are long)
    ("wrap-add", r'x = 9223372036854775807; x = x + 1; printf("%d\n", x);',
     "-9223372036854775808\n"),
    ("wrap-mul", r'x = 0x7fffffffffffffff; printf("%d\n", x * 2);', "-2\n"),
    ("wrap-sub", r'x = -9223372036854775807 - 1; x = x - 1; printf("%d\n", x);',
     "9223372036854775807\n"),
    ("unsigned-long-wrap", r'printf("%d\n", (unsigned long)0 - 1);', "18446744073709551615\n"),
    ("int-wrap", r'printf("%d\n", (int)2147483647 + 1);', "-2147483648\n"),
    # DTrace computes in 64-bit registers: an int variable keeps the carry (a comparison
    # and a widening cast see it); printf() records the int's 4 bytes
    ("registers-keep-64-bits", r'x = 2147483647; x = x + 1; '
                               r'printf("%d %d %d\n", x, x > 0, (long) x);',
     "-2147483648 1 2147483648\n"),
    ("literal-suffix-ll", r'printf("%d\n", 1LL << 40);', "1099511627776\n"),
    ("literal-suffix-ul", r'printf("%d\n", 1UL << 63);', "9223372036854775808\n"),
    # -- shifts
    ("shifts", r'printf("%d %d %d\n", 1 << 4, -16 >> 2, 256 >> 4);', "16 -4 16\n"),
    ("shift-long", r'printf("%d\n", (long)1 << 40);', "1099511627776\n"),
    ("shift-unsigned", r'printf("%d\n", (unsigned int)0x80000000 >> 4);', "134217728\n"),
    ("shift-arith-vs-logical", r'printf("%d %d\n", (long)-1 >> 60, (unsigned long)-1 >> 60);',
     "-1 15\n"),
    # -- bitwise
    ("bitwise", r'printf("%d %d %d %d\n", 0xF0 | 0x0F, 0xFF & 0x3C, 0xFF ^ 0x0F, ~0);',
     "255 60 240 -1\n"),
    ("bitwise-not-mask", r'printf("%x\n", 0xdead & ~0xff);', "de00\n"),
    ("octal-literal", r'printf("%d %o\n", 017, 8);', "15 10\n"),
    # -- comparisons
    ("compare", r'printf("%d %d %d %d %d %d\n", 3 < 5, 5 <= 4, 2 == 2, 2 != 2, 7 > 7, 7 >= 7);',
     "1 0 1 0 0 1\n"),
    ("compare-unsigned", r'printf("%d %d %d\n", (unsigned int)-1 > 0, -1 < (unsigned int)1, '
                         r'-1 < 1);',
     "1 0 1\n"),
    # -- logical operators
    ("logical", r'printf("%d %d %d %d %d %d %d %d\n", 1 && 0, 2 && 3, 0 || 5, 0 || 0, '
                r'1 ^^ 1, 1 ^^ 0, !5, !0);',
     "0 1 1 0 0 1 0 1\n"),
    ("short-circuit", r'x = 0; y = 0 && (x = 1); z = 1 || (x = 2); printf("%d %d %d\n", x, y, z);',
     "0 0 1\n"),
    # -- ?:
    ("ternary", r'x = 5; printf("%s %d\n", x > 3 ? "big" : "small", x < 3 ? 10 : 20);',
     "big 20\n"),
    ("ternary-nested", r'x = 0; printf("%s\n", x < 0 ? "neg" : x == 0 ? "zero" : "pos");',
     "zero\n"),
    # -- casts (char is signed in D)
    ("cast-char", r'printf("%d %d %d\n", (char)300, (char)200, (short)70000);', "44 -56 4464\n"),
    ("cast-unsigned-int", r'printf("%u %d\n", (unsigned int)-1, (unsigned int)-1);',
     "4294967295 4294967295\n"),
    ("cast-fixed-width", r'printf("%d %d %d %d\n", (uint8_t)257, (uint8_t)-1, (int8_t)255, '
                         r'(uint16_t)-2);',
     "1 255 -1 65534\n"),
    ("cast-int-from-long", r'printf("%d\n", (int)4294967297);', "1\n"),
    # -- strings
    ("string-compare", r'printf("%d %d %d %d %d\n", "abc" < "abd", "b" > "abc", "x" == "x", '
                       r'"x" != "x", "ab" <= "abc");',
     "1 1 1 0 1\n"),
    ("string-var-compare", r's = "hello"; printf("%s\n", s == "hello" ? "eq" : "ne");', "eq\n"),
    ("strlen", r'printf("%d %d\n", strlen("hello"), strlen(""));', "5 0\n"),
    ("strlen-counts-bytes", r'printf("%d\n", strlen("héllo→"));', "9\n"),
    # positions count bytes too: é is 2 bytes, → is 3
    ("substr-index-count-bytes", r'printf("[%s] %d %d\n", substr("héllo", 3), '
     r'index("héllo→x", "l"), rindex("héllo→x", "x"));', "[llo] 3 9\n"),
    ("strjoin", r'printf("%s\n", strjoin("foo", strjoin("-", "bar")));', "foo-bar\n"),
    ("substr", r'printf("[%s][%s][%s][%s]\n", substr("hello world", 6), substr("hello", 1, 3), '
               r'substr("hello", -3), substr("hello", -3, 2));',
     "[world][ell][llo][ll]\n"),
    ("substr-edges", r'printf("[%s][%s][%s]\n", substr("hello", 1, -1), substr("hello", 10), '
                     r'substr("hello", 0, 0));',
     "[ell][][]\n"),
    # DTrace: an index before the start shortens the length by the overshoot
    ("substr-before-start", r'printf("[%s][%s]\n", substr("hello", -10, 7), substr("hello", -10));',
     "[he][hello]\n"),
    ("basename-dirname", r'printf("%s %s\n", basename("/usr/lib/libc.so.6"), '
                         r'dirname("/usr/lib/libc.so.6"));',
     "libc.so.6 /usr/lib\n"),
    ("dirname-edges", r'printf("[%s][%s][%s][%s][%s]\n", dirname("/usr/"), dirname("usr"), '
                      r'dirname("/"), dirname("a/b"), dirname("/usr//lib"));',
     "[/][.][/][a][/usr]\n"),
    ("basename-edges", r'printf("[%s][%s][%s]\n", basename("/usr/lib/"), basename("/"), '
                       r'basename("file"));',
     "[lib][/][file]\n"),
    ("index-rindex", r'printf("%d %d %d %d\n", index("hello", "l"), rindex("hello", "l"), '
                     r'index("hello", "z"), index("hello", "lo"));',
     "2 3 -1 3\n"),
    ("index-start", r'printf("%d %d\n", index("hello", "l", 3), rindex("hello", "l", 2));',
     "3 2\n"),
    ("strstr", r'printf("%s\n", strstr("hello world", "o w"));', "o world\n"),
    ("toupper-tolower", r'printf("%s %s\n", toupper("MiXed-1"), tolower("MiXed-1"));',
     "MIXED-1 mixed-1\n"),
    ("lltostr", r'printf("%s %s %s %s\n", lltostr(-42), lltostr(9223372036854775807), '
                r'lltostr(0), strjoin("n=", lltostr(7)));',
     "-42 9223372036854775807 0 n=7\n"),
    ("stringof", r'printf("%s %d\n", stringof("abc"), strlen(stringof("abcd")));', "abc 4\n"),
    # strtok(NULL, ...) goes on from where the last strtok() stopped; empty tokens are skipped
    ("strtok", r'printf("%s %s %s\n", strtok("a,b,,c", ","), strtok(NULL, ","), '
               r'strtok(NULL, ","));', "a b c\n"),
    ("strtok-delimiters", r'printf("%s|%s\n", strtok("::x;y", ":;"), strtok(NULL, ":;"));',
     "x|y\n"),
    # cleanpath() removes '.', '..' and repeated '/', keeping a trailing '/' and a final '.'
    ("cleanpath", r'printf("%s %s %s %s\n", cleanpath("/a/b/../c//d/./"), '
                  r'cleanpath("/../x"), cleanpath("a/./b"), cleanpath("/x/."));',
     "/a/c/d/ /x a/b /x/.\n"),
    # json(): a value by its selector, as text; NULL when absent or the document is broken
    ("json", r'j = "{\"a\": {\"b\": [1, 2.50, \"x\"]}, \"t\": true, \"n\": null}"; '
             r'printf("%s|%s|%s|%s|%s|%s|%d\n", json(j, "a.b[1]"), json(j, "a.b[2]"), '
             r'json(j, "t"), json(j, "n"), json(j, "a.b"), json(j, "a.c"), '
             r'json("{\"a\": 1", "a") == NULL);',
     "2.50|x|true|null|[1,2.50,\"x\"]||1\n"),
    # -- network byte order (x86-64 is little-endian: hton* swap the bytes)
    ("htons-htonl", r'printf("%x %x %x\n", htons(0x1234), htonl(0x12345678), '
                    r'htonll(0x0102030405060708));', "3412 78563412 807060504030201\n"),
    ("ntohs-roundtrip", r'printf("%x %x\n", ntohs(htons(0xbeef)), ntohl(htonl(0xdeadbeef)));',
     "beef deadbeef\n"),
    ("inet_ntop", r'this->a = (ipaddr_t *) alloca(sizeof (ipaddr_t)); '
                  r'*this->a = htonl(0xc0a80117); '
                  r'printf("%s %s\n", inet_ntop(AF_INET, this->a), inet_ntoa(this->a));',
     "192.168.1.23 192.168.1.23\n"),
    ("inet_ntoa6", r'this->b = (struct in6_addr *) alloca(sizeof (struct in6_addr)); '
                   r'this->b->_S6_un._S6_u8[15] = 1; '
                   r'printf("%s\n", inet_ntoa6(this->b));', "::1\n"),
    # -- variables
    ("globals", r'x = 5; x = x * 2; y = x + 1; printf("%d %d\n", x, y);', "10 11\n"),
    ("global-string", r's = "a"; s = strjoin(s, "b"); printf("%s\n", s);', "ab\n"),
    ("assoc-two-keys", r'a["x", 1] = 10; a["y", 2] = 20; '
                       r'printf("%d %d %d\n", a["x", 1], a["y", 2], a["x", 2]);',
     "10 20 0\n"),
    ("assoc-update", r'a[3] = 4; a[3] += 5; a[4] = 1; a[4] = 0; printf("%d %d\n", a[3], a[4]);',
     "9 0\n"),
    ("assoc-strings", r'names[1] = "one"; printf("%s|%s|\n", names[1], names[2]);', "one||\n"),
    ("self", r'self->t = 7; self->t += 3; printf("%d\n", self->t);', "10\n"),
    ("self-incr", r'self->n++; self->n++; printf("%d\n", self->n);', "2\n"),
    ("this", r'this->v = 4; this->w = this->v * this->v; printf("%d\n", this->w);', "16\n"),
    ("incdec", r'i = 5; j = i++; k = ++i; l = i--; m = --i; '
               r'printf("%d %d %d %d %d\n", i, j, k, l, m);',
     "5 5 7 7 5\n"),
    ("compound-assign", r'x = 10; x += 5; x -= 3; x *= 2; x /= 4; x %= 5; x <<= 3; x |= 1; '
                        r'x &= 0xF; x ^= 3; x >>= 1; printf("%d\n", x);',
     "5\n"),
    # -- control flow
    ("if-else", 'x = 7;\nif (x > 5) { printf("big\\n"); } else { printf("small\\n"); }\n'
                'if (x == 0) printf("zero\\n"); else if (x % 2) printf("odd\\n"); '
                'else printf("even\\n");',
     "big\nodd\n"),
    ("if-false", r'if (0) { printf("no\n"); } printf("done\n");', "done\n"),
    # -- printf conversions
    ("printf-conversions", r'printf("%d|%5d|%-5d|%x|%X|%o|%u|%s|%-10s|%c|%%\n", 42, 42, 42, '
                           r'255, 255, 8, 7, "hi", "hi", 65);',
     "42|   42|42   |ff|FF|10|7|hi|hi        |A|%\n"),
    ("printf-flags", r'printf("%5s|%-3d|%03d|%+d\n", "ab", -1, 7, 3);', "   ab|-1 |007|+3\n"),
    ("printf-int-hex", r'printf("%x %X %o\n", -1, 3054, 8);', "ffffffff BEE 10\n"),
    # DTrace adds "ll" to %x/%u/%d for 8-byte values
    ("printf-long-hex", r'printf("%x %u\n", (long)-1, (unsigned long)-1);',
     "ffffffffffffffff 18446744073709551615\n"),
    ("printf-chars", r"printf(" + '"%c%c%c\\n"' + r", 'a', 'b', 99);", "abc\n"),
    ("printf-precision", r'printf("[%.3s][%8.2s]\n", "abcdef", "xyz");', "[abc][      xy]\n"),
    ("printf-escapes", r'printf("a\tb\\c\n");', "a\tb\\c\n"),
    # DTrace's %p is the hex digits alone; '?' pads to a pointer's 16 hex digits
    ("printf-pointer", r'printf("%p|%?d|%-?x|\n", (void *) 0x1234, 5, 255);',
     "1234|" + " " * 15 + "5|ff" + " " * 14 + "|\n"),
    # -- trace() in quiet mode: bare values, no padding
    ("trace", r'trace(42); trace("hi"); trace(-7); trace(5 > 3);', "42hi-71"),
    ("trace-small-ints", r'trace((char)-1); trace(" "); trace((short)-2);', "255 65534"),
]


@pytest.mark.parametrize("body, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_expression(body, expected):
    script, out, err = run_d(begin(body))
    assert err == ""
    assert out == expected + "\n"          # + the newline dtrace prints at exit


# -- scripts with several clauses ---------------------------------------------------------------

CLAUSE_CASES = [
    ("global-across-clauses", 'BEGIN { x = 3; }\nEND { printf("%d\\n", x + 1); }\n', "4\n"),
    ("two-begin-clauses-in-order", 'BEGIN { printf("one\\n"); }\nBEGIN { printf("two\\n"); }\n',
     "one\ntwo\n"),
    ("predicate", 'BEGIN { x = 2; }\nEND /x > 5/ { printf("no\\n"); }\n'
                  'END /x == 2/ { printf("yes\\n"); }\n', "yes\n"),
    ("begin-then-end", 'END { printf("end\\n"); }\nBEGIN { printf("begin\\n"); }\n',
     "begin\nend\n"),
]


# -- declarations and inlines (a char variable prints its 8 bits, signed) ----------------------
DECLARATION_CASES = [
    ("declared-defaults", 'int x; string s; self int t; int a[string];\n'
                          'BEGIN { printf("%d <%s> %d %d\\n", x, s, self->t, a["none"]); }\n',
     "0 <> 0 0\n"),
    ("char-wraps", 'char c; unsigned char u; short h;\n'
                   'BEGIN { c = 300; u = -1; h = 70000; printf("%d %d %d\\n", c, u, h); }\n',
     "44 255 4464\n"),
    ("several-declarators", 'int a, b; uint64_t big;\n'
                            'BEGIN { a = 1; b = a + 1; big = -1; printf("%d %d %u\\n", a, b, '
                            'big); }\n', "1 2 18446744073709551615\n"),
    ("this-declared", 'this int n;\nBEGIN { printf("%d\\n", this->n); this->n = 5; }\n'
                      'END { printf("%d\\n", this->n); }\n', "0\n0\n"),
    ("self-declared", 'self string who;\nBEGIN { self->who = "me"; }\n'
                      'END { printf("%s\\n", self->who); }\n', "me\n"),
    ("typed-array", 'string names[int, int];\n'
                    'BEGIN { names[1, 2] = "a"; printf("%s|%s\\n", names[1, 2], names[2, 1]); }\n',
     "a|\n"),
    ("inline", 'inline int LIMIT = 10 * 3;\ninline string WHO = "dtrace";\n'
               'BEGIN { printf("%d %s\\n", LIMIT + 1, WHO); }\n', "31 dtrace\n"),
    ("inline-narrow", 'inline char C = 257;\nBEGIN { printf("%d\\n", C); }\n', "1\n"),
    # CPython's dtracedata scripts indent by a thread-local with a '*' width
    ("star-width-indent", 'self int indent;\nBEGIN { self->indent = 2; '
                          'printf("%*s%s\\n", self->indent, "", "call"); self->indent += 2; '
                          'printf("%*s%s|%-*d|%.*s\\n", self->indent, "", "nested", 4, 7, 2, '
                          '"abc"); }\n', "  call\n    nested|7   |ab\n"),
    # a string variable holds strsize bytes at most
    ("strsize-cuts-string-variables", '#pragma D option strsize=4\nBEGIN { s = "abcdef"; '
                                      'this->t = strjoin(s, "xyz"); '
                                      'printf("%s %s %d\\n", s, this->t, strlen(s)); }\n',
     "abcd abcd 4\n"),
    # an associative array's elements may be arrays: int a[string][3]
    ("array-elements", 'int a[string][3];\nBEGIN { a["x"][2] = 5; a["y"][0] = 1; '
                       'printf("%d %d %d %d\\n", a["x"][2], a["x"][0], a["y"][0], '
                       'sizeof (a["x"])); }\n', "5 0 1 12\n"),
    # a function's declaration names no storage: scripts may declare them and go on
    ("extern-functions", 'extern int getint(void);\nextern int *(*funcptr)(void);\n'
                         'extern int twoparms(int, int);\nBEGIN { printf("ok\\n"); }\n',
     "ok\n"),
    # D stores and prints floating-point values (it has no arithmetic on them)
    ("floats-declared", 'float f; double d; long double l;\n'
                        'BEGIN { printf("%f %e %g %d %d\\n", f, d, l, sizeof (l), '
                        'sizeof (f)); }\n', "0.000000 0.000000e+00 0 16 4\n"),
    ("pointer-declared", 'char *p;\nBEGIN { p = 0; p = p - 1; printf("%u %d\\n", p, '
                         'sizeof (char *)); }\n', "18446744073709551615 8\n"),
]


# -- speculations: what a clause records after speculate(ID) waits for commit(ID) ---------------
SPECULATION_CASES = [
    ("commit-prints-at-commit", 'BEGIN { s = speculation(); printf("id %d\\n", s); }\n'
     'BEGIN { speculate(s); printf("kept "); }\nBEGIN { printf("before "); }\n'
     'BEGIN { commit(s); }\nBEGIN { printf("after\\n"); }\n', "id 1\nbefore kept after\n"),
    ("discard-drops", 'BEGIN { s = speculation(); }\nBEGIN { speculate(s); printf("lost"); }\n'
     'BEGIN { discard(s); printf("gone\\n"); }\nBEGIN { commit(s); }\n', "gone\n"),
    ("zero-id-skips-the-clause", 'BEGIN { speculate(0); n = 1; printf("no"); }\n'
     'BEGIN { printf("%d\\n", n); }\n', "0\n"),
    ("one-buffer-by-default", 'BEGIN { a = speculation(); b = speculation(); '
     'printf("%d %d\\n", a, b); }\n', "1 0\n"),
    ("nspec", '#pragma D option nspec=3\nBEGIN { a = speculation(); b = speculation(); '
     'c = speculation(); printf("%d %d %d\\n", a, b, c); }\n', "1 2 3\n"),
    ("free-after-commit", 'BEGIN { a = speculation(); }\nBEGIN { commit(a); }\n'
     'BEGIN { printf("%d\\n", speculation()); }\n', "1\n"),
    ("specsize-drops-the-rest", '#pragma D option specsize=16\nBEGIN { s = speculation(); }\n'
     'BEGIN { speculate(s); printf("a"); printf("b"); n = 1; }\nBEGIN { commit(s); }\n'
     'BEGIN { printf("%d\\n", n); }\n', "0\n"),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in SPECULATION_CASES],
                         ids=[c[0] for c in SPECULATION_CASES])
def test_speculations(text, expected):
    script, out, err = run_d("#pragma D option quiet\n" + text)
    assert out == expected + "\n"


def test_speculation_drops_are_counted():
    script, out, _ = run_d('BEGIN { a = speculation(); b = speculation(); }\n'
                           'BEGIN { speculate(7); printf("x"); }\n')
    assert script.machine.failed_speculations == 1
    assert script.machine.speculative_drops == 1          # ID 7 is not a speculation


@pytest.mark.parametrize("text, expected", [c[1:] for c in DECLARATION_CASES],
                         ids=[c[0] for c in DECLARATION_CASES])
def test_declarations(text, expected):
    _, out, err = run_d(text)
    assert err == ""
    assert out == expected + "\n"


@pytest.mark.parametrize("text, expected", [c[1:] for c in CLAUSE_CASES],
                         ids=[c[0] for c in CLAUSE_CASES])
def test_clauses(text, expected):
    _, out, err = run_d(text)
    assert err == ""
    assert out == expected + "\n"


# -- macro arguments ----------------------------------------------------------------------------

MACRO_CASES = [
    ("int-and-string", ["5", "abc"], r'printf("%d %s %d\n", $1 + 1, $$2, strlen($$2));',
     "6 abc 3\n"),
    ("string-of-number", ["5", "abc"], r'printf("%s\n", strjoin($$1, $$2));', "5abc\n"),
    ("hex-argument", ["0x10"], r'printf("%d\n", $1 * 2);', "32\n"),
    ("stringof-macro", ["5", "abc"], r'printf("%s %d\n", stringof($$2), $1);', "abc 5\n"),
]


@pytest.mark.parametrize("args, body, expected", [c[1:] for c in MACRO_CASES],
                         ids=[c[0] for c in MACRO_CASES])
def test_macro_arguments(args, body, expected):
    _, out, err = run_d(begin(body), args)
    assert err == ""
    assert out == expected + "\n"


# -- exit() -------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [1.5, -0.1, 1e300, 3.0e-320, 0.0])
def test_long_double_bytes_are_the_machines(value):
    # x87 extended precision as gcc stores a long double, in its 16 bytes
    import ctypes
    from usdtgen.trace.script.memory import float_from_bytes, float_to_bytes
    machine = bytes(ctypes.c_longdouble(value))
    assert float_from_bytes(machine) == value
    assert float_to_bytes(value, 16)[:10] == machine[:10]
    assert float_from_bytes(float_to_bytes(value, 8)) == value


def test_fill_policy_stops_when_the_records_fill_bufsize():
    # each clause records a 12-byte header and a 4-byte int; END's 16 bytes and its 4-byte
    # alignment (20) are kept aside from the 64: two records fit the other 44, and the third
    # stops tracing (dtrace's bufpolicy=fill); END still runs
    clause = 'BEGIN { printf("%d\\n", i++); }\n'
    script, out, err = run_d('#pragma D option bufpolicy=fill\n#pragma D option bufsize=64\n'
                             'int i;\n' + clause * 5 + 'END { printf("end %d\\n", i); }\n')
    assert err == ""
    assert out == "0\n1\nend 2\n\n"


def test_a_record_that_does_not_fit_bufsize_drops_its_whole_clause():
    # DTrace reserves a clause's record before its predicate runs: in 48 bytes, the first
    # clause's 16 leave 32, too few for the second's 48 (four 8-byte printf records after the
    # header, aligned), so it is dropped with its side effect; the third (16 bytes) fits
    def run(bufsize):
        return _trace("-q", "-x", f"bufsize={bufsize}", "-e",
                      'int n; BEGIN { printf("%d\\n", n); } '
                      'BEGIN { printf("a"); printf("b"); printf("c"); printf("d"); n++; } '
                      'BEGIN { printf("n=%d\\n", n); exit(0); }')
    result = run(49)
    assert (result.returncode, result.stdout) == (0, "0\nn=0\n\n")
    assert result.stderr == "usdtgen: 1 drop on CPU 0 (records that did not fit bufsize)\n"
    result = run(96)                                  # room for all three: nothing dropped
    assert (result.returncode, result.stdout, result.stderr) == (0, "0\nabcdn=1\n\n", "")


def test_fill_policy_refuses_an_end_larger_than_bufsize():
    with pytest.raises(ScriptError, match="END records 88 bytes, more than bufsize=32"):
        run_d('#pragma D option bufpolicy=fill\n#pragma D option bufsize=32\n'
              '#pragma D option strsize=64\nBEGIN { exit(0); }\nEND { trace(execname); }\n')


def test_curlwpsinfo_is_the_firing_thread():
    # BEGIN fires in this (running, time-shared) thread; DTrace's translator gives no pr_nice
    _, out, err = run_d(begin(r'printf("%d %c %d %s\n", curlwpsinfo->pr_lwpid == tid, '
                              r'curlwpsinfo->pr_sname, curlwpsinfo->pr_state, '
                              r'stringof(curlwpsinfo->pr_clname));'))
    assert err == ""
    assert out == "1 O 6 TS\n\n"
    with pytest.raises(ScriptError, match="pr_nice"):
        run_d(begin(r'trace(curlwpsinfo->pr_nice);'))


def test_process_relations():
    # BEGIN fires in usdtgen's own process: a child of $ppid, of pid 1, of itself; not of a
    # process that has never existed; $pgid and $sid are this process's group and session
    _, out, err = run_d(begin(r'printf("%d %d %d %d %d %d\n", progenyof(pid), progenyof($ppid), '
                              r'progenyof(1), progenyof(-1), $pgid, $sid);'))
    assert err == ""
    assert out == f"1 1 1 0 {os.getpgid(0)} {os.getsid(0)}\n\n"


def test_exit_status():
    out, err = io.StringIO(), io.StringIO()
    script = load_script(begin(r'printf("bye\n"); exit(3);'), "t.d", stream=out, errors=err,
                         quiet=True)
    script.fire_begin()
    assert script.machine.exiting
    assert script.machine.exit_status == 3
    script.machine.exiting = False
    script.fire_end()
    script.machine.print_remaining()
    assert out.getvalue() == "bye\n\n"
    assert err.getvalue() == ""


def test_setopt_changes_options_while_running():
    # a bad option is reported and the script goes on, as dtrace does
    _, out, err = run_d('BEGIN { setopt("nosuch"); setopt("aggsortrev"); @a[1] = count(); '
                        '@a[2] = count(); @a[2] = count(); }\n')
    assert "setopt(): unknown option 'nosuch'" in err
    assert out == "\n        2                2\n        1                1\n"


def test_exit_in_end_sets_status():
    script, out, _ = run_d('BEGIN { x = 1; }\nEND { exit(x + 6); }\n')
    assert script.machine.exit_status == 7


# -- runtime faults: ERROR ----------------------------------------------------------------------

FAULTS = [
    ("divide", "10 / x"),
    ("modulo", "10 % x"),
    ("long-divide", "(long)10 / x"),
]


@pytest.mark.parametrize("expression", [f[1] for f in FAULTS], ids=[f[0] for f in FAULTS])
def test_divide_by_zero_fires_error(expression):
    text = ('BEGIN\n{\n  x = 0;\n  printf("before\\n");\n  printf("%d\\n", ' + expression +
            ');\n}\n\nERROR\n{\n  printf("caught\\n");\n}\n\nBEGIN\n{\n  printf("second\\n");\n}\n')
    _, out, err = run_d(text)
    assert "divide-by-zero" in err
    # dtrace drops the faulting clause's records ("before"), fires ERROR at once, and goes on
    # with the next clause
    assert out == "caught\nsecond\n\n"


def test_compound_divide_by_zero():
    _, out, err = run_d('BEGIN { x = 0; y = 5; y /= x; printf("%d\\n", y); }\n'
                        'ERROR { printf("caught\\n"); }\n')
    assert "divide-by-zero" in err
    assert out == "caught\n\n"


def test_fault_without_error_clause():
    _, out, err = run_d('BEGIN { x = 0; printf("%d\\n", 1 / x); }\nEND { printf("end\\n"); }\n')
    assert "divide-by-zero" in err
    assert out == "end\n\n"


# -- compile errors -----------------------------------------------------------------------------

# (id, script, macro arguments, line, col, phrase of the message)
ERRORS = [
    ("undefined-variable", 'BEGIN\n{\n  printf("%d\\n", y);\n}\n', [], 3, 18,
     "undefined variable 'y'"),
    ("strlen-argument-count", 'BEGIN\n{\n  n = strlen("a", "b");\n}\n', [], 3, 7,
     "strlen() takes 1 argument, not 2"),
    ("printf-missing-value", 'BEGIN { printf("%d %d\\n", 1); }\n', [], 1, 16,
     "the format has 2 conversions but printf() has 1 value"),
    ("printf-s-of-int", 'BEGIN { printf("%s\\n", 42); }\n', [], 1, 24,
     "%s needs a string, and this is an integer"),
    ("two-aggregating-functions", 'BEGIN\n{\n  @a = count();\n  @a = sum(1);\n}\n', [], 4, 8,
     "@a is already count(); it cannot also be sum()"),
    ("syntax-error", 'BEGIN\n{\n  x = 1 +;\n}\n', [], 3, 10, "';'"),
    ("unknown-option", '/* options */\n#pragma D option frobnicate\nBEGIN { exit(0); }\n', [],
     2, 1, "unknown option 'frobnicate'"),
    ("macro-not-given", 'BEGIN { printf("%d\\n", $1 + $2 + $3); }\n', ["5", "6"], 1, 34,
     "macro argument $3 is not defined"),
    ("unused-macro-argument", 'BEGIN { printf("%d\\n", $1); }\n', ["5", "abc"], 1, 1,
     "extra macro argument 'abc'"),
    ("stack-unsupported", 'BEGIN\n{\n  stack();\n}\n', [], 3, 3, "stack() is not supported"),
    ("declared-twice", 'int x;\nstring x;\nBEGIN { exit(0); }\n', [], 2, 8,
     "x is declared twice, as an integer and as a string"),
    ("float-cast", 'BEGIN { x = (double) 1; }\n', [], 1, 13,
     "floating-point values are not supported"),
    ("string-into-declared-int", 'int x;\nBEGIN { x = "a"; }\n', [], 2, 9,
     "x is an integer; it cannot take a string"),
    ("declared-array-unindexed", 'int a[int];\nBEGIN { trace(a); }\n', [], 2, 15,
     "a is an associative array: index it"),
    ("star-width-of-a-string", 'BEGIN { printf("%*d\\n", "a", 1); }\n', [], 1, 25,
     "the '*' width of %*d must be an integer"),
    ("star-in-printa", 'BEGIN { @a = count(); printa("%*d", @a); }\n', [], 1, 32,
     "'*' at column 2 is not supported"),
    ("aggregating-a-string", 'BEGIN { @a = sum(probefunc); }\n', [], 1, 18,
     "sum() aggregates integers, and this is a string"),
    ("constant-divide-by-zero", 'BEGIN { x = 123 / (7 - 7); }\n', [], 1, 20,
     "division by zero: the divisor is a constant 0"),
    ("read-before-assigned", 'END { t = timestamp - start; }\nBEGIN { start = timestamp; }\n',
     [], 1, 23, "undefined variable 'start': it is first assigned further down"),
    ("array-key-count", 'BEGIN { x[1, 2] = 3; }\nEND { x[1] = 4; }\n', [], 2, 7,
     "x[] takes 2 keys elsewhere, 1 here"),
    ("inline-of-a-string", 'inline int i = "s";\nBEGIN { exit(0); }\n', [], 1, 16,
     "inline i is an integer: its value is a string"),
    ("inline-recursive", 'inline int foo = foo + 3;\nBEGIN { exit(0); }\n', [], 1, 18,
     "undefined variable 'foo'"),
    ("empty-script", '/* nothing */\n', [], 1, 1, "the script has no clause"),
    ("speculate-twice", 'BEGIN { s = speculation(); }\nBEGIN { speculate(s); speculate(s); }\n',
     [], 2, 23, "a clause may speculate() only once"),
    ("speculate-after-data", 'BEGIN { s = speculation(); }\nBEGIN { printf("x"); speculate(s); }\n',
     [], 2, 22, "speculate() must come before the clause's data-recording actions"),
    ("speculate-and-aggregate", 'BEGIN { s = speculation(); }\n'
     'BEGIN { speculate(s); @a = count(); }\n', [], 2, 23,
     "a clause that speculates may not aggregate"),
    ("commit-then-data", 'BEGIN { s = speculation(); }\nBEGIN { commit(s); exit(0); }\n',
     [], 2, 20, "data-recording actions may not follow commit()"),
    ("commit-after-data", 'BEGIN { s = speculation(); }\nBEGIN { trace(1); commit(s); }\n',
     [], 2, 19, "commit() may not follow data-recording actions"),
    ("specsize-too-small", '#pragma D option specsize=2\nBEGIN { exit(0); }\n', [], 1, 1,
     "option specsize is at least 8 bytes"),
    ("nspec-negative", '#pragma D option nspec=-1\nBEGIN { exit(0); }\n', [], 1, 1,
     "option nspec needs a number of speculations"),
    ("lquantize-step-too-large", 'BEGIN { @a = lquantize(1, 2, 3, 4); }\n', [], 1, 33,
     "lquantize() step is too large"),
    ("lquantize-bound-not-constant", 'BEGIN { x = 1; @a = lquantize(1, x, 30, 4); }\n', [],
     1, 34, "this must be an integer constant"),
    ("llquantize-steps", 'BEGIN { @ = llquantize(0, 10, 0, 10, 30); }\n', [], 1, 38,
     "llquantize() steps must be a multiple of the factor and divide a power of it"),
    ("pragma-error", '#pragma D error "not on this system"\nBEGIN { exit(0); }\n', [], 1, 1,
     "#pragma D error: not on this system"),
    ("too-many-keys", 'BEGIN { a[1, 2, 3, 4, 5, 6, 7, 8, 9] = 0; }\n', [], 1, 9,
     "a[] has 9 keys: at most 8"),
    ("octal-digit", 'BEGIN { x = 0128; }\n', [], 1, 13, "invalid digit in the octal constant"),
    ("bufsize-zero", '#pragma D option bufsize=0\nBEGIN { exit(0); }\n', [], 1, 1,
     "option bufsize=0"),
    ("float-arithmetic", 'double d;\nBEGIN\n{\n  x = d + 1;\n}\n', [], 4, 7,
     "+ cannot apply to a floating-point value"),
    ("copyinstr-of-a-string", 'BEGIN\n{\n  p = "x";\n  s = copyinstr(p);\n}\n', [], 4, 17,
     "copyinstr() takes a user address"),
    ("copyin-of-a-string", 'BEGIN\n{\n  s = copyin("x", 4);\n}\n', [], 3, 14,
     "copyin() takes a user address"),
]


@pytest.mark.parametrize("text, args, line, col, phrase", [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_compile_error(text, args, line, col, phrase):
    with pytest.raises(ScriptError) as info:
        load_script(text, "t.d", macro_args=args, stream=io.StringIO(), errors=io.StringIO(),
                    quiet=True)
    message = str(info.value)
    first = message.splitlines()[0]
    assert first.startswith(f"t.d:{line}:{col}: error: "), first
    assert phrase in first
    assert "Traceback" not in message
    assert 'File "' not in message


# -- -x: D options from the command line, as dtrace(1) takes them --------------------------------

def _trace(*args):
    require(USDTGEN is not None, "the usdtgen executable is not installed")
    return subprocess.run([USDTGEN, "trace", *args], capture_output=True, text=True, timeout=60)


def test_x_sets_options_as_pragmas_do():
    result = _trace("-x", "quiet", "-x", "aggsortrev=yes", "-e",
                    "BEGIN { @[1] = count(); @[2] = count(); @[2] = count(); exit(0); }")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "\n        2                2\n        1                1\n"


@pytest.mark.parametrize("option, phrase", [("nosuch", "unknown option 'nosuch'"),
                                            ("quiet=maybe", "option quiet is a flag"),
                                            ("strsize=abc", "option strsize needs a size")])
def test_x_refuses_what_dtrace_refuses(option, phrase):
    result = _trace("-x", option, "-e", "BEGIN { exit(0); }")
    assert result.returncode == 1
    assert result.stderr.startswith(f"usdtgen: -x {option}: {phrase}")
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr

"""Argument strings of stapsdt notes: parse_args for every operand form of x86-64 and aarch64
(expected values written by hand), the uprobe fetch-arg translation (to_fetcharg) and its
refusals, and every argument string gcc, clang and aarch64-linux-gnu-gcc really write for
sys/sdt.h's STAP_PROBEn and for our header's probes.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import compile_program, readelf_notes, require, require_tool, write_header
from usdtgen.elf.argspec import (ArgSpec, Immediate, Memory, ParsedArgs, Register, Unfetchable,
                                 parse_args, to_fetcharg)

X86 = "x86_64"
A64 = "aarch64"


# -- expected values, by hand -----------------------------------------------------------------
def gp(name: str, family: str, width: int, bit_offset: int = 0) -> Register:
    return Register(name, family, width, bit_offset, "gp")


def vec(name: str, family: str, width: int) -> Register:
    return Register(name, family, width, 0, "vector")


RIP = Register("rip", "ip", 8, 0, "ip")
RAX, RBX, RCX, RSI, RBP, RSP = (gp("rax", "ax", 8), gp("rbx", "bx", 8), gp("rcx", "cx", 8),
                                gp("rsi", "si", 8), gp("rbp", "bp", 8), gp("rsp", "sp", 8))
R12 = gp("r12", "r12", 8)
X0, X1, X29, SP = gp("x0", "x0", 8), gp("x1", "x1", 8), gp("x29", "x29", 8), gp("sp", "sp", 8)


def arg(text: str, size: int, signed: bool, location, *, is_float: bool = False,
        size_given: bool = True) -> ArgSpec:
    return ArgSpec(text, size, signed, is_float, location, size_given)


# (machine, argument string, [expected ArgSpec, ...])
PARSE_TABLE = [
    # x86-64 registers: every width of the legacy, the REX and the high-byte registers
    (X86, "8@%rax", [arg("8@%rax", 8, False, RAX)]),
    (X86, "-4@%eax", [arg("-4@%eax", 4, True, gp("eax", "ax", 4))]),
    (X86, "2@%ax", [arg("2@%ax", 2, False, gp("ax", "ax", 2))]),
    (X86, "1@%al", [arg("1@%al", 1, False, gp("al", "ax", 1))]),
    (X86, "-1@%ah", [arg("-1@%ah", 1, True, gp("ah", "ax", 1, 8))]),
    (X86, "1@%bh", [arg("1@%bh", 1, False, gp("bh", "bx", 1, 8))]),
    (X86, "1@%ch", [arg("1@%ch", 1, False, gp("ch", "cx", 1, 8))]),
    (X86, "1@%dh", [arg("1@%dh", 1, False, gp("dh", "dx", 1, 8))]),
    (X86, "-4@%ebx", [arg("-4@%ebx", 4, True, gp("ebx", "bx", 4))]),
    (X86, "-2@%cx", [arg("-2@%cx", 2, True, gp("cx", "cx", 2))]),
    (X86, "1@%dl", [arg("1@%dl", 1, False, gp("dl", "dx", 1))]),
    (X86, "-8@%r8", [arg("-8@%r8", 8, True, gp("r8", "r8", 8))]),
    (X86, "-4@%r8d", [arg("-4@%r8d", 4, True, gp("r8d", "r8", 4))]),
    (X86, "2@%r8w", [arg("2@%r8w", 2, False, gp("r8w", "r8", 2))]),
    (X86, "1@%r8b", [arg("1@%r8b", 1, False, gp("r8b", "r8", 1))]),
    (X86, "-4@%r15d", [arg("-4@%r15d", 4, True, gp("r15d", "r15", 4))]),
    (X86, "8@%r15", [arg("8@%r15", 8, False, gp("r15", "r15", 8))]),
    (X86, "-4@%edi", [arg("-4@%edi", 4, True, gp("edi", "di", 4))]),
    (X86, "8@%rsi", [arg("8@%rsi", 8, False, RSI)]),
    (X86, "-2@%di", [arg("-2@%di", 2, True, gp("di", "di", 2))]),
    (X86, "-1@%sil", [arg("-1@%sil", 1, True, gp("sil", "si", 1))]),
    (X86, "1@%dil", [arg("1@%dil", 1, False, gp("dil", "di", 1))]),
    (X86, "1@%bpl", [arg("1@%bpl", 1, False, gp("bpl", "bp", 1))]),
    (X86, "1@%spl", [arg("1@%spl", 1, False, gp("spl", "sp", 1))]),
    (X86, "4@%ebp", [arg("4@%ebp", 4, False, gp("ebp", "bp", 4))]),
    (X86, "8@%rsp", [arg("8@%rsp", 8, False, RSP)]),
    (X86, "8@%rip", [arg("8@%rip", 8, False, RIP)]),
    # x86-64 memory: disp(%reg), (%reg), negative and hex displacements, base+index*scale
    (X86, "-4@8(%rbp)", [arg("-4@8(%rbp)", 4, True, Memory(RBP, 8))]),
    (X86, "8@(%rsi)", [arg("8@(%rsi)", 8, False, Memory(RSI, 0))]),
    (X86, "-8@-8(%rbp)", [arg("-8@-8(%rbp)", 8, True, Memory(RBP, -8))]),
    (X86, "-4@-0x10(%rbp)", [arg("-4@-0x10(%rbp)", 4, True, Memory(RBP, -16))]),
    (X86, "8@0x18(%rsp)", [arg("8@0x18(%rsp)", 8, False, Memory(RSP, 24))]),
    (X86, "4@16(%rax,%rbx,4)",
     [arg("4@16(%rax,%rbx,4)", 4, False, Memory(RAX, 16, None, RBX, 4))]),
    (X86, "-8@(%rax,%rcx,8)", [arg("-8@(%rax,%rcx,8)", 8, True, Memory(RAX, 0, None, RCX, 8))]),
    (X86, "-8@-64(%rsp,%r12,8)",
     [arg("-8@-64(%rsp,%r12,8)", 8, True, Memory(RSP, -64, None, R12, 8))]),
    (X86, "-4@arr(,%rax,4)", [arg("-4@arr(,%rax,4)", 4, True, Memory(None, 0, "arr", RAX, 4))]),
    # x86-64 immediates: decimal, hex, negative
    (X86, "-4@$42", [arg("-4@$42", 4, True, Immediate(42))]),
    (X86, "8@$0x10", [arg("8@$0x10", 8, False, Immediate(16))]),
    (X86, "-4@$-1", [arg("-4@$-1", 4, True, Immediate(-1))]),
    (X86, "-2@$-3", [arg("-2@$-3", 2, True, Immediate(-3))]),
    (X86, "-4@$305419896", [arg("-4@$305419896", 4, True, Immediate(0x12345678))]),
    # x86-64 rip-relative symbols: sym(%rip), sym+N(%rip), sym-N, N+sym(%rip) (Debian's postgres)
    (X86, "-4@g_int(%rip)", [arg("-4@g_int(%rip)", 4, True, Memory(RIP, 0, "g_int"))]),
    (X86, "-8@counter+8(%rip)",
     [arg("-8@counter+8(%rip)", 8, True, Memory(RIP, 8, "counter"))]),
    (X86, "-4@counter-4(%rip)",
     [arg("-4@counter-4(%rip)", 4, True, Memory(RIP, -4, "counter"))]),
    (X86, "-8@16+table(%rip)", [arg("-8@16+table(%rip)", 8, True, Memory(RIP, 16, "table"))]),
    (X86, "4@hits.0(%rip)", [arg("4@hits.0(%rip)", 4, False, Memory(RIP, 0, "hits.0"))]),
    # x86-64 floats: the f suffix, in an xmm register or a general register or memory
    (X86, "8f@%xmm0", [arg("8f@%xmm0", 8, False, vec("xmm0", "xmm0", 16), is_float=True)]),
    (X86, "4f@%xmm15", [arg("4f@%xmm15", 4, False, vec("xmm15", "xmm15", 16), is_float=True)]),
    (X86, "8f@%rax", [arg("8f@%rax", 8, False, RAX, is_float=True)]),
    (X86, "8f@-112(%rbp)", [arg("8f@-112(%rbp)", 8, False, Memory(RBP, -112), is_float=True)]),
    # no size at all (notes of the oldest sys/sdt.h): systemtap reads such an argument as a long
    (X86, "%eax", [arg("%eax", 8, True, gp("eax", "ax", 4), size_given=False)]),
    # aarch64
    (A64, "8@x0", [arg("8@x0", 8, False, X0)]),
    (A64, "-8@x30", [arg("-8@x30", 8, True, gp("x30", "x30", 8))]),
    (A64, "-4@w1", [arg("-4@w1", 4, True, gp("w1", "x1", 4))]),
    (A64, "1@w2", [arg("1@w2", 1, False, gp("w2", "x2", 4))]),
    (A64, "8@sp", [arg("8@sp", 8, False, SP)]),
    (A64, "8@[x0]", [arg("8@[x0]", 8, False, Memory(X0, 0))]),
    (A64, "8@[sp, 16]", [arg("8@[sp, 16]", 8, False, Memory(SP, 16))]),
    (A64, "-4@[sp,12]", [arg("-4@[sp,12]", 4, True, Memory(SP, 12))]),
    (A64, "-4@[x29, -8]", [arg("-4@[x29, -8]", 4, True, Memory(X29, -8))]),
    (A64, "8@[x0, x1]", [arg("8@[x0, x1]", 8, False, Memory(X0, 0, None, X1, 1))]),
    (A64, "-4@5", [arg("-4@5", 4, True, Immediate(5))]),
    (A64, "-4@-1", [arg("-4@-1", 4, True, Immediate(-1))]),
    (A64, "8f@d0", [arg("8f@d0", 8, False, vec("d0", "v0", 8), is_float=True)]),
    (A64, "8f@x12", [arg("8f@x12", 8, False, gp("x12", "x12", 8), is_float=True)]),
    # several arguments
    (X86, "-4@%edi 8@8(%rsp) 8f@%xmm1 -4@$5 8@g_str(%rip)", [
        arg("-4@%edi", 4, True, gp("edi", "di", 4)),
        arg("8@8(%rsp)", 8, False, Memory(RSP, 8)),
        arg("8f@%xmm1", 8, False, vec("xmm1", "xmm1", 16), is_float=True),
        arg("-4@$5", 4, True, Immediate(5)),
        arg("8@g_str(%rip)", 8, False, Memory(RIP, 0, "g_str")),
    ]),
    (X86, "1@%al 2@%dx 4@%ecx 8@%rsi -1@%dil -8@%r8 -4@%r9d -8@%r10", [
        arg("1@%al", 1, False, gp("al", "ax", 1)),
        arg("2@%dx", 2, False, gp("dx", "dx", 2)),
        arg("4@%ecx", 4, False, gp("ecx", "cx", 4)),
        arg("8@%rsi", 8, False, RSI),
        arg("-1@%dil", 1, True, gp("dil", "di", 1)),
        arg("-8@%r8", 8, True, gp("r8", "r8", 8)),
        arg("-4@%r9d", 4, True, gp("r9d", "r9", 4)),
        arg("-8@%r10", 8, True, gp("r10", "r10", 8)),
    ]),
    (A64, "-4@w0 8@[sp, 12] -4@5 8@x1 8@[x0, x1]", [
        arg("-4@w0", 4, True, gp("w0", "x0", 4)),
        arg("8@[sp, 12]", 8, False, Memory(SP, 12)),
        arg("-4@5", 4, True, Immediate(5)),
        arg("8@x1", 8, False, X1),
        arg("8@[x0, x1]", 8, False, Memory(X0, 0, None, X1, 1)),
    ]),
    # no arguments at all
    (X86, "", []),
    (A64, "", []),
]


@pytest.mark.parametrize("machine, text, expected", [
    pytest.param(m, t, e, id=f"{m}:{t or 'empty'}") for m, t, e in PARSE_TABLE])
def test_parse(machine, text, expected):
    parsed = parse_args(text, machine)
    assert isinstance(parsed, ParsedArgs)
    assert parsed.error is None, parsed.error
    assert list(parsed.args) == expected


@pytest.mark.parametrize("text, base, size, signed", [
    ("-4@[x14, #:lo12:.LANCHOR1]", "x14", 4, True),
    ("8@[x12, #:lo12:g_str]", "x12", 8, False),
])
def test_parse_aarch64_lo12_symbol_offset(text, base, size, signed):
    """aarch64-linux-gnu-gcc -O2 addresses a global as adrp + [xN, #:lo12:sym] and writes that
    operand into the note (seen for sys/sdt.h and our header alike): it must be readable."""
    parsed = parse_args(text, A64)
    assert parsed.error is None, parsed.error
    (spec,) = parsed.args
    assert (spec.text, spec.size, spec.signed, spec.is_float) == (text, size, signed, False)
    assert isinstance(spec.location, Memory) and spec.location.base == gp(base, base, 8)
    assert spec.location.index is None


# (machine, argument string, the argument the error must quote)
BAD = [
    (X86, "%foo", "%foo"), (X86, "8@%foo", "%foo"), (X86, "-4@%edi 8@%bogus", "%bogus"),
    (X86, "garbage", "garbage"), (X86, "8@", "8@"), (X86, "@%rax", "@%rax"),
    (X86, "8@(%rax", "8@(%rax"), (X86, "8@%rax)", "8@%rax)"), (X86, "8@8(%rax", "8@8(%rax"),
    (X86, "8@((%rax)", "8@((%rax)"), (X86, "-4@%edi 8@(%rsi", "8@(%rsi"),
    (X86, "0@%rax", "0@%rax"), (X86, "8@$", "8@$"), (X86, "8@[sp, 16]", "[sp"),
    (A64, "%foo", "%foo"), (A64, "garbage", "garbage"), (A64, "8@", "8@"), (A64, "@x0", "@x0"),
    (A64, "8@[sp, 16", "8@[sp, 16"), (A64, "8@sp]", "8@sp]"), (A64, "8@[[x0]", "8@[[x0]"),
    (A64, "8@x31", "x31"), (A64, "8@%rax", "8@%rax"), (A64, "-4@w0 8@[x1", "8@[x1"),
    ("riscv", "8@a0", "riscv"),
]


@pytest.mark.parametrize("machine, text, culprit", [
    pytest.param(m, t, c, id=f"{m}:{t}") for m, t, c in BAD])
def test_parse_bad_strings_report_an_error(machine, text, culprit):
    parsed = parse_args(text, machine)          # never raises
    assert isinstance(parsed, ParsedArgs)
    assert parsed.args == ()
    assert isinstance(parsed.error, str) and parsed.error.strip()
    assert "\n" not in parsed.error
    assert culprit in parsed.error, f"the error should quote {culprit!r}: {parsed.error!r}"


# -- to_fetcharg --------------------------------------------------------------------------------
SYMBOLS = {"g_int": 0x4010, "counter": 0x3000, "table": 0x2000}.get

# (machine, argument string, the uprobe_events fetch-arg)
FETCH_TABLE = [
    (X86, "-4@%edi", "%di:s32"),
    (X86, "8@%rsi", "%si:u64"),
    (X86, "-8@%rax", "%ax:s64"),
    (X86, "2@%dx", "%dx:u16"),
    (X86, "-2@%cx", "%cx:s16"),
    (X86, "1@%al", "%ax:u8"),
    (X86, "-1@%sil", "%si:s8"),
    (X86, "1@%dil", "%di:u8"),
    (X86, "1@%bpl", "%bp:u8"),
    (X86, "1@%spl", "%sp:u8"),
    (X86, "-4@%r8d", "%r8:s32"),
    (X86, "2@%r8w", "%r8:u16"),
    (X86, "1@%r8b", "%r8:u8"),
    (X86, "8@%r15", "%r15:u64"),
    (X86, "8@%rip", "%ip:u64"),
    (X86, "1@%ah", "%ax:b8@8/64"),
    (X86, "1@%bh", "%bx:b8@8/64"),
    (X86, "8@8(%rsp)", "+8(%sp):u64"),
    (X86, "-4@-8(%rbp)", "-8(%bp):s32"),
    (X86, "8@(%rsi)", "+0(%si):u64"),
    (X86, "-4@-0x10(%rbp)", "-16(%bp):s32"),
    (X86, "-8@0x18(%r12)", "+24(%r12):s64"),
    (X86, "-4@g_int(%rip)", "@+0x4010:s32"),
    (X86, "-8@counter+8(%rip)", "@+0x3008:s64"),
    (X86, "-4@counter-4(%rip)", "@+0x2ffc:s32"),
    (X86, "-8@16+table(%rip)", "@+0x2010:s64"),
    (X86, "-4@$42", "\\0x2a:s32"),
    (X86, "8@$0x10", "\\0x10:u64"),
    (X86, "-4@$-1", "\\0xffffffffffffffff:s32"),
    (X86, "8f@%rax", "%ax:u64"),
    (X86, "4f@-4(%rbp)", "-4(%bp):u32"),
    (X86, "%eax", "%ax:s64"),
    (A64, "8@x0", "%x0:u64"),
    (A64, "-4@w1", "%x1:s32"),
    (A64, "8@sp", "%sp:u64"),
    (A64, "8@[x0]", "+0(%x0):u64"),
    (A64, "8@[sp, 16]", "+16(%sp):u64"),
    (A64, "-4@[x29, -8]", "-8(%x29):s32"),
    (A64, "-4@5", "\\0x5:s32"),
    (A64, "-4@-1", "\\0xffffffffffffffff:s32"),
    (A64, "8f@x12", "%x12:u64"),
]


@pytest.mark.parametrize("machine, text, expected", [
    pytest.param(m, t, e, id=f"{m}:{t}") for m, t, e in FETCH_TABLE])
def test_to_fetcharg(machine, text, expected):
    parsed = parse_args(text, machine)
    assert parsed.error is None and len(parsed.args) == 1, parsed
    assert to_fetcharg(parsed.args[0], SYMBOLS) == expected


# (machine, argument string, symbol resolver, a word the reason must name)
UNFETCHABLE = [
    (X86, "4@16(%rax,%rbx,4)", SYMBOLS, "index"),
    (X86, "-8@(%rax,%rcx,8)", SYMBOLS, "index"),
    (X86, "-4@arr(,%rax,4)", SYMBOLS, "index"),
    (A64, "8@[x0, x1]", SYMBOLS, "index"),
    (X86, "8f@%xmm0", SYMBOLS, "xmm0"),
    (X86, "4f@%xmm15", SYMBOLS, "xmm15"),
    (A64, "8f@d0", SYMBOLS, "d0"),
    (X86, "16@-32(%rbp)", SYMBOLS, "16"),
    (X86, "-16@%rax", SYMBOLS, "16"),
    (X86, "-4@g_int(%rip)", None, "g_int"),
    (X86, "-4@missing(%rip)", SYMBOLS, "missing"),
    (X86, "-4@missing+8(%rip)", lambda name: None, "missing"),
    (X86, "8@$g_int", SYMBOLS, "g_int"),
]


@pytest.mark.parametrize("machine, text, resolver, word", [
    pytest.param(m, t, r, w, id=f"{m}:{t}{'' if r else ':no-resolver'}")
    for m, t, r, w in UNFETCHABLE])
def test_unfetchable_says_why(machine, text, resolver, word):
    parsed = parse_args(text, machine)
    assert parsed.error is None and len(parsed.args) == 1, parsed
    with pytest.raises(Unfetchable) as info:
        to_fetcharg(parsed.args[0], resolver)
    reason = str(info.value)
    # a readable sentence: words, one line, no Python reprs
    assert len(reason.split()) >= 4, reason
    assert reason[0].isalpha() and "\n" not in reason, reason
    assert not re.search(r"<|Error\(|Traceback|object at 0x", reason), reason
    assert word in reason, f"{reason!r} should name {word!r}"


# -- real argument strings ----------------------------------------------------------------------
SYS_SDT_DIR = Path("/usr/include/x86_64-linux-gnu/sys")

# (probe name, D parameters, C expressions fired)
PROBES = [
    ("zero", [], []),
    ("one", ["int a"], ["n"]),
    ("two", ["int a", "int b"], ["local", "g_int"]),
    ("three", ["int a", "long b", "int c"], ["g_arr[i]", "arr[i & 7]", "pt->x"]),
    ("four", ["long a", "char b", "short c", "long d"], ["pt->y", "pt->tag", "pt->s", "g_pt.y"]),
    ("five", ["int a", "int b", "int c", "char d", "short e"],
     ["42", "-1", "0x12345678", "'z'", "(short)-3"]),
    ("six", ["int *a", "int b", "const char *c", "int *d", "char e", "short f"],
     ["p", "*p", "g_str", "&g_int", "c", "s"]),
    ("seven", ["double a", "double b", "long c", "long d", "char e", "short f", "int g"],
     ["d", "g_double", "l", "g_long", "g_char", "g_short", "n + i"]),
    ("eight", ["unsigned char a", "unsigned short b", "unsigned int c", "unsigned long d",
               "signed char e", "long long f", "int g", "long h"],
     ["g_uc", "g_us", "(unsigned)n", "(unsigned long)l", "g_sc", "g_ll", "s_static",
      "g_larr[i + 1]"]),
    ("nine", ["double a", "long b", "int c", "char d", "short e", "long f", "int g", "int h",
              "unsigned long i"],
     ["pt->d", "g_larr[3]", "g_arr[i] + n", "g_str[1]", "g_pt.s", "(long)&g_pt", "1 << 20",
      "-100000", "0xffffffffUL"]),
    ("twelve", [f"int a{k}" for k in range(12)],
     ["n", "i", "local", "g_int", "g_arr[0]", "g_arr[i]", "pt->x", "*p", "1", "-2", "s_static",
      "(int)arr[3]"]),
]
# each fired alone in a function of its own, where a global is read once: aarch64 gcc -O1 and
# up then addresses it as adrp + [xN, #:lo12:sym]
SOLO_PROBES = [
    ("solo", ["int a"], ["g_solo"]),
    ("solo_two", ["long a", "int b"], ["g_solo_long", "g_solo"]),
]
ARG_COUNT = {name: len(exprs) for name, _, exprs in PROBES + SOLO_PROBES}

REAL_PROGRAM = """\
#include <sys/sdt.h>
#include "probes.h"
struct point { int x; long y; char tag; short s; double d; };
int g_int = 7; long g_long = 8; char g_char = 'c'; short g_short = 3; double g_double = 1.5;
int g_arr[16]; long g_larr[16]; struct point g_pt; const char *g_str = "hello";
unsigned char g_uc = 200; unsigned short g_us = 60000; signed char g_sc = -5;
long long g_ll = 1LL << 40;
static int s_static = 9;
int g_solo = 3; long g_solo_long = 4;

%s

__attribute__((noinline)) void fire(int n, long l, char c, short s, double d, int *p,
                                    struct point *pt, int i)
{
  int local = n * 3;
  long arr[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  arr[i & 7] += l;
%s
}

int main(int argc, char **argv)
{
  struct point pt = {1, 2, 'x', 4, 5.0};
  int v = argc;
  (void)argv;
  fire(argc, argc * 2L, (char)argc, (short)argc, argc * 0.5, &v, &pt, argc & 7);
%s
  return 0;
}
"""

_NOTE = re.compile(r"Provider: (\S+)\s+Name: (\S+)\s+Location: [^\n]*\n\s+Arguments:([^\n]*)")
_ARG_SPLIT = re.compile(r" (?=-?\d+f?@)")     # aarch64 operands ("[sp, 12]") contain blanks
_PREFIX = re.compile(r"(-?)(\d+)(f?)@")

def probe_calls(name: str, exprs: list[str]) -> tuple[str, str]:
    """The probe fired through sys/sdt.h (provider theirs) and through our header (ours)."""
    return (f"  STAP_PROBE{len(exprs) or ''}(theirs, {', '.join([name, *exprs])});",
            f"  OURS_{name.upper()}({', '.join(exprs)});")


REAL_BUILDS = [("gcc", "-O0"), ("gcc", "-O1"), ("gcc", "-O2"), ("gcc", "-O3"),
               ("clang", "-O0"), ("clang", "-O1"), ("clang", "-O2"), ("clang", "-O3"),
               ("aarch64-linux-gnu-gcc", "-O0"), ("aarch64-linux-gnu-gcc", "-O2")]


@pytest.mark.parametrize("compiler, opt", [
    pytest.param(c, o, id=f"{c}{o}") for c, o in REAL_BUILDS])
def test_real_argument_strings(tmp_path, compiler, opt):
    require_tool(compiler)
    require(SYS_SDT_DIR.joinpath("sdt.h").exists(), "systemtap-sdt-dev is not installed")
    d_text = "provider ours {\n" + "".join(
        f"  probe {name}({', '.join(params)});\n"
        for name, params, _ in PROBES + SOLO_PROBES) + "};\n"
    write_header(tmp_path, d_text)
    flags = [opt]
    machine = X86
    if compiler.startswith("aarch64"):
        machine = A64
        # the cross compiler does not search the host's multiarch include directory
        sysdir = tmp_path / "cross-include" / "sys"
        sysdir.mkdir(parents=True)
        for header in ("sdt.h", "sdt-config.h"):
            shutil.copy(SYS_SDT_DIR / header, sysdir / header)
        flags += ["-I", str(tmp_path / "cross-include")]
    solo_functions = "".join(
        f"__attribute__((noinline)) void fire_{provider}_{name}(void)\n{{\n{call}\n}}\n"
        for name, _, exprs in SOLO_PROBES
        for provider, call in zip(("theirs", "ours"), probe_calls(name, exprs)))
    solo_calls = "".join(f"  fire_{provider}_{name}();\n"
                         for name, _, _ in SOLO_PROBES for provider in ("theirs", "ours"))
    body = "\n".join(call for name, _, exprs in PROBES for call in probe_calls(name, exprs))
    exe = compile_program(tmp_path, REAL_PROGRAM % (solo_functions, body, solo_calls),
                          compiler=compiler, flags=tuple(flags))
    notes = _NOTE.findall(readelf_notes(exe))
    seen = {(provider, name) for provider, name, _ in notes}
    assert seen == {(p, name) for p in ("theirs", "ours") for name in ARG_COUNT}, seen

    failures = []
    for provider, name, args_text in notes:
        text = args_text.strip()
        parsed = parse_args(text, machine)
        where = f"{compiler} {opt} {provider}:{name} {text!r}"
        if parsed.error:
            failures.append(f"{where}: {parsed.error}")
            continue
        if len(parsed.args) != ARG_COUNT[name]:
            failures.append(f"{where}: {len(parsed.args)} arguments, fired {ARG_COUNT[name]}")
            continue
        pieces = _ARG_SPLIT.split(text) if text else []
        if [a.text for a in parsed.args] != pieces:
            failures.append(f"{where}: texts {[a.text for a in parsed.args]}")
        for spec, piece in zip(parsed.args, pieces):
            sign, size, is_float = _PREFIX.match(piece).groups()
            if (spec.size, spec.signed, spec.is_float, spec.size_given) != \
                    (int(size), sign == "-", is_float == "f", True):
                failures.append(f"{where}: {piece!r} read as {spec}")
    assert not failures, "\n".join(failures)

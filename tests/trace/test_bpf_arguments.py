"""The BPF data path reads every argument a compiler emits, and every string, as the real
``usdtgen`` executable over real uprobes:

- a C program whose probe passes ``words[i % 3]`` and table elements (gcc describes them as
  base + index * scale, ``8@(%r9,%rdx,8)``; clang as stack slots), at -O0, -O2 and -O3 with
  gcc and clang: every event exact in text, ``--json``, ``-f`` and a keyed ``copyinstr()``
  count (in the kernel and in usdtgen);
- a string in a file page the program mapped but never touched: read right by ``trace`` and
  by a D script;
- every argument form of the x86-64 grammar, fired from hand-written assembly with
  hand-written notes: 32-, 16- and 8-bit registers, %ah, %dil, memory with displacement,
  base + index * scale with and without displacement, rip-relative symbols with offsets on
  either side, a symbol plus index with no base, constants, a double in a general register,
  strings through an indexed pointer and a pointer in a global;
- without BPF (``USDTGEN_NO_BPF=1``) the tracer says what it cannot show and goes on.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess

import pytest

from conftest import compile_program, ensure_tracefs, no_uprobe_events_left_after, require, \
    require_tool, trace_to_end, write_header

BAR_D = "provider bar { probe tick(long t, const char *word, long other); };\n"
BAR_C = r"""
#include <stdlib.h>
#include "probes.h"

const char *words[] = {"alpha", "beta", "gamma"};
long table[64];

__attribute__((noinline)) void run(const char **w, long *t, int n)
{
  for (int i = 0; i < n; i++) {
    t[i & 63] += i;
    BAR_TICK(t[i & 63], w[i % 3], t[(i * 7) & 63]);
  }
}

int main(int argc, char **argv)
{
  run(words, table, atoi(argv[1]));
  return 0;
}
"""
ROUNDS = 200


def expected_ticks(n: int) -> list[tuple[int, str, int]]:
    """What the program passes, computed here the way the C code does."""
    table, words, out = [0] * 64, ["alpha", "beta", "gamma"], []
    for i in range(n):
        table[i & 63] += i
        out.append((table[i & 63], words[i % 3], table[(i * 7) & 63]))
    return out


@pytest.fixture(autouse=True)
def no_uprobe_events_left():
    yield from no_uprobe_events_left_after()


@pytest.fixture(scope="module", params=[(cc, opt) for cc in ("gcc", "clang")
                                        for opt in ("-O0", "-O2", "-O3")],
                ids=lambda p: f"{p[0]}{p[1]}")
def bar(request, tmp_path_factory):
    ensure_tracefs()
    compiler, optimization = request.param
    require_tool(compiler)
    folder = tmp_path_factory.mktemp(f"bar{compiler}{optimization}")
    write_header(folder, BAR_D)
    return compile_program(folder, BAR_C, compiler=compiler, flags=(optimization,),
                           output="bar")


def notes_of(path) -> str:
    return subprocess.run(["readelf", "-n", str(path)], capture_output=True, text=True,
                          check=True).stdout


def test_gcc_describes_the_word_by_base_index_scale(tmp_path):
    """The form this file is about is really what gcc emits at -O2."""
    ensure_tracefs()
    write_header(tmp_path, BAR_D)
    exe = compile_program(tmp_path, BAR_C, flags=("-O2",), output="bar")
    arguments = next(line for line in notes_of(exe).splitlines() if "Arguments:" in line)
    assert "8@(%" in arguments and ",8)" in arguments, arguments


def test_every_value_exact_in_json_text_and_printf(bar):
    expected = expected_ticks(ROUNDS)
    result = trace_to_end("--json", "-c", f"{bar} {ROUNDS}")
    assert result.returncode == 0 and "warning" not in result.stderr, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()
              if line.startswith('{"type": "event"')]
    assert [(e["args"]["t"], e["args"]["word"], e["args"]["other"]) for e in events] == expected
    text = trace_to_end("-q", "-c", f"{bar} {ROUNDS}").stdout.splitlines()
    assert [line.split(" bar:tick ", 1)[1] for line in text] == \
        [f't={t} word="{w}" other={o}' for t, w, o in expected]
    printf = trace_to_end("-q", "-f", "%ld %s %ld\\n", "-c", f"{bar} {ROUNDS}").stdout
    assert printf == "".join(f"{t} {w} {o}\n" for t, w, o in expected)


@pytest.mark.parametrize("where", ["kernel", "usdtgen"])
def test_copyinstr_count_keyed_by_the_word(bar, where):
    options = ["--no-kernel-aggregation"] if where == "usdtgen" else []
    result = trace_to_end(*options, "-e", "bar:::tick { @[copyinstr(arg1)] = count(); }",
                          "-c", f"{bar} {ROUNDS}")
    assert result.returncode == 0, result.stderr
    counts = dict((line.split()[0], int(line.split()[1]))
                  for line in result.stdout.splitlines() if line.strip())
    assert counts == {"alpha": 67, "beta": 67, "gamma": 66}
    assert "error" not in result.stderr and "invalid address" not in result.stderr
    if where == "kernel":
        assert "1 aggregated in the kernel" in result.stderr


# -- a string in a page the program never touched --------------------------------------------
MAPPED_D = "provider mapped { probe text(const char *text); };\n"
MAPPED_C = r"""
#include <fcntl.h>
#include <stddef.h>
#include <sys/mman.h>
#include "probes.h"

/* the text at offset 4106 of the file, in a page this process mapped and never read */
int main(int argc, char **argv)
{
  int fd = open(argv[1], O_RDONLY);
  char *file = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
  MAPPED_TEXT(file + 4096 + 10);
  return 0;
}
"""


def test_string_in_a_page_never_touched(tmp_path):
    ensure_tracefs()
    write_header(tmp_path, MAPPED_D)
    exe = compile_program(tmp_path, MAPPED_C, output="mapped")
    data = tmp_path / "data.txt"
    data.write_bytes(b"A" * 4096 + b"skip this.hello from an untouched page\0" + b"\0" * 64)
    result = trace_to_end("--json", "-c", f"{exe} {data}")
    assert result.returncode == 0, result.stderr
    event = json.loads(result.stdout.splitlines()[0])
    assert event["args"] == {"text": "hello from an untouched page"}
    script = trace_to_end("-q", "-e", 'mapped:::text { printf("<%s>\\n", copyinstr(arg0)); }',
                          "-c", f"{exe} {data}")
    assert script.returncode == 0, script.stderr
    assert script.stdout.splitlines()[0] == "<hello from an untouched page>"
    # aggregated in the kernel: its read fails there, so the hit goes to userspace whole
    counted = trace_to_end("--json", "-e", "mapped:::text { @[copyinstr(arg0)] = count(); }",
                           "-c", f"{exe} {data}")
    assert counted.returncode == 0, counted.stderr
    assert "1 aggregated in the kernel" in trace_to_end(
        "-e", "mapped:::text { @[copyinstr(arg0)] = count(); }", "-c", f"{exe} {data}").stderr
    aggregation = [json.loads(line) for line in counted.stdout.splitlines()
                   if '"aggregation"' in line][-1]
    assert [(e["keys"], e["value"]) for e in aggregation["entries"]] == \
        [(["hello from an untouched page"], 1)]


# -- every argument form, from hand-written assembly -------------------------------------------
HAND_D = """\
provider hand {
  probe regs(int a, short b, char c, unsigned char d, uint64_t e, char f);
  probe memory(int a, long b, int c, long d);
  probe symbols(long a, long b, int c, int d);
  probe consts(int a, long b, unsigned char c, double f);
  probe strings(char *s, char *t);
};
"""
HAND_S = r"""
        .macro SITE name, args
990:    nop
        .pushsection .note.stapsdt,"?","note"
        .balign 4
        .4byte 992f-991f, 994f-993f, 3
991:    .asciz "stapsdt"
992:    .balign 4
993:    .8byte 990b
        .8byte _.stapsdt.base
        .8byte 0
        .asciz "hand"
        .asciz "\name"
        .asciz "\args"
994:    .balign 4
        .popsection
        .endm

        .pushsection .stapsdt.base,"aG","progbits",.stapsdt.base,comdat
        .weak _.stapsdt.base
        .hidden _.stapsdt.base
_.stapsdt.base:
        .space 1
        .popsection

        .text
        .globl fire
        .type fire, @function
fire:
        push %rbp
        mov %rsp, %rbp
        push %rbx
        push %r12
        push %r13
        push %r14
        sub $32, %rsp
        mov $-5, %edi
        mov $-300, %si
        mov $-7, %dl
        mov $0xab, %ah
        movabs $0x123456789abcdef0, %r12
        SITE regs, "-4@%edi -2@%si -1@%dl 1@%ah 8@%r12 -1@%dil"
        movl $-123456, -44(%rbp)
        lea table(%rip), %rax
        mov $2, %rcx
        lea value32(%rip), %rbx
        movq $987654321, 8(%rsp)
        SITE memory, "-4@-44(%rbp) 8@(%rax,%rcx,8) -4@4(%rbx,%rcx,4) -8@8(%rsp)"
        SITE symbols, "8@table(%rip) -8@table+16(%rip) -4@4+value32(%rip) -4@value32(,%rcx,4)"
        movabs $0x4004000000000000, %r13
        SITE consts, "-4@$-17 8@$1234567890123 1@$255 8f@%r13"
        lea strs(%rip), %r14
        mov $1, %rcx
        SITE strings, "8@(%r14,%rcx,8) 8@ptr_two(%rip)"
        add $32, %rsp
        pop %r14
        pop %r13
        pop %r12
        pop %rbx
        pop %rbp
        ret
        .size fire, .-fire

        .data
        .globl table, value32, strs, ptr_two
table:  .quad 11, 22, 33, 44
value32: .long -99, 77, -55, -66
strs:   .quad s0, s1, s2
ptr_two: .quad s2
        .section .rodata
s0:     .asciz "zero"
s1:     .asciz "one"
s2:     .asciz "two"
        .section .note.GNU-stack,"",@progbits
"""
HAND_MAIN = "void fire(void);\nint main(void) { fire(); return 0; }\n"
HAND_EXPECTED = {
    "regs": {"a": -5, "b": -300, "c": -7, "d": 0xAB, "e": 0x123456789ABCDEF0, "f": -5},
    "memory": {"a": -123456, "b": 33, "c": -66, "d": 987654321},
    "symbols": {"a": 11, "b": 33, "c": 77, "d": -55},
    "consts": {"a": -17, "b": 1234567890123, "c": 255, "f": 2.5},
    "strings": {"s": "one", "t": "two"},
}


def test_every_argument_form_from_hand_written_notes(tmp_path):
    ensure_tracefs()
    require(platform.machine() == "x86_64", "the hand-written notes are x86-64 assembly")
    (tmp_path / "fire.S").write_text(HAND_S)
    (tmp_path / "hand.d").write_text(HAND_D)
    exe = compile_program(tmp_path, HAND_MAIN, output="hand", flags=("-O2",),
                          extra_sources=(tmp_path / "fire.S",))
    result = trace_to_end("--json", "--types", tmp_path / "hand.d", "-c", exe)
    assert result.returncode == 0, result.stderr
    assert "cannot" not in result.stderr, result.stderr
    seen = {e["probe"]: e["args"] for e in map(json.loads, result.stdout.splitlines())
            if e["type"] == "event"}
    assert seen == HAND_EXPECTED


def test_without_bpf_the_tracer_says_what_it_cannot_show(tmp_path):
    ensure_tracefs()
    write_header(tmp_path, BAR_D)
    exe = compile_program(tmp_path, BAR_C, flags=("-O2",), output="bar")
    env = {**os.environ, "USDTGEN_NO_BPF": "1"}
    result = trace_to_end("--json", "-c", f"{exe} 6", env=env)
    assert result.returncode == 0, result.stderr
    assert "(BPF is turned off by USDTGEN_NO_BPF)" in result.stderr
    assert "fetch-args" in result.stderr
    assert "word cannot be fetched (indexed addressing" in result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()
              if line.startswith('{"type": "event"')]
    expected = expected_ticks(6)
    assert [(e["args"]["t"], e["args"]["word"]) for e in events] == \
        [(t, None) for t, _, _ in expected]

"""D's C types: structs, unions, bit-fields, enums, typedefs, arrays and pointers.

Layouts are checked against gcc: the same declarations go into a C program and a D script,
and both print sizeof, offsetof and the bits a union sees after bit-fields are stored.
Semantics (pointer arithmetic, struct copies, struct keys, faults) are checked against the
rules of C and DTrace, written by hand.
"""
from __future__ import annotations

import subprocess

import pytest

from conftest import compile_program
from test_language import run_d

DECLARATIONS = """
struct a { char c; int i; short s; };
struct b { char c; long l; char d; };
struct holes { char c; long long ll; char d; short s; int i; char e; };
union u { char c; int i; long l; char bytes[11]; };
struct nest { char c; struct a inner; union u un; char tail[3]; };
struct arr { short s[5]; char *p; int m[2][3]; };
struct anon { int x; struct { char y; long z; } in; };
struct bits1 { int a : 1; int b : 15; int c : 31; };
struct bits2 { char a : 2; short b : 12; long c : 32; };
struct bits3 { int a : 30; int b : 30; int c : 32; };
struct bits4 { unsigned int a : 3; unsigned int : 0; unsigned int b : 5; char z; };
struct bits5 { long c : 32; long long d : 9; int e : 1; };
union punned1 { struct bits1 b; unsigned long raw; };
union punned2 { struct bits2 b; unsigned long raw; };
union punned4 { struct bits4 b; unsigned long raw; };
"""

SIZES = ["struct a", "struct b", "struct holes", "union u", "struct nest", "struct arr",
         "struct anon", "struct bits1", "struct bits2", "struct bits3", "struct bits4",
         "struct bits5"]
OFFSETS = [("struct a", "i"), ("struct a", "s"), ("struct b", "l"), ("struct b", "d"),
           ("struct holes", "ll"), ("struct holes", "s"), ("struct holes", "i"),
           ("struct holes", "e"), ("struct nest", "inner"), ("struct nest", "un"),
           ("struct nest", "tail"), ("struct arr", "p"), ("struct arr", "m"),
           ("struct anon", "in"), ("struct bits4", "z")]
# bit-fields stored, then read back whole through a union: where gcc puts each one's bits
STORES = [("punned1", {"a": -1, "b": 0x1234, "c": 0x5a5a5a5}),
          ("punned2", {"a": 1, "b": 0xabc, "c": 0x7fffffff}),
          ("punned4", {"a": 5, "b": 0x1f, "z": 9})]


def _layout_program(dialect: str) -> str:
    """The same statements for C (a main()) and D (a BEGIN clause)."""
    lines = []
    for ty in SIZES:
        lines.append(f'printf("sizeof {ty} = %d\\n", (int) sizeof ({ty}));')
    for ty, member in OFFSETS:
        lines.append(f'printf("offsetof {ty} {member} = %d\\n", (int) offsetof ({ty}, '
                     f'{member}));')
    for name, values in STORES:
        variable = f"v_{name}"
        for member, value in values.items():
            lines.append(f"{variable}.b.{member} = {value};")
        lines.append(f'printf("{name} = %lx\\n", {variable}.raw);')
        for member in values:
            lines.append(f'printf("{name}.{member} = %d\\n", (int) {variable}.b.{member});')
    body = "\n".join("  " + line for line in lines)
    variables = "".join(f"union {name} v_{name};\n" for name, _ in STORES)
    if dialect == "c":
        return ("#include <stdio.h>\n#include <stddef.h>\n" + DECLARATIONS + variables +
                "int main(void)\n{\n" + body + "\n  return 0;\n}\n")
    return DECLARATIONS + variables + "BEGIN\n{\n" + body + "\n}\n"


def test_layouts_agree_with_gcc(tmp_path):
    exe = compile_program(tmp_path, _layout_program("c"), flags=("-O0", "-w"))
    expected = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    _, out, err = run_d(_layout_program("d"))
    assert err == ""
    assert out == expected + "\n"            # (dtrace's newline at exit)


CASES = [
    ("array-elements", 'int a[4];\nBEGIN { a[0] = 5; a[3] = a[0] * 2; '
                       'printf("%d %d %d %d\\n", a[0], a[1], a[3], sizeof (a)); }\n',
     "5 0 10 16\n"),
    ("pointer-arithmetic", 'long a[5];\nBEGIN { p = &a[1]; q = &a[4]; *(p + 2) = 7; '
                           'printf("%d %d %d\\n", q - p, a[3], (char *) q - (char *) p); }\n',
     "3 7 24\n"),
    ("pointer-increment", 'int a[3];\nint *p;\nBEGIN { a[2] = 9; p = &a[0]; p++; ++p; '
                          'printf("%d\\n", *p); }\n', "9\n"),
    ("struct-members", 'struct pt { int x; int y; } p;\n'
                       'BEGIN { p.x = 3; p.y = -4; printf("%d %d\\n", p.x * p.y, '
                       'sizeof (struct pt)); }\n', "-12 8\n"),
    ("struct-copy", 'struct pt { int x; int y; } p, q;\n'
                    'BEGIN { p.x = 1; p.y = 2; q = p; p.x = 9; printf("%d %d %d\\n", q.x, '
                    'q.y, p.x); }\n', "1 2 9\n"),
    ("struct-keys", 'struct k { int a; char b; } k1, k2;\n'
                    'BEGIN { k1.a = 1; k1.b = 2; k2.a = 1; k2.b = 2; m[k1] = 5; '
                    'printf("%d\\n", m[k2]); k2.b = 3; printf("%d\\n", m[k2]); }\n',
     "5\n0\n"),
    ("arrow-through-alloca", 'typedef struct node { int v; struct node *next; } node_t;\n'
                             'BEGIN { this->a = (node_t *) alloca(sizeof (node_t));\n'
                             'this->b = (node_t *) alloca(sizeof (node_t));\n'
                             'this->a->next = this->b; this->b->v = 42;\n'
                             'printf("%d %d\\n", this->a->next->v, this->a->v); }\n',
     "42 0\n"),
    ("assoc-of-structs", 'struct s { int n; string name; } table[int];\n'
                         'BEGIN { table[1].n = 7; table[1].name = "seven"; '
                         'printf("%d %s %d\\n", table[1].n, table[1].name, table[2].n); }\n',
     "7 seven 0\n"),
    ("self-struct", 'struct s { int n; };\nself struct s st;\n'
                    'BEGIN { self->st.n = 4; }\nEND { printf("%d\\n", self->st.n); }\n', "4\n"),
    ("enum-values", 'enum e { A, B = 5, C, D = B + C };\n'
                    'BEGIN { printf("%d %d %d %d %d\\n", A, B, C, D, sizeof (enum e)); }\n',
     "0 5 6 11 4\n"),
    ("typedef-chain", 'typedef unsigned char byte_t;\ntypedef byte_t octet_t;\n'
                      'BEGIN { x = (octet_t) 511; printf("%d %d\\n", x, sizeof (octet_t)); }\n',
     "255 1\n"),
    ("char-array-as-string", 'char name[8];\nBEGIN { name[0] = \'h\'; name[1] = \'i\'; '
                             'printf("%s %d\\n", name, strlen(name)); }\n', "hi 2\n"),
    ("bcopy", 'int a[2];\nint b[2];\nBEGIN { a[0] = 1; a[1] = 2; bcopy(&a[0], &b[0], '
              'sizeof (a)); printf("%d %d\\n", b[0], b[1]); }\n', "1 2\n"),
    ("string-null-compare", 'BEGIN { s[1] = "x"; printf("%d %d\\n", s[1] != NULL, '
                            's[2] == NULL); }\n', "1 1\n"),
    ("print-struct", 'struct s { int a; char c; short h[2]; void *p; };\n'
                     'BEGIN { this->s = (struct s *) alloca(sizeof (struct s)); '
                     'this->s->a = 10; this->s->c = \'z\'; this->s->h[1] = -1; '
                     'print(*this->s); }\n',
     # (dtrace ends a struct's print() at its brace: the exit newline follows)
     "struct s {\n    int a = 0xa\n    char c = 'z'\n    short [2] h = [ 0, 0xffff ]\n"
     "    void *p = 0\n}"),
    ("print-enum", 'enum color { RED, GREEN };\nBEGIN { print((enum color) 1); }\n',
     "enum color GREEN\n"),
    ("tracemem", 'char s[20];\nBEGIN { s[0] = \'h\'; s[1] = \'i\'; s[17] = 1; '
                 'tracemem(&s[0], 20); tracemem(&s[0], 20, 3); }\n',
     "\n             0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f  0123456789abcdef\n"
     "         0: 68 69 00 00 00 00 00 00 00 00 00 00 00 00 00 00  hi..............\n"
     "        10: 00 01 00 00                                      ....\n"
     "\n             0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f  0123456789abcdef\n"
     "         0: 68 69 00                                         hi.\n"),
    ("self-associative-array", 'BEGIN { self->a[1, "x"] = 5; self->a[2, "y"]++; '
                               'printf("%d %d %d\\n", self->a[1, "x"], self->a[2, "y"], '
                               'self->a[3, "z"]); }\n', "5 1 0\n"),
    ("this-across-clauses", 'BEGIN { this->n = 7; }\nBEGIN { printf("%d\\n", this->n); }\n',
     "7\n"),
    ("untyped-self-declaration", 'self x;\nBEGIN { self->x = 3; printf("%d\\n", self->x); }\n',
     "3\n"),
    ("multi-character-constant", "BEGIN { printf(\"%x %d\\n\", 'ab', sizeof ('a')); }\n",
     "6162 1\n"),
    ("curpsinfo", 'BEGIN { printf("%d %d\\n", curpsinfo->pr_pid == pid, '
                  'curpsinfo->pr_dmodel == PR_MODEL_LP64); }\n', "1 1\n"),
    ("errno-and-fault-names", 'BEGIN { printf("%d %d %d\\n", ENOENT, SIGKILL, '
                              'DTRACEFLT_DIVZERO); }\n', "2 9 4\n"),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_types(text, expected):
    _, out, err = run_d(text)
    assert err == ""
    assert out == expected + "\n"


FAULTS = [
    ("index-out-of-bounds", 'int a[3];\nBEGIN { i = 3; trace(a[i]); }\n', "index out of bounds"),
    ("user-address", 'BEGIN { p = (int *) 4096; trace(*p); }\n', "invalid address (0x1000)"),
    ("freed-alloca", 'BEGIN { p = (int *) alloca(4); *p = 1; }\nEND { trace(*p); }\n',
     "invalid address"),
]


@pytest.mark.parametrize("text, phrase", [f[1:] for f in FAULTS], ids=[f[0] for f in FAULTS])
def test_memory_faults_fire_error(text, phrase):
    _, out, err = run_d(text + 'ERROR { printf("caught %d\\n", arg4); }\n')
    assert phrase in err
    assert out.startswith("caught 1\n")          # DTRACEFLT_BADADDR


ERRORS = [
    ("address-of-variable", 'int i;\nBEGIN { p = &i; }\n', 2, 13,
     "the address of a D variable cannot be taken"),
    ("deref-void", 'BEGIN { p = (void *) alloca(4); trace(*p); }\n', 1, 39,
     "a void pointer cannot be dereferenced"),
    ("deref-integer", 'BEGIN { x = 1; trace(*x); }\n', 1, 22, "'*' needs a pointer"),
    ("no-such-member", 'struct s { int a; } v;\nBEGIN { v.b = 1; }\n', 2, 11,
     "struct s has no member b"),
    ("arrow-on-struct", 'struct s { int a; } v;\nBEGIN { trace(v->a); }\n', 2, 15,
     "'->' needs a pointer to a struct or union"),
    ("constant-index-out-of-bounds", 'int a[3];\nBEGIN { a[3] = 1; }\n', 2, 11,
     "index 3 is out of bounds"),
    ("array-without-size", 'int a[];\nBEGIN { exit(0); }\n', 1, 6,
     "an array needs its number of elements"),
    ("variable-too-large", 'char big[100000];\nBEGIN { exit(0); }\n', 1, 9, "too large"),
    ("kernel-symbol", 'BEGIN { trace(`kmem_flags); }\n', 1, 15, "is a kernel symbol"),
    ("struct-assign-mismatch", 'struct a { int x; } va;\nstruct b { int x; } vb;\n'
     'BEGIN { va = vb; }\n', 3, 9, "struct a cannot be assigned struct b"),
    ("bitfield-too-wide", 'struct s { char c : 9; };\nBEGIN { exit(0); }\n', 1, 19,
     "bit-field c cannot be 9 bits wide"),
    ("bitfield-address", 'struct s { int c : 3; } v;\nBEGIN { p = &v.c; }\n', 2, 13,
     "bit-field c has no address"),
    ("struct-declared-twice", 'struct s { int a; };\nstruct s { int b; };\n'
     'BEGIN { exit(0); }\n', 2, 8, "struct s is declared twice"),
    ("incomplete-struct", 'struct later v;\nBEGIN { exit(0); }\n', 1, 14,
     "struct later has no members declared"),
    ("bad-type-combination", 'BEGIN { x = (char long) 0; }\n', 1, 14,
     "'char long' is not a type"),
    ("void-pointer-arithmetic", 'void *p;\nBEGIN { q = p + 1; }\n', 2, 13,
     "arithmetic on a void * is not defined"),
    ("struct-in-arithmetic", 'struct s { int a; } v;\nBEGIN { x = v + 1; }\n', 2, 13,
     "+ cannot apply to struct s"),
    ("sizeof-void", 'BEGIN { trace(sizeof (void)); }\n', 1, 15, "sizeof cannot apply to void"),
    ("enum-too-big", 'enum e { BIG = 2147483648 };\nBEGIN { exit(0); }\n', 1, 10,
     "does not fit in an int"),
    ("struct-keys-differ", 'struct a { int x; } va;\nstruct b { int x; } vb;\n'
     'BEGIN { m[va] = 1; m[vb] = 2; }\n', 3, 22, "key 1 of m[] is struct a elsewhere"),
]


@pytest.mark.parametrize("text, line, col, phrase", [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_type_errors(text, line, col, phrase):
    import io

    from usdtgen.errors import ScriptError
    from usdtgen.trace.script.run import load_script
    with pytest.raises(ScriptError) as info:
        load_script(text, "t.d", stream=io.StringIO(), errors=io.StringIO(), quiet=True)
    first = str(info.value).splitlines()[0]
    assert first.startswith(f"t.d:{line}:{col}: error: "), first
    assert phrase in first

"""Provider files of shapes real projects write, which systemtap's dtrace and DTrace build:
'#' lines that are not directives (no -C), DTrace's argument mapping naming a native
argument twice, and -C over system headers full of C that is not D. Each is built with -h and
-G by the usdtgen command, compiled with gcc and clang, and its probes read back."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import (USDTGEN, ensure_tracefs, no_uprobe_events_left_after, parse_stapsdt_notes,
                      readelf_notes, require, require_tool)
from usdtgen.elf.notes import read_probes
from usdtgen.errors import ProviderError
from usdtgen.provider.load import load_provider_file

HASH_LINES = """\
provider myapp {
# file: src/util/request.c
\tprobe request__start(int id, const char *path);
# this line is a comment too
\tprobe request__done(int id);
};
"""
HASH_LINES_MAIN = """\
#include "probes.h"
int main(int argc, char **argv) {
\tMYAPP_REQUEST_START(argc, argv[0]);
\tMYAPP_REQUEST_DONE(argc);
\treturn 0;
}
"""

MAPPING = """\
provider myapp {
\tprobe place(int i, int j) : (int j, int i, int i, int j);
};
"""
MAPPING_MAIN = """\
#include <unistd.h>
#include "probes.h"
int main(int argc, char **argv) {
\t(void)argv;
\tfor (int k = 0; k < 3; k++) {
\t\tMYAPP_PLACE(k + 10, argc + 20);
\t\tusleep(1000);
\t}
\treturn 0;
}
"""

SYSTEM_HEADERS = """\
#include <sys/types.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include <netinet/in.h>
provider myapp {
\tprobe started(pid_t pid, size_t n, uint64_t x, struct in_addr *addr);
};
"""
SYSTEM_HEADERS_MAIN = """\
#include <sys/types.h>
#include <stdint.h>
#include <unistd.h>
#include <netinet/in.h>
#include "probes.h"
int main(void) {
\tstruct in_addr a = { 0 };
\tMYAPP_STARTED(getpid(), (size_t)5, (uint64_t)1 << 40, &a);
\treturn 0;
}
"""


def usdtgen(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    require(USDTGEN is not None, "the usdtgen executable is not installed")
    return subprocess.run([USDTGEN, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env)


def build(tmp_path: Path, provider: str, main: str, compiler: str, cpp: bool = False) -> Path:
    """-h, compile, -G over the object, link: the program (as a dtrace build makes it)."""
    cc = require_tool(compiler)
    (tmp_path / "probes.d").write_text(provider)
    flags = ["-C"] if cpp else []
    header = usdtgen(*flags, "-h", "-s", "probes.d", "-o", "probes.h", cwd=tmp_path)
    assert header.returncode == 0, header.stderr
    (tmp_path / "main.c").write_text(main)
    subprocess.run([cc, "-O2", "-Wall", "-Werror", "-c", "main.c", "-o", "main.o"],
                   cwd=tmp_path, check=True)
    obj = usdtgen(*flags, "-G", "-s", "probes.d", "-o", "probes.o", "main.o", cwd=tmp_path)
    assert obj.returncode == 0, obj.stderr
    subprocess.run([cc, "main.o", "probes.o", "-o", "prog"], cwd=tmp_path, check=True)
    return tmp_path / "prog"


def stapsdt_probes(binary: Path) -> dict[str, int]:
    """probe name -> argument count, from readelf (the peer)."""
    return {n.name: len(n.args) for n in parse_stapsdt_notes(readelf_notes(binary))}


# -- '#' lines that are not directives ----------------------------------------------------------

def test_hash_lines_that_are_no_directive_are_ignored_with_one_warning(tmp_path):
    (tmp_path / "probes.d").write_text(HASH_LINES)
    model, warnings = load_provider_file(str(tmp_path / "probes.d"))
    assert [p.name for p in model.providers[0].probes] == ["request__start", "request__done"]
    assert [(w.severity, w.loc.line, w.loc.col, w.message) for w in warnings] == [
        ("warning", 2, 1, "'# file: src/util/request.c' is not a directive: ignored")]
    assert warnings[0].hint == "1 more such line ignored too"


@pytest.mark.parametrize("compiler", ["gcc", "clang"])
def test_hash_lines_file_builds_with_h_and_g(tmp_path, compiler):
    program = build(tmp_path, HASH_LINES, HASH_LINES_MAIN, compiler)
    assert stapsdt_probes(program) == {"request__start": 2, "request__done": 1}
    assert subprocess.run([str(program)]).returncode == 0


def test_hash_lines_warning_is_one_line_on_the_command_line(tmp_path):
    (tmp_path / "probes.d").write_text(HASH_LINES)
    result = usdtgen("-h", "-s", "probes.d", "-o", "probes.h", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr.startswith("probes.d:2:1: warning: '# file: src/util/request.c' is "
                                    "not a directive: ignored\n")
    assert "Traceback" not in result.stderr


# -- DTrace's argument mapping -----------------------------------------------------------------

@pytest.mark.parametrize("compiler", ["gcc", "clang"])
def test_mapping_that_names_a_native_argument_twice_builds(tmp_path, compiler):
    program = build(tmp_path, MAPPING, MAPPING_MAIN, compiler)
    assert stapsdt_probes(program) == {"place": 2}     # the macro takes the native arguments
    probes = read_probes(str(program))
    (types,) = probes.types.values()
    assert types.args == (("i", "int"), ("j", "int"))
    assert types.mapped == ((1, "j", "int"), (0, "i", "int"), (0, "i", "int"), (1, "j", "int"))


def test_mapping_macro_takes_the_native_arguments_in_order(tmp_path):
    cc = require_tool("gcc")
    (tmp_path / "probes.d").write_text(MAPPING)
    assert usdtgen("-h", "-s", "probes.d", "-o", "probes.h", cwd=tmp_path).returncode == 0
    (tmp_path / "four.c").write_text('#include "probes.h"\n'
                                     "void f(void) { MYAPP_PLACE(1, 2, 3, 4); }\n")
    result = subprocess.run([cc, "-c", "four.c", "-o", "four.o"], cwd=tmp_path,
                            capture_output=True, text=True)
    assert result.returncode != 0 and "MYAPP_PLACE" in result.stderr


@pytest.fixture
def kernel_left_clean():
    yield from no_uprobe_events_left_after()


def test_mapped_args_read_the_native_arguments_they_name(tmp_path, kernel_left_clean):
    # args[0..3] are j, i, i, j; arg0 and arg1 stay the native i and j, as in DTrace
    ensure_tracefs()
    program = build(tmp_path, MAPPING, MAPPING_MAIN, "gcc")
    result = usdtgen("trace", "-q", "-e", 'myapp:::place { printf("%d %d %d %d | %d %d\\n",'
                     " args[0], args[1], args[2], args[3], arg0, arg1); }",
                     "-c", str(program), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:3] == ["21 10 10 21 | 10 21", "21 11 11 21 | 11 21",
                                             "21 12 12 21 | 12 21"]


def test_mapped_argument_that_names_no_native_one_is_a_warning(tmp_path):
    (tmp_path / "probes.d").write_text("provider app {\n"
                                       "\tprobe p(int a, int b) : (int b, int zz);\n};\n")
    _, warnings = load_provider_file(str(tmp_path / "probes.d"))
    assert [(w.loc.line, w.loc.col, w.message) for w in warnings] == [
        (2, 34, "probe 'p': mapped argument 'zz' names no native argument: args[1] shows "
                "native argument #2")]


# -- -C over system headers ---------------------------------------------------------------------

@pytest.mark.parametrize("compiler", ["gcc", "clang"])
def test_system_headers_under_cpp_build(tmp_path, compiler):
    program = build(tmp_path, SYSTEM_HEADERS, SYSTEM_HEADERS_MAIN, compiler, cpp=True)
    assert stapsdt_probes(program) == {"started": 4}
    (tmp_path / "probes.d").write_text(SYSTEM_HEADERS)
    model, warnings = load_provider_file(str(tmp_path / "probes.d"), use_cpp=True)
    assert warnings == []
    args = model.providers[0].probes[0].args
    # the headers' typedefs give the sizes and signedness the C compiler gives them
    assert [(a.ctype.kind, a.ctype.size, a.ctype.signed) for a in args[:3]] == [
        ("int", 4, True), ("int", 8, False), ("int", 8, False)]
    notes = parse_stapsdt_notes(readelf_notes(program))
    assert [spec.split("@")[0] for spec in notes[0].args[:3]] == ["-4", "8", "8"]


WEIRD_HEADER = """\
#ifndef WEIRD_H
#define WEIRD_H
typedef __typeof__ (sizeof 0) my_size_t;
typedef unsigned int my_id_t __attribute__ ((__aligned__ (4)));
struct point { int x, y; } __attribute__((packed));
extern struct point *make_point(int x, int y) __attribute__((__nonnull__));
static inline int twice(int v) { return 2 * v; }
enum color { RED, GREEN = 'g' };
typedef int (*compare_fn)(const void *, const void *);
__extension__ typedef long long int my_quad_t;
extern int counter;
typedef struct { int a; } odd_t __attribute__((x)) @ ;
#endif
"""


def test_c_of_a_system_header_that_is_not_d_is_skipped(tmp_path, monkeypatch):
    (tmp_path / "sys").mkdir()
    (tmp_path / "sys" / "weird.h").write_text(WEIRD_HEADER)
    monkeypatch.setenv("CPP", f"cpp -isystem {tmp_path}")   # a system header, as <...> finds
    (tmp_path / "probes.d").write_text(
        "#include <sys/weird.h>\nprovider app {\n"
        "\tprobe p(my_id_t id, my_quad_t q, struct point *pt, enum color c);\n};\n")
    model, warnings = load_provider_file(str(tmp_path / "probes.d"), use_cpp=True)
    assert warnings == []
    assert [(a.ctype.size, a.ctype.signed) for a in model.providers[0].probes[0].args] == [
        (4, False), (8, True), (8, False), (4, True)]
    assert "my_id_t" in {t.name for t in model.typedefs}


def test_an_error_in_the_users_own_file_still_stops(tmp_path, monkeypatch):
    (tmp_path / "sys").mkdir()
    (tmp_path / "sys" / "weird.h").write_text(WEIRD_HEADER)
    monkeypatch.setenv("CPP", f"cpp -isystem {tmp_path}")
    (tmp_path / "probes.d").write_text("#include <sys/weird.h>\n#include <sys/types.h>\n"
                                       "provider app {\n\tprobe q(int a int b);\n};\n")
    with pytest.raises(ProviderError) as error:
        load_provider_file(str(tmp_path / "probes.d"), use_cpp=True)
    (diagnostic,) = error.value.diagnostics
    assert (Path(diagnostic.loc.file).name, diagnostic.loc.line, diagnostic.loc.col) == (
        "probes.d", 4, 16)


# -- the tokenizer --------------------------------------------------------------------------------

def test_keywords_are_names_where_a_name_stands(tmp_path):
    # real files name parameters 'provider'; a keyword only starts a declaration
    (tmp_path / "probes.d").write_text("provider app {\n\tprobe connect(const char *provider, "
                                       "int inline, int probe);\n};\n")
    model, _ = load_provider_file(str(tmp_path / "probes.d"))
    assert [a.name for a in model.providers[0].probes[0].args] == ["provider", "inline",
                                                                   "probe"]


def test_a_keyword_glued_to_a_name_is_a_name(tmp_path):
    # 'probego(int a);' is no probe declaration (DTrace's lexer reads one name there)
    (tmp_path / "probes.d").write_text("provider app {\n\tprobego(int a);\n};\n")
    with pytest.raises(ProviderError) as error:
        load_provider_file(str(tmp_path / "probes.d"))
    (diagnostic,) = error.value.diagnostics
    assert (diagnostic.loc.line, diagnostic.loc.col) == (2, 2)
    assert diagnostic.message.startswith("unexpected 'probego'; expected")
    assert diagnostic.hint == "each probe declaration starts with the keyword 'probe'"


# -- #pragma usdtgen string_length -----------------------------------------------------------------

def test_string_length_pragma_names_the_string_and_its_length(tmp_path):
    (tmp_path / "probes.d").write_text(
        "provider mc {\n\tprobe get(int conn, const char *key, int keylen);\n"
        "\tprobe set(const char *key, unsigned long n);\n};\n"
        "#pragma usdtgen string_length mc:get key keylen\n"
        "#pragma usdtgen string_length mc:::set arg0 arg1\n")
    model, warnings = load_provider_file(str(tmp_path / "probes.d"))
    assert warnings == []
    assert [p.string_lengths for p in model.providers[0].probes] == [((1, 2),), ((0, 1),)]


@pytest.mark.parametrize("line, column, message", [
    ("#pragma usdtgen string_length mc:get conn keylen", 1,
     "'conn' of mc:get is int, not a string (char *)"),
    ("#pragma usdtgen string_length mc:get key key", 1,
     "'key' of mc:get is const char *, not an integer length"),
    ("#pragma usdtgen string_length mc:put key keylen", 1,
     "'#pragma usdtgen string_length' names probe 'mc:put', which this file does not declare"),
    ("#pragma usdtgen string_length mc:get key size", 1, "probe 'get' has no argument 'size'"),
    ("#pragma usdtgen strlen mc:get key keylen", 1, "unknown '#pragma usdtgen strlen'"),
    ("#pragma usdtgen string_length get key keylen", 1,
     "malformed '#pragma usdtgen string_length'"),
])
def test_string_length_pragma_errors_name_the_line(tmp_path, line, column, message):
    (tmp_path / "probes.d").write_text(
        "provider mc {\n\tprobe get(int conn, const char *key, int keylen);\n};\n" + line + "\n")
    with pytest.raises(ProviderError) as error:
        load_provider_file(str(tmp_path / "probes.d"))
    (diagnostic,) = error.value.diagnostics
    assert (diagnostic.loc.line, diagnostic.loc.col, diagnostic.message) == (4, column, message)

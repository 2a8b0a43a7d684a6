"""The D provider language: every construct real provider files use, and every documented
error with its position. Expected values are written here by hand from the C and D rules."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from usdtgen.errors import PreprocessorError, ProviderError
from usdtgen.provider import load_provider_file

DATA = Path(__file__).parent.parent / "data" / "provider"


def load(name: str, **kwargs):
    return load_provider_file(str(DATA / "valid" / name), **kwargs)


def probe(model, provider: str, name: str):
    prov = next(p for p in model.providers if p.name == provider)
    return next(p for p in prov.probes if p.name == name)


def types_of(p) -> list[tuple[str | None, str, int | None, bool | None]]:
    return [(a.name, a.ctype.spelling, a.ctype.size, a.ctype.signed) for a in p.args]


def test_integer_spellings_have_c_sizes_and_signedness():
    model, _ = load("all_types.d")
    assert types_of(probe(model, "types", "ints")) == [
        ("a", "char", 1, True), ("b", "signed char", 1, True), ("c", "unsigned char", 1, False),
        ("d", "short", 2, True), ("e", "unsigned short", 2, False), ("f", "int", 4, True),
        ("g", "unsigned int", 4, False), ("h", "long", 8, True), ("i", "unsigned long", 8, False),
        ("j", "long long", 8, True), ("k", "unsigned long long", 8, False), ("l", "long", 8, True),
    ]
    assert [(a.ctype.size, a.ctype.signed) for a in probe(model, "types", "fixed").args] == [
        (1, True), (1, False), (2, True), (2, False), (4, True), (4, False), (8, True), (8, False)]
    assert [(a.ctype.spelling, a.ctype.size, a.ctype.signed)
            for a in probe(model, "types", "posix").args] == [
        ("uintptr_t", 8, False), ("size_t", 8, False), ("ssize_t", 8, True), ("pid_t", 4, True),
        ("off_t", 8, True), ("bool", 1, False), ("_Bool", 1, False)]


def test_pointers_and_d_string():
    model, _ = load("all_types.d")
    args = probe(model, "types", "ptrs").args
    assert [a.ctype.spelling for a in args] == [
        "const char *", "char **", "struct foo *", "union u *", "void *", "const void *", "char *"]
    assert all(a.ctype.size == 8 and a.ctype.kind == "pointer" for a in args)
    assert [a.ctype.is_string for a in args] == [True, False, False, False, False, False, True]
    assert args[-1].ctype.d_name == "string"
    enum = probe(model, "types", "enums").args[0]
    assert (enum.ctype.spelling, enum.ctype.size) == ("enum color", 4)


def test_unnamed_parameters():
    model, _ = load("all_types.d")
    assert types_of(probe(model, "types", "unnamed")) == [
        (None, "int", 4, True), (None, "const char *", 8, False),
        (None, "unsigned long long", 8, False)]


def test_real_world_layout():
    model, warnings = load("layout.d")
    assert [p.name for p in model.providers] == ["layout", "second", "third"]
    multi = probe(model, "layout", "multi__line")
    assert [(a.name, a.ctype.spelling) for a in multi.args] == [("id", "int"), ("path", "const char *")]
    assert (multi.loc.line, multi.loc.col) == (3, 9)
    assert model.providers[1].probes == ()
    assert probe(model, "third", "only").args == ()
    assert warnings == []


def test_typedefs_before_and_after_use_and_other_declarations():
    model, warnings = load("typedefs.d")
    before = probe(model, "app", "before")
    assert [(a.ctype.spelling, a.ctype.kind, a.ctype.size, a.ctype.signed) for a in before.args] == [
        ("my_id_t", "int", 8, False), ("conn_t *", "pointer", 8, False), ("color_t", "enum", 4, True),
        ("req_ptr_t", "pointer", 8, False), ("later_t", "int", 4, False)]
    mapped = probe(model, "app", "mapped")
    assert [a.ctype.spelling for a in mapped.mapped_args] == ["conninfo_t *", "int"]
    assert [t.name for t in model.typedefs] == ["my_id_t", "conn_t", "color_t", "req_ptr_t",
                                                "later_t", "conninfo_t"]
    assert [(a.kind, a.tag) for a in model.aggregates] == [
        ("struct", "conninfo"), ("union", "val"), ("enum", "level")]
    assert len(model.translators) == 1 and "C->fd" in model.translators[0].text
    assert [(i.name, i.value_text) for i in model.inlines] == [("APP_MAX", "64")]
    assert warnings == []


def test_pragmas_are_kept_and_comments_ignored():
    model, _ = load("pragmas.d")
    attrs = {a.target: (a.name_stability, a.data_stability, a.dependency_class)
             for a in model.providers[0].attributes}
    assert attrs == {"provider": ("Evolving", "Evolving", "Common"),
                     "module": ("Private", "Private", "Unknown"),
                     "function": ("Private", "Private", "Unknown"),
                     "name": ("Evolving", "Evolving", "Common"),
                     "args": ("Evolving", "Evolving", "Common")}
    assert [(p.kind, p.text) for p in model.pragmas] == [("option", "quiet"),
                                                         ("depends_on", "library net.d")]


def test_line_markers_move_positions_to_the_original_file():
    model, _ = load("line_markers.d")
    one = probe(model, "marked", "one")
    assert (one.loc.file, one.loc.line) == ("original.d", 10)


def test_file_without_provider_and_without_final_newline():
    model, _ = load("only_typedefs.d")
    assert model.providers == () and [t.name for t in model.typedefs] == ["counter_t"]
    model, _ = load("no_final_newline.d")
    assert probe(model, "nofinalnewline", "x").args[0].name == "a"


def test_dtrace_style_file_with_line_comment():
    model, _ = load("dtrace_style.d")
    assert [p.name for p in model.providers[0].probes] == [
        "transaction__start", "lwlock__acquire", "query__start", "sort__done"]


def test_struct_by_value_and_float_warn_and_strict_makes_them_errors(tmp_path):
    source = tmp_path / "warn.d"
    source.write_text("struct big { int a[4]; };\n"
                      "provider app {\n\tprobe s(struct big b);\n\tprobe f(double d);\n};\n")
    _, warnings = load_provider_file(str(source))
    assert [(w.severity, w.loc.line) for w in warnings] == [("warning", 3), ("warning", 4)]
    assert "app:s" in warnings[0].message and "struct" in warnings[0].message
    assert "app:f" in warnings[1].message and "floating" in warnings[1].message
    with pytest.raises(ProviderError) as err:
        load_provider_file(str(source), strict=True)
    assert [d.severity for d in err.value.diagnostics] == ["error", "error"]


def test_cpp_defines_includes_and_line_numbers(tmp_path):
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "types.h").write_text("#define TxnId unsigned int\n")
    source = tmp_path / "app.d"
    source.write_text('#include "types.h"\n#define NAME_T const char *\n'
                      "provider app {\n\tprobe go(TxnId id, NAME_T name, int v[MAXLEN]);\n"
                      "\tprobe bad(int x y z);\n};\n")
    with pytest.raises(ProviderError) as err:
        load_provider_file(str(source), use_cpp=True, includes=[str(tmp_path / "inc")],
                           defines=["MAXLEN=64"])
    first = err.value.diagnostics[0]
    assert (Path(first.loc.file).name, first.loc.line) == ("app.d", 5)
    source.write_text(source.read_text().replace("\tprobe bad(int x y z);\n", ""))
    model, _ = load_provider_file(str(source), use_cpp=True, includes=[str(tmp_path / "inc")],
                                  defines=["MAXLEN=64"])
    assert [a.ctype.spelling for a in probe(model, "app", "go").args] == [
        "unsigned int", "const char *", "int *"]


def test_cpp_failure_is_reported(tmp_path):
    source = tmp_path / "app.d"
    source.write_text('#include "missing.h"\nprovider app { probe go(); };\n')
    with pytest.raises(PreprocessorError) as err:
        load_provider_file(str(source), use_cpp=True)
    assert "missing.h" in str(err.value)


def test_cpp_directives_without_minus_c_are_ignored_with_one_warning():
    """As systemtap's dtrace does: the file still compiles, the user learns about -C."""
    model, warnings = load_provider_file(str(DATA / "valid" / "define_without_cpp.d"))
    assert [(w.severity, w.loc.line, w.message) for w in warnings] == [
        ("warning", 1, "'#define' is ignored without -C"),
        ("warning", 3, "probe 'app:go': argument 'a' has type 'MYINT', which this file does not declare")]
    assert probe(model, "app", "go").args[0].ctype.kind == "unknown"


# file, line, column, the message's start — the documented errors.
INVALID = [
    ("missing_paren.d", 2, 16, "unexpected ';'; expected ')' or ','"),
    ("thirteen_args.d", 2, 110, "probe 'go' has 13 arguments; the limit is 12"),
    ("duplicate_probe.d", 3, 8, "probe 'go' is declared twice in provider 'app'"),
    ("duplicate_arg.d", 2, 18, "probe 'go': two parameters are named 'a'"),
    ("not_a_type.d", 2, 15, "'42' is not a type or a parameter name"),
    ("not_a_type_words.d", 2, 19, "probe 'go': 'baz' is not a type"),
    ("bad_stability.d", 1, 1, "unknown stability 'Wobbly'"),
    ("bad_class.d", 1, 1, "unknown dependency class 'Galaxy'"),
    ("unterminated_comment.d", 2, 19, "unterminated comment"),
    ("provider_digit.d", 1, 10, "provider name 'app2' ends in a digit"),
    ("missing_semicolon.d", 3, 2, "unexpected 'probe'; expected ':' or ';'"),
    ("void_param.d", 2, 11, "probe 'go': 'void' can only stand alone"),
    ("binary.d", 1, 8, "this is not a provider file: binary data"),
    ("long_name.d", 2, 8, "probe name is 64 characters long; the limit is 63"),
    ("bad_scalar.d", 2, 11, "probe 'go': 'unsigned double' is not a type"),
]


@pytest.mark.parametrize("name,line,col,message", INVALID, ids=[i[0] for i in INVALID])
def test_invalid_files_give_the_documented_error(name, line, col, message):
    with pytest.raises(ProviderError) as err:
        load_provider_file(str(DATA / "invalid" / name))
    first = err.value.diagnostics[0]
    assert (first.severity, first.loc.line, first.loc.col) == ("error", line, col)
    assert first.message.startswith(message)
    rendered = first.render().splitlines()
    assert rendered[0].startswith(f"{DATA / 'invalid' / name}:{line}:{col}: error: ")
    if name != "binary.d":
        assert rendered[2].strip() == "^" and len(rendered[2]) - 1 == 4 + col - 1


@pytest.mark.parametrize("name", [i[0] for i in INVALID])
def test_invalid_files_fail_cleanly_on_the_command_line(name, tmp_path):
    out = tmp_path / "out.h"
    result = subprocess.run(["usdtgen", "-h", "-s", str(DATA / "invalid" / name), "-o", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and ": error: " in result.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []

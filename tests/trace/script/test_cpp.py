"""``usdtgen trace -C`` (with -I, -D, -U): D scripts through the C preprocessor, as dtrace -C
runs them; errors name the file and line the preprocessor took the text from. Also
``profile-N`` probes, which such scripts use as timers. No kernel needed: BEGIN, END and
timer clauses only."""
from __future__ import annotations

import subprocess

import pytest

from conftest import USDTGEN


def trace(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([USDTGEN, "trace", *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd)


def test_defines_and_conditionals():
    result = trace("-C", "-D", "N=7", "-U", "GONE", "-q", "-e",
                   'BEGIN {\n#ifdef GONE\n exit(3);\n#endif\n printf("%d\\n", N * 2); exit(0); }')
    assert result.returncode == 0, result.stderr
    assert result.stdout == "14\n\n"


def test_includes_from_a_directory_and_errors_name_the_original_line(tmp_path):
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "limits.h").write_text("#define LIMIT 40\n#define TWICE(x) ((x) * 2)\n")
    script = tmp_path / "s.d"
    script.write_text('#include "limits.h"\n#pragma D option quiet\n\nBEGIN\n{\n'
                      '\tprintf("%d\\n", TWICE(LIMIT) + 2);\n\texit(0);\n}\n')
    result = trace("-C", "-I", str(tmp_path / "inc"), "-s", str(script))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "82\n\n"          # (and the newline dtrace prints at exit)
    # an error on line 6 of s.d, after the included lines
    script.write_text('#include "limits.h"\n#pragma D option quiet\n\nBEGIN\n{\n'
                      '\tprintf("%d\\n", LIMIT +);\n\texit(0);\n}\n')
    result = trace("-C", "-I", str(tmp_path / "inc"), "-s", str(script))
    assert result.returncode == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{script}:6:"), result.stderr
    assert "Traceback" not in result.stderr


def test_a_preprocessor_error_is_one_clean_message(tmp_path):
    script = tmp_path / "bad.d"
    script.write_text("#if 1\n#error no way\n#endif\nBEGIN { exit(0); }\n")
    result = trace("-C", "-s", str(script))
    assert result.returncode == 1
    assert result.stderr.startswith("usdtgen: ") and "no way" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("option", [("-C",), ("-x", "quiet")])
def test_cpp_options_need_a_script(option):
    result = trace(*option, "-c", "true")
    assert result.returncode == 2
    assert "-C, -I, -D, -U and -x go with a D script" in result.stderr


def test_without_cpp_a_directive_is_an_error_at_its_line():
    result = trace("-e", "BEGIN { exit(0); }\n#define X 1\n")
    assert result.returncode == 1
    assert result.stderr.startswith("<-e>:2:1: error: unexpected character '#'"), result.stderr


def test_profile_probes_are_timers():
    result = trace("-q", "-e", 'profile-100hz { n++; } profile-50ms /n >= 2/ { printf("%d\\n", '
                               'n > 0); exit(0); }')
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1\n\n"

"""Build-system integration, end to end with the usdtgen on PATH: examples/app_c built by
CMake (Ninja, else Makefiles) and by make; what a rebuild redoes (nothing, for no change or a
touched provider file; the header, the objects that include it and the link, for a real
change); headers a -C provider file includes (depfiles); ``DTRACE=usdtgen`` in a build
written for systemtap's dtrace (autoconf-style and meson); and find_package(usdtgen) after a plain pip install into a
fresh virtual environment, with no path given to CMake."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ON_CI, parse_stapsdt_notes, readelf_notes, require, require_tool

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "app_c"
EXAMPLE_PROBES = {("myapp", "request__start"), ("myapp", "request__done"),
                  ("myapp", "queue__depth")}
UTIL_C = "int util_answer(void) { return 42; }\n"       # an object that includes no probe header


# ---------------------------------------------------------------------------- helpers

def run(cmd, cwd: Path, env: dict | None = None) -> str:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, (f"{cmd} failed ({result.returncode}) in {cwd}:\n"
                                    f"{result.stdout}\n{result.stderr}")
    return result.stdout + result.stderr


def usdtgen_on_path() -> str:
    return require_tool("usdtgen")


def cmake_dir() -> str:
    return run([usdtgen_on_path(), "--cmake-dir"], ROOT).strip()


def cmake_generator() -> str:
    """Ninja when installed (CI installs it), else Unix Makefiles."""
    require_tool("cmake")
    if shutil.which("ninja") or ON_CI:
        require_tool("ninja")
        return "Ninja"
    return "Unix Makefiles"


def probes_of(binary: Path) -> set[tuple[str, str]]:
    return {(n.provider, n.name) for n in parse_stapsdt_notes(readelf_notes(binary))}


def mtimes(*paths: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in paths}


def changed(before: dict[Path, int]) -> set[str]:
    return {p.name for p, t in before.items() if p.stat().st_mtime_ns != t}


def later() -> None:
    """Let the (coarse) file clock move on, so a file written now is newer than the outputs."""
    time.sleep(0.02)


def touch(path: Path) -> None:
    later()
    os.utime(path)


def example_copy(tmp_path: Path) -> Path:
    """examples/app_c as the repository holds it, plus util.c (no probes)."""
    work = tmp_path / "app_c"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns(
        "build*", "app", "*.o", "myapp.h", "*.dep"))
    (work / "util.c").write_text(UTIL_C)
    return work


def add_probe(provider_file: Path) -> None:
    later()
    provider_file.write_text(provider_file.read_text().replace(
        "};", "\tprobe cache__miss(const char *key);\n};", 1))


def cmake_configure(src: Path, build: Path, generator: str, *extra: str, env=None) -> str:
    return run(["cmake", "-S", str(src), "-B", str(build), "-G", generator, *extra], src, env)


def cmake_build(build: Path, env=None) -> str:
    return run(["cmake", "--build", str(build), "--parallel", "4"], build, env)


# ---------------------------------------------------------------------------- CLI

def test_cmake_dir_and_make_include_name_shipped_files():
    from usdtgen.cli import main

    runner = CliRunner()
    folder = Path(runner.invoke(main, ["--cmake-dir"]).output.strip())
    assert (folder / "usdtgenConfig.cmake").is_file()
    assert (folder / "usdtgenConfigVersion.cmake").is_file()
    mk = Path(runner.invoke(main, ["--make-include"]).output.strip())
    assert mk.is_file() and "%.h: %.d" in mk.read_text()


def test_depfile_lists_the_provider_and_what_cpp_read(tmp_path, monkeypatch):
    from usdtgen.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "inc dir").mkdir()
    (tmp_path / "inc dir" / "types.h").write_text("#define JOB_ID unsigned int\n")
    (tmp_path / "jobs.d").write_text('#include "types.h"\n'
                                     "provider jobs { probe run(JOB_ID id); };\n")
    runner = CliRunner()
    result = runner.invoke(main, ["-C", "-I", "inc dir", "-h", "-s", "jobs.d", "-o", "out/jobs.h",
                                  "--depfile", "out/jobs.h.dep"])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "out" / "jobs.h.dep").read_text()
    rule, *phony = text.replace("\\\n", "").splitlines()
    target, deps = rule.split(":", 1)
    deps = re.split(r"(?<!\\) +", deps.strip())          # make's words; "\ " is a space
    assert target == "out/jobs.h"
    assert deps[0] == "jobs.d" and "inc\\ dir/types.h" in deps
    assert "inc\\ dir/types.h:" in phony                       # as gcc -MP: no error once deleted
    # without -C the provider file is the only dependency; -G takes a depfile too
    result = runner.invoke(main, ["-G", "-s", "jobs.d", "-o", "jobs.o", "--depfile", "jobs.o.dep"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "jobs.o.dep").read_text() == "jobs.o: \\\n  jobs.d\n"


# ---------------------------------------------------------------------------- CMake

def test_cmake_builds_the_example_and_rebuilds_only_what_changed(tmp_path):
    generator = cmake_generator()
    work = example_copy(tmp_path)
    with open(work / "CMakeLists.txt", "a") as f:
        f.write("target_sources(app PRIVATE util.c)\n")
    build = work / "build"
    cmake_configure(work, build, generator, f"-Dusdtgen_DIR={cmake_dir()}")
    cmake_build(build)
    app = build / "app"
    assert probes_of(app) == EXAMPLE_PROBES
    assert run([str(app), "3"], work).startswith("handled 3 requests")

    objects = build / "CMakeFiles" / "app.dir"
    outputs = mtimes(build / "usdtgen" / "app" / "myapp.h", objects / "app.c.o",
                     objects / "util.c.o", app)
    # nothing changed: nothing to do
    output = cmake_build(build)
    assert not changed(outputs)
    if generator == "Ninja":
        assert "no work to do" in run(["ninja", "-d", "explain"], build)
    # the provider file touched, not changed: with Ninja usdtgen leaves the header (restat)
    # and nothing recompiles; with make the header is touched so that make settles: what
    # includes it is rebuilt once, then nothing is left to do
    touch(work / "myapp.d")
    cmake_build(build)
    if generator == "Ninja":
        assert not changed(outputs)
        assert "no work to do" in run(["ninja"], build)
    else:
        assert changed(outputs) == {"myapp.h", "app.c.o", "app"}
        outputs = mtimes(*outputs)
        cmake_build(build)
        assert not changed(outputs)
    # a new probe: the header, the object that includes it, the program; util.c.o stays
    add_probe(work / "myapp.d")
    output = cmake_build(build)
    assert changed(outputs) == {"myapp.h", "app.c.o", "app"}, output
    assert probes_of(app) == EXAMPLE_PROBES   # the new probe has no site: no note either
    assert "MYAPP_CACHE_MISS" in (build / "usdtgen" / "app" / "myapp.h").read_text()


# ---------------------------------------------------------------------------- make

def test_make_builds_the_example_and_rebuilds_only_what_changed(tmp_path):
    require_tool("make")
    usdtgen_on_path()
    work = example_copy(tmp_path)
    make = ["make", "OBJS=app.o util.o"]
    run(make + ["-j4"], work)
    app = work / "app"
    assert probes_of(app) == EXAMPLE_PROBES
    assert (work / "myapp.h.dep").read_text().startswith("myapp.h: \\\n  myapp.d")

    outputs = mtimes(work / "myapp.h", work / "app.o", work / "util.o", app)
    output = run(make, work)
    assert "usdtgen" not in output and "up to date" in output
    assert not changed(outputs)
    # touched, not changed: the header gets the time now (its content stays), so make
    # rebuilds what includes it once and then settles instead of running usdtgen every time
    header_text = (work / "myapp.h").read_text()
    touch(work / "myapp.d")
    output = run(make, work)
    assert changed(outputs) == {"myapp.h", "app.o", "app"}, output
    assert (work / "myapp.h").read_text() == header_text
    outputs = mtimes(*outputs)
    output = run(make, work)
    assert "usdtgen" not in output and "up to date" in output
    assert not changed(outputs)
    add_probe(work / "myapp.d")
    output = run(make, work)
    assert changed(outputs) == {"myapp.h", "app.o", "app"}, output
    assert "MYAPP_CACHE_MISS" in (work / "myapp.h").read_text()


# ---------------------------------------------------------------------------- -C depfiles

JOBS_D = '#include "types.h"\nprovider jobs {\n\tprobe run(JOB_ID id);\n};\n'
JOBS_MAIN = '#include "jobs.h"\nint main(void) { JOBS_RUN(7); return 0; }\n'


def cpp_project(tmp_path: Path) -> Path:
    work = tmp_path / "jobs"
    (work / "inc").mkdir(parents=True)
    (work / "inc" / "types.h").write_text("#define JOB_ID int\n")
    (work / "jobs.d").write_text(JOBS_D)
    (work / "main.c").write_text(JOBS_MAIN)
    (work / "util.c").write_text(UTIL_C)
    (work / "Makefile").write_text(
        "include $(shell usdtgen --make-include)\nUSDTGEN_FLAGS = -I inc\n\n"
        "jobs: main.o util.o\n\t$(CC) -o $@ main.o util.o\nmain.o: main.c jobs.h\n")
    (work / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.16)\nproject(jobs C)\n"
        "find_package(usdtgen REQUIRED)\nadd_executable(jobs main.c util.c)\n"
        "usdtgen_add_provider(jobs jobs.d INCLUDES inc)\n")
    return work


@pytest.mark.parametrize("tool", ["make", "cmake-ninja"])
def test_included_header_change_regenerates(tool, tmp_path):
    usdtgen_on_path()
    work = cpp_project(tmp_path)
    if tool == "make":
        require_tool("make")
        build, header, objects = work, work / "jobs.h", (work / "main.o", work / "util.o")
    else:
        require_tool("cmake")
        require_tool("ninja")
        build = work / "build"
        cmake_configure(work, build, "Ninja", f"-Dusdtgen_DIR={cmake_dir()}")
        header = build / "usdtgen" / "jobs" / "jobs.h"
        objects = (build / "CMakeFiles/jobs.dir/main.c.o", build / "CMakeFiles/jobs.dir/util.c.o")

    def build_it() -> str:
        return run(["make", "-j4"], work) if tool == "make" else cmake_build(build)

    build_it()
    assert "/* jobs:::run(int id) */" in header.read_text()     # JOB_ID from types.h
    outputs = mtimes(header, *objects, build / "jobs")
    later()
    (work / "inc" / "types.h").write_text("#define JOB_ID long long\n")
    output = build_it()
    assert "/* jobs:::run(long long id) */" in header.read_text(), output
    assert changed(outputs) == {header.name, objects[0].name, "jobs"}, output
    outputs = mtimes(header, *objects, build / "jobs")
    # touched, not changed: Ninja (restat) rebuilds nothing; make gets a header newer than
    # its inputs, rebuilds what includes it once, then settles
    touch(work / "inc" / "types.h")
    output = build_it()
    if tool != "make":
        assert not changed(outputs), output
        assert "no work to do" in run(["ninja"], build)
    else:
        assert changed(outputs) == {header.name, objects[0].name, "jobs"}, output
        outputs = mtimes(header, *objects, build / "jobs")
        output = build_it()
        assert not changed(outputs) and "usdtgen" not in output, output


# ---------------------------------------------------------------------------- DTRACE=usdtgen

AUTOCONF_MAKEFILE_IN = """\
DTRACE = @DTRACE@
DTRACEFLAGS = -64

prog: a.o probes.o
\t$(CC) -o $@ a.o probes.o
a.o: a.c probes.h
probes.h: probes.d
\t$(DTRACE) $(DTRACEFLAGS) -C -h -s probes.d -o probes.h
probes.o: probes.d a.o
\t$(DTRACE) $(DTRACEFLAGS) -C -G -s probes.d -o probes.o a.o
"""
AUTOCONF_CONFIGURE = """\
#!/bin/sh
# AC_PATH_PROG(DTRACE, dtrace) keeps $DTRACE when set; AC_CONFIG_FILES substitutes it
DTRACE=${DTRACE:-$(command -v dtrace)}
test -n "$DTRACE" || { echo "configure: error: dtrace not found" >&2; exit 1; }
sed "s|@DTRACE@|$DTRACE|" Makefile.in > Makefile
"""


def test_dtrace_equals_usdtgen_in_a_build_written_for_dtrace(tmp_path):
    require_tool("make")
    usdtgen_on_path()
    (tmp_path / "probes.d").write_text(
        "#define WITH_COUNT 1\nprovider ac {\n\tprobe start(int n);\n"
        "#if WITH_COUNT\n\tprobe count(int n, const char *what);\n#endif\n};\n")
    (tmp_path / "a.c").write_text(
        '#include <stdio.h>\n#include "probes.h"\n'
        "int main(int argc, char **argv) {\n\tAC_START(argc);\n"
        "\tif (AC_COUNT_ENABLED())\n\t\tAC_COUNT(argc, argv[0]);\n"
        '\tputs("ran");\n\treturn 0;\n}\n')
    (tmp_path / "Makefile.in").write_text(AUTOCONF_MAKEFILE_IN)
    (tmp_path / "configure").write_text(AUTOCONF_CONFIGURE)
    (tmp_path / "configure").chmod(0o755)
    run(["./configure", "--enable-dtrace"], tmp_path, {**os.environ, "DTRACE": "usdtgen"})
    assert "DTRACE = usdtgen" in (tmp_path / "Makefile").read_text()
    output = run(["make"], tmp_path)
    assert "usdtgen -64 -C -G -s probes.d -o probes.o a.o" in output
    assert (tmp_path / "probes.o").read_bytes()[:4] == b"\x7fELF"
    assert run(["./prog"], tmp_path) == "ran\n"
    assert probes_of(tmp_path / "prog") == {("ac", "start"), ("ac", "count")}


MESON_BUILD = """\
project('mesonprobes', 'c')
dtrace = find_program('dtrace')
probes_h = custom_target('probes_h', input : 'probes.d', output : 'probes.h',
  command : [dtrace, '-C', '-h', '-s', '@INPUT@', '-o', '@OUTPUT@'])
probes_o = custom_target('probes_o', input : 'probes.d', output : 'probes.o',
  command : [dtrace, '-C', '-G', '-s', '@INPUT@', '-o', '@OUTPUT@'])
executable('prog', 'main.c', probes_h, probes_o)
"""


def test_meson_project_with_dtrace_replaced_by_usdtgen(tmp_path):
    # as glib's meson.build does it: find_program('dtrace'), -h and -G custom targets; a
    # native file points 'dtrace' at usdtgen. The provider file includes a system header
    # and maps its arguments, as real ones do
    require_tool("meson")
    require_tool("ninja")
    usdtgen_on_path()
    (tmp_path / "meson.build").write_text(MESON_BUILD)
    (tmp_path / "probes.d").write_text(
        "#include <sys/types.h>\nprovider mp {\n"
        "\tprobe start(pid_t pid, int n) : (int n, pid_t pid, int n);\n"
        "\tprobe count(int n, const char *what);\n};\n")
    (tmp_path / "main.c").write_text(
        '#include <stdio.h>\n#include <unistd.h>\n#include "probes.h"\n'
        "int main(int argc, char **argv) {\n\tMP_START(getpid(), argc);\n"
        "\tif (MP_COUNT_ENABLED())\n\t\tMP_COUNT(argc, argv[0]);\n"
        '\tputs("ran");\n\treturn 0;\n}\n')
    (tmp_path / "native.ini").write_text("[binaries]\ndtrace = 'usdtgen'\n")
    run(["meson", "setup", "build", "--native-file", "native.ini"], tmp_path)
    output = run(["ninja", "-v", "-C", "build"], tmp_path)
    assert "usdtgen -C -G -s ../probes.d -o probes.o" in output
    assert run(["./build/prog"], tmp_path) == "ran\n"
    assert probes_of(tmp_path / "build" / "prog") == {("mp", "start"), ("mp", "count")}


# ---------------------------------------------------------------------------- find_package

def _install_into_venv(tmp_path: Path) -> Path:
    """A fresh venv with this checkout pip-installed (not editable), offline when possible."""
    source = tmp_path / "src"
    source.mkdir()
    shutil.copytree(ROOT / "usdtgen", source / "usdtgen",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    venv = tmp_path / "venv"
    made = subprocess.run([sys.executable, "-m", "venv", "--system-site-packages",
                           "--without-pip", str(venv)], capture_output=True, text=True,
                          check=False)
    require(made.returncode == 0, f"cannot create a virtual environment: {made.stderr}")
    python = venv / "bin" / "python"
    has_pip = subprocess.run([str(python), "-m", "pip", "--version"], capture_output=True,
                             check=False)
    require(has_pip.returncode == 0, "pip cannot run in a virtual environment")
    # the dependencies come from the system site-packages; build offline when the backend is
    # here (setuptools >= 64 and wheel), else let pip fetch it
    backend_check = ("import setuptools, wheel, sys; "
                     "sys.exit(int(setuptools.__version__.split('.')[0]) < 64)")
    offline = subprocess.run([str(python), "-c", backend_check], capture_output=True,
                             check=False)
    flags = ["--no-build-isolation", "--no-index"] if offline.returncode == 0 else []
    run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check",
         *flags, str(source)], tmp_path)
    return venv


def test_find_package_after_pip_install_needs_no_path(tmp_path):
    generator = cmake_generator()
    require_tool("make")
    venv = _install_into_venv(tmp_path)
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("usdtgen_DIR", None)
    assert (venv / "share" / "cmake" / "usdtgen" / "usdtgenConfig.cmake").is_file()
    shipped = Path(run(["usdtgen", "--cmake-dir"], tmp_path, env).strip())
    assert venv in shipped.parents and (shipped / "usdtgenConfig.cmake").is_file()

    work = example_copy(tmp_path)
    build = work / "build"
    output = cmake_configure(work, build, generator, env=env)   # no -Dusdtgen_DIR
    assert f"Found usdtgen: {venv / 'bin' / 'usdtgen'}" in output
    cache = (build / "CMakeCache.txt").read_text()
    assert f"usdtgen_DIR:PATH={venv / 'share' / 'cmake' / 'usdtgen'}" in cache
    cmake_build(build, env)
    assert probes_of(build / "app") == EXAMPLE_PROBES
    # and the Makefile, with the venv's usdtgen.mk
    run(["make", "-j4"], work, env)
    assert probes_of(work / "app") == EXAMPLE_PROBES

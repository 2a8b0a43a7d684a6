"""Strings passed as a pointer and a length, not NUL-terminated (memcached's keys): with
``#pragma usdtgen string_length`` in the provider file, ``usdtgen trace`` (text, ``--json``)
and a D script's ``args[N]`` read exactly that many bytes, with BPF and with the kernel's
fetch-args; without it the stale bytes after the key show (which could be another client's
data). ``-f '%.*s'`` takes the length from the argument before the string. A ``--types``
file overrides the binary's type note, the pragma included.

Every test leaves ``uprobe_events`` as it found it.
"""
from __future__ import annotations

import json
import os
import shutil

import pytest

from conftest import (USDTGEN, compile_program, ensure_tracefs, no_uprobe_events_left_after,
                      require, trace_to_end, write_header)
from usdtgen.elf.notes import read_probes

PROVIDER = """\
provider mc {
  probe get(int conn, const char *key, int keylen);
  probe key(int keylen, const char *key);
};
"""
PRAGMA = "#pragma usdtgen string_length mc:get key keylen\n"
# the keys sit in one buffer that holds other clients' data after them, and no NUL
PROGRAM = r"""
#include <string.h>
#include "probes.h"

char buffer[256];

int main(void)
{
  memset(buffer, 'S', sizeof buffer - 1);        /* stale: another client's bytes */
  memcpy(buffer, "alpha", 5);
  memcpy(buffer + 100, "bravo-charlie", 13);
  MC_GET(1, buffer, 5);
  MC_GET(2, buffer + 100, 13);
  MC_GET(3, buffer, 0);
  MC_GET(4, buffer, -1);
  MC_KEY(5, buffer);
  return 0;
}
"""
EXPECTED = ["alpha", "bravo-charlie", "", ""]
NO_BPF = {**os.environ, "USDTGEN_NO_BPF": "1"}


@pytest.fixture(autouse=True)
def no_uprobe_events_left():
    yield from no_uprobe_events_left_after()


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    """(built with the pragma, built without it, the pragma's provider file)."""
    ensure_tracefs()
    built = []
    for pragma in (PRAGMA, ""):
        folder = tmp_path_factory.mktemp("counted")
        write_header(folder, PROVIDER + pragma)
        (folder / "probes.d").write_text(PROVIDER + pragma)
        built.append(compile_program(folder, PROGRAM, output="mc"))
    return built[0], built[1], built[0].parent / "probes.d"


def keys_of_text(output: str) -> list[str]:
    return [line.split('key="', 1)[1].split('" keylen=', 1)[0]
            for line in output.splitlines() if "mc:get" in line]


def test_type_note_records_the_length(programs):
    counted, plain, _ = programs
    assert read_probes(str(counted)).types["mc", "get"].string_lengths == ((1, 2),)
    assert read_probes(str(plain)).types["mc", "get"].string_lengths == ()


@pytest.mark.parametrize("env", [None, NO_BPF], ids=["bpf", "fetch-args"])
def test_text_and_json_read_exactly_the_length(programs, env):
    counted, plain, _ = programs
    result = trace_to_end("-c", str(counted), "mc:get", env=env)
    assert result.returncode == 0, result.stderr
    assert keys_of_text(result.stdout) == EXPECTED
    result = trace_to_end("--json", "-c", str(counted), "mc:get", env=env)
    events = [json.loads(line) for line in result.stdout.splitlines()
              if '"type": "event"' in line]
    assert [e["args"]["key"] for e in events] == EXPECTED
    # without the pragma the same program shows what lies after the key
    result = trace_to_end("-c", str(plain), "mc:get", env=env)
    assert keys_of_text(result.stdout)[0].startswith("alphaSSSS")


@pytest.mark.parametrize("env", [None, NO_BPF], ids=["bpf", "fetch-args"])
def test_d_args_read_exactly_the_length(programs, env):
    counted, _, _ = programs
    result = trace_to_end("-q", "-e", 'mc:::get { printf("[%s]\\n", args[1]); }',
                          "-c", str(counted), env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [f"[{key}]" for key in EXPECTED]


def test_star_precision_takes_the_length_from_the_argument_before(programs):
    _, plain, _ = programs
    result = trace_to_end("-f", "%.*s|\n", "-c", str(plain), "mc:key")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "alpha|"


def test_types_file_overrides_the_binarys_type_note(programs, tmp_path):
    # the program built without the pragma, traced with the provider file that has it
    _, plain, provider_file = programs
    result = trace_to_end("--types", str(provider_file), "-c", str(plain), "mc:get")
    assert result.returncode == 0, result.stderr
    assert keys_of_text(result.stdout) == EXPECTED
    renamed = tmp_path / "renamed.d"
    renamed.write_text(PROVIDER.replace("int conn", "int connection"))
    require(USDTGEN is not None and shutil.which("readelf") is not None, "usdtgen, readelf")
    result = trace_to_end("--types", str(renamed), "-c", str(plain), "mc:get")
    assert "connection=1 " in result.stdout


def test_each_description_gets_its_own_count(programs):
    counted, _, _ = programs
    result = trace_to_end("-e", "mc:::get { } mc:::key, mc:::nothing* { } BEGIN { }", "-Z",
                          "-c", str(counted))
    notices = [line for line in result.stderr.splitlines() if "matched" in line]
    assert notices == ["usdtgen: description 'mc:::get' matched 1 probe",
                       "usdtgen: description 'mc:::key' matched 1 probe",
                       "usdtgen: description 'mc:::nothing*' matched 0 probes",
                       "usdtgen: description 'BEGIN' matched 1 probe"]

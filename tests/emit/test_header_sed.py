"""Builds post-process the generated header with sed: memcached turns `char *` into
`const char *`, PostgreSQL renames the macros and does the same to `char *` parameters.
The header must still compile, and the type note must still record the types the provider
file declares (not `const const char *`)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import USDTGEN, require, require_tool
from usdtgen.elf.notes import read_probes

PROVIDER = """\
provider postgresql {
\tprobe query__start(char *query);
\tprobe statement__status(const char *status, char *extra, int n);
\tprobe buffer__read(void *page, unsigned int block);
\tprobe sort__done(char, long);
};
"""
DECLARED = {"query__start": (("query", "char *"),),
            "statement__status": (("status", "const char *"), ("extra", "char *"),
                                  ("n", "int")),
            "buffer__read": (("page", "void *"), ("block", "unsigned int")),
            "sort__done": (("", "char"), ("", "long"))}
# memcached's Makefile.am and PostgreSQL's src/backend/utils/postprocess_dtrace.sed
SED_RULES = {
    "memcached": ["-e", r"s,char \*,const char \*,g", "-e", r"s,void \*,const void \*,g"],
    "postgresql": ["-e", "s/POSTGRESQL_/TRACE_POSTGRESQL_/g",
                   "-e", r"s/( *char \*/(const char */g", "-e", r"s/, *char \*/, const char */g"],
}
MAIN = """\
#include "probes.h"
int main(int argc, char **argv) {{
\t{p}QUERY_START(argv[0]);
\t{p}STATEMENT_STATUS(argv[0], argv[0], argc);
\t{p}BUFFER_READ(argv, 7u);
\t{p}SORT_DONE('x', 2L);
\treturn 0;
}}
"""


@pytest.mark.parametrize("rules", sorted(SED_RULES))
@pytest.mark.parametrize("compiler, strict", [("gcc", False), ("g++", False), ("gcc", True),
                                              ("clang", True)])
def test_type_note_survives_the_builds_sed(tmp_path: Path, rules, compiler, strict):
    require(USDTGEN is not None, "the usdtgen executable is not installed")
    cc = require_tool(compiler)
    sed = require_tool("sed")
    (tmp_path / "probes.d").write_text(PROVIDER)
    subprocess.run([USDTGEN, "-h", *(["--strict"] if strict else []), "-s", "probes.d", "-o",
                    "raw.h"], cwd=tmp_path, check=True)
    edited = subprocess.run([sed, *SED_RULES[rules], "raw.h"], cwd=tmp_path, check=True,
                            capture_output=True, text=True).stdout
    assert edited != (tmp_path / "raw.h").read_text()          # the rules did change it
    (tmp_path / "probes.h").write_text(edited)
    prefix = "TRACE_POSTGRESQL_" if rules == "postgresql" else "POSTGRESQL_"
    source = tmp_path / ("main.cc" if compiler == "g++" else "main.c")
    source.write_text(MAIN.format(p=prefix))
    result = subprocess.run([cc, "-O2", "-Wall", "-Wextra", "-Werror", str(source), "-o",
                             "prog"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    types = read_probes(str(tmp_path / "prog")).types
    assert {name: entry.args for (_, name), entry in types.items()} == DECLARED

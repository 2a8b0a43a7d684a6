"""copyin(), copyinto() and copyinstr() in D scripts over real uprobes on a program built here.

The program passes a struct on its stack by pointer and wipes it right after the probe: the
values a clause reads through copyin(argN, sizeof (...)) are the ones the program had when
the probe fired only if the kernel copied them then, as DTrace does. A string the struct
points to that stays in memory (a literal) is read from the process afterwards with
copyinstr(), and an address that is nothing is DTrace's "invalid address" error.
"""
from __future__ import annotations

import pytest

from conftest import compile_program, ensure_tracefs, no_uprobe_events_left_after, \
    trace_to_end, write_header

PROVIDER = "provider cp { probe point(void *p, int i); probe nothing(void *p); };\n"
PROGRAM = r"""
#include <stdlib.h>
#include <unistd.h>
#include "probes.h"

struct point { int x; short y; char name[13]; const char *label; };

static void __attribute__((noinline)) fire(int i)
{
  volatile struct point p = { i, (short) -i, "pt", "a-literal" };
  p.name[2] = '0' + i % 10;
  CP_POINT((void *) &p, i);
  for (volatile char *c = (volatile char *) &p; c < (volatile char *) (&p + 1); c++)
    *c = (char) 0xff;                          /* what a late read would see */
}

int main(int argc, char **argv)
{
  int n = atoi(argv[1]);
  for (int i = 1; i <= n; i++)
    fire(i);
  CP_NOTHING((void *) 8);
  usleep(300000);                              /* the literal stays readable a while */
  return 0;
}
"""
SCRIPT = r"""
#pragma D option quiet
struct point { int x; short y; char name[13]; char *label; };

cp*:::point
{
    this->p = (struct point *) copyin(arg0, sizeof (struct point));
    printf("%d %d %d %s %s\n", arg1, this->p->x, this->p->y, stringof(this->p->name),
        copyinstr((uintptr_t) this->p->label));
    this->q = (struct point *) alloca(sizeof (struct point));
    copyinto(arg0, 4, this->q);
    printf("into %d\n", this->q->x);
}

cp*:::nothing
{
    printf("%d\n", *(int *) copyin(arg0, 4));
}

ERROR
{
    printf("error %s\n", probename);
}
"""


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    ensure_tracefs()
    folder = tmp_path_factory.mktemp("copyin")
    write_header(folder, PROVIDER)
    return compile_program(folder, PROGRAM, output="copyin_app")


@pytest.fixture(autouse=True)
def no_uprobe_events_left():
    yield from no_uprobe_events_left_after()


def test_copyin_reads_what_the_probe_saw(program, tmp_path):
    script = tmp_path / "copy.d"
    script.write_text(SCRIPT)
    result = trace_to_end("-s", str(script), "-c", f"{program} 3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    expected = []
    for i in range(1, 4):
        expected += [f"{i} {i} {-i} pt{i} a-literal", f"into {i}"]
    assert lines[:6] == expected
    # copyin() of address 8 is DTrace's invalid address error: the ERROR clause runs and the
    # error is reported, naming the address
    assert lines[6:7] == ["error ERROR"] and not any(lines[7:])
    assert "invalid address (0x8)" in result.stderr


def test_copyin_in_begin_reads_our_own_memory(tmp_path):
    # DTrace's BEGIN runs in dtrace itself; so does usdtgen's: argv[0] of usdtgen's process
    script = tmp_path / "begin.d"
    script.write_text("BEGIN { this->argv = *(uintptr_t *) copyin(curpsinfo->pr_argv, 8);\n"
                      "  printf(\"%s|%d\\n\", copyinstr(this->argv), curpsinfo->pr_argc > 2);\n"
                      "  exit(0); }\n")
    result = trace_to_end("-q", "-s", str(script))
    assert result.returncode == 0, result.stderr
    first, bigger = result.stdout.strip().split("|")
    assert "python" in first or first.endswith("usdtgen")
    assert bigger == "1"

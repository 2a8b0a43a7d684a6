"""The tracer tells the truth about a forking server and about threads that change CPU, as the
real ``usdtgen`` executable over real uprobes:

- ``-p`` on a server follows its process tree: children forked before tracing started and
  children forked later, exiting while their siblings still fire; every event of every child
  arrives (the program's own count), none of another process running the same binary;
- the same for a path trace (every process running the program) and for ``-c`` through a
  wrapper that forks and runs the server in a child of its own;
- ``--json`` events never go back in time, and the classic D latency script
  (``self->ts = timestamp`` ... ``timestamp - self->ts``) over threads re-pinned to other CPUs
  at every request sees no negative latency and matches every pair.

The server ``fsrv PREFORKED ONDEMAND EVENTS``: PREFORKED children exist before the tracer;
each child waits until its probe is enabled, fires born(child) and work(child, 0..EVENTS-1)
and exits; the parent forks ONDEMAND more children, 3 ms apart, once it is traced itself,
then prints ``fired N`` (the number of probe calls) when all have exited.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from conftest import compile_program, ensure_tracefs, Lines, no_uprobe_events_left_after, \
    Processes, trace_to_end, write_header

FSRV_D = """\
provider fsrv {
  probe born(int child);
  probe work(int child, int seq);
};
"""
FSRV_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "probes.h"

/* 1 once this process's probes are armed (the kernel raised the semaphore), 0 after 30 s */
static int wait_traced(void)
{
  for (int i = 0; i < 30000; i++) {
    if (FSRV_WORK_ENABLED() && FSRV_BORN_ENABLED())
      return 1;
    usleep(1000);
  }
  return 0;
}

static void child(int id, int events)
{
  if (!wait_traced())
    _exit(2);
  FSRV_BORN(id);
  for (int i = 0; i < events; i++) {
    FSRV_WORK(id, i);
    usleep(150 + (id % 5) * 100);
  }
  _exit(0);
}

int main(int argc, char **argv)
{
  int preforked = atoi(argv[1]), ondemand = atoi(argv[2]), events = atoi(argv[3]);
  int failed = 0, status;
  for (int c = 0; c < preforked; c++)
    if (fork() == 0)
      child(c, events);
  printf("ready %d\n", (int)getpid());
  fflush(stdout);
  if (!wait_traced())
    return 2;
  for (int c = preforked; c < preforked + ondemand; c++) {
    if (fork() == 0)
      child(c, events);
    usleep(3000);
  }
  while (wait(&status) > 0)
    failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  printf("fired %d\n", failed ? -1 : (preforked + ondemand) * (events + 1));
  fflush(stdout);
  return failed;
}
"""

LAT_D = """\
provider lat {
  probe start(int thread, int request);
  probe done(int thread, int request);
};
"""
# THREADS threads each serve REQUESTS requests; every request starts on one CPU and is
# re-pinned to the next CPU before it is done, so start and done are written to the
# per-CPU buffers of different CPUs.
LAT_C = r"""
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "probes.h"

static int cpus, requests;

static void pin(int cpu)
{
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % cpus, &set);
  sched_setaffinity(0, sizeof set, &set);
}

static void *serve(void *arg)
{
  int thread = (int)(long)arg;
  for (int r = 0; r < requests; r++) {
    pin(thread + r);
    LAT_START(thread, r);
    for (volatile int spin = 0; spin < 2000; spin++)
      ;
    pin(thread + r + 1);
    LAT_DONE(thread, r);
  }
  return NULL;
}

int main(int argc, char **argv)
{
  int threads = atoi(argv[1]);
  requests = atoi(argv[2]);
  cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
  pthread_t ids[64];
  for (long t = 0; t < threads; t++)
    pthread_create(&ids[t], NULL, serve, (void *)t);
  for (int t = 0; t < threads; t++)
    pthread_join(ids[t], NULL);
  printf("pairs %d cpus %d\n", threads * requests, cpus);
  return 0;
}
"""

WRAPPER = """\
import os, sys
# forks, runs its arguments in the child and waits for it, as runuser and sudo do
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""


@pytest.fixture(scope="module")
def fsrv(tmp_path_factory) -> Path:
    ensure_tracefs()
    folder = tmp_path_factory.mktemp("fsrv")
    write_header(folder, FSRV_D)
    return compile_program(folder, FSRV_C, output="fsrv")


@pytest.fixture(scope="module")
def lat(tmp_path_factory) -> Path:
    ensure_tracefs()
    folder = tmp_path_factory.mktemp("lat")
    write_header(folder, LAT_D)
    return compile_program(folder, LAT_C, output="lat", flags=("-O2", "-pthread"))


@pytest.fixture(autouse=True)
def no_uprobe_events_left():
    yield from no_uprobe_events_left_after()


def records(stdout: str) -> tuple[list[dict], dict]:
    # (a -c command's own output shares the tracer's stdout)
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    events = [r for r in lines if r["type"] == "event"]
    summaries = [r for r in lines if r["type"] == "summary"]
    assert len(summaries) == 1, stdout[-500:]
    return events, summaries[0]


def assert_every_child_seen(events: list[dict], children: int, per_child: int,
                            pids: set[int] | None = None) -> None:
    """Each child id fired born once and work(id, 0..per_child-1) once each, no more."""
    born = Counter(e["args"]["child"] for e in events if e["probe"] == "born")
    assert born == {c: 1 for c in range(children)}
    work = defaultdict(list)
    for event in events:
        if event["probe"] == "work":
            work[event["args"]["child"]].append(event["args"]["seq"])
    missing = {c: per_child - len(work[c]) for c in range(children)
               if sorted(work[c]) != list(range(per_child))}
    assert not missing, f"events missing per child: {missing}"
    if pids is not None:
        assert {e["pid"] for e in events} <= pids


def assert_in_time_order(events: list[dict]) -> None:
    times = [e["time"] for e in events]
    back = [(a, b) for a, b in zip(times, times[1:]) if b < a]
    assert not back, f"{len(back)} events went back in time, e.g. {back[:3]}"


def test_pid_follows_preforked_and_new_children(fsrv, tmp_path):
    preforked, ondemand, per_child = 4, 16, 200
    with Processes() as procs:
        # another server running the same binary, not part of the traced tree
        other = procs.start([fsrv, 0, 4, per_child], stdout=subprocess.PIPE,
                            text=True)
        server = procs.start([fsrv, preforked, ondemand, per_child],
                             stdout=subprocess.PIPE, text=True)
        server_lines = Lines(server.stdout)
        pid = int(server_lines.first("ready")[1])
        tracer = procs.trace("-p", pid, "--json")
        out, err = tracer.communicate(timeout=60)
        fired = int(server_lines.first("fired")[1])
        other.communicate(timeout=30)
    assert tracer.returncode == 0, err
    assert "warning" not in err, err
    events, summary = records(out)
    children = preforked + ondemand
    assert fired == children * (per_child + 1)
    assert summary["lost"] == 0 and summary["events"] == fired == len(events)
    tree = {e["pid"] for e in events}
    assert other.pid not in tree and len(tree) == children
    assert_every_child_seen(events, children, per_child)
    assert_in_time_order(events)


def test_without_bpf_pid_warns_and_follows_new_children(fsrv):
    """Where BPF cannot be used (forced here), -p says what it cannot follow and still
    traces the children forked after it attached."""
    with Processes() as procs:
        server = procs.start([fsrv, 0, 3, 50], stdout=subprocess.PIPE, text=True)
        pid = int(Lines(server.stdout).first("ready")[1])
        tracer = procs.trace("-p", pid, "--json", env={**os.environ, "USDTGEN_NO_BPF": "1"})
        out, err = tracer.communicate(timeout=60)
    assert tracer.returncode == 0, err
    warning = [line for line in err.splitlines() if "process tree" in line]
    assert len(warning) == 1 and "USDTGEN_NO_BPF" in warning[0], err
    events, summary = records(out)
    assert events and {e["args"]["child"] for e in events} <= {0, 1, 2}
    assert pid not in {e["pid"] for e in events}        # the parent fires no probe


def test_path_trace_sees_every_child(fsrv):
    children, per_child = 12, 150
    with Processes() as procs:
        tracer = procs.trace(fsrv, "--json", "--duration", "6")
        time.sleep(1.5)                              # attached: the server waits for it anyway
        server = procs.start([fsrv, 3, children - 3, per_child],
                             stdout=subprocess.PIPE, text=True)
        server_out, _ = server.communicate(timeout=40)
        out, err = tracer.communicate(timeout=40)
    assert tracer.returncode == 0, err
    events, summary = records(out)
    fired = int(server_out.split("fired")[1].split()[0])
    assert fired == children * (per_child + 1) == summary["events"] and summary["lost"] == 0
    assert_every_child_seen(events, children, per_child)
    assert_in_time_order(events)


@pytest.mark.parametrize("wrapper", ["python", "sh"])
def test_command_through_a_wrapper_that_forks(fsrv, tmp_path, wrapper):
    children, per_child = 8, 100
    if wrapper == "python":
        script = tmp_path / "wrap.py"
        script.write_text(WRAPPER)
        command = f"{sys.executable} {script} {fsrv} 2 {children - 2} {per_child}"
    else:                                  # the program named inside a shell command line
        command = f"sh -c '{fsrv} 2 {children - 2} {per_child}; exit $?'"
    result = trace_to_end("--json", "-c", command, timeout=60)
    assert result.returncode == 0, result.stderr
    events, summary = records(result.stdout)
    assert summary["lost"] == 0 and summary["events"] == children * (per_child + 1)
    assert_every_child_seen(events, children, per_child)
    assert_in_time_order(events)


def test_events_in_time_order_across_cpus(lat):
    result = trace_to_end("--json", "-c", f"{lat} 4 3000", timeout=60)
    assert result.returncode == 0, result.stderr
    events, summary = records(result.stdout)
    assert summary["lost"] == 0 and len(events) == 2 * 4 * 3000
    assert_in_time_order(events)


LATENCY_SCRIPT = """
#pragma D option quiet
lat:::start { self->ts = timestamp; }
lat:::done /self->ts && timestamp >= self->ts/ { @pairs = count(); @lat = quantize(timestamp - self->ts); }
lat:::done /self->ts && timestamp < self->ts/ { @negative = count(); }
lat:::done /!self->ts/ { @unmatched = count(); }
lat:::done { self->ts = 0; }
END { printa("pairs %@d\\n", @pairs); printa("negative %@d\\n", @negative);
      printa("unmatched %@d\\n", @unmatched); }
"""


def test_latency_script_pairs_every_request_across_cpus(lat, tmp_path):
    ncpu = len(os.sched_getaffinity(0))
    threads, requests = 4, 5000
    script = tmp_path / "latency.d"
    script.write_text(LATENCY_SCRIPT)
    result = trace_to_end("-s", script, "-c", f"{lat} {threads} {requests}", timeout=90)
    assert result.returncode == 0, result.stderr
    figures = dict(re.findall(r"^(pairs|negative|unmatched) (\d+)$", result.stdout, re.M))
    assert f"pairs {threads * requests} cpus {ncpu}" in result.stdout
    assert figures.get("pairs") == str(threads * requests), result.stdout
    assert "negative" not in figures and "unmatched" not in figures, result.stdout

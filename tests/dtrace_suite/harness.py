"""Run the DTrace test-suite scripts picked by pick_tests.py with ``usdtgen trace -C -s`` and
judge each one as the suite's own harness (illumos' dtest.pl) does; run as a script, print
the pass rate per directory and every failure with its reason.

Judging, as dtest.pl:
- the command is ``usdtgen trace -C -s NAME.d``, run in the test's directory, with a
  timeout;
- a ``tst.*`` test passes when it exits 0 and, if it has a ``.d.out`` file, its standard
  output is exactly that file (and its standard error exactly the ``.d.err`` file, if any);
- an ``err.*`` test passes when it fails: here, cleanly, with exit status 1, no Python
  traceback, and its error messages naming usdtgen or the script (``NAME.d:LINE:COL: ...``,
  source context lines indented under them).
One difference of tool, not of behaviour, is undone before comparing standard error:
usdtgen's messages start with ``usdtgen:`` where dtrace's start with ``dtrace:``.

A ``tst`` test that uses what has no meaning for a tracer of user space (a kernel variable or
type, the kernel's stack or built-ins such as curthread, a destructive action) passes only
in DTrace; usdtgen refuses it as specified, and the test is counted apart as "refused by
design" when usdtgen exits 1 with exactly one error, of one of REFUSALS, and no traceback.
The tst pass rate is over the other tests.

Two ``err`` tests check limits of illumos' implementation rather than of D; they are listed in
NOT_APPLICABLE with the reason, and counted apart (Oracle's DTrace for Linux dropped both).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUITE = HERE / "common"
KNOWN_FAILURES = HERE / "known_failures.txt"
TIMEOUT = 30.0                       # seconds; the slowest scripts tick for about 10
ERR_TIMEOUT = 10.0                   # an err script still running by then did not fail


# usdtgen's refusals of what only has a meaning in the kernel or is destructive
REFUSALS = re.compile(r": error: .*(usdtgen traces user space|usdtgen has no "
                      r"(kernel [a-z ]+|destructive actions)$)")


REFUSED_MARK = "refused by design: "      # in known_failures.txt
NOT_APPLICABLE = {
    "common/cg/err.D_NOREG.noreg.d":
        "it needs more than the 8 registers of illumos' DIF machine; D sets no such limit",
    "common/preprocessor/err.D_PRAGCTL_INVAL.tabdefine.d":
        "illumos' cpp reads '#define' in column 1 only; GNU cpp, which -C runs here, reads "
        "an indented one too",
}


@dataclass
class Outcome:
    test: str                        # common/DIR/NAME.d
    passed: bool
    reason: str = ""                 # why it failed, one line
    refused: bool = False            # refused by design (REFUSALS)


def all_tests() -> list[str]:
    return sorted(str(p.relative_to(HERE)) for p in SUITE.rglob("*.d")
                  if p.name.startswith(("tst.", "err.")))


def usdtgen_command() -> list[str]:
    exe = shutil.which("usdtgen")
    return [exe] if exe else [sys.executable, "-m", "usdtgen"]


def _first_difference(want: str, got: str) -> str:
    want_lines, got_lines = want.splitlines(), got.splitlines()
    for number, (w, g) in enumerate(zip(want_lines, got_lines), 1):
        if w != g:
            return f"line {number}: expected {w!r}, got {g!r}"
    return f"expected {len(want_lines)} lines, got {len(got_lines)}" \
        if len(want_lines) != len(got_lines) else "a difference in line endings"


def run_one(test: str, command: list[str] | None = None) -> Outcome:
    script = HERE / test
    command = (command or usdtgen_command()) + ["trace", "-C", "-s", script.name]
    timeout = ERR_TIMEOUT if script.name.startswith("err.") else TIMEOUT
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              cwd=script.parent, errors="replace", stdin=subprocess.DEVNULL,
                              env={**os.environ, "LC_ALL": "C", "TZ": "UTC"})
    except subprocess.TimeoutExpired:
        return Outcome(test, False, f"timed out after {timeout:.0f} s")
    if "Traceback (most recent call last)" in done.stderr:
        return Outcome(test, False, "Python traceback: " + done.stderr.strip().splitlines()[-1])
    if script.name.startswith("err."):
        if done.returncode != 1:
            return Outcome(test, False, f"exit status {done.returncode}, not 1 (a clean error)")
        stray = [line for line in done.stderr.splitlines() if line.strip() and
                 not line.startswith(("usdtgen:", script.name, "    "))]
        if stray:
            return Outcome(test, False, f"stray error output: {stray[0][:120]}")
        return Outcome(test, True)
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["(nothing on stderr)"])[0]
        errors = [line for line in done.stderr.splitlines() if ": error: " in line]
        refused = done.returncode == 1 and len(errors) == 1 and \
            REFUSALS.search(errors[0]) is not None
        return Outcome(test, False, f"exit status {done.returncode}: {first[:160]}", refused)
    expected_out = Path(f"{script}.out")
    if expected_out.exists():
        want = expected_out.read_text(errors="replace")
        if done.stdout != want:
            return Outcome(test, False, "stdout differs: " +
                           _first_difference(want, done.stdout)[:200])
    expected_err = Path(f"{script}.err")
    if expected_err.exists():
        stderr = re.sub(r"^usdtgen:", "dtrace:", done.stderr, flags=re.M)
        want = expected_err.read_text(errors="replace")
        if stderr != want:
            return Outcome(test, False, "stderr differs: " + _first_difference(want, stderr)[:200])
    return Outcome(test, True)


def run_all(tests: list[str], workers: int | None = None) -> dict[str, Outcome]:
    command = usdtgen_command()
    workers = workers or max(4, 2 * (os.cpu_count() or 1))
    with ThreadPoolExecutor(workers) as pool:
        return dict(zip(tests, pool.map(lambda t: run_one(t, command), tests)))


def known_failures() -> dict[str, str]:
    """test -> the reason it is known to fail (known_failures.txt: ``TEST  reason``)."""
    known = {}
    if KNOWN_FAILURES.exists():
        for line in KNOWN_FAILURES.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                test, _, reason = line.partition(" ")
                known[test] = reason.strip()
    return known


def report(outcomes: dict[str, Outcome]) -> str:
    """Pass rates per directory and kind, then the totals: tst tests refused by design
    are counted apart, the tst rate is over the others."""
    # tst passed, tst (not refused), tst refused, err passed, err
    table: dict = defaultdict(lambda: [0, 0, 0, 0, 0])
    not_applicable = 0
    for test, outcome in outcomes.items():
        if test in NOT_APPLICABLE:
            not_applicable += 1
            continue
        directory, name = test.split("/")[1], test.split("/")[-1]
        row = table[directory]
        if name.startswith("tst."):
            row[2 if outcome.refused else 1] += 1
            row[0] += outcome.passed
        else:
            row[3] += outcome.passed
            row[4] += 1
    lines = [f"{'directory':<14} {'tst passed':>12} {'refused':>8} {'err failed cleanly':>19}"]
    totals = [0, 0, 0, 0, 0]
    for directory in sorted(table):
        row = table[directory]
        totals = [a + b for a, b in zip(totals, row)]
        lines.append(f"{directory:<14} {row[0]:>5}/{row[1]:<6} {row[2]:>8} "
                     f"{row[3]:>9}/{row[4]:<9}")
    lines.append(f"{'all':<14} {totals[0]:>5}/{totals[1]:<6} {totals[2]:>8} "
                 f"{totals[3]:>9}/{totals[4]:<9}")
    lines.append(f"tst: {100 * totals[0] / max(1, totals[1]):.1f}% pass "
                 f"({totals[2]} more refused by design); "
                 f"err: {100 * totals[3] / max(1, totals[4]):.1f}% fail cleanly"
                 f" ({not_applicable} not applicable here)")
    return "\n".join(lines)


def main() -> None:
    """``harness.py [--write-known] [TEST ...]``: run the scripts (all by default), print each
    failure and the pass rates; --write-known rewrites known_failures.txt with this run's
    failures and their reasons."""
    args = sys.argv[1:]
    write = "--write-known" in args
    tests = [str(Path(a).resolve().relative_to(HERE)) if Path(a).exists() else a
             for a in args if a != "--write-known"] or all_tests()
    outcomes = run_all(tests)
    for test, outcome in outcomes.items():
        if test in NOT_APPLICABLE:
            print(f"NOT APPLICABLE {test}  {NOT_APPLICABLE[test]}")
        elif not outcome.passed:
            print(f"{'REFUSED' if outcome.refused else 'FAIL'} {test}  {outcome.reason}")
    print(report(outcomes))
    if write:
        lines = ["# Scripts of the DTrace suite that usdtgen does not pass yet, and why (written",
                 "# by harness.py --write-known from a run; tests/trace/script/",
                 "# test_dtrace_suite.py expects them to fail, and those refused by design",
                 "# to go on being refused)."]
        lines += [f"{test} {REFUSED_MARK if outcome.refused else ''}{outcome.reason}"
                  for test, outcome in sorted(outcomes.items())
                  if not outcome.passed and test not in NOT_APPLICABLE]
        KNOWN_FAILURES.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

"""DTrace's own test suite (illumos), the scripts tests/dtrace_suite/pick_tests.py picked:
each ``tst`` script must run under ``usdtgen trace -C -s`` and print its expected output,
each ``err`` script must fail cleanly, judged as the suite's harness judges
(tests/dtrace_suite/harness.py).

The scripts run in parallel once per session; then one test per script reports its outcome.
Scripts that do not pass yet are listed, each with the reason, in
tests/dtrace_suite/known_failures.txt: they are expected failures, strictly, so a script that
starts passing fails here until it is taken off the list. Those listed as "refused by design"
(a kernel facility or a destructive action) must go on being refused with one clean error;
the two harness.NOT_APPLICABLE ones (limits of illumos' implementation) must run cleanly. ``python
tests/dtrace_suite/harness.py`` prints the pass rate per directory.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parents[2] / "dtrace_suite"
sys.path.insert(0, str(SUITE))
import harness  # noqa: E402

TESTS = harness.all_tests()
KNOWN = harness.known_failures()


@pytest.fixture(scope="module")
def outcomes() -> dict:
    return harness.run_all(TESTS)


def test_the_suite_is_there():
    """The picked scripts are committed: hundreds of each kind, most tst with an output."""
    tst = [t for t in TESTS if "/tst." in t]
    err = [t for t in TESTS if "/err." in t]
    assert len(tst) > 300 and len(err) > 300
    assert sum(Path(SUITE / f"{t}.out").exists() for t in tst) > 150
    assert set(KNOWN) <= set(TESTS), sorted(set(KNOWN) - set(TESTS))[:5]


@pytest.mark.parametrize("test", TESTS)
def test_script(outcomes, test):
    outcome = outcomes[test]
    if test in harness.NOT_APPLICABLE:
        # a limit of illumos' implementation, not of D: it runs, and cleanly
        assert "traceback" not in outcome.reason.lower(), outcome.reason
        return
    if KNOWN.get(test, "").startswith(harness.REFUSED_MARK):
        # what has no meaning in user space: refused with one clean error, as specified
        assert outcome.refused, outcome.reason
        return
    if test in KNOWN:
        if outcome.passed:
            pytest.fail(f"{test} passes now: take it off known_failures.txt")
        pytest.xfail(KNOWN[test])
    assert outcome.passed, outcome.reason

"""Pick, by a written rule, the tests of DTrace's own test suite that usdtgen's D can run, and
copy them here (into common/, next to this file) with their expected results.

The suite is illumos' (usr/src/cmd/dtrace/test/tst/common in illumos-gate, the suite that came
with Solaris DTrace and that FreeBSD and macOS carry too): ``tst.*.d`` scripts that must exit
0 and, where a ``.d.out`` file exists, print exactly it; ``err.*.d`` scripts that must fail
with exit status 1. Run as ``python tests/dtrace_suite/pick_tests.py ILLUMOS_GATE_CHECKOUT``.

The rule (``selected``), applied to every ``tst.*.d`` and ``err.*.d`` of that folder:
1. Its clauses' probe descriptions are all BEGIN, END, ERROR, tick-N or profile-N (with or
   without the ``dtrace:::``/``profile:::`` prefix and any unit DTrace takes): the probes
   that exist with no traced program. Descriptions are read from the script's text with
   comments, strings and preprocessor lines removed: the text at the outermost level before
   each ``{`` that opens a clause, its predicate removed, split at commas. An ``err`` test
   with no clause is kept (it fails before reaching one).
2. It is run by the suite's harness itself with ``dtrace -C -s``: no ksh script, no C
   program started with it (a ``.c``/``.exe`` of the same name).
3. Its directory is not about a facility that has no meaning for user-space tracing on
   Linux without a kernel DTrace; such tests would only check that usdtgen refuses them:
   EXCLUDED_DIRECTORIES says which and why.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

EXCLUDED_DIRECTORIES = {
    "java_api": "libdtrace's Java API",
    "dtraceUtil": "the dtrace command's own options and probe listing",
    "translators": "translators of kernel structures (psinfo_t, ...)",
    "stability": "stability attributes of kernel providers",
    "privs": "Solaris privileges",
    "raise": "a destructive action (sends a signal from the probe)",
    "stop": "a destructive action (stops the process)",
    "mdb": "the Solaris debugger",
    "cpc": "CPU performance counter provider",
    "fbtprovider": "kernel function boundary provider",
    "sched": "kernel scheduler provider",
    "proc": "kernel proc provider",
    "io": "kernel io provider",
    "ip": "kernel ip provider",
    "nfs": "kernel nfs provider",
    "sysevent": "kernel sysevent provider",
    "plockstat": "user lock provider of Solaris' libc",
    "syscall": "kernel syscall provider",
    "sdt": "kernel statically defined tracing",
    "mib": "kernel mib provider",
    "stack": "kernel stacks",
    "drops": "kernel buffer drop accounting",
    "version": "the dtrace command's version",
}

ALLOWED = re.compile(
    r"^(?:dtrace:{1,3}|:{1,3})?(?:BEGIN|END|ERROR)$"
    r"|^(?:profile:{1,3}|:{1,3})?(?:tick|profile)-\d+"
    r"(?:ns|nsec|us|usec|ms|msec|s|sec|m|min|h|hour|d|day|hz)?$")
NOT_A_CLAUSE = re.compile(r"^(?:struct|union|enum|translator|typedef|inline|provider)\b")


def without_comments(text: str) -> str:
    """The script with comments, string literals and preprocessor lines blanked."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)
    text = re.sub(r"'(?:\\.|[^'\\\n])*'", "0", text)
    return re.sub(r"^\s*#[^\n]*", " ", text, flags=re.M)


def probe_descriptions(text: str) -> list[str]:
    """Every probe description of the script's clauses (see the module docstring)."""
    found: list[str] = []
    depth, start = 0, 0
    for i, char in enumerate(text):
        if char == "{":
            if depth == 0:
                head = text[start:i].split(";")[-1].strip()
                if head and not NOT_A_CLAUSE.match(head):
                    head = re.sub(r"/[^/]*/\s*$", "", head, flags=re.S).strip()
                    found += [d.strip() for d in head.split(",") if d.strip()]
            depth += 1
        elif char == "}":
            depth = max(0, depth - 1)
            if depth == 0:
                start = i + 1
        elif char == ";" and depth == 0:
            start = i + 1
    return found


def selected(script: Path) -> bool:
    """Whether the rule picks this test script."""
    name = script.name
    if not name.startswith(("tst.", "err.")) or script.parent.name in EXCLUDED_DIRECTORIES:
        return False
    base = str(script)[:-2]
    if any(Path(base + ext).exists() for ext in (".ksh", ".c", ".exe")):
        return False
    descriptions = probe_descriptions(without_comments(script.read_text(errors="replace")))
    if not descriptions:
        return name.startswith("err.")
    return all(ALLOWED.match(d) for d in descriptions)


def main() -> None:
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.split("\n\n")[0] +
                 "\nusage: pick_tests.py ILLUMOS_GATE_CHECKOUT [COMMIT (if not a git checkout)]")
    checkout = Path(sys.argv[1])
    suite = checkout / "usr" / "src" / "cmd" / "dtrace" / "test" / "tst" / "common"
    if not suite.is_dir():
        sys.exit(f"{checkout}: no usr/src/cmd/dtrace/test/tst/common in it")
    target = HERE / "common"
    shutil.rmtree(target, ignore_errors=True)
    count = 0
    for script in sorted(suite.rglob("*.d")):
        if not selected(script):
            continue
        for companion in (script, Path(f"{script}.out"), Path(f"{script}.err")):
            if companion.exists():
                destination = target / companion.relative_to(suite)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(companion, destination)
        count += 1
    shutil.copy2(checkout / "usr" / "src" / "OPENSOLARIS.LICENSE", HERE / "LICENSE")
    commit = sys.argv[2] if len(sys.argv) == 3 else subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "HEAD"],
        capture_output=True, text=True).stdout.strip() or "unknown"
    (HERE / "SOURCE").write_text(
        "Tests selected from illumos' DTrace test suite (github.com/illumos/illumos-gate;\n"
        f"usr/src/cmd/dtrace/test/tst/common at commit {commit} of a clone of it),\n"
        "by tests/dtrace_suite/pick_tests.py. Common Development and Distribution License\n"
        f"1.0 (LICENSE; each file's header names its copyright holder). {count} test scripts.\n")
    print(f"{count} tests copied to {target}")


if __name__ == "__main__":
    main()

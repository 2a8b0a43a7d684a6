"""What each probe site costs in bytes.

A generated C file has N (default 200) distinct non-inlined functions; each takes six
arguments, does a little arithmetic with them and holds one probe site of its own probe.
It is built (gcc -O2, linked into a PIE executable) once per header:

  none       the same functions, no probes: the baseline
  usdtgen    the usdtgen -h header (it defines the semaphores itself)
  dtrace -h  systemtap's dtrace -h header + the semaphore object its dtrace -G makes
  STAP_PROBE plain <sys/sdt.h> STAP_PROBEn, no semaphores

for probes of 0, 2 and 6 arguments, and for a 2-argument probe guarded by
if (PROBE_ENABLED()). Sizes come from the linked executable's section headers
(pyelftools): .text, .note.stapsdt, the other probe sections (.probes semaphores,
.stapsdt.base, usdtgen's non-allocated .note.usdtgen type notes), the bytes loaded at run
time (all SHF_ALLOC sections) and the file; "code" is the functions' own bytes (their
symbol sizes), which function alignment padding does not hide as it hides it in .text. Each figure is (variant - none) / N.
"""
from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from _common import CC, print_header, run, table, tempdir, usdtgen_cmd

# (label, number of probe arguments, guarded by _ENABLED())
SHAPES = [("0 args", 0, False), ("2 args", 2, False), ("6 args", 6, False),
          ("2 args, if ENABLED()", 2, True)]
IMPLS = ["usdtgen", "dtrace -h", "STAP_PROBE"]
ARG_TYPES = ["int", "long", "const char *", "unsigned int", "short", "unsigned long"]
PROBE_SECTIONS = (".probes", ".stapsdt.base", ".note.usdtgen")


def provider_text(n: int, nargs: int) -> str:
    params = ", ".join(f"{t} a{i}" for i, t in enumerate(ARG_TYPES[:nargs]))
    probes = "\n".join(f"    probe site{k}({params});" for k in range(n))
    return f"provider sz {{\n{probes}\n}};\n"


def c_source(n: int, nargs: int, guarded: bool, impl: str | None) -> str:
    out = ["#include <stddef.h>"]
    if impl == "usdtgen":
        out.append('#include "sz_usdtgen.h"')
    elif impl == "dtrace -h":
        out.append('#include "sz_dtrace.h"')
    elif impl == "STAP_PROBE":
        out.append("#include <sys/sdt.h>")
    params = "int a0, long a1, const char *a2, unsigned int a3, short a4, unsigned long a5"
    args = ", ".join(f"a{i}" for i in range(nargs))
    for k in range(n):
        if impl is None:
            site = ""
        elif impl == "STAP_PROBE":
            site = (f"STAP_PROBE{nargs if nargs else ''}(sz, site{k}{', ' if nargs else ''}"
                    f"{args});")
        else:
            site = f"SZ_SITE{k}({args});"
            if guarded:
                site = f"if (SZ_SITE{k}_ENABLED()) {{ {site} }}"
        out.append(f"__attribute__((noinline)) long f{k}({params})\n{{\n"
                   f"    long r = (a0 + a1) * {k + 3} + (long)a3 - a4 + (long)(a5 >> 3)"
                   f" + (a2 ? a2[{k % 7}] : 0);\n"
                   f"    {site}\n    return r ^ {k * 7919};\n}}")
    out.append("int main(void) { return 0; }")
    return "\n".join(out) + "\n"


def sizes(path: Path) -> dict[str, int]:
    with open(path, "rb") as f:
        elf = ELFFile(f)
        out = {"code": 0, ".text": 0, ".note.stapsdt": 0, "probe other": 0, "loaded": 0}
        symtab = elf.get_section_by_name(".symtab")
        for sym in symtab.iter_symbols():
            if sym["st_info"]["type"] == "STT_FUNC" and re.fullmatch(r"f\d+", sym.name):
                out["code"] += sym["st_size"]
        for sec in elf.iter_sections():
            name, size = sec.name, sec["sh_size"]
            if name in (".text", ".note.stapsdt"):
                out[name] += size
            elif name in PROBE_SECTIONS:
                out["probe other"] += size
            if sec["sh_flags"] & SH_FLAGS.SHF_ALLOC and sec["sh_type"] != "SHT_NOBITS":
                out["loaded"] += size
    out["file"] = path.stat().st_size
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--sites", type=int, default=200, help="probe sites per build")
    opts = ap.parse_args()
    n = opts.sites

    print_header("code size per probe site",
                 f"{n} functions with one probe site each, gcc -O2, linked PIE executable; "
                 "bytes per site over the no-probe build")
    results = {}
    with tempdir("size") as tmp:
        tmp = Path(tmp)
        for label, nargs, guarded in SHAPES:
            d = tmp / f"a{nargs}{'g' if guarded else ''}"
            d.mkdir()
            (d / "sz.d").write_text(provider_text(n, nargs))
            run(usdtgen_cmd() + ["-h", "-s", d / "sz.d", "-o", d / "sz_usdtgen.h"])
            run(["dtrace", "-h", "-s", "sz.d", "-o", "sz_dtrace.h"], cwd=d)
            # dtrace -G compiles its semaphore file with "-g $CFLAGS": -g0 keeps debug
            # info out of the comparison
            run(["dtrace", "-G", "-s", "sz.d", "-o", "sz_dtrace.o"], cwd=d,
                env={**os.environ, "CFLAGS": "-g0 -O2"})
            impls = [None] + [i for i in IMPLS if not (guarded and i == "STAP_PROBE")]
            for impl in impls:
                name = (impl or "none").replace(" ", "_").replace("-", "")
                src = d / f"{name}.c"
                src.write_text(c_source(n, nargs, guarded, impl))
                extra = [d / "sz_dtrace.o"] if impl == "dtrace -h" else []
                exe = d / name
                run([CC, "-O2", "-I", d, src, *extra, "-o", exe])
                results[(label, impl)] = sizes(exe)

    cols = ["code", ".text", ".note.stapsdt", "probe other", "loaded", "file"]
    rows = []
    for label, nargs, guarded in SHAPES:
        base = results[(label, None)]
        for impl in IMPLS:
            if (label, impl) not in results:
                continue
            s = results[(label, impl)]
            rows.append([label, impl] + [f"{(s[c] - base[c]) / n:.1f}" for c in cols])
    print(table(["probe", "header", "code", ".text", ".note.stapsdt", "probes other", "loaded",
                 "file"], rows, align="llrrrrrr"))
    print()
    print("bytes per site. code: the functions' own bytes (symbol sizes, no padding); .text:")
    print("the section (function alignment padding absorbs small growth); .note.stapsdt: the")
    print("site's note (not loaded); probes other: .probes semaphores + .stapsdt.base +")
    print(".note.usdtgen type notes; loaded: all allocated sections; file: executable size.")
    print("Every site has its own probe, so per-probe costs (semaphore, type note) count per site.")
    base = results[("2 args", None)]
    text = {impl: (results[("2 args", impl)]["code"] - base["code"]) / n for impl in IMPLS}
    print(f"\ncode per 2-arg site: usdtgen {text['usdtgen']:.1f} B vs "
          f"sys/sdt.h {text['STAP_PROBE']:.1f} B (dtrace -h {text['dtrace -h']:.1f} B)")


if __name__ == "__main__":
    main()

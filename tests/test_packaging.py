"""What ``pip install .`` installs: every grammar the package loads at run time, and the
console script. (The other tests import the source tree, which would hide a missing file.)"""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_holds_the_grammars_and_the_command(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                             "-q", "-w", str(tmp_path), str(ROOT)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    wheel = next(tmp_path.glob("usdtgen-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    grammars = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "usdtgen").rglob("*.lark"))
    assert grammars and all(g in names for g in grammars), (grammars, names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "usdtgen = usdtgen.entry:main" in zipfile.ZipFile(wheel).read(entry_points).decode()

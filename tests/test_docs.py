"""Every runnable example of the documentation runs: the ```sh blocks of docs/*.md and of
the README, each file's blocks in order in one shell, in a fresh copy of the repository."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import require_tool

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted(ROOT.glob("docs/*.md")) + [ROOT / "README.md"] + sorted(ROOT.glob("examples/*/README.md"))
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)
# README's first block installs the package; the test suite already runs from an install.
SKIP_COMMANDS = ("pip install",)


def runnable_blocks(doc: Path) -> list[str]:
    return [b for b in SH_BLOCK.findall(doc.read_text())
            if not any(c in b for c in SKIP_COMMANDS)]


def repository_copy(tmp_path: Path) -> Path:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    copy = tmp_path / "repo"
    for name in files:
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, target)
    return copy


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(ROOT)) for d in DOCS])
def test_documented_commands_run(doc, tmp_path):
    blocks = runnable_blocks(doc)
    if doc.parent.name == "docs":
        assert blocks, f"{doc.name} has no runnable example"
    if any("aarch64-linux-gnu-gcc" in b for b in blocks):
        require_tool("aarch64-linux-gnu-gcc")
    workdir = repository_copy(tmp_path)
    for i, block in enumerate(blocks, start=1):
        result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block], cwd=workdir,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, (
            f"{doc.name}, block {i} failed ({result.returncode}):\n{block}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}")
        assert "Traceback" not in result.stderr

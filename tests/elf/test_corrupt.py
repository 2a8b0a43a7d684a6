"""Corrupt inputs never crash or hang read_probes: it returns ElfProbes (problems listed) or
raises ElfError with a one-line message, and nothing else, within a bounded time. Then
``usdtgen list`` on such files: exit status 1, one line naming the file, no traceback; and a
good file listed next to a corrupt one is still listed.

The corruptions are made from a probe-bearing program built here (usdtgen's header, gcc -O2):
not-ELF files, truncated copies, hand-patched notes and headers, and a seeded random mutation
fuzz over its ELF header, program and section headers and note sections.
"""
from __future__ import annotations

import os
import random
import signal
import struct
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import compile_program, require, write_header

from usdtgen.elf.notes import ElfProbes, ProbeSite, read_probes
from usdtgen.errors import ElfError
from usdtgen.trace.listing import collect, format_table, format_verbose, site_json
from usdtgen.trace.targets import ElfObject

PER_CASE_SECONDS = 5


class Hang(BaseException):
    """Raised by the alarm; a BaseException, so read_probes' ``except Exception`` lets it by."""


@contextmanager
def time_limit(seconds: float):
    def on_alarm(signum, frame):
        raise Hang(f"still running after {seconds} s")
    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def outcome(path: Path, seconds: float = PER_CASE_SECONDS) -> ElfProbes | ElfError:
    """read_probes' result or ElfError; anything else (or a hang) fails the test."""
    try:
        with time_limit(seconds):
            result = read_probes(str(path))
    except ElfError as e:
        message = str(e)
        assert message and "\n" not in message, f"ElfError message is not one line: {message!r}"
        return e
    except Hang:
        pytest.fail(f"read_probes({path.name}) hangs (> {seconds} s)")
    except Exception as e:  # noqa: BLE001 - the point of the test
        pytest.fail(f"read_probes({path.name}) raised {type(e).__name__}: {e}")
    assert isinstance(result, ElfProbes), result
    for site in result.sites:
        assert isinstance(site, ProbeSite)
        assert all(isinstance(getattr(site, f), str) for f in ("provider", "name", "args_text"))
        assert isinstance(site.address, int) and isinstance(site.base, int)
    assert all(isinstance(p, str) for p in result.problems)
    return result


# --------------------------------------------------------------------------------------
# The probe-bearing program everything is cut from

PROBES_D = """\
provider app {
  probe start();
  probe request(int fd, const char *path);
  probe done(long bytes, unsigned int status);
};
"""
SOURCE = """\
#include "probes.h"
int work(int n, const char *p);
int work(int n, const char *p)
{
  APP_START();
  if (APP_REQUEST_ENABLED())
    return -1;
  APP_REQUEST(n, p);
  APP_DONE((long)n * 10, (unsigned int)n);
  return n;
}
int main(int argc, char **argv) { return work(argc, argv[0]) == argc ? 0 : 1; }
"""


@dataclass(frozen=True)
class Layout:
    """Where things are in the pristine file (read with struct: x86-64, ELF64 LSB)."""

    phoff: int
    phnum: int
    shoff: int
    shnum: int
    shentsize: int
    sections: dict          # name -> (index, offset, size)

    def header_of(self, name: str) -> int:
        return self.shoff + self.sections[name][0] * self.shentsize


def layout_of(data: bytes) -> Layout:
    phoff, shoff = struct.unpack_from("<QQ", data, 0x20)
    phnum, shentsize, shnum, shstrndx = struct.unpack_from("<HHHH", data, 0x38)
    headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab_off, strtab_size = headers[shstrndx][4], headers[shstrndx][5]
    strtab = data[strtab_off:strtab_off + strtab_size]
    sections = {}
    for i, h in enumerate(headers):
        name = strtab[h[0]:strtab.index(b"\0", h[0])].decode()
        sections[name] = (i, h[4], h[5])
    return Layout(phoff, phnum, shoff, shnum, shentsize, sections)


def note_positions(data: bytes, offset: int, size: int) -> list[tuple[int, int, int]]:
    """(note start, desc start, descsz) of each note of a section, in file offsets."""
    notes, position = [], offset
    while position + 12 <= offset + size:
        namesz, descsz, _ = struct.unpack_from("<III", data, position)
        desc = position + 12 + ((namesz + 3) & ~3)
        notes.append((position, desc, descsz))
        position = desc + ((descsz + 3) & ~3)
    return notes


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    work = tmp_path_factory.mktemp("corrupt")
    write_header(work, PROBES_D)
    exe = compile_program(work, SOURCE, flags=("-O2",), output="good")
    data = exe.read_bytes()
    assert data[:5] == b"\x7fELF\x02" and data[5] == 1, "expected an ELF64 LSB file"
    probes = read_probes(str(exe))
    assert len(probes.sites) >= 3 and probes.problems == () and probes.types
    lay = layout_of(data)
    assert {".note.stapsdt", ".note.usdtgen", ".stapsdt.base"} <= set(lay.sections)
    return exe, data, lay, probes


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def patch(data: bytes, *edits: tuple[int, bytes]) -> bytes:
    buf = bytearray(data)
    for offset, new in edits:
        buf[offset:offset + len(new)] = new
    assert len(buf) == len(data)
    return bytes(buf)


def fields(sites) -> list[tuple]:
    """Sites without their path (the corrupt copies have another name)."""
    return [(s.provider, s.name, s.address, s.base, s.semaphore, s.args_text, s.file_offset,
             s.semaphore_offset, s.machine) for s in sites]


def u16(v: int) -> bytes:
    return struct.pack("<H", v)


def u32(v: int) -> bytes:
    return struct.pack("<I", v)


def u64(v: int) -> bytes:
    return struct.pack("<Q", v)


# --------------------------------------------------------------------------------------
# Not ELF at all

NOT_ELF = {
    "empty": b"",
    "text": b"hello, world\n",
    "script": b"#!/bin/sh\necho not elf\n",
    "three-bytes-of-magic": b"\x7fEL",
    "magic-only": b"\x7fELF",
    "magic-then-garbage": b"\x7fELF" + bytes(range(256)) * 4,
    "magic-bad-class": b"\x7fELF\x07\x01\x01" + b"\0" * 57,
    "magic-bad-data": b"\x7fELF\x02\x09\x01" + b"\0" * 57,
    "zeros": b"\0" * 4096,
    "random": random.Random(1).randbytes(8192),
}


@pytest.mark.parametrize("name", list(NOT_ELF))
def test_not_elf_files(tmp_path, name):
    assert isinstance(outcome(write(tmp_path, name, NOT_ELF[name])), ElfError)


def test_unreadable_paths(tmp_path):
    assert isinstance(outcome(tmp_path / "missing"), ElfError)
    assert isinstance(outcome(tmp_path), ElfError)            # a directory
    assert isinstance(outcome(Path("/dev/null")), ElfError)


def test_fifo_does_not_hang(tmp_path):
    """A FIFO named as a target (nobody writes to it): open() must not block forever."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert isinstance(outcome(fifo, seconds=3), ElfError)


# --------------------------------------------------------------------------------------
# Truncated copies

def test_truncated_copies(tmp_path, pristine):
    _, data, lay, _ = pristine
    cuts = {0, 1, 3, 4, 5, 16, 20, 52, 63, 64, 65, lay.phoff + 1, lay.phoff + 56,
            lay.shoff, lay.shoff + 1, lay.shoff + lay.shentsize, len(data) - 1}
    for _, offset, size in lay.sections.values():
        cuts |= {offset, offset + 1, offset + size // 2, offset + size - 1}
    cuts |= set(range(0, len(data), max(1, len(data) // 60)))
    cuts = sorted(c for c in cuts if 0 <= c < len(data))
    assert len(cuts) > 80
    for cut in cuts:
        result = outcome(write(tmp_path, "cut", data[:cut]))
        # section headers are the last thing in the file: every cut loses some of them
        assert isinstance(result, ElfError), f"cut at {cut} of {len(data)} read as {result}"


@pytest.mark.parametrize("path", ["/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
                                  "/usr/bin/python3.11"], ids=os.path.basename)
def test_truncated_real_binary(tmp_path, path):
    require(os.path.exists(path), f"{path} is not installed")
    data = Path(path).read_bytes()
    for cut in [64, 4096, len(data) // 3, len(data) // 2, len(data) - 4096, len(data) - 1]:
        outcome(write(tmp_path, "cut", data[:cut]))


# --------------------------------------------------------------------------------------
# Hand-made note corruptions: the notes' sizes and strings

def stapsdt_notes(data: bytes, lay: Layout) -> list[tuple[int, int, int]]:
    _, offset, size = lay.sections[".note.stapsdt"]
    notes = note_positions(data, offset, size)
    assert len(notes) >= 3
    return notes


def test_huge_namesz(tmp_path, pristine):
    _, data, lay, good = pristine
    start, _, _ = stapsdt_notes(data, lay)[0]
    for value in (0xFFFFFFFF, 0x7FFFFFFF, 0x10000):
        result = outcome(write(tmp_path, "f", patch(data, (start, u32(value)))))
        assert isinstance(result, ElfProbes)
        assert any(".note.stapsdt" in p for p in result.problems), result.problems
        assert result.types == good.types       # the other note section is still read


def test_huge_descsz(tmp_path, pristine):
    _, data, lay, good = pristine
    notes = stapsdt_notes(data, lay)
    for index in (0, len(notes) - 1):
        start, _, _ = notes[index]
        result = outcome(write(tmp_path, "f", patch(data, (start + 4, u32(0xFFFFFFFF)))))
        assert isinstance(result, ElfProbes) and result.problems
        # the notes before the bad one are still read
        assert fields(result.sites) == fields(good.sites[:index])


def test_descsz_just_past_the_section(tmp_path, pristine):
    _, data, lay, good = pristine
    notes = stapsdt_notes(data, lay)
    start, desc, _ = notes[-1]
    _, offset, size = lay.sections[".note.stapsdt"]
    past = offset + size - desc + 1
    result = outcome(write(tmp_path, "f", patch(data, (start + 4, u32(past)))))
    assert isinstance(result, ElfProbes)
    assert fields(result.sites) == fields(good.sites[:-1]) and result.problems


def test_desc_too_short_for_three_addresses(tmp_path, pristine):
    _, data, lay, _ = pristine
    start, _, _ = stapsdt_notes(data, lay)[0]
    for value in (0, 4, 8, 23):
        result = outcome(write(tmp_path, "f", patch(data, (start + 4, u32(value)))))
        assert isinstance(result, ElfProbes) and result.problems


@pytest.mark.parametrize("which", ["all", "last", "first"])
def test_strings_without_nul(tmp_path, pristine, which):
    _, data, lay, good = pristine
    notes = stapsdt_notes(data, lay)
    _, desc, descsz = notes[1]
    strings_start = desc + 24
    nuls = [i for i in range(strings_start, desc + descsz) if data[i] == 0]
    assert len(nuls) == 3                  # provider\0 name\0 args\0
    chosen = {"all": nuls, "last": nuls[-1:], "first": nuls[:1]}[which]
    result = outcome(write(tmp_path, "f", patch(data, *[(i, b"X") for i in chosen])))
    # one string fewer than the three a note needs: that note is a problem, the others read
    assert isinstance(result, ElfProbes)
    assert fields(result.sites) == fields(good.sites[:1] + good.sites[2:])
    assert any("NUL" in p for p in result.problems), result.problems


def test_bad_utf8_strings(tmp_path, pristine):
    _, data, lay, good = pristine
    _, desc, _ = stapsdt_notes(data, lay)[0]
    result = outcome(write(tmp_path, "f", patch(data, (desc + 24, b"\xff\xfe"))))
    assert isinstance(result, ElfProbes) and len(result.sites) == len(good.sites)


def test_other_owner_and_type_are_skipped(tmp_path, pristine):
    _, data, lay, good = pristine
    start, _, _ = stapsdt_notes(data, lay)[0]
    result = outcome(write(tmp_path, "f", patch(data, (start + 8, u32(4)))))       # n_type
    assert isinstance(result, ElfProbes) and fields(result.sites) == fields(good.sites[1:])
    result = outcome(write(tmp_path, "f", patch(data, (start + 12, b"stapXdt"))))  # owner
    assert isinstance(result, ElfProbes) and fields(result.sites) == fields(good.sites[1:])


def test_last_note_shrunk_to_its_header(tmp_path, pristine):
    _, data, lay, good = pristine
    start, _, _ = stapsdt_notes(data, lay)[-1]
    # namesz 0, descsz 0: the last note is 12 bytes, and its old owner and desc are read as
    # one more note whose sizes ("stap" as namesz) run past the section
    result = outcome(write(tmp_path, "f", patch(data, (start, u32(0) + u32(0)))))
    assert isinstance(result, ElfProbes) and result.problems
    assert fields(result.sites) == fields(good.sites[:-1])


def test_stray_bytes_after_the_last_note(tmp_path, pristine):
    _, data, lay, good = pristine
    start, _, descsz = stapsdt_notes(data, lay)[-1]
    # the last desc 8 bytes shorter (a multiple of 4, so the padding stays): its last 8 bytes
    # (the argument string's end) are left over after the last note
    padded = (descsz + 3) & ~3
    result = outcome(write(tmp_path, "f", patch(data, (start + 4, u32(padded - 8)))))
    assert isinstance(result, ElfProbes)
    assert any("stray" in p for p in result.problems), result.problems
    assert fields(result.sites)[:len(good.sites) - 1] == fields(good.sites[:-1])


def test_pc_and_semaphore_outside_the_segments(tmp_path, pristine):
    _, data, lay, good = pristine
    _, desc, _ = stapsdt_notes(data, lay)[0]
    result = outcome(write(tmp_path, "f", patch(data, (desc, u64(0xDEADBEEF000)),
                                                (desc + 16, u64(0x10)))))
    assert isinstance(result, ElfProbes) and len(result.sites) == len(good.sites)
    first = result.sites[0]
    assert first.file_offset is None and first.semaphore_offset is None
    assert len([p for p in result.problems if first.name in p]) == 2, result.problems


def test_stapsdt_base_below_the_note_base(tmp_path, pristine):
    """A .stapsdt.base whose address is below the notes' base (corrupt or hand-edited):
    the adjusted pc must still be an address (0 <= pc < 2**64, as readers that wrap do),
    never a negative number, and be reported as outside the executable segment."""
    _, data, lay, good = pristine
    header = lay.header_of(".stapsdt.base")
    result = outcome(write(tmp_path, "f", patch(data, (header + 16, u64(0)))))   # sh_addr
    assert isinstance(result, ElfProbes) and len(result.sites) == len(good.sites)
    assert result.problems
    for site in result.sites:
        assert 0 <= site.address < 2 ** 64, f"{site.name}: pc {site.address:#x}"
        assert site.semaphore is None or 0 <= site.semaphore < 2 ** 64


# --------------------------------------------------------------------------------------
# Section and ELF headers

def test_note_section_past_eof(tmp_path, pristine):
    _, data, lay, _ = pristine
    header = lay.header_of(".note.stapsdt")
    size = len(data)
    for offset, value in [(24, size), (24, size - 4), (24, 2 ** 64 - 1), (24, 2 ** 63),
                          (32, size), (32, 2 ** 64 - 1), (32, 2 ** 40)]:
        result = outcome(write(tmp_path, "f", patch(data, (header + offset, u64(value)))))
        # reported one way or the other, never silently read
        assert isinstance(result, ElfError) or result.problems, (offset, value, result)


def test_section_headers_past_eof(tmp_path, pristine):
    _, data, _, _ = pristine
    size = len(data)
    for value in (size, size - 8, size + 4096, 2 ** 63, 2 ** 64 - 1):
        assert isinstance(outcome(write(tmp_path, "f", patch(data, (0x28, u64(value))))), ElfError)


ELF_HEADER_EDITS = {
    "e_shoff=0": (0x28, u64(0)),
    "e_shoff=1": (0x28, u64(1)),
    "e_shoff=into-text": (0x28, u64(0x1003)),
    "e_shnum=0": (0x3C, u16(0)),
    "e_shnum=1": (0x3C, u16(1)),
    "e_shnum=max": (0x3C, u16(0xFFFF)),
    "e_shentsize=0": (0x3A, u16(0)),
    "e_shentsize=1": (0x3A, u16(1)),
    "e_shentsize=max": (0x3A, u16(0xFFFF)),
    "e_shstrndx=max": (0x3E, u16(0xFFFF)),
    "e_shstrndx=0": (0x3E, u16(0)),
    "e_shstrndx=xindex": (0x3E, u16(0xFFFF)),
    "e_phoff=past-eof": (0x20, u64(2 ** 62)),
    "e_phnum=max": (0x38, u16(0xFFFF)),
    "e_phentsize=0": (0x36, u16(0)),
    "e_machine=unknown": (0x12, u16(0x7777)),
    "ei_class=32": (4, b"\x01"),
    "ei_data=big": (5, b"\x02"),
}


@pytest.mark.parametrize("edit", list(ELF_HEADER_EDITS))
def test_elf_header_garbage(tmp_path, pristine, edit):
    _, data, _, _ = pristine
    outcome(write(tmp_path, "f", patch(data, ELF_HEADER_EDITS[edit])))


def test_extended_section_count(tmp_path, pristine):
    """e_shnum 0 means "the count is section 0's sh_size": make that huge."""
    _, data, lay, _ = pristine
    for count in (0xFFFFFFFF, 2 ** 64 - 1):
        outcome(write(tmp_path, "f", patch(data, (0x3C, u16(0)), (lay.shoff + 32, u64(count)))))
        outcome(write(tmp_path, "f", patch(data, (0x3C, u16(0)), (0x3E, u16(0xFFFF)),
                                           (lay.shoff + 32, u64(count)),
                                           (lay.shoff + 40, u32(0xFFFFFFF0)))))


def test_section_name_offsets_garbage(tmp_path, pristine):
    _, data, lay, _ = pristine
    for name in (".note.stapsdt", ".shstrtab", ".stapsdt.base"):
        header = lay.header_of(name)
        outcome(write(tmp_path, "f", patch(data, (header, u32(0xFFFFFFF0)))))
        outcome(write(tmp_path, "f", patch(data, (header + 4, u32(0xFFFFFFFF)))))   # sh_type


# --------------------------------------------------------------------------------------
# Seeded random mutations

FUZZ_CASES = 400
FUZZ_SEED = 20240615
INTERESTING = [0, 1, 2, 3, 4, 7, 8, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x7FFFFFFF, 0x80000000,
               0xFFFFFFFF, 2 ** 63, 2 ** 64 - 1]


def fuzz_regions(data: bytes, lay: Layout) -> dict[str, tuple[int, int]]:
    regions = {"elf header": (0, 64),
               "program headers": (lay.phoff, lay.phoff + lay.phnum * 56),
               "section headers": (lay.shoff, lay.shoff + lay.shnum * lay.shentsize)}
    for name in (".note.stapsdt", ".note.usdtgen", ".shstrtab"):
        _, offset, size = lay.sections[name]
        regions[name] = (offset, offset + size)
    return regions


def mutate(rng: random.Random, data: bytes, regions: list[tuple[int, int]]) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        start, end = rng.choice(regions)
        pos = rng.randrange(start, end)
        kind = rng.randrange(4)
        if kind == 0:
            buf[pos] = rng.randrange(256)
        elif kind == 1:
            buf[pos] ^= 1 << rng.randrange(8)
        elif kind == 2:                  # an interesting value in a 2/4/8-byte field
            width = rng.choice((2, 4, 8))
            pos -= pos % width
            value = rng.choice(INTERESTING) % (1 << (8 * width))
            buf[pos:pos + width] = value.to_bytes(width, "little")
        else:                            # a run of random bytes
            run = rng.randint(2, 16)
            buf[pos:pos + run] = rng.randbytes(min(run, len(buf) - pos))
    return bytes(buf[:len(data)])


def fuzz_cases(data: bytes, lay: Layout):
    rng = random.Random(FUZZ_SEED)
    regions = fuzz_regions(data, lay)
    names = list(regions)
    for i in range(FUZZ_CASES):
        primary = regions[names[i % len(names)]]        # every region gets its share
        yield names[i % len(names)], mutate(rng, data, [primary] * 3 + list(regions.values()))


def test_random_mutations(tmp_path, pristine):
    _, data, lay, _ = pristine
    began = time.monotonic()
    seen = {"probes": 0, "error": 0}
    path = tmp_path / "mutant"
    for i, (region, mutant) in enumerate(fuzz_cases(data, lay)):
        path.write_bytes(mutant)
        try:
            result = outcome(path)
        except pytest.fail.Exception as e:
            (tmp_path / "failing-mutant").write_bytes(mutant)
            raise AssertionError(f"case {i} (seed {FUZZ_SEED}, mutating the {region}): {e}; "
                                 f"file kept as {tmp_path / 'failing-mutant'}") from None
        seen["probes" if isinstance(result, ElfProbes) else "error"] += 1
    elapsed = time.monotonic() - began
    assert elapsed < 30, f"{FUZZ_CASES} cases took {elapsed:.1f} s"
    # the fuzz reaches both outcomes, not only the "not ELF" early exit
    assert seen["probes"] > FUZZ_CASES // 4 and seen["error"] > FUZZ_CASES // 20, seen


def test_random_mutations_through_listing(tmp_path, pristine):
    """What ``usdtgen list`` does with the same mutants: collect() and every renderer never
    raise (argument strings of corrupt notes included)."""
    _, data, lay, _ = pristine
    path = tmp_path / "mutant"
    for i, (region, mutant) in enumerate(fuzz_cases(data, lay)):
        if i % 2:
            continue
        path.write_bytes(mutant)
        try:
            with time_limit(PER_CASE_SECONDS):
                listing = collect([ElfObject(str(path), str(path))], [])
                format_table(listing)
                format_verbose(listing)
                [site_json(listed) for listed in listing.sites]
        except Hang:
            pytest.fail(f"case {i} ({region}): listing hangs")
        except Exception as e:  # noqa: BLE001
            (tmp_path / "failing-mutant").write_bytes(mutant)
            pytest.fail(f"case {i} ({region}): {type(e).__name__}: {e}; "
                        f"file kept as {tmp_path / 'failing-mutant'}")
        assert all("\n" not in p for p in listing.problems)


# --------------------------------------------------------------------------------------
# usdtgen list

def usdtgen_list(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "usdtgen", "list", *args], capture_output=True,
                          text=True, timeout=60, check=False)


def corrupt_files(tmp_path: Path, data: bytes, lay: Layout) -> list[Path]:
    return [write(tmp_path, "not-elf", b"just text\n"),
            write(tmp_path, "empty", b""),
            write(tmp_path, "truncated", data[:len(data) // 2]),
            write(tmp_path, "shoff-garbage", patch(data, (0x28, u64(2 ** 63)))),
            write(tmp_path, "note-past-eof",
                  patch(data, (lay.header_of(".note.stapsdt") + 24, u64(len(data)))))]


def test_list_corrupt_file(tmp_path, pristine):
    _, data, lay, _ = pristine
    for bad in corrupt_files(tmp_path, data, lay):
        result = usdtgen_list(str(bad))
        assert result.returncode == 1, (bad.name, result)
        assert "Traceback" not in result.stderr and result.stdout == "", (bad.name, result)
        naming = [line for line in result.stderr.splitlines() if str(bad) in line]
        assert len(naming) == 1, f"{bad.name}: {result.stderr!r}"
        assert naming[0].startswith(f"usdtgen: {bad}: ")
        assert all(line.startswith("usdtgen: ") for line in result.stderr.splitlines()), \
            result.stderr


def test_list_good_and_corrupt(tmp_path, pristine):
    good, data, lay, probes = pristine
    bad = corrupt_files(tmp_path, data, lay)
    result = usdtgen_list(str(good), *map(str, bad))
    assert result.returncode == 0, result
    assert "Traceback" not in result.stderr
    assert result.stdout.splitlines()[0] == str(good)
    for site in probes.sites:
        assert f"{site.provider}:{site.name}" in result.stdout
    for path in bad:
        assert str(path) not in result.stdout
        assert len([line for line in result.stderr.splitlines() if str(path) in line]) == 1, \
            result.stderr
    # and the corrupt one first: same listing
    result = usdtgen_list(str(bad[0]), str(good))
    assert result.returncode == 0 and str(good) in result.stdout, result

"""The shared object usdtgen.runtime.build writes in pure Python for Python probes, read back
by its peers (readelf, objdump, pyelftools) and by ``usdtgen list``, for x86-64 and aarch64:
an ELF DYN of the right machine; one ``.note.stapsdt`` per probe whose argument specs name
the calling convention's registers and stack slots, whose pc is the stub's symbol, whose
semaphore is the semaphore symbol inside ``.probes`` (a writable PT_LOAD) and whose base is
``.stapsdt.base``; stubs that are ``nop; ret``; a stack that is not executable; a GNU build id
that follows the probe definitions and nothing else.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import parse_stapsdt_notes, readelf_notes, require_tool
from elftools.elf.constants import P_FLAGS
from elftools.elf.elffile import ELFFile

from usdtgen.elf.writer import EM_AARCH64, EM_X86_64
from usdtgen.provider import parse_provider_text
from usdtgen.runtime.build import build_object

PROVIDER_D = """\
/* every width and signedness, past the registers of both ABIs */
provider pyb {
  probe many(int a, long long b, short c, unsigned char d, bool e, const char *f, int g,
             long long h, signed char i, unsigned short j, unsigned long long k, void *l);
  probe request(int id, const char *path);
  probe none();
  probe nine(unsigned int a0, int a1, int a2, int a3, int a4, int a5, int a6, int a7,
             unsigned int a8);
};
"""

EXPECTED_SPECS = {
    EM_X86_64: {
        "many": ["-4@%edi", "-8@%rsi", "-2@%dx", "1@%cl", "1@%r8b", "8@%r9",
                 "-4@8(%rsp)", "-8@16(%rsp)", "-1@24(%rsp)", "2@32(%rsp)", "8@40(%rsp)",
                 "8@48(%rsp)"],
        "request": ["-4@%edi", "8@%rsi"],
        "none": [],
        "nine": ["4@%edi", "-4@%esi", "-4@%edx", "-4@%ecx", "-4@%r8d", "-4@%r9d",
                 "-4@8(%rsp)", "-4@16(%rsp)", "4@24(%rsp)"],
    },
    EM_AARCH64: {
        "many": ["-4@w0", "-8@x1", "-2@w2", "1@w3", "1@w4", "8@x5", "-4@w6", "-8@x7",
                 "-1@[sp]", "2@[sp, 8]", "8@[sp, 16]", "8@[sp, 24]"],
        "request": ["-4@w0", "8@x1"],
        "none": [],
        "nine": ["4@w0", "-4@w1", "-4@w2", "-4@w3", "-4@w4", "-4@w5", "-4@w6", "-4@w7",
                 "4@[sp]"],
    },
}
PROBES = list(EXPECTED_SPECS[EM_X86_64])
MACHINES = {"x86_64": EM_X86_64, "aarch64": EM_AARCH64}
ELF_MACHINE = {EM_X86_64: "EM_X86_64", EM_AARCH64: "EM_AARCH64"}
READELF_MACHINE = {EM_X86_64: "Advanced Micro Devices X86-64", EM_AARCH64: "AArch64"}
STUB_BYTES = {EM_X86_64: bytes.fromhex("90c3"), EM_AARCH64: bytes.fromhex("1f2003d5c0035fd6")}
OBJDUMP = {EM_X86_64: ("objdump", "aarch64-linux-gnu-objdump"),      # a native one first
           EM_AARCH64: ("aarch64-linux-gnu-objdump",)}


def _usdtgen() -> str | None:
    beside = Path(sys.executable).with_name("usdtgen")
    return str(beside) if beside.exists() else shutil.which("usdtgen")


def model_of(text: str, name: str = "pyb"):
    model, _ = parse_provider_text(text, "probes.d")
    return next(p for p in model.providers if p.name == name)


def image_of(text: str, machine: int) -> bytes:
    return build_object(model_of(text), machine).image


@pytest.fixture(params=list(MACHINES), scope="module")
def built(request, tmp_path_factory) -> tuple[int, Path]:
    """(machine, path of the object written for it)."""
    machine = MACHINES[request.param]
    path = tmp_path_factory.mktemp(f"built_{request.param}") / "libusdtgen-pyb.so"
    path.write_bytes(image_of(PROVIDER_D, machine))
    return machine, path


def readelf(*args) -> str:
    tool = require_tool("readelf")
    return subprocess.run([tool, *map(str, args)], capture_output=True, text=True,
                          check=True).stdout


def dynamic_symbols(elf: ELFFile) -> dict:
    return {s.name: s for s in elf.get_section_by_name(".dynsym").iter_symbols() if s.name}


def segment_of(elf: ELFFile, address: int, size: int = 1):
    """The PT_LOAD holding [address, address + size) in memory."""
    for segment in elf.iter_segments():
        if segment["p_type"] == "PT_LOAD" and \
                segment["p_vaddr"] <= address and address + size <= segment["p_vaddr"] + segment["p_memsz"]:
            return segment
    return None


def bytes_at(elf: ELFFile, path: Path, address: int, size: int) -> bytes:
    segment = segment_of(elf, address, size)
    assert segment is not None, f"{address:#x} is in no PT_LOAD"
    offset = segment["p_offset"] + address - segment["p_vaddr"]
    assert address + size <= segment["p_vaddr"] + segment["p_filesz"], "not in the file"
    return path.read_bytes()[offset:offset + size]


# -- the file itself ------------------------------------------------------------------------------
def test_elf_header_is_a_shared_object_of_the_machine(built):
    machine, path = built
    with path.open("rb") as f:
        elf = ELFFile(f)
        assert elf.elfclass == 64 and elf.little_endian
        assert elf["e_type"] == "ET_DYN"
        assert elf["e_machine"] == ELF_MACHINE[machine]
    header = readelf("-hW", path)
    assert re.search(r"Type:\s+DYN \(Shared object file\)", header), header
    assert re.search(rf"Machine:\s+{re.escape(READELF_MACHINE[machine])}\n", header), header
    assert "Class:                             ELF64" in header
    # the peers read every part of it without a complaint
    everything = subprocess.run([require_tool("readelf"), "-aW", str(path)],
                                capture_output=True, text=True, check=False)
    assert everything.returncode == 0
    assert "Warning" not in everything.stderr and "Error" not in everything.stderr, \
        everything.stderr


def test_one_stapsdt_note_per_probe_with_the_abi_argument_specs(built):
    machine, path = built
    notes = parse_stapsdt_notes(readelf_notes(path))
    assert [(n.provider, n.name) for n in notes] == [("pyb", name) for name in PROBES]
    for note in notes:
        assert note.args == EXPECTED_SPECS[machine][note.name], note.name


def test_note_addresses_are_the_stub_the_semaphore_and_the_base(built):
    _, path = built
    notes = {n.name: n for n in parse_stapsdt_notes(readelf_notes(path))}
    with path.open("rb") as f:
        elf = ELFFile(f)
        symbols = dynamic_symbols(elf)
        text = elf.get_section_by_name(".text")
        probes = elf.get_section_by_name(".probes")
        base = elf.get_section_by_name(".stapsdt.base")
        assert text is not None and probes is not None and base is not None
        sections = list(elf.iter_sections())
        for name, note in notes.items():
            stub = symbols[f"usdtgen_pyb_{name}"]
            semaphore = symbols[f"pyb_{name}_semaphore"]
            assert stub["st_info"]["type"] == "STT_FUNC"
            assert sections[stub["st_shndx"]].name == ".text"
            assert note.location == stub["st_value"], name
            assert text["sh_addr"] <= note.location < text["sh_addr"] + text["sh_size"]
            assert note.semaphore == semaphore["st_value"], name
            assert semaphore["st_size"] == 2 and note.semaphore % 2 == 0
            assert sections[semaphore["st_shndx"]].name == ".probes"
            assert probes["sh_addr"] <= note.semaphore and \
                note.semaphore + 2 <= probes["sh_addr"] + probes["sh_size"], name
            assert note.base == base["sh_addr"], name
            # the semaphore is in a writable, non-executable PT_LOAD; the stub in an
            # executable one
            data = segment_of(elf, note.semaphore, 2)
            assert data is not None and data["p_flags"] & P_FLAGS.PF_W, name
            assert not data["p_flags"] & P_FLAGS.PF_X
            code = segment_of(elf, note.location)
            assert code is not None and code["p_flags"] & P_FLAGS.PF_X
            assert not code["p_flags"] & P_FLAGS.PF_W
        assert len({n.semaphore for n in notes.values()}) == len(notes)
        assert len({n.location for n in notes.values()}) == len(notes)
        # .probes is writable, allocated and starts zeroed: no probe enabled in the file
        assert probes["sh_flags"] & 0x1 and probes["sh_flags"] & 0x2
        assert set(bytes_at(elf, path, probes["sh_addr"], probes["sh_size"])) == {0}


def test_every_stub_is_nop_ret(built):
    machine, path = built
    notes = parse_stapsdt_notes(readelf_notes(path))
    with path.open("rb") as f:
        elf = ELFFile(f)
        for note in notes:
            want = STUB_BYTES[machine]
            assert bytes_at(elf, path, note.location, len(want)) == want, note.name
    objdump = next((shutil.which(t) for t in OBJDUMP[machine] if shutil.which(t)), None)
    if objdump is None:
        require_tool(OBJDUMP[machine][0])
    listing = subprocess.run([objdump, "-d", str(path)], capture_output=True, text=True,
                             check=True).stdout
    for note in notes:
        block = re.search(rf"^0*{note.location:x} <usdtgen_pyb_{note.name}>:\n(.*?)(?:\n\n|\Z)",
                          listing, re.MULTILINE | re.DOTALL)
        assert block, f"objdump shows no function at {note.location:#x}:\n{listing}"
        mnemonics = [line.split("\t")[2].split()[0] for line in block[1].splitlines()
                     if line.count("\t") >= 2]
        assert mnemonics[:2] == ["nop", "ret"], (note.name, block[1])


def test_stack_is_not_executable(built):
    _, path = built
    with path.open("rb") as f:
        elf = ELFFile(f)
        stacks = [s for s in elf.iter_segments() if s["p_type"] == "PT_GNU_STACK"]
        assert len(stacks) == 1
        assert not stacks[0]["p_flags"] & P_FLAGS.PF_X
    assert re.search(r"GNU_STACK\s.*\sRW\s", readelf("-lW", path))


def test_usdtgen_list_shows_typed_prototypes(built):
    _, path = built
    usdtgen = _usdtgen()
    assert usdtgen, "the usdtgen executable is not installed"
    result = subprocess.run([usdtgen, "list", str(path)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    rows = {}
    for line in result.stdout.splitlines():
        match = re.match(r"\s+(pyb:\w+)\s+(\d+)\s+(yes|no)\s*(.*)$", line)
        if match:
            rows[match[1]] = (int(match[2]), match[3], match[4].strip())
    assert rows == {
        "pyb:many": (1, "yes", ("int a, long long b, short c, unsigned char d, bool e, "
                                "const char *f, int g, long long h, signed char i, "
                                "unsigned short j, unsigned long long k, void *l")),
        "pyb:request": (1, "yes", "int id, const char *path"),
        "pyb:none": (1, "yes", ""),
        "pyb:nine": (1, "yes", ("unsigned int a0, int a1, int a2, int a3, int a4, int a5, "
                                "int a6, int a7, unsigned int a8")),
    }, result.stdout


# -- the build id -----------------------------------------------------------------------------------
def build_id(image: bytes, tmp_path: Path) -> str:
    path = tmp_path / "id.so"
    path.write_bytes(image)
    ids = re.findall(r"Build ID: ([0-9a-f]+)", readelf("-nW", path))
    assert len(ids) == 1, ids
    with path.open("rb") as f:
        notes = [n for n in ELFFile(f).get_section_by_name(".note.gnu.build-id").iter_notes()]
    assert [(n["n_name"], n["n_type"]) for n in notes] == [("GNU", "NT_GNU_BUILD_ID")]
    assert notes[0]["n_desc"] == ids[0]
    assert len(ids[0]) >= 32                       # at least 128 bits
    return ids[0]


@pytest.mark.parametrize("machine", list(MACHINES.values()), ids=list(MACHINES))
def test_build_id_follows_the_definitions_and_nothing_else(machine, tmp_path):
    base = "provider pyb { probe request(int id, const char *path); probe done(); };"
    same_definitions = """
        /* other comments, other spacing, a typedef that no probe uses */
        typedef unsigned long unused_t;
        provider   pyb {
            probe request ( int id,   const char * path ) ;
            probe done ( ) ;
        } ;
    """
    changed = {
        "a probe added": "provider pyb { probe request(int id, const char *path); "
                         "probe done(); probe more(); };",
        "an argument renamed": "provider pyb { probe request(int ident, const char *path); "
                               "probe done(); };",
        "an argument's type": "provider pyb { probe request(long id, const char *path); "
                              "probe done(); };",
        "an argument added": "provider pyb { probe request(int id, const char *path, int n); "
                             "probe done(); };",
        "a probe renamed": "provider pyb { probe request(int id, const char *path); "
                           "probe finished(); };",
    }
    reference = image_of(base, machine)
    assert image_of(base, machine) == reference, "two builds of one definition differ"
    first = build_id(reference, tmp_path)
    assert build_id(image_of(same_definitions, machine), tmp_path) == first
    seen = {first: "the reference"}
    for what, text in changed.items():
        new = build_id(image_of(text, machine), tmp_path)
        assert new not in seen, f"{what}: same build id as {seen.get(new)}"
        seen[new] = what
    renamed = build_object(model_of(base.replace("pyb", "pyc"), "pyc"), machine).image
    assert build_id(renamed, tmp_path) not in seen, "the provider renamed: same build id"


@pytest.mark.parametrize("machine", list(MACHINES.values()), ids=list(MACHINES))
def test_build_id_follows_a_typedef_an_argument_uses(machine, tmp_path):
    """``typedef int my_t`` → ``typedef long my_t``: the argument is now 8 bytes wide (another
    spec, another object), so the build id must change too."""
    narrow = image_of("typedef int my_t; provider pyb { probe x(my_t a); };", machine)
    wide = image_of("typedef long my_t; provider pyb { probe x(my_t a); };", machine)
    assert narrow != wide
    path = tmp_path / "wide.so"
    path.write_bytes(wide)
    assert parse_stapsdt_notes(readelf_notes(path))[0].args[0].startswith("-8@")
    narrow_id, wide_id = build_id(narrow, tmp_path), build_id(wide, tmp_path)
    assert narrow_id != wide_id, \
        f"two different objects (int vs long argument) share build id {wide_id}"


def test_build_id_differs_between_machines(tmp_path):
    text = "provider pyb { probe request(int id, const char *path); };"
    assert build_id(image_of(text, EM_X86_64), tmp_path) != \
        build_id(image_of(text, EM_AARCH64), tmp_path)


def test_other_machines_are_refused():
    with pytest.raises(ValueError, match="x86-64 and aarch64"):
        build_object(model_of(PROVIDER_D), 40)          # EM_ARM

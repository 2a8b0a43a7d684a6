"""The BPF data path's maps as the kernel makes them: per-site counters spread over arrays
made as sites come, and the ring buffer made ahead in a thread while start-up goes on.

The counters are bumped by real programs the kernel runs (BPF_PROG_TEST_RUN on a socket
filter holding the tracer's own counting code), so a site whose slots overlap another's, or
land in the wrong array, shows as a wrong count.
"""
from __future__ import annotations

import ctypes
import os
import struct

import pytest

from tests.conftest import require
from usdtgen.trace import bpf, bpfgen

PROG_TYPE_SOCKET_FILTER = 1
PROG_TEST_RUN = 10


@pytest.fixture(autouse=True)
def bpf_available():
    require(os.geteuid() == 0, "needs root to make BPF maps and load programs")


def run_counting_program(counters: tuple[int, int], lost: bool, times: int) -> None:
    """Run, ``times`` times in the kernel, a program that counts one hit (or one loss) in
    the site's counter slots as the tracer's site programs do."""
    code = bpfgen.Code()
    fd, hits_slot = counters
    bpfgen.count(code, fd, hits_slot + 1 if lost else hits_slot)
    code.emit(bpf.mov_imm(0, 0), bpf.exit_())
    program = bpf.load_program(code.assemble(), "usdtgen_test", PROG_TYPE_SOCKET_FILTER)
    try:
        packet = ctypes.create_string_buffer(64)
        attr = struct.pack("<IIIIQQII", program, 0, 64, 0, ctypes.addressof(packet), 0,
                           times, 0)
        bpf._bpf(PROG_TEST_RUN, attr)
    finally:
        os.close(program)


def open_map_ids() -> set[int]:
    """The ids of the BPF maps this process holds open (an mmap holds a copy of its fd)."""
    ids = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}") != "anon_inode:bpf-map":
                continue
            with open(f"/proc/self/fdinfo/{name}") as info:
                ids.update(int(line.split()[1]) for line in info if line.startswith("map_id:"))
        except OSError:
            pass
    return ids


def map_id(fd: int) -> int:
    with open(f"/proc/self/fdinfo/{fd}") as info:
        return next(int(line.split()[1]) for line in info if line.startswith("map_id:"))


def test_each_site_counts_in_its_own_slots_across_arrays():
    counters = bpf.SiteCounters(sites_per_array=2)
    try:
        for site in range(7):                      # 4 arrays: sites 0-1, 2-3, 4-5, 6
            run_counting_program(counters.slots(site), lost=False, times=site + 1)
            run_counting_program(counters.slots(site), lost=True, times=10 * site + 3)
        assert len(counters.arrays) == 4
        assert [counters.hits_lost(site) for site in range(7)] == \
            [(site + 1, 10 * site + 3) for site in range(7)]
        assert counters.hits_lost(9) == (0, 0)     # no array for it: nothing counted
    finally:
        counters.close()
    assert counters.arrays == []


def test_a_ring_made_ahead_is_taken_when_its_size_fits():
    before = open_map_ids()
    bpf.make_ring_ahead(1 << 20)
    ring = bpf.take_ring(1 << 20)
    try:
        assert ring.size == 1 << 20
        assert open_map_ids() - before == {map_id(ring.fd)}
    finally:
        ring.close()
    assert open_map_ids() == before


def test_a_ring_made_ahead_of_another_size_is_closed():
    before = open_map_ids()
    bpf.make_ring_ahead(1 << 20)
    ring = bpf.take_ring(1 << 21)                  # a script asked for another bufsize
    try:
        assert ring.size == 1 << 21
        assert open_map_ids() - before == {map_id(ring.fd)}
    finally:
        ring.close()
    bpf.make_ring_ahead(1 << 20)
    bpf.discard_ring_ahead()                       # a trace that needed no ring
    assert open_map_ids() == before


def test_a_ring_that_cannot_be_made_ahead_reports_when_taken():
    bpf.make_ring_ahead(3 << 20)                   # not a power of two: the kernel refuses
    with pytest.raises(OSError):
        bpf.take_ring(3 << 20)

"""The process tree a ``-p`` or ``-c`` trace follows: the process, the children it has when
tracing starts, and every child forked later, until it exits.

Membership lives in the kernel (a BPF set of process ids): a program on the
``sched_process_fork`` tracepoint adds a member's child before the child runs, and every
probe's program records a hit only when its process is a member. The probes themselves are
armed for every process that maps their file: the kernel's per-process uprobe filter loses
a child's breakpoints when a sibling exits (seen on 6.18), so it is not relied on.
"""
from __future__ import annotations

import os

from usdtgen.errors import TraceError
from usdtgen.trace import bpf, perf, tracefs

MAX_MEMBERS = 1 << 16            # processes and threads followed at once


class ProcessTree:
    """The followed tree of ``root``; ``close()`` releases its kernel state."""

    def __init__(self, root: int, tracefs_root):
        self.root = root
        self.members = None
        self.fds: list[int] = []
        self.program_fd = -1
        self.filter_fd = -1
        self.is_process: dict[int, bool] = {}  # member -> a process (True) or a thread
        try:
            fork_format = tracefs.read_format(tracefs_root, "sched", "sched_process_fork")
            child_pid = fork_format.fields.get("child_pid")
            if child_pid is None:
                raise TraceError("sched_process_fork has no child_pid field")
            self.members = bpf.U32Set(MAX_MEMBERS)
            self.members.add(root)
            self.program_fd = bpf.load_program(
                bpf.fork_follower_program(self.members.fd, child_pid.offset), "usdtgen_fork",
                bpf.PROG_TYPE_TRACEPOINT)
            # One perf event carries the program: the kernel runs a tracepoint's programs on
            # every CPU once one is attached (and refuses the same program twice).
            fd = perf.open_tracepoint(fork_format.event_id, -1, perf.online_cpus()[0],
                                      sampling=False)
            self.fds.append(fd)
            bpf.attach(fd, self.program_fd)
            self.filter_fd = bpf.load_program(bpf.member_filter_program(self.members.fd),
                                              "usdtgen_tree")
        except BaseException:
            self.close()
            raise
        self.adopt_descendants()

    def adopt_descendants(self) -> None:
        """Add the processes (and their threads) that descend from members now: the ones
        forked before the fork program ran. Repeated until nothing new is found, so a child
        forked meanwhile by a process not yet added is found by the next pass."""
        while True:
            parents = _parents()
            members = set(self.members.members())
            added = False
            for pid, ppid in parents.items():
                if pid not in members and ppid in members:
                    self.members.add(pid)
                    members.add(pid)
                    added = True
                    for tid in _threads(pid):
                        self.members.add(tid)
            if not added:
                return

    def processes_now(self) -> list[int]:
        """The member processes alive now (thread ids left out); dead members are removed
        from the set on the way, so ids the system reuses later are not followed."""
        alive = []
        for pid in self.members.members():
            if not os.path.exists(f"/proc/{pid}"):
                self.is_process.pop(pid, None)
                if pid != self.root:
                    self.members.discard(pid)
                continue
            kind = self.is_process.get(pid)
            if kind is None:
                try:
                    kind = self.is_process[pid] = _tgid(pid) == pid
                except OSError:
                    continue
            if kind:
                alive.append(pid)
        return alive

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds.clear()
        for attr in ("program_fd", "filter_fd"):
            fd = getattr(self, attr)
            if fd >= 0:
                os.close(fd)
                setattr(self, attr, -1)
        if self.members is not None:
            self.members.close()


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process now."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        out[int(name)] = int(fields[1])
    return out


def _threads(pid: int) -> list[int]:
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []


def _tgid(pid: int) -> int:
    with open(f"/proc/{pid}/status", "rb") as f:
        for line in f:
            if line.startswith(b"Tgid:"):
                return int(line.split()[1])
    raise OSError("no Tgid")

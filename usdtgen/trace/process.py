"""Processes a trace follows: a command started stopped (``-c``), the threads of a running
process (``-p``), and the objects a program will load (its dynamic loader's ``--list``).
"""
from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
from dataclasses import dataclass

from usdtgen.elf.reader import PT_INTERP, ElfFile
from usdtgen.errors import TraceError
from usdtgen.trace.targets import ElfObject


@dataclass
class StoppedChild:
    """A forked child waiting, before exec, for the tracer to attach its probes."""

    pid: int
    program: str
    _release_fd: int
    argv: tuple[str, ...] = ()

    @property
    def released(self) -> bool:
        return self._release_fd < 0

    def release(self) -> None:
        """Let the child exec its program."""
        if self._release_fd >= 0:
            os.write(self._release_fd, b"go")
            os.close(self._release_fd)
            self._release_fd = -1

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def start_stopped(command: str) -> StoppedChild:
    """Fork a child that will run ``command`` (split like a shell would, no shell) once
    released; it has not run any of the program's code yet. Raises TraceError."""
    argv = shlex.split(command)
    if not argv:
        raise TraceError("-c: empty command")
    program = shutil.which(argv[0]) if "/" not in argv[0] else argv[0]
    if program is None or not os.path.exists(program):
        raise TraceError(f"-c: {argv[0]}: command not found")
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:                                    # the child
        try:
            os.close(write_fd)
            if os.read(read_fd, 2) != b"go":       # the tracer died or gave up
                os._exit(127)
            os.close(read_fd)
            os.execv(program, argv)
        except OSError as e:
            os.write(2, f"usdtgen: -c: cannot run {argv[0]}: {e.strerror}\n".encode())
        os._exit(127)
    os.close(read_fd)
    return StoppedChild(pid, program, write_fd, tuple(argv))


def thread_ids(pid: int) -> list[int]:
    """The threads of process ``pid`` now. Raises TraceError when it does not exist."""
    try:
        return sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
    except FileNotFoundError:
        raise TraceError(f"PID {pid}: no such process") from None
    except PermissionError:
        raise TraceError(f"PID {pid}: permission denied (run as root)") from None


def process_alive(pid: int) -> bool:
    """Running, that is: a killed process not yet reaped (a zombie) is not alive."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return False


def program_objects(program: str) -> list[ElfObject]:
    """The program and the shared objects its dynamic loader will map at start-up.

    Scripts (``#!``) are followed to their interpreter. Unresolvable parts are left out:
    the trace then only misses probes in libraries it could not find up front.
    """
    program = _follow_script(program)
    objects = [ElfObject(program, program)]
    interpreter = _interpreter(program)
    if interpreter is None:
        return objects
    try:
        listing = subprocess.run([interpreter, "--list", program], capture_output=True,
                                 text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return objects
    for line in listing.splitlines():
        # "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux... (0x...)"
        path = line.split("=>", 1)[1] if "=>" in line else line
        path = path.strip().split(" (", 1)[0].strip()
        if path.startswith("/") and os.path.exists(path):
            objects.append(ElfObject(path, path))
    return objects


def command_objects(child: StoppedChild) -> list[ElfObject]:
    """What a ``-c`` command will map: its program and libraries, and those of every program
    its arguments name (``runuser -u pg -- postgres``, ``env X=1 ./app``, ``sh -c './app
    -v'``), which a wrapper may run in a child of its own before the tracer would see them.
    Each object once."""
    objects = program_objects(child.program)
    seen = {o.path for o in objects}
    for word in _argument_words(child.argv[1:]):
        program = word if "/" in word else shutil.which(word)
        if program is None or not _is_executable_elf(program):
            continue
        for obj in program_objects(program):
            if obj.path not in seen:
                seen.add(obj.path)
                objects.append(obj)
    return objects


def _argument_words(arguments) -> list[str]:
    """The words of the arguments, and of arguments that are command lines themselves."""
    words = []
    for argument in arguments:
        if argument.startswith("-") or "=" in argument.split("/", 1)[0]:
            continue
        try:
            parts = shlex.split(argument) if " " in argument else [argument]
        except ValueError:
            parts = [argument]
        words.extend(p for p in parts if p and not p.startswith("-"))
    return list(dict.fromkeys(words))


def _is_executable_elf(path: str) -> bool:
    try:
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return False
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def _follow_script(program: str, depth: int = 0) -> str:
    try:
        with open(program, "rb") as f:
            head = f.read(256)
    except OSError:
        return program
    if not head.startswith(b"#!") or depth > 3:
        return program
    words = head[2:].split(b"\n", 1)[0].decode(errors="replace").split()
    if not words:
        return program
    interpreter = words[0]
    if os.path.basename(interpreter) == "env" and len(words) > 1:
        interpreter = shutil.which(words[1]) or interpreter
    return _follow_script(interpreter, depth + 1)


def _interpreter(program: str) -> str | None:
    try:
        with open(program, "rb") as f:
            elf = ElfFile(f)
            for segment in elf.segments:
                if segment.type == PT_INTERP:
                    path = elf.read(segment.offset, segment.filesz, "PT_INTERP segment")
                    return path.split(b"\0", 1)[0].decode("utf-8")
    except Exception:
        return None
    return None

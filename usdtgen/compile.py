"""The ``dtrace -h`` / ``dtrace -G`` job: a provider file in, a header or an object file out.

Drop-in for the command line build systems give systemtap's dtrace script: same default
output names, outputs written atomically and only when their content changes. With a depfile
(``--depfile FILE``) it also writes the make-style dependencies of the output: the provider file
and, with -C, every file the C preprocessor read, for make, Ninja and CMake.
"""
from __future__ import annotations

import os
import platform
import tempfile
from dataclasses import dataclass
from pathlib import Path

from usdtgen.emit.header import emit_header
from usdtgen.errors import Diagnostic, ElfError, UsdtgenError
from usdtgen.provider.load import load_provider_text, provider_text
from usdtgen.provider.parser import line_marker_files


@dataclass(frozen=True, slots=True)
class CompileOptions:
    provider_path: str
    mode: str                       # "header" or "object"
    output: str | None = None       # default: <stem>.h / <stem>.o in the current directory
    use_cpp: bool = False
    includes: tuple[str, ...] = ()
    defines: tuple[str, ...] = ()
    undefines: tuple[str, ...] = ()
    strict: bool = False
    object_files: tuple[str, ...] = ()
    depfile: str | None = None      # also write "output: provider included-files..." here
    touch_unchanged: bool = True    # an unchanged output older than an input gets the time now


@dataclass(frozen=True, slots=True)
class CompileResult:
    output: str
    written: bool                   # False when the file already held the same content
    diagnostics: tuple[Diagnostic, ...]
    notes: tuple[str, ...] = ()     # warnings that are not about the provider file
    dependencies: tuple[str, ...] = ()  # what the depfile lists (when one was asked for)


def default_output(provider_path: str, mode: str) -> str:
    """What dtrace names the output when ``-o`` is not given: the file's stem, here."""
    stem = Path(provider_path).name
    if stem.endswith(".d"):
        stem = stem[:-2]
    return stem + (".h" if mode == "header" else ".o")


def touch_if_older(path: str, inputs: list[str]) -> None:
    """Give ``path`` the time now when an input is newer: make compares times, so an output
    left untouched because its content did not change would be remade on every run."""
    try:
        output_time = os.stat(path).st_mtime_ns
        newest = max((os.stat(name).st_mtime_ns for name in inputs if os.path.exists(name)),
                     default=0)
        if newest >= output_time:
            os.utime(path)
    except OSError:
        pass


def write_if_changed(path: str, content: bytes) -> bool:
    """Atomically replace ``path`` with ``content`` unless it already holds exactly that.

    Returns whether the file was written. Never leaves a partial file behind.
    """
    target = Path(path)
    try:
        if target.read_bytes() == content:
            return False
    except OSError:
        pass
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as e:
        raise OSError(e.errno, e.strerror, str(target)) from e
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, target)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise OSError(e.errno, e.strerror, str(target)) from e
        raise
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def object_machine(object_files: tuple[str, ...], notes: list[str]) -> int:
    """The ELF machine of the objects -G was given (the first readable one), else this host's.

    Objects that cannot be read are named in ``notes`` (dtrace -G users pass real objects).
    """
    from usdtgen.elf.writer import MACHINES         # the object writer loads for -G only

    machine = None
    for path in object_files:
        try:
            with open(path, "rb") as f:
                head = f.read(20)
        except OSError as e:
            notes.append(f"-G: {path}: {e.strerror} (ignored)")
            continue
        if len(head) < 20 or head[:4] != b"\x7fELF":
            notes.append(f"-G: {path}: not an ELF object (ignored)")
        elif machine is None:
            machine = int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")
    if machine is not None:
        return machine
    host = platform.machine().lower()
    if host not in MACHINES:
        raise ElfError(f"-G: cannot write objects for this machine ({host}); "
                       "supported: x86_64, aarch64")
    return MACHINES[host]


def _make_escape(path: str) -> str:
    """A path as make (and Ninja, and CMake's depfile reader) read it in a rule."""
    return path.replace("$", "$$").replace("#", "\\#").replace(" ", "\\ ")


def depfile_text(output: str, dependencies: list[str] | tuple[str, ...]) -> str:
    """``output: dependencies...``, then an empty rule per included file (as ``gcc -MP``), so
    make does not stop when one of them is deleted or renamed."""
    lines = [" \\\n  ".join([_make_escape(output) + ":"] +
                              [_make_escape(d) for d in dependencies])]
    lines += [_make_escape(d) + ":" for d in dependencies[1:]]
    return "\n".join(lines) + "\n"


def provider_dependencies(options: CompileOptions, text: str) -> list[str]:
    """The files the output depends on: the provider file, then (with -C) every file cpp read
    to make ``text``."""
    dependencies = [options.provider_path]
    if options.use_cpp:
        for name in line_marker_files(text):
            if name not in dependencies and \
                    os.path.normpath(name) != os.path.normpath(options.provider_path):
                dependencies.append(name)
    return dependencies


def compile_provider(options: CompileOptions) -> CompileResult:
    """Run the job. Raises ProviderError, PreprocessorError, ElfError or OSError."""
    text = provider_text(options.provider_path, options.use_cpp, options.includes,
                         options.defines, options.undefines)
    model, diagnostics = load_provider_text(text, options.provider_path, options.strict)
    output = options.output or default_output(options.provider_path, options.mode)
    notes: list[str] = []
    if options.mode == "header":
        content = emit_header(model, Path(output).name, Path(options.provider_path).name,
                              strict=options.strict).encode()
    elif options.mode == "object":
        from usdtgen.elf.writer import MACHINES
        from usdtgen.emit.elf_object import emit_probes_object

        machine = object_machine(options.object_files, notes)
        if machine not in MACHINES.values():
            raise ElfError(f"-G: objects for ELF machine {machine} are not supported; "
                           "supported: x86_64, aarch64")
        content = emit_probes_object(model, machine)
    else:
        raise UsdtgenError(f"unknown mode {options.mode!r}")
    dependencies: list[str] = []
    if options.depfile:
        dependencies = provider_dependencies(options, text)
    written = write_if_changed(output, content)
    if not written and options.touch_unchanged:
        touch_if_older(output, [options.provider_path, *dependencies])
    if options.depfile:
        write_if_changed(options.depfile, depfile_text(output, dependencies).encode())
    return CompileResult(output, written, tuple(diagnostics), tuple(notes), tuple(dependencies))

"""Define USDT probes from Python and fire them: ``Provider("myapp").probe(...)``, ``load()``.

``load()`` builds the provider's shared object (usdtgen.runtime.build), writes it to a memfd
(or, where memfd cannot be executed, a private 0700 directory, unlinked at once), loads it
with cffi in ABI mode and binds each probe. A probe is a plain function: while no tracer is
attached it only tests its semaphore (a ctypes view of the mapped ``.probes`` bytes) and
returns, converting nothing; while traced it converts its arguments and calls the stub whose
first instruction is the probe site.
"""
from __future__ import annotations

import ctypes
import keyword
import os
import platform
import tempfile
import threading
import weakref

from usdtgen.elf.writer import MACHINES
from usdtgen.errors import UsdtgenError
from usdtgen.provider.model import Arg, Probe as ProbeModel, Provider as ProviderModel
from usdtgen.runtime.build import BuiltObject, StubArg, UnsupportedArgument, build_object, stub_arg

_PY_TYPES = {int: "long long", bool: "bool", str: "string", bytes: "void *"}


class ProbeDefinitionError(UsdtgenError, ValueError):
    """A probe declared with a name or argument list that cannot be used."""


class Semaphore(ctypes.c_uint16):
    """A probe's semaphore, read in place: true while a tracer is attached."""

    def __eq__(self, other):
        return bool(self) == other

    __hash__ = None

    def __repr__(self) -> str:
        return f"<semaphore {self.value}: {'enabled' if self.value else 'disabled'}>"


_NEVER = Semaphore(0)            # what unloaded probes test: never set


def _parse_arguments(spec) -> tuple[Arg, ...]:
    """Arguments from Python types (int, str, bytes, bool) or a D parameter list string."""
    from usdtgen.provider import parse_provider_text
    from usdtgen.errors import ProviderError

    if len(spec) == 1 and isinstance(spec[0], str):
        text = spec[0]
    else:
        names = []
        for i, kind in enumerate(spec):
            if kind not in _PY_TYPES:
                raise ProbeDefinitionError(f"argument {i}: {kind!r} is not a probe argument type "
                                           "(int, bool, str, bytes, or a D parameter list string)")
            names.append(f"{_PY_TYPES[kind]} arg{i}")
        text = ", ".join(names)
    try:
        model, _ = parse_provider_text(f"provider p {{ probe p({text}); }};", "<probe>")
    except ProviderError as e:
        message = e.diagnostics[0].message if e.diagnostics else str(e)
        raise ProbeDefinitionError(f"bad argument list {text!r}: {message}") from None
    return model.providers[0].probes[0].args


def _signature(provider: str, name: str, args) -> str:
    from usdtgen.provider.model import format_declaration
    return f"{provider}:{name}({', '.join(format_declaration(a.d_type, a.name) for a in args)})"


def _converter(arg: StubArg) -> str:
    """The Python expression that turns parameter ``{p}`` into what cffi takes for it."""
    if arg.kind in ("string", "pointer"):
        return "_c({p})"
    return "{p}"


def _to_c_string(value):
    """What a ``char *`` parameter takes: str (UTF-8), bytes, None (NULL) or an address."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if value is None:
        return _cffi().NULL
    if isinstance(value, int) and not isinstance(value, bool):
        return _cffi().cast("char *", value)
    return value


_ffi = None
_ffi_lock = threading.Lock()


def _cffi():
    global _ffi
    with _ffi_lock:
        if _ffi is None:
            import cffi
            _ffi = cffi.FFI()
        return _ffi


def _make_probe(provider: str, name: str, args: tuple[StubArg, ...]):
    """A function with the probe's parameters; its cells hold the semaphore and the stub."""
    params = [python_parameter(a.name, i) for i, a in enumerate(args)]
    if len(set(params)) != len(params):
        params = [f"arg{i}" for i in range(len(args))]
    call_args = ", ".join(_converter(a).format(p=p) for a, p in zip(args, params))
    signature = _signature(provider, name, args)
    source = (
        "def _factory(_sem, _stub, _c, _signature):\n"
        f"    def probe({', '.join(params)}):\n"
        "        if _sem:\n"
        "            try:\n"
        f"                _stub({call_args})\n"
        "            except TypeError as e:\n"
        "                raise TypeError(f'{_signature}: {e}') from None\n"
        "    return probe\n")
    namespace: dict = {}
    exec(compile(source, f"<usdtgen probe {provider}:{name}>", "exec"), namespace)
    probe = namespace["_factory"](_NEVER, None, _to_c_string, signature)
    probe.__name__ = name
    probe.__qualname__ = signature           # so a wrong argument count names the signature
    probe.__doc__ = f"Fire USDT probe {signature}. A no-op unless a tracer is attached."
    probe.__annotations__ = {p: _annotation(a) for p, a in zip(params, args)}
    probe.__annotations__["return"] = None
    probe.enabled = _NEVER
    probe.provider = provider
    probe.signature = signature
    return probe


def python_parameter(name: str | None, index: int) -> str:
    """A probe argument's name as a Python parameter: ``arg<index>`` when the .d gives none,
    or one Python cannot take (a keyword such as ``from``, or a leading ``_``, which could
    shadow the probe function's own variables)."""
    if not name or not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        return f"arg{index}"
    return name


def _annotation(arg: StubArg):
    return {"int": int, "bool": bool, "string": str, "pointer": bytes}.get(arg.kind, object)


def _set_cell(function, name: str, value) -> None:
    index = function.__code__.co_freevars.index(name)
    function.__closure__[index].cell_contents = value


def _write_object(image: bytes, provider: str):
    """An fd and path to load the object from: a memfd, else a private file (unlinked once
    loaded). Returns (fd, path, folder_to_remove or None).

    The memfd is loaded as /proc/PID/fd/N, not /proc/self/fd/N: debuggers read the path the
    process mapped, and in their own process "self" is someone else."""
    try:
        fd = os.memfd_create(f"usdtgen-{provider}", os.MFD_CLOEXEC)
        os.write(fd, image)
        return fd, f"/proc/{os.getpid()}/fd/{fd}", None
    except (AttributeError, OSError):
        pass
    for base in (os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm", tempfile.gettempdir()):
        if not base or not os.path.isdir(base):
            continue
        try:
            folder = tempfile.mkdtemp(prefix="usdtgen-", dir=base)      # mode 0700
            path = os.path.join(folder, f"libusdtgen-{provider}.so")
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o700)
            os.write(fd, image)
            return fd, path, folder
        except OSError:
            continue
    raise UsdtgenError("cannot write the probes' shared object: no memfd and no writable "
                       "runtime directory")


class Provider:
    """A USDT provider defined from Python.

    ``probe(name, *types)`` declares a probe and returns it (a function); ``load()`` makes
    every declared probe live; ``unload()`` turns them back into no-ops.
    """

    def __init__(self, name: str):
        model_check = f"provider {name} {{ }};"
        from usdtgen.provider import parse_provider_text
        from usdtgen.provider.check import check_provider_file
        from usdtgen.errors import ProviderError
        try:
            model, _ = parse_provider_text(model_check, "<provider>")
        except ProviderError:
            raise ProbeDefinitionError(f"{name!r} is not a provider name (letters, digits "
                                       "and '_', not starting with a digit)") from None
        errors = [d for d in check_provider_file(model, source_line=lambda loc: "")
                  if d.severity == "error"]
        if errors:
            raise ProbeDefinitionError(errors[0].message)
        self.name = name
        self._probes: dict[str, tuple] = {}     # name -> (ProbeModel, function)
        self._lock = threading.RLock()
        self._loaded = None

    def probe(self, name: str, *types):
        """Declare probe ``name`` with arguments given as Python types (int, str, bytes,
        bool) or one D parameter list string ("int id, const char *path"). Returns the
        probe function. Raises ProbeDefinitionError for bad names or types."""
        return self._declare(name, _parse_arguments(types))

    def _declare(self, name: str, args: tuple[Arg, ...]):
        with self._lock:
            if self._loaded is not None:
                raise ProbeDefinitionError(f"provider {self.name} is loaded: declare probes "
                                           "before load(), or unload() first")
            if name in self._probes:
                raise ProbeDefinitionError(f"probe {self.name}:{name} is declared twice")
            model = ProbeModel(name, args, args[0].loc if args else None)
            trial = ProviderModel(self.name, (model,), None)
            from usdtgen.provider.check import check_provider_file
            from usdtgen.provider.model import ProviderFile
            errors = [d for d in check_provider_file(ProviderFile("<probe>", (trial,)),
                                                     source_line=lambda loc: "")
                      if d.severity == "error"]
            if errors or not name.isidentifier():
                reason = errors[0].message if errors else f"{name!r} is not a probe name"
                raise ProbeDefinitionError(reason)
            try:
                stub_args = tuple(stub_arg(a, i) for i, a in enumerate(args))
            except UnsupportedArgument as e:
                raise ProbeDefinitionError(f"probe {self.name}:{name}: {e}") from None
            function = _make_probe(self.name, name, stub_args)
            self._probes[name] = (model, function)
            return function

    @classmethod
    def from_model(cls, model: ProviderModel) -> "Provider":
        """A provider with every probe of a parsed provider file's ``provider`` block."""
        provider = cls(model.name)
        for probe in model.probes:
            provider._declare(probe.name, probe.args)
        return provider

    def load(self) -> None:
        """Build and load the shared object; every declared probe becomes live."""
        with self._lock:
            if self._loaded is not None:
                return
            model = ProviderModel(self.name, tuple(m for m, _ in self._probes.values()), None)
            machine = MACHINES.get(platform.machine().lower())
            if machine is None:
                raise UsdtgenError(f"Python probes are not supported on {platform.machine()}")
            built = build_object(model, machine)
            self._loaded = _Loaded(built, self._probes)

    def unload(self) -> None:
        """Turn every probe into a no-op again and unload the shared object."""
        with self._lock:
            if self._loaded is not None:
                self._loaded.close()
                self._loaded = None

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    @property
    def path(self) -> str | None:
        """Where the loaded object is, as the process maps it (/proc/PID/fd/N, or a file)."""
        return self._loaded.path if self._loaded else None

    def __getitem__(self, name: str):
        return self._probes[name][1]


class _Loaded:
    """A loaded object: the cffi library, its fd and the probes bound to it."""

    def __init__(self, built: BuiltObject, probes: dict):
        import cffi

        # one FFI per loaded object: a provider redefined later may declare other types
        ffi = self.ffi = cffi.FFI()
        declarations = []
        for stub in built.probes:
            params = ", ".join(a.c_type for a in stub.args) or "void"
            declarations.append(f"void {stub.symbol}({params});")
            declarations.append(f"extern uint16_t {stub.semaphore};")
        ffi.cdef("\n".join(declarations))
        self.fd, self.path, folder = _write_object(built.image, built.provider)
        try:
            self.lib = ffi.dlopen(self.path)
        except OSError as e:
            os.close(self.fd)
            raise UsdtgenError(f"cannot load the probes of provider {built.provider}: {e}") from None
        finally:
            if folder is not None:               # loaded (or failed): the file can go
                os.unlink(self.path)
                os.rmdir(folder)
        self.functions = []
        for stub in built.probes:
            function = probes[stub.name][1]
            semaphore_address = int(ffi.cast("uintptr_t", ffi.addressof(self.lib, stub.semaphore)))
            semaphore = Semaphore.from_address(semaphore_address)
            _set_cell(function, "_stub", getattr(self.lib, stub.symbol))
            _set_cell(function, "_sem", semaphore)
            function.enabled = semaphore
            self.functions.append(function)
        self._finalizer = weakref.finalize(self, os.close, self.fd)

    def close(self) -> None:
        for function in self.functions:
            _set_cell(function, "_sem", _NEVER)
            function.enabled = _NEVER
            _set_cell(function, "_stub", None)
        self.ffi.dlclose(self.lib)
        self._finalizer()

"""The model of a D provider file: providers, probes, arguments and the C types they carry.

Plain frozen dataclasses, no I/O; built by ``usdtgen.provider.parser`` and read by the emitters.
Sizes are those of the LP64 Linux ABIs usdtgen targets (x86-64, aarch64).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from usdtgen.ctype_names import is_string_type  # noqa: F401 (part of the model's API)
from usdtgen.errors import Loc

# The stapsdt note format carries at most this many arguments per probe.
MAX_PROBE_ARGS = 12
# DTrace's limit on provider and probe names (DTRACE_NAMELEN - 1).
MAX_NAME_LEN = 63

STABILITY_NAMES = ("Internal", "Private", "Obsolete", "External", "Unstable",
                   "Evolving", "Stable", "Standard")
DEPENDENCY_CLASSES = ("Unknown", "CPU", "Platform", "Group", "ISA", "Common")
ATTRIBUTE_TARGETS = ("provider", "module", "function", "name", "args")


@dataclass(frozen=True, slots=True)
class CType:
    """A C type as written in a probe parameter, with what usdtgen knows of it.

    ``kind`` is one of: int, bool, float, void, pointer, struct, union, enum, unknown.
    ``size`` is the size in bytes of the value a probe passes (None when not known here),
    ``signed`` its signedness (None when not an integer or not known).
    """

    spelling: str            # canonical C spelling: "const char *", "unsigned long long"
    kind: str
    size: int | None = None
    signed: bool | None = None
    pointers: int = 0        # levels of indirection, arrays counted as one
    d_spelling: str = ""     # the D spelling when it differs from C ("string")

    @property
    def d_name(self) -> str:
        """The type as D writes it: ``string`` stays ``string``, the rest as in C."""
        return self.d_spelling or self.spelling

    @property
    def is_string(self) -> bool:
        """True for ``char *``-like arguments (and D's ``string``) that tracers read as text."""
        return is_string_type(self.d_name)

    @property
    def by_value_aggregate(self) -> bool:
        return self.kind in ("struct", "union")


def format_declaration(type_name: str, name: str | None) -> str:
    """``int id``, ``const char *path``, or the bare type when there is no name."""
    if not name:
        return type_name
    return f"{type_name}{name}" if type_name.endswith("*") else f"{type_name} {name}"


@dataclass(frozen=True, slots=True)
class Arg:
    """One probe parameter: its name (None when the file gives none) and type."""

    name: str | None
    ctype: CType
    loc: Loc


@dataclass(frozen=True, slots=True)
class Probe:
    """A probe: ``name`` exactly as written (``request__start``), its arguments, and the
    optional mapped (translated) argument list after ``:``."""

    name: str
    args: tuple[Arg, ...]
    loc: Loc
    mapped_args: tuple[Arg, ...] | None = None
    # `#pragma usdtgen string_length`: (string argument, the argument holding its length)
    string_lengths: tuple[tuple[int, int], ...] = ()

    @property
    def arg_map(self) -> tuple[int, ...] | None:
        """For each mapped argument, the index of the native argument it stands for (by
        name as DTrace maps it, else by position); None without a mapping."""
        if self.mapped_args is None:
            return None
        index = {arg.name: i for i, arg in reversed(list(enumerate(self.args))) if arg.name}
        return tuple(index.get(arg.name, max(0, min(i, len(self.args) - 1)))
                     for i, arg in enumerate(self.mapped_args))

    @property
    def macro_suffix(self) -> str:
        """The part of the macro name dtrace -h derives from the probe: ``__`` → ``_``, upper case."""
        return self.name.replace("__", "_").upper()


@dataclass(frozen=True, slots=True)
class Attribute:
    """``#pragma D attributes Name/Data/Class provider NAME target``."""

    target: str              # provider | module | function | name | args
    name_stability: str
    data_stability: str
    dependency_class: str
    loc: Loc


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    probes: tuple[Probe, ...]
    loc: Loc
    attributes: tuple[Attribute, ...] = ()

    def macro_name(self, probe: Probe) -> str:
        """``PROVIDER_PROBE``: what every dtrace -h names the probe macro."""
        return f"{self.name.upper()}_{probe.macro_suffix}"

    def semaphore_name(self, probe: Probe) -> str:
        """The semaphore symbol, named as systemtap's dtrace names it."""
        return f"{self.name}_{probe.name}_semaphore"


@dataclass(frozen=True, slots=True)
class Typedef:
    name: str
    ctype: CType
    text: str
    loc: Loc


@dataclass(frozen=True, slots=True)
class Aggregate:
    """A ``struct``/``union``/``enum`` definition (or declaration) at file scope."""

    kind: str
    tag: str | None
    text: str
    loc: Loc


@dataclass(frozen=True, slots=True)
class Translator:
    text: str
    loc: Loc


@dataclass(frozen=True, slots=True)
class InlineConstant:
    name: str
    type_text: str
    value_text: str
    loc: Loc


@dataclass(frozen=True, slots=True)
class Pragma:
    """A ``#pragma D option|depends_on ...`` line, kept as written."""

    kind: str
    text: str
    loc: Loc


@dataclass(frozen=True, slots=True)
class ProviderFile:
    """Everything one .d file declares."""

    path: str
    providers: tuple[Provider, ...]
    typedefs: tuple[Typedef, ...] = ()
    aggregates: tuple[Aggregate, ...] = ()
    translators: tuple[Translator, ...] = ()
    inlines: tuple[InlineConstant, ...] = ()
    pragmas: tuple[Pragma, ...] = ()
    warnings: tuple = field(default=())

"""Compile a parsed D script into Python closures, once, before tracing starts.

Every expression becomes a function of the probe firing (``Firing``) and every clause a list
of action closures, so an event costs calls, never a tree walk. Names are resolved here:
undefined variables, wrong argument counts, actions used as values and the like are
``file:line:col`` errors. The compiler also works out what the kernel must fetch for each
clause: which arguments it reads, and which of them it reads as strings (``copyinstr``).
"""
from __future__ import annotations

import errno
import functools
import ipaddress
import json
import operator
import os
import signal
import socket
import random
import re
from dataclasses import dataclass, field

from lark import Token, Tree

from usdtgen.errors import Loc, ScriptError, UsdtgenError
from usdtgen.provider.cpp import original_line
from usdtgen.trace.decode import STACK_FRAME, USER_STACK
from usdtgen.trace.printf import FormatError, compile_format
from usdtgen.trace.script.aggregate import AggFunction, Aggregation, make_adder, wrap64
from usdtgen.trace.script.memory import read_process, read_process_string, string_at
from usdtgen.trace.script.types import ANY, CHAR, INT, PRELUDE, LONG, STACK, STRING, ULONG, VOID, \
    Record, Ty, TypeError_, array_of, lay_out, pointer_to, record_type, scalar_type, \
    type_name, usual_arithmetic
from usdtgen.trace.script.parse import ParsedScript, error_at
from usdtgen.trace.script.probes import DescriptionError, ProbeDescription, parse_description
from usdtgen.trace.symbolize import SYMBOLIZER, UserStack, stack_frames

MAX_ARGS = 12
INT64 = (1 << 64) - 1
_SIGN = 1 << 63

OPTIONS_WITH_VALUES = {"bufsize", "switchrate", "aggrate", "strsize", "aggsortpos",
                       "aggsortkeypos", "dynvarsize", "aggsize", "cleanrate", "statusrate",
                       "specsize", "nspec", "stackframes", "ustackframes", "jstackframes",
                       "bufpolicy", "bufresize", "strip", "encoding"}
OPTIONS_FLAGS = {"quiet", "aggsortkey", "aggsortrev", "defaultargs", "zdefs", "destructive",
                 "rawbytes", "flowindent", "grabanon", "aggpercpu", "cpp", "temporal"}
# DTrace's built-in variables that only have a meaning in the kernel
KERNEL_BUILTINS = {"curthread": "the kernel's thread structure",
                   "curcpu": "the kernel's CPU structure",
                   "caller": "the kernel caller of the probed kernel function",
                   "ipl": "the kernel's interrupt priority level",
                   "stackdepth": "the depth of the kernel stack"}
# what a flag option may be set to, as dtrace reads it (any case)
FLAG_WORDS = {**dict.fromkeys(("yes", "true", "enable", "enabled", "on", "set"), True),
              **dict.fromkeys(("no", "false", "disable", "disabled", "off", "unset"), False)}
AGG_FUNCTIONS = {"count": (0, 0), "sum": (1, 1), "avg": (1, 1), "min": (1, 1), "max": (1, 1),
                 "stddev": (1, 1), "quantize": (1, 2), "lquantize": (3, 5),
                 "llquantize": (5, 6)}
ACTIONS = {"printf", "printa", "trace", "print", "exit", "clear", "trunc", "normalize",
           "denormalize", "speculate", "commit", "discard", "bcopy", "setopt", "tracemem",
           "copyinto"}
UNSUPPORTED = {"stack": "kernel stacks",
               "system": "destructive actions", "raise": "destructive actions",
               "stop": "destructive actions", "copyout": "destructive actions",
               "copyoutstr": "destructive actions", "chill": "destructive actions",
               "panic": "destructive actions", "breakpoint": "destructive actions",
               "ddi_pathname": "kernel device paths", "freopen": "output redirection",
               "printm": "printm()",
               "sym": "kernel symbols", "func": "kernel symbols", "mod": "kernel modules"}
USER_SYMBOLS = {"ufunc", "usym", "umod", "uaddr"}     # an address as a name of the process's
DEFAULT_USTACKFRAMES = 20                              # DTrace's ustackframes
MAX_USTACK_FRAMES = 127                                # the kernel's perf_event_max_stack
STRING_FUNCTIONS = {"copyinstr": (1, 2), "strtok": (2, 2), "cleanpath": (1, 1), "json": (2, 2),
                    "htons": (1, 1), "htonl": (1, 1), "htonll": (1, 1), "ntohs": (1, 1),
                    "ntohl": (1, 1), "ntohll": (1, 1), "inet_ntoa": (1, 1),
                    "inet_ntoa6": (1, 1), "inet_ntop": (2, 2), "stringof": (1, 1), "strlen": (1, 1),
                    "strjoin": (2, 2), "substr": (2, 3), "basename": (1, 1), "dirname": (1, 1),
                    "index": (2, 3), "rindex": (2, 3), "strstr": (2, 2), "strchr": (2, 2),
                    "strrchr": (2, 2), "lltostr": (1, 2), "toupper": (1, 1), "tolower": (1, 1),
                    "strtoll": (1, 2), "rand": (0, 0), "progenyof": (1, 1)}
# expressions whose value is known when the script compiles (``Compiler.folded``)
FOLDABLE = {"int_literal", "char_literal", "binary", "unary_op", "cast", "sizeof_type"}
PR_MODEL_ILP32, PR_MODEL_LP64 = 1, 2
# Constants D scripts use without declaring them: DTrace's fault codes (ERROR's arg4), NULL
# (an int 0 in D), and Linux's errno and signal numbers by name.
PREDEFINED = {"NULL": 0, "DTRACEFLT_UNKNOWN": 0, "DTRACEFLT_BADADDR": 1, "DTRACEFLT_BADALIGN": 2,
              "DTRACEFLT_ILLOP": 3, "DTRACEFLT_DIVZERO": 4, "DTRACEFLT_NOSCRATCH": 5,
              "DTRACEFLT_KPRIV": 6, "DTRACEFLT_UPRIV": 7, "DTRACEFLT_TUPOFLOW": 8,
              "DTRACEFLT_BADSTACK": 9, "DTRACEFLT_LIBRARY": 1000,
              "PR_MODEL_ILP32": PR_MODEL_ILP32, "PR_MODEL_LP64": PR_MODEL_LP64,
              "AF_INET": socket.AF_INET, "AF_INET6": socket.AF_INET6,
              **{name: number for number, name in errno.errorcode.items()},
              **{s.name: int(s) for s in signal.Signals}}
BUILTINS = {"pid", "tid", "execname", "timestamp", "vtimestamp", "walltimestamp", "cpu",
            "probeprov", "probemod", "probefunc", "probename", "id", "epid", "ppid", "uid",
            "gid", "errno", "curthread", "arg", "args", "self", "this", "curpsinfo",
            "curlwpsinfo"}


class Fault(Exception):
    """A runtime error in a clause (bad address, division by zero): an ERROR probe firing."""

    def __init__(self, message: str, code: int = 0, address: int = 0):
        super().__init__(message)
        self.code = code
        self.address = address


FAULT_BADADDR, FAULT_ILLOP, FAULT_DIVZERO, FAULT_NOSCRATCH = 1, 3, 4, 5   # ERROR's arg4
MAX_SCRATCH = 1 << 20         # bytes one alloca() may take
MAX_COPY = 4096               # bytes a copyin(argN, size) the kernel makes may take
MAX_KEYS = 8                  # keys of an associative array (DTrace's tuple registers)
MAX_VARIABLE_SIZE = 16 << 10  # bytes a D variable may hold (DTrace's global_maxsize)


INT_OR_STRING = ("int", "string")
_BUILTIN_TYPES = {"pid": INT, "tid": INT, "execname": STRING, "timestamp": ULONG,
                  "vtimestamp": ULONG, "walltimestamp": LONG, "cpu": INT, "probeprov": STRING,
                  "probemod": STRING, "probefunc": STRING, "probename": STRING, "id": INT,
                  "epid": INT, "ppid": INT, "uid": INT, "gid": INT, "errno": INT}


@dataclass(frozen=True, slots=True)
class ProbeInfo:
    """A probe as a clause sees it: its id and names, and its arguments' types when known."""

    id: int
    provider: str
    module: str
    function: str
    name: str
    arg_types: tuple | None = None     # per argument: (name, D type, size, signed, is_string)
    # DTrace's argument mapping: args[N] is native argument arg_map[N], typed mapped_types[N]
    arg_map: tuple | None = None
    mapped_types: tuple | None = None


class Firing:
    """One probe firing as the compiled clauses read it."""

    __slots__ = ("args", "strings", "pid", "tid", "execname", "time", "cpu", "probe", "this",
                 "copies")

    def __init__(self, args, strings, pid, tid, execname, when, cpu, probe, copies=None):
        self.args = args              # MAX_ARGS ints
        self.strings = strings        # MAX_ARGS strings or None (fetched by the kernel)
        self.pid = pid
        self.tid = tid
        self.execname = execname
        self.time = when
        self.cpu = cpu
        self.probe = probe
        self.this = {}
        self.copies = copies          # (argument index, size) -> bytes the kernel copied


@dataclass
class Needs:
    """What a clause reads of a probe's arguments."""

    args: set = field(default_factory=set)          # indexes read as numbers or strings
    strings: set = field(default_factory=set)       # indexes read as strings
    copies: set = field(default_factory=set)        # (index, size): copyin(argN, size)


def record_layout(value_sizes: list[int]) -> tuple[int, int]:
    """(bytes, alignment) of one firing's record in DTrace's buffer: a 12-byte header (the
    enabling's ID and a timestamp), then each value aligned to the largest power of two up to
    8 that divides its size; the whole rounded up to 4 bytes. A clause recording nothing
    takes nothing."""
    if not any(value_sizes):
        return 0, 4
    offset = end = 12
    alignment = 4
    for size in value_sizes:
        if size == 0:
            continue
        align = next(a for a in (8, 4, 2, 1) if size % a == 0)
        alignment = max(alignment, align)
        offset = -(-offset // align) * align + size
        end = max(end, offset)
    return -(-end // 4) * 4, alignment


@dataclass
class Clause:
    index: int
    descriptions: tuple[ProbeDescription, ...]
    loc: Loc
    node: Tree
    records: bool = False           # prints something (the probe line in non-quiet mode)
    record_bytes: int = 0           # what a firing needs of DTrace's principal buffer
    record_alignment: int = 4       # ... and where in it that record may start
    commits: bool = False           # has commit(): its record stays out of the buffer
    needs: Needs = field(default_factory=Needs)
    bound: dict = field(default_factory=dict)       # arg signature -> (predicate, actions)
    this_before: dict | None = None   # this-> variables' types from the clauses above


def _user_symbol(name: str, address):
    """ufunc(), usym(), umod(), uaddr() of a code address, named in the firing's process
    as DTrace prints them: module`function, module, module`function+0x1c."""
    def symbol(f):
        pc = address(f) & 0xFFFFFFFFFFFFFFFF
        full = SYMBOLIZER.name(f.pid, pc)
        if name == "uaddr":
            return full
        module, function, _ = SYMBOLIZER.parts(f.pid, pc)
        if name == "umod":
            return module
        return f"{module}`{function}" if function else full
    return symbol


def _outside_sizeof(node: Tree):
    """The subtrees of ``node`` but those inside sizeof, offsetof and type names (constant
    whatever they name)."""
    stack = [node]
    while stack:
        part = stack.pop()
        yield part
        if part.data not in ("sizeof_expr", "offsetof", "type_name"):
            stack.extend(child for child in part.children if isinstance(child, Tree))


def _register(ty: Ty):
    """What an operation on values of type ``ty`` keeps of its result: 64 bits, as DTrace's
    registers hold them (signed or not); a narrower type narrows only where DTrace does: in
    a cast, a store to memory and a recorded value (printf(), trace(), keys)."""
    return wrap64 if ty.signed else (lambda v: v & INT64)


def _wrapper(ty: Ty):
    bits = 8 * ty.size
    mask = (1 << bits) - 1
    if ty.signed:
        half = 1 << (bits - 1)
        if bits == 64:
            return wrap64
        return lambda v: ((v + half) & mask) - half
    return lambda v: v & mask


class CommandOptionError(UsdtgenError):
    """A ``-x`` option usdtgen does not have, or a value it refuses."""


class Compiler:
    """Turns a ParsedScript into clauses, options and the state they share (a Machine)."""

    def __init__(self, parsed: ParsedScript, machine, macro_args: list[str],
                 command_options=()):
        self.parsed = parsed
        self.machine = machine
        self.macro_args = macro_args
        self.command_options = list(command_options)      # -x NAME[=VALUE]
        self.used_macros: set[int] = set()
        self.clauses: list[Clause] = []
        self.global_types: dict[str, Ty] = {}
        self.assigned: dict[str, Tree] = {}         # global name -> first assignment
        self.tls_types: dict[str, Ty] = {}
        self.this_types: dict[str, Ty] = {}
        self.array_types: dict[str, Ty] = {}          # associative array -> value type
        self.declared_this: dict[str, Ty] = {}        # this->name declared at the top level
        self.declared: set[str] = set()               # names declared (scalars, arrays)
        self.inlines: dict[str, Tree] = {}            # inline name -> its inline_def
        self.array_arity: dict[str, int] = {}         # associative array -> number of keys
        self.agg_defs: dict[str, Tree] = {}
        self.assigned_in: dict[str, Tree] = {}       # global name -> the item assigning it
        self.clause_node: Tree | None = None          # the clause being compiled
        self.this_so_far: dict[str, Ty] = {}          # this-> types of the clauses compiled
        self.probe: ProbeInfo | None = None
        self.needs: Needs | None = None
        self.resolving: set[str] = set()
        self.records: dict[tuple[str, str], Record] = {}     # (struct|union, tag)
        self.typedefs: dict[str, Ty] = {}
        self.enum_types: dict[str, Ty] = {}
        self.enum_constants: dict[str, tuple[int, Ty]] = {}
        self.enum_names: dict[str, dict[int, str]] = {}       # enum type -> value -> name
        self.global_addresses: dict[str, int] = {}            # globals kept in memory
        self.array_keys: dict[str, dict] = {}         # associative array -> its key types
        self.externs: set[str] = set()                # names declared extern

    # -- errors -------------------------------------------------------------------------------

    def error(self, node, message: str, hint: str = "") -> ScriptError:
        line, col = _position(node)
        return error_at(self.parsed.text, self.parsed.filename, line, col, message, hint,
                        self.parsed.markers)

    def loc(self, node) -> Loc:
        line, col = _position(node)
        file, original = original_line(self.parsed.markers, self.parsed.filename, line)
        return Loc(file, original, col)

    # -- the program ----------------------------------------------------------------------------

    def compile(self) -> list[Clause]:
        tree = self.parsed.tree
        for item in _prelude().children:
            if isinstance(item, Tree) and item.data == "typedef":
                self.typedef(item)
        self.machine.psinfo_type = self.typedefs["psinfo_t"]
        self.machine.lwpsinfo_type = self.typedefs["lwpsinfo_t"]
        for text in self.command_options:
            try:
                self.set_named_option(text, lambda message, hint="": CommandOptionError(
                    f"-x {text}: {message}" + (f" ({hint})" if hint else "")))
            except ValueError as e:                      # (a value the option refuses)
                raise CommandOptionError(f"-x {text}: {e}") from None
        for item in tree.scan_values(lambda v: isinstance(v, Token) and v.type == "PRAGMA"):
            self.pragma(item)
        try:
            self.machine.check_buffer_options()
        except ValueError as e:
            raise error_at(self.parsed.text, self.parsed.filename, 1, 1, str(e),
                           markers=self.parsed.markers) from None
        for item in tree.children:
            if isinstance(item, Tree) and item.data in ("declaration", "untyped_declaration"):
                self.declaration(item)
            elif isinstance(item, Tree) and item.data == "unknown_type_declaration":
                scope, type_token, name = item.children
                if str(scope) != "extern":
                    raise self.error(type_token, f"unknown type {type_token}")
                self.externs.add(str(name))       # (a kernel symbol of a kernel type)
            elif isinstance(item, Tree) and item.data == "typedef":
                self.typedef(item)
            elif isinstance(item, Tree) and item.data == "inline_def":
                self.inline(item)
        self.prescan(tree)
        for item in tree.children:
            if isinstance(item, Tree) and item.data == "clause":
                self.clauses.append(self.clause(item))
        if not self.clauses:
            raise error_at(self.parsed.text, self.parsed.filename, 1, 1,
                           "the script has no clause: nothing to trace",
                           "a clause is a probe description and { actions }, e.g. "
                           "BEGIN { trace(1); }", self.parsed.markers)
        for clause in self.clauses:           # check every clause once, argument types unknown
            self.bind(clause, None)
        self.size_records()
        if not self.machine.options.get("defaultargs"):
            for i, text in enumerate(self.macro_args, start=1):
                if i not in self.used_macros:
                    raise error_at(
                        self.parsed.text, self.parsed.filename, 1, 1,
                        f"extra macro argument {text!r}: $${i} and ${i} are not used",
                        "use '#pragma D option defaultargs' to allow unused arguments")
        return self.clauses

    def pragma(self, token: Token) -> None:
        words = token.value.split()
        if len(words) < 2 or words[1] != "D":
            return                                   # not a D pragma: cpp's, ignored
        if len(words) >= 4 and words[2] == "option":
            self.set_named_option(words[3], lambda message, hint="": self.error(token, message,
                                                                                 hint))
        elif len(words) >= 3 and words[2] == "error":
            message = token.value.split("error", 1)[1].strip().strip('"')
            raise self.error(token, f"#pragma D error: {message}")
        elif len(words) >= 3 and words[2] == "depends_on":
            if len(words) < 5:
                raise self.error(token, "#pragma D depends_on needs a kind and a name")
            if words[3] == "library":
                raise self.error(token, f"#pragma D depends_on library {words[4]}: usdtgen "
                                        "has no D libraries")
        elif len(words) >= 3 and words[2] == "attributes":
            if len(words) != 5 or len(words[3].split("/")) != 3:
                raise self.error(token, "#pragma D attributes needs "
                                        "NAME-STABILITY/DATA-STABILITY/CLASS and a name")
        # binding, and depends_on of a provider or module: nothing to do for a tracer

    def set_named_option(self, text: str, error) -> None:
        """``NAME`` or ``NAME=VALUE``, of a pragma or of ``-x``: checked, then set;
        ``error(message, hint)`` makes the exception a mistake raises."""
        name, _, value = text.partition("=")
        if name not in OPTIONS_FLAGS and name not in OPTIONS_WITH_VALUES:
            known = sorted(OPTIONS_FLAGS | OPTIONS_WITH_VALUES)
            raise error(f"unknown option {name!r}", "options: " + " ".join(known))
        if name in OPTIONS_FLAGS and value:
            if value.lower() not in FLAG_WORDS:
                raise error(f"option {name} is a flag: set it, or give it one of "
                            f"{', '.join(sorted(FLAG_WORDS))} (not {value})")
            self.machine.set_option(name, FLAG_WORDS[value.lower()])
        else:
            self.machine.set_option(name, value if value else True)

    def folded(self, node, fn) -> int | None:
        """The value of an integer expression made only of literals and operators (no
        variable, call or macro), computed now; None for any other expression."""
        if not all(isinstance(n, Token) or n.data in FOLDABLE for n in node.iter_subtrees()):
            return None
        try:
            value = fn(None)
        except Exception:           # (a fault, e.g. a division by zero inside it)
            return None
        return value if type(value) is int else None

    # -- types --------------------------------------------------------------------------------

    def type_of(self, type_node: Tree) -> Ty:
        """The type a ``type_name`` (a cast's, sizeof's) spells."""
        specifiers, *rest = type_node.children
        ty = self.specified_type(specifiers)
        for child in rest:
            if isinstance(child, Token) and child.type == "STAR":
                ty = pointer_to(ty)
            elif isinstance(child, Tree):              # (*)(...): a pointer to a function
                ty = _function_pointer(ty)
        return ty

    def specified_type(self, specifiers: Tree) -> Ty:
        """The type of declaration specifiers: keywords, a typedef name, a struct, union or
        enum (declaring it when it has a body)."""
        words, qualifiers = [], set()
        ty = None
        for child in specifiers.children:
            if isinstance(child, Tree):
                ty = self.record_spec(child) if child.data == "record_spec" else \
                    self.enum_spec(child)
            elif child.type == "QUALIFIER":
                if str(child) in qualifiers:
                    raise self.error(child, f"'{child}' is given twice")
                qualifiers.add(str(child))
            elif child.type in ("TYPEDEF_NAME", "SCOPED_TYPE"):
                name = self.tag_of(child) if child.type == "SCOPED_TYPE" else str(child)
                ty = self.typedefs.get(name)
                if ty is None and child.type == "SCOPED_TYPE":
                    ty = scalar_type([name])
                if ty is None:
                    raise self.error(child, f"type {child} is used before its typedef")
            else:
                words.append(str(child))
        if ty is not None:
            return ty
        try:
            return scalar_type(words)
        except TypeError_ as e:
            raise self.error(specifiers, str(e)) from None

    def record_spec(self, node: Tree) -> Ty:
        """``struct tag``, ``union tag { members }`` or an anonymous one."""
        keyword, tag_token, body = node.children
        kind, tag = str(keyword), self.tag_of(tag_token)
        record = self.records.get((kind, tag)) if tag else None
        if record is None:
            record = Record(kind, tag)
            if tag:
                self.records[(kind, tag)] = record
        if body is None:
            return record_type(record)
        if record.complete:
            raise self.error(tag_token, f"{kind} {tag} is declared twice")
        fields, names = [], set()
        for member in body.children:
            base = self.specified_type(member.children[0])
            if base.kind == "string":                # (in memory: strsize bytes)
                base = Ty("string", self.machine.strsize, name="string")
            for member_declarator in member.children[1:]:
                declarator, bitfield = (member_declarator.children + [None])[:2] \
                    if member_declarator.children[0].data != "bitfield" else \
                    (None, member_declarator.children[0])
                name, ty = ("", base) if declarator is None else \
                    self.declarator_type(base, declarator)
                if name and name in names:
                    raise self.error(declarator, f"{kind} {tag or '(anonymous)'} has two "
                                                 f"members named {name}")
                names.add(name)
                if ty.kind in ("void", "function") or ty.kind in ("struct", "union") and \
                        not ty.record.complete:
                    raise self.error(member, f"member {name} cannot be of type "
                                             f"{type_name(ty)}")
                bits = None
                if bitfield is not None:
                    bits = self.constant(bitfield.children[0])
                    if ty.kind != "int" or ty.is_pointer:
                        raise self.error(bitfield, f"bit-field {name} must be of an integer type")
                    if not 0 <= bits <= 8 * ty.size or (bits == 0 and name):
                        raise self.error(bitfield, f"bit-field {name} cannot be {bits} bits wide")
                fields.append((name, ty, bits))
        lay_out(record, fields)
        return record_type(record)

    def tag_of(self, token) -> str:
        if token is None:
            return ""
        text = str(token)
        if "`" in text:
            module, _, text = text.partition("`")
            if module not in ("D", "C"):
                raise self.error(token, f"{token} names a kernel type: usdtgen traces user "
                                        "space and knows only the script's types (D`name)")
        return text

    def enum_spec(self, node: Tree) -> Ty:
        """``enum tag { A, B = 3, ... }``: the constants, each an int (C's range)."""
        _, tag_token, body = node.children
        tag = self.tag_of(tag_token)
        ty = self.enum_types.get(tag) if tag else None
        if body is None:
            if ty is None:
                raise self.error(node, f"enum {tag} is not declared")
            return ty
        if ty is not None:
            raise self.error(tag_token, f"enum {tag} is declared twice")
        ty = Ty("int", 4, True, name=f"enum {tag}" if tag else "enum")
        if tag:
            self.enum_types[tag] = ty
        value = 0
        for enumerator in body.children:
            if enumerator is None:
                continue
            name_token, _, value_node = enumerator.children
            name = str(name_token)
            if value_node is not None:
                value = self.constant(value_node)
            if not -(1 << 31) <= value < (1 << 31):
                raise self.error(enumerator, f"{name} = {value} does not fit in an int")
            if name in self.enum_constants or name in self.declared or name in self.inlines:
                raise self.error(name_token, f"{name} is declared twice")
            self.enum_constants[name] = (value, ty)
            self.enum_names.setdefault(ty.name, {}).setdefault(value, name)
            value += 1
        return ty

    def declarator_type(self, base: Ty, declarator: Tree) -> tuple[str, Ty]:
        """The name and type a declarator gives ``base``: ``*p``, ``a[3]``, ``(*f)()``."""
        if declarator.data == "function_declarator":
            raise self.error(declarator, "functions are not D variables: only an extern "
                                         "declaration may name one")
        if declarator.data == "function_pointer":
            *stars, inner, name_token, dimensions, _ = declarator.children
            for _ in stars:                          # (they make the return type)
                base = pointer_to(base)
            ty = _function_pointer(base)
            for _ in inner.children[1:]:
                ty = pointer_to(ty)
            for size in reversed([self.constant_token(d) for d in dimensions.children]
                                 if dimensions is not None else []):
                if size is None or size <= 0:
                    raise self.error(dimensions, "an array needs its number of elements")
                ty = array_of(ty, size)
            return str(name_token), ty
        *stars, name_token, dimensions = declarator.children
        ty = base
        for _ in stars:
            ty = pointer_to(ty)
        if dimensions is not None:
            if not dimensions.children or None in dimensions.children:
                raise self.error(dimensions, "an array needs its number of elements, an "
                                             "associative array its key types")
            sizes = [self.constant_token(d) for d in dimensions.children]
            if None in sizes:
                raise self.error(declarator, "an associative array is declared at the top "
                                             "level: TYPE name[KEY TYPES];")
            if ty.kind in ("void", "string", "function"):
                raise self.error(declarator, f"an array cannot hold {type_name(ty)}")
            for size in reversed(sizes):
                if size <= 0:
                    raise self.error(dimensions, "an array has at least one element")
                if size * ty.size > MAX_VARIABLE_SIZE:
                    raise self.error(dimensions, f"an array of {size} {type_name(ty)} is too "
                                                 f"large: D variables hold at most "
                                                 f"{MAX_VARIABLE_SIZE} bytes")
                ty = array_of(ty, size)
        return str(name_token), ty

    def constant_token(self, dimension) -> int | None:
        if isinstance(dimension, Token) and dimension.type == "INT":
            return int(dimension.rstrip("uUlL"), 0) if not (
                len(dimension) > 1 and dimension[0] == "0" and dimension[1] not in "xX") \
                else int(dimension.rstrip("uUlL"), 8)
        return None

    def typedef(self, node: Tree) -> None:
        """``typedef TYPE name[, ...];``"""
        _, specifiers, *declarators = node.children
        base = self.specified_type(specifiers)
        for declarator in declarators:
            name, ty = self.declarator_type(base, declarator)
            before = self.typedefs.get(name)
            if before is not None:
                raise self.error(declarator, f"type {name} is declared twice")
            self.typedefs[name] = Ty(ty.kind, ty.size, ty.signed, ty.target, ty.count,
                                     ty.record, name=name)

    def declared_type(self, type_node: Tree) -> Ty:
        """The type of a variable's declaration (inline's, declaration's specifiers)."""
        ty = self.type_of(type_node) if type_node.data == "type_name" else \
            self.specified_type(type_node)
        self.check_variable_type(type_node, ty)
        return ty

    def check_variable_type(self, node, ty: Ty) -> None:
        if ty.kind in ("void", "function"):
            raise self.error(node, f"a variable cannot be of type {type_name(ty)}")
        if ty.kind in ("struct", "union") and not ty.record.complete:
            raise self.error(node, f"{type_name(ty)} has no members declared: a variable "
                                   "cannot be of its type")
        if ty.size > MAX_VARIABLE_SIZE:
            raise self.error(node, f"a variable of {ty.size} bytes is too large: D variables "
                                   f"hold at most {MAX_VARIABLE_SIZE} bytes")

    def declaration(self, node: Tree) -> None:
        """``[self|this] TYPE name[, name...];``, ``TYPE name[KEYS];`` (associative) and
        ``TYPE name[N];`` (an array): the variables' types, known before any clause uses
        them; a second, different declaration is an error. (extern and static declare
        globals.) A declaration may only declare a struct, union or enum."""
        if node.data == "untyped_declaration":           # "self x;": an int, as in C
            scope_token, *names = node.children
            declarators = [Tree("declarator", [name, None], meta=node.meta) for name in names]
            specifiers = scope_token
            base = INT
        else:
            scope_token, specifiers, *declarators = node.children
        scope = str(scope_token) if scope_token is not None else "global"
        if scope == "register":
            raise self.error(scope_token, "register is not a storage class of D variables")
        if scope == "extern":                    # a kernel symbol's type: nothing to keep
            for declarator in declarators:
                if declarator is not None:
                    self.externs.add(str(_declared_name(declarator)))
            return
        if node.data != "untyped_declaration":
            base = self.specified_type(specifiers)
        declarators = [d for d in declarators if d is not None]
        if not declarators and scope != "global":
            raise self.error(node, f"a {scope} declaration needs a variable name")
        for declarator in declarators:
            if declarator.data == "declarator" and declarator.children[-1] is not None and \
                    any(self.constant_token(d) is None
                        for d in declarator.children[-1].children):
                self.associative_declaration(scope, base, declarator)
                continue
            name, ty = self.declarator_type(base, declarator)
            self.check_variable_type(specifiers if ty.kind in ("float", "void") else
                                     declarator, ty)
            if name in BUILTINS or name in ("self", "this", "args"):
                raise self.error(declarator, f"{name} is a built-in variable: it cannot be "
                                             "declared")
            if scope in ("self", "this") and ty.kind == "array":
                raise self.error(declarator, f"{scope}-> variables cannot be arrays")
            table = {"self": self.tls_types, "this": self.declared_this}.get(scope,
                                                                              self.global_types)
            self.redeclared(declarator, name, ty, table)
            table[name] = ty
            if table is self.global_types:
                self.declared.add(name)
                if ty.is_aggregate and name not in self.global_addresses:
                    self.global_addresses[name] = self.machine.memory.allocate(ty.size)

    def associative_declaration(self, scope: str, ty: Ty, declarator: Tree) -> None:
        *stars, name_token, dimensions = declarator.children
        for _ in stars:
            ty = pointer_to(ty)
        name = str(name_token)
        keys = list(dimensions.children)
        counts = []                             # [int][4]: the elements are int[4]
        while keys and self.constant_token(keys[-1]) is not None:
            counts.insert(0, self.constant_token(keys.pop()))
        for count in reversed(counts):
            if count <= 0:
                raise self.error(declarator, "an array's size must be positive")
            ty = array_of(ty, count)
        self.check_variable_type(declarator, ty)
        if scope in ("self", "this"):
            raise self.error(declarator, f"{scope}-> variables cannot be arrays")
        for dimension in keys:
            if self.constant_token(dimension) is not None:
                raise self.error(declarator, f"{name}: an associative array's keys are types "
                                             "and its value's sizes come last, as in "
                                             "int a[string][4]")
            if isinstance(dimension, Tree):
                key = self.type_of(dimension)
                if key.kind in ("void", "function", "float"):
                    raise self.error(dimension, f"an associative array's key cannot be of "
                                                f"type {type_name(key)}")
        self.redeclared(declarator, name, ty, self.array_types)
        self.array_types[name] = ty
        self.declared.add("[]" + name)
        self.array_arity[name] = len(keys)

    def redeclared(self, node, name: str, ty: Ty, table: dict) -> None:
        before = table.get(name)
        if before is not None and before != ty:
            raise self.error(node, f"{name} is declared twice, as {_a_kind(before)} and "
                                   f"as {_a_kind(ty)}")
        if name in self.inlines or (table is self.global_types and "[]" + name in self.declared) \
                or (table is self.array_types and name in self.declared):
            raise self.error(node, f"{name} is declared twice")

    def inline(self, node: Tree) -> None:
        """``inline TYPE NAME = expression;``: NAME stands for the expression, of that type."""
        _, type_node, name_token, op, value = node.children
        name = str(name_token)
        if str(op) != "=":
            raise self.error(op, "an inline is defined with '='")
        if name in self.inlines or name in self.declared or name in BUILTINS:
            raise self.error(name_token, f"{name} is declared twice")
        if name in ACTIONS or name in AGG_FUNCTIONS or name in STRING_FUNCTIONS or \
                name in UNSUPPORTED:
            raise self.error(name_token, f"{name} is the name of a D function")
        target = self.declared_type(type_node)
        saved = self.probe, self.needs
        self.probe, self.needs = None, Needs()
        try:                             # checked here: before its definition, it is unknown
            ty = self.expr(value)[1]
        finally:
            self.probe, self.needs = saved
        if {target.kind, ty.kind} == {"int", "string"}:
            raise self.error(value, f"inline {name} is {_a_kind(target)}: its value is "
                                    f"{_a_kind(ty)}")
        self.inlines[name] = node

    def prescan(self, tree: Tree) -> None:
        """First assignments of globals and definitions of aggregations, in source order: a
        clause may print an aggregation defined further down (a variable must be assigned
        or declared above its first reading, as in DTrace)."""
        for item in tree.children:
            if not isinstance(item, Tree):
                continue
            for node in item.iter_subtrees_topdown():
                if node.data not in ("assignment", "pre_incdec", "post_incdec"):
                    continue
                target = node.children[1 if node.data == "pre_incdec" else 0]
                name = _assigned_name(target)
                if name is not None and name not in self.assigned:
                    self.assigned[name] = node
                    self.assigned_in[name] = item
                agg = _aggregation_target(target)
                if agg is not None and node.data == "assignment":
                    self.agg_defs.setdefault(agg, node)

    def clause(self, node: Tree) -> Clause:
        probe_list, predicate, body = node.children
        descriptions = []
        for token in probe_list.children:
            text = self.expand_macros(str(token), token)
            try:
                descriptions.append(parse_description(text, self.loc(token)))
            except DescriptionError as e:
                raise self.error(token, str(e)) from None
        clause = Clause(len(self.clauses), tuple(descriptions), self.loc(probe_list), node)
        statements = body.children if body is not None else []
        self.check_speculation_order([s for s in statements if isinstance(s, Tree)])
        clause.records = body is None or not statements or any(
            _records(s) for s in statements)
        return clause

    def size_records(self) -> None:
        """Each clause's record in DTrace's principal buffer, laid out as DTrace's kernel lays
        out an enabling's records, and, when the script sets bufsize, the buffer that holds
        them (see PrincipalBuffer). With bufpolicy=fill, END's records are kept room for: an
        END that needs more than bufsize cannot be enabled."""
        for clause in self.clauses:
            clause.commits = any(node.data == "call" and str(node.children[0]) == "commit"
                                 for node in clause.node.iter_subtrees())
            clause.record_bytes, clause.record_alignment = record_layout(
                self.recorded_values(clause) if clause.records else [])
        options = self.machine.options
        if "bufsize" not in options:
            return
        from usdtgen.trace.script.runtime import PrincipalBuffer, parse_rate, parse_size
        bufsize = parse_size(options["bufsize"]) & ~7     # DTrace rounds it down to 8 bytes
        policy = str(options.get("bufpolicy", "switch"))
        if policy == "ring":
            return                    # a ring keeps the newest records: nothing is dropped
        reserve = 0
        if policy == "fill":
            for clause in self.clauses:
                if clause.record_bytes and any(d.kind == "END" for d in clause.descriptions):
                    reserve += clause.record_bytes + clause.record_alignment
            if reserve > bufsize:
                raise self.error(self.end_clause().node,
                                 f"END records {reserve} bytes, more than bufsize="
                                 f"{options['bufsize']} holds: END enablings exceed the size "
                                 "of the principal buffer (bufpolicy=fill)")
        switch_s = parse_rate(options.get("switchrate", "1hz"))
        self.machine.buffer = PrincipalBuffer(bufsize, policy, reserve, int(switch_s * 1e9))

    def end_clause(self) -> "Clause":
        return next(c for c in self.clauses if any(d.kind == "END" for d in c.descriptions))

    def recorded_values(self, clause: "Clause") -> list[int]:
        """The sizes of the values a clause's actions record, in order, as DTrace records
        them: each printf()/trace() argument at its type's size (a string at strsize), a
        printf() without arguments a 64-bit zero, exit() an int, printa() each aggregation's
        ID, tracemem() its length; speculate() and commit() record nothing."""
        self.this_types = dict(self.declared_this)
        sizes: list[int] = []
        for node in clause.node.iter_subtrees_topdown():
            if node.data != "call":
                continue
            name = str(node.children[0])
            args = self.call_args(node)
            if name in ("printf", "system", "freopen"):
                sizes += [self.value_size(arg) for arg in args[1:]] or [8]
            elif name in ("trace", "print"):
                sizes += [self.value_size(arg) for arg in args[:1]]
            elif name == "printa":
                sizes += [8 for arg in args
                          if isinstance(arg, Tree) and arg.data == "aggregation"]
            elif name == "tracemem" and len(args) >= 2:
                sizes.append(self.constant_or(args[1], 8))
            elif name == "exit":
                sizes.append(4)
            elif name in ("clear", "trunc", "normalize", "denormalize", "setopt"):
                sizes.append(8)
        return sizes

    def value_size(self, arg) -> int:
        try:
            ty = self.expr(arg)[1]
        except ScriptError:
            return 8
        return self.machine.strsize if ty.kind == "string" else max(ty.size, 1)

    def constant_or(self, node, default: int) -> int:
        try:
            return self.constant(node)
        except ScriptError:
            return default

    def check_speculation_order(self, statements: list) -> None:
        """DTrace's rules for a clause's speculation actions, in the order written:
        speculate() once, before any data-recording action and never with an aggregation
        or a commit(); commit() once, before any data-recording action and with no
        aggregation or data-recording action after it (discard() goes anywhere)."""
        seen: dict[str, Tree] = {}
        for node in statements:
            kind = _speculation_role(node)
            if kind is None:
                continue
            if kind == "speculate":
                if "speculate" in seen:
                    raise self.error(node, "a clause may speculate() only once")
                if "commit" in seen:
                    raise self.error(node, "speculate() may not follow commit()")
                if "data" in seen:
                    raise self.error(node, "speculate() must come before the clause's "
                                           "data-recording actions")
                if "aggregation" in seen:
                    raise self.error(node, "a clause that speculates may not aggregate")
            elif kind == "commit":
                if "commit" in seen:
                    raise self.error(node, "a clause may commit() only once")
                if "speculate" in seen:
                    raise self.error(node, "commit() may not follow speculate()")
                if "data" in seen:
                    raise self.error(node, "commit() may not follow data-recording actions")
            elif kind == "aggregation":
                if "speculate" in seen:
                    raise self.error(node, "a clause that speculates may not aggregate")
                if "commit" in seen:
                    raise self.error(node, "an aggregation may not follow commit()")
            elif kind == "data" and "commit" in seen:
                raise self.error(node, "data-recording actions may not follow commit()")
            seen.setdefault(kind, node)

    def expand_macros(self, text: str, token) -> str:
        def value(match):
            word = match.group(1)
            if word.isdigit():
                index = int(word)
                return str(self.macro_value(index, token, as_string=True))
            if word == "target":
                return str(self.machine.target or "")
            if word == "pid":
                return str(self.machine.own_pid)
            raise self.error(token, f"unknown macro ${word}")
        return re.sub(r"\$\$?([0-9]+|[A-Za-z_]+)", value, text)

    def macro_value(self, index: int, node, as_string: bool):
        self.used_macros.add(index)
        if index == 0:
            return self.parsed.filename
        if index > len(self.macro_args):
            if self.machine.options.get("defaultargs"):
                return "" if as_string else 0
            raise self.error(node, f"macro argument ${index} is not defined",
                             "give it after the target (or after --), or use "
                             "'#pragma D option defaultargs'")
        text = self.macro_args[index - 1]
        if as_string:
            return text
        try:
            return int(text, 0)
        except ValueError:
            return text

    # -- binding a clause to a probe ----------------------------------------------------------

    def bind(self, clause: Clause, probe: ProbeInfo | None):
        """The clause's (predicate, actions) for ``probe``'s argument types, compiled once per
        distinct signature. With ``probe`` None: a check with argument types unknown."""
        signature = None if probe is None else probe.arg_types if probe.arg_map is None else \
            (probe.arg_types, probe.arg_map, probe.mapped_types)
        compiled = clause.bound.get(signature)
        if compiled is not None:
            return compiled
        self.probe, self.needs = probe, clause.needs
        if clause.this_before is None:         # (the first binding is in text order)
            clause.this_before = dict(self.this_so_far)
        self.this_types = {**self.declared_this, **clause.this_before}
        self.clause_node = clause.node
        _, predicate_node, body = clause.node.children
        predicate = None
        if predicate_node is not None:
            condition = predicate_node.children[1]
            if self.obj(condition)[1].kind not in ("int", "string", "any"):
                raise self.error(condition, "a predicate must be an integer, a pointer or a "
                                            "string, not " + type_name(self.obj(condition)[1]))
            predicate, _ = self.expr(condition)
        actions = self.statements(body.children if body is not None else [])
        compiled = clause.bound[signature] = (predicate, actions)
        self.probe = self.needs = self.clause_node = None
        self.this_so_far.update(self.this_types)
        return compiled

    # -- statements -----------------------------------------------------------------------------

    def statements(self, nodes) -> list:
        actions = []
        for node in nodes:
            if isinstance(node, Token):
                continue
            actions.append(self.statement(node))
        return actions

    def statement(self, node: Tree):
        kind = node.data
        if kind == "if_stmt":
            return self.if_statement(node)
        if kind == "block":
            return _sequence(self.statements(node.children))
        if kind == "call" and str(node.children[0]) in ACTIONS:
            return self.action(node)
        if kind == "assignment" and _aggregation_target(node.children[0]) is not None:
            return self.aggregate(node)
        if kind in ("assignment", "pre_incdec", "post_incdec"):
            fn, _ = self.expr(node)
            return fn
        fn, ty = self.expr(node)
        return self.machine.output.trace_action(fn, ty)

    def if_statement(self, node: Tree):
        condition, _ = self.expr(node.children[0])
        then = self.branch(node.children[1])
        otherwise = self.branch(node.children[2]) if len(node.children) > 2 else None

        if otherwise is None:
            def run(f):
                if condition(f):
                    then(f)
        else:
            def run(f):
                if condition(f):
                    then(f)
                else:
                    otherwise(f)
        return run

    def branch(self, node):
        if isinstance(node, Tree) and node.data == "block":
            return _sequence(self.statements(node.children))
        return self.statement(node)

    # -- actions --------------------------------------------------------------------------------

    def call_args(self, node: Tree) -> list:
        args = node.children[1]
        return [] if args is None else list(args.children)

    def check_count(self, node: Tree, name: str, args, low: int, high: int) -> None:
        if not low <= len(args) <= high:
            want = str(low) if low == high else f"{low} to {high}"
            raise self.error(node, f"{name}() takes {want} argument{'s' if high != 1 else ''}, "
                                   f"not {len(args)}")

    def agg_name(self, node, fn_name: str) -> Aggregation:
        if not (isinstance(node, Tree) and node.data == "aggregation"):
            raise self.error(node, f"{fn_name}() needs an aggregation (@name) here")
        name = str(node.children[0])
        aggregation = self.machine.aggregations.get(name)
        if aggregation is None:
            definition = self.agg_defs.get(name)
            if definition is None:
                raise self.error(node, f"aggregation {name} is never assigned")
            self.aggregate(definition)        # defines it
            aggregation = self.machine.aggregations[name]
        return aggregation

    def action(self, node: Tree):
        name = str(node.children[0])
        args = self.call_args(node)
        out = self.machine.output
        machine = self.machine
        if name == "printf":
            if not args:
                raise self.error(node, "printf() needs a format string")
            fmt = self.format_of(args[0], aggregation=False)
            values = [self.expr(a) for a in args[1:]]
            if fmt.conversions != len(values):
                raise self.error(args[0], f"the format has {fmt.conversions} conversion"
                                 f"{'s' if fmt.conversions != 1 else ''} but printf() has "
                                 f"{len(values)} value{'s' if len(values) != 1 else ''}")
            for i, ((conv, role), (fn, ty)) in enumerate(zip(fmt.argument_roles(), values)):
                if role == "value" and conv.conversion == "s" and _is_char_pointer(ty):
                    values[i] = self.as_string(fn, ty), STRING      # a char array's text
                elif role == "value" and ty.kind == "int" and ty.size < 8 and \
                        conv.conversion in "diuoxXc":
                    # recorded at the type's size: %d as the type is signed, %i signed,
                    # %u %o %x %X unsigned
                    values[i] = _at_size(fn, ty, signed=conv.conversion == "i" or (
                        conv.conversion == "d" and ty.signed)), ty
                elif role == "precision" and conv.conversion == "s":
                    values[i] = (lambda f, fn=fn: fn(f) or -1), ty      # .0 is no precision
            fmt = _no_zero_string_precision(fmt)
            for (conv, role), (_, ty), arg in zip(fmt.argument_roles(), values, args[1:]):
                if ty.kind in ("struct", "union", "void", "function"):
                    raise self.error(arg, f"printf() cannot format {type_name(ty)}",
                                     "print() shows a struct or union")
                if role != "value":
                    if ty.kind != "int":
                        raise self.error(arg, f"the '*' {role} of {conv.text} must be an "
                                              "integer")
                    continue
                if conv.conversion == "s" and ty.kind == "int":
                    raise self.error(arg, f"{conv.text} needs a string, and this is an integer",
                                     "read a string argument with copyinstr(argN)")
                if conv.conversion in "dixXuoc" and ty.kind == "string":
                    raise self.error(arg, f"{conv.text} needs an integer, and this is a string")
            return out.printf_action(_widened(fmt, [ty for _, ty in values]),
                                     [fn for fn, _ in values])
        if name == "printa":
            if not args:
                raise self.error(node, "printa() needs an aggregation")
            fmt = None
            if isinstance(args[0], Tree) and args[0].data == "string_literal":
                fmt = self.format_of(args[0], aggregation=True)
                args = args[1:]
            if not args:
                raise self.error(node, "printa() needs an aggregation after its format")
            aggregations = [self.agg_name(a, "printa") for a in args]
            for other in aggregations[1:]:
                if len(other.key_types) != len(aggregations[0].key_types):
                    raise self.error(node, f"printa() joins aggregations by their keys: "
                                           f"{aggregations[0].name} has "
                                           f"{len(aggregations[0].key_types)}, {other.name} "
                                           f"{len(other.key_types)}")
            if fmt is not None:
                keys = sum(1 for p in fmt.pieces if hasattr(p, "conversion") and not p.aggregation)
                if keys > len(aggregations[0].key_types):
                    raise self.error(args[0] if fmt is None else node,
                                     f"the printa() format has {keys} key conversions but "
                                     f"{aggregations[0].name} has "
                                     f"{len(aggregations[0].key_types)} keys")
            if fmt is not None and any(kt.stack for kt in aggregations[0].key_types):
                raise self.error(node, "printa() with a format cannot print a stack key (DTrace "
                                       "takes %k for it, which usdtgen does not have): use "
                                       "printa() without a format")
            if fmt is not None:
                fmt = _widened(fmt, [Ty("int", kt.size) if not kt.string else STRING
                                     for kt in aggregations[0].key_types], printa=True)
            return out.printa_action(fmt, aggregations)
        if name == "print":
            self.check_count(node, name, args, 1, 1)
            fn, ty = self.obj(args[0])
            if ty.kind in ("void", "function", "any"):
                raise self.error(args[0], f"print() cannot show {type_name(ty)}")
            return out.print_action(fn, ty, self.enum_names)
        if name == "trace":
            self.check_count(node, name, args, 1, 1)
            fn, ty = self.obj(args[0])
            if ty.is_aggregate:                 # a struct, union or array: its bytes
                size = ty.size
                return out.tracemem_action(fn, lambda f: size, None)
            fn, ty = self.scalar(args[0], "trace()")
            return out.trace_action(fn, ty)
        if name == "tracemem":
            self.check_count(node, name, args, 2, 3)
            address, address_ty = self.expr(args[0])
            if address_ty.kind != "int":
                raise self.error(args[0], "tracemem() takes an address")
            size_node = args[1]
            size = self.folded(size_node, self.expr(size_node)[0])
            if size is None or size <= 0:
                raise self.error(size_node, "tracemem()'s size must be a positive constant")
            shown = self.scalar(args[2], "tracemem()")[0] if len(args) > 2 else None
            return out.tracemem_action(address, lambda f: size, shown)
        if name in ("speculate", "commit", "discard"):
            self.check_count(node, name, args, 1, 1)
            fn, ty = self.expr(args[0])
            if ty.kind != "int":
                raise self.error(args[0], f"{name}() takes a speculation ID, an integer")
            act = {"speculate": machine.speculate, "commit": machine.commit,
                   "discard": machine.discard}[name]
            return lambda f: act(fn(f))
        if name == "setopt":
            self.check_count(node, name, args, 1, 2)
            compiled = [self.expr(a) for a in args]
            for (_, ty), arg in zip(compiled, args):
                if ty.kind == "int":
                    raise self.error(arg, "setopt() takes an option's name and value as strings")
            option = compiled[0][0]
            value = compiled[1][0] if len(compiled) > 1 else None

            def run(f):
                machine.set_option_at_run_time(option(f), True if value is None else value(f))
            return run
        if name == "copyinto":
            self.check_count(node, name, args, 3, 3)
            read = self.user_bytes(args[0], args[1], "copyinto()")
            target, target_ty = self.scalar(args[2], "copyinto()")
            if not target_ty.is_pointer:
                raise self.error(args[2], "copyinto() copies to a pointer: "
                                          "copyinto(address, size, destination)")
            memory = self.machine.memory
            return lambda f: memory.write(target(f), read(f))
        if name == "bcopy":
            self.check_count(node, name, args, 3, 3)
            (source, source_ty), (target, target_ty), (size, _) = \
                (self.scalar(a, "bcopy()") for a in args)
            if not (source_ty.is_pointer and target_ty.is_pointer):
                raise self.error(node, "bcopy() copies from a pointer to a pointer: "
                                       "bcopy(source, destination, size)")
            memory = self.machine.memory
            return lambda f: memory.copy(target(f), source(f), size(f))
        if name == "exit":
            self.check_count(node, name, args, 1, 1)
            fn, _ = self.expr(args[0])

            def run(f):
                machine.request_exit(fn(f))
            return run
        if name in ("clear", "denormalize"):
            self.check_count(node, name, args, 1, 1)
            aggregation = self.agg_name(args[0], name)
            if name == "clear":            # (on what was read: hits since stay for the next read)
                return lambda f: aggregation.clear()

            def run(f):
                aggregation.normal = 1
            return run
        if name == "trunc":
            self.check_count(node, name, args, 1, 2)
            aggregation = self.agg_name(args[0], name)
            keep = self.expr(args[1])[0] if len(args) > 1 else None
            return lambda f: aggregation.truncate(None if keep is None else keep(f),
                                                  machine.options)
        if name == "normalize":
            self.check_count(node, name, args, 2, 2)
            aggregation = self.agg_name(args[0], name)
            normal, normal_ty = self.scalar(args[1], "normalize()")
            if normal_ty.kind != "int":
                raise self.error(args[1], "normalize() divides by an integer")

            def run(f):
                value = normal(f)
                if not isinstance(value, int) or value <= 0:
                    raise Fault(f"illegal normalization value ({value})")
                aggregation.normal = value
            return run
        raise self.error(node, f"unknown action {name}()")     # pragma: no cover

    def format_of(self, node, aggregation: bool):
        if not (isinstance(node, Tree) and node.data == "string_literal"):
            raise self.error(node, "the format must be a string literal")
        text = _string_value(str(node.children[0]))
        try:
            return compile_format(text, label="format", aggregation=aggregation, escapes=False,
                                  extra_conversions="Y", stars=not aggregation)
        except FormatError as e:
            line, col = _position(node)
            raise error_at(self.parsed.text, self.parsed.filename, line, col + e.column,
                           str(e), markers=self.parsed.markers) from None

    # -- aggregations ---------------------------------------------------------------------------

    def aggregate(self, node: Tree):
        target, op, value = node.children
        name = _aggregation_target(target)
        if str(op) != "=":
            raise self.error(op, f"aggregations take '=', not {str(op)!r}")
        if not (isinstance(value, Tree) and value.data == "call" and
                str(value.children[0]) in AGG_FUNCTIONS):
            raise self.error(value, f"{name} must be assigned an aggregating function",
                             "count() sum() avg() min() max() stddev() quantize() "
                             "lquantize() llquantize()")
        fn_name = str(value.children[0])
        args = self.call_args(value)
        low, high = AGG_FUNCTIONS[fn_name]
        self.check_count(value, fn_name, args, low, high)
        key_nodes = [] if target.data == "aggregation" else \
            (list(target.children[1].children) if target.children[1] is not None else [])
        keys = [self.expr(k) for k in key_nodes]
        for (_, ty), key_node in zip(keys, key_nodes):
            if ty.kind == "void":
                raise self.error(key_node, "this has no value to be a key")
            if ty.kind in ("struct", "union") or key_node.data == "name" and \
                    str(key_node.children[0]) in ("curpsinfo", "curlwpsinfo"):
                raise self.error(key_node, f"an aggregation key cannot be {type_name(ty)}",
                                 "use its members as keys")
        params = ()
        if fn_name == "lquantize":
            lo, hi = self.constant(args[1]), self.constant(args[2])
            step = self.constant(args[3]) if len(args) > 3 else 1
            if step <= 0:
                raise self.error(args[3], "lquantize() step must be positive")
            if hi <= lo:
                raise self.error(args[2], "lquantize() upper bound must be greater than the lower")
            if step > 0xFFFF:
                raise self.error(args[3], "lquantize() step must fit in 16 bits (at most "
                                          "65535)")
            if (hi - lo) // step == 0:
                raise self.error(args[3], "lquantize() step is too large: there must be at "
                                          "least one level from the lower to the upper bound")
            if (hi - lo) // step > 0xFFFF:
                raise self.error(args[2], "lquantize() has too many levels (at most 65535)")
            params = (lo, hi, step)
        elif fn_name == "llquantize":
            factor, lo, hi, steps = (self.constant(a) for a in args[1:5])
            if factor < 2:
                raise self.error(args[1], "llquantize() factor must be at least 2")
            if lo < 0 or hi <= lo:
                raise self.error(args[2], "llquantize() needs 0 <= low < high")
            power = factor
            while power < steps:
                power *= factor
            if steps < factor or steps % factor or power % steps:
                raise self.error(args[4], "llquantize() steps must be a multiple of the "
                                          "factor and divide a power of it")
            if factor ** (hi + 1) > (1 << 63):
                raise self.error(args[3], "llquantize() high is too large for 64-bit values")
            params = (factor, lo, hi, steps)
        function = AggFunction(fn_name, params)
        aggregations = self.machine.aggregations
        existing = aggregations.get(name)
        if existing is None:
            existing = aggregations[name] = Aggregation(
                name, len(aggregations), function, tuple(ty.key_type for _, ty in keys))
        elif existing.function != function:
            raise self.error(value, f"{name} is already {existing.function.name}(); it cannot "
                                    f"also be {fn_name}()")
        elif len(existing.key_types) != len(keys):
            raise self.error(target, f"{name} has {len(existing.key_types)} keys elsewhere, "
                                     f"{len(keys)} here")
        elif self.probe is not None and self.probe.arg_types is not None:
            # bound to a probe whose argument types are known: its keys print by them
            existing.key_types = tuple(ty.key_type for _, ty in keys)
        if args and fn_name != "count":
            raw_value, value_ty = self.expr(args[0])
            if value_ty.kind == "string":
                raise self.error(args[0], f"{fn_name}() aggregates integers, and this is a "
                                          "string")

            def value_fn(f):                    # aggregated as int64_t, as DTrace does
                return wrap64(raw_value(f))
        else:
            def value_fn(f):
                return 0
        if fn_name == "quantize":
            incr_node = args[1] if len(args) > 1 else None
        elif fn_name == "lquantize":
            incr_node = args[4] if len(args) > 4 else None
        elif fn_name == "llquantize":
            incr_node = args[5] if len(args) > 5 else None
        else:
            incr_node = None
        incr = self.expr(incr_node)[0] if incr_node is not None else None
        add = make_adder(function)
        entries = existing.entries
        key_fns = [fn for fn, _ in keys]
        if not key_fns:
            if incr is None:
                return lambda f: add(entries, (), value_fn(f), 1)
            return lambda f: add(entries, (), value_fn(f), incr(f))
        if len(key_fns) == 1:
            key0 = key_fns[0]
            if incr is None:
                return lambda f: add(entries, (key0(f),), value_fn(f), 1)
            return lambda f: add(entries, (key0(f),), value_fn(f), incr(f))
        if incr is None:
            return lambda f: add(entries, tuple(k(f) for k in key_fns), value_fn(f), 1)
        return lambda f: add(entries, tuple(k(f) for k in key_fns), value_fn(f), incr(f))

    def constant(self, node) -> int:
        """The value of a constant expression: literals, operators, sizeof, enum and
        predefined constants, inlines of those and macro arguments; else an error."""
        for part in _outside_sizeof(node):
            if part.data == "name":
                name = str(part.children[0])
                if name in self.inlines:
                    self.constant(self.inlines[name].children[-1])
                elif name not in self.enum_constants and name not in PREDEFINED:
                    raise self.error(node, "this must be an integer constant")
            elif part.data not in FOLDABLE and part.data not in (
                    "sizeof_expr", "offsetof", "macro", "type_name", "specifiers"):
                raise self.error(node, "this must be an integer constant")
        fn, ty = self.expr(node)
        try:
            value = fn(None)
        except Exception:
            value = None
        if not isinstance(value, int):
            raise self.error(node, "this must be an integer constant")
        return value

    # -- expressions ----------------------------------------------------------------------------

    def expr(self, node):
        """(function of a Firing, static type) for an expression node; an array is a
        pointer to its first element here, as in C."""
        fn, ty = self.obj(node)
        if ty.kind == "array":
            return fn, pointer_to(ty.target)
        return fn, ty

    def obj(self, node):
        """As expr(), arrays kept as arrays (what sizeof, & and [] see). An expression of an
        array, struct or union type has its address as its value."""
        method = getattr(self, "x_" + node.data, None)
        if method is None:
            raise self.error(node, f"{node.data.replace('_', ' ')} is not supported here")
        return method(node)

    def scalar(self, node, what: str):
        """expr() of an operand that must be an integer or a string (not a struct)."""
        fn, ty = self.expr(node)
        if ty.kind in ("struct", "union", "function"):
            raise self.error(node, f"{what} cannot apply to {type_name(ty)}")
        return fn, ty

    def at(self, address, ty: Ty):
        """The value of type ``ty`` at the address ``address`` computes: an aggregate's value
        is its address; an integer or a string is read from D's memory."""
        if ty.is_aggregate:
            return address, ty
        if ty.kind in ("void", "function"):
            raise ValueError(f"{type_name(ty)} has no value")
        memory = self.machine.memory
        return (lambda f: memory.load(address(f), ty)), ty

    def x_int_literal(self, node):
        written = str(node.children[0])
        text = written.rstrip("uUlL")
        suffix = written[len(text):].lower()
        decimal = text[:2] not in ("0x", "0X") and not (len(text) > 1 and text.startswith("0"))
        if not decimal and text[:2] not in ("0x", "0X") and not set(text) <= set("01234567"):
            raise self.error(node, f"invalid digit in the octal constant {written}",
                             "a number starting with 0 is octal: digits 0 to 7")
        value = int(text, 16) if text[:2] in ("0x", "0X") else \
            int(text, 8) if not decimal else int(text)
        if value > INT64:
            raise self.error(node, "integer constant is too large")
        # C's rules: the first of int, (unsigned int,) long, unsigned long that holds it
        unsigned = "u" in suffix
        if "l" not in suffix and value < (1 << 31) and not unsigned:
            ty = INT
        elif "l" not in suffix and value < (1 << 32) and (unsigned or not decimal):
            ty = Ty("int", 4, False)
        elif value < (1 << 63) and not unsigned:
            ty = LONG
        else:
            ty = ULONG
        value = value if not ty.signed else wrap64(value)
        return (lambda f: value), ty

    def x_char_literal(self, node):
        text = _string_value(str(node.children[0])[1:-1], quoted=False)
        if len(text) == 1:
            value = ord(text)
            return (lambda f: value), CHAR
        if len(text) > 8:
            raise self.error(node, "a character constant holds at most 8 characters")
        value = 0                                # 'ab': the characters' bytes, first highest
        for char in text:
            value = (value << 8) | (ord(char) & 0xFF)
        ty = INT if len(text) <= 4 else LONG
        value = _wrapper(ty)(value)
        return (lambda f: value), ty

    def x_string_literal(self, node):
        value = _string_value(str(node.children[0]))
        return (lambda f: value), STRING

    def x_macro(self, node):
        text = str(node.children[0])
        if text.startswith("$$"):
            word = text[2:]
            if not word.isdigit():
                raise self.error(node, f"unknown macro {text}")
            value = self.macro_value(int(word), node, as_string=True)
            return (lambda f: value), STRING
        word = text[1:]
        if word.isdigit():
            value = self.macro_value(int(word), node, as_string=False)
            return (lambda f: value), (STRING if isinstance(value, str) else
                                       INT if -(1 << 31) <= value < (1 << 31) else LONG)
        machine = self.machine
        if word == "target":
            return (lambda f: machine.target or 0), INT
        if word == "pid":
            own = machine.own_pid
            return (lambda f: own), INT
        if word in ("uid", "gid", "ppid", "pgid", "sid"):
            value = {"uid": os.getuid, "gid": os.getgid, "ppid": os.getppid,
                     "pgid": os.getpgrp, "sid": lambda: os.getsid(0)}[word]()
            return (lambda f: value), INT
        raise self.error(node, f"unknown macro {text}",
                         "macros: $1..$9, $$1..$$9, $target, $pid, $ppid, $pgid, $sid, "
                         "$uid, $gid")

    def x_name(self, node):
        name = str(node.children[0])
        match = re.fullmatch(r"arg(\d+)", name)
        if match and int(match.group(1)) < MAX_ARGS:
            index = int(match.group(1))
            self.note_arg(index)

            def read(f):                        # argN are int64_t: an unsigned 2^63+ wraps
                value = f.args[index]
                return value if value < _SIGN else value - (1 << 64)
            return read, LONG
        machine = self.machine
        if name in _BUILTIN_TYPES:
            return self.builtin(name), _BUILTIN_TYPES[name]
        if name == "curpsinfo":
            return machine.psinfo_address, pointer_to(self.typedefs["psinfo_t"])
        if name == "curlwpsinfo":
            return machine.lwpsinfo_address, pointer_to(self.typedefs["lwpsinfo_t"])
        if name in ("self", "this"):
            raise self.error(node, f"{name} must be followed by ->name")
        if name == "args":
            raise self.error(node, "args must be indexed: args[0], args[1], ...")
        if name in self.enum_constants:
            value, ty = self.enum_constants[name]
            return (lambda f: value), ty
        if name in self.externs:
            raise self.error(node, f"{name} is declared extern: a kernel symbol, which "
                                   "usdtgen cannot read")
        if name in PREDEFINED and name not in self.global_types and name not in self.assigned:
            value = PREDEFINED[name]
            return (lambda f: value), INT
        if name in self.inlines:              # (its type was checked where it is defined)
            _, type_node, _, _, value = self.inlines[name].children
            target = self.declared_type(type_node)
            fn, value_ty = self.expr(value)
            fit = _converter(value_ty, target)
            return (lambda f: fit(fn(f))), target
        if name in self.assigned and name not in self.declared and \
                _position(self.assigned_in[name]) > _position(self.clause_node or node):
            # as in DTrace: a clause reads the variables that the text above it created
            raise self.error(node, f"undefined variable {name!r}: it is first assigned further "
                                   f"down, at line {_position(self.assigned[name])[0]}",
                             f"declare it at the top of the script (int {name};) or assign "
                             "it in an earlier clause")
        if name in self.global_types or name in self.assigned:
            ty = self.global_type(name)
            address = self.global_addresses.get(name)
            if address is not None:
                return self.at(lambda f: address, ty)
            store = machine.globals
            default = _zero(ty)
            return (lambda f: store.get(name, default)), ty
        if "[]" + name in self.assigned or "[]" + name in self.declared:
            raise self.error(node, f"{name} is an associative array: index it, {name}[key]")
        if name in KERNEL_BUILTINS:
            raise self.error(node, f"{name} is {KERNEL_BUILTINS[name]}: usdtgen traces user "
                                   "space and reads no kernel state")
        raise self.error(node, f"undefined variable {name!r}",
                         "assign it somewhere in the script before reading it")

    def builtin(self, name: str):
        machine = self.machine
        if name == "pid":
            return lambda f: f.pid
        if name == "tid":
            return lambda f: f.tid
        if name == "execname":
            return lambda f: f.execname
        if name in ("timestamp", "vtimestamp"):
            return lambda f: f.time
        if name == "walltimestamp":
            return lambda f: f.time + machine.wall_offset
        if name == "cpu":
            return lambda f: f.cpu
        if name == "probeprov":
            return lambda f: f.probe.provider
        if name == "probemod":
            return lambda f: f.probe.module
        if name == "probefunc":
            return lambda f: f.probe.function
        if name == "probename":
            return lambda f: f.probe.name
        if name in ("id", "epid"):
            return lambda f: f.probe.id
        if name == "ppid":
            return lambda f: machine.parent_of(f.pid)
        if name == "uid":
            return lambda f: machine.uid_of(f.pid)
        if name == "gid":
            return lambda f: machine.gid_of(f.pid)
        return lambda f: 0                                   # errno: not known for USDT

    def global_type(self, name: str) -> Ty:
        ty = self.global_types.get(name)
        if ty is not None:
            return ty
        if name in self.resolving:
            return LONG
        self.resolving.add(name)
        node = self.assigned[name]
        try:
            if node.data == "assignment":
                _, op, value = node.children
                saved = self.probe, self.needs
                self.needs = Needs()
                ty = self.expr(value)[1] if str(op) == "=" else LONG
                self.probe, self.needs = saved
            else:
                ty = LONG
        finally:
            self.resolving.discard(name)
        if ty.kind == "any":
            ty = LONG
        self.global_types[name] = ty
        if ty.is_aggregate:
            self.global_addresses[name] = self.machine.memory.allocate(ty.size)
        return ty

    def x_scoped_name(self, node):
        text = str(node.children[0])
        module, _, name = text.partition("`")
        if module == "D":
            return self.obj(Tree("name", [Token("NAME", name, line=node.children[0].line,
                                                 column=node.children[0].column)],
                                 meta=node.meta))
        raise self.error(node, f"{text} is a kernel symbol: usdtgen traces user space and "
                               "reads no kernel variables")

    def note_arg(self, index: int, as_string: bool = False) -> None:
        if self.needs is not None:
            self.needs.args.add(index)
            if as_string:
                self.needs.strings.add(index)

    def arg_type(self, index: int, types: tuple | None = None) -> Ty:
        types = types if types is not None else (self.probe and self.probe.arg_types)
        if self.probe is None or types is None:
            return ANY
        if index >= len(types):
            return LONG
        _, _, size, signed, is_string = types[index]
        return STRING if is_string else Ty("int", size or 8, signed)

    def args_entry(self, index: int) -> tuple[int, Ty]:
        """args[index]: the native argument it reads and its type (the provider's mapping,
        `probe p(int i, int j) : (int j, int i)`, applied)."""
        probe = self.probe
        if probe is not None and probe.arg_map is not None and index < len(probe.arg_map):
            return probe.arg_map[index], self.arg_type(index, probe.mapped_types)
        return index, self.arg_type(index)

    def args_count(self) -> int | None:
        probe = self.probe
        if probe is None or probe.arg_types is None:
            return None
        return len(probe.arg_map if probe.arg_map is not None else probe.arg_types)

    def x_index(self, node):
        base, args = node.children
        keys = [] if args is None else list(args.children)
        if base.data == "name" and str(base.children[0]) == "args":
            if len(keys) != 1:
                raise self.error(node, "args[] takes one index")
            index = self.constant(keys[0])
            if not 0 <= index < MAX_ARGS:
                raise self.error(keys[0], f"args[{index}] is out of range (0 to {MAX_ARGS - 1})")
            count = self.args_count()
            if count is not None and index >= count:
                raise self.error(keys[0], f"args[{index}] is out of range: "
                                 f"{self.probe.provider}:{self.probe.name} has "
                                 f"{count} arguments")
            index, ty = self.args_entry(index)
            self.note_arg(index, as_string=ty.kind == "string")
            if ty.kind == "string":
                def read(f):
                    text = f.strings[index]
                    if text is None:
                        raise Fault(f"invalid address ({f.args[index]:#x})", FAULT_BADADDR,
                                    f.args[index])
                    return text
                return read, ty
            return (lambda f: f.args[index]), ty
        if base.data == "aggregation":
            raise self.error(node, "aggregations cannot be read; print them with printa()")
        if not self.is_associative(base):
            address, ty = self.element_address(node)
            return self.at(address, ty)
        name = _array_name(base)
        if name in BUILTINS:
            raise self.error(node, f"{name} cannot be indexed")
        if "[]" + name not in self.assigned and "[]" + name not in self.declared:
            raise self.error(base, f"undefined associative array {name!r}",
                             "assign an element somewhere in the script before reading it")
        self.check_arity(node, name, len(keys))
        key_fns = [self.key(k, name, i) for i, k in enumerate(keys)]
        if name.startswith("self->"):                   # a thread's own elements
            key_fns.insert(0, lambda f: f.tid)
        store = self.machine.arrays.setdefault(name, {})
        value_ty = self.array_value_type(name)
        default = _zero(value_ty)
        key = _key_function(key_fns)
        if value_ty.is_aggregate:            # the element's address, zeroed when first used
            memory, size = self.machine.memory, value_ty.size

            def address(f):
                k = key(f)
                at = store.get(k)
                if at is None:
                    at = store[k] = memory.allocate(size)
                return at
            return address, value_ty
        return (lambda f: store.get(key(f), default)), value_ty

    def is_associative(self, base) -> bool:
        """Whether ``base[...]`` indexes an associative array (not an array or pointer)."""
        if base.data == "member" and _array_name(base) is not None:
            return ("[]" + _array_name(base)) in self.assigned
        if base.data != "name":
            return False
        name = str(base.children[0])
        return name not in self.global_types and name not in self.global_addresses and \
            name not in self.enum_constants and (name in BUILTINS or "[]" + name in
                                                 self.assigned or "[]" + name in self.declared
                                                 or name not in self.assigned)

    def key(self, node, array: str, position: int):
        """The function of an associative array's key: a struct or union is keyed by its
        bytes (its members' values, not its address). Each key of ``array`` keeps the kind
        of type it has where first used (a struct: the same struct)."""
        fn, ty = self.expr(node)
        if ty.kind != "any":
            kind = (ty.kind, ty.record)
            known = self.array_keys.setdefault(array, {}).setdefault(position, (kind, ty))
            if known[0] != kind:
                raise self.error(node, f"key {position + 1} of {array}[] is "
                                       f"{type_name(known[1])} elsewhere; this is "
                                       f"{type_name(ty)}")
        if ty.kind in ("struct", "union"):
            memory, size = self.machine.memory, ty.size
            return lambda f: memory.read(fn(f), size)
        if ty.kind in ("void", "function"):
            raise self.error(node, "this has no value to be a key")
        return fn

    def element_address(self, node, one_past: bool = False):
        """(address function, element type) of ``array[i]`` or ``pointer[i]``; with
        ``one_past``, ``&array[N]`` (just past the end) is allowed, as in C."""
        base, args = node.children
        keys = [] if args is None else list(args.children)
        fn, ty = self.obj(base)
        if not (ty.kind == "array" or ty.is_pointer):
            what = str(base.children[0]) if base.data == "name" else "this"
            raise self.error(node, f"{what} cannot be indexed: it is {type_name(ty)}",
                             "arrays, pointers, associative arrays and args[] are indexed")
        if len(keys) != 1:
            raise self.error(node, "an array takes one index")
        element = ty.target
        if element.kind in ("void", "function"):
            raise self.error(node, f"a {type_name(ty)} cannot be indexed: cast it to a "
                                   "pointer to a type with a size")
        index, index_ty = self.scalar(keys[0], "an index")
        if index_ty.kind != "int":
            raise self.error(keys[0], "an array index must be an integer")
        size = element.size
        element_of_array = base.data == "index" and self.is_associative(base.children[0])
        if ty.is_pointer or base.data not in ("name", "scoped_name") and not element_of_array:
            # (through a pointer or inside a struct, C's rules: no bounds; D's memory still
            # faults outside what it holds)
            return (lambda f: (fn(f) + index(f) * size) & INT64), element
        count = ty.count + (1 if one_past else 0)
        constant = self.folded(keys[0], index)
        if constant is not None and not 0 <= constant < count and not element_of_array:
            raise self.error(keys[0], f"index {constant} is out of bounds: the array has "
                                      f"{ty.count} elements")

        def address(f):
            i = index(f)
            if not 0 <= i < count:
                raise Fault(f"index out of bounds ({i})", FAULT_BADADDR, fn(f) + i * size)
            return fn(f) + i * size
        return address, element

    def member_address(self, node):
        """(address function, Member) of ``s.m`` or ``p->m``."""
        base, name_token = node.children
        name = str(name_token)
        if node.data == "dot":
            fn, ty = self.obj(base)
            if ty.kind not in ("struct", "union"):
                raise self.error(node, f"'.' needs a struct or union on its left; this is "
                                       f"{type_name(ty)}")
        else:
            fn, pointer = self.expr(base)
            ty = pointer.target
            if not pointer.is_pointer or ty.kind not in ("struct", "union"):
                raise self.error(node, f"'->' needs a pointer to a struct or union on its "
                                       f"left; this is {type_name(pointer)}")
        if not ty.record.complete:
            raise self.error(node, f"{type_name(ty)} has no members declared")
        member = ty.record.member(name)
        if member is None:
            raise self.error(name_token, f"{type_name(ty)} has no member {name}")
        offset = member.offset
        return (lambda f: fn(f) + offset), member

    def member_value(self, node):
        address, member = self.member_address(node)
        if member.bits:
            memory, unit, shift, bits = self.machine.memory, member.ty, member.bit_offset, \
                member.bits
            return (lambda f: memory.load_bits(address(f), unit, shift, bits)), member.ty
        return self.at(address, member.ty)

    def x_dot(self, node):
        return self.member_value(node)

    def variable_address(self, scope: str, name: str, ty: Ty):
        """The address of the struct or union a self-> or this-> variable holds (made, zero,
        at its first use: a thread's for as long as the script runs, a clause-local one
        until the probe firing ends)."""
        memory, size = self.machine.memory, ty.size
        if scope == "self":
            store = self.machine.thread_locals

            def address(f):
                at = store.get((f.tid, name))
                if at is None:
                    at = store[(f.tid, name)] = memory.allocate(size)
                return at
            return address

        def this_address(f):
            at = f.this.get(name)
            if at is None:
                at = f.this[name] = memory.allocate(size, scratch=True)
            return at
        return this_address

    def lvalue(self, node, one_past: bool = False):
        """(address function, type, Member or None) of an expression that is in D's memory:
        a declared array, struct or addressed global, an element, a member, ``*p``; None
        for other variables."""
        kind = node.data
        if kind == "scoped_name":
            module, _, name = str(node.children[0]).partition("`")
            if module != "D":
                self.obj(node)                              # (the error)
            node = Tree("name", [Token("NAME", name)], meta=node.meta)
            kind = "name"
        if kind == "name":
            name = str(node.children[0])
            if name in self.global_types or name in self.assigned:
                ty = self.global_type(name)
                address = self.global_addresses.get(name)
                if address is not None:
                    return (lambda f: address), ty, None
            return None
        if kind == "dot" or (kind == "member" and not _is_variable(node)):
            address, member = self.member_address(node)
            return address, member.ty, member
        if kind == "member":
            scope, name = str(node.children[0].children[0]), str(node.children[1])
            ty = (self.tls_types if scope == "self" else self.this_types).get(name)
            if ty is not None and ty.is_aggregate:
                return self.variable_address(scope, name, ty), ty, None
            return None
        if kind == "index" and node.children[0].data != "aggregation" and \
                not self.is_associative(node.children[0]) and \
                not (node.children[0].data == "name" and str(node.children[0].children[0]) ==
                     "args"):
            address, ty = self.element_address(node, one_past=one_past)
            return address, ty, None
        if kind == "deref":
            fn, ty = self.x_deref(node, address=True)
            return fn, ty, None
        return None

    def x_deref(self, node, address: bool = False):
        op, operand = node.children
        if str(op) != "*":
            raise self.error(op, f"syntax error near {str(op)!r}")
        fn, ty = self.expr(operand)
        if not ty.is_pointer:
            raise self.error(node, f"'*' needs a pointer; this is {type_name(ty)}")
        if ty.target.kind == "void":
            raise self.error(node, "a void pointer cannot be dereferenced: cast it to a "
                                   "pointer to a type first")
        if ty.target.kind == "function":
            raise self.error(node, "a pointer to a function cannot be dereferenced")
        if address:
            return fn, ty.target
        return self.at(fn, ty.target)

    def x_address_of(self, node):
        _, operand = node.children
        if operand.data in ("name", "scoped_name") or _is_variable(operand):
            if operand.data == "scoped_name":
                self.obj(operand)                       # (a kernel symbol's error)
            raise self.error(node, "the address of a D variable cannot be taken",
                             "take the address of an element (&a[0]) or a member (&s.m)")
        found = self.lvalue(operand, one_past=True)
        if found is None:
            raise self.error(node, "'&' needs something in memory: a declared global, an "
                                   "array element, a struct member or *pointer",
                             "the address of a scalar D variable (self->, this->, an "
                             "associative array's element) cannot be taken")
        address, ty, member = found
        if member is not None and member.bits:
            raise self.error(node, f"bit-field {member.name} has no address")
        return address, pointer_to(ty)

    def x_sizeof_expr(self, node):
        operand = node.children[0]
        if operand.data == "string_literal":
            size = len(_bytes(self.expr(operand)[0](None))) + 1
        else:
            _, ty = self.obj(operand)
            size = self.size_of(operand, ty)
        return (lambda f: size), ULONG

    def size_of(self, node, ty: Ty) -> int:
        if ty.kind == "string":
            return self.machine.strsize
        if ty.kind in ("void", "function", "any"):
            raise self.error(node, f"sizeof cannot apply to {type_name(ty)}")
        if ty.kind in ("struct", "union") and not ty.record.complete:
            raise self.error(node, f"{type_name(ty)} has no members declared: it has no size")
        return ty.size

    def x_offsetof(self, node):
        type_node, name_token = node.children
        ty = self.type_of(type_node)
        if ty.kind not in ("struct", "union") or not ty.record.complete:
            raise self.error(type_node, f"offsetof() needs a struct or union with its "
                                        f"members; this is {type_name(ty)}")
        member = ty.record.member(str(name_token))
        if member is None:
            raise self.error(name_token, f"{type_name(ty)} has no member {name_token}")
        if member.bits:
            raise self.error(name_token, f"bit-field {member.name} has no offset in bytes")
        offset = member.offset
        return (lambda f: offset), ULONG

    def check_arity(self, node, name: str, keys: int) -> None:
        """An associative array takes the same number of keys everywhere, at most
        MAX_KEYS (DTrace's tuple size)."""
        if keys > MAX_KEYS:
            raise self.error(node, f"{name}[] has {keys} keys: at most {MAX_KEYS}")
        known = self.array_arity.setdefault(name, keys)
        if known != keys:
            raise self.error(node, f"{name}[] takes {known} key{'s' if known != 1 else ''} "
                                   f"elsewhere, {keys} here")

    def array_value_type(self, name: str) -> Ty:
        known = self.array_types.get(name)
        if known is not None:
            return known
        node = self.assigned["[]" + name]
        ty = LONG
        if node.data == "assignment" and str(node.children[1]) == "=" and \
                name not in self.resolving:
            self.resolving.add(name)
            saved = self.probe, self.needs
            self.needs = Needs()
            try:
                ty = self.expr(node.children[2])[1]
            finally:
                self.probe, self.needs = saved
                self.resolving.discard(name)
        if ty.kind == "any":
            ty = LONG
        self.array_types[name] = ty
        return ty

    def x_member(self, node):
        base, member = node.children
        member = str(member)
        if not _is_variable(node):
            return self.member_value(node)
        scope = str(base.children[0])
        declared = (self.tls_types if scope == "self" else self.this_types).get(member)
        if declared is not None and declared.is_aggregate:
            return self.variable_address(scope, member, declared), declared
        if scope == "self":
            ty = self.tls_types.get(member)
            if ty is None:
                raise self.error(node, f"undefined thread-local variable self->{member}",
                                 f"assign self->{member} before reading it")
            store = self.machine.thread_locals
            default = _zero(ty)
            return (lambda f: store.get((f.tid, member), default)), ty
        ty = self.this_types.get(member)
        if ty is None:
            raise self.error(node, f"undefined clause-local variable this->{member}",
                             f"assign this->{member} earlier in this clause")
        default = _zero(ty)
        return (lambda f: f.this.get(member, default)), ty

    def x_call(self, node):
        name = str(node.children[0])
        args = self.call_args(node)
        if name in ACTIONS:
            raise self.error(node, f"{name}() is an action: it has no value")
        if name in AGG_FUNCTIONS:
            raise self.error(node, f"{name}() is an aggregating function: assign it to an "
                                   f"aggregation, @name = {name}(...)")
        if name in UNSUPPORTED:
            raise self.error(node, f"{name}() is not supported: usdtgen has no {UNSUPPORTED[name]}")
        if name == "alloca":
            self.check_count(node, name, args, 1, 1)
            size, size_ty = self.scalar(args[0], "alloca()")
            if size_ty.kind != "int":
                raise self.error(args[0], "alloca() takes a size in bytes")
            memory = self.machine.memory

            def alloca(f):
                wanted = size(f)
                if not 0 <= wanted <= MAX_SCRATCH:
                    raise Fault(f"out of scratch space: alloca({wanted})", FAULT_NOSCRATCH)
                return memory.allocate(wanted, scratch=True)
            return alloca, pointer_to(VOID)
        if name == "copyin":
            self.check_count(node, name, args, 2, 2)
            read = self.user_bytes(args[0], args[1], "copyin()")
            memory = self.machine.memory

            def copyin(f):
                data = read(f)
                address = memory.allocate(len(data), scratch=True)
                memory.write(address, data)
                return address
            return copyin, pointer_to(VOID)
        if name == "speculation":
            self.check_count(node, name, args, 0, 0)
            machine = self.machine
            return (lambda f: machine.new_speculation()), INT
        if name in ("ustack", "jstack"):
            return self.user_stack(node, name, args), STACK
        if name in USER_SYMBOLS:
            self.check_count(node, name, args, 1, 1)
            address, address_ty = self.scalar(args[0], f"{name}()")
            if address_ty.kind != "int":
                raise self.error(args[0], f"{name}() takes a code address")
            return _user_symbol(name, address), STRING
        if name not in STRING_FUNCTIONS:
            raise self.error(node, f"unknown function {name}()")
        # (a char pointer or array in D's memory is read as the string it holds)
        low, high = STRING_FUNCTIONS[name]
        self.check_count(node, name, args, low, high)
        if name == "copyinstr":
            return self.copyinstr(node, args)
        if name == "strtok":
            return self.strtok(args)
        if name == "progenyof":
            ancestor, machine = self.scalar(args[0], "progenyof()")[0], self.machine
            return (lambda f: int(machine.descends_from(f.pid, ancestor(f)))), INT
        if name in ("inet_ntoa", "inet_ntoa6", "inet_ntop"):
            return self.inet(node, name, args)
        compiled = [self.expr(a) for a in args]
        compiled = [(self.as_string(fn, ty), STRING) if _is_char_pointer(ty) else (fn, ty)
                    for fn, ty in compiled]
        fns = [fn for fn, _ in compiled]
        types = [ty for _, ty in compiled]
        wants_string = {"strlen": [0], "strjoin": [0, 1], "substr": [0], "basename": [0],
                        "dirname": [0], "index": [0, 1], "rindex": [0, 1], "strstr": [0, 1],
                        "strchr": [0], "strrchr": [0], "toupper": [0], "tolower": [0],
                        "strtoll": [0]}.get(name, [])
        for i in wants_string:
            if types[i].kind == "int" and not (name == "strtok" and _is_null(args[i])):
                raise self.error(args[i], f"argument {i + 1} of {name}() must be a string",
                                 "read string arguments with copyinstr(argN)")
        return _string_function(name, fns)

    def strtok(self, args):
        """strtok(s, delimiters): the first token of s; strtok(NULL, delimiters): the next
        one of the last string given (kept for the script, as DTrace keeps it per CPU)."""
        start = None if _is_null(args[0]) else self.as_string(*self.expr(args[0]))
        delimiters = self.as_string(*self.expr(args[1]))
        machine = self.machine

        def strtok(f):
            text = machine.strtok_rest if start is None else _bytes(start(f))
            if text is None:                  # strtok(NULL, ...) before any string
                raise Fault("invalid address (0x0): strtok(NULL) with no string before it",
                            FAULT_BADADDR, 0)
            stops = set(_bytes(delimiters(f)))
            at = 0
            while at < len(text) and text[at] in stops:
                at += 1
            end = at
            while end < len(text) and text[end] not in stops:
                end += 1
            machine.strtok_rest = text[end + 1:] if end < len(text) else b""
            return _text(text[at:end])
        return strtok, STRING

    def inet(self, node, name: str, args):
        """inet_ntoa(ipaddr_t *), inet_ntoa6(in6_addr_t *), inet_ntop(family, address): an
        address in D's memory as text."""
        memory = self.machine.memory
        address = self.expr(args[-1])[0]
        if name == "inet_ntop":
            family = self.expr(args[0])[0]

            def inet_ntop(f):
                kind = family(f)
                if kind not in (socket.AF_INET, socket.AF_INET6):
                    raise Fault(f"inet_ntop(): address family {kind} is neither AF_INET "
                                "nor AF_INET6", FAULT_ILLOP)
                return _address_text(memory.read(address(f), 4 if kind == socket.AF_INET
                                                 else 16))
            return inet_ntop, STRING
        if name == "inet_ntoa":
            return (lambda f: _address_text(memory.read(address(f), 4))), STRING
        return (lambda f: _address_text(memory.read(address(f), 16), v4_plain=True)), STRING

    def probe_arg_index(self, node) -> int | None:
        """N when ``node`` is a probe argument (``argN``, ``args[N]``, under casts)."""
        while isinstance(node, Tree) and node.data == "cast":
            node = node.children[1]
        if isinstance(node, Tree) and node.data == "name":
            match = re.fullmatch(r"arg(\d+)", str(node.children[0]))
            if match and int(match.group(1)) < MAX_ARGS:
                return int(match.group(1))
        elif isinstance(node, Tree) and node.data == "index" and \
                node.children[0].data == "name" and str(node.children[0].children[0]) == "args":
            return self.args_entry(self.constant(node.children[1].children[0]))[0]
        return None

    def stack_frames(self, node) -> int:
        """The frames a ustack()/jstack() call takes: its first argument, else the
        ustackframes option."""
        name, args = str(node.children[0]), self.call_args(node)
        frames = self.constant(args[0]) if args else int(
            self.machine.options.get("ustackframes", DEFAULT_USTACKFRAMES))
        if not 0 < frames <= MAX_USTACK_FRAMES:
            raise self.error(args[0] if args else node,
                             f"{name}() takes 1 to {MAX_USTACK_FRAMES} frames, not {frames}")
        return frames

    def user_stack(self, node, name: str, args):
        """A function of a firing: its thread's user stack (ustack([frames[, strsize]]):
        the frames the site's BPF program copied when the probe fired)."""
        self.check_count(node, name, args, 0, 2)
        key = (USER_STACK, STACK_FRAME * self.stack_frames(node))
        if self.needs is not None:
            self.needs.copies.add(key)

        def stack(f):
            data = f.copies.get(key) if f.copies is not None else None
            SYMBOLIZER.remember(f.pid)
            return UserStack((f.pid, *stack_frames(data))) if data else UserStack((f.pid,))
        return stack

    def user_bytes(self, address_node, size_node, what: str):
        """A function of a firing: the bytes at a user address of the firing's process
        (copyin()). Where the address is a probe argument and the size a constant, the
        kernel copies them when the probe fires; other addresses are read from the process
        when the record is processed (in BEGIN, END and tick-N: usdtgen's own memory, as
        dtrace reads its own)."""
        address, address_ty = self.scalar(address_node, what)
        size, _ = self.scalar(size_node, what)
        if address_ty.kind != "int":
            raise self.error(address_node, f"{what} takes a user address: an integer or a "
                                           "pointer")
        index = self.probe_arg_index(address_node)
        constant = None
        if index is not None and self.needs is not None:
            try:
                constant = self.constant(size_node)
            except ScriptError:
                constant = None
        if constant is not None and 0 <= constant <= MAX_COPY:
            key = (index, constant)
            self.note_arg(index)
            self.needs.copies.add(key)

            def copied(f):
                if f.copies is not None and key in f.copies:
                    data = f.copies[key]
                    if data is None:
                        raise Fault(f"invalid address ({address(f):#x}) in {what}",
                                    FAULT_BADADDR, address(f))
                    return data
                return read_process(f.pid, address(f), constant)
            return copied

        def read(f):
            wanted = size(f)
            if not 0 <= wanted <= MAX_SCRATCH:
                raise Fault(f"out of scratch space: {what} of {wanted} bytes", FAULT_NOSCRATCH)
            return read_process(f.pid, address(f), wanted)
        return read

    def copyinstr(self, node, args):
        """copyinstr(address[, size]): a probe argument's string is read by the kernel when
        the probe fires; any other address is read from the process's memory later."""
        index = self.probe_arg_index(args[0])
        limit = self.expr(args[1])[0] if len(args) > 1 else None
        most = self.machine.strsize - 1             # bytes, as DTrace (and the kernel) count
        if index is None or self.needs is None:
            address, address_ty = self.scalar(args[0], "copyinstr()")
            if address_ty.kind != "int":
                raise self.error(args[0], "copyinstr() takes a user address: an integer or "
                                          "a pointer")

            def read_later(f):
                size = most if limit is None else min(most, limit(f))
                return read_process_string(f.pid, address(f), max(size, 0)).decode(
                    "utf-8", "replace")
            return read_later, STRING
        self.note_arg(index, as_string=True)

        def read(f):
            text = f.strings[index]
            if text is None:
                raise Fault(f"invalid address ({f.args[index]:#x})", FAULT_BADADDR, f.args[index])
            size = most if limit is None else min(most, limit(f))
            if len(text) * 4 <= size:                   # short enough whatever its UTF-8
                return text
            data = text.encode("utf-8", "surrogateescape")
            if len(data) <= size:
                return text
            return data[:max(size, 0)].decode("utf-8", "replace")
        return read, STRING

    def x_cast(self, node):
        type_node, operand = node.children
        target = self.type_of(type_node)
        if target.kind == "float":
            raise self.error(node, "floating-point values are not supported: D computes in "
                                   "integers")
        fn, ty = self.scalar(operand, "a cast")
        if target.kind == "string":
            if ty.kind == "int" and not _is_char_pointer(ty):
                raise self.error(node, "an integer cannot be cast to string",
                                 "use copyinstr(argN) for a string argument, stringof() or "
                                 "lltostr() for a number")
            return self.as_string(fn, ty), STRING
        if ty.kind == "string":
            if _is_char_pointer(target):
                return fn, STRING
            raise self.error(node, "a string cannot be cast to an integer")
        if target.kind != "int":
            raise self.error(type_node, f"a value cannot be cast to {type_name(target)}")
        return _converted(fn, _converter(ty, target)), target

    def as_string(self, fn, ty: Ty):
        """A string's function from a char pointer or array (the text in D's memory)."""
        if ty.kind == "string":
            return fn
        memory, most = self.machine.memory, self.machine.strsize
        return lambda f: string_at(memory, fn(f), most)

    def x_sizeof_type(self, node):
        size = self.size_of(node, self.type_of(node.children[0]))
        return (lambda f: size), ULONG

    def x_aggregation(self, node):
        raise self.error(node, "aggregations cannot be read; print them with printa()")

    def x_unary_op(self, node):
        op, operand = node.children
        op = str(op)
        fn, ty = self.scalar(operand, op)
        self.no_float_arithmetic(node, op, ty)
        if ty.kind == "string":
            if op == "!":
                return (lambda f: int(not fn(f))), INT
            raise self.error(node, f"{op} cannot apply to a string")
        if op == "!":
            return (lambda f: int(not fn(f))), INT
        result = Ty("int", max(4, ty.size), ty.signed)
        wrap = _register(result)
        if op == "-":
            return (lambda f: wrap(-fn(f))), result
        if op == "~":
            return (lambda f: wrap(~fn(f))), result
        return (lambda f: wrap(fn(f))), result

    def no_float_arithmetic(self, node, op: str, *types: Ty) -> None:
        if any(ty.kind == "float" for ty in types):
            raise self.error(node, f"{op} cannot apply to a floating-point value: D has no "
                                   "floating-point arithmetic",
                             "a float or double can be stored, copied and printed (%f %e %g)")

    def x_binary(self, node):
        left_node, op, right_node = node.children
        op = str(op)
        left, lt = self.scalar(left_node, op)
        right, rt = self.scalar(right_node, op)
        self.no_float_arithmetic(node, op, lt, rt)
        if lt.is_pointer or rt.is_pointer:
            pointer = self.pointer_arithmetic(node, op, left, lt, right, rt)
            if pointer is not None:
                return pointer
        strings = lt.kind == "string" or rt.kind == "string"
        if strings and op in ("==", "!=") and (_is_null(left_node) or _is_null(right_node)):
            text = left if lt.kind == "string" else right      # a string is NULL when unset
            if op == "==":
                return (lambda f: 1 if text(f) == "" else 0), INT
            return (lambda f: 1 if text(f) != "" else 0), INT
        if strings:
            if lt.kind == "int" or rt.kind == "int":
                raise self.error(node, f"{op} cannot compare a string with an integer")
            if op not in ("==", "!=", "<", "<=", ">", ">="):
                hint = "join strings with strjoin(a, b)" if op == "+" else ""
                raise self.error(op, f"{op} cannot apply to strings", hint)
            return _compare(op, left, right, None), INT
        result = usual_arithmetic(lt, rt)
        if op in ("==", "!=", "<", "<=", ">", ">="):
            return _compare(op, left, right, INT64, result.signed), INT
        wrap = _register(result)
        if op == "+":
            return (lambda f: wrap(left(f) + right(f))), result
        if op == "-":
            return (lambda f: wrap(left(f) - right(f))), result
        if op == "*":
            return (lambda f: wrap(left(f) * right(f))), result
        if op in ("/", "%"):
            division = op == "/"
            signed = result.signed
            divisor = self.folded(node.children[2], right)
            if divisor == 0:
                raise self.error(node.children[2], "division by zero: the divisor is a constant "
                                                   "0" if division else
                                 "remainder of a division by zero: the divisor is a constant 0")

            def divide(f):
                a, b = left(f), right(f)
                if b == 0:
                    raise Fault("divide-by-zero", FAULT_DIVZERO)
                if not signed:
                    a, b = wrap(a), wrap(b)
                q = abs(a) // abs(b)
                if (a < 0) != (b < 0):
                    q = -q
                return wrap(q) if division else wrap(a - q * b)
            return divide, result
        if op == "<<":
            return (lambda f: wrap(left(f) << (right(f) & 63))), result
        if op == ">>":
            if result.signed:
                return (lambda f: wrap(left(f) >> (right(f) & 63))), result
            return (lambda f: (left(f) & INT64) >> (right(f) & 63)), result
        if op == "&":
            return (lambda f: wrap(left(f) & right(f))), result
        if op == "|":
            return (lambda f: wrap(left(f) | right(f))), result
        if op == "^":
            return (lambda f: wrap(left(f) ^ right(f))), result
        raise self.error(node, f"unknown operator {op}")        # pragma: no cover

    def pointer_arithmetic(self, node, op: str, left, lt: Ty, right, rt: Ty):
        """C's pointer arithmetic: pointer +- integer moves by elements, pointer - pointer
        counts them; comparisons are of addresses (None: compiled as integers)."""
        if op in ("==", "!=", "<", "<=", ">", ">="):
            return None
        if op not in ("+", "-"):
            raise self.error(node, f"{op} cannot apply to a pointer")
        if lt.is_pointer and rt.is_pointer:
            if op == "+" or lt.target != rt.target:
                raise self.error(node, f"{type_name(lt)} {op} {type_name(rt)} is not defined")
            size = self.element_size(node, lt)
            return (lambda f: _c_divide(wrap64(left(f) - right(f)), size)), LONG
        pointer, pointer_ty, offset = (left, lt, right) if lt.is_pointer else \
            (right, rt, left)
        if op == "-" and not lt.is_pointer:
            raise self.error(node, "an integer minus a pointer is not defined")
        size = self.element_size(node, pointer_ty) * (1 if op == "+" else -1)
        return (lambda f: (pointer(f) + offset(f) * size) & INT64), pointer_ty

    def element_size(self, node, pointer: Ty) -> int:
        if pointer.target.kind in ("void", "function") or pointer.target.kind in (
                "struct", "union") and not pointer.target.record.complete:
            raise self.error(node, f"arithmetic on a {type_name(pointer)} is not defined: "
                                   "its target has no size")
        return pointer.target.size if pointer.target.kind != "string" else \
            self.machine.strsize

    def x_and_(self, node):
        left, _ = self.expr(node.children[0])
        right, _ = self.expr(node.children[1])
        return (lambda f: 1 if left(f) and right(f) else 0), INT

    def x_or_(self, node):
        left, _ = self.expr(node.children[0])
        right, _ = self.expr(node.children[1])
        return (lambda f: 1 if left(f) or right(f) else 0), INT

    def x_xor_(self, node):
        left, _ = self.expr(node.children[0])
        right, _ = self.expr(node.children[1])
        return (lambda f: 1 if bool(left(f)) != bool(right(f)) else 0), INT

    def x_conditional(self, node):
        condition, _ = self.expr(node.children[0])
        then, tt = self.expr(node.children[1])
        otherwise, ot = self.expr(node.children[2])
        if {tt.kind, ot.kind} == {"int", "string"}:
            raise self.error(node, "both branches of ?: must be strings, or both integers")
        ty = tt if tt.kind != "any" else ot
        if ty.kind == "int" and ot.kind == "int":
            ty = usual_arithmetic(tt, ot)
        return (lambda f: then(f) if condition(f) else otherwise(f)), ty

    # -- assignments ----------------------------------------------------------------------------

    def x_assignment(self, node):
        target, op, value_node = node.children
        op = str(op)
        value, vt = self.expr(value_node)
        if vt.kind == "void":
            raise self.error(value_node, "this has no value to assign")
        if _is_null(value_node) and op == "=" and self.is_defined(target) and \
                target.data in ("name", "member", "index") and \
                self.assigned_type(target).kind == "string":
            value, vt = (lambda f: ""), STRING            # a string set to NULL is empty
        if op != "=":
            current, ct = self.expr(target)
            if ct.kind == "string" or vt.kind == "string":
                raise self.error(node, f"{op} cannot apply to strings")
            binary = Tree("binary", [target, Token("OP", op[:-1]), value_node],
                          meta=node.meta)
            value, vt = self.x_binary(binary)
        store = self.store(target, vt, node)
        return store(value), vt

    def assigned_type(self, target) -> Ty:
        """The type a variable assigned as ``target`` already has (ANY when not known)."""
        if target.data == "name":
            name = str(target.children[0])
            return self.global_type(name) if name in self.assigned or name in \
                self.global_types else ANY
        if target.data == "member" and _is_variable(target):
            scope, member = str(target.children[0].children[0]), str(target.children[1])
            return (self.tls_types if scope == "self" else self.this_types).get(member, ANY)
        if target.data == "index":
            name = _array_name(target.children[0])
            if name is not None and ("[]" + name in self.assigned or "[]" + name in
                                     self.declared):
                return self.array_value_type(name)
        return ANY

    def x_pre_incdec(self, node):
        return self.incdec(node, node.children[1], str(node.children[0]), pre=True)

    def x_post_incdec(self, node):
        return self.incdec(node, node.children[0], str(node.children[1]), pre=False)

    def incdec(self, node, target, op, pre: bool):
        current, ty = self.expr(target) if self.is_defined(target) else ((lambda f: 0), LONG)
        if ty.kind not in ("int", "any"):
            raise self.error(node, f"{op} cannot apply to {type_name(ty)}")
        delta = 1 if op == "++" else -1
        if ty.is_pointer:
            delta *= self.element_size(node, ty)
        else:
            ty = Ty("int", ty.size, ty.signed) if ty.kind == "int" else LONG
        wrap = _register(ty)
        setter = self.store(target, ty, node)(lambda f: wrap(current(f) + delta))
        if pre:
            return setter, ty

        def post(f):
            old = current(f)
            setter(f)
            return old
        return post, ty

    def is_defined(self, target) -> bool:
        if target.data == "member":
            scope, member = str(target.children[0].children[0]), str(target.children[1])
            return member in (self.tls_types if scope == "self" else self.this_types)
        return True

    def store(self, target, ty: Ty, node):
        """A function that, given the value's function, returns the assigning closure."""
        if ty.kind == "any":
            ty = LONG
        machine = self.machine
        if target.data == "name" and (str(target.children[0]) in BUILTINS or
                                      re.fullmatch(r"arg\d+", str(target.children[0]))):
            raise self.error(target, f"{target.children[0]} cannot be assigned")
        if target.data == "name" and str(target.children[0]) in self.enum_constants:
            raise self.error(target, f"{target.children[0]} is a constant: it cannot be "
                                     "assigned")
        found = self.lvalue(target)
        if found is not None:
            return self.memory_store(node, *found, ty)
        if target.data == "name":
            name = str(target.children[0])
            declared = self.global_type(name)
            if {declared.kind, ty.kind} == {"int", "string"}:
                raise self.error(node, f"{name} is {_a_kind(declared)}; it cannot take "
                                       f"{_a_kind(ty)}")
            store = machine.globals
            fit = self.fitter(ty, declared)

            def make(value):
                def assign(f):
                    v = store[name] = fit(value(f))
                    return v
                return assign
            return make
        if target.data == "member":
            base = target.children[0]
            if not (base.data == "name" and str(base.children[0]) in ("self", "this")):
                raise self.error(target, "'->' can only follow self or this")
            scope, member = str(base.children[0]), str(target.children[1])
            types = self.tls_types if scope == "self" else self.this_types
            declared = types.setdefault(member, ty)
            if declared.is_aggregate:
                return self.memory_store(node, self.variable_address(scope, member, declared),
                                         declared, None, ty)
            if {declared.kind, ty.kind} == {"int", "string"}:
                raise self.error(node, f"{scope}->{member} is {_a_kind(declared)}; it "
                                       f"cannot take {_a_kind(ty)}")
            fit = self.fitter(ty, declared)
            if scope == "this":
                def make(value):
                    def assign(f):
                        v = f.this[member] = fit(value(f))
                        return v
                    return assign
                return make
            store = machine.thread_locals

            def make(value):
                def assign(f):
                    v = fit(value(f))
                    if v == 0 or v == "":
                        store.pop((f.tid, member), None)      # D: assigning 0 frees it
                    else:
                        store[(f.tid, member)] = v
                    return v
                return assign
            return make
        if target.data == "index":
            base, args = target.children
            name = _array_name(base)
            if name is None or name in BUILTINS:
                raise self.error(target, "only associative arrays can be assigned by index")
            if name in self.global_types:
                raise self.error(target, f"{name} is a scalar variable; it cannot be indexed")
            declared = self.array_value_type(name)
            if declared.is_aggregate or ty.is_aggregate:
                if declared != ty:
                    raise self.error(node, f"{name}[] holds {type_name(declared)}; it cannot "
                                           f"take {type_name(ty)}")
                return self.memory_store(node, self.x_index(target)[0], declared, None, ty)
            if {declared.kind, ty.kind} == {"int", "string"}:
                raise self.error(node, f"{name}[] holds {_kind_word(declared)}s; it cannot "
                                       f"take {_a_kind(ty)}")
            key_nodes = [] if args is None else args.children
            self.check_arity(target, name, len(key_nodes))
            key_fns = [self.key(k, name, i) for i, k in enumerate(key_nodes)]
            if name.startswith("self->"):
                key_fns.insert(0, lambda f: f.tid)
            key = _key_function(key_fns)
            array = machine.arrays.setdefault(name, {})
            fit = self.fitter(ty, declared)

            def make(value):
                def assign(f):
                    v = fit(value(f))
                    if v == 0 or v == "":
                        array.pop(key(f), None)
                    else:
                        array[key(f)] = v
                    return v
                return assign
            return make
        raise self.error(target, "this cannot be assigned")

    def fitter(self, source: Ty, target: Ty):
        """What assigning a ``source`` value to a variable of type ``target`` does to it: an
        integer converted as DTrace converts it, a string cut to strsize bytes."""
        if target.kind != "string":
            return _converter(source, target)
        most = self.machine.strsize

        def cut(text):
            if type(text) is not str or len(text) * 4 <= most:
                return text
            data = text.encode("utf-8", "surrogateescape")
            return text if len(data) <= most else data[:most].decode("utf-8", "ignore")
        return cut

    def memory_store(self, node, address, declared: Ty, member, ty: Ty):
        """The assigning closure's maker for a place in D's memory: a struct or union is
        copied whole; an integer is converted as C converts it (a bit-field keeps its
        low bits)."""
        memory = self.machine.memory
        if declared.is_aggregate or ty.is_aggregate:
            if declared != ty:
                raise self.error(node, f"{type_name(declared)} cannot be assigned "
                                       f"{type_name(ty)}")
            size = declared.size

            def make(value):
                def assign(f):
                    source = value(f)
                    memory.copy(address(f), source, size)
                    return source
                return assign
            return make
        if declared.kind == "string" or ty.kind == "string":
            if declared.kind != ty.kind:
                raise self.error(node, f"{type_name(declared)} cannot be assigned "
                                       f"{type_name(ty)}")

            def make(value):
                def assign(f):
                    text = value(f)
                    memory.store(address(f), declared, text)
                    return text
                return assign
            return make
        if member is not None and member.bits:
            unit, shift, bits = member.ty, member.bit_offset, member.bits

            def make(value):
                def assign(f):
                    return memory.store_bits(address(f), unit, shift, bits, value(f))
                return assign
            return make
        fit = _converter(ty, declared)

        def make(value):
            def assign(f):
                v = fit(value(f))
                memory.store(address(f), declared, v)
                return v
            return assign
        return make


# -- helpers -------------------------------------------------------------------------------------

def _position(node) -> tuple[int, int]:
    if isinstance(node, Token):
        return node.line or 1, node.column or 1
    meta = getattr(node, "meta", None)
    if meta is not None and not getattr(meta, "empty", True):
        return meta.line, meta.column
    for child in getattr(node, "children", ()):
        if child is not None:
            return _position(child)
    return 1, 1


def _aggregation_target(node) -> str | None:
    if isinstance(node, Tree) and node.data == "aggregation":
        return str(node.children[0])
    if isinstance(node, Tree) and node.data == "index" and isinstance(node.children[0], Tree) \
            and node.children[0].data == "aggregation":
        return str(node.children[0].children[0])
    return None


def _speculation_role(node) -> str | None:
    """What a top-level statement is to the speculation rules: "speculate", "commit" (also
    discard), "aggregation", "data" (an action that records output), or None."""
    if node.data == "call":
        name = str(node.children[0])
        if name == "speculate":
            return "speculate"
        if name == "commit":
            return "commit"
        if name in ("printf", "printa", "trace", "print", "exit"):
            return "data"
        return None
    if node.data == "assignment" and _aggregation_target(node.children[0]) is not None:
        return "aggregation"
    return "data" if _records(node) else None


def _records(node) -> bool:
    """Whether a statement leaves output (so non-quiet mode prints the probe line)."""
    if not isinstance(node, Tree):
        return False
    if node.data == "call" and str(node.children[0]) in ("printf", "printa", "trace", "print",
                                                         "exit"):
        return True
    if node.data in ("if_stmt", "block"):
        return any(_records(child) for child in node.children[1 if node.data == "if_stmt" else 0:])
    if node.data in ("assignment", "pre_incdec", "post_incdec", "call"):
        return False
    return True                      # a bare expression is traced


def _widened(fmt, types, printa: bool = False):
    """The format with ``ll`` added to the unsigned conversions of 8-byte values, as DTrace
    does: ``%x`` of a 64-bit -1 prints 16 f's. In printa formats, the aggregation value
    (``%@``) is 8 bytes and the keys take ``types`` in order."""
    import dataclasses
    from usdtgen.trace.printf import Conversion, Format
    pieces, position = [], 0
    for piece in fmt.pieces:
        if isinstance(piece, Conversion):
            if piece.aggregation:
                size = 8
            else:
                position += piece.width_star + piece.precision_star
                ty = types[position] if position < len(types) else LONG
                position += 1
                size = ty.size if ty.kind == "int" else 8
            if size == 8 and not piece.length and piece.conversion in "uxXo":
                piece = dataclasses.replace(piece, length="ll")
        pieces.append(piece)
    return Format(fmt.text, tuple(pieces))


def _at_size(fn, ty: Ty, signed: bool):
    """The value read as a ``ty.size``-byte integer, signed or not: how DTrace's printf
    takes %i (signed) and %u %o %x %X (unsigned) of a narrow value."""
    bits = 8 * ty.size
    mask = (1 << bits) - 1
    if not signed:
        return lambda f: fn(f) & mask
    half = 1 << (bits - 1)
    return lambda f: ((fn(f) + half) & mask) - half


def _no_zero_string_precision(fmt):
    """DTrace prints all of a string for %.0s (a precision of 0 counts as none)."""
    import dataclasses
    from usdtgen.trace.printf import Conversion, Format
    if not any(isinstance(p, Conversion) and p.conversion == "s" and p.precision == 0
               for p in fmt.pieces):
        return fmt
    return Format(fmt.text, tuple(dataclasses.replace(p, precision=None)
                                  if isinstance(p, Conversion) and p.conversion == "s" and
                                  p.precision == 0 else p for p in fmt.pieces))


def _sequence(actions):
    if len(actions) == 1:
        return actions[0]

    def run(f):
        for action in actions:
            action(f)
    return run


def _key_function(key_fns):
    if len(key_fns) == 1:
        only = key_fns[0]
        return only
    return lambda f: tuple(k(f) for k in key_fns)


def _compare(op: str, left, right, mask=None, signed: bool = True):
    """A comparison; with ``mask``, of integers as 64-bit registers: equal when their bits
    are, ordered as signed or (``signed`` False) unsigned numbers."""
    fn = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
          ">": operator.gt, ">=": operator.ge}[op]
    if mask is not None and (op in ("==", "!=") or not signed):
        return lambda f: 1 if fn(left(f) & mask, right(f) & mask) else 0
    if mask is not None:
        return lambda f: 1 if fn(wrap64(left(f)), wrap64(right(f))) else 0
    return lambda f: 1 if fn(left(f), right(f)) else 0


@functools.lru_cache(maxsize=1)
def _prelude() -> Tree:
    from usdtgen.trace.script.parse import parse_script
    return parse_script(PRELUDE, "<prelude>").tree


def _assigned_name(target) -> str | None:
    """The variable an assignment's target names: "x", "[]x" for an associative array's
    element, "[]self->x" for a thread-local one's; None for others."""
    if not isinstance(target, Tree):
        return None
    if target.data == "name":
        return str(target.children[0])
    if target.data == "index":
        array = _array_name(target.children[0])
        return None if array is None else "[]" + array
    return None


def _array_name(base) -> str | None:
    """The associative array ``base[...]`` would index: "x", "self->x"; None otherwise."""
    if base.data == "name":
        return str(base.children[0])
    if base.data == "member" and base.children[0].data == "name" and \
            str(base.children[0].children[0]) == "self":
        return "self->" + str(base.children[1])
    return None


def _declared_name(declarator: Tree) -> Token:
    return next(c for c in declarator.children if isinstance(c, Token) and c.type != "STAR")


def _is_null(node) -> bool:
    """Whether ``node`` is NULL or the constant 0 (what a string may be compared with)."""
    return isinstance(node, Tree) and (node.data == "name" and str(node.children[0]) == "NULL"
                                       or node.data == "int_literal" and
                                       str(node.children[0]).rstrip("uUlL") in ("0", "00"))


def _function_pointer(returned: Ty) -> Ty:
    """A pointer to a function returning ``returned`` (named as DTrace prints it)."""
    function = Ty("function", 1, name=f"{type_name(returned)} ()")
    return Ty("int", 8, False, target=function, name=f"{type_name(returned)} (*)()")


def _c_divide(a: int, b: int) -> int:
    """C's integer division: the quotient truncated toward zero."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _is_variable(node) -> bool:
    """Whether a ``->`` node is a self-> or this-> variable (not a pointer's member)."""
    base = node.children[0]
    return node.data == "member" and base.data == "name" and \
        str(base.children[0]) in ("self", "this")


def _is_char_pointer(ty: Ty) -> bool:
    return ty.is_pointer and ty.target.kind == "int" and ty.target.size == 1 and \
        ty.target.target is None


def _identity(value):
    return value


def _zero(ty: Ty):
    """What a variable of type ``ty`` holds before it is assigned."""
    return "" if ty.kind == "string" else 0.0 if ty.kind == "float" else 0


def _converter(source: Ty, target: Ty):
    """What converting a value of type ``source`` to ``target`` (a cast, an assignment to a
    typed variable) does, as DTrace's code does it: nothing when the sizes and signedness
    agree or an unsigned value widens (the register keeps its 64 bits, even beyond the
    type's size); else the value is cut to the target's size, signed as the target is."""
    if target.kind != "int" or source.kind not in ("int", "any"):
        return _identity
    if source.kind == "int" and (
            (source.size == target.size and source.signed == target.signed) or
            (target.size > source.size and not source.signed) or target.size == 8 and
            source.size < 8):
        return _identity
    wrap = _wrapper(target)
    return lambda value: wrap(value) if type(value) is int else value


def converts(source: Ty, target: Ty) -> bool:
    """Whether a value of type ``source`` changes when converted to ``target``."""
    return _converter(source, target) is not _identity


def _converted(fn, convert):
    if convert is _identity:
        return fn
    return lambda f: convert(fn(f))


def _kind_word(ty: Ty) -> str:
    return "string" if ty.kind == "string" else "integer"


def _a_kind(ty: Ty) -> str:
    return "a string" if ty.kind == "string" else "an integer"


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v",
            "\\": "\\", '"': '"', "'": "'", "?": "?", "0": "\0"}


def _string_value(literal: str, quoted: bool = True) -> str:
    """A D string literal's text with its escapes decoded."""
    body = literal[1:-1] if quoted else literal

    def decode(match):
        text = match.group(1)
        if text[0] in "01234567" and len(text) > 1 or text[0] in "1234567":
            return chr(int(text, 8) & 0xFF)
        if text[0] == "x":
            return chr(int(text[1:], 16) & 0xFF)
        return _ESCAPES.get(text, text)
    return re.sub(r"\\([0-7]{1,3}|x[0-9a-fA-F]{1,2}|.)", decode, body)


def _bytes(text: str) -> bytes:
    """A D string's bytes: what DTrace's string functions count."""
    return text.encode("utf-8", "surrogatepass")


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _string_function(name: str, fns):
    a = fns[0] if fns else None
    b = fns[1] if len(fns) > 1 else None
    c = fns[2] if len(fns) > 2 else None
    if name == "stringof":
        return (lambda f: _as_string(a(f))), STRING
    if name == "strlen":                 # bytes, as DTrace counts (UTF-8 text: several)
        return (lambda f: len(a(f).encode("utf-8", "surrogatepass"))), Ty("int", 8, False)
    if name == "strjoin":
        return (lambda f: a(f) + b(f)), STRING
    if name == "substr":
        def substr(f):
            # DTrace's rules: a negative index counts from the end; one before the start
            # shortens the length by as much; a negative length leaves that many off the end
            text, index = _bytes(a(f)), b(f)                # DTrace counts bytes
            size = len(text)
            remaining = c(f) if c is not None else 1 << 62      # "to the end"
            if index < 0:
                index += size
                if index < 0 and index + remaining > 0:
                    remaining += index
                    index = 0
            if index >= size or index < 0:
                return ""
            if remaining < 0:
                remaining += size - index
            return _text(text[index:index + max(remaining, 0)])
        return substr, STRING
    if name == "basename":
        return (lambda f: _basename(a(f))), STRING
    if name == "dirname":
        return (lambda f: _dirname(a(f))), STRING
    if name in ("index", "rindex"):
        forward = name == "index"

        def find(f):
            s, t = _bytes(a(f)), _bytes(b(f))                # positions in bytes, as DTrace
            if c is None:
                return s.find(t) if forward else s.rfind(t)
            start = c(f)
            if forward:
                if start >= len(s):            # (DTrace, after Perl: "" is found at the end)
                    return len(s) if not t else -1
                return s.find(t, max(start, 0))
            if start < 0:
                return 0 if not t else -1
            return s.rfind(t, 0, start + len(t))
        return find, LONG
    if name == "strstr":
        def strstr(f):
            s, t = a(f), b(f)
            at = s.find(t)
            return "" if at < 0 else s[at:]
        return strstr, STRING
    if name in ("strchr", "strrchr"):
        forward = name == "strchr"

        def strchr(f):
            s, ch = a(f), b(f)
            ch = chr(ch) if isinstance(ch, int) else str(ch)[:1]
            at = s.find(ch) if forward else s.rfind(ch)
            return "" if at < 0 else s[at:]
        return strchr, STRING
    if name == "lltostr":
        def lltostr(f):
            value = a(f)
            base = b(f) if b is not None else 10
            if base == 10:
                return str(value)
            digits = "0123456789abcdefghijklmnopqrstuvwxyz"
            value &= INT64
            out = ""
            while True:
                value, rest = divmod(value, base)
                out = digits[rest] + out
                if value == 0:
                    break
            return ("0x" if base == 16 else "0" if base == 8 else "") + out
        return lltostr, STRING
    if name == "toupper":
        return (lambda f: a(f).upper()), STRING
    if name == "tolower":
        return (lambda f: a(f).lower()), STRING
    if name == "strtoll":
        def strtoll(f):
            base = b(f) if b is not None else 10
            if not 2 <= base <= 36:
                raise Fault(f"strtoll() base {base} is not from 2 to 36", FAULT_ILLOP)
            return _strtoll(a(f), base)
        return strtoll, LONG
    if name == "rand":
        return (lambda f: random.getrandbits(31)), INT
    if name == "cleanpath":
        return (lambda f: _text(_cleanpath(_bytes(a(f))))), STRING
    if name == "json":
        return (lambda f: _json_select(a(f), b(f))), STRING
    if name in ("htons", "ntohs", "htonl", "ntohl", "htonll", "ntohll"):
        size = {"s": 2, "l": 4}.get(name[4:], 8)
        ty = {2: Ty("int", 2, False), 4: Ty("int", 4, False)}.get(size, ULONG)
        mask = (1 << (8 * size)) - 1
        return (lambda f: int.from_bytes((a(f) & mask).to_bytes(size, "little"), "big")), ty
    raise ValueError(name)                  # pragma: no cover


def _json_select(text: str, selector: str) -> str:
    """DTrace's json(): the value at ``selector`` (``a.b[2].c``) of the JSON document
    ``text``, as text (a string without its quotes, a number as written, true, false, null,
    an object or array as compact JSON); NULL ("") when the document does not parse (a
    string cut at strsize) or has no such value."""
    try:
        value = json.loads(text, parse_float=_JsonNumber, parse_int=_JsonNumber,
                           parse_constant=_JsonNumber)
    except ValueError:
        return ""
    for part in re.findall(r"([^.\[\]]+)|\[(\d+)\]", selector):
        name, index = part
        if name and isinstance(value, dict) and name in value:
            value = value[name]
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return _json_text(value)
    return str(value)


class _JsonNumber(str):
    """A JSON number kept as it is written (json() prints 2.50 as 2.50)."""


def _json_text(value) -> str:
    """Compact JSON of a parsed value whose numbers are _JsonNumbers."""
    if isinstance(value, _JsonNumber):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_json_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_json_text(v) for v in value) + "]"
    return json.dumps(value)


def _cleanpath(path: bytes) -> bytes:
    """DTrace's cleanpath(): '//' and '/./' become '/', 'dir/..' goes, a trailing '/.' stays
    (a character at a time, as DTrace does it)."""
    src, dest, i, j = path, bytearray(len(path) + 8), 0, 0

    def load() -> int:
        nonlocal i
        if i >= len(src):
            return 0
        i += 1
        return src[i - 1]

    def put(data: bytes) -> None:
        nonlocal j
        dest[j:j + len(data)] = data
        j += len(data)

    c = load()
    while True:
        if c != 0x2F:                                   # not '/': copied
            put(bytes([c]))
            if c == 0:
                break
            c = load()
            continue
        c = load()
        if c == 0x2F:                                   # '//'
            continue
        if c != 0x2E:                                   # '/x'
            put(bytes([0x2F, c]))
            if c == 0:
                break
            c = load()
            continue
        c = load()
        if c == 0x2F:                                   # '/./'
            continue
        if c != 0x2E:                                   # '/.x'
            put(bytes([0x2F, 0x2E, c]))
            if c == 0:
                break
            c = load()
            continue
        c = load()
        if c not in (0x2F, 0):                          # '/..x'
            put(bytes([0x2F, 0x2E, 0x2E, c]))
            c = load()
            continue
        i -= 1                                          # '/../' or '/..' at the end
        while j != 0:
            j -= 1
            if dest[j] == 0x2F:
                break
        if c == 0:
            j += 1
            break
        c = load()
    return bytes(dest[:j]).split(b"\0", 1)[0]


def _address_text(data: bytes, v4_plain: bool = False) -> str:
    """An IPv4 or IPv6 address as DTrace's inet functions write it: IPv4-compatible and
    IPv4-mapped IPv6 addresses end in dotted IPv4 (inet_ntoa6(): are only that)."""
    if len(data) == 4:
        return ".".join(str(b) for b in data)
    if data == bytes(16):
        return "::"
    dotted = ".".join(str(b) for b in data[12:])
    if data[:12] == bytes(12) and int.from_bytes(data[12:], "big") > 1:
        return dotted if v4_plain else "::" + dotted
    if data[:10] == bytes(10) and data[10:12] == b"\xff\xff":
        return dotted if v4_plain else "::ffff:" + dotted
    return str(ipaddress.IPv6Address(data))


def _strtoll(text: str, base: int) -> int:
    """C's strtoll() as DTrace has it: leading blanks and a sign, ``0x`` in base 16, then the
    digits the base has (the first other character ends the number), in 64 bits (wrapping)."""
    text = text.lstrip(" \t\n\r\f\v")
    negative = text[:1] == "-"
    text = text[1:] if text[:1] in "+-" and text else text
    if base == 16 and text[:2] in ("0x", "0X"):
        text = text[2:]
    value = 0
    for char in text:
        digit = int(char, 36) if char.isascii() and char.isalnum() else base
        if digit >= base:
            break
        value = (value * base + digit) & INT64
    return wrap64(-value if negative else value)


def _as_string(value) -> str:
    return value if isinstance(value, str) else str(value)


def _basename(path: str) -> str:
    stripped = path.rstrip("/")
    if not stripped:
        return "/" if path else "."
    return stripped.rsplit("/", 1)[-1]


def _dirname(path: str) -> str:
    stripped = path.rstrip("/")
    if not stripped:
        return "/" if path else "."
    if "/" not in stripped:
        return "."
    head = stripped.rsplit("/", 1)[0].rstrip("/")
    return head or "/"


"""In-kernel evaluation for the clauses that allow it: the site's BPF program (built with
usdtgen.trace.bpfgen) updates per-CPU hash maps, so a hit costs no record, no wakeup and no
Python.

A clause qualifies when it has only aggregations of ``count()``, ``sum(x)``, ``avg(x)``,
``stddev(x)``, ``min(x)``, ``max(x)``, ``quantize(x)``, ``lquantize()`` or ``llquantize()``
and assignments to thread-local variables, keyed by integers (argN, args[N], pid, tid,
timestamp, self->x, constants and arithmetic on those), strings of arguments
(copyinstr(argN), string args[N]) or user stacks (ustack(): addresses in a stack map
shared by the script's sites, each stack announced once as build ID frames, see
bpfgen.store_stack), and a predicate of such integers and comparisons (and of
a string argument with a constant) joined by ``&&``.
A hit that userspace must see goes there whole, as a ring-buffer record evaluated as any
other event: one whose string the program cannot read at once (its page not yet faulted in,
or NULL), one whose stack the stack map cannot take (its bucket holds another), and one
with a zero divisor (checked before any clause runs), which is an error
DTrace reports on the hit. The maps are read (and their growth since the last read added to
the aggregations) before every printa() and at the end; clear() and trunc() act on what was
read, so hits since then count in the next read.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from lark import Token, Tree

from usdtgen.trace import bpf
from usdtgen.trace.bpfgen import R_CTX, Code, NotKernel, count, load_argument, store_stack
from usdtgen.trace.script.aggregate import UINT128_MASK, new_state, wrap64
from usdtgen.trace.script.types import usual_arithmetic

MAX_ENTRIES = 16384          # keys per aggregation map (DTrace: dynvarsize)
KERNEL_FUNCTIONS = ("count", "sum", "avg", "stddev", "min", "max", "quantize", "lquantize",
                    "llquantize")
EXTREMES = ("min", "max")     # per CPU: [set, value], folded when read
DISTRIBUTIONS = ("quantize", "lquantize", "llquantize")  # the key ends with the value's bucket
LLQUANTIZE_BOUNDS_MAX = 512   # bounds an llquantize() may have in the kernel (one test each)
ARITHMETIC = {"+": "add", "-": "sub", "*": "mul", "&": "and", "|": "or", "^": "xor",
              "/": "div", "%": "mod", "<<": "lsh", ">>": "rsh"}


@dataclass
class Operand:
    kind: str            # "arg", "pid", "tid", "const", "string", "timestamp", "self", "binary",
                         # "ustack" (a key: the thread's user stack)
    value: int = 0       # argument index, constant, thread-local variable number, or frames
    op: str = ""         # binary: + - * & | ^
    left: "Operand | None" = None
    right: "Operand | None" = None
    size: int = 8        # binary: the result's type by C's conversions (its sign decides)
    signed: bool = True
    text: bytes = b""    # "literal": a string constant's bytes (UTF-8, no NUL)


@dataclass
class KernelAssign:
    """``self->name = value``; assigning 0 frees the variable, as in D."""

    variable: int        # its number (thread_variable_number)
    value: Operand
    keys = ()            # (it updates no aggregation: no key)


@dataclass
class KernelStatement:
    aggregation: object          # the Aggregation
    function: str
    keys: list[Operand]
    value: Operand | None


@dataclass
class KernelClause:
    conditions: list[tuple[Operand, str, Operand, str]]  # left op right, "signed",
                                                          # or "unsigned" (64 bits)
    statements: list                                     # KernelStatement | KernelAssign, in order


@dataclass
class KernelSite:
    """The program of one site and the maps it fills."""

    clauses: list[KernelClause]
    name: str = ""                                  # provider:probe, for messages
    maps: list = field(default_factory=list)        # (statement, PerCpuHash)
    strsize: int = 256                              # bytes of a string key, its NUL included
    counters: object = None                         # PerCpuCounter: faults, drops
    thread_variables_fd: int | None = None          # the script's self-> variables (HashMap)
    stack_map: object = None        # frames -> the script's StackMap of user stacks (shared)
    program_fd: int = -1
    seen: dict = field(default_factory=dict)        # (map index, key bytes) -> value read
    counted: list = field(default_factory=lambda: [0, 0])     # faults, drops already reported

    def close(self) -> None:
        for _, table in self.maps:
            table.close()
        if self.counters is not None:
            self.counters.close()
        if self.program_fd >= 0:
            os.close(self.program_fd)
            self.program_fd = -1


# -- which clauses qualify (from the tree, with the compiler's names) --------------------------

def kernel_clause(compiler, clause, probe) -> KernelClause:
    """The kernel form of ``clause`` bound to ``probe``; raises NotKernel."""
    saved = compiler.probe, compiler.needs, compiler.clause_node, compiler.this_types
    compiler.probe, compiler.needs, compiler.clause_node = probe, None, clause.node
    try:
        return _kernel_clause(compiler, clause, probe)
    finally:
        compiler.probe, compiler.needs, compiler.clause_node, compiler.this_types = saved


def _kernel_clause(compiler, clause, probe) -> KernelClause:
    _, predicate, body = clause.node.children
    if body is None or not body.children:
        raise NotKernel("the clause prints")
    conditions = []
    if predicate is not None:
        _conjunction(compiler, predicate.children[1], probe, conditions)
    statements = []
    for node in body.children:
        if isinstance(node, Token):
            continue
        if node.data != "assignment" or str(node.children[1]) != "=":
            raise NotKernel("the clause does more than aggregate")
        target, _, value = node.children
        variable = _thread_variable(compiler, target)
        if variable is not None:
            from usdtgen.trace.script.compile import converts
            declared = compiler.tls_types.get(str(target.children[1]))
            if declared is not None and converts(compiler.expr(value)[1], declared):
                raise NotKernel("an assignment that narrows its value is done in userspace")
            statements.append(KernelAssign(variable, _operand(compiler, value, probe)))
            continue
        name = _aggregation_name(target)
        if name is None or not (isinstance(value, Tree) and value.data == "call"):
            raise NotKernel("the clause does more than aggregate")
        function = str(value.children[0])
        args = [] if value.children[1] is None else list(value.children[1].children)
        if function not in KERNEL_FUNCTIONS or (function == "quantize" and len(args) > 1) or \
                (function == "lquantize" and len(args) > 4) or \
                (function == "llquantize" and len(args) > 5):         # (not with an increment)
            raise NotKernel(f"{function}() is computed in userspace")
        if function in EXTREMES and name in _reset_aggregations(compiler):
            # the kernel's running extreme would come back after the reset
            raise NotKernel(f"{function}() of an aggregation the script clears is computed "
                            "in userspace")
        keys = [] if target.data == "aggregation" else \
            [_operand(compiler, k, probe, key=True) for k in (target.children[1].children
                                                              if target.children[1] is not None
                                                              else [])]
        operand = _operand(compiler, args[0], probe) if args else None
        statements.append(KernelStatement(compiler.machine.aggregations[name], function, keys,
                                          operand))
    variables = any(isinstance(s, KernelAssign) for s in statements) or \
        uses_thread_variables(clause)
    if variables and (any(k.kind in ("string", "ustack") for s in statements for k in s.keys)
                      or any(how == "string" for _, _, _, how in conditions)):
        # such a hit could be handed to userspace, which does not see the variables
        raise NotKernel("string or stack keys and thread-local variables together are kept "
                        "in userspace")
    return KernelClause(conditions, statements)


def _reset_aggregations(compiler) -> set[str]:
    """The aggregations some clause of the script clears or truncates."""
    names = compiler.__dict__.get("kernel_reset_aggregations")
    if names is None:
        names = set()
        for clause in compiler.clauses:
            for node in clause.node.iter_subtrees():
                if node.data == "call" and str(node.children[0]) in ("clear", "trunc") and \
                        node.children[1] is not None:
                    name = _aggregation_name(node.children[1].children[0])
                    if name is not None:
                        names.add(name)
        compiler.kernel_reset_aggregations = names
    return names


def _aggregation_name(node):
    if isinstance(node, Tree) and node.data == "aggregation":
        return str(node.children[0])
    if isinstance(node, Tree) and node.data == "index" and node.children[0].data == "aggregation":
        return str(node.children[0].children[0])
    return None


def thread_variable_number(compiler, name: str) -> int:
    """The number the kernel knows thread-local variable ``name`` by (one per script)."""
    numbers = compiler.__dict__.setdefault("kernel_thread_variables", {})
    return numbers.setdefault(name, len(numbers))


def _thread_variable(compiler, node) -> int | None:
    if isinstance(node, Tree) and node.data == "member" and node.children[0].data == "name":
        scope = str(node.children[0].children[0])
        if scope == "self":
            return thread_variable_number(compiler, str(node.children[1]))
        if scope == "this":
            raise NotKernel("clause-local variables are kept in userspace")
    return None


def uses_thread_variables(clause) -> bool:
    """Whether the clause reads or writes a self-> variable."""
    return any(node.data == "member" and node.children[0].data == "name" and
               str(node.children[0].children[0]) == "self"
               for node in clause.node.iter_subtrees())


def _conjunction(compiler, node, probe, out) -> None:
    if node.data == "and_":
        _conjunction(compiler, node.children[0], probe, out)
        _conjunction(compiler, node.children[1], probe, out)
        return
    if node.data == "unary_op" and str(node.children[0]) == "!":       # !x: x == 0
        out.append((_operand(compiler, node.children[1], probe), "==", Operand("const", 0),
                    "signed"))
        return
    if node.data != "binary" or str(node.children[1]) not in ("==", "!=", "<", "<=", ">", ">="):
        out.append((_operand(compiler, node, probe), "!=", Operand("const", 0), "signed"))
        return
    _, ty = compiler.expr(node.children[0])
    _, rty = compiler.expr(node.children[2])
    if ty.kind == "string" or rty.kind == "string":
        out.append(_string_comparison(compiler, node, probe))
        return
    left = _operand(compiler, node.children[0], probe)
    right = _operand(compiler, node.children[2], probe)
    if ty.kind != "int" or rty.kind != "int":
        raise NotKernel("a comparison's types are unknown")
    result = usual_arithmetic(ty, rty)          # as userspace compares: 64-bit registers
    out.append((left, str(node.children[1]), right,
                "signed" if result.signed else "unsigned"))


STRING_LITERAL_MAX = 128       # bytes of a string constant compared in the kernel


def _string_comparison(compiler, node, probe) -> tuple:
    """``copyinstr(argN) == "text"`` (or !=, either way round): the string and the constant
    as a condition (string, op, literal, "string")."""
    left, op, right = node.children
    op = str(op)
    if op not in ("==", "!=") or not all(isinstance(n, Tree) for n in (left, right)):
        raise NotKernel("strings are ordered in userspace")
    if left.data == "string_literal":
        left, right = right, left
    if right.data != "string_literal":
        raise NotKernel("only a string and a constant are compared in the kernel")
    text = compiler.expr(right)[0](None).encode("utf-8", "surrogateescape")
    if len(text) + 2 > min(STRING_LITERAL_MAX, compiler.machine.strsize) or b"\0" in text:
        raise NotKernel("the constant is too long to compare in the kernel")
    return (_string_operand(compiler, left, probe), op, Operand("literal", text=text), "string")


def _string_operand(compiler, node, probe) -> Operand:
    """copyinstr(argN) or args[N] of a string type, as an aggregation key."""
    target = node
    if node.data == "call" and str(node.children[0]) == "copyinstr":
        args = [] if node.children[1] is None else list(node.children[1].children)
        if len(args) != 1:
            raise NotKernel("copyinstr() with a length is read in userspace")
        target = args[0]
        while isinstance(target, Tree) and target.data == "cast":
            target = target.children[1]
    if target.data == "name":
        match = re.fullmatch(r"arg(\d+)", str(target.children[0]))
        if match:
            return Operand("string", int(match.group(1)))
    if target.data == "index" and target.children[0].data == "name" and \
            str(target.children[0].children[0]) == "args" and probe is not None and \
            probe.arg_types is not None:
        return Operand("string",
                       compiler.args_entry(compiler.constant(target.children[1].children[0]))[0])
    raise NotKernel("a string key other than a probe argument's")


def _operand(compiler, node, probe, key: bool = False) -> Operand:
    fn, ty = compiler.expr(node)
    if ty.is_pointer or ty.kind in ("struct", "union", "array"):
        raise NotKernel("pointers and D's structs and arrays are kept in userspace")
    if ty.kind == "stack":
        if key and node.data == "call" and str(node.children[0]) in ("ustack", "jstack"):
            return Operand("ustack", compiler.stack_frames(node))
        raise NotKernel("user stacks are symbolized in userspace")
    if ty.kind == "string":
        if key:
            return _string_operand(compiler, node, probe)
        raise NotKernel("strings are compared in userspace")
    if node.data == "name":
        name = str(node.children[0])
        match = re.fullmatch(r"arg(\d+)", name)
        if match:
            return Operand("arg", int(match.group(1)))
        if name in ("pid", "tid"):
            return Operand(name)
    if node.data == "index" and node.children[0].data == "name" and \
            str(node.children[0].children[0]) == "args":
        if probe is None or probe.arg_types is None:
            raise NotKernel("argument types unknown")
        return Operand("arg",
                       compiler.args_entry(compiler.constant(node.children[1].children[0]))[0])
    if node.data == "name" and str(node.children[0]) == "timestamp":
        return Operand("timestamp")
    variable = _thread_variable(compiler, node)
    if variable is not None:
        return Operand("self", variable)
    if node.data == "binary" and str(node.children[1]) in ARITHMETIC:
        op = str(node.children[1])
        right = _operand(compiler, node.children[2], probe)
        if op in ("/", "%") and right.kind == "const" and right.value == 0:
            raise NotKernel("division by zero is reported in userspace")
        if op in ("/", "%") and _uses(right, "timestamp"):
            # (checked for zero before the clauses run: it would differ when used)
            raise NotKernel("division by an expression of timestamp is done in userspace")
        return Operand("binary", 0, op, _operand(compiler, node.children[0], probe), right,
                       ty.size, ty.signed)
    if node.data in ("int_literal", "char_literal", "macro", "unary_op"):
        try:
            value = fn(None)
        except Exception:
            value = None
        if isinstance(value, int):
            return Operand("const", value)
    raise NotKernel("an operand is not an argument, pid, tid, timestamp, self-> variable, "
                    "constant or arithmetic on those")


def _uses(operand: Operand, kind: str) -> bool:
    """Whether ``operand`` or a part of it is of ``kind``."""
    return operand.kind == kind or any(side is not None and _uses(side, kind)
                                       for side in (operand.left, operand.right))


def _divisions(operand: Operand | None):
    """The divisions and remainders by an expression in ``operand``, innermost first."""
    if operand is None:
        return
    yield from _divisions(operand.left)
    yield from _divisions(operand.right)
    if operand.kind == "binary" and operand.op in ("/", "%") and operand.right.kind != "const":
        yield operand


def site_divisions(site) -> list[Operand]:
    """Every division by an expression in the site's clauses: conditions, keys, values."""
    found = []
    for clause in site.clauses:
        for left, _, right, how in clause.conditions:
            if how != "string":
                found += [*_divisions(left), *_divisions(right)]
        for statement in clause.statements:
            if isinstance(statement, KernelAssign):
                found += _divisions(statement.value)
                continue
            for key in statement.keys:
                found += _divisions(key)
            found += _divisions(statement.value)
    return found


# -- code ----------------------------------------------------------------------------------------

R_TMP, R_TMP2, R_VALUE = 7, 8, 9
ZERO = -40              # the initial value of a new map entry (four words: stddev's)
STACK_IDS, STACK_ID_SLOTS = ZERO - 8, 2     # the hit's stack ids, one per frame count
KEY_SPACE = 408         # the key, below them
KEY = ZERO - 8 * STACK_ID_SLOTS - KEY_SPACE
VARIABLE_KEY = KEY - 8  # a thread-local variable's key: thread id << 8 | its number
VARIABLE_VALUE = KEY - 16
SPILL, SPILLS = KEY - 24, 3     # left sides of arithmetic, down to the stack's 512 bytes
STRING_KEY_MAX = 256    # bytes a string key may take in the kernel (DTrace's strsize)
UINT64_MASK = (1 << 64) - 1
FAULT, DROP = 0, 1      # counters: strings that could not be read, hits a full map refused


def key_layout(statement, strsize: int) -> list[tuple[str, int]]:
    """(kind, bytes) of each part of a statement's map key: "int" (8), "string" (strsize
    rounded up to 8) or "ustack" (16: the process id, the stack's id in the stack map),
    then the quantize bucket (8)."""
    parts = [("string", (strsize + 7) // 8 * 8) if k.kind == "string" else
             ("ustack", 16) if k.kind == "ustack" else ("int", 8) for k in statement.keys]
    if statement.function in DISTRIBUTIONS:
        parts.append(("int", 8))
    return parts


def _load(code: Code, operand: Operand, specs, arch: str, site_relative, dst: int,
          fail: str, variables_fd: int | None = None, depth: int = 0) -> None:
    """Put ``operand``'s 64-bit value in register ``dst``. Clobbers r0-r5; arithmetic keeps
    its left side in a stack slot of its own (``depth``) while the right one is computed."""
    if operand.kind == "binary":
        if depth >= SPILLS:
            raise NotKernel("the expression is nested too deeply for the kernel")
        _load(code, operand.left, specs, arch, site_relative, dst, fail, variables_fd, depth + 1)
        code.emit(bpf.stx64(10, SPILL - 8 * depth, dst))
        _load(code, operand.right, specs, arch, site_relative, dst, fail, variables_fd,
              depth + 1)
        code.emit(bpf.ldx64(1, 10, SPILL - 8 * depth))
        op = operand.op                           # (in 64 bits, as DTrace's registers)
        if op in ("/", "%"):
            code.emit(bpf.divide_reg(1, dst, operand.signed, remainder=op == "%"))
        elif op in ("<<", ">>"):
            code.emit(bpf.and_imm(dst, 63),               # as usdtgen shifts: the count & 63
                      bpf.alu_reg("arsh" if op == ">>" and operand.signed else ARITHMETIC[op],
                                  1, dst))
        else:
            code.emit(bpf.alu_reg(ARITHMETIC[op], 1, dst))
        code.emit(bpf.mov_reg(dst, 1))
        return
    if operand.kind == "timestamp":
        code.emit(bpf.call(bpf.KTIME_GET_NS), bpf.mov_reg(dst, 0))
        return
    if operand.kind == "self":
        if variables_fd is None:
            raise NotKernel("thread-local variables are kept in userspace")
        absent, done = code.fresh("unset"), code.fresh("got")
        _variable_key(code, operand.value)
        code.emit(bpf.ld_map(1, variables_fd), bpf.mov_reg(2, 10),
                  bpf.alu_imm("add", 2, VARIABLE_KEY), bpf.call(bpf.MAP_LOOKUP))
        code.jump(lambda off: bpf.jump_imm("==", False, 0, 0, off), absent)
        code.emit(bpf.ldx64(dst, 0, 0))
        code.jump(lambda off: bpf.ja(off), done)
        code.label(absent)
        code.emit(bpf.mov_imm(dst, 0))                   # D: an unset variable reads as 0
        code.label(done)
        return
    if operand.kind == "const":
        value = operand.value
        code.emit(bpf.mov_imm(dst, value) if -(1 << 31) <= value < (1 << 31)
                  else bpf.ld_imm64(dst, value))
        return
    if operand.kind in ("pid", "tid"):
        code.emit(bpf.call(bpf.GET_CURRENT_PID_TGID), bpf.mov_reg(dst, 0))
        if operand.kind == "pid":
            code.emit(bpf.alu_imm("rsh", dst, 32))
        else:
            code.emit(bpf.alu_imm("lsh", dst, 32), bpf.alu_imm("rsh", dst, 32))
        return
    if operand.value >= len(specs):
        code.emit(bpf.mov_imm(dst, 0))
        return
    spec = specs[operand.value]
    if spec.is_float:
        raise NotKernel("floating-point arguments are read in userspace")
    load_argument(code, spec, arch, dst, fail, site_relative)


def stack_sizes(site: KernelSite) -> list[int]:
    """The frame counts of the site's ustack() keys, each once."""
    sizes = sorted({k.value for clause in site.clauses for statement in clause.statements
                    for k in statement.keys if k.kind == "ustack"})
    if len(sizes) > STACK_ID_SLOTS:
        raise NotKernel(f"ustack() keys of more than {STACK_ID_SLOTS} sizes at one probe are "
                        "kept in userspace")
    if sizes and site.stack_map is None:
        raise NotKernel("no stack map for ustack() keys")
    return sizes


def build_program(site: KernelSite, specs, arch: str, member_set_fd: int | None = None,
                  site_relative=None, emit_record=None, ring_fd: int | None = None) -> bytes:
    """The site's program; with ``member_set_fd``, hits of processes outside that set (the
    followed process tree) are dropped first. A hit it cannot aggregate (a string it cannot
    read without faulting its page in, or a NULL) goes to userspace whole: ``emit_record(code)``
    writes it to the ring buffer (the program is then loaded sleepable); without it the
    program returns 1 and the uprobe event records it."""
    if bpf.PT_REGS.get(arch) is None:
        raise NotKernel(f"no in-kernel aggregation on {arch}")
    code = Code()
    code.emit(bpf.mov_reg(R_CTX, 1))
    if member_set_fd is not None:
        code.emit(bpf.member_guard(member_set_fd))
    code.emit(*(bpf.st64(10, ZERO + 8 * word, 0) for word in range(4)))
    # The user stacks the keys need, each stored once in the script's stack map: a stack
    # the map cannot take (its bucket holds another stack) sends the hit to userspace.
    stack_slots = {frames: STACK_IDS - 8 * n for n, frames in enumerate(stack_sizes(site))}
    if stack_slots and ring_fd is None:
        raise NotKernel("ustack() keys need the BPF ring buffer")
    for frames, slot in stack_slots.items():
        store_stack(code, site.stack_map(frames), ring_fd, slot, "pass")
    # Strings first: one the kernel cannot read without faulting its page in (or a NULL)
    # sends the whole hit to userspace, as a record whose copy faults pages in, and where
    # copyinstr() reports a bad address as DTrace would.
    strings = sorted({k.value for clause in site.clauses for statement in clause.statements
                      for k in statement.keys if k.kind == "string"})
    # When the site's first action is an aggregation keyed first by its only string, that
    # read is the check itself (one read per hit, not two), unless a predicate could skip it
    # and leave the read to a later clause.
    first = site.clauses[0].statements[0] if site.clauses and site.clauses[0].statements \
        else None
    checking_read = first if len(strings) == 1 and \
        (len(site.clauses) == 1 or not site.clauses[0].conditions) and \
        isinstance(first, KernelStatement) and first.keys and \
        first.keys[0].kind == "string" else None
    for index in strings if checking_read is None else ():
        _load(code, Operand("arg", index), specs, arch, site_relative, R_TMP, "pass",
              site.thread_variables_fd)
        code.jump(lambda off: bpf.jump_imm("==", True, R_TMP, 0, off), "pass")
        code.emit(bpf.mov_reg(1, 10), bpf.alu_imm("add", 1, KEY), bpf.mov_imm(2, site.strsize),
                  bpf.mov_reg(3, R_TMP), bpf.call(bpf.PROBE_READ_USER_STR))
        code.jump(lambda off: bpf.jump_imm("<", True, 0, 0, off), "pass")
    # A zero divisor is an error DTrace reports on the hit (and an ERROR probe): such a hit
    # goes to userspace whole, checked before any clause has done anything.
    divisions = site_divisions(site)
    if any(_uses(d.right, "self") for d in divisions) and \
            any(isinstance(st, KernelAssign) for c in site.clauses for st in c.statements):
        raise NotKernel("division by a thread-local variable the site sets is done in "
                        "userspace")
    for division in divisions:
        _load(code, division.right, specs, arch, site_relative, R_TMP, "pass",
              site.thread_variables_fd)
        code.jump(lambda off: bpf.jump_imm("==", True, R_TMP, 0, off), "pass")
    map_index = 0
    for n, clause in enumerate(site.clauses):
        next_clause = f"clause_{n + 1}"
        for left, op, right, how in clause.conditions:
            if how == "string":
                _string_condition(code, left, op, right.text, specs, arch, site_relative,
                                  next_clause)
                continue
            _load(code, left, specs, arch, site_relative, R_TMP, next_clause,
                      site.thread_variables_fd)
            _load(code, right, specs, arch, site_relative, R_TMP2, next_clause,
                      site.thread_variables_fd)
            inverse = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}[op]
            code.jump(lambda off, inverse=inverse, signed=how == "signed":
                      bpf.jump_reg(inverse, signed, R_TMP, R_TMP2, off), next_clause)
        for statement in clause.statements:
            if isinstance(statement, KernelAssign):
                after = code.fresh("after")
                _assign(code, statement, site, specs, arch, site_relative, after)
                code.label(after)
                continue
            table = site.maps[map_index][1]
            map_index += 1
            after = f"after_{map_index}"
            layout = key_layout(statement, site.strsize)
            offset = KEY
            for key, (kind, size) in zip(statement.keys, layout):
                if kind == "string":
                    checks = statement is checking_read and offset == KEY
                    _load(code, Operand("arg", key.value), specs, arch, site_relative, R_TMP,
                          "pass" if checks else after, site.thread_variables_fd)
                    for word in range(0, size, 8):         # the bytes after the NUL are 0
                        code.emit(bpf.st64(10, offset + word, 0))
                    code.emit(bpf.mov_reg(1, 10), bpf.alu_imm("add", 1, offset),
                              bpf.mov_imm(2, site.strsize), bpf.mov_reg(3, R_TMP),
                              bpf.call(bpf.PROBE_READ_USER_STR))
                    fault = "pass" if checks else f"fault{code.here()}"
                    code.jump(lambda off: bpf.jump_imm("<", True, 0, 0, off), fault)
                    code.jump(lambda off: bpf.jump_imm("==", True, R_TMP, 0, off), fault)
                    if not checks:
                        read = f"read{code.here()}"
                        code.jump(lambda off: bpf.ja(off), read)
                        code.label(fault)
                        count(code, site.counters.fd, FAULT)
                        code.jump(lambda off: bpf.ja(off), after)
                        code.label(read)
                elif kind == "ustack":                      # (process id, stack id)
                    code.emit(bpf.call(bpf.GET_CURRENT_PID_TGID), bpf.alu_imm("rsh", 0, 32),
                              bpf.stx64(10, offset, 0),
                              bpf.ldx64(R_TMP, 10, stack_slots[key.value]),
                              bpf.stx64(10, offset + 8, R_TMP))
                else:
                    _load(code, key, specs, arch, site_relative, R_TMP, after,
                      site.thread_variables_fd)
                    code.emit(bpf.stx64(10, offset, R_TMP))
                offset += size
            words = len(statement.keys)
            if statement.function in DISTRIBUTIONS:
                _load(code, statement.value, specs, arch, site_relative, R_TMP, after,
                      site.thread_variables_fd)
                if statement.function == "quantize":
                    _quantize_index(code, R_TMP)
                elif statement.function == "lquantize":
                    _lquantize_index(code, R_TMP, statement.aggregation.function)
                else:
                    _llquantize_index(code, R_TMP, statement.aggregation.function)
                code.emit(bpf.stx64(10, offset, R_TMP))
                words += 1
                code.emit(bpf.mov_imm(R_VALUE, 1))
            elif statement.function in ("sum", "avg", "stddev", *EXTREMES):
                _load(code, statement.value, specs, arch, site_relative, R_VALUE, after,
                      site.thread_variables_fd)
            else:
                code.emit(bpf.mov_imm(R_VALUE, 1))
            if words == 0:
                code.emit(bpf.st64(10, KEY, 0))
            _update(code, table.fd, site.counters.fd, after, statement.function)
            code.label(after)
        code.label(next_clause)
    code.emit(bpf.mov_imm(0, 0), bpf.exit_())            # aggregated: nothing recorded
    if code.refers_to("pass"):                           # (the verifier refuses dead code)
        code.label("pass")
        if emit_record is not None:
            emit_record(code)                            # to userspace, as a record
        else:
            code.emit(bpf.mov_imm(0, 1), bpf.exit_())    # to userspace, by the uprobe event
    return code.assemble()


def _string_condition(code: Code, string: Operand, op: str, text: bytes, specs, arch: str,
                      site_relative, false: str) -> None:
    """Jump to ``false`` unless the string argument compares with ``text`` by ``op``: its
    first len(text) + 1 bytes are compared with the constant's, its NUL included (a string
    that cannot be read at once, or NULL, sends the hit to userspace)."""
    _load(code, Operand("arg", string.value), specs, arch, site_relative, R_TMP, "pass")
    code.jump(lambda off: bpf.jump_imm("==", True, R_TMP, 0, off), "pass")
    # one byte more than compared: a longer string, cut there, keeps its own byte at the
    # constant's NUL (the helper puts the NUL it adds when it cuts one further on)
    code.emit(bpf.mov_reg(1, 10), bpf.alu_imm("add", 1, KEY), bpf.mov_imm(2, len(text) + 2),
              bpf.mov_reg(3, R_TMP), bpf.call(bpf.PROBE_READ_USER_STR))
    code.jump(lambda off: bpf.jump_imm("<", True, 0, 0, off), "pass")
    differ = code.fresh("differ")
    for i, byte in enumerate(text + b"\0"):
        code.emit(bpf.ldx8(1, 10, KEY + i))
        code.jump(lambda off, byte=byte: bpf.jump_imm("!=", False, 1, byte, off), differ)
    if op == "==":                                     # equal: go on; different: false
        same = code.fresh("same")
        code.jump(lambda off: bpf.ja(off), same)
        code.label(differ)
        code.jump(lambda off: bpf.ja(off), false)
        code.label(same)
    else:                                              # equal: false; different: go on
        code.jump(lambda off: bpf.ja(off), false)
        code.label(differ)


def _narrow(code: Code, reg: int, size: int, signed: bool) -> None:
    """reg = its low ``size`` bytes, sign- or zero-extended."""
    shift = 64 - 8 * size
    code.emit(bpf.alu_imm("lsh", reg, shift), bpf.alu_imm("arsh" if signed else "rsh", reg, shift))


def _variable_key(code: Code, number: int) -> None:
    """The key of thread-local variable ``number`` of the running thread, at VARIABLE_KEY."""
    code.emit(bpf.call(bpf.GET_CURRENT_PID_TGID), bpf.alu_imm("lsh", 0, 32),
              bpf.alu_imm("rsh", 0, 24), bpf.or_imm(0, number),
              bpf.stx64(10, VARIABLE_KEY, 0))


def _assign(code: Code, statement: KernelAssign, site: KernelSite, specs, arch: str,
            site_relative, after: str) -> None:
    """self->name = value: 0 deletes the variable; a full map is counted as a drop."""
    _load(code, statement.value, specs, arch, site_relative, R_VALUE, after,
          site.thread_variables_fd)
    _variable_key(code, statement.variable)
    store, done = code.fresh("store"), code.fresh("assigned")
    code.jump(lambda off: bpf.jump_imm("!=", False, R_VALUE, 0, off), store)
    code.emit(bpf.ld_map(1, site.thread_variables_fd), bpf.mov_reg(2, 10),
              bpf.alu_imm("add", 2, VARIABLE_KEY), bpf.call(bpf.MAP_DELETE))
    code.jump(lambda off: bpf.ja(off), done)
    code.label(store)
    code.emit(bpf.stx64(10, VARIABLE_VALUE, R_VALUE), bpf.ld_map(1, site.thread_variables_fd),
              bpf.mov_reg(2, 10), bpf.alu_imm("add", 2, VARIABLE_KEY), bpf.mov_reg(3, 10),
              bpf.alu_imm("add", 3, VARIABLE_VALUE), bpf.mov_imm(4, 0), bpf.call(bpf.MAP_UPDATE))
    code.jump(lambda off: bpf.jump_imm("==", False, 0, 0, off), done)
    count(code, site.counters.fd, DROP)
    code.label(done)


def _lquantize_index(code: Code, reg: int, function) -> None:
    """reg (a signed value) → its lquantize bucket, as usdtgen's aggregator counts them: 0
    below the lowest bound, 1 + (value - low) / step inside, levels + 1 from the top on."""
    low, _, step = function.params
    levels = function.levels
    inside, done = code.fresh("lq_in"), code.fresh("lq_done")
    code.emit(_constant(1, low))
    code.jump(lambda off: bpf.jump_reg(">=", True, reg, 1, off), inside)
    code.emit(bpf.mov_imm(reg, 0))
    code.jump(lambda off: bpf.ja(off), done)
    code.label(inside)
    code.emit(bpf.alu_reg("sub", reg, 1), _constant(1, step),        # (value - low): unsigned
              bpf.alu_reg("div", reg, 1), _constant(1, levels))
    top = code.fresh("lq_top")
    code.jump(lambda off: bpf.jump_reg(">=", False, reg, 1, off), top)
    code.emit(bpf.alu_imm("add", reg, 1))
    code.jump(lambda off: bpf.ja(off), done)
    code.label(top)
    code.emit(_constant(reg, levels + 1))
    code.label(done)


def _llquantize_index(code: Code, reg: int, function) -> None:
    """reg (a signed value) → its llquantize bucket: how many of the bounds are at or below
    it (as bisect_right counts them in usdtgen's aggregator), one test per bound."""
    bounds = function.bounds()
    if len(bounds) > LLQUANTIZE_BOUNDS_MAX:
        raise NotKernel(f"llquantize() with more than {LLQUANTIZE_BOUNDS_MAX} buckets")
    done = code.fresh("llq_done")
    for index, bound in enumerate(bounds):
        below = code.fresh("llq_below")
        code.emit(_constant(1, bound))
        code.jump(lambda off: bpf.jump_reg(">=", True, reg, 1, off), below)
        code.emit(bpf.mov_imm(reg, index))
        code.jump(lambda off: bpf.ja(off), done)
        code.label(below)
    code.emit(_constant(reg, len(bounds)))
    code.label(done)


def _constant(dst: int, value: int) -> bytes:
    return bpf.mov_imm(dst, value) if -(1 << 31) <= value < (1 << 31) else bpf.ld_imm64(dst, value)


def _quantize_index(code: Code, reg: int) -> None:
    """reg (a signed value) → its quantize bucket: 63 for 0, 64 + floor(log2 v) above,
    62 - floor(log2 -v) below."""
    scratch, counter, sign = 1, 2, 3
    tag = code.here()
    zero, positive, done = f"qz{tag}", f"qp{tag}", f"qd{tag}"
    code.emit(bpf.mov_imm(sign, 0))
    code.jump(lambda off: bpf.jump_imm("==", True, reg, 0, off), zero)
    code.jump(lambda off: bpf.jump_imm(">", True, reg, 0, off), positive)
    code.emit(bpf.neg(reg), bpf.mov_imm(sign, 1))
    code.label(positive)
    code.emit(bpf.mov_imm(counter, 0))
    for step in (32, 16, 8, 4, 2, 1):
        skip = f"qs{tag}_{step}"
        code.emit(bpf.mov_reg(scratch, reg), bpf.alu_imm("rsh", scratch, step))
        code.jump(lambda off: bpf.jump_imm("==", True, scratch, 0, off), skip)
        code.emit(bpf.mov_reg(reg, scratch), bpf.alu_imm("add", counter, step))
        code.label(skip)
    negative = f"qn{tag}"
    code.jump(lambda off: bpf.jump_imm("!=", True, sign, 0, off), negative)
    code.emit(bpf.mov_reg(reg, counter), bpf.alu_imm("add", reg, 64))
    code.jump(lambda off: bpf.ja(off), done)
    code.label(negative)
    code.emit(bpf.mov_imm(reg, 62), bpf.alu_reg("sub", reg, counter))
    code.jump(lambda off: bpf.jump_imm(">=", True, reg, 0, off), done)
    code.emit(bpf.mov_imm(reg, 0))                     # -2^63 .. -2^62: the lowest bucket
    code.jump(lambda off: bpf.ja(off), done)
    code.label(zero)
    code.emit(bpf.mov_imm(reg, 63))
    code.label(done)


def _update(code: Code, map_fd: int, drops_fd: int, done: str, function: str) -> None:
    """Add R_VALUE to map[key] as ``function`` does: count's and sum's one word += R_VALUE;
    avg's [count, sum] += [1, R_VALUE]; stddev's [count, sum, squares (128 bits)] +=
    [1, R_VALUE, R_VALUE²]; min's and max's [set, value] take R_VALUE when unset or beyond.
    The entry is created at 0 first; a full map counts a drop."""
    found = f"found{code.here()}"
    dropped = f"dropped{code.here()}"
    code.emit(bpf.ld_map(1, map_fd), bpf.mov_reg(2, 10), bpf.alu_imm("add", 2, KEY),
              bpf.call(bpf.MAP_LOOKUP))
    code.jump(lambda off: bpf.jump_imm("!=", True, 0, 0, off), found)
    code.emit(bpf.ld_map(1, map_fd), bpf.mov_reg(2, 10), bpf.alu_imm("add", 2, KEY),
              bpf.mov_reg(3, 10), bpf.alu_imm("add", 3, ZERO), bpf.mov_imm(4, bpf.NOEXIST),
              bpf.call(bpf.MAP_UPDATE),
              bpf.ld_map(1, map_fd), bpf.mov_reg(2, 10), bpf.alu_imm("add", 2, KEY),
              bpf.call(bpf.MAP_LOOKUP))
    code.jump(lambda off: bpf.jump_imm("==", True, 0, 0, off), dropped)
    code.label(found)
    if function in EXTREMES:            # (only in programs that do not sleep: in place)
        store = code.fresh("extreme")
        code.emit(bpf.ldx64(1, 0, 0))
        code.jump(lambda off: bpf.jump_imm("==", False, 1, 0, off), store)
        code.emit(bpf.ldx64(1, 0, 8))
        keep = "<=" if function == "min" else ">="
        code.jump(lambda off: bpf.jump_reg(keep, True, 1, R_VALUE, off), done)
        code.label(store)
        code.emit(bpf.st64(0, 0, 1), bpf.stx64(0, 8, R_VALUE))
    # atomic: a program that may sleep can be preempted by another run of it on its CPU
    elif function in ("avg", "stddev"):
        code.emit(bpf.mov_imm(1, 1), bpf.atomic_add64(0, 0, 1),
                  bpf.atomic_add64(0, 8, R_VALUE))
        if function == "stddev":
            _add_square(code)
    else:
        code.emit(bpf.atomic_add64(0, 0, R_VALUE))
    code.jump(lambda off: bpf.ja(off), done)
    code.label(dropped)
    count(code, drops_fd, DROP)


def _add_square(code: Code) -> None:
    """r0[2..3] (a 128-bit sum, low word first) += R_VALUE², as DTrace's stddev() keeps it.
    |v| = hi·2³² + lo, so v² = hi²·2⁶⁴ + 2·hi·lo·2³² + lo², each product within 64 bits
    (hi ≤ 2³¹); the low word's carry goes into the high word. Clobbers r1-r5."""
    positive, no_carry, added = code.fresh("abs"), code.fresh("nocarry"), code.fresh("added")
    code.emit(bpf.mov_reg(1, R_VALUE))
    code.jump(lambda off: bpf.jump_imm(">=", True, 1, 0, off), positive)
    code.emit(bpf.neg(1))                        # -INT64_MIN is 2^63 as unsigned: right
    code.label(positive)
    code.emit(bpf.mov_reg(2, 1), bpf.alu_imm("rsh", 2, 32),          # r2 = hi
              bpf.alu_imm("lsh", 1, 32), bpf.alu_imm("rsh", 1, 32),  # r1 = lo
              bpf.mov_reg(3, 1), bpf.alu_reg("mul", 3, 1),           # r3 = lo²
              bpf.mov_reg(4, 2), bpf.alu_reg("mul", 4, 1),           # r4 = hi·lo
              bpf.alu_reg("add", 4, 4),                              #      ·2
              bpf.alu_reg("mul", 2, 2),                              # r2 = hi²
              bpf.mov_reg(5, 4), bpf.alu_imm("lsh", 5, 32),          # the cross term's
              bpf.alu_imm("rsh", 4, 32),                             # low and high parts
              bpf.alu_reg("add", 3, 5), bpf.alu_reg("add", 2, 4))    # low word, high word
    code.jump(lambda off: bpf.jump_reg(">=", False, 3, 5, off), no_carry)
    code.emit(bpf.alu_imm("add", 2, 1))
    code.label(no_carry)
    # atomically: another run of this program may have been between the two words
    code.emit(bpf.mov_reg(1, 3), bpf.atomic_fetch_add64(0, 16, 1),  # r1 = the old low word
              bpf.alu_reg("add", 1, 3))
    code.jump(lambda off: bpf.jump_reg(">=", False, 1, 3, off), added)
    code.emit(bpf.alu_imm("add", 2, 1))
    code.label(added)
    code.emit(bpf.atomic_add64(0, 24, 2))


def load_site(site: KernelSite, specs, arch: str, member_set_fd: int | None = None,
              site_relative=None, emit_record=None, sleepable: bool = False,
              ring_fd: int | None = None) -> int:
    """Create the maps and load the program; returns its fd. ``ring_fd``: the BPF ring
    buffer, where stacks are announced (ustack() keys need it). Raises NotKernel or
    TraceError."""
    extremes = any(st.function in EXTREMES for clause in site.clauses
                   for st in clause.statements if isinstance(st, KernelStatement))
    if extremes and sleepable:
        # min() and max() update in place: only where a run is never preempted
        raise NotKernel("min() and max() with strings are computed in userspace")
    if site.strsize > STRING_KEY_MAX:
        for clause in site.clauses:
            if any(k.kind == "string" for s in clause.statements for k in s.keys):
                raise NotKernel(f"string keys longer than {STRING_KEY_MAX} bytes (strsize)")
    site.counters = bpf.PerCpuCounter(2)
    for clause in site.clauses:
        for statement in clause.statements:
            if isinstance(statement, KernelAssign):
                continue
            size = sum(part for _, part in key_layout(statement, site.strsize))
            if size > KEY_SPACE:
                raise NotKernel("the key is too large for the kernel's stack")
            words = {"avg": 2, "min": 2, "max": 2, "stddev": 4}.get(statement.function, 1)
            site.maps.append((statement, bpf.PerCpuHash(max(size, 8) // 8, MAX_ENTRIES, words)))
    try:
        code = build_program(site, specs, arch, member_set_fd, site_relative, emit_record,
                             ring_fd)
        site.program_fd = bpf.load_program(code, "usdtgen_agg", sleepable=sleepable)
    except BaseException:
        site.close()
        raise
    return site.program_fd


def _key_parts(raw: bytes, layout) -> list:
    """A map key's parts: strings up to their NUL, integers as int64."""
    parts, offset = [], 0
    for kind, size in layout:
        chunk = raw[offset:offset + size]
        offset += size
        if kind == "string":
            parts.append(chunk.split(b"\0", 1)[0].decode("utf-8", "replace"))
        elif kind == "ustack":
            parts.append((int.from_bytes(chunk[:8], "little"),
                          int.from_bytes(chunk[8:], "little")))
        else:
            parts.append(int.from_bytes(chunk, "little", signed=True))
    return parts


READ_TRIES = 20               # reads of a site's maps to find two in a row that agree


def _read_maps(site: KernelSite) -> list[dict]:
    """Every map of the site, read one after another; a hit that lands between two of
    these reads is in some and not in others."""
    return [table.items(per_cpu=statement.function in (*EXTREMES, "stddev"))
            for statement, table in site.maps]


def _stddev_total(per_cpu) -> tuple[int, int, int]:
    """(count, sum, squares) of a stddev() entry over every CPU: each CPU's squares are two
    words, which summed as one number carry from the low word into the high one."""
    count = total = squares = 0
    for cpu_count, cpu_sum, low, high in per_cpu:
        count += cpu_count
        total += cpu_sum
        squares += (high & UINT64_MASK) << 64 | (low & UINT64_MASK)
    return count, total, squares


def consistent_read(site: KernelSite) -> list[dict]:
    """The site's maps as one hit after another left them: read until two reads in a row
    agree (no hit updated any of them meanwhile), so that aggregations a clause updates
    together agree with each other; at rates where no two reads ever agree, the last one."""
    previous = _read_maps(site)
    for _ in range(READ_TRIES):
        current = _read_maps(site)
        if current == previous:
            break
        previous = current
    return previous


def _entry_key(site: KernelSite, statement, parts, final: bool) -> tuple | None:
    """The aggregation's key of a map key's parts: a (process id, stack id) part becomes
    the UserStack the same hit gives in userspace, so that both count under one key. None
    while a stack's announcement has not been read (the entry waits for the next read);
    ``final``: every record has been read, an unannounced stack is its addresses."""
    if not any(k.kind == "ustack" for k in statement.keys):
        return tuple(parts[:len(statement.keys)])
    from usdtgen.trace.symbolize import SYMBOLIZER, UserStack, announced_stack
    key = []
    for operand, part in zip(statement.keys, parts):
        if operand.kind != "ustack":
            key.append(part)
            continue
        pid, stack_id = part
        SYMBOLIZER.remember(pid)
        table = site.stack_map(operand.value)
        frames = announced_stack(table.number, stack_id)
        if frames is None:
            if not final:
                return None
            frames = table.addresses(stack_id)   # (named from the maps, if it still runs)
        key.append(UserStack((pid, *frames)))
    return tuple(key)


def sync_site(site: KernelSite, final: bool = False) -> tuple[int, int]:
    """Add what the maps gained since the last read to the aggregations' entries; returns
    (strings that could not be read, hits a full map refused) since the last call.
    ``final``: the trace is over (see _entry_key)."""
    snapshot = consistent_read(site)
    for index, (statement, table) in enumerate(site.maps):
        aggregation = statement.aggregation
        entries = aggregation.entries
        layout = key_layout(statement, site.strsize)
        nkeys = len(statement.keys)
        if statement.function in EXTREMES:
            # each CPU's [set, value]: folded into the entry (reading twice changes nothing)
            pick = min if statement.function == "min" else max
            for raw, per_cpu in snapshot[index].items():
                values = [value for was_set, value in per_cpu if was_set]
                if not values:
                    continue
                key = _entry_key(site, statement, _key_parts(raw, layout), final)
                if key is None:
                    continue
                state = entries.get(key)
                if state is None:
                    entries[key] = [pick(values)]
                else:
                    state[0] = pick(state[0], *values)
            continue
        for raw, total in snapshot[index].items():
            seen_key = (index, raw)
            first = seen_key not in site.seen
            if statement.function == "stddev":
                total = _stddev_total(total)
            if statement.function in ("avg", "stddev"):       # (count, sum[, squares])
                before = site.seen.get(seen_key, (0,) * len(total))
                delta = tuple(now - then for now, then in zip(total, before))
                changed = any(delta)
            else:
                delta = total - site.seen.get(seen_key, 0)
                changed = delta != 0
            if not changed and not first:
                continue
            parts = _key_parts(raw, layout)
            key = _entry_key(site, statement, parts, final)
            if key is None:                         # (its delta waits for the next read)
                continue
            site.seen[seen_key] = total
            if statement.function == "avg":
                state = entries.get(key)
                if state is None:
                    entries[key] = state = [0, 0]
                state[0] += delta[0]
                state[1] = wrap64(state[1] + delta[1])
            elif statement.function == "stddev":
                state = entries.get(key)
                if state is None:
                    entries[key] = state = [0, 0, 0]
                state[0] += delta[0]
                state[1] = wrap64(state[1] + delta[1])
                state[2] = (state[2] + delta[2]) & UINT128_MASK
            elif statement.function in DISTRIBUTIONS:
                state = entries.get(key)
                if state is None:
                    entries[key] = state = new_state(aggregation.function)
                bucket = parts[nkeys]
                if 0 <= bucket < len(state):
                    state[bucket] = wrap64(state[bucket] + delta)
            else:
                entries[key] = wrap64(entries.get(key, 0) + delta)
    news = []
    for slot in (FAULT, DROP):
        value = site.counters.value(slot) if site.counters is not None else 0
        news.append(value - site.counted[slot])
        site.counted[slot] = value
    return news[0], news[1]

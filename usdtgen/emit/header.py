"""Generate the self-contained C/C++ header for a provider file (``usdtgen -h``).

Each probe macro emits one ``nop`` and one ``.note.stapsdt`` note in the layout systemtap's
sys/sdt.h defines (owner "stapsdt", type 3), so every Linux tracer finds it; argument sizes
and signedness are computed by the compiler from the argument expressions, as sys/sdt.h
computes them. Semaphores live in ``.probes`` and are defined here (weak, hidden). A second,
non-allocated note per probe (owner "usdtgen") records argument names and D types.
Pure function of the model: the same input gives the same bytes.
"""
from __future__ import annotations

import re

from usdtgen import __version__
from usdtgen.provider.model import MAX_PROBE_ARGS, Probe, Provider, ProviderFile, format_declaration

TYPE_NOTE_OWNER = "usdtgen"
TYPE_NOTE_TYPE = 0x55534454  # "USDT": no peer gives this type a meaning
COMMON_GUARD = "_USDTGEN_SDT_COMMON_1"



def _common_block() -> str:
    """Macros shared by every usdtgen header (guarded, so several headers can be included)."""
    out = [f"#ifndef {COMMON_GUARD}", f"#define {COMMON_GUARD} 1", r"""
#if defined(__LP64__) || defined(_LP64)
# define _USDTGEN_ADDR ".8byte"
#else
# define _USDTGEN_ADDR ".4byte"
#endif

/* What a note says of an argument: "SIZE@OPERAND", SIZE negative for signed integers and
   followed by 'f' for floating point. Size and signedness follow the argument's type as
   systemtap's <sys/sdt.h> computes them: pointers and arrays are pointer-sized and
   unsigned; in C++ only the signed integer types (and char where it is signed) are signed. */
#define _USDTGEN_IS_POINTER(x) \
  (__builtin_classify_type(x) == 5 || __builtin_classify_type(x) == 14)
#define _USDTGEN_SIZE(x) (_USDTGEN_IS_POINTER(x) ? sizeof(void *) : sizeof(x))
#ifdef __cplusplus
extern "C++" {
template <typename __usdtgen_T> struct __usdtgen_signed { static const bool value = false; };
template <typename __usdtgen_T> struct __usdtgen_signed<const __usdtgen_T>
  : __usdtgen_signed<__usdtgen_T> {};
template <typename __usdtgen_T> struct __usdtgen_signed<volatile __usdtgen_T>
  : __usdtgen_signed<__usdtgen_T> {};
template <typename __usdtgen_T> struct __usdtgen_signed<const volatile __usdtgen_T>
  : __usdtgen_signed<__usdtgen_T> {};
template <> struct __usdtgen_signed<signed char> { static const bool value = true; };
template <> struct __usdtgen_signed<short> { static const bool value = true; };
template <> struct __usdtgen_signed<int> { static const bool value = true; };
template <> struct __usdtgen_signed<long> { static const bool value = true; };
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wlong-long"
template <> struct __usdtgen_signed<long long> { static const bool value = true; };
#pragma GCC diagnostic pop
template <> struct __usdtgen_signed<char> { static const bool value = static_cast<char>(-1) < 1; };
template <> struct __usdtgen_signed<wchar_t> {
  static const bool value = static_cast<wchar_t>(-1) < 1; };
}
# define _USDTGEN_SIGNED(x) \
  (!_USDTGEN_IS_POINTER(x) && __usdtgen_signed<__typeof__(x)>::value)
# define _USDTGEN_CAST(type, x) static_cast<type>(x)
# define _USDTGEN_NULL nullptr
#else
# define _USDTGEN_CAST(type, x) ((type)(x))
# define _USDTGEN_NULL 0
/* integer-like types (integer, char, enum, bool) as themselves, anything else as unsigned */
# define _USDTGEN_INT_TYPE(x) __typeof__(__builtin_choose_expr( \
    ((__builtin_classify_type(x) + 3) & -4) == 4, (x), 0U))
# define _USDTGEN_SIGNED(x) ((_USDTGEN_INT_TYPE(x))-1 < (_USDTGEN_INT_TYPE(x))1)
#endif

/* The asm operands of argument N: a constant holding size, signedness and type class
   (negative when signed: -(size << 8 | class)), and the value itself. */
#define _USDTGEN_ARG(n, x) \
  [_usdtgen_e##n] "n" ((_USDTGEN_SIGNED(x) ? -1 : 1) \
      * ((_USDTGEN_CAST(int, _USDTGEN_SIZE(x)) << 8) + (0x7f & __builtin_classify_type(x)))), \
  [_usdtgen_a##n] "nor" (x)
/* Assembler macros that print "SIZE@" ("-SIZE@" when signed, "SIZEf@" for floating point)
   from that constant; defined and removed again inside each probe's asm statement. */
#define _USDTGEN_ARG_MACROS \
  " .altmacro\n" \
  " .macro _usdtgen_dec v\n .ascii \"\\v\"\n .endm\n" \
  " .macro _usdtgen_size e\n" \
  " .if (\\e) < 0\n .ascii \"-\"\n _usdtgen_dec %%((-(\\e)) >> 8)\n" \
  " .else\n _usdtgen_dec %%((\\e) >> 8)\n" \
  " .if ((\\e) & 255) == 8\n .ascii \"f\"\n .endif\n .endif\n" \
  " .ascii \"@\"\n .endm\n"
#define _USDTGEN_ARG_MACROS_END \
  " .purgem _usdtgen_dec\n .purgem _usdtgen_size\n .noaltmacro\n"
#define _USDTGEN_ARG_TEXT(n) \
  " _usdtgen_size %c[_usdtgen_e" #n "]\n .ascii \"%[_usdtgen_a" #n "]\"\n"

/* How the note names the semaphore. On x86-64 (small code model) an "i" operand, on aarch64
   an "S" operand, prints its link-time address, which follows any renaming (LTO) and costs
   no instruction; elsewhere (-mcmodel=large, x32, other machines) the note names the symbol
   and an "m" operand keeps the semaphore referenced. */
#define _USDTGEN_STR(x) #x
#if defined(__x86_64__) && defined(__code_model_small__) && !defined(__ILP32__)
# define _USDTGEN_SEM_TEXT(sem) "%c[_usdtgen_sem]"
# define _USDTGEN_SEM_OPERAND(sem) [_usdtgen_sem] "i" (&sem)
#elif defined(__aarch64__)
# define _USDTGEN_SEM_TEXT(sem) "%c[_usdtgen_sem]"
# define _USDTGEN_SEM_OPERAND(sem) [_usdtgen_sem] "S" (&sem)
#else
# define _USDTGEN_SEM_TEXT(sem) _USDTGEN_STR(sem)
# define _USDTGEN_SEM_OPERAND(sem) [_usdtgen_sem] "m" (sem)
#endif

/* The probe site: a nop, and its .note.stapsdt note (joining the function's comdat group). */
#define _USDTGEN_NOTE_HEAD(provider, name) \
  "9900: nop\n" \
  " .pushsection .note.stapsdt,\"?\",\"note\"\n" \
  " .balign 4\n" \
  " .4byte 9902f-9901f, 9904f-9903f, 3\n" \
  "9901: .asciz \"stapsdt\"\n" \
  "9902: .balign 4\n" \
  "9903: " _USDTGEN_ADDR " 9900b\n" \
  " " _USDTGEN_ADDR " _.stapsdt.base\n" \
  " " _USDTGEN_ADDR " " _USDTGEN_SEM_TEXT(provider##_##name##_semaphore) "\n" \
  " .asciz \"" #provider "\"\n" \
  " .asciz \"" #name "\"\n"
#define _USDTGEN_NOTE_TAIL \
  " .byte 0\n" \
  "9904: .balign 4\n" \
  " .popsection\n" \
  ".ifndef _.stapsdt.base\n" \
  " .pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n" \
  " .weak _.stapsdt.base\n" \
  " .hidden _.stapsdt.base\n" \
  "_.stapsdt.base: .space 1\n" \
  " .size _.stapsdt.base, 1\n" \
  " .popsection\n" \
  ".endif\n"
/* The usdtgen type note of a probe: once per object (comdat), not allocated. */
#define _USDTGEN_TYPE_NOTE(provider, name, body) \
  ".ifndef .Lusdtgen.types." #provider "." #name "\n" \
  " .pushsection .note.usdtgen,\"G\",\"note\",usdtgen.types." #provider "." #name ",comdat\n" \
  " .balign 4\n" \
  " .4byte 9912f-9911f, 9914f-9913f, 0x55534454\n" \
  "9911: .asciz \"usdtgen\"\n" \
  "9912: .balign 4\n" \
  "9913: .asciz \"" #provider "\"\n" \
  " .asciz \"" #name "\"\n" \
  body \
  "9914: .balign 4\n" \
  " .popsection\n" \
  " .set .Lusdtgen.types." #provider "." #name ", 1\n" \
  ".endif\n"
"""]
    for n in range(MAX_PROBE_ARGS + 1):
        params = "".join(f", a{i}" for i in range(1, n + 1))
        texts = ' " .ascii \\" \\"\\n" '.join(f"_USDTGEN_ARG_TEXT({i})" for i in range(1, n + 1))
        if n:
            texts = f"_USDTGEN_ARG_MACROS {texts} _USDTGEN_ARG_MACROS_END"
        operands = "".join(f", _USDTGEN_ARG({i}, a{i})" for i in range(1, n + 1))
        out.append(
            f"#define _USDTGEN_PROBE{n}(provider, name, types{params}) \\\n"
            f"  __asm__ __volatile__ (_USDTGEN_NOTE_HEAD(provider, name) {texts} \\\n"
            f"    _USDTGEN_NOTE_TAIL types \\\n"
            f"    :: _USDTGEN_SEM_OPERAND(provider##_##name##_semaphore){operands})")
    out.append(f"\n#endif /* {COMMON_GUARD} */\n")
    return "\n".join(out)


# Each semaphore: 2 bytes of .probes in a comdat group of its own, named by the semaphore
# (as the -G object's), so a program keeps one copy however many of its files define it.
# A file defines only the semaphores of the probes it uses: the probe's asm and its
# _ENABLED() check carry the definition, once per assembly (.ifndef; with LTO the files'
# asm meets in one), so a file that includes a header of 2,000 probes and fires 10 holds
# 10. Outside the common block: a header of an older usdtgen may have defined that block.
SEMAPHORE_MACRO = [
    "#ifndef _USDTGEN_ENABLED",
    "#ifdef __cplusplus",
    "#define _USDTGEN_ENABLED(probe, sem) _usdtgen_enabled_##probe()",
    "#else",
    "#define _USDTGEN_ENABLED(probe, sem) (__extension__ ({ \\",
    "  __asm__ (_USDTGEN_SEM_DEF(sem)); __builtin_expect(sem != 0, 0); }))",
    "#endif",
    "#endif",
    "#ifndef _USDTGEN_SEM_DEF",
    "#define _USDTGEN_SEM_DEF(sem) \\",
    "  \".ifndef \" #sem \"\\n\" \\",
    "  \" .pushsection .probes,\\\"awG\\\",\\\"progbits\\\",\" #sem \",comdat\\n\" \\",
    "  \" .weak \" #sem \"\\n .hidden \" #sem \"\\n .type \" #sem \",\\\"object\\\"\\n\" \\",
    "  \" .size \" #sem \", 2\\n .balign 2\\n\" #sem \":\\n .2byte 0\\n .popsection\\n.endif\\n\"",
    "#endif",
]


def _prototype(provider: Provider, probe: Probe) -> str:
    args = ", ".join(format_declaration(a.ctype.d_name, a.name) for a in probe.args)
    return f"{provider.name}:::{probe.name}({args})"


def _type_note_body(probe: Probe) -> str:
    """Pairs of strings: each native argument's name and D type; then, for a probe with an
    argument mapping, each mapped argument as ``:N:name`` (N: the native argument it stands
    for) and its D type; then for each string with a length (``#pragma usdtgen
    string_length``), ``:len:N`` (N: the string argument) and the length argument's index."""
    pairs = [(arg.name or "", arg.ctype.d_name) for arg in probe.args]
    if probe.mapped_args is not None:
        pairs += [(f":{native}:{arg.name or ''}", arg.ctype.d_name)
                  for native, arg in zip(probe.arg_map, probe.mapped_args)]
    pairs += [(f":len:{string}", str(length)) for string, length in probe.string_lengths]
    if not pairs:
        return '""'
    # as numbers: builds run sed over headers (s/char \*/const char */), which must not
    # change the types the note records
    data = b"".join(text.encode() + b"\0" for pair in pairs for text in pair)
    return f'" .byte {",".join(map(str, data))}\\n"'


_INT_SPELLINGS = {(1, True): "signed char", (1, False): "unsigned char", (2, True): "short",
                  (2, False): "unsigned short", (4, True): "int", (4, False): "unsigned int",
                  (8, True): "long long", (8, False): "unsigned long long"}


def _strict_param(arg) -> str | None:
    """The C parameter type that type-checks an argument in strict mode (None: unknown).

    Spelled with C keywords only, so typedef names of the .d file need not exist in C.
    """
    ctype = arg.ctype
    if ctype.is_string:
        return "char const *"          # (so that sed s/char \*/const char */ keeps it)
    if ctype.pointers or ctype.kind == "pointer":
        return "void const volatile *"
    if ctype.kind in ("bool", "enum"):
        return "int"
    if ctype.kind == "int" and (ctype.size, ctype.signed) in _INT_SPELLINGS:
        return _INT_SPELLINGS[ctype.size, ctype.signed]
    if ctype.kind == "float":
        return {4: "float", 8: "double", 16: "long double"}.get(ctype.size)
    return None


def _guard_name(output_name: str) -> str:
    """The include guard from the header's final name: a build that writes ``probes.h.tmp``
    and renames it (PostgreSQL's, memcached's) gets the guard of ``probes.h``."""
    final = re.match(r"(.*\.(?:h|hh|hpp|hxx|H))(?:[.~].*)?$", output_name)
    stem = re.sub(r"[^A-Za-z0-9]", "_", final.group(1) if final else output_name).upper()
    return f"_USDTGEN_{stem}"


def emit_header(model: ProviderFile, output_name: str = "probes.h", source_name: str = "",
                strict: bool = False) -> str:
    """The header text for ``model``. ``output_name``/``source_name`` (base names) only
    appear in the include guard and the opening comment, so output stays reproducible."""
    guard = _guard_name(output_name)
    lines = [f"/* Generated by usdtgen {__version__}"
             + (f" from {source_name}" if source_name else "") + ". Do not edit. */",
             "/* Probes: MACRO(args) fires one; MACRO_ENABLED() is nonzero while a tracer is",
             "   attached. Define DTRACE_PROBES_DISABLED (empty or nonzero) to compile every",
             "   probe out (no code, no notes, arguments not evaluated). */",
             f"#ifndef {guard}", f"#define {guard} 1", ""]
    probes = [(prov, probe) for prov in model.providers for probe in prov.probes]

    # true when defined as nonzero or as nothing at all (#define DTRACE_PROBES_DISABLED)
    lines.append("#if defined(DTRACE_PROBES_DISABLED) && \\\n"
                 "    ((0 - DTRACE_PROBES_DISABLED - 1) == 1 || (DTRACE_PROBES_DISABLED + 0) != 0)")
    lines.append("")
    for prov, probe in probes:
        params = ", ".join(f"arg{i}" for i in range(len(probe.args)))
        uses = " ".join(f"(void)(arg{i});" for i in range(len(probe.args)))
        body = f"do {{ if (0) {{ {uses} }} }} while (0)" if probe.args else "do { } while (0)"
        lines.append(f"#define {prov.macro_name(probe)}({params}) {body}")
        lines.append(f"#define {prov.macro_name(probe)}_ENABLED() (0)")
    lines.append("")
    lines.append("#else /* probes enabled */")
    lines.append("")
    lines.append(_common_block())
    if probes:
        lines += ["#ifdef __cplusplus", 'extern "C" {', "#endif", ""]
        lines += SEMAPHORE_MACRO
        for prov, probe in probes:
            sem = prov.semaphore_name(probe)
            lines.append(f"extern volatile unsigned short {sem} "
                         "__attribute__((__visibility__(\"hidden\")));")
        lines += ["", "#ifdef __cplusplus", "}", "#endif", ""]
    for prov, probe in probes:
        macro = prov.macro_name(probe)
        n = len(probe.args)
        params = ", ".join(f"arg{i}" for i in range(n))
        call_args = "".join(f", arg{i}" for i in range(n))
        sem = prov.semaphore_name(probe)
        types = f"_USDTGEN_SEM_DEF({sem}) " \
            f"_USDTGEN_TYPE_NOTE({prov.name}, {probe.name}, {_type_note_body(probe)})"
        check = ""
        strict_types = [_strict_param(a) for a in probe.args]
        if strict and n and all(strict_types):
            check = (f"(void)sizeof(_USDTGEN_CAST(int (*)({', '.join(strict_types)}), _USDTGEN_NULL)"
                     f"({', '.join(f'(arg{i})' for i in range(n))})); ")
        lines.append(f"/* {_prototype(prov, probe)} */")
        lines.append(f"#define {macro}({params}) do {{ {check}\\\n"
                     f"  _USDTGEN_PROBE{n}({prov.name}, {probe.name}, \\\n"
                     f"    {types}{call_args}); }} while (0)")
        lines.append(f"#define {macro}_ENABLED() _USDTGEN_ENABLED({prov.name}_{probe.name}, "
                     f"{sem})")
        lines.append("")
    if probes:
        # In C++, _ENABLED() calls a function, not a statement expression, so that it also
        # serves where C++ allows no statement (a default member initializer, a
        # namespace-scope initializer); C keeps the statement expression, which gcc reads
        # faster than 2,000 function definitions.
        lines += ["#ifdef __cplusplus"]
        for prov, probe in probes:
            sem = prov.semaphore_name(probe)
            lines.append("static __inline__ __attribute__((__always_inline__, __unused__)) long "
                         f"_usdtgen_enabled_{prov.name}_{probe.name}(void) {{ "
                         f"__asm__ (_USDTGEN_SEM_DEF({sem})); "
                         f"return __builtin_expect({sem} != 0, 0); }}")
        lines += ["#endif", ""]
    lines.append("#endif /* DTRACE_PROBES_DISABLED */")
    lines.append("")
    lines.append(f"#endif /* {guard} */")
    return "\n".join(lines) + "\n"

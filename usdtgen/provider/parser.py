"""Parse D provider files (``provider NAME { probe ...; };``) into the ``ProviderFile`` model.

The syntax lives in ``syntax.py``; this module runs it, maps positions back through
cpp line markers, resolves parameter types (typedefs may come before or after their use)
and turns every problem into a ``Diagnostic`` with file, line, column and a hint.
"""
from __future__ import annotations

import re
from dataclasses import replace

from usdtgen.errors import Diagnostic, Loc, ProviderError, ProviderSyntaxError
from usdtgen.provider.cpp import LineMarker, original_line, parse_line_marker, \
    scan_line_markers
from usdtgen.provider.ctype import DeclError, parse_declaration
from usdtgen.provider.syntax import SyntaxProblem, Token, Tree, parse
from usdtgen.provider.sysheaders import strip_system_c, system_lines
from usdtgen.provider.model import (
    ATTRIBUTE_TARGETS, DEPENDENCY_CLASSES, STABILITY_NAMES, Aggregate, Arg, Attribute, CType,
    InlineConstant, Pragma, Probe, Provider, ProviderFile, Translator, Typedef,
)

_TOKEN_NAMES = {
    "RPAR": "')'", "LPAR": "'('", "LBRACE": "'{'", "RBRACE": "'}'", "SEMICOLON": "';'",
    "COMMA": "','", "COLON": "':'", "LSQB": "'['", "RSQB": "']'", "STAR": "'*'",
    "NAME": "a name", "NUMBER": "a number", "STRING": "a string", "CHAR": "a character constant",
    "PROVIDER": "'provider'", "PROBE": "'probe'", "TYPEDEF": "'typedef'",
    "TRANSLATOR": "'translator'", "INLINE": "'inline'",
    "AGGREGATE_KW": "a type keyword (struct, union, enum)",
    "HASH_LINE": "a '#' line", "OP": "an operator", "$END": "the end of the file",
}
_C_TYPE_WORDS = {"void", "char", "short", "int", "long", "float", "double", "signed", "unsigned",
                 "_Bool", "const", "volatile"}
_CPP_ONLY = re.compile(r"#\s*(define|undef|include|if|ifdef|ifndef|elif|else|endif|error|warning)\b")


def read_provider_source(path: str) -> str:
    """Read a provider file as text; raise ProviderSyntaxError for binary or non-UTF-8 data."""
    with open(path, "rb") as f:
        data = f.read()
    return decode_provider_bytes(data, path)


def decode_provider_bytes(data: bytes, path: str) -> str:
    bad = data.find(b"\0")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        bad = e.start if bad < 0 else min(bad, e.start)
        text = None
    if bad >= 0 or text is None:
        line = data.count(b"\n", 0, bad) + 1
        col = bad - (data.rfind(b"\n", 0, bad) + 1) + 1
        raise ProviderSyntaxError([Diagnostic(
            "error", Loc(path, line, col), "this is not a provider file: binary data",
            hint="a provider file is UTF-8 text: provider NAME { probe NAME(int, char *); };")])
    return text


class _Locator:
    """Maps positions in the parsed text to the original file and line (cpp line markers)."""

    def __init__(self, path: str, text: str, markers: list[LineMarker]):
        self.path = path
        self.lines = text.split("\n")
        self.markers = markers

    def loc(self, line: int, col: int) -> Loc:
        file, logical = original_line(self.markers, self.path, line)
        return Loc(file, logical, col)

    def diag(self, severity: str, line: int, col: int, message: str, hint: str = "") -> Diagnostic:
        source = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return Diagnostic(severity, self.loc(line, col), message, hint, source)


def _describe(token: Token) -> str:
    if token.type == "$END":
        return "the end of the file"
    return f"'{token.value}'" if token.value else _TOKEN_NAMES.get(token.type, token.type)


def _syntax_diagnostic(err: SyntaxProblem, text: str, locator: _Locator) -> Diagnostic:
    if err.token is None and not err.at_end:
        if text.startswith("/*", err.pos_in_stream):
            return locator.diag("error", err.line, err.column, "unterminated comment",
                                "this '/*' is never closed by '*/'")
        char = text[err.pos_in_stream]
        return locator.diag("error", err.line, err.column, f"unexpected character {char!r}",
                            "provider files hold providers, probes, typedefs and comments")
    expected = sorted(_TOKEN_NAMES.get(t, t) for t in err.expected if not t.startswith("__"))
    if err.at_end:
        lines = text.split("\n")
        last = len(lines)
        while last > 1 and not lines[last - 1].strip():
            last -= 1
        col = len(lines[last - 1]) + 1
        return locator.diag("error", last, col, "unexpected end of file; expected "
                            + _or_list(expected), "a declaration is not finished")
    token = err.token
    if text.startswith("/*", token.start_pos):
        return locator.diag("error", token.line, token.column, "unterminated comment",
                            "this '/*' is never closed by '*/'")
    hint = ""
    states = set(err.expected)
    if {"RPAR", "COMMA"} <= states:
        # inside a parameter list: name what can end the parameter, not every token
        if token.type in ("NUMBER", "STRING", "CHAR", "OP"):
            return locator.diag("error", token.line, token.column,
                                f"'{token.value}' is not a type or a parameter name",
                                "a parameter is a C type, such as 'int', 'const char *' or "
                                "'struct foo *', with an optional name")
        expected = ["')'", "','"]
    if "RPAR" in states and token.type in ("SEMICOLON", "LBRACE", "RBRACE", "PROBE"):
        hint = "a ')' is missing: the parameter list is not closed"
    elif token.type in ("NUMBER", "STRING", "CHAR", "OP") and "NAME" in states:
        hint = "a parameter is a C type, such as 'int', 'const char *' or 'struct foo *', with an optional name"
    elif "SEMICOLON" in states and token.type in ("PROBE", "RBRACE"):
        hint = "a ';' is missing after the probe declaration"
    elif token.type == "NAME" and "PROBE" in states:
        hint = "each probe declaration starts with the keyword 'probe'"
    return locator.diag("error", token.line, token.column,
                        f"unexpected {_describe(token)}; expected {_or_list(expected)}", hint)


def _or_list(items: list[str]) -> str:
    items = list(dict.fromkeys(items))
    if len(items) <= 1:
        return "".join(items) or "something else"
    return ", ".join(items[:-1]) + " or " + items[-1]


def line_marker_files(text: str) -> list[str]:
    """The files cpp's line markers in ``text`` name, in first-seen order, without cpp's
    pseudo-files (``<built-in>``, ``<command-line>``)."""
    names = (m.file for m in scan_line_markers(text, ""))
    return [n for n in dict.fromkeys(names) if n and not (n.startswith("<") and n.endswith(">"))]


def _collect_markers(tree: Tree, path: str) -> list[LineMarker]:
    markers, current = [], path
    for directive in tree.find_data("directive"):
        token = directive.children[0]
        marker = parse_line_marker(token.value)
        if marker:
            current = marker[1] if marker[1] is not None else current
            markers.append(LineMarker(token.line, marker[0], current))
    return sorted(markers, key=lambda m: m.physical_line)


def _tokens_of(node) -> list[Token]:
    """Every token below a node, in order."""
    if isinstance(node, Token):
        return [node]
    out: list[Token] = []
    for child in node.children:
        if child is not None:
            out.extend(_tokens_of(child))
    return out


class _Builder:
    """Walks the syntax tree once and builds the model, collecting diagnostics."""

    def __init__(self, path: str, text: str, locator: _Locator):
        self.path = path
        self.text = text
        self.locator = locator
        self.diagnostics: list[Diagnostic] = []
        self.typedefs: dict[str, CType] = {}
        self.cpp_ignored = False
        self.not_directives: list[Token] = []     # '#' lines that are no directive
        self.length_pragmas: list = []              # #pragma usdtgen string_length
        self.system = system_lines(text) if "\n#" in text else []   # per line: a system header's

    def error(self, token: Token | None, message: str, hint: str = "", line=None, col=None):
        self.diagnostics.append(self.locator.diag(
            "error", line or token.line, col or token.column, message, hint))

    def warning(self, token: Token, message: str, hint: str = ""):
        self.diagnostics.append(self.locator.diag("warning", token.line, token.column, message, hint))

    def loc(self, token: Token) -> Loc:
        return self.locator.loc(token.line, token.column)

    def source_text(self, node: Tree) -> str:
        tokens = _tokens_of(node)
        return self.text[tokens[0].start_pos:tokens[-1].end_pos]

    # -- declarations --------------------------------------------------------------------

    def _decl_tokens(self, tokens: list) -> list[tuple[str, str]]:
        out = []
        for tok in tokens:
            if isinstance(tok, Tree) and tok.data == "array_suffix":
                out.append(("ARRAY", "[]"))
            else:
                out.append((tok.type, tok.value))
        return out

    def _first_token(self, node) -> Token:
        return _tokens_of(node)[0]

    def typedef_from(self, node: Tree) -> Typedef | None:
        """A typedef; one of a system header (-C) that is not D is skipped, not an error,
        as DTrace skips the C of the headers a provider file includes."""
        first = self._first_token(node)
        if not (0 < first.line <= len(self.system) and self.system[first.line - 1]):
            return self.build_typedef(node)
        kept = len(self.diagnostics)
        typedef = self.build_typedef(node)
        del self.diagnostics[kept:]
        return typedef

    def build_typedef(self, node: Tree) -> Typedef | None:
        first = self._first_token(node)
        parts = node.children[1:-1]         # without 'typedef' and ';'
        if not parts:
            self.error(first, "typedef declares nothing")
            return None
        # the declared name: `(*name)` for function pointers, else the last top-level NAME
        names = [i for i, p in enumerate(parts) if isinstance(p, Token) and p.type == "NAME"]
        fn_ptr = [i for i in range(len(parts) - 2)
                  if isinstance(parts[i], Token) and parts[i].type == "LPAR"
                  and isinstance(parts[i + 1], Token) and parts[i + 1].type == "STAR"
                  and isinstance(parts[i + 2], Token) and parts[i + 2].type == "NAME"]
        if fn_ptr:
            name_tok = parts[fn_ptr[0] + 2]
            ctype = CType(spelling=name_tok.value, kind="pointer", size=8, signed=False, pointers=1)
            self.typedefs[name_tok.value] = ctype
            return Typedef(name_tok.value, ctype, self.source_text(node), self.loc(first))
        name_tok = parts[names[-1]] if names else None
        if name_tok is None or name_tok.value in _C_TYPE_WORDS:
            self.error(first, "typedef declares no name", "write: typedef unsigned long long my_id_t;")
            return None
        type_parts = parts[:names[-1]]
        array = [p for p in parts[names[-1] + 1:] if isinstance(p, Token) and p.value == "["]
        body = [p for p in type_parts if isinstance(p, Tree) and p.data == "body"]
        if body:
            kw = next((p.value for p in type_parts if isinstance(p, Token) and p.type == "AGGREGATE_KW"), None)
            if kw is None:
                self.error(first, "unexpected '{' in typedef")
                return None
            kind = "enum" if kw == "enum" else kw
            ctype = CType(spelling=name_tok.value, kind=kind, size=4 if kw == "enum" else None,
                          signed=True if kw == "enum" else None)
        else:
            try:
                _, base = parse_declaration(self._decl_tokens(type_parts), self.typedefs)
            except DeclError as e:
                bad = type_parts[e.index] if e.index < len(type_parts) else first
                self.error(self._first_token(bad), f"typedef {name_tok.value}: {e}", e.hint)
                return None
            if array:
                base = CType(spelling=base.spelling, kind="pointer", size=8, signed=False,
                             pointers=base.pointers + 1)
            ctype = CType(spelling=name_tok.value, kind=base.kind, size=base.size,
                          signed=base.signed, pointers=base.pointers, d_spelling="")
        self.typedefs[name_tok.value] = ctype
        return Typedef(name_tok.value, ctype, self.source_text(node), self.loc(first))

    def build_param(self, node: Tree, probe_name: str) -> Arg | None:
        tokens = node.children
        try:
            name, ctype = parse_declaration(self._decl_tokens(tokens), self.typedefs)
        except DeclError as e:
            bad = tokens[e.index] if e.index < len(tokens) else tokens[0]
            self.error(self._first_token(bad), f"probe '{probe_name}': {e}",
                       e.hint or "a parameter is a C type, such as 'int' or 'const char *', "
                       "with an optional name")
            return None
        return Arg(name, ctype, self.loc(self._first_token(node)))

    def build_params(self, node: Tree | None, probe_name: str) -> tuple[Arg, ...]:
        if node is None:
            return ()
        args = [self.build_param(p, probe_name) for p in node.children]
        if len(args) == 1 and args[0] is not None and args[0].ctype.kind == "void" \
                and args[0].name is None and args[0].ctype.pointers == 0:
            return ()          # probe p(void)
        for arg in args:
            if arg is not None and arg.ctype.kind == "void" and arg.ctype.pointers == 0:
                self.diagnostics.append(self.locator.diag(
                    "error", arg.loc.line, arg.loc.col,
                    f"probe '{probe_name}': 'void' can only stand alone in a parameter list"))
        return tuple(a for a in args if a is not None)

    def build_probe(self, node: Tree) -> Probe:
        name_tok, params, mapped = node.children
        args = self.build_params(params, name_tok.value)
        mapped_args = self.build_params(mapped, name_tok.value) if mapped is not None else None
        return Probe(name_tok.value, args, self.loc(name_tok), mapped_args)

    # -- directives ------------------------------------------------------------------------

    def directive(self, token: Token, pragmas: list[Pragma], attributes: list[tuple[str, Attribute, Token]]):
        value = token.value.rstrip()
        if parse_line_marker(value):
            return
        if _CPP_ONLY.match(value):
            # systemtap's dtrace ignores these without -C; so do we, but say so once
            if not self.cpp_ignored:
                word = _CPP_ONLY.match(value).group(1)
                self.warning(token, f"'#{word}' is ignored without -C",
                             "run usdtgen with -C to preprocess the file with cpp first")
            self.cpp_ignored = True
            return
        words = value.lstrip("#").split()
        if not words or words[0] != "pragma":
            # not a directive at all (`# file: src/x.c`): systemtap's dtrace skips such lines
            self.not_directives.append(token)
            return
        if len(words) >= 2 and words[1] == "usdtgen":
            self.usdtgen_pragma(token, words[2:])
            return
        if len(words) < 2 or words[1] != "D":
            return                       # other pragmas (#pragma once, ...) mean nothing here
        if len(words) < 3:
            self.error(token, "'#pragma D' needs a keyword: attributes, option, depends_on or binding")
            return
        keyword = words[2]
        if keyword == "attributes":
            parsed = self._attribute(token, words[3:])
            if parsed:
                attributes.append((parsed[0], parsed[1], token))
        elif keyword in ("option", "depends_on", "binding", "ident", "error", "line"):
            pragmas.append(Pragma(keyword, " ".join(words[3:]), self.loc(token)))
        else:
            self.error(token, f"unknown '#pragma D {keyword}'",
                       "known: attributes, option, depends_on, binding")

    def usdtgen_pragma(self, token: Token, words: list[str]) -> None:
        """``#pragma usdtgen string_length PROVIDER:PROBE ARG LENGTH``: the probe passes the
        string ARG as a pointer and its length in bytes (no NUL needed) as LENGTH; each is
        a parameter name or argN. Other tools skip the line (an unknown pragma)."""
        usage = ("#pragma usdtgen string_length PROVIDER:PROBE ARG LENGTH, e.g. "
                 "#pragma usdtgen string_length memcached:command__get key keylen")
        if not words or words[0] != "string_length":
            self.error(token, f"unknown '#pragma usdtgen {words[0] if words else ''}'".rstrip(),
                       "known: " + usage)
            return
        if len(words) != 4 or ":" not in words[1]:
            self.error(token, "malformed '#pragma usdtgen string_length'", usage)
            return
        provider, _, probe = words[1].partition(":")
        self.length_pragmas.append((token, provider, probe.strip(":").replace("-", "__"),
                                    words[2], words[3]))

    def apply_length_pragmas(self, providers: list[Provider]) -> list[Provider]:
        """The probes the ``string_length`` pragmas name, with their string lengths."""
        by_name = {(prov.name, probe.name): probe for prov in providers for probe in prov.probes}
        lengths: dict[tuple[str, str], list[tuple[int, int]]] = {}
        for token, provider, probe_name, string_arg, length_arg in self.length_pragmas:
            probe = by_name.get((provider, probe_name))
            if probe is None:
                self.error(token, f"'#pragma usdtgen string_length' names probe "
                                  f"'{provider}:{probe_name}', which this file does not declare")
                continue
            string_index = self._arg_index(token, probe, string_arg)
            length_index = self._arg_index(token, probe, length_arg)
            if string_index is None or length_index is None:
                continue
            string_type, length_type = (probe.args[string_index].ctype,
                                        probe.args[length_index].ctype)
            if not string_type.is_string:
                self.error(token, f"'{string_arg}' of {provider}:{probe_name} is "
                                  f"{string_type.spelling}, not a string (char *)")
            elif length_type.pointers or length_type.kind not in ("int", "enum", "bool"):
                self.error(token, f"'{length_arg}' of {provider}:{probe_name} is "
                                  f"{length_type.spelling}, not an integer length")
            else:
                lengths.setdefault((provider, probe_name), []).append(
                    (string_index, length_index))
        return [replace(prov, probes=tuple(
                    replace(probe, string_lengths=tuple(lengths[prov.name, probe.name]))
                    if (prov.name, probe.name) in lengths else probe for probe in prov.probes))
                for prov in providers]

    def _arg_index(self, token: Token, probe: Probe, name: str) -> int | None:
        for index, arg in enumerate(probe.args):
            if arg.name == name or name == f"arg{index}":
                return index
        self.error(token, f"probe '{probe.name}' has no argument '{name}'",
                   "name a parameter, or argN: " + ", ".join(
                       a.name or f"arg{i}" for i, a in enumerate(probe.args)))
        return None

    def _attribute(self, token: Token, words: list[str]):
        usage = "#pragma D attributes Name/Data/Class provider NAME provider|module|function|name|args"
        if len(words) != 4 or words[1] != "provider":
            self.error(token, "malformed '#pragma D attributes'", usage)
            return None
        triple, _, provider, target = words
        parts = triple.split("/")
        if len(parts) != 3:
            self.error(token, f"'{triple}' is not Name/Data/Class", usage)
            return None
        for stability in parts[:2]:
            if stability not in STABILITY_NAMES:
                self.error(token, f"unknown stability '{stability}'",
                           "one of: " + ", ".join(STABILITY_NAMES))
                return None
        if parts[2] not in DEPENDENCY_CLASSES:
            self.error(token, f"unknown dependency class '{parts[2]}'",
                       "one of: " + ", ".join(DEPENDENCY_CLASSES))
            return None
        if target not in ATTRIBUTE_TARGETS:
            self.error(token, f"unknown attribute target '{target}'", "one of: " + ", ".join(ATTRIBUTE_TARGETS))
            return None
        return provider, Attribute(target, parts[0], parts[1], parts[2], self.loc(token))

    # -- the file ----------------------------------------------------------------------------

    def build(self, tree: Tree) -> ProviderFile:
        items = [c for c in tree.children if isinstance(c, Tree)]
        typedefs = [self.typedef_from(node) for node in items if node.data == "typedef"]
        pragmas: list[Pragma] = []
        attributes: list[tuple[str, Attribute, Token]] = []
        providers, aggregates, translators, inlines = [], [], [], []
        for node in tree.iter_subtrees_topdown():
            if node.data == "directive":
                self.directive(node.children[0], pragmas, attributes)
        if self.not_directives:
            first, more = self.not_directives[0], len(self.not_directives) - 1
            self.warning(first, f"'{first.value.rstrip()}' is not a directive: ignored",
                         f"{more} more such line{'s' if more != 1 else ''} ignored too" if more
                         else "systemtap's dtrace ignores such lines too; -C would reject it")
        for node in items:
            if node.data == "provider":
                name_tok = node.children[0]
                probes = tuple(self.build_probe(c) for c in node.children[1:]
                               if isinstance(c, Tree) and c.data == "probe")
                providers.append((name_tok, probes))
            elif node.data == "aggregate":
                kw, tag = node.children[0], node.children[1]
                aggregates.append(Aggregate(kw.value, tag.value if tag else None,
                                            self.source_text(node), self.loc(kw)))
            elif node.data == "translator":
                translators.append(Translator(self.source_text(node), self.loc(self._first_token(node))))
            elif node.data == "inline":
                inlines.append(self._inline(node))
        model_providers = []
        for name_tok, probes in providers:
            own = tuple(a for prov, a, _ in attributes if prov == name_tok.value)
            model_providers.append(Provider(name_tok.value, probes, self.loc(name_tok), own))
        if self.length_pragmas:
            model_providers = self.apply_length_pragmas(model_providers)
        known = {p.name for p in model_providers}
        for prov, _, token in attributes:
            if prov not in known:
                self.warning(token, f"'#pragma D attributes' names provider '{prov}', which this file does not declare")
        return ProviderFile(self.path, tuple(model_providers), tuple(t for t in typedefs if t),
                            tuple(aggregates), tuple(translators), tuple(inlines), tuple(pragmas))

    def _inline(self, node: Tree) -> InlineConstant:
        tokens = _tokens_of(node)
        text = self.source_text(node)
        eq = next((i for i, t in enumerate(tokens) if t.value == "="), len(tokens))
        names = [t for t in tokens[:eq] if t.type == "NAME"]
        name = names[-1].value if names else ""
        type_text = " ".join(t.value for t in tokens[:eq] if t is not (names[-1] if names else None))
        value = text.split("=", 1)[1].rstrip().rstrip(";").strip() if "=" in text else ""
        return InlineConstant(name, type_text, value, self.loc(tokens[0]))


def parse_provider_text(text: str, path: str = "<string>") -> tuple[ProviderFile, list[Diagnostic]]:
    """Parse provider source text. Returns the model and its warnings.

    Raises ProviderSyntaxError when the text does not follow the grammar, ProviderError
    when it does but declares something invalid (all errors found are reported together).
    """
    model, diagnostics = parse_provider_source(text, path)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise ProviderError(errors)
    return model, diagnostics


def parse_provider_source(text: str, path: str) -> tuple[ProviderFile, list[Diagnostic]]:
    """Parse provider source text into the model and every diagnostic, errors included.

    Raises ProviderSyntaxError only: a file that follows the grammar always gives a model
    (declarations in error left out), so later checks can still report their findings.
    """
    for attempt in range(100):
        try:
            tree = parse(text)
            break
        except SyntaxProblem as e:
            line = getattr(e, "line", 0)
            in_header = 0 < line and "\n#" in text and system_lines(text)[line - 1]
            if not in_header or attempt == 99:
                locator = _Locator(path, text, scan_line_markers(text, path))
                raise ProviderSyntaxError([_syntax_diagnostic(e, text, locator)]) from None
            # C of a system header that the grammar cannot read is skipped, as DTrace does
            text = strip_system_c(text, drop_at=(line, e.column))
    locator = _Locator(path, text, _collect_markers(tree, path))
    builder = _Builder(path, text, locator)
    model = builder.build(tree)
    return model, builder.diagnostics

"""The provider language's syntax: a tokenizer and a recursive-descent parser that turn the
text of a provider file into the tree parser.py builds the model from.

Written by hand rather than with lark because `usdtgen -h` runs in every build: this parser
needs no import of a parser generator and reads a 2,000-probe file several times faster. The
syntax, as real provider files use it (Solaris/macOS dtrace -h, systemtap's dtrace script):

    file        := item*
    item        := provider | typedef | aggregate | translator | inline | directive | ';'
    provider    := 'provider' NAME '{' (probe | directive | ';')* '}' [';']
    probe       := 'probe' NAME '(' [params] ')' [':' '(' [params] ')'] ';'
    params      := param (',' param)*
    param       := (NAME | struct/union/enum | '*' | '[' [NUMBER | NAME] ']')+
    typedef     := 'typedef' decl_token+ ';'
    aggregate   := struct/union/enum [NAME] [body] ';'
    translator  := 'translator' head_token+ body ';'
    inline      := 'inline' decl_token+ ';'
    body        := '{' (decl_token | ';' | ':')* '}'
    decl_token  := NAME | struct/union/enum | '*' | NUMBER | STRING | CHAR | OP
                   | '(' | ')' | '[' | ']' | ',' | body
    directive   := a '#' line

Declarations other than providers are kept as token runs; the builder gives them meaning.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field


class Token(str):
    """A token: its text, its type (NAME, LPAR, ...) and where it starts and ends."""

    __slots__ = ("type", "start_pos", "end_pos", "line", "column")

    def __new__(cls, type_: str, value: str, start_pos: int, line: int, column: int):
        token = super().__new__(cls, value)
        token.type, token.start_pos, token.end_pos = type_, start_pos, start_pos + len(value)
        token.line, token.column = line, column
        return token

    @property
    def value(self) -> str:
        return str(self)


@dataclass(slots=True)
class Tree:
    """A node: what it is (``probe``, ``params``, ...) and its tokens and subtrees."""

    data: str
    children: list = field(default_factory=list)

    def iter_subtrees_topdown(self):
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed([c for c in node.children if isinstance(c, Tree)]))

    iter_subtrees = iter_subtrees_topdown

    def find_data(self, data: str):
        return (node for node in self.iter_subtrees_topdown() if node.data == data)


class SyntaxProblem(Exception):
    """Where the text stops following the syntax: ``token`` is what was found (None at a
    character no token starts with, or at the end), ``expected`` the token types that
    could have come there."""

    def __init__(self, token: Token | None, expected: frozenset[str], pos: int, line: int,
                 column: int, at_end: bool = False):
        super().__init__(f"line {line} column {column}")
        self.token, self.expected, self.at_end = token, expected, at_end
        self.pos_in_stream, self.line, self.column = pos, line, column


KEYWORDS = {"provider": "PROVIDER", "probe": "PROBE", "typedef": "TYPEDEF",
            "translator": "TRANSLATOR", "inline": "INLINE",
            "struct": "AGGREGATE_KW", "union": "AGGREGATE_KW", "enum": "AGGREGATE_KW"}
PUNCTUATION = {"(": "LPAR", ")": "RPAR", "{": "LBRACE", "}": "RBRACE", "[": "LSQB",
               "]": "RSQB", ";": "SEMICOLON", ",": "COMMA", ":": "COLON", "*": "STAR"}
_TOKEN = re.compile(r"""
    (?P<SPACE>[ \t\f\r\n\v]+)
  | (?P<COMMENT>/\*.*?\*/|//[^\n]*)
  | (?P<HASH_LINE>\#[^\n]*)
  | (?P<NAME>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<NUMBER>(?:0[xX][0-9a-fA-F]+|[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)[uUlLfF]*)
  | (?P<STRING>"(?:[^"\\\n]|\\.)*")
  | (?P<CHAR>'(?:[^'\\\n]|\\.)*')
  | (?P<PUNCT>[(){}\[\];,:*])
  | (?P<OP>->|<<|>>|<=|>=|==|!=|&&|\|\||[-+/%&|^!~<>=?.])
""", re.S | re.X)


def tokenize(text: str) -> list[Token]:
    """Every token of ``text``; at a character no token starts with (an unterminated
    comment among them), a last token of type $BAD."""
    tokens: list[Token] = []
    pos, line, line_start, size = 0, 1, 0, len(text)
    match = _TOKEN.match
    while pos < size:
        found = match(text, pos)
        if found is None or (found.lastgroup == "OP" and text.startswith("/*", pos)):
            # (a '/*' never closed, among others): an error once the parser gets there, so
            # that an earlier syntax error is the one reported
            tokens.append(Token("$BAD", "", pos, line, pos - line_start + 1))
            return tokens
        kind, value = found.lastgroup, found.group()
        if kind == "NAME":
            kind = KEYWORDS.get(value, "NAME")
        elif kind == "PUNCT":
            kind = PUNCTUATION[value]
        if kind not in ("SPACE", "COMMENT"):
            tokens.append(Token(kind, value, pos, line, pos - line_start + 1))
        newlines = value.count("\n")
        if newlines:
            line += newlines
            line_start = pos + value.rindex("\n") + 1
        pos = found.end()
    return tokens


ITEM_START = frozenset({"PROVIDER", "TYPEDEF", "AGGREGATE_KW", "TRANSLATOR", "INLINE",
                        "HASH_LINE", "SEMICOLON"})
PROVIDER_ITEM = frozenset({"PROBE", "HASH_LINE", "SEMICOLON", "RBRACE"})
PARAM_TOKEN = frozenset({"NAME", "AGGREGATE_KW", "STAR", "LSQB"})
DECL_TOKEN = frozenset({"NAME", "AGGREGATE_KW", "STAR", "NUMBER", "STRING", "CHAR", "OP",
                        "LPAR", "RPAR", "LSQB", "RSQB", "COMMA", "LBRACE"})
HEAD_TOKEN = frozenset({"NAME", "AGGREGATE_KW", "STAR", "OP", "LPAR", "RPAR", "LSQB", "RSQB",
                        "COMMA", "NUMBER"})
BODY_TOKEN = DECL_TOKEN | {"SEMICOLON", "COLON", "RBRACE"}
KEYWORD_TYPES = frozenset({"PROVIDER", "PROBE", "TYPEDEF", "TRANSLATOR", "INLINE"})


class _Parser:
    def __init__(self, text: str, tokens: list[Token]):
        self.text, self.tokens, self.index = text, tokens, 0
        lines = text.count("\n")
        self.end_line, self.end_column = lines + 1, len(text) - text.rfind("\n")

    def peek(self, keywords: bool = False) -> str:
        """The next token's type. Keywords are names where a name may stand (a parameter
        named 'provider'); they are keywords only where a declaration starts."""
        if self.index >= len(self.tokens):
            return "$END"
        kind = self.tokens[self.index].type
        return "NAME" if kind in KEYWORD_TYPES and not keywords else kind

    def fail(self, expected) -> SyntaxProblem:
        if self.index < len(self.tokens):
            token = self.tokens[self.index]
            found = None if token.type == "$BAD" else token    # (no token starts there)
            return SyntaxProblem(found, frozenset(expected), token.start_pos, token.line,
                                 token.column)
        return SyntaxProblem(None, frozenset(expected), len(self.text), self.end_line,
                             self.end_column, at_end=True)

    def take(self, kind: str, expected=None) -> Token:
        if self.peek() != kind:
            raise self.fail(expected or {kind})
        return self.next()

    def next(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        if token.type in KEYWORD_TYPES:           # a keyword where a name stands
            return Token("NAME", token.value, token.start_pos, token.line, token.column)
        return token

    # -- rules ---------------------------------------------------------------------------------

    def file(self) -> Tree:
        items = []
        rules = {"PROVIDER": self.provider, "TYPEDEF": self.typedef,
                 "AGGREGATE_KW": self.aggregate, "TRANSLATOR": self.translator,
                 "INLINE": self.inline, "HASH_LINE": self.directive}
        while (kind := self.peek(keywords=True)) != "$END":
            if kind == "SEMICOLON":
                self.index += 1
                continue
            rule = rules.get(kind)
            if rule is None:
                raise self.fail(ITEM_START)
            items.append(rule())
        return Tree("start", items)

    def directive(self) -> Tree:
        return Tree("directive", [self.next()])

    def provider(self) -> Tree:
        self.next()
        children = [self.take("NAME")]
        self.take("LBRACE")
        while (kind := self.peek(keywords=True)) != "RBRACE":
            if kind == "PROBE":
                children.append(self.probe())
            elif kind == "HASH_LINE":
                children.append(self.directive())
            elif kind == "SEMICOLON":
                self.index += 1
            else:
                raise self.fail(PROVIDER_ITEM)
        self.index += 1
        if self.peek() == "SEMICOLON":
            self.index += 1
        return Tree("provider", children)

    def probe(self) -> Tree:
        self.next()
        name = self.take("NAME")
        self.take("LPAR")
        params = self.params()
        mapped = None
        if self.peek() == "COLON":
            self.index += 1
            self.take("LPAR")
            mapped = self.params()
            self.take("SEMICOLON")
        else:
            self.take("SEMICOLON", {"COLON", "SEMICOLON"})
        return Tree("probe", [name, params, mapped])

    def params(self) -> Tree | None:
        """After '(': the parameters and the closing ')'."""
        if self.peek() == "RPAR":
            self.index += 1
            return None
        params = []
        while True:
            param = []
            while self.peek() in PARAM_TOKEN:
                param.append(self.array_suffix() if self.peek() == "LSQB" else self.next())
            if not param:
                raise self.fail(PARAM_TOKEN | ({"RPAR"} if not params else set()))
            params.append(Tree("param", param))
            kind = self.peek()
            if kind == "RPAR":
                self.index += 1
                return Tree("params", params)
            if kind != "COMMA":
                raise self.fail(PARAM_TOKEN | {"RPAR", "COMMA"})
            self.index += 1

    def array_suffix(self) -> Tree:
        self.next()
        size = self.next() if self.peek() in ("NUMBER", "NAME") else None
        self.take("RSQB", {"RSQB"} if size else {"NUMBER", "NAME", "RSQB"})
        return Tree("array_suffix", [size])

    def typedef(self) -> Tree:
        children = [self.tokens[self.index]]     # 'typedef' itself
        self.index += 1
        children += self.tokens_until_semicolon(DECL_TOKEN)
        children.append(self.take("SEMICOLON"))
        return Tree("typedef", children)

    def inline(self) -> Tree:
        self.next()
        children = self.tokens_until_semicolon(DECL_TOKEN)
        self.take("SEMICOLON")
        return Tree("inline", children)

    def tokens_until_semicolon(self, allowed: frozenset[str]) -> list:
        children: list = []
        while (kind := self.peek()) in allowed:
            children.append(self.body() if kind == "LBRACE" else self.next())
        if not children:
            raise self.fail(allowed)
        if self.peek() != "SEMICOLON":
            raise self.fail(allowed | {"SEMICOLON"})
        return children

    def aggregate(self) -> Tree:
        keyword = self.next()
        name = self.next() if self.peek() == "NAME" else None
        body = self.body() if self.peek() == "LBRACE" else None
        expected = {"SEMICOLON"} | ({"LBRACE"} if body is None else set()) | \
            ({"NAME"} if name is None and body is None else set())
        self.take("SEMICOLON", expected)
        return Tree("aggregate", [keyword, name, body])

    def translator(self) -> Tree:
        children = [self.tokens[self.index]]     # 'translator' itself
        self.index += 1
        while self.peek() in HEAD_TOKEN:
            children.append(self.next())
        if len(children) == 1:
            raise self.fail(HEAD_TOKEN)
        if self.peek() != "LBRACE":
            raise self.fail(HEAD_TOKEN | {"LBRACE"})
        children.append(self.body())
        self.take("SEMICOLON")
        return Tree("translator", children)

    def body(self) -> Tree:
        children = [self.take("LBRACE")]
        while (kind := self.peek()) != "RBRACE":
            if kind == "LBRACE":
                children.append(self.body())
            elif kind in BODY_TOKEN:
                children.append(self.next())
            else:
                raise self.fail(BODY_TOKEN)
        children.append(self.next())
        return Tree("body", children)


def parse(text: str) -> Tree:
    """The tree of a provider file's text; SyntaxProblem where it does not follow the
    syntax above."""
    return _Parser(text, tokenize(text)).file()

"""CQL (Contextual Query Language 1.2 / 2.0) parsed into a tree, with SRU's own diagnostics.

SRU clients send CQL; :mod:`search_app.sru.cql_search` turns the tree into the query model. This module only
knows the grammar, so its errors are the syntax diagnostics of SRU (``info:srw/diagnostic/1/N``)::

    cqlQuery     ::= prefixAssignment* scopedClause [sortBy sortKey+]
    prefix       ::= '>' [name '='] uri
    scopedClause ::= searchClause (boolean modifier* searchClause)*     (left to right, one precedence)
    searchClause ::= '(' cqlQuery ')' | [index relation modifier*] term
    relation     ::= '=' | '==' | '<>' | '<' | '>' | '<=' | '>=' | name   (any, all, adj, within, …)
    modifier     ::= '/' name [comparison value]
    term         ::= word | '"' chars with \\" and \\\\ escapes '"'

Terms are kept as written (backslash escapes included), so the translation can tell a masking ``*``
from an escaped ``\\*``. Index and relation names are kept as typed; prefixes assigned with ``>``
travel with each clause as the URI they stand for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

BOOLEANS = ("and", "or", "not", "prox")
SYMBOLS = ("==", "<>", "<=", ">=", "=", "<", ">")
_SPECIAL = set('()=<>/"')
MAX_QUERY_CHARS = 2000
MAX_DEPTH = 64


class CqlError(ValueError):
    """A query SRU must refuse: ``code`` is its diagnostic number, ``details`` what the list says to
    give (the offending index, relation, character offset…)."""

    def __init__(self, code: int, message: str, details: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


@dataclass(frozen=True, slots=True)
class Modifier:
    """``/name`` or ``/name=value`` after a relation, a boolean or a sort key."""

    name: str
    comparison: str | None = None
    value: str | None = None


@dataclass(frozen=True, slots=True)
class Relation:
    name: str
    modifiers: tuple[Modifier, ...] = ()


@dataclass(frozen=True, slots=True)
class SearchClause:
    """``index relation term``; a bare term has ``index`` ``None`` (the server's choice) and ``=``.

    ``prefixes`` maps the prefixes assigned in scope to their URIs (``""`` is the default set's)."""

    index: str | None
    relation: Relation
    term: str
    prefixes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BooleanClause:
    operator: str
    left: Node
    right: Node
    modifiers: tuple[Modifier, ...] = ()


Node = SearchClause | BooleanClause


@dataclass(frozen=True, slots=True)
class SortKey:
    index: str
    modifiers: tuple[Modifier, ...] = ()
    prefixes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CqlQuery:
    root: Node
    sort_keys: tuple[SortKey, ...] = ()


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "(", ")", "/", "symbol", "word", "string", "end"
    text: str
    offset: int


def tokenize(text: str) -> list[_Token]:
    """The tokens of ``text``; an unterminated quoted string is diagnostic 14."""
    found: list[_Token] = []
    position = 0
    length = len(text)
    while position < length:
        char = text[position]
        if char.isspace():
            position += 1
        elif char in "()/":
            found.append(_Token(char, char, position))
            position += 1
        elif char in "=<>":
            symbol = next(s for s in SYMBOLS if text.startswith(s, position))
            found.append(_Token("symbol", symbol, position))
            position += len(symbol)
        elif char == '"':
            end = position + 1
            while end < length and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            if end >= length:
                raise CqlError(14, "a quoted term has no closing quote", str(position))
            found.append(_Token("string", _unescape_quotes(text[position + 1 : end]), position))
            position = end + 1
        else:
            end = position
            while end < length and not text[end].isspace() and text[end] not in _SPECIAL:
                end += 2 if text[end] == "\\" and end + 1 < length else 1
            found.append(_Token("word", text[position:end], position))
            position = end
    found.append(_Token("end", "", length))
    return found


def _unescape_quotes(body: str) -> str:
    """A quoted term's text with ``\\"`` as ``"``; other escapes stay for the masking rules."""
    return body.replace('\\"', '"')


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.position = 0
        self.depth = 0
        self.top_scope: Mapping[str, str] = {}

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.position + ahead, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.peek()
        self.position += 1
        return token

    def fail(self, message: str, token: _Token | None = None) -> CqlError:
        token = token or self.peek()
        where = f"at character {token.offset + 1}" if token.kind != "end" else "at the end of the query"
        return CqlError(10, f"{message} {where}", str(token.offset))

    def is_keyword(self, token: _Token, *words: str) -> bool:
        return token.kind == "word" and token.text.lower() in words

    def query(self, prefixes: Mapping[str, str]) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise CqlError(38, f"the query nests more than {MAX_DEPTH} levels deep", str(MAX_DEPTH))
        scope = dict(prefixes)
        while self.peek().kind == "symbol" and self.peek().text == ">":
            self.take()
            name, uri = self.prefix_assignment()
            scope[name] = uri
        if self.depth == 1:
            self.top_scope = scope
        node = self.scoped_clause(scope)
        self.depth -= 1
        return node

    def prefix_assignment(self) -> tuple[str, str]:
        first = self.take()
        if first.kind not in ("word", "string"):
            raise self.fail("expected a context set name or URI after '>'", first)
        if self.peek().kind == "symbol" and self.peek().text == "=":
            if first.kind != "word":
                raise self.fail("a context set's short name cannot be quoted", first)
            self.take()
            uri = self.take()
            if uri.kind not in ("word", "string"):
                raise self.fail("expected the context set's URI", uri)
            return first.text.lower(), uri.text
        return "", first.text

    def scoped_clause(self, prefixes: Mapping[str, str]) -> Node:
        left = self.search_clause(prefixes)
        while self.is_keyword(self.peek(), *BOOLEANS):
            operator = self.take().text.lower()
            modifiers = self.modifiers()
            right = self.search_clause(prefixes)
            left = BooleanClause(operator, left, right, modifiers)
        return left

    def search_clause(self, prefixes: Mapping[str, str]) -> Node:
        token = self.peek()
        if token.kind == "(":
            self.take()
            node = self.query(prefixes)
            if self.peek().kind != ")":
                closing = self.peek()
                raise CqlError(13, f"expected ')' at character {closing.offset + 1}", str(closing.offset))
            self.take()
            return node
        if token.kind == ")":
            raise CqlError(13, f"unexpected ')' at character {token.offset + 1}", str(token.offset))
        if token.kind not in ("word", "string"):
            raise self.fail("expected a search term")
        if self.is_keyword(token, *BOOLEANS) and self.peek(1).kind in ("word", "string", "("):
            raise self.fail(f"expected a search term before {token.text!r}")
        self.take()
        following = self.peek()
        if following.kind == "symbol" or self._is_named_relation(following):
            if token.kind != "word":
                raise self.fail("an index name cannot be quoted", token)
            self.take()
            relation = Relation(following.text, self.modifiers())
            term = self.take()
            if term.kind not in ("word", "string"):
                raise self.fail(f"expected a search term after {following.text!r}", term)
            return SearchClause(token.text, relation, term.text, prefixes)
        return SearchClause(None, Relation("="), token.text, prefixes)

    def _is_named_relation(self, token: _Token) -> bool:
        """A word after a term is a relation when a term (or a modifier) follows it: ``title any x``."""
        if token.kind != "word" or self.is_keyword(token, *BOOLEANS, "sortby"):
            return False
        return self.peek(1).kind in ("word", "string", "/")

    def modifiers(self) -> tuple[Modifier, ...]:
        found: list[Modifier] = []
        while self.peek().kind == "/":
            self.take()
            name = self.take()
            if name.kind != "word":
                raise self.fail("expected a modifier name after '/'", name)
            if self.peek().kind == "symbol":
                comparison = self.take().text
                value = self.take()
                if value.kind not in ("word", "string"):
                    raise self.fail("expected the modifier's value", value)
                found.append(Modifier(name.text, comparison, value.text))
            else:
                found.append(Modifier(name.text))
        return tuple(found)

    def sort_keys(self, prefixes: Mapping[str, str]) -> tuple[SortKey, ...]:
        keys: list[SortKey] = []
        while self.peek().kind == "word":
            index = self.take().text
            keys.append(SortKey(index, self.modifiers(), prefixes))
        if not keys:
            raise self.fail("expected an index to sort by after sortBy")
        return tuple(keys)


def parse(text: str) -> CqlQuery:
    """The tree of a CQL query, or :class:`CqlError` with SRU's diagnostic for what is wrong."""
    if len(text) > MAX_QUERY_CHARS:
        raise CqlError(12, f"the query is longer than {MAX_QUERY_CHARS} characters", str(MAX_QUERY_CHARS))
    if not text.strip():
        raise CqlError(10, "the query is empty", "0")
    parser = _Parser(text)
    root = parser.query({})
    sort_keys: tuple[SortKey, ...] = ()
    if parser.is_keyword(parser.peek(), "sortby"):
        parser.take()
        sort_keys = parser.sort_keys(parser.top_scope)
    end = parser.peek()
    if end.kind == ")":
        raise CqlError(13, f"unexpected ')' at character {end.offset + 1}", str(end.offset))
    if end.kind != "end":
        raise parser.fail(f"expected a boolean operator (and, or, not) before {end.text!r}")
    return CqlQuery(root, sort_keys)

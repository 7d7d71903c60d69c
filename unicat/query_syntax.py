"""The search box's syntax: what a reader types, read into a tree of terms joined by AND, OR and NOT.

The web search and the JSON API take the syntax readers know from Google and Solr::

    query   ::= or
    or      ::= and (OR and)*
    and     ::= unary ([AND] unary)*          (two terms side by side: AND)
    unary   ::= NOT unary | '-' primary | primary
    primary ::= '(' or ')' | [field ':'] word | [field ':'] '"' phrase '"'

so NOT binds tighter than AND, and AND tighter than OR. The operator words are upper case only: AND, OR,
NOT, the French ET, OU, SAUF and the Dutch EN, OF, NIET. A query typed all in capitals ("LORD OF THE
RINGS", "EN ATTENDANT GODOT") is text typed with caps lock, so there only the English AND, OR and NOT
are operators. A ``-`` starts an exclusion only at the start of a word (``jean-paul`` is one word).

Nothing a reader types is an error: an unclosed quote or parenthesis, a stray ``)``, an operator
with nothing on one side and an empty ``()`` are read as plain text or dropped, and a :class:`Notice`
says which, so the reader sees what was searched. Only the limits raise :class:`BadParameter`.

This module knows the grammar only; :mod:`unicat.query` analyses the terms and builds the query model.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from unicat.errors import BadParameter

MAX_DEPTH = 20
"""Parentheses nest at most this deep."""

AND_WORDS = frozenset({"AND", "ET", "EN"})
OR_WORDS = frozenset({"OR", "OU", "OF"})
NOT_WORDS = frozenset({"NOT", "SAUF", "NIET"})
CAPITALS_OPERATORS = frozenset({"AND", "OR", "NOT"})
"""The operator words of a query typed all in capitals."""

_FIELD_RE = re.compile(r"([A-Za-z]+):(.*)", re.DOTALL)
_SEPARATORS = frozenset('()"')

NoticeKind = Literal[
    "unclosed_quote",
    "unbalanced_parenthesis",
    "dangling_operator",
    "empty_group",
    "only_exclusions",
    "nothing_to_search",
]

NOTICE_MESSAGES: dict[NoticeKind, str] = {
    "unclosed_quote": (
        "A quotation mark had no closing partner, so it was ignored and its words searched one by one."
    ),
    "unbalanced_parenthesis": "A parenthesis had no partner, so it was ignored.",
    "dangling_operator": "An operator (%(word)s) had no search term on one side, so it was ignored.",
    "empty_group": "Empty parentheses were ignored.",
    "only_exclusions": "The search only excludes words, so it shows every title without them.",
    "nothing_to_search": "The search has no words to look for, so it found nothing.",
}
"""What each notice says (English; the pages translate their own copy of these texts)."""


@dataclass(frozen=True, slots=True)
class Notice:
    """Something read otherwise than typed: ``kind`` names it, ``word`` is the operator concerned."""

    kind: NoticeKind
    word: str = ""

    @property
    def message(self) -> str:
        return NOTICE_MESSAGES[self.kind] % {"word": self.word}


@dataclass(frozen=True, slots=True)
class Term:
    """A word or a quoted phrase as typed; ``field`` is a known field name (lower case), or ``None``."""

    text: str
    field: str | None = None
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every child: terms side by side, or joined by AND."""

    children: tuple[Syntax, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """At least one child: joined by OR."""

    children: tuple[Syntax, ...]


@dataclass(frozen=True, slots=True)
class Without:
    """What ``child`` does not match: NOT or ``-``."""

    child: Syntax


Syntax = Term | AllOf | AnyOf | Without


@dataclass(frozen=True, slots=True)
class Parsed:
    """The tree (``None`` when nothing searchable was typed) and the notices, in the order found."""

    tree: Syntax | None
    notices: tuple[Notice, ...]


@dataclass(frozen=True, slots=True)
class _Token:
    # "(", ")", "-", "and", "or", "not", "term", "end"
    kind: str
    text: str = ""
    term: Term | None = None


def tokenize(text: str, fields: Collection[str]) -> tuple[list[_Token], list[Notice]]:
    """The tokens of ``text``; ``fields`` are the (lower-case) names a ``field:`` prefix may use."""
    letters = [char for char in text if char.isalpha()]
    capitals = bool(letters) and not any(char.islower() for char in letters)
    operators = CAPITALS_OPERATORS if capitals else AND_WORDS | OR_WORDS | NOT_WORDS
    found: list[_Token] = []
    notices: list[Notice] = []
    field: str | None = None  # set by ``field:`` just before a quote
    position, length = 0, len(text)
    while position < length:
        char = text[position]
        if char.isspace():
            position += 1
        elif char in "()":
            found.append(_Token(char))
            position += 1
        elif char == '"':
            end = text.find('"', position + 1)
            if end < 0:
                # Read on as if the quote were a space: the words after it still search.
                notices.append(Notice("unclosed_quote"))
                position += 1
                continue
            found.append(_Token("term", term=Term(text[position + 1 : end], field, quoted=True)))
            position = end + 1
        elif char == "-" and position + 1 < length and not text[position + 1].isspace():
            found.append(_Token("-"))
            position += 1
        else:
            end = position
            while end < length and not text[end].isspace() and text[end] not in _SEPARATORS:
                end += 1
            word = text[position:end]
            position = end
            match = _FIELD_RE.fullmatch(word)
            if match and match.group(1).lower() in fields:
                if match.group(2):
                    found.append(_Token("term", term=Term(match.group(2), match.group(1).lower())))
                    continue
                if position < length and text[position] == '"' and text.find('"', position + 1) > 0:
                    field = match.group(1).lower()
                    continue
            if word in operators:
                kind = "and" if word in AND_WORDS else "or" if word in OR_WORDS else "not"
                found.append(_Token(kind, word))
            else:
                # A plain word, or an unknown ``prefix:`` (a title with a colon): searched as typed.
                found.append(_Token("term", term=Term(word)))
            continue
        field = None
    found.append(_Token("end"))
    return found, notices


class _Parser:
    """Recursive descent over the tokens; the only recursion is on parentheses, which MAX_DEPTH bounds."""

    def __init__(self, tokens: list[_Token], notices: list[Notice]) -> None:
        self.tokens = tokens
        self.position = 0
        self.depth = 0
        self.notices = notices

    def peek(self) -> _Token:
        return self.tokens[self.position]

    def take(self) -> _Token:
        token = self.tokens[self.position]
        if token.kind != "end":
            self.position += 1
        return token

    def starts_operand(self) -> bool:
        return self.peek().kind in ("term", "(", "-", "not")

    def dangling(self, token: _Token) -> None:
        self.notices.append(Notice("dangling_operator", token.text))

    def query(self) -> Syntax | None:
        """The whole query; a stray ``)`` is skipped with a notice and the reading goes on."""
        parts = [self.or_()]
        while self.peek().kind == ")":
            self.take()
            self.notices.append(Notice("unbalanced_parenthesis"))
            parts.append(self.or_())
        return _all_of(parts)

    def or_(self) -> Syntax | None:
        choices = [self.and_()]
        while self.peek().kind == "or":
            operator = self.take()
            right = self.and_()
            if right is None or all(choice is None for choice in choices):
                self.dangling(operator)
            choices.append(right)
        kept = tuple(choice for choice in choices if choice is not None)
        if len(kept) > 1:
            return AnyOf(kept)
        return kept[0] if kept else None

    def and_(self) -> Syntax | None:
        parts: list[Syntax | None] = []
        waiting: _Token | None = None  # an AND not yet followed by its right-hand term
        while True:
            token = self.peek()
            if token.kind == "and":
                self.take()
                if waiting is not None or not any(part is not None for part in parts):
                    self.dangling(token)
                else:
                    waiting = token
            elif self.starts_operand():
                parts.append(self.unary())
                waiting = None
            else:
                break
        if waiting is not None:
            self.dangling(waiting)
        return _all_of(parts)

    def unary(self) -> Syntax | None:
        negations: list[_Token] = []
        while self.peek().kind in ("not", "-"):
            negations.append(self.take())
        if self.peek().kind not in ("term", "("):
            if any(token.kind == "not" for token in negations):
                self.dangling(next(token for token in negations if token.kind == "not"))
            return None
        child = self.primary()
        # NOT NOT x is x: an odd number of negations is one, so a long run of them nests nothing.
        return Without(child) if child is not None and len(negations) % 2 else child

    def primary(self) -> Syntax | None:
        token = self.take()
        if token.term is not None:
            return token.term
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise BadParameter("q", f"the query nests parentheses more than {MAX_DEPTH} deep")
        inside = self.or_()
        self.depth -= 1
        if self.peek().kind == ")":
            self.take()
            if inside is None:
                self.notices.append(Notice("empty_group"))
        else:
            self.notices.append(Notice("unbalanced_parenthesis"))
        return inside


def _all_of(parts: list[Syntax | None]) -> Syntax | None:
    kept = tuple(part for part in parts if part is not None)
    if len(kept) > 1:
        return AllOf(kept)
    return kept[0] if kept else None


def parse(text: str, fields: Collection[str]) -> Parsed:
    """The tree of ``text`` and what was read otherwise than typed; only a limit raises
    :class:`BadParameter`. ``fields`` are the lower-case names ``field:`` may use."""
    tokens, notices = tokenize(text, fields)
    parser = _Parser(tokens, notices)
    tree = parser.query()
    return Parsed(tree, tuple(dict.fromkeys(parser.notices)))

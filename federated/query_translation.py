"""The reader's search as the query a live target understands: CQL for SRU, PQF (Bib-1) for Z39.50.

The translation reads the search box's text as the reader typed it (:mod:`unicat.query_syntax`), not
the analysed tokens the union index is searched with: a remote catalogue folds, stems and normalises
in its own way, and our tokens (folded, ISBN-13s) would miss there what the typed words find. So a
term goes out as typed, to the index its field maps to (``title:war`` → ``dc.title="war"``), with
its trailing ``*`` as truncation, its quotes as a phrase, and AND, OR, NOT, ``-word`` and
parentheses as the language's booleans.

Only the year range (``year_from``/``year_to``) is sent beside the text, when the target's map has a
``year`` index. The other filters (language, format, held_at, tags…) are not: targets name them
differently or not at all, so the live records are read like harvested ones and filtered locally.

The indexes come from ``mappings/live_queries.toml`` (its tables ``[cql]`` and ``[pqf]``), which a
target's own query map overrides field by field; a field mapped by neither is searched as ``any``.
A query with no positive part (``-word`` alone) is sent as the table's ``all`` query without those
words; a query with no text and no year is ``all`` alone. Text in which nothing is left to search
(only punctuation) raises :class:`NothingToSearch`: the union search finds nothing for it either.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from mappings import MAPPINGS_DIR
from unicat.analysis import tokens
from unicat.errors import BadParameter, ConfigError
from unicat.identifiers import normalize_isbn, normalize_issn
from unicat.live_search import QUERY_MAP_FIELDS, LiveTarget
from unicat.query import FIELD_ALIASES, SearchQuery
from unicat.query_syntax import AllOf, AnyOf, Syntax, Term, Without, parse
from unicat.tomlfile import read_toml

DEFAULTS_FILE = MAPPINGS_DIR / "live_queries.toml"
LANGUAGES = ("cql", "pqf")
EXTRA_ENTRIES = ("issn", "all")
"""Entries of the defaults' tables beside the search fields: the ISSN index and the match-all query."""

_CQL_INDEX_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z][A-Za-z0-9_-]*)?$")
_PQF_ATTRIBUTE_RE = re.compile(r"^([0-9]+)=([0-9]+|[A-Za-z_][A-Za-z0-9_-]*)$")
# Characters a CQL term escapes with a backslash to mean themselves (CQL 1.2, "Masking" and quoting).
_CQL_ESCAPED = frozenset('"\\*?^')
_ISBN_SEPARATORS = re.compile(r"[\s-]")


class NothingToSearch(Exception):
    """The reader's text holds no word a target could search for (only punctuation): no target is
    asked, as the union search finds nothing for it."""


@dataclass(frozen=True, slots=True)
class QueryDefaults:
    """The default index of each search field (and ``issn``, ``all``) per query language."""

    cql: Mapping[str, str]
    pqf: Mapping[str, str]


def load_defaults(path: Path = DEFAULTS_FILE) -> QueryDefaults:
    """The defaults file's two tables, checked, or :class:`ConfigError` naming what to fix."""
    document = read_toml(path, "the live query defaults")
    tables: dict[str, dict[str, str]] = {}
    for language in LANGUAGES:
        table = document.get(language)
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: add a [{language}] table (the indexes of the search fields)")
        unknown = sorted(set(table) - {*QUERY_MAP_FIELDS, *EXTRA_ENTRIES})
        if unknown:
            known = ", ".join((*QUERY_MAP_FIELDS, *EXTRA_ENTRIES))
            raise ConfigError(f"{path}: [{language}] has unknown entry {unknown[0]!r}; use {known}")
        for required in ("any", "all"):
            if not isinstance(table.get(required), str) or not table[required].strip():
                raise ConfigError(f"{path}: [{language}] needs {required!r}")
        for name, value in table.items():
            if not isinstance(value, str):
                raise ConfigError(f"{path}: [{language}] {name} must be a string")
            if name != "all":
                try:
                    (check_cql_index if language == "cql" else pqf_attributes)(value)
                except BadParameter as exc:
                    raise ConfigError(f"{path}: [{language}] {name}: {exc.message}") from None
        tables[language] = {name: value.strip() for name, value in table.items()}
    return QueryDefaults(cql=tables["cql"], pqf=tables["pqf"])


@functools.cache
def default_maps() -> QueryDefaults:
    """The shipped defaults, read once."""
    return load_defaults()


def check_cql_index(value: str) -> str:
    """A CQL index name (``dc.title``, ``cql.serverChoice``, ``title``), or :class:`BadParameter`.

    Only a name: a map value is written into the query, so it must not carry a relation or a boolean.
    """
    name = value.strip()
    if not _CQL_INDEX_RE.match(name):
        raise BadParameter("map", f"{value!r} is not a CQL index name; give one like dc.title or bath.isbn")
    return name


def pqf_attributes(value: str) -> tuple[tuple[str, str], ...]:
    """Bib-1 attributes written ``1=4 4=1`` or ``@attr 1=4 @attr 4=1``, as (type, value) pairs, or
    :class:`BadParameter` showing the form."""
    # "@attr" is optional before each pair, but never alone.
    words = re.sub(r"@attr\s+(?=\S)", "", value).split()
    pairs = [_PQF_ATTRIBUTE_RE.match(word) for word in words]
    if not words or not all(pairs):
        raise BadParameter(
            "map", f"{value!r} is not a list of Bib-1 attributes; give them like 1=4 or @attr 1=4 @attr 4=1"
        )
    return tuple((match.group(1), match.group(2)) for match in pairs if match)


# The query in a form both languages render: terms, and booleans whose NOT always has a positive side.


@dataclass(frozen=True, slots=True)
class _Leaf:
    """A term as typed: ``field`` is a search field or ``issn``; ``truncated``: it ended with ``*``."""

    field: str
    text: str
    phrase: bool
    truncated: bool


@dataclass(frozen=True, slots=True)
class _Year:
    relation: str  # "=", ">=" or "<="
    year: int


@dataclass(frozen=True, slots=True)
class _Everything:
    pass


@dataclass(frozen=True, slots=True)
class _Or:
    children: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _And:
    """Every one of ``positive`` and none of ``negative``; ``positive`` is never empty."""

    positive: tuple[_Node, ...]
    negative: tuple[_Node, ...] = ()


_Node = _Leaf | _Year | _Everything | _Or | _And


def _leaf(term: Term) -> _Leaf | None:
    """The term as it goes out, or ``None`` when it has no letter or digit (Unicat drops it too)."""
    field = FIELD_ALIASES.get(term.field or "any", "any")
    if term.quoted:
        text = " ".join(term.text.split())
        return _Leaf(field, text, phrase=" " in text, truncated=False) if tokens(text) else None
    truncated = term.text.endswith("*")
    text = term.text.rstrip("*")
    if not tokens(text):
        return None
    if term.field == "issn" or (field == "ident" and normalize_issn(text) and not normalize_isbn(text)):
        field = "issn"
    elif field == "any" and normalize_isbn(text):
        field = "ident"  # an ISBN typed alone: the union search looks it up as an identifier too
    if field == "ident" and normalize_isbn(text):
        # Catalogues index 020 $a as MARC writes it, without hyphens (Zebra's ISBN index among them):
        # "2-07-036822-X" is sent as 207036822X, its 10 or 13 characters kept as typed.
        text = _ISBN_SEPARATORS.sub("", text)
    return _Leaf(field, text, phrase=False, truncated=truncated)


def _node(syntax: Syntax) -> _Node | None:
    if isinstance(syntax, Term):
        return _leaf(syntax)
    if isinstance(syntax, Without):
        child = _node(syntax.child)
        return _And((_Everything(),), (child,)) if child is not None else None
    children = [node for node in (_node(part) for part in syntax.children) if node is not None]
    if isinstance(syntax, AnyOf):
        kept = tuple(
            child for node in children for child in (node.children if isinstance(node, _Or) else (node,))
        )
        return (_Or(kept) if len(kept) > 1 else kept[0]) if kept else None
    assert isinstance(syntax, AllOf)
    return _and(children)


def _and(children: list[_Node]) -> _Node | None:
    """The children ANDed; a child that excludes (``-word``) joins the NOT side."""
    positive: list[_Node] = []
    negative: list[_Node] = []
    for child in children:
        if isinstance(child, _And):
            positive.extend(part for part in child.positive if not isinstance(part, _Everything))
            negative.extend(child.negative)
        else:
            positive.append(child)
    if not positive and not negative:
        return None
    if not negative and len(positive) == 1:
        return positive[0]
    return _And(tuple(positive) or (_Everything(),), tuple(negative))


def _query_tree(query: SearchQuery, has_year: bool) -> _Node:
    """The whole query: the text's tree ANDed with the year range (when the target has a year index)."""
    text = "".join(char for char in query.text if char.isprintable()).strip()
    tree = None
    if text:
        parsed = parse(text, FIELD_ALIASES.keys())
        tree = _node(parsed.tree) if parsed.tree is not None else None
        if tree is None:
            raise NothingToSearch(f"the search {text[:80]!r} has no word to look for")
    years: list[_Node] = []
    if has_year:
        low, high = query.year_from, query.year_to
        if low is not None and low == high:
            years.append(_Year("=", low))
        else:
            years.extend(
                _Year(relation, year) for relation, year in ((">=", low), ("<=", high)) if year is not None
            )
    if not years:
        return tree if tree is not None else _Everything()
    return _and([*([tree] if tree is not None else []), *years]) or _Everything()


def _index(target: LiveTarget, table: Mapping[str, str], field: str) -> str:
    """The target's index for ``field``: its own map's, else the defaults', else ``any``'s."""
    own = {name: value.strip() for name, value in target.query_map.items() if value.strip()}
    if field == "issn":
        if "ident" in own:
            return own["ident"]
        field = "issn" if "issn" in table else "ident"
    return own.get(field) or table.get(field) or own.get("any") or table["any"]


def _render(
    node: _Node, leaf: Callable[[_Node], str], everything: str, join: Callable[[str, list[str]], str]
) -> str:
    if isinstance(node, _Everything):
        return everything
    if isinstance(node, _Leaf | _Year):
        return leaf(node)
    if isinstance(node, _Or):
        return join("or", [_render(child, leaf, everything, join) for child in node.children])
    text = join("and", [_render(child, leaf, everything, join) for child in node.positive])
    for excluded in node.negative:
        text = join("not", [text, _render(excluded, leaf, everything, join)])
    return text


def to_cql(query: SearchQuery, target: LiveTarget, defaults: QueryDefaults | None = None) -> str:
    """The CQL 1.2 query of ``query`` for the SRU target ``target`` (see the module's docstring).

    Every term is quoted, so no word of the reader's is read as a boolean or a relation; ``"`` and
    ``\\`` are escaped, and so are ``*``, ``?`` and ``^`` except a word's trailing ``*``, which
    masks. Booleans are parenthesised: CQL reads them left to right with one precedence.
    """
    table = (defaults or default_maps()).cql

    def clause(node: _Node) -> str:
        if isinstance(node, _Year):
            return f"{check_cql_index(_index(target, table, 'year'))}{node.relation}{node.year}"
        assert isinstance(node, _Leaf)
        term = "".join(f"\\{char}" if char in _CQL_ESCAPED else char for char in node.text)
        return f'{check_cql_index(_index(target, table, node.field))}="{term}{"*" if node.truncated else ""}"'

    def join(operator: str, parts: list[str]) -> str:
        return f" {operator} ".join(part if _simple_cql(part) else f"({part})" for part in parts)

    tree = _query_tree(query, has_year=bool(target.query_map.get("year") or table.get("year")))
    return _render(tree, clause, table["all"], join)


def _simple_cql(text: str) -> bool:
    """Whether ``text`` is one clause (no boolean outside quotes), so needs no parentheses."""
    outside = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    return not re.search(r"\s(and|or|not)\s", outside)


def to_pqf(query: SearchQuery, target: LiveTarget, defaults: QueryDefaults | None = None) -> str:
    """The PQF (Bib-1) query of ``query`` for the Z39.50 target ``target`` (see the module's docstring).

    A term goes with its field's use attribute, ``@attr 4=1`` (phrase) when quoted words are several
    or ``@attr 4=2`` (word) otherwise, and ``@attr 5=1`` (right truncation) for a trailing ``*``; an
    attribute the target's map sets itself wins. Terms are quoted with ``"``, ``"`` and ``\\`` escaped
    (YAZ's PQF rules). A year goes as ``@attr 1=31 @attr 2=4 1990`` (2=4 ≥, 2=2 ≤, 2=3 =).
    """
    table = (defaults or default_maps()).pqf

    def clause(node: _Node) -> str:
        if isinstance(node, _Year):
            relation = {">=": "4", "<=": "2", "=": "3"}[node.relation]
            return _attributes(_index(target, table, "year"), (("2", relation),)) + f" {node.year}"
        assert isinstance(node, _Leaf)
        added = [("4", "1" if node.phrase else "2")]
        if node.truncated:
            added.append(("5", "1"))
        escaped = node.text.replace("\\", "\\\\").replace('"', '\\"')
        return _attributes(_index(target, table, node.field), tuple(added)) + f' "{escaped}"'

    def join(operator: str, parts: list[str]) -> str:
        text = parts[0]
        for part in parts[1:]:
            text = f"@{operator} {text} {part}"
        return text

    tree = _query_tree(query, has_year=bool(target.query_map.get("year") or table.get("year")))
    return _render(tree, clause, table["all"], join)


def _attributes(mapped: str, added: tuple[tuple[str, str], ...]) -> str:
    """``@attr`` list of the map's attributes and the translation's, the map's winning per type."""
    own = pqf_attributes(mapped)
    types = {kind for kind, _ in own}
    pairs = [*own, *(pair for pair in added if pair[0] not in types)]
    return " ".join(f"@attr {kind}={value}" for kind, value in pairs)

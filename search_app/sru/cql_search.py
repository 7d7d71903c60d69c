"""A CQL tree (:mod:`search_app.sru.cql`) as the query model: context sets, indexes, relations, masking, sort.

Context sets and their indexes (names are case-insensitive; an unqualified index is looked up in
``dc``, then ``bath``, ``cql``, ``unicat``, unless the query assigns a default set with ``>"uri"``):

- ``cql``: ``serverChoice`` (a bare term), ``anywhere``/``allIndexes``/``keywords`` (every text
  field), ``allRecords`` (everything; its term is ignored); ``bath.any`` (every text field);
- every other index is declared with the field it searches in :mod:`unicat.fields`: ``dc`` (title,
  creator, subject, identifier, date, language, type…), ``bath`` (title, name, isbn, issn,
  possessingInstitution…) and ``unicat`` (ours, :data:`UNICAT_SET`: library, format, language, series,
  year…). A text field's indexes search its words, an identifier field's its identifiers, a facet's its
  values as codes (or years).

Relations on text: ``=`` (one word: that word; several: adjacent, as ``adj``), ``adj`` and ``==``/
``exact`` (the words adjacent and in order: the index holds words, not whole values), ``all``,
``any``, ``<>`` (not). On dates: ``=``, ``==``, ``<``, ``<=``, ``>``, ``>=``, ``<>``, ``any`` (one of
several years), ``within "1990 1999"``. On codes (a facet's values): ``=``/``==``/``exact``
(the whole term is one code), ``any`` (one of several), ``<>``. ``word*`` is a prefix; masking
elsewhere, ``?`` and ``^`` are refused with their diagnostics, ``\\*`` is a literal star.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from search_app.sru.cql import BooleanClause, CqlError, CqlQuery, Modifier, Node, SearchClause, SortKey
from unicat.analysis import tokens
from unicat.fields import FACET, FACETS, TEXT_FIELDS, Facet, TextField
from unicat.identifiers import normalize_isbn
from unicat.query import (
    And,
    Clause,
    Expression,
    MatchAll,
    Not,
    Or,
    SortOrder,
    ValueFilter,
    YearRange,
    identifier_terms,
)

CQL_SET = "info:srw/cql-context-set/1/cql-v1.2"
DC_SET = "info:srw/cql-context-set/1/dc-v1.1"
BATH_SET = "http://zing.z3950.org/cql/bath/2.0/"
UNICAT_SET = "info:unicat/cql-context-set/1.0"
CONTEXT_SETS: dict[str, str] = {"cql": CQL_SET, "dc": DC_SET, "bath": BATH_SET, "unicat": UNICAT_SET}
"""Short name → identifier of every context set we answer, as explain lists them."""
_SET_ALIASES = {
    "info:srw/cql-context-set/1/cql-v1.1": "cql",
    "info:srw/cql-context-set/1/cql-v1.2": "cql",
    "info:srw/cql-context-set/1/dc-v1.1": "dc",
    "http://zing.z3950.org/cql/bath/2.0/": "bath",
    "info:srw/cql-context-set/15/bath-v2.0": "bath",
    UNICAT_SET: "unicat",
}
UNQUALIFIED_ORDER = ("dc", "bath", "cql", "unicat")


@dataclass(frozen=True, slots=True)
class Index:
    """What an index searches: ``kind`` is ``text`` (``field`` one of the search fields), ``ident``,
    ``year``, ``code`` (``field`` a filter field) or ``all``."""

    kind: str
    field: str
    title: str


def _text(field: str, title: str) -> Index:
    return Index("text", field, title)


def _field_indexes() -> dict[str, dict[str, Index]]:
    """Every context set's indexes: the protocol's own (``cql.*``, ``bath.any``) and those the field
    registry declares for its text fields and facets (:mod:`unicat.fields`)."""
    indexes: dict[str, dict[str, Index]] = {
        "cql": {
            "serverchoice": _text("any", "Anywhere (the server's choice)"),
            "anywhere": _text("any", "Anywhere"),
            "allindexes": _text("any", "All indexes"),
            "keywords": _text("any", "Keywords"),
            "allrecords": Index("all", "", "Every record"),
        },
        "dc": {},
        "bath": {"any": _text("any", "Anywhere")},
        "unicat": {},
    }
    for text in TEXT_FIELDS:
        kind = "ident" if text.identifiers else "text"
        for name in text.cql:
            indexes[name.context][name.index] = Index(kind, text.name, name.title)
    for facet in FACETS:
        kind = "year" if facet.filter == "years" else "code"
        for name in facet.cql:
            indexes[name.context][name.index] = Index(kind, facet.name, name.title)
    return indexes


INDEXES: dict[str, dict[str, Index]] = _field_indexes()
"""Context set → index name (lower case) → what it searches; explain lists exactly these."""

_SEARCHED: tuple[TextField | Facet, ...] = (*TEXT_FIELDS, *FACETS)
INDEX_NAMES: dict[tuple[str, str], str] = {
    ("cql", "serverchoice"): "serverChoice",
    ("cql", "allindexes"): "allIndexes",
    ("cql", "allrecords"): "allRecords",
    **{
        (name.context, name.index): name.spelled
        for field in _SEARCHED
        for name in field.cql
        if name.spelled != name.index
    },
}
"""The spelling explain gives to index names that are not all lower case."""

SORTABLE: dict[str, str] = {
    name.index: field.name for field in _SEARCHED if field.sortable for name in field.cql
}
"""The indexes ``sortBy`` takes (by name, whatever their set) → the field they sort by (``title`` or
``year``)."""

TEXT_RELATIONS = ("=", "==", "exact", "adj", "all", "any", "<>")
YEAR_RELATIONS = ("=", "==", "<", "<=", ">", ">=", "<>", "any", "within")
CODE_RELATIONS = ("=", "==", "exact", "any", "<>")
KNOWN_RELATIONS = frozenset({*TEXT_RELATIONS, *YEAR_RELATIONS, "encloses", "scr"})
# Relation modifiers that change nothing here: text is already folded and ranked.
_HARMLESS_MODIFIERS = frozenset({"ignorecase", "ignoreaccents", "relevant", "masked", "word", "locale"})
MAX_LEAVES = 64
MAX_TERM_CHARS = 500
_YEAR_RE = re.compile(r"^[0-9]{1,4}$")
_YEAR_PAIR_RE = re.compile(r"^\s*([0-9]{1,4})\s*(?:-|\s)\s*([0-9]{1,4})\s*$")


@dataclass(frozen=True, slots=True)
class CqlSearch:
    """What a CQL query asks of the engine: its match set and its order."""

    expression: Expression
    sort: SortOrder = "relevance"


def translate(query: CqlQuery) -> CqlSearch:
    """The query model of a parsed query, or :class:`CqlError` with the diagnostic of what we lack."""
    counter = [0]
    expression = _node(query.root, counter)
    return CqlSearch(expression, sort_order(query.sort_keys))


def _node(node: Node, counter: list[int]) -> Expression:
    if isinstance(node, SearchClause):
        counter[0] += 1
        if counter[0] > MAX_LEAVES:
            raise CqlError(38, f"the query has more than {MAX_LEAVES} search clauses", str(MAX_LEAVES))
        return search_clause(node)
    return _boolean(node, counter)


def _boolean(node: BooleanClause, counter: list[int]) -> Expression:
    if node.operator == "prox":
        raise CqlError(39, "proximity (prox) is not supported; use adj for adjacent words", "prox")
    if node.modifiers:
        raise CqlError(
            46, f"boolean modifiers are not supported: /{node.modifiers[0].name}", node.modifiers[0].name
        )
    left = _node(node.left, counter)
    right = _node(node.right, counter)
    if node.operator == "or":
        return Or((*_flatten(left, Or), *_flatten(right, Or)))
    if node.operator == "not":
        return And((*_flatten(left, And), Not(right)))
    return And((*_flatten(left, And), *_flatten(right, And)))


def _flatten(expression: Expression, kind: type[And] | type[Or]) -> tuple[Expression, ...]:
    """``(a and b) and c`` as one And of three: the same match, a simpler query for both engines."""
    if isinstance(expression, kind):
        return expression.children
    return (expression,)


def resolve_index(name: str | None, prefixes: Mapping[str, str]) -> tuple[str, str, Index]:
    """(context set, index name, what it searches) of an index as written; 15 or 16 when unknown."""
    if name is None:
        return "cql", "serverchoice", INDEXES["cql"]["serverchoice"]
    prefix, dot, bare = name.rpartition(".")
    bare = bare.lower()
    if dot:
        context = _context_of(prefix.lower(), prefixes)
        index = INDEXES[context].get(bare)
        if index is None:
            known = ", ".join(f"{context}.{INDEX_NAMES.get((context, n), n)}" for n in INDEXES[context])
            raise CqlError(16, f"unsupported index {name!r}; {context} has {known}", name)
        return context, bare, index
    default = prefixes.get("")
    if default is not None:
        context = _set_of_uri(default)
        index = INDEXES[context].get(bare)
        if index is None:
            raise CqlError(16, f"unsupported index {name!r} in the default context set {default}", name)
        return context, bare, index
    for context in UNQUALIFIED_ORDER:
        found = INDEXES[context].get(bare)
        if found is not None:
            return context, bare, found
    raise CqlError(16, f"unsupported index {name!r}; explain lists the indexes", name)


def _context_of(prefix: str, prefixes: Mapping[str, str]) -> str:
    if prefix in prefixes:
        return _set_of_uri(prefixes[prefix])
    if prefix in CONTEXT_SETS:
        return prefix
    raise CqlError(15, f"unsupported context set {prefix!r}; known: {', '.join(CONTEXT_SETS)}", prefix)


def _set_of_uri(uri: str) -> str:
    context = _SET_ALIASES.get(uri) or (uri.lower() if uri.lower() in CONTEXT_SETS else None)
    if context is None:
        raise CqlError(15, f"unsupported context set {uri!r}; known: {', '.join(CONTEXT_SETS.values())}", uri)
    return context


def search_clause(clause: SearchClause) -> Expression:
    """One ``index relation term`` as the query model."""
    _, _, index = resolve_index(clause.index, clause.prefixes)
    relation = clause.relation.name.lower().removeprefix("cql.")
    if relation not in KNOWN_RELATIONS:
        raise CqlError(19, f"unsupported relation {clause.relation.name!r}", clause.relation.name)
    _check_modifiers(clause.relation.modifiers)
    if len(clause.term) > MAX_TERM_CHARS:
        raise CqlError(23, f"the term is longer than {MAX_TERM_CHARS} characters", str(MAX_TERM_CHARS))
    if index.kind == "all":
        return MatchAll()
    allowed = {"text": TEXT_RELATIONS, "ident": TEXT_RELATIONS, "year": YEAR_RELATIONS}.get(
        index.kind, CODE_RELATIONS
    )
    if relation not in allowed:
        name = clause.index or "cql.serverChoice"
        raise CqlError(
            22,
            f"the relation {clause.relation.name!r} does not apply to {name}; it takes {' '.join(allowed)}",
            f"{clause.relation.name} {name}",
        )
    if relation == "<>":
        return Not(_positive(index, "=", clause.term))
    return _positive(index, relation, clause.term)


def _check_modifiers(modifiers: tuple[Modifier, ...]) -> None:
    for modifier in modifiers:
        if modifier.name.lower().removeprefix("cql.") not in _HARMLESS_MODIFIERS:
            raise CqlError(20, f"unsupported relation modifier /{modifier.name}", modifier.name)


def _positive(index: Index, relation: str, term: str) -> Expression:
    if index.kind == "year":
        return _year(relation, term)
    if index.kind == "code":
        return _code(index.field, relation, term)
    return _text_clause(index, relation, term)


def _year(relation: str, term: str) -> Expression:
    text = term.strip()
    if relation == "within":
        pair = _YEAR_PAIR_RE.match(text)
        if not pair or int(pair.group(1)) > int(pair.group(2)):
            raise CqlError(36, f'within takes two years, earliest first ("1990 1999"), got {term!r}', term)
        return YearRange(int(pair.group(1)), int(pair.group(2)))
    if relation == "any":
        return Or(tuple(YearRange(year, year) for year in (_one_year(word) for word in text.split())))
    year = _one_year(text)
    bounds = {
        "=": (year, year),
        "==": (year, year),
        "<": (None, year - 1),
        "<=": (None, year),
        ">": (year + 1, None),
        ">=": (year, None),
    }[relation]
    return YearRange(*bounds)


def _one_year(text: str) -> int:
    if not _YEAR_RE.match(text):
        raise CqlError(36, f"a date here is a year of up to four digits (1995), got {text!r}", text)
    return int(text)


def _code(field: str, relation: str, term: str) -> Expression:
    values = tuple(term.split()) if relation == "any" else (term.strip(),)
    if not values or not all(values):
        raise CqlError(27, "the term is empty", "")
    if FACET[field].folded:
        values = tuple(value.lower() for value in values)
    return ValueFilter(field, values)


@dataclass(frozen=True, slots=True)
class _Word:
    text: str
    prefix: bool


def _words(term: str) -> list[_Word]:
    """The words of a term with their masking: ``word*`` is a prefix, ``\\x`` the character x;
    any other masking or anchoring is a diagnostic."""
    found: list[_Word] = []
    for raw in term.split():
        chars: list[str] = []
        prefix = False
        position = 0
        while position < len(raw):
            char = raw[position]
            if char == "\\" and position + 1 < len(raw):
                chars.append(raw[position + 1])
                position += 2
                continue
            if char == "*" and position == len(raw) - 1:
                prefix = True
            elif char in "*?":
                raise CqlError(
                    28, f"masking with {char!r} is supported only as * at the end of a word: {raw!r}", raw
                )
            elif char == "^":
                raise CqlError(31, "anchoring (^) is not supported", raw)
            else:
                chars.append(char)
            position += 1
        text = "".join(chars)
        if prefix and not tokens(text):
            raise CqlError(29, f"a masked word needs at least one letter or digit before *: {raw!r}", raw)
        found.append(_Word(text, prefix))
    return found


def _text_clause(index: Index, relation: str, term: str) -> Expression:
    words = _words(term)
    if not words:
        raise CqlError(27, "the term is empty", "")
    phrase = relation in ("adj", "==", "exact") or (relation == "=" and len(words) > 1)
    if phrase:
        if any(word.prefix for word in words[:-1]):
            raise CqlError(28, "in a phrase only the last word may end with *", term)
        if index.kind == "ident":
            whole = normalize_isbn(" ".join(word.text for word in words))
            if whole:
                return Clause("ident", (whole,))
        analysed = [term for word in words for term in _word_terms(index, word.text)]
        return _clause(index.field, tuple(analysed), phrase=True, prefix=words[-1].prefix)
    leaves = [_word_clause(index, word) for word in words]
    if len(leaves) == 1:
        return leaves[0]
    return Or(tuple(leaves)) if relation == "any" else And(tuple(leaves))


def _word_terms(index: Index, word: str) -> tuple[str, ...]:
    return identifier_terms(word) if index.kind == "ident" else tuple(tokens(word))


def _word_clause(index: Index, word: _Word) -> Clause:
    """One word: a typed ISBN anywhere is looked up as an identifier, as the web search does."""
    if index.field == "any" and not word.prefix and normalize_isbn(word.text):
        return Clause("ident", identifier_terms(word.text))
    terms = _word_terms(index, word.text)
    return _clause(index.field, terms, phrase=len(terms) > 1, prefix=word.prefix)


def _clause(field: str, terms: tuple[str, ...], *, phrase: bool, prefix: bool) -> Clause:
    if not terms:
        # Only punctuation: nothing an index holds can match it; say so rather than match everything.
        raise CqlError(27, "the term has no letters or digits to search for", "")
    return Clause(field, terms, phrase=phrase and len(terms) > 1, prefix=prefix)


def sort_order(keys: tuple[SortKey, ...]) -> SortOrder:
    """The engine order of CQL 2.0 ``sortBy`` keys: one key, ``dc.title`` (ascending) or ``dc.date``
    (either way); none is relevance."""
    if not keys:
        return "relevance"
    if len(keys) > 1:
        raise CqlError(84, "only one sort key is supported", "1")
    key = keys[0]
    _, name, _ = resolve_index(key.index, key.prefixes)
    descending = False
    for modifier in key.modifiers:
        descending = _sort_modifier(modifier.name.lower().removeprefix("sort."), descending)
    return sort_by(name, descending, key.index)


def sort_by(name: str, descending: bool, written: str) -> SortOrder:
    """The engine order for sorting by index ``name`` (as resolved); 88 or 90 when we cannot."""
    target = SORTABLE.get(name)
    if target is None:
        raise CqlError(88, f"cannot sort by {written!r}; sort by dc.title or dc.date", written)
    if target == "title":
        if descending:
            raise CqlError(90, "titles sort ascending only", "descending")
        return "title"
    return "year_desc" if descending else "year_asc"


def _sort_modifier(name: str, descending: bool) -> bool:
    if name in ("ascending", "descending"):
        return name == "descending"
    if name in ("ignorecase", "ignoreaccents"):
        return descending
    if name in ("respectcase", "respectaccents"):
        raise CqlError(91, "sorting always ignores case and accents", name)
    if name.startswith("missing"):
        raise CqlError(92, "records without the value always sort last", name)
    raise CqlError(82, f"unsupported sort modifier {name!r}", name)

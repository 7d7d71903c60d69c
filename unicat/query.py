"""The query model: what a search asks, independent of the engine and of the protocol that asked.

The web search, the JSON API and SRU's CQL (:mod:`search_app.sru.cql`) all build a :class:`SearchQuery`;
each engine turns it into its own query language. Text is analysed here with :mod:`unicat.analysis`,
so both engines receive the same tokens.

The web search only ANDs: its ``clauses`` all must match. CQL has OR, NOT and parentheses, so a query
may also carry an ``expression``: a tree of :class:`And`, :class:`Or` and :class:`Not` over leaves
(:class:`Clause`, :class:`YearRange`, :class:`ValueFilter`, :class:`MatchAll`), ANDed with the
clauses and filters. Each engine compiles the tree to its own booleans, so OR and NOT are real.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from unicat.analysis import tokens
from unicat.errors import BadParameter
from unicat.fields import FACETS, TEXT_FIELDS
from unicat.identifiers import normalize_isbn, normalize_issn
from unicat.model import UnionRecord
from unicat.readers import normalise_tag
from unicat.settings import Settings

SEARCH_FIELDS: tuple[str, ...] = ("any", *(field.name for field in TEXT_FIELDS if field.prefixes))
"""Fields a clause can target; ``any`` covers them all. ``ident`` holds ISBN, ISSN, system numbers."""

FIELD_ALIASES: dict[str, str] = {
    "any": "any",
    **{prefix: field.name for field in TEXT_FIELDS for prefix in field.prefixes},
}
"""What a query writes before ``:`` → the field it searches (:data:`unicat.fields.TEXT_FIELDS`)."""

FACET_FIELDS: tuple[str, ...] = tuple(facet.name for facet in FACETS)
"""Facets every engine computes; ``year`` is bucketed by decade (``1990-1999``); ``subject`` counts
main subject headings (a heading without its subdivisions, see :func:`subject_facet_values`)."""

FILTER_FIELDS: tuple[str, ...] = tuple(facet.name for facet in FACETS if facet.filter == "values")
"""Facets that filter by exact value (repeatable parameters); ``year`` filters by range."""

TAG_FILTER = "tag"
"""Readers' tags filter a search too (``tag=classic``, repeatable: every tag must be on the record).
They are not in the union index: the web app turns them into the ids of the tagged records
(:attr:`SearchQuery.ids`) before the engine runs the search."""
EDITIONS_FILTER = "editions_of"
"""The other editions of one record (``editions_of=<union id>``: the record page's link to the editions
it does not list). Not in the union index either: the web app turns it into the record's editions' ids."""
PARAM_FILTERS: tuple[str, ...] = (*FILTER_FIELDS, TAG_FILTER, EDITIONS_FILTER)
MAX_ID_FILTER = 10_000
"""Ids a search can be limited to at most (the records carrying a tag)."""

SortOrder = Literal["relevance", "year_desc", "year_asc", "title"]
SORT_ORDERS: tuple[SortOrder, ...] = ("relevance", "year_desc", "year_asc", "title")

MAX_QUERY_LENGTH = 1000
MAX_CLAUSES = 32
MAX_PAGE = 10_000
_CLAUSE_RE = re.compile(r'(?:(?P<field>[A-Za-z]+):)?(?:"(?P<phrase>[^"]*)"|(?P<word>[^\s"]+))')
_YEAR_RE = re.compile(r"^\s*([0-9]{1,4})\s*$")
_YEAR_RANGE_RE = re.compile(r"^\s*([0-9]{1,4})?\s*-\s*([0-9]{1,4})?\s*$")


@dataclass(frozen=True, slots=True)
class Clause:
    """Analysed tokens that must all match in ``field``; ``phrase`` keeps them adjacent and in order,
    ``prefix`` lets the last token match as a prefix (the user typed ``word*``)."""

    field: str
    terms: tuple[str, ...]
    phrase: bool = False
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class YearRange:
    """Records whose year lies in ``low``..``high`` (inclusive; ``None`` leaves that side open). A
    record without a year is in no range."""

    low: int | None = None
    high: int | None = None


@dataclass(frozen=True, slots=True)
class ValueFilter:
    """Records with one of ``values`` in the facet field ``field`` (one of :data:`FILTER_FIELDS`)."""

    field: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MatchAll:
    """Every record (CQL's ``cql.allRecords``)."""


@dataclass(frozen=True, slots=True)
class And:
    """Every child matches."""

    children: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """At least one child matches."""

    children: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """Every record that ``child`` does not match (CQL's ``a NOT b`` is ``And((a, Not(b)))``)."""

    child: Expression


Expression = Clause | YearRange | ValueFilter | MatchAll | And | Or | Not
"""A boolean query tree; text leaves are :class:`Clause`, scored like the web search's clauses."""


def is_text(expression: Expression) -> bool:
    """Whether ``expression`` is made of text clauses only, joined by AND, OR and AND NOT (with a
    positive part): what a full-text index can match, and score, in one expression."""
    if isinstance(expression, Clause):
        return bool(expression.terms)
    if isinstance(expression, Or):
        return all(is_text(child) for child in expression.children)
    if isinstance(expression, And):
        positive = [child for child in expression.children if not isinstance(child, Not)]
        negative = [child.child for child in expression.children if isinstance(child, Not)]
        return bool(positive) and all(is_text(child) for child in (*positive, *negative))
    return False


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A search: clauses all must match (AND); filters OR within a facet field, AND across fields;
    ``expression``, when given, must match too."""

    clauses: tuple[Clause, ...] = ()
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    year_from: int | None = None
    year_to: int | None = None
    sort: SortOrder = "relevance"
    page: int = 1
    page_size: int = 20
    facets: bool = True
    facet_size: int = 10
    text: str = ""
    expression: Expression | None = None
    # Only these union ids may match (``None``: any); engines apply it like a filter.
    ids: tuple[str, ...] | None = None

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @property
    def is_match_all(self) -> bool:
        return not self.clauses and self.expression is None


@dataclass(frozen=True, slots=True)
class FacetCount:
    value: str
    count: int


@dataclass(slots=True)
class SearchResult:
    """What an engine answers. ``facets_timed_out`` names facets dropped for their time budget."""

    total: int
    hits: list[UnionRecord]
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)
    facets_timed_out: list[str] = field(default_factory=list)
    took_ms: float = 0.0


def identifier_terms(word: str) -> tuple[str, ...]:
    """The tokens an identifier is indexed as: an ISBN (10 or 13, hyphens or not) as its ISBN-13, an
    ISSN as its two halves, anything else as its analysed tokens."""
    isbn = normalize_isbn(word)
    if isbn:
        return (isbn,)
    issn = normalize_issn(word)
    if issn:
        return tuple(tokens(issn))
    return tuple(tokens(word))


def parse_text_query(text: str) -> tuple[Clause, ...]:
    """Parse user text: words, ``"phrases"``, ``field:word``, ``field:"phrase"``, trailing ``*``.

    Unknown ``field:`` prefixes are treated as plain words so that a title with a colon still
    searches. ISBNs typed with or without hyphens, 10 or 13 digits, find the same record.
    """
    if len(text) > MAX_QUERY_LENGTH:
        raise BadParameter("q", f"the query is longer than {MAX_QUERY_LENGTH} characters")
    clauses: list[Clause] = []
    for match in _CLAUSE_RE.finditer(text):
        raw_field = (match.group("field") or "").lower()
        target = FIELD_ALIASES.get(raw_field)
        phrase = match.group("phrase")
        word = match.group("word")
        if target is None:
            # No prefix, or one we do not know (a title with a colon): search everywhere.
            target = "any"
            if raw_field and phrase is None:
                word = f"{match.group('field')}:{word}"
        if phrase is not None:
            terms = tuple(tokens(phrase))
            if terms:
                clauses.append(Clause(target, terms, phrase=len(terms) > 1))
            continue
        assert word is not None
        prefix = word.endswith("*")
        word = word.rstrip("*")
        if target == "ident" or (target == "any" and normalize_isbn(word)):
            terms = identifier_terms(word)
            if target == "any" and len(terms) == 1 and normalize_isbn(word):
                clauses.append(Clause("ident", terms))
                continue
        else:
            terms = tuple(tokens(word))
        if not terms:
            continue
        if len(terms) > 1:
            # "jean-paul" or "d'artagnan": the parts of one typed word stay together.
            clauses.append(Clause(target, terms, phrase=True, prefix=prefix))
        else:
            clauses.append(Clause(target, terms, prefix=prefix))
    if len(clauses) > MAX_CLAUSES:
        raise BadParameter("q", f"the query has more than {MAX_CLAUSES} terms")
    return tuple(clauses)


def _single(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise BadParameter(name, "give this parameter once")
    return values[0]


def _int_param(params: Mapping[str, Sequence[str]], name: str, default: int, low: int, high: int) -> int:
    raw = _single(params, name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(name, f"must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise BadParameter(name, f"must be between {low} and {high}, got {value}")
    return value


def parse_year_filter(raw: str) -> tuple[int | None, int | None]:
    """``1995`` or ``1990-1999`` or ``-1800`` or ``1950-`` → inclusive bounds."""
    single = _YEAR_RE.match(raw)
    if single:
        year = int(single.group(1))
        return year, year
    match = _YEAR_RANGE_RE.match(raw)
    if not match or not (match.group(1) or match.group(2)):
        raise BadParameter("year", f"use a year (1995) or a range (1990-1999), got {raw[:50]!r}")
    low = int(match.group(1)) if match.group(1) else None
    high = int(match.group(2)) if match.group(2) else None
    if low is not None and high is not None and low > high:
        raise BadParameter("year", f"the range {raw!r} ends before it starts")
    return low, high


SEARCH_PARAMETERS: frozenset[str] = frozenset(
    {*PARAM_FILTERS, "q", "year", "sort", "page", "page_size", "facets"}
)
"""The parameters :func:`parse_search_params` reads."""


def parse_search_params(params: Mapping[str, Sequence[str]], settings: Settings) -> SearchQuery:
    """Build a :class:`SearchQuery` from request parameters, or raise :class:`BadParameter`.

    Parameters: ``q``, one per filter (:data:`FILTER_FIELDS`) and ``tag`` (repeatable), ``year``
    (one year or a range), ``sort``, ``page``, ``page_size``, ``facets`` (``0``/``1``): see
    :data:`SEARCH_PARAMETERS`. Other names are not read: whether one is refused is the caller's choice
    (a page ignores them, the JSON API refuses a mistyped one: search_app/parameters.py).
    """
    text = _single(params, "q") or ""
    clauses = parse_text_query(text)
    filters: dict[str, tuple[str, ...]] = {}
    for name in PARAM_FILTERS:
        values = tuple(v for v in params.get(name, ()) if v)
        if any(len(v) > 300 for v in values):
            raise BadParameter(name, "value too long")
        if name == TAG_FILTER:
            values = tuple(dict.fromkeys(normalise_tag(value, TAG_FILTER) for value in values))
        if values:
            filters[name] = values
    year_from = year_to = None
    year_raw = _single(params, "year")
    if year_raw:
        year_from, year_to = parse_year_filter(year_raw)
    sort_raw = _single(params, "sort") or "relevance"
    if sort_raw not in SORT_ORDERS:
        raise BadParameter("sort", f"must be one of {', '.join(SORT_ORDERS)}, got {sort_raw!r}")
    page_size = _int_param(params, "page_size", settings.page_size, 1, settings.max_page_size)
    page = _int_param(params, "page", 1, 1, MAX_PAGE)
    facets_raw = _single(params, "facets")
    if facets_raw not in (None, "", "0", "1", "true", "false"):
        raise BadParameter("facets", f"must be 0 or 1, got {facets_raw!r}")
    return SearchQuery(
        clauses=clauses,
        filters=filters,
        year_from=year_from,
        year_to=year_to,
        sort=sort_raw,
        page=page,
        page_size=page_size,
        facets=facets_raw not in ("0", "false"),
        facet_size=settings.facet_size,
        text=text,
    )


def decade_label(year: int) -> str:
    """The ``year`` facet's bucket for a year: ``1990-1999``."""
    start = year - year % 10
    return f"{start}-{start + 9}"


SUBJECT_SUBDIVISION = " -- "


def subject_facet_values(subjects: Sequence[str]) -> tuple[str, ...]:
    """The ``subject`` facet values of a record: each heading's main part (before `` -- ``), once.

    "Austen, Jane, 1775-1817 -- Criticism" and "Austen, Jane, 1775-1817 -- Film adaptations" count
    once under "Austen, Jane, 1775-1817", which is what a reader narrowing a search wants.
    """
    seen: dict[str, None] = {}
    for subject in subjects:
        main = subject.split(SUBJECT_SUBDIVISION, 1)[0].strip()
        if main:
            seen.setdefault(main[:300], None)
    return tuple(seen)

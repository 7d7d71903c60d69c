"""The query model: what a search asks, independent of the engine and of the protocol that asked.

The web search, the JSON API and SRU's CQL (:mod:`search_app.sru.cql`) all build a :class:`SearchQuery`;
each engine turns it into its own query language. Text is analysed here with :mod:`unicat.analysis`,
so both engines receive the same tokens.

Plain words typed in the search box become ``clauses``, which all must match. When the box uses OR or
NOT (:mod:`unicat.query_syntax`), or SRU's CQL does, a query carries an ``expression`` instead: a tree
of :class:`And`, :class:`Or` and :class:`Not` over leaves (:class:`Clause`, :class:`YearRange`,
:class:`ValueFilter`, :class:`MatchAll`), ANDed with the clauses and filters. Each engine compiles
the tree to its own booleans, so OR and NOT are real.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any, Literal

from unicat.analysis import tokens
from unicat.clock import format_time
from unicat.errors import BadParameter
from unicat.fields import FACETS, STEMMED_FIELDS, TEXT_FIELDS
from unicat.identifiers import normalize_isbn, normalize_issn
from unicat.model import UnionRecord
from unicat.query_syntax import AllOf, Notice, Syntax, Term, Without
from unicat.query_syntax import parse as parse_syntax
from unicat.readers import normalise_tag
from unicat.settings import Settings
from unicat.stemming import NETWORK_LANGUAGES, query_stems

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
EXCLUDE_PREFIX = "not_"
"""``not_language=eng`` leaves out the records with that value (repeatable; one parameter per filter of
:data:`FILTER_FIELDS`). A prefix rather than ``-language``, which HTML forms and readers mistype, or a
``!`` inside the value, which would make ``!`` a value no filter could ask for."""
EXCLUDE_PARAMS: dict[str, str] = {f"{EXCLUDE_PREFIX}{name}": name for name in FILTER_FIELDS}
FACET_MORE = "facet_more"
"""``facet_more=subject`` lists up to :data:`FACET_MORE_SIZE` values of that facet, not the first ten."""
FACET_MORE_SIZE = 100
MAX_ID_FILTER = 10_000
"""Ids a search can be limited to at most (the records carrying a tag)."""

SortOrder = Literal["relevance", "year_desc", "year_asc", "title", "newest"]
SORT_ORDERS: tuple[SortOrder, ...] = ("relevance", "year_desc", "year_asc", "title", "newest")
"""``newest``: first_seen descending (the date the library ``new_at`` first held it, when given), ties
by id; records without a date last."""

MAX_QUERY_LENGTH = 1000
MAX_CLAUSES = 32
MAX_PAGE = 10_000
_YEAR_RE = re.compile(r"^\s*([0-9]{1,4})\s*$")
_YEAR_RANGE_RE = re.compile(r"^\s*([0-9]{1,4})?\s*-\s*([0-9]{1,4})?\s*$")


@dataclass(frozen=True, slots=True)
class Clause:
    """Analysed tokens that must all match in ``field``; ``phrase`` keeps them adjacent and in order,
    ``prefix`` lets the last token match as a prefix (the user typed ``word*``), ``exact`` matches them
    as written, never by their stems (the user quoted them, even one word: ``"histoires"``)."""

    field: str
    terms: tuple[str, ...]
    phrase: bool = False
    prefix: bool = False
    exact: bool = False


_STEMMED_CLAUSE_FIELDS = frozenset(("any", *(field.name for field in STEMMED_FIELDS)))


MIN_STEMMED_LENGTH = 3
"""Query words shorter than this match as written only. Two-letter words are articles, prepositions
and conjunctions (de, la, of, en): what their stems add ("des" and "du" to "de") is no closer to what
a reader meant, and in a broad search it is most of the cost (a second list of every record)."""


def clause_stems(clause: Clause, languages: Sequence[str]) -> tuple[tuple[str, ...], ...] | None:
    """Per term of ``clause``, its stems under each of ``languages``, which it matches in the stems
    fields beside its exact token (none for a word shorter than :data:`MIN_STEMMED_LENGTH`); ``None``
    when the clause matches exact tokens only: a phrase or a quoted word, a prefix (``word*``), a field
    without stems (names, identifiers), only short words, or no language to stem for."""
    if clause.phrase or clause.prefix or clause.exact or clause.field not in _STEMMED_CLAUSE_FIELDS:
        return None
    if not languages:  # stemming turned off: network_languages = []
        return None
    stems = tuple(
        query_stems(term, languages) if len(term) >= MIN_STEMMED_LENGTH else () for term in clause.terms
    )
    return stems if any(stems) else None


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
    ``exclusions`` leave out every record with one of their values; ``expression``, when given, must
    match too.

    Facets are counted for multi-select: a facet whose own values are selected (``filters``, or the
    year range for ``year``) is counted as if that selection were not made (its exclusions still
    apply), so the values beside the chosen ones keep their counts and can be added (OR). Every
    other facet counts the whole match set. ``facet_sizes`` raises the values listed of some facets
    above ``facet_size`` (``facet_more``).
    """

    clauses: tuple[Clause, ...] = ()
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    exclusions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    year_from: int | None = None
    year_to: int | None = None
    sort: SortOrder = "relevance"
    page: int = 1
    page_size: int = 20
    facets: bool = True
    facet_size: int = 10
    facet_sizes: Mapping[str, int] = field(default_factory=dict)
    text: str = ""
    expression: Expression | None = None
    # Only these union ids may match (``None``: any); engines apply it like a filter.
    ids: tuple[str, ...] | None = None
    # The languages (ISO 639-1) whose stems a query word also matches by (unicat/stemming.py): the
    # network's (settings.network_languages); the reader's interface language first where known.
    stem_languages: tuple[str, ...] = NETWORK_LANGUAGES
    # What the search box's text was read as, where not as typed (unicat.query_syntax).
    notices: tuple[Notice, ...] = ()
    # Only records that first entered the catalogue at or after this instant (the stored time form,
    # unicat/clock.py), or, with ``new_at``, that the library ``new_at`` first held at or after it
    # (unicat/first_seen.py). ``new_at`` without ``new_since`` is refused by parse_search_params.
    new_since: str | None = None
    new_at: str | None = None

    @property
    def highlighted(self) -> tuple[Clause, ...]:
        """The clauses whose words a hit may show: the ANDed ones, and the expression's not under NOT."""
        return (*self.clauses, *positive_clauses(self.expression))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @property
    def is_match_all(self) -> bool:
        return not self.clauses and self.expression is None

    def size_of(self, facet: str) -> int:
        """How many values of ``facet`` to count."""
        return self.facet_sizes.get(facet, self.facet_size)

    @property
    def selected_facets(self) -> tuple[str, ...]:
        """The facets whose own values this search selects, in :data:`FACET_FIELDS` order."""
        has_year = self.year_from is not None or self.year_to is not None
        return tuple(
            name for name in FACET_FIELDS if (has_year if name == "year" else bool(self.filters.get(name)))
        )

    def without_selection(self, facet: str) -> SearchQuery:
        """This search with the selection of ``facet`` dropped: the match set its counts come from."""
        if facet == "year":
            return replace(self, year_from=None, year_to=None)
        return replace(self, filters={name: v for name, v in self.filters.items() if name != facet})

    @property
    def title_phrase(self) -> Clause | None:
        """The whole query as a phrase in the title, which every engine adds to a match's score.

        Readers mostly type a title they know: a record whose title holds all their words together
        and in order is likelier the one meant than one that has them scattered over its title, notes
        and subjects. Only for plain words searched everywhere (two or more; no prefix), since a field
        or a boolean expression says the reader meant something else.
        """
        if self.expression is not None or not self.clauses:
            return None
        if any(clause.field != "any" or clause.prefix for clause in self.clauses):
            return None
        terms = tuple(term for clause in self.clauses for term in clause.terms)
        return Clause("title", terms, phrase=True) if len(terms) > 1 else None


@dataclass(frozen=True, slots=True)
class FacetCount:
    value: str
    count: int


@dataclass(slots=True)
class SearchResult:
    """What an engine answers. ``facets_timed_out`` names facets dropped for their time budget.

    ``documents``, when the caller asked for them (:meth:`AsyncSearcher.search
    <unicat.ports.union_index.AsyncSearcher.search>`), are the hits as the index stores them
    (``UnionRecord.to_json``'s form) and ``hits`` is left empty: the JSON API writes its hits from
    them, without building each record and its holdings as objects first."""

    total: int
    hits: list[UnionRecord]
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)
    facets_timed_out: list[str] = field(default_factory=list)
    took_ms: float = 0.0
    documents: list[dict[str, Any]] | None = None

    @property
    def hit_ids(self) -> list[str]:
        """The ids of the page's hits, in order, whichever form they came in."""
        if self.documents is not None:
            return [str(document["id"]) for document in self.documents]
        return [hit.id for hit in self.hits]

    def with_records(self) -> SearchResult:
        """This result with its hits as records (built from the documents, when it came with them)."""
        if self.documents is None:
            return self
        return replace(self, hits=[UnionRecord.from_json(doc) for doc in self.documents], documents=None)


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


def _clause(term: Term) -> Clause | None:
    """The clause of one typed word or phrase, or ``None`` when analysis leaves no token of it.

    ISBNs typed with or without hyphens, 10 or 13 digits, find the same record.
    """
    target = FIELD_ALIASES.get(term.field or "any", "any")
    if term.quoted:
        terms = tuple(tokens(term.text))
        # Quoted text is matched as written: a phrase, or one word not widened to its stems.
        return Clause(target, terms, phrase=len(terms) > 1, exact=True) if terms else None
    prefix = term.text.endswith("*")
    word = term.text.rstrip("*")
    if target == "ident" or (target == "any" and normalize_isbn(word)):
        terms = identifier_terms(word)
        if target == "any" and len(terms) == 1 and normalize_isbn(word):
            return Clause("ident", terms)
    else:
        terms = tuple(tokens(word))
    if not terms:
        return None
    # "jean-paul" or "d'artagnan": the parts of one typed word stay together.
    return Clause(target, terms, phrase=len(terms) > 1, prefix=prefix)


def _expression(syntax: Syntax) -> Expression | None:
    """The query model of a syntax tree; terms analysis empties drop out, and so does what held only them."""
    if isinstance(syntax, Term):
        return _clause(syntax)
    if isinstance(syntax, Without):
        child = _expression(syntax.child)
        if isinstance(child, Not):
            return child.child  # NOT NOT x, -NOT x: x
        return Not(child) if child is not None else None
    kind = And if isinstance(syntax, AllOf) else Or
    children: list[Expression] = []
    for part in syntax.children:
        converted = _expression(part)
        if isinstance(converted, kind):
            children.extend(converted.children)
        elif converted is not None:
            children.append(converted)
    if len(children) > 1:
        return kind(tuple(children))
    return children[0] if children else None


def _leaves(expression: Expression) -> int:
    if isinstance(expression, And | Or):
        return sum(_leaves(child) for child in expression.children)
    if isinstance(expression, Not):
        return _leaves(expression.child)
    return 1


@dataclass(frozen=True, slots=True)
class TextQuery:
    """What the search box's text asks: plain ANDed ``clauses`` (scored as always), or an ``expression``
    when the text uses OR or NOT; ``notices`` say what was read otherwise than typed."""

    clauses: tuple[Clause, ...] = ()
    expression: Expression | None = None
    notices: tuple[Notice, ...] = ()


NOTHING: Expression = Not(MatchAll())
"""Matches no record: what a query with text but no word to search finds (not the whole catalogue)."""


def parse_text_query(text: str) -> TextQuery:
    """Parse the search box's text (:mod:`unicat.query_syntax`): words, ``"phrases"``, ``field:word``,
    ``field:"phrase"``, trailing ``*``, AND, OR, NOT, ``-word`` and parentheses.

    Unknown ``field:`` prefixes are treated as plain words so that a title with a colon still searches.
    """
    if len(text) > MAX_QUERY_LENGTH:
        raise BadParameter(
            "q", f"the query is longer than {MAX_QUERY_LENGTH} characters (MAX_QUERY_LENGTH); shorten it"
        )
    parsed = parse_syntax(text, FIELD_ALIASES.keys())
    notices = list(parsed.notices)
    expression = _expression(parsed.tree) if parsed.tree is not None else None
    if expression is not None and _leaves(expression) > MAX_CLAUSES:
        raise BadParameter("q", f"the query has more than {MAX_CLAUSES} terms (MAX_CLAUSES); remove some")
    if expression is None:
        if not "".join(ch for ch in text if ch.isprintable()).strip():
            return TextQuery()  # nothing typed but spaces and control characters: no text at all
        return TextQuery(expression=NOTHING, notices=(*notices, Notice("nothing_to_search")))
    parts = expression.children if isinstance(expression, And) else (expression,)
    if all(isinstance(part, Clause) for part in parts):
        # Plain words: the clauses every engine scores as it always has.
        return TextQuery(
            clauses=tuple(part for part in parts if isinstance(part, Clause)), notices=tuple(notices)
        )
    if all(isinstance(part, Not) for part in parts):
        notices.append(Notice("only_exclusions"))
    return TextQuery(expression=expression, notices=tuple(notices))


def positive_clauses(expression: Expression | None) -> tuple[Clause, ...]:
    """The clauses of ``expression`` a match may contain (not those under NOT): what to highlight."""
    if expression is None or isinstance(expression, Not):
        return ()
    if isinstance(expression, Clause):
        return (expression,)
    if isinstance(expression, And | Or):
        return tuple(clause for child in expression.children for clause in positive_clauses(child))
    return ()


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


def parse_instant(raw: str, name: str) -> str:
    """A date ``2026-12-01`` (its 00:00 UTC) or an instant ``2026-12-01T08:00:00Z`` (an offset is
    turned to UTC) as the stored time form, or :class:`BadParameter` naming ``name``."""
    text = raw.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return format_time(datetime(day.year, day.month, day.day, tzinfo=UTC))
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or "T" not in text.upper():
        raise BadParameter(
            name, f"use a date (2026-12-01) or a UTC instant (2026-12-01T08:00:00Z), got {raw[:50]!r}"
        )
    return format_time(moment)


SEARCH_PARAMETERS: frozenset[str] = frozenset(
    {
        *PARAM_FILTERS, *EXCLUDE_PARAMS, "q", "year", "sort", "page", "page_size", "facets", FACET_MORE,
        "new_since", "new_at",
    }
)  # fmt: skip
"""The parameters :func:`parse_search_params` reads."""


def parse_search_params(params: Mapping[str, Sequence[str]], settings: Settings) -> SearchQuery:
    """Build a :class:`SearchQuery` from request parameters, or raise :class:`BadParameter`.

    Parameters: ``q``, one per filter (:data:`FILTER_FIELDS`) and ``tag`` (repeatable), one
    exclusion per filter (``not_language``, repeatable), ``year`` (one year or a range), ``sort``,
    ``page``, ``page_size``, ``facets`` (``0``/``1``), ``facet_more`` (a facet's name, repeatable),
    ``new_since`` (a date or an instant) and ``new_at`` (a library code, with ``new_since``): see
    :data:`SEARCH_PARAMETERS`. Other names are not read: whether one is refused is the caller's choice
    (a page ignores them, the JSON API refuses a mistyped one: search_app/parameters.py).
    """
    text = _single(params, "q") or ""
    parsed = parse_text_query(text)
    filters: dict[str, tuple[str, ...]] = {}
    for name in PARAM_FILTERS:
        values = tuple(v for v in params.get(name, ()) if v)
        if any(len(v) > 300 for v in values):
            raise BadParameter(name, "value too long")
        if name == TAG_FILTER:
            values = tuple(dict.fromkeys(normalise_tag(value, TAG_FILTER) for value in values))
        if values:
            filters[name] = values
    exclusions: dict[str, tuple[str, ...]] = {}
    for param, name in EXCLUDE_PARAMS.items():
        values = tuple(dict.fromkeys(v for v in params.get(param, ()) if v))
        if any(len(v) > 300 for v in values):
            raise BadParameter(param, "value too long")
        if values:
            exclusions[name] = values
    facet_sizes: dict[str, int] = {}
    for name in params.get(FACET_MORE, ()):
        if name not in FACET_FIELDS:
            raise BadParameter(FACET_MORE, f"unknown facet {name[:50]!r}; known: {', '.join(FACET_FIELDS)}")
        facet_sizes[name] = max(FACET_MORE_SIZE, settings.facet_size)
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
    new_since_raw = _single(params, "new_since") or None
    new_since = parse_instant(new_since_raw, "new_since") if new_since_raw else None
    new_at = (_single(params, "new_at") or "").strip() or None
    if new_at is not None:
        if new_since is None:
            raise BadParameter(
                "new_at", "give new_since too: new_at says whose date new_since is compared to"
            )
        if len(new_at) > 300:
            raise BadParameter("new_at", "value too long")
    return SearchQuery(
        clauses=parsed.clauses,
        expression=parsed.expression,
        notices=parsed.notices,
        filters=filters,
        exclusions=exclusions,
        year_from=year_from,
        year_to=year_to,
        sort=sort_raw,
        page=page,
        page_size=page_size,
        facets=facets_raw not in ("0", "false"),
        facet_size=settings.facet_size,
        facet_sizes=facet_sizes,
        text=text,
        stem_languages=settings.network_languages,
        new_since=new_since,
        new_at=new_at,
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

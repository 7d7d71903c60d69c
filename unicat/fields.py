"""The union record's fields, declared once: their JSON shape, how they are searched, faceted, filtered,
sorted, named in CQL and shown.

Every list of fields derives from here: the query model's facets, filters and search prefixes
(:mod:`unicat.query`), what both engines index (:mod:`unicat.documents`), the SQLite facet storage,
the Elasticsearch mapping of the union index, the CQL index table (:mod:`search_app.sru.cql_search`), SRU's
facets, the filter parameters and enums of the OpenAPI document, the facet titles and the record
page's coded data. The classes that carry a record (``indexer.extract.ExtractedRecord``,
:class:`unicat.model.UnionRecord`, :class:`unicat.documents.IndexFields`) stay written out, so that
mypy and mypyc know their attributes; tests prove that they hold exactly the fields declared here.

Three tables, as a search index sees a record:

- :data:`RECORD_FIELDS`: the keys of a union record's JSON, the public shape of the API, the export
  and the engines' stored documents;
- :data:`TEXT_FIELDS`: the fields of the text index, each the analysed words of some record fields;
- :data:`FACETS`: the values a search counts and filters by, each read from one record field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from unicat.availability import RECORD_AVAILABILITY

JsonType = Literal["string", "string?", "integer?", "strings", "objects", "object"]
"""A record field's JSON value: a string, a string or null, an integer or null, an array of strings, an
array of objects, an object."""


@dataclass(frozen=True, slots=True)
class CqlName:
    """A CQL index that searches a field, spelled as explain lists it (``bath.personalName``), and the
    title explain gives it."""

    name: str
    title: str

    @property
    def context(self) -> str:
        """The short name of its context set (``dc``, ``bath``, ``unicat``)."""
        return self.name.partition(".")[0]

    @property
    def spelled(self) -> str:
        """The index name within its set, as explain spells it (``personalName``)."""
        return self.name.partition(".")[2]

    @property
    def index(self) -> str:
        """The index name within its set, in lower case as CQL compares it."""
        return self.spelled.lower()


@dataclass(frozen=True, slots=True)
class RecordField:
    """One key of a union record's JSON (:meth:`unicat.model.UnionRecord.to_json`).

    ``label``: the record page lists the field's values under it, each value by its label in
    ``mappings/facets.toml`` (``None``: the page lays the field out itself, or does not show it).
    ``hit``: each hit of ``/api/search`` carries it. ``vocabulary``: the field is coded: the profiles'
    ``[[coded]]`` tables map codes of the MARC records to these values, and no others (a typo in a
    profile would split a facet); a union record has every value its members were coded with.
    """

    name: str
    json: JsonType
    label: str | None = None
    hit: bool = False
    description: str = ""
    vocabulary: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TextField:
    """A field of the text index: analysed words, weighed by ``weight`` in relevance on every engine.

    ``prefixes``: what a query writes before ``:`` to search this field alone (none: only a search
    anywhere reaches it). ``identifiers``: it holds identifiers (an ISBN as its ISBN-13), which CQL
    looks up as identifiers. ``sortable``: its CQL indexes sort results (``sortBy dc.title``).
    ``stem_weight``: its words are also indexed as their Snowball stems (:mod:`unicat.stemming`), in the
    field :attr:`stems`, weighing this: less than the exact words, so an exact match ranks first.
    """

    name: str
    weight: float
    prefixes: tuple[str, ...] = ()
    cql: tuple[CqlName, ...] = ()
    identifiers: bool = False
    sortable: bool = False
    stem_weight: float | None = None

    @property
    def stems(self) -> str | None:
        """The field of the text index holding the stems of this one's words, if it is stemmed."""
        return f"{self.name}_stems" if self.stem_weight is not None else None


Derivation = Literal["as_is", "decade", "main_heading", "held_at", "available_at", "availability"]
"""How a facet's values come from its record field: the values as they are, the decade of a year
(``1990-1999``), each subject heading's main part (:func:`unicat.query.subject_facet_values`), or from
the holdings (:mod:`unicat.availability`): the libraries keeping a copy, those keeping an available
copy, and the statuses of the copies."""


@dataclass(frozen=True, slots=True)
class Facet:
    """What a search counts (a facet) and filters by: the values of the record field ``source``.

    ``key`` names the values' field in the index documents. A ``values`` facet filters by exact value
    (a repeatable parameter named after the facet, described by ``description``); a ``years`` facet
    counts decades and filters by a range of years. ``cql``: its CQL indexes, whose terms are whole
    values (codes), or years; ``folded``: its values are lower case, so CQL terms are folded before
    they are compared. ``sru``: the CQL index an SRU facet of it is answered under, which the query of
    each of its terms searches. ``title``: what the facet is called where nothing names it otherwise
    (SRU; the search page's titles are in ``mappings/facets.toml``).
    """

    name: str
    title: str
    source: str
    sru: str
    derive: Derivation = "as_is"
    key: str = ""
    filter: Literal["values", "years"] = "values"
    description: str = ""
    cql: tuple[CqlName, ...] = ()
    folded: bool = False
    sortable: bool = False
    vocabulary: tuple[str, ...] = ()
    """The values the facet can have when they are not its record field's (a facet derived from the
    holdings); ``()``: the record field's vocabulary, if it has one."""

    @property
    def index_key(self) -> str:
        """The field of the index documents that holds the values."""
        return self.key or self.name

    @property
    def multi(self) -> bool:
        """Whether a record may have several values."""
        return RECORD_FIELD[self.source].json in ("strings", "objects")

    @property
    def values(self) -> tuple[str, ...]:
        """The values the facet can have (``()``: any), which its filter accepts."""
        return self.vocabulary or RECORD_FIELD[self.source].vocabulary


RECORD_FIELDS: tuple[RecordField, ...] = (
    RecordField("id", "string", hit=True),
    RecordField("title", "string", hit=True),
    RecordField("responsibility", "string?"),
    RecordField("authors", "strings", hit=True),
    RecordField("contributors", "objects"),
    RecordField("other_titles", "strings"),
    RecordField("subjects", "strings"),
    RecordField("isbns", "strings"),
    RecordField("issns", "strings"),
    RecordField("system_numbers", "strings"),
    RecordField("year", "integer?", hit=True),
    RecordField("language", "string?", label="Language", hit=True, description="ISO 639-2 code"),
    RecordField("publisher", "string?", hit=True),
    RecordField("place", "string?"),
    RecordField("edition", "string?"),
    RecordField("format", "string", hit=True),
    RecordField("format_detail", "string?"),
    # Target audience, one vocabulary for both formats (the codes, mapped in mappings/*.toml): children
    # (MARC 21 008/22 a b c j: preschool to pre-adolescent, juvenile; UNIMARC 100 $a/17-19 a b c d: up
    # to 14), young_adults (MARC 21 d adolescent; UNIMARC e, 14-20), adults (MARC 21 e; UNIMARC k serious,
    # m general), general (MARC 21 g, a general audience), specialized (MARC 21 f). Unknown, unset or
    # not coded (blank, |, UNIMARC u) gives no value.
    RecordField(
        "audience",
        "strings",
        label="Target audience",
        description="Who it is for, as its libraries coded it (MARC 21 008/22, UNIMARC 100 $a/17-19)",
        vocabulary=("children", "young_adults", "adults", "general", "specialized"),
    ),
    RecordField("series", "strings"),
    RecordField("physical", "string?"),
    RecordField("notes", "strings"),
    RecordField("libraries", "strings", hit=True, description="Codes of the libraries holding it"),
    RecordField("holdings", "objects"),
    RecordField("sources", "objects"),
    RecordField("merge", "objects"),
    RecordField("updated", "string?"),
    RecordField("work", "string?"),
    RecordField("editions", "strings"),
    RecordField("kept_apart", "objects"),
    RecordField(
        "first_seen",
        "string?",
        hit=True,
        description="When the record first entered the catalogue (ISO 8601 UTC; docs/new-titles.md)",
    ),
    RecordField(
        "held_since",
        "object",
        description="Library code → when that library first held a copy (ISO 8601 UTC)",
    ),
)

TEXT_FIELDS: tuple[TextField, ...] = (
    TextField(
        "title",
        4.0,
        prefixes=("title", "ti"),
        cql=(CqlName("dc.title", "Title"), CqlName("bath.title", "Title")),
        sortable=True,
        stem_weight=1.0,
    ),
    TextField(
        "author",
        3.0,
        prefixes=("author", "au", "creator"),
        cql=(
            CqlName("dc.creator", "Author"),
            CqlName("dc.contributor", "Contributor"),
            CqlName("bath.name", "Name"),
            CqlName("bath.author", "Author"),
            CqlName("bath.personalName", "Personal name"),
            CqlName("bath.corporateName", "Corporate name"),
            CqlName("bath.conferenceName", "Conference name"),
        ),
    ),
    TextField(
        "subject",
        2.0,
        prefixes=("subject", "su"),
        cql=(
            CqlName("dc.subject", "Subject"),
            CqlName("bath.subject", "Subject"),
            CqlName("bath.topicalSubject", "Topical subject"),
        ),
        stem_weight=0.5,
    ),
    TextField(
        "ident",
        4.0,
        prefixes=("isbn", "issn", "ident", "id"),
        cql=(
            CqlName("dc.identifier", "ISBN, ISSN or system number"),
            CqlName("bath.isbn", "ISBN"),
            CqlName("bath.issn", "ISSN"),
            CqlName("bath.standardIdentifier", "Standard identifier"),
        ),
        identifiers=True,
    ),
    TextField(
        "publisher",
        1.0,
        prefixes=("publisher", "pub"),
        cql=(CqlName("dc.publisher", "Publisher"), CqlName("bath.publisher", "Publisher")),
    ),
    TextField("series", 1.0, prefixes=("series",), cql=(CqlName("unicat.series", "Series"),)),
    TextField("notes", 1.0),
)
"""In the order of the SQLite text index's columns (frozen by its migration 3: a field added here needs
a migration of its own). A match in the title or an exact identifier says more than one in a note.

Only titles and subjects are stemmed: they hold what a reader's words are about, in the record's
language. Names (authors, publishers, series) are not words to conflate ("Dickens" is not "Dicken"),
identifiers are exact, and notes are long: stemming them would grow the index most for least."""

STEMMED_FIELDS: tuple[TextField, ...] = tuple(field for field in TEXT_FIELDS if field.stem_weight is not None)
"""The text fields indexed a second time as stems, their stems' fields after the exact ones (SQLite's
migration 15 froze these columns, like migration 3 the exact ones)."""

FACETS: tuple[Facet, ...] = (
    Facet(
        "library",
        "Library",
        source="libraries",
        key="libraries",
        sru="unicat.library",
        description="Only records held by this library code; repeat to accept several (OR).",
        cql=(
            CqlName("unicat.library", "Held by library (code)"),
            CqlName("bath.possessingInstitution", "Holding library (code)"),
        ),
    ),
    Facet(
        "format",
        "Format",
        source="format",
        sru="dc.type",
        description="Only records of this format code (book, serial…); repeat to accept several (OR).",
        cql=(CqlName("dc.type", "Format"), CqlName("unicat.format", "Format")),
    ),
    Facet(
        "language",
        "Language",
        source="language",
        sru="dc.language",
        description="Only records in this ISO 639-2 language code; repeat to accept several (OR).",
        cql=(
            CqlName("dc.language", "Language (ISO 639-2 code)"),
            CqlName("unicat.language", "Language (ISO 639-2 code)"),
        ),
        folded=True,
    ),
    Facet(
        "year",
        "Decade",
        source="year",
        derive="decade",
        key="decade",
        filter="years",
        sru="dc.date",
        cql=(CqlName("dc.date", "Year of publication"), CqlName("unicat.year", "Year of publication")),
        sortable=True,
    ),
    Facet(
        "subject",
        "Subject",
        source="subjects",
        derive="main_heading",
        key="subject_facets",
        sru="dc.subject",
        description="Only records with this main subject heading; repeat to accept several (OR).",
    ),
    Facet(
        "audience",
        "Target audience",
        source="audience",
        sru="unicat.audience",
        description="Only records for this target audience; repeat to accept several (OR).",
        cql=(
            CqlName(
                "unicat.audience", "Target audience (children, young_adults, adults, general, specialized)"
            ),
        ),
        folded=True,
    ),
    # Availability (unicat/availability.py), derived from the holdings' status and site. A library is
    # named by its directory code (Holding.site), else by the source's code.
    Facet(
        "held_at",
        "Held at",
        source="holdings",
        derive="held_at",
        sru="unicat.heldAt",
        description="Only records with a copy kept at this library code; repeat to accept several (OR).",
        cql=(CqlName("unicat.heldAt", "Copy kept at library (code)"),),
    ),
    Facet(
        "available_at",
        "Available at",
        source="holdings",
        derive="available_at",
        sru="unicat.availableAt",
        description='Only records with a copy available now at this library code ("available at my '
        'library"); repeat to accept several (OR).',
        cql=(CqlName("unicat.availableAt", "Copy available now at library (code)"),),
    ),
    Facet(
        "availability",
        "Availability",
        source="holdings",
        derive="availability",
        sru="unicat.availability",
        description='Only records with a copy of this status (availability=available: "available '
        'now"; unknown: a library did not say); repeat to accept several (OR).',
        cql=(
            CqlName(
                "unicat.availability",
                "Status of a copy (available, on_loan, not_for_loan, lost, damaged, withdrawn, unknown)",
            ),
        ),
        vocabulary=RECORD_AVAILABILITY,
    ),
)
"""In the order the facets are computed and listed where no configuration orders them."""

RECORD_FIELD: dict[str, RecordField] = {field.name: field for field in RECORD_FIELDS}
CODED_FIELDS: tuple[str, ...] = tuple(field.name for field in RECORD_FIELDS if field.vocabulary)
"""The record fields the profiles' ``[[coded]]`` tables fill."""
FACET: dict[str, Facet] = {facet.name: facet for facet in FACETS}

"""What both engines index for a union record: analysed text per search field, facet values, sort keys.

Engines call :func:`index_fields` so that the same record yields the same tokens, facet values and
sort keys on SQLite and on Elasticsearch. The fields are those of :mod:`unicat.fields`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from unicat import availability, fields
from unicat.analysis import analyze, sort_key
from unicat.model import UnionRecord
from unicat.query import decade_label, subject_facet_values
from unicat.stemming import record_stem_languages, stem_text

TEXT_WEIGHTS: dict[str, float] = {field.name: field.weight for field in fields.TEXT_FIELDS}
"""How much a match in each text field weighs in relevance, on every engine (SQLite's bm25 column
weights, Elasticsearch's boosts): a word in the title or an exact identifier says more than one in a
note."""

TEXT_FIELDS: tuple[str, ...] = tuple(TEXT_WEIGHTS)
"""The text an engine indexes, each field once. A clause on ``any`` matches a word in any of them (and
a phrase inside one of them): no field holds a second copy of all the text, which would double what
is indexed (measured on Elasticsearch: 45% of the CPU of a rebuild) for nothing these fields lack."""

STEM_FIELDS: dict[str, str] = {field.name: field.stems for field in fields.STEMMED_FIELDS if field.stems}
"""Each stemmed text field → the field of its stems (``title`` → ``title_stems``)."""

STEM_WEIGHTS: dict[str, float] = {
    field.stems: field.stem_weight
    for field in fields.STEMMED_FIELDS
    if field.stems and field.stem_weight is not None
}
"""How much a match by stem weighs, per stems field: less than the exact word in its field, and a
record with the exact word matches both, so it ranks above one that matches by stem alone."""

INDEXED_WEIGHTS: dict[str, float] = {**TEXT_WEIGHTS, **STEM_WEIGHTS}
INDEXED_FIELDS: tuple[str, ...] = tuple(INDEXED_WEIGHTS)
"""Everything an engine indexes as text: the exact fields, then the stems fields."""


@dataclass(frozen=True, slots=True)
class IndexFields:
    """Analysed text (space-separated tokens) per search field, the values of each facet (by facet
    name, in :data:`unicat.fields.FACETS` order), and the year and sort key."""

    title: str
    author: str
    subject: str
    ident: str
    publisher: str
    series: str
    notes: str
    title_stems: str
    subject_stems: str
    facets: dict[str, tuple[str, ...]]
    year: int | None
    title_sort: str

    def text_fields(self) -> dict[str, str]:
        """The analysed text per field of :data:`INDEXED_FIELDS`, in that order."""
        return {name: getattr(self, name) for name in INDEXED_FIELDS}


def index_fields(record: UnionRecord) -> IndexFields:
    """Derive everything an engine indexes from a union record."""
    # Other titles (uniform, variant, parallel) find the record as its title does.
    title = analyze([record.title, *record.other_titles])
    # Contributors mostly repeat the authors; only the names the authors lack are added.
    named = set(record.authors)
    others = [contributor.name for contributor in record.contributors if contributor.name not in named]
    author = analyze([*record.authors, *others, record.responsibility or ""])
    subject = analyze(record.subjects)
    ident = " ".join(
        [*record.isbns, *(analyze(i) for i in record.issns), *(analyze(n) for n in record.system_numbers)]
    ).strip()
    publisher = analyze([record.publisher or "", record.place or ""])
    series = analyze(record.series)
    languages = record_stem_languages(record.language)
    return IndexFields(
        title=title,
        author=author,
        subject=subject,
        ident=ident,
        publisher=publisher,
        series=series,
        notes=analyze(record.notes),
        title_stems=stem_text(title, languages),
        subject_stems=stem_text(subject, languages),
        facets={name: facet_values(derive, getattr(record, source)) for name, source, derive in _FACETS},
        year=record.year,
        title_sort=sort_key(record.title),
    )


# Each facet's name, the record field it counts and how its values derive, read once: every record
# of a rebuild goes through index_fields.
_FACETS = tuple((facet.name, facet.source, facet.derive) for facet in fields.FACETS)


def facet_values(derive: fields.Derivation, value: Any) -> tuple[str, ...]:
    """The values a facet counts, derived by ``derive``, of a record whose field holds ``value``."""
    if value is None:
        return ()
    if derive == "decade":
        return (decade_label(value),)
    if derive == "main_heading":
        return subject_facet_values(value)
    if derive == "held_at":
        return availability.held_at(value)
    if derive == "available_at":
        return availability.available_at(value)
    if derive == "availability":
        return availability.record_availability(value)
    if isinstance(value, str):
        return (value,)
    return tuple(value)

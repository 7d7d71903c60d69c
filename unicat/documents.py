"""What both engines index for a union record: analysed text per search field, facet values, sort keys.

Engines call :func:`index_fields` so that the same record yields the same tokens, facet values and
sort keys on SQLite and on Elasticsearch.
"""

from __future__ import annotations

from dataclasses import dataclass

from unicat.analysis import analyze, sort_key
from unicat.model import UnionRecord
from unicat.query import decade_label, subject_facet_values


@dataclass(frozen=True, slots=True)
class IndexFields:
    """Analysed text (space-separated tokens) per search field, and the facet and sort values."""

    title: str
    author: str
    subject: str
    ident: str
    publisher: str
    series: str
    any: str
    libraries: tuple[str, ...]
    subject_facets: tuple[str, ...]
    format: str
    language: str | None
    year: int | None
    decade: str | None
    title_sort: str

    def text_fields(self) -> dict[str, str]:
        return {
            "title": self.title,
            "author": self.author,
            "subject": self.subject,
            "ident": self.ident,
            "publisher": self.publisher,
            "series": self.series,
            "any": self.any,
        }


def index_fields(record: UnionRecord) -> IndexFields:
    """Derive everything an engine indexes from a union record."""
    title = analyze(record.title)
    author = analyze([*record.authors, record.responsibility or ""])
    subject = analyze(record.subjects)
    ident = " ".join(
        [*record.isbns, *(analyze(i) for i in record.issns), *(analyze(n) for n in record.system_numbers)]
    ).strip()
    publisher = analyze([record.publisher or "", record.place or ""])
    series = analyze(record.series)
    notes = analyze(record.notes)
    everything = " ".join(part for part in (title, author, subject, ident, publisher, series, notes) if part)
    return IndexFields(
        title=title,
        author=author,
        subject=subject,
        ident=ident,
        publisher=publisher,
        series=series,
        any=everything,
        libraries=tuple(record.libraries),
        subject_facets=subject_facet_values(record.subjects),
        format=record.format,
        language=record.language,
        year=record.year,
        decade=decade_label(record.year) if record.year is not None else None,
        title_sort=sort_key(record.title),
    )

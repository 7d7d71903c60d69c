"""The catalogue's own words and headings, gathered while a generation of the union index is written.

Two things derive from the union records and serve readers as they type: the words of the records
with how many records hold each (the speller's vocabulary, :mod:`unicat.speller`), and the titles,
authors and subjects with how many records carry each (suggestions as you type). Both are written by
the engine in the same step as the generation they describe, so they swap with it and are rebuilt
with it from the record store: nothing here must be kept elsewhere.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from unicat.analysis import analyze
from unicat.documents import IndexFields
from unicat.model import UnionRecord
from unicat.spill import SortedRows

SUGGESTION_KINDS = ("title", "author", "subject")
"""What suggestions are made of, in the order a tie between them is shown."""

# Fields whose words make the speller's vocabulary: identifiers are not words a reader misspells.
_WORD_FIELDS = ("title", "author", "subject", "publisher", "series", "notes")
MAX_SUGGESTIONS = 100
"""The most suggestions an index gives for one prefix (the highest ``suggest_max_limit``)."""
SHORT_PREFIX = 2
"""Prefixes of up to this many characters start so many headings that an index may rank their most
used at rebuild rather than at every keystroke."""

# Headings longer than this are cut: a suggestion is something to type, not a whole note.
MAX_SUGGESTION_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A heading to offer: its text as catalogued, its kind, how many records carry it, and its
    analysed form (``key``, what a typed prefix is matched against)."""

    text: str
    kind: str
    count: int
    key: str


class VocabularyCollector:
    """Counts words and headings record by record; engines feed it every record they write."""

    def __init__(self) -> None:
        self.words: Counter[str] = Counter()
        # One row per record and heading, (kind, key, text): almost every title is a heading of its
        # own, so they wait in a temporary file beyond a run's worth and are counted when read back.
        self._headings: SortedRows[tuple[str, str, str]] = SortedRows(_heading_key)

    def add(self, record: UnionRecord, fields: IndexFields) -> None:
        """Count what ``record`` adds: each word once per record (records, not occurrences, say how
        much of the catalogue a correction opens), each heading once per record."""
        self.words.update(record_words(fields))
        for heading in record_headings(record):
            self._headings.add(heading)

    def suggestions(self) -> Iterator[Suggestion]:
        """Every heading with its count, by kind and analysed form. The first spelling seen is the one
        shown: headings are mostly catalogued alike (rows come back in the order they were added
        among equal keys)."""
        rows = iter(self._headings)
        first = next(rows, None)
        count = 1
        for row in rows:
            if first is not None and row[:2] == first[:2]:
                count += 1
                continue
            if first is not None:
                yield Suggestion(first[2], first[0], count, first[1])
            first, count = row, 1
        if first is not None:
            yield Suggestion(first[2], first[0], count, first[1])

    def close(self) -> None:
        """Delete the headings' temporary file."""
        self._headings.close()


def record_words(fields: IndexFields) -> set[str]:
    """The words one record counts once in the vocabulary."""
    words: set[str] = set()
    for name in _WORD_FIELDS:
        words.update(getattr(fields, name).split())
    return words


def record_headings(record: UnionRecord) -> Iterator[tuple[str, str, str]]:
    """The headings one record counts once, as (kind, analysed key, text)."""
    for kind, texts in (
        ("title", [record.title]),
        ("author", record.authors),
        ("subject", record.subjects),
    ):
        for text in dict.fromkeys(texts):
            text = (text or "").strip()[:MAX_SUGGESTION_LENGTH]
            key = analyze(text)
            if key:
                yield kind, key, text


class VocabularyChange:
    """What a partial update of the union index changes in the words and headings: per word and per
    (kind, key), how many records more (new versions) or fewer (replaced or removed versions) hold
    it, and for a heading a new record brings, its text. An engine feeds it the old version of every
    record it replaces or removes and the new version of every record it writes, then applies the
    differences to the counts it keeps (dropping what no record holds any more)."""

    def __init__(self) -> None:
        self.words: Counter[str] = Counter()
        self.headings: Counter[tuple[str, str]] = Counter()
        self.texts: dict[tuple[str, str], str] = {}

    def add(self, record: UnionRecord, fields: IndexFields) -> None:
        """A record's new version is written."""
        self.words.update(record_words(fields))
        for kind, key, text in record_headings(record):
            self.headings[(kind, key)] += 1
            self.texts.setdefault((kind, key), text)

    def remove(self, record: UnionRecord, fields: IndexFields) -> None:
        """A record's stored version goes (replaced or removed)."""
        self.words.subtract(record_words(fields))
        for kind, key, _text in record_headings(record):
            self.headings[(kind, key)] -= 1

    def changed_words(self) -> dict[str, int]:
        """Each word whose count changes, with by how much."""
        return {word: delta for word, delta in self.words.items() if delta}

    def changed_headings(self) -> dict[tuple[str, str], int]:
        """Each (kind, key) whose count changes, with by how much."""
        return {heading: delta for heading, delta in self.headings.items() if delta}

    def short_prefixes(self) -> set[str]:
        """The prefixes of up to :data:`SHORT_PREFIX` characters of every heading whose count changes:
        those whose ranked heads an index keeps must be ranked again."""
        return {
            key[:length]
            for (_kind, key) in self.changed_headings()
            for length in range(1, min(len(key), SHORT_PREFIX) + 1)
        }


def _heading_key(row: tuple[str, str, str]) -> tuple[str, str]:
    return row[0], row[1]


def prefix_bounds(prefix: str) -> tuple[str, str]:
    """The range of keys starting with ``prefix`` (``low <= key < high``), for engines that keep keys
    in order: the next key after every extension of ``prefix``."""
    return prefix, prefix + "\U0010ffff"

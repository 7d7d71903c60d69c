"""The catalogue's own words and headings, gathered while a generation of the union index is written.

Two things derive from the union records and serve readers as they type: the words of the records
with how many records hold each (the speller's vocabulary, :mod:`unicat.speller`), and the titles,
authors and subjects with how many records carry each (suggestions as you type). Both are written by
the engine in the same step as the generation they describe, so they swap with it and are rebuilt
with it from the record store: nothing here must be kept elsewhere.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from unicat.analysis import analyze
from unicat.documents import IndexFields
from unicat.model import UnionRecord

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
        self._headings: dict[tuple[str, str], list[str | int]] = {}

    def add(self, record: UnionRecord, fields: IndexFields) -> None:
        """Count what ``record`` adds: each word once per record (records, not occurrences, say how
        much of the catalogue a correction opens), each heading once per record."""
        words: set[str] = set()
        for name in _WORD_FIELDS:
            words.update(getattr(fields, name).split())
        self.words.update(words)
        for kind, texts in (
            ("title", [record.title]),
            ("author", record.authors),
            ("subject", record.subjects),
        ):
            for text in dict.fromkeys(texts):
                text = (text or "").strip()[:MAX_SUGGESTION_LENGTH]
                key = analyze(text)
                if not key:
                    continue
                found = self._headings.get((kind, key))
                if found is None:
                    # The first spelling seen is the one shown: headings are mostly catalogued alike.
                    self._headings[(kind, key)] = [text, 1]
                else:
                    found[1] = int(found[1]) + 1

    def suggestions(self) -> list[Suggestion]:
        """Every heading with its count."""
        return [
            Suggestion(str(text), kind, int(count), key)
            for (kind, key), (text, count) in self._headings.items()
        ]


def prefix_bounds(prefix: str) -> tuple[str, str]:
    """The range of keys starting with ``prefix`` (``low <= key < high``), for engines that keep keys
    in order: the next key after every extension of ``prefix``."""
    return prefix, prefix + "\U0010ffff"

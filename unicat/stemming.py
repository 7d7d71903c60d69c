"""Snowball stems of analysed tokens, for French, Dutch and English (PyStemmer).

Stems are indexed beside the exact tokens (:mod:`unicat.documents`) and a query word matches its
exact token or any of its stems (:func:`unicat.query.clause_stems`), so "histoires" finds "histoire" and
the other way round. The record's language picks the stemmer; the query, written in a language the
catalogue cannot know, is stemmed for each of the languages a search names.

Stemming runs on the analysed tokens (folded, without accents) on both sides, so a record and a
query always meet on the same form, whichever engine holds the index.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import Stemmer

STEMMERS: dict[str, str] = {"fr": "french", "nl": "dutch", "en": "english"}
"""The languages Unicat stems (ISO 639-1, as settings and interfaces name them) → Snowball algorithm."""

NETWORK_LANGUAGES: tuple[str, ...] = ("fr", "nl", "en")
"""The default of the ``network_languages`` setting: the languages a query is stemmed for."""

STEM_MARK = "\u00a7"
"""Written before every stem, in the index and in queries (``§histoir``). Analysed tokens are letters
and digits only, so a marked stem is never the same term as a word as written: an engine searches
every field for a word without a filter to keep the stems out (SQLite's FTS5 column filter cost a
tenth of a broad search), and the stems fields hold nothing an exact word could match."""

RECORD_LANGUAGES: dict[str, str] = {"fre": "fr", "fra": "fr", "dut": "nl", "nld": "nl", "eng": "en"}
"""A union record's language (ISO 639-2, bibliographic or terminology code) → the stemmer it takes."""

UNTAGGED_LANGUAGES: tuple[str, ...] = tuple(STEMMERS)
"""The stemmers of a record without a language code (or with ``und``/``mul``/``zxx``…): each of them.
Such a record is most likely in one of the network's languages, and a word's stems under each of them
are few (most words share one stem): indexing them all lets the query's stems meet it. A record in
another known language (German, Latin…) is not stemmed: French rules on German words only conflate
what should stay apart, and its exact words still match."""

# ISO 639-2 codes that name no one language: undetermined, multiple, no linguistic content, uncoded.
_UNDETERMINED = frozenset(("und", "mul", "zxx", "mis"))


class _Stemmers(threading.local):
    """This thread's stemmers, one per language: a PyStemmer stemmer is not safe to share between
    threads (the web app searches in several), and keeps its own cache of recent words."""

    def __init__(self) -> None:
        self.by_language: dict[str, Stemmer.Stemmer] = {}


_STEMMERS = _Stemmers()


def _stemmer(language: str) -> Stemmer.Stemmer:
    found = _STEMMERS.by_language.get(language)
    if found is None:
        found = _STEMMERS.by_language[language] = Stemmer.Stemmer(STEMMERS[language])
    return found


def record_stem_languages(language: str | None) -> tuple[str, ...]:
    """The stemmers a record in ``language`` (an ISO 639-2 code or ``None``) is indexed with."""
    code = (language or "").strip().lower()
    mapped = RECORD_LANGUAGES.get(code)
    if mapped is not None:
        return (mapped,)
    if len(code) == 3 and code.isalpha() and code not in _UNDETERMINED:
        return ()  # another language
    return UNTAGGED_LANGUAGES


def stem_text(analysed: str, languages: Sequence[str]) -> str:
    """The stems of the space-separated tokens ``analysed`` under each of ``languages``, space-separated.

    Each token gives its distinct stems in the order of ``languages``; no language gives ''.
    """
    if not languages or not analysed:
        return ""
    words = analysed.split()
    if len(languages) == 1:
        return " ".join([STEM_MARK + stem for stem in _stemmer(languages[0]).stemWords(words)])
    per_language = [_stemmer(language).stemWords(words) for language in languages]
    stems: list[str] = []
    for forms in zip(*per_language, strict=True):
        stems.extend(STEM_MARK + stem for stem in dict.fromkeys(forms))
    return " ".join(stems)


def query_stems(token: str, languages: Iterable[str]) -> tuple[str, ...]:
    """The distinct stems of one analysed query token under each of ``languages``, in their order,
    marked as the index writes them (:data:`STEM_MARK`)."""
    return tuple(dict.fromkeys(STEM_MARK + _stemmer(language).stemWord(token) for language in languages))

"""What deduplication compares: the normalised traits of one record, and when two sets of traits differ.

Two copies of one edition, catalogued by two libraries, rarely agree letter for letter: one writes
"2nd ed.", the other "Second edition"; one gives the subtitle, the other not; one copies the
publisher as "Penguin Books", the other as "Penguin". The traits here are reduced to what must agree
for an edition and compared so that those differences do not count and real ones do (another
edition number, another volume, another year, another language, another material type).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from indexer.extract import ExtractedRecord
from unicat.analysis import tokens

# Words that open a title without telling it apart (dropped from keys), in the catalogue's languages.
_LEADING_ARTICLES = frozenset(
    [
        "the", "a", "an", "le", "la", "les", "l", "un", "une", "des", "der", "die", "das", "ein",
        "eine", "el", "los", "las", "lo", "il", "gli", "i", "de", "het", "een",
    ]
)  # fmt: skip
# Words of a publisher's name that are not the name ("Penguin Books" is "Penguin").
_PUBLISHER_NOISE = frozenset(
    [
        "the", "and", "co", "company", "ltd", "limited", "inc", "corp", "publishers", "publisher",
        "publishing", "pub", "books", "book", "press", "editions", "edition", "editeur", "editeurs",
        "ed", "eds", "verlag", "verlags", "gmbh", "ag", "sa", "srl", "group", "house", "distributed",
        "distributor", "by", "for", "printed", "at",
    ]
)  # fmt: skip
_ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "premiere": 1, "deuxieme": 2, "seconde": 2,
    "troisieme": 3, "quatrieme": 4, "cinquieme": 5, "erste": 1, "zweite": 2, "dritte": 3,
    "vierte": 4, "funfte": 5, "fuenfte": 5,
}  # fmt: skip
_ROMAN_RE = re.compile(r"^(?=[ivxlc]+$)c{0,3}(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})$")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
_DIGITS_RE = re.compile(r"\d+")
_PAGES_RE = re.compile(r"(\d+)\s*(?:p\b|pp\b|pages\b|s\.|f\.|ff\.|leaves\b)", re.IGNORECASE)
TITLE_RULE = "title_author_year"
"""The rule name of the title/author/year blocking key, as stored in a union record's ``merge``."""
_UNKNOWN_LANGUAGES = frozenset({"und", "zxx", "mul", "   ", "|||"})


@dataclass(frozen=True, slots=True)
class Traits:
    """The parts of one record that two copies of the same edition share, normalised.

    ``None`` (or an empty tuple for ``parts``) means the record does not say: it agrees with anything.
    """

    format: str
    year: int | None
    title: tuple[str, ...]
    author: str | None
    edition: str | None
    parts: tuple[str, ...]
    language: str | None
    publisher: str | None
    pages: int | None
    isbns: frozenset[str] = frozenset()
    # What the full title adds to the title proper (other title information, 245 $b / 200 $e), as
    # written: split into words only when two records that both have one are compared.
    subtitle: str = ""


def traits_of(record: ExtractedRecord) -> Traits:
    """The record's traits (computed once per record: clustering compares them many times)."""
    language = record.language if record.language not in _UNKNOWN_LANGUAGES else None
    title = key_words(record.title_proper or record.title)
    return Traits(
        format=record.format,
        year=record.year,
        title=title,
        author=author_word(record.authors),
        edition=edition_code(record.edition),
        parts=tuple(sorted(part_code(part) for part in record.parts)),
        language=language,
        publisher=publisher_word(record.publisher),
        pages=page_count(record.physical),
        isbns=frozenset(record.isbns),
        subtitle=subtitle_of(record.title, record.title_proper),
    )


def subtitle_of(title: str, proper: str | None) -> str:
    """What ``title`` says after its title proper ``proper`` ('' when it says nothing more, or when the
    title does not start with it: then the record tells no subtitle apart)."""
    if not proper or not title.startswith(proper):
        return ""
    return title[len(proper) :].strip()


def subtitle_words(subtitle: str) -> frozenset[str]:
    """A subtitle's folded words (``": a novel"`` → {a, novel})."""
    return frozenset(tokens(subtitle))


def key_words(title: str | None) -> tuple[str, ...]:
    """A title's folded words without a leading article: ``"The Pride & Prejudice"`` → (pride, prejudice)."""
    words = tokens(title or "")
    if len(words) > 1 and words[0] in _LEADING_ARTICLES:
        words = words[1:]
    return tuple(words)


def author_word(authors: Sequence[str]) -> str | None:
    """The first word of the first author, folded: the surname of ``"Austen, Jane, 1775-1817"``."""
    for author in authors:
        words = tokens(author)
        if words:
            return words[0]
    return None


def publisher_word(publisher: str | None) -> str | None:
    """The word that names a publisher (``"Penguin Books Ltd"`` → ``penguin``), or ``None``."""
    for word in tokens(publisher or ""):
        if word not in _PUBLISHER_NOISE and not word.isdigit():
            return word
    return None


def edition_code(edition: str | None) -> str | None:
    """An edition statement reduced to its number where it has one (``"2nd ed."``, ``"Second
    edition"``, ``"2e éd."`` → ``2``), else to its folded words (``"Rev. ed."`` → ``rev ed``)."""
    if not edition:
        return None
    return _numbered(tokens(edition)) or None


def part_code(part: str) -> str:
    """A part's number (``"v. 2"``, ``"Volume II"``, ``"Tome deuxième"`` → ``2``) or its words."""
    return _numbered(tokens(part))


def _numbered(words: Sequence[str]) -> str:
    """The number a statement gives (digits first, then an ordinal word, then a roman numeral of two
    letters or more: a lone "v" or "i" is an abbreviation or a word), else its words."""
    for word in words:
        digits = _DIGITS_RE.match(word)
        if digits:
            return str(int(digits.group(0)))
    for word in words:
        if word in _ORDINAL_WORDS:
            return str(_ORDINAL_WORDS[word])
    for word in words:
        if len(word) > 1 and _ROMAN_RE.match(word):
            return str(_roman(word))
    return " ".join(words)


def page_count(physical: str | None) -> int | None:
    """The largest page count of a physical description (``"xii, 345 p. ; 18 cm"`` → 345)."""
    if not physical:
        return None
    counts = [int(match.group(1)) for match in _PAGES_RE.finditer(physical)]
    return max(counts) if counts else None


def _roman(word: str) -> int:
    total = 0
    for current, following in zip(word, [*word[1:], ""], strict=True):
        value = _ROMAN_VALUES[current]
        total += -value if following and _ROMAN_VALUES[following] > value else value
    return total


def conflict(a: Traits, b: Traits, *, rule: str) -> str | None:
    """Why records with traits ``a`` and ``b`` cannot be one edition (a rejection rule), or ``None``.

    Every key must pass the rules on material type, year, volume or part and language, and unless
    the key is an ISBN, records that both carry ISBNs must share one: two ISBNs are two products
    (the volumes of a set whose parts were not recorded, a reissue under another imprint).

    Edition and date evidence binds every key but a shared ISBN. A system number (035), an LCCN,
    an EAN or an ISSN is copied from record to record: a library cataloguing a reissue or a new
    edition often starts from the original's record (copy cataloguing) and keeps its OCLC number or
    LCCN. OCLC's guidelines on when to input a new record count a different edition statement or
    date as another manifestation whatever the records share, and VuFind's dedup module
    (RecordManager) takes only a shared ISBN or national bibliography number as proof, never a 035
    number. So under those keys, as under the weak title/author/year key, the edition statements
    must agree (present on one and absent on the other, or two different statements, refuse) and so
    must the year (known on one and unknown on the other, or two different years, refuse): a record
    without a date that shares only a copied number is the reissue case, and a librarian can force
    the merge it refused (the refusal is shown on the merge page). An ISBN is assigned to one
    product by its publisher and a new edition gets a new one, so under a shared ISBN only numbered
    editions that differ, two years, and a title that shares nothing refuse: a reprint that kept its
    ISBN is the same edition, and a brief record without date or statement is a copy of it.

    Two choices keep recall: a first-edition statement ("1st ed.", "First edition") agrees with no
    statement (a first edition seldom says so, and a copy that transcribes it is the same book), and
    a statement is compared by its number where it has one ("2nd ed." and "Second edition" agree,
    see :func:`edition_code`). Beyond that, the title key also needs the publisher, the page
    count and the subtitles to agree (one holding the other's words); an identifier key only needs
    the titles to share a word (an identifier typed on the wrong record).
    """
    if a.format != b.format:
        return "material type"
    if a.year is not None and b.year is not None and a.year != b.year:
        return "year"
    if a.parts != b.parts:
        return "volume or part"
    if a.language is not None and b.language is not None and a.language != b.language:
        return "language"
    if rule != "isbn" and a.isbns and b.isbns and not a.isbns & b.isbns:
        return "isbn"
    if rule == "isbn":
        if a.edition is not None and b.edition is not None and a.edition != b.edition:  # noqa: SIM102
            if a.edition.isdigit() and b.edition.isdigit():
                return "edition"
    else:
        if (a.year is None) != (b.year is None):
            return "year unknown"
        # A first edition says no more than a record with no statement (inline: called for every pair).
        if a.edition != b.edition and (a.edition or "1") != (b.edition or "1"):
            return "edition"
    if rule == TITLE_RULE:
        # One copy may drop or shorten the subtitle, so a subtitle that holds the other's words agrees;
        # two that each say something the other does not are two titles sharing a head (the datasets
        # "Community Innovation Survey…: Country: Norway; …" of one publisher and year).
        if a.subtitle and b.subtitle and a.subtitle != b.subtitle:
            mine, theirs = subtitle_words(a.subtitle), subtitle_words(b.subtitle)
            if not (mine <= theirs or theirs <= mine):
                return "subtitle"
        if a.publisher is not None and b.publisher is not None and a.publisher != b.publisher:
            return "publisher"
        if a.pages is not None and b.pages is not None and abs(a.pages - b.pages) > max(2, a.pages // 50):
            return "extent"
        return None
    if a.title and b.title and not set(a.title) & set(b.title):
        return "title"
    return None


def refusal_text(refused: str, a: Traits, b: Traits) -> str:
    """How a refusal of :func:`conflict` reads for a librarian, with both sides' values
    (``"the years differ (1813 / 1894)"``)."""
    if refused in ("year", "year unknown"):
        values = f"({_shown(a.year)} / {_shown(b.year)})"
        if refused == "year":
            return f"the years differ {values}"
        return f"the year is known on one only {values}"
    if refused == "edition":
        values = f"({_edition_shown(a.edition)} / {_edition_shown(b.edition)})"
        if a.edition is None or b.edition is None:
            return f"an edition statement on one only {values}"
        return f"the edition statements differ {values}"
    first, second = _sides(refused, a, b)
    label = _REFUSAL_LABELS.get(refused, refused)
    return f"{label} ({_shown(first)} / {_shown(second)})"


def _sides(refused: str, a: Traits, b: Traits) -> tuple[object, object]:
    """The two values a refusal compared (only those: a refusal is worded for every note kept)."""
    if refused == "material type":
        return a.format, b.format
    if refused == "volume or part":
        return ", ".join(a.parts), ", ".join(b.parts)
    if refused == "language":
        return a.language, b.language
    if refused == "isbn":
        return ", ".join(sorted(a.isbns)), ", ".join(sorted(b.isbns))
    if refused == "publisher":
        return a.publisher, b.publisher
    if refused == "extent":
        return a.pages, b.pages
    if refused == "title":
        return " ".join(a.title), " ".join(b.title)
    if refused == "subtitle":
        return _clipped(a.subtitle), _clipped(b.subtitle)
    return None, None


_REFUSAL_LABELS = {
    "material type": "the material types differ",
    "volume or part": "the volumes or parts differ",
    "language": "the languages differ",
    "isbn": "both have ISBNs and share none",
    "publisher": "the publishers differ",
    "extent": "the page counts differ",
    "title": "the titles share no word",
    "subtitle": "the subtitles differ",
}


def _clipped(text: str, limit: int = 80) -> str:
    """A long value cut to ``limit`` characters for a note (a subtitle can run to a paragraph)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _shown(value: object) -> str:
    return "none" if value is None or value == "" else str(value)


def _edition_shown(code: str | None) -> str:
    """An edition code as a librarian reads it: ``2`` → ``ed. 2``, words as they are."""
    if code is None:
        return "none"
    return f"ed. {code}" if code.isdigit() else code

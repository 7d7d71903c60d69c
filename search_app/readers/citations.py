"""Citation exports of union records, for readers' reading lists: RIS, BibTeX and MARCXML.

:func:`export_records` is the one entry point: the records in one of :data:`EXPORT_KINDS`, as the body
of a download with its media type and file extension. Every export names each record's page in the
catalogue, ``{base_url}/record/{id}``, where the reader finds which libraries hold it.

**RIS** follows the *RIS Format Specifications* of Research Information Systems (Reference Manager,
Appendix C; the 2011 revision published with EndNote adds types such as ``MANSCPT``): a record is
lines ``TAG  - value`` (two capitals or a capital and a digit, two spaces, a hyphen, a space), each
ended by CR LF, from ``TY`` (first) to ``ER`` (last, its value empty). Tags written: TY (type, from
:data:`RIS_TYPES`), ID (union id), TI, AU (one per author), PY (year, four digits), ET, CY (place), PB,
T3 (series), SN (one per ISBN or ISSN), LA (ISO 639-2 code), KW (one per subject), N1 (one per note),
UR (the record's page). The text is UTF-8 (the specification's Windows ANSI cannot hold most of a
union catalogue's names; Zotero, EndNote and Mendeley read UTF-8). A line break inside a value would
start a line that is no tag, so runs of white space become one space.

**BibTeX** follows *BibTEXing* (Oren Patashnik, 1988) for entry types, fields and names, and LaTeX's
own commands (no package needed) for the characters BibTeX and LaTeX treat specially:
``\\ { } % & $ # _ ^ ~`` are written ``$\\backslash$ \\textbraceleft{} \\textbraceright{} \\% \\& \\$ \\#
\\_ \\textasciicircum{} \\textasciitilde{}`` (never ``\\{``: BibTeX counts an escaped brace too, so one
stray brace in a title would break the whole file). Other text stays UTF-8, which biber and biblatex
read as it is. Entry types are BibTeX's standard ones (:data:`BIBTEX_TYPES`): ``book``, ``unpublished``
for manuscripts, ``misc`` for the rest (``article`` would want the journal of a component part, which
a union record does not carry); ``misc`` keeps the publisher and the numbers, which reference managers
read though biblatex's ``misc`` does not define them. Fields: author (joined with ``and``), title,
edition, series (the first), address, publisher, year, isbn and issn (the first of each: the fields
hold one number), language, keywords (subjects, comma-separated; a subject with a comma in braces), note (the
notes, joined with ``;``), url (written as it is, percent-encoded where needed: biber reads url
verbatim). Titles come from catalogues in sentence case, so every word with a capital letter (other than
the first letter of the title) is braced, ``{Jane} {Austen}``, and styles that lower-case titles keep it.
The citation key is the union id (ASCII letters, digits and ``-_:.``; a suffix ``-2``, ``-3``… only if
two records of one export would share a key), so it is the same in every export of the record.

Names (RIS and BibTeX) drop the life dates catalogues add (``Austen, Jane, 1775-1817`` → ``Austen,
Jane``): no citation style prints them, and BibTeX would read them as a first name. A name with no
comma — a corporate body, a meeting, a single name — is braced whole for BibTeX, so that it is never
split into first and last names; ``Last, First, Jr.`` becomes BibTeX's ``Last, Jr., First``, and any
other third part stays with the first names, braced.

**MARCXML** is :func:`unicat.export.write_marcxml`'s MARC21-slim ``<collection>``, the records as
:mod:`unicat.record_xml` makes them for every feed.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Literal, get_args
from urllib.parse import quote

from search_app import links
from unicat.errors import BadParameter
from unicat.export import write_marcxml
from unicat.model import UnionRecord

ExportKind = Literal["ris", "bibtex", "marcxml"]
EXPORT_KINDS: tuple[ExportKind, ...] = get_args(ExportKind)

RIS_MEDIA_TYPE = "application/x-research-info-systems"
BIBTEX_MEDIA_TYPE = "application/x-bibtex; charset=utf-8"
MARCXML_MEDIA_TYPE = "application/marcxml+xml"

# Format → RIS reference type (RIS Format Specifications, "Reference Type field names"). The formats are
# those of mappings/marc21.toml and unimarc.toml, and the other material types mappings/facets.toml
# names; a format of a source's own mapping that is not here is GEN (generic).
RIS_TYPES: dict[str, str] = {
    "book": "BOOK",
    "ebook": "EBOOK",
    "serial": "JFULL",
    "article": "JOUR",
    "manuscript": "MANSCPT",
    "music score": "MUSIC",
    "score": "MUSIC",
    "map": "MAP",
    "sound recording": "SOUND",
    "music": "SOUND",
    "audio": "SOUND",
    "video": "VIDEO",
    "visual": "ADVS",
    "image": "ART",
    "computer file": "COMP",
    "computer": "COMP",
}
RIS_DEFAULT_TYPE = "GEN"

# Format → BibTeX standard entry type; any other format is "misc".
BIBTEX_TYPES: dict[str, str] = {"book": "book", "ebook": "book", "manuscript": "unpublished"}
BIBTEX_DEFAULT_TYPE = "misc"

# Line and paragraph breaks, tabs and the other white space: one space. Control characters that are
# no white space, and lone surrogates (from damaged records): nothing.
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

# Life dates at the end of a name or between its parts, as MARC $d gives them: after a comma, a year
# (with a qualifier such as "b.", "d.", "fl.", "ca.") and what follows it up to the next comma; with no
# comma before them (a catalogue that left it out), only a plain span of years at the very end.
_DATES_AFTER_COMMA = re.compile(
    r",\s*(?:(?:b|d|fl|ca|c)\.\s*|(?:active|born|died|approximately)\s+)?-?\d{3,4}\b[^,]*?(?=\s*(?:,|$))"
)
_TRAILING_YEARS = re.compile(r"\s+-?\d{3,4}\??-(?:\d{3,4}\??)?\.?$")
_GENERATIONS = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "v"})
_AND = re.compile(r"\band\b", re.IGNORECASE)

# LaTeX for the characters that BibTeX or LaTeX would read as markup (module docstring).
_LATEX = str.maketrans(
    {
        "\\": r"$\backslash$",
        "{": r"\textbraceleft{}",
        "}": r"\textbraceright{}",
        "%": r"\%",
        "&": r"\&",
        "$": r"\$",
        "#": r"\#",
        "_": r"\_",
        "^": r"\textasciicircum{}",
        "~": r"\textasciitilde{}",
    }
)
# A word, for case protection: letters and digits (with their combining marks), inner apostrophes and
# hyphens; never a character that _LATEX changes, so a braced word is the word itself.
_MARK = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_WORD = re.compile(rf"(?:[^\W_]|[{_MARK}])+(?:['’-](?:[^\W_]|[{_MARK}])+)*")
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_:.-]+")
# What a URL may keep as it is (RFC 3986 reserved and unreserved characters, and "%" of its escapes).
_URL_SAFE = ":/?#[]@!$&'()*+,;=%-._~"


def clean(text: str | None) -> str:
    """``text`` on one line, NFC, without control characters; empty for ``None``."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    return _CONTROL.sub("", _SPACE.sub(" ", text)).strip()


def citation_name(name: str) -> str:
    """A catalogue's heading for a person or body as citations give it: without life dates."""
    name = clean(name)
    name = _TRAILING_YEARS.sub("", _DATES_AFTER_COMMA.sub("", name))
    return name.strip(" ,")


def record_url(base_url: str, record_id: str) -> str | None:
    """The record's page in the catalogue; ``None`` without a base URL (a file needs a whole one)."""
    base = base_url.rstrip("/")
    if not base:
        return None
    return quote(base + links.record_url(record_id), safe=_URL_SAFE)


def _year(record: UnionRecord) -> str:
    year = record.year
    return f"{year:04d}" if year is not None and 0 <= year <= 9999 else ""


def _names(record: UnionRecord) -> list[str]:
    return [name for name in (citation_name(author) for author in record.authors) if name]


# -- RIS -----------------------------------------------------------------------------------------------


def _ris_lines(record: UnionRecord, base_url: str) -> Iterator[tuple[str, str]]:
    yield "TY", RIS_TYPES.get(record.format, RIS_DEFAULT_TYPE)
    yield "ID", clean(record.id)
    yield "TI", clean(record.title)
    for name in _names(record):
        yield "AU", name
    yield "PY", _year(record)
    yield "ET", clean(record.edition)
    yield "CY", clean(record.place)
    yield "PB", clean(record.publisher)
    yield "T3", clean(record.series[0]) if record.series else ""
    for number in (*record.isbns, *record.issns):
        yield "SN", clean(number)
    yield "LA", clean(record.language)
    for subject in record.subjects:
        yield "KW", clean(subject)
    for note in record.notes:
        yield "N1", clean(note)
    yield "UR", record_url(base_url, record.id) or ""


def write_ris(records: Iterable[UnionRecord], base_url: str) -> str:
    """The records as RIS text (module docstring), CR LF line ends; a tag with no value is left out."""
    lines: list[str] = []
    for record in records:
        lines.extend(f"{tag}  - {value}\r\n" for tag, value in _ris_lines(record, base_url) if value)
        lines.append("ER  - \r\n")
    return "".join(lines)


# -- BibTeX --------------------------------------------------------------------------------------------


def latex(text: str | None) -> str:
    """``text`` cleaned (:func:`clean`) with BibTeX's and LaTeX's special characters escaped."""
    return clean(text).translate(_LATEX)


def _bibtex_title(title: str) -> str:
    """The title escaped, each word with a capital letter braced (the first letter of the title aside)."""
    text = clean(title)
    parts: list[str] = []
    end = 0
    for match in _WORD.finditer(text):
        word = match.group()
        capitals = word[1:] if match.start() == 0 else word
        parts.append(text[end : match.start()].translate(_LATEX))
        parts.append(f"{{{word}}}" if any(char.isupper() for char in capitals) else word)
        end = match.end()
    parts.append(text[end:].translate(_LATEX))
    return "".join(parts)


def bibtex_name(name: str) -> str:
    """One name for BibTeX's author list (module docstring: dates dropped, bodies braced whole)."""
    name = citation_name(name)
    parts = [part.strip() for part in name.split(",")]
    parts = [part for part in parts if part]
    if len(parts) < 2 or _AND.search(name):
        return f"{{{latex(name)}}}"
    last, first, *rest = (latex(part) for part in parts)
    if not rest:
        return f"{last}, {first}"
    if len(rest) == 1 and rest[0].lower() in _GENERATIONS:
        return f"{last}, {rest[0]}, {first}"
    return f"{last}, {{{', '.join([first, *rest])}}}"


def _keyword(subject: str) -> str:
    text = latex(subject)
    return f"{{{text}}}" if "," in text else text


def _bibtex_fields(record: UnionRecord, base_url: str) -> Iterator[tuple[str, str]]:
    yield "author", " and ".join(bibtex_name(name) for name in _names(record))
    yield "title", _bibtex_title(record.title)
    yield "edition", latex(record.edition)
    yield "series", latex(record.series[0]) if record.series else ""
    yield "address", latex(record.place)
    yield "publisher", latex(record.publisher)
    yield "year", _year(record)
    yield "isbn", latex(record.isbns[0]) if record.isbns else ""
    yield "issn", latex(record.issns[0]) if record.issns else ""
    yield "language", latex(record.language)
    yield "keywords", ", ".join(keyword for keyword in map(_keyword, record.subjects) if keyword)
    yield "note", "; ".join(note for note in map(latex, record.notes) if note)
    yield "url", record_url(base_url, record.id) or ""


def citation_key(record_id: str, taken: set[str]) -> str:
    """An ASCII key for the record, from its union id; not one of ``taken`` (BibTeX compares keys
    without case), which it joins."""
    ascii_id = unicodedata.normalize("NFKD", record_id).encode("ascii", "ignore").decode("ascii")
    base = _KEY_UNSAFE.sub("-", ascii_id).strip("-") or "record"
    key, suffix = base, 1
    while key.lower() in taken:
        suffix += 1
        key = f"{base}-{suffix}"
    taken.add(key.lower())
    return key


def write_bibtex(records: Iterable[UnionRecord], base_url: str) -> str:
    """The records as BibTeX entries (module docstring), one blank line between them."""
    taken: set[str] = set()
    entries: list[str] = []
    for record in records:
        kind = BIBTEX_TYPES.get(record.format, BIBTEX_DEFAULT_TYPE)
        fields = "".join(
            f"  {name} = {{{value}}},\n" for name, value in _bibtex_fields(record, base_url) if value
        )
        entries.append(f"@{kind}{{{citation_key(record.id, taken)},\n{fields}}}\n")
    return "\n".join(entries)


# -- every format --------------------------------------------------------------------------------------


def export_records(records: Iterable[UnionRecord], kind: str, base_url: str) -> tuple[bytes, str, str]:
    """The records in the export ``kind`` (one of :data:`EXPORT_KINDS`): the file's bytes, its media
    type and its file extension. ``base_url`` is the catalogue's public address, for record links."""
    if kind == "ris":
        return write_ris(records, base_url).encode("utf-8"), RIS_MEDIA_TYPE, "ris"
    if kind == "bibtex":
        return write_bibtex(records, base_url).encode("utf-8"), BIBTEX_MEDIA_TYPE, "bib"
    if kind == "marcxml":
        out = io.BytesIO()
        write_marcxml(records, out)
        return out.getvalue(), MARCXML_MEDIA_TYPE, "xml"
    raise BadParameter("kind", f"{kind!r} is not an export format; choose one of {', '.join(EXPORT_KINDS)}")

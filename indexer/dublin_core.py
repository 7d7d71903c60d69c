"""Unqualified Dublin Core (OAI-PMH ``oai_dc``) → MARC 21 fields, which the MARC 21 profile then maps.

Sources without MARC offer only ``oai_dc``; their records are turned into the indexer's plain MARC form
(:class:`~indexer.marc.MarcFields`) here, and from there on go the way every MARC record goes: the
``marc21`` profile (``mappings/marc21.toml``) extracts them, dedup merges them with MARC copies of the
same edition, and nothing downstream knows they were Dublin Core. One mapping path, not two.

The crosswalk is the Library of Congress "Dublin Core to MARC Crosswalk" (Network Development and MARC
Standards Office, https://www.loc.gov/marc/dccross.html; its earlier edition, the "Dublin Core/MARC/GILS
Crosswalk" of 2001-03-12, https://www.loc.gov/marc/dccross_20010312.html), its unqualified mappings,
with Leader/06-07 from ``dc:type`` as LC's ``DC2MARC21slim.xsl`` sets them (Collection p/c, Dataset m,
Event r, Image k, InteractiveResource m, Service m, Software m, Sound i, Text a, anything else a; /07
m). The union record field is what ``mappings/marc21.toml`` reads from the MARC field:

================  ===================================================  =========================
DC element        MARC 21 field                                        union record field
================  ===================================================  =========================
title             245 00 $a (the first; or the first whose xml:lang    title
                  is the resource's language); others 246 33 $a
                  (246 31, parallel title, in another xml:lang)
creator           720 ## $a name $e author                             authors
contributor       720 ## $a name                                       authors (after creators)
subject           653 ## $a; a code given as a URI: 084 ## $a          subjects
description       520 ## $a                                            notes
publisher         260 ## $b                                            publisher
date              260 ## $c                                            year (first 4-digit year)
type              Leader/06-07 (below)                                 format
format            856 ## $q (a media type), else 300 ## $a (extent)    physical (300)
identifier        ISBN: 020 $a (invalid: 020 $z); ISSN: 022 $a;        isbns, issns
                  URL: 856 40 $u; DOI: 024 7# $a $2 doi; else 024 8# $a
language          041 0# $a (a code, as MARC's ISO 639-2/B), else      language (041);
                  546 ## $a (a language named in words)                notes (546)
coverage          500 ## $a                                            notes
relation          787 0# $n                                            —
source            786 0# $n                                            —
rights            540 ## $a                                            —
================  ===================================================  =========================

Plus 042 $a ``dc`` (authentication code) as LC's stylesheet writes it, and a leader with 09 ``a``
(Unicode), 17 ``3`` (abbreviated level), 18 ``u``.

Where the crosswalk's simple mapping would mislead a union catalogue, this module refines it:

- **dc:type** gives Leader/06 from the DCMI Type Vocabulary (LC's table, plus MovingImage g,
  StillImage k, PhysicalObject r) and Leader/07 from the genre words repositories add (the
  ``info:eu-repo/semantics/`` terms and plain words: ``article`` → b, serial component part;
  ``bookPart``, ``conferencePaper`` → a, monographic component part; ``journal`` → s; ``book``,
  ``report``, ``thesis``… → m). A part wins over a whole (``report`` with ``reportPart`` is a part).
  No 655 is written: the profile reads 655 as a subject heading, and "Text" would fill the subject facet.
- **The host's identifiers.** A chapter or an article carries the ISBN or ISSN of the book or journal
  it is in (real repositories do: see ``tests/indexer/test_indexer_dublin_core.py``). In MARC those go
  to 773 Host item entry ($z ISBN, $x ISSN), not 020/022, and so here: otherwise a chapter would merge
  with its book and every article of a journal with each other. An ISSN of a record that is not a
  serial (a single issue, a book in a series) names its series: 490 0# $x (a part: 773 $x).
- **ISBNs** are recognised as ``urn:isbn:…``, ``ISBN …`` or bare (ten or thirteen digits with a right
  check digit); an ISSN as ``urn:issn:…``, ``ISSN …``, ``eISSN …`` or bare ``NNNN-NNNC``. An
  identifier that says it is an ISBN but fails the check digit goes to 020 $z (invalid ISBN), never $a.
- **Languages** given as codes (ISO 639-2, or the ISO 639-1 / RFC 4646 ``fr``, ``en-GB`` forms) go to
  041 $a as MARC writes them (639-2/B: ``fra`` → ``fre``), which is the crosswalk's qualified mapping;
  only a language named in words keeps the unqualified 546 $a note.
- **Format** that is not a media type (a page count such as ``248``) is the extent: 300 $a, the
  crosswalk's mapping for Format.Extent.

Values are read with all their text (``itertext``), whitespace collapsed and NFC-normalised; empty
elements are skipped, repeated elements each give a field. ``xml:lang`` chooses the title proper and the
246 indicator (it is the language of the metadata, not of the resource, so it never sets 041). A record
whose XML cannot be read, that holds no ``oai_dc:dc``, or that has no non-empty ``dc:title`` raises
:class:`~unicat.errors.RecordError`, so the indexer quarantines it with that reason.

Not compiled by mypyc (not in :data:`unicat.compiled.COMPILED_MODULES`): Dublin Core sources are few
and small next to the MARC catalogues, and lxml does most of the work here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Sequence
from dataclasses import dataclass, field

from lxml import etree

from indexer.marc import DataField, FieldContent, MarcFields, Subfields
from unicat.errors import RecordError
from unicat.identifiers import normalize_isbn, normalize_issn
from unicat.model import Profile
from unicat.oai_protocol import DC_NS, OAI_DC_NS

DCTERMS_NS = "http://purl.org/dc/terms/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

CROSSWALK_PROFILE: Profile = "marc21"
"""The profile that maps what the crosswalk gives, whatever profile the source has."""

ELEMENTS = frozenset(
    {
        "title",
        "creator",
        "subject",
        "description",
        "publisher",
        "contributor",
        "date",
        "type",
        "format",
        "identifier",
        "source",
        "language",
        "relation",
        "coverage",
        "rights",
    }
)
"""The fifteen elements of the Dublin Core Metadata Element Set 1.1 (all that ``oai_dc`` allows)."""

_XML_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True, load_dtd=False
)

# -- dc:type → Leader/06 (type of record) and /07 (bibliographic level) ------------------------------

# DCMI Type Vocabulary → Leader/06, after LC's DC2MARC21slim.xsl (MovingImage, StillImage and
# PhysicalObject, which it lacks, as MARC defines g, k and r).
DCMI_TYPES: dict[str, str] = {
    "collection": "p",
    "dataset": "m",
    "event": "r",
    "image": "k",
    "stillimage": "k",
    "movingimage": "g",
    "interactiveresource": "m",
    "physicalobject": "r",
    "service": "m",
    "software": "m",
    "sound": "i",
    "text": "a",
}

_PART_OF_SERIAL = ("a", "b")
_PART_OF_MONOGRAPH = ("a", "a")
_SERIAL = ("a", "s")
_MONOGRAPH = ("a", "m")

# Genre words repositories put in dc:type (the info:eu-repo/semantics vocabulary and plain words)
# → (Leader/06 when no DCMI type says it, Leader/07).
GENRES: dict[str, tuple[str, str]] = {
    **dict.fromkeys(
        (
            "article",
            "journalarticle",
            "contributiontoperiodical",
            "review",
            "bookreview",
            "annotation",
        ),
        _PART_OF_SERIAL,
    ),
    **dict.fromkeys(
        (
            "bookpart",
            "chapter",
            "bookchapter",
            "reportpart",
            "conferencepaper",
            "conferenceobject",
            "conferencepublication",
            "conferencecontribution",
        ),
        _PART_OF_MONOGRAPH,
    ),
    **dict.fromkeys(("periodical", "journal", "serial", "newspaper", "magazine"), _SERIAL),
    **dict.fromkeys(
        (
            "book",
            "monograph",
            "report",
            "workingpaper",
            "preprint",
            "thesis",
            "doctoralthesis",
            "masterthesis",
            "bachelorthesis",
        ),
        _MONOGRAPH,
    ),
    "map": ("e", "m"),
    "score": ("c", "m"),
    "musicalscore": ("c", "m"),
    "sheetmusic": ("c", "m"),
    "video": ("g", "m"),
    "film": ("g", "m"),
    "photograph": ("k", "m"),
    "picture": ("k", "m"),
    "audio": ("i", "m"),
    "soundrecording": ("i", "m"),
}

# Which level wins when a record's genre words disagree: a part over a serial over a whole.
_LEVEL_RANK = {"b": 0, "a": 0, "s": 1, "m": 2}
_TYPE_PREFIXES = (
    "info:eu-repo/semantics/",
    "http://purl.org/dc/dcmitype/",
    "https://purl.org/dc/dcmitype/",
    "dcmitype:",
    "dctype:",
    "doc-type:",
)


def type_key(value: str) -> str:
    """A dc:type value as the tables key it: lower case, vocabulary prefix and separators dropped."""
    key = value.strip().lower()
    for prefix in _TYPE_PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix) :]
            break
    return re.sub(r"[\s_-]+", "", key)


def leader_type(types: Sequence[str]) -> tuple[str, str]:
    """Leader/06 and /07 for a record's dc:type values (``("a", "m")`` when they say nothing)."""
    record_type: str | None = None
    genre_type: str | None = None
    level: str | None = None
    for value in types:
        key = type_key(value)
        if key in DCMI_TYPES:
            if record_type is None:
                record_type = DCMI_TYPES[key]
            if key == "collection":
                level = "c"
        elif key in GENRES:
            implied_type, implied_level = GENRES[key]
            genre_type = genre_type or implied_type
            if level is None or (level != "c" and _LEVEL_RANK[implied_level] < _LEVEL_RANK[level]):
                level = implied_level
    return record_type or genre_type or "a", level or "m"


# -- dc:language → MARC language codes --------------------------------------------------------------

# ISO 639-1 → the MARC (ISO 639-2/B) code.
ISO_639_1: dict[str, str] = {
    "ar": "ara", "bg": "bul", "bn": "ben", "br": "bre", "ca": "cat", "cs": "cze", "cy": "wel",
    "da": "dan", "de": "ger", "el": "gre", "en": "eng", "eo": "epo", "es": "spa", "et": "est",
    "eu": "baq", "fa": "per", "fi": "fin", "fr": "fre", "ga": "gle", "gd": "gla", "gl": "glg",
    "he": "heb", "hi": "hin", "hr": "hrv", "hu": "hun", "hy": "arm", "id": "ind", "is": "ice",
    "it": "ita", "ja": "jpn", "ka": "geo", "ko": "kor", "la": "lat", "lb": "ltz", "lt": "lit",
    "lv": "lav", "mk": "mac", "ms": "may", "mt": "mlt", "nb": "nob", "nl": "dut", "nn": "nno",
    "no": "nor", "oc": "oci", "pl": "pol", "pt": "por", "ro": "rum", "ru": "rus", "sa": "san",
    "sk": "slo", "sl": "slv", "sq": "alb", "sr": "srp", "sv": "swe", "sw": "swa", "th": "tha",
    "tr": "tur", "uk": "ukr", "ur": "urd", "vi": "vie", "yi": "yid", "zh": "chi",
}  # fmt: skip
# ISO 639-2/T codes whose MARC (639-2/B) code differs.
TERMINOLOGIC_TO_MARC: dict[str, str] = {
    "bod": "tib", "ces": "cze", "cym": "wel", "deu": "ger", "ell": "gre", "eus": "baq", "fas": "per",
    "fra": "fre", "hye": "arm", "isl": "ice", "kat": "geo", "mkd": "mac", "mri": "mao", "msa": "may",
    "mya": "bur", "nld": "dut", "ron": "rum", "slk": "slo", "sqi": "alb", "zho": "chi",
}  # fmt: skip
# A language tag: a 2- or 3-letter primary subtag, then RFC 4646 subtags ("en", "fr-FR", "fra").
_LANGUAGE_TAG_RE = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*$")


def language_code(value: str) -> str | None:
    """The MARC language code for a language tag or code, ``None`` for anything else (a name)."""
    match = _LANGUAGE_TAG_RE.match(value.strip().lower())
    if not match:
        return None
    primary = match.group(1)
    if len(primary) == 2:
        return ISO_639_1.get(primary)
    return TERMINOLOGIC_TO_MARC.get(primary, primary)


# -- dc:identifier ---------------------------------------------------------------------------------

_ISBN_LABEL_RE = re.compile(r"^(?:urn:isbn:|isbn(?:-?1[03](?!\d))?\s*:?\s*)(?P<rest>.*)$", re.IGNORECASE)
_ISSN_LABEL_RE = re.compile(r"^(?:urn:[el]?issn:|(?:[el]-?)?issn\s*:?\s*)(?P<rest>.*)$", re.IGNORECASE)
_DOI_RE = re.compile(r"^(?:doi:\s*|info:doi/)(?P<doi>10\.\S+)$", re.IGNORECASE)
_URL_RE = re.compile(r"^(?:https?|ftp)://\S+$", re.IGNORECASE)
_BARE_ISBN_RE = re.compile(r"^[0-9][0-9 -]{8,15}[0-9Xx]$")
_BARE_ISSN_RE = re.compile(r"^[0-9]{4}-[0-9]{3}[0-9Xx]$")
# A subject given as a code: a URI of a scheme that never starts a heading.
_CODED_SUBJECT_RE = re.compile(r"^(?:info|urn|https?|ftp):\S+$", re.IGNORECASE)
_EU_REPO_CLASS_RE = re.compile(r"^info:eu-repo/(?:classification|authority)/(?P<scheme>[^/]+)/(?P<code>.+)$")
_MEDIA_TYPE_RE = re.compile(r"^[a-z]+/[a-z0-9][a-z0-9.+-]*(?:\s*;.*)?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DcValue:
    """One non-empty Dublin Core element: its name (``title``…), its text, its ``xml:lang``."""

    element: str
    text: str
    lang: str | None = None


@dataclass(slots=True)
class _Identifiers:
    """Where a record's identifiers go, by MARC tag."""

    isbns: list[DataField] = field(default_factory=list)  # 020
    issns: list[DataField] = field(default_factory=list)  # 022
    others: list[DataField] = field(default_factory=list)  # 024
    series: list[DataField] = field(default_factory=list)  # 490
    host: list[DataField] = field(default_factory=list)  # 773
    urls: list[DataField] = field(default_factory=list)  # 856


def read_oai_dc(raw: bytes, warnings: list[str] | None = None) -> list[DcValue]:
    """The non-empty Dublin Core elements of an ``oai_dc`` record, in document order.

    ``raw`` is the ``<oai_dc:dc>`` element (or any XML holding one, such as an OAI-PMH ``<record>``);
    a ``dc``-namespaced element list under another root is read too. Raises :class:`RecordError`
    when the XML cannot be read or holds no Dublin Core.
    """
    notes = warnings if warnings is not None else []
    try:
        root = etree.fromstring(raw, _XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise RecordError(f"oai_dc record is not well-formed XML: {exc}") from exc
    container = _find_container(root)
    values: list[DcValue] = []
    for child in container:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        qname = etree.QName(tag)
        if qname.namespace not in (DC_NS, DCTERMS_NS) or qname.localname not in ELEMENTS:
            where = qname.namespace or "no namespace"
            notes.append(f"<{qname.localname}> ({where}) is not a Dublin Core element; ignored")
            continue
        text = _clean("".join(child.itertext()))
        if text:
            values.append(DcValue(qname.localname, text, child.get(XML_LANG) or None))
    return values


def _find_container(root: etree._Element) -> etree._Element:
    """The ``oai_dc:dc`` element (the root or below it), else a root whose children are DC elements."""
    for element in root.iter("{" + OAI_DC_NS + "}dc"):
        return element
    namespaces = (DC_NS, DCTERMS_NS)
    if any(isinstance(child.tag, str) and etree.QName(child.tag).namespace in namespaces for child in root):
        return root
    name = etree.QName(root.tag).localname if isinstance(root.tag, str) else "?"
    raise RecordError(f"no <oai_dc:dc> element and no Dublin Core elements (root is <{name}>)")


def _clean(text: str) -> str:
    collapsed = " ".join(text.split())
    return collapsed if collapsed.isascii() else unicodedata.normalize("NFC", collapsed)


def dublin_core_to_marc(raw: bytes, wanted: Container[str] | None = None) -> MarcFields:
    """Read an ``oai_dc`` record and cross it to MARC 21, keeping the fields whose tag is ``wanted``."""
    warnings: list[str] = []
    values = read_oai_dc(raw, warnings)
    decoded = crosswalk(values)
    decoded.warnings[:0] = warnings
    if wanted is not None:
        decoded.fields = [(tag, content) for tag, content in decoded.fields if tag in wanted]
    return decoded


def crosswalk(values: Sequence[DcValue]) -> MarcFields:
    """Dublin Core elements → a MARC 21 leader and fields, in tag order (mapping in the module doc)."""
    elements: dict[str, list[DcValue]] = {}
    for value in values:
        elements.setdefault(value.element, []).append(value)

    def texts(name: str) -> list[str]:
        return [value.text for value in elements.get(name, ())]

    titles = elements.get("title", [])
    if not titles:
        raise RecordError("oai_dc record has no dc:title (none, or only empty ones): it cannot be catalogued")
    record_type, level = leader_type(texts("type"))
    codes, language_notes = _languages(texts("language"))
    identifiers = _identifiers(texts("identifier"), level)

    fields: list[tuple[str, FieldContent]] = []

    def add(tag: str, indicators: str, *subfields: tuple[str, str]) -> None:
        fields.append((tag, (indicators, list(subfields))))

    fields.extend(("020", isbn) for isbn in identifiers.isbns)
    fields.extend(("022", issn) for issn in identifiers.issns)
    fields.extend(("024", other) for other in identifiers.others)
    for code in codes:
        add("041", "0 ", ("a", code))
    add("042", "  ", ("a", "dc"))
    for subject in texts("subject"):
        if _CODED_SUBJECT_RE.match(subject):
            classification = _EU_REPO_CLASS_RE.match(subject)
            if classification:
                add("084", "  ", ("a", classification["code"]), ("2", classification["scheme"]))
            else:
                add("084", "  ", ("a", subject))
    proper = _title_proper(titles, codes)
    add("245", "00", ("a", titles[proper].text))
    for position, title in enumerate(titles):
        if position != proper:
            parallel = title.lang and titles[proper].lang and title.lang != titles[proper].lang
            add("246", "31" if parallel else "33", ("a", title.text))
    fields.extend(_imprints(texts("publisher"), texts("date")))
    for extent in texts("format"):
        if not _MEDIA_TYPE_RE.match(extent):
            add("300", "  ", ("a", extent))
    fields.extend(("490", series) for series in identifiers.series)
    for coverage in texts("coverage"):
        add("500", "  ", ("a", coverage))
    for description in texts("description"):
        add("520", "  ", ("a", description))
    for rights in texts("rights"):
        add("540", "  ", ("a", rights))
    for note in language_notes:
        add("546", "  ", ("a", note))
    for subject in texts("subject"):
        if not _CODED_SUBJECT_RE.match(subject):
            add("653", "  ", ("a", subject))
    for creator in texts("creator"):
        add("720", "  ", ("a", creator), ("e", "author"))
    for contributor in texts("contributor"):
        add("720", "  ", ("a", contributor))
    fields.extend(("773", host) for host in identifiers.host)
    for source in texts("source"):
        add("786", "0 ", ("n", source))
    for relation in texts("relation"):
        add("787", "0 ", ("n", relation))
    fields.extend(("856", url) for url in identifiers.urls)
    for media_type in texts("format"):
        if _MEDIA_TYPE_RE.match(media_type):
            add("856", "  ", ("q", media_type))
    leader = f"00000n{record_type}{level} a22000003u 4500"
    return MarcFields(leader, fields)


def _languages(values: Sequence[str]) -> tuple[list[str], list[str]]:
    """MARC codes for the values that are language codes, and the others as they are (notes)."""
    codes: dict[str, None] = {}
    notes: list[str] = []
    for value in values:
        code = language_code(value)
        if code:
            codes.setdefault(code, None)
        else:
            notes.append(value)
    return list(codes), notes


def _title_proper(titles: Sequence[DcValue], languages: Sequence[str]) -> int:
    """The title in the resource's language (by ``xml:lang``) when there is one, else the first."""
    if len(titles) > 1 and languages:
        for position, title in enumerate(titles):
            if title.lang and language_code(title.lang) in languages:
                return position
    return 0


def _imprints(publishers: Sequence[str], dates: Sequence[str]) -> list[tuple[str, FieldContent]]:
    """260 fields: the first publisher with the first date, then one field for each further value."""
    if not publishers and not dates:
        return []
    first: Subfields = []
    if publishers:
        first.append(("b", publishers[0]))
    if dates:
        first.append(("c", dates[0]))
    imprints: list[tuple[str, FieldContent]] = [("260", ("  ", first))]
    imprints.extend(("260", ("  ", [("b", publisher)])) for publisher in publishers[1:])
    imprints.extend(("260", ("  ", [("c", date)])) for date in dates[1:])
    return imprints


def _identifiers(values: Sequence[str], level: str) -> _Identifiers:
    """Each identifier where MARC keeps it; a component part's ISBN and ISSN are its host's (773)."""
    found = _Identifiers()
    part = level in ("a", "b")
    serial = level in ("s", "i")
    for value in values:
        labelled_isbn = _ISBN_LABEL_RE.match(value)
        labelled_issn = None if labelled_isbn else _ISSN_LABEL_RE.match(value)
        if labelled_isbn or (_BARE_ISBN_RE.match(value) and normalize_isbn(value)):
            isbn = labelled_isbn["rest"].strip() if labelled_isbn else value
            if not isbn:
                continue
            if normalize_isbn(isbn) is None:
                found.isbns.append(("  ", [("z", isbn)]))
            elif part:
                found.host.append(("0 ", [("z", isbn)]))
            else:
                found.isbns.append(("  ", [("a", isbn)]))
        elif labelled_issn or (_BARE_ISSN_RE.match(value) and normalize_issn(value)):
            issn = labelled_issn["rest"].strip() if labelled_issn else value
            if not issn:
                continue
            if part:
                found.host.append(("0 ", [("x", issn)]))
            elif not serial:
                found.series.append(("0 ", [("x", issn)]))
            elif normalize_issn(issn) is None:
                found.issns.append(("  ", [("y", issn)]))
            else:
                found.issns.append(("  ", [("a", issn)]))
        elif doi := _DOI_RE.match(value):
            found.others.append(("7 ", [("a", doi["doi"]), ("2", "doi")]))
        elif _URL_RE.match(value):
            found.urls.append(("40", [("u", value)]))
        else:
            found.others.append(("8 ", [("a", value)]))
    return found

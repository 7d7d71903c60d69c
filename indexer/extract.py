"""One parsed MARC record + its source's profile → normalised fields, holdings and merge keys.

Everything here is a pure function of the record and the profile, so a re-index with a better map
gives the same answer for the same record, and the work can be spread over processes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import pymarc

from indexer.marc import DataField, FieldContent, MarcFields, from_pymarc
from indexer.profiles import ContributorMap, FieldReader, FieldSpec, HoldingsMap, MarcProfile
from unicat.availability import AVAILABILITY, AVAILABLE
from unicat.identifiers import normalize_ean, normalize_isbn, normalize_issn, normalize_system_number
from unicat.model import Contributor, Holding, Source

# ISBD punctuation that only separates the element from the next one: " /", " :", " ;", " =", ",".
_TRAILING_SEPARATOR_RE = re.compile(r"(?:\s+[/:;=]|\s*,)$")
# A final period ends a sentence after a digit, a bracket or a word of 4+ letters; after "ed", "Co",
# "J" or "U.S.A" it ends an abbreviation or an initial and stays.
_TRAILING_PERIOD_RE = re.compile(r"(?:(?<=[\d)\]])|(?<=[^\W\d_]{4}))\.$")
_YEAR_RE = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_LANGUAGE_RE = re.compile(r"^\s*([A-Za-z]{3})")
_ISBD_ENDINGS = ("/", ":", ";", "=", ",", ".")
MIN_YEAR, MAX_YEAR = 1000, 2100


@dataclass(slots=True)
class ExtractedRecord:
    """The normalised content of one source record, ready to be merged with its other copies."""

    source: str
    local_id: str
    datestamp: str | None
    title: str
    format: str
    responsibility: str | None = None
    authors: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    isbns: list[str] = field(default_factory=list)
    issns: list[str] = field(default_factory=list)
    eans: list[str] = field(default_factory=list)
    system_numbers: list[str] = field(default_factory=list)
    lccns: list[str] = field(default_factory=list)
    year: int | None = None
    language: str | None = None
    publisher: str | None = None
    place: str | None = None
    edition: str | None = None
    series: list[str] = field(default_factory=list)
    physical: str | None = None
    notes: list[str] = field(default_factory=list)
    holdings: list[Holding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # What deduplication compares besides the identifiers: the title without subtitle or part, and
    # the numbers and names of parts (volume 2 of a set is not volume 1).
    title_proper: str | None = None
    parts: list[str] = field(default_factory=list)
    # Names with their roles, other titles (uniform, variant, parallel), and what coded data says of
    # the format (large print, braille, online…): for display and search, not for deduplication.
    contributors: list[Contributor] = field(default_factory=list)
    other_titles: list[str] = field(default_factory=list)
    format_detail: str | None = None
    # Coded data (unicat.fields.CODED_FIELDS), each value of the field's vocabulary.
    audience: list[str] = field(default_factory=list)
    # Read with another flavour (MARC 21, UNIMARC) than its source declares (indexer.flavour).
    flavour_corrected: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.local_id)

    def __reduce__(self) -> tuple[type[ExtractedRecord], tuple[Any, ...]]:
        """Pickled as the constructor's arguments: every parsed record crosses from a worker process
        to the indexer, and the default pickling of a slotted dataclass cost more than parsing it.
        (Compiled by mypyc, the class has no ``__slots__`` to read the names from.)"""
        return (ExtractedRecord, tuple(getattr(self, name) for name in _EXTRACTED_FIELDS))


_EXTRACTED_FIELDS = tuple(item.name for item in fields(ExtractedRecord))


def strip_isbd(value: str) -> str:
    """Whitespace collapsed and the ISBD punctuation that ends an element removed."""
    text = " ".join(value.split())
    # Both patterns need one of these last: most values end otherwise and skip the regexes.
    if not text.endswith(_ISBD_ENDINGS):
        return text
    while True:
        stripped = _TRAILING_PERIOD_RE.sub("", _TRAILING_SEPARATOR_RE.sub("", text)).rstrip()
        if stripped == text:
            return text
        text = stripped


def extract(
    record: pymarc.Record, profile: MarcProfile, source: Source, local_id: str, datestamp: str | None = None
) -> ExtractedRecord:
    """Map one pymarc record with ``profile``; holdings belong to ``source``."""
    return extract_fields(from_pymarc(record), profile, source, local_id, datestamp)


def extract_fields(
    record: MarcFields, profile: MarcProfile, source: Source, local_id: str, datestamp: str | None = None
) -> ExtractedRecord:
    """Map one decoded record with ``profile``; holdings belong to ``source``."""
    found = _read_fields(record, profile)

    def values(name: str) -> list[str]:
        buckets = found.get(name)
        if not buckets:
            return []
        if len(buckets) == 1:
            return next(iter(buckets.values()))
        return [value for position in sorted(buckets) for value in buckets[position]]

    def first(name: str) -> str | None:
        buckets = found.get(name)
        return buckets[min(buckets)][0] if buckets else None

    result = ExtractedRecord(
        source=source.code,
        local_id=local_id,
        datestamp=datestamp,
        title=first("title") or "",
        format=_format(record.leader, record, profile),
        responsibility=first("responsibility"),
        authors=_unique(values("authors")),
        subjects=_unique(values("subjects")),
        isbns=_unique(normalize_isbn(v) for v in values("isbns")),
        issns=_unique(normalize_issn(v) for v in values("issns")),
        eans=_unique(normalize_ean(v) for v in values("eans")),
        system_numbers=_unique(normalize_system_number(v) for v in values("system_numbers")),
        lccns=_unique(normalize_lccn(v) for v in values("lccn")),
        year=_year(values("year")),
        language=_language(values("language")),
        publisher=first("publisher"),
        place=first("place"),
        edition=first("edition"),
        series=_unique(values("series")),
        physical=first("physical"),
        notes=_unique(values("notes")),
        title_proper=first("title_proper"),
        parts=_unique(values("parts")),
        other_titles=_unique(values("other_titles")),
        contributors=_contributors(record, profile),
    )
    result.format_detail = _format_detail(record, profile, result.format)
    for name, coded in _coded(record, profile, result.format).items():
        setattr(result, name, coded)
    result.holdings = _holdings(record, profile.holdings, source, profile.libraries) or [
        Holding(library=source.code, library_name=source.name, call_number=first("call_number"))
    ]
    if not result.title:
        result.warnings.append("no title")
    return result


# Output field → spec position → its non-empty values, in the record's field order.
_Found = dict[str, dict[int, list[str]]]


def _read_fields(record: MarcFields, profile: MarcProfile) -> _Found:
    """Every value every spec of ``profile`` gives, reading each field of the record once."""
    found: _Found = {}
    readers = profile.readers
    leader_readers = readers.get("LDR")
    if leader_readers:
        for reader in leader_readers:
            _keep(found, reader, _slice(record.leader, reader.spec))
    for tag, content in record.fields:
        tag_readers = readers.get(tag)
        if tag_readers is None:
            continue
        for reader in tag_readers:
            value = _field_value(content, reader.spec, reader.join, reader.subdivisions)
            if value:
                _keep(found, reader, value)
    return found


def _keep(found: _Found, reader: FieldReader, value: str) -> None:
    buckets = found.get(reader.name)
    if buckets is None:
        found[reader.name] = {reader.position: [value]}
    elif reader.position in buckets:
        buckets[reader.position].append(value)
    else:
        buckets[reader.position] = [value]


def _field_value(content: FieldContent, spec: FieldSpec, join: str, subdivisions: str) -> str:
    """What one spec reads in one field, ISBD punctuation stripped ('' for nothing).

    Subfields are joined by ``join``; when ``subdivisions`` names codes, ``join`` goes only before
    those (subject subdivisions $v $x $y $z) and a space before the others (the parts of a name).
    """
    if isinstance(content, str):
        return strip_isbd(_slice(content, spec))
    codes = spec.codes
    parts = [
        (code, text)
        for code, text in content[1]
        if (code in codes if codes else code.isalpha()) and text and not text.isspace()
    ]
    if not parts:
        return ""
    if spec.start is not None:
        value = _slice(parts[0][1], spec)
    elif len(parts) == 1:
        value = parts[0][1]
    elif subdivisions:
        value = parts[0][1] + "".join(
            (join if code in subdivisions else " ") + text for code, text in parts[1:]
        )
    else:
        value = join.join(text for _, text in parts)
    return strip_isbd(value)


def normalize_lccn(value: str) -> str | None:
    """An LCCN (010 $a) without blanks and revision suffix, e.g. ``"   79012345 /AC"`` → ``79012345``."""
    compact = value.split("/")[0].replace(" ", "").lower()
    return compact if any(ch.isdigit() for ch in compact) else None


def _unique(values: Iterable[str | None]) -> list[str]:
    """Values in first-seen order, each once, empties dropped."""
    seen: dict[str, None] = {}
    for value in values:
        if value:
            seen.setdefault(value, None)
    return list(seen)


def _slice(text: str, spec: FieldSpec) -> str:
    if spec.start is None:
        return text
    end = spec.end if spec.end is not None else spec.start
    return text[spec.start : end + 1]


def _year(values: Sequence[str]) -> int | None:
    for value in values:
        match = _YEAR_RE.search(value)
        if match and MIN_YEAR <= int(match.group(1)) <= MAX_YEAR:
            return int(match.group(1))
    return None


def _language(values: Sequence[str]) -> str | None:
    for value in values:
        match = _LANGUAGE_RE.match(value)
        if match:
            return match.group(1).lower()
    return None


def _format(leader: str, record: MarcFields, profile: MarcProfile) -> str:
    spec = profile.format_spec
    if spec.tag == "LDR":
        code = _slice(leader, spec)
    else:
        code = next(
            (
                value
                for tag, content in record.fields
                if tag == spec.tag
                if (value := _field_value(content, spec, "", ""))
            ),
            "",
        )
    for rule in profile.format_rules:
        if rule.pattern.fullmatch(code):
            return rule.format
    return profile.default_format


def _format_detail(record: MarcFields, profile: MarcProfile, format_name: str) -> str | None:
    """The first refinement of ``format_name`` whose coded value the record carries."""
    for detail in profile.format_details:
        if detail.formats and format_name not in detail.formats:
            continue
        value = _first_value(record, detail.spec)
        if value and detail.pattern.fullmatch(value):
            return detail.detail
    return None


def _first_value(record: MarcFields, spec: FieldSpec) -> str:
    """What ``spec`` reads in the first field of its tag (coded data is not repeated)."""
    if spec.tag == "LDR":
        return _slice(record.leader, spec)
    for tag, content in record.fields:
        if tag == spec.tag:
            return _slice(content, spec) if isinstance(content, str) else _field_value(content, spec, "", "")
    return ""


def _coded(record: MarcFields, profile: MarcProfile, format_name: str) -> dict[str, list[str]]:
    """Each coded field's values: what the codes the profile's ``[[coded]]`` entries read stand for,
    each once, in entry and code order."""
    found: dict[str, list[str]] = {}
    for entry in profile.coded:
        if entry.formats and format_name not in entry.formats:
            continue
        values = found.setdefault(entry.field, [])
        for code in _first_value(record, entry.spec):
            value = entry.values.get(code)
            if value is not None and value not in values:
                values.append(value)
    return found


def _contributors(record: MarcFields, profile: MarcProfile) -> list[Contributor]:
    """Every name of the mapped name tags with its role, in record order, each pair once."""
    maps = {entry.spec.tag: entry for entry in profile.contributors}
    if not maps:
        return []
    found: dict[tuple[str, str | None], None] = {}
    for tag, content in record.fields:
        entry = maps.get(tag)
        if entry is None or isinstance(content, str):
            continue
        name = _field_value(content, entry.spec, entry.join, "")
        if name:
            found.setdefault((name, _role(content, entry, profile.relators)), None)
    return [Contributor(name, role) for name, role in found]


def _role(content: DataField, entry: ContributorMap, relators: Mapping[str, str]) -> str | None:
    """The role in words: relator codes the profile knows, else the terms as written, else the codes.

    Codes are compared in lower case without trailing punctuation, and a code given as a URI
    (``http://id.loc.gov/vocabulary/relators/ill``) by its last segment.
    """
    known: list[str] = []
    unknown: list[str] = []
    terms: list[str] = []
    for code, text in content[1]:
        value = text.strip()
        if not value:
            continue
        if code in entry.role_codes:
            relator = value.rstrip("/").rsplit("/", 1)[-1].strip(" .,;").casefold()
            word = relators.get(relator)
            if word is not None:
                known.append(word)
            else:
                unknown.append(value.strip(" .,;"))
        elif code in entry.role_terms:
            term = strip_isbd(value).strip(" ,;()")
            if term:
                terms.append(term)
    roles = _unique(known or terms or unknown)
    return ", ".join(roles) if roles else None


def _holding_attributes(content: DataField, mapping: HoldingsMap) -> dict[str, str]:
    attributes: dict[str, str] = {}
    subfields = content[1]
    for name, alternatives in mapping.attributes.items():
        for codes in alternatives:
            value = " ".join(
                " ".join(text.split())
                for code, text in subfields
                if code in codes and text and not text.isspace()
            )
            if value:
                attributes[name] = value
                break
    return attributes


@dataclass(slots=True)
class _Copy:
    """A holding being read: its attributes, its holdings fields' subfields and its item fields'."""

    attributes: dict[str, str]
    fields: list[Sequence[tuple[str, str]]] = field(default_factory=list)
    items: list[tuple[str, Sequence[tuple[str, str]]]] = field(default_factory=list)


def _holdings(
    record: MarcFields, maps: Sequence[HoldingsMap], source: Source, libraries: Mapping[str, str]
) -> list[Holding]:
    """Holdings of the first mapped tag present; a split holding's parts are put back together.

    A branch or depositary code in the source's ``[libraries]`` gets its name from there; a name the
    field itself gives is kept otherwise. Each copy's status comes from the map's status rules.
    """
    for mapping in maps:
        found: list[_Copy] = []
        pending: _Copy | None = None
        item_tags = mapping.item_tags
        for tag, content in record.fields:
            if isinstance(content, str):
                continue
            if tag in item_tags:
                # An item field (MARC 21 876-878) belongs to the holding field before it.
                owner = found[-1] if found else pending
                if owner is not None:
                    owner.items.append((tag, content[1]))
                continue
            if tag != mapping.tag:
                continue
            attributes = _holding_attributes(content, mapping)
            if not attributes:
                continue
            if mapping.split and "branch" not in attributes:
                # Two parts may carry the same attribute (a shelf mark in $c of one 852, a
                # sublocation in $b of the next): both are kept, in field order.
                pending = pending or _Copy({})
                for name, value in attributes.items():
                    held = pending.attributes
                    held[name] = f"{held[name]} {value}" if name in held else value
                pending.fields.append(content[1])
                continue
            copy = _Copy(attributes, [content[1]])
            if pending is not None:
                copy = _Copy(
                    {**pending.attributes, **attributes}, [*pending.fields, content[1]], pending.items
                )
                pending = None
            found.append(copy)
        if pending is not None:
            if found:
                last = found[-1]
                found[-1] = _Copy(
                    {**pending.attributes, **last.attributes},
                    [*last.fields, *pending.fields],
                    [*last.items, *pending.items],
                )
            else:
                found.append(pending)
        if found:
            holdings: list[Holding] = []
            for copy in found:
                attrs = copy.attributes
                if libraries:
                    _name_libraries(attrs, libraries)
                status = copy_status(mapping, copy.fields, copy.items)
                due = _iso_date(attrs.pop("due_date", None))
                holdings.append(
                    Holding(
                        library=source.code,
                        library_name=source.name,
                        status=status,
                        due_date=due if status == "on_loan" else None,
                        **attrs,
                    )
                )
            return holdings
    return []


def copy_status(
    mapping: HoldingsMap,
    fields: Sequence[Sequence[tuple[str, str]]],
    items: Sequence[tuple[str, Sequence[tuple[str, str]]]],
) -> str | None:
    """The status of one copy: read from its holdings fields and, when it has item fields, from each
    item with them, the best item's (an available item makes the holding available)."""
    if not mapping.status_rules and not mapping.circulation:
        return None
    own = [(mapping.tag, subfields) for subfields in fields]
    if not items:
        return _status(mapping, own)
    statuses = {_status(mapping, [*own, item]) for item in items}
    return next((status for status in AVAILABILITY if status in statuses), None)


def _status(mapping: HoldingsMap, fields: Sequence[tuple[str, Sequence[tuple[str, str]]]]) -> str | None:
    for rule in mapping.status_rules:
        if any(rule.matches(tag, subfields) for tag, subfields in fields):
            return rule.status
    for spec in mapping.circulation:
        for tag, subfields in fields:
            if tag == spec.tag and any(
                (not spec.codes or code in spec.codes) and text.strip() for code, text in subfields
            ):
                return AVAILABLE
    return None


_ISO_DATE_RE = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})")


def _iso_date(value: str | None) -> str | None:
    """A due date as ISO 8601 (``2026-12-24``) from ``2026-12-24``, ``20261224`` or a timestamp that
    starts with either; anything else is not a date a reader could be shown."""
    if value is None:
        return None
    match = _ISO_DATE_RE.match(value.strip())
    if not match:
        return None
    year, month, day = match.groups()
    if not ("01" <= month <= "12" and "01" <= day <= "31"):
        return None
    return f"{year}-{month}-{day}"


def _name_libraries(attributes: dict[str, str], libraries: Mapping[str, str]) -> None:
    for code_key, name_key in (("branch", "branch_name"), ("depositary", "depositary_name")):
        code = attributes.get(code_key)
        if code is not None and code in libraries:
            attributes[name_key] = libraries[code]

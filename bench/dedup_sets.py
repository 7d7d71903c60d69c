"""Evaluation sets for deduplication: real records with a ground truth that does not come from Unicat.

Three sets, each a list of :class:`LabelledRecord` (the raw record, the source that holds it, and
the edition it truly is):

- :func:`pride_and_prejudice` — the 383 records of ``dedup/pride-and-prejudice-fixed.mrc`` with the
  editions of ``bench/data/pride-and-prejudice-editions.tsv``, a ground truth made by hand from the
  records (how: that file's header). Each record is its own library: local ids repeat in the file.
- :func:`varied_copies` — real records of ``marc21/uva_001_2000.mrc`` (MARC-8) and of the UNIMARC
  files, each copied as one to three other libraries would catalogue the same edition (ISBN written
  as ISBN-10 or -13 with hyphens and qualifiers, or left out; subtitle dropped; another case, no
  diacritics; the publisher's name shortened; the extent and the date written otherwise; no 035 or
  LCCN), and given hard negatives that must NOT merge: a later edition, the volumes of a set that
  share the set's ISBN, a sound recording and a reissue by another publisher with the same title,
  author and year. The truth is known by construction: copies of one record are one edition, every
  variant is another. Records of the base files that already share an identifier or a title and
  year with another base record are left out (their truth is unknown).
- :func:`open_library` — the MARC test records of Open Library's catalogue importer
  (``bench/data/openlibrary/``, provenance in its README), written by many libraries (Library of
  Congress, Boston Public Library, Cornell, Toronto, Yale, Ithaca College, Western Washington, Talis
  customers…). Most are the records of books the Internet Archive scanned, named after the scan's
  identifier: ``<identifier>_meta.mrc`` (ISO 2709) and ``<identifier>_marc.xml`` (MARCXML) are the
  records of one scanned copy, fetched at different times and sometimes written differently (UTF-8
  encoded twice, an accented letter written otherwise, other local fields); ``new_<identifier>`` is a
  later fetch.
  Truth: **records named after the same identifier (file name less ``new_``, ``_meta.mrc`` and
  ``_marc.xml``) are one edition; every other file is an edition of its own.** (Checked: no two
  editions share an ISBN, LCCN, 001 or 035 number.) One near miss is real: two *Candide* (Dover 1991,
  ISBN 0486266893; another of 2005, ISBN 1416500308); the other editions are of other works. Records the
  MARC 21 standard says are not bibliographic (leader/06 ``q u v w x y z``) or without a title
  proper (no 245 $a) are left out, as ``unicat index`` sets them aside before it merges anything.

Everything here reads records with pymarc and its own few lines of normalisation, never with the
indexer under test. Deterministic for a given seed.
"""

from __future__ import annotations

import io
import logging
import random
import re
import sys
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import pymarc  # noqa: E402

from tests.support.shared_data import SHARED_DATA  # noqa: E402
from unicat.model import Profile, RecordSyntax  # noqa: E402

TRUTH_FILE = Path(__file__).resolve().parent / "data" / "pride-and-prejudice-editions.tsv"
PRIDE_FILE = "dedup/pride-and-prejudice-fixed.mrc"
END_OF_RECORD = b"\x1d"
LIBRARIES = tuple(f"LIB{number:02d}" for number in range(1, 13))


@dataclass(frozen=True, slots=True)
class LabelledRecord:
    """One source record of an evaluation set and the edition it truly is."""

    raw: bytes
    profile: Profile
    source: str
    local_id: str
    edition: str
    syntax: RecordSyntax = "iso2709"


@dataclass(frozen=True, slots=True)
class Shape:
    """Where a profile keeps what the variations change (tag, subfield)."""

    title: tuple[str, str]
    subtitle: tuple[str, str]
    part: tuple[str, str]
    isbn: tuple[str, str]
    publisher: tuple[str, str]
    date: tuple[str, str]
    extent: tuple[str, str]
    edition: tuple[str, str]
    holdings: tuple[str, str]
    fixed_year: tuple[str, int]  # control field or (tag "100" $a) and the offset of the year
    type_position: int


SHAPES: dict[Profile, Shape] = {
    "marc21": Shape(
        title=("245", "a"),
        subtitle=("245", "b"),
        part=("245", "n"),
        isbn=("020", "a"),
        publisher=("260", "b"),
        date=("260", "c"),
        extent=("300", "a"),
        edition=("250", "a"),
        holdings=("852", "a"),
        fixed_year=("008", 7),
        type_position=6,
    ),
    "unimarc": Shape(
        title=("200", "a"),
        subtitle=("200", "e"),
        part=("200", "h"),
        isbn=("010", "a"),
        publisher=("210", "c"),
        date=("210", "d"),
        extent=("215", "a"),
        edition=("205", "a"),
        holdings=("995", "b"),
        fixed_year=("100", 9),
        type_position=6,
    ),
}

# -- the Pride and Prejudice ground truth -------------------------------------------------------------


def pride_and_prejudice() -> list[LabelledRecord]:
    """The dedup file's records, each labelled with its edition from :data:`TRUTH_FILE`."""
    raws = _split(SHARED_DATA / PRIDE_FILE)
    edition = {position: f"pp{position:03d}" for position in range(len(raws))}
    for line in TRUTH_FILE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        group, positions, _ = line.split("\t", 2)
        for position in positions.split():
            edition[int(position)] = group
    return [
        LabelledRecord(raw, "marc21", f"P{position:03d}", "1", edition[position])
        for position, raw in enumerate(raws)
    ]


def _split(path: Path) -> list[bytes]:
    data = path.read_bytes()
    return [chunk + END_OF_RECORD for chunk in data.split(END_OF_RECORD) if chunk.strip()]


# -- the Open Library test records ------------------------------------------------------------------

OPEN_LIBRARY_DIR = Path(__file__).resolve().parent / "data" / "openlibrary"
NOT_BIBLIOGRAPHIC = frozenset("quvwxyz")  # MARC 21 leader/06 of authority, holdings and other formats


def open_library() -> list[LabelledRecord]:
    """Every file of :data:`OPEN_LIBRARY_DIR` (one record each) that is a titled bibliographic record,
    labelled with the scan identifier its file is named after (see the module's docstring)."""
    records = []
    for number, path in enumerate(sorted(OPEN_LIBRARY_DIR.glob("*.*"))):
        if path.suffix not in {".mrc", ".xml"}:
            continue
        syntax: RecordSyntax = "marcxml" if path.suffix == ".xml" else "iso2709"
        raw = path.read_bytes()
        record = _one_record(raw, syntax)
        if str(record.leader)[6] in NOT_BIBLIOGRAPHIC or not _first(record, ("245", "a")).strip():
            continue
        records.append(
            LabelledRecord(raw, "marc21", f"OL{number:03d}", "1", scan_identifier(path.name), syntax)
        )
    return records


def scan_identifier(name: str) -> str:
    """The edition a file of the Open Library set records: its name less ``new_`` and the suffixes."""
    name = name.removeprefix("new_")
    return re.sub(r"(_meta\.mrc|_marc\.xml|\.mrc|\.xml)$", "", name)


def _one_record(raw: bytes, syntax: RecordSyntax) -> pymarc.Record:
    """The file's single record, read by pymarc (UTF-8 when leader/09 says so, else MARC-8). Some of
    these records have damaged fields, which pymarc reports and reads anyway: quietly, here."""
    with warnings.catch_warnings(), _quiet(logging.getLogger("pymarc")):
        warnings.simplefilter("ignore")
        if syntax == "marcxml":
            read_xml: Callable[[object], list[pymarc.Record]] = pymarc.parse_xml_to_array  # untyped
            records = read_xml(io.BytesIO(raw))
        else:
            records = [pymarc.Record(data=raw, to_unicode=True, force_utf8=raw[9:10] == b"a")]
    if len(records) != 1:
        raise ValueError(f"expected one record per file of the Open Library set, found {len(records)}")
    return records[0]


@contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


# -- the varied copies --------------------------------------------------------------------------------

BASE_FILES: tuple[tuple[str, Profile], ...] = (
    ("marc21/uva_001_2000.mrc", "marc21"),
    ("unimarc/cotesX.mrc", "unimarc"),
    ("unimarc/cotesD.mrc", "unimarc"),
)


def varied_copies(seed: int = 1) -> list[LabelledRecord]:
    """The second evaluation set (see the module's docstring), the same one for the same ``seed``."""
    rng = random.Random(seed)
    records: list[LabelledRecord] = []
    for number, (profile, base) in enumerate(_distinct_bases()):
        shape = SHAPES[profile]
        libraries = rng.sample(LIBRARIES, 6)
        label = f"e{number:05d}"
        records.append(_labelled(base, profile, libraries[0], f"{label}-0", label))
        for copy in range(1, _copies(rng) + 1):
            varied = _copy_of(rng, base, shape)
            records.append(_labelled(varied, profile, libraries[copy], f"{label}-{copy}", label))
        for kind, variant in _negatives(rng, base, shape, number):
            variant_label = f"{label}{kind}"
            records.append(_labelled(variant, profile, libraries[4], f"{variant_label}-0", variant_label))
            if rng.random() < 0.3:
                varied = _copy_of(rng, variant, shape)
                records.append(_labelled(varied, profile, libraries[5], f"{variant_label}-1", variant_label))
    return records


def _copies(rng: random.Random) -> int:
    """How many other libraries hold the same edition: none for half the titles, as in a network."""
    draw = rng.random()
    return 0 if draw < 0.5 else 1 if draw < 0.8 else 2 if draw < 0.95 else 3


def _labelled(
    record: pymarc.Record, profile: Profile, library: str, local_id: str, edition: str
) -> LabelledRecord:
    record = _with_holding(record, SHAPES[profile], library)
    if profile == "marc21":  # written as UTF-8, and said so
        record.leader = pymarc.Leader(str(record.leader)[:9] + "a" + str(record.leader)[10:])
    else:
        _edit(
            record,
            ("100", "a"),
            lambda value: value[:26] + "50  " + value[30:] if len(value) >= 30 else value,
        )
    return LabelledRecord(record.as_marc(), profile, library, local_id, edition)


def _with_holding(record: pymarc.Record, shape: Shape, library: str) -> pymarc.Record:
    copy = _clone(record)
    for tag in ("852", "949", "952", "995"):
        copy.remove_fields(tag)
    tag, code = shape.holdings
    copy.add_ordered_field(pymarc.Field(tag, pymarc.Indicators(" ", " "), [pymarc.Subfield(code, library)]))
    return copy


def _clone(record: pymarc.Record) -> pymarc.Record:
    return pymarc.Record(data=record.as_marc(), to_unicode=True, force_utf8=True)


def _read(path: Path, profile: Profile) -> Iterator[pymarc.Record]:
    """The readable records of a base file (MARC21 in MARC-8 or UTF-8 as leader/09 says; the UNIMARC
    files are UTF-8, whatever their 100 $a declares, see shared/data/INDEX.md)."""
    for raw in _split(path):
        try:
            record = pymarc.Record(
                data=raw, to_unicode=True, force_utf8=profile == "unimarc" or raw[9:10] == b"a"
            )
        except Exception:  # an unreadable base record is left out
            continue
        if _first(record, SHAPES["marc21"].title if record.get_fields("245") else ("200", "a")):
            yield record


def _distinct_bases() -> list[tuple[Profile, pymarc.Record]]:
    """Base records that share no ISBN, and no title with the same year, with any other base."""
    bases = [
        (profile, record) for name, profile in BASE_FILES for record in _read(SHARED_DATA / name, profile)
    ]
    seen_isbn: dict[str, int] = {}
    seen_title: dict[tuple[str, str], int] = {}
    for profile, record in bases:
        shape = SHAPES[profile]
        for isbn in _isbn_digits(record, shape):
            seen_isbn[isbn] = seen_isbn.get(isbn, 0) + 1
        key = (_folded(_first(record, shape.title)), _year(record, shape))
        seen_title[key] = seen_title.get(key, 0) + 1
    return [
        (profile, record)
        for profile, record in bases
        if all(seen_isbn[isbn] == 1 for isbn in _isbn_digits(record, SHAPES[profile]))
        and seen_title[(_folded(_first(record, SHAPES[profile].title)), _year(record, SHAPES[profile]))] == 1
    ]


def _first(record: pymarc.Record, where: tuple[str, str]) -> str:
    for field in record.get_fields(where[0]):
        values = field.get_subfields(where[1])
        if values:
            return str(values[0])
    return ""


def _isbn_digits(record: pymarc.Record, shape: Shape) -> list[str]:
    """ISBN bodies (the 9 digits an ISBN-10 and its ISBN-13 share), read with a regex of our own."""
    found = []
    for field in record.get_fields(shape.isbn[0]):
        for value in field.get_subfields(shape.isbn[1]):
            digits = re.sub(r"[^0-9Xx]", "", value.split(" ")[0])
            if len(digits) == 10:
                found.append(digits[:9])
            elif len(digits) == 13:
                found.append(digits[3:12])
    return found


def _folded(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(re.findall(r"[a-z0-9]+", plain))


def _year(record: pymarc.Record, shape: Shape) -> str:
    tag, offset = shape.fixed_year
    if tag < "010":
        fields = record.get_fields(tag)
        return fields[0].data[offset : offset + 4] if fields and fields[0].data else ""
    return _first(record, (tag, "a"))[offset : offset + 4]


# -- what another library's record of the same edition looks like -------------------------------------


Variation = Callable[[random.Random, pymarc.Record, Shape], None]


def _copy_of(rng: random.Random, record: pymarc.Record, shape: Shape) -> pymarc.Record:
    copy = _clone(record)
    copy.remove_fields("001", "003", "005")
    for variation in rng.sample(VARIATIONS, rng.randint(2, 4)):
        variation(rng, copy, shape)
    return copy


def _edit(record: pymarc.Record, where: tuple[str, str], change: Callable[[str], str | None]) -> None:
    """Apply ``change`` to every ``where`` subfield; ``None`` removes the subfield."""
    for field in record.get_fields(where[0]):
        kept = []
        for subfield in field.subfields:
            if subfield.code == where[1]:
                value = change(subfield.value)
                if value is None:
                    continue
                subfield = pymarc.Subfield(subfield.code, value)
            kept.append(subfield)
        field.subfields = kept


def _isbn_form(rng: random.Random, record: pymarc.Record, shape: Shape) -> None:
    """ISBN-10 as ISBN-13 with hyphens, or ISBN-13 as ISBN-10, with or without a qualifier."""

    def rewrite(value: str) -> str:
        digits = re.sub(r"[^0-9Xx]", "", value.split(" ")[0]).upper()
        qualifier = rng.choice(["", " (pbk.)", " (hbk.)", " : £5.99"])
        if len(digits) == 10:
            body = "978" + digits[:9]
            check = (10 - sum((3 if i % 2 else 1) * int(d) for i, d in enumerate(body)) % 10) % 10
            return f"{body[:3]}-{body[3]}-{body[4:7]}-{body[7:12]}-{check}{qualifier}"
        if len(digits) == 13 and digits.startswith("978"):
            body = digits[3:12]
            total = sum((10 - i) * int(d) for i, d in enumerate(body))
            check = (11 - total % 11) % 11
            return body + ("X" if check == 10 else str(check)) + qualifier
        return value

    _edit(record, shape.isbn, rewrite)


def _drop_isbn(rng: random.Random, record: pymarc.Record, shape: Shape) -> None:
    """A brief record, or one from before the library recorded ISBNs."""
    if rng.random() < 0.5:
        record.remove_fields(shape.isbn[0])


def _drop_subtitle(rng: random.Random, record: pymarc.Record, shape: Shape) -> None:
    _edit(record, shape.subtitle, lambda value: None)


def _title_case(rng: random.Random, record: pymarc.Record, shape: Shape) -> None:
    _edit(record, shape.title, lambda value: value.title() if rng.random() < 0.5 else value.upper())


def _strip_diacritics(rng: random.Random, record: pymarc.Record, shape: Shape) -> None:
    def plain(value: str) -> str:
        return "".join(c for c in unicodedata.normalize("NFD", value) if not unicodedata.combining(c))

    _edit(record, shape.title, plain)
    _edit(record, shape.publisher, plain)


def _publisher_form(rng: random.Random, record: pymarc.Record, shape: Shape) -> None:
    def shorter(value: str) -> str:
        words = value.rstrip(" ,;:").split()
        kept = [
            w for w in words if w.strip(",.").lower() not in {"books", "press", "publishers", "inc.", "ltd."}
        ]
        return " ".join(kept or words) + ","

    _edit(record, shape.publisher, shorter)


def _extent_form(rng: random.Random, record: pymarc.Record, shape: Shape) -> None:
    _edit(record, shape.extent, lambda value: re.sub(r"\bp\.", "pages", value) if "p." in value else value)


def _date_form(rng: random.Random, record: pymarc.Record, shape: Shape) -> None:
    def rewrite(value: str) -> str:
        match = re.search(r"\d{4}", value)
        return (
            (rng.choice(["c", "©", "[", ""]) + match.group(0) + rng.choice([".", "]", ""]))
            if match
            else value
        )

    _edit(record, shape.date, rewrite)


def _drop_numbers(rng: random.Random, record: pymarc.Record, shape: Shape) -> None:
    """Another library's record has its own control numbers, not the first one's 035 and LCCN."""
    record.remove_fields("035", "010") if shape.isbn[0] == "020" else record.remove_fields("035")


VARIATIONS: tuple[Variation, ...] = (
    _isbn_form,
    _drop_isbn,
    _drop_subtitle,
    _title_case,
    _strip_diacritics,
    _publisher_form,
    _extent_form,
    _date_form,
    _drop_numbers,
)

# -- what must not merge with it ------------------------------------------------------------------------


def _negatives(
    rng: random.Random, base: pymarc.Record, shape: Shape, number: int
) -> list[tuple[str, pymarc.Record]]:
    """Hard negatives for about a quarter of the monographs: same work, another edition or item. (A
    serial under another publisher, or with another edition statement, is still that serial.)"""
    draw = rng.random()
    if str(base.leader)[7] != "m":
        return []
    if draw < 0.10:
        return [("n", _later_edition(rng, base, shape, number))]
    if draw < 0.15 and _isbn_digits(base, shape):
        return [(f"v{volume}", _volume(base, shape, volume)) for volume in (1, 2)]
    if draw < 0.20 and shape.isbn[0] == "020" and str(base.leader)[6] == "a":
        return [("a", _sound_recording(base, shape, number))]
    if draw < 0.25 and _first(base, shape.publisher):
        return [("r", _reissue(base, shape, number))]
    return []


def _fresh_isbn(record: pymarc.Record, shape: Shape, serial: int) -> None:
    """Replace the ISBNs by one of the edition's own (a valid ISBN-13 in a block no real one uses)."""
    body = f"979{(serial * 7_919 + 12_345) % 1_000_000_000:09d}"
    check = (10 - sum((3 if i % 2 else 1) * int(d) for i, d in enumerate(body)) % 10) % 10
    record.remove_fields(shape.isbn[0])
    record.add_ordered_field(
        pymarc.Field(
            shape.isbn[0], pymarc.Indicators(" ", " "), [pymarc.Subfield(shape.isbn[1], body + str(check))]
        )
    )


def _set_year(record: pymarc.Record, shape: Shape, year: int) -> None:
    tag, offset = shape.fixed_year
    if tag < "010":
        for field in record.get_fields(tag):
            if field.data and len(field.data) > offset + 4:
                field.data = field.data[:offset] + str(year) + field.data[offset + 4 :]
    else:
        _edit(record, (tag, "a"), lambda value: value[:offset] + str(year) + value[offset + 4 :])
    _edit(record, shape.date, lambda value: re.sub(r"\d{4}", str(year), value, count=1))


def _later_edition(rng: random.Random, base: pymarc.Record, shape: Shape, number: int) -> pymarc.Record:
    """The next edition: a numbered edition statement, a later year, its own ISBN and numbers."""
    record = _clone(base)
    record.remove_fields("001", "003", "005", "035", "010")
    current = re.search(r"\d+", _first(record, shape.edition))
    edition = int(current.group(0)) + 1 if current else 2
    record.remove_fields(shape.edition[0])
    words = {2: "2nd ed.", 3: "3rd ed."} if shape.isbn[0] == "020" else {2: "2e éd.", 3: "3e éd."}
    statement = words.get(edition, f"{edition}th ed." if shape.isbn[0] == "020" else f"{edition}e éd.")
    record.add_ordered_field(
        pymarc.Field(
            shape.edition[0], pymarc.Indicators(" ", " "), [pymarc.Subfield(shape.edition[1], statement)]
        )
    )
    year = _year(base, shape)
    if year.isdigit():
        _set_year(record, shape, int(year) + rng.randint(1, 8))
    if _isbn_digits(base, shape):
        _fresh_isbn(record, shape, number)
    return record


def _volume(base: pymarc.Record, shape: Shape, volume: int) -> pymarc.Record:
    """One volume of a set, catalogued on its own, carrying the set's ISBN."""
    record = _clone(base)
    record.remove_fields("001", "003", "005", "035", "010")
    for field in record.get_fields(shape.title[0]):
        field.add_subfield(shape.part[1], f"v. {volume}" if shape.isbn[0] == "020" else f"Tome {volume}")
    return record


def _sound_recording(base: pymarc.Record, shape: Shape, number: int) -> pymarc.Record:
    """The audiobook of the same title, same author, same year."""
    record = _clone(base)
    record.remove_fields("001", "003", "005", "035", "010", shape.extent[0])
    leader = str(record.leader)
    record.leader = pymarc.Leader(leader[: shape.type_position] + "i" + leader[shape.type_position + 1 :])
    record.add_ordered_field(
        pymarc.Field(
            shape.extent[0],
            pymarc.Indicators(" ", " "),
            [pymarc.Subfield(shape.extent[1], "4 sound cassettes")],
        )
    )
    if _isbn_digits(base, shape):
        _fresh_isbn(record, shape, number + 500_000)
    return record


def _reissue(base: pymarc.Record, shape: Shape, number: int) -> pymarc.Record:
    """The same text brought out the same year by another publisher, without an ISBN."""
    record = _clone(base)
    record.remove_fields("001", "003", "005", "035", "010", shape.isbn[0])
    _edit(record, shape.publisher, lambda value: "Folio Society," if shape.isbn[0] == "020" else "Gallimard")
    return record


RecordKey = tuple[str, str]
"""A record of an evaluation set as (source, local_id)."""


def pairwise(clusters: Sequence[Sequence[RecordKey]], truth: dict[RecordKey, str]) -> tuple[int, int, int]:
    """(true positive, false positive, false negative) pairs of ``clusters`` (record keys) against
    ``truth`` (record key → edition)."""
    true_positive = false_positive = 0
    for cluster in clusters:
        editions: dict[str, int] = {}
        for key in cluster:
            editions[truth[key]] = editions.get(truth[key], 0) + 1
        size = len(cluster)
        same = sum(count * (count - 1) // 2 for count in editions.values())
        true_positive += same
        false_positive += size * (size - 1) // 2 - same
    sizes: dict[str, int] = {}
    for edition in truth.values():
        sizes[edition] = sizes.get(edition, 0) + 1
    truth_pairs = sum(count * (count - 1) // 2 for count in sizes.values())
    return true_positive, false_positive, truth_pairs - true_positive

"""Citation exports of real union records, read back by third-party parsers.

The records are real MARC records of the shared data (MARC 21 in MARC-8, UNIMARC in UTF-8), indexed by
the real pipeline into a SQLite catalogue. What each export must say is read from the same MARC records
with pymarc, field by field, never from the code under test. The exports are read back by:

- RIS: rispy (PyPI), and bibutils' ``ris2xml`` (Debian ``bibutils``), which turns it into MODS;
- BibTeX: pybtex (PyPI) in strict mode, bibutils' ``bib2xml`` (which decodes the LaTeX into MODS text),
  and biber (Debian ``biber``, the backend of biblatex) in tool mode, with its data model checks;
- MARCXML: the MARC21 slim schema (lxml and xmllint, tests/support/oai_schemas.py) and pymarc.

Values are compared without trailing ISBD punctuation (catalogues end a field with ``.`` or ``,``
inconsistently) and in Unicode NFC.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pybtex.errors
import pymarc
import pytest
import rispy
from lxml import etree
from pybtex.bibtex.utils import change_case
from pybtex.database import BibliographyData, parse_string

from indexer import run_index
from search_app.readers.citations import (
    BIBTEX_MEDIA_TYPE,
    EXPORT_KINDS,
    MARCXML_MEDIA_TYPE,
    RIS_MEDIA_TYPE,
    bibtex_name,
    citation_key,
    export_records,
    write_bibtex,
    write_ris,
)
from tests.indexer.indexer_testdata import iso2709_records
from tests.support.oai_schemas import validate_xml, xmllint_validate
from unicat.engines.sqlite import SqliteEngine
from unicat.errors import BadParameter
from unicat.export import write_marcxml
from unicat.model import Profile, Source, SourceRecord, UnionRecord
from unicat.settings import Settings
from unicat.stores.records import SqlRecordStore

BASE_URL = "https://catalogue.example.org/"
MODS = {"m": "http://www.loc.gov/mods/v3"}
RIS_LIST_TAGS = ["AU", "KW", "N1", "UR", "SN"]

# (source code, profile, file of the shared data, 0-based positions in the file). Read with pymarc:
# PP 1 Fontana 1980 *Pride and prejudice* (Austen, Maine; two notes), PP 12 Puffin 1995 (a series; the
# 700 has no comma before its dates), PP 17 Penguin 1995 *Sense and sensibility* (three subjects), PP
# 203 a Naxos audio book with no author and no year; UVA 2 a German book by "Gontaut-Biron, Élie,
# vicomte de, 1818?-l890", UVA 1391 the serial *Alt-Prager Almanach* (no author, no year); BRK 0 the
# MARC-8 test record whose notes hold a backslash and curly braces; SCPO 0 a UNIMARC book with accents
# (*Traité de la science des finances*, 1892); PERIO 1 a UNIMARC serial with an ISSN and a corporate
# author.
SAMPLES: list[tuple[str, Profile, str, tuple[int, ...]]] = [
    ("PP", "marc21", "dedup/pride-and-prejudice-fixed.mrc", (1, 12, 17, 203)),
    ("UVA", "marc21", "marc21/uva_001_2000.mrc", (2, 1391)),
    ("BRK", "marc21", "marc21/brkrtest.mrc", (0,)),
    ("SCPO", "unimarc", "unimarc/cotes8.mrc", (0,)),
    ("PERIO", "unimarc", "unimarc/periouni.mrc", (1,)),
]
NO_AUTHOR_NO_YEAR = (("PP", 203), ("UVA", 1391))

# What the record's leader/06-07 (type of record, bibliographic level) makes it, per the RIS
# specification's reference types (BOOK whole book, JFULL journal (full), SOUND sound recording) and
# BibTeX's standard entry types (book; misc for what no other type fits).
RIS_TYPE_OF_LEADER = {"am": "BOOK", "as": "JFULL", "im": "SOUND"}
BIBTEX_TYPE_OF_LEADER = {"am": "book", "as": "misc", "im": "misc"}


# -- what the MARC records say (pymarc) ----------------------------------------------------------------


def norm(text: str | None) -> str:
    """NFC, one space between words, without the ISBD punctuation that may end a catalogue's field."""
    text = " ".join(unicodedata.normalize("NFC", text or "").split())
    return text.rstrip(" .,;:/=")


def isbn13(isbn: str) -> str:
    """An ISBN-10 as ISBN-13 (prefix 978, check digit recomputed); an ISBN-13 as it is."""
    digits = re.sub(r"[^0-9Xx]", "", isbn)
    if len(digits) == 13:
        return digits
    core = "978" + digits[:9]
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(core)) % 10) % 10
    return core + str(check)


@dataclass(frozen=True)
class Expected:
    """One record's citation data as read from its MARC fields."""

    kind: str  # leader/06-07
    title: str
    authors: list[str]
    year: str | None
    publisher: str
    place: str
    edition: str
    isbns: list[str]
    issns: list[str]
    series: str
    subjects: list[str]
    language: str
    notes: list[str]


def _values(record: pymarc.Record, tags: str, codes: str, join: str = " ") -> list[str]:
    """For each field of ``tags`` (in that order of tags), the subfields of ``codes`` joined."""
    found = []
    for tag in tags.split():
        for field in record.get_fields(tag):
            parts = [value for code, value in _subfields(field) if code in codes]
            if parts:
                found.append(norm(join.join(parts)))
    return found


def _subfields(field: pymarc.Field) -> list[tuple[str, str]]:
    return [(subfield.code, subfield.value) for subfield in field.subfields]


def _subjects(record: pymarc.Record, tags: str, main: str, subdivisions: str) -> list[str]:
    found = []
    for tag in tags.split():
        for field in record.get_fields(tag):
            text = ""
            for code, value in _subfields(field):
                if code in main:
                    text = f"{text} {value}" if text else value
                elif code in subdivisions:
                    text = f"{text} -- {norm(value)}"
            found.append(norm(text))
    return found


def _first(values: list[str]) -> str:
    return values[0] if values else ""


def expected_marc21(record: pymarc.Record) -> Expected:
    fixed = record["008"].data if "008" in record else ""
    dates = _values(record, "264 260", "c")
    year = fixed[7:11] if fixed[7:11].isdigit() else next(iter(re.findall(r"\d{4}", " ".join(dates))), None)
    return Expected(
        kind=record.leader[6:8],
        title=_first(_values(record, "245", "abnp")),
        authors=[*_values(record, "100 700", "abc"), *_values(record, "110 710", "ab")],
        year=year,
        publisher=_first(_values(record, "264 260", "b")),
        place=_first(_values(record, "264 260", "a")),
        edition=_first(_values(record, "250", "ab")),
        isbns=[isbn13(value) for value in _values(record, "020", "a")],
        issns=_values(record, "022", "a"),
        series=_first(_values(record, "490", "av") + _values(record, "830 440", "anpv")),
        subjects=_subjects(record, "600", "abcd", "vxyz") + _subjects(record, "650 651", "a", "vxyz"),
        language=fixed[35:38],
        notes=_values(record, "500 501 502 504 505 520", "a"),
    )


def expected_unimarc(record: pymarc.Record) -> Expected:
    return Expected(
        kind=record.leader[6:8],
        title=_first(_values(record, "200", "a")),
        authors=_values(record, "700 701 702 710 711 712", "ab", join=", "),
        year=_first(_values(record, "100", "a"))[9:13] or None,
        publisher=_first(_values(record, "210", "c")),
        place=_first(_values(record, "210", "a")),
        edition=_first(_values(record, "205", "ab")),
        isbns=[isbn13(value) for value in _values(record, "010", "a")],
        issns=_values(record, "011", "a"),
        series=_first(_values(record, "225", "a")),
        subjects=_subjects(record, "606 607", "a", "jxyz"),
        language=_first(_values(record, "101", "a")),
        notes=_values(record, "300 320 327", "a"),
    )


@dataclass(frozen=True)
class Sample:
    name: str  # "PP 1"
    union: UnionRecord
    expected: Expected


@dataclass(frozen=True)
class Catalogue:
    samples: list[Sample]

    @property
    def records(self) -> list[UnionRecord]:
        return [sample.union for sample in self.samples]

    def sample(self, code: str, position: int) -> Sample:
        return next(s for s in self.samples if s.name == f"{code} {position}")


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalogue]:
    """The sample records, one source per file, indexed by the real pipeline."""
    index = SqliteEngine(tmp_path_factory.mktemp("citations") / "unicat.db", Settings())
    store = SqlRecordStore(index.database)
    plain: dict[tuple[str, str], Expected] = {}
    try:
        for code, profile, relative, positions in SAMPLES:
            store.save_source(Source(code, f"Library {code}", profile=profile))
            raws = iso2709_records(relative)
            store.store_page(code, [SourceRecord(code, f"r{p}", raws[p]) for p in positions], None)
            for position in positions:
                marc = pymarc.Record(data=raws[position], to_unicode=True, force_utf8=profile == "unimarc")
                reader = expected_unimarc if profile == "unimarc" else expected_marc21
                plain[(code, f"r{position}")] = reader(marc)
        run_index(store, index, workers=1)
        members = store.memberships()
        samples = []
        for (code, local_id), expected in plain.items():
            union = index.get_union_record(members[(code, local_id)])
            assert union is not None
            samples.append(Sample(f"{code} {local_id[1:]}", union, expected))
        assert len({sample.union.id for sample in samples}) == len(samples), "the samples must not merge"
        yield Catalogue(samples)
    finally:
        index.close()


# -- the third-party readers ---------------------------------------------------------------------------


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise AssertionError(f"{name} is not installed: run `sudo bash scripts/install-test-deps.sh`")
    return path


def _run(arguments: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(arguments, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def bibutils_mods(tool: str, text: str, suffix: str, tmp_path: Path) -> dict[str, etree._Element]:
    """bibutils' ``ris2xml`` or ``bib2xml`` over ``text``: the MODS record of each citation key."""
    source = tmp_path / f"export.{suffix}"
    source.write_bytes(text.encode("utf-8"))
    result = _run([_tool(tool), str(source)], tmp_path)
    assert result.returncode == 0, result.stderr
    root = etree.fromstring(result.stdout.lstrip("\ufeff").encode("utf-8"))
    return {str(mods.findtext("m:identifier[@type='citekey']", namespaces=MODS)): mods for mods in root}


def biber_warnings(text: str, tmp_path: Path, *, validate: bool) -> list[str]:
    """biber reading ``text`` in tool mode: its WARN and ERROR lines (``validate``: with the data model
    checks of biblatex's default data model)."""
    source = tmp_path / "export.bib"
    source.write_bytes(text.encode("utf-8"))
    arguments = [_tool("biber"), "--tool", "--output-file", str(tmp_path / "biber-out.bib"), str(source)]
    if validate:
        arguments.insert(2, "--validate-datamodel")
    result = _run(arguments, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if line.startswith(("WARN", "ERROR"))]


def pybtex_read(text: str) -> BibliographyData:
    """pybtex's BibTeX parser, strict: a syntax error or a repeated key raises instead of a warning."""
    pybtex.errors.set_strict_mode(True)
    return parse_string(text, "bibtex")


def _mods_text(mods: etree._Element, path: str) -> list[str]:
    return [norm(value.text) for value in mods.iterfind(path, MODS) if value.text]


def _words(text: str) -> list[str]:
    """The words of a name, without punctuation, in order: how a name split into parts is compared."""
    return sorted(re.findall(r"[^\s.,{}]+", text))


def _mods_names(mods: etree._Element) -> list[list[str]]:
    return [
        _words(" ".join(part.text or "" for part in name.iterfind("m:namePart", MODS)))
        for name in mods.iterfind("m:name", MODS)
    ]


def latex_typography(text: str) -> str:
    """What LaTeX makes of plain text, as bibutils renders it: ``--`` an en dash, ``'`` a right quote,
    ``"`` a right double quote (OT1)."""
    return text.replace("--", "–").replace("'", "’").replace('"', "”")


def _url(record: UnionRecord) -> str:
    return f"{BASE_URL.rstrip('/')}/record/{record.id}"


# -- RIS -----------------------------------------------------------------------------------------------


def test_ris_read_back_by_rispy_says_what_the_marc_records_say(catalogue: Catalogue) -> None:
    text = write_ris(catalogue.records, BASE_URL)
    entries = rispy.loads(text, list_tags=RIS_LIST_TAGS)
    assert len(entries) == len(catalogue.samples)
    for sample, entry in zip(catalogue.samples, entries, strict=True):
        want = sample.expected
        assert entry["type_of_reference"] == RIS_TYPE_OF_LEADER[want.kind], sample.name
        assert entry["id"] == sample.union.id
        assert norm(entry["title"]) == want.title, sample.name
        assert [norm(name) for name in entry.get("authors", [])] == want.authors, sample.name
        assert entry.get("year") == want.year, sample.name
        assert norm(entry.get("publisher")) == want.publisher, sample.name
        assert norm(entry.get("place_published")) == want.place, sample.name
        assert norm(entry.get("edition")) == want.edition, sample.name
        assert entry.get("issn", []) == want.isbns + want.issns, sample.name  # rispy's name for SN
        assert norm(entry.get("tertiary_title")) == want.series, sample.name
        assert [norm(subject) for subject in entry.get("keywords", [])] == want.subjects, sample.name
        assert entry.get("language", "") == want.language, sample.name
        assert [norm(note) for note in entry.get("notes", [])] == want.notes, sample.name
        assert entry["urls"] == [_url(sample.union)]


def test_ris_is_lines_of_tags_ended_by_crlf(catalogue: Catalogue) -> None:
    text = write_ris(catalogue.records, BASE_URL)
    assert text.endswith("ER  - \r\n")
    lines = text.split("\r\n")[:-1]
    assert all("\n" not in line and "\r" not in line for line in lines)
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]  - .*", line) for line in lines), lines
    starts = [i for i, line in enumerate(lines) if line.startswith("TY  - ")]
    ends = [i for i, line in enumerate(lines) if line == "ER  - "]
    assert len(starts) == len(ends) == len(catalogue.samples)
    assert starts == [0] + [end + 1 for end in ends[:-1]]  # TY first, ER last, nothing between


@pytest.mark.peers
def test_ris_read_by_bibutils_into_mods(catalogue: Catalogue, tmp_path: Path) -> None:
    mods_of = bibutils_mods("ris2xml", write_ris(catalogue.records, BASE_URL), "ris", tmp_path)
    assert set(mods_of) == {sample.union.id for sample in catalogue.samples}
    for sample in catalogue.samples:
        mods, want = mods_of[sample.union.id], sample.expected
        assert _mods_text(mods, "m:titleInfo/m:title") == [want.title], sample.name
        assert _mods_names(mods) == [_words(name) for name in want.authors], sample.name
        assert _mods_text(mods, ".//m:dateIssued") == ([want.year] if want.year else []), sample.name
        assert _mods_text(mods, "m:originInfo/m:publisher") == [want.publisher][: bool(want.publisher)]
        assert _mods_text(mods, "m:originInfo/m:place/m:placeTerm") == [want.place][: bool(want.place)]
        assert _mods_text(mods, "m:identifier[@type='isbn']") == want.isbns, sample.name
        assert _mods_text(mods, "m:identifier[@type='issn']") == want.issns, sample.name
        assert _mods_text(mods, "m:subject/m:topic") == want.subjects, sample.name
        assert _mods_text(mods, "m:note") == want.notes, sample.name
        assert _mods_text(mods, "m:language/m:languageTerm") == [want.language], sample.name
        assert _mods_text(mods, "m:location/m:url") == [_url(sample.union)]
        if want.kind == "am":
            assert _mods_text(mods, "m:genre[@authority='marcgt']") == ["book"], sample.name


# -- BibTeX --------------------------------------------------------------------------------------------


def _unbraced(text: str) -> str:
    return text.replace("{", "").replace("}", "")


def test_bibtex_read_back_by_pybtex_says_what_the_marc_records_say(catalogue: Catalogue) -> None:
    data = pybtex_read(write_bibtex(catalogue.records, BASE_URL))
    assert list(data.entries) == [sample.union.id for sample in catalogue.samples]
    for sample in catalogue.samples:
        entry, want = data.entries[sample.union.id], sample.expected
        assert entry.type == BIBTEX_TYPE_OF_LEADER[want.kind], sample.name
        persons = entry.persons.get("author", [])
        for person, name in zip(persons, want.authors, strict=True):
            last, _, first = name.partition(", ")
            assert _unbraced(" ".join(person.prelast_names + person.last_names)) == last, sample.name
            assert norm(_unbraced(" ".join(person.first_names + person.middle_names))) == first, sample.name
        fields = entry.fields
        assert fields.get("year") == want.year, sample.name
        assert fields.get("isbn") == (_first(want.isbns) or None), sample.name
        assert fields.get("issn") == (_first(want.issns) or None), sample.name
        assert fields.get("language") == want.language, sample.name
        assert fields["url"] == _url(sample.union)
        # BibTeX's own lower-casing of titles (change.case$ "t", as pybtex implements it) changes
        # nothing: every capital a catalogue wrote is protected.
        assert change_case(fields["title"], "t") == fields["title"], sample.name


@pytest.mark.peers
def test_bibtex_read_by_bibutils_into_mods(catalogue: Catalogue, tmp_path: Path) -> None:
    mods_of = bibutils_mods("bib2xml", write_bibtex(catalogue.records, BASE_URL), "bib", tmp_path)
    assert set(mods_of) == {sample.union.id for sample in catalogue.samples}
    for sample in catalogue.samples:
        mods, want = mods_of[sample.union.id], sample.expected
        assert _mods_text(mods, "m:titleInfo/m:title") == [latex_typography(want.title)], sample.name
        assert _mods_names(mods) == [_words(latex_typography(name)) for name in want.authors], sample.name
        assert _mods_text(mods, ".//m:dateIssued") == ([want.year] if want.year else []), sample.name
        assert (
            _mods_text(mods, ".//m:publisher") == [latex_typography(want.publisher)][: bool(want.publisher)]
        )
        assert _mods_text(mods, ".//m:placeTerm") == [latex_typography(want.place)][: bool(want.place)]
        if want.kind == "am":  # bibutils reads an edition and an ISBN for books only
            assert _mods_text(mods, ".//m:edition") == [latex_typography(want.edition)][: bool(want.edition)]
            assert _mods_text(mods, "m:identifier[@type='isbn']") == want.isbns[:1], sample.name
        notes = latex_typography("; ".join(want.notes))
        assert _mods_text(mods, "m:note") == [norm(notes)][: bool(notes)], sample.name
        keywords = latex_typography(", ".join(want.subjects))
        assert [_unbraced(t) for t in _mods_text(mods, "m:subject/m:topic")] == [keywords][: bool(keywords)]
        assert _mods_text(mods, "m:location/m:url") == [_url(sample.union)]


@pytest.mark.peers
def test_bibtex_read_by_biber_without_warnings(catalogue: Catalogue, tmp_path: Path) -> None:
    text = write_bibtex(catalogue.records, BASE_URL)
    assert biber_warnings(text, tmp_path, validate=False) == []
    # biblatex's data model: what it misses is only what the records lack (an author, a date); other
    # formats than books are BibTeX's "misc", which keeps the publisher and the numbers a reference
    # manager wants, beyond the fields biblatex's misc defines.
    lacking = {
        **{
            s.union.id: "author"
            for s in catalogue.samples
            if s.expected.kind == "am" and not s.expected.authors
        },
        **{s.union.id: "date" for s in catalogue.samples if not s.expected.year},
    }
    for warning in biber_warnings(text, tmp_path, validate=True):
        author = re.search(r"Entry '(\w+)' .*Missing mandatory field 'author'$", warning)
        date = re.search(
            r"Entry '(\w+)' .*Missing mandatory field - one of 'date, year' must be defined$", warning
        )
        extra = re.search(r"Invalid field '(\w+)' for entrytype 'misc'", warning)
        assert (
            (author and lacking.get(author.group(1)) == "author")
            or (date and lacking.get(date.group(1)) == "date")
            or (extra and extra.group(1) in {"publisher", "isbn", "issn", "series", "edition"})
        ), warning


# -- MARCXML -------------------------------------------------------------------------------------------


@pytest.mark.peers
def test_marcxml_is_the_catalogue_export_valid_against_marc21_slim(catalogue: Catalogue) -> None:
    body, media_type, extension = export_records(catalogue.records, "marcxml", BASE_URL)
    assert (media_type, extension) == (MARCXML_MEDIA_TYPE, "xml")
    whole = io.BytesIO()
    write_marcxml(catalogue.records, whole)
    assert body == whole.getvalue()
    validate_xml(body, "marcxml export")
    verdict = xmllint_validate(body)
    assert verdict.valid, verdict.output
    reader: Callable[[object], list[pymarc.Record]] = pymarc.parse_xml_to_array
    read = reader(io.BytesIO(body))
    assert [record["001"].data for record in read] == [sample.union.id for sample in catalogue.samples]
    assert [norm(record["245"]["a"]) for record in read] == [s.expected.title for s in catalogue.samples]


# -- what every export must survive --------------------------------------------------------------------

HOSTILE_TITLE = 'Tom & Jerry {100%} \\ "quoted"\nline two $5 #1 a_b ~x ^y }{'
HOSTILE = UnionRecord(
    id="u-hostile",
    title=HOSTILE_TITLE,
    authors=["Żółć-Łódź, Zoë, 1900-1990", "Smith & Sons {Ltd}", "Núñez, José\tMaría"],
    publisher="Éditions 50% & {Cie}",
    place="São Paulo",
    edition="2ᵉ éd.",
    series=["Série_noire ~ 12"],
    isbns=["9780140430721"],
    subjects=["Knowledge, Theory of", "C++ & C#"],
    notes=["Line one\r\nline two", "Back\\slash"],
    language="fre",
    year=2001,
    format="book",
)
HOSTILE_NAMES = ["Żółć-Łódź, Zoë", "Smith & Sons {Ltd}", "Núñez, José María"]
ONE_LINE_TITLE = HOSTILE_TITLE.replace("\n", " ")


@pytest.mark.peers
def test_hostile_text_stays_one_ris_value_per_line(tmp_path: Path) -> None:
    text = write_ris([HOSTILE], BASE_URL)
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]  - .*", line) for line in text.split("\r\n")[:-1])
    (entry,) = rispy.loads(text, list_tags=RIS_LIST_TAGS)
    assert entry["title"] == ONE_LINE_TITLE
    assert entry["authors"] == HOSTILE_NAMES
    assert entry["notes"] == ["Line one line two", "Back\\slash"]
    assert entry["publisher"] == "Éditions 50% & {Cie}"
    mods = bibutils_mods("ris2xml", text, "ris", tmp_path)["u-hostile"]
    assert _mods_text(mods, "m:titleInfo/m:title") == [ONE_LINE_TITLE]


@pytest.mark.peers
def test_hostile_text_is_escaped_for_bibtex(tmp_path: Path) -> None:
    text = write_bibtex([HOSTILE], BASE_URL)
    entry = pybtex_read(text).entries["u-hostile"]  # strict: the braces balance
    first, corporate, third = entry.persons["author"]
    assert (first.last_names, first.first_names) == (["Żółć-Łódź"], ["Zoë"])
    assert len(corporate.last_names) == 1 and not corporate.first_names  # one name, never split
    assert (third.last_names, third.first_names + third.middle_names) == (["Núñez"], ["José", "María"])
    assert biber_warnings(text, tmp_path, validate=True) == []

    mods = bibutils_mods("bib2xml", text, "bib", tmp_path)["u-hostile"]
    # bibutils decodes \textasciicircum to U+2303; what biber, biblatex's backend, reads it as is
    # checked below against biber's own table.
    assert _mods_text(mods, "m:titleInfo/m:title") == [latex_typography(ONE_LINE_TITLE).replace("^", "⌃")]
    names = [
        " ".join(part.text or "" for part in name.iterfind("m:namePart", MODS))
        for name in mods.iterfind("m:name", MODS)
    ]
    assert names == ["Zoë Żółć-Łódź", "Smith & Sons {Ltd}", "José María Núñez"]
    assert _mods_text(mods, ".//m:publisher") == ["Éditions 50% & {Cie}"]
    assert _mods_text(mods, "m:note") == ["Line one line two; Back\\slash"]
    assert _mods_text(mods, "m:relatedItem/m:titleInfo/m:title") == ["Série_noire ~ 12"]
    assert [_unbraced(t) for t in _mods_text(mods, "m:subject/m:topic")] == ["Knowledge, Theory of, C++ & C#"]

    # The text macros written are those biber's own table decodes to the characters of the title.
    table = biber_recode_table()
    macros = set(re.findall(r"\\(text[a-z]+)\{\}", entry.fields["title"]))
    assert {macro: table.get(macro) for macro in macros} == {
        "textbraceleft": "{",
        "textbraceright": "}",
        "textasciitilde": "~",
        "textasciicircum": "^",
    }


def biber_recode_table() -> dict[str, str]:
    """LaTeX macro name → character, from biber's own recoding data (recode_data.xml beside its
    Biber::LaTeX::Recode module)."""
    found = _run(["perl", "-MBiber::LaTeX::Recode", "-e", 'print $INC{"Biber/LaTeX/Recode.pm"}'], Path.cwd())
    assert found.returncode == 0, found.stderr
    data = etree.parse(str(Path(found.stdout).with_name("recode_data.xml")))
    return {str(m.findtext("from")): str(m.findtext("to")) for m in data.iter("map")}


@pytest.mark.peers
def test_a_record_with_no_author_and_no_year(catalogue: Catalogue, tmp_path: Path) -> None:
    records = [catalogue.sample(code, position).union for code, position in NO_AUTHOR_NO_YEAR]
    ris = write_ris(records, BASE_URL)
    assert not re.search(r"^(AU|PY)  - ", ris, re.MULTILINE)
    assert [entry.get("authors") for entry in rispy.loads(ris, list_tags=RIS_LIST_TAGS)] == [None, None]
    bibtex = write_bibtex(records, BASE_URL)
    for record in records:
        entry = pybtex_read(bibtex).entries[record.id]
        assert "author" not in entry.persons and "year" not in entry.fields
        assert _unbraced(entry.fields["title"]) == norm(record.title)
    assert biber_warnings(bibtex, tmp_path, validate=False) == []


# -- keys, names, the entry point ----------------------------------------------------------------------


def test_citation_keys_are_the_union_ids_unique_within_an_export(catalogue: Catalogue) -> None:
    record = catalogue.records[0]
    twice = pybtex_read(write_bibtex([record, record], BASE_URL))
    assert list(twice.entries) == [record.id, f"{record.id}-2"]
    assert write_bibtex(catalogue.records, BASE_URL) == write_bibtex(catalogue.records, BASE_URL)
    taken: set[str] = set()
    assert citation_key("ü/é {x}, y", taken) == "u-e-x-y"
    assert citation_key("U/É {X}, Y", taken) == "U-E-X-Y-2"  # BibTeX compares keys without case
    assert citation_key("中文", taken) == "record"


@pytest.mark.parametrize(
    ("heading", "last", "first", "lineage"),
    [
        ("King, Martin Luther, Jr., 1929-1968", ["King"], ["Martin", "Luther"], ["Jr."]),
        ("Pocahontas, -1617", ["{Pocahontas}"], [], []),
        ("Summer Institute of Linguistics", ["{Summer Institute of Linguistics}"], [], []),
        ("Johnson and Johnson, Inc.", ["{Johnson and Johnson, Inc.}"], [], []),
        ("Elson, Benjamin F. 1921-2009", ["Elson"], ["Benjamin", "F."], []),
        ("Bolívar, Simón, 1783-1830", ["Bolívar"], ["Simón"], []),
    ],
)
def test_names_are_split_as_bibtex_reads_them(
    heading: str, last: list[str], first: list[str], lineage: list[str]
) -> None:
    entry = pybtex_read(f"@book{{k,\n  author = {{{bibtex_name(heading)}}},\n}}\n").entries["k"]
    (person,) = entry.persons["author"]
    assert (person.last_names, person.first_names + person.middle_names, person.lineage_names) == (
        last,
        first,
        lineage,
    )


def test_export_records_gives_body_media_type_and_extension(catalogue: Catalogue) -> None:
    assert EXPORT_KINDS == ("ris", "bibtex", "marcxml")
    ris = export_records(catalogue.records, "ris", BASE_URL)
    assert ris == (write_ris(catalogue.records, BASE_URL).encode("utf-8"), RIS_MEDIA_TYPE, "ris")
    bibtex = export_records(catalogue.records, "bibtex", BASE_URL)
    assert bibtex == (write_bibtex(catalogue.records, BASE_URL).encode("utf-8"), BIBTEX_MEDIA_TYPE, "bib")
    assert "Traité".encode() in bibtex[0] and "Traité".encode() in ris[0]  # UTF-8, not LaTeX accents
    with pytest.raises(BadParameter, match="ris, bibtex, marcxml"):
        export_records(catalogue.records, "endnote", BASE_URL)
    # Without the catalogue's address a file cannot link the records: no link rather than a relative one.
    assert "UR  - " not in write_ris(catalogue.records, "")
    assert "url = " not in write_bibtex(catalogue.records, "")

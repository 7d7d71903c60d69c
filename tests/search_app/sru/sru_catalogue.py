"""A catalogue of real MARC records for the SRU tests, served over real HTTP, and the facts about it.

The records are ``marc21/uva_001_2000.mrc`` (2,000 University of Virginia records, MARC-8) imported
as library ``uva`` and ``unimarc/cotesMEL.mrc`` (109 UNIMARC records) as library ``mel``. Six UVA
records are second copies of another (same title, author and year, or same LCCN): they are left
out, so that every source record is one union record and a count of matching MARC records is the
count SRU must give (the fixture checks it). Expected answers are computed here from the MARC fields
read with plain pymarc, following the field map in ``mappings/marc21.toml``, never from Unicat.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pymarc
import pytest

from search_app.app import make_app
from tests.search_app.oai.conftest import open_test_catalogue
from tests.support.served_app import ServedApp
from tests.support.shared_data import SHARED_DATA
from unicat.analysis import tokens
from unicat.catalogue import Catalogue
from unicat.identifiers import normalize_isbn
from unicat.model import Source
from unicat.settings import Settings

UVA_FILE = SHARED_DATA / "marc21" / "uva_001_2000.mrc"
MEL_FILE = SHARED_DATA / "unimarc" / "cotesMEL.mrc"
MEL_RECORDS = 109  # CENSUS.tsv: what pymarc reads in cotesMEL.mrc
# The second record of each pair of copies in uva_001_2000.mrc (001 values): u1764/u1768 and
# u1330/u1337 share title, author and year; u678/u679, u121/u122, u193/u194 and u1697/u1698 an LCCN.
UVA_COPIES = frozenset({"u1768", "u1337", "u679", "u122", "u194", "u1698"})

# mappings/marc21.toml: the MARC fields (and subfields) behind each search field.
TITLE_SPEC = {"245": "abnp", "130": "adfklmnoprs", "240": "adfklmnoprs", "246": "abnp", "730": "adfklmnoprs"}
AUTHOR_SPEC = {"100": "abcd", "110": "ab", "111": "acd", "700": "abcd", "710": "ab", "711": "acd", "720": "a"}
AUTHOR_SPEC_RESPONSIBILITY = {"245": "c"}
SUBJECT_SPEC = {tag: "abcdvxyz" for tag in ("600", "610", "611", "630", "648", "650", "651", "653", "655")}
_YEAR_RE = re.compile(r"[0-9]{4}")


@dataclass
class UvaRecord:
    """What the tests need of one UVA MARC record, read with pymarc."""

    local_id: str
    title: set[str]
    author: set[str]
    subject: set[str]
    isbns: set[str]
    year: int | None
    raw: bytes = field(repr=False)


def _words(record: pymarc.Record, spec: dict[str, str]) -> set[str]:
    found: set[str] = set()
    for tag, codes in spec.items():
        for marc_field in record.get_fields(tag):
            for code, value in ((sub.code, sub.value) for sub in marc_field.subfields):
                if code in codes:
                    found.update(tokens(value))
    return found


def _year(record: pymarc.Record) -> int | None:
    """008/07-10 when it is a year, else the first year in 264 $c or 260 $c (the map's order)."""
    fixed = record.get_fields("008")
    data = fixed[0].data if fixed and fixed[0].data else ""
    if len(data) >= 11 and data[7:11].isdigit():
        return int(data[7:11])
    for tag in ("264", "260"):
        for marc_field in record.get_fields(tag):
            for value in marc_field.get_subfields("c"):
                match = _YEAR_RE.search(value)
                if match:
                    return int(match.group())
    return None


def read_uva() -> list[UvaRecord]:
    """Every UVA record but the copies, in file order."""
    data = UVA_FILE.read_bytes()
    records: list[UvaRecord] = []
    for raw in (chunk + b"\x1d" for chunk in data.split(b"\x1d") if chunk.strip()):
        record = pymarc.Record(data=raw, to_unicode=True, force_utf8=False)
        local_id = record["001"].data if record["001"] else ""
        if local_id in UVA_COPIES:
            continue
        records.append(
            UvaRecord(
                local_id=local_id,
                title=_words(record, TITLE_SPEC),
                author=_words(record, AUTHOR_SPEC) | _words(record, AUTHOR_SPEC_RESPONSIBILITY),
                subject=_words(record, SUBJECT_SPEC),
                isbns={isbn for value in _subfields(record, "020", "a") if (isbn := normalize_isbn(value))},
                year=_year(record),
                raw=raw,
            )
        )
    return records


def _subfields(record: pymarc.Record, tag: str, code: str) -> list[str]:
    return [value for marc_field in record.get_fields(tag) for value in marc_field.get_subfields(code)]


def matching(records: list[UvaRecord], test: Callable[[UvaRecord], bool]) -> set[str]:
    """The local ids of the records ``test`` accepts."""
    return {record.local_id for record in records if test(record)}


def fill(catalogue: Catalogue, records: list[UvaRecord], work_dir: Path) -> None:
    """Import the records (the UVA ones without the copies, all of MEL) and index them."""
    from harvester.importer import import_files
    from indexer import run_index

    uva_file = work_dir / "uva.mrc"
    uva_file.write_bytes(b"".join(record.raw for record in records))
    for code, profile, path in (("uva", "marc21", uva_file), ("mel", "unimarc", MEL_FILE)):
        source = Source(code=code, name=f"Library {code}", profile=profile)
        catalogue.records.save_source(source)
        import_files(catalogue.records, source, [path])
    run_index(catalogue.records, catalogue.index, workers=1)


@dataclass
class Served:
    """The app over a catalogue, listening on 127.0.0.1 (tests/support/served_app.py): its root URL."""

    url: str


def served_catalogue(
    catalogue: Catalogue, settings: Settings, records: list[UvaRecord], work_dir: Path
) -> Iterator[Served]:
    """Fill ``catalogue`` and serve it for the duration of the generator."""
    fill(catalogue, records, work_dir)
    with ServedApp(make_app(catalogue, settings)) as served:
        yield Served(served.url)


@pytest.fixture(scope="module")
def uva() -> list[UvaRecord]:
    """The UVA records the catalogue holds, as pymarc reads them."""
    return read_uva()


@pytest.fixture(scope="module", params=["sqlite", "elasticsearch"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, uva: list[UvaRecord]
) -> Iterator[Served]:
    """The catalogue on one index, served over HTTP for the whole module."""
    work_dir = tmp_path_factory.mktemp(f"sru-{request.param}")
    # Closed at the end, an Elasticsearch catalogue and its PostgreSQL database deleted: the servers
    # outlive the module.
    with open_test_catalogue(request.param, request, work_dir) as opened:
        yield from served_catalogue(opened, opened.index.settings, uva, work_dir)

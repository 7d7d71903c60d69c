"""Live records read like harvested ones: the reference is the same record imported and indexed by
``unicat import`` and ``unicat index`` on a SQLite catalogue, never an answer written here."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pymarc
import pytest

from harvester.importer import import_files
from indexer import run_index
from indexer.live_records import LiveReader, ReadLiveRecord
from tests.indexer.indexer_testdata import control_number, field_bytes, iso2709_records, marcxml_records
from unicat.libraries import DirectoryCache, Library, LibraryDirectory
from unicat.live_search import LiveTarget, RawLiveRecord
from unicat.model import Holding, Profile, RecordSyntax, Source, UnionRecord
from unicat.settings import Settings
from unicat_cli.live import open_live_parts
from unicat_cli.wiring import open_catalogue

MARC8_FILE, MARC8_POSITION = "marc21/uva_001_2000.mrc", 3  # "The princes of Hà-tiên": MARC-8 diacritics
MARCXML_FILE, MARCXML_POSITION = "marc21/specTestRecs.xml", 5
UNIMARC_995_FILE = "unimarc/cotesMEL.mrc"


def _target(code: str = "ZT", profile: Profile = "marc21", libraries: tuple[str, ...] = ()) -> LiveTarget:
    return LiveTarget(
        code, "A live catalogue", "z3950", "127.0.0.1:210/db", profile=profile, libraries=libraries
    )


def _indexed(tmp_path: Path, target: LiveTarget, raw: bytes, syntax: RecordSyntax) -> UnionRecord:
    """The union record ``unicat import`` + ``unicat index`` make of ``raw``, in a source that has the
    target's code, name and profile."""
    dump = tmp_path / ("record.xml" if syntax == "marcxml" else "record.mrc")
    dump.write_bytes(
        b'<collection xmlns="http://www.loc.gov/MARC21/slim">' + raw + b"</collection>"
        if syntax == "marcxml"
        else raw
    )
    catalogue = open_catalogue(Settings(engine_url=f"sqlite:///{tmp_path / 'unicat.db'}"))
    try:
        source = Source(target.code, target.name, profile=target.profile)
        catalogue.records.save_source(source)
        import_files(catalogue.records, source, [dump])
        report = run_index(catalogue.records, catalogue.index, workers=1)
        assert report.parsed == 1, "the reference record must be indexable"
        return next(iter(catalogue.index.iter_union_records()))
    finally:
        catalogue.close()


def _read_one(
    target: LiveTarget, raw: bytes, syntax: RecordSyntax, directory: LibraryDirectory
) -> ReadLiveRecord:
    batch = LiveReader(lambda: directory).read(target, [RawLiveRecord(target.code, 1, raw, syntax)])
    assert batch.rejected == []
    [record] = batch.records
    assert isinstance(record, ReadLiveRecord)
    return record


@pytest.mark.parametrize(
    ("syntax", "raw"),
    [
        ("iso2709", iso2709_records(MARC8_FILE)[MARC8_POSITION]),
        ("marcxml", marcxml_records(MARCXML_FILE)[MARCXML_POSITION]),
    ],
    ids=["marc8-iso2709", "marcxml"],
)
def test_a_live_record_reads_as_the_same_record_imported_and_indexed(
    syntax: RecordSyntax, raw: bytes, tmp_path: Path
) -> None:
    target = _target()
    if syntax == "iso2709":
        assert raw[9:10] == b" ", "the chosen record must be MARC-8 (leader/09 blank)"
    reference = _indexed(tmp_path, target, raw, syntax)
    live = _read_one(target, raw, syntax, LibraryDirectory())
    read = live.record
    assert (read.title, read.authors, read.isbns, read.year) == (
        reference.title,
        reference.authors,
        reference.isbns,
        reference.year,
    )
    assert (read.subjects, read.publisher, read.format, read.language) == (
        reference.subjects,
        reference.publisher,
        reference.format,
        reference.language,
    )
    assert read.isbns and read.authors and read.year is not None
    if syntax == "iso2709":
        assert not read.title.isascii(), "MARC-8 diacritics decoded"
    # The id names the target and the record's own 001 (the server gave none).
    own_id = reference.sources[0].local_id
    assert read.id == f"live:{target.code}:{own_id}"
    assert live.target == target.code and live.position == 1


def test_a_server_id_names_the_record_and_a_repeated_one_falls_back_to_the_position() -> None:
    raws = iso2709_records(MARC8_FILE)[:2]
    target = _target()
    batch = LiveReader(LibraryDirectory).read(
        target,
        [
            RawLiveRecord(target.code, 1, raws[0], "iso2709", local_id="srv-1"),
            RawLiveRecord(target.code, 2, raws[1], "iso2709"),
            RawLiveRecord(target.code, 3, raws[1], "iso2709"),
            RawLiveRecord(target.code, 4, raws[0], "iso2709", local_id="srv-1"),
        ],
    )
    assert [record.record.id for record in batch.records] == [
        "live:ZT:srv-1",
        f"live:ZT:{control_number(raws[1])}",
        "live:ZT:pos3",
        f"live:ZT:{control_number(raws[0])}",
    ]


def _bad_records() -> Iterator[tuple[bytes, str]]:
    """Real malformed records no reader can split, with what the standard says is wrong with them."""
    for relative, index in (
        ("malformed/bad_oversize_field_bad_directory.mrc", 1),
        ("malformed/bad_hathi_records.mrc", 3),
    ):
        raw = iso2709_records(relative)[index]
        # ISO 2709 4.4: the directory is made of 12-byte entries.
        directory_length = int(raw[12:17]) - 24 - 1
        assert directory_length % 12, f"{relative}[{index}] has a whole directory: pick another record"
        yield raw, str(directory_length)
    raw = iso2709_records("malformed/datos-20161010-slice.mrc")[0]
    yield raw, "001"


def test_malformed_records_are_rejected_with_their_reason_and_the_good_ones_go_on() -> None:
    good = iso2709_records(MARC8_FILE)[:3]
    bad = list(_bad_records())
    # A holdings record (leader/06 "y") reads well but is no book: set aside as the index does.
    holdings = iso2709_records("marc21/zdblokutf8.mrc")[0]
    assert holdings[6:7] in b"uvxy"
    batch_input = [good[0], bad[0][0], good[1], bad[1][0], holdings, bad[2][0], good[2]]
    target = _target()
    batch = LiveReader(LibraryDirectory).read(
        target, [RawLiveRecord(target.code, n, raw, "iso2709") for n, raw in enumerate(batch_input, start=1)]
    )
    assert [record.position for record in batch.records] == [1, 3, 7]
    assert [record.record.id for record in batch.records] == [
        f"live:ZT:{control_number(raw)}" for raw in good
    ]
    assert [(entry.target, entry.position) for entry in batch.rejected] == [
        ("ZT", 2),
        ("ZT", 4),
        ("ZT", 5),
        ("ZT", 6),
    ]
    reasons = [entry.reason for entry in batch.rejected]
    assert bad[0][1] in reasons[0] and bad[1][1] in reasons[1] and bad[2][1] in reasons[3]
    assert reasons[2].startswith("holdings record")


def test_a_unimarc_record_keeps_its_995_holdings(tmp_path: Path) -> None:
    raw = iso2709_records(UNIMARC_995_FILE)[0]
    target = _target(profile="unimarc", libraries=("BIB1",))
    live = _read_one(target, raw, "iso2709", LibraryDirectory([Library("BIB1", "Bibliothèque une")]))
    reference = _indexed(tmp_path, target, raw, "iso2709")
    assert live.record.holdings == reference.holdings
    record = next(pymarc.MARCReader(raw, to_unicode=True, force_utf8=True))
    assert record is not None
    barcodes = [field.get_subfields("f")[0] for field in record.get_fields("995") if field.get_subfields("f")]
    assert barcodes and [holding.barcode for holding in live.record.holdings] == barcodes
    assert all(holding.library == target.code for holding in live.record.holdings)


def test_a_record_without_holdings_gets_one_per_library_the_target_stands_for() -> None:
    raw = iso2709_records(MARC8_FILE)[MARC8_POSITION]
    assert all(field_bytes(raw, tag) is None for tag in (b"852", b"949", b"952", b"995"))
    directory = LibraryDirectory([Library("BIB1", "Bibliothèque une"), Library("BIB2", "Bibliothèque deux")])
    live = _read_one(_target(libraries=("BIB2", "NOWHERE")), raw, "iso2709", directory)
    call_number = live.extracted.holdings[0].call_number
    assert live.record.holdings == [
        Holding("BIB2", "Bibliothèque deux", call_number=call_number, site="BIB2"),
        Holding("NOWHERE", "NOWHERE", call_number=call_number),
    ]
    assert live.record.libraries == ["BIB2", "NOWHERE"]


def test_a_library_added_to_the_store_names_live_holdings_once_the_directory_is_read_again(
    tmp_path: Path,
) -> None:
    """The web app reads live records with a :class:`DirectoryCache` over the library store: a library
    a librarian adds while it runs counts once the cache is older than its time to live."""
    target = _target(libraries=("NEWLIB",))
    raw = iso2709_records(MARC8_FILE)[MARC8_POSITION]
    now = [1000.0]
    catalogue = open_catalogue(Settings(engine_url=f"sqlite:///{tmp_path / 'unicat.db'}"))
    try:
        reader = LiveReader(DirectoryCache(catalogue.libraries.directory, ttl=60.0, clock=lambda: now[0]))

        def holdings() -> list[Holding]:
            [record] = reader.read(target, [RawLiveRecord(target.code, 1, raw, "iso2709")]).records
            return record.record.holdings

        unknown = Holding("NEWLIB", "NEWLIB", None, site=None)
        assert [dataclasses.replace(h, call_number=None) for h in holdings()] == [unknown]
        catalogue.libraries.add_library(Library("NEWLIB", "Newly joined library"))
        now[0] += 59.0  # within the minute: the directory read at the first search still serves
        assert [dataclasses.replace(h, call_number=None) for h in holdings()] == [unknown]
        now[0] += 1.0
        known = Holding("NEWLIB", "Newly joined library", None, site="NEWLIB")
        assert [dataclasses.replace(h, call_number=None) for h in holdings()] == [known]
    finally:
        catalogue.close()


def test_the_apps_live_search_reads_the_directory_when_it_reads_records_not_when_it_starts(
    tmp_path: Path,
) -> None:
    catalogue = open_catalogue(Settings(engine_url=f"sqlite:///{tmp_path / 'unicat.db'}"))
    try:
        reader = open_live_parts(catalogue).reader
        catalogue.libraries.add_library(Library("NEWLIB", "Newly joined library"))
        raw = iso2709_records(MARC8_FILE)[MARC8_POSITION]
        target = _target(libraries=("NEWLIB",))
        [record] = reader.read(target, [RawLiveRecord(target.code, 1, raw, "iso2709")]).records
        assert [(h.library_name, h.site) for h in record.record.holdings] == [
            ("Newly joined library", "NEWLIB")
        ]
    finally:
        catalogue.close()

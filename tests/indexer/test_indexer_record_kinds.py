"""Only bibliographic, titled records become union records; the others are quarantined by kind.

Expected answers come from the data: leader/06 sliced from the raw records, titles read by pymarc.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pymarc
import pytest

from indexer import run_index
from tests.indexer.indexer_testdata import DATA, field_bytes, iso2709_records
from unicat.catalogue import Catalogue
from unicat.model import Source, SourceRecord
from unicat.settings import Settings
from unicat_cli.cli import EXIT_OK, main
from unicat_cli.wiring import open_catalogue


def _index(tmp_path: Path, source: Source, raws: list[bytes]) -> Catalogue:
    catalogue = open_catalogue(Settings(engine_url=f"sqlite:///{tmp_path / 'unicat.db'}"))
    catalogue.records.save_source(source)
    catalogue.records.store_page(
        source.code,
        [SourceRecord(source.code, f"r{i}", raw, "iso2709", None) for i, raw in enumerate(raws)],
        None,
    )
    return catalogue


def _read(raw: bytes) -> pymarc.Record | None:
    """A plain pymarc reading of one record (``None`` when pymarc cannot read it)."""
    reader = pymarc.MARCReader(io.BytesIO(raw), to_unicode=True, force_utf8=True, utf8_handling="replace")
    record: pymarc.Record | None = next(iter(reader))
    return record


def _untitled_by_pymarc(raw: bytes) -> bool:
    """No 245 $a $b $n $p with text (the MARC 21 profile's title), read by a plain pymarc reading."""
    record = _read(raw)
    assert record is not None
    return not any(
        value.strip()
        for field in record.get_fields("245")
        for value in field.get_subfields("a", "b", "n", "p")
    )


def test_marc21_holdings_records_are_set_aside_as_holdings(tmp_path: Path) -> None:
    raws = iso2709_records("marc21/zdblokutf8.mrc")
    # One record of the file is damaged (pymarc cannot read it either): quarantined for that.
    readable = [record for record in map(_read, raws) if record is not None]
    holdings = [record for record in readable if record.leader[6] in "uvxy"]
    assert len(holdings) == 292  # INDEX.md: 292 ZDB holdings records
    catalogue = _index(tmp_path, Source("ZDB", "ZDB holdings"), raws)
    try:
        report = run_index(catalogue.records, catalogue.index)
        assert report.set_aside == {"holdings": len(holdings)}
        assert report.union_records == 0
        assert report.quarantined == len(raws)
        reasons = [entry.reason for entry in catalogue.records.list_quarantine(limit=len(raws) + 1)]
        assert reasons.count("holdings record (leader/06 'y'): not a bibliographic record") == sum(
            1 for record in holdings if record.leader[6] == "y"
        )
    finally:
        catalogue.close()


def _without(raw: bytes, tag: str) -> bytes:
    """A real record with every field ``tag`` removed, written back by pymarc."""
    record = _read(raw)
    assert record is not None
    record.remove_fields(tag)
    written: bytes = record.as_marc()
    return written


def test_untitled_records_are_quarantined_and_never_indexed(tmp_path: Path) -> None:
    # Real MARC 21 records (their 008 and leader say so) of which every third lost its 245: read as
    # MARC 21 (their flavour is plain), they have no title.
    marc21 = [
        raw for raw in iso2709_records("dedup/pride-and-prejudice-fixed.mrc") if field_bytes(raw, b"245")
    ]
    raws = marc21[:30]
    raws = [_without(raw, "245") if number % 3 == 0 else raw for number, raw in enumerate(raws)]
    untitled = [raw for raw in raws if _untitled_by_pymarc(raw)]
    assert len(untitled) >= 10
    catalogue = _index(tmp_path, Source("AUS", "Austen Society"), raws)
    try:
        report = run_index(catalogue.records, catalogue.index)
        assert report.set_aside == {"untitled": len(untitled)}
        assert report.parsed == len(raws) - len(untitled)
        quarantined = catalogue.records.list_quarantine(limit=len(raws) + 1)
        assert {entry.raw for entry in quarantined} == set(untitled)
        assert all(
            entry.reason.startswith("no title after mapping with the marc21 profile") for entry in quarantined
        )
        records = list(catalogue.index.iter_union_records())
        assert records and all(record.title.strip() for record in records)
        assert sum(len(record.sources) for record in records) == report.parsed
    finally:
        catalogue.close()


def _with_type(raw: bytes, code: bytes) -> bytes:
    return raw[:6] + code + raw[7:]


def test_the_same_leader_byte_is_read_in_the_records_family(tmp_path: Path) -> None:
    # Real records with leader/06 set to a non-bibliographic code: 'x' is MARC 21 holdings but
    # UNIMARC authority (UNIMARC/Authorities record label); 'z' is authority in both; 'w' is MARC 21
    # classification, 'q' community information.
    marc21 = iso2709_records("marc21/brkrtest.mrc")
    unimarc = iso2709_records("unimarc/cotes8.mrc")
    catalogue = _index(
        tmp_path,
        Source("M21", "MARC 21 library"),
        [
            *(_with_type(raw, code) for raw, code in zip(marc21, (b"x", b"z", b"w", b"q"), strict=False)),
            marc21[4],
        ],
    )
    try:
        catalogue.records.save_source(Source("UNI", "UNIMARC library", profile="unimarc"))
        catalogue.records.store_page(
            "UNI",
            [
                SourceRecord("UNI", "u0", _with_type(unimarc[0], b"x"), "iso2709", None),
                SourceRecord("UNI", "u1", _with_type(unimarc[1], b"z"), "iso2709", None),
                SourceRecord("UNI", "u2", unimarc[2], "iso2709", None),
            ],
            None,
        )
        report = run_index(catalogue.records, catalogue.index)
        assert report.set_aside == {
            "holdings": 1,
            "authority": 3,
            "classification": 1,
            "community information": 1,
        }
        assert report.union_records == 2
        reasons = {(e.source, e.local_id): e.reason for e in catalogue.records.list_quarantine()}
        assert reasons[("M21", "r1")] == "authority record (leader/06 'z'): not a bibliographic record"
        assert reasons[("UNI", "u0")] == "authority record (leader/06 'x'): not a bibliographic record"
        assert reasons[("M21", "r0")] == "holdings record (leader/06 'x'): not a bibliographic record"
        # The kind is stored with each entry, so the store counts and filters by it.
        kinds = {(e.source, e.local_id): e.kind for e in catalogue.records.list_quarantine()}
        assert kinds == {
            ("M21", "r0"): "holdings",
            ("M21", "r1"): "authority",
            ("M21", "r2"): "classification",
            ("M21", "r3"): "community information",
            ("UNI", "u0"): "authority",
            ("UNI", "u1"): "authority",
        }
        assert catalogue.records.quarantine_kind_counts() == {
            ("M21", "holdings"): 1,
            ("M21", "authority"): 1,
            ("M21", "classification"): 1,
            ("M21", "community information"): 1,
            ("UNI", "authority"): 2,
        }
        assert catalogue.records.count_quarantine(kind="authority") == 3
        listed = catalogue.records.list_quarantine("UNI", kind="authority")
        assert sorted(e.local_id or "" for e in listed) == ["u0", "u1"]
    finally:
        catalogue.close()


def test_unicat_index_and_status_show_the_holdings_set_aside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    holdings = [record for record in map(_read, iso2709_records("marc21/zdblokutf8.mrc")) if record]
    data_dir = str(tmp_path / "data")
    path = str(DATA / "marc21" / "zdblokutf8.mrc")
    assert main(["--data-dir", data_dir, "import", "ZDB", path]) == EXIT_OK
    assert main(["--data-dir", data_dir, "index"]) == EXIT_OK
    assert f"set aside as no book: {len(holdings):,} holdings" in capsys.readouterr().out
    assert main(["--data-dir", data_dir, "status"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "[index/holdings] holdings record (leader/06 'y'): not a bibliographic record" in out
    assert f"  ZDB: holdings {len(holdings):,}" in out
    assert f"  in all: holdings {len(holdings):,}" in out
    assert main(["--data-dir", data_dir, "status", "--json"]) == EXIT_OK
    status = json.loads(capsys.readouterr().out)
    assert status["quarantined_by_kind"] == {"holdings": len(holdings)}
    assert status["sources"][0]["quarantined_by_kind"] == {"holdings": len(holdings)}
    command = ["--data-dir", data_dir, "quarantine", "list", "--kind", "holdings", "--json"]
    assert main([*command, "--page-size", "500"]) == EXIT_OK
    listing = json.loads(capsys.readouterr().out)
    assert listing["total"] == len(holdings)
    assert listing["kind_counts"] == [{"source": "ZDB", "kind": "holdings", "count": len(holdings)}]
    assert {entry["kind"] for entry in listing["entries"]} == {"holdings"}
    assert len(listing["entries"]) == len(holdings)

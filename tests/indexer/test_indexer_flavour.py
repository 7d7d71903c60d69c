"""Each record is read with its own MARC flavour, whatever its source declares.

Expected answers come from the data, read by pymarc alone: which records carry a 200 (UNIMARC title)
and no 245 (MARC 21 title), and what their 200 $a says.
"""

from __future__ import annotations

import io
from pathlib import Path

import pymarc
import pytest
from lxml import etree

from indexer import run_index
from indexer.extract import ExtractedRecord
from indexer.flavour import SETTLED_BY_TITLE, detect
from indexer.parsing import ParseFailure, parse_outcome
from tests.indexer.indexer_testdata import DATA, iso2709_records
from unicat.model import Profile, RecordSyntax, Source, SourceRecord
from unicat.settings import Settings
from unicat_cli.wiring import open_catalogue

DECLARED_MARC21 = "source declares MARC 21; the record is UNIMARC ("
DECLARED_UNIMARC = "source declares UNIMARC; the record is MARC 21 ("


def _read(raw: bytes) -> pymarc.Record:
    reader = pymarc.MARCReader(io.BytesIO(raw), to_unicode=True, force_utf8=True, utf8_handling="replace")
    record: pymarc.Record | None = next(iter(reader))
    assert record is not None
    return record


def _unimarc_family(raw: bytes) -> bool:
    record = _read(raw)
    return bool(record.get_fields("200")) and not record.get_fields("245")


def _outcome(
    raw: bytes, profile: Profile, syntax: RecordSyntax = "iso2709"
) -> ExtractedRecord | ParseFailure:
    sources = {"S": Source("S", "A library", profile=profile)}
    return parse_outcome(SourceRecord("S", "1", raw, syntax, None), sources)[1]


def _parsed(raw: bytes, profile: Profile, syntax: RecordSyntax = "iso2709") -> ExtractedRecord:
    outcome = _outcome(raw, profile, syntax)
    assert isinstance(outcome, ExtractedRecord), outcome
    return outcome


def test_unimarc_records_in_a_marc21_file_are_read_as_unimarc_with_a_warning() -> None:
    raws = iso2709_records("dedup/pride-and-prejudice-fixed.mrc")
    unimarc = [raw for raw in raws if _unimarc_family(raw)]
    assert len(unimarc) == 17
    for raw in unimarc:
        extracted = _parsed(raw, "marc21")
        title = _read(raw)["200"]["a"]
        assert extracted.title.startswith(title.strip()), (extracted.title, title)
        assert extracted.flavour_corrected
        warning = extracted.warnings[0]
        assert warning.startswith(DECLARED_MARC21) and warning.endswith("read as UNIMARC")
        assert "title in 200, no 245" in warning and "against: 008 present" in warning
        # The author line is a name, never 100's coded data.
        assert not any(author[:8].isdigit() for author in extracted.authors)


def test_ordinary_records_carry_no_flavour_warning() -> None:
    raws = iso2709_records("dedup/pride-and-prejudice-fixed.mrc")
    for raw in raws:
        if _unimarc_family(raw):
            continue
        extracted = _parsed(raw, "marc21")
        assert not extracted.flavour_corrected
        assert not any(warning.startswith("source declares") for warning in extracted.warnings)
    for raw in iso2709_records("unimarc/periouni.mrc")[:200]:
        assert not _parsed(raw, "unimarc").flavour_corrected


@pytest.mark.parametrize(
    "relative", ["unimarc/periouni.mrc", "unimarc/cotesMEL.mrc", "unimarc/cotes8.mrc", "unimarc/cotesX.mrc"]
)
def test_unimarc_files_declared_marc21_are_read_as_unimarc(relative: str) -> None:
    for raw in iso2709_records(relative)[:300]:
        declared_right = _parsed(raw, "unimarc")
        declared_wrong = _parsed(raw, "marc21")
        assert declared_wrong.flavour_corrected and declared_wrong.warnings[0].startswith(DECLARED_MARC21)
        assert declared_wrong.title == declared_right.title
        assert declared_right.title
        assert declared_wrong.holdings == declared_right.holdings


def _rusmarc_records() -> list[bytes]:
    root = etree.parse(str(DATA / "unimarc/rusmarc.xml")).getroot()
    return [etree.tostring(element) for element in root if etree.QName(element).localname == "record"]


def test_rusmarc_declared_marc21_is_read_as_unimarc() -> None:
    records = _rusmarc_records()
    assert records
    for raw in records:
        element = etree.fromstring(raw)
        titles = [
            sub.text
            for field in element
            if field.get("tag") == "200"
            for sub in field
            if sub.get("code") == "a"
        ]
        extracted = _parsed(raw, "marc21", "marcxml")
        assert extracted.flavour_corrected and extracted.warnings[0].startswith(DECLARED_MARC21)
        assert titles and extracted.title.startswith(titles[0] or "")


@pytest.mark.parametrize("relative", ["marc21/uva_001_2000.mrc", "marc21/brkrtest.mrc"])
def test_marc21_files_declared_unimarc_are_read_as_marc21(relative: str) -> None:
    for raw in iso2709_records(relative)[:200]:
        extracted = _parsed(raw, "unimarc")
        assert extracted.flavour_corrected and extracted.warnings[0].startswith(DECLARED_UNIMARC)
        assert extracted.title == _parsed(raw, "marc21").title
        assert extracted.title


def _stripped(raw: bytes, keep: set[str]) -> bytes:
    """A real record with every field but ``keep`` removed, written back by pymarc."""
    record = _read(raw)
    for field in list(record.fields):
        if field.tag not in keep:
            record.remove_field(field)
    written: bytes = record.as_marc()
    return written


@pytest.mark.parametrize("profile", ["marc21", "unimarc"])
def test_a_record_with_no_evidence_of_any_flavour_is_quarantined_with_the_reason(
    profile: Profile, tmp_path: Path
) -> None:
    marc21 = iso2709_records("dedup/pride-and-prejudice-fixed.mrc")[0]
    unimarc = iso2709_records("unimarc/cotesMEL.mrc")[0]
    bare = [_stripped(marc21, {"001", "020", "852"}), _stripped(unimarc, {"001", "010", "995"})]
    catalogue = open_catalogue(Settings(engine_url=f"sqlite:///{tmp_path / 'unicat.db'}"))
    try:
        source = Source("S", "A library", profile=profile)
        catalogue.records.save_source(source)
        records = [SourceRecord("S", f"r{i}", raw, "iso2709", None) for i, raw in enumerate([*bare, marc21])]
        catalogue.records.store_page("S", records, None)
        report = run_index(catalogue.records, catalogue.index)
        assert report.set_aside == {"unrecognised format": 2}
        assert report.parsed == 1
        assert report.flavour_corrected == (1 if profile == "unimarc" else 0)
        entries = catalogue.records.list_quarantine(limit=10)
        assert {entry.raw for entry in entries} == set(bare)
        assert all(entry.reason.startswith("unrecognised format: no 245 or 200") for entry in entries)
    finally:
        catalogue.close()


def test_the_index_report_counts_records_read_with_another_flavour(tmp_path: Path) -> None:
    raws = iso2709_records("dedup/pride-and-prejudice-fixed.mrc")
    catalogue = open_catalogue(Settings(engine_url=f"sqlite:///{tmp_path / 'unicat.db'}"))
    try:
        catalogue.records.save_source(Source("AUS", "Austen Society"))
        catalogue.records.store_page(
            "AUS", [SourceRecord("AUS", f"r{i}", raw, "iso2709", None) for i, raw in enumerate(raws)], None
        )
        report = run_index(catalogue.records, catalogue.index)
        assert report.flavour_corrected == sum(map(_unimarc_family, raws))
        assert report.parsed == len(raws)
        assert report.set_aside == {}
    finally:
        catalogue.close()


def test_a_record_with_its_declared_title_tag_alone_is_read_as_declared_whatever_else_it_shows() -> None:
    # The weights leave the other flavour short of a flip once the declared title speaks.
    assert SETTLED_BY_TITLE
    unimarc_rest = {"100", "101"}
    assert (
        detect("marc21", "00000nam  2200000   450 ", {"245", *unimarc_rest}, "19971126d").profile == "marc21"
    )
    assert (
        detect("unimarc", "00000nam a2200000 a 4500", {"200", "100", "008"}, "Austen, J").profile == "unimarc"
    )

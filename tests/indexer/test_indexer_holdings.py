"""Holdings of every holdings tag the profiles map, on real records; expected values are read from the
same records with plain pymarc."""

from __future__ import annotations

from pathlib import Path

import pymarc
import pytest

from indexer.extract import ExtractedRecord, extract
from indexer.overrides import apply_override, parse_override
from indexer.profiles import builtin_profile
from tests.indexer.indexer_testdata import DATA
from unicat.model import Profile, Source

COTES = ("cotes8.mrc", "cotesBR.mrc", "cotesD.mrc", "cotesMEL.mrc", "cotesT.mrc", "cotesX.mrc")


def _records(relative: str) -> list[pymarc.Record]:
    with (DATA / relative).open("rb") as handle:
        # The UNIMARC files are UTF-8 whatever they declare (INDEX.md); MARC 21 ones say what they are.
        utf8 = relative.startswith("unimarc/")
        reader = pymarc.MARCReader(handle, to_unicode=True, force_utf8=utf8, permissive=True)
        return [record for record in reader if record is not None]


def _extract(record: pymarc.Record, profile: Profile, mapping: str | None = None) -> ExtractedRecord:
    source = Source(code="LIB", name="Library", profile=profile, mapping=mapping)
    chosen = builtin_profile(profile)
    if mapping is not None:
        chosen = apply_override(chosen, parse_override(mapping, "test override"), "test override")
    control = record.get_fields("001")
    return extract(record, chosen, source, control[0].data if control else "no-001")


@pytest.mark.parametrize("name", COTES)
def test_995_gives_owner_depositary_call_number_barcode_section_and_document_type(name: str) -> None:
    records = _records(f"unimarc/{name}")
    assert records
    for record in records:
        fields = record.get_fields("995")
        assert fields, "INDEX.md: every cotes record carries 995"
        holdings = _extract(record, "unimarc").holdings
        assert [h.branch for h in holdings] == [f.get("b") or f.get("c") for f in fields]
        assert [h.depositary for h in holdings] == [f.get("c") for f in fields]
        assert [h.depositary_name for h in holdings] == [f.get("d") for f in fields]
        assert [h.call_number for h in holdings] == [f.get("k") for f in fields]
        assert [h.barcode for h in holdings] == [f.get("f") for f in fields]
        assert [h.location for h in holdings] == [f.get("e") for f in fields]
        assert [h.item_type for h in holdings] == [f.get("r") for f in fields]
        assert [h.note for h in holdings] == [f.get("u") for f in fields]
        # No [libraries] table in the built-in profile: a code has no name but itself.
        assert {h.branch_name for h in holdings} == {None}


def test_a_known_995_copy() -> None:
    # cotes8.mrc, first record (001 054273242), first 995:
    # $b751072303 $cBIB01 $dANX1 $f00000001158900 $k… $oL4 $rDI
    record = _records("unimarc/cotes8.mrc")[0]
    first = _extract(record, "unimarc").holdings[0]
    assert (first.branch, first.depositary, first.depositary_name) == ("751072303", "BIB01", "ANX1")
    assert (first.barcode, first.item_type) == ("00000001158900", "DI")


def test_libraries_table_names_owner_and_depositary_codes_and_keeps_the_codes() -> None:
    mapping = (
        '[libraries]\n"751072303" = "Bibliothèque de Sciences Po"\n'
        'BIB01 = "Bibliothèque, site Saint-Guillaume"\n'
    )
    for record in _records("unimarc/cotesBR.mrc"):
        holdings = _extract(record, "unimarc", mapping).holdings
        fields = record.get_fields("995")
        assert [h.branch for h in holdings] == [f.get("b") for f in fields]
        assert {h.branch_name for h in holdings} == {"Bibliothèque de Sciences Po"}
        assert {h.depositary for h in holdings} == {"BIB01"}
        assert {h.depositary_name for h in holdings} == {"Bibliothèque, site Saint-Guillaume"}


def test_unmapped_codes_keep_no_name() -> None:
    record = _records("unimarc/cotesBR.mrc")[0]
    holdings = _extract(record, "unimarc", '[libraries]\nELSEWHERE = "Somewhere else"\n').holdings
    assert [(h.branch, h.branch_name) for h in holdings] == [("751072303", None)]


def test_852_split_holdings_of_the_zdb_name_the_institution_and_its_shelf_mark() -> None:
    records = _records("marc21/zdblokutf8.mrc")
    assert len(records) >= 290
    for record in records:
        fields = record.get_fields("852")
        holdings = _extract(record, "marc21").holdings
        # ZDB spreads one holding over several 852: the one with $a (the ISIL) closes it.
        assert [h.branch for h in holdings] == [f.get("a") for f in fields if f.get("a")]
        # location = "bc": sublocation and shelving location, every one kept when the parts of one
        # holding carry several.
        places = [value for f in fields for value in f.get_subfields("b", "c")]
        assert " ".join(h.location for h in holdings if h.location).split() == " ".join(places).split()


def test_949_of_virginia_gives_call_number_barcode_and_shelving() -> None:
    records = [r for r in _records("marc21/uva_001_2000.mrc") if r.get_fields("949")]
    assert len(records) == 3  # CENSUS.tsv: 3 records with 949
    # None has 852 too, which the profile would prefer (a copy is never counted twice).
    assert not any(r.get_fields("852") for r in records)
    for record in records:
        fields = record.get_fields("949")
        holdings = _extract(record, "marc21").holdings
        assert [h.call_number for h in holdings] == [f.get("a") for f in fields]
        assert [h.barcode for h in holdings] == [f.get("i") for f in fields]
        assert [h.location for h in holdings] == [f.get("h") for f in fields]
        assert [h.item_type for h in holdings] == [f.get("t") for f in fields]


def test_952_home_library_becomes_the_branch() -> None:
    records = [r for r in _records("dedup/pride-and-prejudice-fixed.mrc") if r.get_fields("952")]
    assert len(records) == 3  # CENSUS.tsv: 3 records with 952
    for record in records:
        if record.get_fields("852"):
            continue  # 852 comes first in the profile
        fields = record.get_fields("952")
        holdings = _extract(record, "marc21").holdings
        assert [h.branch for h in holdings] == [f.get("a") or f.get("b") for f in fields]


def test_koha_export_without_items_reads_its_942_item_type_through_an_override() -> None:
    # The Koha export 1474920681_KOHA_LFL_5.xml carries no 952 items, only 942 $c BK (Koha's item
    # type of the record) and 999: a source can say where its holdings are.
    (record,) = pymarc.parse_xml_to_array(str(Path(DATA / "marc21/1474920681_KOHA_LFL_5.xml")))
    assert record.get_fields("942")[0].get("c") == "BK"
    plain = _extract(record, "marc21").holdings
    assert [h.item_type for h in plain] == [None]
    mapped = _extract(record, "marc21", '[[holdings]]\ntag = "942"\nitem_type = "c"\n').holdings
    assert [h.item_type for h in mapped] == ["BK"]

"""Field mapping on real records; expected values read from the records with plain pymarc or bytes."""

from __future__ import annotations

import unicodedata

import pymarc

from indexer.decoding import decode_record
from indexer.extract import ExtractedRecord, extract, strip_isbd
from indexer.profiles import builtin_profile
from tests.indexer.indexer_testdata import DATA, control_number, iso2709_records
from tests.support.shared_data import undouble
from unicat.model import Profile, Source


def _extract(raw: bytes, profile: Profile, code: str = "LIB") -> ExtractedRecord:
    source = Source(code=code, name=f"Library {code}", profile=profile)
    record = decode_record(raw, "iso2709", profile).record
    return extract(record, builtin_profile(profile), source, control_number(raw) or "no-001")


def _plain(relative: str) -> list[pymarc.Record]:
    with (DATA / relative).open("rb") as handle:
        return [r for r in pymarc.MARCReader(handle, to_unicode=True, force_utf8=True) if r is not None]


def test_strip_isbd() -> None:
    assert strip_isbd("Pride and prejudice /") == "Pride and prejudice"
    assert strip_isbd("London :") == "London"
    assert strip_isbd("Austen, Jane, 1775-1817.") == "Austen, Jane, 1775-1817"
    assert strip_isbd("Penguin,") == "Penguin"
    assert strip_isbd("Title =") == "Title"
    assert strip_isbd("2nd ed.") == "2nd ed."
    assert strip_isbd("Chapman, R. W.") == "Chapman, R. W."


def test_unimarc_995_holdings_give_call_numbers_from_k() -> None:
    for name in ("cotes8.mrc", "cotesD.mrc", "cotesMEL.mrc"):
        raws = iso2709_records(f"unimarc/{name}")
        plain = _plain(f"unimarc/{name}")
        assert len(raws) == len(plain)
        for raw, expected in zip(raws, plain, strict=True):
            extracted = _extract(raw, "unimarc", "SCPO")
            fields = expected.get_fields("995")
            # pymarc keeps the double-encoded UTF-8 of real call numbers ("8Â°007.775"); the decoder
            # repairs it, so the reference is pymarc's text with that one damage undone.
            assert [h.call_number for h in extracted.holdings] == [undouble(f.get("k")) for f in fields]
            assert [h.barcode for h in extracted.holdings] == [f.get("f") for f in fields]
            assert [h.branch for h in extracted.holdings] == [f.get("b") or f.get("c") for f in fields]
            assert {h.library for h in extracted.holdings} == {"SCPO"}
            assert {h.library_name for h in extracted.holdings} == {"Library SCPO"}


def test_unimarc_fields_of_a_known_record() -> None:
    # cotes8.mrc record 1 (001 054273242): 200 $a Traité de la science des finances, 100 $a/9-12 1892,
    # 101 $a fre, leader/06-07 "am", 210 $c Guillemin, 700 $a Leroy-Beaulieu $b Paul.
    extracted = _extract(iso2709_records("unimarc/cotes8.mrc")[0], "unimarc")
    assert extracted.local_id == "054273242"
    assert extracted.title == "Traité de la science des finances"
    assert extracted.year == 1892
    assert extracted.language == "fre"
    assert extracted.format == "book"
    assert extracted.publisher == "Guillemin"
    assert extracted.authors == ["Leroy-Beaulieu, Paul"]
    assert extracted.subjects == ["Finances publiques -- France"]


def test_periouni_serials() -> None:
    raws = iso2709_records("unimarc/periouni.mrc")
    plain = _plain("unimarc/periouni.mrc")
    for raw, expected in list(zip(raws, plain, strict=True))[:300]:
        extracted = _extract(raw, "unimarc")
        assert (extracted.format == "serial") == (expected.leader[6] == "a" and expected.leader[7] in "si")
        languages = [value for f in expected.get_fields("101") if (value := f.get("a"))]
        if languages:
            assert extracted.language == languages[0][:3].lower()
        assert "Ã" not in extracted.title


def test_marc21_852_holdings_of_zdb() -> None:
    raws = iso2709_records("marc21/zdblokutf8.mrc")[:-1]  # the last record is damaged (see CENSUS)
    plain = _plain("marc21/zdblokutf8.mrc")
    by_id = {r["001"].data: r for r in plain if r["001"] is not None}
    for raw in raws:
        extracted = _extract(raw, "marc21", "ZDB")
        expected = by_id[extracted.local_id]
        codes = [f.get("a") for f in expected.get_fields("852") if f.get("a")]
        places: set[str] = set()
        for marc_field in expected.get_fields("852"):
            values = [" ".join(v.split()) for v in marc_field.get_subfields("b", "c") if v.strip()]
            places.update(unicodedata.normalize("NFC", v) for v in [*values, " ".join(values)] if v)
        assert [h.branch for h in extracted.holdings] == codes
        # The parts of one split holding may each carry a place (a shelf mark in $c, a sublocation
        # in $b of the next 852): the holding keeps them all, in field order.
        words = {word for place in places for word in place.split()}
        assert {w for h in extracted.holdings if h.location for w in h.location.split()} <= words
        assert any(h.location for h in extracted.holdings) == bool(places)


def test_marc21_fields_format_year_language() -> None:
    plain = _plain("dedup/pride-and-prejudice-fixed.mrc")
    for raw, expected in zip(iso2709_records("dedup/pride-and-prejudice-fixed.mrc"), plain, strict=True):
        extracted = _extract(raw, "marc21")
        fixed = next((f.data or "" for f in expected.get_fields("008")), "")
        if fixed[7:11].isdigit():
            assert extracted.year == int(fixed[7:11])
        if fixed[35:38].isalpha():
            assert extracted.language == fixed[35:38].lower()
        if expected.leader[6:8] == "am":
            assert extracted.format == "book"


def test_record_without_holdings_gets_one_holding_with_the_profile_call_number() -> None:
    # brkrtest.mrc record 1 has no 852/949/952 and 050 $a PQ1234 $b .T39 1955.
    raw = iso2709_records("marc21/brkrtest.mrc")[0]
    extracted = _extract(raw, "marc21", "BRK")
    assert len(extracted.holdings) == 1
    assert extracted.holdings[0].library == "BRK"
    assert extracted.holdings[0].call_number == "PQ1234 .T39 1955"

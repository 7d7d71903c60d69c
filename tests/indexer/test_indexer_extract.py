"""Field mapping on real records; expected values read from the records with plain pymarc or bytes."""

from __future__ import annotations

import unicodedata

import pymarc
from lxml import etree

from indexer.decoding import decode_record
from indexer.extract import ExtractedRecord, extract, strip_isbd
from indexer.profiles import builtin_profile
from tests.indexer.indexer_testdata import DATA, control_number, field_bytes, iso2709_records, marcxml_records
from tests.support.shared_data import undouble
from unicat.model import Profile, Source
from unicat.oai_protocol import MARC_NS


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


# Target audience, from real records cited by file and 001. The code is read from each record's bytes
# here (the test checks that the record says what this table cites), and what the code stands for is
# the format's own definition: MARC 21 008/22 (books, music, visual materials and computer files: a-c
# and j juvenile, d adolescent, e adult, f specialized, g general; the same position of a map is its
# projection) and UNIMARC 100 $a/17-19 (a-d juvenile, e young adult, k and m adult, u unknown).
MARC21_AUDIENCE = [
    ("marc21/uva_001_2000.mrc", "u482", "am", "j", ["children"]),  # Mama don't allow
    ("marc21/uva_001_2000.mrc", "u251", "gm", "e", ["adults"]),  # Murder (a video)
    ("marc21/uva_001_2000.mrc", "u1803", "em", "b", []),  # a tectonic map of China: a projection code
    ("marc21/brkrtest.mrc", "tes96000001", "am", "j", ["children"]),
    ("marc21/zdbtitutf8.mrc", "010000011", "as", "|", []),  # a serial: the form of the original
    ("dedup/pride-and-prejudice-fixed.mrc", "4048685", "am", "d", ["young_adults"]),
    ("dedup/pride-and-prejudice-fixed.mrc", "13785458", "am", "c", ["children"]),
    ("dedup/pride-and-prejudice-fixed.mrc", "UkOxUb15992668", "am", "e", ["adults"]),
    ("dedup/pride-and-prejudice-fixed.mrc", "1934501", "am", "g", ["general"]),
    ("dedup/pride-and-prejudice-fixed.mrc", "002980135", "gm", "g", ["general"]),  # a video
]
MARCXML_AUDIENCE = [
    ("marc21/specTestRecs.xml", "u3456831", "am", "f", ["specialized"]),
    ("marc21/specTestRecs.xml", "u3502613", "mm", "g", ["general"]),  # a computer file
    ("marc21/specTestRecs.xml", "u1472234", "em", "c", []),  # a map
]
UNIMARC_AUDIENCE = [
    ("unimarc/cotes8.mrc", "054273242", "k  ", ["adults"]),  # adult, serious
    ("unimarc/cotes8.mrc", "062854771", "m  ", ["adults"]),  # adult, general
    ("unimarc/cotes8.mrc", "021163812", "u  ", []),  # unknown
    ("unimarc/cotes8.mrc", "096788917", "   ", []),
    ("unimarc/cotesMEL.mrc", "155148702", "m  ", ["adults"]),  # a map: 100 is for every material
]


def _by_control_number(relative: str, wanted: str) -> bytes:
    (raw,) = [raw for raw in iso2709_records(relative) if (control_number(raw) or "").strip() == wanted]
    return raw


def test_marc21_target_audience_is_read_from_008_22_of_the_materials_that_code_it() -> None:
    for relative, number, kind, code, audience in MARC21_AUDIENCE:
        raw = _by_control_number(relative, number)
        fixed = field_bytes(raw, b"008")
        assert fixed is not None and (raw[6:8], fixed[22:23]) == (kind.encode(), code.encode()), number
        assert _extract(raw, "marc21").audience == audience, number


def test_marcxml_target_audience() -> None:
    source = Source(code="LIB", name="Library LIB")
    for relative, number, kind, code, audience in MARCXML_AUDIENCE:
        (raw,) = [raw for raw in marcxml_records(relative) if f">{number}</".encode() in raw]
        root = etree.fromstring(raw)
        leader = root.findtext(f"{{{MARC_NS}}}leader") or ""
        fixed = root.findtext(f"{{{MARC_NS}}}controlfield[@tag='008']") or ""
        assert (leader[6:8], fixed[22:23]) == (kind, code), number
        record = decode_record(raw, "marcxml", "marc21").record
        assert extract(record, builtin_profile("marc21"), source, number).audience == audience, number


def test_unimarc_target_audience_is_read_from_100_a_17_to_19() -> None:
    for relative, number, codes, audience in UNIMARC_AUDIENCE:
        raw = _by_control_number(relative, number)
        general = field_bytes(raw, b"100")
        assert general is not None and general[2:4] == b"\x1fa", number  # indicators, then $a
        assert general[4 + 17 : 4 + 20] == codes.encode(), number
        assert _extract(raw, "unimarc").audience == audience, number

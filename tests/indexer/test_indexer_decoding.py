"""Decoding real records: MARC-8 (brkrtest), UTF-8 UNIMARC declared otherwise (periouni), MARCXML."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable

import pymarc
import pytest

from indexer.decoding import decode_record
from tests.indexer.indexer_testdata import DATA, iso2709_records, unreadable_record
from unicat.errors import RecordError


def parse_xml(source: object) -> list[pymarc.Record]:
    """pymarc's MARCXML reader (untyped in pymarc), as the independent reference."""
    reader: Callable[[object], list[pymarc.Record]] = pymarc.parse_xml_to_array
    return reader(source)


def _all_text(record: pymarc.Record) -> str:
    return "\n".join(sub.value for f in record.fields if not f.is_control_field() for sub in f.subfields)


def test_marc8_diacritics_decode_to_the_right_characters() -> None:
    # brkrtest.mrc record 2, as bytes: "\xa1\xe2od\xe2z" (ANSEL A1 = Ł, E2 = combining acute before its
    # base), "ma\xe4nana" (E4 = combining tilde), "masal\xb8" (B8 = dotless i), "\xb95.95" (B9 = £).
    raw = iso2709_records("marc21/brkrtest.mrc")[1]
    assert b"\xa1\xe2od\xe2z" in raw and b"ma\xe4nana" in raw
    decoded = decode_record(raw, "iso2709", "marc21")
    text = _all_text(decoded.record)
    assert "\u0141\u00f3d\u017a" in text  # Łódź, precomposed (NFC)
    assert "ma\u00f1ana" in text
    assert "masal\u0131" in text
    assert "\u00a35.95" in text
    assert decoded.warnings == []


def test_every_brkrtest_record_decodes_without_replacement_characters() -> None:
    for raw in iso2709_records("marc21/brkrtest.mrc"):
        text = _all_text(decode_record(raw, "iso2709", "marc21").record)
        assert "\ufffd" not in text


def test_unimarc_utf8_bytes_win_over_a_wrong_declaration() -> None:
    raws = iso2709_records("unimarc/periouni.mrc")
    # Pick records whose 100 $a/26-27 declares something other than 50 (UTF-8) yet carry é as C3 A9.
    checked = 0
    for raw in raws:
        if b"P\xc3\xa9riodiques" not in raw:
            continue
        record = decode_record(raw, "iso2709", "unimarc").record
        declared = record["100"]["a"][26:28]
        if declared == "50":
            continue
        text = _all_text(record)
        assert "Périodiques" in text
        assert "Ã" not in text
        checked += 1
    assert checked > 100


def test_undecodable_unimarc_bytes_fall_back_to_latin1_with_a_warning() -> None:
    raw = iso2709_records("unimarc/cotes8.mrc")[0]
    damaged = raw.replace(b"Trait\xc3\xa9", b"Trait\xe9\xe9")  # same length, invalid UTF-8
    decoded = decode_record(damaged, "iso2709", "unimarc")
    assert decoded.record["200"]["a"].startswith("Trait\u00e9\u00e9 de la science")
    assert any("latin-1" in warning for warning in decoded.warnings)


def test_marcxml_namespaced_record() -> None:
    raw = (DATA / "marc21/OCLC_814388508.xml").read_bytes()
    expected = parse_xml(str(DATA / "marc21/OCLC_814388508.xml"))[0]
    record = decode_record(raw, "marcxml", "marc21").record
    assert str(record.leader) == str(expected.leader)
    assert [f.tag for f in record.fields] == [f.tag for f in expected.fields]
    assert record["245"]["a"] == unicodedata.normalize("NFC", expected["245"]["a"])


def test_marcxml_field_without_tag_is_dropped_with_a_warning() -> None:
    raw = (DATA / "malformed/chabon-missing-datafield-tag.xml").read_bytes()
    decoded = decode_record(raw, "marcxml", "marc21")
    assert any("without a tag" in warning for warning in decoded.warnings)
    assert decoded.record["245"] is not None


@pytest.mark.parametrize("raw", [b"", b"00012", b"garbage that is not a MARC record at all......"])
def test_unreadable_bytes_raise_record_error(raw: bytes) -> None:
    with pytest.raises(RecordError):
        decode_record(raw, "iso2709", "marc21")


def test_a_record_whose_directory_is_not_whole_entries_is_a_record_error() -> None:
    with pytest.raises(RecordError, match="not a multiple of 12"):
        decode_record(unreadable_record(), "iso2709", "marc21")


def test_a_directory_beside_the_terminators_is_read_by_the_terminators_with_a_warning() -> None:
    # xbib's error.mrc: its 250 holds three indicator bytes, one more than the directory counts, so
    # every later entry points a byte early; each of its 16 fields still ends with a terminator.
    raw = (DATA / "malformed/error.mrc").read_bytes()
    assert raw.count(b"\x1e") == 1 + (int(raw[12:17]) - 25) // 12
    decoded = decode_record(raw, "iso2709", "marc21")
    assert any("field 250" in w and "read by their terminators" in w for w in decoded.warnings)
    assert decoded.record["250"]["a"] == "1st ed."
    assert decoded.record["245"]["a"] == "Summerland /"
    assert [f.tag for f in decoded.record.get_fields("650")] == ["650"] * 3


def test_lengths_counted_in_characters_are_read_by_the_terminators() -> None:
    # What a tool that measures text instead of bytes writes: a real UTF-8 record whose directory
    # counts each field's characters. pymarc reads the intact record for the expected fields.
    original = next(r for r in iso2709_records("marc21/065001035.mrc") if not r.isascii())
    expected = next(iter(pymarc.MARCReader(io.BytesIO(original), to_unicode=True, force_utf8=True)))
    assert expected is not None
    base = int(original[12:17])
    directory = original[24 : base - 1]
    entries, offset = b"", 0
    for start in range(0, len(directory), 12):
        length, at = int(directory[start + 3 : start + 7]), int(directory[start + 7 : start + 12])
        characters = len(original[base + at : base + at + length].decode("utf-8"))
        entries += directory[start : start + 3] + b"%04d%05d" % (characters, offset)
        offset += characters
    assert entries != directory
    miscounted = original[:24] + entries + original[base - 1 :]
    decoded = decode_record(miscounted, "iso2709", "marc21")
    assert any("read by their terminators" in w for w in decoded.warnings)
    nfc = [unicodedata.normalize("NFC", f.value()) for f in expected.fields]
    assert [f.value() for f in decoded.record.fields] == nfc


def test_broken_xml_is_a_record_error() -> None:
    with pytest.raises(RecordError):
        decode_record(b"<record><leader>", "marcxml", "marc21")

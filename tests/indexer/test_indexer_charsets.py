"""Legacy character sets, wrongly declared charsets and double-encoded UTF-8, on real records.

Every expected text here comes from the standards' code tables written out in this file (ISO 5426:1983,
ISO/IEC 6937, MARC-8) or from the original UTF-8 bytes of a real record, never from the decoder: the
records are re-encoded byte by byte with the tables below, which the decoder must read back.
"""

from __future__ import annotations

import unicodedata

import pymarc
import pytest

from indexer.charsets import ISO_5426, ISO_6937, decode_diacritic_first
from indexer.decoding import decode_fields
from indexer.marc import MarcFields
from indexer.mojibake import repair
from tests.indexer.indexer_testdata import iso2709_records

# French letters as ISO 5426 codes them: the non-spacing diacritic first, then the base letter.
# 0xC1 grave, 0xC2 acute, 0xC3 circumflex, 0xC8 diaeresis, 0xD0 cedilla (ISO 5426:1983, columns 12-13).
ISO_5426_FRENCH = {
    "é": b"\xc2e",
    "è": b"\xc1e",
    "à": b"\xc1a",
    "ê": b"\xc3e",
    "â": b"\xc3a",
    "ô": b"\xc3o",
    "î": b"\xc3i",
    "û": b"\xc3u",
    "ë": b"\xc8e",
    "ï": b"\xc8i",
    "ü": b"\xc8u",
    "ç": b"\xd0c",
}
# ISO/IEC 6937 codes the same letters with the same accents, except the cedilla: 0xCB.
ISO_6937_FRENCH = {**ISO_5426_FRENCH, "ç": b"\xcbc"}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@pytest.mark.parametrize(
    ("coded", "expected"),
    [
        (b"Biblioth\xc1eque", "Biblioth\u00e8que"),  # 0xC1 grave before e
        (b"\xe8\xc2od\xc2z", "\u0141\u00f3d\u017a"),  # 0xE8 Ł, 0xC2 acute: Łódź
        (b"K\xf9benhavn", "K\u00f8benhavn"),  # 0xF9 ø
        (b"\xcfCesk\xc2y", "\u010cesk\u00fd"),  # 0xCF caron: Český
        (b"Fran\xd0cais", "Fran\u00e7ais"),  # 0xD0 cedilla
        (b"\xd3a", "\u0105"),  # 0xD3 hook to right (ogonek): ą
        (b"Stra\xfbe", "Stra\u00dfe"),  # 0xFB ß
        (b"\xc9Uber", "\u00dcber"),  # 0xC9 umlaut
        (b"\xd6\xc5a", nfc("a\u0323\u0304")),  # two marks, both after the base, then NFC
        (b"\xa2Zitat\xaa", "\u201eZitat\u201c"),  # low and high double quotation marks
        (b"\xc2 ", "\u00b4"),  # a mark before a space is the spacing accent
    ],
)
def test_iso_5426_decodes_by_its_code_table(coded: bytes, expected: str) -> None:
    text, misfits, _ = decode_diacritic_first(coded, ISO_5426)
    assert text == expected
    assert misfits == (1 if coded.endswith(b" ") else 0)


@pytest.mark.parametrize(
    ("coded", "expected"),
    [
        (b"Fran\xcbcais", "Fran\u00e7ais"),  # 0xCB cedilla
        (b"\xceA", "\u0104"),  # 0xCE ogonek
        (b"Gda\xc2nsk", "Gda\u0144sk"),
        (b"\xcfs\xcfc", "\u0161\u010d"),  # 0xCF caron
        (b"\xe8\xc2od\xc2z", "\u0141\u00f3d\u017a"),
        (b"\xe4", "\u0126"),  # 0xE4 Ħ (not in ISO 5426)
        (b"10 \xb4 2", "10 \u00d7 2"),  # 0xB4 multiplication sign
    ],
)
def test_iso_6937_decodes_by_its_code_table(coded: bytes, expected: str) -> None:
    text, misfits, _ = decode_diacritic_first(coded, ISO_6937)
    assert (text, misfits) == (expected, 0)


def test_a_byte_the_set_leaves_unused_is_a_replacement_character_and_a_misfit() -> None:
    # 0xE0 is unused in ISO 5426; a mark at the end has no base.
    assert decode_diacritic_first(b"a\xe0b\xc2", ISO_5426)[:2] == ("a\ufffdb\u00b4", 2)


def re_encode(raw: bytes, table: dict[str, bytes]) -> bytes:
    """A UTF-8 record with each non-ASCII letter replaced by its 2-byte legacy code (same length, so
    the directory stays right); every non-ASCII letter of the record must be in ``table``."""
    text = raw.decode("utf-8")
    out = bytearray()
    for char in text:
        coded = table.get(char) if ord(char) > 127 else char.encode("ascii")
        assert coded is not None and len(coded) == len(char.encode("utf-8")), char
        out += coded
    assert len(out) == len(raw)
    return bytes(out)


def with_declaration(raw: bytes, positions: bytes) -> bytes:
    """The record with 100 $a/26-29 set to ``positions`` (four bytes, so nothing moves)."""
    base = int(raw[12:17])
    directory = raw[24 : base - 1]
    entry = next(
        directory[i : i + 12] for i in range(0, len(directory), 12) if directory[i : i + 3] == b"100"
    )
    field_start = base + int(entry[7:12])
    start = raw.index(b"\x1fa", field_start) + 2 + 26
    return raw[:start] + positions + raw[start + 4 :]


def expected_fields(raw: bytes) -> dict[str, list[list[tuple[str, str]]]]:
    """Each data field's subfields, read from the original UTF-8 bytes with Python's own codec."""
    base = int(raw[12:17])
    directory = raw[24 : base - 1]
    found: dict[str, list[list[tuple[str, str]]]] = {}
    for start in range(0, len(directory), 12):
        tag = directory[start : start + 3].decode()
        length, offset = int(directory[start + 3 : start + 7]), int(directory[start + 7 : start + 12])
        if tag < "010":
            continue
        data = raw[base + offset : base + offset + length - 1].decode("utf-8")
        found.setdefault(tag, []).append([(p[0], nfc(p[1:])) for p in data.split("\x1f")[1:] if p])
    return found


def decoded_fields(decoded: MarcFields) -> dict[str, list[list[tuple[str, str]]]]:
    found: dict[str, list[list[tuple[str, str]]]] = {}
    for tag, content in decoded.fields:
        if not isinstance(content, str):
            found.setdefault(tag, []).append(content[1])
    return found


def test_a_unimarc_record_in_iso_5426_as_declared_reads_back_without_a_charset_warning() -> None:
    original = iso2709_records("unimarc/cotes8.mrc")[18]  # é, è, ç; declares 0103
    assert b"0103" in original
    coded = re_encode(original, ISO_5426_FRENCH)
    assert b"fran\xd0cais" in coded
    decoded = decode_fields(coded, "iso2709", "unimarc")
    assert decoded_fields(decoded) == expected_fields(original)
    assert "Cours \u00e9l\u00e9mentaire d'histoire du droit fran\u00e7ais" in str(decoded.fields)
    assert not [w for w in decoded.warnings if "read as" in w]


def test_iso_5426_bytes_under_an_iso_646_declaration_are_read_as_iso_5426_with_a_warning() -> None:
    original = iso2709_records("unimarc/cotes8.mrc")[18]
    coded = with_declaration(re_encode(original, ISO_5426_FRENCH), b"01  ")
    decoded = decode_fields(coded, "iso2709", "unimarc")
    assert decoded_fields(decoded) == expected_fields(with_declaration(original, b"01  "))
    [warning] = [w for w in decoded.warnings if "read as" in w]
    assert "'01' declares ISO 646" in warning and warning.endswith("read as ISO 5426")


def test_iso_6937_bytes_under_an_iso_5426_declaration_are_detected() -> None:
    original = iso2709_records("unimarc/periouni.mrc")[556]  # à ç è é
    coded = with_declaration(re_encode(original, ISO_6937_FRENCH), b"0103")
    assert b"fran\xcbcais" in coded
    decoded = decode_fields(coded, "iso2709", "unimarc")
    assert decoded_fields(decoded) == expected_fields(with_declaration(original, b"0103"))
    [warning] = [w for w in decoded.warnings if "read as" in w]
    assert "declares ISO 646 + ISO 5426" in warning and warning.endswith("read as ISO 6937")


def test_legacy_bytes_under_a_utf8_declaration_are_read_by_the_set_that_fits() -> None:
    original = iso2709_records("unimarc/cotes8.mrc")[18]
    coded = with_declaration(re_encode(original, ISO_5426_FRENCH), b"50  ")
    decoded = decode_fields(coded, "iso2709", "unimarc")
    assert decoded_fields(decoded) == expected_fields(with_declaration(original, b"50  "))
    [warning] = [w for w in decoded.warnings if "read as" in w]
    assert "declares ISO 10646 (UTF-8)" in warning and warning.endswith("read as ISO 5426")


def test_a_declared_set_without_a_decoder_gives_replacement_characters_not_wrong_letters() -> None:
    original = iso2709_records("unimarc/cotes8.mrc")[18]
    coded = with_declaration(re_encode(original, ISO_5426_FRENCH), b"0104")  # 04: Cyrillic
    decoded = decode_fields(coded, "iso2709", "unimarc")
    text = str(decoded.fields)
    assert "\ufffd" in text and "\u00e9" not in text
    assert any("ISO DIS 5427" in w and "cannot decode" in w for w in decoded.warnings)


# pride-and-prejudice-with-many-errors.mrc: real MARC 21 records whose leader/09 says UTF-8 while
# their accents are MARC-8 (0xE2 acute, 0xE8 umlaut, 0xB9 pound sign: MARC-8 before the letter) or
# ISO 5426 (0xC1 grave, 0xC2 acute), and one that is latin-1 (0xD8 Ø of the Norwegian "BØ").
@pytest.mark.parametrize(
    ("index", "raw_bytes", "expected", "charset"),
    [
        (289, b"Orgueil et pr\xe2ejug\xe2es /", "Orgueil et pr\u00e9jug\u00e9s /", "MARC-8"),
        (306, b"ven\xe8aj\xe8a.", "ven\u00e4j\u00e4.", "MARC-8"),
        (1, b"\xb90.75", "\u00a30.75", "MARC-8"),
        (339, b"F\xe8ORNUFT OCH K\xe8ANSLA /", "F\u00d6RNUFT OCH K\u00c4NSLA /", "MARC-8"),
        (295, b"Le serpent \xc1a plumes,", "Le serpent \u00e0 plumes,", "ISO 5426"),
        (237, b"[Texte imprim\xc2e] /", "[Texte imprim\u00e9] /", "ISO 5426"),
        (373, b"B\xd8 Lydbok", "B\u00d8 Lydbok", "latin-1"),
    ],
)
def test_marc21_records_declaring_utf8_over_legacy_bytes_are_repaired(
    index: int, raw_bytes: bytes, expected: str, charset: str
) -> None:
    raw = iso2709_records("dedup/pride-and-prejudice-with-many-errors.mrc")[index]
    assert raw[9:10] == b"a" and raw_bytes in raw
    decoded = decode_fields(raw, "iso2709", "marc21")
    values = [
        value for _, content in decoded.fields if not isinstance(content, str) for _, value in content[1]
    ]
    assert expected in values
    [warning] = [w for w in decoded.warnings if "read as" in w]
    assert warning.startswith("leader/09 'a' declares UTF-8;") and f"read as {charset}" in warning


def test_no_record_of_the_damaged_file_keeps_a_replacement_character_and_all_text_is_nfc() -> None:
    for raw in iso2709_records("dedup/pride-and-prejudice-with-many-errors.mrc"):
        try:
            decoded = decode_fields(raw, "iso2709", "marc21")
        except Exception:  # structural damage: quarantined elsewhere
            continue
        for _, content in decoded.fields:
            for value in [content] if isinstance(content, str) else [v for _, v in content[1]]:
                assert "\ufffd" not in value
                assert value == nfc(value)


def test_a_marc8_declared_record_whose_bytes_are_utf8_is_read_as_utf8_with_a_warning() -> None:
    original = next(r for r in iso2709_records("marc21/zdblokutf8.mrc") if not r.isascii())
    blank = original[:9] + b" " + original[10:]
    decoded = decode_fields(blank, "iso2709", "marc21")
    assert decoded_fields(decoded) == expected_fields(original)
    assert "leader/09 blank declares MARC-8; the bytes are UTF-8: read as UTF-8" in decoded.warnings


def test_periouni_declarations_that_are_not_utf8_get_a_warning_when_the_bytes_are() -> None:
    raws = iso2709_records("unimarc/periouni.mrc")
    checked = 0
    for raw in raws[:300]:
        decoded = decode_fields(raw, "iso2709", "unimarc")
        said = [w for w in decoded.warnings if w.endswith("the bytes are UTF-8: read as UTF-8")]
        hundred = next(content for tag, content in decoded.fields if tag == "100")
        assert not isinstance(hundred, str)
        declares_utf8 = "50" in (hundred[1][0][1][26:28], hundred[1][0][1][28:30])
        assert bool(said) == (not raw.isascii() and not declares_utf8)
        checked += bool(said)
    assert checked > 100


def double_encode(raw: bytes, codec: str) -> bytes:
    """The record rebuilt by pymarc with every data field's text double-encoded through ``codec``."""
    record = pymarc.Record(data=raw, to_unicode=True, force_utf8=True)
    for marc_field in record.fields:
        if not marc_field.is_control_field():
            marc_field.subfields = [
                pymarc.Subfield(sub.code, sub.value.encode("utf-8").decode(codec))
                for sub in marc_field.subfields
            ]
    out: bytes = record.as_marc()
    return out


@pytest.mark.parametrize("codec", ["latin-1", "cp1252"])
def test_a_real_record_double_encoded_comes_back_as_the_original_with_a_warning(codec: str) -> None:
    original = next(r for r in iso2709_records("unimarc/periouni.mrc") if b"P\xc3\xa9riodiques" in r)
    damaged = double_encode(original, codec)
    assert b"P\xc3\x83\xc2\xa9riodiques" in damaged  # "PÃ©riodiques"
    decoded = decode_fields(damaged, "iso2709", "unimarc")
    assert decoded_fields(decoded) == expected_fields(original)
    assert any("double-encoded UTF-8 repaired" in w for w in decoded.warnings)


def test_real_double_encoded_call_numbers_are_repaired() -> None:
    # cotes8.mrc writes in-octavo as "8°" in 945 $b but "8Â°" (C3 82 C2 B0) in 995 $k.
    raw = iso2709_records("unimarc/cotes8.mrc")[0]
    assert b"k8\xc3\x82\xc2\xb0007.775(1892-1)" in raw
    decoded = decode_fields(raw, "iso2709", "unimarc")
    call_numbers = [
        v for tag, c in decoded.fields if tag == "995" and not isinstance(c, str) for k, v in c[1] if k == "k"
    ]
    assert "8\u00b0007.775(1892-1)" in call_numbers
    assert any(w.startswith("field 995 $k: double-encoded UTF-8 repaired") for w in decoded.warnings)


def arnaune() -> pymarc.Record:
    """cotes8.mrc's record of "La monnaie, le crédit et le change": 200 $a and $f both hold a real "é"
    (the shared data has no field that mixes double-encoded and correct subfields, so the tests below
    damage one subfield of this one)."""
    raw = next(r for r in iso2709_records("unimarc/cotes8.mrc") if b"Arnaun\xc3\xa9" in r)
    return pymarc.Record(data=raw, to_unicode=True, force_utf8=True)


ARNAUNE_TITLE = "La monnaie, le cr\u00e9dit et le change"
ARNAUNE_RESPONSIBILITY = "par Aug. Arnaun\u00e9,..."


def field_200(decoded: MarcFields) -> list[tuple[str, str]]:
    [content] = [content for tag, content in decoded.fields if tag == "200"]
    assert not isinstance(content, str)
    return content[1]


def with_200(record: pymarc.Record, field: pymarc.Field) -> pymarc.Record:
    record.remove_fields("200")
    record.add_ordered_field(field)
    return record


@pytest.mark.parametrize("codec", ["latin-1", "cp1252"])
def test_a_double_encoded_subfield_is_repaired_beside_a_correct_one(codec: str) -> None:
    record = arnaune()
    assert [(s.code, s.value) for s in record["200"].subfields] == [
        ("a", ARNAUNE_TITLE),
        ("f", ARNAUNE_RESPONSIBILITY),
    ]
    damaged = ARNAUNE_TITLE.encode("utf-8").decode(codec)
    assert damaged == "La monnaie, le cr\u00c3\u00a9dit et le change"
    with_200(
        record,
        pymarc.Field(
            "200", ["1", "3"], [pymarc.Subfield("a", damaged), pymarc.Subfield("f", ARNAUNE_RESPONSIBILITY)]
        ),
    )
    raw: bytes = record.as_marc()
    assert b"cr\xc3\x83\xc2\xa9dit" in raw and b"Arnaun\xc3\xa9," in raw
    for decoded in (
        decode_fields(raw, "iso2709", "unimarc"),
        decode_fields(pymarc.record_to_xml(record), "marcxml", "unimarc"),
    ):
        assert field_200(decoded) == [("a", ARNAUNE_TITLE), ("f", ARNAUNE_RESPONSIBILITY)]
        assert any(w.startswith("field 200 $a: double-encoded UTF-8 repaired") for w in decoded.warnings)
        assert not any(w.startswith("field 200 $f") for w in decoded.warnings)


def test_a_double_encoded_subfield_is_repaired_beside_one_in_the_declared_legacy_set() -> None:
    # The record declares ISO 646 + ISO 5426 (100 $a/26-29 "0103"): $f coded as declared ("é" is 0xC2
    # then "e"), $a double-encoded UTF-8. The field is not UTF-8 as a whole, so it is read subfield by
    # subfield, and each reading is right.
    record = arnaune()
    assert record["100"]["a"][26:30] == "0103"
    title = ARNAUNE_TITLE.encode("utf-8").decode("latin-1").encode("utf-8")
    responsibility = b"par Aug. Arnaun" + ISO_5426_FRENCH["\u00e9"] + b",..."
    raw_field = pymarc.field.RawField(
        "200", ["1", "3"], [pymarc.Subfield("a", title), pymarc.Subfield("f", responsibility)]
    )  # type: ignore[arg-type]
    raw: bytes = with_200(record, raw_field).as_marc()
    assert b"cr\xc3\x83\xc2\xa9dit" in raw and b"Arnaun\xc2e," in raw
    decoded = decode_fields(raw, "iso2709", "unimarc")
    assert field_200(decoded) == [("a", ARNAUNE_TITLE), ("f", ARNAUNE_RESPONSIBILITY)]
    assert any(w.startswith("field 200 $a: double-encoded UTF-8 repaired") for w in decoded.warnings)


def test_a_control_field_is_repaired_on_its_own() -> None:
    record = arnaune()
    record.add_ordered_field(pymarc.Field("005", data="19990101 caf\u00e9".encode("utf-8").decode("latin-1")))
    decoded = decode_fields(record.as_marc(), "iso2709", "unimarc")
    assert ("005", "19990101 caf\u00e9") in decoded.fields
    assert any(w.startswith("field 005: double-encoded UTF-8 repaired") for w in decoded.warnings)


@pytest.mark.parametrize(
    "text",
    [
        "S\u00c3O PAULO",  # a real Ã before an ASCII letter
        "\u00c3\u00a9t\u00e9",  # "Ã©" beside a real é: not wholly double-encoded
        "\u00c3\u00a9 and \u4e2d",  # a character no single byte gives
        "\u00e0\u0080\u0080",  # shaped like a 3-byte sequence, but E0 80 80 is overlong: not UTF-8
    ],
)
def test_text_that_is_not_wholly_double_encoded_is_left_alone(text: str) -> None:
    assert repair(text) is None


def test_repair_undoes_double_and_triple_encoding() -> None:
    once = "C\u2019est l\u2019\u00e9t\u00e9"
    twice = once.encode("utf-8").decode("cp1252")
    assert twice == "C\u00e2\u20ac\u2122est l\u00e2\u20ac\u2122\u00c3\u00a9t\u00c3\u00a9"
    assert repair(twice) == once
    thrice = twice.encode("utf-8").decode("latin-1")
    assert repair(thrice) == once

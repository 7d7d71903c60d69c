"""The decoder's shortcuts give what the plain, step-by-step reading gives, on every real record.

References here are written independently of ``indexer.decoding``: the ISO 2709 directory read entry
by entry (as the standard lays it out), pymarc's own ``Field`` constructor, and the original ISBD
stripping loop without its early exit.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pymarc
import pytest

from indexer.decoding import _split_iso2709, decode_fields, decode_record
from indexer.extract import extract, extract_fields, strip_isbd
from indexer.marc import data_field
from indexer.profiles import builtin_profile
from tests.indexer.indexer_testdata import DATA, iso2709_records
from unicat.errors import RecordError
from unicat.model import Profile, Source

FILES = sorted(
    str(path.relative_to(DATA))
    for folder in ("marc21", "unimarc", "dedup", "malformed")
    for path in (DATA / folder).glob("*.mrc")
)


def reference_split(raw: bytes) -> list[tuple[str, bytes]] | str:
    """Fields by the directory, entry by entry; the first problem as a short label instead."""
    base = int(raw[12:17])
    directory = raw[24 : base - 1]
    fields: list[tuple[str, bytes]] = []
    for start in range(0, len(directory), 12):
        entry = directory[start : start + 12]
        if not entry[3:12].isdigit():
            return "entry"
        if not entry[:3].isascii():
            return "tag"
        length, offset = int(entry[3:7]), int(entry[7:12])
        data = raw[base + offset : base + offset + length]
        if base + offset + length > len(raw):
            return "past the end"
        if not data.endswith(b"\x1e"):
            return by_terminators(raw, base, directory) or "does not end"
        fields.append((entry[:3].decode("ascii"), data[:-1]))
    return fields


def by_terminators(raw: bytes, base: int, directory: bytes) -> list[tuple[str, bytes]] | None:
    """Fields cut at the field terminators, tagged by the entries in offset order, when there are as
    many fields as entries and nothing but the record terminator follows the last."""
    entries = sorted(
        (int(directory[n + 7 : n + 12]), directory[n : n + 3].decode("ascii"))
        for n in range(0, len(directory), 12)
    )
    *pieces, rest = raw[base:].split(b"\x1e")
    if len(pieces) != len(entries) or rest not in (b"", b"\x1d"):
        return None
    return [(tag, piece) for (_, tag), piece in zip(entries, pieces, strict=True)]


def _label(message: str) -> str:
    for label in ("no numeric length", "non-ASCII tag", "past the end", "does not end"):
        if label in message:
            return {"no numeric length": "entry", "non-ASCII tag": "tag"}.get(label, label)
    return message


@pytest.mark.parametrize("relative", FILES)
def test_directory_reading_matches_entry_by_entry_reading(relative: str) -> None:
    compared = 0
    for raw in iso2709_records(relative):
        if len(raw) < 24 or not raw[12:17].isdigit() or not 24 < int(raw[12:17]) <= len(raw):
            continue
        if (int(raw[12:17]) - 25) % 12:
            continue
        expected = reference_split(raw)
        try:
            _, fields, _ = _split_iso2709(raw)
        except RecordError as exc:
            assert isinstance(expected, str), f"{relative}: unexpected error {exc}"
            assert _label(str(exc)) == expected
        else:
            assert fields == expected
        compared += 1
    assert compared


def test_a_damaged_field_before_a_damaged_entry_is_reported_first() -> None:
    raw = iso2709_records("marc21/brkrtest.mrc")[0]
    base = int(raw[12:17])
    # Entry 1 points past the end of the record; entry 3 has letters where its length should be.
    broken = bytearray(raw)
    broken[24 + 7 : 24 + 12] = b"99999"
    broken[24 + 24 + 3 : 24 + 24 + 7] = b"abcd"
    assert base > 24 + 36
    with pytest.raises(RecordError, match="runs past the end"):
        _split_iso2709(bytes(broken))
    # With entry 1 intact, the bad entry 3 is what is reported.
    broken[24 + 7 : 24 + 12] = raw[24 + 7 : 24 + 12]
    with pytest.raises(RecordError, match="no numeric length and offset"):
        _split_iso2709(bytes(broken))


@pytest.mark.parametrize("relative", ["marc21/uva_001_2000.mrc", "unimarc/cotes8.mrc", "marc21/brkrtest.mrc"])
def test_data_field_builds_what_the_pymarc_constructor_builds(relative: str) -> None:
    profile: Profile = "unimarc" if relative.startswith("unimarc") else "marc21"
    checked = 0
    for raw in iso2709_records(relative):
        for built in decode_record(raw, "iso2709", profile).record.fields:
            if built.is_control_field():
                continue
            assert built.indicators is not None
            made = pymarc.Field(tag=built.tag, indicators=built.indicators, subfields=built.subfields)
            quick = data_field(built.tag, built.indicators, built.subfields)
            for name in ("tag", "data", "control_field", "indicators", "subfields"):
                assert getattr(quick, name) == getattr(made, name), name
            assert quick.as_marc("utf-8") == made.as_marc("utf-8")
            assert str(quick) == str(made)
            checked += 1
    assert checked > 100 or relative != "marc21/uva_001_2000.mrc"


_SEPARATOR = re.compile(r"(?:\s+[/:;=]|\s*,)$")
_PERIOD = re.compile(r"(?:(?<=[\d)\]])|(?<=[^\W\d_]{4}))\.$")


def reference_strip_isbd(value: str) -> str:
    text = " ".join(value.split())
    while True:
        stripped = _PERIOD.sub("", _SEPARATOR.sub("", text)).rstrip()
        if stripped == text:
            return text
        text = stripped


def test_strip_isbd_shortcut_matches_the_full_loop_on_real_values() -> None:
    values: set[str] = set()
    for relative in ("marc21/uva_001_2000.mrc", "dedup/pride-and-prejudice-fixed.mrc", "unimarc/cotes8.mrc"):
        with Path(DATA / relative).open("rb") as handle:
            for record in pymarc.MARCReader(handle, to_unicode=True, permissive=True):
                if record is not None:
                    values.update(
                        sub.value for f in record.fields if not f.is_control_field() for sub in f.subfields
                    )
    values.update(["Paris :", "Penguin,", "1813.", "Dr.", "a /  ", "x ; y =", "Vol. 2."])
    assert [strip_isbd(v) for v in sorted(values)] == [reference_strip_isbd(v) for v in sorted(values)]


@pytest.mark.parametrize(
    "relative",
    ["marc21/zdbtitutf8.mrc", "marc21/zdblokutf8.mrc", "marc21/065001035.mrc", "unimarc/cotes8.mrc"],
)
def test_utf8_fields_read_whole_equal_pymarcs_reading_in_nfc(relative: str) -> None:
    # pymarc decodes a UTF-8 record in one piece; the decoder reads each field in one piece when it is
    # valid UTF-8. The reference here is pymarc's text, put in NFC as the decoder promises, with the
    # double-encoded UTF-8 of real call numbers ("8Â°007.775" in cotes8's 995 $k) undone.
    profile: Profile = "unimarc" if relative.startswith("unimarc") else "marc21"
    compared = 0
    for raw in iso2709_records(relative):
        if raw[9:10] != b"a" and profile == "marc21":
            continue
        try:
            reference = pymarc.Record(data=raw, to_unicode=True, force_utf8=True)
        except Exception:  # pymarc refuses some real records; those are compared elsewhere
            continue
        decoded = decode_fields(raw, "iso2709", profile)
        expected = [
            (
                f.tag,
                f.data if f.is_control_field() else [(s.code, nfc(undouble(s.value))) for s in f.subfields],
            )
            for f in reference.fields
        ]
        got = [(tag, content if isinstance(content, str) else content[1]) for tag, content in decoded.fields]
        assert got == [(tag, nfc(v) if isinstance(v, str) else v) for tag, v in expected]
        compared += 1
    assert compared >= 7


@pytest.mark.parametrize("relative", ["marc21/uva_001_2000.mrc", "unimarc/periouni.mrc"])
def test_asking_for_some_tags_keeps_exactly_those_fields(relative: str) -> None:
    profile: Profile = "unimarc" if relative.startswith("unimarc") else "marc21"
    wanted = {"001", "245", "200", "852", "995"}
    for raw in iso2709_records(relative)[:200]:
        try:
            everything = decode_fields(raw, "iso2709", profile)
        except RecordError:
            continue
        some = decode_fields(raw, "iso2709", profile, wanted)
        assert some.fields == [(tag, content) for tag, content in everything.fields if tag in wanted]
        assert some.leader == everything.leader


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def undouble(text: str) -> str:
    """UTF-8 that was read as latin-1 and encoded again, read back (other text as it is)."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


@pytest.mark.parametrize("relative", FILES)
def test_mapping_only_the_profiles_tags_maps_what_the_whole_record_maps(relative: str) -> None:
    # The indexer decodes only the tags its profile reads; mapping the whole record must agree.
    profile: Profile = "unimarc" if relative.startswith("unimarc") else "marc21"
    field_map = builtin_profile(profile)
    source = Source(code="S", name="Source", profile=profile)
    compared = 0
    for raw in iso2709_records(relative):
        try:
            whole = decode_fields(raw, "iso2709", profile)
        except RecordError:
            continue
        some = decode_fields(raw, "iso2709", profile, field_map.tags)
        mapped = extract_fields(some, field_map, source, "1")
        assert mapped == extract_fields(whole, field_map, source, "1")
        # And callers holding pymarc objects get the same mapping through them.
        assert mapped == extract(decode_record(raw, "iso2709", profile).record, field_map, source, "1")
        compared += 1
    assert compared or relative.startswith("malformed")

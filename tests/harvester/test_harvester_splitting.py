"""Splitting dump files into raw records, checked against the bytes of the real data files."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pymarc
import pytest

from harvester.splitting import (
    Garbage,
    RawRecord,
    control_number_iso2709,
    sniff,
    split_iso2709,
    split_marcxml,
)
from tests.support.shared_data import SHARED_DATA
from unicat.errors import UnicatError

DATA = SHARED_DATA
ISO_FILES = sorted(DATA.glob("malformed/*.mrc")) + sorted(DATA.glob("marc21/*.mrc"))
# RUSMARC's file puts its records in the UNIMARC slim namespace under a root without one.
XML_FILES = (
    sorted(DATA.glob("malformed/*.xml"))
    + sorted(DATA.glob("marc21/*.xml"))
    + sorted(DATA.glob("unimarc/*.xml"))
)


@pytest.mark.parametrize("path", ISO_FILES, ids=lambda path: path.name)
def test_iso2709_split_follows_record_terminators(path: Path, census: dict[str, dict[str, str]]) -> None:
    data = path.read_bytes()
    items = list(split_iso2709(data))
    records = [item for item in items if isinstance(item, RawRecord)]
    garbage = [item for item in items if isinstance(item, Garbage)]
    # Every chunk ending in 0x1D is a record; bytes after the last 0x1D are a truncated tail.
    assert len(records) == data.count(b"\x1d")
    assert len(garbage) == (0 if data.rstrip(b"\r\n").endswith(b"\x1d") else 1)
    assert int(census[str(path.relative_to(DATA))]["parsed"]) <= len(records)


def test_truncated_tail_is_garbage_with_its_bytes() -> None:
    data = (DATA / "marc21/zdblokutf8.mrc").read_bytes()
    *_, last = split_iso2709(data)
    assert isinstance(last, Garbage)
    assert last.raw == data[data.rindex(b"\x1d") + 1 :]
    assert "no record terminator" in last.reason


def test_declared_length_wrong_splits_on_terminator() -> None:
    data = (DATA / "malformed/bad_too_long_plus_2.mrc").read_bytes()
    first = next(split_iso2709(data))
    assert isinstance(first, RawRecord)
    assert int(data[:5]) != len(first.raw)
    assert first.raw == data[: data.index(b"\x1d") + 1]


def test_control_number_matches_pymarc() -> None:
    data = (DATA / "marc21/uva_001_2000.mrc").read_bytes()
    expected = [record["001"].data for record in pymarc.MARCReader(io.BytesIO(data), to_unicode=True)]
    got = [control_number_iso2709(item.raw) for item in split_iso2709(data) if isinstance(item, RawRecord)]
    assert got == expected


@pytest.mark.parametrize("path", XML_FILES, ids=lambda path: path.name)
def test_marcxml_split_finds_every_record_element(path: Path) -> None:
    text = path.read_bytes()
    expected = len(re.findall(rb"<(?:marc:)?record[\s>]", text))
    items = list(split_marcxml(path))
    assert all(isinstance(item, RawRecord) for item in items)
    assert len(items) == expected


def test_records_in_a_namespace_that_is_not_marcxml_are_reported_not_skipped(tmp_path: Path) -> None:
    # The RUSMARC file with its records moved to a namespace no MARCXML dialect uses.
    text = (DATA / "unimarc/rusmarc.xml").read_bytes()
    assert b'xmlns="http://www.rba.ru/rusmarc/soft"' in text
    path = tmp_path / "elsewhere.xml"
    path.write_bytes(text.replace(b"http://www.rba.ru/rusmarc/soft", b"http://example.org/not-marc"))
    [item] = list(split_marcxml(path))
    assert isinstance(item, Garbage)
    assert "no MARCXML namespace" in item.reason and item.raw == path.read_bytes()


def test_an_oai_pmh_page_of_dublin_core_is_reported_with_what_to_do_instead() -> None:
    # sickle's ListRecords sample: an OAI-PMH page whose records carry oai_dc metadata.
    path = DATA / "oai/sickle-samples/ListRecords.xml"
    assert b"<oai_dc:dc" in path.read_bytes()
    [item] = list(split_marcxml(path))
    assert isinstance(item, Garbage) and "OAI-PMH response" in item.reason and "--oai-url" in item.reason


def test_marcxml_control_number() -> None:
    items = list(split_marcxml(DATA / "marc21/OCLC_814388508.xml"))
    assert [item.control_number for item in items if isinstance(item, RawRecord)] == ["ocn814388508"]


def test_sniff(tmp_path: Path) -> None:
    assert sniff(DATA / "marc21/brkrtest.mrc") == "iso2709"
    assert sniff(DATA / "marc21/alma.xml") == "marcxml"
    text = tmp_path / "notes.txt"
    text.write_text("hello, not MARC")
    with pytest.raises(UnicatError, match="not a MARC file"):
        sniff(text)
    html = tmp_path / "page.xml"
    html.write_text("<html><body>no</body></html>")
    with pytest.raises(UnicatError, match="not MARCXML"):
        sniff(html)


def test_broken_xml_yields_records_before_the_break_then_garbage(tmp_path: Path) -> None:
    good = (DATA / "marc21/OCLC_814388508.xml").read_text(encoding="utf-8")
    cut = good[: good.index("</record>") + len("</record>")] + "<record><leader>broken"
    path = tmp_path / "cut.xml"
    path.write_text(cut, encoding="utf-8")
    items = list(split_marcxml(path))
    assert isinstance(items[0], RawRecord)
    # Only what follows the last complete record is garbage: the record before the break is stored.
    assert isinstance(items[-1], Garbage) and items[-1].raw == b"<record><leader>broken"

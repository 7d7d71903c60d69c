"""import_files into a real SQLite record store, on the real (and the deliberately broken) data files."""

from __future__ import annotations

import collections
import io
import re
from pathlib import Path

import pymarc
import pytest

from harvester.importer import PAGE_SIZE, import_files
from tests.support.shared_data import SHARED_DATA
from unicat.catalogue import Catalogue
from unicat.errors import UnicatError
from unicat.model import Source

SOURCE = Source(code="FILES", name="File imports")

DATA = SHARED_DATA


def _expected_counts(path: Path) -> tuple[int, int]:
    """(records, quarantined) read from the bytes with no Unicat code: record elements, or pieces ending
    in a terminator, of which those longer than ISO 2709's 99,999 bytes are quarantined."""
    data = path.read_bytes()
    if path.suffix == ".xml":
        return len(re.findall(rb"<(?:marc:)?record[\s>]", data)), 0
    pieces = [piece.lstrip(b"\r\n") for piece in data.split(b"\x1d")[:-1]]
    too_long = sum(len(piece) + 1 > 99_999 for piece in pieces)
    tail = 0 if data.rstrip(b"\r\n").endswith(b"\x1d") else 1
    return len(pieces) - too_long, too_long + tail


@pytest.mark.parametrize("path", sorted(DATA.glob("malformed/*")), ids=lambda path: path.name)
def test_every_malformed_file_imports_without_crash(
    catalogue: Catalogue, path: Path, census: dict[str, dict[str, str]]
) -> None:
    records, garbage = _expected_counts(path)
    report = import_files(catalogue.records, SOURCE, [path])
    assert (report.records, report.quarantined) == (records, garbage)
    assert catalogue.records.source_counts("FILES").live == records
    assert catalogue.records.count_quarantine("FILES") == garbage
    # Splitting never decodes, so it keeps at least every record pymarc can parse.
    assert report.records >= int(census[f"malformed/{path.name}"]["parsed"])
    assert catalogue.records.harvest_history("FILES")[0].status == "ok"
    assert catalogue.records.harvest_history("FILES")[0].mode == "import"


def test_truncated_tail_is_quarantined_and_the_rest_stored(
    catalogue: Catalogue, census: dict[str, dict[str, str]]
) -> None:
    path = DATA / "marc21/zdblokutf8.mrc"
    row = census["marc21/zdblokutf8.mrc"]
    report = import_files(catalogue.records, SOURCE, [path])
    assert report.records == int(row["parsed"])
    assert report.quarantined == int(row["failed"])
    (entry,) = catalogue.records.list_quarantine("FILES")
    data = path.read_bytes()
    assert entry.stage == "import" and entry.raw == data[data.rindex(b"\x1d") + 1 :]


def test_pages_local_ids_and_raw_bytes(catalogue: Catalogue) -> None:
    path = DATA / "marc21/uva_001_2000.mrc"
    pages_seen: list[int] = []
    report = import_files(catalogue.records, SOURCE, [path], on_progress=pages_seen.append)
    assert report.records == 2000
    assert report.pages == 2000 // PAGE_SIZE
    assert pages_seen == [500, 1000, 1500, 2000]
    first = next(pymarc.MARCReader(io.BytesIO(path.read_bytes()), to_unicode=True))
    stored = catalogue.records.get_source_record("FILES", first["001"].data)
    assert stored is not None and stored.syntax == "iso2709"
    assert stored.raw == path.read_bytes()[: int(path.read_bytes()[:5])]


def test_missing_and_repeated_001_fall_back_to_file_index(catalogue: Catalogue) -> None:
    path = DATA / "dedup/pride-and-prejudice-fixed.mrc"
    with path.open("rb") as handle:
        ids = [record.get("001") for record in pymarc.MARCReader(handle, to_unicode=True)]
    values = collections.Counter(field.data for field in ids if field is not None)
    expected_fallbacks = sum(1 for field in ids if field is None) + sum(n - 1 for n in values.values())
    report = import_files(catalogue.records, SOURCE, [path])
    assert report.records == catalogue.records.source_counts("FILES").live == len(ids)
    assert report.fallback_ids == expected_fallbacks


def test_marcxml_import(catalogue: Catalogue) -> None:
    report = import_files(
        catalogue.records, SOURCE, [DATA / "marc21/OCLC_814388508.xml", DATA / "marc21/lvi.xml"]
    )
    assert report.records == 1 + 5
    record = catalogue.records.get_source_record("FILES", "ocn814388508")
    assert record is not None and record.syntax == "marcxml"
    assert b"ocn814388508" in record.raw


def test_unknown_format_fails_before_anything_is_stored(catalogue: Catalogue, tmp_path: Path) -> None:
    text = tmp_path / "readme.txt"
    text.write_text("not a MARC file")
    with pytest.raises(UnicatError, match="not a MARC file"):
        import_files(catalogue.records, SOURCE, [DATA / "marc21/brkrtest.mrc", text])
    assert catalogue.records.source_counts("FILES").live == 0
    assert catalogue.records.harvest_history("FILES") == []

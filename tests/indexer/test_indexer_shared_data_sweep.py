"""Every file of the shared data goes through import (or the harvester's conversion, for OAI-PMH
responses) and index without a crash, and every record is accounted for: a union-record member, a
tombstone, or in quarantine with a reason.

The expected numbers come from the files, read without Unicat: record terminators (0x1D) of ISO 2709
files, MARC ``<record>`` elements (those holding MARC fields) of MARCXML files, OAI-PMH ``<record>``
elements of the captured responses; kinds from leader/06 sliced from each record. How many records end
up untitled is left to the data and the flavour each record is read with: not asserted here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from bench.shared_data_census import EVALUATION_DATA, census_of, evaluation_files, shared_files
from tests.support.shared_data import SHARED_DATA
from unicat.oai_protocol import OAI_NS
from unicat.settings import Settings
from unicat_cli.wiring import open_catalogue

FILES = list(shared_files(SHARED_DATA))
# The evaluation files the project ships (bench/data/openlibrary), with the folder they are named from.
ROOTED = [(SHARED_DATA, path) for path in FILES] + [(EVALUATION_DATA, path) for path in evaluation_files()]
RECORD_TERMINATOR = b"\x1d"
# MARC 21 leader/06 of the records that are no book (the Authority and Holdings formats' leaders).
AUTHORITY, HOLDINGS = "z", "uvxy"


def _localname(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def leaders(path: Path, *, complete_only: bool = False) -> list[str]:
    """The leader of every record in a MARC file, ISO 2709 or MARCXML, as the bytes or text say.

    ISO 2709: one record per terminator, plus the bytes after the last terminator (a truncated
    record) unless ``complete_only``; a record's leader is its first 24 bytes. MARCXML: each
    ``record`` element with MARC fields (a record without a ``leader`` has an empty one).
    """
    if path.suffix == ".mrc":
        pieces = path.read_bytes().split(RECORD_TERMINATOR)
        if complete_only:
            pieces = pieces[:-1]
        pieces = [piece.lstrip(b"\r\n") for piece in pieces]
        return [piece[:24].decode("latin-1") for piece in pieces if piece.strip()]
    root = etree.parse(str(path)).getroot()
    found = []
    for element in root.iter():
        if _localname(element) != "record":
            continue  # an envelope's <record> (SRU, OAI-PMH) holds MARC fields only inside its own
        children = {_localname(child): child for child in element}
        if children.keys() & {"leader", "controlfield", "datafield"}:
            found.append(children["leader"].text or "" if "leader" in children else "")
    return found


def oai_records(path: Path) -> int:
    """The OAI-PMH ``<record>`` elements of a captured response (none in one that is not XML)."""
    try:
        root = etree.fromstring(path.read_bytes())
    except etree.XMLSyntaxError:
        return 0
    return sum(1 for _ in root.iter(f"{{{OAI_NS}}}record"))


def test_the_sweep_covers_every_record_file_of_the_shared_data() -> None:
    names = {str(path.relative_to(SHARED_DATA)) for path in FILES}
    on_disk = {
        str(path.relative_to(SHARED_DATA))
        for path in SHARED_DATA.rglob("*")
        if path.suffix in (".mrc", ".xml")
    }  # fmt: skip
    assert names == on_disk
    assert {"unimarc/rusmarc.xml", "malformed/error.mrc", "oai/oaipmh_oai_dc.xml"} <= names


@pytest.mark.parametrize(("root", "path"), ROOTED, ids=[str(path.relative_to(root)) for root, path in ROOTED])
def test_every_record_is_a_member_a_tombstone_or_quarantined(root: Path, path: Path, tmp_path: Path) -> None:
    census = census_of(path, root, tmp_path / "catalogue")  # raises on a failed command

    folder = path.relative_to(root).parts[0]
    expected = oai_records(path) if folder == "oai" else len(leaders(path))
    assert census.accounted == expected, census

    settings = Settings(engine_url=f"sqlite:///{tmp_path / 'catalogue' / 'unicat.db'}")
    with open_catalogue(settings) as catalogue:
        entries = catalogue.records.list_quarantine(limit=100_000)
    # A record that trips a bug is quarantined as "unexpected …" rather than stopping the index.
    assert not [entry.reason for entry in entries if entry.reason.startswith("unexpected ")]
    assert all(entry.reason.strip() for entry in entries)

    if folder in ("marc21", "openlibrary"):
        # Leader/06 is unambiguous in MARC 21 files. A truncated record (no terminator) is quarantined
        # for that at import, whatever its leader says: only complete records are counted by kind.
        codes = [leader[6:7] for leader in leaders(path, complete_only=True)]
        for kind, wanted in (("authority", AUTHORITY), ("holdings", HOLDINGS)):
            assert census.set_aside.get(kind, 0) == sum(1 for code in codes if code and code in wanted), (
                census
            )

"""The harvester against a third-party OAI-PMH provider: Dancer::Plugin::Catmandu::OAI over Elasticsearch.

The demo endpoints and the replayed samples test the harvester against our own reading of OAI-PMH; this
provider (tests/support/catmandu_oai.py) is someone else's, serving real MARC 21 records as Catmandu::MARC
writes MARCXML, with its own resumption tokens, datestamps and deleted records. What arrived is checked
against the file itself, read with pymarc and by counting record terminators, never with Unicat's code.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from pymarc import MARCReader, Record

from harvester import harvest_source
from tests.support.catmandu_oai import IDENTIFIER_PREFIX, CatmanduOAIError, CatmanduProvider, running_provider
from tests.support.shared_data import SHARED_DATA
from unicat.catalogue import Catalogue
from unicat.model import Source
from unicat.oai_protocol import MARC_NS
from unicat.ports.records import RecordStore
from unicat.settings import Settings

RELATIVE_PATH = "marc21/065001035.mrc"
"""40 UTF-8 MARC 21 records (ISO 2709) with distinct 001s: several pages at the page size below."""
DATA_FILE = SHARED_DATA / RELATIVE_PATH
PAGE_SIZE = 7
CODE = "CATM"
MARC = f"{{{MARC_NS}}}"
RECORD_TERMINATOR = b"\x1d"


@pytest.fixture(scope="module")
def file_records() -> list[Record]:
    """The file's records as pymarc reads them, strictly: a record it cannot read fails the test."""
    with DATA_FILE.open("rb") as handle:
        records = list(MARCReader(handle, to_unicode=True, permissive=False))
    return [record for record in records if record is not None]


@contextlib.contextmanager
def _provider(elasticsearch_url: str, workdir: Path) -> Iterator[CatmanduProvider]:
    """The provider serving the file; a provider that cannot be installed or started fails the test."""
    failure = None
    try:
        with running_provider(elasticsearch_url, DATA_FILE, workdir, page_size=PAGE_SIZE) as provider:
            yield provider
    except CatmanduOAIError as exc:
        failure = str(exc)  # failed outside the handler, so the report shows the message once
    if failure is not None:
        pytest.fail(failure, pytrace=False)


@pytest.fixture(scope="module")
def provider(elasticsearch_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CatmanduProvider]:
    """One provider for the tests that only read it (starting one takes seconds)."""
    with _provider(elasticsearch_url, tmp_path_factory.mktemp("catmandu")) as provider:
        yield provider


@pytest.fixture
def fresh_provider(elasticsearch_url: str, tmp_path: Path) -> Iterator[CatmanduProvider]:
    """A provider with its own index, for a test that changes records in it."""
    with _provider(elasticsearch_url, tmp_path / "catmandu") as provider:
        yield provider


def _register(store: RecordStore, provider: CatmanduProvider) -> Source:
    source = Source(
        code=CODE, name="Catmandu OAI provider", oai_url=provider.oai_url, metadata_prefix="marcxml"
    )
    store.save_source(source)
    return source


def _list_requests(provider: CatmanduProvider, since: int) -> list[dict[str, str]]:
    """The ListRecords requests the provider answered after its first ``since`` requests."""
    return [request for request in provider.requests()[since:] if request.get("verb") == "ListRecords"]


def _control_number(record: Record) -> str:
    fields = record.get_fields("001")
    assert len(fields) == 1, record.leader
    return str(fields[0].data)


def _stored_245(raw: bytes) -> list[tuple[str, str]]:
    """(code, text) of each subfield of the stored MARCXML's 245."""
    root = etree.fromstring(raw)
    field = root.find(f"{MARC}datafield[@tag='245']")
    assert field is not None, raw[:200]
    return [(subfield.get("code", ""), subfield.text or "") for subfield in field.iter(f"{MARC}subfield")]


def _stored_001(raw: bytes) -> str | None:
    return etree.fromstring(raw).findtext(f"{MARC}controlfield[@tag='001']")


def test_file_is_counted_alike_by_pymarc_census_and_terminators(
    file_records: list[Record], census: dict[str, dict[str, str]]
) -> None:
    """The expected count, three independent ways, so the harvest tests compare with a sure number."""
    terminators = DATA_FILE.read_bytes().count(RECORD_TERMINATOR)
    assert len(file_records) == terminators == int(census[RELATIVE_PATH]["parsed"]) == 40
    assert len({_control_number(record) for record in file_records}) == len(file_records)


@pytest.mark.peers
def test_full_harvest_stores_every_record_of_the_file(
    catalogue: Catalogue, settings: Settings, provider: CatmanduProvider, file_records: list[Record]
) -> None:
    since = len(provider.requests())
    report = harvest_source(catalogue.records, _register(catalogue.records, provider), settings, full=True)

    assert report.status == "ok", f"{report.error}\n{provider.log_tail()}"
    assert provider.loaded == len(file_records)
    assert (report.records, report.deleted, report.quarantined) == (len(file_records), 0, 0)
    assert report.pages == math.ceil(len(file_records) / PAGE_SIZE)  # every resumption token followed
    assert catalogue.records.source_counts(CODE).live == len(file_records)

    stored = {record.local_id: record for record in catalogue.records.iter_source_records(CODE)}
    expected = {IDENTIFIER_PREFIX + _control_number(record): record for record in file_records}
    assert sorted(stored) == sorted(expected)
    for local_id, record in stored.items():
        assert record.syntax == "marcxml" and not record.deleted
        # The payload is the record the header names, not a neighbour's.
        assert _stored_001(record.raw) == local_id.removeprefix(IDENTIFIER_PREFIX)
        # Every subfield of the title survived Catmandu's MARCXML and the harvester, character for
        # character (this file's 245s run to 400 characters, with `...` and brackets).
        title = expected[local_id]["245"]
        assert title is not None
        assert _stored_245(record.raw) == [(sub.code, sub.value) for sub in title.subfields]
        assert record.datestamp is not None and record.datestamp.startswith("2018-02-02T")

    lists = _list_requests(provider, since)
    assert lists[0] == {"verb": "ListRecords", "metadataPrefix": "marcxml"}  # full: no `from`
    assert all(set(request) == {"verb", "resumptionToken"} for request in lists[1:])


@pytest.mark.peers
def test_incremental_harvest_after_no_change_stores_nothing(
    catalogue: Catalogue, settings: Settings, provider: CatmanduProvider, file_records: list[Record]
) -> None:
    source = _register(catalogue.records, provider)
    first = harvest_source(catalogue.records, source, settings, full=True)
    since = len(provider.requests())
    again = harvest_source(catalogue.records, source, settings)

    assert first.status == "ok", first.error
    assert again.status == "ok", f"{again.error}\n{provider.log_tail()}"
    assert (again.records, again.deleted, again.quarantined) == (0, 0, 0)
    assert catalogue.records.source_counts(CODE).live == len(file_records)
    [incremental] = _list_requests(provider, since)  # answered noRecordsMatch
    assert set(incremental) == {"verb", "metadataPrefix", "from"}, incremental


@pytest.mark.peers
def test_incremental_harvest_brings_revisions_and_deletions(
    catalogue: Catalogue, settings: Settings, fresh_provider: CatmanduProvider, file_records: list[Record]
) -> None:
    source = _register(catalogue.records, fresh_provider)
    first = harvest_source(catalogue.records, source, settings, full=True)
    assert first.status == "ok", first.error
    revised_id, deleted_id = _control_number(file_records[3]), _control_number(file_records[17])
    revised_at = fresh_provider.revise(revised_id, "A title revised after the first harvest")
    deleted_at = fresh_provider.mark_deleted(deleted_id)
    since = len(fresh_provider.requests())

    again = harvest_source(catalogue.records, source, settings)

    assert again.status == "ok", f"{again.error}\n{fresh_provider.log_tail()}"
    assert (again.records, again.deleted, again.quarantined) == (2, 1, 0)
    tombstone = catalogue.records.get_source_record(CODE, IDENTIFIER_PREFIX + deleted_id)
    assert tombstone is not None and tombstone.deleted
    assert tombstone.datestamp == deleted_at
    revised = catalogue.records.get_source_record(CODE, IDENTIFIER_PREFIX + revised_id)
    assert revised is not None and not revised.deleted
    assert revised.datestamp == revised_at
    assert _stored_245(revised.raw)[0] == ("a", "A title revised after the first harvest")
    counts = catalogue.records.source_counts(CODE)
    assert (counts.live, counts.deleted) == (len(file_records) - 1, 1)
    [incremental] = _list_requests(fresh_provider, since)
    assert incremental["from"] <= min(revised_at, deleted_at)

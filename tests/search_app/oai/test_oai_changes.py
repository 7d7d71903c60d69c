"""Harvesting while the catalogue changes underneath, on every engine: resumption tokens never skip an
unchanged record nor give one twice, and what changed comes with the next incremental harvest from the
list's responseDate (OAI-PMH 2.0 section 3.5.1), deletions and merges as persistent deleted headers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pymarc
import pytest

from indexer.pipeline import run_index
from search_app.app import make_app
from tests.indexer.indexer_testdata import iso2709_records
from tests.search_app.oai.conftest import Catalogue, open_test_catalogue, wait_for_datestamps
from tests.search_app.oai.oai_http import NS, Answer, oai, pages
from tests.support.oai_clients import HarvestRequest, assert_agree, harvest_all
from tests.support.served_app import ServedApp
from unicat.model import MergeDecision, Source, SourceRecord, SourceRef
from unicat.settings import Settings

RECORDS = 450
PAGE = 100


@pytest.fixture(params=["sqlite", "elasticsearch"])
def changing(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Catalogue]:
    """The first 450 UVA records, one library, indexed and served with pages of 100."""
    settings = Settings(oai_page_size=PAGE)
    with open_test_catalogue(request.param, request, tmp_path) as opened:
        store = opened.records
        store.save_source(Source("uva", "University of Virginia Library", None, profile="marc21"))
        raws = iso2709_records("marc21/uva_001_2000.mrc")[:RECORDS]
        store.store_page("uva", [SourceRecord("uva", f"r{n:03d}", raw) for n, raw in enumerate(raws)], None)
        run_index(store, opened.index)
        wait_for_datestamps(store)
        with ServedApp(make_app(opened, settings)) as served:
            yield Catalogue(opened.index, store, settings, served.url)


def _headers(answer: Answer) -> list[tuple[str, str, bool]]:
    return [
        (
            h.findtext("oai:identifier", "", NS),
            h.findtext("oai:datestamp", "", NS),
            h.get("status") == "deleted",
        )
        for h in answer.root.iterfind(".//oai:header", NS)
    ]


def _retitled(raw: bytes, title: str) -> bytes:
    """The record (MARC-8) with another 245 $a, written back as UTF-8 (leader/09 ``a``)."""
    record = pymarc.Record(data=raw, to_unicode=True)
    field = record.get("245")
    assert field is not None
    field["a"] = title
    record.leader = pymarc.Leader(str(record.leader)[:9] + "a" + str(record.leader)[10:])
    marc: bytes = record.as_marc()
    return marc


@pytest.mark.peers
def test_a_list_under_changes_holds_every_unchanged_record_once_and_the_next_harvest_the_changes(
    changing: Catalogue,
) -> None:
    store, index = changing.records, changing.index
    member = {record.id: record.sources[0] for record in index.iter_union_records()}
    before = {changing.identifier(union_id) for union_id in member}
    first = oai(changing.oai, verb="ListIdentifiers", metadataPrefix="oai_dc")
    [response_date] = first.xpath("//oai:responseDate/text()")
    given = [identifier for identifier, _, _ in _headers(first)]
    assert len(given) == PAGE
    later = sorted(before - set(given))

    # Changes to records already given and to records still to come: a title, a withdrawal, and a
    # librarian's forced merge (its second record is merged away); and a record new to the catalogue.
    def source_of(identifier: str) -> SourceRef:
        return member[identifier.rsplit(":", 1)[1]]

    retitled_early, withdrawn_early = given[10], given[20]
    retitled_late, withdrawn_late, merged_into, merged_away = later[-1], later[-2], later[-3], later[-4]
    raws = {f"r{n:03d}": raw for n, raw in enumerate(iso2709_records("marc21/uva_001_2000.mrc")[:RECORDS])}
    changes = [
        SourceRecord("uva", ref.local_id, _retitled(raws[ref.local_id], "A title changed meanwhile"))
        for ref in (source_of(retitled_early), source_of(retitled_late))
    ]
    changes += [
        SourceRecord("uva", source_of(identifier).local_id, b"", deleted=True)
        for identifier in (withdrawn_early, withdrawn_late)
    ]
    new_raw = iso2709_records("marc21/uva_001_2000.mrc")[RECORDS]
    changes.append(SourceRecord("uva", "new", new_raw))
    store.store_page("uva", changes, None)
    store.save_merge_decision(MergeDecision("force", source_of(merged_into), source_of(merged_away)))
    run_index(store, index)
    wait_for_datestamps(store)
    after = {changing.identifier(record.id): record for record in index.iter_union_records()}
    changed = {retitled_early, retitled_late, withdrawn_early, withdrawn_late, merged_into, merged_away}
    added = set(after) - before
    assert len(added) == 1 and merged_away not in after and withdrawn_late not in after

    # The rest of the list, through the token the first page gave before the changes.
    [token] = first.xpath("//oai:resumptionToken/text()")
    listed = list(given)
    rest = oai(changing.oai, verb="ListIdentifiers", resumptionToken=token)
    for answer in [rest, *pages_from(changing, rest)]:
        assert answer.error() is None
        listed += [identifier for identifier, _, _ in _headers(answer)]
    assert len(listed) == len(set(listed)), "a record was given twice"
    assert (before - changed) <= set(listed), "an unchanged record was skipped"
    assert not (set(listed) & added)
    assert not (set(listed) - set(given)) & changed, "a record that changed meanwhile was listed anew"

    # The next incremental harvest, from the list's responseDate, has exactly what changed.
    incremental = [
        header
        for answer in pages(changing.oai, verb="ListRecords", metadataPrefix="marcxml", from_=response_date)
        for header in _headers(answer)
    ]
    assert {identifier for identifier, _, _ in incremental} == changed | added
    assert all(datestamp >= response_date for _, datestamp, _ in incremental)
    deleted = {identifier for identifier, _, is_deleted in incremental if is_deleted}
    assert deleted == {withdrawn_early, withdrawn_late, merged_away}
    for identifier in (retitled_early, retitled_late):
        record = oai(changing.oai, verb="GetRecord", identifier=identifier, metadataPrefix="marcxml")
        # The new 245 $a, followed by the record's own $b as the union title carries it.
        [title] = record.xpath("//marc:datafield[@tag='245']/marc:subfield[@code='a']/text()")
        assert title.startswith("A title changed meanwhile")
    # A deleted record stays deleted, for GetRecord too (deletedRecord "persistent").
    gone = oai(changing.oai, verb="GetRecord", identifier=merged_away, metadataPrefix="oai_dc")
    assert gone.root.find(".//oai:header", NS).get("status") == "deleted"  # type: ignore[union-attr]
    assert gone.xpath("//oai:metadata") == []
    # The four third-party harvesters see the same changes, deletions included.
    results = harvest_all(changing.oai, HarvestRequest("ListRecords", "marcxml", from_=response_date))
    assert_agree(results)
    for result in results.values():
        assert set(result.identifiers) == changed | added and result.deleted == 3, result.client


def pages_from(catalogue: Catalogue, answer: Answer) -> Iterator[Answer]:
    """The pages after ``answer``, following its tokens."""
    while True:
        tokens = answer.xpath("//oai:resumptionToken/text()")
        if not tokens or not tokens[0]:
            return
        answer = oai(catalogue.oai, verb="ListIdentifiers", resumptionToken=tokens[0])
        yield answer


def test_re_indexing_without_changes_moves_no_datestamp(changing: Catalogue) -> None:
    def headers() -> list[tuple[str, str, bool]]:
        return [
            header
            for answer in pages(changing.oai, verb="ListIdentifiers", metadataPrefix="oai_dc")
            for header in _headers(answer)
        ]

    before = headers()
    run_index(changing.records, changing.index)
    wait_for_datestamps(changing.records)
    assert headers() == before
    [response_date] = oai(changing.oai, verb="Identify").xpath("//oai:responseDate/text()")
    assert oai(
        changing.oai, verb="ListIdentifiers", metadataPrefix="oai_dc", from_=response_date
    ).error() == ("noRecordsMatch")

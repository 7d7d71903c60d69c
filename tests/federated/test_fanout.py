"""One live search over real peers: every target asked at once, each under its own deadline, statuses in
words, records read like harvested ones and filtered and merged with the union's page as they come.

Peers: yaz-ztest (Z39.50 and SRU), Zebra loaded with the shared Pride set, a listener that never
answers, one that closes, Zebra serving broken ISO 2709 and an SRU server mixing good and malformed
records (tests/support/). The union catalogue holds the first records of the Pride set, imported and
indexed by the real commands.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pymarc
import pytest

from federated.fanout import ordered
from federated.query_translation import to_pqf
from federated.z3950_client import search_z3950
from tests.support.live_faults import (
    ALL_RECORDS,
    MALFORMED_DATABASE,
    closing_listener,
    malformed_sru_server,
    malformed_z3950_server,
    silent_listener,
)
from tests.support.shared_data import SHARED_DATA
from tests.support.yaz_client import yaz_client
from tests.support.yaz_ztest import ZtestServer
from tests.support.zebra import MARC21_DATABASE, ZebraServer
from unicat.catalogue import Catalogue
from unicat.live_search import LiveTarget, LiveUpdate, MergedHit
from unicat.model import UnionRecord
from unicat.query import SearchQuery, parse_search_params
from unicat.settings import Settings
from unicat_cli.cli import EXIT_OK, main
from unicat_cli.live import open_live_parts
from unicat_cli.wiring import open_catalogue

PRIDE = SHARED_DATA / "dedup" / "pride-and-prejudice-fixed.mrc"
IMPORTED = 60


def _settings(data_dir: Path) -> Settings:
    url = f"sqlite:///{data_dir / 'unicat.db'}"
    return Settings(engine_url=url, store_url=url)


def _index(data_dir: Path, code: str, records: bytes) -> None:
    """Import ``records`` as source ``code`` and index, with the real commands."""
    data_dir.mkdir(parents=True, exist_ok=True)
    dump = data_dir / f"{code}.mrc"
    dump.write_bytes(records)
    assert main(["--data-dir", str(data_dir), "import", code, str(dump)]) == EXIT_OK
    assert main(["--data-dir", str(data_dir), "index"]) == EXIT_OK


@pytest.fixture(scope="module")
def union(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalogue]:
    """A union catalogue of the first :data:`IMPORTED` records of the Pride set."""
    data_dir = Path(tmp_path_factory.mktemp("union"))
    with PRIDE.open("rb") as handle:
        records = [record for record in pymarc.MARCReader(handle) if record is not None][:IMPORTED]
    _index(data_dir, "PRIDE", b"".join(record.as_marc() for record in records))
    with open_catalogue(_settings(data_dir)) as catalogue:
        yield catalogue


def _query(text: str, **params: list[str]) -> SearchQuery:
    return parse_search_params({"q": [text], **params}, Settings())


async def _updates(
    catalogue: Catalogue, query: SearchQuery, targets: list[LiveTarget], union_hits: list[UnionRecord]
) -> list[LiveUpdate]:
    live = open_live_parts(catalogue)
    try:
        return [update async for update in live.service.run(query, union_hits, targets)]
    finally:
        await live.service.close()


def _status(update: LiveUpdate, code: str) -> tuple[str, str]:
    status = next(status for status in update.targets if status.code == code)
    return status.state, status.error


@pytest.mark.peers
def test_every_target_is_asked_at_once_and_a_dead_one_costs_only_its_line(
    union: Catalogue, ztest: ZtestServer, zebra: ZebraServer, tmp_path: Path
) -> None:
    with silent_listener() as silent, closing_listener() as closing:
        targets = [
            LiveTarget("ZT", "yaz-ztest", "z3950", ztest.z3950_address, timeout=5),
            LiveTarget("ZS", "yaz-ztest SRU", "sru", ztest.sru_url, record_syntax="marcxml", timeout=5),
            LiveTarget("ZEB", "Zebra", "z3950", zebra.z3950_address(MARC21_DATABASE), timeout=5),
            LiveTarget("DEAD", "Silent", "z3950", silent.z3950_address, timeout=2),
            LiveTarget("GONE", "Closing", "sru", closing.sru_url, record_syntax="marcxml", timeout=5),
        ]
        query = _query("pride")
        updates = asyncio.run(_updates(union, query, targets, union.index.search(query).hits))
    first, last = updates[0], updates[-1]
    assert not first.done and all(status.state == "waiting" for status in first.targets)
    assert first.hits and all(hit.in_union for hit in first.hits)  # the union's page, before any answer
    # One update per target, the last one done, and the dead target's line is the last to change.
    assert len(updates) == 1 + len(targets) and last.done and not any(update.done for update in updates[:-1])
    assert _status(updates[-2], "DEAD") == ("waiting", "")
    assert _status(last, "DEAD") == ("timed_out", "timeout")
    dead = next(status for status in last.targets if status.code == "DEAD")
    assert dead.seconds is not None and 2 <= dead.seconds < 10 and "within 2 s" in dead.message
    state, error = _status(last, "GONE")
    assert state == "failed" and error in {"closed", "connect"}
    zebra_status = next(status for status in last.targets if status.code == "ZEB")
    assert zebra_status.state == "done" and zebra_status.seconds is not None and zebra_status.seconds < 2
    # Zebra's hit count is the one YAZ's own client gets for the same query.
    pqf = to_pqf(query, targets[2])
    assert zebra_status.hits == yaz_client(targets[2].address, pqf, "1+1", tmp_path).hits
    assert zebra_status.records == 20 and zebra_status.kept == 20 and zebra_status.rejected == 0


@pytest.mark.peers
def test_records_of_editions_the_union_holds_join_them_and_the_others_make_lines(
    union: Catalogue, zebra: ZebraServer, tmp_path: Path
) -> None:
    target = LiveTarget("ZEB", "Zebra", "z3950", zebra.z3950_address(MARC21_DATABASE), libraries=("ZEBLIB",))
    query = _query("pride")
    union_hits = union.index.search(query).hits
    final = asyncio.run(_updates(union, query, [target], union_hits))[-1]
    # What Zebra sent (its first 20 records), read by YAZ's own client.
    sent = yaz_client(target.address, to_pqf(query, target), "1+20", tmp_path).records
    titles = [record.title for record in pymarc.MARCReader(sent) if record is not None]
    assert len(titles) == 20
    joined = [hit for hit in final.hits if hit.in_union and "ZEB" in hit.found_by]
    alone = [hit for hit in final.hits if not hit.in_union]
    assert joined, "Zebra holds the whole Pride set, the union its first records: some must join"
    # The copies the target adds are its own (the records' 852s, read with the target as their source).
    assert all(hit.live_holdings for hit in joined)
    assert all(holding.library in {"ZEB", "ZEBLIB"} for hit in joined for holding in hit.live_holdings)
    assert all(hit.record.id.startswith("live:ZEB:") and hit.found_by == ["ZEB"] for hit in alone)
    # Nothing is lost or doubled: every record sent is on the page once, joined or alone (records of one
    # edition merge, so there are at most as many lines as records).
    assert 0 < len(joined) + len(alone) <= 20
    # The union's page keeps its order: its hits come in the order the union search gave them.
    page = [record.id for record in union_hits]
    union_order = [hit.record.id for hit in final.hits if hit.in_union and hit.record.id in page]
    assert union_order == [identifier for identifier in page if identifier in union_order]


@pytest.mark.peers
def test_filters_are_applied_to_live_records_as_to_union_records(
    union: Catalogue, zebra: ZebraServer, tmp_path: Path
) -> None:
    target = LiveTarget("ZEB", "Zebra", "z3950", zebra.z3950_address(MARC21_DATABASE))
    query = _query("translation", language=["ger"])
    final = asyncio.run(_updates(union, query, [target], []))[-1]
    # The records Zebra sent (every one it finds: fewer than a page), with their language as MARC 21
    # codes it (008/35-37).
    pqf = to_pqf(query, target)
    found = yaz_client(target.address, pqf, "1+1", tmp_path).hits
    sent = yaz_client(target.address, pqf, f"1+{found}", tmp_path).records
    languages = [record["008"].data[35:38] for record in pymarc.MARCReader(sent) if record is not None]
    assert len(languages) == found < 20 and "ger" in languages and any(lang != "ger" for lang in languages)
    status = final.targets[0]
    assert status.records == found and status.kept == languages.count("ger")
    assert final.hits and all(hit.record.language == "ger" for hit in final.hits)


@pytest.mark.peers
def test_a_target_with_broken_records_reads_them_as_an_import_would(union: Catalogue, tmp_path: Path) -> None:
    with malformed_z3950_server(tmp_path / "zebra") as server:
        target = LiveTarget("BROKEN", "Broken", "z3950", server.z3950_address(MALFORMED_DATABASE))
        answer = asyncio.run(search_z3950(target, ALL_RECORDS, 1, 20))
        final = asyncio.run(_updates(union, SearchQuery(), [target], []))[-1]
    status = final.targets[0]
    assert status.state == "done" and status.records == len(answer.records)
    assert status.kept + status.rejected == status.records
    # The reference: the same bytes imported and indexed as a source, by the real commands.
    reference = tmp_path / "reference"
    _index(reference, "BROKEN", b"".join(record.data for record in answer.records))
    with open_catalogue(_settings(reference)) as catalogue:
        quarantined = len(catalogue.records.list_quarantine(stage="index", limit=100))
    assert status.rejected == quarantined


@pytest.mark.peers
def test_an_sru_target_sending_malformed_records_keeps_the_good_ones(union: Catalogue) -> None:
    with malformed_sru_server() as server:
        target = LiveTarget("MIX", "Mixed", "sru", server.url, record_syntax="marcxml")
        final = asyncio.run(_updates(union, _query("anything"), [target], []))[-1]
    status = final.targets[0]
    good = [record for record in server.records if record.kind == "marc"]
    not_marc = [record for record in server.records if record.kind == "not-marc"]
    assert status.state == "done" and status.records == len(server.records)
    assert status.rejected >= len(not_marc) and status.kept >= len(good)
    assert status.kept + status.rejected == status.records


@pytest.mark.peers
def test_closing_the_search_early_stops_asking(union: Catalogue) -> None:
    async def first_update_then_leave() -> int:
        with silent_listener() as silent:
            target = LiveTarget("DEAD", "Silent", "z3950", silent.z3950_address, timeout=30)
            live = open_live_parts(union)
            updates = live.service.run(_query("pride"), [], [target])
            await anext(updates)
            await updates.aclose()
            await asyncio.sleep(0.05)
            await live.service.close()
            current = asyncio.current_task()
            return sum(1 for task in asyncio.all_tasks() if task is not current and not task.done())

    assert asyncio.run(first_update_then_leave()) == 0


def test_searches_of_the_unions_own_sets_ask_no_target(union: Catalogue) -> None:
    target = LiveTarget("NEVER", "Never asked", "sru", "http://127.0.0.1:9/sru", record_syntax="marcxml")
    query = _query("pride", new_since=["2026-01-01"])
    updates = asyncio.run(_updates(union, query, [target], []))
    assert len(updates) == 1 and updates[0].done and updates[0].targets[0].hits is None


def _hit(identifier: str, year: int | None, in_union: bool) -> MergedHit:
    return MergedHit(UnionRecord(id=identifier, title=identifier, year=year), in_union)


def test_by_year_the_union_hits_keep_their_order_and_live_lines_go_where_they_sort() -> None:
    hits = [_hit("u1", 2001, True), _hit("u2", 1990, True), _hit("l1", 1995, False), _hit("l2", 2010, False)]
    assert [hit.record.id for hit in ordered(hits, SearchQuery(sort="year_desc"))] == ["l2", "u1", "l1", "u2"]
    assert [hit.record.id for hit in ordered(hits, SearchQuery(sort="relevance"))] == ["u1", "u2", "l1", "l2"]
    undated = [_hit("u1", 2001, True), _hit("l0", None, False)]
    assert [hit.record.id for hit in ordered(undated, SearchQuery(sort="year_asc"))] == ["u1", "l0"]

"""The suite of the record store port (unicat/ports/records.py), run over both databases it is written
for (SQLite and PostgreSQL, tests/unicat/stores/conftest.py): sources, source records stored page by
page with their harvest's checkpoint, harvest runs, the quarantine a librarian works through, merge
decisions, memberships and redirects. The OAI-PMH feed's part is in test_record_feed.py.

Expected answers come from the records each test writes (counted here with plain Python), never from
running the store itself.
"""

from __future__ import annotations

import pytest

from tests.support.shared_data import SHARED_DATA
from unicat.errors import EngineError, SourceNotFound
from unicat.model import (
    HarvestCheckpoint,
    HarvestRun,
    MergeDecision,
    QuarantineEntry,
    QuarantineStage,
    Source,
    SourceRecord,
    SourceRef,
)
from unicat.oai_items import OaiItem
from unicat.ports.records import RecordStore

DATA = SHARED_DATA


def real_marc_records(count: int) -> list[bytes]:
    """The first ``count`` ISO 2709 records of a real UTF-8 MARC21 file, split on the record terminator."""
    chunks = (DATA / "marc21" / "065001035.mrc").read_bytes().split(b"\x1d")
    return [chunk + b"\x1d" for chunk in chunks[:count]]


# -- sources ---------------------------------------------------------------------------------------


def test_sources_are_saved_replaced_and_listed_by_code(store: RecordStore) -> None:
    scpo = Source("SCPO", "Sciences Po", "http://127.0.0.1:9001/oai", profile="unimarc")
    bnf = Source("BNF", "Bibliothèque nationale de France", None)
    store.save_source(scpo)
    store.save_source(bnf)
    assert store.get_source("SCPO") == scpo
    assert store.list_sources() == [bnf, scpo]
    renamed = Source("SCPO", "Bibliothèque de Sciences Po", "http://127.0.0.1:9002/oai", set_spec="livres")
    store.save_source(renamed)
    assert store.get_source("SCPO") == renamed
    assert len(store.list_sources()) == 2


def test_unknown_source_raises(store: RecordStore) -> None:
    with pytest.raises(SourceNotFound):
        store.get_source("NOPE")


# -- record store ----------------------------------------------------------------------------------


def test_store_page_upserts_and_keeps_raw_bytes(store: RecordStore) -> None:
    first, second, third = real_marc_records(3)
    store.store_page("UVA", [SourceRecord("UVA", "a", first, datestamp="2024-01-01T00:00:00Z")], None)
    store.store_page("UVA", [SourceRecord("UVA", "a", second), SourceRecord("UVA", "b", third)], None)
    stored = store.get_source_record("UVA", "a")
    assert stored is not None
    assert stored.raw == second
    assert stored.datestamp is None
    assert store.source_counts("UVA").live == 2
    assert store.get_source_record("UVA", "zzz") is None


def test_deleted_records_are_tombstones(store: RecordStore) -> None:
    (raw,) = real_marc_records(1)
    store.store_page("UVA", [SourceRecord("UVA", "a", raw), SourceRecord("UVA", "b", raw)], None)
    store.store_page("UVA", [SourceRecord("UVA", "a", raw, deleted=True)], None)
    tombstone = store.get_source_record("UVA", "a")
    assert tombstone is not None
    assert tombstone.deleted
    assert tombstone.raw == b""
    assert [r.local_id for r in store.iter_source_records("UVA")] == ["b"]
    assert [r.local_id for r in store.iter_source_records("UVA", include_deleted=True)] == ["a", "b"]
    counts = store.source_counts("UVA")
    assert (counts.live, counts.deleted) == (1, 1)


def test_iter_source_records_streams_every_record_in_key_order(store: RecordStore) -> None:
    # More records than one internal batch, over two sources, to cross batch boundaries.
    raws = real_marc_records(3)
    for source in ("SCPO", "BNF"):
        page = [SourceRecord(source, f"{n:05d}", raws[n % 3]) for n in range(1_234)]
        store.store_page(source, page, None)
    everything = list(store.iter_source_records())
    assert len(everything) == 2 * 1_234
    keys = [(r.source, r.local_id) for r in everything]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert [r.local_id for r in store.iter_source_records("SCPO")][-1] == "01233"
    assert store.source_counts().live == 2 * 1_234


def test_store_page_writes_the_checkpoint_with_the_page(store: RecordStore) -> None:
    raws = real_marc_records(2)
    run = store.start_harvest("UVA", "full")
    records = [SourceRecord("UVA", "a", raws[0]), SourceRecord("UVA", "b", b"", deleted=True)]
    store.store_page("UVA", records, HarvestCheckpoint(run.id, "token-2", pages=1, records=2, deleted=1))
    unfinished = store.unfinished_harvest("UVA")
    assert unfinished is not None
    assert (unfinished.resumption_token, unfinished.pages, unfinished.records, unfinished.deleted) == (
        "token-2",
        1,
        2,
        1,
    )


def test_a_page_that_fails_stores_neither_records_nor_checkpoint(store: RecordStore) -> None:
    (raw,) = real_marc_records(1)
    run = store.start_harvest("UVA", "incremental")
    store.store_page("UVA", [SourceRecord("UVA", "a", raw)], HarvestCheckpoint(run.id, "t1", 1, 1, 0))
    page = [SourceRecord("UVA", "b", raw), SourceRecord("UVA", "c", raw)]
    with pytest.raises(EngineError):
        # The checkpoint names a run that does not exist: the whole page must be rolled back.
        store.store_page("UVA", page, HarvestCheckpoint(run.id + 1000, "t2", 2, 3, 0))
    assert store.get_source_record("UVA", "b") is None
    assert store.source_counts("UVA").live == 1
    unfinished = store.unfinished_harvest("UVA")
    assert unfinished is not None
    assert (unfinished.resumption_token, unfinished.pages) == ("t1", 1)


def test_a_page_with_records_of_another_source_is_refused_whole(store: RecordStore) -> None:
    (raw,) = real_marc_records(1)
    with pytest.raises(EngineError):
        store.store_page("UVA", [SourceRecord("UVA", "a", raw), SourceRecord("BNF", "b", raw)], None)
    assert store.source_counts().live == 0


def test_delete_unseen_marks_what_a_run_did_not_store(store: RecordStore) -> None:
    raws = real_marc_records(3)
    first = store.start_harvest("UVA", "full")
    store.store_page(
        "UVA",
        [SourceRecord("UVA", name, raws[n]) for n, name in enumerate("abc")],
        HarvestCheckpoint(first.id, None, 1, 3, 0),
    )
    store.store_page("BNF", [SourceRecord("BNF", "a", raws[0])], None)
    store.finish_harvest(first.id, "ok")
    again = store.start_harvest("UVA", "full")
    store.store_page("UVA", [SourceRecord("UVA", "b", raws[1])], HarvestCheckpoint(again.id, "t", 1, 1, 0))
    store.store_page("UVA", [SourceRecord("UVA", "c", raws[2])], HarvestCheckpoint(again.id, None, 2, 2, 0))
    assert store.unseen_count("UVA", again.id) == 1
    assert store.delete_unseen("UVA", again.id) == 1
    assert store.unseen_count("UVA", again.id) == 0
    gone = store.get_source_record("UVA", "a")
    assert gone is not None and gone.deleted and gone.raw == b""
    assert [r.local_id for r in store.iter_source_records("UVA")] == ["b", "c"]
    assert store.source_counts("BNF").live == 1  # another source is never touched
    assert store.delete_unseen("UVA", again.id) == 0  # tombstones stay as they are


# -- harvest runs ----------------------------------------------------------------------------------


def test_harvest_run_lifecycle(store: RecordStore) -> None:
    assert store.unfinished_harvest("UVA") is None
    assert store.last_successful_harvest("UVA") is None
    first = store.start_harvest("UVA", "full", until="2024-06-30T00:00:00Z")
    assert first.status == "running"
    assert first.mode == "full"
    assert first.started.endswith("Z") and first.started[10] == "T"
    assert store.unfinished_harvest("UVA") == first
    store.finish_harvest(first.id, "ok")
    assert store.unfinished_harvest("UVA") is None
    done = store.last_successful_harvest("UVA")
    assert done is not None
    assert (done.id, done.status, done.until) == (first.id, "ok", "2024-06-30T00:00:00Z")
    assert done.finished is not None and done.finished.endswith("Z")

    second = store.start_harvest("UVA", "incremental", from_=done.started)
    store.finish_harvest(second.id, "failed", "HTTP 503 from http://127.0.0.1:9001/oai")
    last_ok = store.last_successful_harvest("UVA")
    assert last_ok is not None and last_ok.id == first.id
    other = store.start_harvest("BNF", "import")

    history = store.harvest_history()
    assert [run.id for run in history] == [other.id, second.id, first.id]
    assert history[1].error == "HTTP 503 from http://127.0.0.1:9001/oai"
    assert history[1].from_ == done.started
    assert [run.id for run in store.harvest_history("UVA", limit=1)] == [second.id]


def test_a_paused_run_stays_unfinished_with_its_reason_until_it_finishes(store: RecordStore) -> None:
    run = store.start_harvest("UVA", "incremental")
    store.pause_harvest(run.id, "stopped after harvest_run_time_limit")
    paused = store.unfinished_harvest("UVA")
    assert paused is not None
    assert (paused.id, paused.status, paused.error) == (
        run.id,
        "running",
        "stopped after harvest_run_time_limit",
    )
    store.finish_harvest(run.id, "ok")
    done = store.last_successful_harvest("UVA")
    assert done is not None and (done.id, done.error) == (run.id, None)
    with pytest.raises(EngineError):
        store.pause_harvest(run.id, "a finished run cannot be paused")


def test_a_run_keeps_the_server_clock_and_its_quarantined_count(store: RecordStore) -> None:
    (raw,) = real_marc_records(1)
    run = store.start_harvest("UVA", "incremental", from_="2024-05-01", server_time="2024-05-02T10:11:12Z")
    assert run.server_time == "2024-05-02T10:11:12Z"
    checkpoint = HarvestCheckpoint(run.id, "t1", pages=1, records=1, deleted=0, quarantined=4)
    store.store_page("UVA", [SourceRecord("UVA", "a", raw)], checkpoint)
    unfinished = store.unfinished_harvest("UVA")
    assert unfinished is not None
    assert (unfinished.server_time, unfinished.quarantined) == ("2024-05-02T10:11:12Z", 4)
    store.finish_harvest(run.id, "ok")
    done = store.last_successful_harvest("UVA")
    assert done is not None and (done.server_time, done.quarantined) == ("2024-05-02T10:11:12Z", 4)


def test_a_source_keeps_its_harvest_interval(store: RecordStore) -> None:
    store.save_source(Source("UVA", "Virginia", "http://127.0.0.1:1/oai", harvest_interval=3600.0))
    store.save_source(Source("BNF", "BnF", "http://127.0.0.1:2/oai"))
    assert store.get_source("UVA").harvest_interval == 3600.0
    assert [source.harvest_interval for source in store.list_sources()] == [None, 3600.0]


def test_restored_runs_keep_their_ids_and_new_runs_come_after(store: RecordStore) -> None:
    old = [
        HarvestRun(
            id=7, source="UVA", started="2024-01-02T03:04:05Z", status="ok", mode="full",
            finished="2024-01-02T03:10:00Z", pages=3, records=250, deleted=2, quarantined=5,
            server_time="2024-01-02T03:04:01Z",
        ),
        HarvestRun(
            id=12, source="UVA", started="2024-02-01T00:00:00Z", status="failed", mode="incremental",
            from_="2024-01-02T03:04:05Z", finished="2024-02-01T00:01:00Z", error="HTTP 503",
        ),
    ]  # fmt: skip
    store.restore_harvest_runs(old)
    assert store.harvest_history("UVA") == list(reversed(old))
    assert store.last_successful_harvest("UVA") == old[0]
    assert store.start_harvest("UVA", "incremental").id > 12


def test_finishing_an_unknown_run_raises(store: RecordStore) -> None:
    with pytest.raises(EngineError):
        store.finish_harvest(4242, "ok")


# -- quarantine ------------------------------------------------------------------------------------


def test_quarantine_add_list_count_clear(store: RecordStore) -> None:
    bad = (DATA / "malformed" / "error.mrc").read_bytes()
    store.add_quarantine(
        [
            QuarantineEntry("UVA", "1", "harvest", "record length is not a number", bad),
            QuarantineEntry("UVA", None, "index", "no 245 field", b"\x00\xff"),
            QuarantineEntry("BNF", "7", "index", "bad leader", b"x", created="2024-01-02T03:04:05Z"),
        ]
    )
    assert store.count_quarantine() == 3
    assert store.count_quarantine("UVA") == 2
    newest_first = store.list_quarantine()
    assert [entry.source for entry in newest_first] == ["BNF", "UVA", "UVA"]
    assert newest_first[0].created == "2024-01-02T03:04:05Z"
    oldest = newest_first[2]
    assert (oldest.raw, oldest.reason, oldest.stage) == (bad, "record length is not a number", "harvest")
    assert oldest.created is not None and oldest.created.endswith("Z")
    assert len(store.list_quarantine(limit=1)) == 1
    store.clear_quarantine("index", "UVA")
    assert store.count_quarantine() == 2
    store.clear_quarantine("index")
    assert [entry.stage for entry in store.list_quarantine()] == ["harvest"]


def test_a_record_quarantined_again_keeps_one_entry_with_the_latest_reason(store: RecordStore) -> None:
    store.add_quarantine(
        [
            QuarantineEntry("UVA", "1", "harvest", "first reason", b"<a/>"),
            QuarantineEntry("UVA", None, "harvest", "no identifier", b"<b/>"),
            QuarantineEntry("UVA", "1", "index", "an index-stage entry of the same record", b"x"),
        ]
    )
    store.add_quarantine(
        [
            QuarantineEntry("UVA", "1", "harvest", "second reason", b"<a2/>"),
            QuarantineEntry("UVA", "1", "harvest", "third reason", b"<a3/>"),
            QuarantineEntry("UVA", None, "harvest", "no identifier", b"<b/>"),
        ]
    )
    entries = store.list_quarantine("UVA")
    assert [(e.local_id, e.stage, e.reason) for e in entries] == [
        (None, "harvest", "no identifier"),
        ("1", "harvest", "third reason"),
        ("1", "index", "an index-stage entry of the same record"),
        (None, "harvest", "no identifier"),
    ]
    assert entries[1].raw == b"<a3/>"
    store.clear_quarantine("harvest", "UVA")
    assert [e.stage for e in store.list_quarantine("UVA")] == ["index"]


def _entries(count: int, source: str = "UVA", stage: QuarantineStage = "import") -> list[QuarantineEntry]:
    return [QuarantineEntry(source, f"r{n}", stage, f"reason {n}", f"raw {n}".encode()) for n in range(count)]


def test_listing_is_paged_newest_first_and_filtered_by_source_and_stage(store: RecordStore) -> None:
    store.add_quarantine(_entries(7))
    store.add_quarantine([QuarantineEntry("BNF", "b1", "harvest", "no metadata", b"<record/>")])
    store.add_quarantine([QuarantineEntry("UVA", "h1", "harvest", "unknown format", b"<record/>")])
    # Added in this order, so newest first is the reverse of it.
    everything = ["h1", "b1", *(f"r{n}" for n in reversed(range(7)))]
    assert [e.local_id for e in store.list_quarantine(limit=100)] == everything
    assert [e.local_id for e in store.list_quarantine(limit=3, offset=2)] == everything[2:5]
    assert [e.local_id for e in store.list_quarantine(limit=3, offset=8)] == everything[8:]
    assert store.list_quarantine(limit=3, offset=9) == []
    assert [e.local_id for e in store.list_quarantine("UVA", stage="harvest")] == ["h1"]
    assert [e.local_id for e in store.list_quarantine(stage="harvest")] == ["h1", "b1"]
    assert [e.local_id for e in store.list_quarantine("UVA", 2, stage="import", offset=1)] == ["r5", "r4"]


def test_pages_far_into_the_listing_are_reached(store: RecordStore) -> None:
    # The search engine's read window (which once held the quarantine) is gone; the answers stay.
    store.add_quarantine(_entries(8))
    newest_first = [f"r{n}" for n in reversed(range(8))]
    assert [e.local_id for e in store.list_quarantine(limit=2, offset=5)] == newest_first[5:7]
    assert [e.local_id for e in store.list_quarantine(limit=3, offset=7)] == newest_first[7:]
    assert store.list_quarantine(limit=2, offset=8) == []


def test_counts_per_source_and_stage(store: RecordStore) -> None:
    assert store.quarantine_counts() == {}
    store.add_quarantine(
        [
            *_entries(3),
            *_entries(2, stage="index"),
            *_entries(1, source="BNF", stage="harvest"),
            QuarantineEntry("BNF", None, "harvest", "no identifier", b"<record/>"),
        ]
    )
    assert store.quarantine_counts() == {("UVA", "import"): 3, ("UVA", "index"): 2, ("BNF", "harvest"): 2}


def test_one_records_entries_at_every_stage(store: RecordStore) -> None:
    store.add_quarantine([QuarantineEntry("UVA", "42", "import", "truncated", b"0042")])
    store.add_quarantine([QuarantineEntry("UVA", "42", "index", "bad directory", b"00042")])
    store.add_quarantine([QuarantineEntry("BNF", "42", "import", "another library's 42", b"x")])
    found = store.get_quarantined("UVA", "42")
    assert [(e.stage, e.reason, e.raw) for e in found] == [
        ("index", "bad directory", b"00042"),
        ("import", "truncated", b"0042"),
    ]
    assert all(e.source == "UVA" and e.local_id == "42" and e.created for e in found)
    assert store.get_quarantined("UVA", "43") == []


def test_removing_entries_of_records_read_fine_since(store: RecordStore) -> None:
    store.add_quarantine(
        [
            *_entries(4),
            QuarantineEntry("UVA", "r1", "index", "bad directory", b"x"),
            QuarantineEntry("UVA", "r2", "harvest", "no metadata", b"x"),
            QuarantineEntry("BNF", "r1", "import", "same id, other library", b"x"),
            QuarantineEntry("UVA", None, "import", "bytes between records", b"x"),
        ]
    )
    store.remove_quarantine("UVA", ["r1", "r2", "absent"], stages=("harvest", "import"))
    left = {(e.source, e.local_id, e.stage) for e in store.list_quarantine(limit=100)}
    assert left == {
        ("UVA", "r0", "import"),
        ("UVA", "r3", "import"),
        ("UVA", "r1", "index"),
        ("BNF", "r1", "import"),
        ("UVA", None, "import"),
    }
    store.remove_quarantine("UVA", ["r1"])
    assert store.get_quarantined("UVA", "r1") == []
    assert store.count_quarantine("UVA") == 3
    store.remove_quarantine("UVA", [])
    assert store.count_quarantine() == 4


# -- librarians' merge decisions -------------------------------------------------------------------


def test_a_later_decision_on_a_pair_replaces_the_earlier_whichever_record_it_names_first(
    store: RecordStore,
) -> None:
    uva, bnf, oxf = SourceRef("UVA", "u1"), SourceRef("BNF", "b1"), SourceRef("OXF", "o1")
    split = store.save_merge_decision(MergeDecision("split", uva, bnf, "two printings", "jane"))
    # Stored in the pair's fixed order: ("BNF", "b1") sorts before ("UVA", "u1").
    assert (split.first, split.second, split.kind, split.reason, split.by) == (
        bnf,
        uva,
        "split",
        "two printings",
        "jane",
    )
    assert split.id is not None and split.at is not None and split.at.endswith("Z")
    copied = store.save_merge_decision(MergeDecision("force", oxf, uva, at="2024-03-04T05:06:07Z"))
    assert copied.at == "2024-03-04T05:06:07Z"  # a copied catalogue keeps when it was decided
    assert store.merge_decisions() == [split, copied]

    forced = store.save_merge_decision(MergeDecision("force", bnf, uva, "same edition after all", "anne"))
    assert forced.id not in (None, split.id, copied.id)
    # The pair's decision is the later one, now the newest.
    assert store.merge_decisions() == [copied, forced]

    assert copied.id is not None and store.remove_merge_decision(copied.id)
    assert not store.remove_merge_decision(copied.id)
    assert store.merge_decisions() == [forced]


# -- memberships and redirects ---------------------------------------------------------------------


def test_restored_memberships_and_redirects_replace_the_stored_ones(store: RecordStore) -> None:
    store.restore_memberships([("UVA", "old", "gone")], [("gone-a", "gone-b")])
    # More than one batch of each, so that the writes and the keyset reads cross batch boundaries.
    members = [(source, f"{n:05d}", f"u{n // 2:05d}") for source in ("SCPO", "BNF") for n in range(1_250)]
    redirects = [(f"old{n:05d}", f"u{n:05d}") for n in reversed(range(1_100))]
    assert store.restore_memberships(iter(members), iter(redirects)) == 2_500
    assert store.memberships() == {(source, local_id): union_id for source, local_id, union_id in members}
    assert list(store.iter_redirects()) == sorted(redirects)
    assert store.redirects_from(["old00007", "u00007", "gone-a"]) == {"old00007": "u00007"}


def test_redirects_are_found_from_their_old_id_and_by_their_target(store: RecordStore) -> None:
    store.restore_memberships([], [("a", "c"), ("b", "c"), ("c", "d"), ("e", "d")])
    assert store.redirects_from(["a", "c", "d", "a", "zzz"]) == {"a": "c", "c": "d"}
    assert store.redirects_to(["c", "d", "a"]) == {"c": ["a", "b"], "d": ["c", "e"]}
    assert store.redirects_from([]) == {} and store.redirects_to([]) == {}


def _live(*union_ids: str, deleted: tuple[str, ...] = ()) -> list[OaiItem]:
    return [OaiItem(union_id, 1, union_id in deleted, (), "f") for union_id in (*union_ids, *deleted)]


def test_a_redirect_resolves_to_the_live_end_of_its_chain(store: RecordStore) -> None:
    chain = [(f"h{n:02d}", f"h{n + 1:02d}") for n in range(17)]  # h00 → h01 → … → h17
    redirects = [("a", "b"), ("b", "c"), ("c", "d"), ("x", "y"), ("y", "x"), ("dead", "gone"), *chain]
    store.restore_memberships([], redirects)
    store.restore_oai_feed(_live("d", "h17", "b", deleted=("gone",)), [(1, "2024-01-01T00:00:00Z")], {})
    assert store.resolve_redirect("a") == "d"  # through b (live too): the end of the chain counts
    assert store.resolve_redirect("c") == "d"
    assert store.resolve_redirect("x") is None  # a cycle
    assert store.resolve_redirect("dead") is None  # its end was deleted
    assert store.resolve_redirect("d") is None  # no redirect: a live id is not resolved
    assert store.resolve_redirect("nowhere") is None
    assert store.resolve_redirect("h01") == "h17"  # 16 hops
    assert store.resolve_redirect("h00") is None  # 17: too long to be anything but a cycle


def test_the_live_union_id_of_a_post_is_the_record_or_where_it_moved(store: RecordStore) -> None:
    """What a reader's post on a record needs, asked of the store alone: a live id is itself, a merged
    one is where its chain of redirects ends live, and an id deleted or never seen is nowhere."""
    store.restore_memberships([], [("a", "b"), ("b", "c"), ("dead", "gone")])
    store.restore_oai_feed(_live("c", "d", deleted=("gone", "old")), [(1, "2024-01-01T00:00:00Z")], {})
    assert store.live_union_id("d") == "d"
    assert store.live_union_id("c") == "c"
    assert store.live_union_id("a") == "c"
    assert store.live_union_id("dead") is None
    assert store.live_union_id("old") is None
    assert store.live_union_id("never") is None


def test_entries_keep_their_kind_and_are_counted_and_found_by_it(store: RecordStore) -> None:
    store.add_quarantine(
        [
            QuarantineEntry("ZDB", "h1", "index", "holdings record (leader/06 'y')", b"y", kind="holdings"),
            QuarantineEntry("ZDB", "h2", "index", "holdings record (leader/06 'u')", b"u", kind="holdings"),
            QuarantineEntry("ZDB", "a1", "index", "authority record (leader/06 'z')", b"z", kind="authority"),
            QuarantineEntry("BNF", "t1", "index", "no title after mapping", b"t", kind="untitled"),
            QuarantineEntry("BNF", "d1", "index", "bad directory", b"d"),
            QuarantineEntry("BNF", "i1", "import", "truncated", b"i"),
        ]
    )
    assert store.quarantine_kind_counts() == {
        ("ZDB", "holdings"): 2,
        ("ZDB", "authority"): 1,
        ("BNF", "untitled"): 1,
    }
    assert {(e.local_id, e.kind) for e in store.list_quarantine("BNF")} == {
        ("t1", "untitled"),
        ("d1", ""),
        ("i1", ""),
    }
    assert [e.local_id for e in store.list_quarantine(kind="holdings")] == ["h2", "h1"]
    assert [e.local_id for e in store.list_quarantine(kind="holdings", limit=1, offset=1)] == ["h1"]
    assert store.list_quarantine("BNF", kind="holdings") == []
    assert store.count_quarantine(kind="holdings") == 2
    assert store.count_quarantine("ZDB", stage="index", kind="authority") == 1
    assert store.count_quarantine(stage="import", kind="holdings") == 0
    assert store.count_quarantine(stage="index") == 5
    [entry] = store.get_quarantined("ZDB", "a1")
    assert entry.kind == "authority"

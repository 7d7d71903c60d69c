"""Moving a whole catalogue between setups (SQLite alone; Elasticsearch + PostgreSQL): everything
arrives, ids and raw bytes unchanged."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.shared_data import SHARED_DATA
from unicat.accounts import User
from unicat.catalogue import Catalogue
from unicat.holding_codes import CodeName
from unicat.libraries import Library
from unicat.live_search import LiveTarget
from unicat.model import SourceRecord
from unicat.ports.contributions import ContributionStore
from unicat.ports.shuttle import ShuttleStore
from unicat.readers import Comment, ListEntry, ModerationAction, Rating, ReadingList, Report, Tag
from unicat.saved_searches import HistoryEntry, SavedSearch, account_owner, visitor_owner
from unicat.settings import Settings
from unicat.shuttle import Choice, Event, Request
from unicat.stores.alerts import SqlAlertStore
from unicat_cli.cli import EXIT_OK, main
from unicat_cli.wiring import open_catalogue


@dataclass(frozen=True)
class Setup:
    """Where one catalogue lives: its index and its store (records, accounts, readers' data)."""

    index: str
    store: str = ""

    def args(self) -> list[str]:
        return ["--index", self.index, *(["--store", self.store] if self.store else [])]

    def open(self) -> Catalogue:
        return open_catalogue(Settings(engine_url=self.index, store_url=self.store))

    def forget(self) -> None:
        """Delete an Elasticsearch catalogue (the node outlives the test)."""
        if self.index.startswith("http"):
            with self.open() as catalogue:
                catalogue.index.delete_catalogue()  # type: ignore[attr-defined]


def scaled_out(request: pytest.FixtureRequest, tmp_path: Path, name: str) -> Setup:
    """Elasticsearch for the index, this test's PostgreSQL database for the store."""
    node = request.getfixturevalue("elasticsearch_url")
    return Setup(f"{node}/{name}-{tmp_path.name.lower()}", request.getfixturevalue("postgres_database_url"))


def snapshot(catalogue: Catalogue) -> dict[str, object]:
    """Everything a catalogue holds, in a comparable form."""
    store = catalogue.records
    return {
        "sources": [source.to_json() for source in store.list_sources()],
        "records": [
            (r.source, r.local_id, r.raw, r.syntax, r.datestamp, r.deleted)
            for source in store.list_sources()
            for r in store.iter_source_records(source.code, include_deleted=True)
        ],
        "runs": store.harvest_history(limit=100),
        "quarantine": sorted(
            (q.source, q.local_id, q.stage, q.reason, q.raw) for q in store.list_quarantine()
        ),
        "union": [record.to_json() for record in catalogue.index.iter_union_records()],
        "memberships": store.memberships(),
        "holding_codes": store.holding_codes(),
        "redirects": list(store.iter_redirects()),
        "oai_items": list(store.iter_oai_items()),
        "oai_generations": store.oai_generations(),
        "oai_sets": store.oai_sets(),
        "users": catalogue.accounts.list_users(),
        "libraries": catalogue.libraries.list_libraries(),
        "targets": targets_snapshot(catalogue),
        **reader_snapshot(catalogue.contributions),
    }


def targets_snapshot(catalogue: Catalogue) -> list[tuple[object, ...]]:
    """The live targets with every value, their times included (which equality leaves out)."""
    return [dataclasses.astuple(target) for target in catalogue.targets.list_targets()]


def add_target(catalogue: Catalogue) -> None:
    """A live target created long ago and changed since: the copy keeps both times."""
    catalogue.targets.save_target(
        LiveTarget(
            "LOC", "Library of Congress", "sru", "https://lx2.loc.gov:210/LCDB", "marcxml",
            query_map={"title": "dc.title"}, libraries=("ZDB-LS",), timeout=4.0, enabled=False,
            created="2025-03-04T05:06:07Z", updated="2025-04-05T06:07:08Z",
        )
    )  # fmt: skip


def reader_snapshot(store: ContributionStore) -> dict[str, object]:
    """Everything readers added, with ids and times."""
    return {
        "comments": list(store.iter_comments()),
        "ratings": list(store.iter_ratings()),
        "tags": list(store.iter_tags()),
        "reports": list(store.iter_reports()),
        "moderation": list(store.iter_moderation()),
        "lists": list(store.iter_lists()),
        "list_entries": list(store.iter_list_entries()),
    }


@pytest.mark.parametrize("direction", ["sqlite-to-scaled-out", "scaled-out-to-sqlite"])
def test_migrate_copies_everything(
    capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest, tmp_path: Path, direction: str
) -> None:
    embedded = Setup(f"sqlite:///{tmp_path / 'unicat.db'}")
    distributed = scaled_out(request, tmp_path, "migrate")
    first, second = (embedded, distributed) if direction.startswith("sqlite") else (distributed, embedded)
    try:
        for args in (
            ["import", "ZDB", str(SHARED_DATA / "marc21" / "065001035.mrc")],
            ["import", "BAD", str(SHARED_DATA / "malformed" / "error.mrc")],
            ["import", "BRK", str(SHARED_DATA / "marc21" / "brkrtest.mrc")],
            ["index"],
        ):
            assert main([*first.args(), *args]) == EXIT_OK
        # Every member of one union record withdrawn, and the catalogue indexed again: the OAI-PMH feed
        # has a deleted record and two generations, which the copy must keep with their datestamps.
        with first.open() as old:
            gone = next(
                r for r in old.index.iter_union_records() if {ref.source for ref in r.sources} == {"BRK"}
            )
            withdrawn = [SourceRecord("BRK", ref.local_id, b"", deleted=True) for ref in gone.sources]
            old.records.store_page("BRK", withdrawn, None)
            old.accounts.create_user(
                User("anne@example.org", "Anne", "scrypt$1$8$1$AA==$AA==", "librarian", "BRK")
            )
            old.records.set_holding_codes("ZDB", [CodeName("location", "Lesesaal", "Reading room")])
            old.libraries.add_library(
                Library("ZDB-LS", "Lesesaal", source="ZDB", latitude=52.5, longitude=13.4)
            )
            add_target(old)
        assert main([*first.args(), "index"]) == EXIT_OK
        to_store = ["--to-store", second.store] if second.store else []
        assert main([*first.args(), "migrate", "--to", second.index, *to_store]) == EXIT_OK
        out = capsys.readouterr().out
        assert "union records" in out and ", 1 accounts, " in out and "1 named holdings codes" in out
        assert "1 libraries of the directory and 1 live targets" in out
        with first.open() as old, second.open() as new:
            before, after = snapshot(old), snapshot(new)
            assert after == before
            # 40 + 1 + 8 (CENSUS.tsv)
            assert len(before["records"]) == 49  # type: ignore[arg-type]
            # The next harvest run continues the numbering of the copied history.
            newest = max(run.id for run in new.records.harvest_history())
            assert new.records.start_harvest("ZDB", "incremental").id > newest
            assert len(before["oai_generations"]) == 2  # type: ignore[arg-type]
            assert [library.code for library in after["libraries"]] == ["ZDB-LS"]  # type: ignore[attr-defined]
            assert [target[0] for target in after["targets"]] == ["LOC"]  # type: ignore[attr-defined]
            assert before["holding_codes"] == {"ZDB": [CodeName("location", "Lesesaal", "Reading room")]}
            assert sum(item.deleted for item in after["oai_items"]) == 1  # type: ignore[attr-defined]
            # A copied account keeps its number; the next one is numbered after it.
            [anne] = new.accounts.list_users()
            assert anne.id is not None
            later = new.accounts.create_user(User("jo@example.org", "Jo", "scrypt$1$8$1$AA==$AA=="))
            assert later.id is not None and later.id > anne.id
        # Indexing the copy changes no datestamp; a change made there comes after the copied ones.
        assert main([*second.args(), "index"]) == EXIT_OK
        with second.open() as new:
            assert new.records.oai_generations() == before["oai_generations"]
            kept = next(iter(new.records.iter_source_records("ZDB")))
            new.records.store_page("ZDB", [SourceRecord("ZDB", kept.local_id, b"", deleted=True)], None)
        assert main([*second.args(), "index"]) == EXIT_OK
        with second.open() as new:
            *copied, (latest, _) = new.records.oai_generations()
            assert copied == before["oai_generations"] and latest > copied[-1][0]
        # A second copy into a catalogue that is no longer empty is refused.
        assert main([*first.args(), "migrate", "--to", second.index, *to_store]) != EXIT_OK
        assert "not empty" in capsys.readouterr().err
    finally:
        distributed.forget()


@pytest.mark.elasticsearch
@pytest.mark.postgresql
def test_a_new_index_beside_the_same_store_copies_the_index_alone(
    capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """``migrate --to`` an Elasticsearch node without ``--to-store``: the index moves, the store (records,
    accounts, readers' data) stays where it is."""
    embedded = Setup(f"sqlite:///{tmp_path / 'a.db'}")
    node = Setup(
        f"{request.getfixturevalue('elasticsearch_url')}/beside-{tmp_path.name.lower()}", embedded.index
    )
    try:
        assert main([*embedded.args(), "import", "ZDB", str(SHARED_DATA / "marc21" / "065001035.mrc")]) == 0
        assert main([*embedded.args(), "index"]) == 0
        with embedded.open() as old:
            add_reader_data(old)
            before = snapshot(old)
        capsys.readouterr()
        assert main([*embedded.args(), "migrate", "--to", node.index]) == EXIT_OK
        out = capsys.readouterr().out
        assert "the store is shared, so everything but the union index stays" in out
        union = len(before["union"])  # type: ignore[arg-type]
        assert union > 0 and "copied 0 sources, 0 source records, " in out
        assert f", {union:,} union records, 0 redirects, 0 OAI-PMH items, 0 accounts, " in out
        with node.open() as new:
            assert new.store_url == embedded.index
            assert snapshot(new) == before
    finally:
        node.forget()


def test_status_json_after_migration_is_the_same(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    first = f"sqlite:///{tmp_path / 'a.db'}"
    second = f"sqlite:///{tmp_path / 'b.db'}"
    assert main(["--engine", first, "import", "ZDB", str(SHARED_DATA / "marc21" / "065001035.mrc")]) == 0
    assert main(["--engine", first, "index"]) == 0
    assert main(["--engine", first, "migrate", "--to", second]) == 0
    capsys.readouterr()
    statuses = []
    for url in (first, second):
        assert main(["--engine", url, "status", "--json"]) == 0
        status = json.loads(capsys.readouterr().out)
        status.pop("engine")  # where each catalogue is
        status.pop("store")
        status.pop("generated")  # when each status was taken, not what it says
        statuses.append(status)
    assert statuses[0] == statuses[1]


def add_reader_data(catalogue: Catalogue) -> None:
    """Two accounts and something of every kind readers add, with ids that are not 1, 2, 3…: a deleted
    comment leaves a gap, a copied one came with a high id."""
    accounts, contributions = catalogue.accounts, catalogue.contributions
    jane = accounts.create_user(User("jane@example.org", "Jane", "scrypt$1$8$1$AA==$AA=="))
    anne = accounts.create_user(
        User("anne@example.org", "Anne", "scrypt$1$8$1$AA==$AA==", "librarian", "ZDB")
    )
    assert jane.id is not None and anne.id is not None
    first = contributions.add_comment(Comment("pride", jane.id, "A delight.", created="2024-05-01T10:00:00Z"))
    gone = contributions.add_comment(Comment("pride", jane.id, "Oops."))
    assert gone.id is not None and contributions.delete_comment(gone.id)
    hidden = contributions.add_comment(
        Comment(
            "emma",
            jane.id,
            "Spoiler!",
            id=50,
            edited="2024-05-02T08:00:00Z",
            hidden=True,
            hidden_reason="spoils",
        )
    )
    assert first.id is not None and hidden.id == 50
    contributions.set_rating(Rating("pride", jane.id, 5))
    contributions.set_rating(Rating("emma", anne.id, 2, at="2024-05-03T09:00:00Z"))
    contributions.add_tag(Tag("pride", jane.id, "classic"))
    contributions.add_tag(Tag("pride", anne.id, "to read"))
    contributions.add_report(Report(hidden.id, anne.id, "spoils the end"))
    contributions.add_report(Report(first.id, anne.id, "not sure"))
    action = contributions.log_moderation(ModerationAction(hidden.id, "hide", "spoils", anne.id))
    assert action.id is not None
    assert contributions.resolve_reports(hidden.id, action.id) == 1  # a resolved report and an open one
    contributions.log_moderation(
        ModerationAction(gone.id, "dismiss", "fine", anne.id, at="2024-05-04T10:00:00Z")
    )
    reading = contributions.add_list(ReadingList(jane.id, "Austen", "All of her", public=True))
    contributions.add_list(ReadingList(anne.id, "Empty", created="2024-01-01T00:00:00Z"))
    assert reading.id is not None
    contributions.add_list_entry(ListEntry(reading.id, "pride"))
    contributions.add_list_entry(ListEntry(reading.id, "emma", added="2024-05-05T10:00:00Z"))


def jane_id(catalogue: Catalogue) -> int:
    jane = catalogue.accounts.find_user("jane@example.org")
    assert jane is not None and jane.id is not None
    return jane.id


def new_request(patron_id: int, record: str = "pride") -> Request:
    return Request(patron_id, record, "Pride and Prejudice", "BRK", "ZDB", "nearest", (Choice("X", "next"),))


def add_requests(catalogue: Catalogue) -> None:
    """Two requests: one placed, one refused by its first library and accepted by the next."""
    shuttle = catalogue.shuttle
    shuttle.create(new_request(jane_id(catalogue), "emma"))
    moved = shuttle.create(new_request(jane_id(catalogue)))
    assert moved.id is not None
    admin = catalogue.accounts.create_user(
        User("root@example.org", "Root", "scrypt$1$8$1$AA==$AA==", "admin")
    )
    shuttle.act(moved.id, "refuse", admin, "no copy on the shelf")
    shuttle.act(moved.id, "accept", admin)


def add_searches(catalogue: Catalogue) -> None:
    """Two saved searches of Jane's (one with its own id), her history and a browser's."""
    searches = catalogue.searches
    jane = jane_id(catalogue)
    searches.add_search(SavedSearch(jane, "Austen", "q=austen", created="2024-05-06T10:00:00Z"), 10)
    searches.add_search(SavedSearch(jane, "In French", "language=fre&q=austen", id=40), 10)
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    runs = ((account_owner(jane), "q=emma"), (account_owner(jane), "q=pride"), (visitor_owner("t"), "q=x"))
    for owner, query in runs:
        searches.record_search(HistoryEntry(owner, query, 3), 50, long_ago, long_ago)


def shuttle_snapshot(shuttle: ShuttleStore) -> list[tuple[Request, list[Event]]]:
    return [(request, shuttle.events(request.id or 0)) for request in shuttle.iter_requests()]


@pytest.mark.parametrize(
    ("source", "target"), [("sqlite", "sqlite"), ("sqlite", "scaled-out"), ("scaled-out", "sqlite")]
)
def test_migrate_keeps_what_readers_added_with_the_same_ids(
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
    tmp_path: Path,
    source: str,
    target: str,
) -> None:
    first, second = (
        Setup(f"sqlite:///{tmp_path / name}.db") if setup == "sqlite" else scaled_out(request, tmp_path, name)
        for setup, name in ((source, "a"), (target, "b"))
    )
    try:
        assert main([*first.args(), "import", "ZDB", str(SHARED_DATA / "marc21" / "065001035.mrc")]) == 0
        assert main([*first.args(), "index"]) == 0
        with first.open() as old:
            add_reader_data(old)
            add_requests(old)
            add_searches(old)
            add_target(old)
            targets_before = targets_snapshot(old)
            alerts = SqlAlertStore(old.database)
            alerts.set_alert(jane_id(old), 40, "weekly", "fr", "2026-12-01T10:00:00Z")
            alerts.set_feed(jane_id(old), 40, True)
            alerts_before = list(alerts.iter_set())
            searches_before = (list(old.searches.iter_searches()), list(old.searches.iter_history()))
            before = reader_snapshot(old.contributions)
            requests_before = shuttle_snapshot(old.shuttle)
        capsys.readouterr()
        to_store = ["--to-store", second.store] if second.store else []
        assert main([*first.args(), "migrate", "--to", second.index, *to_store]) == EXIT_OK
        out = capsys.readouterr().out
        assert (
            ", 2 comments, 2 ratings, 2 tags, 2 reports, 2 moderation actions, 2 reading lists, "
            "2 list entries, 2 inter-library requests, 4 request events, 2 saved searches, "
            "3 search history entries, 0 mail messages, "
            "0 libraries of the directory and 1 live targets to "
        ) in out
        with second.open() as new:
            assert reader_snapshot(new.contributions) == before
            assert shuttle_snapshot(new.shuttle) == requests_before
            assert (list(new.searches.iter_searches()), list(new.searches.iter_history())) == searches_before
            assert list(SqlAlertStore(new.database).iter_set()) == alerts_before != []
            assert targets_snapshot(new) == targets_before != []
            later_search = new.searches.add_search(SavedSearch(jane_id(new), "Later", "q=later"), 10)
            assert later_search.id is not None and later_search.id > 40
            # A request made on the copy is numbered after the copied ones, and the copied ones go on.
            copied_ids = [request.id or 0 for request, _ in requests_before]
            later_request = new.shuttle.create(new_request(jane_id(new), "persuasion"))
            assert later_request.id is not None and later_request.id > max(copied_ids)
            assert 50 in [comment.id for comment in before["comments"]]  # type: ignore[attr-defined]
            # What readers add on the copy is numbered after what was copied.
            jane = new.accounts.find_user("jane@example.org")
            assert jane is not None and jane.id is not None
            later = new.contributions.add_comment(Comment("pride", jane.id, "Written on the copy."))
            assert later.id is not None and later.id > 50
            later_list = new.contributions.add_list(ReadingList(jane.id, "Later"))
            copied_lists = [reading_list.id or 0 for reading_list in before["lists"]]  # type: ignore[attr-defined]
            assert later_list.id is not None and later_list.id > max(copied_lists)
    finally:
        first.forget()
        second.forget()

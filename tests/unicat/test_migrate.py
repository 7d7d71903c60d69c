"""Moving a whole catalogue between engines: everything arrives, ids and raw bytes unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.shared_data import SHARED_DATA
from unicat.accounts import User
from unicat.cli import EXIT_OK, main
from unicat.engine import Engine
from unicat.engines import open_engine
from unicat.model import SourceRecord
from unicat.readers import Comment, ListEntry, ModerationAction, Rating, ReadingList, Report, Tag
from unicat.settings import Settings


def snapshot(engine: Engine) -> dict[str, object]:
    """Everything a catalogue holds, in a comparable form."""
    return {
        "sources": [source.to_json() for source in engine.list_sources()],
        "records": [
            (r.source, r.local_id, r.raw, r.syntax, r.datestamp, r.deleted)
            for source in engine.list_sources()
            for r in engine.iter_source_records(source.code, include_deleted=True)
        ],
        "runs": engine.harvest_history(limit=100),
        "quarantine": sorted(
            (q.source, q.local_id, q.stage, q.reason, q.raw) for q in engine.list_quarantine()
        ),
        "union": [record.to_json() for record in engine.iter_union_records()],
        "redirects": list(engine.iter_redirects()),
        "oai_items": list(engine.iter_oai_items()),
        "oai_generations": engine.oai_generations(),
        "oai_sets": engine.oai_sets(),
        "users": engine.list_users(),
        **reader_snapshot(engine),
    }


def reader_snapshot(engine: Engine) -> dict[str, object]:
    """Everything readers added, with ids and times."""
    return {
        "comments": list(engine.iter_comments()),
        "ratings": list(engine.iter_ratings()),
        "tags": list(engine.iter_tags()),
        "reports": list(engine.iter_reports()),
        "moderation": list(engine.iter_moderation()),
        "lists": list(engine.iter_lists()),
        "list_entries": list(engine.iter_list_entries()),
    }


@pytest.mark.parametrize("direction", ["sqlite-to-elasticsearch", "elasticsearch-to-sqlite"])
def test_migrate_copies_everything(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, elasticsearch_url: str, direction: str
) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'unicat.db'}"
    es_url = f"{elasticsearch_url}/migrate-{tmp_path.name.lower()}"
    first, second = (sqlite_url, es_url) if direction.startswith("sqlite") else (es_url, sqlite_url)
    try:
        for args in (
            ["import", "ZDB", str(SHARED_DATA / "marc21" / "065001035.mrc")],
            ["import", "BAD", str(SHARED_DATA / "malformed" / "error.mrc")],
            ["import", "BRK", str(SHARED_DATA / "marc21" / "brkrtest.mrc")],
            ["index"],
        ):
            assert main(["--engine", first, *args]) == EXIT_OK
        # Every member of one union record withdrawn, and the catalogue indexed again: the OAI-PMH feed
        # has a deleted record and two generations, which the copy must keep with their datestamps.
        with open_engine(Settings(engine_url=first)) as old:
            gone = next(r for r in old.iter_union_records() if {ref.source for ref in r.sources} == {"BRK"})
            withdrawn = [SourceRecord("BRK", ref.local_id, b"", deleted=True) for ref in gone.sources]
            old.store_page("BRK", withdrawn, None)
            old.create_user(User("anne@example.org", "Anne", "scrypt$1$8$1$AA==$AA==", "librarian", "BRK"))
        assert main(["--engine", first, "index"]) == EXIT_OK
        assert main(["--engine", first, "migrate", "--to", second]) == EXIT_OK
        out = capsys.readouterr().out
        assert "union records" in out
        with open_engine(Settings(engine_url=first)) as old, open_engine(Settings(engine_url=second)) as new:
            before, after = snapshot(old), snapshot(new)
            assert after == before
            # 40 + 1 + 8 (CENSUS.tsv)
            assert len(before["records"]) == 49  # type: ignore[arg-type]
            # The next harvest run continues the numbering of the copied history.
            newest = max(run.id for run in new.harvest_history())
            assert new.start_harvest("ZDB", "incremental").id > newest
            assert len(before["oai_generations"]) == 2  # type: ignore[arg-type]
            assert sum(item.deleted for item in after["oai_items"]) == 1  # type: ignore[attr-defined]
            # A copied account keeps its number; the next one is numbered after it.
            [anne] = new.list_users()
            assert anne.id is not None
            later = new.create_user(User("jo@example.org", "Jo", "scrypt$1$8$1$AA==$AA=="))
            assert later.id is not None and later.id > anne.id
        # Indexing the copy changes no datestamp; a change made there comes after the copied ones.
        assert main(["--engine", second, "index"]) == EXIT_OK
        with open_engine(Settings(engine_url=second)) as new:
            assert new.oai_generations() == before["oai_generations"]
            kept = next(iter(new.iter_source_records("ZDB")))
            new.store_page("ZDB", [SourceRecord("ZDB", kept.local_id, b"", deleted=True)], None)
        assert main(["--engine", second, "index"]) == EXIT_OK
        with open_engine(Settings(engine_url=second)) as new:
            *copied, (latest, _) = new.oai_generations()
            assert copied == before["oai_generations"] and latest > copied[-1][0]
        # A second copy into a catalogue that is no longer empty is refused.
        assert main(["--engine", first, "migrate", "--to", second]) != EXIT_OK
        assert "not empty" in capsys.readouterr().err
    finally:
        with open_engine(Settings(engine_url=es_url)) as engine:
            engine.delete_catalogue()  # type: ignore[attr-defined]


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
        status.pop("engine")
        status.pop("generated")  # when each status was taken, not what it says
        statuses.append(status)
    assert statuses[0] == statuses[1]


def add_reader_data(engine: Engine) -> None:
    """Two accounts and something of every kind readers add, with ids that are not 1, 2, 3…: a deleted
    comment leaves a gap, a copied one came with a high id."""
    jane = engine.create_user(User("jane@example.org", "Jane", "scrypt$1$8$1$AA==$AA=="))
    anne = engine.create_user(User("anne@example.org", "Anne", "scrypt$1$8$1$AA==$AA==", "librarian", "ZDB"))
    assert jane.id is not None and anne.id is not None
    first = engine.add_comment(Comment("pride", jane.id, "A delight.", created="2024-05-01T10:00:00Z"))
    gone = engine.add_comment(Comment("pride", jane.id, "Oops."))
    assert gone.id is not None and engine.delete_comment(gone.id)
    hidden = engine.add_comment(
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
    engine.set_rating(Rating("pride", jane.id, 5))
    engine.set_rating(Rating("emma", anne.id, 2, at="2024-05-03T09:00:00Z"))
    engine.add_tag(Tag("pride", jane.id, "classic"))
    engine.add_tag(Tag("pride", anne.id, "to read"))
    engine.add_report(Report(hidden.id, anne.id, "spoils the end"))
    engine.add_report(Report(first.id, anne.id, "not sure"))
    action = engine.log_moderation(ModerationAction(hidden.id, "hide", "spoils", anne.id))
    assert action.id is not None
    assert engine.resolve_reports(hidden.id, action.id) == 1  # a resolved report and an open one
    engine.log_moderation(ModerationAction(gone.id, "dismiss", "fine", anne.id, at="2024-05-04T10:00:00Z"))
    reading = engine.add_list(ReadingList(jane.id, "Austen", "All of her", public=True))
    engine.add_list(ReadingList(anne.id, "Empty", created="2024-01-01T00:00:00Z"))
    assert reading.id is not None
    engine.add_list_entry(ListEntry(reading.id, "pride"))
    engine.add_list_entry(ListEntry(reading.id, "emma", added="2024-05-05T10:00:00Z"))


@pytest.mark.parametrize("target", ["sqlite", "elasticsearch"])
def test_migrate_keeps_what_readers_added_with_the_same_ids(
    capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest, tmp_path: Path, target: str
) -> None:
    first = f"sqlite:///{tmp_path / 'a.db'}"
    if target == "sqlite":
        second = f"sqlite:///{tmp_path / 'b.db'}"
    else:
        second = f"{request.getfixturevalue('elasticsearch_url')}/migrate-readers-{tmp_path.name.lower()}"
    try:
        assert main(["--engine", first, "import", "ZDB", str(SHARED_DATA / "marc21" / "065001035.mrc")]) == 0
        assert main(["--engine", first, "index"]) == 0
        with open_engine(Settings(engine_url=first)) as old:
            add_reader_data(old)
            before = reader_snapshot(old)
        capsys.readouterr()
        assert main(["--engine", first, "migrate", "--to", second]) == EXIT_OK
        out = capsys.readouterr().out
        assert (
            ", 2 comments, 2 ratings, 2 tags, 2 reports, 2 moderation actions, 2 reading lists and "
            "2 list entries to "
        ) in out
        with open_engine(Settings(engine_url=second)) as new:
            assert reader_snapshot(new) == before
            assert 50 in [comment.id for comment in before["comments"]]  # type: ignore[attr-defined]
            # What readers add on the copy is numbered after what was copied.
            [jane, _] = new.list_users()
            assert jane.id is not None
            later = new.add_comment(Comment("pride", jane.id, "Written on the copy."))
            assert later.id is not None and later.id > 50
            later_list = new.add_list(ReadingList(jane.id, "Later"))
            copied_lists = [reading_list.id or 0 for reading_list in before["lists"]]  # type: ignore[attr-defined]
            assert later_list.id is not None and later_list.id > max(copied_lists)
    finally:
        if target == "elasticsearch":
            with open_engine(Settings(engine_url=second)) as engine:
                engine.delete_catalogue()  # type: ignore[attr-defined]

"""The quarantine a librarian works through, on every engine: paged and filtered listings, counts per
source and stage, one record's entries, and removing the entries of records read fine since.

Expected answers come from the entries each test adds, never from running the engine itself.
"""

from __future__ import annotations

import pytest

from unicat.engine import Engine
from unicat.engines.elasticsearch import engine as elasticsearch_engine
from unicat.model import QuarantineEntry, QuarantineStage


def _entries(count: int, source: str = "UVA", stage: QuarantineStage = "import") -> list[QuarantineEntry]:
    return [QuarantineEntry(source, f"r{n}", stage, f"reason {n}", f"raw {n}".encode()) for n in range(count)]


def test_listing_is_paged_newest_first_and_filtered_by_source_and_stage(engine: Engine) -> None:
    engine.add_quarantine(_entries(7))
    engine.add_quarantine([QuarantineEntry("BNF", "b1", "harvest", "no metadata", b"<record/>")])
    engine.add_quarantine([QuarantineEntry("UVA", "h1", "harvest", "unknown format", b"<record/>")])
    # Added in this order, so newest first is the reverse of it.
    everything = ["h1", "b1", *(f"r{n}" for n in reversed(range(7)))]
    assert [e.local_id for e in engine.list_quarantine(limit=100)] == everything
    assert [e.local_id for e in engine.list_quarantine(limit=3, offset=2)] == everything[2:5]
    assert [e.local_id for e in engine.list_quarantine(limit=3, offset=8)] == everything[8:]
    assert engine.list_quarantine(limit=3, offset=9) == []
    assert [e.local_id for e in engine.list_quarantine("UVA", stage="harvest")] == ["h1"]
    assert [e.local_id for e in engine.list_quarantine(stage="harvest")] == ["h1", "b1"]
    assert [e.local_id for e in engine.list_quarantine("UVA", 2, stage="import", offset=1)] == ["r5", "r4"]


def test_pages_beyond_the_read_window_are_reached(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # Elasticsearch refuses ``from`` past its result window: with a window of 3, offsets past it
    # go through ``search_after``. SQLite has no window; the same answers are asked of it.
    monkeypatch.setattr(elasticsearch_engine, "MAX_SMALL_READ", 3)
    engine.add_quarantine(_entries(8))
    newest_first = [f"r{n}" for n in reversed(range(8))]
    assert [e.local_id for e in engine.list_quarantine(limit=2, offset=5)] == newest_first[5:7]
    assert [e.local_id for e in engine.list_quarantine(limit=3, offset=7)] == newest_first[7:]
    assert engine.list_quarantine(limit=2, offset=8) == []


def test_counts_per_source_and_stage(engine: Engine) -> None:
    assert engine.quarantine_counts() == {}
    engine.add_quarantine(
        [
            *_entries(3),
            *_entries(2, stage="index"),
            *_entries(1, source="BNF", stage="harvest"),
            QuarantineEntry("BNF", None, "harvest", "no identifier", b"<record/>"),
        ]
    )
    assert engine.quarantine_counts() == {("UVA", "import"): 3, ("UVA", "index"): 2, ("BNF", "harvest"): 2}


def test_one_records_entries_at_every_stage(engine: Engine) -> None:
    engine.add_quarantine([QuarantineEntry("UVA", "42", "import", "truncated", b"0042")])
    engine.add_quarantine([QuarantineEntry("UVA", "42", "index", "bad directory", b"00042")])
    engine.add_quarantine([QuarantineEntry("BNF", "42", "import", "another library's 42", b"x")])
    found = engine.get_quarantined("UVA", "42")
    assert [(e.stage, e.reason, e.raw) for e in found] == [
        ("index", "bad directory", b"00042"),
        ("import", "truncated", b"0042"),
    ]
    assert all(e.source == "UVA" and e.local_id == "42" and e.created for e in found)
    assert engine.get_quarantined("UVA", "43") == []


def test_removing_entries_of_records_read_fine_since(engine: Engine) -> None:
    engine.add_quarantine(
        [
            *_entries(4),
            QuarantineEntry("UVA", "r1", "index", "bad directory", b"x"),
            QuarantineEntry("UVA", "r2", "harvest", "no metadata", b"x"),
            QuarantineEntry("BNF", "r1", "import", "same id, other library", b"x"),
            QuarantineEntry("UVA", None, "import", "bytes between records", b"x"),
        ]
    )
    engine.remove_quarantine("UVA", ["r1", "r2", "absent"], stages=("harvest", "import"))
    left = {(e.source, e.local_id, e.stage) for e in engine.list_quarantine(limit=100)}
    assert left == {
        ("UVA", "r0", "import"),
        ("UVA", "r3", "import"),
        ("UVA", "r1", "index"),
        ("BNF", "r1", "import"),
        ("UVA", None, "import"),
    }
    engine.remove_quarantine("UVA", ["r1"])
    assert engine.get_quarantined("UVA", "r1") == []
    assert engine.count_quarantine("UVA") == 3
    engine.remove_quarantine("UVA", [])
    assert engine.count_quarantine() == 4

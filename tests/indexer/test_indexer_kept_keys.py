"""A full index run keeps every parsed record's blocking keys in the record store
(indexer/kept_keys.py, unicat/stores/record_keys.py) and the change mark it read the records up to."""

from __future__ import annotations

from pathlib import Path

from indexer import run_index
from indexer.kept_keys import CHUNK, KeptKeys
from indexer.record_keys import key_hash
from tests.indexer.indexer_testdata import control_number, iso2709_records
from unicat.member_keys import MemberKeys
from unicat.model import Source, SourceRecord
from unicat.settings import Settings
from unicat_cli.wiring import open_catalogue

PENGUIN_2003 = ("001395440", "13113436")  # both carry ISBN 0141439513, 008/07-10 2003
PENGUIN_ISBN = "9780141439518"  # 0141439513 as ISBN-13: 978 + 014143951 + check digit 8


def test_kept_keys_come_back_in_the_order_they_were_added() -> None:
    with KeptKeys() as kept:
        for number in range(CHUNK * 2 + 5):
            kept.add("S", f"{number:05}", (number, -number), number % 3)
        back = list(kept)
    assert len(back) == CHUNK * 2 + 5
    assert back[0] == MemberKeys("S", "00000", (0, 0), 0)
    assert back[-1] == MemberKeys(
        "S", f"{CHUNK * 2 + 4:05}", (CHUNK * 2 + 4, -(CHUNK * 2 + 4)), (CHUNK * 2 + 4) % 3
    )


def _index_pride(
    tmp_path: Path, workers: int
) -> tuple[dict[int, list[tuple[str, str]]], dict[tuple[str, str], MemberKeys], int, int]:
    pride = {control_number(raw) or "": raw for raw in iso2709_records("dedup/pride-and-prejudice-fixed.mrc")}
    first, second = (pride[key] for key in PENGUIN_2003)
    catalogue = open_catalogue(Settings(engine_url=f"sqlite:///{tmp_path / 'unicat.db'}"))
    try:
        store = catalogue.records
        for code, local_id, raw in (("A", "x", first), ("B", "y", second)):
            store.save_source(Source(code, f"Library {code}"))
            store.store_page(
                code, [SourceRecord(code, local_id, raw, "iso2709", "2024-01-01T00:00:00Z")], None
            )
        mark = store.change_mark()
        run_index(store, catalogue.index, workers=workers, parallel_from=1)
        return (
            store.members_with_keys([key_hash("isbn", PENGUIN_ISBN)]),
            store.keys_of([("A", "x"), ("B", "y")]),
            mark,
            store.indexed_mark(),
        )
    finally:
        catalogue.close()


def test_a_full_run_keeps_the_keys_of_every_parsed_record_and_its_mark(tmp_path: Path) -> None:
    by_isbn, keys, mark, indexed = _index_pride(tmp_path / "one", workers=1)
    assert by_isbn == {key_hash("isbn", PENGUIN_ISBN): [("A", "x"), ("B", "y")]}
    assert set(keys) == {("A", "x"), ("B", "y")}
    # One edition of one work: the same work key, and a key of the work there is.
    assert keys[("A", "x")].work == keys[("B", "y")].work != 0
    assert indexed == mark > 0
    # Parsed in worker processes, the same keys.
    assert _index_pride(tmp_path / "two", workers=2)[:2] == (by_isbn, keys)

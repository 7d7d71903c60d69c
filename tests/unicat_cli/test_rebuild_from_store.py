"""The union index can always be rebuilt from the store: `unicat index` pointed at an empty index
beside the same store gives back every union record, with the same ids and content, and moves nothing
an OAI-PMH harvester sees. On both setups: SQLite alone (a second index file beside the store's), and
PostgreSQL + Elasticsearch (a second index prefix on the node)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pymarc
import pytest

from tests.support.shared_data import SHARED_DATA
from unicat.settings import Settings
from unicat_cli.cli import EXIT_OK, main
from unicat_cli.wiring import open_catalogue

# 40 serials of one library, and two libraries holding the same 383 records (the dedup fixture): the
# rebuild must merge each pair of copies again under the same union id.
IMPORTS = (
    ("ZDB", SHARED_DATA / "marc21" / "065001035.mrc"),
    ("LIBA", SHARED_DATA / "dedup" / "pride-and-prejudice-fixed.mrc"),
    ("LIBB", SHARED_DATA / "dedup" / "pride-and-prejudice-fixed.mrc"),
)


def _unicat(capsys: pytest.CaptureFixture[str], store: str, index: str, *args: str) -> str:
    code = main(["--store", store, "--index", index, *args])
    out = capsys.readouterr().out
    assert code == EXIT_OK, out
    return out


def _export(capsys: pytest.CaptureFixture[str], store: str, index: str, path: Path) -> list[dict[str, Any]]:
    _unicat(capsys, store, index, "export", "--format", "jsonl", "--out", str(path))
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _stored_members(store: str, index: str) -> list[tuple[str, str]]:
    with open_catalogue(Settings(engine_url=index, store_url=store)) as catalogue:
        return [(record.source, record.local_id) for record in catalogue.records.iter_source_records()]


def _untitled(path: Path) -> int:
    """How many records of a file have no title field of either flavour (MARC 21 245, UNIMARC 200),
    read by pymarc alone."""
    with path.open("rb") as stream:
        return sum(
            1
            for record in pymarc.MARCReader(stream)
            if record is not None and not record.get_fields("245", "200")
        )


@pytest.mark.parametrize("setup", ["sqlite", "postgresql+elasticsearch"])
def test_an_empty_index_beside_the_store_is_rebuilt_whole(
    setup: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if setup == "sqlite":
        store = f"sqlite:///{tmp_path / 'unicat.db'}"
        first, second = store, f"sqlite:///{tmp_path / 'rebuilt.db'}"
    else:
        store = str(request.getfixturevalue("postgres_database_url"))
        node = str(request.getfixturevalue("elasticsearch_url"))
        first, second = (f"{node}/rebuild-{uuid.uuid4().hex[:12]}" for _ in range(2))
    for code, path in IMPORTS:
        _unicat(capsys, store, first, "import", code, str(path))
    _unicat(capsys, store, first, "index")
    before = _export(capsys, store, first, tmp_path / "before.jsonl")
    with open_catalogue(Settings(engine_url=first, store_url=store)) as catalogue:
        generations = catalogue.records.oai_generations()
        items = list(catalogue.records.iter_oai_items())

    _unicat(capsys, store, second, "index", "--rebuild")
    after = _export(capsys, store, second, tmp_path / "after.jsonl")

    members = [[(ref["source"], ref["local_id"]) for ref in line["sources"]] for line in before]
    # Every stored record is a member of one union record, or set aside at index time with its reason
    # (the fixture's records with no title field at all, in each of the two libraries: its UNIMARC-family
    # records, title in 200, are read as UNIMARC and merged like the others), and
    # copies were merged: the rebuild has ids to keep that are not a record's own.
    with open_catalogue(Settings(engine_url=first, store_url=store)) as catalogue:
        set_aside = [
            (entry.source, entry.local_id) for entry in catalogue.records.list_quarantine(limit=10_000)
        ]
    assert len(set_aside) == 2 * _untitled(SHARED_DATA / "dedup" / "pride-and-prejudice-fixed.mrc")
    assert sorted([m for group in members for m in group] + set_aside) == sorted(
        (code, local_id) for code, local_id in _stored_members(store, first)
    )
    assert any(len(group) > 1 for group in members)
    assert after == before
    with open_catalogue(Settings(engine_url=second, store_url=store)) as catalogue:
        # Nothing changed for harvesters: no new generation, every item as it was.
        assert catalogue.records.oai_generations() == generations
        assert list(catalogue.records.iter_oai_items()) == items
        assert catalogue.index.union_count() == len(before)
    if setup != "sqlite":
        for url in (first, second):
            with open_catalogue(Settings(engine_url=url, store_url=store)) as catalogue:
                catalogue.index.delete_catalogue()

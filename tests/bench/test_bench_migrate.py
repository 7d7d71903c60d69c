"""Smoke test of the migration benchmark: a tiny scale catalogue copied into Elasticsearch + PostgreSQL,
every kind counted and checksummed on both sides; and the check itself sees a difference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.migrate import _digest, main

pytestmark = pytest.mark.timeout(300)


def test_a_small_migration_arrives_whole(
    tmp_path: Path, elasticsearch_url: str, postgres_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "figures.json"
    arguments = ["--records", "300", "--readers", "7", "--cache", str(tmp_path / "cache"), "--json", str(out)]
    assert main([*arguments, "--es-url", elasticsearch_url, "--pg-url", postgres_database_url]) == 0
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["before"] == figures["after"]
    # The readers' items the benchmark wrote: one of each per account.
    for kind in ("accounts", "comments", "ratings", "tags", "lists", "list entries"):
        assert figures["before"][kind][0] == 7, kind
    assert figures["before"]["union records"][0] > 0 and figures["seconds"] > 0
    assert "every count and checksum equal" in capsys.readouterr().out


def test_the_checksums_see_an_item_changed_added_or_moved() -> None:
    items = [("a", 1), ("b", 2)]
    assert _digest(items) == _digest(list(items))
    assert _digest(items) != _digest([("a", 1), ("b", 3)])
    assert _digest(items) != _digest([*items, ("c", 3)])
    assert _digest(items) != _digest(list(reversed(items)))

"""The live targets' store, on SQLite and PostgreSQL (the ``database`` fixture of this package)."""

from __future__ import annotations

import dataclasses

import pytest

from unicat.live_search import LiveTarget
from unicat.ports.database import Database
from unicat.stores.live_targets import SqlLiveTargetStore

ZEBRA = LiveTarget(
    code="ZEB",
    name="Zebra « test » catalogue",
    protocol="z3950",
    address="127.0.0.1:9999/Default",
    record_syntax="usmarc",
    profile="marc21",
    charset="marc8",
    query_map={"title": "@attr 1=4", "ident": "@attr 1=7"},
    timeout=2.5,
    libraries=("BNF", "SCPO"),
    max_records=30,
    enabled=False,
)
LOC = LiveTarget("LOC", "Library of Congress", "sru", "https://lx2.loc.gov:210/LCDB")


@pytest.fixture
def targets(database: Database) -> SqlLiveTargetStore:
    return SqlLiveTargetStore(database)


def test_a_target_comes_back_with_every_value(targets: SqlLiveTargetStore) -> None:
    stored = targets.save_target(ZEBRA)
    again = targets.get_target("ZEB")
    assert again == ZEBRA == stored
    assert again is not None
    # Every value, the times too (which equality leaves out).
    assert dataclasses.astuple(again) == dataclasses.astuple(stored)
    assert again.created is not None and again.created == again.updated
    assert targets.get_target("zeb") is None  # codes are compared as they are


def test_defaults_and_order(targets: SqlLiveTargetStore) -> None:
    targets.save_target(ZEBRA)
    targets.save_target(LOC)
    assert [target.code for target in targets.list_targets()] == ["LOC", "ZEB"]
    loc = targets.get_target("LOC")
    assert loc == LOC and loc is not None
    assert loc.charset is None and loc.query_map == {} and loc.libraries == () and loc.enabled


def test_saving_a_stored_code_replaces_it_and_keeps_its_creation(targets: SqlLiveTargetStore) -> None:
    first = targets.save_target(dataclasses.replace(ZEBRA, created="2025-01-02T03:04:05Z", updated=None))
    assert first.created == "2025-01-02T03:04:05Z" and first.updated != first.created
    changed = dataclasses.replace(ZEBRA, name="Zebra", query_map={}, libraries=(), enabled=True)
    targets.save_target(changed)
    again = targets.get_target("ZEB")
    assert again == changed and again is not None
    assert again.created == "2025-01-02T03:04:05Z"
    assert len(targets.list_targets()) == 1


def test_a_copied_target_keeps_its_times(targets: SqlLiveTargetStore) -> None:
    copied = dataclasses.replace(LOC, created="2024-05-06T07:08:09Z", updated="2024-06-07T08:09:10Z")
    targets.save_target(copied)
    again = targets.get_target("LOC")
    assert again is not None and (again.created, again.updated) == (copied.created, copied.updated)


def test_remove_forgets_one_target(targets: SqlLiveTargetStore) -> None:
    targets.save_target(ZEBRA)
    targets.save_target(LOC)
    assert targets.remove_target("ZEB") is True
    assert targets.remove_target("ZEB") is False
    assert targets.get_target("ZEB") is None
    assert targets.list_targets() == [LOC]

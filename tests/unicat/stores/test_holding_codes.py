"""Each source's tables of holdings codes, on SQLite and PostgreSQL."""

from __future__ import annotations

from unicat.holding_codes import CodeName
from unicat.stores.records import SqlRecordStore

CN = CodeName("item_type", "CN", "Children's novel")
BRANCH = CodeName("branch", "751072303", "Médiathèque des Cotes")


def test_entries_come_back_by_source_kind_and_code(store: SqlRecordStore) -> None:
    store.set_holding_codes("MEDI", [CN, BRANCH])
    store.set_holding_codes("VIRG", [CodeName("branch", "IVY", "Ivy Stacks")])

    assert store.holding_codes("MEDI") == {"MEDI": [BRANCH, CN]}
    assert store.holding_codes() == {"MEDI": [BRANCH, CN], "VIRG": [CodeName("branch", "IVY", "Ivy Stacks")]}
    assert store.holding_codes("NONE") == {}


def test_a_code_set_again_gets_the_new_name(store: SqlRecordStore) -> None:
    store.set_holding_codes("MEDI", [CN])
    store.set_holding_codes("MEDI", [CodeName("item_type", "CN", "Novel for children")])

    assert store.holding_codes("MEDI") == {"MEDI": [CodeName("item_type", "CN", "Novel for children")]}


def test_the_same_code_of_two_kinds_or_two_sources_is_two_entries(store: SqlRecordStore) -> None:
    store.set_holding_codes("MEDI", [CN, CodeName("location", "CN", "Central annexe")])
    store.set_holding_codes("AUSA", [CN])

    assert len(store.holding_codes("MEDI")["MEDI"]) == 2
    assert store.holding_codes("AUSA") == {"AUSA": [CN]}


def test_removal_by_code_by_kind_or_by_source(store: SqlRecordStore) -> None:
    di = CodeName("item_type", "DI", "Documentary")
    store.set_holding_codes("MEDI", [CN, di, BRANCH])
    store.set_holding_codes("VIRG", [CN])

    assert store.remove_holding_codes("MEDI", "item_type", ["CN", "XX"]) == 1
    assert store.holding_codes("MEDI") == {"MEDI": [BRANCH, di]}
    assert store.remove_holding_codes("MEDI", "item_type") == 1
    assert store.remove_holding_codes("MEDI") == 1
    assert store.holding_codes() == {"VIRG": [CN]}

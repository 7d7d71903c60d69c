"""A rebuild over both ports (unicat/union_generation.py), on each setup: the index takes the records,
then the record store keeps the memberships and redirects that outlive it; a source record claimed by
two union records leaves the previous generation whole in both."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from unicat.catalogue import Catalogue
from unicat.errors import EngineError
from unicat.model import SourceRef, UnionRecord
from unicat.union_generation import write_union_generation

MakeRecord = Callable[..., UnionRecord]


@pytest.fixture
def records(make_union_record: MakeRecord) -> list[UnionRecord]:
    return [
        make_union_record("etranger", "L'Étranger", libraries=["BNF", "SCPO"]),
        make_union_record("pride-1813", "Pride and prejudice", libraries=["UVA"]),
        make_union_record("pride-2003", "Pride and prejudice", year=2003, libraries=["OXF"]),
    ]


def _write(catalogue: Catalogue, records: list[UnionRecord], redirects: dict[str, str]) -> int:
    return write_union_generation(catalogue.records, catalogue.index, records, redirects)


def test_memberships_follow_each_records_sources(catalogue: Catalogue, records: list[UnionRecord]) -> None:
    assert _write(catalogue, records, {}) == len(records)
    expected = {(ref.source, ref.local_id): record.id for record in records for ref in record.sources}
    assert catalogue.records.memberships() == expected
    # Two libraries' copies of one edition: both members of the one union record.
    assert {key for key, union_id in expected.items() if union_id == "etranger"} == {
        ("BNF", "bnf-etranger"),
        ("SCPO", "scpo-etranger"),
    }


def test_redirects_resolve_to_the_live_record(catalogue: Catalogue, records: list[UnionRecord]) -> None:
    store = catalogue.records
    _write(catalogue, records, {"pride-old": "pride-1813", "gone": "nowhere"})
    assert store.resolve_redirect("pride-old") == "pride-1813"
    assert store.resolve_redirect("gone") is None
    assert store.resolve_redirect("etranger") is None
    # A later merge moves pride-1813 into pride-2003: the oldest id follows the chain.
    merged = [record for record in records if record.id != "pride-1813"]
    _write(catalogue, merged, {"pride-1813": "pride-2003"})
    assert store.resolve_redirect("pride-old") == "pride-2003"
    assert store.resolve_redirect("pride-1813") == "pride-2003"
    stored = dict(store.iter_redirects())
    assert stored["pride-1813"] == "pride-2003"
    assert stored["gone"] == "nowhere"
    assert list(stored) == sorted(stored)
    # The split undone: pride-1813 lives again and stops redirecting.
    _write(catalogue, records, {})
    assert store.resolve_redirect("pride-1813") is None
    assert "pride-1813" not in dict(store.iter_redirects())


def test_a_source_record_in_two_union_records_changes_nothing(
    catalogue: Catalogue, records: list[UnionRecord], make_union_record: MakeRecord
) -> None:
    _write(catalogue, records, {})
    before = catalogue.records.memberships()
    generations = catalogue.records.oai_generations()
    thief = make_union_record("thief", "Another title", libraries=["UVA"])
    # The thief claims the UVA copy of pride-1813 as well.
    thief = replace(thief, sources=[SourceRef("UVA", "uva-pride-1813")])
    assert records[1].sources == [SourceRef("UVA", "uva-pride-1813")]
    with pytest.raises(EngineError, match="member of two union records"):
        _write(catalogue, [*records, thief], {})
    assert catalogue.index.union_count() == len(records)
    assert catalogue.index.get_union_record("thief") is None
    assert catalogue.records.memberships() == before
    assert catalogue.records.oai_generations() == generations


def test_a_merged_away_id_is_found_in_the_moment_after_the_swap(
    catalogue: Catalogue, records: list[UnionRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page asked for pride-1813 after the new index went live, before the store saved the generation
    (a re-index in the background, a reader following a link): the redirect is already there."""
    _write(catalogue, records, {})
    seen: list[tuple[UnionRecord | None, str | None]] = []
    replace_records = catalogue.index.replace_union_records

    def observed(*args: object, **kwargs: object) -> object:
        written = replace_records(*args, **kwargs)  # type: ignore[arg-type]
        seen.append(
            (catalogue.index.get_union_record("pride-1813"), catalogue.records.resolve_redirect("pride-1813"))
        )
        return written

    monkeypatch.setattr(catalogue.index, "replace_union_records", observed)
    merged = [record for record in records if record.id != "pride-1813"]
    _write(catalogue, merged, {"pride-1813": "pride-2003"})
    assert seen == [(None, "pride-2003")]

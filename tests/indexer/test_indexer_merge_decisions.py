"""Librarians' split and forced merges through ``unicat index``, on every setup: they hold on every
re-index, ids stay stable and redirect, and "other editions" group the editions of one work.

The records are real: in ``dedup/pride-and-prejudice-fixed.mrc`` (file order, 0-based) records 27
and 30 are the 2003 Penguin *Pride and prejudice* (both ISBN 0141439513, LCCN 2003265779); record 31
is the 2003 Penguin *Sense and sensibility* (ISBN 0141439661), another work; record 19 is the 1994
Penguin *Pride and prejudice* (ISBN 0140620222), another edition of the first work. Read with
pymarc in ``bench/data/pride-and-prejudice-editions.tsv`` and by eye.
"""

from __future__ import annotations

import pytest

from indexer import run_index
from tests.indexer.indexer_testdata import (
    PRIDE_1994,
    PRIDE_2003_A,
    PRIDE_2003_B,
    SENSE_2003,
    home,
    store_penguin_records,
)
from unicat import merges
from unicat.catalogue import Catalogue
from unicat.errors import BadParameter
from unicat.model import MergeDecision, SourceRef


@pytest.fixture
def catalogue(catalogue: Catalogue) -> Catalogue:
    """Each record in its own library, as two libraries holding the same edition would be."""
    store_penguin_records(catalogue.records)
    run_index(catalogue.records, catalogue.index, workers=1)
    return catalogue


def test_a_split_holds_on_every_reindex_and_the_split_off_record_redirects_nowhere(
    catalogue: Catalogue,
) -> None:
    merged = home(catalogue.records, PRIDE_2003_A)
    assert home(catalogue.records, PRIDE_2003_B) == merged
    record = catalogue.index.get_union_record(merged)
    assert record is not None and {rule.rule for rule in record.merge} >= {"isbn", "lccn"}

    saved = merges.split_member(catalogue, merged, SourceRef(f"L{PRIDE_2003_B}", "r"), reason="two printings")
    # Stored as a pair in a fixed order, whichever member was named first.
    assert [(d.kind, d.first.key, d.second.key) for d in saved] == [
        ("split", (f"L{PRIDE_2003_A}", "r"), (f"L{PRIDE_2003_B}", "r"))
    ]
    for _ in range(2):
        run_index(catalogue.records, catalogue.index, workers=1)
        # The record the split left keeps the id (it had it first); the other one gets its own.
        assert home(catalogue.records, PRIDE_2003_A) == merged
        assert home(catalogue.records, PRIDE_2003_B) != merged
        assert catalogue.records.resolve_redirect(merged) is None
    kept = catalogue.index.get_union_record(merged)
    assert kept is not None and kept.merge == [] and len(kept.sources) == 1
    assert [d.reason for d in catalogue.records.merge_decisions()] == ["two printings"]

    # Undone, the rules merge them again under the old id; the split-off id redirects there.
    split_off = home(catalogue.records, PRIDE_2003_B)
    assert catalogue.records.remove_merge_decision(saved[0].id or 0)
    assert not catalogue.records.remove_merge_decision(saved[0].id or 0)
    run_index(catalogue.records, catalogue.index, workers=1)
    assert home(catalogue.records, PRIDE_2003_B) == home(catalogue.records, PRIDE_2003_A) == merged
    assert catalogue.records.resolve_redirect(split_off) == merged


def test_a_forced_merge_joins_what_the_rules_keep_apart(catalogue: Catalogue) -> None:
    pride, sense = home(catalogue.records, PRIDE_2003_A), home(catalogue.records, SENSE_2003)
    assert pride != sense
    decision = merges.force_merge(catalogue, sense, pride, reason="bound together", by="anne")
    assert decision.kind == "force" and decision.by == "anne" and decision.at
    run_index(catalogue.records, catalogue.index, workers=1)
    joined = home(catalogue.records, SENSE_2003)
    assert joined == home(catalogue.records, PRIDE_2003_A) == home(catalogue.records, PRIDE_2003_B)
    record = catalogue.index.get_union_record(joined)
    assert record is not None and any(rule.rule == "librarian" for rule in record.merge)
    assert len(record.sources) == 3
    explanation = merges.explain(catalogue, record)
    assert [d.reason for d in explanation.decisions] == ["bound together"]


def test_a_later_decision_on_a_pair_replaces_the_earlier_one(catalogue: Catalogue) -> None:
    a, b = SourceRef(f"L{PRIDE_2003_A}", "r"), SourceRef(f"L{PRIDE_2003_B}", "r")
    catalogue.records.save_merge_decision(MergeDecision("split", a, b))
    catalogue.records.save_merge_decision(MergeDecision("force", b, a, "same after all"))
    assert [(d.kind, d.reason) for d in catalogue.records.merge_decisions()] == [("force", "same after all")]


def test_bad_decisions_are_refused_with_a_message(catalogue: Catalogue) -> None:
    merged = home(catalogue.records, PRIDE_2003_A)
    single = home(catalogue.records, SENSE_2003)
    with pytest.raises(BadParameter, match="not in"):
        merges.split_member(catalogue, merged, SourceRef("NOPE", "r"))
    with pytest.raises(BadParameter, match="one member only"):
        merges.split_member(catalogue, single, SourceRef(f"L{SENSE_2003}", "r"))
    with pytest.raises(BadParameter, match="no union record"):
        merges.force_merge(catalogue, merged, "u-does-not-exist")
    with pytest.raises(BadParameter, match="already"):
        merges.force_merge(catalogue, merged, merged)
    with pytest.raises(BadParameter, match="at most"):
        merges.force_merge(catalogue, merged, single, reason="x" * 501)
    assert catalogue.records.merge_decisions() == []


def test_editions_of_one_work_list_each_other(catalogue: Catalogue) -> None:
    pride_2003, pride_1994, sense = (
        home(catalogue.records, p) for p in (PRIDE_2003_A, PRIDE_1994, SENSE_2003)
    )
    first, second, third = (catalogue.index.get_union_record(i) for i in (pride_2003, pride_1994, sense))
    assert first is not None and second is not None and third is not None
    assert first.work is not None and first.work == second.work
    assert first.editions == [pride_1994] and second.editions == [pride_2003]
    assert third.work is None and third.editions == []
    assert [r.id for r in catalogue.index.get_union_records([pride_1994, "u-none", pride_2003])] == [
        pride_1994,
        pride_2003,
    ]

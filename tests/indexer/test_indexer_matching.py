"""The traits deduplication compares and its rejection rules, on statements as catalogues write them.

Expected values are those the statements mean (an edition statement "Second edition" is edition 2;
a page count "xii, 345 p." is 345 pages), not outputs of the code under test.
"""

from __future__ import annotations

import dataclasses

import pytest

from indexer.dedup import cluster_records, merge_keys
from indexer.extract import ExtractedRecord
from indexer.matching import (
    TITLE_RULE,
    author_word,
    conflict,
    edition_code,
    key_words,
    page_count,
    part_code,
    publisher_word,
    traits_of,
)
from unicat.model import MergeDecision, SourceRef


@pytest.mark.parametrize(
    ("statement", "number"),
    [
        ("2nd ed.", "2"),
        ("Second edition", "2"),
        ("2e éd.", "2"),
        ("Deuxième édition", "2"),
        ("3d. ed. --", "3"),
        ("Wyd. 2", "2"),
        ("Zweite Auflage", "2"),
        ("Rev. ed.", "rev ed"),
        ("Édition revue et corrigée", "edition revue et corrigee"),
    ],
)
def test_an_edition_statement_reduces_to_its_number(statement: str, number: str) -> None:
    assert edition_code(statement) == number


@pytest.mark.parametrize(
    ("part", "code"),
    [
        ("v. 1", "1"),
        ("v. 5", "5"),
        ("Volume II", "2"),
        ("Tome deuxième", "2"),
        ("Band 3", "3"),
        ("pt. iv", "4"),
        ("Letters", "letters"),
    ],
)
def test_a_part_reduces_to_its_number_and_a_lone_v_is_not_five(part: str, code: str) -> None:
    assert part_code(part) == code


def test_titles_publishers_authors_and_extents_reduce_to_what_identifies_them() -> None:
    assert key_words("The Pride & Prejudice") == ("pride", "prejudice")
    assert key_words("L'Étranger") == key_words("L'etranger")
    assert key_words("The") == ("the",)  # a title that is only an article keeps it
    assert publisher_word("Penguin Books Ltd") == publisher_word("Penguin") == "penguin"
    assert publisher_word("Oxford University Press") == "oxford"
    assert author_word(["Austen, Jane, 1775-1817"]) == "austen"
    assert page_count("xii, 345 p. ; 18 cm") == 345
    assert page_count("430 S.") == 430
    assert page_count("6 v. ; 19 cm") is None


def _record(source: str, **fields: object) -> ExtractedRecord:
    defaults: dict[str, object] = {
        "local_id": "1",
        "datestamp": None,
        "title": "Pride and prejudice",
        "title_proper": "Pride and prejudice",
        "format": "book",
        "authors": ["Austen, Jane"],
        "year": 2003,
        "publisher": "Penguin Books",
        "physical": "435 p.",
    }
    defaults.update(fields)
    return ExtractedRecord(source=source, **defaults)  # type: ignore[arg-type]


def _together(*records: ExtractedRecord) -> bool:
    return len(cluster_records(records)) == 1


def test_the_title_key_merges_copies_without_identifiers() -> None:
    a = _record("A")
    b = _record("B", title="PRIDE AND PREJUDICE", title_proper="PRIDE AND PREJUDICE", publisher="Penguin")
    assert (TITLE_RULE, "pride and prejudice|austen|2003") in merge_keys(a)
    assert _together(a, b)
    [cluster] = cluster_records([a, b])
    assert [rule.rule for rule in cluster.rules] == [TITLE_RULE]


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"edition": "2nd ed."}, "edition"),
        ({"publisher": "Oxford University Press"}, "publisher"),
        ({"physical": "299 p."}, "extent"),
        ({"parts": ["v. 2"]}, "volume or part"),
        ({"format": "sound recording"}, "material type"),
        ({"language": "fre"}, "language"),
        ({"isbns": ["9780140620221"]}, "isbn"),
    ],
)
def test_the_title_key_is_refused_by_each_rejection_rule(change: dict[str, object], rule: str) -> None:
    a = _record("A", language="eng", isbns=["9780141439518"] if "isbns" in change else [])
    b = dataclasses.replace(_record("B", language="eng"), **change)  # type: ignore[arg-type]
    assert conflict(traits_of(a), traits_of(b), rule=TITLE_RULE) == rule
    assert not _together(a, b)


def test_a_shared_isbn_merges_across_catalogue_differences_but_not_across_volumes_or_years() -> None:
    isbn = ["9780141439518"]
    a = _record("A", isbns=isbn, edition="1st ed.")
    b = _record("B", isbns=isbn, publisher="Penguin Classics", physical="xlii, 435 pages", edition=None)
    assert _together(a, b)
    assert not _together(a, _record("C", isbns=isbn, parts=["v. 1"]))
    assert not _together(a, _record("D", isbns=isbn, year=2009))
    assert not _together(a, _record("E", isbns=isbn, edition="2nd ed."))
    # Another book under the same ISBN (typed on the wrong record) shares no title word.
    assert not _together(a, _record("F", isbns=isbn, title="Moby Dick", title_proper="Moby Dick"))


def test_an_issn_merges_serials_only() -> None:
    assert not _together(
        _record("A", issns=["0028-0836"], title="Essays", title_proper="Essays", authors=[], publisher=None),
        _record(
            "B", issns=["0028-0836"], title="Lectures", title_proper="Lectures", authors=[], publisher=None
        ),
    )
    serial = {"format": "serial", "title": "Nature", "title_proper": "Nature", "authors": []}
    assert _together(_record("A", issns=["0028-0836"], **serial), _record("B", issns=["0028-0836"], **serial))


def test_decisions_split_and_force_whatever_the_keys_say() -> None:
    a, b, c = _record("A"), _record("B"), _record("C", title="Emma", title_proper="Emma")
    split = MergeDecision("split", SourceRef("A", "1"), SourceRef("B", "1"))
    assert len(cluster_records([a, b, c], [split])) == 3
    force = MergeDecision("force", SourceRef("C", "1"), SourceRef("A", "1"))
    clusters = cluster_records([a, b, c], [force])
    assert len(clusters) == 1 and {rule.rule for rule in clusters[0].rules} == {"librarian", TITLE_RULE}
    # A split wins over a forced merge of the same records through a third one; unknown records
    # (deleted since the decision) are ignored.
    gone = MergeDecision("force", SourceRef("A", "1"), SourceRef("Z", "9"))
    clusters = cluster_records([a, b, c], [split, force, gone])
    assert sorted(len(cluster.members) for cluster in clusters) == [1, 2]


def test_a_record_s_keys_are_its_own_not_those_of_a_cluster_a_librarian_forced_it_into() -> None:
    # A has no year, so no title/author/year key of its own. Forced together with B (2003), it must
    # not lend the cluster a key "pride and prejudice|austen|2003" that would pull C in.
    a = _record("A", year=None, physical=None, publisher=None)
    b = _record("B", title="Emma", title_proper="Emma", physical=None, publisher=None)
    c = _record("C", physical=None, publisher=None)
    force = MergeDecision("force", SourceRef("A", "1"), SourceRef("B", "1"))
    clusters = cluster_records([a, b, c], [force])
    assert sorted(sorted(m.source for m in cluster.members) for cluster in clusters) == [["A", "B"], ["C"]]

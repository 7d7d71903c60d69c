"""The one statement a search reads its hits' ratings and redirects with (unicat/stores/hit_readers.py),
over each setup's database (SQLite alone; PostgreSQL beside Elasticsearch).

Its answer must be what the two ports' reads answer (``ContributionStore.ratings_for``,
``UnionLinks.redirects_to``), which the app read before; the expected values are written out from
what each test stores, never taken from running the code under test.
"""

from __future__ import annotations

from collections.abc import Callable

from unicat.catalogue import Catalogue
from unicat.model import UnionRecord
from unicat.readers import Rating
from unicat.stores.hit_readers import ratings_and_redirects
from unicat.union_generation import write_union_generation

MakeRecord = Callable[..., UnionRecord]
AT = "2024-05-01T10:00:00Z"


def by_key(ratings: list[Rating]) -> list[Rating]:
    return sorted(ratings, key=lambda rating: (rating.record, rating.user_id))


def test_ratings_and_redirects_of_hits_after_two_merges(
    catalogue: Catalogue, make_union_record: MakeRecord
) -> None:
    """``a`` merged into ``b`` and ``y`` into ``c``, then ``b`` into ``c``: the hits ``c`` and ``x``
    have the ratings written on their own ids, and ``c`` the ids that point straight at it."""
    store, index = catalogue.records, catalogue.index
    first = [
        make_union_record("b", "Emma"),
        make_union_record("c", "Emma"),
        make_union_record("x", "Persuasion"),
    ]
    write_union_generation(store, index, first, {"a": "b", "y": "c"})
    write_union_generation(
        store, index, [make_union_record("c", "Emma"), make_union_record("x", "Persuasion")], {"b": "c"}
    )
    written = [Rating("c", 1, 5, AT), Rating("c", 2, 3, AT), Rating("x", 1, 4, AT), Rating("b", 3, 2, AT)]
    for rating in written:
        catalogue.contributions.set_rating(rating)

    ratings, pointing = ratings_and_redirects(catalogue.database, ["c", "x", "never"])

    assert by_key(ratings) == [Rating("c", 1, 5, AT), Rating("c", 2, 3, AT), Rating("x", 1, 4, AT)]
    assert pointing == {"c": ["b", "y"]}
    # What the two ports answer for the same ids, read one after the other.
    assert by_key(catalogue.contributions.ratings_for(["c", "x", "never"])) == by_key(ratings)
    assert catalogue.records.redirects_to(["c", "x", "never"]) == pointing


def test_an_id_asked_twice_is_read_once_and_no_ids_read_nothing(
    catalogue: Catalogue, make_union_record: MakeRecord
) -> None:
    write_union_generation(catalogue.records, catalogue.index, [make_union_record("b", "Emma")], {"a": "b"})
    catalogue.contributions.set_rating(Rating("b", 7, 4, AT))
    assert ratings_and_redirects(catalogue.database, ["b", "b"]) == ([Rating("b", 7, 4, AT)], {"b": ["a"]})
    assert ratings_and_redirects(catalogue.database, []) == ([], {})
    assert ratings_and_redirects(catalogue.database, ["a"]) == ([], {})

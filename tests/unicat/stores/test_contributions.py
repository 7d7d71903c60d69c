"""The suite of the contribution store port (unicat/ports/contributions.py), run over each setup's
database (SQLite alone; PostgreSQL beside Elasticsearch): what readers add (unicat/readers.py):
comments, ratings, tags, reports and the moderation log, reading lists and their entries; the
redirects of the record store that gather what was written on the ids merged into a record
(search_app/readers/record_aliases.py); and writes from many threads, and from several catalogues, at once.

Expected answers come from what each test writes (ordered and counted here with plain Python), never
from running the store itself. Times are given where an order depends on them: a stored time has
whole seconds only, so items added within one second tie on it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from search_app.readers.record_aliases import aliases, live_ids
from tests.conftest import CatalogueFactory
from tests.support.at_once import all_at_once
from unicat.catalogue import Catalogue
from unicat.clock import parse_time
from unicat.errors import ItemNotFound
from unicat.model import UnionRecord
from unicat.readers import Comment, ListEntry, ModerationAction, Rating, ReadingList, Report, Tag
from unicat.union_generation import write_union_generation

MakeRecord = Callable[..., UnionRecord]
MISSING = 10**9


def at(second: int) -> str:
    """A stored time, ``second`` seconds after a fixed moment (to 59 minutes)."""
    return f"2024-05-01T10:{second // 60:02d}:{second % 60:02d}Z"


def stored_time(value: str | None) -> bool:
    return bool(value) and parse_time(value) is not None


def by_rating(rating: Rating) -> tuple[str, int]:
    return rating.record, rating.user_id


def by_tag(tag: Tag) -> tuple[str, int, str]:
    return tag.record, tag.user_id, tag.tag


def newest_first(entries: list[ListEntry]) -> list[ListEntry]:
    """Most recently added first, then by record id."""
    return sorted(sorted(entries, key=lambda e: e.record), key=lambda e: e.added, reverse=True)


# -- comments ----------------------------------------------------------------------------------------


def test_a_comment_gets_an_id_and_a_time_and_reads_back(catalogue: Catalogue) -> None:
    store = catalogue.contributions
    first = store.add_comment(Comment("pride", 1, "A delight."))
    second = store.add_comment(Comment("pride", 2, "Too long.\nBut good."))
    assert first.id is not None and second.id is not None and first.id != second.id
    assert stored_time(first.created) and stored_time(second.created)
    assert (first.record, first.user_id, first.body, first.edited, first.hidden) == (
        "pride",
        1,
        "A delight.",
        None,
        False,
    )
    assert store.get_comment(first.id) == first
    assert store.get_comment(second.id) == second
    assert store.get_comment(MISSING) is None


def test_given_ids_and_times_are_kept_and_later_ids_are_numbered_after(catalogue: Catalogue) -> None:
    """A copied catalogue's items keep their ids and times (``unicat migrate``)."""
    store = catalogue.contributions
    comment = store.add_comment(Comment("emma", 3, "Copied.", id=40, created=at(1), edited=at(2)))
    assert (comment.id, comment.created, comment.edited) == (40, at(1), at(2))
    assert store.get_comment(40) == comment
    later = store.add_comment(Comment("emma", 3, "New."))
    assert later.id is not None and later.id > 40

    report = store.add_report(Report(40, 4, "spam", id=70, created=at(3), resolution=12))
    assert (report.id, report.created, report.resolution) == (70, at(3), 12)
    later_report = store.add_report(Report(40, 5, "rude"))
    assert later_report.id is not None and later_report.id > 70

    action = store.log_moderation(ModerationAction(40, "hide", "spam", 9, id=12, at=at(4)))
    assert (action.id, action.at) == (12, at(4))
    later_action = store.log_moderation(ModerationAction(40, "restore", "fine after all", 9))
    assert later_action.id is not None and later_action.id > 12

    reading_list = store.add_list(ReadingList(3, "Copied", id=25, created=at(5), updated=at(6)))
    assert (reading_list.id, reading_list.created, reading_list.updated) == (25, at(5), at(6))
    assert store.get_list(25) == reading_list
    later_list = store.add_list(ReadingList(3, "New"))
    assert later_list.id is not None and later_list.id > 25

    assert store.set_rating(Rating("emma", 3, 4, at=at(7))).at == at(7)
    assert store.add_tag(Tag("emma", 3, "classic", at=at(8))).at == at(8)
    assert store.add_list_entry(ListEntry(25, "emma", added=at(9))).added == at(9)
    assert store.ratings_for(["emma"]) == [Rating("emma", 3, 4, at(7))]
    assert store.tags_for(["emma"]) == [Tag("emma", 3, "classic", at(8))]
    assert store.list_entries(25) == [ListEntry(25, "emma", at(9))]


def test_a_given_id_among_those_not_handed_out_yet_moves_later_ids_past_it(catalogue: Catalogue) -> None:
    """A database may number from a sequence that a row stored under an id of its own does not move
    (PostgreSQL's identity columns): later ids still come after the given one, never onto it."""
    store = catalogue.contributions
    first = store.add_comment(Comment("emma", 1, "First."))
    assert first.id is not None
    copied = store.add_comment(Comment("emma", 2, "Copied.", id=first.id + 2, created=at(1)))
    later = [store.add_comment(Comment("emma", 3, f"Later {n}.")) for n in range(3)]
    assert all((comment.id or 0) > first.id + 2 for comment in later)
    assert len({comment.id for comment in [first, copied, *later]}) == 5
    assert sorted(c.id or 0 for c in store.comments_for(["emma"])) == sorted(
        c.id or 0 for c in [first, copied, *later]
    )


def test_updating_a_comment_changes_its_text_and_visibility_only(catalogue: Catalogue) -> None:
    store = catalogue.contributions
    comment = store.add_comment(Comment("pride", 1, "First words.", created=at(1)))
    assert comment.id is not None
    store.update_comment(
        comment.with_changes(
            body="Better words.",
            edited=at(5),
            hidden=True,
            hidden_reason="spoiler",
            # The record, the author and the creation time are the comment's: they stay.
            record="emma",
            user_id=2,
            created=at(9),
        )
    )
    assert store.get_comment(comment.id) == Comment(
        "pride", 1, "Better words.", comment.id, at(1), at(5), True, "spoiler"
    )
    store.update_comment(comment.with_changes(body="Shown again.", hidden=False, hidden_reason=None))
    assert store.get_comment(comment.id) == comment.with_changes(body="Shown again.")
    with pytest.raises(ItemNotFound):
        store.update_comment(comment.with_changes(id=MISSING))


def test_deleting_a_comment_drops_its_reports_but_keeps_the_moderation_log(catalogue: Catalogue) -> None:
    store = catalogue.contributions
    doomed = store.add_comment(Comment("pride", 1, "Buy cheap watches."))
    kept = store.add_comment(Comment("pride", 2, "A fine edition."))
    assert doomed.id is not None and kept.id is not None
    store.add_report(Report(doomed.id, 3, "spam"))
    store.add_report(Report(doomed.id, 4, "spam too"))
    kept_report = store.add_report(Report(kept.id, 3, "not sure"))
    action = store.log_moderation(ModerationAction(doomed.id, "hide", "spam", 9))

    assert store.delete_comment(doomed.id) is True
    assert store.get_comment(doomed.id) is None
    assert store.comments_for(["pride"]) == [kept]
    assert store.reports_for([doomed.id]) == []
    assert store.reports_for([kept.id]) == [kept_report]
    assert store.open_reports() == [kept_report]
    assert store.moderation_log(doomed.id) == [action]
    assert store.delete_comment(doomed.id) is False
    assert store.delete_comment(MISSING) is False


def test_comments_for_several_ids_come_newest_first_then_by_id(catalogue: Catalogue) -> None:
    store = catalogue.contributions
    posted = [
        store.add_comment(Comment("pride", 1, "oldest", created=at(1))),
        store.add_comment(Comment("pride-old", 2, "middle", created=at(5))),
        store.add_comment(Comment("pride", 3, "tie one", created=at(9))),
        store.add_comment(Comment("pride", 4, "tie two", created=at(9), hidden=True, hidden_reason="rude")),
        store.add_comment(Comment("pride-old", 5, "tie three", created=at(9))),
        store.add_comment(Comment("emma", 1, "elsewhere", created=at(20))),
    ]
    wanted = [c for c in posted if c.record in ("pride", "pride-old")]
    newest_first = sorted(wanted, key=lambda c: (c.created, c.id or 0), reverse=True)
    # Hidden comments are included: the page decides what to show.
    assert store.comments_for(["pride", "pride-old"]) == newest_first
    assert store.comments_for(["pride-old"]) == [c for c in newest_first if c.record == "pride-old"]
    assert store.comments_for(["nothing-here"]) == []
    assert store.comments_for([]) == []


def test_comments_for_a_long_list_of_ids_finds_them_all(catalogue: Catalogue) -> None:
    """A record merged from many others asks for more ids than one statement may hold."""
    store = catalogue.contributions
    records = [f"r{n:04d}" for n in range(1_200)]
    posted = [store.add_comment(Comment(record, 1, "here", created=at(0))) for record in records[::150]]
    found = store.comments_for(records)
    assert sorted(c.id or 0 for c in found) == sorted(c.id or 0 for c in posted)
    assert [c.id for c in found] == sorted((c.id or 0 for c in posted), reverse=True)


def test_one_readers_comments_newest_first_and_every_comment_by_id(catalogue: Catalogue) -> None:
    store = catalogue.contributions
    posted = [
        store.add_comment(Comment("pride", 1, "one", created=at(3))),
        store.add_comment(Comment("emma", 1, "two", created=at(1))),
        store.add_comment(Comment("emma", 2, "someone else's", created=at(2))),
        store.add_comment(Comment("persuasion", 1, "three", created=at(7))),
    ]
    mine = [c for c in posted if c.user_id == 1]
    assert store.comments_by(1) == sorted(mine, key=lambda c: (c.created, c.id or 0), reverse=True)
    assert store.comments_by(MISSING) == []
    assert list(store.iter_comments()) == sorted(posted, key=lambda c: c.id or 0)


# -- ratings and tags --------------------------------------------------------------------------------


def test_a_reader_has_one_rating_per_record_the_latest(catalogue: Catalogue) -> None:
    store = catalogue.contributions
    first = store.set_rating(Rating("pride", 1, 2))
    assert stored_time(first.at) and first.stars == 2
    store.set_rating(Rating("pride", 1, 5, at=at(30)))
    store.set_rating(Rating("pride", 2, 3, at=at(31)))
    store.set_rating(Rating("emma", 1, 4, at=at(32)))
    store.set_rating(Rating("persuasion", 1, 1, at=at(33)))
    expected = [Rating("pride", 1, 5, at(30)), Rating("pride", 2, 3, at(31)), Rating("emma", 1, 4, at(32))]
    assert sorted(store.ratings_for(["pride", "emma"]), key=by_rating) == sorted(expected, key=by_rating)

    assert store.delete_rating("pride", 1) is True
    assert store.delete_rating("pride", 1) is False
    assert store.ratings_for(["pride"]) == [Rating("pride", 2, 3, at(31))]
    assert list(store.iter_ratings()) == sorted(
        [Rating("pride", 2, 3, at(31)), Rating("emma", 1, 4, at(32)), Rating("persuasion", 1, 1, at(33))],
        key=by_rating,
    )


def test_a_readers_tag_is_stored_once(catalogue: Catalogue) -> None:
    store = catalogue.contributions
    first = store.add_tag(Tag("pride", 1, "classic", at=at(1)))
    again = store.add_tag(Tag("pride", 1, "classic", at=at(9)))
    assert first == again == Tag("pride", 1, "classic", at(1))
    store.add_tag(Tag("pride", 2, "classic", at=at(2)))
    store.add_tag(Tag("pride", 1, "to read", at=at(3)))
    store.add_tag(Tag("emma", 1, "classic", at=at(4)))
    assert sorted(store.tags_for(["pride"]), key=by_tag) == [
        Tag("pride", 1, "classic", at(1)),
        Tag("pride", 1, "to read", at(3)),
        Tag("pride", 2, "classic", at(2)),
    ]
    assert store.remove_tag("pride", 1, "classic") is True
    assert store.remove_tag("pride", 1, "classic") is False
    assert list(store.iter_tags()) == [
        Tag("emma", 1, "classic", at(4)),
        Tag("pride", 1, "to read", at(3)),
        Tag("pride", 2, "classic", at(2)),
    ]


def test_tag_counts_count_records_most_first_then_by_tag(catalogue: Catalogue) -> None:
    store = catalogue.contributions
    tagged = [
        ("pride", 1, "classic"),
        ("pride", 2, "classic"),  # a second reader on the same record: still one record
        ("emma", 1, "classic"),
        ("pride", 1, "to read"),
        ("emma", 2, "to read"),
        ("persuasion", 3, "to read"),
        ("persuasion", 3, "poetry"),
        ("pride", 3, "austen"),
    ]
    for record, user_id, tag in tagged:
        store.add_tag(Tag(record, user_id, tag))
    records_per_tag = Counter(tag for _, tag in {(record, tag) for record, _, tag in tagged})
    expected = sorted(records_per_tag.items(), key=lambda pair: (-pair[1], pair[0]))
    assert expected[0] == ("to read", 3)  # the data says what the test is about
    assert store.tag_counts() == expected
    assert store.tag_counts(limit=2) == expected[:2]

    assert store.tagged_records("classic") == ["emma", "pride"]
    assert store.tagged_records("to read") == ["emma", "persuasion", "pride"]
    assert store.tagged_records("to read", limit=2) == ["emma", "persuasion"]
    assert store.tagged_records("nobody's tag") == []


# -- reports and moderation --------------------------------------------------------------------------


def test_a_reader_reports_a_comment_once_and_librarians_resolve_the_queue(catalogue: Catalogue) -> None:
    store = catalogue.contributions
    rude = store.add_comment(Comment("pride", 1, "Rude words."))
    dull = store.add_comment(Comment("emma", 2, "Dull words."))
    assert rude.id is not None and dull.id is not None
    first = store.add_report(Report(rude.id, 3, "insults", created=at(1)))
    assert first.id is not None and first.resolution is None
    # Reporting again gives the earlier report back, reason unchanged.
    assert store.add_report(Report(rude.id, 3, "insults, and more", created=at(8))) == first
    second = store.add_report(Report(dull.id, 3, "off topic", created=at(2)))
    third = store.add_report(Report(rude.id, 4, "me too", created=at(3)))
    fresh = store.add_report(Report(dull.id, 5, "spam", created=at(4)))
    assert store.reports_for([rude.id]) == [first, third]
    assert store.reports_for([rude.id, dull.id]) == [first, second, third, fresh]
    assert store.open_reports() == [first, second, third, fresh]
    assert store.open_reports(limit=2) == [first, second]

    hide = store.log_moderation(ModerationAction(rude.id, "hide", "insults", 9))
    assert hide.id is not None
    assert store.resolve_reports(rude.id, hide.id) == 2
    assert store.resolve_reports(rude.id, hide.id) == 0
    assert store.open_reports() == [second, fresh]
    resolved = [r.resolution for r in store.reports_for([rude.id])]
    assert resolved == [hide.id, hide.id]
    # A report after the action is open again: the queue shows it.
    late = store.add_report(Report(rude.id, 6, "still rude"))
    assert late.id is not None and stored_time(late.created) and late.resolution is None
    assert store.open_reports() == [second, fresh, late]
    assert [r.id for r in store.iter_reports()] == sorted(
        r.id or 0 for r in (first, second, third, fresh, late)
    )


def test_the_moderation_log_is_newest_first_and_per_comment(catalogue: Catalogue) -> None:
    store = catalogue.contributions
    logged = [
        store.log_moderation(ModerationAction(1, "hide", "spam", 9, at=at(1))),
        store.log_moderation(ModerationAction(2, "dismiss", "fine", 9, at=at(2))),
        store.log_moderation(ModerationAction(1, "restore", "not spam", 8, at=at(3))),
        store.log_moderation(ModerationAction(2, "hide", "spoiler", 8, at=at(3))),
    ]
    assert all(action.id is not None for action in logged)
    newest_first = sorted(logged, key=lambda a: (a.at, a.id or 0), reverse=True)
    assert store.moderation_log() == newest_first
    assert store.moderation_log(limit=2) == newest_first[:2]
    assert store.moderation_log(1) == [a for a in newest_first if a.comment_id == 1]
    assert store.moderation_log(MISSING) == []
    assert list(store.iter_moderation()) == sorted(logged, key=lambda a: a.id or 0)
    fresh = store.log_moderation(ModerationAction(3, "hide", "rude", 9))
    assert stored_time(fresh.at)


# -- reading lists -----------------------------------------------------------------------------------


def test_a_readers_lists_come_most_recently_updated_first(catalogue: Catalogue) -> None:
    store = catalogue.contributions
    new = store.add_list(ReadingList(1, "Summer", "Beach books", public=True))
    assert new.id is not None and stored_time(new.created) and new.updated == new.created
    assert store.get_list(new.id) == new
    assert store.get_list(MISSING) is None
    old = store.add_list(ReadingList(1, "Winter", created=at(1), updated=at(1)))
    older = store.add_list(ReadingList(1, "Spring", created=at(0), updated=at(2)))
    theirs = store.add_list(ReadingList(2, "Someone else's", created=at(5), updated=at(5)))
    mine = [new, old, older]
    assert store.lists_of(1) == sorted(mine, key=lambda r: (r.updated, r.id or 0), reverse=True)

    renamed = old.with_changes(
        name="Long winter", description="Russians", public=True, updated="2099-01-01T00:00:00Z"
    )
    store.update_list(renamed.with_changes(user_id=2, created=at(9)))  # owner and creation stay
    assert store.get_list(old.id or 0) == renamed
    assert store.lists_of(1)[0] == renamed
    with pytest.raises(ItemNotFound):
        store.update_list(renamed.with_changes(id=MISSING))
    assert [r.id for r in store.iter_lists()] == sorted(r.id or 0 for r in (new, old, older, theirs))


def test_a_record_is_on_a_list_once_and_the_newest_entries_come_first(catalogue: Catalogue) -> None:
    store = catalogue.contributions
    reading = store.add_list(ReadingList(1, "To read"))
    other = store.add_list(ReadingList(1, "Read"))
    assert reading.id is not None and other.id is not None
    first = store.add_list_entry(ListEntry(reading.id, "pride", added=at(1)))
    assert store.add_list_entry(ListEntry(reading.id, "pride", added=at(9))) == first
    entries = [
        first,
        store.add_list_entry(ListEntry(reading.id, "persuasion", added=at(5))),
        store.add_list_entry(ListEntry(reading.id, "emma", added=at(5))),
        store.add_list_entry(ListEntry(reading.id, "sanditon", added=at(3))),
    ]
    fresh = store.add_list_entry(ListEntry(other.id, "pride"))
    assert stored_time(fresh.added)
    assert store.list_entries(reading.id) == newest_first(entries)
    assert store.list_entries(reading.id)[:2] == [
        ListEntry(reading.id, "emma", at(5)),
        ListEntry(reading.id, "persuasion", at(5)),
    ]
    assert store.remove_list_entry(reading.id, "sanditon") is True
    assert store.remove_list_entry(reading.id, "sanditon") is False
    assert [e.record for e in store.list_entries(reading.id)] == ["emma", "persuasion", "pride"]
    left = [e for e in entries if e.record != "sanditon"]
    assert store.list_entries(reading.id) == newest_first(left)
    assert list(store.iter_list_entries()) == sorted([*left, fresh], key=lambda e: (e.list_id, e.record))


def test_deleting_a_list_drops_its_entries(catalogue: Catalogue) -> None:
    store = catalogue.contributions
    doomed = store.add_list(ReadingList(1, "Doomed"))
    kept = store.add_list(ReadingList(1, "Kept"))
    assert doomed.id is not None and kept.id is not None
    store.add_list_entry(ListEntry(doomed.id, "pride"))
    store.add_list_entry(ListEntry(doomed.id, "emma"))
    kept_entry = store.add_list_entry(ListEntry(kept.id, "pride"))
    assert store.delete_list(doomed.id) is True
    assert store.get_list(doomed.id) is None
    assert store.list_entries(doomed.id) == []
    assert list(store.iter_list_entries()) == [kept_entry]
    assert store.lists_of(1) == [kept]
    assert store.delete_list(doomed.id) is False


# -- redirects: what was written on the ids merged into a record -------------------------------------


def _merge_twice(catalogue: Catalogue, make: MakeRecord) -> None:
    """Two rebuilds: ``a`` merged into ``b`` (and ``y`` into ``c``), then ``b`` into ``c``."""
    store, index = catalogue.records, catalogue.index
    first = [make("b", "Emma"), make("c", "Emma"), make("x", "Persuasion")]
    write_union_generation(store, index, first, {"a": "b", "y": "c"})
    write_union_generation(store, index, [make("c", "Emma"), make("x", "Persuasion")], {"b": "c"})


def test_a_comment_on_a_live_record_is_stored_and_elsewhere_nothing_is(
    catalogue: Catalogue, make_union_record: MakeRecord
) -> None:
    """``add_comment_on_live`` (one statement, as a post makes it) stores a comment only on a live
    union record: not on one a rebuild merged away (``b``, now in ``c``), nor on an id that only ever
    redirected (``a``), nor on an id the catalogue never had."""
    _merge_twice(catalogue, make_union_record)
    store = catalogue.contributions
    stored = store.add_comment_on_live(Comment("c", 1, "On the live record."))
    assert stored is not None and stored.id is not None and stored_time(stored.created)
    assert (stored.record, stored.user_id, stored.body) == ("c", 1, "On the live record.")
    assert store.get_comment(stored.id) == stored
    for gone in ("b", "a", "never-there"):
        assert store.add_comment_on_live(Comment(gone, 1, "Lost?")) is None
    assert store.comments_for(["b", "a", "never-there"]) == []
    assert [comment.id for comment in store.comments_for(["c", "x"])] == [stored.id]
    # Where the post goes instead: the record store follows the merge.
    assert catalogue.records.live_union_id("b") == "c"


def test_redirects_from_and_to_follow_a_real_rebuild(
    catalogue: Catalogue, make_union_record: MakeRecord
) -> None:
    _merge_twice(catalogue, make_union_record)
    records = catalogue.records
    everything = ["a", "b", "c", "x", "y", "never"]
    assert records.redirects_from(everything) == {"a": "b", "b": "c", "y": "c"}
    assert records.redirects_from(["c", "x"]) == {}
    assert records.redirects_from([]) == {}
    assert records.redirects_to(everything) == {"b": ["a"], "c": ["b", "y"]}
    assert records.redirects_to(["c"]) == {"c": ["b", "y"]}
    assert records.redirects_to(["a", "x"]) == {}
    assert records.redirects_to([]) == {}
    # ``a`` lives again (a merge undone): it no longer redirects, and nothing points at it.
    write_union_generation(
        catalogue.records, catalogue.index, [make_union_record(n, "Emma") for n in ("a", "c", "x")], {}
    )
    assert records.redirects_from(everything) == {"b": "c", "y": "c"}
    assert records.redirects_to(everything) == {"c": ["b", "y"]}


def test_a_record_gathers_what_was_written_on_every_id_merged_into_it(
    catalogue: Catalogue, make_union_record: MakeRecord
) -> None:
    store = catalogue.contributions
    _merge_twice(catalogue, make_union_record)
    on_a = store.add_comment(Comment("a", 1, "written on a", created=at(1)))
    on_b = store.add_comment(Comment("b", 2, "written on b", created=at(2)))
    on_c = store.add_comment(Comment("c", 3, "written on c", created=at(3)))
    on_x = store.add_comment(Comment("x", 4, "written on x", created=at(4)))

    found = aliases(catalogue.records, ["c", "x"])
    assert found["c"][0] == "c" and sorted(found["c"]) == ["a", "b", "c", "y"]
    assert found["x"] == ["x"]
    assert store.comments_for(found["c"]) == [on_c, on_b, on_a]
    assert store.comments_for(found["x"]) == [on_x]
    assert live_ids(catalogue.records, ["a", "b", "c", "x", "y", "never"]) == {
        "a": "c",
        "b": "c",
        "c": "c",
        "x": "x",
        "y": "c",
        "never": "never",
    }


# -- many writers at once ----------------------------------------------------------------------------


def test_comments_posted_from_many_threads_at_once_are_all_stored(catalogue: Catalogue) -> None:
    store = catalogue.contributions
    threads, per_thread = 20, 25
    records = [f"busy-{n}" for n in range(5)]

    def reader(user_id: int) -> list[int]:
        posted = [
            store.add_comment(Comment(records[n % len(records)], user_id, f"comment {n}"))
            for n in range(per_thread)
        ]
        return [comment.id or 0 for comment in posted]

    given = [number for numbers in all_at_once(threads, reader) for number in numbers]
    assert len(given) == len(set(given)) == threads * per_thread
    stored = store.comments_for(records)
    assert sorted(c.id or 0 for c in stored) == sorted(given)
    assert sum(1 for _ in store.iter_comments()) == threads * per_thread
    assert Counter(c.user_id for c in stored) == {user_id: per_thread for user_id in range(threads)}


def test_catalogues_sharing_a_store_never_give_one_number_twice(catalogue_factory: CatalogueFactory) -> None:
    """Catalogues of their own on one store (separate connections, as web processes sharing it have):
    comments and lists added through all of them at once get numbers of their own, each comment is
    listed at once by another catalogue (the next page may come from another process), and a
    catalogue opened afterwards numbers after them all."""
    stores = [catalogue_factory().contributions for _ in range(3)]
    threads, per_thread = 9, 12

    def reader(user_id: int) -> tuple[list[int], list[int], list[Comment]]:
        mine, other = stores[user_id % len(stores)], stores[(user_id + 1) % len(stores)]
        comments, lists, unseen = [], [], []
        for n in range(per_thread):
            record = f"shared-{n % 3}"
            comment = mine.add_comment(Comment(record, user_id, f"comment {n}"))
            comments.append(comment.id or 0)
            if comment not in other.comments_for([record]):
                unseen.append(comment)
            if n % 4 == 0:
                lists.append(mine.add_list(ReadingList(user_id, f"list {n}")).id or 0)
        return comments, lists, unseen

    done = all_at_once(threads, reader)
    comment_ids = [number for comments, _, _ in done for number in comments]
    list_ids = [number for _, lists, _ in done for number in lists]
    assert [comment for _, _, unseen in done for comment in unseen] == []
    assert len(comment_ids) == len(set(comment_ids)) == threads * per_thread
    assert len(list_ids) == len(set(list_ids)) == threads * 3
    assert sorted(c.id or 0 for c in stores[0].comments_for(["shared-0", "shared-1", "shared-2"])) == sorted(
        comment_ids
    )
    later = catalogue_factory().contributions
    assert (later.add_comment(Comment("shared-0", 1, "after them all")).id or 0) > max(comment_ids)
    assert (later.add_list(ReadingList(1, "after them all")).id or 0) > max(list_ids)

"""What readers wrote on one record, gathered across the ids merged into it, and the ratings of a page
of search results.

A record's readers' data is what was written on its own id and on every id that now redirects to it
(:func:`search_app.readers.record_aliases.aliases`). One reader may have rated or tagged two records that were
later merged: they count once (their latest rating; each tag once), as one reader of one edition.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from search_app.readers.record_aliases import aliases, live_ids
from unicat.accounts import User
from unicat.catalogue import Catalogue
from unicat.query import MAX_ID_FILTER
from unicat.readers import Comment, Rating, RatingSummary, Report, Tag, summarise


@dataclass(frozen=True, slots=True)
class TagCount:
    tag: str
    readers: int


@dataclass(frozen=True, slots=True)
class RecordContributions:
    """Everything readers added to one record: comments newest first (hidden ones included: who may
    see them is the page's business), their authors, the reports on them, ratings one per reader,
    and tags with how many readers gave each."""

    record: str
    ids: list[str]
    comments: list[Comment]
    authors: dict[int, User]
    reports: list[Report]
    ratings: list[Rating]
    tags: list[Tag]
    summary: RatingSummary | None = None
    tag_counts: list[TagCount] = field(default_factory=list)

    def rating_of(self, user_id: int | None) -> int | None:
        return next((rating.stars for rating in self.ratings if rating.user_id == user_id), None)

    def tags_of(self, user_id: int | None) -> list[str]:
        return sorted({tag.tag for tag in self.tags if tag.user_id == user_id})

    def reported_by(self, user_id: int | None) -> set[int]:
        return {report.comment_id for report in self.reports if report.user_id == user_id}

    def open_reports(self) -> dict[int, int]:
        counts: dict[int, int] = defaultdict(int)
        for report in self.reports:
            if report.resolution is None:
                counts[report.comment_id] += 1
        return dict(counts)


def one_per_reader(ratings: Sequence[Rating]) -> list[Rating]:
    """Each reader's latest rating (by time, then by the later-merged id)."""
    latest: dict[int, Rating] = {}
    for rating in sorted(ratings, key=lambda item: (item.at, item.record)):
        latest[rating.user_id] = rating
    return list(latest.values())


def _tags_once(tags: Sequence[Tag]) -> list[Tag]:
    seen: dict[tuple[int, str], Tag] = {}
    for tag in sorted(tags, key=lambda item: item.at):
        seen.setdefault((tag.user_id, tag.tag), tag)
    return list(seen.values())


def record_contributions(catalogue: Catalogue, record_id: str) -> RecordContributions:
    """What readers added to ``record_id`` and to every id merged into it."""
    ids = aliases(catalogue.records, [record_id])[record_id]
    comments = catalogue.contributions.comments_for(ids)
    ratings = one_per_reader(catalogue.contributions.ratings_for(ids))
    tags = _tags_once(catalogue.contributions.tags_for(ids))
    authors = catalogue.accounts.get_users(sorted({comment.user_id for comment in comments}))
    reports = catalogue.contributions.reports_for(
        [comment.id for comment in comments if comment.id is not None]
    )
    counts: dict[str, int] = defaultdict(int)
    for tag in tags:
        counts[tag.tag] += 1
    tag_counts = [
        TagCount(tag, readers) for tag, readers in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return RecordContributions(
        record_id, ids, comments, authors, reports, ratings, tags, summarise(ratings), tag_counts
    )


def rating_summaries(
    found: Mapping[str, Sequence[str]], ratings: Iterable[Rating]
) -> dict[str, RatingSummary]:
    """The ratings of each record of ``found`` (record → its :func:`aliases`) that has any among
    ``ratings`` (those written on its ids): a results page's stars."""
    owner = {alias: record for record, ids in found.items() for alias in ids}
    by_record: dict[str, list[Rating]] = defaultdict(list)
    for rating in ratings:
        by_record[owner[rating.record]].append(rating)
    summaries = {record: summarise(one_per_reader(ratings)) for record, ratings in by_record.items()}
    return {record: summary for record, summary in summaries.items() if summary is not None}


def tagged_ids(catalogue: Catalogue, tags: Sequence[str]) -> tuple[str, ...]:
    """The live union ids carrying every one of ``tags`` (on their own id or one merged into them),
    by id; at most :data:`~unicat.query.MAX_ID_FILTER`."""
    found: set[str] | None = None
    for tag in tags:
        posted = catalogue.contributions.tagged_records(tag, limit=MAX_ID_FILTER)
        live = set(live_ids(catalogue.records, posted).values())
        found = live if found is None else found & live
    return tuple(sorted(found or ()))[:MAX_ID_FILTER]

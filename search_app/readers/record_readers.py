"""What a record page, and its comments' JSON, show of the record's readers: the comments a viewer may
read, the rating, the tags, gathered across the ids merged into the record
(:mod:`search_app.readers.reader_data`).

Apart from the handlers that change them (:mod:`search_app.readers.contributions`), so that the record
page (:mod:`search_app.catalogue.pages`) shows them and those handlers show the page again, without
either importing the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from search_app.auth import Viewer, viewer
from search_app.readers.reader_data import RecordContributions, record_contributions
from search_app.state import CATALOGUE, in_thread
from unicat.accounts import User
from unicat.model import UnionRecord
from unicat.readers import MAX_TAGS_PER_RECORD, Comment, shown_name


@dataclass(frozen=True, slots=True)
class CommentView:
    """A comment as one viewer sees it."""

    comment: Comment
    author: str
    own: bool
    reported: bool
    open_reports: int

    def to_json(self) -> dict[str, Any]:
        # Only its author and librarians are shown a hidden comment, and they may read why.
        return {**self.comment.to_json(), "author": self.author}


def _author(users: dict[int, User], user_id: int) -> str:
    return shown_name(users.get(user_id))


def visible_comments(found: RecordContributions, seen: Viewer) -> list[CommentView]:
    """The comments ``seen`` may read, newest first."""
    me = seen.user_id
    reported = found.reported_by(me)
    open_reports = found.open_reports() if seen.is_staff else {}
    views = []
    for comment in found.comments:
        own = me is not None and comment.user_id == me
        if comment.hidden and not (own or seen.is_staff):
            continue
        assert comment.id is not None
        views.append(
            CommentView(
                comment,
                _author(found.authors, comment.user_id),
                own,
                comment.id in reported,
                open_reports.get(comment.id, 0),
            )
        )
    return views


async def readers_context(request: web.Request, record: UnionRecord) -> dict[str, Any]:
    """What the record page shows of its readers (search_app/catalogue/pages.py's record page adds it)."""
    found = await in_thread(request.app, record_contributions, request.app[CATALOGUE], record.id)
    seen = viewer(request)
    return {
        "comments": visible_comments(found, seen),
        "rating": found.summary,
        "my_rating": found.rating_of(seen.user_id),
        "tag_counts": found.tag_counts,
        "my_tags": found.tags_of(seen.user_id),
        "max_tags": MAX_TAGS_PER_RECORD,
    }

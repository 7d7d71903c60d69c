"""Librarians' moderation of readers' comments: hide, restore, or dismiss the reports on one.

Every action is logged with its librarian, time and reason (the author of a hidden comment sees the
reason), and answers every open report on the comment, which then leaves the queue. Nothing is
deleted: a hidden comment can be restored, and the log keeps what was done even after its author
deletes the comment.
"""

from __future__ import annotations

from dataclasses import dataclass

from unicat.accounts import User
from unicat.errors import BadParameter, ItemNotFound
from unicat.ports.contributions import ContributionStore
from unicat.readers import Comment, ModerationAction, ModerationVerb, Report, check_reason


@dataclass(frozen=True, slots=True)
class QueueItem:
    """A reported comment waiting for a librarian, with its open reports, oldest first."""

    comment: Comment
    reports: list[Report]


def moderate(
    store: ContributionStore, comment_id: int, verb: ModerationVerb, reason: str, librarian: User
) -> ModerationAction:
    """Apply ``verb`` to the comment, log it and close the comment's open reports."""
    if librarian.id is None or librarian.role == "patron":
        raise BadParameter("user", "only librarians moderate comments")
    comment = store.get_comment(comment_id)
    if comment is None:
        raise ItemNotFound(f"comment #{comment_id}")
    text = check_reason(reason, required=verb != "dismiss")
    if verb == "hide":
        if comment.hidden:
            raise BadParameter("verb", "this comment is hidden already")
        store.update_comment(comment.with_changes(hidden=True, hidden_reason=text))
    elif verb == "restore":
        if not comment.hidden:
            raise BadParameter("verb", "this comment is not hidden")
        store.update_comment(comment.with_changes(hidden=False, hidden_reason=None))
    action = store.log_moderation(ModerationAction(comment_id, verb, text, librarian.id))
    assert action.id is not None
    store.resolve_reports(comment_id, action.id)
    return action


def queue(store: ContributionStore, limit: int = 1_000) -> list[QueueItem]:
    """The reported comments no librarian has acted on, the longest-waiting first (a comment deleted
    by its author since is not waiting for anyone)."""
    grouped: dict[int, list[Report]] = {}
    for report in store.open_reports(limit):
        grouped.setdefault(report.comment_id, []).append(report)
    items = []
    for comment_id, reports in grouped.items():
        comment = store.get_comment(comment_id)
        if comment is not None:
            items.append(QueueItem(comment, reports))
    return items

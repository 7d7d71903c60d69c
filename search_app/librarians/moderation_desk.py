"""The librarians' moderation desk: ``GET /librarians/moderation`` shows the queue of reported
comments (with the forms to hide a comment or dismiss its reports), the comments hidden lately (with
the form to restore each) and the log of every action; ``POST /librarians/moderation`` takes those
forms (:mod:`search_app.librarians.moderation` does the work). ``GET /api/moderation`` gives the same
as JSON, to librarians only: reports name their readers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from search_app.auth import require_staff, viewer
from search_app.i18n import N_
from search_app.librarians.moderation import QueueItem, moderate, queue
from search_app.readers.accounts import form_fields, see_other
from search_app.readers.record_aliases import live_ids
from search_app.render import render
from search_app.state import CATALOGUE, CONTRIBUTIONS, in_thread
from unicat.accounts import User
from unicat.catalogue import Catalogue
from unicat.errors import BadParameter
from unicat.model import UnionRecord
from unicat.readers import Comment, ModerationAction, check_verb, shown_name

LOG_SHOWN = 100
# The moderation log's actions (unicat.readers.MODERATION_VERBS), shown translated.
VERB_NAMES = (N_("hide"), N_("restore"), N_("dismiss"))
DONE_MESSAGES = {
    "hide": N_("The comment is hidden; its author sees why."),
    "restore": N_("The comment is shown again."),
    "dismiss": N_("The reports are closed; the comment stays."),
}


@dataclass(frozen=True, slots=True)
class Desk:
    """What the moderation desk shows, read in one thread hop."""

    queue: list[QueueItem]
    hidden: list[Comment]
    log: list[ModerationAction]
    users: dict[int, User]
    records: dict[str, UnionRecord]
    live: dict[str, str]

    def name(self, user_id: int) -> str:
        return shown_name(self.users.get(user_id))

    def record_of(self, comment: Comment) -> UnionRecord | None:
        return self.records.get(self.live.get(comment.record, comment.record))

    def to_json(self) -> dict[str, Any]:
        def comment_json(comment: Comment) -> dict[str, Any]:
            return {
                **comment.to_json(),
                "author": self.name(comment.user_id),
                "live_record": self.live.get(comment.record),
            }

        return {
            "queue": [
                {
                    "comment": comment_json(item.comment),
                    "reports": [
                        {**report.to_json(), "reader": self.name(report.user_id)} for report in item.reports
                    ],
                }
                for item in self.queue
            ],
            "hidden": [comment_json(comment) for comment in self.hidden],
            "log": [{**action.to_json(), "librarian": self.name(action.user_id)} for action in self.log],
        }


def read_desk(catalogue: Catalogue) -> Desk:
    waiting = queue(catalogue.contributions)
    log = catalogue.contributions.moderation_log(limit=LOG_SHOWN)
    hidden: list[Comment] = []
    for comment_id in dict.fromkeys(action.comment_id for action in log if action.verb == "hide"):
        comment = catalogue.contributions.get_comment(comment_id)
        if comment is not None and comment.hidden:
            hidden.append(comment)
    comments = [item.comment for item in waiting] + hidden
    people = {comment.user_id for comment in comments} | {action.user_id for action in log}
    people |= {report.user_id for item in waiting for report in item.reports}
    live = live_ids(catalogue.records, [comment.record for comment in comments])
    records = {record.id: record for record in catalogue.index.get_union_records(sorted(set(live.values())))}
    return Desk(waiting, hidden, log, catalogue.accounts.get_users(sorted(people)), records, live)


async def desk(request: web.Request) -> web.Response:
    found = await in_thread(request.app, read_desk, request.app[CATALOGUE])
    context = {"q": "", "desk": found, "done": DONE_MESSAGES.get(request.query.get("done", ""))}
    return render(request, "moderation.html", context)


async def act(request: web.Request) -> web.Response:
    """Take a hide, restore or dismiss form; 303 back to the desk."""
    librarian = viewer(request).user
    assert librarian is not None  # the middleware lets only librarians this far
    form = await form_fields(request)
    verb = check_verb(form.get("verb", ""))
    raw = form.get("comment", "").strip()
    if not raw.isdigit() or len(raw) > 18:
        raise BadParameter("comment", "a comment number")
    await in_thread(
        request.app, moderate, request.app[CONTRIBUTIONS], int(raw), verb, form.get("reason", ""), librarian
    )
    return see_other(f"/librarians/moderation?done={verb}")


async def api_desk(request: web.Request) -> web.Response:
    require_staff(request, "the moderation queue")
    found = await in_thread(request.app, read_desk, request.app[CATALOGUE])
    return web.json_response(found.to_json())


def add_routes(app: web.Application) -> None:
    app.router.add_get("/librarians/moderation", desk, name="moderation")
    app.router.add_post("/librarians/moderation", act, name="moderate")
    app.router.add_get("/api/moderation", api_desk, name="api_moderation")

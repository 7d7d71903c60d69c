"""What the request pages say of a request, for its patron and for librarians alike: its state in
words and who made each change of its history ("you", "library X", "an administrator").

The history's "who" comes from the account that made each change: a librarian acts for the library
they work at (:attr:`unicat.accounts.User.library`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web

from search_app.i18n import N_, gettext
from search_app.state import ACCOUNTS, in_thread
from unicat.accounts import User
from unicat.shuttle import Event, State

STATE_WORDS: dict[State, str] = {
    "placed": N_("Waiting for a library to accept it"),
    "accepted": N_("Accepted: the library is getting it ready"),
    "sent": N_("Sent: on its way to the pickup library"),
    "arrived": N_("Arrived: ready to collect at the pickup library"),
    "collected": N_("Collected"),
    "returned": N_("Returned"),
    "refused": N_("Refused by every library asked"),
    "cancelled": N_("Cancelled"),
    "failed": N_("Failed"),
}
ACTION_WORDS: dict[str, str] = {
    "place": N_("placed the request"),
    "accept": N_("accepted it"),
    "refuse": N_("refused it"),
    "send": N_("sent it"),
    "arrive": N_("marked it arrived"),
    "collect": N_("marked it collected"),
    "return": N_("marked it returned"),
    "cancel": N_("cancelled it"),
    "fail": N_("marked it failed"),
}


@dataclass(frozen=True, slots=True)
class HistoryLine:
    """One change of a request as a page shows it."""

    who: str
    at: str
    what: str
    state: str
    reason: str


def _who(event: Event, patron_id: int, viewer_id: int | None, users: Mapping[int, User]) -> str:
    if event.user_id == viewer_id:
        return gettext("you")
    if event.user_id == patron_id:
        return gettext("the patron")
    user = users.get(event.user_id)
    if user is not None and user.role == "admin":
        return gettext("an administrator")
    if user is not None and user.library:
        return gettext("library %(code)s") % {"code": user.library}
    return gettext("a librarian")


async def history_lines(
    request: web.Request, events: list[Event], patron_id: int, viewer_id: int | None
) -> list[HistoryLine]:
    """The events of one request, oldest first, with who made each in words."""
    ids = sorted({event.user_id for event in events})
    users = await in_thread(request.app, request.app[ACCOUNTS].get_users, ids) if ids else {}
    return [
        HistoryLine(
            _who(event, patron_id, viewer_id, users),
            event.at,
            gettext(ACTION_WORDS[event.action]),
            gettext(STATE_WORDS[event.to_state]),
            event.reason,
        )
        for event in events
    ]

"""``/librarians/mail``: the outbox as librarians need it — how many messages are in each state, and
the failed and interrupted ones with the mail server's answer and their attempts, each with a button
that sends it again (``POST /librarians/mail``, CSRF-checked like every POST).

Recipients' addresses are personal data: admins see them whole, librarians masked
(``j***@example.org``), enough to tell messages apart and answer a reader who asks.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from search_app.auth import viewer
from search_app.i18n import N_
from search_app.readers.accounts import form_fields, see_other
from search_app.render import render
from search_app.state import CATALOGUE, in_thread
from unicat.errors import BadParameter, MessageNotFound, MessageNotResendable
from unicat.outbox import RESENDABLE, Message, State, mask
from unicat.ports.outbox import OutboxStore

SHOWN = 100
"""Failed, and interrupted, messages shown: the latest of each."""

# The states as the page names them (unicat.outbox.STATES).
STATE_NAMES = {
    "queued": N_("queued"),
    "sending": N_("sending"),
    "sent": N_("sent"),
    "failed": N_("failed"),
    "interrupted": N_("interrupted"),
}


@dataclass(frozen=True, slots=True)
class MailDesk:
    counts: dict[State, int]
    problems: list[Message]


def read_desk(store: OutboxStore) -> MailDesk:
    problems = [message for state in RESENDABLE for message in store.list_messages(state, SHOWN)]
    problems.sort(key=lambda message: message.id or 0, reverse=True)
    return MailDesk(store.counts(), problems)


async def desk(request: web.Request) -> web.Response:
    found = await in_thread(request.app, read_desk, request.app[CATALOGUE].outbox)
    user = viewer(request).user
    admin = user is not None and user.role == "admin"
    context = {
        "q": "",
        "desk": found,
        "state_names": STATE_NAMES,
        "shown": (lambda address: address) if admin else mask,
        "done": request.query.get("done") == "resent",
    }
    return render(request, "mail_desk.html", context)


async def resend(request: web.Request) -> web.Response:
    """Queue a failed or interrupted message again; 303 back to the desk. Any other state is a 409:
    the message was sent, or is on its way, and could arrive twice."""
    form = await form_fields(request)
    raw = form.get("message", "").strip()
    if not raw.isdigit() or len(raw) > 18:
        raise BadParameter("message", "a message number")
    try:
        await in_thread(request.app, request.app[CATALOGUE].outbox.resend, int(raw))
    except MessageNotFound as exc:
        raise web.HTTPNotFound(reason=str(exc)) from None
    except MessageNotResendable as exc:
        raise web.HTTPConflict(reason=str(exc)) from None
    return see_other("/librarians/mail?done=resent")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/librarians/mail", desk, name="mail_desk")
    app.router.add_post("/librarians/mail", resend, name="mail_resend")

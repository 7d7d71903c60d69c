"""An e-mail at each step of an inter-library request (docs/shuttle.md#e-mail-at-each-step).

The messages of a change are written into the outbox inside the change's own transaction (the
requests store's ``on_change``): a change stored has its messages stored, a change refused (a 409, a
version seen too old) has none, and each is stored under the key ``<template>:<request>:<event>``, so
that nothing can store one twice. The outbox's sender sends them afterwards.

The patron's messages are written in the language they placed the request in; a library's in the
site's default language. Both the JSON API and the request pages place and change requests through
:func:`place` and :func:`change`, so that every change, wherever it is made, tells whom it concerns.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from gettext import NullTranslations
from typing import Any, Literal

import jinja2
from aiohttp import web

from search_app.i18n import CATALOGUES, request_language
from search_app.mail_render import mail_environment, render_mail
from search_app.outbox import OUTBOX
from search_app.state import CATALOGUE, SETTINGS, in_thread
from unicat.accounts import User
from unicat.libraries import WEEKDAYS, Library
from unicat.mail import mail_enabled
from unicat.outbox import Message
from unicat.ports.database import Connection
from unicat.ports.shuttle import OnChange
from unicat.settings import Settings
from unicat.shuttle import ASKED_NEXT, Action, Event, Request
from unicat.stores.outbox import enqueue_in

Recipient = Literal["patron", "library"]


@functools.cache
def _templates() -> jinja2.Environment:
    """One environment for every change (it caches compiled templates; rendering is thread-safe)."""
    return mail_environment()


def letters(event: Event) -> list[tuple[str, Recipient]]:
    """The messages a change sends: (template, to whom). "library" is the library asked to lend the
    copy after the change (``event.library``). Collecting and returning the book send none: the
    patron is at the desk."""
    if event.action == "place":
        return [("request_placed", "patron"), ("request_incoming", "library")]
    if event.action == "refuse":
        if event.to_state == "placed":  # moved on to the next candidate library
            return [("request_moved", "patron"), ("request_incoming", "library")]
        return [("request_refused", "patron")]
    single = {
        "accept": "request_accepted",
        "send": "request_sent",
        "arrive": "request_arrived",
        "cancel": "request_cancelled",
        "fail": "request_failed",
    }
    template = single.get(event.action)
    return [(template, "patron")] if template is not None else []


@dataclass(frozen=True, slots=True)
class RequestMail:
    """The ``on_change`` of one change: renders its messages and stores them in the outbox, in the
    change's transaction. ``patron`` is ``None`` when the account is gone (only the library is told);
    ``libraries`` is the directory by code (names, address, hours, e-mail)."""

    templates: jinja2.Environment
    catalogues: dict[str, NullTranslations]
    settings: Settings
    patron: User | None
    libraries: Mapping[str, Library]

    def __call__(self, conn: Connection, request: Request, event: Event) -> None:
        for template, recipient in letters(event):
            if recipient == "patron":
                address = self.patron.email if self.patron is not None else None
                language = request.language or self.settings.default_language
            else:
                library = self.libraries.get(event.library)
                address = library.email if library is not None else None
                language = self.settings.default_language
            if not address:
                continue
            values = self._values(request, event, language)
            rendered = render_mail(self.templates, self.catalogues, template, language, values)
            message = Message(
                address,
                rendered.subject,
                rendered.text,
                kind=template,
                key=f"{template}:{request.id}:{event.id}",
                language=language,
                html=rendered.html,
            )
            enqueue_in(conn, message)

    def _name(self, code: str, language: str) -> str:
        library = self.libraries.get(code)
        return library.name_in(language) if library is not None else code

    def _values(self, request: Request, event: Event, language: str) -> dict[str, Any]:
        site = self.settings.site_url.rstrip("/")
        pickup = self.libraries.get(request.pickup)
        address = []
        hours: list[tuple[str, str]] = []
        if pickup is not None:
            town = " ".join(part for part in (pickup.postcode, pickup.city) if part)
            address = [part for part in (pickup.street, town, pickup.country) if part]
            hours = [(day, pickup.opening_hours[day]) for day in WEEKDAYS if day in pickup.opening_hours]
        return {
            "catalogue": self.settings.oai_repository_name,
            "number": request.id,
            "title": request.title,
            "link": f"{site}/record/{request.record}" if site else "",
            "holder": self._name(request.holder, language),
            "why": request.reason,
            "pickup": self._name(request.pickup, language),
            "address": address,
            "hours": hours,
            # A refusal's own words, without the note of which library is asked next.
            "reason": event.reason.partition(ASKED_NEXT)[0],
            "message": request.message or "",
        }


async def _on_change(request: web.Request, patron: User | int) -> OnChange | None:
    """The ``on_change`` that tells a change's people (``patron``: the account, or its id), or
    ``None`` when the catalogue sends no mail (no ``smtp_host``): nothing would ever send it."""
    app = request.app
    if not mail_enabled(app[SETTINGS]):
        return None
    catalogue = app[CATALOGUE]
    account = await in_thread(app, catalogue.accounts.get_user, patron) if isinstance(patron, int) else patron
    libraries = await in_thread(app, catalogue.libraries.list_libraries)
    return RequestMail(
        _templates(),
        app[CATALOGUES],
        app[SETTINGS],
        account,
        {library.code: library for library in libraries},
    )


async def place(request: web.Request, patron: User, new: Request) -> Request:
    """Store ``new``, placed by ``patron`` in the language of this page or call, with its e-mails."""
    placed = replace(new, language=new.language or request_language(request))
    on_change = await _on_change(request, patron)
    stored = await in_thread(request.app, request.app[CATALOGUE].shuttle.create, placed, on_change)
    request.app[OUTBOX].wake()
    return stored


async def change(
    request: web.Request,
    found: Request,
    action: Action,
    user: User,
    reason: str = "",
    version: int | None = None,
) -> tuple[Request, Event]:
    """Make the change ``action`` to ``found`` as ``user`` (see :meth:`ShuttleStore.act`), with its
    e-mails."""
    assert found.id is not None
    app = request.app
    on_change = await _on_change(request, found.patron_id)
    changed = await in_thread(
        app, app[CATALOGUE].shuttle.act, found.id, action, user, reason, version=version, on_change=on_change
    )
    app[OUTBOX].wake()
    return changed

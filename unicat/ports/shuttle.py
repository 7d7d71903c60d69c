"""The requests store: inter-library requests and the audit entry of every change (what a request is,
and which changes are allowed to whom, is :mod:`unicat.shuttle`). Implemented once in SQL over either
database (``unicat/stores/shuttle.py``).

Every change is one transaction that stores the request's new state and its audit entry together
(and whatever the caller's ``on_change`` stores with them: the e-mail that tells of it),
over the version the change was decided on: of two librarians acting on one request at once, one
change is stored and the other is refused with :class:`~unicat.errors.Conflict`; nothing is applied
twice.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Sequence
from typing import Literal

from unicat.accounts import User
from unicat.ports.database import Connection
from unicat.shuttle import Action, Event, Request, State

Side = Literal["holder", "pickup"]

OnChange = Callable[[Connection, Request, Event], None]
"""Called inside the transaction of a change, after the request and its event (id included) are
stored, with the transaction's connection: what it stores there is committed with the change or not
at all (the outbox's ``enqueue_in``). Raising undoes the change."""


class ShuttleStore(abc.ABC):
    """Requests and their events. Every method is synchronous and safe to call from several threads."""

    @abc.abstractmethod
    def create(self, request: Request, on_change: OnChange | None = None) -> Request:
        """Store a new request (state ``placed``) and its "place" event, then run ``on_change`` in the
        same transaction; returns it with its ``id``, ``created`` and ``updated``. Raises
        :class:`~unicat.errors.LimitReached`, naming the setting, when its patron or its holding
        library has as many open requests as the settings allow."""

    @abc.abstractmethod
    def get(self, request_id: int) -> Request | None: ...

    @abc.abstractmethod
    def events(self, request_id: int) -> list[Event]:
        """The request's history, oldest first."""

    @abc.abstractmethod
    def histories(self, request_ids: Sequence[int]) -> dict[int, list[Event]]:
        """The histories of several requests at once (a page of requests), each oldest first; a
        request without events (or unknown) maps to an empty list."""

    @abc.abstractmethod
    def for_patron(self, patron_id: int, limit: int = 200) -> list[Request]:
        """A patron's requests, newest first."""

    @abc.abstractmethod
    def for_library(
        self, library: str, *, side: Side | None = None, state: State | None = None, limit: int = 200
    ) -> list[Request]:
        """The requests a library holds (``side="holder"``), will hand over (``"pickup"``) or either,
        in one state or any, oldest first (the order a desk works through them)."""

    @abc.abstractmethod
    def open_counts(self) -> dict[str, int]:
        """How many open requests each library holds now (the routing rule's tie-break)."""

    @abc.abstractmethod
    def act(
        self,
        request_id: int,
        action: Action,
        user: User,
        reason: str = "",
        *,
        version: int | None = None,
        on_change: OnChange | None = None,
    ) -> tuple[Request, Event]:
        """Make a change (:func:`unicat.shuttle.transition`) and store it with its event, then run
        ``on_change``, in one transaction; returns both (the event with its id). ``version``: the
        version the person saw, when they acted on a page or an answer of the API; a request changed
        since is a conflict. Raises
        :class:`~unicat.errors.ItemNotFound`, :class:`~unicat.errors.Conflict` (including when someone
        else changed it meanwhile), :class:`~unicat.errors.NotAllowed` and
        :class:`~unicat.errors.BadParameter`."""

    @abc.abstractmethod
    def iter_requests(self) -> Iterator[Request]:
        """Every request, by id (``unicat migrate``)."""

    @abc.abstractmethod
    def iter_events(self) -> Iterator[Event]:
        """Every event, by id (``unicat migrate``)."""

    @abc.abstractmethod
    def copy_request(self, request: Request) -> None:
        """Store a copied catalogue's request as it is, id, version and times included; later ids are
        numbered after it. No limits, no event (its events are copied after it)."""

    @abc.abstractmethod
    def copy_event(self, event: Event) -> None:
        """Store a copied catalogue's event as it is, id included."""

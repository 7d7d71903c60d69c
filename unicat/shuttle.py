"""Inter-library requests carried by the shuttle ("navette"): a patron asks for a book held elsewhere,
a holding library sends it, the patron collects it at their own library (the pickup library).

This module is the rule book and nothing else: what a request is, the states it goes through, who may
move it from one to the next, and the audit entry each change leaves. Storing it (with the change and
its entry in one transaction, and two librarians acting at once told apart) is the port's
(``unicat/ports/shuttle.py``); which library is asked first is ``unicat/shuttle_routing.py``'s.

The life of a request::

    placed ─accept→ accepted ─send→ sent ─arrive→ arrived ─collect→ collected ─return→ returned
      │  └──────────────┴─refuse→ placed at the next candidate library, or refused when none is left
      └──────────────┴─cancel (the patron, until it is sent)→ cancelled
    accepted, sent, arrived ─fail (the copy is lost, never collected…)→ failed
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, get_args

from unicat.accounts import User
from unicat.errors import BadParameter, Conflict, NotAllowed, choice_of

State = Literal[
    "placed", "accepted", "sent", "arrived", "collected", "returned", "refused", "cancelled", "failed"
]
STATES: tuple[State, ...] = get_args(State)
OPEN_STATES: tuple[State, ...] = ("placed", "accepted", "sent", "arrived")
"""A request in one of these is still under way: it counts toward the limits and may still change."""

Action = Literal["accept", "refuse", "send", "arrive", "collect", "return", "cancel", "fail"]
ACTIONS: tuple[Action, ...] = get_args(Action)

# Who may make a change: the patron who placed the request, a librarian of the library holding the
# copy now, a librarian of the pickup library. Administrators may make every change.
Party = Literal["patron", "holder", "pickup"]

MAX_REASON = 500
"""The longest reason a refusal or a failure may give (it is shown to the patron as written)."""
ASKED_NEXT = " — asked next: "
"""Joins a refusal's reason and the library asked next in the refusal's audit entry."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One change: the states it starts from, the state it leads to, who may make it, and whether it
    must say why (a refusal or a failure is explained to the patron)."""

    sources: tuple[State, ...]
    target: State
    parties: tuple[Party, ...]
    needs_reason: bool = False


RULES: dict[Action, Rule] = {
    "accept": Rule(("placed",), "accepted", ("holder",)),
    # A refusal's target is "placed" at the next candidate, or "refused" when none is left (transition).
    "refuse": Rule(("placed", "accepted"), "refused", ("holder",), needs_reason=True),
    "send": Rule(("accepted",), "sent", ("holder",)),
    "arrive": Rule(("sent",), "arrived", ("pickup",)),
    "collect": Rule(("arrived",), "collected", ("pickup",)),
    # The patron brings the book back to the pickup library, which returns it to the holder: either
    # library's librarians may record it.
    "return": Rule(("collected",), "returned", ("pickup", "holder")),
    "cancel": Rule(("placed", "accepted"), "cancelled", ("patron",)),
    "fail": Rule(("accepted", "sent", "arrived"), "failed", ("holder", "pickup"), needs_reason=True),
}

# How a request in each state is spoken of in an error ("Request 12 was refused; …").
_STATE_WORDS: dict[State, str] = {
    "placed": "is waiting for a library to accept it",
    "accepted": "was accepted",
    "sent": "was sent",
    "arrived": "has arrived at the pickup library",
    "collected": "was collected",
    "returned": "was returned",
    "refused": "was refused by every library asked",
    "cancelled": "was cancelled",
    "failed": "failed",
}
_ACTION_WORDS: dict[Action, str] = {
    "accept": "accepted",
    "refuse": "refused",
    "send": "sent",
    "arrive": "marked arrived",
    "collect": "collected",
    "return": "returned",
    "cancel": "cancelled",
    "fail": "marked failed",
}
_PARTY_WORDS: dict[Party, str] = {
    "patron": "the patron who placed it",
    "holder": "a librarian of the library holding the copy",
    "pickup": "a librarian of the pickup library",
}


def check_action(text: str) -> Action:
    """The action ``text`` names; raises :class:`~unicat.errors.BadParameter` otherwise."""
    action = choice_of(text, ACTIONS)
    if action is None:
        raise BadParameter("action", f"{text[:40]!r} is not an action; use one of {', '.join(ACTIONS)}")
    return action


def check_state(text: str) -> State:
    """The state ``text`` names; raises :class:`~unicat.errors.BadParameter` otherwise."""
    state = choice_of(text, STATES)
    if state is None:
        raise BadParameter("state", f"{text[:40]!r} is not a state; use one of {', '.join(STATES)}")
    return state


@dataclass(frozen=True, slots=True)
class Choice:
    """A library the request goes (or may go) to, and why it was chosen: shown to librarians and the
    patron alike."""

    library: str
    reason: str


@dataclass(frozen=True, slots=True)
class Request:
    """One request. ``holder`` is the library asked now (``reason``: why it was chosen) and
    ``candidates`` the libraries to ask next, in order, should it refuse. ``title`` is the record's
    title when the request was placed, so the request reads well even if the record changes or goes.
    ``message`` tells the patron why a request was refused or failed. ``version`` grows by one with
    every change: a change is stored only over the version it was decided on. ``language`` is the
    interface language the patron placed it in: every e-mail about it is written in it (empty: the
    site's default language)."""

    patron_id: int
    record: str
    title: str
    pickup: str
    holder: str
    reason: str
    candidates: tuple[Choice, ...] = ()
    state: State = "placed"
    message: str | None = None
    version: int = 1
    id: int | None = None
    created: str | None = None
    updated: str | None = None
    language: str = ""

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def parties_of(self, user: User) -> set[Party]:
        """What ``user`` is to this request: its patron, a librarian of its holder, of its pickup."""
        parties: set[Party] = set()
        if user.id == self.patron_id:
            parties.add("patron")
        if user.role in ("librarian", "admin") and user.library is not None:
            if user.library == self.holder:
                parties.add("holder")
            if user.library == self.pickup:
                parties.add("pickup")
        return parties

    def visible_to(self, user: User) -> bool:
        """Only its patron, the librarians of the libraries involved and administrators see a request.
        A library that refused it is no longer involved."""
        return user.role == "admin" or bool(self.parties_of(user))


@dataclass(frozen=True, slots=True)
class Event:
    """The audit entry of one change: who made it, when, from which state to which, the library
    holding the request after it, and the reason given (a refusal's, a failure's, or why the next
    library was chosen). Placing a request is an event too, from no state."""

    request_id: int
    user_id: int
    action: Action | Literal["place"]
    from_state: State | None
    to_state: State
    library: str
    reason: str
    at: str
    id: int | None = None


def situation(request: Request) -> str:
    """Where a request stands, in words: "Request 12 was accepted"."""
    return f"Request {request.id} {_STATE_WORDS[request.state]}"


def placed(request: Request, user_id: int, at: str) -> Event:
    """The event of a request being placed (its id known once stored)."""
    assert request.id is not None, "a request has its id once stored"
    return Event(request.id, user_id, "place", None, "placed", request.holder, request.reason, at)


def transition(
    request: Request, action: Action, user: User, at: str, reason: str = ""
) -> tuple[Request, Event]:
    """The request after ``user`` made the change ``action``, and its audit entry.

    Raises :class:`~unicat.errors.NotAllowed` when ``user`` may not make it,
    :class:`~unicat.errors.Conflict` when the request is in a state the change cannot start from, and
    :class:`~unicat.errors.BadParameter` when a reason is missing or too long.
    """
    assert request.id is not None and user.id is not None, "a stored request, a stored account"
    rule = RULES[action]
    # Who first: someone who may not make the change learns nothing of the request's state.
    if user.role != "admin" and not request.parties_of(user) & set(rule.parties):
        who = " or ".join(_PARTY_WORDS[party] for party in rule.parties)
        raise NotAllowed(
            f"Request {request.id} can be {_ACTION_WORDS[action]} only by {who}, or an administrator"
        )
    if request.state not in rule.sources:
        raise Conflict(f"{situation(request)}; it cannot be {_ACTION_WORDS[action]}")
    reason = reason.strip()
    if rule.needs_reason and not reason:
        raise BadParameter("reason", f"say why the request is {_ACTION_WORDS[action]}: the patron is told")
    if len(reason) > MAX_REASON:
        raise BadParameter("reason", f"at most {MAX_REASON} characters, got {len(reason)}")
    changed = replace(request, version=request.version + 1, updated=at)
    if action == "refuse" and request.candidates:
        following, *rest = request.candidates
        changed = replace(
            changed, state="placed", holder=following.library, reason=following.reason, candidates=tuple(rest)
        )
        note = f"{reason}{ASKED_NEXT}{following.library} ({following.reason})"
    elif action in ("refuse", "fail"):
        changed = replace(changed, state=rule.target, candidates=(), message=reason)
        note = reason
    else:
        changed = replace(changed, state=rule.target)
        note = reason
    event = Event(request.id, user.id, action, request.state, changed.state, changed.holder, note, at)
    return changed, event
